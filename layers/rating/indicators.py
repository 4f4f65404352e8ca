"""Raw 五色 rating indicators per district, computed from the layers and the check findings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.checks.bundle import Bundle
from geo.constants import GONE_FINDING_STATUSES
from layers.measures import chosen_hcas, counted_sources, hazard_masks, is_violation
from layers.rating.rubric import Rubric, load_rubric

#: Indicators :func:`district_indicators` computes (a rubric may use any subset).
INDICATOR_CODES = (
    "major_risks", "significant_risks", "major_per_100km2", "open_major_hazards", "rectification_rate",
    "overdue_hazards", "open_violations", "hca_km_grade3", "hca_km_grade2", "hca_km_grade1",
    "overhead_tailings", "dangerous_tailings", "population_in_contours",
)
#: Context columns of :func:`district_indicators` that are not indicators (used by :func:`close_hazard`).
CONTEXT_COLUMNS = ("area_km2", "hazards_total")

#: Layers whose features count as risk sources (merged as :func:`layers.measures.counted_sources` says).
RISK_SOURCE_LAYERS = ("enterprises", "tailings_dams", "hcas", "risk_points")
#: Tailings-pond safety degrees (危/险/病库) that count as dangerous.
DANGEROUS_DEGREES = ("danger", "risk", "sick")
#: Rule whose open findings mark a 头顶库.
OVERHEAD_RULE = "TAIL_OVERHEAD"


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _per_district(values: pd.Series, adcodes: pd.Series, index: pd.Index) -> pd.Series:
    """Sum ``values`` by district code, over ``index`` (zeros where nothing)."""
    if not len(values):
        return pd.Series(0.0, index=index)
    keyed = pd.DataFrame({"adcode": adcodes.astype(object).to_numpy(), "v": values.astype(float).to_numpy()})
    keyed = keyed[keyed["adcode"].notna()]
    keyed["adcode"] = keyed["adcode"].astype(str)
    summed = keyed.groupby("adcode")["v"].sum()
    return summed.reindex(index, fill_value=0.0).astype(float)


def _count(mask: pd.Series, adcodes: pd.Series, index: pd.Index) -> pd.Series:
    return _per_district(mask.fillna(False).astype(bool).astype(float), adcodes, index)


def _is_in(series: pd.Series, values: tuple[str, ...]) -> pd.Series:
    return series.astype(object).isin(values)


def _findings_status(findings: pd.DataFrame) -> pd.Series:
    """Remediation status of each finding; a fresh run's findings (no status column) are open."""
    if "status" in findings.columns:
        return findings["status"].astype(object).fillna("open")
    return pd.Series("open", index=findings.index, dtype=object)


def _overhead_ponds(bundle: Bundle, findings: pd.DataFrame, index: pd.Index) -> pd.Series:
    if not len(findings) or "rule_code" not in findings.columns:
        return pd.Series(0.0, index=index)
    hits = findings[(findings["rule_code"].astype(object) == OVERHEAD_RULE)
                    & ~_is_in(_findings_status(findings), GONE_FINDING_STATUSES)]
    if not len(hits):
        return pd.Series(0.0, index=index)
    ponds = bundle["tailings_dams"]
    home = dict(zip(_col(ponds, "key").astype(str), _col(ponds, "adcode"), strict=True))
    keys = hits["subject_key"].astype(str)
    found_in = _col(hits, "adcode").astype(object)
    adcodes = [home.get(k, f) for k, f in zip(keys, found_in, strict=True)]
    distinct = pd.DataFrame({"pond": keys.to_numpy(), "adcode": adcodes}).drop_duplicates("pond")
    return _count(pd.Series(True, index=distinct.index), distinct["adcode"], index)


