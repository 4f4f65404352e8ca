"""Pipeline location classes (GB 50251-2015 4.2.2) and high-consequence areas (GB 32167-2015 表1).

Pure functions over a :class:`~geo.checks.bundle.Bundle`; every distance is measured in the
metric Gauss-Krüger zone ``bundle.metric_epsg`` and every threshold comes from the rules
``LOC_CLASS``, ``HCA_OIL``, ``HCA_GAS``, ``HCA_UNDECLARED`` and ``HCA_REVIEW`` (``geo/rules/checks.yaml``).

Readings of the standards made here (see ``shared/docs/standards.md`` §5.1 and §6):

- **Mileage.** A pipeline is linear-referenced by :class:`geo.checks.mileage.Chainage`: geodesic
  metres along the pipe from its first vertex, the parts of a multi-part line taken in stored order
  and accumulated **without the gaps between them** (no chord is drawn across a gap, so a gap neither
  adds mileage nor takes part in a distance search); mileage = that distance + ``start_mileage_m``.
  Windows and cells run over this measure, so a 2 km window may span a gap (it holds 2 km of pipe).
  Declared HCAs (``bundle["hcas"]``) are taken to use the same mileage.
- **Location class** (also for oil and LPG lines: GB 50253 Annex F uses the same window).
  A building counts with its ``households`` when its footprint's nearest point lies within
  ``corridor_m`` of the centreline, at the mileage of that nearest point. Windows of ``window_m``
  start every ``step_m`` (the last one ends at the line's end; a line shorter than a window is one
  window). A window's count gives 0 → 一级一类, 1–15 → 一级二类, 16–99 → 二级, ≥ 100 → 三级, and
  四级 when, in addition, at least ``class_4_min_share`` of its households live in buildings of
  ``class_4_min_floors`` or more floors (our reading of "四层及以上楼房普遍集中"). The line is cut
  into cells of ``step_m``; each cell takes the highest class of any window that contains it, so a
  cluster colours up to one window length on either side (conservative). Each class-2/3/4 stretch is
  then extended (repeatedly, until stable) so that it ends at least ``extend_m`` beyond the
  nearest-point mileage of its first and last household building (4.2.2-2), and protection targets
  of ``gathering_target_types`` within the corridor lift class 1/2 to class 3 over ±``extend_m``
  (4.2.2-3). Results are resolved to ``step_m``.
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
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiLineString, MultiPolygon

from geo.checks.bundle import Bundle
from geo.checks.findings import Bilingual, finding, findings_frame
from geo.checks.metric_frame import to_storage
from geo.checks.mileage import MULTIPART_NOTE, Chainage, format_mileage_range
from geo.checks.ruleset import Rule, RuleSet
from geo.constants import STORAGE_SRID

__all__ = ["CLASS_LABELS", "OIL_MEDIA", "check_hcas", "identify_hcas", "location_classes"]

#: Location-class labels by rank (0 = 一级一类 … 4 = 四级).
CLASS_LABELS = ("1-1", "1-2", "2", "3", "4")
#: Media identified with the oil table of GB 32167 (the rest is gas).
OIL_MEDIA = ("crude", "products", "lpg")

_CLASS_ZH = {"1-1": "一级一类地区", "1-2": "一级二类地区", "2": "二级地区", "3": "三级地区", "4": "四级地区"}
_ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ"}
_MAX_EXTEND_PASSES = 50    # safety bound of the repeated 4.2.2-2 extension
_EPS = 1e-6
#: A building this close (m) to a window's edge counts inside it. Windows are placed every ``step_m``
#: (a discretisation of "placed to capture the most households"), so 1 cm changes no reading; it keeps
#: a building measured exactly on an edge inside although geodesic mileage differs from the grid
#: distance by millimetres.
_WINDOW_EPS = 0.01

_LC_COLUMNS = ("pipeline_key", "from_m", "to_m", "loc_class", "households")
_HCA_COLUMNS = ("pipeline_key", "pipeline_name", "medium", "grade", "start_m", "end_m", "criterion",
                "trigger_keys", "reason", "adcode", "potential_impact_radius_m", "nearest_trigger_m",
                "required_m", "first_trigger_type", "first_trigger_key", "first_trigger_name")
_REC_COLUMNS = ("s_lo", "s_hi", "crit", "grade", "layer", "key", "name", "d", "req")


# ---------------------------------------------------------------------------
# linear referencing
# ---------------------------------------------------------------------------

@dataclass
class _Line:
    """One pipeline in metric coordinates, cut into indexed pieces for linear referencing."""

    key: str
    name: str | None
    medium: str
    d_mm: float
    p_mpa: float
    start_m: float
    chain: Chainage
    pieces: np.ndarray
    offsets: np.ndarray

    @property
    def length(self) -> float:
        """Geodesic length of the pipe, gaps excluded."""
        return self.chain.length

    def along(self, piece_index: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Metres from vertex 0 (geodesic, gaps excluded) of points lying on the given pieces."""
        if not len(piece_index):
            return np.zeros(0)
        grid = self.offsets[piece_index] + shapely.line_locate_point(self.pieces[piece_index], points)
        return np.asarray(self.chain.along_of_grid(grid), dtype=float)


