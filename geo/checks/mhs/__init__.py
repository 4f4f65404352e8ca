"""Major hazard installations (危险化学品重大危险源): S, R and grade from the units' declared inventories.

Rules (``geo/rules/checks.yaml``, family ``mhs``; standards.md §8.3 and Rules-table rows 1 and 7). A
*unit* is a part of an enterprise in layer ``installations`` (tank group, process unit, warehouse…,
linked by ``enterprise_credit_code``) whose ``substances`` column lists its hazardous chemicals and
their maximum quantities (parsed by :mod:`geo.substances`; Q and β from
``geo/rules/mhs_substances.yaml``). Per unit (GB 18218-2018, 原安监总局令第40号 附件1):

- S = Σ qᵢ/Qᵢ; the unit is a major hazard installation when S ≥ ``MHS_UNDECLARED.params.min_s``
  (1; with ``inclusive: false`` the comparison becomes S > min_s);
- R = α · Σ βᵢ·qᵢ/Qᵢ, graded by ``MHS_GRADE_LOW.params.grade_min_r`` (一级 R ≥ 100, 二级 ≥ 50, 三级 ≥ 10,
  otherwise 四级).

A part belongs to an enterprise only when both its ``enterprise_credit_code`` and its ``adcode`` match
the enterprise's (when either adcode is missing the credit code alone decides). A part linked to an
enterprise of another district is ignored (it is not one of that enterprise's units, and does not
widen its boundary), so one district's data never changes the grade of another district's enterprise;
the importer refuses such links (:mod:`geo.import_scope`).

The enterprise's computed grade is the highest grade (smallest number) of its units; the unit with the
largest R among them is the *binding unit*. S and R are compared after rounding to 6 decimals.

α (per enterprise, ``MHS_GRADE_LOW.params.alpha``) depends on the people within ``radius_m`` (500 m)
of the plant boundary. The boundary is the convex hull of the enterprise's parts (plant fences are not
stored), the enterprise point when it has none; distances are exact (not a polygonal buffer), in metres
in the bundle's Gauss-Krüger zone, at millimetre resolution, and a feature exactly at ``radius_m`` counts
(``MHS_GRADE_LOW.inclusive``). People are counted as:

- residential buildings (``residential_building_uses``): households × ``persons_per_household``;
- protection targets of ``resident_target_types``: their ``population``, else households ×
  ``persons_per_household`` (a target with neither counts nothing);
- **no double counting**: a building that touches or lies inside a counted target with a figure
  (a village polygon around its houses, a point target inside a block) is not counted: the target's
  own figure, kept by the people who surveyed it, stands for it. A building or target partly within
  the radius counts whole.

The estimate is rounded to whole persons (half up) before α is looked up, so that 99.6 people count
as 100 ("100人以上" is read as inclusive, standards.md §8.3).

``MHS_UNDECLARED``
    The enterprise has a unit with S ≥ 1 and declares no ``mhs_grade``.
``MHS_GRADE_LOW``
    The enterprise declares a grade lower than computed (a larger number, e.g. 四级 declared, 三级
    computed). A declared grade higher than computed, or a declared grade without any unit at S ≥ 1
    (e.g. inventories not yet recorded), is not a finding.

Subject is the enterprise, object its binding unit; the geometry is the plant hull (EPSG:4490).
``measured_m``/``required_m`` stay empty: R, S, α, the people and the grades are in ``detail``
(Chinese, then English after " / "), with the binding unit's inventory and a note when a Q used is
unconfirmed or an entry could not be counted. :func:`mhs_units` and :func:`mhs_table` give the same
figures per unit and per enterprise for lists and exports.

A district-scoped store run (``bundle_from_store(engine, adcode)``) reads the neighbouring districts'
enterprises and parts but only the district's own buildings and targets, so people across the
boundary are not counted there; run the city to grade plants near a district boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.cell_values import number_or_none, text_column, text_or_none
from geo.checks.bundle import Bundle, usable_rows
from geo.checks.findings import Bilingual, finding, findings_frame
from geo.checks.metric_frame import to_storage
from geo.checks.mhs.params import (
    DECIMALS,
    GRADE_LABELS,
    MhsParams,
    alpha_for,
    fmt,
    grade_en,
    grade_for,
    grade_zh,
)
from geo.checks.mhs.people import People, people_near
from geo.checks.ruleset import RuleSet
from geo.substances import Inventory, parse_substances

__all__ = ["GRADE_LABELS", "MhsParams", "alpha_for", "check_mhs", "grade_for", "mhs_table", "mhs_units"]

@dataclass
class _Plant:
    """One enterprise (or an owner code of parts missing from the enterprises layer)."""

    code: str
    record: dict[str, Any] | None
    parts: list[int]
    point: BaseGeometry | None = None
    hull: BaseGeometry | None = None
    people: People | None = None
    alpha: float = 0.0


def _declared(value: Any) -> int | None:
    number = number_or_none(value)
    return int(number) if number is not None else None


def _plants(bundle: Bundle) -> tuple[gpd.GeoDataFrame, dict[str, _Plant]]:
    """Return the parts (metric) and one :class:`_Plant` per enterprise or owner code, with its boundary hull."""
    parts = usable_rows(bundle.metric("installations"))
    ents = usable_rows(bundle.metric("enterprises"))
    plants: dict[str, _Plant] = {}
    for rec, point in zip(ents.drop(columns=ents.geometry.name).to_dict("records"), ents.geometry.tolist(),
                          strict=True):
        code = text_or_none(rec.get("credit_code")) or text_or_none(rec.get("key"))
        if code is not None and code not in plants:
            plants[code] = _Plant(code, rec, [], point=point)
    for i, (code, ours) in enumerate(zip(text_column(parts, "enterprise_credit_code"), text_column(parts, "adcode"),
                                         strict=True)):
        if code is None:
            continue
        plant = plants.setdefault(code, _Plant(code, None, []))
        theirs = text_or_none(plant.record.get("adcode")) if plant.record is not None else None
        if theirs is not None and ours is not None and theirs != ours:
            continue  # linked to another district's enterprise: not one of its parts
        plant.parts.append(i)
    geoms = parts.geometry.to_numpy()
    for plant in plants.values():
        if plant.parts:
            plant.hull = shapely.convex_hull(shapely.geometrycollections(list(geoms[plant.parts])))
        else:
            plant.hull = plant.point
    return parts, plants


_UNIT_COLUMNS = ("unit_key", "unit_name", "enterprise_credit_code", "adcode", "substances", "s", "weighted",
                 "alpha", "people", "r", "mhs", "grade", "unresolved", "unconfirmed")


def _unit_rows(bundle: Bundle, rules: RuleSet, credit_codes: Iterable[str] | None = None,
               ) -> tuple[MhsParams, dict[str, _Plant], list[dict[str, Any]], dict[str, Inventory]]:
    """Everything :func:`mhs_units`, :func:`mhs_table` and :func:`check_mhs` share."""
    p = MhsParams.of(rules)
    parts, plants = _plants(bundle)
    if credit_codes is not None:
        wanted = {str(c) for c in credit_codes}
        plants = {c: pl for c, pl in plants.items() if c in wanted}
    todo = [pl for pl in plants.values() if pl.hull is not None]
    for plant, people in zip(todo, people_near(bundle, [pl.hull for pl in todo], p), strict=True):
        plant.people, plant.alpha = people, alpha_for(people.count, p.alpha_bands)
    rows: list[dict[str, Any]] = []
    inventories: dict[str, Inventory] = {}
    keys, names, texts, adcodes = (text_column(parts, c) for c in ("key", "name", "substances", "adcode"))
    for plant in plants.values():
        for i in plant.parts:
            text = texts[i]
            if text is None:
                continue
            key = keys[i] or f"installations:{i}"
            inv = parse_substances(text)
            inventories[key] = inv
            s, weighted = inv.s, inv.weighted
            mhs = p.is_mhs(s)
            r = plant.alpha * weighted
            rows.append({
                "unit_key": key, "unit_name": names[i], "enterprise_credit_code": plant.code,
                "adcode": adcodes[i], "substances": text, "s": round(s, DECIMALS),
                "weighted": round(weighted, DECIMALS), "alpha": plant.alpha,
                "people": plant.people.count if plant.people else None, "r": round(r, DECIMALS), "mhs": mhs,
                "grade": grade_for(r, p.grade_min_r) if mhs else None, "unresolved": len(inv.unresolved),
                "unconfirmed": any(e.hazard is not None and e.hazard.confidence != "confirmed" for e in inv.entries),
            })
    return p, plants, rows, inventories


def _unit_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame([{k: r[k] for k in _UNIT_COLUMNS} for r in rows], columns=list(_UNIT_COLUMNS))
    frame["grade"] = pd.array([r["grade"] for r in rows], dtype="Int64")
    frame["people"] = pd.array([r["people"] for r in rows], dtype="Int64")
    return frame


def mhs_units(bundle: Bundle, rules: RuleSet) -> pd.DataFrame:
    """S, Σβq/Q, α, R and grade of every unit (installation) that records an inventory.

    Parameters
    ----------
    bundle : Bundle
        Needs ``installations`` (with ``substances``), ``enterprises``, ``buildings`` and
        ``protection_targets``.
    rules : RuleSet
        Supplies ``MHS_UNDECLARED`` and ``MHS_GRADE_LOW``.

    Returns
    -------
    DataFrame
        Columns unit_key, unit_name, enterprise_credit_code, adcode, substances, s, weighted
        (Σβq/Q), alpha, people (whole persons within the radius of the plant boundary), r, mhs
        (S ≥ 1), grade (1–4, missing when not a major hazard installation), unresolved (entries not
        counted), unconfirmed (a Q used is unconfirmed).

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> list(mhs_units(Bundle({}), load_ruleset()).columns)[:6]
    ['unit_key', 'unit_name', 'enterprise_credit_code', 'adcode', 'substances', 's']
    """
    return _unit_frame(_unit_rows(bundle, rules)[2])


_TABLE_COLUMNS = ("credit_code", "name", "adcode", "declared_grade", "computed_grade", "r", "s", "alpha", "people",
                  "units", "mhs_units", "unit_key", "unit_name", "rule_code")


@dataclass(frozen=True)
class _Verdict:
    plant: _Plant
    declared: int | None
    units: list[dict[str, Any]]
    mhs: list[dict[str, Any]]
    binding: dict[str, Any] | None
    computed: int | None
    rule_code: str | None


def _verdicts(plants: dict[str, _Plant], rows: list[dict[str, Any]]) -> list[_Verdict]:
    by_plant: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_plant.setdefault(row["enterprise_credit_code"], []).append(row)
    out = []
    for code, plant in plants.items():
        if plant.record is None:
            continue  # parts of an enterprise missing from the enterprises layer: nothing declared to compare
        units = by_plant.get(code, [])
        mhs = [u for u in units if u["mhs"]]
        binding = max(mhs, key=lambda u: (u["r"], u["s"], u["unit_key"]), default=None) if mhs else None
        computed = min(u["grade"] for u in mhs) if mhs else None
        declared = _declared(plant.record.get("mhs_grade"))
        rule_code = None
        if computed is not None and declared is None:
            rule_code = "MHS_UNDECLARED"
        elif computed is not None and declared is not None and declared > computed:
            rule_code = "MHS_GRADE_LOW"
        out.append(_Verdict(plant, declared, units, mhs, binding, computed, rule_code))
    return out


def mhs_table(bundle: Bundle, rules: RuleSet, *, credit_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per enterprise: declared and computed major hazard installation grade, R, α and people.

    Parameters
    ----------
    bundle : Bundle
        As for :func:`mhs_units`.
    rules : RuleSet
        Supplies ``MHS_UNDECLARED`` and ``MHS_GRADE_LOW`` (pass the rule set in force to honour
        local values).
    credit_codes : iterable of str, optional
        Only these enterprises (by unified social credit code).

    Returns
    -------
    DataFrame
        Columns credit_code, name, adcode, declared_grade and computed_grade (1–4, missing when
        none), r (R of the binding unit, missing when no unit reaches S ≥ 1), s (the largest S of the
        enterprise's units, missing without an inventory), alpha, people, units (units with an
        inventory), mhs_units (units with S ≥ 1), unit_key and unit_name (binding unit), rule_code
        (``MHS_UNDECLARED``, ``MHS_GRADE_LOW`` or missing). In the order of the enterprises layer.

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> mhs_table(Bundle({}), load_ruleset()).empty
    True
    """
    _p, plants, rows, _inv = _unit_rows(bundle, rules, credit_codes)
    records = []
    for v in _verdicts(plants, rows):
        rec = v.plant.record or {}
        records.append({
            "credit_code": v.plant.code, "name": text_or_none(rec.get("name")),
            "adcode": text_or_none(rec.get("adcode")),
            "declared_grade": v.declared, "computed_grade": v.computed,
            "r": v.binding["r"] if v.binding else None,
            "s": max(u["s"] for u in v.units) if v.units else None,
            "alpha": v.plant.alpha if v.plant.people is not None else None,
            "people": v.plant.people.count if v.plant.people is not None else None,
            "units": len(v.units), "mhs_units": len(v.mhs),
            "unit_key": v.binding["unit_key"] if v.binding else None,
            "unit_name": v.binding["unit_name"] if v.binding else None, "rule_code": v.rule_code,
        })
    frame = pd.DataFrame(records, columns=list(_TABLE_COLUMNS))
    for col in ("declared_grade", "computed_grade", "people"):
        ints: list[Any] = [r[col] for r in records]
        frame[col] = pd.array(ints, dtype="Int64")
    for col in ("r", "s", "alpha"):
        floats: list[Any] = [r[col] for r in records]
        frame[col] = pd.array(floats, dtype="Float64")
    return frame


