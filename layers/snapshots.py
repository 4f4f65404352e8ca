"""Period figures: the measures of every district and the city at a period end, from the data as it was.

The figures are the one definition of :mod:`layers.measures` (risk sources by level, open and overdue
hazards, 违规, open findings), the campaign's 整改率 split as the hazard loop splits it
(:mod:`layers.campaign_measures`) and the 五色 score, class and rank (:mod:`layers.rating`), computed on
the layers as they were at the end of the period's last local day (``row_versions``; building
footprints keep no history and are read as they are now). A snapshot stores them
(``measure_snapshots``) with the rubric version used, so a later rubric change never rewrites a past
bulletin: a recomputation under the new rubric is stored beside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from geo import store
from geo.checks.bundle import LAYERS, Bundle
from geo.constants import LOCAL_ZONE
from layers.campaign_measures import CAMPAIGN_MEASURES, campaign_measures
from layers.industries import industry_measures
from layers.measures import counted_sources, district_measures
from layers.rating import Rubric, district_indicators, load_rubric, rate_districts

__all__ = ["BY_INDUSTRY", "CITY", "SNAPSHOT_KINDS", "figures_of", "layers_as_of", "month_ends", "period_figures",
           "period_moment", "take_snapshot"]

#: Scope code of the whole city's row.
CITY = "city"
#: Key of the city row's measures that holds the figures per 行业领域.
BY_INDUSTRY = "by_industry"
#: Kinds of snapshot: taken at each month's end (by a scheduler) or asked for on a chosen day.
SNAPSHOT_KINDS = ("month_end", "on_demand")
#: Count measures summed over districts for the city row (the others are recomputed from the sums).
_SUMMED = ("major_risks", "significant_risks", "general_risks", "low_risks", "risk_sources", "risk_points",
           "hazards_total", "open_hazards", "open_major_hazards", "overdue_hazards", "hazards_done", "violations",
           "open_findings", "major_found", "major_rectified", "overdue")


def period_moment(day: dt.date) -> dt.datetime:
    """Return the last instant of local ``day`` (the data "as of" a period end).

    Examples
    --------
    >>> period_moment(dt.date(2026, 11, 30)).isoformat()
    '2026-11-30T23:59:59.999999+08:00'
    """
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_ZONE) - dt.timedelta(
        microseconds=1)


def month_ends(until: dt.date, count: int = 12) -> list[dt.date]:
    """Return the last ``count`` month ends on or before ``until``, oldest first.

    Examples
    --------
    >>> [d.isoformat() for d in month_ends(dt.date(2026, 12, 6), 3)]
    ['2026-09-30', '2026-10-31', '2026-11-30']
    """
    end = until.replace(day=1) - dt.timedelta(days=1)
    out = []
    for _ in range(count):
        out.append(end)
        end = end.replace(day=1) - dt.timedelta(days=1)
    return out[::-1]


def layers_as_of(engine: Engine, at: dt.datetime) -> tuple[Bundle, gpd.GeoDataFrame | None, pd.DataFrame]:
    """Read the check layers, the identified HCA segments and the findings as they were at ``at``.

    Parameters
    ----------
    engine : Engine
        The store (read under the caller's scope).
    at : datetime
        The moment, timezone-aware.

    Returns
    -------
    tuple
        The :class:`~geo.checks.bundle.Bundle` of declared layers (building footprints as they are now:
        they keep no history), the identified HCA segments (or None) and the findings.
    """
    frames: dict[str, gpd.GeoDataFrame] = {}
    for layer in LAYERS:
        frames[layer] = (store.read_layer(engine, layer) if layer not in store.HISTORY_KEYS
                         else store.read_layer_as_of(engine, layer, at))
    hcas = frames["hcas"]
    identified = hcas[hcas["origin"] == "identified"] if len(hcas) and "origin" in hcas else None
    if len(hcas) and "origin" in hcas:
        frames["hcas"] = hcas[hcas["origin"] != "identified"].reset_index(drop=True)
    findings = store.read_layer_as_of(engine, "check_findings", at)
    return Bundle(frames), identified if identified is not None and len(identified) else None, findings


def _hazard_rows(bundle: Bundle) -> pd.DataFrame:
    """Hazards as :func:`layers.campaign_measures.campaign_measures` reads them (with the industry)."""
    hz = pd.DataFrame(bundle["hidden_hazards"].drop(columns="geometry"))
    ent = bundle["enterprises"]
    industry = dict(zip(ent["credit_code"], ent["industry"], strict=False)) if len(ent) else {}
    code = hz["credit_code"] if "credit_code" in hz else pd.Series(None, index=hz.index, dtype=object)
    return hz.assign(enterprise_industry=code.map(industry))


def period_figures(engine: Engine, period_end: dt.date, *, rubric: Rubric | None = None) -> pd.DataFrame:
    """Every figure of every district and the city, as the data stood at the end of ``period_end``.

    Parameters
    ----------
    engine : Engine
        The store, read under the caller's scope (a city-wide scope for a snapshot).
    period_end : date
        Last local day of the period.
    rubric : Rubric, optional
        五色 rubric (default: the published one).

    Returns
    -------
    DataFrame
        As :func:`figures_of`, for the layers as they were at :func:`period_moment` of ``period_end``.
    """
    bundle, identified, findings = layers_as_of(engine, period_moment(period_end))
    return figures_of(bundle, findings, period_end, identified_hcas=identified, rubric=rubric)


def figures_of(bundle: Bundle, findings: pd.DataFrame, day: dt.date, *,
               identified_hcas: gpd.GeoDataFrame | None = None, rubric: Rubric | None = None) -> pd.DataFrame:
    """Every figure of every district of ``bundle`` and the city, judged on ``day``.

    Parameters
    ----------
    bundle : Bundle
        Declared layers (HCAs without identified segments).
    findings : DataFrame
        Stored findings (any status).
    day : date
        The day overdue hazards and reviews are judged on.
    identified_hcas : GeoDataFrame, optional
        HCA segments identified by check runs.
    rubric : Rubric, optional
        五色 rubric (default: the published one).

    Returns
    -------
    DataFrame
        Indexed by scope (district codes, then :data:`CITY`); the count columns of
        :func:`layers.measures.district_measures`, ``rectification_rate``, the campaign measures of
        :data:`layers.campaign_measures.CAMPAIGN_MEASURES`, and ``score``, ``class_code``, ``rank`` (the
        city row has none) and ``n_districts``.
    """
    rubric = rubric or load_rubric()
    sources = counted_sources(bundle, identified_hcas=identified_hcas)
    out = district_measures(bundle, sources, findings, day)
    hazards = _hazard_rows(bundle)
    campaign = campaign_measures(hazards, by="adcode", today=day)
    codes = [m.code for m in CAMPAIGN_MEASURES]
    out = out.join(campaign.reindex(out.index)[codes])
    for column in ("major_found", "major_rectified", "overdue"):
        out[column] = out[column].fillna(0).astype(int)
    indicators = district_indicators(bundle, findings, as_of=day, rubric=rubric, hca_segments=identified_hcas,
                                     sources=sources)
    ratings = rate_districts(indicators, rubric)
    out = out.join(ratings[["score", "class_code", "rank"]].reindex(out.index))
    out["n_districts"] = len(out)
    city: dict[str, Any] = {c: int(out[c].sum()) for c in _SUMMED}
    everything = campaign_measures(hazards.assign(adcode=CITY), by="adcode", today=day)
    if len(everything):
        city.update({c: everything.loc[CITY, c] for c in codes if c not in _SUMMED})
    city.update(score=None, class_code=None, rank=None, n_districts=len(out))
    out.loc[CITY] = pd.Series(city)
    total = out["hazards_total"].astype(float)
    out["rectification_rate"] = (out["hazards_done"] / total.where(total > 0)).round(4)
    return out


def take_snapshot(engine: Engine, period_end: dt.date, *, kind: str = "month_end", taken_by: str,
                  rubric: Rubric | None = None) -> pd.DataFrame:
    """Compute :func:`period_figures` and store them as one snapshot row per scope.

    Parameters
    ----------
    engine : Engine
        The store, under a city-wide scope (or the owner): a snapshot covers every district.
    period_end : date
        Last day covered (a month end for ``kind="month_end"``).
    kind : str
        One of :data:`SNAPSHOT_KINDS`.
    taken_by : str
        The account or ``"scheduler"``.
    rubric : Rubric, optional
        五色 rubric (default: the published one); its version labels the rows.

    Returns
    -------
    DataFrame
        The figures stored (as :func:`period_figures`).
    """
    if kind not in SNAPSHOT_KINDS:
        raise ValueError(f"kind must be one of {SNAPSHOT_KINDS}, not {kind!r}")
    if kind == "month_end" and (period_end + dt.timedelta(days=1)).day != 1:
        raise ValueError(f"{period_end} is not a month end; take an on_demand snapshot instead")
    rubric = rubric or load_rubric()
    bundle, identified, findings = layers_as_of(engine, period_moment(period_end))
    figures = figures_of(bundle, findings, period_end, identified_hcas=identified, rubric=rubric)
    industries = industry_measures(bundle, counted_sources(bundle, identified_hcas=identified), findings, period_end)
    rows = []
    for scope, r in figures.iterrows():
        measures = {c: _plain(r[c]) for c in figures.columns if c not in ("score", "class_code", "rank",
                                                                         "n_districts")}
        if scope == CITY:  # the city's row also carries the figures of each 行业领域 (按行业)
            measures[BY_INDUSTRY] = {str(code): {c: _plain(v) for c, v in row.items()}
                                     for code, row in industries.iterrows()}
        rows.append({"scope": scope, "measures": measures, "score": _plain(r["score"]),
                     "class_code": _plain(r["class_code"]), "rank": _plain(r["rank"]),
                     "n_districts": int(r["n_districts"])})
    store.insert_snapshots(engine, rows, period_end=period_end, kind=kind, rubric_version=rubric.version,
                           taken_by=taken_by)
    return figures


def _plain(value: Any) -> Any:
    """Return a JSON-ready scalar: None for missing, a plain int or float otherwise."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    return value
