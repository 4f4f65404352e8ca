"""Pipeline location classes (GB 50251-2015 4.2.2), on pipelines linear-referenced by mileage.

Pure functions over a :class:`~geo.checks.bundle.Bundle`; every distance is measured in the
metric Gauss-Krüger zone ``bundle.metric_epsg`` and every threshold comes from the rule
``LOC_CLASS`` (``geo/rules/checks.yaml``). :mod:`geo.checks.hca` builds the high-consequence
areas of GB 32167 on these classes.

Readings of the standard made here (see ``shared/docs/standards.md`` §5.1):

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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiLineString

from geo.cell_values import column_series
from geo.checks.bundle import Bundle, district_codes
from geo.checks.findings import Bilingual, finding
from geo.checks.line_search import piece_pairs
from geo.checks.metric_frame import LOCATING_PIECE_VERTICES, to_storage
from geo.checks.mileage import Chainage, format_mileage_range
from geo.checks.ruleset import RuleSet
from geo.constants import STORAGE_SRID

__all__ = ["CLASS_LABELS", "EPS", "Line", "PipeResult", "along_extent", "along_extent_all", "analyse",
           "located_buildings", "location_classes", "location_findings", "run_table", "runs", "sub_line",
           "window_counts", "windows"]

#: Location-class labels by rank (0 = 一级一类 … 4 = 四级).
CLASS_LABELS = ("1-1", "1-2", "2", "3", "4")
#: Tolerance (m) of along-line comparisons.
EPS = 1e-6
_MAX_EXTEND_PASSES = 50    # safety bound of the repeated 4.2.2-2 extension
#: A building this close (m) to a window's edge counts inside it. Windows are placed every ``step_m``
#: (a discretisation of "placed to capture the most households"), so 1 cm changes no reading; it keeps
#: a building measured exactly on an edge inside although geodesic mileage differs from the grid
#: distance by millimetres.
_WINDOW_EPS = 0.01
_CLASS_ZH = {"1-1": "一级一类地区", "1-2": "一级二类地区", "2": "二级地区", "3": "三级地区", "4": "四级地区"}
_LC_COLUMNS = ("pipeline_key", "from_m", "to_m", "loc_class", "households")

# ---------------------------------------------------------------------------
# linear referencing
# ---------------------------------------------------------------------------

@dataclass
class Line:
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


def _make_line(row: Any, geom: Any, epsg: int | None) -> Line | None:
    start = pd.to_numeric(pd.Series([getattr(row, "start_mileage_m", 0.0)]), errors="coerce").fillna(0.0)
    try:
        chain = Chainage.of(geom, epsg, float(start.iloc[0]))
    except ValueError:
        return None  # no linear part: nothing to measure along
    pieces, offsets = chain.pieces(LOCATING_PIECE_VERTICES)
    return Line(key=str(row.key), name=getattr(row, "name", None), medium=str(row.medium),
                 d_mm=float(row.outside_diameter_mm), p_mpa=float(row.maop_mpa), start_m=chain.start_m,
                 chain=chain, pieces=np.asarray(pieces, dtype=object), offsets=offsets)


def _pairs(ln: Line, frame: gpd.GeoDataFrame, dist: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate (feature row, piece) pairs within ``dist`` and their distances, nearest piece first."""
    found = piece_pairs([ln.pieces], frame, dist)
    return found.row, found.piece, found.d


