"""Code separations of plant parts: GB 50160-2008 (2018) Table 4.1.9 and GB 50016-2014 3.4 / 3.5.

Rules (``geo/rules/checks.yaml``, family ``code_separation``; standards.md §1.1 and §3, Rules-table
rows 5 and 6). The subjects are the parts of enterprises in layer ``installations`` (tank groups
drawn at their shells, process units at their outermost equipment, warehouses and factories at their
walls, a flare at its stack centre); every distance runs from such a part to the nearest point of the
external object, in metres in the bundle's Gauss-Krüger zone, never between centroids. Parts of the
same enterprise (``enterprise_credit_code``) are never compared with each other.

``CODE_50160`` (GB 50160 4.1.9)
    Parts of the types listed in ``params.columns`` (A 液化烃罐组, B 甲乙类液体罐组, C 高架火炬,
    D 甲乙类工艺装置, E 全厂性重要设施) against the rows of ``params.required_m``:

    - 居民区、公共福利设施、村庄: protection targets of ``residential_target_types`` and buildings of
      ``residential_building_uses`` (their footprint, i.e. the nearest wall);
    - 相邻工厂: the parts of *other* enterprises, one finding per (part, neighbouring enterprise)
      measured to the neighbour's nearest part, because plant fences are not stored (the fence is
      nearer than the parts, so the true distance can only be smaller: the detail says so); and
      protection targets of ``plant_target_types`` (their outline);
    - infrastructure by ``infrastructure_rows`` (kind → {subkind: row}; ``"*"`` for any other or blank
      subkind). Where the data cannot tell the class (a road without 高速公路/一级公路 or a lower
      class, a railway without its kind, a river without navigability), the stricter row applies and
      the detail says so. Roads are measured from the road edge: a road stored as a line is taken as
      its centreline and the distance is reduced by ``road_half_width_m`` of its row; a road stored as
      a polygon is its own edge. Railways, power and telecom lines are measured to their centreline;
    - pipelines by ``pipeline_rows`` (medium → row), the buried figure times
      ``above_ground_pipeline_factor`` for ``laying = above``.

    A 丙类 part (``class_c_fire_classes``) in ``class_c_columns`` gets ``class_c_factor``. A cell that
    is null ("—") has no requirement. A cell ``{tower_height_factor: k}`` (overhead power lines
    against columns A, B and D: k × tower height) is skipped, because tower heights are not stored.
``CODE_50016_WAREHOUSE`` (GB 50016 3.5.1)
    甲类仓库 by stored goods items (``"3,4"`` or ``"1,2,5,6"``) and stock (up to / above
    ``stock_limit_t``) against 重要公共建筑 and 高层民用建筑 (protection targets of
    ``important_target_types``; buildings of ``civil_building_uses`` with at least
    ``high_rise_min_floors`` floors), other civil buildings, other enterprises' 甲类仓库 (or
    ``small_pair_m`` when both hold no more than ``small_pair_stock_t``), other enterprises' factories and
    乙类仓库 (row ``neighbour_building_row``: fire-resistance ratings are not stored), substations,
    railways (centreline) and roads (edge, estimated as for ``CODE_50160``). A warehouse without goods
    items or stock takes the strictest column (``unknown_items``, above the limit) and says so.
``CODE_50016_FACTORY`` (GB 50016 3.4.1, 3.5.2)
    甲乙类厂房 and 乙类仓库 against civil buildings and 重要公共建筑 / 高层民用建筑, classified as for
    ``CODE_50016_WAREHOUSE``. Open flames are not stored and not checked.
``ESD_BELOW_CODE`` (GB/T 37243 "final rule", unconfirmed)
    An enterprise whose declared ``external_distance_m`` is smaller than the largest separation its
    parts need from the rows of ``params.code_rows`` (places where people live or gather). Measured is
    the declared distance, required the code separation; the object is the part that binds.

Minimum separations: a part exactly at the separation complies (``inclusive: false``); distances are
compared at millimetre resolution. Every number comes from the rules; none is written here.
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
from geo.checks.findings import Bilingual, finding, findings_frame
from geo.checks.metric_frame import to_storage
from geo.checks.ruleset import Rule, RuleSet
from geo.layer_specs import PART_TYPES

__all__ = ["check_code_separations", "part_requirements"]

#: Distances are compared after rounding to this many decimals of a metre (1 mm).
_DECIMALS = 3
_SLACK = 10.0 ** -_DECIMALS
#: Key of the fallback entry of a ``{subkind: row}`` mapping.
_ANY = "*"

Note = tuple[str, str]  # (Chinese, English)
#: Computes (required metres or None, notes) for a subject part index and an object index of a set.
Requirement = Callable[[int, int], tuple[float | None, tuple[Note, ...]]]


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

def _largest(node: Any) -> float:
    """Return the largest number in a (nested) lookup, 0 when there is none."""
    if isinstance(node, Mapping):
        return max((_largest(v) for v in node.values()), default=0.0)
    return number_or_none(node) or 0.0


def _near(bundle: Bundle, layer: str, parts: _Parts, reach: float) -> gpd.GeoDataFrame:
    """Return the rows of ``layer`` (metric, usable geometry) within ``reach`` metres of any part.

    The layer's own spatial index (shared with the other families) keeps a city of buildings local.
    """
    frame = bundle.metric(layer)
    if frame.empty or not len(parts.keys) or reach <= 0:
        return usable_rows(frame.iloc[0:0])
    _, idx = frame.sindex.query(parts.geoms, predicate="dwithin", distance=reach + _SLACK)
    return usable_rows(frame.iloc[np.unique(idx)])


def _detail(head: Note, notes: Iterable[Note]) -> Bilingual:
    """Chinese sentences and the English ones, kept apart."""
    items = [head, *notes]
    return Bilingual("；".join(zh for zh, _ in items), "; ".join(en for _, en in items))


def _part_label(part_type: str | None) -> str:
    labels = PART_TYPES.get(part_type or "")
    return labels[0] if labels else str(part_type)


# ---------------------------------------------------------------------------
# parts and object sets
# ---------------------------------------------------------------------------

@dataclass
class _Parts:
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
    def of(cls, bundle: Bundle) -> _Parts:
        frame = usable_rows(bundle.metric("installations"))
        keys = [k or str(i) for i, k in enumerate(text_column(frame, "key"))]
        return cls.read(frame, frame.geometry.to_numpy(), keys)

    @classmethod
    def read(cls, frame: pd.DataFrame, geoms: np.ndarray, keys: list[str]) -> _Parts:
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
class _Objects:
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
              fallback_adcode: str | None = None) -> _Objects:
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
class _Hit:
    """One part closer to an object than its required separation."""

    part: int
    objects: _Objects
    index: int
    row: str
    measured: float
    required: float
    line: BaseGeometry
    notes: tuple[Note, ...]


def _pairs(parts: _Parts, subjects: np.ndarray, reach: np.ndarray, objs: _Objects, rule: Rule,
           required: Requirement) -> list[_Hit]:
    """Parts closer to objects than required, found through the objects' spatial index.

    Parameters
    ----------
    parts : _Parts
        All installations.
    subjects : ndarray of int
        Indices of the parts to check.
    reach : ndarray of float
        For each subject, an upper bound of what any object of ``objs`` may require (metres of
        measured distance, offsets included); subjects with no positive reach are skipped.
    objs : _Objects
        The objects.
    rule : Rule
        Gives the inclusivity.
    required : callable
        ``(part index, object index) -> (required m or None, notes)``.

    Returns
    -------
    list of _Hit
    """
    ok = reach > 0
    subjects, reach = subjects[ok], reach[ok]
    if not len(subjects) or not len(objs):
        return []
    obj_geoms = objs.frame.geometry.to_numpy()
    si, oi = objs.frame.sindex.query(parts.geoms[subjects], predicate="dwithin", distance=reach + _SLACK)
    if not len(si):
        return []
    s_idx = subjects[si]
    raw = shapely.distance(parts.geoms[s_idx], obj_geoms[oi])
    out: list[_Hit] = []
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
            out.append(_Hit(s, objs, o, objs.rows[o], measured, need, line, (*notes, *objs.notes[o])))
    return out


# ---------------------------------------------------------------------------
# object classification shared by the rules
# ---------------------------------------------------------------------------

def _infrastructure_row(kind: str | None, subkind: str | None,
                        table: Mapping[str, Mapping[str, Any]]) -> tuple[str | None, bool]:
    """Table row of an infrastructure feature and whether it was assumed (the stricter fallback)."""
    mapping = table.get(kind or "")
    if not mapping:
        return None, False
    if subkind is not None and subkind in mapping:
        return text_or_none(mapping[subkind]), False
    row = text_or_none(mapping.get(_ANY))
    explicit = [k for k in mapping if k != _ANY]
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


def _infrastructure(frame: gpd.GeoDataFrame, code_50160: Rule, table: Mapping[str, Mapping[str, Any]],
                    labels: Mapping[str, Any]) -> _Objects:
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
    return _Objects.build("infrastructure", frame, rows, offset=offsets,
                          notes=[(*a, *b) for a, b in zip(notes, edge_notes, strict=True)])


def _gb50016_class(bundle: Bundle, params: Mapping[str, Any], parts: _Parts, reach: float) -> list[_Objects]:
    """Protection targets and buildings as 重要公共建筑/高层民用建筑 (``important_public``) or ``civil``."""
    important = set(params.get("important_target_types", []))
    civil = set(params.get("civil_target_types", []))
    targets = _near(bundle, "protection_targets", parts, reach)
    t_rows = [("important_public" if t in important else "civil" if t in civil else None)
              for t in text_column(targets, "target_type")]
    buildings = _near(bundle, "buildings", parts, reach)
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
    return [_Objects.build("protection_targets", targets, t_rows),
            _Objects.build("buildings", buildings, b_rows, notes=b_notes)]


def _installations(parts: _Parts, rows: list[str | None], notes: list[tuple[Note, ...]] | None = None) -> _Objects:
    return _Objects.build("installations", parts.frame, rows, notes=notes, enterprise=parts.enterprise)


# ---------------------------------------------------------------------------
# CODE_50160
# ---------------------------------------------------------------------------

def _cell(rule: Rule, row: str, column: str | None) -> float | None:
    """Return the table value of ``row`` and ``column`` (None for "—" and for tower-height cells)."""
    if column is None:
        return None
    values = rule.params.get("required_m", {}).get(row, {})
    return number_or_none(values.get(column)) if isinstance(values, Mapping) else None


def _column_of(rule: Rule, part_type: str | None) -> str | None:
    return text_or_none(rule.params.get("columns", {}).get(part_type or ""))


def _class_c(rule: Rule, parts: _Parts, i: int) -> tuple[float, tuple[Note, ...]]:
    """Factor of the 丙类 table note for part ``i`` (1 when it does not apply)."""
    p = rule.params
    column = _column_of(rule, parts.part_type[i])
    if parts.fire_class[i] in set(p.get("class_c_fire_classes", [])) and column in set(p.get("class_c_columns", [])):
        factor = number_or_none(p.get("class_c_factor"))
        if factor is not None:
            return factor, ((f"丙类，间距按表注乘以{factor:g}", f"class C: separation times {factor:g} (table note)"),)
    return 1.0, ()


def _code_50160_objects(bundle: Bundle, rule: Rule, parts: _Parts) -> list[_Objects]:
    p = rule.params
    labels = p.get("row_labels", {})
    residential_types = set(p.get("residential_target_types", []))
    plant_types = set(p.get("plant_target_types", []))
    above = number_or_none(p.get("above_ground_pipeline_factor")) or 1.0
    class_c = number_or_none(p.get("class_c_factor")) or 1.0
    reach = _largest(p.get("required_m", {})) * max(1.0, above, class_c) + _largest(p.get("road_half_width_m", {}))
    targets = _near(bundle, "protection_targets", parts, reach)
    t_rows = [("residential" if t in residential_types else "neighbour_plant" if t in plant_types else None)
              for t in text_column(targets, "target_type")]
    buildings = _near(bundle, "buildings", parts, reach)
    uses = set(p.get("residential_building_uses", []))
    b_rows = [("residential" if u in uses else None) for u in text_column(buildings, "use")]
    pipes = _near(bundle, "pipelines", parts, reach)
    medium_rows = p.get("pipeline_rows", {})
    pipe_rows = [text_or_none(medium_rows.get(m or "")) for m in text_column(pipes, "medium")]
    laying = text_column(pipes, "laying")
    pipe_factor = [above if lay == "above" else 1.0 for lay in laying]
    pipe_notes: list[tuple[Note, ...]] = [
        ((f"地上敷设，埋地管道间距乘以{above:g}", f"above-ground pipeline: buried figure times {above:g}"),)
        if lay == "above" else () for lay in laying]
    # pipelines carry the districts they cross, not one adcode: the finding takes the part's district
    pipe_objs = _Objects.build("pipelines", pipes.drop(columns=["adcode"], errors="ignore"), pipe_rows,
                               factor=pipe_factor, notes=pipe_notes)
    fence: Note = ("未存围墙，按相邻企业最近的装置计量(实际距围墙更近)",
                   "fences are not stored: measured to the neighbour's nearest part (its fence is nearer)")
    return [
        _Objects.build("protection_targets", targets, t_rows),
        _Objects.build("buildings", buildings, b_rows),
        _infrastructure(_near(bundle, "infrastructure", parts, reach), rule, p.get("infrastructure_rows", {}), labels),
        pipe_objs,
        _installations(parts, ["neighbour_plant"] * len(parts.keys), [(fence,)] * len(parts.keys)),
    ]


def _code_50160(bundle: Bundle, rule: Rule, parts: _Parts) -> list[_Hit]:
    columns = rule.params.get("columns", {})
    subjects = parts.of_types(columns)
    if not len(subjects):
        return []
    factors = {int(i): _class_c(rule, parts, int(i)) for i in subjects}
    hits: list[_Hit] = []
    for objs in _code_50160_objects(bundle, rule, parts):
        if not len(objs):
            continue
        rows = set(objs.rows)
        widest = float(objs.factor.max()) if len(objs) else 1.0
        offset = float(objs.offset.max()) if len(objs) else 0.0
        reach = np.array([max((_cell(rule, r, _column_of(rule, parts.part_type[int(i)])) or 0.0) for r in rows)
                          * factors[int(i)][0] * widest + offset for i in subjects])

        def required(s: int, o: int, objs: _Objects = objs) -> tuple[float | None, tuple[Note, ...]]:
            value = _cell(rule, objs.rows[o], _column_of(rule, parts.part_type[s]))
            if value is None:
                return None, ()
            factor, notes = factors[s]
            return value * factor * float(objs.factor[o]), notes

        found = _pairs(parts, subjects, reach, objs, rule, required)
        if objs.object_type == "installations":
            found = _nearest_per_neighbour(parts, found)
        hits.extend(found)
    return hits


def _nearest_per_neighbour(parts: _Parts, hits: list[_Hit]) -> list[_Hit]:
    """One hit per (part, neighbouring enterprise): the nearest of the neighbour's parts."""
    best: dict[tuple[int, str], _Hit] = {}
    for h in hits:
        owner = h.objects.enterprise[h.index] or h.objects.keys[h.index]
        key = (h.part, owner)
        if key not in best or (h.measured, h.objects.keys[h.index]) < (best[key].measured,
                                                                      best[key].objects.keys[best[key].index]):
            best[key] = h
    return [best[k] for k in sorted(best)]


