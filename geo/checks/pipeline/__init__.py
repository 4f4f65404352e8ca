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

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.cell_values import column_values, text_column, text_or_none
from geo.checks.bundle import Bundle, usable_rows
from geo.checks.findings import finding_columns, hits
from geo.checks.mileage import format_mileage
from geo.checks.pipeline.crossings import LaidOn, check_crossings, check_parallel
from geo.checks.pipeline.lines import (
    OCCUPY_INFRASTRUCTURE_KINDS,
    PAD_M,
    STATION_OF_LINE_M,
    Pipe,
    PipeFindings,
    field_label,
    near_pairs,
    near_pieces,
    pipeline_mileage,
    read_pipes,
    rows_where,
    shown_geometries,
    shown_geometry,
    stakes_at,
)
from geo.checks.ruleset import Rule, RuleSet, below

__all__ = ["OCCUPY_INFRASTRUCTURE_KINDS", "STATION_OF_LINE_M", "check_pipelines", "format_mileage",
           "pipeline_mileage"]


def _occupy(pipes: Sequence[Pipe], bundle: Bundle, rule: Rule, out: PipeFindings, laid: LaidOn) -> None:
    threshold = float(rule.threshold_m or 0.0)
    kinds = rule.params.get("infrastructure_kinds", OCCUPY_INFRASTRUCTURE_KINDS)
    # only the buildings the index finds near the lines are projected (a superset of those within reach)
    near_lines = bundle.near("buildings", bundle["pipelines"].geometry.array, threshold + PAD_M)
    layers = (("buildings", usable_rows(bundle.metric_rows("buildings", near_lines))),
              ("infrastructure", rows_where(usable_rows(bundle.metric("infrastructure")), "kind", kinds)))
    for layer, frame in layers:
        near = near_pieces(pipes, frame, threshold)   # exact distances of every pair, one index search
        keep = hits(rule, near.d, threshold)
        if not keep.any():
            continue
        geoms = np.asarray(frame.geometry.array, dtype=object)
        qk, tk, dists, source = near.pipe[keep], near.row[keep], near.d[keep], near.near[keep]
        if layer == "infrastructure":   # a feature crossing the line is a crossing (PIPE_CROSSING), not this
            lines = [pipes[i].geom for i in qk.tolist()]
            on = np.asarray([not (g.intersects(p) and not laid.runs_along(p, g))
                             for p, g in zip(lines, geoms[tk], strict=True)], dtype=bool)
            qk, tk, dists, source = qk[on], tk[on], dists[on], source[on]
            if not len(tk):
                continue
        # shortest lines and their stakes for all hits at once (one GEOS call, not one per hit)
        shortest_all = shapely.shortest_line(source, geoms[tk])
        stakes = stakes_at(pipes, qk, shapely.get_point(shortest_all, 0))
        if layer == "buildings":
            what_zh, what_en = ["建(构)筑物"] * len(tk), ["building"] * len(tk)
        else:
            what_zh = [field_label("infrastructure", "kind", k) for k in text_column(frame, "kind", tk)]
            what_en = [str(k) for k in column_values(frame, "kind", tk)]
        details = []
        for i, d, stake, zh, en in zip(qk.tolist(), dists.tolist(), stakes, what_zh, what_en, strict=True):
            where = "压占管道中心线" if d == 0 else f"距管道中心线 {d:.2f} m"
            details.append(pipes[i].noted(f"{zh}{where}(两侧各 {threshold:g} m 内)，里程 {stake}",
                                          f"{en} {d:.2f} m from the centreline (within {threshold:g} m), "
                                          f"chainage {stake}"))
        out.add_columns(finding_columns(
            rule, len(tk), subject_type="pipelines", subject_key=[pipes[i].key for i in qk.tolist()],
            subject_name=[pipes[i].name for i in qk.tolist()], object_type=layer,
            object_key=[k or "" for k in text_column(frame, "key", tk)], object_name=text_column(frame, "name", tk),
            measured_m=dists, required_m=threshold, verdict="violation", adcode=text_column(frame, "adcode", tk),
            geometry=shown_geometries(shortest_all), detail=details))


