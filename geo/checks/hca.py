"""Pipeline location classes (GB 50251-2015 4.2.2) and high-consequence areas (GB 32167-2015 表1).

Pure functions over a :class:`~geo.checks.bundle.Bundle`; every distance is measured in the
metric Gauss-Krüger zone ``bundle.metric_epsg`` and every threshold comes from the rules
``LOC_CLASS``, ``HCA_OIL``, ``HCA_GAS``, ``HCA_UNDECLARED`` and ``HCA_REVIEW`` (``geo/rules/checks.yaml``).

Readings of the standards made here (see ``shared/docs/standards.md`` §5.1 and §6):

- **Mileage and location classes**: see :mod:`geo.checks.location_class`.
- **HCA rows a/b** use the location classes *before* the gathering-place lift (rows a/b speak of
  households and storeys); the segment is the class-4/3 stretch and the triggers are its
  household buildings.
- **Oil row c** (villages ≥ ``village_min_households``): households of buildings within the HCA
  corridor are counted in the same sliding windows; every household building of a window reaching
  the minimum is a trigger.
- **Other rows** (features within X = near_m, corridor_m, r, other_m or flammable_m): the segment is
  the along-line projection of the part of the feature within X of the line, ± X; buildings use
  their nearest point. Gas row f is cut where the line is class 3 or 4.
- Overlapping segments of one pipeline are merged; the grade is the highest of their criteria.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon

from geo.cell_values import column_series
from geo.checks.bundle import Bundle, district_codes
from geo.checks.findings import Bilingual, finding, findings_frame
from geo.checks.hca_features import REC_COLUMNS, Extents, Kinds, feature_records, records
from geo.checks.hca_reasons import criterion_reasons
from geo.checks.location_class import (
    CLASS_LABELS,
    EPS,
    Line,
    PipeResult,
    analyse,
    located_buildings,
    location_classes,
    location_findings,
    run_table,
    runs,
    sub_line,
    window_counts,
    windows,
)
from geo.checks.metric_frame import to_storage
from geo.checks.mileage import MULTIPART_NOTE, format_mileage_range
from geo.checks.ruleset import Rule, RuleSet
from geo.constants import STORAGE_SRID

__all__ = ["CLASS_LABELS", "OIL_MEDIA", "check_hcas", "identify_hcas", "location_classes"]

#: Media identified with the oil table of GB 32167 (the rest is gas).
OIL_MEDIA = ("crude", "products", "lpg")

_ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ"}
_HCA_COLUMNS = ("pipeline_key", "pipeline_name", "medium", "grade", "start_m", "end_m", "criterion",
                "trigger_keys", "reason", "adcode", "potential_impact_radius_m", "nearest_trigger_m",
                "required_m", "first_trigger_type", "first_trigger_key", "first_trigger_name")


# ---------------------------------------------------------------------------
# high-consequence areas
# ---------------------------------------------------------------------------

def _impact_radius(ln: Line, p: dict[str, Any]) -> float:
    """GB 32167-2015 式(1): r = coeff · d · √p."""
    return float(p["radius_coeff"]) * ln.d_mm * float(np.sqrt(ln.p_mpa))


def _class_records(res: PipeResult, grades: dict[str, int], corridor: float) -> list[pd.DataFrame]:
    """Rows a (class 4) and b (class 3) from the household-based classes."""
    out: list[pd.DataFrame] = []
    s = res.bld["s"].to_numpy(float)
    for s0, s1, rank, _hh in run_table(res, res.rank_hh):
        if rank < 3:
            continue
        crit = "a" if rank == 4 else "b"
        inside = res.bld[(s >= s0 - EPS) & (s <= s1 + EPS)]
        if not len(inside):
            continue
        n = len(inside)
        out.append(records(np.full(n, s0), np.full(n, s1), crit, grades[crit], "buildings",
                            inside["key"], inside["name"], inside["d"], corridor))
    return out


def _village_records(res: PipeResult, buildings: gpd.GeoDataFrame, p: dict[str, Any], lp: dict[str, Any],
                     grade: int) -> list[pd.DataFrame]:
    """Oil row c: household buildings of any window with ≥ village_min_households in the corridor."""
    ln, corridor = res.ln, float(p["corridor_m"])
    # the location classes located the same buildings when the corridors agree (the rules' default)
    bld = (res.bld if corridor == float(lp["corridor_m"])
           else located_buildings(ln, buildings, corridor, float(lp["class_4_min_floors"])))
    if not len(bld):
        return []
    starts, ends = windows(ln.length, float(lp["window_m"]), float(lp["step_m"]))
    s, hh = bld["s"].to_numpy(float), bld["hh"].to_numpy(float)
    cnt, order, lo, hi = window_counts(s, hh, starts, ends)
    ok = cnt >= float(p["village_min_households"])
    if not ok.any():
        return []
    diff = np.zeros(len(s) + 1, dtype=int)
    np.add.at(diff, lo[ok], 1)
    np.add.at(diff, hi[ok], -1)
    member = np.zeros(len(s), dtype=bool)
    member[order] = np.cumsum(diff[:-1]) > 0
    sel = bld[member]
    return [records(sel["s"] - corridor, sel["s"] + corridor, "c", grade, "buildings", sel["key"], sel["name"],
                     sel["d"], corridor)]


def _subtract(df: pd.DataFrame, cuts: list[tuple[float, float]]) -> pd.DataFrame:
    """Remove the [a, b] intervals ``cuts`` from each record's [s_lo, s_hi] (records may split)."""
    if not cuts or not len(df):
        return df
    pieces: list[dict[str, Any]] = []
    for raw in df.to_dict("records"):
        rec = {str(k): v for k, v in raw.items()}
        segs = [(rec["s_lo"], rec["s_hi"])]
        for a, b in cuts:
            nxt = []
            for lo, hi in segs:
                if b <= lo or a >= hi:
                    nxt.append((lo, hi))
                    continue
                if lo < a:
                    nxt.append((lo, a))
                if b < hi:
                    nxt.append((b, hi))
            segs = nxt
        pieces.extend({**rec, "s_lo": lo, "s_hi": hi} for lo, hi in segs if hi - lo > EPS)
    return pd.DataFrame(pieces, columns=list(REC_COLUMNS))