def _near_all(lines: list[Line], frame: gpd.GeoDataFrame, dist: float) -> list[pd.DataFrame]:
    """Features within ``dist`` of each line: positional row, mileage of their nearest point, distance.

    One index search for all lines (:func:`geo.checks.line_search.piece_pairs`); each feature is
    located on its nearest piece of each line, rows in feature order.
    """
    line, gi, pi, d, near, near_at = piece_pairs([ln.pieces for ln in lines], frame, dist)
    first = np.ones(len(gi), dtype=bool)
    first[1:] = (gi[1:] != gi[:-1]) | (line[1:] != line[:-1])
    line, gi, pi, d, near, near_at = line[first], gi[first], pi[first], d[first], near[first], near_at[first]
    geoms = np.asarray(frame.geometry.array, dtype=object)
    grid = np.zeros(len(gi))
    bounds = np.searchsorted(line, np.arange(len(lines) + 1))
    for k, ln in enumerate(lines):
        a, b = bounds[k], bounds[k + 1]
        grid[a:b] = ln.offsets[pi[a:b]]
    if len(gi):  # located on the short piece holding the nearest point, a tenth of the work of the whole piece
        foot = shapely.get_point(shapely.shortest_line(geoms[gi], near), 1)
        grid += near_at + shapely.line_locate_point(near, foot)
    out = []
    for k, ln in enumerate(lines):
        a, b = bounds[k], bounds[k + 1]
        s = np.asarray(ln.chain.along_of_grid(grid[a:b]), dtype=float) if b > a else np.zeros(0)
        out.append(pd.DataFrame({"row": gi[a:b], "s": s, "d": d[a:b]}))
    return out


def along_extent(ln: Line, frame: gpd.GeoDataFrame, dist: float) -> pd.DataFrame:
    """Features within ``dist``: positional row, along-line range of their part within ``dist``, distance."""
    gi, pi, d = _pairs(ln, frame, dist)
    return _extent(ln, frame, dist, gi, pi, d)


def along_extent_all(lines: list[Line], frame: gpd.GeoDataFrame, dist: float) -> list[pd.DataFrame]:
    """Return :func:`along_extent` of every line, the index searched once for all of them."""
    found = piece_pairs([ln.pieces for ln in lines], frame, dist)
    bounds = np.searchsorted(found.line, np.arange(len(lines) + 1))
    return [_extent(ln, frame, dist, found.row[a:b], found.piece[a:b], found.d[a:b])
            for ln, a, b in zip(lines, bounds[:-1], bounds[1:], strict=True)]


def _extent(ln: Line, frame: gpd.GeoDataFrame, dist: float, gi: np.ndarray, pi: np.ndarray,
            d: np.ndarray) -> pd.DataFrame:
    """Return the along-line ranges of :func:`along_extent` from one line's (row, piece, distance) pairs."""
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
    rows, dist_of = gi[pair], d[pair]
    order = np.argsort(rows, kind="stable")
    rows, s, dist_of = rows[order], s[order], dist_of[order]
    start = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
    return pd.DataFrame({"row": rows[start], "s_lo": np.minimum.reduceat(s, start),
                         "s_hi": np.maximum.reduceat(s, start), "d": np.minimum.reduceat(dist_of, start)})


# ---------------------------------------------------------------------------
# location classes
# ---------------------------------------------------------------------------

