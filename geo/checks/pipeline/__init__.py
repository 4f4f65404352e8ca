"""Pipeline checks: encroachment, spacing, permit zones and the crossing inventory.

Rules (``geo/rules/checks.yaml``, family ``pipeline``; standards.md §4, §5 and Rules table rows 8–14):

``PIPE_OCCUPY`` (管道占压, 管道保护法 Art. 30(3), GB 50251 4.1.1-10)
    Buildings of any geometry whose footprint lies within ``threshold_m`` (5 m, inclusive) of a
    centreline. Also non-crossing infrastructure of ``params.infrastructure_kinds`` (default roads
    and railways: 构筑物 running along the pipe): a road 4 m from the centreline that does not cross
    it is inside the Art. 30 five-metre zone, so it is reported here and *not* by ``PIPE_PERMIT_50``,
    whose Art. 35(2) band starts beyond 5 m. Features that cross the line are crossings
    (``PIPE_CROSSING``), not encroachments.
``PIPE_SPACING`` (管道保护法 Art. 31; GB 50251; GB 50253 4.1.6)
    Protection targets of ``params.crowded_target_types`` (kind ``crowded``) and infrastructure of
    ``params.flammable_infrastructure`` (``flammable``) or ``params.airport_port_reservoir_infrastructure``
    (``airport_port_reservoir``) nearer than ``params.required_m[medium][kind]``. A medium or kind
    without an entry has no requirement. Exclusive: exactly at the minimum complies.
``PIPE_PERMIT_50`` (Art. 35(2))
    Infrastructure of ``params.infrastructure_kinds`` at a distance in (``inner_m``, ``threshold_m``]
    from a centreline it does not intersect; or, crossing or not, within ``station_m`` of one of the
    line's stations (infrastructure kind ``station`` within :data:`STATION_OF_LINE_M` of the line).
``PIPE_PERMIT_200`` (Art. 35(3))
    Enterprises of ``params.enterprise_industries`` within ``threshold_m`` of a centreline, or within
    ``station_m`` of one of the line's stations.
``PIPE_CROSSING`` (Art. 35(1); GB 50423 / GB 50251 angle)
    One finding per crossing with infrastructure of ``params.kinds`` or with another pipeline, at the
    crossing point, with mileage and the acute angle between the local segment directions (0–90°)
    in the detail (``交角 23.5°``). Verdict ``inventory``, or ``violation`` below
    ``params.min_angle_deg`` (compared unrounded, ``inclusive`` as the rule says: 29.96° is flagged
    though shown as 30.0°). Only true crossings count: a stretch where two lines overlap is not a
    crossing, and two pipelines cross only where one passes from one side of the other to the other
    side, outside any stretch where they are laid together (``PIPE_PARALLEL``) — lines sharing
    near-identical vertices for kilometres would otherwise "cross" dozens of times at 0°.
    A polygon (a river drawn as an area) is crossed once per piece of the
    pipeline inside it: the point is the middle of that piece and the angle the smaller of the angles
    with the polygon boundary where the piece enters and leaves. A point where one pipeline starts or
    ends on another is a tie-in (branch connection), not a crossing, and is not reported. A crossing
    of two pipelines is reported once, with the pipeline of smaller key as subject. When a pair crosses
    more than once, the crossings are numbered by mileage and the second and later ones get object
    keys ``<key>#2``, ``<key>#3`` … so that every finding keeps its own (rule, subject, object)
    identity in the findings register. The district of a crossing is the one containing the crossing
    point (else the nearest district, else the object's own ``adcode``), since a road or river is
    often stored with one district for its whole length.
``PIPE_PARALLEL`` (GB 50251 / GB 50253 parallel laying)
    One finding per stretch of a pipeline laid within ``params.within_m`` of another pipeline for at
    least ``params.min_length_m`` (shared or parallel laying): the subject is the pipeline of smaller
    key, measured the minimum spacing, the detail the mileage range and length. The standards give
    no minimum spacing between two oil/gas pipelines (standards.md §5), so with ``params.required_m``
    0 the verdict is ``inventory`` (recorded for information, the detail says why); a city that
    confirms a value sets ``required_m`` and closer stretches become violations.

Distances are metres in the bundle's Gauss-Krüger zone, measured footprint to centreline (never
centroids), and compared unrounded with the thresholds (:meth:`Rule.hit`; only float noise below a
micrometre counts as "exactly at"), rounded only for display. Mileage (里程) follows
:mod:`geo.checks.mileage`: geodesic metres along the pipe from its first vertex plus
``start_mileage_m``, the parts of a multi-part line accumulated in order **without the gaps** between
them (findings on such a line say so), written ``K12+345`` (km + m).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiLineString, Point
from shapely.geometry.base import BaseGeometry

from geo.cell_values import text_or_none
from geo.checks.bundle import Bundle, usable_rows
from geo.checks.findings import Bilingual, finding, findings_frame
from geo.checks.metric_frame import cut_line, to_storage
from geo.checks.mileage import MULTIPART_NOTE, Chainage, format_mileage, format_mileage_range
from geo.checks.mileage import line_parts as _parts
from geo.checks.ruleset import Rule, RuleSet, below
from geo.layer_specs import layer_spec

__all__ = ["STATION_OF_LINE_M", "check_pipelines", "format_mileage", "pipeline_mileage"]

#: A station (infrastructure kind ``station``) within this distance of a centreline belongs to that line
#: (Art. 58(1) facilities are on or beside the line they serve).
STATION_OF_LINE_M = 50.0
#: Default infrastructure kinds that ``PIPE_OCCUPY`` treats as structures when they run within the
#: threshold without crossing (overridden by ``PIPE_OCCUPY.params.infrastructure_kinds``).
OCCUPY_INFRASTRUCTURE_KINDS = ("road", "railway")
#: Intersection points this close (m) to a pipeline end are tie-ins, not crossings.
_TIE_IN_M = 1.0
#: A line within this distance (m) of the centreline lies on it (shares its vertices up to float noise) …
_LAID_ON_M = 0.01
#: … along a stretch at least this long (m): an overlap, not a crossing.
_LAID_MIN_M = 1.0
#: Search pad (m) added to spatial-index queries so that threshold cases are never missed.
_PAD_M = 0.01


# --------------------------------------------------------------------------- mileage


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
    >>> line = MultiLineString([[(0, 0), (100, 0)], [(100, 0), (100, 50)]])
    >>> pipeline_mileage(line, Point(40, 3), 1000.0)
    1040.0
    >>> pipeline_mileage(line, Point(102, 20), 0.0)
    120.0
    """
    return Chainage.of(line_metric, epsg, start_mileage_m).mileage(point_metric)