def _inventory_text(inv: Inventory) -> tuple[str, str]:
    """List the binding unit's counted entries ("氯 12 t/Q 5 t(β 4)、…") in Chinese and English."""
    items = [(e.hazard.name, e.tonnes, e.hazard.q_t, e.hazard.beta) for e in inv.entries if e.hazard is not None]
    zh = "、".join(f"{n} {fmt(q)} t/Q {fmt(cq)} t(β {fmt(b)})" for n, q, cq, b in items)
    en = ", ".join(f"{n} {fmt(q)} t/Q {fmt(cq)} t (β {fmt(b)})" for n, q, cq, b in items)
    return zh, en


def _detail(v: _Verdict, p: MhsParams, inventories: dict[str, Inventory]) -> Bilingual:
    b = v.binding
    assert b is not None and v.computed is not None
    people = v.plant.people
    assert people is not None
    radius = fmt(p.radius_m)
    pph = fmt(p.persons_per_household)
    inv_zh, inv_en = _inventory_text(inventories[b["unit_key"]])
    zh = [f"计算等级{grade_zh(v.computed)}：R = {fmt(b['r'])}(α = {fmt(v.plant.alpha)} × Σβq/Q = "
          f"{fmt(b['weighted'])})，S = {fmt(b['s'])}，单元“{b['unit_name'] or b['unit_key']}”({inv_zh})",
          f"厂界(装置外包络)外{radius} m内人口约 {people.count} 人(住宅 {people.households} 户×{pph} 人/户，"
          f"防护目标 {fmt(people.from_targets)} 人)",
          f"申报等级：{grade_zh(v.declared)}"]
    en = [f"computed {grade_en(v.computed)}: R = {fmt(b['r'])} (α = {fmt(v.plant.alpha)} × Σβq/Q = "
          f"{fmt(b['weighted'])}), S = {fmt(b['s'])}, unit {b['unit_name'] or b['unit_key']!r} ({inv_en})",
          f"about {people.count} people within {radius} m of the plant boundary (hull of the parts): "
          f"{people.households} households × {pph} + {fmt(people.from_targets)} in protection targets",
          f"declared: {grade_en(v.declared)}"]
    if len(v.mhs) > 1:
        others = [u for u in sorted(v.mhs, key=lambda u: (-u["r"], u["unit_key"])) if u is not b]
        zh.append("其他构成重大危险源的单元：" + "、".join(
            f"{u['unit_name'] or u['unit_key']}(S = {fmt(u['s'])}，R = {fmt(u['r'])}，{grade_zh(u['grade'])})"
            for u in others))
        en.append("other units at S ≥ 1: " + ", ".join(
            f"{u['unit_name'] or u['unit_key']} (S = {fmt(u['s'])}, R = {fmt(u['r'])}, {grade_en(u['grade'])})"
            for u in others))
    if any(u["unresolved"] for u in v.units):
        zh.append("有物质未能对应 GB 18218 表1/表2，未计入")
        en.append("some entries match neither GB 18218 Table 1 nor Table 2 and are not counted")
    if any(u["unconfirmed"] for u in v.mhs):
        zh.append("所用临界量 Q 取自公开版本，待核实")
        en.append("the critical quantities used are from public copies, unconfirmed")
    return Bilingual("；".join(zh), "; ".join(en))


