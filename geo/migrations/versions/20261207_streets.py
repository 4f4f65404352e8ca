"""streets: the town or street (乡镇/街道) of an enterprise, for the street's 调度表 (#13)

Streets (街道) and towns (乡镇) send their monthly 调度表 to the district (workflows.md §5). An enterprise had
no field naming its street, so ``enterprises.township`` (乡镇(街道), optional text, the same name and label as
``risk_points.township``) is added. A hazard belongs to the street of its enterprise. Row-level security,
grants and the history triggers of the table cover the new column as they are (table-level).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 08:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('enterprises', sa.Column('township', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('enterprises', 'township')
