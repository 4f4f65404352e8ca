"""Reads of the record history that the database keeps (``row_versions``, migration 0010).

Every insert, update and delete of a tracked table writes a version through triggers, so these
functions only read: a layer as it was at a moment, the versions of one record, and the versions that
began or ended in a period. Row-level security applies to versions as to the rows themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, Engine, text

from geo.constants import LOCAL_TIMEZONE
from geo.store.layers import _read_gdf, table

#: Tables whose every version is kept (the triggers of migration 0010), with the column naming a record.
HISTORY_KEYS: dict[str, str] = {
    "districts": "adcode", "enterprises": "key", "installations": "key", "risk_points": "key",
    "risk_contours": "key", "protection_targets": "key", "pipelines": "key", "hcas": "key",
    "tailings_dams": "key", "infrastructure": "key", "hidden_hazards": "key", "check_findings": "id",
    "parks": "key",  # migration 0012
}
VERSION_COLUMNS = ("table_name", "row_key", "adcode", "valid_from", "valid_to", "changed_by", "change", "data")


def _tracked(layer: str) -> str:
    if layer not in HISTORY_KEYS:
        raise ValueError(f"{layer!r} keeps no history; tracked: {', '.join(HISTORY_KEYS)}")
    return layer


def _history_table(layer: str) -> Any:
    if layer == "check_findings":
        from geo.models import CheckFinding

        return CheckFinding.__table__
    return table(layer)


def read_layer_as_of(engine: Engine | Connection, layer: str, at: dt.datetime,
                     adcode: str | None = None) -> gpd.GeoDataFrame:
    """Read a layer as it was at ``at``: the version of each record valid then, in the columns of today.

    Parameters
    ----------
    engine : Engine or Connection
        Database to read (scoped like any read).
    layer : str
        A tracked table, e.g. ``"enterprises"`` or ``"hidden_hazards"`` (see :data:`HISTORY_KEYS`).
    at : datetime
        The moment, timezone-aware.
    adcode : str, optional
        Only records of this district (pipelines: those crossing it).

    Returns
    -------
    GeoDataFrame
        The same columns as :func:`geo.store.read_layer` (geometry in EPSG:4490); records created after
        ``at`` or deleted before it are absent.
    """
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    tbl = _history_table(_tracked(layer))
    cols = ", ".join("v.geom AS geom" if c.name == "geom" else f'r."{c.name}"' for c in tbl.columns)
    sql = (f"SELECT {cols} FROM row_versions v, "
           f"LATERAL jsonb_populate_record(NULL::{tbl.name}, v.data) r "
           "WHERE v.table_name = :layer AND v.valid_from <= :at AND (v.valid_to IS NULL OR v.valid_to > :at)")
    params: dict[str, Any] = {"layer": layer, "at": at}
    if adcode is not None:
        sql += " AND (v.adcode = :adcode OR :adcode = ANY(v.adcodes))"
        params["adcode"] = adcode
    return _read_gdf(engine, sql + " ORDER BY v.row_key", params)


def record_versions(engine: Engine | Connection, layer: str, key: str) -> pd.DataFrame:
    """List every version of one record, oldest first.

    Parameters
    ----------
    engine : Engine or Connection
        Database to read.
    layer : str
        A tracked table.
    key : str
        The record's key (``key`` column; a finding's ``id``; a district's ``adcode``).

    Returns
    -------
    DataFrame
        :data:`VERSION_COLUMNS`; ``data`` is the row as a dict (without geometry); ``valid_to`` is
        missing for the current version and for a deleted record's last one it is the deletion time.
    """
    return _versions(engine, "v.table_name = :layer AND v.row_key = :key", {"layer": _tracked(layer), "key": key})


def versions_between(engine: Engine | Connection, since: dt.datetime, until: dt.datetime,
                     layers: tuple[str, ...] | None = None) -> pd.DataFrame:
    """List the versions that began or ended in the period ``(since, until]``, oldest first.

    Parameters
    ----------
    engine : Engine or Connection
        Database to read.
    since, until : datetime
        The period, timezone-aware; ``since`` itself is excluded.
    layers : tuple of str, optional
        Only these tracked tables (default: all).

    Returns
    -------
    DataFrame
        :data:`VERSION_COLUMNS`; a version that began in the period was written then, one that ended in
        it was replaced or deleted then.
    """
    names = [_tracked(name) for name in (layers or tuple(HISTORY_KEYS))]
    where = ("v.table_name = ANY(:layers) AND ((v.valid_from > :since AND v.valid_from <= :until) "
             "OR (v.valid_to > :since AND v.valid_to <= :until))")
    return _versions(engine, where, {"layers": names, "since": since, "until": until})


def _versions(engine: Engine | Connection, where: str, params: dict[str, Any]) -> pd.DataFrame:
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return _versions(conn, where, params)
    rows = engine.execute(text(f"SELECT {', '.join('v.' + c for c in VERSION_COLUMNS)} FROM row_versions v "
                               f"WHERE {where} ORDER BY v.valid_from, v.id"), params).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=list(VERSION_COLUMNS))


def date_demo_history(conn: Connection, since: dt.datetime) -> int:
    """Give generated demo data a past: its first versions valid from ``since``, hazards from their steps.

    A demo is written in one go, so all its versions would begin today and every view "as of" last
    month would be empty. This dates them as the demo tells them: each hazard version from the time of
    the step that made it (an imported hazard's first version from the day it was found), every other
    record's first version from ``since``. Only the owner may do this (the application role cannot write
    history), and only the demo loader does it.

    Parameters
    ----------
    conn : Connection
        The owner's connection, in a transaction.
    since : datetime
        Timezone-aware start of the demo's data.

    Returns
    -------
    int
        Versions re-dated.
    """
    hazards = conn.execute(text("""
        UPDATE row_versions v
           SET valid_from = least(CASE WHEN s.action = 'import'
                                       THEN greatest(h.found_on::timestamp AT TIME ZONE :zone, :since)
                                       ELSE s.at END, v.valid_from)
          FROM hidden_hazards h JOIN hazard_steps s ON s.hazard_id = h.id
         WHERE v.table_name = 'hidden_hazards' AND v.row_key = h.key
           AND (v.data ->> 'version')::int = s.version""").bindparams(zone=LOCAL_TIMEZONE, since=since)).rowcount
    # a version without a step of its own (written before its step) begins no later than its successors
    conn.execute(text("""
        UPDATE row_versions v SET valid_from = w.earliest
          FROM (SELECT id, min(valid_from) OVER (PARTITION BY row_key ORDER BY id DESC
                                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS earliest
                  FROM row_versions WHERE table_name = 'hidden_hazards') w
         WHERE v.id = w.id AND w.earliest < v.valid_from"""))
    conn.execute(text("""
        UPDATE row_versions v SET valid_to = n.valid_from
          FROM row_versions n
         WHERE v.table_name = 'hidden_hazards' AND n.table_name = v.table_name AND n.row_key = v.row_key
           AND v.valid_to IS NOT NULL
           AND n.id = (SELECT min(x.id) FROM row_versions x
                        WHERE x.table_name = v.table_name AND x.row_key = v.row_key AND x.id > v.id)"""))
    others = conn.execute(text("""
        UPDATE row_versions v SET valid_from = :since
         WHERE v.table_name <> 'hidden_hazards' AND v.valid_from > :since
           AND NOT EXISTS (SELECT 1 FROM row_versions p
                            WHERE p.table_name = v.table_name AND p.row_key = v.row_key AND p.id < v.id)"""),
        {"since": since}).rowcount
    return int(hazards) + int(others)
