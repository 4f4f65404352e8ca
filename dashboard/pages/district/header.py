"""The district workspace's header: name, 五色 badge, score and rank, counts of the 清单风险点, a small map."""

from __future__ import annotations

import math
from typing import Any

import dash_leaflet as dl
import pandas as pd
from dash import html

from dashboard.context import AppContext
from dashboard.i18n import t
from dashboard.mapview import EMPTY, bounds_of, district_collection, geojson_layer, legend, to_geojson
from dashboard.pages.district.chooser import (
    _district_names,
)
from dashboard.pages.district.page_ids import (
    DISTRICT_MAP,
)
from dashboard.pages.district.tables import (
    _LIGHT_TEXT,
)
from layers.city import CitySnapshot
from layers.measures import measure_definition, measure_label
from layers.palette import FOUR_COLOUR, level_colour, level_label
from layers.rating import method_note

#: Pixel size of the header map (kept in step with .district-map in assets/district.css).
MAP_SIZE = (440, 250)


def _fit_zoom(south: float, west: float, north: float, east: float, width: int = MAP_SIZE[0],
              height: int = MAP_SIZE[1]) -> int:
    """Largest web-map zoom at which the box fits a ``width`` × ``height`` pixel map."""
    stretch = 1 / max(math.cos(math.radians((south + north) / 2)), 0.2)  # Mercator stretch of latitude
    px_per_degree = 256 / 360
    fit = min(width / (max(east - west, 1e-6) * px_per_degree),
              height / (max(north - south, 1e-6) * px_per_degree * stretch))
    return max(3, min(14, math.floor(math.log2(fit))))


#: Measures named in the facts line (their definitions make its tooltip).
FACT_MEASURES = ("risk_sources", "major_risks", "significant_risks", "hazards_total", "open_hazards", "open_findings",
                 "violations")


def _facts(snap: CitySnapshot, adcode: str, lang: str) -> str:
    """One line of counts, each a measure of :mod:`layers.measures`: sources, registers, hazards, findings, date."""
    def n(layer: str) -> int:
        frame = snap.bundle[layer]
        return int((frame["adcode"] == adcode).sum()) if len(frame) and "adcode" in frame.columns else 0

    m: Any = snap.measures.loc[adcode]
    return t("facts", lang, src=int(m["risk_sources"]), major=int(m["major_risks"]),
              sig=int(m["significant_risks"]), ent=n("enterprises"), td=n("tailings_dams"),
              haz=int(m["hazards_total"]), open=int(m["open_hazards"]), found=int(m["open_findings"]),
              viol=int(m["violations"]), day=snap.as_of.isoformat())


def _facts_title(lang: str) -> str:
    """Tooltip of the facts line: what each figure counts."""
    return "\n".join(f"{measure_label(c, lang)}：{measure_definition(c, lang)}" if lang == "zh"
                     else f"{measure_label(c, lang)}: {measure_definition(c, lang)}" for c in FACT_MEASURES)


def _listed_points(snap: CitySnapshot, adcode: str) -> pd.DataFrame:
    """The district's 清单风险点 (every risk point of the 4张清单, not merged with facilities), with colours."""
    points = snap.bundle["risk_points"]
    points = points[points["adcode"] == adcode] if len(points) else points
    return points.assign(colour=[level_colour(v) for v in points["risk_level"]]) if len(points) else points


def _header(ctx: AppContext, snap: CitySnapshot, adcode: str, lang: str) -> list[Any]:
    names = _district_names(snap)
    r: Any = snap.ratings.loc[adcode] if adcode in snap.ratings.index else None
    badge: list[Any] = []
    if r is not None:
        ink = "#FFFFFF" if str(r["class_code"]) in ("c1", "c4") else "#1F2933"
        badge = [
            html.Span(str(r["class_zh" if lang == "zh" else "class_en"]), className="district-badge",
                      id="district-badge", style={"backgroundColor": r["colour"], "color": ink},
                      title=method_note(snap.rubric, lang)),
            html.Span(f"{t('score', lang)} {float(r['score']):.1f}", className="district-score",
                      id="district-score"),
            html.Span(t("rank", lang, rank=int(r["rank"]), n=int(r.get("n_districts", len(snap.ratings)))),
                      className="district-rank", id="district-rank"),
        ]
        if bool(r.get("rating_stale", False)):  # published before the latest changes (a district cannot rate the city)
            badge.append(html.Span(
                f"评级为 {r['rating_as_of']} 发布，数据已更新，待全市账号重新发布" if lang == "zh" else
                f"rating published {r['rating_as_of']}; the data changed since, a city-wide session republishes it",
                className="district-rating-stale", id="district-rating-stale"))
    src = _listed_points(snap, adcode)
    chips = []
    for level, swatch in FOUR_COLOUR.items():
        n = int((src["risk_level"] == level.value).sum()) if len(src) else 0
        ink = "#FFFFFF" if level in _LIGHT_TEXT else "#1F2933"
        chips.append(html.Span(f"{swatch.zh if lang == 'zh' else swatch.en} {n}", className="district-chip",
                               style={"backgroundColor": swatch.hex, "color": ink}))
    districts = snap.bundle["districts"]
    outline = districts[districts["adcode"] == adcode]
    points = to_geojson(src, {"colour": "colour", "radius": lambda row: 7,
                              "tooltip": lambda row: f"{row['name']} · {level_label(row['risk_level'], lang)}"}
                        ) if len(src) else EMPTY
    base = [dl.TileLayer(url=ctx.basemap_url)] if ctx.basemap_url else []
    shape = district_collection(outline, snap.summary, snap.ratings, lang)
    (south, west), (north, east) = bounds_of(outline)
    small_map = dl.Map([*base, geojson_layer("district-outline", shape, kind="district",
                                             hideout={"mode": "four", "selected": adcode}),
                        geojson_layer("district-points", points, kind="point")],
                       id=DISTRICT_MAP, bounds=[[south, west], [north, east]], boundsOptions={"padding": [12, 12]},
                       center=[(south + north) / 2, (west + east) / 2], zoom=_fit_zoom(south, west, north, east),
                       className="district-map", attributionControl=False, scrollWheelZoom=False)
    return [
        html.Div([
            html.H2([names[adcode], html.Span(f"（{adcode}）" if lang == "zh" else f" ({adcode})",
                                              className="district-code")], id="district-name"),
            html.Div(badge, className="district-rating"),
            html.Div([html.Span(f"{t('points', lang)}：" if lang == "zh" else f"{t('points', lang)}: ",
                                className="district-chip-label"), *chips], className="district-chips",
                     title=measure_definition("risk_points", lang)),
            html.P(_facts(snap, adcode, lang), className="district-facts", id="district-facts",
                   title=_facts_title(lang)),
        ], className="district-head-text"),
        html.Div([small_map, legend(lang, below=True, legend_id="district-legend"),
                  html.Div(t("map_note", lang), className="district-map-note")], className="district-map-box"),
    ]
