"""Build dash-leaflet map layers (GeoJSON dicts with display properties) from GeoDataFrames."""

from __future__ import annotations

import json
import math
from typing import Any

import dash_leaflet as dl
import geopandas as gpd
import pandas as pd

from layers.palette import NO_DATA

DISTRICT_STYLE = {"variable": "riskmap.districtStyle"}
LINE_STYLE = {"variable": "riskmap.lineStyle"}
POINT_STYLE = {"variable": "riskmap.pointStyle"}
EMPTY: dict[str, Any] = {"type": "FeatureCollection", "features": []}
#: Display-only simplification of outlines (degrees ≈ 30 m); checks always use stored geometry.
DISPLAY_SIMPLIFY = 0.0003


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def to_geojson(gdf: gpd.GeoDataFrame, props: dict[str, Any] | None = None, *,
               simplify: float | None = None) -> dict[str, Any]:
    """A FeatureCollection of ``gdf`` with the chosen columns as properties (values JSON-safe).

    ``props`` maps output property names to a column name or to a callable of the row.
    """
    if gdf is None or not len(gdf):
        return EMPTY
    geoms = gdf.geometry.simplify(simplify, preserve_topology=True) if simplify else gdf.geometry
    features = []
    rows = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    for row, geom in zip(rows, geoms, strict=True):
        if geom is None or geom.is_empty:
            continue
        properties = {}
        for name, how in (props or {}).items():
            properties[name] = _clean(how(row) if callable(how) else row.get(how))
        features.append({"type": "Feature", "geometry": json.loads(json.dumps(geom.__geo_interface__)),
                         "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def district_collection(districts: gpd.GeoDataFrame, summary: pd.DataFrame, ratings: pd.DataFrame,
                        lang: str) -> dict[str, Any]:
    """District outlines with both fills: ``fill4`` (highest 四色 level) and ``fill5`` (五色 class)."""
    frame = districts.set_index("adcode")
    fill4 = summary["highest_colour"] if "highest_colour" in summary else pd.Series(dtype=str)
    label = "class_zh" if lang == "zh" else "class_en"

    def tip(row: dict[str, Any]) -> str:
        code = row["adcode"]
        if code not in ratings.index:
            return f"{row['name']}（{code}）"
        return f"{row['name']}（{code}）{ratings.loc[code, label]} {ratings.loc[code, 'score']:.1f}"

    gdf = gpd.GeoDataFrame(frame.reset_index(), geometry=frame.geometry.values, crs=4490)
    return to_geojson(gdf, {
        "adcode": "adcode", "name": "name",
        "fill4": lambda r: fill4.get(r["adcode"], NO_DATA.hex),
        "fill5": lambda r: ratings["colour"].get(r["adcode"], NO_DATA.hex) if "colour" in ratings else NO_DATA.hex,
        "tooltip": tip,
    }, simplify=DISPLAY_SIMPLIFY)


def geojson_layer(layer_id: str, data: dict[str, Any], *, kind: str, hideout: dict[str, Any] | None = None,
                  **kwargs: Any) -> dl.GeoJSON:
    """A GeoJSON layer styled by the project's JS functions (``kind``: district, line or point)."""
    options: dict[str, Any] = {"id": layer_id, "data": data, **kwargs}
    if kind == "district":
        options.update(style=DISTRICT_STYLE, hideout=hideout or {}, hoverStyle={"weight": 3, "color": "#000"})
    elif kind == "line":
        options.update(style=LINE_STYLE)
    else:
        options.update(pointToLayer=POINT_STYLE, style=LINE_STYLE)
    return dl.GeoJSON(**options)


def bounds_of(gdf: gpd.GeoDataFrame) -> list[list[float]]:
    """Leaflet bounds ``[[south, west], [north, east]]`` of a frame in EPSG:4490."""
    minx, miny, maxx, maxy = (float(v) for v in gdf.total_bounds)
    return [[miny, minx], [maxy, maxx]]
