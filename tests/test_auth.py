"""Sign-in and district scope through the dashboard: every route needs a user; officers see their district only."""

from __future__ import annotations

import json
from functools import partial

import pytest

from tests.clients import demo_app, form_token, log_in, log_out
from tests.clients import route as _route

pytestmark = pytest.mark.postgis

_login = partial(log_in, expect=None)


@pytest.fixture
def client(pg_cluster, demo_db, monkeypatch, tmp_path):
    with demo_app(pg_cluster, demo_db, monkeypatch, home=tmp_path) as demo:
        yield demo.client


def _table_rows(tree, table_id: str) -> list[dict]:
    if isinstance(tree, dict):
        if tree.get("id") == table_id and "data" in tree:
            return tree["data"]
        for value in tree.values():
            found = _table_rows(value, table_id)
            if found is not None:
                return found
    if isinstance(tree, list):
        for value in tree:
            found = _table_rows(value, table_id)
            if found is not None:
                return found
    return None


def test_nothing_is_served_without_login(client) -> None:
    assert client.get("/").status_code == 302 and "/login" in client.get("/").headers["Location"]
    assert client.get("/district/530181").status_code == 302
    assert client.get("/_dash-layout").status_code == 401
    status, body = _route(client)
    assert status == 401 and "安宁" not in body
    assert client.get("/login").status_code == 200
    assert client.get("/assets/style.css").status_code == 200


def test_wrong_password_and_open_redirect(client) -> None:
    resp = _login(client, "leader", "not-the-password")
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    resp = client.post("/login", data={"username": "leader", "password": "leader-demo-2026",
                                       "next": "//evil.example/", "csrf_token": form_token(client)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    resp = client.post("/login", data={"username": "leader", "password": "leader-demo-2026",
                                       "next": "/\\evil.example/",  # browsers read /\ as //
                                       "csrf_token": form_token(client)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_leader_sees_the_city_and_officer_only_their_district(client) -> None:
    assert _login(client, "leader", "leader-demo-2026").status_code == 302
    status, city = _route(client)
    assert status == 200 and "安宁演示" in city and "东川演示" in city
    log_out(client)
    assert client.get("/_dash-layout").status_code == 401
    assert _login(client, "anning", "anning-demo-2026").status_code == 302
    status, mine = _route(client)
    assert status == 200 and "安宁演示" in mine
    assert "东川演示" not in mine  # other districts' sources never reach the officer's browser
    rows = _table_rows(json.loads(mine), "district-table")
    assert [r["name"] for r in rows] == ["安宁市"]  # no fake "低风险" for districts the officer cannot see


def test_session_cookie_is_http_only(client) -> None:
    resp = _login(client, "planner", "planner-demo-2026")
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_roles_limit_pages(client) -> None:
    assert _login(client, "anning", "anning-demo-2026").status_code == 302
    _, planner = _route(client, "/planner")
    assert "当前账号无此权限" in planner
    _, other = _route(client, "/district/530113")
    assert "当前账号无此权限" in other and "东川演示" not in other
    _, own = _route(client, "/district")
    assert "安宁市" in own and "当前账号无此权限" not in own
    log_out(client)
    assert _login(client, "planner", "planner-demo-2026").status_code == 302
    _, planner = _route(client, "/planner")
    assert "当前账号无此权限" not in planner


def test_permission_table() -> None:
    from dashboard.permissions import can, district_allowed

    viewer, officer, planner = {"role": "viewer"}, {"role": "district_officer", "adcode": "530181"}, {"role": "planner"}
    assert not can("edit_findings", viewer) and can("edit_findings", planner)
    assert can("import", officer) and not can("import", planner) and not can("import", viewer)
    assert district_allowed("530181", officer) and not district_allowed("530113", officer)
    assert district_allowed("530113", planner)
