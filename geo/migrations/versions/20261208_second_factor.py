"""second factor (TOTP) and one lockout rule (#15)

- ``user_second_factors`` (owner only): the account's TOTP secret (RFC 6238: base32, HMAC-SHA1, 30 s
  steps, 6 digits) and the last accepted time step (a code is accepted once: replay protection).
  The application role cannot read it; codes are checked in SQL (pgcrypto ``hmac``, RFC 4226 dynamic
  truncation, a window of one step either side) by SECURITY DEFINER functions.
- ``security_settings.second_factor_roles``: roles that must have a second factor (default empty: it is
  optional for every account). An account of such a role without one is sent to enrolment after its
  password; an account with one always gives a code.
- ``user_sessions.pending``: a session opened by a right password of an account with a second factor is
  ``second_factor`` (or ``enrol`` when its role requires one it has not set) until a right code: it
  scopes nothing and ``riskmap_session_user`` does not return it. The code upgrades it under a new token.
- One lockout rule, ``riskmap_account_locked(username, address)``, used by ``riskmap_sign_in``,
  ``riskmap_change_password`` and ``riskmap_verify_second_factor`` (0015 and 0018 each computed their own).
  A right password of an account with a second factor is recorded as ``password_ok`` (not a success): the
  failure count runs on until the code, so wrong codes lock the account like wrong passwords.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"
_DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
_LIVE = "s.ended_at IS NULL AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()"
#: Functions the application role may call (new or replaced here), with their argument types.
_APP_FUNCTIONS = ("riskmap_sign_in(text, text, text, text, integer, integer)",
                  "riskmap_session_state(text)",
                  "riskmap_verify_second_factor(text, text, text)",
                  "riskmap_enrol_second_factor(text, text, text, text)")
#: Owner-only helpers.
_OWNER_FUNCTIONS = ("riskmap_base32_decode(text)", "riskmap_hotp(bytea, bigint)",
                    "riskmap_totp_step(text, text, bigint, timestamptz)", "riskmap_account_locked(text, text)")


def upgrade() -> None:
    _tables()
    _totp_functions()
    _lockout_function()
    _sign_in()
    _sessions()
    _second_factor_functions()
    _change_password()
    for fn in _OWNER_FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    for fn in _APP_FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {APP_ROLE}")


def _tables() -> None:
    op.execute("""
    CREATE TABLE user_second_factors (
      user_id integer PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      secret text NOT NULL,
      last_step bigint NOT NULL,
      enrolled_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"REVOKE ALL ON user_second_factors FROM PUBLIC, {APP_ROLE}")
    op.execute("ALTER TABLE security_settings ADD COLUMN second_factor_roles text[] NOT NULL DEFAULT '{}'")
    op.execute("""
    ALTER TABLE user_sessions ADD COLUMN pending text CHECK (pending IN ('second_factor', 'enrol'))""")


