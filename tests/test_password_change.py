"""Changing one's own password (/password): forced after an administrator creates or resets an account."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from identity.accounts import add_user
from tests.clients import CSRF_FIELD, demo_app, form_token, log_in

pytestmark = pytest.mark.postgis

FIRST = "Hq7#mVp2-zr9Lw"
SECOND = "Xk4%rT8n-Bw3Yq"


@pytest.fixture
def demo(pg_cluster, demo_db, monkeypatch, tmp_path):
    with demo_app(pg_cluster, demo_db, monkeypatch, home=tmp_path) as found:
        add_user(found.owner, "dc.officer", FIRST, role="district_officer", adcode="530113",
                 display_name="东川区应急局", must_change=True, actor="test")
        yield found


def _change(client, current: str, new: str, repeat: str | None = None):
    return client.post("/password", data={"current": current, "new": new, "repeat": new if repeat is None else repeat,
                                          CSRF_FIELD: form_token(client)})


def _audit(owner, action: str) -> int:
    with owner.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_log WHERE action = :a AND actor = 'dc.officer'"),
                                {"a": action}).scalar_one())


def test_a_created_account_must_change_its_password_first(demo) -> None:
    client = demo.client
    log_in(client, "dc.officer", FIRST)
    page = client.get("/")
    assert page.status_code == 302 and page.headers["Location"].endswith("/password")
    refused = client.post("/_dash-update-component", json={})
    assert refused.status_code == 403 and "password change required" in refused.get_data(as_text=True)
    form = client.get("/password").get_data(as_text=True)
    assert "请先设置新密码" in form and 'name="current"' in form

    # refusals: nothing changes, the session stays
    assert "不一致" in _change(client, FIRST, SECOND, repeat=SECOND + "x").get_data(as_text=True)
    weak = _change(client, FIRST, "aaaaaaaaaaaa")
    assert weak.status_code == 400 and "密码" in weak.get_data(as_text=True)
    wrong = _change(client, "not-the-password-1", SECOND)
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.get_data(as_text=True)
    assert _audit(demo.owner, "password_change_failed") == 1
    no_token = client.post("/password", data={"current": FIRST, "new": SECOND, "repeat": SECOND})
    assert no_token.status_code == 400
    assert client.get("/").status_code == 302  # still signed in, still asked to change

    done = _change(client, FIRST, SECOND)
    assert done.status_code == 200 and "密码已修改" in done.get_data(as_text=True)
    assert _audit(demo.owner, "user_password") == 1
    gone = client.get("/")  # the session ended with the change
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    with demo.owner.connect() as conn:
        assert not conn.execute(text("SELECT must_change_password FROM users WHERE username = 'dc.officer'")).scalar()

    log_in(client, "dc.officer", FIRST, expect=401)
    log_in(client, "dc.officer", SECOND)
    assert client.get("/").status_code == 200


def test_a_signed_in_user_may_change_it_any_time_and_not_anyone_elses(demo) -> None:
    client = demo.client
    log_in(client, "leader")
    assert client.get("/").status_code == 200  # no forced change for an account that does not need it
    # the form changes the session's own account whatever else is posted
    resp = client.post("/password", data={"current": "leader-demo-2026", "new": SECOND, "repeat": SECOND,
                                          "username": "dc.officer", CSRF_FIELD: form_token(client)})
    assert resp.status_code == 200
    log_in(client, "leader", SECOND)
    log_in(client, "dc.officer", FIRST)  # untouched
    anonymous = demo.app.server.test_client()
    assert anonymous.get("/password").status_code == 302  # behind the sign-in gate
