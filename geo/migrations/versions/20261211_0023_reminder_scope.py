"""reminder scope (催办): an enterprise reads only reminders addressed to it; recipients are known roles

Review of revision 0021 found three gaps, closed here:

- ``reminder_read``: an enterprise read every reminder about its own hazards, including the government's
  internal ones (a city supervisor chasing the district officer). Its branch now also requires
  ``recipient_role = 'enterprise'``; district and city-wide sessions read as before.
- ``ck_hazard_reminders_recipient_role``: the table accepted any recipient role. It now accepts only the roles
  lifecycle.yaml ``remind: states`` can name, read from the table as it is when this revision runs (as 0021
  reads ``remind: by`` for the senders).
- ``reminder_insert``: a sender could address a reminder to its own role (a district officer's 催办 going to
  district officers). The policy now also requires ``recipient_role <> riskmap_role()``; the service refuses
  it first, with its reason (campaign/reminders.py).

The trigger function ``riskmap_reminder_insert`` is not redefined. ``downgrade`` restores the policies of 0021
and drops the check.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-11 09:00:00.000000
"""
import yaml
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"
_DISTRICT = "riskmap_scope_all() OR adcode = riskmap_adcode()"
_OWN = "credit_code = riskmap_credit_code() AND adcode = riskmap_scope_adcode()"
_CHECK = "ck_hazard_reminders_recipient_role"


def _remind() -> dict[str, list[str]]:
    """lifecycle.yaml ``remind`` as it is when this revision runs: ``by`` and every role of ``states``."""
    from campaign.lifecycle import LIFECYCLE_FILE

    doc = yaml.safe_load(LIFECYCLE_FILE.read_text(encoding="utf-8"))["remind"]
    recipients = sorted({str(r) for roles in (doc.get("states") or {}).values() for r in roles or ()})
    return {"by": [str(r) for r in doc["by"]], "recipients": recipients}


def _quoted(roles: list[str]) -> str:
    return ", ".join(f"'{r}'" for r in roles)


def _policies(*, enterprise_only_own: bool, not_own_role: bool) -> None:
    senders = _quoted(_remind()["by"])
    own = f"({_OWN} AND recipient_role = 'enterprise')" if enterprise_only_own else f"({_OWN})"
    op.execute("DROP POLICY IF EXISTS reminder_read ON hazard_reminders")
    op.execute("DROP POLICY IF EXISTS reminder_insert ON hazard_reminders")
    op.execute(f"CREATE POLICY reminder_read ON hazard_reminders FOR SELECT TO {APP_ROLE} "
               f"USING ({_DISTRICT} OR {own})")
    other = " AND recipient_role <> riskmap_role()" if not_own_role else ""
    op.execute(f"CREATE POLICY reminder_insert ON hazard_reminders FOR INSERT TO {APP_ROLE} "
               f"WITH CHECK (({_DISTRICT}) AND riskmap_role() IN ({senders}) AND sent_by = riskmap_actor() "
               f"AND sender_role = riskmap_role(){other})")


def upgrade() -> None:
    op.create_check_constraint(op.f(_CHECK), "hazard_reminders",
                               f"recipient_role IN ({_quoted(_remind()['recipients'])})")
    _policies(enterprise_only_own=True, not_own_role=True)


def downgrade() -> None:
    op.drop_constraint(op.f(_CHECK), "hazard_reminders", type_="check")
    _policies(enterprise_only_own=False, not_own_role=False)