def _totp_functions() -> None:
    # RFC 4648 base32 (the form authenticator apps and pyotp use); spaces and '=' padding ignored.
    op.execute(f"""
    CREATE FUNCTION riskmap_base32_decode(p text) RETURNS bytea
      LANGUAGE plpgsql IMMUTABLE STRICT {_DEFINER} AS $$
    DECLARE
      alphabet constant text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
      s text := upper(replace(rtrim(p, '='), ' ', ''));
      bits bigint := 0;
      nbits integer := 0;
      v integer;
      result bytea := ''::bytea;
    BEGIN
      FOR i IN 1..length(s) LOOP
        v := strpos(alphabet, substr(s, i, 1)) - 1;
        IF v < 0 THEN
          RAISE EXCEPTION 'not base32' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        bits := (bits << 5) | v;
        nbits := nbits + 5;
        IF nbits >= 8 THEN
          result := result || set_byte('\\x00'::bytea, 0, ((bits >> (nbits - 8)) & 255)::integer);
          nbits := nbits - 8;
          bits := bits & ((1::bigint << nbits) - 1);
        END IF;
      END LOOP;
      RETURN result;
    END $$""")
    # RFC 4226 HOTP: HMAC-SHA1 of the 8-byte big-endian counter, dynamic truncation, 6 digits.
    op.execute(f"""
    CREATE FUNCTION riskmap_hotp(p_key bytea, p_counter bigint) RETURNS text
      LANGUAGE plpgsql IMMUTABLE STRICT {_DEFINER} AS $$
    DECLARE
      h bytea := hmac(int8send(p_counter), p_key, 'sha1');
      o integer := get_byte(h, 19) & 15;
    BEGIN
      -- PostgreSQL gives << | & one precedence, left to right: every term is bracketed
      RETURN lpad(((((get_byte(h, o) & 127)::bigint << 24) | (get_byte(h, o + 1)::bigint << 16)
                    | (get_byte(h, o + 2)::bigint << 8) | get_byte(h, o + 3)::bigint) % 1000000)::text, 6, '0');
    END $$""")
    # The time step (RFC 6238, 30 s from the Unix epoch) at which ``p_code`` is right for ``p_secret``
    # within one step of ``p_at`` and after ``p_after``; NULL when none.
    op.execute(f"""
    CREATE FUNCTION riskmap_totp_step(p_secret text, p_code text, p_after bigint, p_at timestamptz)
      RETURNS bigint LANGUAGE plpgsql STABLE {_DEFINER} AS $$
    DECLARE
      key bytea;
      now_step bigint := floor(extract(epoch FROM p_at) / 30)::bigint;
    BEGIN
      IF p_secret IS NULL OR coalesce(p_code, '') !~ '^[0-9]{{6}}$' THEN
        RETURN NULL;
      END IF;
      key := riskmap_base32_decode(p_secret);
      FOR d IN -1..1 LOOP
        IF now_step + d > coalesce(p_after, -1) AND riskmap_hotp(key, now_step + d) = p_code THEN
          RETURN now_step + d;
        END IF;
      END LOOP;
      RETURN NULL;
    END $$""")


def _lockout_function() -> None:
    # One rule: an account is locked while its failures since its last success, counted over the window
    # ending at its latest failure, reach account_failures and that failure is younger than the lockout;
    # an address likewise with address_failures (whatever the names tried).
    op.execute(f"""
    CREATE FUNCTION riskmap_account_locked(p_username text, p_address text, OUT locked boolean,
                                           OUT failures integer)
      LANGUAGE plpgsql STABLE {_DEFINER} AS $$
    DECLARE
      cfg security_settings;
      last_ok timestamptz;
      last_fail timestamptz;
      n_address integer;
    BEGIN
      locked := false;
      failures := 0;
      SELECT * INTO cfg FROM security_settings;
      SELECT max(a.at) INTO last_ok FROM sign_in_attempts a WHERE a.username = p_username AND a.ok;
      SELECT max(a.at) INTO last_fail FROM sign_in_attempts a
       WHERE a.username = p_username AND a.outcome = 'failed' AND a.at > coalesce(last_ok, '-infinity')
         AND a.at > now() - cfg.failure_window - cfg.lockout;
      IF last_fail IS NOT NULL THEN
        SELECT count(*) INTO failures FROM sign_in_attempts a
         WHERE a.username = p_username AND a.outcome = 'failed' AND a.at > coalesce(last_ok, '-infinity')
           AND a.at > last_fail - cfg.failure_window AND a.at <= last_fail;
        locked := failures >= cfg.account_failures AND last_fail + cfg.lockout > now();
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
    END $$""")


