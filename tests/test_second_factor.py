"""Optional TOTP second factor (#15, migration 0019): checked in SQL, pending sessions, one lockout rule.

The proof that the SQL is RFC 6238 is that it gives pyotp's codes over many secrets and moments.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from geo import embedded, store
from identity.accounts import add_user, authenticate
from tests.clients import CSRF_FIELD, DemoApp, callback_body, demo_app, form_token, log_in, log_out, post_callback

pytestmark = pytest.mark.postgis
PASSWORD = "Tq7#vLm2-xPz9!rW"
ENROL, VERIFY = "/second-factor", "/second-factor/verify"


def _step(engine: Engine, secret: str, code: str, at: float, after: int = -1) -> int | None:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT riskmap_totp_step(:s, :c, :a, :t)"),
                             {"s": secret, "c": code, "a": after, "t": datetime.fromtimestamp(at, UTC)}).scalar()
    return None if found is None else int(found)


def _audits(owner: Engine, action: str, actor: str) -> int:
    with owner.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_log WHERE action = :a AND actor = :u"),
                                {"a": action, "u": actor}).scalar_one())


def _enrol(engine: Engine, username: str, password: str = PASSWORD) -> str:
    """Enrol ``username`` through the database as the account itself; return its secret."""
    result = authenticate(engine, username, password, via="test")
    assert result.ok and result.token and not result.pending
    secret = pyotp.random_base32()
    enrolled = store.enrol_second_factor(engine, result.token, secret, pyotp.TOTP(secret).now(), address=None)
    assert enrolled.outcome == "ok"
    store.sign_out(engine, result.token)
    return secret


def _state(engine: Engine, token: str | None) -> dict[str, Any]:
    found = store.session_state(engine, token)
    assert found is not None
    return found


def _user(engine: Engine, token: str | None) -> dict[str, Any]:
    found = store.session_user(engine, token)
    assert found is not None
    return found


def _next(secret: str) -> str:
    """The code of the coming time step: fresh after an enrolment or a sign-in that used the current one."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_sql_totp_gives_pyotp_codes_over_many_secrets_and_moments(engine: Engine) -> None:
    rng = random.Random(20261208)
    pairs = []
    for i in range(60):
        secret = pyotp.random_base32(length=rng.choice((32, 40, 45, 52, 64)))
        for _ in range(5):
            at = rng.uniform(0, 4_102_444_800)  # 1970 … 2100
            pairs.append((secret, at, pyotp.TOTP(secret).at(at)))
        pairs.append((secret, 59.0 + i * 30, pyotp.TOTP(secret).at(59.0 + i * 30)))
    with engine.connect() as conn:
        sql = [conn.execute(text("SELECT riskmap_hotp(riskmap_base32_decode(:s), floor(:t / 30)::bigint)"),
                            {"s": s, "t": at}).scalar_one() for s, at, _code in pairs]
    assert sql == [code for _s, _at, code in pairs]
    # the RFC 6238 appendix B vector (SHA-1 key "12345678901234567890", T = 59 s → 94287082, 6 digits 287082)
    rfc = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert pyotp.TOTP(rfc).at(59) == "287082"
    assert _step(engine, rfc, "287082", 59) == 1


