"""Split a check run into spatial partitions whose findings, put together, equal one run over everything.

Pure spatial logic, no scheduling (that is :mod:`geo.checks.dask_engine`) and no I/O.

Partitions
----------
The area is cut first by CGCS2000 3-degree Gauss-Krüger zone (:func:`geo.crs.gk_zone_epsg`), then into
square tiles of ``tile_m`` metres in that zone's grid coordinates: tile ``(epsg, ix, iy)`` covers
``ix·tile_m ≤ x < (ix+1)·tile_m`` and the same in y. Each tile is checked in its zone's metric CRS
(``Bundle(metric_epsg=epsg)``). A tile's *work set* is every feature meeting the tile grown by a halo
``H`` (:func:`halo_m`); features are passed whole, never clipped, so a pipeline keeps its mileage along
the whole line.

Ownership (why no finding is missed or counted twice)
-----------------------------------------------------
Every finding has one *anchor*, a point worked out from the finding alone: the representative point
(:func:`shapely.point_on_surface`) of its geometry — the shortest line between subject and object, the
crossing point, the parallel stretch, the plant hull, the pond — or, for a finding without geometry
(a pond's safety degree), of its subject feature. The anchor's longitude gives its zone, its grid
coordinates in that zone give its tile: exactly one tile owns any point. A tile keeps exactly the
findings anchored in it.

*No pair is missed.* Every feature that decides whether a finding exists and what it says lies within
``H`` of its anchor: the halo is the largest rule distance of the families run (each rule's distance
parameters added up and multiplied by its largest factor, :func:`rule_reach_m`), or the largest declared
external safety distance or gas-pipeline impact radius in the data, whichever is larger, plus the widest
extent of any non-line feature or of one enterprise's plant parts together (:func:`span_m`). A pair
finding's anchor lies on the shortest line between its subject and object, so both are within the
measured distance (≤ the rule distance) of it; a finding drawn on a plant hull or a pond has its anchor
inside it and everything it counts within the rule distance of that shape. The tile owning the anchor
therefore holds every feature that decides the finding — whole — and computes it exactly as one run over
everything would, including its anchor. *None is counted twice*: the other tiles may compute it too (or,
lacking context, compute something else), but whatever they compute is anchored outside them, so they
drop it.

Location class and HCA identification (family ``hca``) judge a whole pipeline (2 km sliding windows,
segments merged along the line). They are partitioned by pipeline instead: each pipeline belongs to
the tile owning its own anchor (representative point of the line), and that tile runs the family on
its pipelines, whole, with every feature within ``H`` of any of them. The family's findings all have a
pipeline as subject and depend only on that pipeline, the features within its corridor and the
declared HCAs and districts, which every partition receives whole (:data:`GLOBAL_LAYERS`).

Enterprises are global too (every partition has them all, a few tens of thousands of points even for
a province): findings that link an enterprise to its risk contours or plant parts then need only
those features near the anchor, however far they are from the enterprise's point.

Zones
-----
A finding is measured in the zone of its anchor (a pipeline's ``hca`` findings in the zone of the
pipeline's anchor), whole lines included even where they run into the next zone. For data in one zone
this is the single-process run; for data across zones :func:`zoned_reference` runs the single process
once per zone and keeps each zone's own findings — the same rule, so both agree to the millimetre.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.checks.bundle import LAYERS, Bundle
from geo.checks.ruleset import RuleSet
from geo.constants import STORAGE_SRID
from geo.crs import gk_zone_epsg

#: Layers every partition receives whole (small, and read by every family as a whole).
GLOBAL_LAYERS = ("districts", "hcas", "enterprises")
#: Layers cut by tile (whole features meeting the tile and its halo).
TILED_LAYERS = tuple(layer for layer in LAYERS if layer not in GLOBAL_LAYERS)
#: The family judged per whole pipeline rather than per tile.
LINE_FAMILY = "hca"
#: Metres per degree used to turn degree spans into metres: ≥ any degree of latitude or longitude on
#: the CGCS2000 ellipsoid (111.69 km at the poles), so spans are never under-estimated.
M_PER_DEG = 111_700.0
#: Layers whose features are passed whole along lines; their extent does not enter :func:`span_m`.
LINE_LAYERS = ("pipelines", "infrastructure")


@dataclass(frozen=True)
class Tile:
    """One partition: a square of ``size_m`` metres in the grid of Gauss-Krüger zone ``epsg``."""

    epsg: int
    ix: int
    iy: int
    size_m: float

    @property
    def name(self) -> str:
        """A readable identifier, e.g. ``4543:12:-3``."""
        return f"{self.epsg}:{self.ix}:{self.iy}"

    def bounds_m(self, grow_m: float = 0.0) -> tuple[float, float, float, float]:
        """Return the tile's box in zone metres, grown by ``grow_m`` on every side."""
        x0, y0 = self.ix * self.size_m, self.iy * self.size_m
        return (x0 - grow_m, y0 - grow_m, x0 + self.size_m + grow_m, y0 + self.size_m + grow_m)

    def window(self, grow_m: float = 0.0) -> tuple[float, float, float, float]:
        """Return a lon/lat box (EPSG:4490) holding the tile grown by ``grow_m`` (densified edges)."""
        box = shapely.segmentize(shapely.box(*self.bounds_m(grow_m)), max((self.size_m + 2 * grow_m) / 16, 1.0))
        lonlat = gpd.GeoSeries([box], crs=self.epsg).to_crs(STORAGE_SRID)
        x0, y0, x1, y1 = (float(v) for v in lonlat.total_bounds)
        pad = 1e-7  # a few centimetres: a feature touching the edge stays in
        return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def zone_bounds(epsg: int) -> tuple[float, float]:
    """Return the longitudes ``[west, east)`` whose anchors :func:`gk_zone_epsg` puts in zone ``epsg``.

    Examples
    --------
    >>> zone_bounds(4543)
    (100.5, 103.5)
    """
    cm = 75 + 3 * (epsg - 4534)
    return (cm - 1.5, cm + 1.5)


