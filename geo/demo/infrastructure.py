"""Roads, railways, rivers, water sources, stations and other infrastructure."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point

from geo.demo.context import CN_NUM, WORK_CRS, DemoContext
from geo.demo.geometry import blob, frame_at, place_at_distance, shape_factor, wiggle
from geo.demo.pipelines import ANCHOR_FUEL, ANCHOR_RESERVE, ANCHOR_SUBSTATION, ANCHOR_WATER

#: Real river lines shipped with the demo (see data/README.md).
RIVERS_FILE = Path(__file__).resolve().parents[2] / "data" / "rivers_kunming.geojson"


def add_infrastructure(ctx: DemoContext, kind: str, subkind: str | None, name: str, geom: Any) -> dict[str, Any]:
    """Add an infrastructure record in the district of ``geom``'s representative point; return it."""
    rp = geom.representative_point()
    adcode = ctx.locate(rp.x, rp.y)
    if adcode is None:
        raise RuntimeError(f"infrastructure {name} lies outside the districts")
    rec = {"kind": kind, "subkind": subkind, "name": name, "adcode": adcode, "geometry": geom}
    ctx.infra.append(rec)
    return rec


def _crossing(ctx: DemoContext, code: str, lonlat: tuple[float, float], angle_deg: float,
              half: float, bend: float) -> Any:
    """Return a line _crossing pipeline ``code`` near ``lonlat`` at ``angle_deg`` to its local axis."""
    line, s = ctx.pipe_s((code, lonlat))
    p, t, _n = frame_at(line, s)
    a = math.atan2(t[1], t[0]) + math.radians(angle_deg)
    d = np.array([math.cos(a), math.sin(a)])
    e = np.array([-d[1], d[0]])
    ts = np.linspace(-half, half, 61)
    bend_off = bend * np.sign(ts) * np.clip(np.abs(ts) - 800.0, 0.0, None) ** 2 / half
    pts = p + np.outer(ts, d) + np.outer(bend_off, e)
    road = LineString(pts).intersection(ctx.land)
    parts = list(getattr(road, "geoms", [road]))
    _crossing = [g for g in parts if g.intersects(line)]
    if not _crossing:
        raise RuntimeError(f"_crossing of {code} near {lonlat} was clipped away")
    return _crossing[0]


def make_rivers(ctx: DemoContext) -> None:
    """Add the real rivers of ``data/rivers_kunming.geojson`` (GSHHG), one row per district they touch.

    The Jinsha (金沙江, the Yangtze main stem's upper reach) runs along the northern border; the
    tributaries are labelled as important tributaries for the demo only. No random draws.
    """
    rivers = gpd.read_file(RIVERS_FILE).to_crs(WORK_CRS)
    for river in rivers.itertuples():
        for d in ctx.districts.values():
            piece = river.geometry.intersection(d.geom.buffer(2000.0))
            if piece.is_empty or piece.length < 1000.0 or not piece.intersects(d.geom):
                continue
            ctx.infra.append({"kind": "river", "subkind": river.subkind, "name": river.name,
                              "adcode": d.adcode, "geometry": piece, "code": f"{river.code}-{d.adcode}"})