# --------------------------------------------------------------------------- geometry helpers


def _direction(line: BaseGeometry, point: Point) -> np.ndarray:
    """Return the unit direction of the segment of ``line`` at (or nearest to) ``point``.

    At an interior vertex both adjacent segments qualify; their unit vectors are averaged.
    """
    parts = _parts(line)
    part = min(parts, key=lambda g: g.distance(point))
    xy = np.asarray(part.coords, dtype=float)[:, :2]
    seg = np.diff(xy, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    keep = length > 0
    a, seg, length = xy[:-1][keep], seg[keep], length[keep]
    p = np.array([point.x, point.y])
    t = np.clip(np.einsum("ij,ij->i", p - a, seg) / length**2, 0.0, 1.0)
    dist = np.hypot(*(a + seg * t[:, None] - p).T)
    unit = seg / length[:, None]
    near = unit[dist <= dist.min() + 1e-6]
    vec = near.sum(axis=0)
    norm = float(np.hypot(*vec))
    return unit[int(np.argmin(dist))] if norm < 1e-9 else vec / norm


def _acute_angle(u: np.ndarray, v: np.ndarray) -> float:
    """Acute angle in degrees (0–90) between two directions."""
    cross = abs(float(u[0] * v[1] - u[1] * v[0]))
    dot = abs(float(u[0] * v[0] + u[1] * v[1]))
    return math.degrees(math.atan2(cross, dot))


def _show(shortest: BaseGeometry) -> BaseGeometry:
    """Return what shows a distance finding: the shortest line, or a point where it is 0 m long."""
    if shortest.length == 0:
        return shapely.get_point(shortest, 0)
    return shortest


# --------------------------------------------------------------------------- frames


@dataclass(frozen=True)
class _Pipe:
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


def _where(frame: gpd.GeoDataFrame, column: str, values: Iterable[str]) -> gpd.GeoDataFrame:
    """Rows whose ``column`` is one of ``values`` (none when the column is absent)."""
    wanted = set(values)
    if column not in frame.columns or not wanted:
        return frame.iloc[0:0]
    return frame[frame[column].isin(wanted)].reset_index(drop=True)


def _pipes(bundle: Bundle) -> list[_Pipe]:
    frame = usable_rows(bundle.metric("pipelines"))
    out = []
    for i, row in frame.iterrows():
        key = text_or_none(row.get("key")) or text_or_none(row.get("code")) or str(i)
        start = row.get("start_mileage_m")
        out.append(_Pipe(key=key, name=text_or_none(row.get("name")), medium=text_or_none(row.get("medium")),
                         start_m=0.0 if start is None or pd.isna(start) else float(start),
                         geom=row.geometry, chain=Chainage.of(row.geometry, bundle.metric_epsg, start)))
    return sorted(out, key=lambda p: p.key)


def _label(layer: str, fieldname: str, code: str | None) -> str:
    """Chinese display label of an enum code (the code itself when unknown)."""
    if code is None:
        return ""
    try:
        choices = layer_spec(layer).field(fieldname).choices or {}
    except KeyError:
        return code
    return choices[code][0] if code in choices else code


def _pairs(pipes: Sequence[_Pipe], frame: gpd.GeoDataFrame, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (pipe index, row index) pairs within ``distance`` (spatial index, never all pairs)."""
    if not pipes or frame.empty:
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    # Query with short pieces of each line: a whole 50 km line has a bounding box that holds
    # most of a city, so the index would hand GEOS nearly every building.
    pieces: list[BaseGeometry] = []
    owner: list[int] = []
    for i, pipe in enumerate(pipes):
        for part in getattr(pipe.geom, "geoms", [pipe.geom]):
            for _first, piece in cut_line(shapely.get_coordinates(part)):
                pieces.append(piece)
                owner.append(i)
    q, t = frame.sindex.query(np.asarray(pieces, dtype=object), predicate="dwithin", distance=distance + _PAD_M)
    if not len(q):
        return q, t
    pairs = np.unique(np.column_stack([np.asarray(owner)[q], t]), axis=0)
    return pairs[:, 0], pairs[:, 1]


class _Out:
    """Collects finding records with metric geometries; converts them to storage coordinates at the end."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.records: list[dict[str, Any]] = []
        self._districts: gpd.GeoDataFrame | None = None

    def add(self, rule: Rule, pipe: _Pipe, *, object_type: str, row: Any, verdict: str,
            measured_m: float | None, required_m: float | None, geometry: BaseGeometry,
            detail: str, adcode: str | None = None, suffix: str = "") -> None:
        self.records.append(finding(
            rule, subject_type="pipelines", subject_key=pipe.key, subject_name=pipe.name,
            object_type=object_type, object_key=(text_or_none(row.get("key")) or "") + suffix,
            object_name=text_or_none(row.get("name")),
            measured_m=measured_m, required_m=required_m, verdict=verdict,
            adcode=adcode if adcode is not None else text_or_none(row.get("adcode")), geometry=geometry, detail=detail))

    def district_at(self, point_metric: BaseGeometry) -> str | None:
        """Return the district containing a metric point, else the nearest one (None without districts)."""
        if self._districts is None:
            self._districts = usable_rows(self.bundle.metric("districts"))
        d = self._districts
        if d.empty or "adcode" not in d.columns:
            return None
        tree = shapely.STRtree(d.geometry.values)
        hits = tree.query(point_metric, predicate="intersects")
        if not len(hits):
            hits = np.atleast_1d(tree.nearest(point_metric))
        return text_or_none(d["adcode"].iloc[int(hits.min())])

    def frame(self) -> gpd.GeoDataFrame:
        if not self.records:
            return findings_frame([])
        shown = to_storage([r["geometry"] for r in self.records], self.bundle.metric_epsg)
        for rec, geom in zip(self.records, shown, strict=True):
            rec["geometry"] = geom
        return findings_frame(self.records)


# --------------------------------------------------------------------------- rules


def _occupy(pipes: Sequence[_Pipe], bundle: Bundle, rule: Rule, out: _Out) -> None:
    threshold = float(rule.threshold_m or 0.0)
    kinds = rule.params.get("infrastructure_kinds", OCCUPY_INFRASTRUCTURE_KINDS)
    layers = (("buildings", usable_rows(bundle.metric("buildings"))),
              ("infrastructure", _where(usable_rows(bundle.metric("infrastructure")), "kind", kinds)))
    pipe_geoms = np.asarray([p.geom for p in pipes], dtype=object)
    for layer, frame in layers:
        q, t = _pairs(pipes, frame, threshold)
        if not len(q):
            continue
        geoms = np.asarray(frame.geometry.array, dtype=object)
        dists = shapely.distance(pipe_geoms[q], geoms[t])  # vectorised; only hits are visited below
        keep = np.asarray([rule.hit(float(v), threshold) for v in dists], dtype=bool)
        hit_rows = np.unique(t[keep])
        attrs = frame.drop(columns=frame.geometry.name).iloc[hit_rows].to_dict("records")
        rows = dict(zip(hit_rows.tolist(), attrs, strict=True))
        for i, j, raw in zip(q[keep], t[keep], dists[keep], strict=True):
            pipe, row, geom = pipes[i], rows[int(j)], geoms[j]
            if layer == "infrastructure" and geom.intersects(pipe.geom) and not _runs_along(pipe.geom, geom):
                continue  # a crossing (PIPE_CROSSING), not an encroachment
            d = float(raw)
            shortest = shapely.shortest_line(pipe.geom, geom)
            stake = pipe.stake(shapely.get_point(shortest, 0))
            if layer == "buildings":
                what_zh, what_en = "建(构)筑物", "building"
            else:
                what_zh = _label("infrastructure", "kind", text_or_none(row.get("kind")))
                what_en = str(row.get("kind"))
            where = "压占管道中心线" if d == 0 else f"距管道中心线 {d:.2f} m"
            out.add(rule, pipe, object_type=layer, row=row, verdict="violation", measured_m=d,
                    required_m=threshold, geometry=_show(shortest),
                    detail=pipe.noted(f"{what_zh}{where}(两侧各 {threshold:g} m 内)，里程 {stake}",
                                      f"{what_en} {d:.2f} m from the centreline (within {threshold:g} m), "
                                      f"chainage {stake}"))


def _spacing(pipes: Sequence[_Pipe], bundle: Bundle, rule: Rule, out: _Out) -> None:
    required: dict[str, dict[str, float]] = rule.params.get("required_m", {})
    targets = _where(usable_rows(bundle.metric("protection_targets")), "target_type",
                     rule.params.get("crowded_target_types", []))
    infra = usable_rows(bundle.metric("infrastructure"))
    groups = (
        ("protection_targets", "crowded", targets, "target_type"),
        ("infrastructure", "flammable", _where(infra, "kind", rule.params.get("flammable_infrastructure", [])), "kind"),
        ("infrastructure", "airport_port_reservoir",
         _where(infra, "kind", rule.params.get("airport_port_reservoir_infrastructure", [])), "kind"),
    )
    for layer, kind, frame, type_col in groups:
        need = {p.key: required.get(p.medium or "", {}).get(kind) for p in pipes}
        reach = max((float(v) for v in need.values() if v is not None), default=None)
        if reach is None:
            continue
        q, t = _pairs(pipes, frame, reach)
        for i, j in zip(q, t, strict=True):
            pipe, row = pipes[i], frame.iloc[j]
            limit = need[pipe.key]
            if limit is None:
                continue
            d = float(pipe.geom.distance(row.geometry))
            if not rule.hit(d, float(limit)):
                continue
            shortest = shapely.shortest_line(pipe.geom, row.geometry)
            stake = pipe.stake(shapely.get_point(shortest, 0))
            code = text_or_none(row.get(type_col))
            what_zh = _label(layer, type_col, code)
            medium_zh = _label("pipelines", "medium", pipe.medium)
            out.add(rule, pipe, object_type=layer, row=row, verdict="violation", measured_m=d,
                    required_m=float(limit), geometry=_show(shortest),
                    detail=pipe.noted(f"{what_zh}距{medium_zh}管道中心线 {d:.2f} m，小于要求的 {float(limit):g} m，"
                                      f"里程 {stake}", f"{code} {d:.2f} m from the {pipe.medium} pipeline, less than "
                                      f"the required {float(limit):g} m, chainage {stake}"))


def _stations_of(pipes: Sequence[_Pipe], bundle: Bundle, snap_m: float) -> dict[str, BaseGeometry | None]:
    """Union of the stations of each line (kind ``station`` within ``snap_m``), None when it has none."""
    stations = _where(usable_rows(bundle.metric("infrastructure")), "kind", ["station"])
    found: dict[str, list[BaseGeometry]] = {p.key: [] for p in pipes}
    q, t = _pairs(pipes, stations, snap_m)
    for i, j in zip(q, t, strict=True):
        if below(pipes[i].geom.distance(stations.geometry.iloc[j]), snap_m, inclusive=True):
            found[pipes[i].key].append(stations.geometry.iloc[j])
    return {k: (shapely.union_all(v) if v else None) for k, v in found.items()}


def _permit(pipes: Sequence[_Pipe], rule: Rule, frame: gpd.GeoDataFrame, layer: str, type_col: str,
            stations: dict[str, BaseGeometry | None], out: _Out, *, inner_m: float | None,
            skip_crossing: bool) -> None:
    """Permit-zone findings: within (inner_m, threshold] of the centreline, or within station_m of a station."""
    threshold = float(rule.threshold_m or 0.0)
    station_m = float(rule.params.get("station_m", 0.0))
    hits: dict[tuple[int, int], None] = {}
    q, t = _pairs(pipes, frame, threshold)
    hits.update(dict.fromkeys(zip(q.tolist(), t.tolist(), strict=True)))
    if not frame.empty:
        tree = shapely.STRtree(frame.geometry.values)
        for i, pipe in enumerate(pipes):
            near = stations.get(pipe.key)
            if near is not None:
                for j in tree.query(near, predicate="dwithin", distance=station_m + _PAD_M).tolist():
                    hits[(i, j)] = None
    for i, j in sorted(hits):
        pipe, row = pipes[i], frame.iloc[j]
        geom = row.geometry
        d_line = float(pipe.geom.distance(geom))
        in_band = rule.hit(d_line, threshold) and (inner_m is None or not below(d_line, inner_m, inclusive=True))
        if in_band and skip_crossing and geom.intersects(pipe.geom):
            in_band = False
        near = stations.get(pipe.key)
        d_station = None if near is None else float(near.distance(geom))
        by_station = d_station is not None and rule.hit(d_station, station_m)
        if not (in_band or by_station):
            continue
        what_zh = _label(layer, type_col, text_or_none(row.get(type_col)))
        what_en = str(row.get(type_col))
        if in_band:
            shortest = shapely.shortest_line(pipe.geom, geom)
            stake = pipe.stake(shapely.get_point(shortest, 0))
            band = f"{inner_m:g}–{threshold:g}" if inner_m is not None else f"{threshold:g}"
            extra_zh = f"；距站场 {d_station:.1f} m" if by_station and d_station is not None else ""
            out.add(rule, pipe, object_type=layer, row=row, verdict="permit", measured_m=d_line,
                    required_m=threshold, geometry=_show(shortest),
                    detail=pipe.noted(f"{what_zh}距管道中心线 {d_line:.2f} m(中心线两侧 {band} m 许可范围)，"
                                      f"里程 {stake}{extra_zh}",
                                      f"{what_en} {d_line:.2f} m from the centreline (permit zone {band} m), "
                                      f"chainage {stake}"))
        else:
            assert near is not None and d_station is not None
            shortest = shapely.shortest_line(near, geom)
            stake = pipe.stake(shapely.get_point(shortest, 0))
            out.add(rule, pipe, object_type=layer, row=row, verdict="permit", measured_m=d_station,
                    required_m=station_m, geometry=_show(shortest),
                    detail=pipe.noted(f"{what_zh}距管道站场 {d_station:.2f} m(站场周边 {station_m:g} m 许可范围)，"
                                      f"站场里程 {stake}",
                                      f"{what_en} {d_station:.2f} m from a station of the line (permit zone "
                                      f"{station_m:g} m), station chainage {stake}"))


def _crossings_with(pipe: _Pipe, other: BaseGeometry) -> list[tuple[Point, float | None, str]]:
    """Crossing points of a pipeline with a line or polygon: (point, acute angle or None, extra detail)."""
    events: list[tuple[Point, float | None, str]] = []
    if other.geom_type in ("Polygon", "MultiPolygon"):
        boundary = other.boundary
        pieces = _parts(shapely.intersection(pipe.geom, other))
        inside = shapely.line_merge(MultiLineString(pieces)) if pieces else None
        for piece in _parts(inside):
            if piece.length == 0:
                continue
            mid = piece.interpolate(0.5, normalized=True)
            angles = []
            for end in (Point(piece.coords[0]), Point(piece.coords[-1])):
                if boundary.distance(end) < 1e-6:
                    angles.append(_acute_angle(_direction(piece, end), _direction(boundary, end)))
            a = pipe.chain.mileage(Point(piece.coords[0]))
            b = pipe.chain.mileage(Point(piece.coords[-1]))
            lo, hi = sorted((a, b))
            extra = f"穿越段 里程 {format_mileage_range(lo, hi)}，长 {hi - lo:.1f} m"
            events.append((mid, min(angles) if angles else None, extra))
        return events
    return [(p, _acute_angle(_direction(pipe.geom, p), _direction(other, p)), "")
            for p in _cross_points(pipe.geom, other)]


def _cross_points(line: BaseGeometry, other: BaseGeometry) -> list[Point]:
    """Points where ``other`` (a line) meets ``line`` at a point; overlapping stretches are not points."""
    inter = shapely.intersection(line, other)
    points = [g for g in shapely.get_parts(inter) if g.geom_type == "Point"]
    points += [p for g in shapely.get_parts(inter) if g.geom_type == "MultiPoint" for p in g.geoms]
    seen: list[Point] = []
    for p in points:
        if not any(p.distance(s) < 1e-6 for s in seen):
            seen.append(p)
    return seen


def _side(line: BaseGeometry, at: Point, q: Point) -> int:
    """Side (+1 left, −1 right, 0 on it) of ``q`` with respect to ``line`` near its point ``at``."""
    if line.distance(q) < 1e-6:
        return 0
    u = _direction(line, at)
    cross = float(u[0] * (q.y - at.y) - u[1] * (q.x - at.x))
    return 1 if cross > 0 else -1


def _proper(a: BaseGeometry, b: BaseGeometry, p: Point, step_m: float = 0.5) -> bool:
    """Tell whether ``b`` passes from one side of ``a`` to the other at ``p`` (not a touch, not an overlap)."""
    merged = _parts(shapely.line_merge(MultiLineString(_parts(b))) if len(_parts(b)) > 1 else b)
    part = min(merged, key=lambda g: g.distance(p))
    t = part.project(p)
    if t - step_m < 0 or t + step_m > part.length:
        return False  # b ends here: a tie-in or a touch
    before, after = part.interpolate(t - step_m), part.interpolate(t + step_m)
    return _side(a, p, before) * _side(a, p, after) < 0


@dataclass(frozen=True)
class _Stretch:
    """A stretch of pipeline ``a`` laid within ``within_m`` of pipeline ``b`` (shared or parallel laying)."""

    piece: BaseGeometry
    from_m: float
    to_m: float
    spacing_m: float


def _stretches(a: _Pipe, b: _Pipe, within_m: float, min_length_m: float) -> list[_Stretch]:
    """Stretches of ``a`` within ``within_m`` of ``b`` at least ``min_length_m`` long, by mileage."""
    if a.geom.distance(b.geom) > within_m:
        return []
    near = _parts(shapely.intersection(a.geom, b.geom.buffer(within_m, quad_segs=4)))
    merged = _parts(shapely.line_merge(MultiLineString(near))) if near else []
    out = []
    for piece in merged:
        m0, m1 = sorted((a.chain.mileage(Point(piece.coords[0])), a.chain.mileage(Point(piece.coords[-1]))))
        if m1 - m0 >= min_length_m:
            out.append(_Stretch(piece, m0, m1, float(piece.distance(b.geom))))
    return sorted(out, key=lambda st: st.from_m)


def _parallel(pipes: Sequence[_Pipe], rule: Rule | None, out: _Out) -> dict[tuple[str, str], list[_Stretch]]:
    """Shared / parallel laying of pipeline pairs (``PIPE_PARALLEL``); returns the stretches per pair.

    The stretches are returned even when the rule is not run: crossing points inside them are
    not crossings.
    """
    params = rule.params if rule is not None else {}
    within = float(params.get("within_m", 10.0))
    min_length = float(params.get("min_length_m", 1000.0))
    required = float(params.get("required_m") or 0.0) or None  # 0: the standards give no value
    found: dict[tuple[str, str], list[_Stretch]] = {}
    if len(pipes) < 2:
        return found
    tree = shapely.STRtree([p.geom for p in pipes])
    left, right = tree.query([p.geom for p in pipes], predicate="dwithin", distance=within)
    for i, j in sorted({(int(x), int(y)) for x, y in zip(left, right, strict=True) if x < y}):
        a, b = pipes[i], pipes[j]
        stretches = _stretches(a, b, within, min_length)
        if not stretches:
            continue
        found[(a.key, b.key)] = stretches
        if rule is None:
            continue
        for n, st in enumerate(stretches, start=1):
            rng = format_mileage_range(st.from_m, st.to_m)
            other = b.chain.mileage(st.piece.interpolate(0.5, normalized=True))
            bad = required is not None and rule.hit(st.spacing_m, required)
            if required is None:
                why = ("标准(GB 50251/GB 50253)未给出管道间并行敷设最小间距，仅登记",
                       "the standards (GB 50251/GB 50253) give no minimum spacing between parallel pipelines: "
                       "recorded for information")
            else:
                why = (f"要求间距不小于 {required:g} m", f"required spacing {required:g} m")
            multi = [MULTIPART_NOTE] if a.chain.multipart else []
            zh = "，".join([f"与管道“{b.name or b.key}”同沟/并行敷设(间距 ≤ {within:g} m)", f"里程 {rng}",
                           f"长 {st.to_m - st.from_m:.1f} m", f"最小间距 {st.spacing_m:.2f} m",
                           f"对方管道里程 {format_mileage(other)}", why[0], *(m[0] for m in multi)])
            en = ", ".join([f"laid with pipeline {b.key} within {within:g} m", f"chainage {rng}",
                            f"{st.to_m - st.from_m:.1f} m long", f"minimum spacing {st.spacing_m:.2f} m", why[1],
                            *(m[1] for m in multi)])
            out.add(rule, a, object_type="pipelines", row={"key": b.key, "name": b.name},
                    verdict="violation" if bad else "inventory", measured_m=st.spacing_m,
                    required_m=required,
                    geometry=st.piece, adcode=out.district_at(st.piece.interpolate(0.5, normalized=True)),
                    detail=Bilingual(zh, en), suffix="" if n == 1 else f"#{n}")
    return found


def _laid_on(line: BaseGeometry, other: BaseGeometry) -> list[BaseGeometry]:
    """Stretches (≥ :data:`_LAID_MIN_M`) of the pipeline on which a line ``other`` lies (an overlap).

    "On" is within :data:`_LAID_ON_M`, so the float noise of reprojection does not turn a shared
    stretch into a row of crossing points.
    """
    if other.geom_type not in ("LineString", "MultiLineString"):
        return []
    pieces = _parts(shapely.intersection(line, other.buffer(_LAID_ON_M, quad_segs=2)))
    return [p for p in pieces if p.length >= _LAID_MIN_M]


def _runs_along(line: BaseGeometry, other: BaseGeometry) -> bool:
    """Tell whether a line ``other`` lies on the pipeline along a stretch (an overlap), not only crossing it."""
    return bool(_laid_on(line, other))


def _free_ends(geom: BaseGeometry) -> list[Point]:
    """Start and end points of a line's parts, except where two parts of the line join."""
    ends = [Point(c) for part in _parts(geom) for c in (part.coords[0], part.coords[-1])]
    return [e for i, e in enumerate(ends)
            if not any(j != i and e.distance(o) <= _TIE_IN_M for j, o in enumerate(ends))]


def _tie_in(point: Point, a: _Pipe, b: _Pipe) -> bool:
    """Tell whether ``point`` is where one pipeline starts or ends on the other (a branch connection)."""
    return any(point.distance(e) <= _TIE_IN_M for pipe in (a, b) for e in _free_ends(pipe.geom))


def _crossing(pipes: Sequence[_Pipe], bundle: Bundle, rule: Rule, out: _Out,
              shared: dict[tuple[str, str], list[_Stretch]]) -> None:
    min_angle = float(rule.params.get("min_angle_deg", 0.0))
    infra = _where(usable_rows(bundle.metric("infrastructure")), "kind", rule.params.get("kinds", []))

    def emit(pipe: _Pipe, row: Any, object_type: str, events: list[tuple[Point, float | None, str]],
             what_zh: str, what_en: str, adcode_of: Any, other: _Pipe | None = None) -> None:
        # several crossings of one pair: ordered by mileage, the 2nd, 3rd… get object keys "#2", "#3"…
        # so that each keeps its own (rule, subject, object) identity in the findings register
        located = sorted(((pipe.chain.mileage(e[0]), e) for e in events), key=lambda m: m[0])
        for n, (mileage, (point, angle, extra)) in enumerate(located, start=1):
            stake = format_mileage(mileage)
            # compared unrounded (29.96° is below 30° though shown as 30.0°), inclusive as the rule says
            bad = angle is not None and rule.hit(angle, min_angle)
            parts_zh = [f"穿越{what_zh}", f"里程 {stake}"]
            parts_en = [f"crosses {what_en}", f"chainage {stake}"]
            if other is not None:
                other_stake = format_mileage(other.chain.mileage(point))
                parts_zh.append(f"对方管道里程 {other_stake}")
                parts_en.append(f"other line's chainage {other_stake}")
            if angle is not None:
                parts_zh.append(f"交角 {angle:.1f}°" + (f"(小于 {min_angle:g}°)" if bad else ""))
                parts_en.append(f"angle {angle:.1f}°" + (f" (below {min_angle:g}°)" if bad else ""))
            if extra:
                parts_zh.append(extra)
            if pipe.chain.multipart:
                parts_zh.append(MULTIPART_NOTE[0])
                parts_en.append(MULTIPART_NOTE[1])
            out.add(rule, pipe, object_type=object_type, row=row, verdict="violation" if bad else "inventory",
                    measured_m=None, required_m=None, geometry=point, adcode=adcode_of(point),
                    detail=Bilingual("，".join(parts_zh), ", ".join(parts_en)), suffix="" if n == 1 else f"#{n}")

    q, t = _pairs(pipes, infra, 0.0)
    for i, j in zip(q, t, strict=True):
        pipe, row = pipes[i], infra.iloc[j]
        if not pipe.geom.intersects(row.geometry):
            continue
        kind = text_or_none(row.get("kind"))
        own = text_or_none(row.get("adcode"))
        laid = _laid_on(pipe.geom, row.geometry)  # a road on the pipe is PIPE_OCCUPY, not a 0° crossing
        events = [e for e in _crossings_with(pipe, row.geometry)
                  if not any(e[0].distance(piece) < _LAID_ON_M for piece in laid)]
        emit(pipe, row, "infrastructure", events,
             _label("infrastructure", "kind", kind), str(kind),
             lambda p, own=own: out.district_at(p) or own)
    for a_i, a in enumerate(pipes):
        for b in pipes[a_i + 1:]:
            if not a.geom.intersects(b.geom):
                continue
            laid = [st.piece for st in shared.get((a.key, b.key), [])]
            events = [e for e in _crossings_with(a, b.geom)
                      if not _tie_in(e[0], a, b) and _proper(a.geom, b.geom, e[0])
                      and not any(e[0].distance(piece) < 1e-6 for piece in laid)]
            emit(a, {"key": b.key, "name": b.name}, "pipelines", events, "管道", "pipeline",
                 out.district_at, other=b)


def check_pipelines(bundle: Bundle, rules: RuleSet) -> gpd.GeoDataFrame:
    """Run the pipeline rules on a bundle.

    Runs ``PIPE_OCCUPY``, ``PIPE_SPACING``, ``PIPE_PERMIT_50``, ``PIPE_PERMIT_200`` and
    ``PIPE_CROSSING`` (those present in ``rules``); see the module docstring for what each reports.

    Parameters
    ----------
    bundle : Bundle
        Layers; uses ``pipelines``, ``buildings``, ``protection_targets``, ``infrastructure``,
        ``enterprises`` and ``districts`` (for the district of a crossing point).
    rules : RuleSet
        The rule set (thresholds, lookups and clauses).

    Returns
    -------
    GeoDataFrame
        Findings (:data:`geo.checks.findings.COLUMNS`, EPSG:4490). Subject is the pipeline; object the
        building, protection target, infrastructure feature, enterprise or other pipeline. Distance
        findings are drawn as the shortest line (a point where the distance is 0), crossings as the
        crossing point.
    """
    out = _Out(bundle)
    pipes = _pipes(bundle)
    if not pipes:
        return out.frame()
    snap = STATION_OF_LINE_M
    if "PIPE_OCCUPY" in rules.rules:
        _occupy(pipes, bundle, rules["PIPE_OCCUPY"], out)
    if "PIPE_SPACING" in rules.rules:
        _spacing(pipes, bundle, rules["PIPE_SPACING"], out)
    if "PIPE_PERMIT_50" in rules.rules or "PIPE_PERMIT_200" in rules.rules:
        stations = _stations_of(pipes, bundle, snap)
        if "PIPE_PERMIT_50" in rules.rules:
            rule = rules["PIPE_PERMIT_50"]
            infra = _where(usable_rows(bundle.metric("infrastructure")), "kind",
                           rule.params.get("infrastructure_kinds", []))
            _permit(pipes, rule, infra, "infrastructure", "kind", stations, out,
                    inner_m=float(rule.params.get("inner_m", 0.0)), skip_crossing=True)
        if "PIPE_PERMIT_200" in rules.rules:
            rule = rules["PIPE_PERMIT_200"]
            ents = _where(usable_rows(bundle.metric("enterprises")), "industry",
                          rule.params.get("enterprise_industries", []))
            _permit(pipes, rule, ents, "enterprises", "industry", stations, out, inner_m=None, skip_crossing=False)
    if "PIPE_PARALLEL" in rules.rules or "PIPE_CROSSING" in rules.rules:
        shared = _parallel(pipes, rules.rules.get("PIPE_PARALLEL"), out)
        if "PIPE_CROSSING" in rules.rules:
            _crossing(pipes, bundle, rules["PIPE_CROSSING"], out, shared)
    return out.frame()
