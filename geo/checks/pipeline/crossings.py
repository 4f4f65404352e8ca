"""``PIPE_CROSSING`` and ``PIPE_PARALLEL``: where pipelines cross features and each other, and run together.

The readings (true crossings only, tie-ins, polygons crossed once per piece, numbered repeat
crossings, parallel stretches) are described in :mod:`geo.checks.pipeline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiLineString, Point
from shapely.geometry.base import BaseGeometry

from geo.cell_values import text_or_none
from geo.checks.bundle import Bundle, usable_rows
from geo.checks.findings import Bilingual
from geo.checks.mileage import MULTIPART_NOTE, format_mileage, format_mileage_range
from geo.checks.mileage import line_parts as _parts
from geo.checks.pipeline.lines import (
    Pipe,
    PipeFindings,
    SegmentMemo,
    acute_angle,
    direction_at,
    field_label,
    near_pairs,
    rows_where,
)
from geo.checks.ruleset import Rule

#: Intersection points this close (m) to a pipeline end are tie-ins, not crossings.
_TIE_IN_M = 1.0


#: A line within this distance (m) of the centreline lies on it (shares its vertices up to float noise) …
_LAID_ON_M = 0.01


#: … along a stretch at least this long (m): an overlap, not a crossing.
_LAID_MIN_M = 1.0


def _crossings_with(pipe: Pipe, other: BaseGeometry,
                    memo: SegmentMemo | None = None) -> list[tuple[Point, float | None, str]]:
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
                    angles.append(acute_angle(direction_at(piece, end), direction_at(boundary, end)))
            a = pipe.chain.mileage(Point(piece.coords[0]))
            b = pipe.chain.mileage(Point(piece.coords[-1]))
            lo, hi = sorted((a, b))
            extra = f"穿越段 里程 {format_mileage_range(lo, hi)}，长 {hi - lo:.1f} m"
            events.append((mid, min(angles) if angles else None, extra))
        return events
    return [(p, acute_angle(direction_at(pipe.geom, p, memo), direction_at(other, p, memo)), "")
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


def _side(line: BaseGeometry, at: Point, q: Point, memo: SegmentMemo | None = None) -> int:
    """Side (+1 left, −1 right, 0 on it) of ``q`` with respect to ``line`` near its point ``at``."""
    if line.distance(q) < 1e-6:
        return 0
    u = direction_at(line, at, memo)
    cross = float(u[0] * (q.y - at.y) - u[1] * (q.x - at.x))
    return 1 if cross > 0 else -1


def _proper(a: BaseGeometry, b: BaseGeometry, p: Point, step_m: float = 0.5, memo: SegmentMemo | None = None) -> bool:
    """Tell whether ``b`` passes from one side of ``a`` to the other at ``p`` (not a touch, not an overlap)."""
    merged = _parts(shapely.line_merge(MultiLineString(_parts(b))) if len(_parts(b)) > 1 else b)
    part = min(merged, key=lambda g: g.distance(p))
    t = part.project(p)
    if t - step_m < 0 or t + step_m > part.length:
        return False  # b ends here: a tie-in or a touch
    before, after = part.interpolate(t - step_m), part.interpolate(t + step_m)
    return _side(a, p, before, memo) * _side(a, p, after, memo) < 0


@dataclass(frozen=True)
class _Stretch:
    """A stretch of pipeline ``a`` laid within ``within_m`` of pipeline ``b`` (shared or parallel laying)."""

    piece: BaseGeometry
    from_m: float
    to_m: float
    spacing_m: float


def _stretches(a: Pipe, b: Pipe, within_m: float, min_length_m: float) -> list[_Stretch]:
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


def check_parallel(pipes: Sequence[Pipe], rule: Rule | None,
                   out: PipeFindings) -> dict[tuple[str, str], list[_Stretch]]:
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


class LaidOn:
    """Stretches of a pipeline on which a line lies (an overlap), memoised per (pipeline, line).

    ``PIPE_OCCUPY`` and ``PIPE_CROSSING`` ask about the same pairs; each pair is measured once
    and each line buffered once. Geometries are held so that their ids stay theirs.
    """

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int], tuple[BaseGeometry, BaseGeometry, list[BaseGeometry]]] = {}
        self._buffers: dict[int, tuple[BaseGeometry, BaseGeometry]] = {}

    def _buffer(self, other: BaseGeometry) -> BaseGeometry:
        held = self._buffers.get(id(other))
        if held is None or held[0] is not other:
            held = (other, other.buffer(_LAID_ON_M, quad_segs=2))
            self._buffers[id(other)] = held
        return held[1]

    def __call__(self, line: BaseGeometry, other: BaseGeometry) -> list[BaseGeometry]:
        """Return the stretches (≥ :data:`_LAID_MIN_M`) of ``line`` on which the line ``other`` lies.

        "On" is within :data:`_LAID_ON_M`, so the float noise of reprojection does not turn a
        shared stretch into a row of crossing points.
        """
        if other.geom_type not in ("LineString", "MultiLineString"):
            return []
        key = (id(line), id(other))
        held = self._memo.get(key)
        if held is None or held[0] is not line or held[1] is not other:
            pieces = _parts(shapely.intersection(line, self._buffer(other)))
            held = (line, other, [p for p in pieces if p.length >= _LAID_MIN_M])
            self._memo[key] = held
        return held[2]

    def runs_along(self, line: BaseGeometry, other: BaseGeometry) -> bool:
        """Tell whether a line ``other`` lies on the pipeline along a stretch (an overlap), not only crossing it."""
        return bool(self(line, other))


def _free_ends(geom: BaseGeometry) -> list[Point]:
    """Start and end points of a line's parts, except where two parts of the line join."""
    ends = [Point(c) for part in _parts(geom) for c in (part.coords[0], part.coords[-1])]
    return [e for i, e in enumerate(ends)
            if not any(j != i and e.distance(o) <= _TIE_IN_M for j, o in enumerate(ends))]