def plan_tiles(extent: tuple[float, float, float, float], tile_m: float) -> list[Tile]:
    """Return the tiles covering a lon/lat extent, zone by zone.

    Parameters
    ----------
    extent : tuple of float
        ``(west, south, east, north)`` in EPSG:4490.
    tile_m : float
        Tile side in metres.

    Returns
    -------
    list of Tile
        Every tile of every zone that can own an anchor inside ``extent``.
    """
    if tile_m <= 0:
        raise ValueError(f"tile size must be positive, got {tile_m}")
    west, south, east, north = extent
    tiles: list[Tile] = []
    epsgs = sorted({gk_zone_epsg(lon) for lon in np.linspace(west, east, max(2, int((east - west) / 0.5) + 2))})
    for epsg in epsgs:
        lo, hi = zone_bounds(epsg)
        part = shapely.box(max(west, lo), south, min(east, hi), north)
        part = shapely.segmentize(part, 0.05)
        x0, y0, x1, y1 = gpd.GeoSeries([part], crs=STORAGE_SRID).to_crs(epsg).total_bounds
        for ix in range(math.floor(x0 / tile_m), math.floor(x1 / tile_m) + 1):
            for iy in range(math.floor(y0 / tile_m), math.floor(y1 / tile_m) + 1):
                tiles.append(Tile(epsg, ix, iy, float(tile_m)))
    return tiles