def make_infrastructure(ctx: DemoContext) -> None:
    """Add roads, railways, a river, water sources, stations, fuel stations, a substation, a reserve."""
    rng = ctx.rng
    roads = (("road", "高速公路", "演示高速公路A线", "GAS-01", (102.42, 24.875), 90.0, 9000.0, 0.10),
             ("road", "国道", "演示国道B线", "GAS-01", (102.58, 24.72), 60.0, 7000.0, -0.08),
             ("road", "省道", "演示省道C线", "GAS-01", (102.86, 24.815), 20.0, 6000.0, 0.04),
             ("road", "其他公路", "演示乡道D线", "GAS-01", (103.18, 24.89), 45.0, 4000.0, 0.1),
             ("road", "高速公路", "演示高速公路E线", "PRD-01", (102.75, 25.19), 50.0, 9000.0, -0.06),
             ("road", "国道", "演示国道F线", "OIL-01", (102.35, 24.98), 75.0, 6000.0, 0.05),
             ("road", "省道", "演示省道G线", "PRD-01", (103.0, 25.315), 85.0, 6000.0, 0.08),
             ("railway", "国家铁路", "演示铁路H线", "GAS-01", (102.92, 24.87), 80.0, 9000.0, 0.03),
             ("railway", "国家铁路", "演示铁路I线", "PRD-01", (102.52, 25.07), 30.0, 8000.0, -0.03))
    for kind, sub, name, code, lonlat, angle, half, bend in roads:
        add_infrastructure(ctx, kind, sub, name, _crossing(ctx, code, lonlat, angle, half, bend))
    # A meandering river _crossing GAS-01 and PRD-01 in 安宁 (flows north).
    river = LineString([ctx.xy(102.47, 24.80), ctx.xy(102.475, 24.90), ctx.xy(102.46, 24.98),
                        ctx.xy(102.49, 25.07)])
    river = wiggle(river, rng, 350.0, 80.0).intersection(ctx.land)
    parts = [g for g in getattr(river, "geoms", [river]) if g.intersects(ctx.pipes["GAS-01"])]
    add_infrastructure(ctx, "river", "河流", "演示河(示意)", parts[0])
    # Water sources near OIL-01: one within 200 m (HCA row f), one ~700 m away.
    line, s = ctx.pipe_s(ANCHOR_WATER)
    for k, (gap, side, rx, ry) in enumerate(((150.0, 1.0, 900.0, 450.0), (700.0, -1.0, 600.0, 350.0))):
        p, t, n = frame_at(line, s + k * 3500.0)
        ang = math.atan2(t[1], t[0])
        shape = shape_factor(rng, 0.15)
        c = p + n * side * (gap + ry)
        poly = blob(float(c[0]), float(c[1]), rx, ry, ang, shape)
        for _ in range(8):
            c = c + n * side * (gap - poly.distance(line))
            poly = blob(float(c[0]), float(c[1]), rx, ry, ang, shape)
        rec = add_infrastructure(ctx, "water_source", ("饮用水水源一级保护区", "饮用水水源二级保护区")[k],
                                 f"安宁演示水库饮用水水源保护区{CN_NUM[k]}", poly)
        if k == 0:
            ctx.marks["water"] = rec
            add_infrastructure(ctx, "reservoir", "小(一)型水库", "安宁演示水库",
                               blob(float(c[0]), float(c[1]), rx * 0.45, ry * 0.45, ang, shape))
    # Stations on the lines.
    stations = (("GAS-01", 9000.0, "分输站"), ("GAS-01", 35000.0, "阀室"), ("GAS-01", 62000.0, "阀室"),
                ("GAS-01", 95000.0, "阀室"), ("GAS-01", 122000.0, "阀室"), ("OIL-01", 8000.0, "阀室"),
                ("OIL-01", -1.0, "末站"), ("PRD-01", 0.0, "首站"), ("PRD-01", 30000.0, "阀室"),
                ("PRD-01", 62000.0, "分输站"), ("GAS-02", 0.0, "分输站"), ("GAS-02", -1.0, "末站(门站)"))
    for code, s, sub in stations:
        line = ctx.pipes[code]
        pt = line.interpolate(line.length if s < 0 else min(s, line.length))
        if ctx.locate(pt.x, pt.y) is None:
            continue
        add_infrastructure(ctx, "station", sub, f"{code}演示{sub}{ctx.next_no('st:' + code)}", pt)
    # Fuel stations within 200 m of GAS-01 in an empty stretch (HCA row f for gas).
    line, s = ctx.pipe_s(ANCHOR_FUEL)
    fuel: list[dict[str, Any]] = []
    for ds, off, sub in ((-500.0, 60.0, "加油站"), (400.0, -150.0, "加油加气站")):
        p, _t, n = frame_at(line, s + ds)
        fuel.append(add_infrastructure(ctx, "fuel_station", sub, f"宜良演示{sub}{len(fuel) + 1}",
                                       Point(*(p + n * off))))
    ctx.marks["fuel"] = fuel
    # Substation by PRD-01.
    line, s = ctx.pipe_s(ANCHOR_SUBSTATION)
    substation = add_infrastructure(ctx, "substation", "110kV变电站", "演示110kV变电站",
                                    place_at_distance(line, s, 1.0, 60.0, 80.0, 60.0))
    ctx.footprints.add(substation["geometry"])
    # Nature reserve about 150 m from PRD-01 in 嵩明.
    line, s = ctx.pipe_s(ANCHOR_RESERVE)
    p, t, n = frame_at(line, s)
    shape = shape_factor(rng, 0.2)
    c = p - n * (150.0 + 1100.0)
    reserve = blob(float(c[0]), float(c[1]), 2000.0, 1100.0, math.atan2(t[1], t[0]), shape)
    add_infrastructure(ctx, "nature_reserve", "湿地自然保护区", "演示湿地自然保护区", reserve.intersection(ctx.land))
    for i, rec in enumerate(ctx.infra, start=1):
        rec["code"] = f"INF-{i:04d}"
