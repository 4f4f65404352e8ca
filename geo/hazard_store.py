"""The database side of the hidden-hazard closed loop: hazards, their steps, attachments and submissions.

Part of the database boundary (with :mod:`geo.store`): only this module and the store build SQL for the
campaign. Row-level security decides which hazards a session sees; the triggers of migration 0009
refuse a step that the lifecycle table does not allow, whoever sends it. Callers pass plain values
and receive dicts or DataFrames.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from geo.models import SRID

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
    params = ", ".join([*(f":{c}" for c in cols), f"ST_SetSRID(ST_MakePoint(:_lon, :_lat), {SRID})"])
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


def hazard_steps(conn: Connection | Engine, hazard_id: int) -> list[dict[str, Any]]:
    """Return a hazard's history, oldest first."""
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return hazard_steps(c, hazard_id)
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
    ids = conn.execute(text("SELECT id, state, severity, coalesce(supervision, 'none') <> 'none' AS sup "
                            "FROM hidden_hazards WHERE version = 0 ORDER BY id FOR UPDATE")).all()
    for hid, state, severity, sup in ids:
        insert_step(conn, hazard_id=int(hid), version=1, action="import", from_state=None, to_state=str(state),
                    severity=str(severity), supervised=bool(sup), role=role, actor=actor, batch_id=batch_id)
        conn.execute(text("UPDATE hidden_hazards SET version = 1 WHERE id = :id"), {"id": hid})
    return len(ids)


def list_hazards(conn: Connection | Engine, *, adcode: str | None = None, states: Sequence[str] | None = None,
                 severity: str | None = None, credit_code: str | None = None) -> pd.DataFrame:
    """Return the hazards the session sees, filtered, newest first (no geometry; lon/lat columns)."""
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return list_hazards(c, adcode=adcode, states=states, severity=severity, credit_code=credit_code)
    where, params = _equal("h", adcode=adcode, severity=severity, credit_code=credit_code)
    if states:
        where.append("h.state = ANY(:states)")
        params["states"] = list(states)
    sql = f"SELECT {_SELECT} FROM hidden_hazards h WHERE {' AND '.join(where)} ORDER BY h.found_on DESC, h.id DESC"
    rows = [_hazard_row(r) for r in conn.execute(text(sql), params).mappings()]
    return pd.DataFrame(rows, columns=[*HAZARD_COLUMNS, "lon", "lat", "enterprise_industry"])


def steps_frame(conn: Connection | Engine, *, adcode: str | None = None) -> pd.DataFrame:
    """Every visible history step (``hazard`` = the hazard's code), for figures as of a date."""
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return steps_frame(c, adcode=adcode)
    sql = ("SELECT h.code AS hazard, s.at, s.to_state, s.severity, s.supervised, s.action, s.version "
           "FROM hazard_steps s JOIN hidden_hazards h ON h.id = s.hazard_id"
           + (" WHERE s.adcode = :adcode" if adcode else "") + " ORDER BY h.code, s.version")
    return pd.DataFrame(conn.execute(text(sql), {"adcode": adcode}).mappings().all(),
                        columns=["hazard", "at", "to_state", "severity", "supervised", "action", "version"])


def add_attachment(conn: Connection, *, sha256: str, filename: str, media_type: str, content: bytes,
                   uploaded_by: str, hazard_id: int | None = None, inspection_id: int | None = None,
                   adcode: str, credit_code: str | None = None) -> None:
    """Store an attachment of a hazard or an inspection (type and size are checked by the caller)."""
    conn.execute(text(
        "INSERT INTO attachments (sha256, hazard_id, inspection_id, adcode, credit_code, filename, media_type, "
        "size_bytes, content, uploaded_by) VALUES (:sha, :hid, :iid, :adcode, :cc, :fn, :mt, :size, :content, :by)"),
        {"sha": sha256, "hid": hazard_id, "iid": inspection_id, "adcode": adcode, "cc": credit_code,
         "fn": filename, "mt": media_type, "size": len(content), "content": content, "by": uploaded_by})


