"""Everything the leader cockpit shows, computed once per data version of the store.

A snapshot bundles the 四色 sources, the district summary, the 五色 ratings, the open findings,
KPIs and the district outlines. It is rebuilt only when the store's data version changes (any
import, check run or status change appends to the audit log), so page loads and district switches
read a cached, read-only object instead of querying and recomputing.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from geo import store
from geo.checks.bundle import Bundle
from geo.checks.ruleset import RuleSet
from geo.checks.sources import bundle_from_store
from geo.rule_admin import effective_ruleset
from layers.measures import counted_sources, district_measures, is_open_finding
from layers.palette import FIVE_COLOUR, DistrictClass
from layers.rating import Rubric, district_indicators, load_rubric, rate_districts
from layers.sources import district_summary

T = TypeVar("T")
#: Most results one snapshot keeps in :meth:`CitySnapshot.derived` (keys come partly from requests).
DERIVED_LIMIT = 256


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
    #: Every count measure per district (:func:`layers.measures.district_measures`).
    measures: pd.DataFrame
    #: The check rules in force (the file's with a city's local values), for lists that compute figures.
    rules: RuleSet | None = None
    #: What pages derived from this snapshot (see :meth:`derived`); it goes with the snapshot.
    _derived: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def derived(self, key: Hashable, build: Callable[[], T]) -> T:
        """Return ``build()``, computed once per snapshot and ``key`` (page fragments, figures, payloads).

        A snapshot belongs to one store, one data scope and one data version (:func:`city_snapshot`), so
        what is derived from it can neither outlive a data change nor reach another scope's session:
        a new version gets a new snapshot with nothing derived yet. ``key`` must name everything else
        the result depends on (page, language, district, day …); the result must not be changed by
        its users. At most :data:`DERIVED_LIMIT` results are kept; beyond that they are built anew.

        Parameters
        ----------
        key : Hashable
            What the result depends on besides the snapshot.
        build : callable
            Computes the result from this snapshot.

        Returns
        -------
        object
            The result of ``build`` (the one kept, when there is one).
        """
        with _LOCK:
            if key in self._derived:
                return self._derived[key]
        value = build()
        with _LOCK:
            if len(self._derived) < DERIVED_LIMIT:
                value = self._derived.setdefault(key, value)
        return value

    def kpis(self, adcode: str | None = None) -> dict[str, Any]:
        """Headline figures for the city or one district.

        Returns
        -------
        dict
            major_risks, significant_risks, open_major_hazards, rectification_rate (0–1 or None),
            violations, open_findings, hca_km, overhead_tailings, districts — each as
            :data:`layers.measures.MEASURES` defines it, summed over the districts the account sees.
        """
        ind = self.indicators if adcode is None else self.indicators.loc[[adcode]]
        meas = self.measures.loc[[a for a in ind.index if a in self.measures.index]]
        total = int(meas["hazards_total"].sum())
        hca_km = sum(float(ind[c].sum()) for c in ("hca_km_grade3", "hca_km_grade2", "hca_km_grade1") if c in ind)
        return {
            "districts": len(ind),
            "major_risks": int(meas["major_risks"].sum()),
            "significant_risks": int(meas["significant_risks"].sum()),
            "open_major_hazards": int(meas["open_major_hazards"].sum()),
            "rectification_rate": (int(meas["hazards_done"].sum()) / total) if total else None,
            "violations": int(meas["violations"].sum()),
            "open_findings": int(meas["open_findings"].sum()),
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
    # one snapshot per data scope (not per user: accounts with the same scope share it); an enterprise
    # account reads only its enterprise's rows, so its scope is the district and the enterprise
    reach = ("all" if scope.all_districts else scope.adcode if not scope.credit_code
             else f"{scope.adcode}/{scope.credit_code}") if scope is not None else None
    key = engine.url.render_as_string(hide_password=True) + f"|{reach}"
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached.version == version and cached.as_of == when and not _awaits_rating(cached):
            return cached
    snap = build_snapshot(engine, version=version, as_of=when)
    with _LOCK:
        _CACHE[key] = snap
    return snap


def _awaits_rating(snap: CitySnapshot) -> bool:
    """Whether a district snapshot shows no city rating yet, or one older than its data (rebuilt until fresh)."""
    scope = store.current_scope()
    if scope is None or scope.all_districts or not len(snap.indicators):
        return False
    return not len(snap.ratings) or bool(snap.ratings.get("rating_stale", pd.Series([False])).any())


def build_snapshot(engine: Engine, *, version: int, as_of: dt.date) -> CitySnapshot:
    """Compute a snapshot from the store (uncached; see :func:`city_snapshot`)."""
    bundle = bundle_from_store(engine)
    all_hcas = store.read_layer(engine, "hcas")
    findings = store.read_findings(engine)
    findings = findings[is_open_finding(findings)] if len(findings) else findings
    identified = all_hcas[all_hcas["origin"] == "identified"] if len(all_hcas) else None
    identified = identified if identified is not None and len(identified) else None
    sources = counted_sources(bundle, identified_hcas=identified)
    rubric = load_rubric()
    indicators = district_indicators(bundle, findings, as_of=as_of, rubric=rubric, hca_segments=identified,
                                     sources=sources)
    ratings = rate_districts(indicators, rubric)
    ratings["n_districts"] = len(ratings)
    summary = district_summary(bundle, sources)
    measures = district_measures(bundle, sources, findings, as_of)
    scope = store.current_scope()
    if scope is not None and not scope.all_districts:
        # A district officer reads only their district's rows: a rating computed here would compare the
        # district with itself. Show the city's rating of the district instead, as published at city scope.
        keep = [scope.adcode] if scope.adcode in ratings.index else []
        indicators, summary, measures = indicators.loc[keep].copy(), summary.loc[keep], measures.loc[keep]
        ratings = _published_view(engine, ratings.loc[keep], indicators, rubric, version=version, as_of=as_of)
    elif scope is not None or store.bypasses_row_security(engine):
        publish(engine, ratings, rubric, version=version, as_of=as_of)
    rules = effective_ruleset(engine)
    return CitySnapshot(version=version, as_of=as_of, bundle=bundle, sources=sources, rules=rules,
                        summary=summary, indicators=indicators, ratings=ratings,
                        findings=findings, hcas=all_hcas, rubric=rubric, measures=measures)


def publish(engine: Engine, ratings: pd.DataFrame, rubric: Rubric, *, version: int, as_of: dt.date) -> None:
    """Publish city-scope ratings so each district session can read its own (see ``published_ratings``).

    Parameters
    ----------
    engine : Engine
        The store, under a city-wide scope (or the owner).
    ratings : DataFrame
        :func:`~layers.rating.rate_districts` of every district.
    rubric : Rubric
        The rubric used.
    version : int
        Data version the ratings were computed at.
    as_of : date
        Rating date.
    """
    rows = [{"adcode": str(adcode), "score": float(r["score"]), "class_code": str(r["class_code"]),
             "rank": int(r["rank"]), "n_districts": len(ratings),
             "contributions": {code: {"raw": float(r[f"raw_{code}"]), "norm": float(r[f"norm_{code}"]),
                                      "contrib": float(r[f"contrib_{code}"])} for code in rubric.codes}}
            for adcode, r in ratings.iterrows()]
    store.publish_ratings(engine, rows, data_version=version, as_of=as_of, rubric_version=rubric.version)


def _published_view(engine: Engine, own: pd.DataFrame, indicators: pd.DataFrame, rubric: Rubric, *,
                    version: int, as_of: dt.date) -> pd.DataFrame:
    """Return the district's row of the city's ratings, from ``published_ratings``.

    A district session cannot compute the city's ratings (the database scopes it to its district, and
    it cannot widen its own scope), so it shows the latest rating published by a city-wide session,
    the owner's demo load or :func:`publish_city`, with its data date. When the data changed since,
    ``rating_stale`` is True and ``rating_version`` names the data version it was computed at, so the
    page can say the rating predates the latest changes. ``indicators`` (the district's row) gets the
    city's raw values, so explanations match the leader's.
    """
    if not len(own):
        return own.assign(n_districts=pd.Series(dtype="int64"))
    adcode = str(own.index[0])
    published = store.read_published_ratings(engine)
    if adcode not in published.index:  # none published yet: the page shows no rating, as for a district without data
        return own.iloc[0:0].assign(n_districts=pd.Series(dtype="int64"))
    row: Any = published.loc[adcode]
    out = own.copy()
    out["score"] = float(row["score"])
    out["rank"] = int(row["rank"])
    out["n_districts"] = int(row["n_districts"])
    out["class_code"] = str(row["class_code"])
    out["rating_version"] = int(row["data_version"])
    out["rating_as_of"] = row["as_of"]
    out["rating_stale"] = bool(int(row["data_version"]) < version or row["as_of"] != as_of
                               or row["rubric_version"] != rubric.version)
    swatch = FIVE_COLOUR[DistrictClass(str(row["class_code"]))]
    out["class_zh"], out["class_en"], out["colour"] = swatch.zh, swatch.en, swatch.hex
    for code, parts in dict(row["contributions"]).items():
        for name in ("raw", "norm", "contrib"):
            out[f"{name}_{code}"] = float(parts[name])
        if code in indicators.columns:
            indicators.loc[adcode, code] = float(parts["raw"])
    return out


def publish_city(engine: Engine, *, as_of: dt.date | None = None) -> CitySnapshot:
    """Compute and publish the city's ratings with the owner's engine (demo load, operator); return the snapshot.

    Parameters
    ----------
    engine : Engine
        The owner's engine (unscoped: it sees every district).
    as_of : date, optional
        Rating date (default: today).

    Returns
    -------
    CitySnapshot
        The city-wide snapshot whose ratings were published.
    """
    when = as_of or dt.date.today()
    with store.scoped(None):
        return build_snapshot(engine, version=store.data_version(engine), as_of=when)
