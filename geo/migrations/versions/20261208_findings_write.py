"""bulk findings write (#16) — scaffold, to be filled in (or left a no-op)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 09:10:00.000000
"""

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