def read_attachment(conn: Connection | Engine, sha256: str, *, hazard_id: int | None = None,
                    inspection_id: int | None = None) -> dict[str, Any] | None:
    """Return an attachment the session may see (scope as its hazard or inspection), or None."""
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return read_attachment(c, sha256, hazard_id=hazard_id, inspection_id=inspection_id)
    row = conn.execute(text(
        "SELECT sha256, filename, media_type, size_bytes, content, uploaded_by, created_at FROM attachments "
        "WHERE sha256 = :sha AND hazard_id IS NOT DISTINCT FROM :hid AND inspection_id IS NOT DISTINCT FROM :iid "
        "ORDER BY id LIMIT 1"), {"sha": sha256, "hid": hazard_id, "iid": inspection_id}).mappings().first()
    return None if row is None else dict(row)


def insert_inspection(conn: Connection, values: Mapping[str, Any], *, lon: float | None, lat: float | None) -> int:
    """Insert an inspection record (排查表 row or spot check) and return its id.

    ``values`` holds the columns of ``inspections`` except ``geom``; ``spot_items`` is a mapping.
    """
    cols = {**values, "spot_items": json.dumps(dict(values.get("spot_items") or {}), ensure_ascii=False)}
    names = [*cols, "geom"]
    geom = f"ST_SetSRID(ST_MakePoint(:_lon, :_lat), {SRID})" if lon is not None and lat is not None else "NULL"
    params = [f"CAST(:{c} AS jsonb)" if c == "spot_items" else f":{c}" for c in cols]
    sql = f"INSERT INTO inspections ({', '.join(names)}) VALUES ({', '.join([*params, geom])}) RETURNING id"
    return int(conn.execute(text(sql), {**cols, "_lon": lon, "_lat": lat}).scalar_one())


def link_inspection(conn: Connection, inspection_id: int, hazard_id: int) -> None:
    """Record that ``hazard_id`` was reported from inspection ``inspection_id``."""
    conn.execute(text("UPDATE inspections SET hazard_id = :h WHERE id = :i"), {"h": hazard_id, "i": inspection_id})


_INSPECTION_SELECT = (
    "SELECT id, adcode, credit_code, kind, unit, inspector, inspected_at, place, major_found, description, "
    "disposal, remarks, spot_items, hazard_id, created_by, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM inspections")


def read_inspection(conn: Connection, inspection_id: int) -> dict[str, Any] | None:
    """Return one inspection the session sees, or None."""
    row = conn.execute(text(_INSPECTION_SELECT + " WHERE id = :id"), {"id": inspection_id}).mappings().first()
    return None if row is None else dict(row)


def list_inspections(conn: Connection | Engine, *, adcode: str | None = None, kind: str | None = None) -> pd.DataFrame:
    """Return the inspections the session sees, newest first (lon/lat columns, no geometry)."""
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return list_inspections(c, adcode=adcode, kind=kind)
    where, params = _equal("inspections", adcode=adcode, kind=kind)
    sql = f"{_INSPECTION_SELECT} WHERE {' AND '.join(where)} ORDER BY inspected_at DESC, id DESC"
    return pd.DataFrame(conn.execute(text(sql), params).mappings().all())


