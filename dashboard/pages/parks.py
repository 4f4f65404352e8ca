"""园区一园一策 (/parks): the parks, each park's 四色 risk sources, its figures and its enterprises with their grades.

The park list and figures are :func:`layers.parks.park_measures` (the same definitions as a district's), the
map shows the chosen park's risk sources (:func:`layers.parks.park_sources`) in 四色 and the enterprises kept by
the grade and park filters (:func:`layers.parks.park_enterprises` over :func:`layers.grading.grade_enterprises`),
and the park's list exports as XLSX (:func:`layers.parks.write_park_list`, audited once). PostgreSQL decides
which parks and records a session sees: a district officer sees the parks of their district. Every account but
an enterprise opens the page (the action of the 晾晒 page, ``generate_report``).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dash
import dash_leaflet as dl
import geopandas as gpd
import pandas as pd
from dash import Input, Output, State, dash_table, dcc, html

from dashboard import ids
from dashboard.auth import current_user
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, t
from dashboard.mapview import EMPTY, bounds_of, geojson_layer, legend, legend_item, to_geojson
from dashboard.pages import parks_text as _text  # noqa: F401  (registers the page's text)
from dashboard.pages.campaign_text import page_lang
from dashboard.permissions import DENIED, can
from dashboard.routing import Page
from geo import store
from geo.constants import LOCAL_ZONE
from layers.export import record_export
from layers.grading import grade_enterprises, load_grading_rubric
from layers.measures import measure_definition, measure_label
from layers.palette import NO_DATA, OVERLAY, level_colour, level_label
from layers.parks import park_enterprises, park_measures, park_sources, write_park_list

PATH = "/parks"
#: Who may open the page: every account but an enterprise (as the 晾晒 page).
ACTION = "generate_report"
PK_PARK = "pk-park"
PK_GRADE = "pk-grade"
PK_TABLE = "pk-table"
PK_MAP = "pk-map"
PK_OUTLINES = "pk-outlines"
PK_SOURCES = "pk-sources"
PK_MEMBERS_LAYER = "pk-members-layer"
PK_MEASURES = "pk-measures"
PK_MEMBERS = "pk-members"
PK_COUNT = "pk-count"
PK_EXPORT = "pk-export"
PK_DOWNLOAD = "pk-download"
PK_MESSAGE = "pk-message"
#: Figures of a park shown beside the map (codes of :data:`layers.measures.MEASURES`).
FIGURES = ("risk_sources", "major_risks", "significant_risks", "general_risks", "low_risks", "open_major_hazards",
           "overdue_hazards", "violations", "open_findings")
MEMBER_COLUMNS = ("name", "risk", "grade", "total", "inspections", "why")
#: Outline of a park on the map (the colour of a proposed site is taken for boundaries drawn by people).
BOUNDARY = OVERLAY["selected"]
CELL = {"textAlign": "left", "whiteSpace": "normal", "height": "auto", "minWidth": "60px", "fontSize": 14}
CITY_CENTER, CITY_ZOOM = [25.0, 102.75], 9


@dataclass(frozen=True)
class ParkData:
    """What the page reads for one request, all scoped by the session: the parks, figures, sources, grades."""

    parks: gpd.GeoDataFrame
    measures: pd.DataFrame
    sources: gpd.GeoDataFrame
    enterprises: gpd.GeoDataFrame
    grades: pd.DataFrame
    #: District names by adcode.
    districts: dict[str, str]


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_ZONE).date()


def park_data(ctx: AppContext) -> ParkData:
    """Read the session's parks and compute their figures and the enterprises' grades (no SQL here: the store)."""
    snap = ctx.snapshot()
    parks = store.read_layer(ctx.engine, "parks")
    findings = store.read_findings(ctx.engine)
    today = _today()
    frames = {**snap.bundle.frames, "parks": parks}
    measures = park_measures(frames, snap.sources, findings, snap.bundle["hidden_hazards"], today)
    grades = grade_enterprises(snap.bundle, findings, today, load_grading_rubric())
    names = {str(k): str(v) for k, v in snap.bundle["districts"].set_index("adcode")["name"].items()}
    return ParkData(parks, measures, snap.sources, snap.bundle["enterprises"], grades, names)


def _park(data: ParkData, code: Any) -> str | None:
    """``code`` when it is a park the session sees, else None (another district's park is simply not there)."""
    return code if isinstance(code, str) and code in data.measures.index else None


def _grades(value: Any) -> list[str]:
    codes = {g.code for g in load_grading_rubric().grades}
    return [g for g in value if isinstance(g, str) and g in codes] if isinstance(value, list) else []


def members(data: ParkData, code: str | None, grades: list[str]) -> gpd.GeoDataFrame:
    """The graded enterprises kept by the park and grade filters (None: every park; []: every grade)."""
    return park_enterprises(data.parks, data.enterprises, data.grades, code, grades)


def _park_rows(data: ParkData, lang: str) -> list[dict[str, Any]]:
    return [{"code": str(code), "name": r["name"], "district": data.districts.get(str(r["adcode"]), str(r["adcode"])),
             "type": r["park_type_zh"] if lang == "zh" else r["park_type"],
             "level": r["level_zh"] if lang == "zh" else r["level"], "enterprises": int(r["enterprises"]),
             "sources": int(r["risk_sources"]), "major": int(r["major_risks"]),
             "highest": level_label(str(r["highest_level"]), lang) if r["highest_level"] else "—"}
            for code, r in data.measures.iterrows()]


def _member_rows(frame: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    return [{"name": r["name"], "risk": level_label(str(r["risk_level"]), lang) if r.get("risk_level") else "—",
             "grade": r["grade"], "total": f"{float(r['total']):g}",
             "inspections": f"{float(r['inspections_per_year']):g}", "why": r["explanation"]}
            for r in frame.to_dict("records")]


def _figures(data: ParkData, code: str | None, lang: str) -> Any:
    if code is None:
        return html.P(t("pk_pick", lang), className="hint")
    row: Any = data.measures.loc[code]
    items = [html.Div([html.Div(str(int(row[c])), className="kpi-value"),
                       html.Div(measure_label(c, lang), className="kpi-label")], className="kpi",
                      title=measure_definition(c, lang), id=f"pk-fig-{c}") for c in FIGURES if c in row]
    head = f"{row['name']} · {row['park_type_zh'] if lang == 'zh' else row['park_type']} · " \
           f"{row['level_zh'] if lang == 'zh' else row['level']}"
    return [html.H4(head, id="pk-head"), html.Div(items, className="kpi-strip")]


def _map_data(data: ParkData, code: str | None, kept: gpd.GeoDataFrame, lang: str
              ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any] | Any]:
    """Park outlines, the park's 四色 sources, the filtered enterprises and the view onto the chosen park."""
    outlines = to_geojson(data.parks, {"colour": lambda r: BOUNDARY.hex, "weight": lambda r: 2,
                                       "dash": lambda r: "4 3", "tooltip": "name"}) if len(data.parks) else EMPTY
    label = "level_zh" if lang == "zh" else "risk_level"
    sources = park_sources(data.parks, data.sources, code) if code else data.sources.iloc[0:0]
    src = to_geojson(sources, {"colour": "colour", "radius": lambda r: 6,
                               "tooltip": lambda r: f"{r['name']} · {r[label]}"}) if len(sources) else EMPTY
    shown = kept[kept.geometry.notna()] if len(kept) else kept
    ring = to_geojson(shown, {"colour": lambda r: _level_hex(r.get("risk_level")),
                              "radius": lambda r: 9, "stroke": lambda r: "#111",
                              "tooltip": lambda r: f"{r['name']} · {r['grade']}"}) if len(shown) else EMPTY
    view: Any = dash.no_update
    if code:
        (s, w), (n, e) = bounds_of(data.parks[data.parks["code"].astype(str) == code])
        view = {"center": [(s + n) / 2, (w + e) / 2], "zoom": 13 if max(n - s, e - w) < 0.08 else 12}
    return outlines, src, ring, view


def _level_hex(level: Any) -> str:
    return level_colour(str(level)) if isinstance(level, str) and level else NO_DATA.hex


def _legend(lang: str) -> html.Div:
    return legend(lang, levels=True, title={"zh": t("pk_map_title", "zh"), "en": t("pk_map_title", "en")},
                  extra=[legend_item(BOUNDARY, lang, "dash", t("pk_boundary", lang)),
                         legend_item(OVERLAY["finding"], lang, "ring", t("pk_enterprise_ring", lang))])


def layout(ctx: AppContext, lang: str) -> html.Div:
    """The parks page in ``lang``."""
    lang = page_lang(lang)
    if not can(ACTION):
        return html.Div(html.H2(DENIED[lang]), id="access-denied", className="denied")
    data = park_data(ctx)
    rows = _park_rows(data, lang)
    first = rows[0]["code"] if rows else None
    grades = [{"label": g.label(lang), "value": g.code} for g in load_grading_rubric().grades]
    kept = members(data, first, [])
    outlines, src, ring, view = _map_data(data, first, kept, lang)
    center, zoom = (view["center"], view["zoom"]) if isinstance(view, dict) else (CITY_CENTER, CITY_ZOOM)
    base = [dl.TileLayer(url=ctx.basemap_url)] if ctx.basemap_url else []
    table = dash_table.DataTable(  # type: ignore[attr-defined]
        id=PK_TABLE, data=rows, columns=[{"name": t(f"pk_col_{c}", lang), "id": c}
                                         for c in ("name", "district", "type", "level", "enterprises", "sources",
                                                   "major", "highest")],
        style_table={"overflowX": "auto"}, style_cell=CELL, style_header={"fontWeight": "bold"})
    return html.Div([
        html.H2(t("pk_title", lang)),
        html.H3(t("pk_list", lang)),
        table if rows else html.P(t("pk_none", lang), className="hint", id="pk-empty"),
        html.Div([
            html.Label([t("pk_park", lang), dcc.Dropdown(
                id=PK_PARK, value=first, labels=dropdown_labels(lang), placeholder=t("pk_all", lang),
                options=[{"label": r["name"], "value": r["code"]} for r in rows])]),
            html.Label([t("pk_grade", lang), dcc.Dropdown(id=PK_GRADE, options=grades, multi=True,
                                                          labels=dropdown_labels(lang))]),
            html.Button(t("pk_export", lang), id=PK_EXPORT, n_clicks=0, className="btn"),
            dcc.Download(id=PK_DOWNLOAD),
        ], className="filters"),
        html.Div(id=PK_MESSAGE, role="status"),
        html.Div([
            html.Div([dl.Map([*base, geojson_layer(PK_OUTLINES, outlines, kind="line"),
                              geojson_layer(PK_SOURCES, src, kind="point"),
                              geojson_layer(PK_MEMBERS_LAYER, ring, kind="point")],
                             id=PK_MAP, center=center, zoom=zoom, className="leaflet-map",
                             attributionControl=False),
                      html.Div(_legend(lang), className="map-legend-box")], className="map-panel"),
            html.Div(_figures(data, first, lang), id=PK_MEASURES, className="side-panel"),
        ], className="main-row"),
        html.H3(t("pk_members", lang)),
        html.P(t("pk_count", lang, n=len(kept)), id=PK_COUNT, className="hint"),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=PK_MEMBERS, data=_member_rows(kept, lang), page_size=15,
            columns=[{"name": t(f"pk_col_{'enterprise' if c == 'name' else c}", lang), "id": c}
                     for c in MEMBER_COLUMNS],
            style_table={"overflowX": "auto"}, style_cell=CELL, style_header={"fontWeight": "bold"}),
    ], className="parks-page", id="parks-page")


