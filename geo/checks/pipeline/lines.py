"""Pipelines as the pipeline rules see them: the lines, their index pieces and the findings they collect.

:class:`Pipe` is one pipeline in metres with its :class:`~geo.checks.mileage.Chainage`;
:func:`near_pairs` finds candidate features near the lines by spatial index, and
:class:`PipeFindings` collects the findings and brings their geometry back to storage coordinates.
See :mod:`geo.checks.pipeline` for the rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.cell_values import text_column, text_or_none
from geo.checks.bundle import Bundle, district_codes, usable_rows
from geo.checks.findings import Bilingual, finding, findings_frame, findings_from_columns, records_columns
from geo.checks.line_search import query_pieces
from geo.checks.metric_frame import to_storage
from geo.checks.mileage import MULTIPART_NOTE, Chainage, format_mileage
from geo.checks.mileage import line_parts as _parts
from geo.checks.ruleset import Rule
from geo.layer_specs import layer_spec

#: A station (infrastructure kind ``station``) within this distance of a centreline belongs to that line
#: (Art. 58(1) facilities are on or beside the line they serve).
STATION_OF_LINE_M = 50.0


#: Default infrastructure kinds that ``PIPE_OCCUPY`` treats as structures when they run within the
#: threshold without crossing (overridden by ``PIPE_OCCUPY.params.infrastructure_kinds``).
OCCUPY_INFRASTRUCTURE_KINDS = ("road", "railway")


#: Search pad (m) added to spatial-index queries so that threshold cases are never missed.
PAD_M = 0.01


def pipeline_mileage(line_metric: BaseGeometry, point_metric: BaseGeometry, start_mileage_m: float | None,
                     epsg: int | None = None) -> float:
    """Mileage (m) of the point of a pipeline nearest to ``point_metric``.

    The convention is :mod:`geo.checks.mileage`'s: parts in stored order, cumulative along the
    pipe, gaps between parts excluded, plus ``start_mileage_m``; geodesic when ``epsg`` is given.

    Parameters
    ----------
    line_metric : LineString or MultiLineString
        Pipeline centreline in a metric CRS.
    point_metric : Point (or any geometry)
        Where to measure, in the same CRS; a geometry off the line is projected onto the nearest
        part (for a non-point geometry, its nearest point to the line is used).
    start_mileage_m : float or None
        Mileage of the first vertex (``start_mileage_m`` of the pipeline; None or NaN is 0).
    epsg : int, optional
        Gauss-Krüger zone of the coordinates: lengths are then geodesic. Without it, grid lengths.

    Returns
    -------
    float

    Examples
    --------
    >>> from shapely.geometry import MultiLineString, Point
    >>> line = MultiLineString([[(0, 0), (100, 0)], [(100, 0), (100, 50)]])
    >>> pipeline_mileage(line, Point(40, 3), 1000.0)
    1040.0
    >>> pipeline_mileage(line, Point(102, 20), 0.0)
    120.0
    """
    return Chainage.of(line_metric, epsg, start_mileage_m).mileage(point_metric)


class _Segments:
    """A part's non-degenerate segments: starts, vectors, squared lengths and unit directions."""

    __slots__ = ("a", "seg", "sq", "unit")

    def __init__(self, part: BaseGeometry) -> None:
        xy = np.asarray(part.coords, dtype=float)[:, :2]
        seg = np.diff(xy, axis=0)
        length = np.hypot(seg[:, 0], seg[:, 1])
        keep = length > 0
        self.a, self.seg, length = xy[:-1][keep], seg[keep], length[keep]
        self.sq = length**2
        self.unit = self.seg / length[:, None]