def point_in_district(conn: Connection, adcode: str, lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies in district ``adcode`` (its boundary included)."""
    return bool(conn.execute(text(
        f"SELECT ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), {SRID})) FROM districts "
        "WHERE adcode = :a"), {"lon": lon, "lat": lat, "a": adcode}).scalar())


SUBMISSION_TABLES = {"self_report": "self_reports", "dispatch": "dispatch_submissions"}


def insert_submission(conn: Connection, kind: str, *, adcode: str, credit_code: str | None, period: str,
                      submitted_by: str, figures: Mapping[str, Any], signed_by: str | None = None,
                      note: str | None = None, at: dt.datetime | None = None) -> int:
    """Append a submission (a later one for the same period gets the next revision); return its revision.

    Parameters
    ----------
    conn : Connection
        In a transaction.
    kind : str
        ``self_report`` (an enterprise's monthly report) or ``dispatch`` (a district's 调度表).
    adcode, credit_code, period : str
        Who submits for which month (``YYYY-MM``).
    submitted_by : str
        The account.
    figures : mapping
        The figures as sent.
    signed_by, note : str, optional
        The legal representative who signed (self-reports); a remark.
    at : datetime, optional
        When (default now).

    Returns
    -------
    int
        The revision written (1 for the first submission of the period).
    """
    tbl = SUBMISSION_TABLES[kind]
    owner, value = ("credit_code", credit_code) if kind == "self_report" else ("adcode", adcode)
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"riskmap.{tbl}.{value}.{period}"})
    revision = int(conn.execute(text(f"SELECT coalesce(max(revision), 0) + 1 FROM {tbl} "
                                     f"WHERE {owner} = :v AND period = :p"), {"v": value, "p": period}).scalar_one())
    conn.execute(text(
        f"INSERT INTO {tbl} (adcode, credit_code, period, revision, signed_by, submitted_by, submitted_at, figures, "
        "note) VALUES (:adcode, :cc, :period, :rev, :signed, :by, coalesce(:at, now()), CAST(:fig AS jsonb), :note)"),
        {"adcode": adcode, "cc": credit_code, "period": period, "rev": revision, "signed": signed_by,
         "by": submitted_by, "at": at, "fig": json.dumps(dict(figures), default=str, ensure_ascii=False),
         "note": note})
    return revision


def list_submissions(conn: Connection | Engine, kind: str, *, period: str | None = None) -> pd.DataFrame:
    """Return the submissions the session sees (every revision), newest first."""
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return list_submissions(c, kind, period=period)
    tbl = SUBMISSION_TABLES[kind]
    sql = (f"SELECT adcode, credit_code, period, revision, signed_by, submitted_by, submitted_at, figures, note "
           f"FROM {tbl}" + (" WHERE period = :p" if period else "") + " ORDER BY submitted_at DESC, revision DESC")
    return pd.DataFrame(conn.execute(text(sql), {"p": period}).mappings().all(),
                        columns=["adcode", "credit_code", "period", "revision", "signed_by", "submitted_by",
                                 "submitted_at", "figures", "note"])


def enterprise_of(conn: Connection | Engine, credit_code: str) -> dict[str, Any] | None:
    """Return the enterprise (name, adcode, credit_code) with ``credit_code`` that the session sees, or None."""
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return enterprise_of(c, credit_code)
    row = conn.execute(text("SELECT name, adcode, credit_code FROM enterprises WHERE credit_code = :c"),
                       {"c": credit_code}).mappings().first()
    return None if row is None else dict(row)


def district_at(engine: Engine, lon: float, lat: float) -> str | None:
    """Return the district containing (lon, lat), or None."""
    with engine.connect() as conn:
        return conn.execute(text(
            f"SELECT adcode FROM districts WHERE level <> 'city' AND ST_Intersects(geom, "
            f"ST_SetSRID(ST_MakePoint(:lon, :lat), {SRID})) ORDER BY adcode LIMIT 1"),
            {"lon": lon, "lat": lat}).scalar_one_or_none()


def status_differs(conn: Connection, statuses: Mapping[str, str]) -> list[str]:
    """Keys of hazards whose stored status differs from ``statuses`` (the file's), sorted."""
    if not statuses:
        return []
    rows = conn.execute(text("SELECT key, status FROM hidden_hazards WHERE key = ANY(:keys)"),
                        {"keys": list(statuses)}).all()
    return sorted(str(k) for k, status in rows if statuses.get(str(k)) != status)


def enterprise_district(conn: Connection | Engine, credit_code: str) -> str | None:
    """Return the district of the enterprise with ``credit_code`` that the session sees (None otherwise)."""
    found = enterprise_of(conn, credit_code)
    return None if found is None else str(found["adcode"])


def enterprise_points(engine: Engine) -> list[dict[str, Any]]:
    """Enterprises the session sees with a credit code: code, name, district and position, by district and code."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT credit_code, name, adcode, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                                 "FROM enterprises WHERE credit_code IS NOT NULL ORDER BY adcode, credit_code"))
        return [dict(r) for r in rows.mappings()]