def _download(ctx: AppContext, data: ParkData, code: str, kept: gpd.GeoDataFrame, lang: str) -> Any:
    """The park's list as an XLSX download; audited once as an export."""
    row = {"code": code, **{str(k): v for k, v in data.measures.loc[code].items()}}
    with tempfile.TemporaryDirectory(prefix="riskmap-park-") as folder:
        path = write_park_list(row, pd.DataFrame(kept.drop(columns="geometry")), Path(folder) / "park.xlsx", lang)
        sent = dcc.send_file(str(path), filename=f"园区清单_{code}_{_today():%Y%m%d}.xlsx")
    user = current_user()
    with ctx.engine.begin() as conn:
        record_export(conn, actor=str(user["username"]) if user else "dashboard", target="park_list",
                      adcode=str(row.get("adcode")), details={"park": code, "rows": len(kept), "format": "xlsx"})
    return sent


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Register the page's callbacks on ``app`` (they call the store and layers; no SQL)."""

    @app.callback(Output(PK_SOURCES, "data"), Output(PK_MEMBERS_LAYER, "data"), Output(PK_MAP, "viewport"),
                  Output(PK_MEASURES, "children"), Output(PK_MEMBERS, "data"), Output(PK_COUNT, "children"),
                  Input(PK_PARK, "value"), Input(PK_GRADE, "value"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def show(park: Any, grade: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        if not can(ACTION):
            return EMPTY, EMPTY, dash.no_update, DENIED[lang], [], DENIED[lang]
        data = park_data(ctx)
        code = _park(data, park)
        kept = members(data, code, _grades(grade))
        _, src, ring, view = _map_data(data, code, kept, lang)
        if dash.ctx.triggered_id != PK_PARK:
            view = dash.no_update
        return (src, ring, view, _figures(data, code, lang), _member_rows(kept, lang),
                t("pk_count", lang, n=len(kept)))

    @app.callback(Output(PK_DOWNLOAD, "data"), Output(PK_MESSAGE, "children"), Input(PK_EXPORT, "n_clicks"),
                  State(PK_PARK, "value"), State(PK_GRADE, "value"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def export(n: Any, park: Any, grade: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        if not n or not can(ACTION):
            return dash.no_update, DENIED[lang] if n else dash.no_update
        data = park_data(ctx)
        code = _park(data, park)
        if code is None:
            return dash.no_update, html.P(t("pk_export_pick", lang), className="error", role="alert")
        return _download(ctx, data, code, members(data, code, _grades(grade)), lang), ""


PAGES = (Page(PATH, layout, nav_key="nav_parks", order=46, action=ACTION),)