def _sign_in() -> None:
    # the result gains ``second_factor`` (NULL, 'second_factor' or 'enrol'): a new return type, so drop first
    op.execute("DROP FUNCTION riskmap_sign_in(text, text, text, text, integer, integer)")
    op.execute(f"""
    CREATE FUNCTION riskmap_sign_in(p_username text, p_password text, p_address text, p_via text,
                                    p_idle_minutes integer DEFAULT 30, p_session_minutes integer DEFAULT 480)
      RETURNS TABLE (outcome text, token text, failures integer, user_id integer, username text,
                     display_name text, role text, adcode text, credit_code text, must_change_password boolean,
                     second_factor text)
      LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
    DECLARE
      cfg security_settings;
      u users;
      matches boolean;
      legacy boolean;
      lk record;
      pending text;
      tok text;
      result text;
    BEGIN
      IF p_via NOT IN ('web', 'cli', 'test') THEN
        RAISE EXCEPTION 'sign-in via % is not known', p_via USING ERRCODE = 'invalid_parameter_value';
      END IF;
      SELECT * INTO cfg FROM security_settings;
      SELECT * INTO u FROM users WHERE users.username = p_username;
      -- one crypt() whatever the name: unknown names cost what known ones do (0015)
      legacy := u.id IS NOT NULL AND u.password_hash NOT LIKE '$2_$%';
      matches := coalesce(crypt(coalesce(p_password, ''), CASE WHEN u.id IS NULL OR legacy THEN cfg.dummy_hash
                                                               ELSE u.password_hash END)
                          = u.password_hash AND NOT legacy, false);
      SELECT * INTO lk FROM riskmap_account_locked(p_username, p_address);
      IF lk.locked THEN
        result := 'locked';
      ELSIF NOT matches THEN
        result := 'failed';
      ELSIF NOT u.active THEN
        result := 'disabled';
      ELSE
        result := 'ok';
        pending := CASE WHEN EXISTS (SELECT 1 FROM user_second_factors f WHERE f.user_id = u.id)
                        THEN 'second_factor'
                        WHEN u.role::text = ANY(cfg.second_factor_roles) THEN 'enrol' END;
      END IF;
      -- a right password that still owes a code is no success: the failure count runs on until the code
      INSERT INTO sign_in_attempts (username, address, ok, outcome)
      VALUES (left(p_username, 200), p_address, result = 'ok' AND pending IS NULL,
              CASE WHEN pending IS NOT NULL THEN 'password_ok' ELSE result END);
      IF result = 'ok' THEN
        tok := encode(gen_random_bytes(32), 'hex');
        INSERT INTO user_sessions (token_hash, user_id, idle_timeout, expires_at, address, via, pending)
        VALUES (sha256(convert_to(tok, 'UTF8')), u.id,
                make_interval(mins => least(greatest(coalesce(p_idle_minutes, 30), 1), 720)),
                now() + make_interval(mins => least(greatest(coalesce(p_session_minutes, 480), 1), 1440)),
                p_address, p_via, pending);
        IF pending IS NULL THEN
          UPDATE users SET last_login_at = now() WHERE users.id = u.id;
        END IF;
        INSERT INTO audit_log (actor, action, adcode, details)
        VALUES (u.username, CASE WHEN pending IS NULL THEN 'login' ELSE 'login_password_ok' END, u.adcode,
                jsonb_build_object('address', p_address, 'via', p_via, 'second_factor', pending));
        RETURN QUERY SELECT result, tok, 0, u.id, u.username::text, u.display_name, u.role::text, u.adcode::text,
                            u.credit_code::text, u.must_change_password, pending;
      ELSE
        INSERT INTO audit_log (actor, action, details)
        VALUES (left(p_username, 80), CASE WHEN result = 'locked' THEN 'login_locked' ELSE 'login_failed' END,
                jsonb_build_object('address', p_address, 'via', p_via));
        RETURN QUERY SELECT result, NULL::text, lk.failures + CASE WHEN result = 'failed' THEN 1 ELSE 0 END,
                            NULL::integer, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
                            NULL::boolean, NULL::text;
      END IF;
    END $$""")


