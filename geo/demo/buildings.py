"""Building footprints: encroachments, a town, a tower cluster and villages."""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import LineString, Polygon

from geo.demo.context import DemoContext
from geo.demo.geometry import frame_at, place_at_distance, rect
from geo.demo.pipelines import ANCHOR_FUEL, ANCHOR_TOWERS, ANCHOR_TOWN


def _add_building(ctx: DemoContext, poly: Polygon, use: str, households: int, floors: int, name: str,
                  *, check_pipes: bool = True, max_pipe: float | None = None,
                  near: LineString | None = None) -> bool:
    c = poly.centroid
    adcode = ctx.locate(c.x, c.y)
    if adcode is None or not ctx.on_land(c.x, c.y):
        return False
    if check_pipes and ctx.pipe_distance(poly) < 15.0:
        return False
    if near is not None and max_pipe is not None and poly.distance(near) > max_pipe:
        return False
    if not ctx.footprints.free(poly):
        return False
    ctx.footprints.add(poly)
    ctx.buildings.append({"adcode": adcode, "name": name, "use": use,
                          "households": households, "floors": floors, "geometry": poly})
    return True


def _house(ctx: DemoContext) -> tuple[str, int, int, str, tuple[float, float]]:
    """Draw use, households, floors, name and footprint size of a village building."""
    u = ctx.rng.random()
    w, h = ctx.rng.uniform(8, 16), ctx.rng.uniform(8, 14)
    if u < 0.84:
        hh = int(ctx.rng.choice([1, 2, 3, 4, 5, 6], p=[0.3, 0.3, 0.2, 0.1, 0.06, 0.04]))
        return "residential", hh, int(ctx.rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2])), "村民住宅", (w, h)
    if u < 0.90:
        return "agricultural", 0, 1, ("蔬菜大棚", "畜禽舍")[int(ctx.rng.integers(2))], (
            ctx.rng.uniform(10, 20), ctx.rng.uniform(8, 12))
    if u < 0.94:
        return "warehouse", 0, 1, "仓库", (w, h)
    if u < 0.98:
        return "commercial", 0, int(ctx.rng.integers(1, 3)), "商铺", (w, h)
    return "public", 0, 2, ("村委会", "卫生室", "活动室")[int(ctx.rng.integers(3))], (w, h)


def place_village(ctx: DemoContext, center: np.ndarray, t: np.ndarray, n: int, along: float, across: float,
                  *, kind: str = "village", near: LineString | None = None,
                  max_pipe: float | None = None) -> list[Polygon]:
    """Place a grid-based cluster of ``n`` buildings around ``center`` oriented along ``t``."""
    nrm = np.array([-t[1], t[0]])
    spacing = 45.0 if kind == "towers" else 27.0
    us = np.arange(-along, along + 1e-6, spacing)
    vs = np.arange(-across, across + 1e-6, spacing)
    cand = [(u, v) for u in us for v in vs if (u / along) ** 2 + (v / across) ** 2 <= 1.0]
    order = ctx.rng.permutation(len(cand))
    base = math.atan2(t[1], t[0])
    placed: list[Polygon] = []
    for idx in order:
        if len(placed) >= n:
            break
        u, v = cand[int(idx)]
        pos = center + t * (u + ctx.rng.uniform(-2, 2)) + nrm * (v + ctx.rng.uniform(-2, 2))
        angle = base + ctx.rng.uniform(-0.15, 0.15)
        if kind == "towers":
            if ctx.rng.random() < 0.75:
                w, h = ctx.rng.uniform(16, 20), ctx.rng.uniform(12, 18)
                use, hh, fl = "residential", int(ctx.rng.integers(20, 61)), int(ctx.rng.integers(6, 19))
                name = f"演示小区{len(placed) + 1}栋"
            else:
                w, h = ctx.rng.uniform(12, 20), ctx.rng.uniform(10, 16)
                use, hh, fl, name = "commercial", 0, int(ctx.rng.integers(2, 5)), "沿街商铺"
        else:
            use, hh, fl, name, (w, h) = _house(ctx)
        poly = rect(float(pos[0]), float(pos[1]), w, h, angle)
        if _add_building(ctx, poly, use, hh, fl, name, near=near, max_pipe=max_pipe):
            placed.append(poly)
    return placed


def _pipe_village(ctx: DemoContext, code: str, s: float, offset: float, n: int, along: float,
                  across: float, kind: str = "village") -> list[Polygon]:
    line = ctx.pipes[code]
    p, t, nrm = frame_at(line, s)
    return place_village(ctx, p + nrm * offset, t, n, along, across, kind=kind, near=line,
                         max_pipe=400.0)


