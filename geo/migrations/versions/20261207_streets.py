"""streets: the town or street (街道/乡镇) of an enterprise, for the street's 调度表 (#13)

Scaffold made by the lead so that migrations can be written side by side; its owner fills in upgrade() and
downgrade() (or the lead removes it if it stays unused).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 08:30:00.000000
"""

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
