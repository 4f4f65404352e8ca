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

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.cell_values import number_or_none, text_column, text_or_none
from geo.checks.bundle import Bundle
from geo.checks.code_separation.objects import (
    ANY,
    Hit,
    Note,
    Objects,
    Parts,
    candidate_pairs,
    gb50016_class,
    infrastructure_objects,
    installation_objects,
    joined_detail,
    largest,
    part_label,
    reach_50160,
    rows_near,
    site_reach_m,
    warehouse_window,
)
from geo.checks.findings import finding, findings_frame
from geo.checks.metric_frame import to_storage
from geo.checks.ruleset import Rule, RuleSet

__all__ = ["check_code_separations", "part_requirements", "site_reach_m"]

def _cell(rule: Rule, row: str, column: str | None) -> float | None:
    """Return the table value of ``row`` and ``column`` (None for "—" and for tower-height cells)."""
    if column is None:
        return None
    values = rule.params.get("required_m", {}).get(row, {})
    return number_or_none(values.get(column)) if isinstance(values, Mapping) else None


def _column_of(rule: Rule, part_type: str | None) -> str | None:
    return text_or_none(rule.params.get("columns", {}).get(part_type or ""))


def _class_c(rule: Rule, parts: Parts, i: int) -> tuple[float, tuple[Note, ...]]:
    """Factor of the 丙类 table note for part ``i`` (1 when it does not apply)."""
    p = rule.params
    column = _column_of(rule, parts.part_type[i])
    if parts.fire_class[i] in set(p.get("class_c_fire_classes", [])) and column in set(p.get("class_c_columns", [])):
        factor = number_or_none(p.get("class_c_factor"))
        if factor is not None:
            return factor, ((f"丙类，间距按表注乘以{factor:g}", f"class C: separation times {factor:g} (table note)"),)
    return 1.0, ()


def _code_50160_objects(bundle: Bundle, rule: Rule, parts: Parts) -> list[Objects]:
    p = rule.params
    labels = p.get("row_labels", {})
    residential_types = set(p.get("residential_target_types", []))
    plant_types = set(p.get("plant_target_types", []))
    above = number_or_none(p.get("above_ground_pipeline_factor")) or 1.0
    reach = reach_50160(rule)
    targets = rows_near(bundle, "protection_targets", parts, reach)
    t_rows = [("residential" if t in residential_types else "neighbour_plant" if t in plant_types else None)
              for t in text_column(targets, "target_type")]
    buildings = rows_near(bundle, "buildings", parts, reach)
    uses = set(p.get("residential_building_uses", []))
    b_rows = [("residential" if u in uses else None) for u in text_column(buildings, "use")]
    pipes = rows_near(bundle, "pipelines", parts, reach)
    medium_rows = p.get("pipeline_rows", {})
    pipe_rows = [text_or_none(medium_rows.get(m or "")) for m in text_column(pipes, "medium")]
    laying = text_column(pipes, "laying")
    pipe_factor = [above if lay == "above" else 1.0 for lay in laying]
    pipe_notes: list[tuple[Note, ...]] = [
        ((f"地上敷设，埋地管道间距乘以{above:g}", f"above-ground pipeline: buried figure times {above:g}"),)
        if lay == "above" else () for lay in laying]
    # pipelines carry the districts they cross, not one adcode: the finding takes the part's district
    pipe_objs = Objects.build("pipelines", pipes.drop(columns=["adcode"], errors="ignore"), pipe_rows,
                               factor=pipe_factor, notes=pipe_notes)
    fence: Note = ("未存围墙，按相邻企业最近的装置计量(实际距围墙更近)",
                   "fences are not stored: measured to the neighbour's nearest part (its fence is nearer)")
    return [
        Objects.build("protection_targets", targets, t_rows),
        Objects.build("buildings", buildings, b_rows),
        infrastructure_objects(rows_near(bundle, "infrastructure", parts, reach), rule,
                               p.get("infrastructure_rows", {}), labels),
        pipe_objs,
        installation_objects(parts, ["neighbour_plant"] * len(parts.keys), [(fence,)] * len(parts.keys)),
    ]