def _hca_records(res: PipeResult, bundle: Bundle, rules: RuleSet, _kind: Kinds,
                 cohort: Extents | None = None) -> tuple[pd.DataFrame, float | None]:
    ln = res.ln
    oil = ln.medium in OIL_MEDIA
    lp = rules["LOC_CLASS"].params
    infra, ents = bundle.metric("infrastructure"), bundle.metric("enterprises")
    targets = bundle.metric("protection_targets")
    recs: list[pd.DataFrame] = []
    radius: float | None = None
    if oil:
        p = rules["HCA_OIL"].params
        g = {k: int(v) for k, v in p["grades"].items()}
        corridor, near = float(p["corridor_m"]), float(p["near_m"])
        recs += _class_records(res, g, float(lp["corridor_m"]))
        recs += _village_records(res, bundle.metric("buildings"), p, lp, g["c"])
        roads = _kind(infra, ["road"])
        roads = _kind(roads, list(p.get("road_subkinds", [])), "subkind")
        recs += feature_records(ln, roads, "infrastructure", near, "d", g["d"], _kind, cohort)
        if p.get("railway", False):
            recs += feature_records(ln, _kind(infra, ["railway"]), "infrastructure", near, "d", g["d"], _kind,
                                     cohort)
        recs += feature_records(ln, _kind(infra, list(p.get("flammable_kinds", []))), "infrastructure", near,
                                 "d", g["d"], _kind, cohort)
        recs += feature_records(ln, _kind(ents, list(p.get("flammable_industries", [])), "industry"),
                                 "enterprises", near, "d", g["d"], _kind, cohort)
        recs += feature_records(ln, _kind(infra, list(p.get("nature_kinds", []))), "infrastructure", corridor,
                                 "e", g["e"], _kind, cohort)
        recs += feature_records(ln, _kind(infra, list(p.get("water_kinds", []))), "infrastructure", corridor,
                                 "f", g["f"], _kind, cohort)
    else:
        p = rules["HCA_GAS"].params
        g = {k: int(v) for k, v in p["grades"].items()}
        radius = _impact_radius(ln, p)
        recs += _class_records(res, g, float(lp["corridor_m"]))
        special = _kind(targets, list(p.get("special_site_types", [])), "target_type")
        if ln.d_mm > float(p["large_d_mm"]) and ln.p_mpa > float(p["large_p_mpa"]):
            recs += feature_records(ln, special, "protection_targets", radius, "c", g["c"], _kind)
        elif ln.d_mm < float(p["small_d_mm"]) and ln.p_mpa < float(p["small_p_mpa"]):
            recs += feature_records(ln, special, "protection_targets", radius, "d", g["d"], _kind)
        else:
            recs += feature_records(ln, special, "protection_targets", float(p["other_m"]), "e", g["e"], _kind)
        fm = float(p["flammable_m"])
        flam = feature_records(ln, _kind(infra, list(p.get("flammable_kinds", []))), "infrastructure", fm, "f",
                                g["f"], _kind, cohort)
        flam += feature_records(ln, _kind(ents, list(p.get("flammable_industries", [])), "industry"),
                                 "enterprises", fm, "f", g["f"], _kind, cohort)
        if flam:
            i0, i1, val = runs(res.rank)
            cuts = [(float(res.edges[a]), float(res.edges[b])) for a, b, v in zip(i0, i1, val, strict=True) if v >= 3]
            recs += [_subtract(pd.concat(flam, ignore_index=True), cuts)]
    recs = [r for r in recs if len(r)]
    if not recs:
        return pd.DataFrame(columns=list(REC_COLUMNS)), radius
    df = pd.concat(recs, ignore_index=True)
    df["s_lo"] = _clip(df["s_lo"].to_numpy(float), ln.length)
    df["s_hi"] = _clip(df["s_hi"].to_numpy(float), ln.length)
    return df, radius