def _make_line(row: Any, geom: Any, epsg: int | None) -> _Line | None:
    start = pd.to_numeric(pd.Series([getattr(row, "start_mileage_m", 0.0)]), errors="coerce").fillna(0.0)
    try:
        chain = Chainage.of(geom, epsg, float(start.iloc[0]))
    except ValueError:
        return None  # no linear part: nothing to measure along
    pieces, offsets = chain.pieces()
    return _Line(key=str(row.key), name=getattr(row, "name", None), medium=str(row.medium),
                 d_mm=float(row.outside_diameter_mm), p_mpa=float(row.maop_mpa), start_m=chain.start_m,
                 chain=chain, pieces=np.asarray(pieces, dtype=object), offsets=offsets)


def _pairs(ln: _Line, frame: gpd.GeoDataFrame, dist: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate (feature row, piece) pairs within ``dist`` and their distances, nearest piece first."""
    if len(frame) == 0 or ln.pieces.size == 0:
        e = np.zeros(0, dtype=int)
        return e, e, np.zeros(0)
    pi, gi = frame.sindex.query(ln.pieces, predicate="dwithin", distance=dist)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    d = shapely.distance(geoms[gi], ln.pieces[pi])
    ok = d <= dist
    gi, pi, d = gi[ok], pi[ok], d[ok]
    order = np.lexsort((d, gi))
    return gi[order], pi[order], d[order]


def _near(ln: _Line, frame: gpd.GeoDataFrame, dist: float) -> pd.DataFrame:
    """Features within ``dist``: positional row, mileage of their nearest point (from vertex 0), distance."""
    gi, pi, d = _pairs(ln, frame, dist)
    first = np.concatenate([[True], gi[1:] != gi[:-1]]) if len(gi) else np.zeros(0, dtype=bool)
    gi, pi, d = gi[first], pi[first], d[first]
    if not len(gi):
        return pd.DataFrame({"row": np.zeros(0, dtype=int), "s": np.zeros(0), "d": np.zeros(0)})
    geoms = np.asarray(frame.geometry.array, dtype=object)
    foot = shapely.get_point(shapely.shortest_line(geoms[gi], ln.pieces[pi]), 1)
    return pd.DataFrame({"row": gi, "s": ln.along(pi, foot), "d": d})


def _extent(ln: _Line, frame: gpd.GeoDataFrame, dist: float) -> pd.DataFrame:
    """Features within ``dist``: positional row, along-line range of their part within ``dist``, distance."""
    gi, pi, d = _pairs(ln, frame, dist)
    if not len(gi):
        return pd.DataFrame({"row": np.zeros(0, dtype=int), "s_lo": np.zeros(0), "s_hi": np.zeros(0),
                             "d": np.zeros(0)})
    geoms = np.asarray(frame.geometry.array, dtype=object)
    upi = np.unique(pi)
    buf = np.empty(len(ln.pieces), dtype=object)
    buf[upi] = shapely.buffer(ln.pieces[upi], dist)
    clipped = shapely.intersection(geoms[gi], buf[pi])
    coords, idx = shapely.get_coordinates(clipped, return_index=True)
    foot = shapely.get_point(shapely.shortest_line(geoms[gi], ln.pieces[pi]), 1)
    pts = np.concatenate([shapely.points(coords), foot])
    pair = np.concatenate([idx, np.arange(len(gi))])
    s = ln.along(pi[pair], pts)
    df = pd.DataFrame({"row": gi[pair], "s": s, "d": d[pair]})
    out = df.groupby("row").agg(s_lo=("s", "min"), s_hi=("s", "max"), d=("d", "min")).reset_index()
    return out


# ---------------------------------------------------------------------------
# location classes
# ---------------------------------------------------------------------------

def _windows(length: float, window_m: float, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and end mileages of the sliding windows."""
    if length <= window_m:
        return np.array([0.0]), np.array([length])
    starts = np.unique(np.append(np.arange(0.0, length - window_m, step_m), length - window_m))
    return starts, starts + window_m


def _window_counts(s: np.ndarray, hh: np.ndarray, starts: np.ndarray,
                   ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Household sums per window via cumulative sums over sorted mileages.

    Returns the sums, the sort order of ``s`` and each window's [lo, hi) range in that order.
    """
    order = np.argsort(s, kind="stable")
    ss = s[order]
    cum = np.concatenate([[0.0], np.cumsum(hh[order])])
    lo = np.searchsorted(ss, starts - _WINDOW_EPS, "left")
    hi = np.searchsorted(ss, ends + _WINDOW_EPS, "right")
    return cum[hi] - cum[lo], order, lo, hi


def _runs(rank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of equal value: start cell, end cell (exclusive), value."""
    if not len(rank):
        e = np.zeros(0, dtype=int)
        return e, e, e
    change = np.flatnonzero(np.diff(rank)) + 1
    i0 = np.concatenate([[0], change])
    i1 = np.concatenate([change, [len(rank)]])
    return i0, i1, rank[i0]


def _paint(edges: np.ndarray, rank: np.ndarray, lo: np.ndarray, hi: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Raise cells overlapping [lo, hi] to at least ``value`` (vectorised per value)."""
    out = rank.copy()
    c0, c1 = edges[:-1], edges[1:]
    for v in np.unique(value):
        sel = value == v
        i0 = np.searchsorted(c1, lo[sel] + _EPS, "right")
        i1 = np.searchsorted(c0, hi[sel] - _EPS, "left")
        diff = np.zeros(len(rank) + 1, dtype=int)
        np.add.at(diff, i0, 1)
        np.add.at(diff, i1, -1)
        covered = np.cumsum(diff[:-1]) > 0
        out[covered] = np.maximum(out[covered], v)
    return out


@dataclass
class _PipeResult:
    """Location-class analysis of one pipeline."""

    ln: _Line
    edges: np.ndarray
    rank_hh: np.ndarray     # class rank per cell before the gathering-place lift
    rank: np.ndarray        # final class rank per cell
    bld: pd.DataFrame       # corridor buildings: s, d, hh, key, name (households > 0)
    gather: pd.DataFrame    # gathering places in the corridor: s, d, key, name


def _classify(ln: _Line, bld: pd.DataFrame, gather: pd.DataFrame, p: dict[str, Any]) -> _PipeResult:
    length = ln.length
    window_m, step_m, ext = float(p["window_m"]), float(p["step_m"]), float(p["extend_m"])
    c2, c3 = float(p["class_2_min_households"]), float(p["class_3_min_households"])
    share = float(p["class_4_min_share"])
    edges = np.append(np.arange(0.0, length, step_m), length) if length > 0 else np.zeros(1)
    ncell = len(edges) - 1
    starts, ends = _windows(length, window_m, step_m)
    s, hh, hi_hh = bld["s"].to_numpy(float), bld["hh"].to_numpy(float), bld["hi_hh"].to_numpy(float)
    cnt, _o, _lo, _hi = _window_counts(s, hh, starts, ends)
    cnt_hi, _o, _lo, _hi = _window_counts(s, hi_hh, starts, ends)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(cnt > 0, cnt_hi / np.where(cnt > 0, cnt, 1.0), 0.0)
    wrank = np.select([(cnt >= c3) & (frac >= share), cnt >= c3, cnt >= c2, cnt > 0], [4, 3, 2, 1], 0)
    c0, c1 = edges[:-1], edges[1:]
    jmax = np.searchsorted(starts, c0 + _EPS, "right") - 1
    jmin = np.searchsorted(ends, c1 - _EPS, "left")
    rank = np.zeros(ncell, dtype=int)
    span = int((jmax - jmin).max()) + 1 if ncell else 0
    for o in range(max(span, 0)):
        j = jmin + o
        ok = (j <= jmax) & (j >= 0) & (j < len(wrank))
        rank[ok] = np.maximum(rank[ok], wrank[j[ok]])
    # 4.2.2-2: class 2/3/4 boundaries at least extend_m beyond the first/last building
    ss = np.sort(s[hh > 0])
    for _ in range(_MAX_EXTEND_PASSES):
        i0, i1, val = _runs(rank)
        keep = val >= 2
        if not keep.any() or not len(ss):
            break
        r_lo, r_hi, val = edges[i0[keep]], edges[i1[keep]], val[keep]
        a = np.searchsorted(ss, r_lo - _EPS, "left")
        b = np.searchsorted(ss, r_hi + _EPS, "right") - 1
        has = a <= b
        if not has.any():
            break
        lo = np.minimum(r_lo[has], ss[a[has]] - ext)
        hi = np.maximum(r_hi[has], ss[b[has]] + ext)
        new = _paint(edges, rank, lo, hi, val[has])
        if np.array_equal(new, rank):
            break
        rank = new
    rank_hh = rank.copy()
    # 4.2.2-3: gathering places in class 1/2 take class 3
    if len(gather) and ncell:
        g = gather["s"].to_numpy(float)
        rank = _paint(edges, rank, g - ext, g + ext, np.full(len(g), 3))
    return _PipeResult(ln=ln, edges=edges, rank_hh=rank_hh, rank=rank, bld=bld, gather=gather)


def _pipelines(bundle: Bundle) -> list[_Line]:
    pipes = bundle.metric("pipelines")
    if not len(pipes):
        return []
    lines = [_make_line(row, geom, bundle.metric_epsg)
             for row, geom in zip(pipes.itertuples(index=False), pipes.geometry, strict=True)]
    return [ln for ln in lines if ln is not None]


def _buildings(bundle: Bundle) -> gpd.GeoDataFrame:
    return bundle.metric("buildings")


def _col(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series(default, index=frame.index, dtype=object)


def _located_buildings(ln: _Line, frame: gpd.GeoDataFrame, dist: float, min_floors: float) -> pd.DataFrame:
    near = _near(ln, frame, dist)
    rows = near["row"].to_numpy()
    hh = pd.to_numeric(_col(frame, "households", 0), errors="coerce").fillna(0).to_numpy(float)[rows]
    floors = pd.to_numeric(_col(frame, "floors", 0), errors="coerce").fillna(0).to_numpy(float)[rows]
    out = pd.DataFrame({"s": near["s"].to_numpy(), "d": near["d"].to_numpy(), "hh": hh,
                        "hi_hh": np.where(floors >= min_floors, hh, 0.0),
                        "key": _col(frame, "key").astype(str).to_numpy()[rows],
                        "name": _col(frame, "name").to_numpy()[rows]})
    return out[out["hh"] > 0].reset_index(drop=True)


def _located_targets(ln: _Line, frame: gpd.GeoDataFrame, dist: float) -> pd.DataFrame:
    near = _near(ln, frame, dist)
    rows = near["row"].to_numpy()
    return pd.DataFrame({"s": near["s"].to_numpy(), "d": near["d"].to_numpy(),
                         "key": _col(frame, "key").astype(str).to_numpy()[rows],
                         "name": _col(frame, "name").to_numpy()[rows]})


def _analyse(bundle: Bundle, rules: RuleSet) -> list[_PipeResult]:
    """Location classes of every pipeline (cells of ``step_m``)."""
    p = rules["LOC_CLASS"].params
    corridor = float(p["corridor_m"])
    buildings = _buildings(bundle)
    targets = bundle.metric("protection_targets")
    gather_types = list(p.get("gathering_target_types", []))
    gather_frame = targets[_col(targets, "target_type").isin(gather_types)] if len(targets) else targets
    out = []
    for ln in _pipelines(bundle):
        bld = _located_buildings(ln, buildings, corridor, float(p["class_4_min_floors"]))
        gather = _located_targets(ln, gather_frame, corridor)
        out.append(_classify(ln, bld, gather, p))
    return out


def _sub_line(ln: _Line, s0: float, s1: float) -> MultiLineString:
    """Cut out the pipe between two positions, in pieces that never bridge a gap between parts."""
    s0, s1 = max(0.0, s0), min(ln.length, s1)
    if s1 - s0 < 0.01:
        s1 = min(ln.length, s0 + 0.01)
        s0 = max(0.0, s1 - 0.01)
    return MultiLineString(ln.chain.sub_line(s0, s1))


def _run_table(res: _PipeResult, rank: np.ndarray) -> list[tuple[float, float, int, int]]:
    """Return runs of equal class: (from, to) from vertex 0, class rank, households in the run."""
    i0, i1, val = _runs(rank)
    lo, hi = res.edges[i0], res.edges[i1]
    ss = np.sort(res.bld["s"].to_numpy(float))
    cum = np.concatenate([[0.0], np.cumsum(res.bld["hh"].to_numpy(float)[np.argsort(res.bld["s"].to_numpy(float),
                                                                                  kind="stable")])])
    a = np.searchsorted(ss, lo, "left")
    b = np.searchsorted(ss, hi, "left")
    if len(b):
        b[-1] = len(ss)
    hh = (cum[b] - cum[a]).round().astype(int)
    return [(float(x0), float(x1), int(v), int(n)) for x0, x1, v, n in zip(lo, hi, val, hh, strict=True)]


def _location_frame(results: list[_PipeResult], epsg: int | None) -> gpd.GeoDataFrame:
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for res in results:
        for s0, s1, rank, households in _run_table(res, res.rank):
            rows.append({"pipeline_key": res.ln.key, "from_m": s0 + res.ln.start_m, "to_m": s1 + res.ln.start_m,
                         "loc_class": CLASS_LABELS[rank], "households": households})
            geoms.append(_sub_line(res.ln, s0, s1))
    if not rows:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in _LC_COLUMNS}, geometry=[], crs=STORAGE_SRID)
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=to_storage(geoms, epsg), crs=STORAGE_SRID)


def location_classes(bundle: Bundle, rules: RuleSet) -> pd.DataFrame:
    """GB 50251-2015 4.2.2 location classes along every pipeline (gas and oil alike).

    Parameters
    ----------
    bundle : Bundle
        Needs ``pipelines`` and ``buildings`` (``households``, ``floors``); ``protection_targets``
        for the gathering-place lift.
    rules : RuleSet
        ``LOC_CLASS`` params: ``corridor_m``, ``window_m``, ``step_m``, ``class_2_min_households``,
        ``class_3_min_households``, ``class_4_min_floors``, ``class_4_min_share``, ``extend_m``,
        ``gathering_target_types``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per maximal run of equal class: ``pipeline_key``, ``from_m``, ``to_m`` (mileage incl.
        ``start_mileage_m``), ``loc_class`` ("1-1", "1-2", "2", "3", "4"), ``households`` (of the
        corridor buildings whose nearest point falls in the run) and the sub-line (EPSG:4490).

    Notes
    -----
    The algorithm and its readings are described in the module docstring; runs are resolved
    to ``step_m``.
    """
    return _location_frame(_analyse(bundle, rules), bundle.metric_epsg)


# ---------------------------------------------------------------------------
# high-consequence areas
# ---------------------------------------------------------------------------

def _impact_radius(ln: _Line, p: dict[str, Any]) -> float:
    """GB 32167-2015 式(1): r = coeff · d · √p."""
    return float(p["radius_coeff"]) * ln.d_mm * float(np.sqrt(ln.p_mpa))


def _records(s_lo: Any, s_hi: Any, crit: str, grade: int, layer: str, keys: Any, names: Any, d: Any,
             req: float) -> pd.DataFrame:
    n = len(np.atleast_1d(s_lo))
    return pd.DataFrame({"s_lo": np.asarray(s_lo, float), "s_hi": np.asarray(s_hi, float), "crit": crit,
                         "grade": int(grade), "layer": layer, "key": np.asarray(keys, dtype=object).astype(str),
                         "name": np.asarray(names, dtype=object), "d": np.asarray(d, float),
                         "req": np.full(n, float(req))})


def _class_records(res: _PipeResult, grades: dict[str, int], corridor: float) -> list[pd.DataFrame]:
    """Rows a (class 4) and b (class 3) from the household-based classes."""
    out: list[pd.DataFrame] = []
    s = res.bld["s"].to_numpy(float)
    for s0, s1, rank, _hh in _run_table(res, res.rank_hh):
        if rank < 3:
            continue
        crit = "a" if rank == 4 else "b"
        inside = res.bld[(s >= s0 - _EPS) & (s <= s1 + _EPS)]
        if not len(inside):
            continue
        n = len(inside)
        out.append(_records(np.full(n, s0), np.full(n, s1), crit, grades[crit], "buildings",
                            inside["key"], inside["name"], inside["d"], corridor))
    return out


def _feature_records(ln: _Line, frame: gpd.GeoDataFrame, layer: str, dist: float, crit: str,
                     grade: int) -> list[pd.DataFrame]:
    """Features within ``dist``: their along-line range ± ``dist``."""
    if not len(frame):
        return []
    ext = _extent(ln, frame, dist)
    if not len(ext):
        return []
    rows = ext["row"].to_numpy()
    keys = _col(frame, "key").astype(str).to_numpy()[rows]
    names = _col(frame, "name").to_numpy()[rows]
    return [_records(ext["s_lo"] - dist, ext["s_hi"] + dist, crit, grade, layer, keys, names, ext["d"], dist)]


def _kind(frame: gpd.GeoDataFrame, kinds: list[str], column: str = "kind") -> gpd.GeoDataFrame:
    if not len(frame) or column not in frame.columns:
        return frame.iloc[0:0]
    return frame[frame[column].isin(kinds)]


def _village_records(ln: _Line, buildings: gpd.GeoDataFrame, p: dict[str, Any], lp: dict[str, Any],
                     grade: int) -> list[pd.DataFrame]:
    """Oil row c: household buildings of any window with ≥ village_min_households in the corridor."""
    corridor = float(p["corridor_m"])
    bld = _located_buildings(ln, buildings, corridor, float(lp["class_4_min_floors"]))
    if not len(bld):
        return []
    starts, ends = _windows(ln.length, float(lp["window_m"]), float(lp["step_m"]))
    s, hh = bld["s"].to_numpy(float), bld["hh"].to_numpy(float)
    cnt, order, lo, hi = _window_counts(s, hh, starts, ends)
    ok = cnt >= float(p["village_min_households"])
    if not ok.any():
        return []
    diff = np.zeros(len(s) + 1, dtype=int)
    np.add.at(diff, lo[ok], 1)
    np.add.at(diff, hi[ok], -1)
    member = np.zeros(len(s), dtype=bool)
    member[order] = np.cumsum(diff[:-1]) > 0
    sel = bld[member]
    return [_records(sel["s"] - corridor, sel["s"] + corridor, "c", grade, "buildings", sel["key"], sel["name"],
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
        pieces.extend({**rec, "s_lo": lo, "s_hi": hi} for lo, hi in segs if hi - lo > _EPS)
    return pd.DataFrame(pieces, columns=list(_REC_COLUMNS))


def _reasons(ln: _Line, oil: bool, rules: RuleSet, r: float) -> dict[str, str]:
    lp = rules["LOC_CLASS"].params
    if oil:
        p = rules["HCA_OIL"].params
        c, near = f"{float(p['corridor_m']):g}", f"{float(p['near_m']):g}"
        roads = "、".join(p.get("road_subkinds", []))
        return {"a": f"两侧各{c}m内四层及以上楼房集中(四级地区)",
                "b": f"2km单元两侧各{c}m内户数≥{float(lp['class_3_min_households']):g}(三级地区)",
                "c": f"两侧各{c}m内有{float(p['village_min_households']):g}户以上的村庄、乡镇",
                "d": f"两侧各{near}m内有{roads}、铁路或易燃易爆场所",
                "e": f"两侧各{c}m内有自然保护区等",
                "f": f"两侧各{c}m内有水源、河流、大中型水库"}
    p = rules["HCA_GAS"].params
    big = f"D>{float(p['large_d_mm']):g}mm且MAOP>{float(p['large_p_mpa']):g}MPa"
    small = f"D<{float(p['small_d_mm']):g}mm且MAOP<{float(p['small_p_mpa']):g}MPa"
    return {"a": "管道经过四级地区", "b": "管道经过三级地区",
            "c": f"{big}，潜在影响半径{r:.0f}m内有特定场所",
            "d": f"{small}，潜在影响半径{r:.0f}m内有特定场所",
            "e": f"其他管道两侧各{float(p['other_m']):g}m内有特定场所",
            "f": f"三、四级地区以外，两侧各{float(p['flammable_m']):g}m内有加油站等易燃易爆场所"}


def _hca_records(res: _PipeResult, bundle: Bundle, rules: RuleSet) -> tuple[pd.DataFrame, float | None]:
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
        recs += _village_records(ln, _buildings(bundle), p, lp, g["c"])
        roads = _kind(infra, ["road"])
        roads = _kind(roads, list(p.get("road_subkinds", [])), "subkind")
        recs += _feature_records(ln, roads, "infrastructure", near, "d", g["d"])
        if p.get("railway", False):
            recs += _feature_records(ln, _kind(infra, ["railway"]), "infrastructure", near, "d", g["d"])
        recs += _feature_records(ln, _kind(infra, list(p.get("flammable_kinds", []))), "infrastructure", near,
                                 "d", g["d"])
        recs += _feature_records(ln, _kind(ents, list(p.get("flammable_industries", [])), "industry"),
                                 "enterprises", near, "d", g["d"])
        recs += _feature_records(ln, _kind(infra, list(p.get("nature_kinds", []))), "infrastructure", corridor,
                                 "e", g["e"])
        recs += _feature_records(ln, _kind(infra, list(p.get("water_kinds", []))), "infrastructure", corridor,
                                 "f", g["f"])
    else:
        p = rules["HCA_GAS"].params
        g = {k: int(v) for k, v in p["grades"].items()}
        radius = _impact_radius(ln, p)
        recs += _class_records(res, g, float(lp["corridor_m"]))
        special = _kind(targets, list(p.get("special_site_types", [])), "target_type")
        if ln.d_mm > float(p["large_d_mm"]) and ln.p_mpa > float(p["large_p_mpa"]):
            recs += _feature_records(ln, special, "protection_targets", radius, "c", g["c"])
        elif ln.d_mm < float(p["small_d_mm"]) and ln.p_mpa < float(p["small_p_mpa"]):
            recs += _feature_records(ln, special, "protection_targets", radius, "d", g["d"])
        else:
            recs += _feature_records(ln, special, "protection_targets", float(p["other_m"]), "e", g["e"])
        fm = float(p["flammable_m"])
        flam = _feature_records(ln, _kind(infra, list(p.get("flammable_kinds", []))), "infrastructure", fm, "f",
                                g["f"])
        flam += _feature_records(ln, _kind(ents, list(p.get("flammable_industries", [])), "industry"),
                                 "enterprises", fm, "f", g["f"])
        if flam:
            i0, i1, val = _runs(res.rank)
            cuts = [(float(res.edges[a]), float(res.edges[b])) for a, b, v in zip(i0, i1, val, strict=True) if v >= 3]
            recs += [_subtract(pd.concat(flam, ignore_index=True), cuts)]
    recs = [r for r in recs if len(r)]
    if not recs:
        return pd.DataFrame(columns=list(_REC_COLUMNS)), radius
    df = pd.concat(recs, ignore_index=True)
    df["s_lo"] = df["s_lo"].clip(0.0, ln.length)
    df["s_hi"] = df["s_hi"].clip(0.0, ln.length)
    return df, radius


def _merge(df: pd.DataFrame) -> list[pd.DataFrame]:
    """Split records into groups of overlapping (or touching) intervals."""
    df = df.sort_values(["s_lo", "s_hi"], kind="stable").reset_index(drop=True)
    prev = df["s_hi"].cummax().shift(fill_value=-np.inf)
    grp = (df["s_lo"] > prev + _EPS).cumsum()
    return [g for _, g in df.groupby(grp, sort=True)]


def _adcodes(points: list[Any], districts: gpd.GeoDataFrame) -> list[str | None]:
    """District of each metric point (nearest district when outside all)."""
    if not points:
        return []
    if not len(districts) or "adcode" not in districts.columns:
        return [None] * len(points)
    arr = np.asarray(points, dtype=object)
    codes = districts["adcode"].astype(str).to_numpy()
    out: list[str | None] = [None] * len(points)
    pi, di = districts.sindex.query(arr, predicate="intersects")
    for a, b in zip(pi[::-1], di[::-1], strict=True):
        out[a] = codes[b]
    missing = [i for i, v in enumerate(out) if v is None]
    if missing:
        _pi, di2 = districts.sindex.nearest(arr[missing], return_all=False)
        for i, b in zip(missing, di2, strict=True):
            out[i] = codes[b]
    return out


def _identify(bundle: Bundle, rules: RuleSet, results: list[_PipeResult]) -> gpd.GeoDataFrame:
    rows: list[dict[str, Any]] = []
    lines: list[Any] = []
    corridors: list[Any] = []
    mids: list[Any] = []
    for res in results:
        ln = res.ln
        oil = ln.medium in OIL_MEDIA
        df, radius = _hca_records(res, bundle, rules)
        if not len(df):
            continue
        reasons = _reasons(ln, oil, rules, radius or 0.0)
        buf = float(rules["HCA_OIL" if oil else "HCA_GAS"].params.get("corridor_m", 200.0))
        for grp in _merge(df):
            s0, s1 = float(grp["s_lo"].min()), float(grp["s_hi"].max())
            crits = sorted(set(grp["crit"]))
            by_d = grp.sort_values("d", kind="stable")
            first = by_d.iloc[0]
            keys = list(dict.fromkeys(by_d["key"]))
            sub = _sub_line(ln, s0, s1)
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
    out["adcode"] = _adcodes(mids, bundle.metric("districts"))
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
    return _identify(bundle, rules, _analyse(bundle, rules))


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
    dec = pd.DataFrame({"pipeline_key": _col(declared, "pipeline_key").astype(str),
                        "grade": pd.to_numeric(_col(declared, "grade"), errors="coerce"),
                        "start_m": pd.to_numeric(_col(declared, "start_m"), errors="coerce"),
                        "end_m": pd.to_numeric(_col(declared, "end_m"), errors="coerce")})
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


def _loc_findings(results: list[_PipeResult], rules: RuleSet, districts: gpd.GeoDataFrame,
                  epsg: int | None) -> list[dict[str, Any]]:
    rule = rules["LOC_CLASS"]
    corridor = float(rule.params["corridor_m"])
    pending: list[tuple[dict[str, Any], Any, Any]] = []
    for res in results:
        for s0, s1, rank, households in _run_table(res, res.rank):
            if rank < 3:
                continue
            label = CLASS_LABELS[rank]
            cands = []
            for layer, frame in (("buildings", res.bld), ("protection_targets", res.gather)):
                s = frame["s"].to_numpy(float)
                inside = frame[(s >= s0 - _EPS) & (s <= s1 + _EPS)]
                if len(inside):
                    cands.append((layer, inside.sort_values("d", kind="stable").iloc[0]))
            layer, obj = min(cands, key=lambda c: float(c[1]["d"])) if cands else ("pipelines", None)
            m0, m1 = s0 + res.ln.start_m, s1 + res.ln.start_m
            rng = format_mileage_range(m0, m1)
            rec = {"subject_type": "pipelines", "subject_key": res.ln.key, "subject_name": res.ln.name,
                   "object_type": layer,
                   "object_key": obj["key"] if obj is not None else f"{res.ln.key}:{m0:.0f}-{m1:.0f}",
                   "object_name": obj["name"] if obj is not None else None,
                   "measured_m": float(obj["d"]) if obj is not None else None, "required_m": corridor,
                   "verdict": "inventory",
                   "detail": Bilingual(f"{_CLASS_ZH[label]} 里程 {rng}，长{s1 - s0:.0f}m，两侧各{corridor:g}m内"
                                       f"{households}户",
                                       f"Location class {label} at chainage {rng}, {s1 - s0:.0f} m, "
                                       f"{households} households within {corridor:g} m")}
            pending.append((rec, _sub_line(res.ln, s0, s1), res.ln.chain.point_at((s0 + s1) / 2)))
    if not pending:
        return []
    geoms = to_storage([g for _r, g, _m in pending], epsg)
    codes = _adcodes([m for _r, _g, m in pending], districts)
    return [finding(rule, **rec, adcode=code, geometry=geom)
            for (rec, _g, _m), geom, code in zip(pending, geoms, codes, strict=True)]


def _review_findings(declared: gpd.GeoDataFrame, pipes: gpd.GeoDataFrame, rule: Rule,
                     as_of: dt.date) -> list[dict[str, Any]]:
    months = int(rule.params["max_months"])
    names = dict(zip(_col(pipes, "key").astype(str), _col(pipes, "name"), strict=True)) if len(pipes) else {}
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
    results = _analyse(bundle, rules)
    hcas = _identify(bundle, rules, results)
    records = _hca_findings(hcas, rules, bundle["hcas"])
    records += _loc_findings(results, rules, bundle.metric("districts"), bundle.metric_epsg)
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
