"""Leader cockpit (一张图): KPIs, the 四色/五色 map with layer toggles, district table, chart, drill-down."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import dash
import dash_leaflet as dl
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dash_table, dcc, html

from dashboard import ids
from dashboard.auth import current_user
from dashboard.context import AppContext
from dashboard.i18n import t, table_filter_options
from dashboard.mapview import EMPTY, bounds_of, district_collection, geojson_layer, legend, to_geojson
from dashboard.pages import cockpit_whatif, trends
from dashboard.routing import Page
from layers.city import CitySnapshot
from layers.measures import measure_definition
from layers.palette import FOUR_COLOUR, OVERLAY, RiskLevel
from layers.rating import explain, explain_text, method_note
from layers.snapshots import CITY

OVERLAYS = ("enterprises", "tailings_dams", "pipelines", "hcas", "risk_points", "protection_targets", "findings")
DEFAULT_OVERLAYS = ["enterprises", "tailings_dams", "pipelines", "hcas"]
CITY_CENTER, CITY_ZOOM = [25.25, 102.85], 8
SOURCE_TYPE = {"enterprises": "enterprise", "tailings_dams": "tailings_dam", "hcas": "hca",
               "risk_points": "risk_point"}
#: The map legend (it follows the 四色/五色 switch and the layer toggles).
LEGEND = "cockpit-legend"
#: Overlay toggles drawn in a colour of layers.palette.OVERLAY (toggle → OVERLAY key).
OVERLAY_KEYS = {"pipelines": "pipeline", "protection_targets": "protection_target", "findings": "finding"}


#: Decimals of the map coordinates sent to browsers (1e-5° ≈ 1 m; outlines are simplified to ≈ 30 m for display).
DISPLAY_DECIMALS = 5


def _rounded(collection: dict[str, Any]) -> dict[str, Any]:
    """``collection`` with its coordinates rounded to :data:`DISPLAY_DECIMALS` (half the bytes; display only)."""
    def rnd(c: Any) -> Any:
        return round(c, DISPLAY_DECIMALS) if isinstance(c, float) else [rnd(x) for x in c]

    return {**collection, "features": [
        {**f, "geometry": {**f["geometry"], "coordinates": rnd(f["geometry"]["coordinates"])}}
        if f.get("geometry") and "coordinates" in f["geometry"] else f for f in collection["features"]]}


def _plain(fig: go.Figure) -> dict[str, Any]:
    """``fig`` as plain JSON data: a kept figure is then sent without plotly copying and checking it again."""
    return dict(json.loads(fig.to_json()))


def _legend(mode: str, shown: list[str] | None, lang: str) -> html.Div:
    """Legend of what the map shows: 四色 for source markers and 四色 fills, 五色 fills, other layers."""
    shown = list(shown or [])
    return legend(lang, levels=mode != "five" or any(n in SOURCE_TYPE for n in shown), classes=mode == "five",
                  overlays=tuple(OVERLAY_KEYS[n] for n in OVERLAYS if n in shown and n in OVERLAY_KEYS))


def _kpis(snap: CitySnapshot, adcode: str | None, lang: str) -> list[html.Div]:
    k = snap.kpis(adcode)
    rate = "—" if k["rectification_rate"] is None else f"{k['rectification_rate'] * 100:.0f}%"
    # each tile names its measure (layers.measures) and gives its definition as a tooltip
    items = [("kpi_major", "major_risks", k["major_risks"], FOUR_COLOUR[RiskLevel.MAJOR].hex),
             ("kpi_significant", "significant_risks", k["significant_risks"], FOUR_COLOUR[RiskLevel.SIGNIFICANT].hex),
             ("kpi_hazards", "open_major_hazards", k["open_major_hazards"], None),
             ("kpi_rate", "rectification_rate", rate, None), ("kpi_violations", "violations", k["violations"], None),
             ("kpi_hca", "hca_km", k["hca_km"], None),
             ("kpi_overhead", "overhead_tailings", k["overhead_tailings"], None)]
    return [html.Div([html.Div(str(v), className="kpi-value", style={"color": c} if c else None),
                      html.Div(t(key, lang), className="kpi-label")], className="kpi", id=f"kpi-{key}",
                     title=measure_definition(code, lang))
            for key, code, v, c in items]


def _overlay_data(snap: CitySnapshot, layer: str, adcode: str | None, lang: str) -> dict[str, Any]:
    """The GeoJSON of overlay ``layer`` (of ``adcode``, or all the account sees), coordinates rounded for display."""
    data = _overlay_features(snap, layer, adcode, lang)
    return data if data is EMPTY else _rounded(data)


def _overlay_features(snap: CitySnapshot, layer: str, adcode: str | None, lang: str) -> dict[str, Any]:
    label = "level_zh" if lang == "zh" else "risk_level"
    if layer in SOURCE_TYPE:
        src = snap.sources[snap.sources["source_type"] == SOURCE_TYPE[layer]]
        if adcode:
            src = src[src["adcode"] == adcode]
        return to_geojson(src, {"colour": "colour", "weight": lambda r: 6,
                                "tooltip": lambda r: f"{r['name']} · {r[label]}"})
    if layer == "pipelines":
        pipes = snap.bundle["pipelines"]
        if adcode:
            pipes = pipes[pipes["adcodes"].apply(lambda codes: adcode in list(codes))]
        return to_geojson(pipes, {"colour": lambda r: OVERLAY["pipeline"].hex, "weight": lambda r: 3,
                                  "dash": lambda r: "6 4",
                                  "tooltip": lambda r: f"{r['name']}（{r['code']}）"})
    if layer == "protection_targets":
        pts = snap.bundle["protection_targets"]
        if adcode:
            pts = pts[pts["adcode"] == adcode]
        pts = pts.set_geometry(pts.geometry.representative_point())
        return to_geojson(pts, {"colour": lambda r: OVERLAY["protection_target"].hex, "radius": lambda r: 4,
                                "tooltip": "name"})
    if layer == "findings":
        f = snap.findings
        if adcode and len(f):
            f = f[f["adcode"] == adcode]
        if not len(f):
            return EMPTY
        f = f.set_geometry(f.geometry.representative_point())
        return to_geojson(f, {"colour": lambda r: OVERLAY["finding"].hex, "radius": lambda r: 4,
                              "tooltip": lambda r: f"{r['rule_code']} · {r['object_name'] or ''}"})
    raise ValueError(layer)


def _table(snap: CitySnapshot, lang: str) -> Any:
    r = snap.ratings
    names = snap.bundle["districts"].set_index("adcode")["name"]
    rows = pd.DataFrame({
        "adcode": r.index, "name": [names[a] for a in r.index],
        "class": r["class_zh" if lang == "zh" else "class_en"].values, "score": r["score"].round(1).values,
        "n_major": snap.measures.loc[r.index, "major_risks"].values,
        "n_significant": snap.measures.loc[r.index, "significant_risks"].values, "colour": r["colour"].values,
    }).sort_values("score", ascending=False)
    styles = [{"if": {"filter_query": f'{{colour}} = "{c}"', "column_id": "class"},
               "backgroundColor": c, "color": "#fff" if c in ("#E60012", "#0070C0") else "#1F2933"}
              for c in rows["colour"].unique()]
    return dash_table.DataTable(  # type: ignore[attr-defined]
        id=ids.DISTRICT_TABLE, data=rows.to_dict("records"),
        columns=[{"name": t(c, lang), "id": c} for c in ("name", "class", "score", "n_major", "n_significant")],
        tooltip_header={"n_major": measure_definition("major_risks", lang),
                        "n_significant": measure_definition("significant_risks", lang)},
        sort_action="native", style_data_conditional=styles, page_size=14,
        style_cell={"fontFamily": "inherit", "padding": "4px 8px", "textAlign": "left", "fontSize": 15},
        style_header={"fontWeight": "bold"},
    )


def _chart(snap: CitySnapshot, adcode: str | None, lang: str) -> go.Figure:
    src = snap.sources
    names = snap.bundle["districts"].set_index("adcode")["name"]
    fig = go.Figure()
    if adcode:
        src = src[src["adcode"] == adcode]
        by = src.groupby(["source_type", "risk_level"]).size().unstack(fill_value=0)
        xs = [t(next(k for k, v in SOURCE_TYPE.items() if v == s), lang) for s in by.index]
    else:
        by = src.groupby(["adcode", "risk_level"]).size().unstack(fill_value=0)
        xs = [names.get(a, a) for a in by.index]
    for level in RiskLevel:
        sw = FOUR_COLOUR[level]
        fig.add_trace(go.Bar(x=xs, y=by[level.value] if level.value in by else [0] * len(xs),
                             name=sw.zh if lang == "zh" else sw.en, marker_color=sw.hex))
    fig.update_layout(barmode="stack", height=260, margin={"l": 30, "r": 10, "t": 36, "b": 60},
                      title={"text": t("chart_title_one" if adcode else "chart_title", lang), "font": {"size": 15}},
                      legend={"orientation": "h", "y": -0.35}, plot_bgcolor="#fff")
    return fig


def _source_rows(snap: CitySnapshot, adcode: str | None, lang: str) -> list[dict[str, Any]]:
    src = snap.sources if not adcode else snap.sources[snap.sources["adcode"] == adcode]
    names = snap.bundle["districts"].set_index("adcode")["name"]
    order = {lv.value: i for i, lv in enumerate(RiskLevel)}
    src = src.assign(_o=src["risk_level"].map(order)).sort_values(["_o", "name"])
    return [{"name": r["name"], "type": t(r["source_type"], lang),
             "level": r["level_zh"] if lang == "zh" else FOUR_COLOUR[RiskLevel(r["risk_level"])].en,
             "district": names.get(r["adcode"], r["adcode"]), "colour": r["colour"]}
            for r in src.to_dict("records")]


def _source_table(snap: CitySnapshot, lang: str) -> Any:
    styles = [{"if": {"filter_query": f'{{colour}} = "{sw.hex}"', "column_id": "level"},
               "backgroundColor": sw.hex, "color": "#fff" if lv in (RiskLevel.MAJOR, RiskLevel.LOW) else "#1F2933"}
              for lv, sw in FOUR_COLOUR.items()]
    return dash_table.DataTable(  # type: ignore[attr-defined]
        id=ids.SOURCE_TABLE, data=_source_rows(snap, None, lang),
        columns=[{"name": t(c, lang), "id": c} for c in ("name", "type", "level", "district")],
        sort_action="native", filter_action="native", filter_options=table_filter_options(lang), page_size=10,
        style_data_conditional=styles, style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "inherit", "padding": "4px 8px", "textAlign": "left", "fontSize": 14,
                    "whiteSpace": "normal", "height": "auto"},
        style_header={"fontWeight": "bold"},
    )


def _explain_panel(snap: CitySnapshot, adcode: str | None, lang: str) -> list[Any]:
    if not adcode:
        return [html.P(t("pick_district", lang), className="hint")]
    r = snap.ratings.loc[adcode]
    name = snap.bundle["districts"].set_index("adcode").loc[adcode, "name"]
    table = explain(snap.ratings, adcode, snap.rubric, lang=lang).head(6)
    fig = go.Figure(go.Bar(x=table["contribution"], y=table["indicator"], orientation="h",
                           marker_color=r["colour"]))
    fig.update_layout(height=220, margin={"l": 10, "r": 10, "t": 30, "b": 20}, yaxis={"autorange": "reversed"},
                      title={"text": t("contrib", lang), "font": {"size": 14}}, plot_bgcolor="#fff")
    return [
        html.Div([html.Span(str(name), className="sel-name"),
                  html.Span(str(r["class_zh" if lang == "zh" else "class_en"]), className="sel-class",
                            style={"backgroundColor": r["colour"]}),
                  html.Span(f"{t('score', lang)} {r['score']:.1f}", className="sel-score")], className="sel-head"),
        html.H4(t("why", lang)),
        html.P(explain_text(snap.ratings, adcode, snap.rubric, lang=lang), id="explain-text"),
        dcc.Graph(figure=_plain(fig), config={"displayModeBar": False}),
    ]


def _lang(lang: Any) -> str:
    """``lang`` when the interface has it, else Chinese (so a forged language cannot grow the caches)."""
    return lang if lang in ("zh", "en") else "zh"


def layout(ctx: AppContext, lang: str) -> html.Div:
    """The cockpit page, built once per snapshot (scope and data version), language, trend scope and day."""
    snap = ctx.snapshot()
    lang, scope = _lang(lang), _trend_scope()
    return snap.derived(("cockpit", lang, scope, trends.today(), ctx.basemap_url),
                        lambda: _layout(ctx, snap, lang, scope))


def _layout(ctx: AppContext, snap: CitySnapshot, lang: str, trend_scope: str) -> html.Div:
    if not len(snap.bundle["districts"]):
        return html.Div(html.P(t("empty", lang), className="empty"))
    districts = _rounded(district_collection(snap.bundle["districts"], snap.summary, snap.ratings, lang))
    # the overlays' data comes with their callback, which fires as soon as the page is shown: sending it here
    # as well doubled the page's largest payload after the outlines
    overlays = [geojson_layer(f"{ids.OVERLAY_PREFIX}{name}", EMPTY,
                              kind="line" if name in ("pipelines", "hcas") else "point")
                for name in OVERLAYS]
    base = [dl.TileLayer(url=ctx.basemap_url)] if ctx.basemap_url else []
    home = _home_view(snap, None)
    return html.Div([
        dcc.Store(id=ids.SELECTED, data=None),
        html.Div(_kpis(snap, None, lang), id=ids.KPI, className="kpi-strip"),
        html.Div([
            html.Div([dl.Map([*base, geojson_layer(ids.DISTRICTS_LAYER, districts, kind="district",
                                                   hideout={"mode": "four", "selected": None}), *overlays],
                             id=ids.MAP, center=home[0], zoom=home[1], className="leaflet-map",
                             attributionControl=False),
                     html.Div(_legend("four", DEFAULT_OVERLAYS, lang), id=LEGEND, className="map-legend-box")],
                     className="map-panel"),
            html.Div([
                dcc.RadioItems(id=ids.MODE, value="four", inline=True, className="mode-switch",
                               options=[{"label": t("mode_four", lang), "value": "four"},
                                        {"label": t("mode_five", lang), "value": "five"}]),
                dcc.Checklist(id=ids.LAYERS, value=DEFAULT_OVERLAYS, inline=True, className="layer-toggles",
                              options=[{"label": t(n, lang), "value": n} for n in OVERLAYS]),
                html.Button(t("back", lang), id=ids.BACK, n_clicks=0, className="btn"),
                html.Div(_explain_panel(snap, None, lang), id=ids.EXPLAIN, className="explain"),
                _table(snap, lang),
            ], className="side-panel"),
        ], className="main-row"),
        html.Div([
            html.Div(dcc.Graph(id=ids.CHART, figure=_plain(_chart(snap, None, lang)),
                               config={"displayModeBar": False}),
                     className="chart-panel"),
            html.Div([html.H3(t("source_list", lang), title=measure_definition("risk_sources", lang)),
                      _source_table(snap, lang)], className="list-panel"),
        ], className="bottom-row"),
        trends.panels("cockpit", trend_scope, lang),
        cockpit_whatif.panel(snap, lang),
        html.P([t("method", lang), ": ", method_note(snap.rubric, lang)], className="method-note"),
    ], className="cockpit")


def _home_view(snap: CitySnapshot, adcode: str | None) -> tuple[list[float], int]:
    """Map centre and zoom for ``adcode``, or the account's home: the city, or their one district."""
    if adcode is None and len(snap.ratings.index) == 1:
        adcode = str(snap.ratings.index[0])  # a district account starts on its district
    districts = snap.bundle["districts"]
    target = districts[districts["adcode"] == adcode] if adcode else districts.iloc[0:0]
    if not len(target):
        return CITY_CENTER, CITY_ZOOM
    (s, w), (n, e) = bounds_of(target)
    return [(s + n) / 2, (w + e) / 2], 10 if max(n - s, e - w) < 0.6 else 9


