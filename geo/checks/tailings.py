"""Tailings ponds: safety degree (AQ 2006-2005 §8) and 头顶库 (应急〔2020〕15号).

Two rules (``geo/rules/checks.yaml``, family ``tailings``; standards.md §7 and Rules-table rows
19–21):

``TAIL_SAFETY``
    A pond whose ``safety_degree`` is listed in ``params.degrees`` (危库/险库/病库). Subject and
    object are the pond itself; the detail names the degree and the design grade (等别).
``TAIL_OVERHEAD``
    Residents or important facilities within ``threshold_m`` (1 km) of the starter-dam toe *along
    the downstream tailings flow path*. Receptors are protection targets of
    ``params.receptor_target_classes`` and buildings of ``params.receptor_building_uses``.

    * Without a DEM this is only a **radial pre-screen** (verdict ``screen``): receptors whose
      nearest part is within ``threshold_m`` (inclusive) of the toe, measured straight.
    * With a :class:`DemGrid` the D8 steepest-descent path from the toe (:func:`flow_path`, cut at
      ``threshold_m`` of path length) is buffered by ``params.flow_width_m`` on each side (flat
      ends: the zone reaches neither behind the toe nor past the cut; a zero-length path from a toe
      in a pit is buffered as a disc), and the receptors it touches are ``violation`` findings.
      ``measured_m`` is the distance *along the path* from the toe to where the receptor's nearest
      point projects onto the path (so at most ``threshold_m``); the geometry is that stretch of
      path plus the hop to the receptor. A pond whose toe lies outside the DEM (or on a no-data
      cell) falls back to the radial screen.

Distances are metres in the bundle's Gauss-Krüger zone (the DEM may use any projected CRS; the
path is computed there and projected into the zone). They are compared at millimetre resolution
so that a feature exactly on the threshold stays on it after the EPSG:4490 round trip.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geo.cell_values import column_values, number_or_none, text_column
from geo.checks.bundle import Bundle
from geo.checks.findings import Bilingual, finding_columns, findings_from_columns, hits
from geo.checks.metric_frame import to_storage
from geo.checks.ruleset import Rule, RuleSet
from geo.errors import ConfigError
from geo.layer_specs import layer_spec
from geo.rules import load_table

__all__ = ["DemGrid", "check_tailings", "flow_path", "grade_label", "read_dem"]

#: Distances are compared after rounding to this many decimals of a metre (1 mm).
_DECIMALS = 3
_SLACK = 10.0 ** -_DECIMALS
#: D8 neighbour offsets (row, col), clockwise from north.
_D8 = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


# ---------------------------------------------------------------------------
# Grades and labels
# ---------------------------------------------------------------------------

def grade_label(grade: int | float | None) -> str:
    """Chinese label of a tailings design grade (等别), e.g. ``3`` → ``"三等"``.

    Labels come from ``geo/rules/tailings_grades.yaml``.

    Parameters
    ----------
    grade : int or None
        Design grade 1 (一等, highest) … 5 (五等).

    Returns
    -------
    str
        The label, or ``"等别未知"`` for a missing or unknown grade.

    Examples
    --------
    >>> grade_label(3), grade_label(1), grade_label(None)
    ('三等', '一等', '等别未知')
    """
    if grade is None or (isinstance(grade, float) and math.isnan(grade)):
        return "等别未知"
    for row in load_table("tailings_grades")["grades"]:
        if int(row["grade"]) == int(grade):
            return str(row["zh"])
    return "等别未知"


def _degree_labels() -> dict[str, str]:
    """Chinese names of the safety degrees (first label of the layer's enum choices)."""
    choices = layer_spec("tailings_dams").field("safety_degree").choices or {}
    return {code: labels[0] for code, labels in choices.items()}


# ---------------------------------------------------------------------------
# DEM and D8 flow path
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DemGrid:
    """A north-up elevation grid in a projected (metric) CRS.

    Parameters
    ----------
    elevation : numpy.ndarray
        2-D elevations in metres, row 0 at the top (north); NaN marks no data.
    x0, y0 : float
        Coordinates of the upper-left corner of the upper-left cell.
    cell_size : float
        Square cell size in metres.
    epsg : int
        EPSG code of a projected CRS (e.g. a CGCS2000 Gauss-Krüger zone, 4534–4554).

    Examples
    --------
    >>> import numpy as np
    >>> dem = DemGrid(np.zeros((2, 3)), 500000.0, 2760000.0, 10.0, 4543)
    >>> dem.cell_of(500015.0, 2759995.0), dem.center(0, 1)
    ((0, 1), (500015.0, 2759995.0))
    """

    elevation: np.ndarray
    x0: float
    y0: float
    cell_size: float
    epsg: int

    def __post_init__(self) -> None:
        if np.ndim(self.elevation) != 2:
            raise ValueError("DemGrid.elevation must be a 2-D array")
        if not self.cell_size > 0:
            raise ValueError("DemGrid.cell_size must be positive")
        if not CRS.from_epsg(int(self.epsg)).is_projected:
            raise ValueError(f"DemGrid needs a projected CRS in metres, got EPSG:{self.epsg}")

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the grid."""
        rows, cols = np.shape(self.elevation)
        return int(rows), int(cols)

    def cell_of(self, x: float, y: float) -> tuple[int, int] | None:
        """Row and column of the cell holding ``(x, y)``, or None outside the grid."""
        col = math.floor((x - self.x0) / self.cell_size)
        row = math.floor((self.y0 - y) / self.cell_size)
        rows, cols = self.shape
        if 0 <= row < rows and 0 <= col < cols:
            return row, col
        return None

    def center(self, row: int, col: int) -> tuple[float, float]:
        """Coordinates of the centre of cell ``(row, col)``."""
        return self.x0 + (col + 0.5) * self.cell_size, self.y0 - (row + 0.5) * self.cell_size


def flow_path(dem: DemGrid, x: float, y: float, max_length_m: float) -> LineString:
    """Steepest-descent (D8) flow path from ``(x, y)``, in the DEM's CRS.

    From the cell holding the start point the path moves to the neighbour (of 8) with the largest
    drop per distance (diagonals count ``cell_size·√2``), vertex by vertex through cell centres.
    It stops at a pit or flat (no lower neighbour), at the edge of the grid (a steeper neighbour
    outside the grid is not known), at no-data cells, or when the path reaches ``max_length_m``
    (the last segment is cut there exactly). Ties go to the first neighbour clockwise from north.

    Parameters
    ----------
    dem : DemGrid
        Elevation grid.
    x, y : float
        Start point (the dam toe) in the DEM's CRS.
    max_length_m : float
        Maximum path length in metres.

    Returns
    -------
    LineString
        The path, starting at ``(x, y)``. When the toe sits in a pit the line has zero length
        (two identical vertices).

    Raises
    ------
    ValueError
        When the start point is outside the grid or on a no-data cell.
    """
    start = dem.cell_of(x, y)
    z = np.asarray(dem.elevation, dtype=float)
    if start is None or not np.isfinite(z[start]):
        raise ValueError(f"start point ({x:.1f}, {y:.1f}) is outside the DEM or on no data")
    rows, cols = dem.shape
    cs = float(dem.cell_size)
    pts: list[tuple[float, float]] = [(x, y)]
    length = 0.0
    row, col = start
    while length < max_length_m:
        best: tuple[int, int] | None = None
        best_slope = 0.0
        here = z[row, col]
        for dr, dc in _D8:
            r, c = row + dr, col + dc
            if not (0 <= r < rows and 0 <= c < cols) or not np.isfinite(z[r, c]):
                continue
            slope = (here - z[r, c]) / (cs * math.hypot(dr, dc))
            if slope > best_slope:
                best, best_slope = (r, c), slope
        if best is None:
            break
        nx, ny = dem.center(*best)
        px, py = pts[-1]
        step = math.hypot(nx - px, ny - py)
        if length + step >= max_length_m:
            f = (max_length_m - length) / step if step > 0 else 0.0
            pts.append((px + f * (nx - px), py + f * (ny - py)))
            length = max_length_m
            break
        pts.append((nx, ny))
        length += step
        row, col = best
    if len(pts) == 1:
        pts.append((x, y))
    return LineString(pts)


def read_dem(path: str | Path) -> DemGrid:
    """Read a single-band, north-up GeoTIFF DEM in a projected CRS.

    Uses ``rasterio`` (a RiskMap dependency; the error below covers a trimmed install).

    Parameters
    ----------
    path : str or Path
        GeoTIFF file.

    Returns
    -------
    DemGrid
        Band 1 as float with no-data cells set to NaN.

    Raises
    ------
    ConfigError
        When ``rasterio`` is not installed.
    ValueError
        For a rotated grid, non-square cells or a CRS without an EPSG code.
    """
    try:
        import rasterio
    except ImportError as exc:
        raise ConfigError(
            "读取DEM需要安装 rasterio（RiskMap 未将其列为依赖） / reading a DEM GeoTIFF needs the optional "
            "'rasterio' package, which is not installed; install it or pass a DemGrid built from an array"
        ) from exc
    with rasterio.open(path) as src:
        band = src.read(1, masked=True)
        elevation = np.ma.filled(band.astype(float), np.nan)
        t = src.transform
        epsg = src.crs.to_epsg() if src.crs is not None else None
    if t.b != 0 or t.d != 0 or t.e >= 0:
        raise ValueError(f"{path}: the DEM must be north-up without rotation")
    if not math.isclose(abs(t.a), abs(t.e), rel_tol=1e-6):
        raise ValueError(f"{path}: the DEM cells must be square")
    if epsg is None:
        raise ValueError(f"{path}: the DEM's CRS has no EPSG code")
    return DemGrid(elevation, float(t.c), float(t.f), float(t.a), int(epsg))


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

def check_tailings(bundle: Bundle, rules: RuleSet, *, dem: DemGrid | None = None) -> gpd.GeoDataFrame:
    """Check tailings ponds: safety degree (``TAIL_SAFETY``) and 头顶库 (``TAIL_OVERHEAD``).

    Parameters
    ----------
    bundle : Bundle
        Needs ``tailings_dams`` (point at the starter-dam toe), ``protection_targets`` and
        ``buildings``.
    rules : RuleSet
        Supplies ``TAIL_SAFETY`` and ``TAIL_OVERHEAD``.
    dem : DemGrid, optional
        Elevation grid for the D8 flow path. Without one, ``TAIL_OVERHEAD`` is a radial
        pre-screen (verdict ``screen``).

    Returns
    -------
    GeoDataFrame
        Findings in EPSG:4490 (see :mod:`geo.checks.findings`).

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> len(check_tailings(Bundle({}), load_ruleset()))
    0
    """
    found = []
    if "TAIL_SAFETY" in rules.rules:
        found += _safety(bundle, rules["TAIL_SAFETY"])
    if "TAIL_OVERHEAD" in rules.rules:
        found += _overhead(bundle, rules["TAIL_OVERHEAD"], dem)
    return findings_from_columns(found)


def _grade(value: Any) -> int | None:
    """Return a design-grade cell as int, ``None`` when missing."""
    number = number_or_none(value)
    return None if number is None else int(number)


def _pond_columns(rule: Rule, ponds: gpd.GeoDataFrame, pond_pos: np.ndarray, object_type: str,
                  objects: gpd.GeoDataFrame, object_pos: np.ndarray, **rest: Any) -> dict[str, list[Any]]:
    """Return findings of ``rule`` about ponds (rows ``pond_pos`` of ``ponds``) and rows ``object_pos`` of ``objects``.

    Cells are read once per column (:func:`geo.cell_values.text_column`), for the rows found only.
    """
    return finding_columns(
        rule, len(pond_pos), subject_type="tailings_dams", subject_key=column_values(ponds, "key", pond_pos),
        subject_name=text_column(ponds, "name", pond_pos), object_type=object_type,
        object_key=column_values(objects, "key", object_pos), object_name=text_column(objects, "name", object_pos),
        adcode=text_column(objects, "adcode", object_pos), **rest)


def _safety(bundle: Bundle, rule: Rule) -> list[dict[str, list[Any]]]:
    """``TAIL_SAFETY``: ponds rated 危库/险库/病库."""
    ponds = bundle["tailings_dams"]
    if ponds.empty or "safety_degree" not in ponds.columns:
        return []
    degrees = {str(d) for d in rule.params.get("degrees", [])}
    labels = _degree_labels()
    rated = text_column(ponds, "safety_degree")
    pos = np.array([i for i, degree in enumerate(rated) if degree in degrees], dtype=np.intp)
    details = []
    for degree, cell in zip([rated[i] for i in pos], column_values(ponds, "design_grade", pos), strict=True):
        grade = _grade(cell)
        details.append(Bilingual(f"安全度为{labels.get(str(degree), degree)}，设计等别{grade_label(grade)}",
                                 f"pond rated {degree} (AQ 2006-2005 §8),"
                                 f" design grade {grade if grade is not None else 'unknown'}"))
    return [_pond_columns(rule, ponds, pos, "tailings_dams", ponds, pos, measured_m=None, required_m=None,
                          verdict="violation", geometry=ponds.geometry.to_numpy()[pos], detail=details)]


@dataclass(frozen=True)
class _Receptors:
    """The receptors of one layer: rows ``metric`` (projected) where ``keep``; ``rows`` their positions in ``frame``."""

    layer: str
    frame: gpd.GeoDataFrame
    rows: np.ndarray
    metric: gpd.GeoDataFrame
    keep: np.ndarray


def _receptors(bundle: Bundle, params: dict[str, Any], searches: list[tuple[np.ndarray, float]]) -> list[_Receptors]:
    """Return the receptors: targets of ``receptor_target_classes``, buildings of ``receptor_building_uses``.

    Protection targets are few and the other families measure them too, so they are projected whole
    (the bundle's cache and its spatial index are shared). Of the buildings, only the rows that can be
    within reach of a toe are projected (:meth:`Bundle.near`): ``searches`` holds toes (EPSG:4490)
    with the farthest distance (m) measured from them.
    """
    out: list[_Receptors] = []
    for layer, column, listed, whole in (("protection_targets", "gb36894_class", "receptor_target_classes", True),
                                         ("buildings", "use", "receptor_building_uses", False)):
        wanted = {str(v) for v in params.get(listed, [])}
        frame = bundle[layer]
        if not wanted or frame.empty or column not in frame.columns:
            continue
        rows = np.arange(len(frame)) if whole else np.unique(np.concatenate(
            [bundle.near(layer, toes, reach) for toes, reach in searches if len(toes)]))
        keep = frame[column].take(rows).isin(wanted).to_numpy(dtype=bool)
        if keep.any():
            metric = bundle.metric(layer) if whole else bundle.metric_rows(layer, rows)
            out.append(_Receptors(layer, frame, rows, metric, keep))
    return out


def _overhead(bundle: Bundle, rule: Rule, dem: DemGrid | None) -> list[dict[str, list[Any]]]:
    """``TAIL_OVERHEAD``: radial screen, or receptors along the buffered D8 flow path."""
    ponds = bundle.metric("tailings_dams")
    if ponds.empty or rule.threshold_m is None:
        return []
    ok = ponds.geometry.notna().to_numpy() & ~ponds.geometry.is_empty.to_numpy()
    ponds = ponds[ok]
    if ponds.empty:
        return []
    epsg = int(bundle.metric_epsg or 0)
    limit = float(rule.threshold_m)
    paths: dict[int, LineString] = {}
    if dem is not None:
        paths = _paths(ponds, dem, epsg, limit)
    radial = [i for i in range(len(ponds)) if i not in paths]
    toes = bundle["tailings_dams"].geometry.to_numpy()[ok]
    searches = [(toes[radial], limit + _SLACK)]
    if paths:  # a zone reaches no farther from its toe than the path's farthest vertex, plus its width
        toe_xy = shapely.get_coordinates(ponds.geometry.to_numpy())
        farthest = max(float(np.hypot(*(shapely.get_coordinates(p) - toe_xy[i]).T).max()) for i, p in paths.items())
        width = max(float(rule.params.get("flow_width_m", 0.0)), 0.0)
        searches.append((toes[sorted(paths)], farthest + width + 1.0))
    receptors = _receptors(bundle, rule.params, searches)
    out: list[dict[str, list[Any]]] = []
    for rec in receptors:
        if radial:
            out.append(_radial(ponds, radial, rec, rule, epsg))
        if paths:
            out.append(_along_path(ponds, paths, rec, rule, epsg))
    return out


def _paths(ponds: gpd.GeoDataFrame, dem: DemGrid, epsg: int, max_length_m: float) -> dict[int, LineString]:
    """D8 flow paths (metric zone ``epsg``) for the ponds whose toe lies on the DEM, by position."""
    toes = ponds.geometry.to_numpy()
    if dem.epsg != epsg:
        to_dem = Transformer.from_crs(epsg, dem.epsg, always_xy=True)
        toes = shapely.transform(toes, lambda xy: np.column_stack(to_dem.transform(xy[:, 0], xy[:, 1])))
    found: dict[int, LineString] = {}
    for i, toe in enumerate(toes):
        cell = dem.cell_of(toe.x, toe.y)
        if cell is None or not np.isfinite(dem.elevation[cell]):
            continue
        found[i] = flow_path(dem, toe.x, toe.y, max_length_m)
    if found and dem.epsg != epsg:
        to_zone = Transformer.from_crs(dem.epsg, epsg, always_xy=True)
        found = {i: shapely.transform(p, lambda xy: np.column_stack(to_zone.transform(xy[:, 0], xy[:, 1])))
                 for i, p in found.items()}
    return found


def _radial(ponds: gpd.GeoDataFrame, which: list[int], rec: _Receptors, rule: Rule,
            epsg: int) -> dict[str, list[Any]]:
    """Radial pre-screen: receptors within ``threshold_m`` of the toe (verdict ``screen``)."""
    limit = float(rule.threshold_m or 0.0)
    toes = ponds.geometry.to_numpy()[which]
    # the slack keeps a receptor exactly at the limit (before rounding) among the candidates
    pi, ri = rec.metric.sindex.query(toes, predicate="dwithin", distance=limit + _SLACK, sort=True)
    pi, ri = pi[rec.keep[ri]], ri[rec.keep[ri]]
    geoms = rec.metric.geometry.to_numpy()
    d = shapely.distance(toes[pi], geoms[ri])  # unrounded: round only for display
    hit = hits(rule, d, limit)
    pi, ri, d = pi[hit], ri[hit], d[hit]
    lines = to_storage(list(shapely.shortest_line(toes[pi], geoms[ri])), epsg)
    lim = f"{limit:g}"  # each number formatted once: the texts are most of the cost of a finding
    details = [Bilingual(f"距初期坝坡脚直线{dist}米（≤{lim}米），径向初筛，非流经路径判定，需按下游流经路径核实",
                         f"{dist} m straight from the starter-dam toe (≤ {lim} m): radial pre-screen,"
                         " not a flow-path finding; confirm along the downstream flow path")
               for dist in [f"{x:.1f}" for x in d.tolist()]]
    return _pond_columns(rule, ponds, np.asarray(which, dtype=np.intp)[pi], rec.layer, rec.frame, rec.rows[ri],
                         measured_m=d, required_m=limit, verdict="screen", geometry=lines, detail=details)


def _along_path(ponds: gpd.GeoDataFrame, paths: dict[int, LineString], rec: _Receptors, rule: Rule,
                epsg: int) -> dict[str, list[Any]]:
    """Receptors touching the flow path buffered by ``params.flow_width_m`` (verdict ``violation``)."""
    limit = float(rule.threshold_m or 0.0)
    width = float(rule.params.get("flow_width_m", 0.0))
    order = sorted(paths)
    lines = np.array([paths[i] for i in order], dtype=object)
    # Flat ends: the zone neither reaches back behind the toe nor past the path's end; a path of
    # zero length (toe in a pit) is buffered as a disc instead.
    zones = np.where(shapely.length(lines) > 0, shapely.buffer(lines, width, cap_style="flat"),
                     shapely.buffer(shapely.get_point(lines, 0), width))
    zi, ri = rec.metric.sindex.query(zones, predicate="intersects", sort=True)
    zi, ri = zi[rec.keep[ri]], ri[rec.keep[ri]]
    # every pair's hop and distance along the path at once
    pair_paths = lines[zi]
    hops = shapely.shortest_line(pair_paths, rec.metric.geometry.to_numpy()[ri])
    alongs = shapely.line_locate_point(pair_paths, shapely.get_point(hops, 0))
    hit = hits(rule, alongs, limit)
    zi, ri, hops, alongs = zi[hit], ri[hit], hops[hit], alongs[hit]
    ends = shapely.line_interpolate_point(lines[zi], alongs)
    walks: dict[int, tuple[list[tuple[float, ...]], list[float]]] = {}
    shown_xy: list[np.ndarray] = []
    details = []
    for z, hop, along, end in zip(zi.tolist(), hops, alongs.tolist(), ends, strict=True):
        path = lines[z]
        if z not in walks:
            walks[z] = _walk(path)
        stretch = _stretch(path, *walks[z], along, end)
        shown_xy.append(np.vstack([stretch, shapely.get_coordinates(hop)[[0, -1]]]))
        details.append(Bilingual(
            f"位于初期坝坡脚下游D8流经路径{along:.1f}米处（路径两侧各{width:g}米范围内，≤{limit:g}米），属头顶库",
            f"on the D8 downstream flow path {along:.1f} m from the starter-dam toe "
            f"(within {width:g} m of the path, ≤ {limit:g} m): overhead tailings pond"))
    shown: list[BaseGeometry] = []
    if shown_xy:
        sizes = [len(xy) for xy in shown_xy]
        shown = list(shapely.linestrings(np.concatenate(shown_xy), indices=np.repeat(np.arange(len(sizes)), sizes)))
    return _pond_columns(rule, ponds, np.asarray(order, dtype=np.intp)[zi], rec.layer, rec.frame, rec.rows[ri],
                         measured_m=alongs, required_m=limit, verdict="violation",
                         geometry=to_storage(shown, epsg), detail=details)


def _walk(path: LineString) -> tuple[list[tuple[float, ...]], list[float]]:
    """Vertices of ``path`` (the first as interpolated at 0) and the distance along it at each but the last.

    The distances are summed exactly as :func:`shapely.ops.substring` sums them.
    """
    coords = list(path.coords)
    coords[0] = tuple(shapely.get_coordinates(path.interpolate(0.0))[0])  # substring starts at this point
    walked, current = [], 0.0
    for p1, p2 in pairwise(coords):
        walked.append(current)
        current += ((p2[0] - p1[0]) ** 2 + (p2[1] - p1[1]) ** 2) ** 0.5
    return coords, walked


def _stretch(path: LineString, coords: list[tuple[float, ...]], walked: list[float], along: float,
             end: BaseGeometry) -> np.ndarray:
    """Vertices of ``substring(path, 0, along)`` (``end`` is the point at ``along``), without rebuilding the walk.

    ``walked[k]`` is the distance at vertex ``k`` for every vertex but the last, in the sums of
    :func:`shapely.ops.substring`, so the vertices kept are exactly the ones it keeps.
    """
    if along <= 0 or path.length <= 0 or not walked:  # substring gives a point: its own reading
        return shapely.get_coordinates(substring(path, 0.0, along))
    first, last = bisect_right(walked, 0.0), bisect_left(walked, along)
    return np.asarray([coords[0], *coords[first:max(first, last)], shapely.get_coordinates(end)[0]], dtype=float)