def test_one_step_either_side_is_accepted_two_are_refused_and_a_code_counts_once(engine: Engine) -> None:
    rng = random.Random(15)
    for _ in range(25):
        secret = pyotp.random_base32()
        totp = pyotp.TOTP(secret)
        at = rng.uniform(1.6e9, 2.0e9)
        now = int(at // 30)
        for d in (-1, 0, 1):
            assert _step(engine, secret, totp.at(at + 30 * d), at) == now + d
        for d in (-2, 2):
            code = totp.at(at + 30 * d)
            if all(code != totp.at(at + 30 * k) for k in (-1, 0, 1)):  # a chance collision is no refusal
                assert _step(engine, secret, code, at) is None
        assert _step(engine, secret, totp.at(at), at, after=now) is None  # replay of the accepted step
        assert _step(engine, secret, totp.at(at + 30), at, after=now) == now + 1
    assert _step(engine, pyotp.random_base32(), "12345", 1.7e9) is None
    assert _step(engine, pyotp.random_base32(), "abcdef", 1.7e9) is None


def test_the_app_role_cannot_read_the_secret_or_call_the_helpers(engine: Engine, app_engine: Engine) -> None:
    add_user(engine, "anna", PASSWORD, role="leader")
    _enrol(app_engine, "anna")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM user_second_factors")).scalar_one() == 1
    for sql in ("SELECT * FROM user_second_factors", "SELECT riskmap_base32_decode('GEZDGNBV')",
                "SELECT riskmap_totp_step('GEZDGNBV', '123456', 0, now())",
                "SELECT * FROM riskmap_account_locked('anna', NULL)",
                "UPDATE security_settings SET second_factor_roles = '{}'"):
        with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
            conn.execute(text(sql))


def test_enrolment_stores_nothing_until_a_right_code(engine: Engine, app_engine: Engine) -> None:
    add_user(engine, "anna", PASSWORD, role="leader")
    signed = authenticate(app_engine, "anna", PASSWORD, via="test")
    assert signed.token is not None
    secret = pyotp.random_base32()
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000:06d}"
    assert store.enrol_second_factor(app_engine, signed.token, secret, wrong, address=None).outcome == "wrong"
    with pytest.raises(DBAPIError, match="128 bits"):
        store.enrol_second_factor(app_engine, signed.token, "GEZDGNBV", "123456", address=None)
    assert store.enrol_second_factor(app_engine, "not-a-token", secret, pyotp.TOTP(secret).now(),
                                     address=None).outcome == "no_session"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM user_second_factors")).scalar_one() == 0
    assert not _state(app_engine, signed.token)["has_second_factor"]
    assert _audits(engine, "second_factor_enrol_failed", "anna") == 1
    done = store.enrol_second_factor(app_engine, signed.token, secret, pyotp.TOTP(secret).now(), address=None)
    assert done.outcome == "ok" and done.token is None  # a full session stays as it is
    assert _state(app_engine, signed.token)["has_second_factor"]
    assert _audits(engine, "second_factor_enrolled", "anna") == 1


def test_a_pending_session_is_no_session_until_a_right_code(engine: Engine, app_engine: Engine) -> None:
    add_user(engine, "anna", PASSWORD, role="leader")
    signed = authenticate(app_engine, "anna", PASSWORD, via="test")
    secret = pyotp.random_base32()
    first = pyotp.TOTP(secret).now()
    assert store.enrol_second_factor(app_engine, str(signed.token), secret, first, address=None).outcome == "ok"
    store.sign_out(app_engine, signed.token)
    pending = authenticate(app_engine, "anna", PASSWORD, via="test")
    assert pending.ok and pending.pending and pending.second_factor == "second_factor" and pending.token
    assert store.session_user(app_engine, pending.token) is None  # no user, and so no scope
    with store.scoped(store.Scope(all_districts=True, session_token=pending.token)), app_engine.connect() as conn:
        assert conn.execute(text("SELECT riskmap_scope_all(), riskmap_role()")).one() == (False, None)
    assert _state(app_engine, pending.token)["pending"] == "second_factor"
    # the code that enrolled the factor, given again, is refused
    assert store.verify_second_factor(app_engine, pending.token, first, address="10.0.0.9").outcome == "wrong"
    code = _next(secret)
    done = store.verify_second_factor(app_engine, pending.token, code, address="10.0.0.9")
    assert done.outcome == "ok" and done.token and done.token != pending.token
    assert store.session_user(app_engine, pending.token) is None  # the token known before the code is dead
    assert _user(app_engine, done.token)["username"] == "anna"
    # the same code again (a replay) is refused, and counted as a wrong one
    again = authenticate(app_engine, "anna", PASSWORD, via="test")
    assert again.token is not None
    assert store.verify_second_factor(app_engine, again.token, code, address=None).outcome == "wrong"
    with engine.connect() as conn:
        replayed = conn.execute(text("SELECT details->>'replayed' FROM audit_log WHERE action = "
                                     "'second_factor_failed' AND actor = 'anna' ORDER BY id")).scalars().all()
    assert len(replayed) == 2 and replayed[-1] == "true"  # audited as a replay (the first may have aged out)


