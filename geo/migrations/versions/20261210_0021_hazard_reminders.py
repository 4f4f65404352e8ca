"""hazard reminders (催办): append-only reminders about a hazard, addressed to the party of its next step

``hazard_reminders`` keeps each 催办 a district officer or city supervisor sends about a hazard: the message,
who sent it and when, the role it is addressed to (the enterprise, the district officer or the city
supervisor: campaign/lifecycle.yaml ``remind``), and the hazard's state and version when it was sent (the
reminder stays in the recipient's inbox until the hazard's next step moves the version on). Rows are never
changed or removed, by any role (``riskmap_append_only`` of revision 0009).

The insert trigger reads the hazard under the inserting session's own row-level security: a hazard the
session does not see (another district's) is refused as not found, and a finished one (已销号, 不予核定:
``hazard_states.final``) as finished. It copies the hazard's district, enterprise, state and version onto
the row, and for the application role the sender and role are the live session's account, the time the
server's. Policies: a district session reads and sends its district's reminders, a city-wide session all; an
enterprise reads the reminders of its own hazards and sends none; only the roles of ``remind: by`` in the
lifecycle table send. ``downgrade`` drops the table and its function.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-10 09:00:00.000000
"""
import sqlalchemy as sa
import yaml
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"
#: Longest reminder message (the same limit as campaign/reminders.py MAX_MESSAGE).
MAX_MESSAGE = 500


def _senders() -> list[str]:
    """The roles that may send a reminder: lifecycle.yaml ``remind: by`` as it is when this revision runs."""
    from campaign.lifecycle import LIFECYCLE_FILE

    doc = yaml.safe_load(LIFECYCLE_FILE.read_text(encoding="utf-8"))
    return [str(r) for r in doc["remind"]["by"]]


def upgrade() -> None:
    op.create_table(
        "hazard_reminders",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("hazard_id", sa.BigInteger(), nullable=False),
        sa.Column("adcode", sa.String(6), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("hazard_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("recipient_role", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("sent_by", sa.Text(), nullable=False),
        sa.Column("sender_role", sa.String(20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["hazard_id"], ["hidden_hazards.id"], ondelete="CASCADE",
                                name=op.f("fk_hazard_reminders_hazard_id_hidden_hazards")),
        sa.ForeignKeyConstraint(["adcode"], ["districts.adcode"], name=op.f("fk_hazard_reminders_adcode_districts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_reminders")),
        sa.CheckConstraint(f"length(btrim(message)) BETWEEN 1 AND {MAX_MESSAGE}",
                           name=op.f("ck_hazard_reminders_message_length")),
    )
    op.create_index(op.f("ix_hazard_reminders_hazard_id"), "hazard_reminders", ["hazard_id"])
    op.create_index(op.f("ix_hazard_reminders_adcode"), "hazard_reminders", ["adcode"])
    _guards()
    _security()


def _guards() -> None:
    op.execute(f"""
    CREATE OR REPLACE FUNCTION riskmap_reminder_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE h hidden_hazards%ROWTYPE;
    BEGIN
      -- read under the inserting session's own row-level security: another district's hazard is not found
      SELECT * INTO h FROM hidden_hazards WHERE id = NEW.hazard_id;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'hazard %: not found or outside this account''s scope', NEW.hazard_id
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      IF coalesce((SELECT s.final FROM hazard_states s WHERE s.state = h.state), true) THEN
        RAISE EXCEPTION 'hazard %: % is finished; it cannot be reminded', h.code, h.state
          USING ERRCODE = 'check_violation';
      END IF;
      IF current_user = '{APP_ROLE}' THEN
        IF NEW.sent_by IS DISTINCT FROM riskmap_actor() OR NEW.sender_role IS DISTINCT FROM riskmap_role() THEN
          RAISE EXCEPTION 'hazard %: a reminder is sent as the signed-in account', h.code
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        NEW.sent_at := now();
      END IF;
      NEW.adcode := h.adcode;
      NEW.credit_code := h.credit_code;
      NEW.state := h.state;
      NEW.hazard_version := h.version;
      NEW.sent_at := coalesce(NEW.sent_at, now());
      RETURN NEW;
    END $$""")
    op.execute("""
    CREATE TRIGGER hazard_reminders_insert BEFORE INSERT ON hazard_reminders
      FOR EACH ROW EXECUTE FUNCTION riskmap_reminder_insert()""")
    op.execute("""
    CREATE TRIGGER hazard_reminders_append_only BEFORE UPDATE OR DELETE ON hazard_reminders
      FOR EACH ROW EXECUTE FUNCTION riskmap_append_only()""")


def _security() -> None:
    op.execute(f"GRANT SELECT, INSERT ON hazard_reminders TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE hazard_reminders_id_seq TO {APP_ROLE}")
    op.execute("ALTER TABLE hazard_reminders ENABLE ROW LEVEL SECURITY")
    district = "riskmap_scope_all() OR adcode = riskmap_adcode()"
    own = "credit_code = riskmap_credit_code() AND adcode = riskmap_scope_adcode()"
    op.execute(f"CREATE POLICY reminder_read ON hazard_reminders FOR SELECT TO {APP_ROLE} "
               f"USING ({district} OR ({own}))")
    senders = ", ".join(f"'{r}'" for r in _senders())
    op.execute(f"CREATE POLICY reminder_insert ON hazard_reminders FOR INSERT TO {APP_ROLE} "
               f"WITH CHECK (({district}) AND riskmap_role() IN ({senders}) AND sent_by = riskmap_actor() "
               "AND sender_role = riskmap_role())")


def downgrade() -> None:
    op.drop_table("hazard_reminders")
    op.execute("DROP FUNCTION IF EXISTS riskmap_reminder_insert()")
