"""record history: every version of the risk data, kept by the database with its validity time

Each tracked table gets three statement-level triggers (insert, update, delete) that write the rows a
statement touched into ``row_versions``: the row as JSON (``data``), its geometry exactly as stored
(``geom``), the time it became valid (``valid_from``) and the time a later change or a deletion ended it
(``valid_to``, NULL while current), and who changed it (the session's ``riskmap.actor``, else the
database user). So imports, workflow steps, check runs and edits by hand all keep the old version, and
any view can be asked "as of date D" by reading the version valid at D.

An update that changes only bookkeeping columns (``updated_at``, a finding's ``last_found_at``/``run_id``)
writes no new version. The application role may read versions of its own scope and never write them:
the trigger function runs as the owner. Only an owner session (tests, demo generation, a back-fill) may
date a change with ``riskmap.valid_from``; an application session always gets the transaction time.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 06:30:00.000000
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry, alembic_helpers  # noqa: F401  (registers create_geospatial_index)
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"

#: Tracked tables: the column that identifies a row across versions, then bookkeeping columns whose
#: change alone is not a new version.
TRACKED: dict[str, tuple[str, ...]] = {
    "enterprises": ("key", "updated_at", "batch_id"),
    "installations": ("key", "updated_at", "batch_id"),
    "risk_points": ("key", "updated_at", "batch_id"),
    "risk_contours": ("key", "updated_at", "batch_id"),
    "protection_targets": ("key", "updated_at", "batch_id"),
    "pipelines": ("key", "updated_at", "batch_id"),
    "hcas": ("key", "updated_at", "batch_id"),
    "tailings_dams": ("key", "updated_at", "batch_id"),
    "infrastructure": ("key", "updated_at", "batch_id"),
    "hidden_hazards": ("key", "updated_at", "batch_id"),
    "check_findings": ("id", "updated_at", "last_found_at", "run_id"),
    "districts": ("adcode", "updated_at"),
}

_COLUMNS = "table_name, row_key, adcode, adcodes, credit_code, valid_from, data, geom, changed_by, change"
_VALUES = """TG_TABLE_NAME, j ->> key_col, j ->> 'adcode',
               CASE WHEN j ? 'adcodes' THEN ARRAY(SELECT jsonb_array_elements_text(j -> 'adcodes')) END,
               j ->> 'credit_code', at, j - 'geom', g, who"""
# rows of an UPDATE statement whose content changed (bookkeeping columns aside), as (j, g)
_CHANGED = """SELECT n.j, n.g
        FROM (SELECT to_jsonb(o) - ignored - 'geom' AS j, ST_AsEWKB(o.geom) AS b FROM old_rows o) od
        JOIN (SELECT to_jsonb(r) - 'geom' AS j, r.geom AS g FROM new_rows r) n ON n.j ->> key_col = od.j ->> key_col
        WHERE n.j - ignored IS DISTINCT FROM od.j OR ST_AsEWKB(n.g) IS DISTINCT FROM od.b"""

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION riskmap_keep_versions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    key_col text := TG_ARGV[0];
    ignored text[] := TG_ARGV[1:];
    at timestamptz := now();
    who text := coalesce(nullif(current_setting('riskmap.actor', true), ''), session_user);
BEGIN
    IF session_user <> 'riskmap_app' AND nullif(current_setting('riskmap.valid_from', true), '') IS NOT NULL THEN
        at := current_setting('riskmap.valid_from')::timestamptz;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO row_versions ({_COLUMNS})
        SELECT {_VALUES}, 'insert' FROM (SELECT to_jsonb(n) AS j, n.geom AS g FROM new_rows n) s;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE row_versions v SET valid_to = at
        FROM ({_CHANGED}) c
        WHERE v.table_name = TG_TABLE_NAME AND v.valid_to IS NULL AND v.row_key = c.j ->> key_col;
        INSERT INTO row_versions ({_COLUMNS})
        SELECT {_VALUES}, 'update' FROM ({_CHANGED}) s;
    ELSE
        UPDATE row_versions v SET valid_to = at
        FROM (SELECT to_jsonb(o) ->> key_col AS k FROM old_rows o) d
        WHERE v.table_name = TG_TABLE_NAME AND v.valid_to IS NULL AND v.row_key = d.k;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        'row_versions',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('table_name', sa.String(length=40), nullable=False),
        sa.Column('row_key', sa.Text(), nullable=False),
        sa.Column('adcode', sa.String(length=6), nullable=True),
        sa.Column('adcodes', postgresql.ARRAY(sa.String(length=6)), nullable=True),
        sa.Column('credit_code', sa.String(length=18), nullable=True),
        sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
        sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
        sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('geom', Geometry(srid=4490, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'),
                  nullable=True),
        sa.Column('changed_by', sa.Text(), nullable=False),
        sa.Column('change', sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_row_versions')),
        sa.CheckConstraint("change IN ('insert', 'update')", name=op.f('ck_row_versions_change_kind')),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name=op.f('ck_row_versions_valid_span')),
    )
    op.create_geospatial_index('idx_row_versions_geom', 'row_versions', ['geom'], unique=False,
                               postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_row_versions_lookup', 'row_versions', ['table_name', 'row_key', 'valid_from'])
    op.create_index('ix_row_versions_current', 'row_versions', ['table_name', 'row_key'],
                    postgresql_where=sa.text('valid_to IS NULL'), unique=True)
    op.execute(_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION riskmap_keep_versions() FROM PUBLIC")
    for table, (key, *ignored) in TRACKED.items():
        args = ", ".join(f"'{c}'" for c in (key, *ignored))
        op.execute(f"CREATE TRIGGER {table}_versions_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS "
                   f"new_rows FOR EACH STATEMENT EXECUTE FUNCTION riskmap_keep_versions({args})")
        op.execute(f"CREATE TRIGGER {table}_versions_update AFTER UPDATE ON {table} REFERENCING OLD TABLE AS "
                   f"old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION riskmap_keep_versions({args})")
        op.execute(f"CREATE TRIGGER {table}_versions_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS "
                   f"old_rows FOR EACH STATEMENT EXECUTE FUNCTION riskmap_keep_versions({args})")
        # what is there today becomes its first version, valid from when it was last written
        op.execute(f"""
            INSERT INTO row_versions ({_COLUMNS})
            SELECT '{table}', j ->> '{key}', j ->> 'adcode',
                   CASE WHEN j ? 'adcodes' THEN ARRAY(SELECT jsonb_array_elements_text(j -> 'adcodes')) END,
                   j ->> 'credit_code', coalesce((j ->> 'updated_at')::timestamptz, now()), j - 'geom', g,
                   'migration', 'insert'
            FROM (SELECT to_jsonb(r) AS j, r.geom AS g FROM {table} r) t""")
    _row_level_security()


def _row_level_security() -> None:
    """A session reads the versions of the rows it may read today; nobody but the owner writes them."""
    op.execute(f"GRANT SELECT ON row_versions TO {APP_ROLE}")
    op.execute("ALTER TABLE row_versions ENABLE ROW LEVEL SECURITY")
    op.execute(f"""
        CREATE POLICY version_read ON row_versions FOR SELECT TO {APP_ROLE} USING (
            riskmap_scope_all()
            OR (riskmap_adcode() IS NOT NULL AND (adcode = riskmap_adcode() OR riskmap_adcode() = ANY(adcodes)))
            OR (riskmap_credit_code() IS NOT NULL AND credit_code = riskmap_credit_code()))""")


def downgrade() -> None:
    for table in TRACKED:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_versions_{event} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS riskmap_keep_versions()")
    op.execute("DROP POLICY IF EXISTS version_read ON row_versions")
    op.drop_table('row_versions')
