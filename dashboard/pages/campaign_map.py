"""The small maps of the campaign pages: district outlines (and tiles when configured) under the page's layers."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl

from dashboard.auth import current_user
from dashboard.context import AppContext
from dashboard.mapview import bounds_of, geojson_layer, to_geojson
from geo import store


def campaign_map(ctx: AppContext, map_id: str, layers: list[Any], *, height: str = "360px") -> dl.Map:
    """A map of the account's district (the city for city-wide accounts) with ``layers`` on top.

    Parameters
    ----------
    ctx : AppContext
        The app's context (engine, optional tile URL).
    map_id : str
        Component id of the map.
    layers : list
        dash-leaflet layers drawn over the outlines.
    height : str
        CSS height.

    Returns
    -------
    dl.Map
    """
    districts = store.read_districts(ctx.engine)
    districts = districts.loc[districts["level"] != "city"] if "level" in districts else districts
    user = current_user()
    home = districts.loc[districts["adcode"] == user.get("adcode")] if user and user.get("adcode") else districts
    (south, west), (north, east) = bounds_of(home if len(home) else districts)
    outlines = to_geojson(districts, {"adcode": "adcode", "name": "name", "tooltip": "name"}, simplify=0.0003)
    base = [dl.TileLayer(url=ctx.basemap_url)] if ctx.basemap_url else []
    return dl.Map([*base, geojson_layer(f"{map_id}-outlines", outlines, kind="district", hideout={"mode": "four"}),
                   *layers], id=map_id, bounds=[[south, west], [north, east]], boundsOptions={"padding": [8, 8]},
                  center=[(south + north) / 2, (west + east) / 2], zoom=9, attributionControl=False,
                  style={"height": height}, className="campaign-map")
