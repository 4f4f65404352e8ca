"""Parks (化工园区/工业园区/物流园区) drawn around the demo enterprises they are meant to hold.

Every boundary is derived from enterprises already placed, with no random draw, so adding the parks
leaves every other layer of the demo exactly as it was. The boundaries are fictitious: only the name
of 安宁工业园区 is real (the petrochemical base of 安宁); its outline here is the hull of the demo
refinery and the demo plants of the 安宁 chemical park (flag ``p`` of :mod:`geo.demo.enterprises`).
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import MultiPolygon, Point
from shapely.ops import unary_union

from geo.demo.context import DemoContext

#: Margin of a hull-shaped park around its outermost plants (m, in the demo's metric CRS).
HULL_MARGIN_M = 800.0

# (code, name, adcode, park_type, level, managing body, how the boundary is drawn)
#   ("hull", flag or industry...) : hull of the district's enterprises with that flag or industry, plus the margin
#   ("disc", stem, radius_m)      : a disc around the district's enterprise with that stem
_PARKS: tuple[tuple[str, str, str, str, str, str, tuple[Any, ...]], ...] = (
    ("PK-530181-01", "安宁工业园区(演示)", "530181", "chemical", "provincial", "安宁工业园区管理委员会(演示)",
     ("hull", "p", "refinery")),
    ("PK-530112-01", "西山演示磷化工业园区", "530112", "industrial", "city", "西山区演示园区管理办公室",
     ("disc", "磷化工", 2500.0)),
    ("PK-530111-01", "官渡演示物流园区", "530111", "logistics", "county", "官渡区演示物流园区服务中心",
     ("disc", "冷链物流", 2000.0)),
)


def _members(ctx: DemoContext, adcode: str, marks: tuple[str, ...]) -> list[Point]:
    return [e["geometry"] for e in ctx.enterprises if e["adcode"] == adcode
            and (e["industry"] in marks or any(m in e["_flags"] for m in marks if len(m) == 1))]


def park_rows(ctx: DemoContext) -> list[dict[str, Any]]:
    """Return the demo parks as records (geometry in the demo's metric CRS), after the enterprises exist.

    Parameters
    ----------
    ctx : DemoContext
        The generator's context once :func:`geo.demo.enterprises.make_enterprises` has run.

    Returns
    -------
    list of dict
        One record per park of :data:`_PARKS`: the fields of the ``parks`` layer and ``geometry`` (a
        MultiPolygon inside its district). Nothing is drawn from the random streams.
    """
    rows: list[dict[str, Any]] = []
    for code, name, adcode, park_type, level, body, (how, *args) in _PARKS:
        if how == "hull":
            points = _members(ctx, adcode, tuple(args))
            shape = unary_union(points).convex_hull.buffer(HULL_MARGIN_M)
        else:
            stem, radius = args
            (centre,) = [e["geometry"] for e in ctx.enterprises if e["adcode"] == adcode and e["_stem"] == stem]
            shape = centre.buffer(radius)
        shape = shape.intersection(ctx.districts[adcode].geom)
        geom = shape if isinstance(shape, MultiPolygon) else MultiPolygon([shape])
        rows.append({"code": code, "name": name, "adcode": adcode, "park_type": park_type, "level": level,
                     "managing_body": body, "geometry": geom})
    return rows
