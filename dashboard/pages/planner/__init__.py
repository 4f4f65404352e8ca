"""Planner workspace (规划审查): the violations register and the site pre-check on one map.

The register lists every stored finding (all statuses, filtered by rule, district and status);
a row zooms the map to the finding and shows its detail, where the planner can change its
remediation status. The pre-check takes a site from a map click, a drawn polygon, an uploaded
file or typed coordinates, runs the rules for an intended use and shows the verdict with every
reason, draws the reasons and a ring at each required distance, and offers the reasons as a PDF.

This module lays the page out; :mod:`.findings` is the register, :mod:`.precheck` the pre-check and
:mod:`.common` their ids, strings and formatters (the ids are re-exported here for tests).
"""

from __future__ import annotations

from typing import Any

import dash
import dash_leaflet as dl
from dash import Input, Output, State, dcc, html

from dashboard import ids
from dashboard.context import AppContext
from dashboard.i18n import t
from dashboard.mapview import DISTRICT_STYLE, EMPTY, geojson_layer, legend, legend_item, to_geojson
from dashboard.pages.planner import findings, precheck
from dashboard.pages.planner.page_ids import *  # noqa: F403  (the page's component ids, for callbacks and tests)
from dashboard.pages.planner.page_ids import (
    P_DISTRICTS,
    P_DRAW,
    P_FINDINGS,
    P_HAZARDS,
    P_LAST,
    P_LEVEL,
    P_PIPELINES,
    P_REASONS,
    P_REFRESH,
    P_RINGS,
    P_SELECTED,
    P_SELECTED_GEOM,
    P_SITE,
    P_SITE_LAYER,
    P_TABS,
    P_TARGETS,
    PLANNER,
    PLANNER_MAP,
)
from dashboard.pages.planner.style import (
    CITY_CENTER,
    CITY_ZOOM,
    FINDING_POINT,
)
from dashboard.routing import Page
from geo.rule_admin import effective_ruleset
from layers.palette import FOUR_COLOUR, OVERLAY
from layers.planning import map_sources


def _district_outlines(ctx: AppContext) -> dict[str, Any]:
    districts = ctx.snapshot().bundle["districts"]
    return to_geojson(districts, {"adcode": "adcode", "name": "name", "tooltip": "name"}, simplify=0.0003)


def _hazards(ctx: AppContext, lang: str, levels: list[str] | None = None) -> dict[str, Any]:
    src = map_sources(ctx.snapshot().sources, levels)
    label = "level_zh" if lang == "zh" else "risk_level"
    return to_geojson(src, {"colour": "colour", "radius": lambda r: 5, "level": "risk_level",
                            "tooltip": lambda r: f"{r['name']} · {r[label]}"})


def _chosen_levels(value: Any) -> list[str]:
    """The 四色 level codes of a filter value (anything else a forged request sends is dropped)."""
    return [v for v in value if isinstance(v, str) and v in FOUR_COLOUR] if isinstance(value, list) else []


def _level_filter(lang: str) -> html.Div:
    """Which 四色 levels of risk sources the map draws; the choice is kept for the browser session."""
    return html.Div([
        html.Span(t("f_level", lang), className="planner-filter-label"),
        dcc.Checklist(id=P_LEVEL, value=[level.value for level in FOUR_COLOUR], inline=True,
                      persistence=True, persistence_type="session",
                      options=[{"label": legend_item(swatch, lang), "value": level.value}
                               for level, swatch in FOUR_COLOUR.items()]),
    ], className="planner-status-filter planner-level-filter")


def _targets(ctx: AppContext) -> dict[str, Any]:
    pts = ctx.snapshot().bundle["protection_targets"]
    if not len(pts):
        return EMPTY
    pts = pts.set_geometry(pts.geometry.representative_point())
    return to_geojson(pts, {"colour": lambda r: OVERLAY["protection_target"].hex, "radius": lambda r: 3,
                            "tooltip": "name"})