# ---------------------------------------------------------------------------
# CODE_50016_WAREHOUSE and CODE_50016_FACTORY
# ---------------------------------------------------------------------------

def _warehouse_column(rule: Rule, parts: _Parts, i: int) -> tuple[str, str, tuple[Note, ...]]:
    """Goods-items class and stock band (``le`` / ``gt``) of warehouse ``i``, with notes for assumptions."""
    p = rule.params
    limits = p.get("stock_limit_t", {})
    notes: list[Note] = []
    items = parts.goods_items[i] or ""
    if items not in limits:
        items = str(p.get("unknown_items"))
        notes.append((f"储存物品项未填，按第{items.replace(',', '、')}项计",
                      f"goods items not given: items {items} assumed"))
    stock = parts.stock_t[i]
    limit = number_or_none(limits.get(items))
    if stock is None or limit is None:
        notes.append(("储量未填，按较大储量计", "stock not given: the larger-stock column applies"))
        return items, "gt", tuple(notes)
    return items, ("le" if stock <= limit else "gt"), tuple(notes)


def _warehouse_cell(rule: Rule, row: str, items: str, band: str) -> float | None:
    values = rule.params.get("required_m", {}).get(row, {})
    if not isinstance(values, Mapping):
        return None
    cell = values.get(items, {})
    return number_or_none(cell.get(band)) if isinstance(cell, Mapping) else None


