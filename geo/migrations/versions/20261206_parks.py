"""parks: chemical and other industrial parks (化工园区/工业园区), district-owned, with history

A park is a polygon with its code, name, type, level and managing body. Enterprises and risk sources
belong to a park by containment, computed on read (docs/decisions.md, "Parks: containment on read"), so
no other table changes. Row-level security is that of every district-owned layer (revision 0003), and
every version is kept by the history triggers of revision 0010 (``riskmap_keep_versions``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 07:00:00.000000
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry, alembic_helpers  # noqa: F401  (registers create_geospatial_index)

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"
#: The history trigger's arguments: the key column, then bookkeeping columns (as in revision 0010).
_VERSION_ARGS = "'key', 'updated_at', 'batch_id'"


def upgrade() -> None:
    op.create_geospatial_table(
        'parks',
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('park_type', sa.String(length=20), nullable=False),
        sa.Column('level', sa.String(length=20), nullable=False),
        sa.Column('managing_body', sa.Text(), nullable=True),
        sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False,
                                   from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
        sa.Column('adcode', sa.String(length=6), nullable=False),
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('source_crs', sa.String(length=40), nullable=True),
        sa.Column('batch_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['adcode'], ['districts.adcode'], name=op.f('fk_parks_adcode_districts')),
        sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_parks_batch_id_import_batches'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_parks')),
        sa.UniqueConstraint('key', name=op.f('uq_parks_key')),
    )
    op.create_geospatial_index('idx_parks_geom', 'parks', ['geom'], unique=False, postgresql_using='gist',
                               postgresql_ops={})
    op.create_index(op.f('ix_parks_adcode'), 'parks', ['adcode'], unique=False)
    op.create_index(op.f('ix_parks_batch_id'), 'parks', ['batch_id'], unique=False)
    for event, tables in (("insert", "NEW TABLE AS new_rows"),
                          ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                          ("delete", "OLD TABLE AS old_rows")):
        op.execute(f"CREATE TRIGGER parks_versions_{event} AFTER {event.upper()} ON parks REFERENCING {tables} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION riskmap_keep_versions({_VERSION_ARGS})")
    _row_level_security()


def _row_level_security() -> None:
    """Same district scope as the other district-owned tables (revision 0003)."""
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON parks TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE parks_id_seq TO {APP_ROLE}")
    op.execute("ALTER TABLE parks ENABLE ROW LEVEL SECURITY")
    op.execute(f"""
    CREATE POLICY district_scope ON parks TO {APP_ROLE}
      USING (riskmap_scope_all() OR adcode = riskmap_adcode())
      WITH CHECK (riskmap_scope_all() OR adcode = riskmap_adcode())""")


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS parks_versions_{event} ON parks")
    op.execute("DELETE FROM row_versions WHERE table_name = 'parks'")
    op.execute("DROP POLICY IF EXISTS district_scope ON parks")
    op.drop_index(op.f('ix_parks_batch_id'), table_name='parks')
    op.drop_index(op.f('ix_parks_adcode'), table_name='parks')
    op.drop_geospatial_index('idx_parks_geom', table_name='parks', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('parks')