def test_wrong_codes_lock_like_passwords_in_every_path(engine: Engine, app_engine: Engine) -> None:
    add_user(engine, "anna", PASSWORD, role="leader")
    secret = _enrol(app_engine, "anna")
    with engine.connect() as conn:
        limit = int(conn.execute(text("SELECT account_failures FROM security_settings")).scalar_one())
    pending = authenticate(app_engine, "anna", PASSWORD, via="test", address="10.1.1.1")
    assert pending.token is not None
    right = int(_next(secret))
    for i in range(limit):
        wrong = f"{(right + 1000 + i) % 1_000_000:06d}"
        assert store.verify_second_factor(app_engine, pending.token, wrong, address="10.1.1.1").outcome == "wrong"
    # the next is refused even with the right code; so are the password and a password change
    assert store.verify_second_factor(app_engine, pending.token, _next(secret), address="10.1.1.1").outcome == "locked"
    assert authenticate(app_engine, "anna", PASSWORD, via="test").outcome == "locked"
    assert _audits(engine, "second_factor_failed", "anna") == limit
    token = store.issue_session(engine, "anna")
    assert store.change_own_password(app_engine, token, PASSWORD, "Zr5&cVb1-gMf6^tD", address=None) == "locked"
    with engine.connect() as conn:  # the one rule: the three paths ask the same function
        bodies = conn.execute(text(
            "SELECT proname, prosrc FROM pg_proc WHERE proname IN "
            "('riskmap_sign_in', 'riskmap_change_password', 'riskmap_verify_second_factor')")).all()
    assert len(bodies) == 3 and all("riskmap_account_locked(" in src for _n, src in bodies)
    assert not any("account_failures" in src for _n, src in bodies)