def _small_pair(rule: Rule, parts: _Parts, a: int, b: int) -> float | None:
    """Return the reduced separation of two small class A warehouses, when both qualify."""
    p = rule.params
    small = p.get("small_pair_stock_t", {})
    for i in (a, b):
        limit = number_or_none(small.get(parts.goods_items[i] or ""))
        stock = parts.stock_t[i]
        if limit is None or stock is None or stock > limit:
            return None
    return number_or_none(p.get("small_pair_m"))


def _code_50016_warehouse(bundle: Bundle, rule: Rule, code_50160: Rule, parts: _Parts) -> list[_Hit]:
    p = rule.params
    subjects = parts.of_types(["class_a_warehouse"])
    if not len(subjects):
        return []
    columns = {int(i): _warehouse_column(rule, parts, int(i)) for i in subjects}
    labels = p.get("row_labels", {})
    neighbour_row = text_or_none(p.get("neighbour_building_row"))
    neighbour_types = set(p.get("neighbour_part_types", []))
    part_rows: list[str | None] = []
    part_notes: list[tuple[Note, ...]] = []
    for t in parts.part_type:
        if t == "class_a_warehouse":
            part_rows.append("class_a_warehouse")
            part_notes.append(())
        elif t in neighbour_types and neighbour_row:
            part_rows.append(neighbour_row)
            part_notes.append(((f"未存耐火等级，按“{labels.get(neighbour_row, neighbour_row)}”计",
                                "fire-resistance rating not stored: the strictest rating applies"),))
        else:
            part_rows.append(None)
            part_notes.append(())
    infra_table: dict[str, dict[str, str]] = {}
    for param, row in (("railway_kinds", "offsite_railway"), ("road_kinds", "offsite_road"),
                       ("substation_kinds", "substation")):
        for kind in p.get(param, []):
            infra_table[str(kind)] = {_ANY: row}
    window = (max(_largest(p.get("required_m", {})), number_or_none(p.get("small_pair_m")) or 0.0)
              + _largest(code_50160.params.get("road_half_width_m", {})))
    objects = [*_gb50016_class(bundle, p, parts, window),
               _infrastructure(_near(bundle, "infrastructure", parts, window), code_50160, infra_table, labels),
               _installations(parts, part_rows, part_notes)]
    hits: list[_Hit] = []
    for objs in objects:
        if not len(objs):
            continue
        rows = set(objs.rows)
        offset = float(objs.offset.max())
        reach = np.array([max((_warehouse_cell(rule, r, *columns[int(i)][:2]) or 0.0) for r in rows) + offset
                          for i in subjects])

        def required(s: int, o: int, objs: _Objects = objs) -> tuple[float | None, tuple[Note, ...]]:
            items, band, notes = columns[s]
            row = objs.rows[o]
            value = _warehouse_cell(rule, row, items, band)
            if value is not None and row == "class_a_warehouse" and objs.object_type == "installations":
                reduced = _small_pair(rule, parts, s, o)
                if reduced is not None:
                    return reduced, (*notes, (f"两座甲类仓库储量均较小，间距可为{reduced:g}米",
                                              f"both class A warehouses hold small stocks: {reduced:g} m applies"))
            return value, notes

        hits.extend(_pairs(parts, subjects, reach, objs, rule, required))
    return hits


