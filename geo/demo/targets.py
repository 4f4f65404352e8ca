"""Protection targets: some inside risk contours on purpose, most spread over the city."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point

from geo.demo.buildings import place_village
from geo.demo.context import DemoContext
from geo.demo.enterprises import HAZCHEM
from geo.demo.geometry import frame_at, rect
from geo.demo.pipelines import ANCHOR_KINDER, ANCHOR_SCHOOL, ANCHOR_TOWN

_PT_COUNTS = {
    "school": 16, "kindergarten": 12, "hospital": 9, "elderly_home": 5, "prison": 2,
    "cultural": 5, "heritage": 5, "museum": 4, "religious": 4, "rail_transit": 4, "military": 2,
    "residential": 40, "office": 9, "commercial": 11, "hotel": 7, "stadium": 3,
    "transport_hub": 4, "factory": 12, "other": 4,
}
_URBAN = ("530102", "530103", "530111", "530112", "530114")
_VILLAGES = ("新庄", "大营", "小营", "李家营", "王家营", "河湾", "小坝", "松林", "石门", "龙潭",
             "马街", "杨柳", "青龙", "白塔", "清水", "沙沟", "柳树", "桃园", "梨园", "麦地")


def _target_attributes(ctx: DemoContext, ttype: str, households: int | None = None) -> dict[str, Any]:
    rng = ctx.rng
    u = rng.uniform
    out: dict[str, Any] = {"population": None, "households": None, "floor_area_m2": None,
                           "beds": None, "seats": None}
    if ttype == "residential":
        if households is None:
            bucket = int(rng.integers(3))
            households = int(rng.integers(*((3, 10), (10, 30), (30, 400))[bucket]))
        out["households"] = households
        out["population"] = round(households * u(2.6, 3.4))
        out["floor_area_m2"] = round(households * u(80, 130), -1)
    elif ttype in ("hospital", "elderly_home", "hotel"):
        lo, hi, per = {"hospital": (30, 1200, 2.5), "elderly_home": (30, 300, 1.25),
                       "hotel": (50, 600, 1.5)}[ttype]
        out["beds"] = int(rng.integers(lo, hi))
        out["population"] = round(out["beds"] * per * u(0.8, 1.2))
        out["floor_area_m2"] = round(out["beds"] * u(40, 110), -1)
    elif ttype in ("stadium", "cultural"):
        out["seats"] = int(rng.integers(2000, 40000) if ttype == "stadium" else rng.integers(200, 1500))
        out["population"] = round(out["seats"] * u(0.6, 1.0))
        out["floor_area_m2"] = round(out["seats"] * u(2.0, 4.0), -1)
    else:
        lo, hi = {"school": (400, 3000), "kindergarten": (60, 400), "prison": (300, 2500),
                  "heritage": (5, 200), "museum": (100, 1500), "religious": (20, 300),
                  "rail_transit": (300, 5000), "military": (50, 800), "office": (50, 2000),
                  "commercial": (100, 5000), "transport_hub": (500, 8000), "factory": (20, 800),
                  "other": (10, 200)}[ttype]
        out["population"] = int(rng.integers(lo, hi))
        out["floor_area_m2"] = round(out["population"] * u(6, 25), -1)
    return out


def _target_name(ctx: DemoContext, ttype: str, adcode: str) -> str:
    short = ctx.districts[adcode].short
    k = ctx.next_no(f"name:{adcode}:{ttype}")
    village = _VILLAGES[int(ctx.rng.integers(len(_VILLAGES)))]
    names = {
        "school": f"{short}演示第{k}中学" if k % 2 else f"{short}演示{village}小学",
        "kindergarten": f"{short}演示第{k}幼儿园", "hospital": f"{short}演示第{k}人民医院",
        "elderly_home": f"{short}演示养老院{k}", "prison": f"{short}演示看守所",
        "cultural": f"{short}演示青少年活动中心{k}", "heritage": f"{short}演示古建筑群{k}",
        "museum": f"{short}演示博物馆{k}", "religious": f"{short}演示{village}寺",
        "rail_transit": f"演示轨道交通{k}号线{short}站", "military": f"{short}演示军事管理区{k}",
        "residential": f"{short}演示{village}村", "office": f"{short}演示办公楼{k}",
        "commercial": f"{short}演示农贸市场{k}" if k % 2 else f"{short}演示购物中心{k}",
        "hotel": f"{short}演示酒店{k}", "stadium": f"{short}演示体育馆{k}",
        "transport_hub": f"{short}演示客运站{k}", "factory": f"{short}演示食品厂{k}",
        "other": f"{short}演示仓储物流园{k}",
    }
    return names[ttype]


def add_target(ctx: DemoContext, ttype: str, x: float, y: float, *, households: int | None = None,
               polygon: bool | None = None, name: str | None = None) -> dict[str, Any] | None:
    """Add a protection target at (x, y); large types may get a polygon footprint."""
    adcode = ctx.locate(x, y)
    if adcode is None or not ctx.on_land(x, y):
        return None
    attrs = _target_attributes(ctx, ttype, households)
    big = ttype in ("school", "hospital", "prison", "military", "stadium", "heritage") or (
        ttype == "residential" and (attrs["households"] or 0) >= 30)
    if polygon is None:
        polygon = big and ctx.rng.random() < 0.7
    geom: Any = Point(x, y)
    if polygon:
        side = {"prison": 220.0, "military": 260.0, "stadium": 180.0}.get(ttype, 110.0)
        poly = rect(x, y, side * ctx.rng.uniform(0.8, 1.2), side * ctx.rng.uniform(0.5, 0.8),
                    ctx.rng.uniform(0, math.pi))
        if shapely.contains(ctx.land, poly) and ctx.locate(poly.centroid.x, poly.centroid.y) == adcode:
            geom = poly
    rec = {"name": name or _target_name(ctx, ttype, adcode), "adcode": adcode,
           "target_type": ttype, **attrs, "geometry": geom}
    ctx.targets.append(rec)
    return rec


def make_targets(ctx: DemoContext) -> None:
    """Generate about 200 protection targets: some near hazards on purpose, most spread out."""
    rng = ctx.rng
    # 1. Inside the risk contours (violations for the checks to find).
    bands = ((0, 1, "residential", 6), (1, 2, "residential", 45), (2, 3, "kindergarten", None),
             (3, 4, "school", None))
    for e in ctx.enterprises:
        if "_radii" not in e:
            continue
        c, radii, shape = e["geometry"], e["_radii"], e["_shape"]
        for inner, outer, ttype, hh in bands:
            for _ in range(50):
                a = rng.uniform(0, 2 * math.pi)
                f = float(shape(np.array([a]))[0])
                r = f * rng.uniform(radii[inner] * 1.1, radii[outer] * 0.9)
                if add_target(ctx, ttype, c.x + r * math.cos(a), c.y + r * math.sin(a),
                              households=hh, polygon=False):
                    break
    # 2. Within the declared external distance of other hazchem enterprises.
    for e in ctx.enterprises:
        if e["industry"] in HAZCHEM and "_radii" not in e and e["external_distance_m"]:
            c, ext = e["geometry"], float(e["external_distance_m"])
            for _ in range(50):
                a, r = rng.uniform(0, 2 * math.pi), rng.uniform(0.4, 0.9) * ext
                ttype = ("residential", "factory", "commercial")[int(rng.integers(3))]
                if add_target(ctx, ttype, c.x + r * math.cos(a), c.y + r * math.sin(a), polygon=False):
                    break
    # 3. People downstream of tailings ponds (头顶库), 300-900 m from the dam toe.
    for td in ctx.tailings:
        if not td["_downstream"]:
            continue
        c = td["geometry"]
        for _ in range(100):
            a, r = rng.uniform(0, 2 * math.pi), rng.uniform(350.0, 850.0)
            x, y = c.x + r * math.cos(a), c.y + r * math.sin(a)
            rec = add_target(ctx, "residential", x, y, households=int(rng.integers(12, 60)), polygon=False)
            if rec:
                td["_village"] = rec
                place_village(ctx, np.array([x, y]), np.array([math.cos(a), math.sin(a)]),
                              int(rng.integers(6, 14)), 110.0, 70.0)
                break
    # 4. Special sites by the pipelines (GB 32167 rows c and d).
    line, s = ctx.pipe_s(ANCHOR_SCHOOL)
    p, _t, n = frame_at(line, s)
    school = add_target(ctx, "school", *(p + n * 240.0), polygon=False)
    line2, s2 = ctx.pipe_s(ANCHOR_KINDER)
    p2, _t2, n2 = frame_at(line2, s2)
    kinder = add_target(ctx, "kindergarten", *(p2 - n2 * 20.0), polygon=False)
    if school is None or kinder is None:
        raise RuntimeError("planned special sites fell outside the districts")
    ctx.marks["school"], ctx.marks["kinder"] = school, kinder
    hosp_line, hs = ctx.pipe_s(ANCHOR_TOWN)
    hp, _ht, hn = frame_at(hosp_line, hs + 300.0)
    add_target(ctx, "hospital", *(hp + hn * 230.0), polygon=False)
    mp, _mt, mn = frame_at(ctx.pipes["PRD-01"], 30000.0)
    add_target(ctx, "commercial", *(mp + mn * 140.0), polygon=False)
    # 5. Everything else, spread over the city with an urban bias.
    codes = list(ctx.districts)
    weights = np.array([3.0 if a in _URBAN else 1.0 for a in codes])
    for ttype, count in _PT_COUNTS.items():
        for _ in range(count):
            adcode = codes[int(rng.choice(len(codes), p=weights / weights.sum()))]
            x, y = ctx.near_seat(adcode, 5000.0 if adcode in _URBAN else 8000.0)
            add_target(ctx, ttype, x, y)
    for i, rec in enumerate(ctx.targets):
        rec["code"] = f"PT-{rec['adcode']}-{ctx.next_no('pt:' + rec['adcode']):04d}"
        rec["_i"] = i
