"""Everything the leader cockpit shows, computed once per data version of the store.

A snapshot bundles the 四色 sources, the district summary, the 五色 ratings, the open findings,
KPIs and the district outlines. It is rebuilt only when the store's data version changes (any
import, check run or status change appends to the audit log), so page loads and district switches
read a cached, read-only object instead of querying and recomputing.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from geo import store
from geo.checks.bundle import Bundle
from geo.checks.ruleset import RuleSet
from geo.checks.sources import bundle_from_store
from geo.rule_admin import effective_ruleset
from layers.rating import Rubric, district_indicators, load_rubric, rate_districts
from layers.sources import district_summary, risk_sources

OPEN_STATUSES = ("open", "in_remediation")


@dataclass(frozen=True)
class CitySnapshot:
    """Read-only cockpit data for one data version."""

    version: int
    as_of: dt.date
    bundle: Bundle
    sources: gpd.GeoDataFrame
    summary: pd.DataFrame
    indicators: pd.DataFrame
    ratings: pd.DataFrame
    findings: gpd.GeoDataFrame
    hcas: gpd.GeoDataFrame
    rubric: Rubric
    #: The check rules in force (the file's with a city's local values), for lists that compute figures.
    rules: RuleSet | None = None

    def kpis(self, adcode: str | None = None) -> dict[str, Any]:
        """Headline figures for the city or one district.

        Returns
        -------
        dict
            major_risks, significant_risks, open_major_hazards, rectification_rate (0–1 or None),
            violations, hca_km, overhead_tailings, districts.
        """
        ind = self.indicators if adcode is None else self.indicators.loc[[adcode]]
        summ = self.summary if adcode is None else self.summary.loc[[adcode]]
        haz = self.bundle["hidden_hazards"]
        if adcode is not None and len(haz):
            haz = haz[haz["adcode"] == adcode]
        done = int(haz["status"].isin(["rectified", "closed"]).sum()) if len(haz) else 0
        hca_km = sum(float(ind[c].sum()) for c in ("hca_km_grade3", "hca_km_grade2", "hca_km_grade1") if c in ind)
        return {
            "districts": len(ind),
            # the same 四色 source counts as the map and the district table (HCA segments included)
            "major_risks": int(summ["n_major"].sum()),
            "significant_risks": int(summ["n_significant"].sum()),
            "open_major_hazards": int(ind["open_major_hazards"].sum()),
            "rectification_rate": (done / len(haz)) if len(haz) else None,
            "violations": int(ind["open_violations"].sum()),
            "hca_km": round(hca_km, 1),
            "overhead_tailings": int(ind["overhead_tailings"].sum()),
        }


_CACHE: dict[str, CitySnapshot] = {}
_LOCK = threading.Lock()


def city_snapshot(engine: Engine, *, as_of: dt.date | None = None) -> CitySnapshot:
    """Return the snapshot for the store's current data version (cached per engine URL).

    Parameters
    ----------
    engine : Engine
        The store.
    as_of : date, optional
        Reference date for overdue hazards and reviews (default: today).

    Returns
    -------
    CitySnapshot
    """
    when = as_of or dt.date.today()
    version = store.data_version(engine)
    scope = store.current_scope()
    # one snapshot per data scope (not per user: accounts with the same scope share it)
    reach = "all" if scope is not None and scope.all_districts else (scope.adcode if scope else None)
    key = engine.url.render_as_string(hide_password=True) + f"|{reach}"
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached.version == version and cached.as_of == when:
            return cached
    snap = build_snapshot(engine, version=version, as_of=when)
    with _LOCK:
        _CACHE[key] = snap
    return snap


def build_snapshot(engine: Engine, *, version: int, as_of: dt.date) -> CitySnapshot:
    """Compute a snapshot from the store (uncached; see :func:`city_snapshot`)."""
    bundle = bundle_from_store(engine)
    all_hcas = store.read_layer(engine, "hcas")
    findings = store.read_findings(engine)
    findings = findings[findings["status"].isin(OPEN_STATUSES)] if len(findings) else findings
    identified = all_hcas[all_hcas["origin"] == "identified"] if len(all_hcas) else None
    sources = risk_sources(bundle, hcas=all_hcas)
    rubric = load_rubric()
    indicators = district_indicators(bundle, findings, as_of=as_of, rubric=rubric,
                                     hca_segments=identified if identified is not None and len(identified) else None)
    ratings = rate_districts(indicators, rubric)
    summary = district_summary(bundle, sources)
    scope = store.current_scope()
    if scope is not None and not scope.all_districts:
        # A district officer sees only their district's rows, so other districts would look empty
        # ("低风险"). Show them as not visible instead of rating data the user cannot see.
        keep = [scope.adcode] if scope.adcode in ratings.index else []
        indicators, ratings, summary = indicators.loc[keep], ratings.loc[keep], summary.loc[keep]
    rules = effective_ruleset(engine)
    return CitySnapshot(version=version, as_of=as_of, bundle=bundle, sources=sources, rules=rules,
                        summary=summary, indicators=indicators, ratings=ratings,
                        findings=findings, hcas=all_hcas, rubric=rubric)
