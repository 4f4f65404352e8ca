"""Tailings ponds operated by the mining enterprises."""

from __future__ import annotations

from shapely.geometry import Point

from geo.demo.context import CN_NUM, DemoContext

# (adcode, storage 万m³, dam height m, safety degree, status, risk level, people downstream)
_TAILINGS: tuple[tuple[str, float, float, str | None, str, str, bool], ...] = (
    ("530113", 20000.0, 120.0, "normal", "operating", "major", False),
    ("530113", 3000.0, 70.0, "sick", "operating", "significant", True),
    ("530113", 600.0, 105.0, "risk", "stopped", "major", True),
    ("530113", 50.0, 20.0, "normal", "closed", "low", False),
    ("530128", 1500.0, 45.0, "normal", "operating", "significant", False),
    ("530128", 80.0, 35.0, "sick", "stopped", "general", False),
    ("530181", 500.0, 40.0, "normal", "operating", "general", True),
    ("530181", 12000.0, 85.0, "danger", "stopped", "major", True),
    ("530124", 3000.0, 70.0, "normal", "operating", "significant", False),
    ("530124", 30.0, 15.0, "normal", "closed", "low", False),
    ("530129", 800.0, 55.0, "sick", "operating", "general", False),
    ("530129", 200.0, 28.0, None, "building", "low", False),
)


def make_tailings(ctx: DemoContext) -> None:
    """Generate 12 tailings ponds operated by the mining enterprises flagged ``t``."""
    owners = [e for e in ctx.enterprises if "t" in e["_flags"]]
    per: dict[str, int] = {}
    for adcode, storage, height, safety, status, risk, downstream in _TAILINGS:
        owner = next(e for e in owners if e["adcode"] == adcode)
        ex = owner["geometry"]
        x, y = ctx.sample(adcode, (ex.x, ex.y), 1500.0, 6000.0)
        per[adcode] = per.get(adcode, 0) + 1
        k = per[adcode]
        ctx.tailings.append({
            "code": f"TD-{adcode}-{k:02d}",
            "name": f"{ctx.districts[adcode].short}演示{owner['_stem']}{CN_NUM[k - 1]}号尾矿库",
            "adcode": adcode, "operator": owner["name"], "credit_code": owner["credit_code"],
            "total_storage_10k_m3": storage, "dam_height_m": height, "safety_degree": safety,
            "status": status, "risk_level": risk, "geometry": Point(x, y),
            "_downstream": downstream, "_owner": owner,
        })
