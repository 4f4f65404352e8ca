"""Periodic reports: districts' submitted reports (``report_submissions``) and local values of report definitions."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from geo.store.audit import audit
from geo.store.engine import on_connection

#: Columns of :func:`list_report_submissions` (the document's bytes are read one at a time).
REPORT_SUBMISSION_COLUMNS = ("id", "kind", "adcode", "period", "revision", "submitted_by", "submitted_at",
                             "filename", "media_type", "sha256", "size_bytes", "figures", "note")
DEFINITION_OVERRIDE_COLUMNS = ("id", "report_code", "field", "value", "previous", "reason", "actor", "created_at",
                               "active")


def insert_report_submission(conn: Connection, *, kind: str, adcode: str, period: str, submitted_by: str,
                             filename: str, media_type: str, sha256: str, content: bytes,
                             figures: Mapping[str, Any], note: str | None = None,
                             at: dt.datetime | None = None) -> int:
    """Append a district's report for a period (a later one gets the next revision); return the revision.

    Parameters
    ----------
    conn : Connection
        In a transaction. Under the application role, row-level security accepts only the session's own
        district and actor.
    kind, adcode, period : str
        Report code, district and period (``YYYY-MM`` or ``YYYY``).
    submitted_by : str
        The account.
    filename, media_type, sha256 : str
        The document's name, media type and SHA-256 (hex).
    content : bytes
        The document as sent.
    figures : mapping
        The figures the report was built from, as sent.
    note : str, optional
        A remark.
    at : datetime, optional
        When (default now).

    Returns
    -------
    int
        The revision written (1 for the first submission of the period).
    """
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                 {"k": f"riskmap.report_submissions.{kind}.{adcode}.{period}"})
    revision = int(conn.execute(text(
        "SELECT coalesce(max(revision), 0) + 1 FROM report_submissions WHERE kind = :k AND adcode = :a "
        "AND period = :p"), {"k": kind, "a": adcode, "p": period}).scalar_one())
    conn.execute(text(
        "INSERT INTO report_submissions (kind, adcode, period, revision, submitted_by, submitted_at, filename, "
        "media_type, sha256, size_bytes, content, figures, note) VALUES (:kind, :adcode, :period, :rev, :by, "
        "coalesce(:at, now()), :filename, :media, :sha, :size, :content, CAST(:fig AS jsonb), :note)"),
        {"kind": kind, "adcode": adcode, "period": period, "rev": revision, "by": submitted_by, "at": at,
         "filename": filename, "media": media_type, "sha": sha256, "size": len(content), "content": content,
         "fig": json.dumps(dict(figures), default=str, ensure_ascii=False), "note": note})
    return revision


@on_connection
def list_report_submissions(conn: Connection, *, kind: str | None = None, period: str | None = None,
                            adcode: str | None = None) -> pd.DataFrame:
    """Return the report submissions the session sees (every revision, without the document), newest first.

    Parameters
    ----------
    conn : Connection or Engine
        The store (a district session sees only its own district's).
    kind, period, adcode : str, optional
        Filters.

    Returns
    -------
    DataFrame
        Columns :data:`REPORT_SUBMISSION_COLUMNS`.
    """
    where = ["true"]
    params = {"kind": kind, "period": period, "adcode": adcode}
    where += [f"{k} = :{k}" for k, v in params.items() if v is not None]
    sql = (f"SELECT {', '.join(REPORT_SUBMISSION_COLUMNS)} FROM report_submissions WHERE {' AND '.join(where)} "
           "ORDER BY submitted_at DESC, revision DESC")
    return pd.DataFrame(conn.execute(text(sql), params).mappings().all(), columns=list(REPORT_SUBMISSION_COLUMNS))


@on_connection
def read_report_submission(conn: Connection, submission_id: int) -> dict[str, Any] | None:
    """Return one submission the session sees, the document's bytes (``content``) included, or None."""
    row = conn.execute(text(f"SELECT {', '.join(REPORT_SUBMISSION_COLUMNS)}, content FROM report_submissions "
                            "WHERE id = :id"), {"id": submission_id}).mappings().first()
    return None if row is None else {**dict(row), "content": bytes(row["content"])}


@on_connection
def read_definition_overrides(conn: Connection, *, active_only: bool = True) -> list[dict[str, Any]]:
    """Read the local values of report definition fields, oldest first.

    Parameters
    ----------
    conn : Connection or Engine
        The store (every session may read them).
    active_only : bool
        Only the values in force; False for the whole history.

    Returns
    -------
    list of dict
        Rows with :data:`DEFINITION_OVERRIDE_COLUMNS`.
    """
    sql = (f"SELECT {', '.join(DEFINITION_OVERRIDE_COLUMNS)} FROM report_definition_overrides"
           + (" WHERE active" if active_only else "") + " ORDER BY id")
    return [dict(r) for r in conn.execute(text(sql)).mappings()]


def _retire(conn: Connection, report_code: str, field: str) -> list[Any]:
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('riskmap.report_definitions', 0))"))
    rows = conn.execute(text(
        "UPDATE report_definition_overrides SET active = false WHERE report_code = :c AND field = :f AND active "
        "RETURNING value"), {"c": report_code, "f": field}).all()
    return [r[0] for r in rows]


def replace_definition_override(engine: Engine, *, report_code: str, field: str, value: Any, previous: Any,
                                reason: str, actor: str) -> None:
    """Put a local value of a report definition field in force, keeping the one it replaces, and audit it.

    In one transaction: the active row of (report, field), if any, is taken out of force, a new active row
    is inserted with ``previous`` (the value in force before) and a ``report_definition_change`` entry is
    appended to the audit log.

    Parameters
    ----------
    engine : Engine
        The store. Under the application role only a city-wide administrator session may write.
    report_code, field : str
        What changes, e.g. ``"four_lists"``, ``"due_day"``.
    value, previous : Any
        The new value (validated) and the value in force before (JSON values).
    reason, actor : str
        Why, and who.
    """
    with engine.begin() as conn:
        _retire(conn, report_code, field)
        conn.execute(text(
            "INSERT INTO report_definition_overrides (report_code, field, value, previous, reason, actor) "
            "VALUES (:c, :f, CAST(:v AS jsonb), CAST(:p AS jsonb), :r, :a)"),
            {"c": report_code, "f": field, "v": json.dumps(value, ensure_ascii=False),
             "p": json.dumps(previous, ensure_ascii=False), "r": reason, "a": actor})
        audit(conn, actor=actor, action="report_definition_change", target=f"{report_code}.{field}",
              details={"old": previous, "new": value, "reason": reason})


def retire_definition_override(engine: Engine, *, report_code: str, field: str, file_value: Any, reason: str,
                               actor: str) -> bool:
    """Take a local value out of force (the file's value applies again) and audit the reset.

    Returns
    -------
    bool
        Whether a local value was in force (nothing is written otherwise).
    """
    with engine.begin() as conn:
        previous = _retire(conn, report_code, field)
        if not previous:
            return False
        audit(conn, actor=actor, action="report_definition_change", target=f"{report_code}.{field}",
              details={"old": previous[0], "new": file_value, "reason": reason, "reset": True})
    return True