def _clip(x: np.ndarray, length: float) -> np.ndarray:
    """``Series.clip(0, length)`` on an array: NaN stays, each bound replaces only values beyond it."""
    nan = np.isnan(x)
    x = np.where(nan | (x >= 0.0), x, 0.0)
    return np.where(nan | (x <= length), x, length)


def _merge(df: pd.DataFrame) -> list[pd.DataFrame]:
    """Split records into groups of overlapping (or touching) intervals."""
    df = df.sort_values(["s_lo", "s_hi"], kind="stable").reset_index(drop=True)
    prev = df["s_hi"].cummax().shift(fill_value=-np.inf)
    grp = (df["s_lo"] > prev + EPS).cumsum()
    return [g for _, g in df.groupby(grp, sort=True)]


def _identify(bundle: Bundle, rules: RuleSet, results: list[PipeResult]) -> gpd.GeoDataFrame:
    rows: list[dict[str, Any]] = []
    lines: list[Any] = []
    corridors: list[Any] = []
    mids: list[Any] = []
    kinds = Kinds()
    cohorts = {oil: Extents([res.ln for res in results if (res.ln.medium in OIL_MEDIA) == oil])
               for oil in (True, False)}
    for res in results:
        ln = res.ln
        oil = ln.medium in OIL_MEDIA
        df, radius = _hca_records(res, bundle, rules, kinds, cohorts[oil])
        if not len(df):
            continue
        reasons = criterion_reasons(oil, rules, radius or 0.0)
        buf = float(rules["HCA_OIL" if oil else "HCA_GAS"].params.get("corridor_m", 200.0))
        for grp in _merge(df):
            s0, s1 = float(grp["s_lo"].min()), float(grp["s_hi"].max())
            crits = sorted(set(grp["crit"].unique()))
            by_d = grp.sort_values("d", kind="stable")
            first = by_d.iloc[0]
            keys = list(dict.fromkeys(by_d["key"].to_numpy(dtype=object)))
            sub = sub_line(ln, s0, s1)
            rows.append({"pipeline_key": ln.key, "pipeline_name": ln.name, "medium": ln.medium,
                         "grade": int(grp["grade"].max()), "start_m": s0 + ln.start_m,
                         "end_m": s1 + ln.start_m, "criterion": ",".join(crits),
                         "trigger_keys": ",".join(keys), "reason": "；".join(reasons[c] for c in crits),
                         "potential_impact_radius_m": None if radius is None else round(radius, 1),
                         "nearest_trigger_m": round(float(first["d"]), 2), "required_m": float(first["req"]),
                         "first_trigger_type": first["layer"], "first_trigger_key": first["key"],
                         "first_trigger_name": first["name"]})
            lines.append(sub)
            corridors.append(shapely.buffer(sub, buf))
            mids.append(ln.chain.point_at((s0 + s1) / 2))
    if not rows:
        cols = {c: pd.Series(dtype=object) for c in _HCA_COLUMNS}
        out = gpd.GeoDataFrame(cols, geometry=[], crs=STORAGE_SRID)
        out["corridor"] = gpd.GeoSeries([], crs=STORAGE_SRID)
        return out
    out = pd.DataFrame(rows)
    out["adcode"] = district_codes(mids, bundle.metric("districts"))
    out["potential_impact_radius_m"] = pd.to_numeric(out["potential_impact_radius_m"], errors="coerce")
    corr = [g if isinstance(g, MultiPolygon) else MultiPolygon([g])
            for g in to_storage(corridors, bundle.metric_epsg)]
    gdf = gpd.GeoDataFrame(out[list(_HCA_COLUMNS)], geometry=to_storage(lines, bundle.metric_epsg), crs=STORAGE_SRID)
    gdf["corridor"] = gpd.GeoSeries(corr, index=gdf.index, crs=STORAGE_SRID)
    return gdf


