"""Enterprises and the individual-risk contours around the major-hazard plants."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from shapely.geometry import MultiPolygon, Point

from geo.demo.context import CN_NUM, DemoContext
from geo.demo.geometry import blob, shape_factor

#: Site of the refinery in 安宁 (lon/lat); the products line PRD-01 starts at its fence.
_REFINERY = (102.392, 24.975)

# (adcode, industry, stem, mhs_grade, risk_level, flags)
#   flags: c = individual-risk contours, n = new installation, x = explosives,
#          t = operates tailings ponds, p = chemical park of 安宁
_ENTERPRISES: tuple[tuple[str, str, str, int | None, str, str], ...] = (
    ("530181", "refinery", "石化", 1, "major", "c"),
    ("530181", "hazchem_production", "磷化工", 2, "major", "cp"),
    ("530181", "hazchem_production", "氯碱化工", 1, "major", "cnp"),
    ("530181", "hazchem_storage", "液化气储配", 3, "significant", "p"),
    ("530181", "hazchem_storage", "化工仓储", 4, "general", "p"),
    ("530181", "hazchem_production", "精细化工", 3, "significant", "np"),
    ("530181", "metallurgy", "钢铁", None, "significant", ""),
    ("530181", "mining", "铁矿", None, "significant", "t"),
    ("530181", "gas_station", "", None, "low", ""),
    ("530181", "gas_station", "", None, "low", ""),
    ("530181", "other", "物流", None, "low", ""),
    ("530112", "hazchem_production", "磷化工", 2, "significant", "c"),
    ("530112", "mining", "磷矿", None, "significant", ""),
    ("530112", "hazchem_storage", "危化品仓储", 3, "general", ""),
    ("530112", "metallurgy", "冶金", None, "general", ""),
    ("530112", "gas_station", "", None, "low", ""),
    ("530112", "other", "建材", None, "low", ""),
    ("530111", "hazchem_storage", "液化石油气储配", 2, "major", "c"),
    ("530111", "hazchem_storage", "油库", 3, "significant", ""),
    ("530111", "hazchem_production", "医药化工", 4, "general", ""),
    ("530111", "gas_station", "", None, "low", ""),
    ("530111", "gas_station", "", None, "general", ""),
    ("530111", "other", "冷链物流", None, "low", ""),
    ("530113", "mining", "铜矿", None, "major", "t"),
    ("530113", "mining", "铜业矿山", None, "significant", "t"),
    ("530113", "mining", "铁矿", None, "significant", "t"),
    ("530113", "mining", "多金属矿", None, "general", ""),
    ("530113", "metallurgy", "冶炼", None, "significant", ""),
    ("530113", "hazchem_storage", "民爆器材", 2, "major", "x"),
    ("530113", "gas_station", "", None, "low", ""),
    ("530102", "gas_station", "", None, "low", ""),
    ("530102", "hazchem_storage", "气体充装", 4, "general", ""),
    ("530102", "other", "印务", None, "low", ""),
    ("530103", "gas_station", "", None, "low", ""),
    ("530103", "hazchem_storage", "危化品经营", None, "general", ""),
    ("530103", "mining", "建材矿山", None, "low", ""),
    ("530114", "gas_station", "", None, "low", ""),
    ("530114", "hazchem_storage", "燃气储配", 3, "significant", ""),
    ("530114", "other", "食品", None, "low", ""),
    ("530115", "hazchem_production", "磷化工", 2, "significant", "c"),
    ("530115", "mining", "磷矿", None, "general", ""),
    ("530115", "gas_station", "", None, "low", ""),
    ("530124", "mining", "铅锌矿", None, "significant", "t"),
    ("530124", "metallurgy", "钛业", None, "general", ""),
    ("530124", "gas_station", "", None, "low", ""),
    ("530125", "fireworks", "烟花爆竹", None, "significant", "x"),
    ("530125", "hazchem_production", "化工", 3, "significant", "cn"),
    ("530125", "gas_station", "", None, "low", ""),
    ("530126", "hazchem_storage", "危化品仓储", 4, "general", ""),
    ("530126", "mining", "石材", None, "low", ""),
    ("530126", "gas_station", "", None, "low", ""),
    ("530127", "hazchem_production", "生物化工", 4, "general", ""),
    ("530127", "metallurgy", "铸造", None, "general", ""),
    ("530127", "gas_station", "", None, "low", ""),
    ("530128", "mining", "钛矿", None, "significant", "t"),
    ("530128", "mining", "铜矿", None, "general", ""),
    ("530128", "gas_station", "", None, "low", ""),
    ("530129", "mining", "磷矿", None, "significant", "t"),
    ("530129", "hazchem_production", "磷化工", 3, "significant", "c"),
    ("530129", "gas_station", "", None, "low", ""),
)

HAZCHEM = ("hazchem_production", "hazchem_storage", "refinery")


_IR_LEVELS = (3e-5, 1e-5, 3e-6, 1e-6, 3e-7)
_IR_RADII_M = (80.0, 180.0, 320.0, 520.0, 900.0)
_MHS_SCALE = {1: (1.05, 1.2), 2: (0.85, 1.0), 3: (0.7, 0.85), 4: (0.55, 0.7)}


def make_enterprises(ctx: DemoContext) -> None:
    """Generate about 60 fictitious enterprises, denser in 安宁/西山/官渡/东川."""
    park = ctx.xy(102.43, 24.95)
    gas_no: dict[str, int] = {}
    for adcode, industry, stem, mhs, risk, flags in _ENTERPRISES:
        d = ctx.districts[adcode]
        if industry == "refinery":
            x, y = ctx.xy(*_REFINERY)
            if ctx.locate(x, y) != adcode:
                raise RuntimeError("refinery anchor is outside 安宁市")
        else:
            for _ in range(100):  # keep plants clear of the pipelines
                if "p" in flags:
                    x, y = ctx.sample(adcode, park, 1500.0, 9000.0)
                elif industry in ("gas_station", "other", "hazchem_storage"):
                    x, y = ctx.near_seat(adcode, 9000.0)
                else:
                    x, y = ctx.sample(adcode)
                if ctx.pipe_distance(Point(x, y)) >= 400.0:
                    break
        if industry == "gas_station":
            gas_no[adcode] = gas_no.get(adcode, 0) + 1
            name = f"{d.short}演示能源有限公司第{CN_NUM[gas_no[adcode] - 1]}加油站"
        else:
            name = f"{d.short}演示{stem}有限公司"
        township = ctx.township(adcode)
        hazchem = industry in HAZCHEM
        ext = float(round(ctx.rng.uniform(100, 600), -1)) if hazchem else None
        add_enterprise(ctx, adcode, name, industry, Point(x, y), township=township, stem=stem, flags=flags,
                       mhs_grade=mhs, risk_level=risk, external_distance_m=ext, new="n" in flags,
                       has_explosives="x" in flags or industry == "fireworks")


def add_enterprise(ctx: DemoContext, adcode: str, name: str, industry: str, geom: Point, *, township: str,
                   stem: str, risk_level: str, flags: str = "", mhs_grade: int | None = None,
                   external_distance_m: float | None = None, new: bool = False,
                   has_explosives: bool = False) -> dict[str, Any]:
    """Add an enterprise record and return it; draws its credit code, address, principal and phone, in that order.

    Keys starting with ``_`` (township, flags, stem) are for the later builders and are not output; the
    township (the enterprise's 街道/乡镇, for the street 调度表) is output as ``township`` too.
    """
    rec: dict[str, Any] = {
        "credit_code": ctx.credit_code(adcode), "name": name, "adcode": adcode,
        "industry": industry, "address": ctx.address(adcode, township), "township": township,
        "mhs_grade": mhs_grade, "risk_level": risk_level, "external_distance_m": external_distance_m,
        "installation_status": "new" if new else "in_service", "has_explosives": has_explosives,
        "principal": ctx.person(), "phone": ctx.phone(),
        "geometry": geom, "_township": township, "_flags": flags, "_stem": stem,
    }
    ctx.enterprises.append(rec)
    return rec


def make_contours(ctx: DemoContext) -> None:
    """Build nested individual-risk contours for the enterprises flagged ``c``."""
    for e in ctx.enterprises:
        if "c" not in e["_flags"]:
            continue
        lo, hi = _MHS_SCALE[int(e["mhs_grade"])]
        scale = ctx.rng.uniform(lo, hi)
        ecc = ctx.rng.uniform(0.08, 0.22)
        wind = ctx.rng.uniform(0, math.pi)
        bumps = shape_factor(ctx.rng, 0.12)

        def shape(th: np.ndarray, ecc: float = ecc, wind: float = wind,
                  bumps: Callable[[np.ndarray], np.ndarray] = bumps) -> np.ndarray:
            return bumps(th) + ecc * np.cos(2 * (th - wind))

        c = e["geometry"]
        radii = [r * scale for r in _IR_RADII_M]
        e["_radii"] = radii
        e["_shape"] = shape
        for ir, r in zip(_IR_LEVELS, radii, strict=True):
            poly = blob(c.x, c.y, r, r, 0.0, shape, n=72)
            ctx.contours.append({"enterprise_key": e["credit_code"], "adcode": e["adcode"],
                                 "individual_risk": ir, "geometry": MultiPolygon([poly])})
        # GB/T 37243: the declared distance is the contour that binds high-sensitivity
        # targets, 3e-7 for new installations and 3e-6 for in-service ones.
        k = 4 if e["installation_status"] == "new" else 2
        th = np.linspace(0, 2 * math.pi, 72, endpoint=False)
        e["external_distance_m"] = float(math.ceil(radii[k] * float(shape(th).max()) / 10) * 10)