def test_second_factor_reset_is_audited_and_the_account_enrols_again(engine: Engine, app_engine: Engine) -> None:
    from click.testing import CliRunner

    from riskmap.cli import main

    add_user(engine, "anna", PASSWORD, role="admin")
    _enrol(app_engine, "anna")
    pending = authenticate(app_engine, "anna", PASSWORD, via="test")
    env = {"RISKMAP_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    out = CliRunner().invoke(main, ["user", "second-factor-reset", "anna"], env=env)
    assert out.exit_code == 0, out.output
    assert _audits(engine, "second_factor_reset", "anna") == 0  # the actor is the operator, the target anna
    with engine.connect() as conn:
        row = conn.execute(text("SELECT actor, target FROM audit_log WHERE action = 'second_factor_reset'")).one()
        assert conn.execute(text("SELECT count(*) FROM user_second_factors")).scalar_one() == 0
    assert row.target == "anna" and row.actor
    assert store.session_state(app_engine, str(pending.token)) is None  # the session waiting for a code ended
    again = CliRunner().invoke(main, ["user", "second-factor-reset", "anna"], env=env)
    assert again.exit_code != 0 and "anna" in again.output
    assert not authenticate(app_engine, "anna", PASSWORD, via="test").pending


def test_required_for_a_role_sends_accounts_without_one_to_enrolment(engine: Engine, app_engine: Engine) -> None:
    add_user(engine, "anna", PASSWORD, role="admin")
    add_user(engine, "vera", "Hb4@wQe8-kNs3%yJ", role="viewer")
    from click.testing import CliRunner

    from riskmap.cli import main

    env = {"RISKMAP_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    bad = CliRunner().invoke(main, ["user", "second-factor-roles", "admin", "boss"], env=env)
    assert bad.exit_code != 0 and "boss" in bad.output and store.second_factor_roles(engine) == []
    out = CliRunner().invoke(main, ["user", "second-factor-roles", "city_supervisor", "admin"], env=env)
    assert out.exit_code == 0 and "admin, city_supervisor" in out.output, out.output
    assert store.second_factor_roles(engine) == ["admin", "city_supervisor"]
    with engine.connect() as conn:
        policy = conn.execute(text("SELECT details FROM audit_log WHERE action = 'second_factor_policy'")).one()[0]
    assert policy == {"before": [], "after": ["admin", "city_supervisor"]}
    assert not authenticate(app_engine, "vera", "Hb4@wQe8-kNs3%yJ", via="test").pending
    sent = authenticate(app_engine, "anna", PASSWORD, via="test")
    assert sent.second_factor == "enrol" and sent.token
    assert store.session_user(app_engine, sent.token) is None
    assert store.verify_second_factor(app_engine, sent.token, "123456", address=None).outcome == "no_session"
    secret = pyotp.random_base32()
    done = store.enrol_second_factor(app_engine, sent.token, secret, pyotp.TOTP(secret).now(), address=None)
    assert done.outcome == "ok" and done.token
    assert _user(app_engine, done.token)["username"] == "anna"
    assert authenticate(app_engine, "anna", PASSWORD, via="test").second_factor == "second_factor"


def test_the_app_role_is_given_only_its_session(engine: Engine, app_engine: Engine) -> None:
    add_user(engine, "anna", PASSWORD, role="leader")
    token = store.issue_session(engine, "anna")
    names = ("session", "actor", "scope", "adcode", "role", "credit_code")
    sql = "SELECT " + ", ".join(f"coalesce(current_setting('riskmap.{n}', true), '')" for n in names)
    scope = store.Scope(all_districts=False, adcode="530181", actor="anna", role="district_officer",
                        session_token=token)
    with store.scoped(scope), app_engine.connect() as conn:  # the actor too comes from the session (0015)
        assert tuple(conn.execute(text(sql)).one()) == (token, "", "", "", "", "")
        assert conn.execute(text("SELECT riskmap_actor()")).scalar_one() == "anna"
    owner = store.make_engine(engine.url.render_as_string(hide_password=False), scoped=True)
    try:
        with store.scoped(scope), owner.connect() as conn:  # the owner's scoped work still reads them
            assert tuple(conn.execute(text(sql)).one()) == (token, "anna", "district", "530181",
                                                             "district_officer", "")
    finally:
        owner.dispose()


@pytest.fixture
def demo(pg_cluster: embedded.Cluster, demo_db: str, monkeypatch: pytest.MonkeyPatch,
         tmp_path: Path) -> Iterator[DemoApp]:
    with demo_app(pg_cluster, demo_db, monkeypatch, home=tmp_path) as found:
        yield found


def _secret_on(page: str) -> str:
    found = re.search(r'<code id="second-factor-secret">([A-Z2-7 ]+)</code>', page)
    assert found is not None, page[:500]
    return found.group(1).replace(" ", "")


def _post_code(client: Any, path: str, code: str) -> Any:
    return client.post(path, data={"code": code, "next": "/", CSRF_FIELD: form_token(client)})


def _factors(owner: Engine) -> int:
    with owner.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM user_second_factors")).scalar_one())


def test_a_pending_session_opens_nothing_but_the_code_form(demo: DemoApp) -> None:
    client = demo.client
    log_in(client, "leader")
    page = client.get(ENROL).get_data(as_text=True)
    assert 'id="second-factor-qr"' in page and "data:image/svg+xml" in page and "双因素认证" in page
    secret = _secret_on(page)
    assert _secret_on(client.get(ENROL).get_data(as_text=True)) == secret  # the same until it is stored
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000:06d}"
    assert _post_code(client, ENROL, wrong).status_code == 400
    assert _factors(demo.owner) == 0  # nothing stored until a right code
    assert client.post(ENROL, data={"code": pyotp.TOTP(secret).now()}).status_code == 400  # no CSRF token
    done = _post_code(client, ENROL, pyotp.TOTP(secret).now())
    assert done.status_code == 200 and "已启用" in done.get_data(as_text=True) and _factors(demo.owner) == 1
    log_out(client)

    signed = log_in(client, "leader")
    assert signed.headers["Location"].startswith(VERIFY)
    for path in ("/", "/planner", "/password", ENROL, "/export/findings.csv"):
        refused = client.get(path)
        assert refused.status_code == 302 and refused.headers["Location"].endswith(VERIFY), path
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/_dash-dependencies").status_code == 401
    body = callback_body(demo.app, next(iter(demo.app.callback_map)), {}, "url.pathname")
    assert post_callback(client, body).status_code == 401
    form = client.get(VERIFY)
    assert form.status_code == 200 and 'name="code"' in form.get_data(as_text=True)
    assert _post_code(client, VERIFY, wrong).status_code == 401
    assert _audits(demo.owner, "second_factor_failed", "leader") == 1
    ok = _post_code(client, VERIFY, _next(secret))
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    assert client.get("/").status_code == 200 and client.get("/_dash-layout").status_code == 200
    assert client.get(VERIFY).status_code == 302  # nothing owed any more


def test_wrong_codes_on_the_form_lock_the_account(demo: DemoApp) -> None:
    client = demo.client
    secret = _enrol(demo.owner, "leader", "leader-demo-2026")
    with demo.owner.connect() as conn:
        limit = int(conn.execute(text("SELECT account_failures FROM security_settings")).scalar_one())
    log_in(client, "leader")
    right = int(_next(secret))
    for i in range(limit):
        assert _post_code(client, VERIFY, f"{(right + 7 + i) % 1_000_000:06d}").status_code == 401
    locked = _post_code(client, VERIFY, _next(secret))
    assert locked.status_code == 429 and "锁定" in locked.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_role_that_requires_it_is_sent_to_enrolment(demo: DemoApp) -> None:
    store.set_second_factor_roles(demo.owner, ["admin"], actor="test")
    client = demo.client
    sent = log_in(client, "admin")
    assert sent.headers["Location"] == ENROL
    assert client.get("/").headers["Location"] == ENROL
    assert client.get("/_dash-layout").status_code == 401
    page = client.get(ENROL).get_data(as_text=True)
    assert "须启用双因素认证" in page
    assert client.get(VERIFY).headers["Location"] == ENROL
    done = _post_code(client, ENROL, pyotp.TOTP(_secret_on(page)).now())
    assert done.status_code == 200
    assert client.get("/").status_code == 200
    other = demo.app.server.test_client()
    log_in(other, "leader")  # a role the policy leaves alone
    assert other.get("/").status_code == 200


@pytest.mark.browser
def test_enrol_in_the_browser_then_sign_in_with_password_and_code(secured: tuple[str, Engine], driver: Any,
                                                                  artifacts: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import assert_clean_page, sign_in

    base, owner = secured
    wait = WebDriverWait(driver, 30)
    sign_in(driver, base, "leader")
    wait.until(ec.element_to_be_clickable((By.ID, "nav-second-factor"))).click()
    wait.until(ec.presence_of_element_located((By.ID, "second-factor-qr")))
    qr = driver.find_element(By.ID, "second-factor-qr")
    assert str(qr.get_attribute("src")).startswith("data:image/svg+xml") and qr.size["width"] > 100
    assert bool(driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", qr))
    secret = driver.find_element(By.ID, "second-factor-secret").text.replace(" ", "")
    driver.save_screenshot(str(artifacts / "second_factor.png"))
    assert_clean_page(driver)  # the QR code passes the CSP (no violation logged), nothing fetched elsewhere
    driver.find_element(By.NAME, "code").send_keys(pyotp.TOTP(secret).now())
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "second-factor-done")))
    assert _factors(owner) == 1
    driver.find_element(By.CSS_SELECTOR, "#second-factor-done a").click()
    wait.until(ec.element_to_be_clickable((By.ID, "nav-logout"))).click()
    wait.until(ec.presence_of_element_located((By.NAME, "username")))

    sign_in(driver, base, "leader")
    wait.until(ec.presence_of_element_located((By.ID, "second-factor-verify")))
    assert VERIFY in driver.current_url
    driver.get(base + "/")  # nothing else opens before the code
    wait.until(ec.presence_of_element_located((By.ID, "second-factor-verify")))
    driver.find_element(By.NAME, "code").send_keys(_next(secret))
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    slow = WebDriverWait(driver, 120)  # the first Dash page on a loaded machine
    slow.until(lambda d: "second-factor" not in d.current_url or d.find_elements(By.CSS_SELECTOR, "p.error"))
    assert "second-factor" not in driver.current_url, driver.find_element(By.TAG_NAME, "body").text
    slow.until(ec.presence_of_element_located((By.ID, "nav-user")))
    assert_clean_page(driver)
    assert _audits(owner, "login", "leader") == 2 and _audits(owner, "second_factor_enrolled", "leader") == 1