def _code_50160(bundle: Bundle, rule: Rule, parts: Parts) -> list[Hit]:
    columns = rule.params.get("columns", {})
    subjects = parts.of_types(columns)
    if not len(subjects):
        return []
    factors = {int(i): _class_c(rule, parts, int(i)) for i in subjects}
    hits: list[Hit] = []
    for objs in _code_50160_objects(bundle, rule, parts):
        if not len(objs):
            continue
        rows = set(objs.rows)
        widest = float(objs.factor.max()) if len(objs) else 1.0
        offset = float(objs.offset.max()) if len(objs) else 0.0
        # the largest table value a part may need depends only on its column: looked up once per column
        columns_of = {t: _column_of(rule, t) for t in {parts.part_type[int(i)] for i in subjects}}
        largest_of = {c: max((_cell(rule, r, c) or 0.0) for r in rows) for c in set(columns_of.values())}
        reach = np.array([largest_of[columns_of[parts.part_type[int(i)]]] * factors[int(i)][0] * widest + offset
                          for i in subjects])

        def required(s: int, o: int, objs: Objects = objs) -> tuple[float | None, tuple[Note, ...]]:
            value = _cell(rule, objs.rows[o], _column_of(rule, parts.part_type[s]))
            if value is None:
                return None, ()
            factor, notes = factors[s]
            return value * factor * float(objs.factor[o]), notes

        found = candidate_pairs(parts, subjects, reach, objs, rule, required)
        if objs.object_type == "installations":
            found = _nearest_per_neighbour(parts, found)
        hits.extend(found)
    return hits


def _nearest_per_neighbour(parts: Parts, hits: list[Hit]) -> list[Hit]:
    """One hit per (part, neighbouring enterprise): the nearest of the neighbour's parts."""
    best: dict[tuple[int, str], Hit] = {}
    for h in hits:
        owner = h.objects.enterprise[h.index] or h.objects.keys[h.index]
        key = (h.part, owner)
        if key not in best or (h.measured, h.objects.keys[h.index]) < (best[key].measured,
                                                                      best[key].objects.keys[best[key].index]):
            best[key] = h
    return [best[k] for k in sorted(best)]


def _warehouse_column(rule: Rule, parts: Parts, i: int) -> tuple[str, str, tuple[Note, ...]]:
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


def _small_pair(rule: Rule, parts: Parts, a: int, b: int) -> float | None:
    """Return the reduced separation of two small class A warehouses, when both qualify."""
    p = rule.params
    small = p.get("small_pair_stock_t", {})
    for i in (a, b):
        limit = number_or_none(small.get(parts.goods_items[i] or ""))
        stock = parts.stock_t[i]
        if limit is None or stock is None or stock > limit:
            return None
    return number_or_none(p.get("small_pair_m"))


def _code_50016_warehouse(bundle: Bundle, rule: Rule, code_50160: Rule, parts: Parts) -> list[Hit]:
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
            infra_table[str(kind)] = {ANY: row}
    window = warehouse_window(rule, code_50160)
    objects = [*gb50016_class(bundle, p, parts, window),
               infrastructure_objects(rows_near(bundle, "infrastructure", parts, window), code_50160,
                                      infra_table, labels),
               installation_objects(parts, part_rows, part_notes)]
    hits: list[Hit] = []
    for objs in objects:
        if not len(objs):
            continue
        rows = set(objs.rows)
        offset = float(objs.offset.max())
        reach = np.array([max((_warehouse_cell(rule, r, *columns[int(i)][:2]) or 0.0) for r in rows) + offset
                          for i in subjects])

        def required(s: int, o: int, objs: Objects = objs) -> tuple[float | None, tuple[Note, ...]]:
            items, band, notes = columns[s]
            row = objs.rows[o]
            value = _warehouse_cell(rule, row, items, band)
            if value is not None and row == "class_a_warehouse" and objs.object_type == "installations":
                reduced = _small_pair(rule, parts, s, o)
                if reduced is not None:
                    return reduced, (*notes, (f"两座甲类仓库储量均较小，间距可为{reduced:g}米",
                                              f"both class A warehouses hold small stocks: {reduced:g} m applies"))
            return value, notes

        hits.extend(candidate_pairs(parts, subjects, reach, objs, rule, required))
    return hits


