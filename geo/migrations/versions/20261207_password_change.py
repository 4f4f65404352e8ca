"""password change: a signed-in account changes its own password, through the database (#15)

The application role cannot read password hashes (0015), so an account changing its own password proves its
current one to a SECURITY DEFINER function that takes the live session's token: the token names the
account (the app cannot change anyone else's password), the current password is checked with crypt(), a
wrong one counts as a failed sign-in (the same throttling and lockout) and is audited, and a right one sets
the new bcrypt hash, clears must_change_password and — through the users trigger of 0015 — ends every
session of the account, this one included. The password policy is checked by the caller
(identity/password_policy.py) before the call.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 09:50:00.000000
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"


def upgrade() -> None:
    op.execute("""
    CREATE FUNCTION riskmap_change_password(p_token text, p_current text, p_new text, p_address text)
      RETURNS text LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
      cfg security_settings;
      s record;
      u users;
      last_ok timestamptz;
      n_failed integer;
    BEGIN
      SELECT * INTO cfg FROM security_settings;
      SELECT * INTO s FROM riskmap_session_user(p_token);
      IF s.user_id IS NULL THEN
        RETURN 'no_session';
      END IF;
      SELECT * INTO u FROM users WHERE id = s.user_id;
      SELECT max(a.at) INTO last_ok FROM sign_in_attempts a WHERE a.username = u.username AND a.ok;
      SELECT count(*) INTO n_failed FROM sign_in_attempts a
       WHERE a.username = u.username AND a.outcome = 'failed' AND a.at > coalesce(last_ok, '-infinity')
         AND a.at > now() - cfg.failure_window;
      IF n_failed >= cfg.account_failures THEN
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
      VALUES (u.username, 'user_password', u.username, u.adcode, jsonb_build_object('address', p_address, 'by', 'self'));
      RETURN 'ok';
    END $$""")
    op.execute("REVOKE ALL ON FUNCTION riskmap_change_password(text, text, text, text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION riskmap_change_password(text, text, text, text) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS riskmap_change_password(text, text, text, text)")