def _hca_km(bundle: Bundle, hca_segments: gpd.GeoDataFrame | None, tolerance_m: float,
            index: pd.Index) -> dict[int, pd.Series]:
    """HCA length in km per district and grade, overlaps of one pipeline counted once at the highest grade."""
    out = {g: pd.Series(0.0, index=index) for g in (1, 2, 3)}
    hcas = chosen_hcas(bundle["hcas"], hca_segments)
    if not len(hcas):
        return out
    metric = hcas.to_crs(bundle.metric_epsg)
    pieces: list[tuple[Any, int, Any]] = []
    for _group, rows in metric.sort_values("grade", ascending=False, kind="stable").groupby("group", sort=False):
        counted: Any = None
        for geom, grade, adcode in zip(rows.geometry, rows["grade"], rows["adcode"], strict=True):
            part = geom if counted is None else shapely.difference(geom, shapely.buffer(counted, tolerance_m))
            counted = geom if counted is None else shapely.union(counted, geom)
            if not part.is_empty:
                pieces.append((part, int(grade), adcode))
    districts = bundle.metric("districts")
    codes = districts["adcode"].astype(str).to_numpy()
    for part, grade, adcode in pieces:
        inside = 0.0
        for j in districts.sindex.query(part, predicate="intersects"):
            length = shapely.intersection(part, districts.geometry.iloc[j]).length
            out[grade].loc[codes[j]] += length / 1000.0
            inside += length
        rest = part.length - inside
        if rest > tolerance_m and isinstance(adcode, str) and adcode in out[grade].index:
            out[grade].loc[adcode] += rest / 1000.0
    return out


def _population_in_contours(bundle: Bundle, min_risk: float, per_household: float,
                            index: pd.Index) -> pd.Series:
    contours = bundle.metric("risk_contours")
    risk = pd.to_numeric(_col(contours, "individual_risk"), errors="coerce")
    contours = contours[risk >= min_risk * (1 - 1e-12)]
    total = pd.Series(0.0, index=index)
    if not len(contours):
        return total
    tree = contours.sindex
    for layer, column, factor in (("protection_targets", "population", 1.0),
                                  ("buildings", "households", per_household)):
        frame = bundle.metric(layer)
        if not len(frame):
            continue
        hit = np.unique(tree.query(frame.geometry.to_numpy(), predicate="intersects")[0])
        inside = frame.iloc[hit]
        people = pd.to_numeric(_col(inside, column), errors="coerce").fillna(0.0) * factor
        total = total + _per_district(people, _col(inside, "adcode"), index)
    return total