def test_the_command_line_asks_an_enrolled_account_for_its_code(demo_copy: dict[str, str]) -> None:
    from click.testing import CliRunner

    from riskmap.cli import main

    owner = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    app = store.make_engine(demo_copy["RISKMAP_APP_DATABASE_URL"], scoped=True)
    try:
        add_user(owner, "anna", PASSWORD, role="admin")
        secret = _enrol(app, "anna")
        env = {**demo_copy, "RISKMAP_PASSWORD": PASSWORD}
        wrong = CliRunner().invoke(main, ["--user", "anna", "report", "list"],
                                   env={**env, "RISKMAP_TOTP_CODE": "000000"})
        assert wrong.exit_code != 0 and "wrong one-time code" in wrong.output
        right = CliRunner().invoke(main, ["--user", "anna", "report", "list"],
                                   env={**env, "RISKMAP_TOTP_CODE": _next(secret)})
        assert right.exit_code == 0, right.output
        assert _audits(owner, "second_factor_failed", "anna") >= 1
        with owner.connect() as conn:  # both command-line sessions ended with their commands
            live = conn.execute(text("SELECT count(*) FROM user_sessions s JOIN users u ON u.id = s.user_id "
                                     "WHERE u.username = 'anna' AND s.ended_at IS NULL")).scalar_one()
        assert live == 0
    finally:
        owner.dispose()
        app.dispose()
