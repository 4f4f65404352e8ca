"""audit integrity: an append-only audit log chained by hashes (issue #15)

Scaffold made by the lead so that two migrations of issue #15 can be written side by side; the audit
helper fills in upgrade() and downgrade().

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 08:30:00.000000
"""

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