def district_indicators(bundle: Bundle, findings: pd.DataFrame | None, *, as_of: dt.date,
                        rubric: Rubric | None = None,
                        hca_segments: gpd.GeoDataFrame | None = None,
                        sources: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Raw rating indicators of every district of ``bundle``.

    Features count in the district of their ``adcode`` attribute (features of districts not
    in ``bundle["districts"]`` are ignored), except HCA lengths, which are split by the
    district polygons (a part outside every polygon counts in the HCA's own district).

    Parameters
    ----------
    bundle : Bundle
        Layers as stored (EPSG:4490); lengths and areas are measured in ``bundle.metric``.
    findings : DataFrame or None
        Findings of a check run or of :func:`geo.store.read_findings` (``rule_code``,
        ``verdict``, ``adcode``, ``subject_key`` and, if stored, ``status``; without a
        ``status`` column every finding is taken as open).
    as_of : date
        Rating date: a hidden hazard is overdue when its ``deadline`` is before this day
        and it is not struck off (销号).
    rubric : Rubric, optional
        Supplies ``parameters`` (persons per household, contour threshold, HCA overlap
        tolerance); default :func:`load_rubric`.
    hca_segments : GeoDataFrame, optional
        Identified HCA segments of a run (``CheckResult.hca_segments``). Identified HCAs
        also come from ``bundle["hcas"]`` rows with ``origin == "identified"``.
    sources : GeoDataFrame, optional
        The counted risk sources (:func:`layers.measures.counted_sources`), when already computed.

    Returns
    -------
    DataFrame
        Indexed by ``adcode`` (every district of the bundle, zeros where nothing), columns
        ``name``, the :data:`INDICATOR_CODES` and the context columns ``area_km2`` and
        ``hazards_total`` (not indicators):

        - ``major_risks`` / ``significant_risks``: 重大 / 较大 risk sources as
          :func:`layers.measures.counted_sources` defines them (a risk point describing a facility
          is merged with it);
        - ``major_per_100km2``: ``major_risks`` per 100 km² of district area;
        - ``open_major_hazards``: hidden hazards of severity major, status open or rectifying;
        - ``rectification_rate``: (rectified + closed) / all hidden hazards (1 when none);
        - ``overdue_hazards``: deadline before ``as_of`` and not struck off (销号);
        - ``open_violations``: findings with verdict violation and status open or in_remediation;
        - ``hca_km_grade3/2/1``: HCA length (km) by grade, per pipeline identified HCAs when it
          has any else declared ones, overlaps counted once at the highest grade;
        - ``overhead_tailings``: distinct ponds with ``TAIL_OVERHEAD`` findings not closed or
          resolved, in the pond's district;
        - ``dangerous_tailings``: ponds of safety degree danger, risk or sick;
        - ``population_in_contours``: population of protection targets plus households ×
          persons per household of buildings intersecting an individual-risk contour of at
          least the rubric's ``contour_min_individual_risk`` (each feature counted once).

    Raises
    ------
    ValueError
        When the bundle has no districts or repeats a district code.
    """
    rubric = rubric or load_rubric()
    districts = bundle["districts"]
    if not len(districts) or "adcode" not in districts.columns:
        raise ValueError("the bundle has no districts to rate")
    codes = districts["adcode"].astype(str)
    if codes.duplicated().any():
        raise ValueError(f"district codes repeat in the bundle: {sorted(set(codes[codes.duplicated()]))}")
    index = pd.Index(codes.to_list(), name="adcode")
    out = pd.DataFrame(index=index)
    out["name"] = _col(districts, "name").astype(object).to_numpy()
    area_km2 = pd.Series(bundle.metric("districts").geometry.area.to_numpy() / 1e6, index=index)

    counted = sources if sources is not None else counted_sources(bundle, identified_hcas=hca_segments)
    levels = _col(counted, "risk_level")
    out["major_risks"] = _count(levels == "major", _col(counted, "adcode"), index)
    out["significant_risks"] = _count(levels == "significant", _col(counted, "adcode"), index)
    out["major_per_100km2"] = (out["major_risks"] / area_km2.where(area_km2 > 0) * 100.0).fillna(0.0)

    hz = bundle["hidden_hazards"]
    hz_codes = _col(hz, "adcode")
    masks = hazard_masks(hz, as_of)
    out["open_major_hazards"] = _count(masks["open_major"], hz_codes, index)
    total = _count(masks["counted"], hz_codes, index)
    rectified = _count(masks["done"], hz_codes, index)
    out["rectification_rate"] = (rectified / total.where(total > 0)).fillna(1.0)
    out["overdue_hazards"] = _count(masks["overdue"], hz_codes, index)

    found = findings if findings is not None else pd.DataFrame()
    if len(found) and {"verdict", "adcode"} <= set(found.columns):
        out["open_violations"] = _count(is_violation(found), found["adcode"], index)
    else:
        out["open_violations"] = 0.0

    km = _hca_km(bundle, hca_segments, rubric.parameter("hca_overlap_tolerance_m"), index)
    for grade in (3, 2, 1):
        out[f"hca_km_grade{grade}"] = km[grade]

    ponds = bundle["tailings_dams"]
    out["overhead_tailings"] = _overhead_ponds(bundle, found, index)
    out["dangerous_tailings"] = _count(_is_in(_col(ponds, "safety_degree"), DANGEROUS_DEGREES),
                                       _col(ponds, "adcode"), index)
    out["population_in_contours"] = _population_in_contours(
        bundle, rubric.parameter("contour_min_individual_risk"), rubric.parameter("persons_per_household"), index)
    out["area_km2"] = area_km2
    out["hazards_total"] = total
    return out[["name", *INDICATOR_CODES, *CONTEXT_COLUMNS]]
