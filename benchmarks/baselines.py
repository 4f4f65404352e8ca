"""The distance rules computed a second (and third) way, to check RiskMap's findings and to time against.

Every baseline returns the same thing RiskMap's findings say: the set of ``(rule, subject key,
object layer, object key)`` of one rule. :func:`ours_pairs` reads those pairs from RiskMap's
findings; :func:`assert_same` raises when a baseline disagrees, naming what is missing on either side.

The rules (:data:`DISTANCE_RULES`, thresholds and filters read from the rule set, as RiskMap reads them):

- ``PIPE_OCCUPY`` (buildings only; roads and railways along a line involve a "runs along" test that a
  plain query does not express): buildings within 5 m of a pipeline centreline, inclusive;
- ``ESD_DECLARED``: protection targets nearer than the enterprise's declared external safety distance
  (a per-enterprise distance, exclusive);
- ``TAIL_OVERHEAD`` as the radial screen (no DEM): receptors (targets of the listed GB 36894 classes,
  buildings of the listed uses) within 1 km of the starter-dam toe, inclusive.

Distances are compared as RiskMap compares them (:func:`geo.checks.ruleset.below`, 10⁻⁶ m noise).

``naive``
    Project each layer afresh, buffer the subjects by the distance (plus a slack: a buffer is a polygon
    inside the true circle) and spatially join all objects, then measure the exact distance of the
    joined pairs — the way a first version is written.
``best``
    The best straightforward GeoPandas/Shapely 2 query: project each layer once, cut lines into
    single segments, one ``shapely.STRtree`` over the objects, ``tree.query(pieces, predicate="dwithin",
    distance=d)``, then the exact distance of the unique candidate pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.checks.bundle import Bundle
from geo.checks.ruleset import FLOAT_NOISE, RuleSet
from geo.substances import parse_substances

Pair = tuple[str, str, str, str]


@dataclass(frozen=True)
class Target:
    """An object layer of a distance rule and the rows of it that count."""

    layer: str
    column: str | None = None
    values: tuple[str, ...] = ()

    def rows(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Return the rows of ``frame`` that count, with a non-empty geometry."""
        keep = frame.geometry.notna().to_numpy() & ~frame.geometry.is_empty.to_numpy()
        if self.column is not None:
            keep &= frame[self.column].isin(self.values).to_numpy()
        return frame[keep]


@dataclass(frozen=True)
class DistanceRule:
    """One distance rule as a plain query: subjects, objects, distance (a number or a subject column)."""

    code: str
    family: str
    subject: str
    objects: tuple[Target, ...]
    distance: float | str
    inclusive: bool

    def subjects(self, frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, np.ndarray]:
        """Return the subject rows and their distances."""
        keep = frame.geometry.notna().to_numpy() & ~frame.geometry.is_empty.to_numpy()
        if isinstance(self.distance, str):
            d = pd.to_numeric(frame[self.distance], errors="coerce").to_numpy(dtype=float)
            keep &= np.isfinite(d) & (d > 0)
            return frame[keep], d[keep]
        return frame[keep], np.full(int(keep.sum()), float(self.distance))


def distance_rules(rules: RuleSet) -> tuple[DistanceRule, ...]:
    """Return the distance rules with thresholds, filters and inclusiveness from ``rules``."""
    occupy, esd, tail = rules["PIPE_OCCUPY"], rules["ESD_DECLARED"], rules["TAIL_OVERHEAD"]
    return (
        DistanceRule("PIPE_OCCUPY", "pipeline", "pipelines", (Target("buildings"),),
                     float(occupy.threshold_m or 0.0), occupy.inclusive),
        DistanceRule("ESD_DECLARED", "safety_distance", "enterprises", (Target("protection_targets"),),
                     "external_distance_m", esd.inclusive),
        DistanceRule("TAIL_OVERHEAD", "tailings", "tailings_dams", (
            Target("protection_targets", "gb36894_class", tuple(tail.params["receptor_target_classes"])),
            Target("buildings", "use", tuple(tail.params["receptor_building_uses"]))),
            float(tail.threshold_m or 0.0), tail.inclusive),
    )


def hits(d: np.ndarray, limit: np.ndarray, inclusive: bool) -> np.ndarray:
    """Vectorised :func:`geo.checks.ruleset.below`."""
    return d <= limit + FLOAT_NOISE if inclusive else d < limit - FLOAT_NOISE


def _pairs(rule: DistanceRule, layer: str, skeys: np.ndarray, okeys: np.ndarray) -> set[Pair]:
    return {(rule.code, str(s), layer, str(o)) for s, o in zip(skeys, okeys, strict=True)}


def naive(bundle: Bundle, rules: Iterable[DistanceRule], epsg: int) -> set[Pair]:
    """Buffer + spatial join, projecting every layer afresh for every rule and object layer."""
    out: set[Pair] = set()
    for rule in rules:
        for target in rule.objects:
            subj, dist = rule.subjects(bundle[rule.subject].to_crs(epsg))
            objs = target.rows(bundle[target.layer].to_crs(epsg))
            slack = dist * 0.01 + 0.01  # the buffer polygon lies inside the true circle
            zone = gpd.GeoDataFrame({"s": np.arange(len(subj)), "d": dist},
                                    geometry=subj.geometry.buffer(dist + slack).values, crs=epsg)
            joined = gpd.sjoin(objs[["key", "geometry"]], zone, predicate="intersects")
            s = joined["s"].to_numpy()
            d = shapely.distance(subj.geometry.to_numpy()[s], joined.geometry.to_numpy())
            ok = hits(d, joined["d"].to_numpy(), rule.inclusive)
            out |= _pairs(rule, target.layer, subj["key"].to_numpy()[s[ok]], joined["key"].to_numpy()[ok])
    return out


