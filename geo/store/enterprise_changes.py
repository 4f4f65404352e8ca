"""Enterprise information change requests (``enterprise_changes``) and the approved update of the enterprise."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from geo.store.engine import on_connection

CHANGE_COLUMNS = ("id", "credit_code", "adcode", "proposed", "previous", "reason", "requested_by", "requested_at",
                  "state", "decided_by", "decided_at", "decision_note")
#: Enterprise columns an enterprise may ask to change (the rest are the district's or the checks').
CHANGEABLE_FIELDS = ("name", "address", "principal", "phone", "industry")


def insert_change(conn: Connection, *, credit_code: str, adcode: str, proposed: Mapping[str, Any],
                  previous: Mapping[str, Any], reason: str, requested_by: str) -> int:
    """File a pending change request; return its id."""
    return int(conn.execute(text(
        "INSERT INTO enterprise_changes (credit_code, adcode, proposed, previous, reason, requested_by) "
        "VALUES (:cc, :adcode, CAST(:proposed AS jsonb), CAST(:previous AS jsonb), :reason, :by) RETURNING id"),
        {"cc": credit_code, "adcode": adcode, "proposed": json.dumps(dict(proposed), ensure_ascii=False),
         "previous": json.dumps(dict(previous), ensure_ascii=False, default=str), "reason": reason,
         "by": requested_by}).scalar_one())


def read_change(conn: Connection, change_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    """Return one change request the session may see (locked for the decision when ``lock``)."""
    row = conn.execute(text(f"SELECT {', '.join(CHANGE_COLUMNS)} FROM enterprise_changes WHERE id = :id"
                            + (" FOR UPDATE" if lock else "")), {"id": change_id}).mappings().first()
    return dict(row) if row else None


def decide_change(conn: Connection, change_id: int, *, state: str, decided_by: str, note: str | None) -> None:
    """Record the decision on a pending request (the database refuses a second decision)."""
    conn.execute(text("UPDATE enterprise_changes SET state = :state, decided_by = :by, decided_at = now(), "
                      "decision_note = :note WHERE id = :id"),
                 {"state": state, "by": decided_by, "note": note, "id": change_id})


def enterprise_fields(conn: Connection, credit_code: str, fields: Sequence[str]) -> dict[str, Any] | None:
    """Return the named columns of one enterprise (only :data:`CHANGEABLE_FIELDS`), None when not visible."""
    cols = [f for f in fields if f in CHANGEABLE_FIELDS]
    row = conn.execute(text(f"SELECT adcode, {', '.join(['credit_code', *cols])} FROM enterprises "
                            "WHERE credit_code = :cc"), {"cc": credit_code}).mappings().first()
    return dict(row) if row else None


def update_enterprise_fields(conn: Connection, credit_code: str, values: Mapping[str, Any]) -> int:
    """Write approved values of :data:`CHANGEABLE_FIELDS` to the enterprise row; return rows changed."""
    bad = sorted(set(values) - set(CHANGEABLE_FIELDS))
    if bad:
        raise ValueError(f"not changeable by request: {bad}")
    sets = ", ".join(f"{name} = :{name}" for name in values)
    return conn.execute(text(f"UPDATE enterprises SET {sets}, updated_at = now() WHERE credit_code = :cc"),
                        {**values, "cc": credit_code}).rowcount


@on_connection
def list_changes(conn: Connection, *, state: str | None = None) -> pd.DataFrame:
    """Return the change requests the session sees, newest first."""
    where = "WHERE state = :state" if state else ""
    rows = conn.execute(text(f"SELECT {', '.join(CHANGE_COLUMNS)} FROM enterprise_changes {where} "
                             "ORDER BY requested_at DESC, id DESC"), {"state": state}).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=list(CHANGE_COLUMNS))

