"""published ratings: the city's 五色 rating of each district, readable by that district's session

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 03:20:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"


def upgrade() -> None:
    op.create_table('published_ratings',
    sa.Column('adcode', sa.String(length=6), nullable=False),
    sa.Column('data_version', sa.BigInteger(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('rubric_version', sa.String(length=40), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('class_code', sa.String(length=4), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('n_districts', sa.Integer(), nullable=False),
    sa.Column('contributions', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['adcode'], ['districts.adcode'], name=op.f('fk_published_ratings_adcode_districts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('adcode', name=op.f('pk_published_ratings'))
    )
    _row_level_security()


def _row_level_security() -> None:
    """A district session reads its own district's row; only a city-wide session (re)publishes.

    The rows are aggregates (score, class, rank of n, indicator contributions), never source rows, so
    an officer learns where the district stands in the city without reading other districts' data.
    """
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON published_ratings TO {APP_ROLE}")
    op.execute("ALTER TABLE published_ratings ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY rating_read ON published_ratings FOR SELECT TO {APP_ROLE} "
               "USING (riskmap_scope_all() OR adcode = riskmap_adcode())")
    op.execute(f"CREATE POLICY rating_insert ON published_ratings FOR INSERT TO {APP_ROLE} "
               "WITH CHECK (riskmap_scope_all())")
    op.execute(f"CREATE POLICY rating_update ON published_ratings FOR UPDATE TO {APP_ROLE} "
               "USING (riskmap_scope_all()) WITH CHECK (riskmap_scope_all())")
    op.execute(f"CREATE POLICY rating_delete ON published_ratings FOR DELETE TO {APP_ROLE} "
               "USING (riskmap_scope_all())")


def downgrade() -> None:
    for policy in ("rating_read", "rating_insert", "rating_update", "rating_delete"):
        op.execute(f"DROP POLICY IF EXISTS {policy} ON published_ratings")
    op.drop_table('published_ratings')