def _code_50016_factory(bundle: Bundle, rule: Rule, classify: Rule, parts: _Parts) -> list[_Hit]:
    table = rule.params.get("required_m", {})
    subjects = parts.of_types(table)
    if not len(subjects):
        return []

    def value(i: int, row: str) -> float | None:
        cells = table.get(parts.part_type[i] or "", {})
        return number_or_none(cells.get(row)) if isinstance(cells, Mapping) else None

    hits: list[_Hit] = []
    for objs in _gb50016_class(bundle, classify.params, parts, _largest(table)):
        if not len(objs):
            continue
        rows = set(objs.rows)
        reach = np.array([max((value(int(i), r) or 0.0) for r in rows) for i in subjects])

        def required(s: int, o: int, objs: _Objects = objs) -> tuple[float | None, tuple[Note, ...]]:
            return value(s, objs.rows[o]), ()

        hits.extend(_pairs(parts, subjects, reach, objs, rule, required))
    return hits


# ---------------------------------------------------------------------------
# ESD_BELOW_CODE
# ---------------------------------------------------------------------------

def part_requirements(rules: RuleSet, parts: gpd.GeoDataFrame | pd.DataFrame,
                      code_rows: Mapping[str, Iterable[str]]) -> list[tuple[float, str, str] | None]:
    """Return the largest code separation each part needs from the given rows, with its rule and row.

    Parameters
    ----------
    rules : RuleSet
        Supplies ``CODE_50160``, ``CODE_50016_WAREHOUSE`` and ``CODE_50016_FACTORY``.
    parts : DataFrame
        Installations with ``part_type`` and, where known, ``fire_class``, ``goods_items``, ``stock_t``.
    code_rows : mapping
        Rule code → rows of its table to consider (e.g. ``{"CODE_50160": ["residential"]}``).

    Returns
    -------
    list
        Per part, ``(metres, rule code, row)`` of the largest requirement, or None when no row applies.

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> frame = pd.DataFrame({"part_type": ["lpg_tank_group", "process_unit", "flare", "class_b_warehouse"],
    ...                       "fire_class": [None, "丙", None, None]})
    >>> [n and n[0] for n in part_requirements(load_ruleset(), frame, {"CODE_50160": ["residential"]})]
    [150.0, 75.0, 120.0, None]
    """
    frame = parts.reset_index(drop=True)
    shim = _Parts.read(frame, np.empty(len(frame), dtype=object), [str(i) for i in range(len(frame))])
    out: list[tuple[float, str, str] | None] = []
    for i in range(len(frame)):
        best: tuple[float, str, str] | None = None
        for code, rows in code_rows.items():
            if code not in rules.rules:
                continue
            rule = rules[code]
            for row in rows:
                value = _requirement(rule, shim, i, str(row))
                if value is not None and (best is None or value > best[0]):
                    best = (value, code, str(row))
        out.append(best)
    return out


