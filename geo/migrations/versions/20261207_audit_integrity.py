"""audit integrity: an append-only audit log chained by hashes (issue #15)

- Triggers refuse UPDATE, DELETE and TRUNCATE of ``audit_log`` for every role, the owner included, and
  those privileges are revoked. (A superuser can still disable triggers: the database superuser is the
  host operator; see docs/security.md.)
- Each entry carries ``prev_hash`` and ``row_hash`` = sha256(prev_hash || canonical text of the entry).
  A BEFORE INSERT trigger (SECURITY DEFINER: the application role cannot read other districts' entries)
  takes a transaction-level advisory lock, reads the chain head from ``audit_chain_head`` (one row: the
  last entry's id and hash), gives the entry the next id (so ids follow the chain order even when
  transactions commit out of order) and moves the head. ``riskmap audit verify`` recomputes the chain
  (geo/store/audit_chain.py). Existing entries are chained here in id order.
- ``users.must_change_password``: an account created or reset by an administrator changes its password
  at its next sign-in; ``users.demo`` marks the demo's accounts (published passwords), disabled when the
  demo data is cleared or replaced.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 08:30:00.000000
"""

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"
#: Advisory-lock key of the audit chain (any constant; 'audit' in ASCII).
CHAIN_LOCK = 0x6175646974

#: Canonical text of one entry. Must match geo/store/audit_chain.py CANONICAL.
CANONICAL = ("jsonb_build_array({r}.id, to_char({r}.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
             "{r}.actor, {r}.action, {r}.target, {r}.adcode, {r}.details)::text")


def upgrade() -> None:
    op.execute("ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false")
    # demo accounts (published passwords) are marked so that they can be disabled when the demo data goes
    op.execute("ALTER TABLE users ADD COLUMN demo boolean NOT NULL DEFAULT false")
    op.execute("UPDATE users SET demo = true WHERE username IN (SELECT target FROM audit_log "
               "WHERE action = 'user_add' AND actor = 'demo')")
    op.execute("ALTER TABLE audit_log ADD COLUMN prev_hash bytea, ADD COLUMN row_hash bytea")
    op.execute("""
    CREATE TABLE audit_chain_head (
      one boolean PRIMARY KEY DEFAULT true CHECK (one),
      last_id bigint,
      last_hash bytea
    )""")
    op.execute(f"REVOKE ALL ON audit_chain_head FROM PUBLIC, {APP_ROLE}")
    op.execute(f"""
    CREATE FUNCTION audit_row_hash(prev bytea, r audit_log) RETURNS bytea
      LANGUAGE sql STABLE AS
      $$ SELECT sha256(coalesce(prev, ''::bytea) || convert_to({CANONICAL.format(r='r')}, 'UTF8')) $$""")
    # existing entries, chained in id order
    op.execute("""
    DO $$
    DECLARE
      r audit_log;
      prev bytea := NULL;
      last bigint := NULL;
    BEGIN
      FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        UPDATE audit_log SET prev_hash = prev, row_hash = audit_row_hash(prev, r) WHERE id = r.id
          RETURNING row_hash INTO prev;
        last := r.id;
      END LOOP;
      INSERT INTO audit_chain_head (one, last_id, last_hash) VALUES (true, last, prev);
    END $$""")
    op.execute(f"""
    CREATE FUNCTION audit_chain_append() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
      head audit_chain_head;
    BEGIN
      PERFORM pg_advisory_xact_lock({CHAIN_LOCK});
      SELECT * INTO head FROM audit_chain_head FOR UPDATE;
      NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
      NEW.details := coalesce(NEW.details, '{{}}'::jsonb);
      NEW.prev_hash := head.last_hash;
      NEW.row_hash := audit_row_hash(head.last_hash, NEW);
      UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.row_hash;
      RETURN NEW;
    END $$""")
    op.execute("REVOKE ALL ON FUNCTION audit_chain_append() FROM PUBLIC")
    op.execute("""
    CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_chain_append()""")
    op.execute("""
    CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'audit_chain_head' AND TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        RETURN NEW;  -- moved by audit_chain_append() only
      END IF;
      RAISE EXCEPTION '审计日志只能追加，不能修改或删除 / the audit log is append-only: % on % is refused',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END $$""")
    for table in ("audit_log", "audit_chain_head"):
        op.execute(f"""
        CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
          FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""")
        op.execute(f"""
        CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
          FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""")
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC, {APP_ROLE}, CURRENT_USER")


def downgrade() -> None:
    for table in ("audit_log", "audit_chain_head"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {table} TO CURRENT_USER")
    op.execute("DROP TRIGGER IF EXISTS audit_log_chain ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
    op.execute("DROP FUNCTION IF EXISTS audit_chain_append()")
    op.execute("DROP FUNCTION IF EXISTS audit_row_hash(bytea, audit_log)")
    op.execute("DROP TABLE IF EXISTS audit_chain_head")
    op.execute("ALTER TABLE audit_log DROP COLUMN IF EXISTS prev_hash, DROP COLUMN IF EXISTS row_hash")
    op.execute("ALTER TABLE users DROP COLUMN IF EXISTS must_change_password, DROP COLUMN IF EXISTS demo")