def identify_hcas(bundle: Bundle, rules: RuleSet) -> gpd.GeoDataFrame:
    """GB 32167-2015 Table 1 high-consequence areas of every pipeline.

    Parameters
    ----------
    bundle : Bundle
        Needs ``pipelines``; uses ``buildings``, ``protection_targets``, ``infrastructure``,
        ``enterprises`` and ``districts``.
    rules : RuleSet
        ``LOC_CLASS``, ``HCA_OIL`` (crude, products, LPG) and ``HCA_GAS`` (gas) params.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per merged segment: ``pipeline_key``, ``pipeline_name``, ``medium``, ``grade``
        (1–3, Ⅲ most severe, max of the criteria), ``start_m``/``end_m`` (mileage), ``criterion``
        (Table 1 rows, e.g. ``"b,c"``), ``trigger_keys`` (nearest first), ``reason`` (Chinese),
        ``adcode`` (district of the midpoint), ``potential_impact_radius_m`` (gas), the nearest
        trigger (``first_trigger_type``/``_key``/``_name``, ``nearest_trigger_m``, its
        ``required_m``), geometry (MultiLineString, EPSG:4490) and ``corridor`` (the sub-line
        buffered by the rule's ``corridor_m``, MultiPolygon, EPSG:4490).
    """
    return _identify(bundle, rules, analyse(bundle, rules))


# ---------------------------------------------------------------------------
# findings
# ---------------------------------------------------------------------------

def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _as_date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    ts = pd.to_datetime(value, errors="coerce")
    return None if pd.isna(ts) else ts.date()


def _covered(intervals: list[tuple[float, float]], s0: float, s1: float) -> float:
    """Length of [s0, s1] covered by the union of ``intervals``."""
    clipped = sorted((max(a, s0), min(b, s1)) for a, b in intervals if min(b, s1) > max(a, s0))
    total, cur_a, cur_b = 0.0, None, None
    for a, b in clipped:
        if cur_b is None or a > cur_b:
            if cur_b is not None and cur_a is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_b is not None and cur_a is not None:
        total += cur_b - cur_a
    return total


