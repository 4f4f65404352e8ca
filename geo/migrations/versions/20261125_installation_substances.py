"""installations.substances: hazardous chemicals and maximum quantities of each unit (GB 18218)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 主要危险化学品及最大存量, "名称[:CAS]:吨; …" (parsed by geo/substances.py); row-level security of
    # installations (revision 0005) covers the new column
    op.add_column('installations', sa.Column('substances', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('installations', 'substances')
