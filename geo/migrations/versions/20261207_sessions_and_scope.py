"""sessions and scope: sign-in and server-side sessions in the database; a scope the app cannot widen (#15)

- pgcrypto; passwords are bcrypt hashes made in the database (``crypt(pw, gen_salt('bf', cost))``).
  Argon2 hashes made before this revision cannot be checked in SQL: those accounts are reset with
  ``riskmap user password`` (the demo recreates its own).
- ``security_settings`` (one row, owner only): bcrypt cost, throttling (failures, window, lock) and a
  dummy hash of the same cost so that unknown names cost one ``crypt()`` like known ones.
- ``user_sessions`` (sha-256 of the token, timeouts per session) and ``sign_in_attempts``, owner only.
- The application role reads ``users`` without ``password_hash``, and nothing of the new tables.
- SECURITY DEFINER functions: ``riskmap_sign_in``, ``riskmap_session_user``, ``riskmap_sign_out``,
  ``riskmap_issue_session`` (owner only), ``riskmap_enterprise_districts``, ``riskmap_pipeline_districts``.
- Scope functions: a connection whose session user is not the owner (``riskmap_app``) takes its scope
  only from the session token in ``riskmap.session``; the owner keeps the per-transaction settings.
- Every policy calls the scope functions as scalar subqueries (one InitPlan per query, not a call per
  row), applies to every role, and FORCE ROW LEVEL SECURITY puts the owner under it too: an owner
  policy ``owner_unscoped`` lets the owner's unscoped work (and SECURITY DEFINER code run for the app)
  see everything, while the owner's scoped work is scoped like the app.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 08:30:00.000000
"""

import re

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"
#: Roles whose scope is the whole city, as geo/constants.py CITY_WIDE_ROLES at this revision.
CITY_WIDE = ("leader", "admin", "planner", "viewer", "city_supervisor")
#: Defaults of the settings row. Throttling after 等保 (GB/T 22239-2019) 8.1.4.1 "登录失败处理" and OWASP
#: ASVS 2.2.1: 10 failures of one account in 15 minutes lock it for 15 minutes; one address, 30.
BCRYPT_COST = 11

_SCOPE_CALLS = ("riskmap_scope_all", "riskmap_adcode", "riskmap_credit_code", "riskmap_role", "riskmap_actor")
_RAW_ADCODE = re.compile(r"NULLIF\(current_setting\('riskmap\.adcode'::text, true\), ''::text\)")


def _wrap(expr: str | None) -> str | None:
    """Return a policy expression whose scope calls are scalar subqueries (InitPlans); same meaning."""
    if expr is None:
        return None
    expr = _RAW_ADCODE.sub("(SELECT riskmap_scope_adcode())", expr)
    for fn in _SCOPE_CALLS:
        expr = re.sub(rf"(?<!SELECT ){fn}\(\)", f"(SELECT {fn}())", expr)
    return expr


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    _tables()
    _scope_functions()
    _policies()
    _sign_in_functions()
    _privileges()


