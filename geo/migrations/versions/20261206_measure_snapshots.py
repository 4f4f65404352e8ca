"""measure snapshots: the period figures of each district and the city, stored as computed

A snapshot row holds the measures of one district (or the city, ``scope = 'city'``) at a period end,
computed from the data as it was then (row_versions) with the rubric in force then. Rows are only ever
added: a retake or a recomputation under a new rubric is a new row beside the old one (labelled by
``rubric_version`` and ``taken_at``), so a later rubric change never rewrites a past bulletin.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 06:50:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"


def upgrade() -> None:
    op.create_table(
        'measure_snapshots',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('scope', sa.String(length=6), nullable=False),
        sa.Column('rubric_version', sa.String(length=40), nullable=False),
        sa.Column('measures', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('class_code', sa.String(length=4), nullable=True),
        sa.Column('rank', sa.Integer(), nullable=True),
        sa.Column('n_districts', sa.Integer(), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('taken_by', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_measure_snapshots')),
        sa.CheckConstraint("kind IN ('month_end', 'on_demand')", name=op.f('ck_measure_snapshots_kind_values')),
        sa.CheckConstraint("scope = 'city' OR scope ~ '^[0-9]{6}$'", name=op.f('ck_measure_snapshots_scope_code')),
    )
    op.create_index('ix_measure_snapshots_period', 'measure_snapshots', ['period_end', 'scope'])
    op.execute(f"GRANT SELECT, INSERT ON measure_snapshots TO {APP_ROLE}")
    op.execute(f"GRANT USAGE ON SEQUENCE measure_snapshots_id_seq TO {APP_ROLE}")
    op.execute("ALTER TABLE measure_snapshots ENABLE ROW LEVEL SECURITY")
    # a district reads its own figures and the city's totals; only a city-wide session takes snapshots
    op.execute(f"CREATE POLICY snapshot_read ON measure_snapshots FOR SELECT TO {APP_ROLE} "
               "USING (riskmap_scope_all() OR scope = 'city' OR scope = riskmap_adcode())")
    op.execute(f"CREATE POLICY snapshot_take ON measure_snapshots FOR INSERT TO {APP_ROLE} "
               "WITH CHECK (riskmap_scope_all())")
    op.execute("""
        CREATE TRIGGER measure_snapshots_append_only BEFORE UPDATE OR DELETE ON measure_snapshots
        FOR EACH ROW EXECUTE FUNCTION riskmap_append_only()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS measure_snapshots_append_only ON measure_snapshots")
    for policy in ("snapshot_read", "snapshot_take"):
        op.execute(f"DROP POLICY IF EXISTS {policy} ON measure_snapshots")
    op.drop_table('measure_snapshots')
