"""No function of ours can be fooled by a temporary table of the caller's.

PostgreSQL searches the session's temporary schema first for table names unless ``pg_temp`` is named in
the search path, so a connection of the application role could create ``TEMP TABLE users`` and
``user_sessions`` holding a city-wide administrator and have an owner-run (SECURITY DEFINER) function read
them instead of the real tables — a scope the application cannot widen would be widened. Migration 0022 gives
every such function, and every trigger function, ``search_path = pg_catalog, public, pg_temp``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from geo import store
from identity.accounts import add_user
from tests.clients import app_engine_of, session_scope

pytestmark = pytest.mark.postgis

#: Non-extension functions of schema public that run as their owner or as triggers, and their settings.
_FUNCTIONS = text("""
    SELECT p.oid::regprocedure::text AS name, p.prosecdef AS definer,
           p.prorettype = 'trigger'::regtype AS trigger, coalesce(p.proconfig, '{}') AS config
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                                   AND d.deptype = 'e')""")


def test_every_definer_and_trigger_function_names_pg_temp_last(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(_FUNCTIONS).mappings().all()
    guarded = [r for r in rows if r["definer"] or r["trigger"]]
    assert len([r for r in guarded if r["definer"]]) >= 10 and len([r for r in guarded if r["trigger"]]) >= 5
    wrong = [r["name"] for r in guarded if "search_path=pg_catalog, public, pg_temp" not in r["config"]]
    assert not wrong, f"functions without search_path = pg_catalog, public, pg_temp: {wrong}"


def test_a_temporary_users_table_does_not_widen_a_district_session(engine: Engine) -> None:
    add_user(engine, "tmp-probe", "Probe-password-2026!", role="district_officer", adcode="530181")
    scope = session_scope(engine, "tmp-probe")
    app = app_engine_of(engine)
    try:
        with store.scoped(scope), app.begin() as conn:
            real = conn.execute(text("SELECT * FROM riskmap_session_account()")).mappings().one()
            assert real["adcode"] == "530181" and not real["city_wide"]
            districts = conn.execute(text("SELECT count(*) FROM districts")).scalar_one()
            # the forgery: tables of the same names in the session's own temporary schema, the same token hash
            conn.execute(text("CREATE TEMP TABLE users (id int, username text, role text, adcode text, "
                              "credit_code text, active boolean, password_changed_at timestamptz)"))
            conn.execute(text("CREATE TEMP TABLE user_sessions (user_id int, token_hash bytea, ended_at timestamptz, "
                              "expires_at timestamptz, last_seen_at timestamptz, idle_timeout interval, "
                              "created_at timestamptz, pending text)"))
            conn.execute(text("INSERT INTO users VALUES (1, 'forged', 'admin', NULL, NULL, true, NULL)"))
            conn.execute(text("INSERT INTO user_sessions SELECT 1, sha256(convert_to(current_setting("
                              "'riskmap.session'), 'UTF8')), NULL, now() + interval '1 hour', now(), "
                              "interval '1 hour', now() - interval '1 minute', NULL"))
            after = conn.execute(text("SELECT * FROM riskmap_session_account()")).mappings().one()
            assert dict(after) == dict(real)  # still the real account: the temporary tables are not read
            assert conn.execute(text("SELECT riskmap_scope_all()")).scalar_one() is False
            assert conn.execute(text("SELECT count(*) FROM districts")).scalar_one() == districts
    finally:
        app.dispose()


def test_the_scope_of_a_session_is_unchanged(engine: Engine) -> None:
    add_user(engine, "tmp-city", "Probe-password-2026!", role="leader")
    add_user(engine, "tmp-wuhua", "Probe-password-2026!", role="district_officer", adcode="530102")
    app = app_engine_of(engine)
    try:
        for name, city, adcode in (("tmp-city", True, None), ("tmp-wuhua", False, "530102")):
            with store.scoped(session_scope(engine, name)), app.begin() as conn:
                assert conn.execute(text("SELECT riskmap_scope_all()")).scalar_one() is city
                assert conn.execute(text("SELECT riskmap_adcode()")).scalar_one() == adcode
    finally:
        app.dispose()
