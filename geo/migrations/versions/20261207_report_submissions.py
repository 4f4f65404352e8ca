"""report submissions: every periodic report submitted by a district, and administrator overrides of report definitions (#14)

Scaffold made by the lead so that migrations can be written side by side; its owner fills in upgrade() and
downgrade() (or the lead removes it if it stays unused).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 08:30:00.000000
"""

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