def _requirement(rule: Rule, parts: _Parts, i: int, row: str) -> float | None:
    """Return what part ``i`` needs from ``row`` of ``rule``'s table (None when the rule does not cover it)."""
    part_type = parts.part_type[i]
    if rule.code == "CODE_50160":
        value = _cell(rule, row, _column_of(rule, part_type))
        return None if value is None else value * _class_c(rule, parts, i)[0]
    if rule.code == "CODE_50016_WAREHOUSE":
        if part_type != "class_a_warehouse":
            return None
        items, band, _notes = _warehouse_column(rule, parts, i)
        return _warehouse_cell(rule, row, items, band)
    if rule.code == "CODE_50016_FACTORY":
        cells = rule.params.get("required_m", {}).get(part_type or "", {})
        return number_or_none(cells.get(row)) if isinstance(cells, Mapping) else None
    return None


def _below_code(bundle: Bundle, rule: Rule, rules: RuleSet, parts: _Parts) -> list[dict[str, Any]]:
    ents = bundle["enterprises"]
    if ents.empty or not len(parts.keys) or "external_distance_m" not in ents.columns:
        return []
    code_rows = rule.params.get("code_rows", {})
    needs = part_requirements(rules, parts.frame.drop(columns="geometry"), code_rows)
    by_owner: dict[str, tuple[float, str, str, int]] = {}
    for i, need in enumerate(needs):
        owner = parts.enterprise[i]
        if need is None or owner is None:
            continue
        current = by_owner.get(owner)
        if current is None or (need[0], -i) > (current[0], -current[3]):
            by_owner[owner] = (*need, i)
    if not by_owner:
        return []
    shapes = to_storage([parts.geoms[v[3]] for v in by_owner.values()], bundle.metric_epsg)
    part_shape = dict(zip(by_owner, shapes, strict=True))
    out: list[dict[str, Any]] = []
    for ent in ents.to_dict("records"):
        key = text_or_none(ent.get("key")) or text_or_none(ent.get("credit_code"))
        declared = number_or_none(ent.get("external_distance_m"))
        if key is None or key not in by_owner or declared is None or declared <= 0:
            continue
        required, code, row, i = by_owner[key]
        if not rule.hit(declared, required):
            continue
        source = rules[code]
        label = source.params.get("row_labels", {}).get(row, row)
        out.append(finding(
            rule, subject_type="enterprises", subject_key=key, subject_name=text_or_none(ent.get("name")),
            object_type="installations", object_key=parts.keys[i], object_name=parts.names[i],
            measured_m=declared, required_m=required, verdict="violation", adcode=text_or_none(ent.get("adcode")),
            geometry=part_shape[key],
            detail=_detail((f"申报的外部安全防护距离{declared:g}米小于{_part_label(parts.part_type[i])}"
                            f"“{parts.names[i] or parts.keys[i]}”按{source.clause}至“{label}”的防火间距{required:g}米",
                            f"declared external safety distance {declared:g} m is below the {required:g} m that "
                            f"{source.clause} requires from part {parts.keys[i]} to '{row}'"), ()),
        ))
    return out


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------