def owners(points: Any, tile_m: float) -> pd.DataFrame:
    """Return the owning tile ``(epsg, ix, iy)`` of each lon/lat point (one row per point, in order).

    Parameters
    ----------
    points : array of shapely Point
        Anchors in EPSG:4490.
    tile_m : float
        Tile side in metres.

    Returns
    -------
    DataFrame
        Columns ``epsg``, ``ix``, ``iy`` (integers).
    """
    pts = np.asarray(points, dtype=object)
    out = pd.DataFrame({"epsg": np.zeros(len(pts), dtype=np.int64), "ix": np.zeros(len(pts), dtype=np.int64),
                        "iy": np.zeros(len(pts), dtype=np.int64)})
    if not len(pts):
        return out
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    epsg = np.array([gk_zone_epsg(float(v)) for v in lon], dtype=np.int64)
    for zone in np.unique(epsg):
        sel = epsg == zone
        tr = pyproj.Transformer.from_crs(STORAGE_SRID, int(zone), always_xy=True)
        x, y = tr.transform(lon[sel], lat[sel])
        out.loc[sel, "ix"] = np.floor(np.asarray(x) / tile_m).astype(np.int64)
        out.loc[sel, "iy"] = np.floor(np.asarray(y) / tile_m).astype(np.int64)
    out["epsg"] = epsg
    return out