class SegmentMemo:
    """The parts and segments of lines asked about repeatedly (a pipeline at each of its crossings).

    Geometries are held so that their ids stay theirs.
    """

    def __init__(self) -> None:
        self._parts: dict[int, tuple[BaseGeometry, list[BaseGeometry]]] = {}
        self._segs: dict[int, tuple[BaseGeometry, _Segments]] = {}

    def parts(self, line: BaseGeometry) -> list[BaseGeometry]:
        """Return the parts of ``line`` (:func:`geo.checks.mileage.line_parts`)."""
        held = self._parts.get(id(line))
        if held is None or held[0] is not line:
            held = (line, _parts(line))
            self._parts[id(line)] = held
        return held[1]

    def segments(self, part: BaseGeometry) -> _Segments:
        """Return the non-degenerate segments of a part."""
        held = self._segs.get(id(part))
        if held is None or held[0] is not part:
            held = (part, _Segments(part))
            self._segs[id(part)] = held
        return held[1]


def direction_at(line: BaseGeometry, point: Point, memo: SegmentMemo | None = None) -> np.ndarray:
    """Return the unit direction of the segment of ``line`` at (or nearest to) ``point``.

    At an interior vertex both adjacent segments qualify; their unit vectors are averaged.
    ``memo`` keeps the parts and segments of lines asked about again.
    """
    memo = memo or SegmentMemo()
    parts = memo.parts(line)
    part = min(parts, key=lambda g: g.distance(point))
    sg = memo.segments(part)
    a, seg, unit = sg.a, sg.seg, sg.unit
    p = np.array([point.x, point.y])
    t = np.clip(np.einsum("ij,ij->i", p - a, seg) / sg.sq, 0.0, 1.0)
    dist = np.hypot(*(a + seg * t[:, None] - p).T)
    near = unit[dist <= dist.min() + 1e-6]
    vec = near.sum(axis=0)
    norm = float(np.hypot(*vec))
    return unit[int(np.argmin(dist))] if norm < 1e-9 else vec / norm


def acute_angle(u: np.ndarray, v: np.ndarray) -> float:
    """Acute angle in degrees (0–90) between two directions."""
    cross = abs(float(u[0] * v[1] - u[1] * v[0]))
    dot = abs(float(u[0] * v[0] + u[1] * v[1]))
    return math.degrees(math.atan2(cross, dot))


def shown_geometry(shortest: BaseGeometry) -> BaseGeometry:
    """Return what shows a distance finding: the shortest line, or a point where it is 0 m long."""
    if shortest.length == 0:
        return shapely.get_point(shortest, 0)
    return shortest


def shown_geometries(shortest: np.ndarray) -> np.ndarray:
    """Return :func:`shown_geometry` of each shortest line (one GEOS call for the zero-length ones)."""
    out = np.asarray(shortest, dtype=object).copy()
    zero = shapely.length(out) == 0
    if zero.any():
        out[zero] = shapely.get_point(out[zero], 0)
    return out


@dataclass(frozen=True)
class Pipe:
    """One pipeline in metres: key, name, medium, geometry and its chainage."""

    key: str
    name: str | None
    medium: str | None
    start_m: float
    geom: BaseGeometry
    chain: Chainage

    def stake(self, point: BaseGeometry) -> str:
        """Stake number (``K12+345``) of the point of this pipeline nearest to ``point``."""
        return format_mileage(self.chain.mileage(point))

    def noted(self, zh: str, en: str) -> Bilingual:
        """Make a finding's detail; the multi-part mileage convention is added when the line has gaps."""
        if self.chain.multipart:
            return Bilingual(f"{zh}，{MULTIPART_NOTE[0]}", f"{en}, {MULTIPART_NOTE[1]}")
        return Bilingual(zh, en)


def rows_where(frame: gpd.GeoDataFrame, column: str, values: Iterable[str]) -> gpd.GeoDataFrame:
    """Rows whose ``column`` is one of ``values`` (none when the column is absent)."""
    wanted = set(values)
    if column not in frame.columns or not wanted:
        return frame.iloc[0:0]
    return frame[frame[column].isin(wanted)].reset_index(drop=True)


def read_pipes(bundle: Bundle) -> list[Pipe]:
    """Return the usable pipelines of ``bundle`` in metres (key falls back to ``code``, then the row)."""
    frame = usable_rows(bundle.metric("pipelines"))
    out = []
    for i, row in frame.iterrows():
        key = text_or_none(row.get("key")) or text_or_none(row.get("code")) or str(i)
        start = row.get("start_mileage_m")
        out.append(Pipe(key=key, name=text_or_none(row.get("name")), medium=text_or_none(row.get("medium")),
                         start_m=0.0 if start is None or pd.isna(start) else float(start),
                         geom=row.geometry, chain=Chainage.of(row.geometry, bundle.metric_epsg, start)))
    return sorted(out, key=lambda p: p.key)


