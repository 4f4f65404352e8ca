"""Dash application factory: header, navigation, language, and routing to the pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, dcc, html
from sqlalchemy import Engine

from dashboard import ids
from dashboard.context import AppContext
from dashboard.i18n import t
from dashboard.pages import cockpit, district, planner
from geo import store
from geo.config import Settings, load_settings

ROUTES = (("/", "nav_cockpit"), ("/planner", "nav_planner"), ("/district", "nav_district"))


def _nav(lang: str, path: str) -> list[Any]:
    return [dcc.Link(t(key, lang), href=href, className="nav-link active" if path == href else "nav-link")
            for href, key in ROUTES]


def render(ctx: AppContext, path: str, lang: str) -> Any:
    """Page content for ``path`` in ``lang``."""
    if path in ("/", ""):
        return cockpit.layout(ctx, lang)
    if path.startswith("/planner"):
        return planner.layout(ctx, lang)
    if path.startswith("/district"):
        code = path.removeprefix("/district").strip("/") or None
        return district.layout(ctx, lang, adcode=code)
    return html.Div([html.H2("404"), dcc.Link(t("nav_cockpit", lang), href="/")])


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
    ctx = AppContext(engine=db, settings=settings)
    assets = str(Path(__file__).resolve().parents[1] / "assets")
    app = dash.Dash(__name__, title="安全风险一张图 RiskMap", assets_folder=assets, serve_locally=True,
                    update_title="", suppress_callback_exceptions=True, compress=True)
    app.layout = html.Div([
        dcc.Location(id=ids.URL),
        html.Header([
            html.H1(t("title", "zh"), id=ids.TITLE),
            html.Nav(_nav("zh", "/"), id=ids.NAV, className="nav"),
            dcc.RadioItems(id=ids.LANG, options=[{"label": "中文", "value": "zh"}, {"label": "English", "value": "en"}],
                           value="zh", inline=True, className="lang-switch"),
        ], className="top-bar"),
        html.P(t("demo", "zh"), className="demo-note", id=ids.DEMO_NOTE),
        html.Div(id=ids.CONTENT),
    ], className="page")

    @app.callback(Output(ids.CONTENT, "children"), Output(ids.TITLE, "children"), Output(ids.NAV, "children"),
                  Output(ids.DEMO_NOTE, "children"), Input(ids.URL, "pathname"), Input(ids.LANG, "value"))
    def route(path: str | None, lang: str) -> tuple[Any, str, list[Any], str]:
        path = path or "/"
        return render(ctx, path, lang), t("title", lang), _nav(lang, path), t("demo", lang)

    cockpit.register(app, ctx)
    planner.register(app, ctx)
    district.register(app, ctx)
    return app