def _spacing(pipes: Sequence[Pipe], bundle: Bundle, rule: Rule, out: PipeFindings) -> None:
    required: dict[str, dict[str, float]] = rule.params.get("required_m", {})
    targets = rows_where(usable_rows(bundle.metric("protection_targets")), "target_type",
                     rule.params.get("crowded_target_types", []))
    infra = usable_rows(bundle.metric("infrastructure"))
    groups = (
        ("protection_targets", "crowded", targets, "target_type"),
        ("infrastructure", "flammable",
         rows_where(infra, "kind", rule.params.get("flammable_infrastructure", [])), "kind"),
        ("infrastructure", "airport_port_reservoir",
         rows_where(infra, "kind", rule.params.get("airport_port_reservoir_infrastructure", [])), "kind"),
    )
    for layer, kind, frame, type_col in groups:
        need = {p.key: required.get(p.medium or "", {}).get(kind) for p in pipes}
        reach = max((float(v) for v in need.values() if v is not None), default=None)
        if reach is None:
            continue
        q, t = near_pairs(pipes, frame, reach)
        if not len(q):
            continue
        geoms = np.asarray(frame.geometry.array, dtype=object)
        hit_rows = np.unique(t)
        rows = dict(zip(hit_rows.tolist(), frame.drop(columns=frame.geometry.name).iloc[hit_rows].to_dict("records"),
                        strict=True))
        for i, j in zip(q.tolist(), t.tolist(), strict=True):
            pipe, row, geom = pipes[i], rows[j], geoms[j]
            limit = need[pipe.key]
            if limit is None:
                continue
            d = float(pipe.geom.distance(geom))
            if not rule.hit(d, float(limit)):
                continue
            shortest = shapely.shortest_line(pipe.geom, geom)
            stake = pipe.stake(shapely.get_point(shortest, 0))
            code = text_or_none(row.get(type_col))
            what_zh = field_label(layer, type_col, code)
            medium_zh = field_label("pipelines", "medium", pipe.medium)
            out.add(rule, pipe, object_type=layer, row=row, verdict="violation", measured_m=d,
                    required_m=float(limit), geometry=shown_geometry(shortest),
                    detail=pipe.noted(f"{what_zh}距{medium_zh}管道中心线 {d:.2f} m，小于要求的 {float(limit):g} m，"
                                      f"里程 {stake}", f"{code} {d:.2f} m from the {pipe.medium} pipeline, less than "
                                      f"the required {float(limit):g} m, chainage {stake}"))


def _stations_of(pipes: Sequence[Pipe], bundle: Bundle, snap_m: float) -> dict[str, BaseGeometry | None]:
    """Union of the stations of each line (kind ``station`` within ``snap_m``), None when it has none."""
    stations = rows_where(usable_rows(bundle.metric("infrastructure")), "kind", ["station"])
    found: dict[str, list[BaseGeometry]] = {p.key: [] for p in pipes}
    q, t = near_pairs(pipes, stations, snap_m)
    for i, j in zip(q, t, strict=True):
        if below(pipes[i].geom.distance(stations.geometry.iloc[j]), snap_m, inclusive=True):
            found[pipes[i].key].append(stations.geometry.iloc[j])
    return {k: (shapely.union_all(v) if v else None) for k, v in found.items()}