def _object_name(parts: _Parts, bundle: Bundle, hit: _Hit) -> tuple[str, str, str | None, str | None]:
    """Object type, key, name and district of a hit (a neighbouring plant is named by its enterprise)."""
    objs, o = hit.objects, hit.index
    if objs.object_type == "installations" and hit.row == "neighbour_plant":
        owner = objs.enterprise[o] or objs.keys[o]
        ents = bundle["enterprises"]
        name = None
        if len(ents) and "key" in ents.columns:
            match = ents[ents["key"].astype(str) == owner]
            if len(match):
                name = text_or_none(match.iloc[0].get("name"))
        return "enterprises", owner, name, objs.adcode[o]
    return objs.object_type, objs.keys[o], objs.names[o], objs.adcode[o] or parts.adcode[hit.part]


def _findings(bundle: Bundle, rule: Rule, parts: _Parts, hits: list[_Hit]) -> list[dict[str, Any]]:
    if not hits:
        return []
    labels = rule.params.get("row_labels", {})
    lines = to_storage([h.line for h in hits], bundle.metric_epsg)
    out: list[dict[str, Any]] = []
    for h, line in zip(hits, lines, strict=True):
        object_type, object_key, object_name, adcode = _object_name(parts, bundle, h)
        part = _part_label(parts.part_type[h.part])
        shown = object_name or object_key
        label = labels.get(h.row, h.row)
        head: Note = (f"{part}“{parts.names[h.part] or parts.keys[h.part]}”距{label}“{shown}”{h.measured:.1f}米，"
                      f"小于{rule.clause}要求的{h.required:g}米",
                      f"{parts.part_type[h.part]} {parts.keys[h.part]} is {h.measured:.1f} m from {h.row} {object_key},"
                      f" less than the {h.required:g} m of {rule.clause}")
        out.append(finding(
            rule, subject_type="installations", subject_key=parts.keys[h.part], subject_name=parts.names[h.part],
            object_type=object_type, object_key=object_key, object_name=object_name, measured_m=h.measured,
            required_m=h.required, verdict="violation", adcode=adcode, geometry=line,
            detail=_detail(head, h.notes),
        ))
    return out


