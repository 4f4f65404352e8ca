"""Plant parts of the hazardous-chemical enterprises and their hazardous chemicals."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.ops import nearest_points

from geo.demo.context import DemoContext
from geo.demo.enterprises import HAZCHEM
from geo.demo.geometry import rect

# Plant parts (GB 50160 4.1.9 / GB 50016 3.5.1) by enterprise: (part_type, name, fire class, width m, depth m);
# a depth of 0 makes a point (a flare stack). Picked by industry, then by the enterprise stem.
_PartPlan = tuple[str, str, str | None, float, float]
_PARTS_REFINERY: tuple[_PartPlan, ...] = (
    ("lpg_tank_group", "液化烃球罐组", "甲", 70.0, 55.0),
    ("flammable_liquid_tank_group", "原油罐组", "甲", 110.0, 80.0),
    ("process_unit", "常减压蒸馏装置", "甲", 90.0, 50.0), ("process_unit", "沥青成型装置", "丙", 50.0, 30.0),
    ("flare", "高架火炬", None, 0.0, 0.0), ("important_facility", "中心控制室", None, 36.0, 24.0),
)
_PARTS_LPG: tuple[_PartPlan, ...] = (
    ("lpg_tank_group", "液化石油气储罐组", "甲", 45.0, 32.0), ("important_facility", "消防泵房", None, 18.0, 12.0),
)
_PARTS_OIL_DEPOT: tuple[_PartPlan, ...] = (
    ("flammable_liquid_tank_group", "汽油储罐组", "甲", 70.0, 50.0),
    ("flammable_liquid_tank_group", "柴油储罐组", "丙", 60.0, 45.0),
)
_PARTS_WAREHOUSE: tuple[_PartPlan, ...] = (
    ("class_a_warehouse", "甲类仓库", "甲", 36.0, 18.0), ("class_b_warehouse", "乙类仓库", "乙", 42.0, 20.0),
)
_PARTS_PRODUCTION: tuple[_PartPlan, ...] = (
    ("process_unit", "合成装置", "甲", 60.0, 40.0), ("flammable_liquid_tank_group", "中间罐组", "乙", 40.0, 30.0),
    ("class_ab_factory", "甲类厂房", "甲", 48.0, 20.0), ("class_a_warehouse", "甲类仓库", "甲", 30.0, 15.0),
)
_FLARE: _PartPlan = ("flare", "高架火炬", None, 0.0, 0.0)
# Hazardous chemicals of the parts (column substances, GB 18218): the first row whose stem keyword is in the
# enterprise stem ("" = any), whose part type matches and whose fire class matches (None = any) gives the
# entries: (text with {} for the tonnes, lowest, highest). 丙类 process units hold none. The 气体充装 and
# 医药化工 plants (declared 四级) compute as 三级 and the 危化品经营 trader (no grade declared) holds fuming
# nitric acid above its critical quantity, so that MHS_GRADE_LOW and MHS_UNDECLARED have findings.
_Stock = tuple[str, float, float]
_INVENTORIES: tuple[tuple[str, str, str | None, tuple[_Stock, ...]], ...] = (
    ("石化", "lpg_tank_group", None, (("液化石油气:68476-85-7:{}", 600.0, 1200.0),)),
    ("石化", "flammable_liquid_tank_group", None, (("原油:8002-05-9:易燃液体类别2:{}", 20000.0, 30000.0),)),
    ("石化", "process_unit", "甲", (("汽油:86290-81-5:{}", 80.0, 150.0), ("液化石油气:{}", 20.0, 40.0),
                                   ("氢:{}", 1.0, 3.0))),
    ("氯碱", "process_unit", None, (("氯:{}", 40.0, 80.0), ("氢:{}", 2.0, 5.0), ("氯化氢(无水):{}", 20.0, 40.0))),
    ("氯碱", "flammable_liquid_tank_group", None, (("液氯:7782-50-5:{}", 50.0, 150.0),)),
    ("磷化工", "process_unit", None, (("白磷:{}", 60.0, 150.0), ("磷化氢:{}", 0.2, 0.5))),
    ("磷化工", "flammable_liquid_tank_group", None, (("白磷:12185-10-3:{}", 100.0, 300.0),)),
    ("精细化工", "process_unit", None, (("甲苯:{}", 100.0, 200.0), ("甲醇:{}", 100.0, 300.0))),
    ("精细化工", "flammable_liquid_tank_group", None, (("甲醇:{}", 300.0, 600.0), ("乙酸乙酯:{}", 200.0, 400.0))),
    ("医药化工", "process_unit", None, (("环氧乙烷:75-21-8:{}", 90.0, 120.0), ("一甲胺:{}", 5.0, 10.0))),
    ("医药化工", "flammable_liquid_tank_group", None, (("丙酮:{}", 200.0, 400.0), ("乙醇:{}", 200.0, 400.0))),
    ("生物化工", "process_unit", None, (("乙醇:{}", 300.0, 600.0),)),
    ("生物化工", "flammable_liquid_tank_group", None, (("乙醇:64-17-5:{}", 600.0, 1200.0),)),
    ("液化石油气", "lpg_tank_group", None, (("液化石油气:68476-85-7:{}", 900.0, 1200.0),)),
    ("液化", "lpg_tank_group", None, (("液化石油气:{}", 300.0, 500.0),)),
    ("燃气", "lpg_tank_group", None, (("液化石油气:{}", 200.0, 400.0), ("天然气:{}", 50.0, 100.0))),
    ("气体", "lpg_tank_group", None, (("液化石油气:{}", 400.0, 500.0), ("氧(压缩或液化):{}", 50.0, 100.0),
                                     ("乙炔:74-86-2:{}", 6.0, 9.0))),
    ("油库", "flammable_liquid_tank_group", "甲", (("汽油:86290-81-5:{}", 1500.0, 3000.0),)),
    ("油库", "flammable_liquid_tank_group", "丙", (("柴油:易燃液体类别3:{}", 2000.0, 5000.0),)),
    ("危化品经营", "class_b_warehouse", None, (("发烟硝酸:{}", 25.0, 40.0),)),
    ("", "process_unit", None, (("苯:{}", 20.0, 60.0), ("丙烯腈:{}", 10.0, 30.0))),
    ("", "flammable_liquid_tank_group", None, (("苯乙烯:{}", 200.0, 500.0),)),
    ("", "class_b_warehouse", None, (("硝酸(>70%):{}", 20.0, 60.0), ("氧(压缩或液化):{}", 5.0, 20.0))),
    ("", "class_ab_factory", None, (("甲苯:{}", 5.0, 20.0),)),
)
#: A class A warehouse holds its stock (stock_t) split between these, by stored goods items (GB 50016 3.1.3).
_WAREHOUSE_GOODS: dict[str, tuple[tuple[str, float], ...]] = {
    "1,2,5,6": (("乙醚:60-29-7:{}", 0.6), ("氯酸钠:{}", 0.4)),
    "3,4": (("白磷:{}", 0.8), ("烷基铝:{}", 0.2)),
}
# Parts of storage enterprises placed on purpose near people (GB 50160 and GB 50016 findings):
# part type -> (target types measured to, gap range in metres).
_NEAR_PEOPLE: dict[str, tuple[tuple[str, ...], tuple[float, float]]] = {
    "lpg_tank_group": (("residential", "school", "kindergarten", "hospital", "commercial", "office", "hotel"),
                       (95.0, 135.0)),
    "class_a_warehouse": (("residential", "school", "kindergarten", "commercial", "office", "hotel"), (18.0, 35.0)),
}


def _part_plan(ctx: DemoContext, e: dict[str, Any]) -> tuple[_PartPlan, ...]:
    """Parts of a hazardous-chemical enterprise by industry and stem (none for explosives stores)."""
    stem = str(e["_stem"])
    if e["industry"] == "refinery":
        return _PARTS_REFINERY
    if e["industry"] == "hazchem_production":
        parts = _PARTS_PRODUCTION[: 2 + int(ctx.inst_rng.integers(0, 3))]
        # the fine-chemicals plant declares 100 m but runs a flare: below the code (ESD_BELOW_CODE)
        return (*parts, _FLARE) if stem == "精细化工" else parts
    if e["has_explosives"]:
        return ()  # 民爆器材: GB 50089, not these tables
    if any(w in stem for w in ("液化", "燃气", "气体")):
        return _PARTS_LPG
    if "油库" in stem:
        return _PARTS_OIL_DEPOT
    return _PARTS_WAREHOUSE


def _part_fits(ctx: DemoContext, people: shapely.STRtree, geom: Any, adcode: str, placed: list[Any]) -> bool:
    """Tell whether a part lies inside its district, off the lake, clear of people, buildings and other parts."""
    if not shapely.contains(ctx.districts[adcode].inner, geom) or shapely.intersects(ctx.lake, geom):
        return False
    if any(shapely.dwithin(geom, other, 12.0) for other in placed):
        return False
    if len(people.query(geom, predicate="dwithin", distance=10.0)):
        return False  # not on top of a village, school or other protection target
    return ctx.footprints.free(geom, gap=5.0)


def _part_record(ctx: DemoContext, e: dict[str, Any], plan: _PartPlan, geom: Any, no: int) -> dict[str, Any]:
    part_type, label, fire_class, _w, _h = plan
    rng = ctx.inst_rng
    rec: dict[str, Any] = {
        "code": f"INS-{e['adcode']}-{ctx.next_no('ins:' + e['adcode']):03d}",
        "name": f"{e['name'].removesuffix('有限公司')}{no}号{label}",
        "enterprise_credit_code": e["credit_code"], "adcode": e["adcode"], "part_type": part_type,
        "fire_class": fire_class, "goods_items": None, "stock_t": None, "geometry": geom,
    }
    if part_type == "class_a_warehouse":
        rec["goods_items"] = ("3,4", "1,2,5,6")[int(rng.integers(2))]
        rec["stock_t"] = float(round(rng.uniform(1.0, 20.0), 1))
    return rec


def _nearest_people(ctx: DemoContext, e: dict[str, Any], within: float,
                    types: tuple[str, ...]) -> dict[str, Any] | None:
    """Return the nearest target of ``types`` within ``within`` metres of the enterprise point."""
    c = e["geometry"]
    best: tuple[float, dict[str, Any]] | None = None
    for t in ctx.targets:
        if t["target_type"] not in types:
            continue
        d = float(c.distance(t["geometry"]))
        if d <= within and (best is None or d < best[0]):
            best = (d, t)
    return None if best is None else best[1]


def _part_towards(ctx: DemoContext, e: dict[str, Any], target: dict[str, Any], gap: float, w: float,
                  h: float) -> Polygon | None:
    """Return a ``w`` × ``h`` part on the line from the enterprise to ``target``, ``gap`` metres from it."""
    c, tg = e["geometry"], target["geometry"]
    near = nearest_points(tg, c)[0]
    d = np.array([c.x - near.x, c.y - near.y])
    norm = float(np.hypot(*d))
    if norm < gap + max(w, h):
        return None
    u = d / norm
    angle = math.atan2(u[1], u[0])
    pos = np.array([near.x, near.y]) + u * (gap + w / 2)
    poly = rect(float(pos[0]), float(pos[1]), w, h, angle)
    for _ in range(8):
        miss = gap - poly.distance(tg)
        if abs(miss) < 0.005:
            break
        pos = pos + u * miss
        poly = rect(float(pos[0]), float(pos[1]), w, h, angle)
    return poly


def make_installations(ctx: DemoContext) -> None:
    """Place the parts of the hazardous-chemical enterprises (tank groups, units, flares, warehouses).

    Small rectangles (a point for a flare) 40-240 m around the enterprise point, clear of buildings.
    Storage depots get some parts on purpose near the nearest people within 700 m: LPG tank groups
    95-135 m away (GB 50160 Table 4.1.9 asks 150 m), class A warehouses 18-35 m away (GB 50016
    Table 3.5.1 asks 25-50 m), so that the code-separation rules have findings; the fine-chemicals
    plant gets a flare. A separate random stream keeps every other layer as it was.
    """
    rng = ctx.inst_rng
    people = shapely.STRtree([t["geometry"] for t in ctx.targets])
    for e in ctx.enterprises:
        if e["industry"] not in HAZCHEM:
            continue
        plan = _part_plan(ctx, e)
        c = e["geometry"]
        placed: list[Any] = []
        for no, part in enumerate(plan, 1):
            part_type, _label, _fc, w, h = part
            geom: Any = None
            if part_type in _NEAR_PEOPLE and e["industry"] == "hazchem_storage":
                types, (lo, hi) = _NEAR_PEOPLE[part_type]
                near = _nearest_people(ctx, e, 700.0, types)
                if near is not None:
                    geom = _part_towards(ctx, e, near, float(rng.uniform(lo, hi)), w, h)
                    if geom is not None and not _part_fits(ctx, people, geom, e["adcode"], placed):
                        geom = None
            for _ in range(80):
                if geom is not None:
                    break
                a, r = rng.uniform(0, 2 * math.pi), rng.uniform(40.0, 240.0)
                x, y = c.x + r * math.cos(a), c.y + r * math.sin(a)
                cand: Any = Point(x, y) if h == 0.0 else rect(x, y, w, h, rng.uniform(0, math.pi))
                if _part_fits(ctx, people, cand, e["adcode"], placed):
                    geom = cand
            if geom is None:
                continue
            placed.append(geom)
            ctx.installations.append(_part_record(ctx, e, part, geom, no))
    _fill_substances(ctx)


def _fill_substances(ctx: DemoContext) -> None:
    """Give the parts their hazardous chemicals and maximum quantities (GB 18218) from ``_INVENTORIES``."""
    rng = ctx.substance_rng
    stems = {e["credit_code"]: str(e["_stem"]) for e in ctx.enterprises}
    for rec in ctx.installations:
        stem, part_type, fire = stems[rec["enterprise_credit_code"]], rec["part_type"], rec["fire_class"]
        entries: list[str] = []
        if part_type == "class_a_warehouse" and rec["goods_items"] in _WAREHOUSE_GOODS:
            stock = float(rec["stock_t"])
            entries = [text.format(f"{round(stock * share, 1):g}")
                       for text, share in _WAREHOUSE_GOODS[rec["goods_items"]]]
        elif fire != "丙" or part_type != "process_unit":
            for keyword, ptype, fire_class, stocks in _INVENTORIES:
                if keyword in stem and ptype == part_type and fire_class in (None, fire):
                    for text, lo, hi in stocks:
                        q = float(rng.uniform(lo, hi))
                        entries.append(text.format(f"{round(q, 1) if q < 10 else round(q):g}"))
                    break
        rec["substances"] = "; ".join(entries) if entries else None