def _code_50016_factory(bundle: Bundle, rule: Rule, classify: Rule, parts: Parts) -> list[Hit]:
    table = rule.params.get("required_m", {})
    subjects = parts.of_types(table)
    if not len(subjects):
        return []

    def value(i: int, row: str) -> float | None:
        cells = table.get(parts.part_type[i] or "", {})
        return number_or_none(cells.get(row)) if isinstance(cells, Mapping) else None

    hits: list[Hit] = []
    for objs in gb50016_class(bundle, classify.params, parts, largest(table)):
        if not len(objs):
            continue
        rows = set(objs.rows)
        reach = np.array([max((value(int(i), r) or 0.0) for r in rows) for i in subjects])

        def required(s: int, o: int, objs: Objects = objs) -> tuple[float | None, tuple[Note, ...]]:
            return value(s, objs.rows[o]), ()

        hits.extend(candidate_pairs(parts, subjects, reach, objs, rule, required))
    return hits


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
    shim = Parts.read(frame, np.empty(len(frame), dtype=object), [str(i) for i in range(len(frame))])
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


def _requirement(rule: Rule, parts: Parts, i: int, row: str) -> float | None:
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


def _below_code(bundle: Bundle, rule: Rule, rules: RuleSet, parts: Parts) -> list[dict[str, Any]]:
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
            detail=joined_detail((f"申报的外部安全防护距离{declared:g}米小于{part_label(parts.part_type[i])}"
                            f"“{parts.names[i] or parts.keys[i]}”按{source.clause}至“{label}”的防火间距{required:g}米",
                            f"declared external safety distance {declared:g} m is below the {required:g} m that "
                            f"{source.clause} requires from part {parts.keys[i]} to '{row}'"), ()),
        ))
    return out


def _object_name(parts: Parts, bundle: Bundle, hit: Hit) -> tuple[str, str, str | None, str | None]:
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


def _findings(bundle: Bundle, rule: Rule, parts: Parts, hits: list[Hit]) -> list[dict[str, Any]]:
    if not hits:
        return []
    labels = rule.params.get("row_labels", {})
    lines = to_storage([h.line for h in hits], bundle.metric_epsg)
    out: list[dict[str, Any]] = []
    for h, line in zip(hits, lines, strict=True):
        object_type, object_key, object_name, adcode = _object_name(parts, bundle, h)
        part = part_label(parts.part_type[h.part])
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
            detail=joined_detail(head, h.notes),
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
        Supplies ``CODE_50160``, ``CODE_50016_WAREHOUSE``, ``CODE_50016_FACTORY`` and (when present: the
        site pre-check leaves it out) ``ESD_BELOW_CODE``.

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
    parts = Parts.of(bundle)
    if not len(parts.keys):
        return findings_frame([])
    code_50160 = rules["CODE_50160"]
    warehouse = rules["CODE_50016_WAREHOUSE"]
    records = [
        *_findings(bundle, code_50160, parts, _code_50160(bundle, code_50160, parts)),
        *_findings(bundle, warehouse, parts, _code_50016_warehouse(bundle, warehouse, code_50160, parts)),
        *_findings(bundle, rules["CODE_50016_FACTORY"], parts,
                   _code_50016_factory(bundle, rules["CODE_50016_FACTORY"], warehouse, parts)),
        *(_below_code(bundle, rules["ESD_BELOW_CODE"], rules, parts) if "ESD_BELOW_CODE" in rules.rules else []),
    ]
    return findings_frame(records)
