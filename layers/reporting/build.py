"""Assemble a report of one period for a district or the city from its definition's sections."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from geo import store
from layers.reporting.definitions import data_date, due_date, period_end, reports_in_force
from layers.reporting.document import Report
from layers.reporting.sections import SECTIONS, ReportContext, load_figures
from layers.snapshots import CITY

__all__ = ["CITY_ISSUER", "build_report", "plain_figures"]

#: The city's issuing office, and a district's (its name is put in front).
CITY_ISSUER = "昆明市安全生产委员会办公室"
DISTRICT_ISSUER = "安全生产委员会办公室"


def plain_figures(row: Any) -> dict[str, Any]:
    """Return one scope's figures as JSON values (numbers, text; a missing figure is None)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            out[str(key)] = None
        elif hasattr(value, "item"):
            item = value.item()
            out[str(key)] = None if isinstance(item, float) and math.isnan(item) else item
        else:
            out[str(key)] = value if isinstance(value, int | float | str | bool) else str(value)
    return out


def _previous_end(period: str, end: dt.date) -> dt.date:
    if len(period) == 4:
        return dt.date(end.year - 1, 12, 31)
    return end.replace(day=1) - dt.timedelta(days=1)


def build_report(engine: Engine, code: str, *, scope: str, period: str, issued_on: dt.date | None = None) -> Report:
    """Build report ``code`` of ``period`` for a district (its adcode) or the city (``"city"``).

    Parameters
    ----------
    engine : Engine
        The store, under the caller's scope (a district account builds only its own district's reports).
    code : str
        A report code of :func:`layers.reporting.definitions.reports_in_force` (definitions with local values).
    scope : str
        A district code, or :data:`layers.snapshots.CITY`.
    period : str
        ``YYYY-MM`` for a monthly report, ``YYYY`` for a yearly one.
    issued_on : date, optional
        Date printed on the report (default: today).

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        Unknown report or section code, a malformed period, or a scope without figures.
    """
    reports = reports_in_force(engine)
    if code not in reports:
        raise ValueError(f"unknown report {code!r}; known: {', '.join(reports)}")
    definition = reports[code]
    # the figures are as of the data date (a yearly report due mid-year: the month end before it is due);
    # the change is counted from the end of the previous period (the year so far, or the month)
    end = data_date(definition, period)
    previous_end = _previous_end(period, period_end(definition, period))
    figures, note = load_figures(engine, end)
    if scope not in figures.index:
        raise ValueError(f"no figures for {scope!r} at {end}: not a district of the city, or not in your scope")
    try:
        previous: pd.DataFrame | None = load_figures(engine, previous_end)[0]
    except ValueError:  # a district session and no stored figures of the previous period: no comparison
        previous = None
    with engine.connect() as conn:
        names = store.district_codes(conn)
    ctx = ReportContext(engine=engine, scope=scope, period_end=end, previous_end=previous_end, figures=figures,
                        previous=previous if previous is not None and len(previous) else None, names=names)
    unknown = [s for s in definition.sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f"report {code}: unknown sections {unknown}")
    issuer = CITY_ISSUER if scope == CITY else f"{ctx.scope_name}{DISTRICT_ISSUER}"
    label = f"{end.year}年{end.month}月" if definition.period == "month" else f"{end.year}年"
    return Report(code=code, title=f"{ctx.scope_name}{label}{definition.zh}", scope=scope, scope_name=ctx.scope_name,
                  period=label, period_end=end, issued_on=issued_on or dt.date.today(), issuer=issuer,
                  recipient=definition.recipient_zh, number=f"〔{(issued_on or dt.date.today()).year}〕  号",
                  data_note=note, sections=[SECTIONS[s](ctx) for s in definition.sections],
                  due=due_date(definition, period), figures=plain_figures(figures.loc[str(scope)]))
