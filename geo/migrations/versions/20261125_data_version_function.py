"""riskmap_data_version(): the data version seen the same by every session

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:00:00.000000
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"


def upgrade() -> None:
    # Cached views are keyed on the newest data-changing audit entry. Read under row-level security a
    # district session would not see city-wide entries (adcode NULL: city check runs, rule changes,
    # pipeline imports) and would keep stale views; this function reads the whole log as its owner and
    # returns only the id.
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_data_version(read_only text[]) RETURNS bigint
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT coalesce((SELECT id FROM audit_log WHERE NOT (action = ANY(read_only))
                         ORDER BY id DESC LIMIT 1), 0)
      $$""")
    op.execute("REVOKE ALL ON FUNCTION riskmap_data_version(text[]) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION riskmap_data_version(text[]) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS riskmap_data_version(text[])")
