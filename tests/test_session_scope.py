"""Sessions and scope held by the database (#15): the application role cannot widen its own scope.

The app connects as ``riskmap_app``; its scope comes only from a live session token (``riskmap.session``),
looked up by SECURITY DEFINER functions in tables it cannot read. Sign-in is throttled and audited in the
database; sign-out, a disabled account and a changed password end sessions at once.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest
import shapely
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from geo import store
from geo.store import Scope, scoped
from identity.accounts import add_user, authenticate
from tests.clients import demo_app, log_in, log_out, route, session_scope

pytestmark = pytest.mark.postgis
ANNING, XISHAN = "530181", "530112"
PASSWORD = "Tq7#vLm2-xPz9!rW"
NEW_PASSWORD = "Zr5&cVb1-gMf6^tD"


def _seed(engine: Engine) -> None:
    rows = [{"key": f"B-{code}-{i}", "adcode": code, "name": None, "use": "residential", "households": 1,
             "floors": 1, "geom": shapely.Point(102.4 + i * 0.001, 24.9), "source_crs": "EPSG:4490",
             "batch_id": None} for code in (ANNING, XISHAN) for i in range(3)]
    with engine.begin() as conn:
        store.upsert_rows(conn, "buildings", rows, "key")
    add_user(engine, "anning", PASSWORD, role="district_officer", adcode=ANNING)
    add_user(engine, "leader1", "Hb4@wQe8-kNs3%yJ", role="leader")


def _count(app: Engine, *settings: tuple[str, str]) -> int:
    """Buildings the app sees in one transaction after setting ``settings`` itself."""
    with app.begin() as conn:
        for name, value in settings:
            conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
        return int(conn.execute(text("SELECT count(*) FROM buildings")).scalar_one())


def _refused(app: Engine, sql: str, match: str = "permission denied") -> None:
    with pytest.raises(DBAPIError, match=match), app.begin() as conn:
        conn.execute(text(sql))


def test_the_app_connection_cannot_widen_its_scope(engine: Engine, app_engine: Engine) -> None:
    _seed(engine)
    officer = session_scope(engine, "anning")
    leader = session_scope(engine, "leader1")
    with scoped(officer):
        assert _count(app_engine) == 3
        # every setting the app could set itself is ignored: only the session token counts
        for name, value in (("riskmap.scope", "all"), ("riskmap.adcode", XISHAN), ("riskmap.role", "leader"),
                            ("riskmap.actor", "leader1"), ("riskmap.credit_code", "x")):
            assert _count(app_engine, (name, value)) == 3, name
        assert _count(app_engine, ("riskmap.scope", "all"), ("riskmap.adcode", "")) == 3
        # nor can it become the owner, read hashes or sessions, or open a session itself
        _refused(app_engine, "SET ROLE riskmap")
        _refused(app_engine, "SET SESSION AUTHORIZATION riskmap")
        _refused(app_engine, "SELECT password_hash FROM users")
        _refused(app_engine, "SELECT * FROM users")
        for table in ("user_sessions", "sign_in_attempts", "security_settings"):
            _refused(app_engine, f"SELECT count(*) FROM {table}")
        _refused(app_engine, "UPDATE users SET active = true")
        _refused(app_engine, "SELECT riskmap_issue_session('leader1', 'web', 60)")
        _refused(app_engine, "ALTER TABLE buildings NO FORCE ROW LEVEL SECURITY", "must be owner")
        with app_engine.connect() as conn:  # what it may read of users: everything but the hash
            names = conn.execute(text("SELECT username FROM users ORDER BY username")).scalars().all()
        assert names == ["anning", "leader1"]
    # a forged token, no token, an expired or an ended session: nothing
    assert _count(app_engine, ("riskmap.session", "00" * 32), ("riskmap.scope", "all")) == 0
    with scoped(Scope(all_districts=False)):
        assert _count(app_engine, ("riskmap.scope", "all")) == 0
    with scoped(leader):
        assert _count(app_engine) == 6
        with engine.begin() as conn:
            conn.execute(text("UPDATE user_sessions SET expires_at = now() - interval '1 second' "
                              "WHERE user_id = (SELECT id FROM users WHERE username = 'leader1')"))
        assert _count(app_engine) == 0
    ended = session_scope(engine, "leader1")
    assert store.sign_out(app_engine, ended.session_token)
    with scoped(ended):
        assert _count(app_engine) == 0


def test_every_policy_is_forced_and_runs_once_per_query(engine: Engine, app_engine: Engine) -> None:
    with engine.connect() as conn:
        loose = conn.execute(text(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
            "AND c.relkind = 'r' AND c.relrowsecurity AND NOT c.relforcerowsecurity")).scalars().all()
        per_row = conn.execute(text(
            "SELECT tablename || '.' || policyname FROM pg_policies WHERE policyname <> 'owner_unscoped' "
            "AND (coalesce(qual, '') || coalesce(with_check, '')) ~ '(?<!SELECT )riskmap_[a-z_]+\\(\\)'"
        )).scalars().all()
    assert loose == [] and per_row == []
    _seed(engine)
    with scoped(session_scope(engine, "anning")), app_engine.connect() as conn:
        plan = list(conn.execute(text("EXPLAIN (VERBOSE) SELECT * FROM buildings")).scalars())
    filters = [line for line in plan if "Filter:" in line]
    assert any("InitPlan" in line for line in plan) and any("riskmap_scope_all()" in line for line in plan)
    assert filters and not any("riskmap_" in line for line in filters)  # the row filter reads the InitPlans


def test_the_owners_scoped_work_is_scoped_and_unscoped_sees_all(engine: Engine) -> None:
    _seed(engine)
    owner = store.make_engine(engine.url, scoped=True)
    try:
        with owner.connect() as conn:  # the owner with no scope set
            assert conn.execute(text("SELECT riskmap_unscoped() AND riskmap_trusts_settings()")).scalar_one()
        with scoped(Scope(all_districts=False, adcode=ANNING)), owner.connect() as conn:
            assert not conn.execute(text("SELECT riskmap_unscoped()")).scalar_one()
            assert conn.execute(text("SELECT riskmap_adcode()")).scalar_one() == ANNING
        assert _count(owner) == 6
    finally:
        owner.dispose()


def test_cross_district_lookups_answer_only_the_keys_asked(engine: Engine, app_engine: Engine) -> None:
    _seed(engine)
    rows = [{"key": f"E-{code}", "adcode": code, "name": f"企业{code}", "credit_code": f"91530000MA0000{code[-4:]}",
             "industry": "mining", "risk_level": "major",
             "geom": shapely.Point(102.45, 24.9), "source_crs": "EPSG:4490", "batch_id": None}
            for code in (ANNING, XISHAN)]
    with engine.begin() as conn:
        store.upsert_rows(conn, "enterprises", rows, "key")
    with scoped(session_scope(engine, "anning")):
        found = store.enterprise_districts(app_engine, [f"91530000MA0000{XISHAN[-4:]}", "nope"])
        assert found == {f"91530000MA0000{XISHAN[-4:]}": XISHAN}
        assert len(store.read_layer(app_engine, "enterprises")) == 1  # the lookup widened nothing


def test_sessions_end_on_sign_out_disable_and_password_change(engine: Engine, app_engine: Engine) -> None:
    _seed(engine)
    first = authenticate(app_engine, "anning", PASSWORD, via="test")
    assert first.ok and store.session_user(app_engine, first.token) is not None
    assert store.sign_out(app_engine, first.token)
    assert store.session_user(app_engine, first.token) is None and not store.sign_out(app_engine, first.token)
    second = authenticate(app_engine, "anning", PASSWORD, via="test")
    assert store.set_password(engine, "anning", NEW_PASSWORD, actor="admin")
    assert store.session_user(app_engine, second.token) is None
    assert authenticate(app_engine, "anning", PASSWORD, via="test").outcome == "failed"
    third = authenticate(app_engine, "anning", NEW_PASSWORD, via="test")
    assert third.ok and store.set_user_active(engine, "anning", False, actor="admin")
    assert store.session_user(app_engine, third.token) is None
    with engine.connect() as conn:
        reasons = conn.execute(text("SELECT ended_reason FROM user_sessions ORDER BY id")).scalars().all()
        actions = conn.execute(text("SELECT action FROM audit_log WHERE action IN ('login', 'logout') "
                                    "ORDER BY id")).scalars().all()
    assert reasons == ["sign_out", "password_changed", "disabled"]
    assert actions == ["login", "logout", "login", "login"]


def test_idle_and_absolute_timeouts(engine: Engine, app_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from geo.config import load_settings

    _seed(engine)
    monkeypatch.setenv("RISKMAP_IDLE_MINUTES", "5")
    monkeypatch.setenv("RISKMAP_SESSION_HOURS", "1")
    idle = authenticate(app_engine, "anning", PASSWORD, via="test", settings=load_settings())
    life = authenticate(app_engine, "anning", PASSWORD, via="test", settings=load_settings())
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT idle_timeout, expires_at - created_at FROM user_sessions ORDER BY id")).all()
    assert [(str(a), str(b)) for a, b in kept] == [("0:05:00", "1:00:00")] * 2
    assert store.session_user(app_engine, idle.token) is not None
    with engine.begin() as conn:  # five idle minutes pass for one; the other was used but its hour is over
        conn.execute(text("UPDATE user_sessions SET last_seen_at = now() - interval '301 seconds' WHERE id = 1"))
        conn.execute(text("UPDATE user_sessions SET created_at = now() - interval '61 minutes', "
                          "expires_at = now() - interval '1 minute' WHERE id = 2"))
    assert store.session_user(app_engine, idle.token) is None
    assert store.session_user(app_engine, life.token) is None
    with scoped(Scope(all_districts=False, adcode=ANNING, session_token=idle.token)):
        assert _count(app_engine) == 0


def test_lockout_after_repeated_failures(engine: Engine, app_engine: Engine) -> None:
    _seed(engine)
    outcomes = [authenticate(app_engine, "anning", f"wrong-{i}", address="10.0.0.9", via="test").outcome
                for i in range(60)]
    assert outcomes[:10] == ["failed"] * 10 and set(outcomes[10:]) == {"locked"}
    assert authenticate(app_engine, "anning", PASSWORD, address="10.0.0.7", via="test").outcome == "locked"  # 61st
    with engine.begin() as conn:  # the lock of this store: shortened to one second
        conn.execute(text("UPDATE security_settings SET lockout = interval '1 second'"))
    time.sleep(1.2)
    assert authenticate(app_engine, "anning", PASSWORD, address="10.0.0.7", via="test").ok
    with engine.connect() as conn:
        audited = dict(conn.execute(text(
            "SELECT action, count(*) FROM audit_log WHERE actor = 'anning' GROUP BY action")).all())
        addresses = set(conn.execute(text(
            "SELECT details->>'address' FROM audit_log WHERE action LIKE 'login%'")).scalars())
    assert audited == {"login_failed": 10, "login_locked": 51, "login": 1}
    assert addresses == {"10.0.0.9", "10.0.0.7"}


def test_one_address_is_throttled_across_names(engine: Engine, app_engine: Engine) -> None:
    _seed(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE security_settings SET address_failures = 3"))
    tried = [authenticate(app_engine, name, "guess-password", address="10.9.9.9", via="test").outcome
             for name in ("a1", "a2", "a3", "a4")]
    assert tried == ["failed", "failed", "failed", "locked"]
    assert authenticate(app_engine, "anning", PASSWORD, address="10.9.9.9", via="test").outcome == "locked"
    assert authenticate(app_engine, "anning", PASSWORD, address="10.9.9.8", via="test").ok  # another address


def test_unknown_and_known_names_take_the_same_time(engine: Engine, app_engine: Engine) -> None:
    _seed(engine)

    def timed(name: str) -> float:
        start = time.perf_counter()
        assert authenticate(app_engine, name, "not-the-password", via="test").outcome in ("failed", "locked")
        return time.perf_counter() - start

    timed("anning")  # warm the pool
    known, unknown = [], []
    for _ in range(9):
        known.append(timed("anning"))
        unknown.append(timed("nobody-here"))
    k, u = statistics.median(known), statistics.median(unknown)
    assert abs(k - u) <= 0.2 * max(k, u), (k, u)
    assert min(k, u) > 0.02  # each one costs a bcrypt hash, known name or not


def test_served_app_refuses_a_disabled_user_and_a_captured_cookie(
        pg_cluster: Any, demo_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    with demo_app(pg_cluster, demo_db, monkeypatch, home=tmp_path) as demo:
        log_in(demo.client, "anning")
        assert route(demo.client)[0] == 200
        assert store.set_user_active(demo.owner, "anning", False, actor="admin")
        status, body = route(demo.client)
        assert status == 401 and "安宁" not in body  # the live session ended with the account
        assert store.set_user_active(demo.owner, "anning", True, actor="admin")

        log_in(demo.client, "leader")
        captured = demo.client.get_cookie("session")
        assert captured is not None and route(demo.client)[0] == 200
        log_out(demo.client)
        thief = demo.app.server.test_client()
        thief.set_cookie(captured.key, captured.value)
        status, _ = route(thief)
        assert status == 401  # the cookie captured before sign-out no longer signs anyone in
        with demo.owner.connect() as conn:
            logouts = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'logout' "
                                        "AND actor = 'leader'")).scalar_one()
        assert logouts == 1


def test_a_cli_user_signs_in_through_the_database_and_its_session_ends_with_the_command(
        demo_copy: dict[str, str], tmp_path: Any) -> None:
    from click.testing import CliRunner

    from riskmap.cli import main

    env = {**demo_copy, "RISKMAP_PASSWORD": "anning-demo-2026"}
    done = CliRunner().invoke(main, ["--user", "anning", "export", "--district", ANNING, "--formats", "xlsx",
                                     "--out", str(tmp_path / "a")], env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    wrong = CliRunner().invoke(main, ["--user", "anning", "export", "--district", ANNING, "--formats", "xlsx",
                                      "--out", str(tmp_path / "b")], env={**env, "RISKMAP_PASSWORD": "nope-nope-nope"})
    assert wrong.exit_code != 0 and "wrong user name or password" in wrong.output
    owner = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    try:
        with owner.connect() as conn:
            sessions = conn.execute(text(
                "SELECT s.via, s.ended_reason FROM user_sessions s JOIN users u ON u.id = s.user_id "
                "WHERE u.username = 'anning'")).all()
            failed = conn.execute(text("SELECT details->>'via' FROM audit_log WHERE action = 'login_failed' "
                                       "AND actor = 'anning'")).scalars().all()
    finally:
        owner.dispose()
    assert [tuple(s) for s in sessions] == [("cli", "sign_out")] and failed == ["cli"]


def test_an_argon2_hash_from_before_0015_never_signs_in(engine: Engine, app_engine: Engine) -> None:
    _seed(engine)
    with engine.begin() as conn:  # an account hashed by the Python code of before (Argon2id)
        conn.execute(text("UPDATE users SET password_hash = :h WHERE username = 'anning'"),
                     {"h": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"})
    assert authenticate(app_engine, "anning", PASSWORD, via="test").outcome == "failed"
    assert store.set_password(engine, "anning", NEW_PASSWORD, actor="admin")  # reset by an administrator
    assert authenticate(app_engine, "anning", NEW_PASSWORD, via="test").ok


def test_a_later_table_is_held_to_the_same_rule_at_upgrade(engine: Engine) -> None:
    from geo import schema

    with engine.begin() as conn:
        assert schema.secure_scope_policies(conn) == []  # every table already holds after the upgrade
        conn.execute(text("ALTER TABLE parks NO FORCE ROW LEVEL SECURITY"))
        conn.execute(text("DROP POLICY owner_unscoped ON parks"))
        conn.execute(text("ALTER POLICY district_scope ON parks TO riskmap_app "
                          "USING (riskmap_scope_all() OR adcode = riskmap_adcode())"))
    schema.upgrade(engine)  # as a later migration made it: brought in line
    with engine.connect() as conn:
        forced = conn.execute(text("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'parks'")).scalar()
        roles, qual = conn.execute(text("SELECT roles::text[], qual FROM pg_policies "
                                        "WHERE tablename = 'parks' AND policyname = 'district_scope'")).one()
        owner = conn.execute(text("SELECT count(*) FROM pg_policies WHERE tablename = 'parks' "
                                  "AND policyname = 'owner_unscoped'")).scalar()
    assert forced and list(roles) == ["public"] and owner == 1
    assert "SELECT riskmap_scope_all()" in qual and "SELECT riskmap_adcode()" in qual


def test_the_app_cannot_forge_who_changed_a_row(engine: Engine, app_engine: Engine) -> None:
    _seed(engine)
    row = {"key": "PT-1", "adcode": ANNING, "name": "学校", "target_type": "school", "gb36894_class": "high_density",
           "population": 500, "households": None, "floor_area_m2": None, "beds": None, "seats": None,
           "geom": shapely.Point(102.4, 24.9), "source_crs": "EPSG:4490", "batch_id": None}
    with engine.begin() as conn:
        store.upsert_rows(conn, "protection_targets", [row], "key")
    with scoped(session_scope(engine, "anning")), app_engine.begin() as conn:
        conn.execute(text("SELECT set_config('riskmap.actor', 'leader1', true)"))  # a forged name
        assert conn.execute(text("UPDATE protection_targets SET population = 600 WHERE key = 'PT-1'")).rowcount == 1
    with engine.connect() as conn:
        who = conn.execute(text("SELECT changed_by FROM row_versions WHERE table_name = 'protection_targets' "
                                "AND row_key = 'PT-1' AND valid_to IS NULL")).scalar_one()
    assert who == "anning"
