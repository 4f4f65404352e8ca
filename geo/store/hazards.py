"""The hidden-hazard closed loop: hazards and their steps.

Row-level security decides which hazards a session sees; the triggers of migration 0009
refuse a step that the lifecycle table does not allow, whoever sends it. Callers pass plain values
and receive dicts or DataFrames.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from geo.constants import STORAGE_SRID
from geo.store.engine import on_connection

#: Columns of ``hidden_hazards`` a caller reads back (geometry as lon/lat).
HAZARD_COLUMNS = (
    "id", "key", "code", "adcode", "description", "risk_point_code", "enterprise_name", "credit_code", "severity",
    "source", "found_on", "deadline", "status", "state", "version", "supervision", "supervising_unit",
    "supervision_deadline", "measures", "responsible_unit", "responsible_person", "funds_wan", "emergency_plan",
    "assessment", "progress", "progress_on", "closed_on", "updated_at",
)


#: Columns a workflow step may write (the lifecycle's field codes are these column names).
WORKFLOW_WRITABLE = frozenset({
    "severity", "deadline", "supervision", "supervising_unit", "supervision_deadline", "measures",
    "responsible_unit", "responsible_person", "funds_wan", "emergency_plan", "assessment", "progress",
    "progress_on", "description", "source", "found_on",
})


_SELECT = (", ".join(f"h.{c}" for c in HAZARD_COLUMNS) + ", ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat, "
           "(SELECT e.industry FROM enterprises e WHERE e.credit_code = h.credit_code) AS enterprise_industry")


def lifecycle_version(conn: Connection) -> str | None:
    """Return the lifecycle version the database's ``hazard_rules`` were seeded from (None when empty)."""
    found = conn.execute(text("SELECT min(lifecycle_version), max(lifecycle_version) FROM hazard_rules")).one()
    if found[0] != found[1]:
        return f"{found[0]}…{found[1]}"
    return None if found[0] is None else str(found[0])


def _hazard_row(row: Any) -> dict[str, Any]:
    out = dict(row)
    if out.get("funds_wan") is not None:
        out["funds_wan"] = float(out["funds_wan"])
    return out


def _equal(table: str, **filters: Any) -> tuple[list[str], dict[str, Any]]:
    """WHERE terms ``table.column = :column`` for the filters given (blank ones are left out)."""
    where, params = ["true"], {}
    for column, value in filters.items():
        if value:
            where.append(f"{table}.{column} = :{column}")
            params[column] = value
    return where, params