def make_buildings(ctx: DemoContext) -> None:
    """Generate about 1500 footprints: encroachments, a town, a tower cluster and villages."""
    rng = ctx.rng
    # 1. Encroachments first so that nothing else takes their place.
    plan = (("GAS-01", 0.0), ("PRD-01", 0.0), ("GAS-01", 2.4), ("GAS-01", 3.6), ("OIL-01", 4.1),
            ("PRD-01", 2.9), ("GAS-02", 4.7), ("GAS-01", 5.6), ("GAS-01", 7.2), ("GAS-01", 9.4),
            ("OIL-01", 6.3), ("PRD-01", 5.3), ("PRD-01", 8.1), ("PRD-01", 9.8), ("GAS-02", 6.8))
    encroach: list[tuple[str, float]] = []
    for code, target in plan:
        line = ctx.pipes[code]
        for _ in range(200):
            s = rng.uniform(2500.0, line.length - 2500.0)
            side = 1.0 if rng.random() < 0.5 else -1.0
            if target == 0.0:
                use, hh, fl, name = "agricultural", 0, 1, "蔬菜大棚"
                w, h = rng.uniform(14, 20), rng.uniform(8, 12)
            else:
                use, hh, fl, name, (w, h) = _house(ctx)
            poly = place_at_distance(line, s, side, target, w, h)
            others = [ln for c2, ln in ctx.pipes.items() if c2 != code]
            if min(poly.distance(o) for o in others) < 200.0:
                continue
            if _add_building(ctx, poly, use, hh, fl, name, check_pipes=False):
                encroach.append((code, s))
                # the squatter's neighbours
                p, t, nrm = frame_at(line, s)
                place_village(ctx, p + nrm * side * 70.0, t, int(rng.integers(4, 10)), 120.0, 50.0,
                              near=line, max_pipe=400.0)
                break
    ctx.marks["encroach"] = encroach
    # 2. Class-3 suburban town straddling GAS-01 in 安宁.
    line, s = ctx.pipe_s(ANCHOR_TOWN)
    town = _pipe_village(ctx, "GAS-01", s, 0.0, 110, 750.0, 190.0)
    ctx.marks["town"] = town
    # 3. Class-4 cluster of 6-18 storey blocks by GAS-01 in 西山.
    line, s = ctx.pipe_s(ANCHOR_TOWERS)
    towers = _pipe_village(ctx, "GAS-01", s, 105.0, 40, 550.0, 90.0, kind="towers")
    towers += _pipe_village(ctx, "GAS-01", s + 150.0, -110.0, 12, 350.0, 80.0, kind="towers")
    ctx.marks["towers"] = towers
    # 4. Villages and hamlets along every pipeline, keeping the fuel-station stretch empty.
    reserved = [ctx.pipe_s(a) for a in (ANCHOR_FUEL, ANCHOR_TOWN, ANCHOR_TOWERS)]
    plan_v = {"GAS-01": (15, 10), "OIL-01": (3, 3), "PRD-01": (11, 8), "GAS-02": (3, 2)}
    for code, (n_village, n_hamlet) in plan_v.items():
        line = ctx.pipes[code]
        made = 0
        tries = 0
        while made < n_village + n_hamlet and tries < 400:
            tries += 1
            s = rng.uniform(1500.0, line.length - 1500.0)
            if any(ln is line and abs(s - s0) < 2500.0 for ln, s0 in reserved):
                continue
            hamlet = made >= n_village
            offset = rng.uniform(40.0, 330.0) * (1 if rng.random() < 0.5 else -1)
            if hamlet:
                got = _pipe_village(ctx, code, s, offset, int(rng.integers(3, 9)), 90.0, 60.0)
            else:
                got = _pipe_village(ctx, code, s, offset, int(rng.integers(15, 46)),
                                    rng.uniform(200, 380), rng.uniform(70, 120))
            if got:
                made += 1
    # 5. A few villages away from the pipelines (near county seats).
    for adcode in ("530102", "530127", "530129", "530126", "530115", "530124", "530128"):
        x, y = ctx.near_seat(adcode, 7000.0)
        a = rng.uniform(0, math.pi)
        place_village(ctx, np.array([x, y]), np.array([math.cos(a), math.sin(a)]),
                      int(rng.integers(15, 35)), 250.0, 120.0)