def _tables() -> None:
    op.execute(f"""
    CREATE TABLE security_settings (
      one boolean PRIMARY KEY DEFAULT true CHECK (one),
      bcrypt_cost integer NOT NULL DEFAULT {BCRYPT_COST} CHECK (bcrypt_cost BETWEEN 4 AND 16),
      account_failures integer NOT NULL DEFAULT 10 CHECK (account_failures > 0),
      address_failures integer NOT NULL DEFAULT 30 CHECK (address_failures > 0),
      failure_window interval NOT NULL DEFAULT '15 minutes',
      lockout interval NOT NULL DEFAULT '15 minutes',
      dummy_hash text NOT NULL,
      source text NOT NULL
    )""")
    op.execute(f"""
    INSERT INTO security_settings (dummy_hash, source)
    VALUES (crypt(encode(gen_random_bytes(16), 'hex'), gen_salt('bf', {BCRYPT_COST})),
            'GB/T 22239-2019 8.1.4.1 a) 登录失败处理 (lock after repeated failures); OWASP ASVS 4.0 2.2.1; '
            'bcrypt cost 11 after OWASP Password Storage Cheat Sheet (>= 10)')""")
    op.execute("ALTER TABLE users ADD COLUMN password_changed_at timestamptz")
    op.execute("""
    CREATE TABLE user_sessions (
      id bigserial PRIMARY KEY,
      token_hash bytea NOT NULL UNIQUE,
      user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      idle_timeout interval NOT NULL,
      expires_at timestamptz NOT NULL,
      ended_at timestamptz,
      ended_reason text,
      address text,
      via text NOT NULL CHECK (via IN ('web', 'cli', 'test'))
    )""")
    op.execute("CREATE INDEX ix_user_sessions_user_live ON user_sessions (user_id) WHERE ended_at IS NULL")
    op.execute("""
    CREATE TABLE sign_in_attempts (
      id bigserial PRIMARY KEY,
      username text NOT NULL,
      address text,
      at timestamptz NOT NULL DEFAULT now(),
      ok boolean NOT NULL,
      outcome text NOT NULL
    )""")
    op.execute("CREATE INDEX ix_sign_in_attempts_username ON sign_in_attempts (username, at)")
    op.execute("CREATE INDEX ix_sign_in_attempts_address ON sign_in_attempts (address, at)")
    # A change of password or a disabled account ends the account's sessions at once.
    op.execute("""
    CREATE FUNCTION riskmap_users_changed() RETURNS trigger LANGUAGE plpgsql
      SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
        NEW.password_changed_at := clock_timestamp();
        UPDATE user_sessions SET ended_at = now(), ended_reason = 'password_changed'
         WHERE user_id = NEW.id AND ended_at IS NULL;
      END IF;
      IF TG_OP = 'UPDATE' AND OLD.active AND NOT NEW.active THEN
        UPDATE user_sessions SET ended_at = now(), ended_reason = 'disabled'
         WHERE user_id = NEW.id AND ended_at IS NULL;
      END IF;
      RETURN NEW;
    END $$""")
    op.execute("REVOKE ALL ON FUNCTION riskmap_users_changed() FROM PUBLIC")
    op.execute("""
    CREATE TRIGGER users_end_sessions BEFORE UPDATE ON users
      FOR EACH ROW EXECUTE FUNCTION riskmap_users_changed()""")


def _scope_functions() -> None:
    # Whether this connection's own login role is the owner (or a superuser): it then scopes itself with
    # the per-transaction settings. Any other login role (riskmap_app) has only its session token.
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_trusts_settings() RETURNS boolean LANGUAGE sql STABLE AS
      $$ SELECT pg_catalog.pg_has_role(session_user, (SELECT c.relowner FROM pg_catalog.pg_class c
                                                       WHERE c.oid = 'public.users'::regclass), 'MEMBER') $$""")
    city = ", ".join(f"'{r}'" for r in CITY_WIDE)
    # The account of the live session named by riskmap.session (nothing when it is not live).
    op.execute(f"""
    CREATE OR REPLACE FUNCTION riskmap_session_account(
        OUT username text, OUT role text, OUT adcode text, OUT credit_code text, OUT city_wide boolean)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      SELECT u.username::text, u.role::text, u.adcode::text,
             CASE WHEN u.role = 'enterprise' THEN u.credit_code::text END, u.role IN ({city})
        FROM user_sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = sha256(convert_to(nullif(current_setting('riskmap.session', true), ''), 'UTF8'))
         AND s.ended_at IS NULL AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()
         AND u.active AND (u.password_changed_at IS NULL OR u.password_changed_at <= s.created_at) $$""")
    op.execute("REVOKE ALL ON FUNCTION riskmap_session_account() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION riskmap_session_account() TO {APP_ROLE}")

    def define(name: str, returns: str, owner_expr: str, session_expr: str) -> None:
        op.execute(f"""
        CREATE OR REPLACE FUNCTION {name}() RETURNS {returns} LANGUAGE sql STABLE AS
          $$ SELECT CASE WHEN riskmap_trusts_settings() THEN {owner_expr}
                         ELSE (SELECT {session_expr} FROM riskmap_session_account() a) END $$""")

    define("riskmap_scope_all", "boolean", "coalesce(current_setting('riskmap.scope', true), '') = 'all'",
           "coalesce(a.city_wide, false)")
    define("riskmap_credit_code", "text", "nullif(current_setting('riskmap.credit_code', true), '')",
           "a.credit_code")
    define("riskmap_adcode", "text",
           "CASE WHEN nullif(current_setting('riskmap.credit_code', true), '') IS NULL "
           "THEN nullif(current_setting('riskmap.adcode', true), '') END",
           "CASE WHEN a.credit_code IS NULL AND NOT a.city_wide THEN a.adcode END")
    # The account's district even for an enterprise (whose rows are its own enterprise's, in that district).
    define("riskmap_scope_adcode", "text", "nullif(current_setting('riskmap.adcode', true), '')",
           "CASE WHEN a.credit_code IS NOT NULL THEN a.adcode END")
    define("riskmap_role", "text", "nullif(current_setting('riskmap.role', true), '')", "a.role")
    define("riskmap_actor", "text", "nullif(current_setting('riskmap.actor', true), '')", "a.username")
    # The owner's own work with no scope set sees everything; so does owner code (SECURITY DEFINER
    # functions and triggers) run for another role, as before FORCE ROW LEVEL SECURITY.
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_unscoped() RETURNS boolean LANGUAGE sql STABLE AS
      $$ SELECT NOT riskmap_trusts_settings() OR coalesce(current_setting('riskmap.scope', true), '') = '' $$""")


