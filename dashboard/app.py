"""Dash application factory. Data comes from geo.store through plain function calls."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, dash_table, dcc, html
from sqlalchemy import Engine

from dashboard import ids
from dashboard.figures import risk_map
from dashboard.i18n import t
from geo import store
from geo.config import Settings, load_settings


def _kpi(label: str, value: int) -> html.Div:
    return html.Div([html.Div(str(value), className="kpi-value"), html.Div(label, className="kpi-label")],
                    className="kpi")


def page_content(engine: Engine, lang: str) -> list[Any]:
    """Build the cockpit for ``lang`` from the store."""
    counts = store.row_counts(engine)
    if counts["districts"] == 0:
        return [html.P(t("empty", lang), className="empty")]
    districts = store.districts_geojson(engine)
    ents = store.point_layer(engine, "enterprises", ["name", "risk_level", "adcode"])
    hazards = store.point_layer(engine, "hidden_hazards", ["status", "adcode"])
    summary = store.layer_summary(engine)
    names = {f["properties"]["adcode"]: f["properties"]["name"] for f in districts["features"]}
    table = pd.DataFrame({"adcode": list(names), "name": list(names.values())})
    for layer in ("enterprises", "tailings_dams", "risk_points", "hidden_hazards"):
        col = summary[layer] if layer in summary else pd.Series(dtype=int)
        table[layer] = [int(col.get(a, 0)) for a in table["adcode"]]
    kpis = html.Div([
        _kpi(t("districts", lang), counts["districts"]),
        _kpi(t("enterprises", lang), counts["enterprises"]),
        _kpi(t("major", lang), int((ents["risk_level"] == "major").sum()) if len(ents) else 0),
        _kpi(t("risk_points", lang), counts["risk_points"]),
        _kpi(t("open_hazards", lang), int((hazards["status"] != "closed").sum()) if len(hazards) else 0),
    ], id=ids.KPI, className="kpi-strip")
    columns = [{"name": t(c, lang), "id": c} for c in table.columns]
    return [
        kpis,
        html.Div([
            html.Div(dcc.Graph(id=ids.MAP, figure=risk_map(districts, ents, lang),
                               config={"displaylogo": False}), className="map-panel"),
            html.Div(dash_table.DataTable(  # type: ignore[attr-defined]
                id=ids.DISTRICT_TABLE, data=table.to_dict("records"), columns=columns,
                sort_action="native",
                style_cell={"fontFamily": "inherit", "padding": "4px 8px", "textAlign": "left"},
                style_header={"fontWeight": "bold"}, page_size=20,
            ), className="side-panel"),
        ], className="main-row"),
    ]


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> dash.Dash:
    """Create the Dash app; no database work happens until a page is requested.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to the environment's settings.
    engine : Engine, optional
        Use this engine instead of one built from settings.
    """
    settings = settings or load_settings()
    db = engine or store.make_engine(store.engine_url(settings, start=False))
    app = dash.Dash(__name__, title="安全风险一张图 RiskMap", assets_folder=_assets_folder(),
                    serve_locally=True, update_title="")

    def layout() -> html.Div:
        return html.Div([
            html.Header([
                html.H1(t("title", "zh"), id=ids.TITLE),
                dcc.RadioItems(id=ids.LANG, options=[{"label": "中文", "value": "zh"},
                                                     {"label": "English", "value": "en"}],
                               value="zh", inline=True, className="lang-switch"),
            ], className="top-bar"),
            html.P(t("demo", "zh"), className="demo-note", id="demo-note"),
            html.Div(page_content(db, "zh"), id=ids.CONTENT),
        ], className="page")

    app.layout = layout

    @app.callback(Output(ids.CONTENT, "children"), Output(ids.TITLE, "children"),
                  Output("demo-note", "children"), Input(ids.LANG, "value"), prevent_initial_call=True)
    def switch_language(lang: str) -> tuple[list[Any], str, str]:
        return page_content(db, lang), t("title", lang), t("demo", lang)

    return app


def _assets_folder() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[1] / "assets")
