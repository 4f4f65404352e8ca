"""second factor (TOTP) and one lockout rule (#15) — scaffold, to be filled in

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 09:00:00.000000
"""

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