def _policies() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT tablename, policyname, qual, with_check FROM pg_policies WHERE schemaname = 'public' "
        "ORDER BY tablename, policyname")).all()
    for table, name, qual, check in rows:
        parts = [f'ALTER POLICY "{name}" ON public."{table}" TO PUBLIC']
        if qual is not None:
            parts.append(f"USING ({_wrap(qual)})")
        if check is not None:
            parts.append(f"WITH CHECK ({_wrap(check)})")
        op.execute(" ".join(parts))
    tables = [t for (t,) in conn.execute(sa.text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity ORDER BY c.relname")).all()]
    for table in tables:
        op.execute(f'CREATE POLICY owner_unscoped ON public."{table}" TO CURRENT_USER '
                   "USING ((SELECT riskmap_unscoped())) WITH CHECK ((SELECT riskmap_unscoped()))")
        op.execute(f'ALTER TABLE public."{table}" FORCE ROW LEVEL SECURITY')


def _sign_in_functions() -> None:
    op.execute("""
    CREATE FUNCTION riskmap_sign_in(p_username text, p_password text, p_address text, p_via text,
                                    p_idle_minutes integer DEFAULT 30, p_session_minutes integer DEFAULT 480)
      RETURNS TABLE (outcome text, token text, failures integer, user_id integer, username text,
                     display_name text, role text, adcode text, credit_code text, must_change_password boolean)
      LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
      cfg security_settings;
      u users;
      matches boolean;
      legacy boolean;
      last_ok timestamptz;
      last_fail timestamptz;
      n_account integer := 0;
      n_address integer := 0;
      locked boolean := false;
      tok text;
      result text;
    BEGIN
      IF p_via NOT IN ('web', 'cli', 'test') THEN
        RAISE EXCEPTION 'sign-in via % is not known', p_via USING ERRCODE = 'invalid_parameter_value';
      END IF;
      SELECT * INTO cfg FROM security_settings;
      SELECT * INTO u FROM users WHERE users.username = p_username;
      -- one crypt() whatever the name: unknown names cost what known ones do. A hash that is not bcrypt
      -- (Argon2, made before this revision) never matches: such accounts are reset with the command line.
      legacy := u.id IS NOT NULL AND u.password_hash NOT LIKE '$2_$%';
      matches := coalesce(crypt(coalesce(p_password, ''), CASE WHEN u.id IS NULL OR legacy THEN cfg.dummy_hash
                                                               ELSE u.password_hash END)
                          = u.password_hash AND NOT legacy, false);
      -- the account: failures since its last success, the latest failure's run within the window
      SELECT max(a.at) INTO last_ok FROM sign_in_attempts a WHERE a.username = p_username AND a.ok;
      SELECT max(a.at) INTO last_fail FROM sign_in_attempts a
       WHERE a.username = p_username AND a.outcome = 'failed' AND a.at > coalesce(last_ok, '-infinity')
         AND a.at > now() - cfg.failure_window - cfg.lockout;
      IF last_fail IS NOT NULL THEN
        SELECT count(*) INTO n_account FROM sign_in_attempts a
         WHERE a.username = p_username AND a.outcome = 'failed' AND a.at > coalesce(last_ok, '-infinity')
           AND a.at > last_fail - cfg.failure_window AND a.at <= last_fail;
        locked := n_account >= cfg.account_failures AND last_fail + cfg.lockout > now();
      END IF;
      IF p_address IS NOT NULL AND NOT locked THEN
        SELECT max(a.at) INTO last_fail FROM sign_in_attempts a
         WHERE a.address = p_address AND a.outcome = 'failed' AND a.at > now() - cfg.failure_window - cfg.lockout;
        IF last_fail IS NOT NULL THEN
          SELECT count(*) INTO n_address FROM sign_in_attempts a
           WHERE a.address = p_address AND a.outcome = 'failed'
             AND a.at > last_fail - cfg.failure_window AND a.at <= last_fail;
          locked := n_address >= cfg.address_failures AND last_fail + cfg.lockout > now();
        END IF;
      END IF;
      IF locked THEN
        result := 'locked';
      ELSIF NOT matches THEN
        result := 'failed';
        n_account := n_account + 1;
      ELSIF NOT u.active THEN
        result := 'disabled';
      ELSE
        result := 'ok';
      END IF;
      INSERT INTO sign_in_attempts (username, address, ok, outcome)
      VALUES (left(p_username, 200), p_address, result = 'ok', result);
      IF result = 'ok' THEN
        tok := encode(gen_random_bytes(32), 'hex');
        INSERT INTO user_sessions (token_hash, user_id, idle_timeout, expires_at, address, via)
        VALUES (sha256(convert_to(tok, 'UTF8')), u.id,
                make_interval(mins => least(greatest(coalesce(p_idle_minutes, 30), 1), 720)),
                now() + make_interval(mins => least(greatest(coalesce(p_session_minutes, 480), 1), 1440)),
                p_address, p_via);
        UPDATE users SET last_login_at = now() WHERE users.id = u.id;
        INSERT INTO audit_log (actor, action, adcode, details)
        VALUES (u.username, 'login', u.adcode, jsonb_build_object('address', p_address, 'via', p_via));
        RETURN QUERY SELECT result, tok, 0, u.id, u.username::text, u.display_name, u.role::text, u.adcode::text,
                            u.credit_code::text, u.must_change_password;
      ELSE
        INSERT INTO audit_log (actor, action, details)
        VALUES (left(p_username, 80), CASE WHEN result = 'locked' THEN 'login_locked' ELSE 'login_failed' END,
                jsonb_build_object('address', p_address, 'via', p_via));
        RETURN QUERY SELECT result, NULL::text, n_account, NULL::integer, NULL::text, NULL::text, NULL::text,
                            NULL::text, NULL::text, NULL::boolean;
      END IF;
    END $$""")

    op.execute("""
    CREATE FUNCTION riskmap_session_user(p_token text)
      RETURNS TABLE (user_id integer, username text, display_name text, role text, adcode text,
                     credit_code text, must_change_password boolean, session_id bigint, via text)
      LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
      s user_sessions;
      u users;
    BEGIN
      SELECT * INTO s FROM user_sessions
       WHERE token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8'))
         AND ended_at IS NULL AND expires_at > now() AND last_seen_at + idle_timeout > now();
      IF NOT FOUND THEN
        RETURN;
      END IF;
      SELECT * INTO u FROM users WHERE users.id = s.user_id
         AND active AND (password_changed_at IS NULL OR password_changed_at <= s.created_at);
      IF NOT FOUND THEN
        RETURN;
      END IF;
      IF s.last_seen_at < now() - interval '30 seconds' THEN  -- not a write per request
        UPDATE user_sessions SET last_seen_at = now() WHERE id = s.id;
      END IF;
      RETURN QUERY SELECT u.id, u.username::text, u.display_name, u.role::text, u.adcode::text,
                          u.credit_code::text, u.must_change_password, s.id, s.via;
    END $$""")

    op.execute("""
    CREATE FUNCTION riskmap_sign_out(p_token text) RETURNS boolean
      LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
      s user_sessions;
      u users;
    BEGIN
      UPDATE user_sessions SET ended_at = now(), ended_reason = 'sign_out'
       WHERE token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8')) AND ended_at IS NULL
      RETURNING * INTO s;
      IF NOT FOUND THEN
        RETURN false;
      END IF;
      SELECT * INTO u FROM users WHERE id = s.user_id;
      INSERT INTO audit_log (actor, action, adcode, details)
      VALUES (u.username, 'logout', u.adcode, jsonb_build_object('address', s.address, 'via', s.via));
      RETURN true;
    END $$""")

    op.execute("""
    CREATE FUNCTION riskmap_issue_session(p_username text, p_via text, p_minutes integer DEFAULT 480)
      RETURNS text LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
      u users;
      tok text := encode(gen_random_bytes(32), 'hex');
    BEGIN
      SELECT * INTO u FROM users WHERE username = p_username AND active;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'no active user %', p_username USING ERRCODE = 'no_data_found';
      END IF;
      INSERT INTO user_sessions (token_hash, user_id, idle_timeout, expires_at, via)
      VALUES (sha256(convert_to(tok, 'UTF8')), u.id, make_interval(mins => p_minutes),
              now() + make_interval(mins => p_minutes), p_via);
      RETURN tok;
    END $$""")

    # Narrow city-wide lookups for the importer's cross-district checks: key -> district, of the keys asked.
    op.execute("""
    CREATE FUNCTION riskmap_enterprise_districts(p_codes text[])
      RETURNS TABLE (credit_code text, adcode text)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      SELECT e.credit_code::text, e.adcode::text FROM enterprises e
       WHERE e.credit_code = ANY(p_codes) ORDER BY e.id $$""")
    op.execute("""
    CREATE FUNCTION riskmap_pipeline_districts(p_keys text[])
      RETURNS TABLE (key text, adcodes text[])
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      SELECT p.key::text, p.adcodes::text[] FROM pipelines p WHERE p.key = ANY(p_keys) $$""")


def _privileges() -> None:
    for table in ("security_settings", "user_sessions", "sign_in_attempts"):
        op.execute(f"REVOKE ALL ON {table} FROM PUBLIC, {APP_ROLE}")
    op.execute(f"REVOKE ALL ON SEQUENCE user_sessions_id_seq, sign_in_attempts_id_seq FROM PUBLIC, {APP_ROLE}")
    # The app reads users without the password hash and writes nothing of them.
    cols = [c for (c,) in op.get_bind().execute(sa.text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = 'users' AND column_name <> 'password_hash' ORDER BY ordinal_position")).all()]
    op.execute(f"REVOKE ALL ON users FROM {APP_ROLE}")
    op.execute(f"GRANT SELECT ({', '.join(cols)}) ON users TO {APP_ROLE}")
    for fn in ("riskmap_sign_in(text, text, text, text, integer, integer)", "riskmap_session_user(text)",
               "riskmap_sign_out(text)", "riskmap_enterprise_districts(text[])",
               "riskmap_pipeline_districts(text[])"):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {APP_ROLE}")
    op.execute("REVOKE ALL ON FUNCTION riskmap_issue_session(text, text, integer) FROM PUBLIC")


def downgrade() -> None:
    conn = op.get_bind()
    tables = [t for (t,) in conn.execute(sa.text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relforcerowsecurity")).all()]
    for table in tables:
        op.execute(f'DROP POLICY IF EXISTS owner_unscoped ON public."{table}"')
        op.execute(f'ALTER TABLE public."{table}" NO FORCE ROW LEVEL SECURITY')
    rows = conn.execute(sa.text(
        "SELECT tablename, policyname, qual, with_check FROM pg_policies WHERE schemaname = 'public'")).all()
    for table, name, qual, check in rows:
        parts = [f'ALTER POLICY "{name}" ON public."{table}" TO {APP_ROLE}']
        for word, expr in (("USING", qual), ("WITH CHECK", check)):
            if expr is not None:
                expr = expr.replace("(SELECT riskmap_scope_adcode())",
                                    "NULLIF(current_setting('riskmap.adcode'::text, true), ''::text)")
                expr = re.sub(r"\(SELECT (riskmap_\w+)\(\) AS \1\)", r"\1()", expr)
                expr = re.sub(r"\(SELECT (riskmap_\w+)\(\)\)", r"\1()", expr)
                parts.append(f"{word} ({expr})")
        op.execute(" ".join(parts))
    for fn in ("riskmap_sign_in(text, text, text, text, integer, integer)", "riskmap_session_user(text)",
               "riskmap_sign_out(text)", "riskmap_issue_session(text, text, integer)",
               "riskmap_enterprise_districts(text[])", "riskmap_pipeline_districts(text[])"):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_scope_all() RETURNS boolean LANGUAGE sql STABLE AS
      $$ SELECT coalesce(current_setting('riskmap.scope', true), '') = 'all' $$""")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_credit_code() RETURNS text LANGUAGE sql STABLE AS
      $$ SELECT nullif(current_setting('riskmap.credit_code', true), '') $$""")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_adcode() RETURNS text LANGUAGE sql STABLE AS
      $$ SELECT CASE WHEN nullif(current_setting('riskmap.credit_code', true), '') IS NULL
                     THEN nullif(current_setting('riskmap.adcode', true), '') END $$""")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_role() RETURNS text LANGUAGE sql STABLE AS
      $$ SELECT nullif(current_setting('riskmap.role', true), '') $$""")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_actor() RETURNS text LANGUAGE sql STABLE AS
      $$ SELECT nullif(current_setting('riskmap.actor', true), '') $$""")
    for fn in ("riskmap_unscoped()", "riskmap_scope_adcode()", "riskmap_session_account()",
               "riskmap_trusts_settings()"):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute("DROP TRIGGER IF EXISTS users_end_sessions ON users")
    op.execute("DROP FUNCTION IF EXISTS riskmap_users_changed()")
    op.execute("DROP TABLE IF EXISTS sign_in_attempts, user_sessions, security_settings")
    op.execute("ALTER TABLE users DROP COLUMN IF EXISTS password_changed_at")
    op.execute(f"GRANT SELECT ON users TO {APP_ROLE}")
    op.execute(f"GRANT UPDATE (last_login_at) ON users TO {APP_ROLE}")
