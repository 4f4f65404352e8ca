"""sessions and scope: sign-in and server-side sessions in the database; a scope the app cannot widen (#15)

Scaffold made by the lead so that two migrations of issue #15 can be written side by side; the sessions
helper fills in upgrade() and downgrade().

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 08:30:00.000000
"""

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
