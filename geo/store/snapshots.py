"""Stored period snapshots of the measures (``measure_snapshots``, append-only)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

SNAPSHOT_COLUMNS = ("id", "period_end", "kind", "scope", "rubric_version", "measures", "score", "class_code",
                    "rank", "n_districts", "taken_at", "taken_by")


def insert_snapshots(engine: Engine, rows: Sequence[dict[str, Any]], *, period_end: dt.date, kind: str,
                     rubric_version: str, taken_by: str) -> list[int]:
    """Store one snapshot row per scope (a district code or ``"city"``), in one transaction.

    Parameters
    ----------
    engine : Engine
        The store (the owner, or the application role under a city-wide scope).
    rows : sequence of dict
        Keys ``scope``, ``measures`` (JSON-serialisable mapping), ``score``, ``class_code``, ``rank``
        (``None`` for the city) and ``n_districts``.
    period_end : date
        Last day the figures cover.
    kind : str
        ``"month_end"`` or ``"on_demand"``.
    rubric_version : str
        Version of the 五色 rubric the scores were computed with.
    taken_by : str
        Who took the snapshot (an account or ``"scheduler"``).

    Returns
    -------
    list of int
        The new rows' ids.
    """
    params = [{"period_end": period_end, "kind": kind, "scope": str(r["scope"]), "rubric": rubric_version,
               "measures": json.dumps(r["measures"], ensure_ascii=False), "score": r.get("score"),
               "cls": r.get("class_code"), "rank": r.get("rank"), "n": int(r["n_districts"]), "by": taken_by}
              for r in rows]
    sql = text("INSERT INTO measure_snapshots (period_end, kind, scope, rubric_version, measures, score, class_code, "
               "rank, n_districts, taken_by) VALUES (:period_end, :kind, :scope, :rubric, CAST(:measures AS jsonb), "
               ":score, :cls, :rank, :n, :by) RETURNING id")
    with engine.begin() as conn:
        return [int(conn.execute(sql, p).scalar_one()) for p in params]


def read_snapshots(engine: Engine | Connection, *, since: dt.date | None = None, until: dt.date | None = None,
                   kind: str | None = None, rubric_version: str | None = None) -> pd.DataFrame:
    """Read stored snapshots, the latest taken per (period end, kind, scope, rubric) only.

    Parameters
    ----------
    engine : Engine or Connection
        Database to read (a district session sees its own rows and the city's).
    since, until : date, optional
        Period ends from ``since`` to ``until``, inclusive.
    kind : str, optional
        ``"month_end"`` or ``"on_demand"``.
    rubric_version : str, optional
        Only scores computed with this rubric.

    Returns
    -------
    DataFrame
        :data:`SNAPSHOT_COLUMNS`, ordered by period end and scope.
    """
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return read_snapshots(conn, since=since, until=until, kind=kind, rubric_version=rubric_version)
    where: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    for column, op, value in (("period_end", ">=", since), ("period_end", "<=", until), ("kind", "=", kind),
                              ("rubric_version", "=", rubric_version)):
        if value is not None:
            name = f"p{len(params)}"
            where.append(f"{column} {op} :{name}")
            params[name] = value
    sql = (f"SELECT DISTINCT ON (period_end, kind, scope, rubric_version) {', '.join(SNAPSHOT_COLUMNS)} "
           f"FROM measure_snapshots WHERE {' AND '.join(where)} "
           "ORDER BY period_end, kind, scope, rubric_version, taken_at DESC, id DESC")
    rows = engine.execute(text(sql), params).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=list(SNAPSHOT_COLUMNS))
