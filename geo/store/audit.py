"""The audit log: appending entries and reading them back, page by page."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, func, select, text

from geo.constants import LOCAL_TIMEZONE
from geo.models import AuditLog


def audit(conn: Connection, *, actor: str, action: str, target: str | None = None,
          adcode: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Append one entry to the audit log.

    A plain INSERT without RETURNING: the application role may append entries it cannot read
    back (a district officer's entry about no single district).
    """
    conn.execute(
        text("INSERT INTO audit_log (actor, action, target, adcode, details) "
             "VALUES (:actor, :action, :target, :adcode, CAST(:details AS jsonb))"),
        {"actor": actor, "action": action, "target": target, "adcode": adcode,
         "details": json.dumps(details or {}, default=str, ensure_ascii=False)},
    )


AUDIT_COLUMNS = ("id", "at", "actor", "action", "target", "adcode", "details")


def _day_start(day: dt.date, zone: str) -> dt.datetime:
    """Midnight of ``day`` in ``zone`` (a datetime is kept as the instant it names; naive ones are in ``zone``)."""
    if isinstance(day, dt.datetime):
        return day if day.tzinfo is not None else day.replace(tzinfo=ZoneInfo(zone))
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone))


def _audit_where(*, actor: str | None, action: str | None, adcode: str | None, since: dt.date | None,
                 until: dt.date | None, zone: str) -> list[ColumnElement[bool]]:
    log = AuditLog.__table__
    where: list[ColumnElement[bool]] = []
    if actor:
        literal = actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(log.c.actor.ilike(f"%{literal}%", escape="\\"))
    if action:
        where.append(log.c.action == action)
    if adcode:
        where.append(log.c.adcode == adcode)
    if since is not None:
        where.append(log.c.at >= _day_start(since, zone))
    if until is not None:
        if isinstance(until, dt.datetime):
            where.append(log.c.at <= _day_start(until, zone))
        else:
            where.append(log.c.at < _day_start(until + dt.timedelta(days=1), zone))
    return where


def read_audit(engine: Engine, *, actor: str | None = None, action: str | None = None, adcode: str | None = None,
               since: dt.date | None = None, until: dt.date | None = None, limit: int | None = 50,
               offset: int = 0, zone: str = LOCAL_TIMEZONE) -> tuple[pd.DataFrame, int]:
    """Read one page of the audit log, newest first, with the number of entries matching the filters.

    Row-level security applies: a district-scoped session of the application role sees only the
    entries of its own district.

    Parameters
    ----------
    engine : Engine
        The store.
    actor : str, optional
        Case-insensitive substring of the actor (``%`` and ``_`` match themselves).
    action : str, optional
        Exact action, e.g. ``"import"``.
    adcode : str, optional
        Only entries of this district.
    since, until : datetime.date, optional
        First and last calendar day (both inclusive) in ``zone``. A ``datetime`` is taken as an
        exact instant instead (naive ones in ``zone``).
    limit : int or None
        Page size; None for every matching entry.
    offset : int
        Entries to skip (page number × page size).
    zone : str
        Time zone of the calendar days.

    Returns
    -------
    tuple of (pandas.DataFrame, int)
        The page (columns id, at (UTC, timezone-aware), actor, action, target, adcode, details),
        ordered by time and id descending; and the total number of matching entries.

    Raises
    ------
    ValueError
        For a negative ``limit`` or ``offset``.
    """
    if offset < 0 or (limit is not None and limit < 0):
        raise ValueError("limit and offset must not be negative")
    log = AuditLog.__table__
    where = _audit_where(actor=actor, action=action, adcode=adcode, since=since, until=until, zone=zone)
    page = select(log).where(*where).order_by(log.c.at.desc(), log.c.id.desc()).offset(offset).limit(limit)
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(log).where(*where)).scalar_one())
        rows = [dict(r) for r in conn.execute(page).mappings()]
    frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS), dtype=object)  # missing text stays None, not NaN
    frame["id"] = frame["id"].astype("int64")
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame, total


def audit_actions(engine: Engine) -> list[str]:
    """Return the distinct actions in the audit log (those the session may see), sorted."""
    log = AuditLog.__table__
    with engine.connect() as conn:
        return [str(a) for a in conn.execute(select(log.c.action).distinct().order_by(log.c.action)).scalars()]