def _pipelines(ctx: AppContext) -> dict[str, Any]:
    pipes = ctx.snapshot().bundle["pipelines"]
    return to_geojson(pipes, {"colour": lambda r: OVERLAY["pipeline"].hex, "weight": lambda r: 3,
                              "dash": lambda r: "6 4", "tooltip": lambda r: f"{r['name']}（{r['code']}）"})


def _legend(lang: str) -> html.Div:
    """Legend under the map: 四色 of enterprises and tailings ponds, then the page's other layers."""
    return legend(lang, overlays=("selected", "ring", "finding", "pipeline", "protection_target"), below=True,
                  legend_id="planner-legend")


def layout(ctx: AppContext, lang: str, **params: Any) -> html.Div:
    """The planner page."""
    snap = ctx.snapshot()
    if not len(snap.bundle["districts"]):
        return html.Div([html.H2(t("nav_planner", lang)), html.P(t("empty", lang), className="empty")])
    rules = effective_ruleset(ctx.engine)
    names = snap.bundle["districts"].set_index("adcode")["name"]
    base = [dl.TileLayer(url=ctx.basemap_url)] if ctx.basemap_url else []
    the_map = dl.Map([
        *base,
        dl.GeoJSON(id=P_DISTRICTS, data=_district_outlines(ctx), style=DISTRICT_STYLE, hideout={"mode": "four"}),
        geojson_layer(P_PIPELINES, _pipelines(ctx), kind="line"),
        geojson_layer(P_TARGETS, _targets(ctx), kind="point"),
        geojson_layer(P_HAZARDS, EMPTY, kind="point"),  # drawn by the level filter's callback
        dl.GeoJSON(id=P_FINDINGS, data=EMPTY, pointToLayer=FINDING_POINT, style={"variable": "riskmap.lineStyle"}),
        geojson_layer(P_RINGS, EMPTY, kind="point"),
        geojson_layer(P_REASONS, EMPTY, kind="point"),
        geojson_layer(P_SELECTED_GEOM, EMPTY, kind="point"),
        geojson_layer(P_SITE_LAYER, EMPTY, kind="point"),
        dl.FeatureGroup([dl.EditControl(
            id=P_DRAW, position="topleft",
            draw={"polygon": True, "rectangle": True, "polyline": False, "circle": False, "circlemarker": False,
                  "marker": False},
            edit={"edit": False, "remove": True})]),
    ], id=PLANNER_MAP, center=CITY_CENTER, zoom=CITY_ZOOM, className="leaflet-map", attributionControl=False)
    return html.Div([
        dcc.Store(id=P_REFRESH, data=0), dcc.Store(id=P_SELECTED, data=None), dcc.Store(id=P_SITE, data=None),
        dcc.Store(id=P_LAST, data=None),
        html.Div([html.H2(t("nav_planner", lang)), html.P(t("intro", lang), className="hint")],
                 className="planner-head"),
        html.Div([
            html.Div([the_map, _level_filter(lang), _legend(lang)], className="map-panel"),
            html.Div(dcc.Tabs(id=P_TABS, value="precheck", className="planner-tabs", children=[
                dcc.Tab(label=t("tab_precheck", lang), value="precheck", children=precheck.panel(lang)),
                dcc.Tab(label=t("tab_finding", lang), value="finding", children=findings.finding_panel(ctx, lang)),
            ]), className="side-panel planner-side"),
        ], className="main-row"),
        findings.register_section(rules, names, lang),
    ], className="planner", id=PLANNER)


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Planner callbacks: the map's level filter, the register's and the pre-check's."""

    @app.callback(Output(P_HAZARDS, "data"), Input(P_LEVEL, "value"), State(ids.LANG, "value"))
    def sources_by_level(levels: Any, lang: Any) -> dict[str, Any]:
        return _hazards(ctx, lang if lang in ("zh", "en") else "zh", _chosen_levels(levels))

    findings.register(app, ctx)
    precheck.register(app, ctx)


PAGES = (Page("/planner", layout, nav_key="nav_planner", order=20, action="planner_page", prefix=True),)