def check_code_separations(bundle: Bundle, rules: RuleSet) -> gpd.GeoDataFrame:
    """Check plant parts against the code separations of GB 50160 and GB 50016, and declared distances.

    Parameters
    ----------
    bundle : Bundle
        Needs ``installations``; objects come from ``protection_targets``, ``buildings``,
        ``infrastructure``, ``pipelines`` and the installations of other enterprises; ``enterprises``
        gives declared distances and names.
    rules : RuleSet
        Supplies ``CODE_50160``, ``CODE_50016_WAREHOUSE``, ``CODE_50016_FACTORY`` and ``ESD_BELOW_CODE``.

    Returns
    -------
    GeoDataFrame
        Findings (see :mod:`geo.checks.findings`); geometry = the shortest line between the part and
        the object (for ``ESD_BELOW_CODE``, the binding part), in EPSG:4490.

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> len(check_code_separations(Bundle({}), load_ruleset()))
    0
    """
    parts = _Parts.of(bundle)
    if not len(parts.keys):
        return findings_frame([])
    code_50160 = rules["CODE_50160"]
    warehouse = rules["CODE_50016_WAREHOUSE"]
    records = [
        *_findings(bundle, code_50160, parts, _code_50160(bundle, code_50160, parts)),
        *_findings(bundle, warehouse, parts, _code_50016_warehouse(bundle, warehouse, code_50160, parts)),
        *_findings(bundle, rules["CODE_50016_FACTORY"], parts,
                   _code_50016_factory(bundle, rules["CODE_50016_FACTORY"], warehouse, parts)),
        *_below_code(bundle, rules["ESD_BELOW_CODE"], rules, parts),
    ]
    return findings_frame(records)
