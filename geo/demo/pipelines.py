"""Pipelines, the anchors placed along them and their declared high-consequence areas."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import substring

from geo.demo.context import DemoContext
from geo.demo.geometry import wiggle


@dataclass(frozen=True)
class PipeDef:
    """A demo pipeline: its attributes and the waypoints (lon/lat) its wiggled centreline follows."""

    code: str
    name: str
    medium: str
    od_mm: float
    maop_mpa: float
    operator: str
    start_mileage_m: float
    waypoints: tuple[tuple[float, float], ...]
    wiggle_m: float


PIPEDEFS = (
    PipeDef("GAS-01", "西南演示输气干线昆明段", "gas", 1016.0, 10.0,
            "国家管网集团西南管道有限责任公司(演示)", 0.0,
            ((102.212, 24.948), (102.25, 24.945), (102.36, 24.905), (102.45, 24.86),
             (102.53, 24.80), (102.575, 24.765), (102.585, 24.695), (102.66, 24.640),
             (102.73, 24.69), (102.80, 24.765), (102.88, 24.83), (102.95, 24.91),
             (103.02, 24.932), (103.12, 24.905), (103.26, 24.86)), 90.0),
    PipeDef("OIL-01", "西南演示原油管道安宁段", "crude", 813.0, 10.0,
            "国家管网集团西南管道有限责任公司(演示)", 0.0,
            ((102.225, 24.974), (102.26, 24.978), (102.32, 24.985), (102.40, 24.97)), 60.0),
    # Starts at the refinery fence: the first 1.2 km run inside the plant, which the
    # pipeline-protection law (Art. 2) does not cover, hence the non-zero mileage.
    PipeDef("PRD-01", "演示成品油管道安宁—寻甸段", "products", 508.0, 8.0,
            "国家管网集团西南管道有限责任公司(演示)", 1200.0,
            ((102.41, 24.978), (102.47, 25.03), (102.56, 25.10), (102.68, 25.16),
             (102.82, 25.22), (102.95, 25.28), (103.05, 25.35), (103.12, 25.44)), 90.0),
    # Branch off GAS-01 (first vertex is snapped onto the trunk).
    PipeDef("GAS-02", "呈贡演示输气支线", "gas", 219.0, 1.5, "昆明演示燃气有限公司", 0.0,
            ((102.80, 24.765), (102.83, 24.82), (102.84, 24.87)), 40.0),
)

# Anchors (lon/lat) that are projected onto pipelines to place planned features.
ANCHOR_TOWN = ("GAS-01", (102.36, 24.905))          # class-3 suburban town, 安宁
ANCHOR_TOWERS = ("GAS-01", (102.555, 24.785))       # ≥4-storey cluster, 西山
ANCHOR_SCHOOL = ("GAS-01", (102.99, 24.924))        # school inside r = 318 m
ANCHOR_FUEL = ("GAS-01", (103.075, 24.918))         # fuel stations, low density
ANCHOR_WATER = ("OIL-01", (102.30, 24.983))         # water source within 200 m
ANCHOR_KINDER = ("GAS-02", (102.834, 24.845))       # kindergarten inside r = 27 m
ANCHOR_RESERVE = ("PRD-01", (102.97, 25.30))        # nature reserve near PRD-01
ANCHOR_SUBSTATION = ("PRD-01", (102.62, 25.13))


def make_pipelines(ctx: DemoContext) -> None:
    """Build the four pipelines from waypoints, densified and gently wiggled."""
    for p in PIPEDEFS:
        pts = [ctx.xy(lon, lat) for lon, lat in p.waypoints]
        if p.code == "GAS-02":  # branch starts on the trunk
            trunk = ctx.pipes["GAS-01"]
            q = trunk.interpolate(trunk.project(Point(pts[0])))
            pts[0] = (q.x, q.y)
        ctx.pipes[p.code] = wiggle(LineString(pts), ctx.rng, p.wiggle_m)


def pipeline_rows(ctx: DemoContext) -> list[dict[str, Any]]:
    """Return the pipeline records (no adcode: pipelines cross districts)."""
    return [{"code": p.code, "name": p.name, "medium": p.medium, "outside_diameter_mm": p.od_mm,
             "maop_mpa": p.maop_mpa, "operator": p.operator, "laying": "buried",
             "start_mileage_m": p.start_mileage_m,
             "geometry": MultiLineString([ctx.pipes[p.code]])} for p in PIPEDEFS]


def _add_hca(ctx: DemoContext, code: str, start: float, end: float, grade: str, criterion: str, reason: str,
             identified: dt.date) -> dict[str, Any]:
    line = ctx.pipes[code]
    start, end = max(0.0, round(start, 1)), min(round(line.length, 1), round(end, 1))
    geom = substring(line, start, end)
    mid = line.interpolate((start + end) / 2)
    adcode = ctx.locate(mid.x, mid.y)
    if adcode is None:
        raise RuntimeError(f"HCA on {code} has its midpoint outside the districts")
    rec = {"code": f"HCA-{code}-{ctx.next_no('hca:' + code):02d}", "adcode": adcode,
           "pipeline_key": code, "grade": grade, "start_m": start, "end_m": end,
           "criterion": criterion, "reason": reason, "identified_on": identified,
           "geometry": MultiLineString([geom]), "_mid": mid}
    ctx.hcas.append(rec)
    return rec


def make_hcas(ctx: DemoContext) -> None:
    """Declare HCAs over the planned features (one identified more than 18 months ago)."""
    def span(code: str, geoms: Sequence[Any], pad: float) -> tuple[float, float]:
        line = ctx.pipes[code]
        ss = [line.project(g.centroid) for g in geoms]
        return min(ss) - pad, max(ss) + pad

    def within(code: str, geom: Any, radius: float) -> tuple[float, float]:
        part = ctx.pipes[code].intersection(geom.buffer(radius))
        ends = [Point(c) for g in getattr(part, "geoms", [part]) for c in (g.coords[0], g.coords[-1])]
        ss = [ctx.pipes[code].project(p) for p in ends]
        return min(ss), max(ss)

    r_gas01 = 0.099 * 1016.0 * math.sqrt(10.0)
    r_gas02 = 0.099 * 219.0 * math.sqrt(1.5)
    a, b = span("GAS-01", ctx.marks["towers"], 200.0)
    _add_hca(ctx, "GAS-01", a, b, "3", "a", "两侧各200m内四层及以上楼房集中，四级地区",
             dt.date(2026, 3, 15))
    a, b = span("GAS-01", ctx.marks["town"], 200.0)
    _add_hca(ctx, "GAS-01", a, b, "2", "b", "2km地区等级划分单元内户数≥100，三级地区",
             dt.date(2024, 9, 20))
    a, b = within("GAS-01", ctx.marks["school"]["geometry"], r_gas01)
    _add_hca(ctx, "GAS-01", a, b, "1", "c",
             f"D>762mm且MAOP>6.9MPa，潜在影响半径{r_gas01:.0f}m内有学校(特定场所Ⅰ)",
             dt.date(2025, 11, 10))
    fuel = shapely.union_all([f["geometry"] for f in ctx.marks["fuel"]])
    a, b = within("GAS-01", fuel, 200.0)
    _add_hca(ctx, "GAS-01", a, b, "2", "f", "三、四级地区以外，两侧200m内有加油加气站等易燃易爆场所",
             dt.date(2026, 3, 15))
    a, b = within("OIL-01", ctx.marks["water"]["geometry"], 200.0)
    _add_hca(ctx, "OIL-01", a, b, "3", "f", "两侧200m内有饮用水水源保护区", dt.date(2025, 8, 1))
    a, b = within("GAS-02", ctx.marks["kinder"]["geometry"], r_gas02)
    _add_hca(ctx, "GAS-02", a, b, "1", "d",
             f"D<273mm且MAOP<1.6MPa，潜在影响半径{r_gas02:.0f}m内有幼儿园(特定场所Ⅰ)",
             dt.date(2026, 6, 1))