def finding_anchors(findings: gpd.GeoDataFrame, frames: Mapping[str, gpd.GeoDataFrame]) -> np.ndarray:
    """Return each finding's anchor (EPSG:4490): a point of its geometry, else of its subject feature.

    Parameters
    ----------
    findings : GeoDataFrame
        Findings in EPSG:4490.
    frames : mapping of str to GeoDataFrame
        The layers the findings came from (for findings without geometry).

    Returns
    -------
    ndarray of shapely Point

    Raises
    ------
    ValueError
        A finding has neither a geometry nor a subject feature to anchor it.
    """
    geoms = np.asarray(findings.geometry.values, dtype=object)
    anchors = np.empty(len(geoms), dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else np.zeros(0, bool)
    anchors[ok] = shapely.point_on_surface(geoms[ok])
    for i in np.flatnonzero(~ok):
        row = findings.iloc[i]
        layer = frames.get(str(row["subject_type"]))
        hit = None
        if layer is not None and "key" in layer.columns:
            hit = layer[layer["key"].astype(str) == str(row["subject_key"])]
        if hit is None or not len(hit):
            raise ValueError(f"finding {row['rule_code']} of {row['subject_type']}:{row['subject_key']} has no "
                             "geometry and its subject is not in the partition: it cannot be anchored")
        anchors[i] = shapely.point_on_surface(hit.geometry.values[0])
    return anchors


def line_anchors(pipelines: gpd.GeoDataFrame) -> np.ndarray:
    """Return each pipeline's anchor: the representative point of the whole line (EPSG:4490)."""
    geoms = np.asarray(pipelines.geometry.values, dtype=object)
    return np.asarray(shapely.point_on_surface(geoms), dtype=object) if len(geoms) else np.empty(0, dtype=object)


def in_tile(points: Any, tile: Tile) -> np.ndarray:
    """Return a mask of the lon/lat points that ``tile`` owns."""
    own = owners(points, tile.size_m)
    return ((own["epsg"] == tile.epsg) & (own["ix"] == tile.ix) & (own["iy"] == tile.iy)).to_numpy()


def _distances(value: Any, key: str = "") -> Iterable[float]:
    """Numbers under a distance key (``…_m``) anywhere in a rule's parameters."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _distances(v, str(k) if str(k).endswith("_m") else key)
    elif isinstance(value, list):
        for v in value:
            yield from _distances(v, key)
    elif isinstance(value, int | float) and not isinstance(value, bool) and key:
        yield float(value)


def rule_reach_m(rules: RuleSet, families: Iterable[str] | None = None) -> float:
    """Return the farthest any rule of ``families`` looks: per rule, its distances added up, times its factors.

    Parameters
    ----------
    rules : RuleSet
        The rules of the run (local values included).
    families : iterable of str, optional
        Only these families' rules (default: all).

    Returns
    -------
    float
        Metres; per rule the largest value under each distance parameter (``threshold_m`` and every
        ``…_m`` key) added up, multiplied by the largest ``…_factor`` above 1.

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> rule_reach_m(load_ruleset(), ["pipeline"]) >= 500.0
    True
    """
    wanted = None if families is None else set(families)
    reach = 0.0
    for rule in rules.rules.values():
        if wanted is not None and rule.family not in wanted:
            continue
        params = dict(rule.params)
        total = float(rule.threshold_m or 0.0)
        for key, value in params.items():
            if str(key).endswith("_m"):
                total += max(_distances({key: value}), default=0.0)
        factor = max([float(v) for k, v in params.items() if str(k).endswith("_factor")
                      and isinstance(v, int | float)] + [1.0])
        reach = max(reach, total * factor)
    return reach


def _spans_deg(frame: gpd.GeoDataFrame) -> np.ndarray:
    if not len(frame):
        return np.zeros(0)
    b = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
    return np.nan_to_num(np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]))


def span_m(frames: Mapping[str, gpd.GeoDataFrame]) -> float:
    """Return the widest extent (m, over-estimated) of a non-line feature or of one enterprise's plant parts.

    The plant parts of one enterprise (``installations.enterprise_credit_code``) are measured together,
    as the plant hull is. Enterprises themselves are a global layer (every partition has them all),
    so a contour or a part far from its enterprise's point does not widen the halo.

    Parameters
    ----------
    frames : mapping of str to GeoDataFrame
        Layers in EPSG:4490.

    Returns
    -------
    float
    """
    widest = 0.0
    for layer, frame in frames.items():
        if layer in LINE_LAYERS or layer in GLOBAL_LAYERS or frame is None or not len(frame):
            continue
        widest = max(widest, float(_spans_deg(frame).max(initial=0.0)))
    parts = frames.get("installations")
    if parts is not None and len(parts) and "enterprise_credit_code" in parts.columns:
        b = shapely.bounds(np.asarray(parts.geometry.values, dtype=object))
        g = pd.DataFrame({"code": parts["enterprise_credit_code"].astype(str).to_numpy(), "x0": b[:, 0],
                          "y0": b[:, 1], "x1": b[:, 2], "y1": b[:, 3]}).dropna()
        g = g.groupby("code").agg({"x0": "min", "y0": "min", "x1": "max", "y1": "max"})
        if len(g):
            widest = max(widest, float(np.hypot(g["x1"] - g["x0"], g["y1"] - g["y0"]).max()))
    return widest * M_PER_DEG


def data_reach_m(frames: Mapping[str, gpd.GeoDataFrame], rules: RuleSet) -> float:
    """Return the largest distance the data itself sets: declared safety distances, gas impact radii.

    Parameters
    ----------
    frames : mapping of str to GeoDataFrame
        Layers (``enterprises.external_distance_m``; ``pipelines.outside_diameter_mm`` and ``maop_mpa``).
    rules : RuleSet
        For the HCA_GAS radius coefficient.

    Returns
    -------
    float
        Metres.
    """
    reach = 0.0
    ents = frames.get("enterprises")
    if ents is not None and len(ents) and "external_distance_m" in ents.columns:
        reach = max(reach, float(pd.to_numeric(ents["external_distance_m"], errors="coerce").max(skipna=True) or 0.0))
    pipes = frames.get("pipelines")
    if pipes is not None and len(pipes) and {"outside_diameter_mm", "maop_mpa"} <= set(pipes.columns):
        coeff = float(rules.rules["HCA_GAS"].params.get("radius_coeff", 0.0)) if "HCA_GAS" in rules.rules else 0.0
        d = pd.to_numeric(pipes["outside_diameter_mm"], errors="coerce").to_numpy(dtype=float)
        p = pd.to_numeric(pipes["maop_mpa"], errors="coerce").to_numpy(dtype=float)
        radius = coeff * d * np.sqrt(np.clip(p, 0, None))
        reach = max(reach, float(np.nan_to_num(radius).max(initial=0.0)))
    return 0.0 if math.isnan(reach) else reach


def halo_m(rules: RuleSet, families: Iterable[str] | None, *, data_reach: float, span: float) -> float:
    """Return the halo: the farthest a rule or the data looks, plus the widest feature (see module docstring).

    Parameters
    ----------
    rules : RuleSet
        Rules of the run.
    families : iterable of str, optional
        Families run (default: all).
    data_reach : float
        :func:`data_reach_m` of the data.
    span : float
        :func:`span_m` of the data.

    Returns
    -------
    float
        Metres.
    """
    return max(rule_reach_m(rules, families), data_reach) + span


def window_rows(frame: gpd.GeoDataFrame, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """Return the rows of ``frame`` (EPSG:4490) whose geometry meets a lon/lat box, in their order."""
    if not len(frame):
        return frame
    idx = np.sort(frame.sindex.query(shapely.box(*bbox), predicate="intersects"))
    return frame.iloc[idx]


def near_rows(frame: gpd.GeoDataFrame, lines: Any, reach_m: float) -> gpd.GeoDataFrame:
    """Return the rows of ``frame`` within about ``reach_m`` of any of ``lines`` (lon/lat; a superset).

    The distance is taken in degrees with the smallest metres-per-degree of the lines' latitudes, so
    every feature truly within ``reach_m`` is returned (and a few beyond it).
    """
    geoms = np.asarray(lines, dtype=object)
    if not len(frame) or not len(geoms):
        return frame.iloc[:0]
    deg = degrees_for(reach_m, float(np.abs(shapely.bounds(geoms)[:, [1, 3]]).max()))
    hits = frame.sindex.query(geoms, predicate="dwithin", distance=deg)[1]
    return frame.iloc[np.unique(hits)]


def degrees_for(reach_m: float, max_abs_lat: float) -> float:
    """Return a distance in degrees covering ``reach_m`` metres anywhere up to latitude ``max_abs_lat``.

    Examples
    --------
    >>> round(degrees_for(1000.0, 25.0), 5)
    0.00999
    """
    per_deg = 111_320.0 * math.cos(math.radians(min(max_abs_lat + 1.0, 89.0)))  # a degree of longitude, shortest
    return reach_m / min(per_deg, 110_570.0)


def zoned_reference(frames: Mapping[str, gpd.GeoDataFrame], rules: RuleSet, run: Any) -> gpd.GeoDataFrame:
    """Return the single-process findings under the zone rule: each zone's run keeps its own anchors.

    Parameters
    ----------
    frames : mapping of str to GeoDataFrame
        All layers (EPSG:4490).
    rules : RuleSet
        Rules.
    run : callable
        ``run(bundle) -> CheckResult``, e.g. ``lambda b: run_checks(b, rules, as_of=…)``.

    Returns
    -------
    GeoDataFrame
        Findings of every zone touched by the data, each measured in the zone of its anchor.
    """
    pipes = frames.get("pipelines")
    pipe_zone = {}
    if pipes is not None and len(pipes):
        pipe_zone = dict(zip(pipes["key"].astype(str), [gk_zone_epsg(p.x) for p in line_anchors(pipes)], strict=True))
    bounds = [f.total_bounds for name, f in frames.items() if f is not None and len(f) and name not in GLOBAL_LAYERS]
    west, east = min(b[0] for b in bounds), max(b[2] for b in bounds)
    zones = sorted({gk_zone_epsg(v) for v in np.linspace(west, east, 50)})
    parts = []
    for epsg in zones:
        bundle = Bundle({k: v.copy() for k, v in frames.items()}, metric_epsg=epsg)
        found = run(bundle).findings
        line = found["rule_code"].map(lambda c: rules.rules[c].family == LINE_FAMILY).to_numpy(dtype=bool)
        zone = np.array([gk_zone_epsg(p.x) for p in finding_anchors(found, bundle.frames)], dtype=np.int64)
        line_zone = found["subject_key"].astype(str).map(pipe_zone).to_numpy()
        keep = np.where(line, line_zone == epsg, zone == epsg)
        parts.append(found[keep])
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=STORAGE_SRID)