def _sessions() -> None:
    # a pending session is no session: no user, no scope
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_session_user(p_token text)
      RETURNS TABLE (user_id integer, username text, display_name text, role text, adcode text,
                     credit_code text, must_change_password boolean, session_id bigint, via text)
      LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
      s user_sessions;
      u users;
    BEGIN
      SELECT * INTO s FROM user_sessions
       WHERE token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8')) AND pending IS NULL
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
    CREATE OR REPLACE FUNCTION riskmap_session_account(
        OUT username text, OUT role text, OUT adcode text, OUT credit_code text, OUT city_wide boolean)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      SELECT u.username::text, u.role::text, u.adcode::text,
             CASE WHEN u.role = 'enterprise' THEN u.credit_code::text END,
             u.role IN ('leader', 'admin', 'planner', 'viewer', 'city_supervisor')
        FROM user_sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = sha256(convert_to(nullif(current_setting('riskmap.session', true), ''), 'UTF8'))
         AND s.pending IS NULL
         AND s.ended_at IS NULL AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()
         AND u.active AND (u.password_changed_at IS NULL OR u.password_changed_at <= s.created_at) $$""")
    # what the second-factor pages need of a live session, pending or not
    op.execute(f"""
    CREATE FUNCTION riskmap_session_state(p_token text)
      RETURNS TABLE (username text, display_name text, role text, pending text, has_second_factor boolean,
                     second_factor_required boolean)
      LANGUAGE sql STABLE {_DEFINER} AS $$
      SELECT u.username::text, u.display_name, u.role::text, s.pending,
             EXISTS (SELECT 1 FROM user_second_factors f WHERE f.user_id = u.id),
             u.role::text = ANY(c.second_factor_roles)
        FROM user_sessions s JOIN users u ON u.id = s.user_id CROSS JOIN security_settings c
       WHERE s.token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8')) AND {_LIVE}
         AND u.active AND (u.password_changed_at IS NULL OR u.password_changed_at <= s.created_at) $$""")


def _second_factor_functions() -> None:
    op.execute(f"""
    CREATE FUNCTION riskmap_verify_second_factor(p_token text, p_code text, p_address text)
      RETURNS TABLE (outcome text, token text)
      LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
    DECLARE
      s user_sessions;
      u users;
      f user_second_factors;
      lk record;
      step bigint;
      tok text;
    BEGIN
      SELECT * INTO s FROM user_sessions x
       WHERE x.token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8')) AND x.pending = 'second_factor'
         AND x.ended_at IS NULL AND x.expires_at > now() AND x.last_seen_at + x.idle_timeout > now();
      IF NOT FOUND THEN
        RETURN QUERY SELECT 'no_session'::text, NULL::text;
        RETURN;
      END IF;
      SELECT * INTO u FROM users WHERE id = s.user_id AND active;
      SELECT * INTO f FROM user_second_factors WHERE user_id = s.user_id FOR UPDATE;
      IF u.id IS NULL OR f.user_id IS NULL THEN  -- disabled, or the factor was reset meanwhile
        UPDATE user_sessions SET ended_at = now(), ended_reason = 'second_factor_gone' WHERE id = s.id;
        RETURN QUERY SELECT 'no_session'::text, NULL::text;
        RETURN;
      END IF;
      SELECT * INTO lk FROM riskmap_account_locked(u.username, p_address);
      IF lk.locked THEN
        INSERT INTO sign_in_attempts (username, address, ok, outcome) VALUES (u.username, p_address, false, 'locked');
        INSERT INTO audit_log (actor, action, adcode, details)
        VALUES (u.username, 'login_locked', u.adcode,
                jsonb_build_object('address', p_address, 'via', s.via, 'second_factor', true));
        RETURN QUERY SELECT 'locked'::text, NULL::text;
        RETURN;
      END IF;
      step := riskmap_totp_step(f.secret, p_code, f.last_step, now());
      IF step IS NULL THEN
        INSERT INTO sign_in_attempts (username, address, ok, outcome) VALUES (u.username, p_address, false, 'failed');
        INSERT INTO audit_log (actor, action, adcode, details)
        VALUES (u.username, 'second_factor_failed', u.adcode,
                jsonb_build_object('address', p_address, 'via', s.via, 'replayed',
                                   riskmap_totp_step(f.secret, p_code, -1, now()) IS NOT NULL));
        RETURN QUERY SELECT 'wrong'::text, NULL::text;
        RETURN;
      END IF;
      UPDATE user_second_factors SET last_step = step WHERE user_id = u.id;
      -- the upgraded session gets a new token: the one known before the code is worth nothing after it
      tok := encode(gen_random_bytes(32), 'hex');
      UPDATE user_sessions SET pending = NULL, token_hash = sha256(convert_to(tok, 'UTF8')), last_seen_at = now()
       WHERE id = s.id;
      UPDATE users SET last_login_at = now() WHERE id = u.id;
      INSERT INTO sign_in_attempts (username, address, ok, outcome) VALUES (u.username, p_address, true, 'ok');
      INSERT INTO audit_log (actor, action, adcode, details)
      VALUES (u.username, 'login', u.adcode,
              jsonb_build_object('address', p_address, 'via', s.via, 'second_factor', true));
      RETURN QUERY SELECT 'ok'::text, tok;
    END $$""")
    # Enrolment by the account itself: a live session (or one sent to enrol by the policy) proves the new
    # secret with one right code, and only then is it stored. A secret shorter than 128 bits is refused
    # (RFC 4226 section 4 R6).
    op.execute(f"""
    CREATE FUNCTION riskmap_enrol_second_factor(p_token text, p_secret text, p_code text, p_address text)
      RETURNS TABLE (outcome text, token text)
      LANGUAGE plpgsql VOLATILE {_DEFINER} AS $$
    DECLARE
      s user_sessions;
      u users;
      step bigint;
      tok text;
    BEGIN
      SELECT * INTO s FROM user_sessions x
       WHERE x.token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8'))
         AND (x.pending IS NULL OR x.pending = 'enrol')
         AND x.ended_at IS NULL AND x.expires_at > now() AND x.last_seen_at + x.idle_timeout > now();
      IF FOUND THEN
        SELECT * INTO u FROM users WHERE id = s.user_id AND active
           AND (password_changed_at IS NULL OR password_changed_at <= s.created_at);
      END IF;
      IF u.id IS NULL THEN
        RETURN QUERY SELECT 'no_session'::text, NULL::text;
        RETURN;
      END IF;
      IF coalesce(p_secret, '') !~* '^[A-Z2-7]+=*$' OR length(riskmap_base32_decode(p_secret)) < 16 THEN
        RAISE EXCEPTION 'a second-factor secret must be base32 of at least 128 bits'
          USING ERRCODE = 'invalid_parameter_value';
      END IF;
      step := riskmap_totp_step(upper(p_secret), p_code, -1, now());
      IF step IS NULL THEN
        INSERT INTO audit_log (actor, action, target, adcode, details)
        VALUES (u.username, 'second_factor_enrol_failed', u.username, u.adcode,
                jsonb_build_object('address', p_address));
        RETURN QUERY SELECT 'wrong'::text, NULL::text;
        RETURN;
      END IF;
      INSERT INTO user_second_factors (user_id, secret, last_step) VALUES (u.id, upper(p_secret), step)
      ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = excluded.last_step,
                                          enrolled_at = now();
      IF s.pending IS NOT NULL THEN  -- password and a right code: the session becomes a full one, newly named
        tok := encode(gen_random_bytes(32), 'hex');
        UPDATE user_sessions SET pending = NULL, token_hash = sha256(convert_to(tok, 'UTF8')), last_seen_at = now()
         WHERE id = s.id;
        UPDATE users SET last_login_at = now() WHERE id = u.id;
        INSERT INTO sign_in_attempts (username, address, ok, outcome) VALUES (u.username, p_address, true, 'ok');
      END IF;
      INSERT INTO audit_log (actor, action, target, adcode, details)
      VALUES (u.username, 'second_factor_enrolled', u.username, u.adcode, jsonb_build_object('address', p_address));
      RETURN QUERY SELECT 'ok'::text, tok;
    END $$""")


def _change_password() -> None:
    # 0018's function with the one lockout rule
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_change_password(p_token text, p_current text, p_new text, p_address text)
      RETURNS text LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
      cfg security_settings;
      s record;
      u users;
    BEGIN
      SELECT * INTO cfg FROM security_settings;
      SELECT * INTO s FROM riskmap_session_user(p_token);
      IF s.user_id IS NULL THEN
        RETURN 'no_session';
      END IF;
      SELECT * INTO u FROM users WHERE id = s.user_id;
      IF (SELECT l.locked FROM riskmap_account_locked(u.username, p_address) l) THEN
        INSERT INTO audit_log (actor, action, target, adcode, details)
        VALUES (u.username, 'password_change_locked', u.username, u.adcode,
                jsonb_build_object('address', p_address));
        RETURN 'locked';
      END IF;
      IF coalesce(p_new, '') = '' THEN
        RAISE EXCEPTION 'an empty password' USING ERRCODE = 'invalid_parameter_value';
      END IF;
      IF crypt(coalesce(p_current, ''), u.password_hash) IS DISTINCT FROM u.password_hash THEN
        INSERT INTO sign_in_attempts (username, address, ok, outcome) VALUES (u.username, p_address, false, 'failed');
        INSERT INTO audit_log (actor, action, target, adcode, details)
        VALUES (u.username, 'password_change_failed', u.username, u.adcode,
                jsonb_build_object('address', p_address));
        RETURN 'wrong';
      END IF;
      UPDATE users SET password_hash = crypt(p_new, gen_salt('bf', cfg.bcrypt_cost)), must_change_password = false,
                       updated_at = now()
       WHERE id = u.id;
      INSERT INTO audit_log (actor, action, target, adcode, details)
      VALUES (u.username, 'user_password', u.username, u.adcode,
              jsonb_build_object('address', p_address, 'by', 'self'));
      RETURN 'ok';
    END $$""")