def _hca_findings(hcas: gpd.GeoDataFrame, rules: RuleSet, declared: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    undeclared = rules["HCA_UNDECLARED"]
    share = float(undeclared.params.get("min_overlap_share", 0.5))
    dec = pd.DataFrame({"pipeline_key": column_series(declared, "pipeline_key").astype(str),
                        "grade": pd.to_numeric(column_series(declared, "grade"), errors="coerce"),
                        "start_m": pd.to_numeric(column_series(declared, "start_m"), errors="coerce"),
                        "end_m": pd.to_numeric(column_series(declared, "end_m"), errors="coerce")})
    for row in hcas.itertuples(index=False):
        rule = rules["HCA_OIL" if row.medium in OIL_MEDIA else "HCA_GAS"]
        grade = int(row.grade)
        rng = format_mileage_range(row.start_m, row.end_m)
        radius = "" if pd.isna(row.potential_impact_radius_m) else f"，潜在影响半径{row.potential_impact_radius_m:.0f}m"
        radius_en = "" if pd.isna(row.potential_impact_radius_m) else \
            f", potential impact radius {row.potential_impact_radius_m:.0f} m"
        common = {"subject_type": "pipelines", "subject_key": row.pipeline_key, "subject_name": row.pipeline_name,
                  "object_type": row.first_trigger_type, "object_key": row.first_trigger_key,
                  "object_name": row.first_trigger_name, "adcode": row.adcode, "geometry": row.geometry}
        out.append(finding(
            rule, **common, measured_m=row.nearest_trigger_m, required_m=row.required_m, verdict="hca",
            detail=Bilingual(f"{_ROMAN[grade]}级高后果区 里程 {rng}，识别准则 {row.criterion}：{row.reason}{radius}",
                             f"Grade {'I' * grade} HCA, chainage {rng}, criteria {row.criterion}{radius_en}")))
        mine = dec[(dec["pipeline_key"] == str(row.pipeline_key)) & (dec["grade"] >= grade)]
        length = float(row.end_m) - float(row.start_m)
        cov = _covered(list(zip(mine["start_m"], mine["end_m"], strict=True)), float(row.start_m), float(row.end_m))
        if length > 0 and cov < share * length:
            out.append(finding(
                undeclared, **common, measured_m=cov, required_m=share * length, verdict="violation",
                detail=Bilingual(f"识别出{_ROMAN[grade]}级高后果区 里程 {rng}(准则 {row.criterion})，台账中同管道"
                                 f"≥{_ROMAN[grade]}级高后果区仅覆盖 {cov:.0f}m",
                                 f"Identified grade {'I' * grade} HCA at chainage {rng} (criteria {row.criterion}) "
                                 f"is not in the register: declared HCAs cover {cov:.0f} m of {length:.0f} m")))
    return out


def _review_findings(declared: gpd.GeoDataFrame, pipes: gpd.GeoDataFrame, rule: Rule,
                     as_of: dt.date) -> list[dict[str, Any]]:
    months = int(rule.params["max_months"])
    names = (dict(zip(column_series(pipes, "key").astype(str), column_series(pipes, "name"), strict=True))
             if len(pipes) else {})
    out: list[dict[str, Any]] = []
    for row, geom in zip(declared.itertuples(index=False), declared.geometry, strict=True):
        day = _as_date(getattr(row, "identified_on", None))
        due = None if day is None else _add_months(day, months)
        if due is not None and as_of <= due:
            continue
        pkey = str(getattr(row, "pipeline_key", ""))
        grade = pd.to_numeric(pd.Series([getattr(row, "grade", None)]), errors="coerce").iloc[0]
        g = _ROMAN.get(int(grade), "?") if not pd.isna(grade) else "?"
        rng = format_mileage_range(float(row.start_m), float(row.end_m))
        if day is None:
            detail = Bilingual(f"{g}级高后果区 里程 {rng} 未记录识别日期，应每{months}个月内复核",
                               f"HCA at chainage {rng} has no identification date; re-identify at least every "
                               f"{months} months")
        else:
            detail = Bilingual(f"{g}级高后果区 里程 {rng} 于{day.isoformat()}识别，超过{months}个月未复核(应于{due}前)",
                               f"HCA at chainage {rng} identified on {day.isoformat()}, not re-identified within "
                               f"{months} months (due {due})")
        out.append(finding(rule, subject_type="pipelines", subject_key=pkey, subject_name=names.get(pkey),
                           object_type="hcas", object_key=str(row.key),
                           object_name=getattr(row, "reason", None) or getattr(row, "criterion", None),
                           measured_m=None, required_m=None, verdict="overdue",
                           adcode=getattr(row, "adcode", None), geometry=geom, detail=detail))
    return out


def check_hcas(bundle: Bundle, rules: RuleSet, *, as_of: dt.date) -> gpd.GeoDataFrame:
    """Check the HCA family: identified HCAs, class 3/4 stretches, undeclared and overdue HCAs.

    Parameters
    ----------
    bundle : Bundle
        Layers as for :func:`identify_hcas`, plus the declared ``hcas``.
    rules : RuleSet
        ``LOC_CLASS``, ``HCA_OIL``, ``HCA_GAS``, ``HCA_UNDECLARED`` (``min_overlap_share``) and
        ``HCA_REVIEW`` (``max_months``).
    as_of : datetime.date
        Reference date of the 18-month re-identification rule.

    Returns
    -------
    geopandas.GeoDataFrame
        Findings (see :mod:`geo.checks.findings`): ``HCA_OIL``/``HCA_GAS`` verdict ``hca`` per
        identified segment (object = nearest trigger); ``LOC_CLASS`` ``inventory`` per class 3/4
        run (object = nearest household building or gathering place); ``HCA_UNDECLARED``
        ``violation`` when declared HCAs of the same pipeline and at least the same grade cover
        less than ``min_overlap_share`` of an identified segment (measured = covered metres,
        required = that share of its length); ``HCA_REVIEW`` ``overdue`` for declared HCAs
        identified more than ``max_months`` before ``as_of`` (exactly ``max_months`` is on time)
        or without a date.
    """
    return hca_family(bundle, rules, as_of=as_of)[0]


def hca_family(bundle: Bundle, rules: RuleSet, *, as_of: dt.date) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Run :func:`check_hcas` and :func:`identify_hcas` sharing one location-class analysis.

    Returns
    -------
    tuple of GeoDataFrame
        The findings and the identified segments.
    """
    results = analyse(bundle, rules)
    hcas = _identify(bundle, rules, results)
    records = _hca_findings(hcas, rules, bundle["hcas"])
    records += location_findings(results, rules, bundle.metric("districts"), bundle.metric_epsg)
    records += _review_findings(bundle["hcas"], bundle["pipelines"], rules["HCA_REVIEW"], as_of)
    _note_multipart(records, {res.ln.key for res in results if res.ln.chain.multipart})
    return findings_frame(_unique_identity(records)), hcas


def _note_multipart(records: list[dict[str, Any]], keys: set[str]) -> None:
    """Say the mileage convention in findings on pipelines stored in parts that do not touch."""
    for rec in records:
        text = rec["detail"]
        if str(rec["subject_key"]) in keys and isinstance(text, Bilingual):
            rec["detail"] = Bilingual(f"{text.zh}，{MULTIPART_NOTE[0]}", f"{text.en}, {MULTIPART_NOTE[1]}")


def _unique_identity(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Suffix repeated (rule, subject, object) identities (e.g. one fuel station triggering two cut pieces)."""
    seen: dict[tuple[str, ...], int] = {}
    for rec in records:
        ident = tuple(str(rec[c]) for c in ("rule_code", "subject_type", "subject_key", "object_type", "object_key"))
        n = seen.get(ident, 0)
        seen[ident] = n + 1
        if n:
            rec["object_key"] = f"{rec['object_key']}#{n + 1}"
    return records