def _trend_scope() -> str:
    """The cockpit's trends: the city's, or a district officer's own district."""
    user = current_user()
    if user and user.get("role") == "district_officer" and user.get("adcode"):
        return str(user["adcode"])
    return CITY


def _visible(snap: CitySnapshot, adcode: Any) -> str | None:
    """``adcode`` when the user's snapshot rates that district, else None (the whole visible area)."""
    return str(adcode) if isinstance(adcode, str) and adcode in snap.ratings.index else None


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Cockpit callbacks (they read the cached snapshot; no SQL)."""

    @app.callback(Output(ids.SELECTED, "data"),
                  Input(ids.DISTRICTS_LAYER, "clickData"), Input(ids.DISTRICT_TABLE, "active_cell"),
                  Input(ids.BACK, "n_clicks"), State(ids.DISTRICT_TABLE, "derived_viewport_data"),
                  prevent_initial_call=True)
    def choose_district(click: dict[str, Any] | None, cell: dict[str, Any] | None, _back: int | None,
               rows: list[dict[str, Any]] | None) -> str | None:
        trigger = dash.ctx.triggered_id
        if trigger == ids.DISTRICTS_LAYER and click:
            return str(click["properties"]["adcode"])
        if trigger == ids.DISTRICT_TABLE and cell and rows:
            return str(rows[cell["row"]]["adcode"])
        return None

    @app.callback(Output(ids.DISTRICTS_LAYER, "hideout"), Output(ids.MAP, "viewport"),
                  Input(ids.MODE, "value"), Input(ids.SELECTED, "data"))
    def restyle(mode: str, adcode: str | None) -> tuple[dict[str, Any], Any]:
        hideout = {"mode": mode, "selected": adcode}
        if dash.ctx.triggered_id != ids.SELECTED:
            return hideout, dash.no_update
        if not adcode:
            center, zoom = _home_view(ctx.snapshot(), None)
            return hideout, {"center": center, "zoom": zoom, "transition": "flyTo"}
        center, zoom = _home_view(ctx.snapshot(), adcode)
        return hideout, {"center": center, "zoom": zoom, "transition": "flyTo"}

    @app.callback(Output(ids.KPI, "children"), Output(ids.EXPLAIN, "children"), Output(ids.CHART, "figure"),
                  Output(ids.SOURCE_TABLE, "data"), Input(ids.SELECTED, "data"), State(ids.LANG, "value"))
    def drill(adcode: str | None, lang: str) -> tuple[Any, Any, dict[str, Any], list[dict[str, Any]]]:
        snap = ctx.snapshot()
        adcode, lang = _visible(snap, adcode), _lang(lang)
        return snap.derived(("cockpit-drill", adcode, lang), lambda: (
            _kpis(snap, adcode, lang), _explain_panel(snap, adcode, lang), _plain(_chart(snap, adcode, lang)),
            _source_rows(snap, adcode, lang)))

    @app.callback(Output(LEGEND, "children"), Input(ids.MODE, "value"), Input(ids.LAYERS, "value"),
                  State(ids.LANG, "value"), prevent_initial_call=True)
    def relegend(mode: str, shown: list[str] | None, lang: str) -> html.Div:
        return _legend(mode, shown, lang or "zh")

    @app.callback([Output(f"{ids.OVERLAY_PREFIX}{n}", "data") for n in OVERLAYS],
                  Input(ids.LAYERS, "value"), Input(ids.SELECTED, "data"), State(ids.LANG, "value"))
    def overlays(shown: list[str], adcode: str | None, lang: str) -> list[dict[str, Any]]:
        snap = ctx.snapshot()
        adcode, lang = _visible(snap, adcode), _lang(lang)
        return [snap.derived(("cockpit-overlay", n, adcode, lang), partial(_overlay_data, snap, n, adcode, lang))
                if n in (shown or []) else EMPTY for n in OVERLAYS]

    trends.register(app, ctx, "cockpit")
    cockpit_whatif.register(app, ctx)


PAGES = (Page("/", layout, nav_key="nav_cockpit", order=10, nav_hidden_for=frozenset({"enterprise"})),)
