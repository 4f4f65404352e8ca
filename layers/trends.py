"""Trends: the figures of one scope (the city or a district) at each of the last months' ends.

The series are read from the stored month-end snapshots (:mod:`layers.snapshots`), so a chart shows what
the bulletins said. A month without a stored snapshot is recomputed from the history only for a city-wide
session (:func:`layers.snapshots.period_figures` covers every district); a district session leaves it as a
gap, as does a month before the history begins. Each point says where it came from (``source``).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from geo import store
from layers.rating import load_rubric
from layers.snapshots import month_ends, period_figures, period_moment

__all__ = ["TREND_MEASURES", "trend_series"]

#: Figures a trend shows (the codes of :mod:`layers.measures` and the 五色 ``score``).
TREND_MEASURES = ("major_risks", "significant_risks", "general_risks", "low_risks", "rectification_rate",
                  "overdue_hazards", "score")
#: Where a point comes from: a stored snapshot, recomputed from the history, or nothing (a gap).
SOURCES = ("snapshot", "computed", None)

_COMPUTED: dict[tuple[str, str, int, dt.date], pd.DataFrame] = {}
_LOCK = threading.Lock()


def _city_wide() -> bool:
    scope = store.current_scope()
    return scope is None or scope.all_districts


def _stored(engine: Engine, first: dt.date, last: dt.date, scope: str) -> dict[dt.date, dict[str, Any]]:
    """Read the stored figures of ``scope`` per period end: month-end rows first, the current rubric preferred."""
    rows = store.read_snapshots(engine, since=first, until=last)
    rows = rows[rows["scope"].astype(str) == scope]
    current = load_rubric().version
    out: dict[dt.date, dict[str, Any]] = {}
    if not len(rows):
        return out
    rows = rows.assign(_kind=(rows["kind"] != "month_end").astype(int),
                       _rubric=(rows["rubric_version"] != current).astype(int))
    rows = rows.sort_values(["period_end", "_kind", "_rubric", "taken_at"], ascending=[True, True, True, False])
    for r in rows.drop_duplicates("period_end").to_dict("records"):
        out[r["period_end"]] = {**dict(r["measures"] or {}), "score": r["score"]}
    return out


def _reach() -> str:
    """Return the session's data scope for cache keys: every district, a district (and enterprise), or none."""
    scope = store.current_scope()
    return "none" if scope is None else "all" if scope.all_districts else f"{scope.adcode}/{scope.credit_code}"


def _computed(engine: Engine, day: dt.date) -> pd.DataFrame | None:
    """:func:`period_figures` of ``day`` (cached per data scope and version), or None before the history begins."""
    # the figures are read under the session's row-level scope: never hand one scope's figures to another
    key = (engine.url.render_as_string(hide_password=True), _reach(), store.data_version(engine), day)
    with _LOCK:
        if key in _COMPUTED:
            return _COMPUTED[key]
    if not len(store.read_layer_as_of(engine, "districts", period_moment(day))):
        return None
    figures = period_figures(engine, day)
    with _LOCK:
        for stale in [k for k in _COMPUTED if k[:2] == key[:2] and k[2] != key[2]]:
            del _COMPUTED[stale]  # figures of an older data version
        _COMPUTED[key] = figures
    return figures


def trend_series(engine: Engine, scope: str, until: dt.date, months: int = 12, *,
                 fill: bool | None = None) -> pd.DataFrame:
    """Return the figures of ``scope`` at the last ``months`` month ends before ``until``, oldest first.

    Parameters
    ----------
    engine : Engine
        The store, read under the caller's scope (a district session sees its own rows and the city's).
    scope : str
        :data:`layers.snapshots.CITY` or a district code.
    until : date
        The month ends before this day are shown (:func:`layers.snapshots.month_ends`).
    months : int
        How many month ends.
    fill : bool, optional
        Recompute a month without a stored snapshot from the history (default: only for a city-wide
        session, whose history covers every district).

    Returns
    -------
    DataFrame
        Indexed by period end (``period_end``); the columns of :data:`TREND_MEASURES` (NaN in a gap) and
        ``source`` (``"snapshot"``, ``"computed"`` or None for a gap).

    Notes
    -----
    ``trend_series(engine, "city", date(2026, 12, 6))`` ends with the month end 2026-11-30.
    """
    ends = month_ends(until, months)
    stored = _stored(engine, ends[0], ends[-1], str(scope))
    fill = _city_wide() if fill is None else fill
    rows: list[dict[str, Any]] = []
    for end in ends:
        values: dict[str, Any] | None = stored.get(end)
        source: str | None = "snapshot" if values is not None else None
        if values is None and fill:
            figures = _computed(engine, end)
            if figures is not None and str(scope) in figures.index:
                values, source = {str(k): v for k, v in figures.loc[str(scope)].items()}, "computed"
        row: dict[str, Any] = {c: _number((values or {}).get(c)) for c in TREND_MEASURES}
        rows.append({"period_end": end, **row, "source": source})
    out = pd.DataFrame(rows, columns=["period_end", *TREND_MEASURES, "source"]).set_index("period_end")
    out = out.astype(dict.fromkeys(TREND_MEASURES, float))
    out["source"] = pd.Series([r["source"] for r in rows], index=out.index, dtype=object)
    return out


def _number(value: Any) -> float:
    if value is None or value is pd.NA:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")