def _revision(name: str) -> ModuleType:
    """Return the migration module ``name`` of this folder (downgrade restores its definitions)."""
    spec = importlib.util.spec_from_file_location(f"riskmap_migration_{name}", Path(__file__).with_name(name))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    for fn in (*_APP_FUNCTIONS, *_OWNER_FUNCTIONS, "riskmap_session_user(text)", "riskmap_sign_out(text)",
               "riskmap_issue_session(text, text, integer)", "riskmap_enterprise_districts(text[])",
               "riskmap_pipeline_districts(text[])", "riskmap_change_password(text, text, text, text)"):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute("DELETE FROM user_sessions WHERE pending IS NOT NULL")
    op.execute("ALTER TABLE user_sessions DROP COLUMN pending")
    op.execute("ALTER TABLE security_settings DROP COLUMN second_factor_roles")
    op.execute("DROP TABLE user_second_factors")
    sessions = _revision("20261207_sessions_and_scope.py")
    sessions._sign_in_functions()
    for fn in ("riskmap_sign_in(text, text, text, text, integer, integer)", "riskmap_session_user(text)",
               "riskmap_sign_out(text)", "riskmap_enterprise_districts(text[])",
               "riskmap_pipeline_districts(text[])"):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {APP_ROLE}")
    op.execute("REVOKE ALL ON FUNCTION riskmap_issue_session(text, text, integer) FROM PUBLIC")
    _revision("20261207_password_change.py").upgrade()
    # 0015's riskmap_session_account, without the pending test
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_session_account(
        OUT username text, OUT role text, OUT adcode text, OUT credit_code text, OUT city_wide boolean)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      SELECT u.username::text, u.role::text, u.adcode::text,
             CASE WHEN u.role = 'enterprise' THEN u.credit_code::text END,
             u.role IN ('leader', 'admin', 'planner', 'viewer', 'city_supervisor')
        FROM user_sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = sha256(convert_to(nullif(current_setting('riskmap.session', true), ''), 'UTF8'))
         AND s.ended_at IS NULL AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()
         AND u.active AND (u.password_changed_at IS NULL OR u.password_changed_at <= s.created_at) $$""")