def _permit(pipes: Sequence[Pipe], rule: Rule, frame: gpd.GeoDataFrame, layer: str, type_col: str,
            stations: dict[str, BaseGeometry | None], out: PipeFindings, *, inner_m: float | None,
            skip_crossing: bool) -> None:
    """Permit-zone findings: within (inner_m, threshold] of the centreline, or within station_m of a station."""
    threshold = float(rule.threshold_m or 0.0)
    station_m = float(rule.params.get("station_m", 0.0))
    hits: dict[tuple[int, int], None] = {}
    q, t = near_pairs(pipes, frame, threshold)
    hits.update(dict.fromkeys(zip(q.tolist(), t.tolist(), strict=True)))
    if not frame.empty:
        for i, pipe in enumerate(pipes):
            near = stations.get(pipe.key)
            if near is not None:
                for j in frame.sindex.query(near, predicate="dwithin", distance=station_m + PAD_M).tolist():
                    hits[(i, j)] = None
    if not hits:
        return
    pairs = np.asarray(sorted(hits), dtype=int)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    pipe_geoms = np.asarray([p.geom for p in pipes], dtype=object)
    d_lines = shapely.distance(pipe_geoms[pairs[:, 0]], geoms[pairs[:, 1]])   # one call, only the pairs
    hit_rows = np.unique(pairs[:, 1])
    rows = dict(zip(hit_rows.tolist(), frame.drop(columns=frame.geometry.name).iloc[hit_rows].to_dict("records"),
                    strict=True))
    for i, j, d_line in zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), d_lines.tolist(), strict=True):
        pipe, row, geom = pipes[i], rows[j], geoms[j]
        in_band = rule.hit(d_line, threshold) and (inner_m is None or not below(d_line, inner_m, inclusive=True))
        if in_band and skip_crossing and geom.intersects(pipe.geom):
            in_band = False
        near = stations.get(pipe.key)
        d_station = None if near is None else float(near.distance(geom))
        by_station = d_station is not None and rule.hit(d_station, station_m)
        if not (in_band or by_station):
            continue
        what_zh = field_label(layer, type_col, text_or_none(row.get(type_col)))
        what_en = str(row.get(type_col))
        source, measured, required = (pipe.geom, d_line, threshold) if in_band else (near, d_station, station_m)
        shortest = shapely.shortest_line(source, geom)
        stake = pipe.stake(shapely.get_point(shortest, 0))
        if in_band:
            band = f"{inner_m:g}–{threshold:g}" if inner_m is not None else f"{threshold:g}"
            extra_zh = f"；距站场 {d_station:.1f} m" if by_station and d_station is not None else ""
            zh = f"{what_zh}距管道中心线 {d_line:.2f} m(中心线两侧 {band} m 许可范围)，里程 {stake}{extra_zh}"
            en = f"{what_en} {d_line:.2f} m from the centreline (permit zone {band} m), chainage {stake}"
        else:
            zh = f"{what_zh}距管道站场 {d_station:.2f} m(站场周边 {station_m:g} m 许可范围)，站场里程 {stake}"
            en = (f"{what_en} {d_station:.2f} m from a station of the line (permit zone {station_m:g} m), "
                  f"station chainage {stake}")
        out.add(rule, pipe, object_type=layer, row=row, verdict="permit", measured_m=measured, required_m=required,
                geometry=shown_geometry(shortest), detail=pipe.noted(zh, en))


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
    out = PipeFindings(bundle)
    pipes = read_pipes(bundle)
    if not pipes:
        return out.frame()
    snap = STATION_OF_LINE_M
    laid = LaidOn()   # overlaps of lines with the pipelines, shared by PIPE_OCCUPY and PIPE_CROSSING
    if "PIPE_OCCUPY" in rules.rules:
        _occupy(pipes, bundle, rules["PIPE_OCCUPY"], out, laid)
    if "PIPE_SPACING" in rules.rules:
        _spacing(pipes, bundle, rules["PIPE_SPACING"], out)
    if "PIPE_PERMIT_50" in rules.rules or "PIPE_PERMIT_200" in rules.rules:
        stations = _stations_of(pipes, bundle, snap)
        if "PIPE_PERMIT_50" in rules.rules:
            rule = rules["PIPE_PERMIT_50"]
            infra = rows_where(usable_rows(bundle.metric("infrastructure")), "kind",
                           rule.params.get("infrastructure_kinds", []))
            _permit(pipes, rule, infra, "infrastructure", "kind", stations, out,
                    inner_m=float(rule.params.get("inner_m", 0.0)), skip_crossing=True)
        if "PIPE_PERMIT_200" in rules.rules:
            rule = rules["PIPE_PERMIT_200"]
            ents = rows_where(usable_rows(bundle.metric("enterprises")), "industry",
                          rule.params.get("enterprise_industries", []))
            _permit(pipes, rule, ents, "enterprises", "industry", stations, out, inner_m=None, skip_crossing=False)
    if "PIPE_PARALLEL" in rules.rules or "PIPE_CROSSING" in rules.rules:
        shared = check_parallel(pipes, rules.rules.get("PIPE_PARALLEL"), out)
        if "PIPE_CROSSING" in rules.rules:
            check_crossings(pipes, bundle, rules["PIPE_CROSSING"], out, shared, laid)
    return out.frame()
