"""What the code separations measure between: installation parts, object sets and candidate pairs.

:class:`Parts` holds the installations of a bundle in metres with their attributes as lists;
:class:`Objects` is one set of external objects (protection targets, buildings, infrastructure,
pipelines, other enterprises' parts) with the table row each belongs to; :func:`candidate_pairs`
finds the (part, object) pairs within reach by spatial index. The rules are in
:mod:`geo.checks.code_separation`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.cell_values import number_column, number_or_none, text_column, text_or_none
from geo.checks.bundle import Bundle, usable_rows
from geo.checks.findings import Bilingual
from geo.checks.ruleset import Rule, RuleSet
from geo.layer_specs import PART_TYPES

#: Distances are compared after rounding to this many decimals of a metre (1 mm).
DECIMALS = 3


SLACK = 10.0 ** -DECIMALS


#: Key of the fallback entry of a ``{subkind: row}`` mapping.
ANY = "*"


Note = tuple[str, str]  # (Chinese, English)


#: Computes (required metres or None, notes) for a subject part index and an object index of a set.
Requirement = Callable[[int, int], tuple[float | None, tuple[Note, ...]]]


def largest(node: Any) -> float:
    """Return the largest number in a (nested) lookup, 0 when there is none."""
    if isinstance(node, Mapping):
        return max((largest(v) for v in node.values()), default=0.0)
    return number_or_none(node) or 0.0


def reach_50160(rule: Rule) -> float:
    """Farthest a part can be from an object of ``CODE_50160`` and still owe it a separation (m)."""
    p = rule.params
    above = number_or_none(p.get("above_ground_pipeline_factor")) or 1.0
    class_c = number_or_none(p.get("class_c_factor")) or 1.0
    return largest(p.get("required_m", {})) * max(1.0, above, class_c) + largest(p.get("road_half_width_m", {}))


def warehouse_window(rule: Rule, code_50160: Rule) -> float:
    """Farthest a class A warehouse can be from an object of ``CODE_50016_WAREHOUSE`` and owe it a separation (m)."""
    p = rule.params
    return (max(largest(p.get("required_m", {})), number_or_none(p.get("small_pair_m")) or 0.0)
            + largest(code_50160.params.get("road_half_width_m", {})))


def site_reach_m(rules: RuleSet) -> float:
    """Return how far from a plant part a protection target or building can be and still be too close (m).

    The largest reach of the code separations in ``rules`` (``CODE_50160``, ``CODE_50016_WAREHOUSE``,
    ``CODE_50016_FACTORY``): a part farther than that from a new site owes the site no separation.

    Parameters
    ----------
    rules : RuleSet
        The rules of the run.

    Returns
    -------
    float
        Metres (0 when none of these rules is in ``rules``).

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> site_reach_m(load_ruleset()) >= 150.0
    True
    """
    reach = 0.0
    if "CODE_50160" in rules.rules:
        reach = reach_50160(rules["CODE_50160"])
        if "CODE_50016_WAREHOUSE" in rules.rules:
            reach = max(reach, warehouse_window(rules["CODE_50016_WAREHOUSE"], rules["CODE_50160"]))
    if "CODE_50016_FACTORY" in rules.rules:
        reach = max(reach, largest(rules["CODE_50016_FACTORY"].params.get("required_m", {})))
    return reach


def rows_near(bundle: Bundle, layer: str, parts: Parts, reach: float) -> gpd.GeoDataFrame:
    """Return the rows of ``layer`` (metric, usable geometry) within ``reach`` metres of any part.

    The layer's own spatial index (shared with the other families) keeps a city of buildings local.
    """
    frame = bundle.metric(layer)
    if frame.empty or not len(parts.keys) or reach <= 0:
        return usable_rows(frame.iloc[0:0])
    _, idx = frame.sindex.query(parts.geoms, predicate="dwithin", distance=reach + SLACK)
    return usable_rows(frame.iloc[np.unique(idx)])


def joined_detail(head: Note, notes: Iterable[Note]) -> Bilingual:
    """Chinese sentences and the English ones, kept apart."""
    items = [head, *notes]
    return Bilingual("；".join(zh for zh, _ in items), "; ".join(en for _, en in items))


def part_label(part_type: str | None) -> str:
    """Return the Chinese name of a part type (the code itself when unknown)."""
    labels = PART_TYPES.get(part_type or "")
    return labels[0] if labels else str(part_type)


@dataclass
class Parts:
    """The installations of a bundle in metres, with their attributes as plain lists."""

    frame: gpd.GeoDataFrame
    geoms: np.ndarray
    keys: list[str]
    names: list[str | None]
    enterprise: list[str | None]
    adcode: list[str | None]
    part_type: list[str | None]
    fire_class: list[str | None]
    goods_items: list[str | None]
    stock_t: list[float | None]

    @classmethod
    def of(cls, bundle: Bundle) -> Parts:
        """Read the usable installations of ``bundle`` in metres."""
        frame = usable_rows(bundle.metric("installations"))
        keys = [k or str(i) for i, k in enumerate(text_column(frame, "key"))]
        return cls.read(frame, frame.geometry.to_numpy(), keys)

    @classmethod
    def read(cls, frame: pd.DataFrame, geoms: np.ndarray, keys: list[str]) -> Parts:
        """Read the attribute columns of ``frame`` (absent columns are all ``None``)."""
        return cls(gpd.GeoDataFrame(frame), geoms, keys, text_column(frame, "name"),
                   text_column(frame, "enterprise_credit_code"), text_column(frame, "adcode"),
                   text_column(frame, "part_type"), text_column(frame, "fire_class"),
                   text_column(frame, "goods_items"), number_column(frame, "stock_t"))

    def of_types(self, types: Iterable[str]) -> np.ndarray:
        """Return the indices of the parts whose type is one of ``types``."""
        wanted = set(types)
        return np.array([i for i, t in enumerate(self.part_type) if t in wanted], dtype=int)

    def other_enterprise(self, i: int, owner: str | None) -> bool:
        """Whether part ``i`` belongs to an enterprise other than ``owner`` (unknown owners differ)."""
        mine = self.enterprise[i]
        return mine is None or owner is None or mine != owner


@dataclass
class Objects:
    """External objects of one layer with the table row each one falls under.

    ``offset`` is subtracted from the measured distance (road centreline → road edge); ``factor``
    multiplies the table value (above-ground pipelines); ``notes`` are said in the finding.
    """

    object_type: str
    frame: gpd.GeoDataFrame
    rows: list[str]
    keys: list[str]
    names: list[str | None]
    adcode: list[str | None]
    offset: np.ndarray
    factor: np.ndarray
    notes: list[tuple[Note, ...]]
    enterprise: list[str | None] = field(default_factory=list)

    @classmethod
    def build(cls, object_type: str, frame: gpd.GeoDataFrame, rows: list[str | None], *,
              offset: list[float] | None = None, factor: list[float] | None = None,
              notes: list[tuple[Note, ...]] | None = None, enterprise: list[str | None] | None = None,
              fallback_adcode: str | None = None) -> Objects:
        """Keep the rows of ``frame`` whose table row is known."""
        keep = [i for i, r in enumerate(rows) if r is not None]
        sub = frame.iloc[keep].reset_index(drop=True)
        n = len(frame)
        offs = offset if offset is not None else [0.0] * n
        facs = factor if factor is not None else [1.0] * n
        nts = notes if notes is not None else [()] * n
        ents = enterprise if enterprise is not None else [None] * n
        keys = text_column(sub, "key")
        adcodes = text_column(sub, "adcode") if "adcode" in sub.columns else [fallback_adcode] * len(sub)
        return cls(object_type, sub, [str(rows[i]) for i in keep],
                   [k or f"{object_type}:{i}" for i, k in zip(keep, keys, strict=True)],
                   text_column(sub, "name"), adcodes,
                   np.array([offs[i] for i in keep], dtype=float), np.array([facs[i] for i in keep], dtype=float),
                   [nts[i] for i in keep], [ents[i] for i in keep])

    def __len__(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class Hit:
    """One part closer to an object than its required separation."""

    part: int
    objects: Objects
    index: int
    row: str
    measured: float
    required: float
    line: BaseGeometry
    notes: tuple[Note, ...]


def candidate_pairs(parts: Parts, subjects: np.ndarray, reach: np.ndarray, objs: Objects, rule: Rule,
           required: Requirement) -> list[Hit]:
    """Parts closer to objects than required, found through the objects' spatial index.

    Parameters
    ----------
    parts : Parts
        All installations.
    subjects : ndarray of int
        Indices of the parts to check.
    reach : ndarray of float
        For each subject, an upper bound of what any object of ``objs`` may require (metres of
        measured distance, offsets included); subjects with no positive reach are skipped.
    objs : Objects
        The objects.
    rule : Rule
        Gives the inclusivity.
    required : callable
        ``(part index, object index) -> (required m or None, notes)``.

    Returns
    -------
    list of Hit
    """
    ok = reach > 0
    subjects, reach = subjects[ok], reach[ok]
    if not len(subjects) or not len(objs):
        return []
    obj_geoms = objs.frame.geometry.to_numpy()
    si, oi = objs.frame.sindex.query(parts.geoms[subjects], predicate="dwithin", distance=reach + SLACK)
    if not len(si):
        return []
    s_idx = subjects[si]
    raw = shapely.distance(parts.geoms[s_idx], obj_geoms[oi])
    out: list[Hit] = []
    for s, o, d in zip(s_idx, oi, raw, strict=True):
        s, o = int(s), int(o)
        if objs.object_type == "installations" and (s == o or not parts.other_enterprise(s, objs.enterprise[o])):
            continue  # a part is never its own neighbour
        need, notes = required(s, o)
        if need is None:
            continue
        measured = max(float(d) - float(objs.offset[o]), 0.0)  # unrounded: round only for display
        if rule.hit(measured, need):
            line = shapely.shortest_line(parts.geoms[s], obj_geoms[o])
            out.append(Hit(s, objs, o, objs.rows[o], measured, need, line, (*notes, *objs.notes[o])))
    return out


def _infrastructure_row(kind: str | None, subkind: str | None,
                        table: Mapping[str, Mapping[str, Any]]) -> tuple[str | None, bool]:
    """Table row of an infrastructure feature and whether it was assumed (the stricter fallback)."""
    mapping = table.get(kind or "")
    if not mapping:
        return None, False
    if subkind is not None and subkind in mapping:
        return text_or_none(mapping[subkind]), False
    row = text_or_none(mapping.get(ANY))
    explicit = [k for k in mapping if k != ANY]
    return row, bool(explicit) and row is not None


def _is_linear(geom: BaseGeometry) -> bool:
    return geom.geom_type in ("LineString", "MultiLineString", "LinearRing")


def _road_edges(frame: gpd.GeoDataFrame, rows: list[str | None],
                code_50160: Rule) -> tuple[list[float], list[tuple[Note, ...]]]:
    """Half widths subtracted from the distance to roads stored as centrelines, with their note."""
    half = code_50160.params.get("road_half_width_m", {})
    offsets: list[float] = []
    notes: list[tuple[Note, ...]] = []
    for geom, row, kind in zip(frame.geometry, rows, text_column(frame, "kind"), strict=True):
        width = number_or_none(half.get(row)) if row is not None else None
        if kind == "road" and width and _is_linear(geom):
            offsets.append(width)
            notes.append(((f"道路按中心线存储，路边距离按中心线距离减半幅宽{width:g}米估算",
                           f"road stored as a centreline: edge distance estimated as centreline distance less a "
                           f"half width of {width:g} m"),))
        else:
            offsets.append(0.0)
            notes.append(())
    return offsets, notes


def _assumed_note(kind: str | None, label: str) -> Note:
    what = {"road": ("道路等级", "road class"), "railway": ("铁路类别", "railway kind"),
            "river": ("通航情况", "navigability"), "telecom_line": ("通信线路等级", "telecom line grade")}.get(
        kind or "", ("类别", "class"))
    return (f"{what[0]}未注明，按较严格的“{label}”计", f"{what[1]} not given: the stricter row '{label}' applies")


def infrastructure_objects(frame: gpd.GeoDataFrame, code_50160: Rule, table: Mapping[str, Mapping[str, Any]],
                    labels: Mapping[str, Any]) -> Objects:
    """Infrastructure features with their table row (roads with their edge offset)."""
    rows: list[str | None] = []
    notes: list[tuple[Note, ...]] = []
    for kind, sub in zip(text_column(frame, "kind"), text_column(frame, "subkind"), strict=True):
        row, assumed = _infrastructure_row(kind, sub, table)
        rows.append(row)
        notes.append((_assumed_note(kind, str(labels.get(row, row))),) if assumed and row else ())
    # road edges: the half width belongs to the road's GB 50160 row (expressway / other road)
    road_rows = [(_infrastructure_row(k, s, code_50160.params.get("infrastructure_rows", {}))[0]
                  if k == "road" else None)
                 for k, s in zip(text_column(frame, "kind"), text_column(frame, "subkind"), strict=True)]
    offsets, edge_notes = _road_edges(frame, road_rows, code_50160)
    return Objects.build("infrastructure", frame, rows, offset=offsets,
                          notes=[(*a, *b) for a, b in zip(notes, edge_notes, strict=True)])


def gb50016_class(bundle: Bundle, params: Mapping[str, Any], parts: Parts, reach: float) -> list[Objects]:
    """Protection targets and buildings as 重要公共建筑/高层民用建筑 (``important_public``) or ``civil``."""
    important = set(params.get("important_target_types", []))
    civil = set(params.get("civil_target_types", []))
    targets = rows_near(bundle, "protection_targets", parts, reach)
    t_rows = [("important_public" if t in important else "civil" if t in civil else None)
              for t in text_column(targets, "target_type")]
    buildings = rows_near(bundle, "buildings", parts, reach)
    uses = set(params.get("civil_building_uses", []))
    floors_min = params.get("high_rise_min_floors", {})
    b_rows: list[str | None] = []
    b_notes: list[tuple[Note, ...]] = []
    for use, floors in zip(text_column(buildings, "use"), number_column(buildings, "floors"), strict=True):
        if use not in uses:
            b_rows.append(None)
            b_notes.append(())
            continue
        limit = number_or_none(floors_min.get("residential" if use == "residential" else "other"))
        high = floors is not None and limit is not None and floors >= limit
        b_rows.append("important_public" if high else "civil")
        b_notes.append(((f"{floors:g}层，按高层民用建筑计",
                         f"{floors:g} storeys: counted as a high-rise civil building"),)
                       if high and floors is not None else ())
    return [Objects.build("protection_targets", targets, t_rows),
            Objects.build("buildings", buildings, b_rows, notes=b_notes)]


def installation_objects(parts: Parts, rows: list[str | None],
                         notes: list[tuple[Note, ...]] | None = None) -> Objects:
    """Other enterprises' parts as an object set (rows per part; parts of one enterprise never pair)."""
    return Objects.build("installations", parts.frame, rows, notes=notes, enterprise=parts.enterprise)
