"""Reminders (催办) about hazards: append-only rows of ``hazard_reminders`` (migrations 0021, 0023).

The database decides what a session may send and read: its insert trigger reads the hazard under the session's
own row-level security (another district's hazard is not found), refuses a finished hazard, and copies the
hazard's district, enterprise, state and version onto the row. An enterprise reads only the reminders addressed
to it (0023), never the government's own. Callers pass plain values and get dicts or frames.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from geo.store.engine import on_connection
from geo.store.hazards import read_hazard

#: Columns of a reminder as read back (:func:`hazard_reminders`, :func:`open_reminders` add the hazard's).
REMINDER_COLUMNS = ("id", "hazard_id", "adcode", "credit_code", "hazard_version", "state", "recipient_role",
                    "message", "sent_by", "sender_role", "sent_at")
_COLUMNS = ", ".join(f"r.{c}" for c in REMINDER_COLUMNS)


def read_hazard_shared(conn: Connection, hazard_id: int) -> dict[str, Any] | None:
    """Return one hazard visible to the session, share-locked until the transaction ends (None when not seen).

    A reminder's recipient is decided on the hazard as it is: no step can commit between this read and the
    reminder's insert (a step under way is waited for, and the hazard is read as it left it).
    """
    seen = conn.execute(text("SELECT id FROM hidden_hazards WHERE id = :id FOR SHARE"),
                        {"id": int(hazard_id)}).first()
    return None if seen is None else read_hazard(conn, hazard_id)


def insert_reminder(conn: Connection, *, hazard_id: int, recipient_role: str, message: str, sent_by: str,
                    sender_role: str) -> dict[str, Any]:
    """Append one reminder about a hazard and return it as stored (district, state, version and time filled in)."""
    row = conn.execute(text(
        "INSERT INTO hazard_reminders AS r (hazard_id, adcode, hazard_version, state, recipient_role, message, "
        "sent_by, sender_role) VALUES (:hid, '', 0, '', :recipient, :message, :sent_by, :sender_role) "
        f"RETURNING {_COLUMNS}"),
        {"hid": int(hazard_id), "recipient": recipient_role, "message": message, "sent_by": sent_by,
         "sender_role": sender_role}).mappings().one()
    return dict(row)


@on_connection
def hazard_reminders(conn: Connection, hazard_id: int) -> list[dict[str, Any]]:
    """Return the reminders about one hazard the session sees, oldest first."""
    rows = conn.execute(text(f"SELECT {_COLUMNS} FROM hazard_reminders r WHERE r.hazard_id = :id "
                             "ORDER BY r.sent_at, r.id"), {"id": int(hazard_id)}).mappings()
    return [dict(r) for r in rows]


@on_connection
def open_reminders(conn: Connection, recipient_role: str) -> pd.DataFrame:
    """Return the reminders to ``recipient_role`` the session sees whose hazard has not moved since, newest first.

    A reminder is open while its hazard's version is the one it was sent at (the hazard's next step answers it).
    Columns: :data:`REMINDER_COLUMNS` and the hazard's ``code``, ``description`` and ``deadline``.
    """
    rows = conn.execute(text(
        f"SELECT {_COLUMNS}, h.code, h.description, h.deadline FROM hazard_reminders r "
        "JOIN hidden_hazards h ON h.id = r.hazard_id AND h.version = r.hazard_version "
        "WHERE r.recipient_role = :role ORDER BY r.sent_at DESC, r.id DESC"), {"role": recipient_role}).mappings()
    return pd.DataFrame([dict(r) for r in rows], columns=[*REMINDER_COLUMNS, "code", "description", "deadline"])