def windows(length: float, window_m: float, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and end mileages of the sliding windows."""
    if length <= window_m:
        return np.array([0.0]), np.array([length])
    starts = np.unique(np.append(np.arange(0.0, length - window_m, step_m), length - window_m))
    return starts, starts + window_m


def window_counts(s: np.ndarray, hh: np.ndarray, starts: np.ndarray,
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


def runs(rank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        i0 = np.searchsorted(c1, lo[sel] + EPS, "right")
        i1 = np.searchsorted(c0, hi[sel] - EPS, "left")
        diff = np.zeros(len(rank) + 1, dtype=int)
        np.add.at(diff, i0, 1)
        np.add.at(diff, i1, -1)
        covered = np.cumsum(diff[:-1]) > 0
        out[covered] = np.maximum(out[covered], v)
    return out


@dataclass
class PipeResult:
    """Location-class analysis of one pipeline."""

    ln: Line
    edges: np.ndarray
    rank_hh: np.ndarray     # class rank per cell before the gathering-place lift
    rank: np.ndarray        # final class rank per cell
    bld: pd.DataFrame       # corridor buildings: s, d, hh, key, name (households > 0)
    gather: pd.DataFrame    # gathering places in the corridor: s, d, key, name


def _classify(ln: Line, bld: pd.DataFrame, gather: pd.DataFrame, p: dict[str, Any]) -> PipeResult:
    length = ln.length
    window_m, step_m, ext = float(p["window_m"]), float(p["step_m"]), float(p["extend_m"])
    c2, c3 = float(p["class_2_min_households"]), float(p["class_3_min_households"])
    share = float(p["class_4_min_share"])
    edges = np.append(np.arange(0.0, length, step_m), length) if length > 0 else np.zeros(1)
    ncell = len(edges) - 1
    starts, ends = windows(length, window_m, step_m)
    s, hh, hi_hh = bld["s"].to_numpy(float), bld["hh"].to_numpy(float), bld["hi_hh"].to_numpy(float)
    cnt, _o, _lo, _hi = window_counts(s, hh, starts, ends)
    cnt_hi, _o, _lo, _hi = window_counts(s, hi_hh, starts, ends)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(cnt > 0, cnt_hi / np.where(cnt > 0, cnt, 1.0), 0.0)
    wrank = np.select([(cnt >= c3) & (frac >= share), cnt >= c3, cnt >= c2, cnt > 0], [4, 3, 2, 1], 0)
    c0, c1 = edges[:-1], edges[1:]
    jmax = np.searchsorted(starts, c0 + EPS, "right") - 1
    jmin = np.searchsorted(ends, c1 - EPS, "left")
    rank = np.zeros(ncell, dtype=int)
    span = int((jmax - jmin).max()) + 1 if ncell else 0
    for o in range(max(span, 0)):
        j = jmin + o
        ok = (j <= jmax) & (j >= 0) & (j < len(wrank))
        rank[ok] = np.maximum(rank[ok], wrank[j[ok]])
    # 4.2.2-2: class 2/3/4 boundaries at least extend_m beyond the first/last building
    ss = np.sort(s[hh > 0])
    for _ in range(_MAX_EXTEND_PASSES):
        i0, i1, val = runs(rank)
        keep = val >= 2
        if not keep.any() or not len(ss):
            break
        r_lo, r_hi, val = edges[i0[keep]], edges[i1[keep]], val[keep]
        a = np.searchsorted(ss, r_lo - EPS, "left")
        b = np.searchsorted(ss, r_hi + EPS, "right") - 1
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
    return PipeResult(ln=ln, edges=edges, rank_hh=rank_hh, rank=rank, bld=bld, gather=gather)


def _pipelines(bundle: Bundle) -> list[Line]:
    pipes = bundle.metric("pipelines")
    if not len(pipes):
        return []
    lines = [_make_line(row, geom, bundle.metric_epsg)
             for row, geom in zip(pipes.itertuples(index=False), pipes.geometry, strict=True)]
    return [ln for ln in lines if ln is not None]


def located_buildings(ln: Line, frame: gpd.GeoDataFrame, dist: float, min_floors: float) -> pd.DataFrame:
    """Household buildings within ``dist`` of ``ln``: mileage ``s``, distance ``d``, ``hh``, ``hi_hh``, key, name."""
    return located_buildings_all([ln], frame, dist, min_floors)[0]


def located_buildings_all(lines: list[Line], frame: gpd.GeoDataFrame, dist: float,
                          min_floors: float) -> list[pd.DataFrame]:
    """:func:`located_buildings` of every line, searched in one go."""
    hh_all = pd.to_numeric(column_series(frame, "households", 0), errors="coerce").fillna(0).to_numpy(float)
    floors = pd.to_numeric(column_series(frame, "floors", 0), errors="coerce").fillna(0).to_numpy(float)
    hi_all = np.where(floors >= min_floors, hh_all, 0.0)
    keys, names = column_series(frame, "key").astype(str).to_numpy(), column_series(frame, "name").to_numpy()
    out = []
    for near in _near_all(lines, frame, dist):
        keep = hh_all[near["row"].to_numpy()] > 0
        rows = near["row"].to_numpy()[keep]
        out.append(pd.DataFrame({"s": near["s"].to_numpy()[keep], "d": near["d"].to_numpy()[keep], "hh": hh_all[rows],
                                 "hi_hh": hi_all[rows], "key": keys[rows], "name": names[rows]}))
    return out


def _located_targets_all(lines: list[Line], frame: gpd.GeoDataFrame, dist: float) -> list[pd.DataFrame]:
    keys, names = column_series(frame, "key").astype(str).to_numpy(), column_series(frame, "name").to_numpy()
    out = []
    for near in _near_all(lines, frame, dist):
        rows = near["row"].to_numpy()
        out.append(pd.DataFrame({"s": near["s"].to_numpy(), "d": near["d"].to_numpy(), "key": keys[rows],
                                 "name": names[rows]}))
    return out


def analyse(bundle: Bundle, rules: RuleSet) -> list[PipeResult]:
    """Location classes of every pipeline (cells of ``step_m``)."""
    p = rules["LOC_CLASS"].params
    corridor = float(p["corridor_m"])
    buildings = bundle.metric("buildings")
    targets = bundle.metric("protection_targets")
    gather_types = list(p.get("gathering_target_types", []))
    gather_frame = targets[column_series(targets, "target_type").isin(gather_types)] if len(targets) else targets
    lines = _pipelines(bundle)
    blds = located_buildings_all(lines, buildings, corridor, float(p["class_4_min_floors"]))
    gathers = _located_targets_all(lines, gather_frame, corridor)
    return [_classify(ln, bld, gather, p) for ln, bld, gather in zip(lines, blds, gathers, strict=True)]


def sub_line(ln: Line, s0: float, s1: float) -> MultiLineString:
    """Cut out the pipe between two positions, in pieces that never bridge a gap between parts."""
    s0, s1 = max(0.0, s0), min(ln.length, s1)
    if s1 - s0 < 0.01:
        s1 = min(ln.length, s0 + 0.01)
        s0 = max(0.0, s1 - 0.01)
    return MultiLineString(ln.chain.sub_line(s0, s1))


def run_table(res: PipeResult, rank: np.ndarray) -> list[tuple[float, float, int, int]]:
    """Return runs of equal class: (from, to) from vertex 0, class rank, households in the run."""
    i0, i1, val = runs(rank)
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


def _location_frame(results: list[PipeResult], epsg: int | None) -> gpd.GeoDataFrame:
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for res in results:
        for s0, s1, rank, households in run_table(res, res.rank):
            rows.append({"pipeline_key": res.ln.key, "from_m": s0 + res.ln.start_m, "to_m": s1 + res.ln.start_m,
                         "loc_class": CLASS_LABELS[rank], "households": households})
            geoms.append(sub_line(res.ln, s0, s1))
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
    return _location_frame(analyse(bundle, rules), bundle.metric_epsg)


def location_findings(results: list[PipeResult], rules: RuleSet, districts: gpd.GeoDataFrame,
                      epsg: int | None) -> list[dict[str, Any]]:
    """``LOC_CLASS`` findings: one inventory record per class-3/4 run, its nearest building or target."""
    rule = rules["LOC_CLASS"]
    corridor = float(rule.params["corridor_m"])
    pending: list[tuple[dict[str, Any], Any, Any]] = []
    for res in results:
        for s0, s1, rank, households in run_table(res, res.rank):
            if rank < 3:
                continue
            label = CLASS_LABELS[rank]
            cands = []
            for layer, frame in (("buildings", res.bld), ("protection_targets", res.gather)):
                s = frame["s"].to_numpy(float)
                inside = frame[(s >= s0 - EPS) & (s <= s1 + EPS)]
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
            pending.append((rec, sub_line(res.ln, s0, s1), res.ln.chain.point_at((s0 + s1) / 2)))
    if not pending:
        return []
    geoms = to_storage([g for _r, g, _m in pending], epsg)
    codes = district_codes([m for _r, _g, m in pending], districts)
    return [finding(rule, **rec, adcode=code, geometry=geom)
            for (rec, _g, _m), geom, code in zip(pending, geoms, codes, strict=True)]