def read_hazard(conn: Connection, hazard_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    """Return one hazard visible to the session (None when it does not exist or is out of scope).

    ``lock`` takes a row lock until the transaction ends, so a step is decided on the row as it is.
    """
    sql = f"SELECT {_SELECT} FROM hidden_hazards h WHERE h.id = :id" + (" FOR UPDATE" if lock else "")
    row = conn.execute(text(sql), {"id": hazard_id}).mappings().first()
    return None if row is None else _hazard_row(row)


def insert_hazard(conn: Connection, values: Mapping[str, Any], *, lon: float, lat: float) -> int:
    """Insert a new hazard (state 已上报, version 0) and return its id; its first step follows in the same transaction.

    ``values`` holds ``key``, ``code``, ``adcode`` and the reported fields (column names).
    """
    cols = dict(values)
    names = ", ".join([*cols, "geom"])
    params = ", ".join([*(f":{c}" for c in cols), f"ST_SetSRID(ST_MakePoint(:_lon, :_lat), {STORAGE_SRID})"])
    return int(conn.execute(text(f"INSERT INTO hidden_hazards ({names}) VALUES ({params}) RETURNING id"),
                            {**cols, "_lon": lon, "_lat": lat}).scalar_one())


def insert_step(conn: Connection, *, hazard_id: int, version: int, action: str, from_state: str | None,
                to_state: str, severity: str, supervised: bool, role: str | None, actor: str,
                comment: str | None = None, changes: Mapping[str, Any] | None = None,
                attachments: Sequence[str] = (), at: dt.datetime | None = None, batch_id: int | None = None) -> None:
    """Append one step to a hazard's history (the database checks it against the lifecycle table)."""
    conn.execute(text(
        "INSERT INTO hazard_steps (hazard_id, adcode, version, action, from_state, to_state, severity, supervised, "
        "role, actor, at, comment, changes, attachments, batch_id) "
        "VALUES (:hazard_id, '', :version, :action, :from_state, :to_state, :severity, :supervised, :role, :actor, "
        "coalesce(:at, now()), :comment, CAST(:changes AS jsonb), :attachments, :batch_id)"),
        {"hazard_id": hazard_id, "version": version, "action": action, "from_state": from_state,
         "to_state": to_state, "severity": severity, "supervised": supervised, "role": role, "actor": actor,
         "at": at, "comment": comment, "changes": json.dumps(dict(changes or {}), default=str, ensure_ascii=False),
         "attachments": list(attachments), "batch_id": batch_id})


def update_hazard(conn: Connection, hazard_id: int, *, version: int, state: str, values: Mapping[str, Any]) -> None:
    """Move a hazard to ``version`` and ``state`` with the step's field values (after :func:`insert_step`)."""
    bad = set(values) - WORKFLOW_WRITABLE
    if bad:
        raise ValueError(f"not workflow columns: {sorted(bad)}")
    sets = ", ".join(["version = :version", "state = :state", "updated_at = now()", *(f"{c} = :{c}" for c in values)])
    result = conn.execute(text(f"UPDATE hidden_hazards SET {sets} WHERE id = :id"),
                          {**values, "version": version, "state": state, "id": hazard_id})
    if result.rowcount != 1:
        raise LookupError(f"hazard {hazard_id} not updated")


@on_connection
def hazard_steps(conn: Connection, hazard_id: int) -> list[dict[str, Any]]:
    """Return a hazard's history, oldest first."""
    rows = conn.execute(text(
        "SELECT version, action, from_state, to_state, severity, supervised, role, actor, at, comment, changes, "
        "attachments FROM hazard_steps WHERE hazard_id = :id ORDER BY version"), {"id": hazard_id}).mappings()
    return [dict(r) for r in rows]


def record_import_steps(conn: Connection, *, actor: str, role: str | None, batch_id: int | None) -> int:
    """Start the history of every visible hazard that has none yet (imported rows), as step 1 ``import``.

    Returns
    -------
    int
        How many histories were started.
    """
    ids = [int(i) for i in conn.execute(text(
        "SELECT id FROM hidden_hazards WHERE version = 0 ORDER BY id FOR UPDATE")).scalars()]
    if not ids:
        return 0
    # The steps of :func:`insert_step` (one per hazard, in id order) and the move to version 1, each as one
    # statement: the history trigger runs once for all of them, not once per hazard.
    conn.execute(text(
        "INSERT INTO hazard_steps (hazard_id, adcode, version, action, from_state, to_state, severity, supervised, "
        "role, actor, at, comment, changes, attachments, batch_id) "
        "SELECT id, '', 1, 'import', NULL, state, severity, coalesce(supervision, 'none') <> 'none', "
        "CAST(:role AS text), CAST(:actor AS text), now(), NULL, CAST('{}' AS jsonb), CAST(ARRAY[] AS text[]), "
        "CAST(:batch_id AS bigint) FROM hidden_hazards WHERE id = ANY(:ids) ORDER BY id"),
        {"role": role, "actor": actor, "batch_id": batch_id, "ids": ids})
    conn.execute(text("UPDATE hidden_hazards SET version = 1 WHERE id = ANY(:ids)"), {"ids": ids})
    return len(ids)


@on_connection
def list_hazards(conn: Connection, *, adcode: str | None = None, states: Sequence[str] | None = None,
                 severity: str | None = None, credit_code: str | None = None) -> pd.DataFrame:
    """Return the hazards the session sees, filtered, newest first (no geometry; lon/lat columns)."""
    where, params = _equal("h", adcode=adcode, severity=severity, credit_code=credit_code)
    if states:
        where.append("h.state = ANY(:states)")
        params["states"] = list(states)
    sql = f"SELECT {_SELECT} FROM hidden_hazards h WHERE {' AND '.join(where)} ORDER BY h.found_on DESC, h.id DESC"
    rows = [_hazard_row(r) for r in conn.execute(text(sql), params).mappings()]
    return pd.DataFrame(rows, columns=[*HAZARD_COLUMNS, "lon", "lat", "enterprise_industry"])


@on_connection
def steps_frame(conn: Connection, *, adcode: str | None = None) -> pd.DataFrame:
    """Every visible history step (``hazard`` = the hazard's code), for figures as of a date."""
    sql = ("SELECT h.code AS hazard, s.at, s.to_state, s.severity, s.supervised, s.action, s.version "
           "FROM hazard_steps s JOIN hidden_hazards h ON h.id = s.hazard_id"
           + (" WHERE s.adcode = :adcode" if adcode else "") + " ORDER BY h.code, s.version")
    return pd.DataFrame(conn.execute(text(sql), {"adcode": adcode}).mappings().all(),
                        columns=["hazard", "at", "to_state", "severity", "supervised", "action", "version"])


def status_differs(conn: Connection, statuses: Mapping[str, str]) -> list[str]:
    """Keys of hazards whose stored status differs from ``statuses`` (the file's), sorted."""
    if not statuses:
        return []
    rows = conn.execute(text("SELECT key, status FROM hidden_hazards WHERE key = ANY(:keys)"),
                        {"keys": list(statuses)}).all()
    return sorted(str(k) for k, status in rows if statuses.get(str(k)) != status)