def check_mhs(bundle: Bundle, rules: RuleSet) -> gpd.GeoDataFrame:
    """Flag undeclared major hazard installations (``MHS_UNDECLARED``) and grades declared too low (``MHS_GRADE_LOW``).

    Parameters
    ----------
    bundle : Bundle
        Needs ``enterprises`` (``mhs_grade``), ``installations`` (``substances``), ``buildings`` and
        ``protection_targets``.
    rules : RuleSet
        Supplies ``MHS_UNDECLARED`` and ``MHS_GRADE_LOW``.

    Returns
    -------
    GeoDataFrame
        Findings in EPSG:4490 (see :mod:`geo.checks.findings`): subject the enterprise, object its
        binding unit, verdict ``violation``, no distances, the figures in ``detail``, the plant hull as
        geometry.

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> len(check_mhs(Bundle({}), load_ruleset()))
    0
    """
    p, plants, rows, inventories = _unit_rows(bundle, rules)
    verdicts = [v for v in _verdicts(plants, rows) if v.rule_code is not None]
    if not verdicts:
        return findings_frame([])
    hulls = to_storage([v.plant.hull for v in verdicts], bundle.metric_epsg)
    records = []
    for v, hull in zip(verdicts, hulls, strict=True):
        assert v.rule_code is not None and v.binding is not None
        rec = v.plant.record or {}
        records.append(finding(
            rules[v.rule_code], subject_type="enterprises", subject_key=text_or_none(rec.get("key")) or v.plant.code,
            subject_name=text_or_none(rec.get("name")), object_type="installations", object_key=v.binding["unit_key"],
            object_name=v.binding["unit_name"], measured_m=None, required_m=None, verdict="violation",
            adcode=text_or_none(rec.get("adcode")), geometry=hull, detail=_detail(v, p, inventories),
        ))
    return findings_frame(records)