def _tie_in(point: Point, a: Pipe, b: Pipe) -> bool:
    """Tell whether ``point`` is where one pipeline starts or ends on the other (a branch connection)."""
    return any(point.distance(e) <= _TIE_IN_M for pipe in (a, b) for e in _free_ends(pipe.geom))


def check_crossings(pipes: Sequence[Pipe], bundle: Bundle, rule: Rule, out: PipeFindings,
                    shared: dict[tuple[str, str], list[_Stretch]], laid: LaidOn | None = None) -> None:
    """``PIPE_CROSSING``: crossings with infrastructure and between pipelines, outside ``shared`` stretches."""
    laid_on = laid or LaidOn()
    memo = SegmentMemo()
    min_angle = float(rule.params.get("min_angle_deg", 0.0))
    infra = rows_where(usable_rows(bundle.metric("infrastructure")), "kind", rule.params.get("kinds", []))

    def emit(pipe: Pipe, row: Any, object_type: str, events: list[tuple[Point, float | None, str]],
             what_zh: str, what_en: str, adcode_of: Any, other: Pipe | None = None) -> None:
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

    q, t = near_pairs(pipes, infra, 0.0)
    geoms = np.asarray(infra.geometry.array, dtype=object)
    pipe_geoms = np.asarray([p.geom for p in pipes], dtype=object)
    crossed = shapely.intersects(pipe_geoms[q], geoms[t]) if len(q) else np.zeros(0, dtype=bool)
    q, t = q[crossed], t[crossed]
    hit_rows = np.unique(t)
    attrs = infra.drop(columns=infra.geometry.name).iloc[hit_rows].to_dict("records")
    rows = dict(zip(hit_rows.tolist(), attrs, strict=True))
    for i, j in zip(q.tolist(), t.tolist(), strict=True):
        pipe, row, geom = pipes[i], rows[j], geoms[j]
        kind = text_or_none(row.get("kind"))
        own = text_or_none(row.get("adcode"))
        on = laid_on(pipe.geom, geom)  # a road on the pipe is PIPE_OCCUPY, not a 0° crossing
        events = [e for e in _crossings_with(pipe, geom, memo)
                  if not any(e[0].distance(piece) < _LAID_ON_M for piece in on)]
        emit(pipe, row, "infrastructure", events,
             field_label("infrastructure", "kind", kind), str(kind),
             lambda p, own=own: out.district_at(p) or own)
    if len(pipes) < 2:
        return
    left, right = shapely.STRtree(pipe_geoms).query(pipe_geoms, predicate="intersects")
    for a_i, b_i in sorted({(int(x), int(y)) for x, y in zip(left, right, strict=True) if x < y}):
        a, b = pipes[a_i], pipes[b_i]
        on = [st.piece for st in shared.get((a.key, b.key), [])]
        events = [e for e in _crossings_with(a, b.geom, memo)
                  if not _tie_in(e[0], a, b) and _proper(a.geom, b.geom, e[0], memo=memo)
                  and not any(e[0].distance(piece) < 1e-6 for piece in on)]
        emit(a, {"key": b.key, "name": b.name}, "pipelines", events, "管道", "pipeline",
             out.district_at, other=b)
