"""Build dash-leaflet map layers (GeoJSON dicts with display properties) and map legends.

Severity order: features with a ``risk_level`` are written least severe first and each carries the
map pane of its level (``layers.palette.level_pane``), so 重大 red markers are drawn on top at any
zoom and after any redraw (assets/riskmap_map.js creates the panes).
"""

from __future__ import annotations

import json
import math
from typing import Any

import dash_leaflet as dl
import geopandas as gpd
import pandas as pd
from dash import html

from geo.constants import STORAGE_SRID
from layers.palette import (
    DRAW_ORDER,
    FIVE_COLOUR,
    FOUR_COLOUR,
    NO_DATA,
    OVERLAY,
    TOP_PANE,
    TOP_PANE_Z,
    Swatch,
    draw_rank,
    level_pane,
)

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

    ``props`` maps output property names to a column name or to a callable of the row. When ``gdf``
    has a ``risk_level`` column, features come least severe first and carry their level's map pane
    (properties ``pane`` and ``paneZ``).
    """
    if gdf is None or not len(gdf):
        return EMPTY
    if "risk_level" in gdf.columns:  # least severe first: later features are drawn on top
        gdf = gdf.iloc[gdf["risk_level"].map(draw_rank).to_numpy().argsort(kind="stable")]
    geoms = gdf.geometry.simplify(simplify, preserve_topology=True) if simplify else gdf.geometry
    features = []
    rows = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    for row, geom in zip(rows, geoms, strict=True):
        if geom is None or geom.is_empty:
            continue
        properties: dict[str, Any] = {}
        if draw_rank(row.get("risk_level")) >= 0:
            properties["pane"], properties["paneZ"] = level_pane(str(row["risk_level"]))
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

    gdf = gpd.GeoDataFrame(frame.reset_index(), geometry=frame.geometry.values, crs=STORAGE_SRID)
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


def on_top(collection: dict[str, Any]) -> dict[str, Any]:
    """``collection`` with every feature in the pane above all risk levels (e.g. a proposed site)."""
    return {**collection, "features": [
        {**f, "properties": {**f.get("properties", {}), "pane": TOP_PANE, "paneZ": TOP_PANE_Z}}
        for f in collection.get("features", [])]}


#: Shapes of legend keys: a filled dot, a filled area, a solid line, a dashed line, a dashed ring.
LEGEND_SHAPES = ("dot", "area", "line", "dash", "ring")


def legend_item(swatch: Swatch, lang: str, shape: str = "dot", label: str | None = None) -> html.Span:
    """One legend entry: a key drawn in the swatch's colour and its label in ``lang``."""
    if shape not in LEGEND_SHAPES:
        raise ValueError(f"unknown legend shape {shape!r}")
    return html.Span([html.Span(className=f"map-legend-key map-legend-{shape}", style={"--key": swatch.hex}),
                      html.Span(label or (swatch.zh if lang == "zh" else swatch.en), className="map-legend-label")],
                     className="map-legend-item")


def legend(lang: str, *, levels: bool = True, classes: bool = False, overlays: tuple[str, ...] = (),
           title: dict[str, str] | None = None, legend_id: str | None = None,
           extra: list[Any] | None = None, below: bool = False) -> html.Div:
    """A map legend built from layers/palette.py in ``lang``.

    Parameters
    ----------
    lang : str
        "zh" or "en".
    levels : bool
        Show the four risk levels (四色), most severe first.
    classes : bool
        Show the five district classes (五色).
    overlays : tuple of str
        Keys of ``layers.palette.OVERLAY`` to show, in this order; pipelines are drawn dashed.
    title : dict, optional
        ``{"zh": ..., "en": ...}`` heading of the legend.
    legend_id : str, optional
        Component id of the legend (for callbacks that update it).
    extra : list, optional
        Further entries (e.g. from legend_item) appended at the end.
    below : bool
        Laid out under the map (no frame) instead of floating over its corner.
    """
    def section(head: str, items: list[Any], name: str) -> html.Div:
        return html.Div([html.Span(head, className="map-legend-head"), *items],
                        className=f"map-legend-section map-legend-{name}")

    zh = lang == "zh"
    body: list[Any] = []
    if title:
        body.append(html.Div(title.get(lang, title["zh"]), className="map-legend-title"))
    if levels:
        body.append(section("风险源四色" if zh else "Risk sources",
                            [legend_item(FOUR_COLOUR[lv], lang) for lv in reversed(DRAW_ORDER)], "levels"))
    if classes:
        body.append(section("区县五色" if zh else "District classes",
                            [legend_item(sw, lang, "area") for sw in FIVE_COLOUR.values()], "classes"))
    others = [legend_item(OVERLAY[key], lang, {"pipeline": "dash", "ring": "ring"}.get(key, "dot"))
              for key in overlays]
    if others or extra:
        body.append(section("其他图层" if zh else "Other layers", [*others, *(extra or [])], "others"))
    name = "map-legend map-legend--below" if below else "map-legend"
    return html.Div(body, id=legend_id, className=name) if legend_id else html.Div(body, className=name)
