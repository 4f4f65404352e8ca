"""enterprise changes: an enterprise asks to change its basic information, its district decides

An enterprise account reads its own enterprise row but may not write it (migration 0009). It files a
request instead: the fields it wants changed, their values when it asked, and why. The district officer
approves (the service then updates the enterprise row, whose old version the history keeps) or rejects
with a reason. A request is decided once: the row's proposal never changes, and only a pending request
may be decided. Enterprises see and file their own; districts see and decide theirs; the city reads all.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 07:20:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"


def upgrade() -> None:
    op.create_table(
        'enterprise_changes',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('credit_code', sa.String(length=18), nullable=False),
        sa.Column('adcode', sa.String(length=6), nullable=False),
        sa.Column('proposed', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('previous', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('requested_by', sa.Text(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('state', sa.String(length=10), server_default='pending', nullable=False),
        sa.Column('decided_by', sa.Text(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['adcode'], ['districts.adcode'], name=op.f('fk_enterprise_changes_adcode_districts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_changes')),
        sa.CheckConstraint("state IN ('pending', 'approved', 'rejected')",
                           name=op.f('ck_enterprise_changes_state_values')),
        sa.CheckConstraint("(state = 'pending') = (decided_at IS NULL)",
                           name=op.f('ck_enterprise_changes_decided_when_not_pending')),
    )
    op.create_index(op.f('ix_enterprise_changes_adcode'), 'enterprise_changes', ['adcode'])
    op.create_index(op.f('ix_enterprise_changes_credit_code'), 'enterprise_changes', ['credit_code'])
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_change_decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' OR OLD.state <> 'pending'
         OR (NEW.credit_code, NEW.adcode, NEW.proposed, NEW.previous, NEW.reason, NEW.requested_by, NEW.requested_at)
            IS DISTINCT FROM
            (OLD.credit_code, OLD.adcode, OLD.proposed, OLD.previous, OLD.reason, OLD.requested_by, OLD.requested_at)
      THEN
        RAISE EXCEPTION 'enterprise change %: a request is decided once and its proposal never changes', OLD.id
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NEW;
    END $$""")
    op.execute("""
    CREATE TRIGGER enterprise_changes_decided_once BEFORE UPDATE OR DELETE ON enterprise_changes
      FOR EACH ROW EXECUTE FUNCTION riskmap_change_decided_once()""")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON enterprise_changes TO {APP_ROLE}")
    op.execute(f"GRANT USAGE ON SEQUENCE enterprise_changes_id_seq TO {APP_ROLE}")
    op.execute("ALTER TABLE enterprise_changes ENABLE ROW LEVEL SECURITY")
    own = "credit_code = riskmap_credit_code() AND adcode = nullif(current_setting('riskmap.adcode', true), '')"
    district = "riskmap_credit_code() IS NULL AND (riskmap_scope_all() OR adcode = riskmap_adcode())"
    op.execute(f"CREATE POLICY change_read ON enterprise_changes FOR SELECT TO {APP_ROLE} "
               f"USING (({own}) OR ({district}))")
    op.execute(f"CREATE POLICY change_file ON enterprise_changes FOR INSERT TO {APP_ROLE} "
               f"WITH CHECK ({own} AND state = 'pending')")
    op.execute(f"CREATE POLICY change_decide ON enterprise_changes FOR UPDATE TO {APP_ROLE} "
               f"USING (riskmap_credit_code() IS NULL AND adcode = riskmap_adcode()) "
               f"WITH CHECK (riskmap_credit_code() IS NULL AND adcode = riskmap_adcode())")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS enterprise_changes_decided_once ON enterprise_changes")
    op.execute("DROP FUNCTION IF EXISTS riskmap_change_decided_once()")
    for policy in ("change_read", "change_file", "change_decide"):
        op.execute(f"DROP POLICY IF EXISTS {policy} ON enterprise_changes")
    op.drop_table('enterprise_changes')