def cut_segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut lines into their single segments; return the segments and the index of the line of each."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    coords, vertex_of = shapely.get_coordinates(parts, return_index=True)
    same = vertex_of[1:] == vertex_of[:-1]
    starts = np.flatnonzero(same)
    segs = shapely.linestrings(np.stack([coords[starts], coords[starts + 1]], axis=1))
    return segs, part_of[vertex_of[starts]]


def best(bundle: Bundle, rules: Iterable[DistanceRule], epsg: int) -> set[Pair]:
    """One STRtree per object layer, queried with line segments (or points) by ``dwithin``, exact after."""
    metric: dict[str, gpd.GeoDataFrame] = {}

    def project(layer: str) -> gpd.GeoDataFrame:
        if layer not in metric:
            metric[layer] = bundle[layer].to_crs(epsg)
        return metric[layer]

    trees: dict[Target, tuple[gpd.GeoDataFrame, shapely.STRtree]] = {}
    out: set[Pair] = set()
    for rule in rules:
        subj, dist = rule.subjects(project(rule.subject))
        geoms = subj.geometry.to_numpy()
        lines = len(geoms) and shapely.get_type_id(geoms[0]) in (1, 5)
        query, owner = cut_segments(geoms) if lines else (geoms, np.arange(len(geoms)))
        for target in rule.objects:
            if target not in trees:
                objs = target.rows(project(target.layer))
                trees[target] = (objs, shapely.STRtree(objs.geometry.to_numpy()))
            objs, tree = trees[target]
            q, t = tree.query(query, predicate="dwithin", distance=dist[owner] + FLOAT_NOISE)
            pairs = np.unique(np.column_stack([owner[q], t]), axis=0) if len(q) else np.empty((0, 2), int)
            s, o = pairs[:, 0], pairs[:, 1]
            d = shapely.distance(geoms[s], objs.geometry.to_numpy()[o])
            ok = hits(d, dist[s], rule.inclusive)
            out |= _pairs(rule, target.layer, subj["key"].to_numpy()[s[ok]], objs["key"].to_numpy()[o[ok]])
    return out


def ours_pairs(findings: pd.DataFrame, rules: Iterable[DistanceRule]) -> set[Pair]:
    """Return RiskMap's pairs of the distance rules, raising if one is reported twice."""
    out: set[Pair] = set()
    for rule in rules:
        layers = [t.layer for t in rule.objects]
        f = findings[(findings["rule_code"] == rule.code) & findings["object_type"].isin(layers)]
        cols = [f[c].astype(str).tolist() for c in ("rule_code", "subject_key", "object_type", "object_key")]
        pairs = list(zip(*cols, strict=True))
        unique = set(pairs)
        if len(unique) != len(pairs):
            raise AssertionError(f"{rule.code}: RiskMap reports {len(pairs) - len(unique)} pairs twice")
        out |= unique
    return out


def assert_same(name: str, theirs: set[Pair], ours: set[Pair]) -> None:
    """Raise AssertionError naming the pairs a baseline and RiskMap disagree on."""
    if theirs == ours:
        return
    missing, extra = sorted(ours - theirs), sorted(theirs - ours)
    raise AssertionError(f"{name} disagrees with RiskMap: {len(missing)} pairs only RiskMap found "
                         f"(e.g. {missing[:3]}), {len(extra)} only {name} found (e.g. {extra[:3]})")


def by_rule(pairs: set[Pair]) -> dict[str, int]:
    """Count pairs per rule."""
    counts: dict[str, int] = {}
    for p in pairs:
        counts[p[0]] = counts.get(p[0], 0) + 1
    return dict(sorted(counts.items()))


def mhs_undeclared(bundle: Bundle, rules: RuleSet) -> set[str]:
    """Second computation of ``MHS_UNDECLARED``'s subjects: enterprises declaring no grade with a unit at S ≥ 1.

    S = Σ q/Q of each plant part's parsed inventory (:func:`geo.substances.parse_substances`, GB 18218 Q);
    a part belongs to the enterprise of its credit code in the same district. Only the enterprises are
    compared: which unit binds depends on R and α, which this does not recompute.
    """
    rule = rules["MHS_UNDECLARED"]
    min_s = float(rule.params.get("min_s", 1.0))
    ents, parts = bundle["enterprises"], bundle["installations"]
    if ents.empty or parts.empty:
        return set()
    grade = pd.to_numeric(ents["mhs_grade"], errors="coerce")
    undeclared = ents[grade.isna().to_numpy()]
    owner = {(str(c), str(a)): str(k) for c, a, k in zip(undeclared["credit_code"], undeclared["adcode"],
                                                          undeclared["key"], strict=True)}
    found: set[str] = set()
    for code, adcode, text in zip(parts["enterprise_credit_code"], parts["adcode"], parts["substances"], strict=True):
        key = owner.get((str(code), str(adcode)))
        if key is None or key in found or not isinstance(text, str):
            continue
        s = round(parse_substances(text).s, 6)
        if s >= min_s if rule.inclusive else s > min_s:
            found.add(key)
    return found


def ours_subjects(findings: pd.DataFrame, code: str) -> set[str]:
    """Return the subject keys of RiskMap's findings of rule ``code``."""
    return {str(k) for k in findings.loc[findings["rule_code"] == code, "subject_key"]}
