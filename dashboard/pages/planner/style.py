"""How the planner page looks: map defaults, colours, font, and the viewport that fits features."""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from layers.palette import FOUR_COLOUR, RiskLevel

CITY_CENTER, CITY_ZOOM = [25.05, 102.75], 9
SITE_ZOOM = 15
#: Point style of this page (does not pass clicks on to the map, so clicking a finding never moves the site).
FINDING_POINT = {"variable": "rmPlanner.findingPoint"}
RED, BLUE = FOUR_COLOUR[RiskLevel.MAJOR].hex, FOUR_COLOUR[RiskLevel.LOW].hex
FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif'


def bounds_view(geoms: gpd.GeoSeries, *, pad_deg: float = 0.006) -> dict[str, Any]:
    """A map viewport fitting ``geoms`` with some room around them."""
    minx, miny, maxx, maxy = (float(v) for v in geoms.total_bounds)
    pad = max(pad_deg, 0.15 * max(maxx - minx, maxy - miny))
    return {"bounds": [[miny - pad, minx - pad], [maxy + pad, maxx + pad]], "transition": "fitBounds"}