def field_label(layer: str, fieldname: str, code: str | None) -> str:
    """Chinese display label of an enum code (the code itself when unknown)."""
    if code is None:
        return ""
    try:
        choices = layer_spec(layer).field(fieldname).choices or {}
    except KeyError:
        return code
    return choices[code][0] if code in choices else code


def near_pairs(pipes: Sequence[Pipe], frame: gpd.GeoDataFrame, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (pipe index, row index) pairs within ``distance`` (spatial index, never all pairs)."""
    if not pipes or frame.empty:
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    # Query with short pieces of each line (about ``distance`` long): a whole 50 km line, or a
    # piece of many long segments, has a bounding box that holds most of a city, so the index
    # would hand GEOS nearly every building.
    parts: list[BaseGeometry] = []
    owner: list[int] = []
    for i, pipe in enumerate(pipes):
        for part in getattr(pipe.geom, "geoms", [pipe.geom]):
            parts.append(part)
            owner.append(i)
    pieces, of_part = query_pieces(np.asarray(parts, dtype=object), distance + PAD_M)
    if not len(pieces):
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    q, t = frame.sindex.query(pieces, predicate="dwithin", distance=distance + PAD_M)
    if not len(q):
        return q, t
    pairs = np.unique(np.column_stack([np.asarray(owner)[of_part[q]], t]), axis=0)
    return pairs[:, 0], pairs[:, 1]


class NearPieces(NamedTuple):
    """Rows within a distance of pipelines, one entry per (pipeline, row) (see :func:`near_pieces`)."""

    pipe: np.ndarray    # index of the pipeline
    row: np.ndarray     # positional row of the feature
    d: np.ndarray       # distance from the feature to the pipeline
    near: np.ndarray    # the query piece alone holding the nearest point (d > 0), else the pipeline


def near_pieces(pipes: Sequence[Pipe], frame: gpd.GeoDataFrame, distance: float) -> NearPieces:
    """Return the rows within ``distance`` (+ :data:`PAD_M`) of each pipeline, with their exact distances.

    The index is asked once, with the bounding boxes of short query pieces
    (:func:`~geo.checks.line_search.query_pieces`) grown by the distance; each candidate is
    measured against its query piece, and a row's distance to a pipeline is the least over the
    pipeline's pieces — the very segment distances GEOS takes the least of for the whole line, so
    the value is bit for bit ``pipe.geom.distance(geometry)``, with no second search and no
    measurement against the whole line.

    Parameters
    ----------
    pipes : sequence of Pipe
        The pipelines (metric CRS of ``frame``).
    frame : GeoDataFrame
        The features; rows are positional.
    distance : float
        Search distance (m); rows within ``distance + PAD_M`` (inclusive) are returned.

    Returns
    -------
    NearPieces
        Sorted by pipeline and row. ``near`` is where to take the shortest line from: the one
        query piece that alone reaches the least distance when it is positive (GEOS finds the same
        nearest points on it as on the whole line), the whole pipeline otherwise.
    """
    empty = np.zeros(0, dtype=int)
    none = NearPieces(empty, empty, np.zeros(0), np.zeros(0, dtype=object))
    if not pipes or frame.empty:
        return none
    parts: list[BaseGeometry] = []
    owner: list[int] = []
    for i, pipe in enumerate(pipes):
        for part in getattr(pipe.geom, "geoms", [pipe.geom]):
            parts.append(part)
            owner.append(i)
    reach = distance + PAD_M
    pieces, of_part = query_pieces(np.asarray(parts, dtype=object), reach)
    if not len(pieces):
        return none
    qi, gi, d = _measured(pieces, frame, reach)
    pi = np.asarray(owner, dtype=int)[of_part[qi]]
    order = np.lexsort((qi, d, gi, pi))
    qi, gi, d, pi = qi[order], gi[order], d[order], pi[order]
    head = np.ones(len(gi), dtype=bool)
    head[1:] = (gi[1:] != gi[:-1]) | (pi[1:] != pi[:-1])
    start = np.flatnonzero(head)
    tie = np.zeros(len(start), dtype=bool)   # a second piece at the same least distance: the whole line decides
    nxt = start + 1
    has = nxt < len(gi)
    tie[has] = ~head[nxt[has]] & (d[nxt[has]] == d[start[has]])
    qi, gi, d, pi = qi[start], gi[start], d[start], pi[start]
    whole = np.asarray([p.geom for p in pipes], dtype=object)
    use_whole = tie | (d <= 0)
    # At 0 m the first piece (in line order) touching the row also serves, as long as neither the line's
    # nor the piece's first vertex lies in the row: GEOS then finds the same first touching segment pair
    # on it as on the whole one-part line (see _first_touch_serves).
    zero = np.flatnonzero((d <= 0) & (np.bincount(np.asarray(owner, dtype=int), minlength=len(pipes)) == 1)[pi])
    if len(zero):
        geoms = np.asarray(frame.geometry.array, dtype=object)
        use_whole[zero[_first_touch_serves(whole[pi[zero]], pieces[qi[zero]], geoms[gi[zero]])]] = False
    near = np.where(use_whole, whole[pi], pieces[qi])
    return NearPieces(pi, gi, d, near)


def _first_touch_serves(lines: np.ndarray, pieces: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Whether the nearest points of a one-part line and a row at 0 m are those of the line's first touching piece.

    GEOS (``DistanceOp``) first asks whether the first vertex of each line lies in the row (inside or
    on its boundary) and returns it when it does; otherwise it walks the segments in line order and
    stops at the first pair at 0 m. The first piece that touches the row holds that pair, and the
    segments before it in the piece are the line's own, so the walk ends at the same pair — unless
    either first vertex lies in the row, which is then answered differently.
    """
    line_start = shapely.get_point(shapely.get_geometry(lines, 0), 0)   # a one-part MultiLineString's part
    return ~(shapely.intersects(line_start, rows) | shapely.intersects(shapely.get_point(pieces, 0), rows))


def _measured(pieces: np.ndarray, frame: gpd.GeoDataFrame, reach: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every (piece, row) within ``reach`` and its distance, bit for bit ``shapely.distance(piece, row)``.

    A line row (a road, kilometres long) is measured by its own short pieces: the distance of two
    lines is the least of their segment distances, so the least over the row's pieces is the same
    number, while each measure and each index box stays local. Other rows are measured whole.
    """
    geoms = np.asarray(frame.geometry.array, dtype=object)
    x0, y0, x1, y1 = shapely.bounds(pieces).T
    boxes = shapely.box(x0 - reach, y0 - reach, x1 + reach, y1 + reach)
    linear = np.isin(shapely.get_type_id(geoms), (1, 2))
    if not linear.any():
        qi, gi = frame.sindex.query(boxes)
        d = shapely.distance(pieces[qi], geoms[gi])
    else:
        parts, part_row = shapely.get_parts(geoms[linear], return_index=True)
        row_pieces, of_part = query_pieces(parts, reach)
        targets = np.concatenate([row_pieces, geoms[~linear]])
        row_of = np.concatenate([np.flatnonzero(linear)[part_row[of_part]], np.flatnonzero(~linear)])
        qi, ti = shapely.STRtree(targets).query(boxes)
        gi = row_of[ti]
        d = shapely.distance(pieces[qi], targets[ti])
        order = np.lexsort((d, gi, qi))            # the least over a row's pieces, per (piece, row)
        qi, gi, d = qi[order], gi[order], d[order]
        first = np.ones(len(qi), dtype=bool)
        first[1:] = (qi[1:] != qi[:-1]) | (gi[1:] != gi[:-1])
        qi, gi, d = qi[first], gi[first], d[first]
    ok = d <= reach
    return qi[ok], gi[ok], d[ok]


def stakes_at(pipes: Sequence[Pipe], which: np.ndarray, points: np.ndarray) -> list[str]:
    """Stake numbers (``K12+345``) of ``points`` on pipes ``pipes[which[k]]``: :meth:`Pipe.stake`, vectorised.

    A point on a one-part line is located with one ``line_locate_point`` call per line (what
    :meth:`geo.checks.mileage.Chainage.locate` does point by point); other lines point by point.
    """
    out: list[str] = [""] * len(which)
    which = np.asarray(which, dtype=int)
    for i in np.unique(which).tolist():
        sel = np.flatnonzero(which == i)
        chain = pipes[i].chain
        if len(chain.parts) == 1:
            along = chain.along_of_grid(chain.part_start[0] + shapely.line_locate_point(chain.parts[0], points[sel]))
            for k, a in zip(sel.tolist(), np.atleast_1d(along).tolist(), strict=True):
                out[k] = format_mileage(chain.start_m + float(a))
        else:
            for k in sel.tolist():
                out[k] = pipes[i].stake(points[k])
    return out


class PipeFindings:
    """Collects finding records with metric geometries; converts them to storage coordinates at the end."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.records: list[dict[str, Any]] = []        # findings added one by one since the last block
        self._blocks: list[dict[str, list[Any]]] = []  # findings as columns, in the order they came
        self._districts: gpd.GeoDataFrame | None = None
        self._shapes = np.zeros(0, dtype=object)
        self._codes: list[str | None] = []
        self._index: Any = None

    def add(self, rule: Rule, pipe: Pipe, *, object_type: str, row: Any, verdict: str,
            measured_m: float | None, required_m: float | None, geometry: BaseGeometry,
            detail: str, adcode: str | None = None, suffix: str = "") -> None:
        """Record a finding of ``rule`` with ``pipe`` as subject and ``row`` as object (geometry in metres)."""
        self.records.append(finding(
            rule, subject_type="pipelines", subject_key=pipe.key, subject_name=pipe.name,
            object_type=object_type, object_key=(text_or_none(row.get("key")) or "") + suffix,
            object_name=text_or_none(row.get("name")),
            measured_m=measured_m, required_m=required_m, verdict=verdict,
            adcode=adcode if adcode is not None else text_or_none(row.get("adcode")), geometry=geometry, detail=detail))

    def district_at(self, point_metric: BaseGeometry) -> str | None:
        """Return the district containing a metric point, else the nearest one (None without districts).

        The answer of :func:`geo.checks.bundle.district_codes` (the first district in index order
        that holds the point), with the district shapes prepared once for the many points asked.
        """
        if self._districts is None:
            self._districts = usable_rows(self.bundle.metric("districts"))
            if len(self._districts) and "adcode" in self._districts.columns:
                self._shapes = np.array(self._districts.geometry.to_numpy(), dtype=object, copy=True)
                shapely.prepare(self._shapes)
                self._codes = text_column(self._districts, "adcode")
                self._index = self._districts.sindex
        if len(self._districts) and "adcode" in self._districts.columns:
            cands = self._index.query(point_metric)
            held = cands[shapely.intersects(self._shapes[cands], point_metric)]
            if len(held):
                return self._codes[int(held[0])]
        return district_codes([point_metric], self._districts)[0]

    def add_columns(self, columns: dict[str, list[Any]]) -> None:
        """Record findings given as columns (:func:`geo.checks.findings.finding_columns`, geometry in metres)."""
        self._flush()
        self._blocks.append(columns)

    def _flush(self) -> None:
        if self.records:
            self._blocks.append(records_columns(self.records))
            self.records = []

    def frame(self) -> gpd.GeoDataFrame:
        """Return the findings so far as a findings frame in storage coordinates."""
        self._flush()
        blocks = [b for b in self._blocks if len(b["rule_code"])]
        if not blocks:
            return findings_frame([])
        shown = to_storage([g for b in blocks for g in b["geometry"]], self.bundle.metric_epsg)
        ends = np.cumsum([len(b["geometry"]) for b in blocks]).tolist()
        return findings_from_columns({**b, "geometry": shown[end - len(b["geometry"]):end]}
                                     for b, end in zip(blocks, ends, strict=True))
