"""Records of the campaign beside the hazards: attachments, inspections, monthly submissions."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from geo.constants import STORAGE_SRID
from geo.store.engine import on_connection
from geo.store.hazards import _equal


def add_attachment(conn: Connection, *, sha256: str, filename: str, media_type: str, content: bytes,
                   uploaded_by: str, hazard_id: int | None = None, inspection_id: int | None = None,
                   adcode: str, credit_code: str | None = None) -> None:
    """Store an attachment of a hazard or an inspection (type and size are checked by the caller)."""
    conn.execute(text(
        "INSERT INTO attachments (sha256, hazard_id, inspection_id, adcode, credit_code, filename, media_type, "
        "size_bytes, content, uploaded_by) VALUES (:sha, :hid, :iid, :adcode, :cc, :fn, :mt, :size, :content, :by)"),
        {"sha": sha256, "hid": hazard_id, "iid": inspection_id, "adcode": adcode, "cc": credit_code,
         "fn": filename, "mt": media_type, "size": len(content), "content": content, "by": uploaded_by})


@on_connection
def read_attachment(conn: Connection, sha256: str, *, hazard_id: int | None = None,
                    inspection_id: int | None = None) -> dict[str, Any] | None:
    """Return an attachment the session may see (scope as its hazard or inspection), or None."""
    row = conn.execute(text(
        "SELECT sha256, filename, media_type, size_bytes, content, uploaded_by, created_at FROM attachments "
        "WHERE sha256 = :sha AND hazard_id IS NOT DISTINCT FROM :hid AND inspection_id IS NOT DISTINCT FROM :iid "
        "ORDER BY id LIMIT 1"), {"sha": sha256, "hid": hazard_id, "iid": inspection_id}).mappings().first()
    return None if row is None else dict(row)


#: Columns of :func:`hazard_attachments` (no content; read each file with :func:`attachment_content`).
ATTACHMENT_INDEX_COLUMNS = ("id", "hazard_id", "inspection_id", "sha256", "filename", "media_type", "size_bytes",
                            "uploaded_by", "created_at")


@on_connection
def hazard_attachments(conn: Connection, hazard_ids: Sequence[int]) -> pd.DataFrame:
    """Return the attachments of these hazards and of the inspections that found them, as the session sees them.

    ``hazard_id`` is the hazard's for an inspection's photo too; ``inspection_id`` is set for those.
    Ordered by hazard, then upload order. Contents are not read (see :func:`attachment_content`).
    """
    rows = conn.execute(text(
        "SELECT a.id, coalesce(a.hazard_id, i.hazard_id) AS hazard_id, a.inspection_id, a.sha256, a.filename, "
        "a.media_type, a.size_bytes, a.uploaded_by, a.created_at FROM attachments a "
        "LEFT JOIN inspections i ON i.id = a.inspection_id "
        "WHERE coalesce(a.hazard_id, i.hazard_id) = ANY(:ids) ORDER BY 2, a.created_at, a.id"),
        {"ids": [int(i) for i in hazard_ids]}).mappings().all()
    return pd.DataFrame(rows, columns=list(ATTACHMENT_INDEX_COLUMNS))


@on_connection
def attachment_content(conn: Connection, attachment_id: int) -> bytes | None:
    """Return the bytes of one attachment the session may see, or None."""
    found = conn.execute(text("SELECT content FROM attachments WHERE id = :id"),
                         {"id": int(attachment_id)}).scalar_one_or_none()
    return None if found is None else bytes(found)


def insert_inspection(conn: Connection, values: Mapping[str, Any], *, lon: float | None, lat: float | None) -> int:
    """Insert an inspection record (排查表 row or spot check) and return its id.

    ``values`` holds the columns of ``inspections`` except ``geom``; ``spot_items`` is a mapping.
    """
    cols = {**values, "spot_items": json.dumps(dict(values.get("spot_items") or {}), ensure_ascii=False)}
    names = [*cols, "geom"]
    geom = f"ST_SetSRID(ST_MakePoint(:_lon, :_lat), {STORAGE_SRID})" if lon is not None and lat is not None else "NULL"
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


@on_connection
def list_inspections(conn: Connection, *, adcode: str | None = None, kind: str | None = None) -> pd.DataFrame:
    """Return the inspections the session sees, newest first (lon/lat columns, no geometry)."""
    where, params = _equal("inspections", adcode=adcode, kind=kind)
    sql = f"{_INSPECTION_SELECT} WHERE {' AND '.join(where)} ORDER BY inspected_at DESC, id DESC"
    return pd.DataFrame(conn.execute(text(sql), params).mappings().all())


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


@on_connection
def list_submissions(conn: Connection, kind: str, *, period: str | None = None) -> pd.DataFrame:
    """Return the submissions the session sees (every revision), newest first."""
    tbl = SUBMISSION_TABLES[kind]
    sql = (f"SELECT adcode, credit_code, period, revision, signed_by, submitted_by, submitted_at, figures, note "
           f"FROM {tbl}" + (" WHERE period = :p" if period else "") + " ORDER BY submitted_at DESC, revision DESC")
    return pd.DataFrame(conn.execute(text(sql), {"p": period}).mappings().all(),
                        columns=["adcode", "credit_code", "period", "revision", "signed_by", "submitted_by",
                                 "submitted_at", "figures", "note"])
