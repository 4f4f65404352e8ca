"""Dash application factory: header, navigation, language, and routing to the pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, dcc, html
from sqlalchemy import Engine

from dashboard import ids
from dashboard.auth import auth_enabled, current_user, init_auth
from dashboard.context import AppContext
from dashboard.i18n import t
from dashboard.pages import audit, cockpit, dispatch, district, hazard, hazards, inspect, planner, rules
from dashboard.permissions import DENIED, can, district_allowed
from geo import store
from geo.config import Settings, load_settings
from identity.permissions import app_database_url

#: Largest request body the server accepts (a 50 MB import file grows by a third as base64).
MAX_REQUEST_BYTES = 72 * 1024 * 1024
ROUTES = (("/", "nav_cockpit"), ("/district", "nav_district"))
#: Links shown only to users who may do the action: (path, label key, action of identity.permissions.PERMISSIONS).
RESTRICTED_ROUTES = (("/planner", "nav_planner", "planner_page"), (hazards.PATH, "nav_hazards", "hazards_page"),
                     (inspect.PATH, "nav_inspect", "inspect"), (audit.PATH, "nav_audit", "audit_page"),
                     (rules.PATH, "nav_rules", "rules_page"))


def _nav(lang: str, path: str, allowed: frozenset[str] = frozenset(),
         user: dict[str, Any] | None = None) -> list[Any]:
    """Navigation links (those of RESTRICTED_ROUTES only for ``allowed`` actions), then who is signed in."""
    home = [] if user and user.get("role") == "enterprise" else [ROUTES[0]]
    district = [] if user and user.get("role") == "enterprise" else [ROUTES[1]]
    routes = [*home, *((href, key) for href, key, action in RESTRICTED_ROUTES[:1] if action in allowed),
              *district, *((href, key) for href, key, action in RESTRICTED_ROUTES[1:] if action in allowed)]
    links: list[Any] = [dcc.Link(t(key, lang), href=href,
                                 className="nav-link active" if path == href else "nav-link")
                        for href, key in routes]
    if user:
        where = f" · {user['adcode']}" if user.get("adcode") else ""
        links.append(html.Span([html.Span(str(user.get("name") or user["username"]), className="nav-user-name"),
                                html.Span(t(f"role_{user['role']}", lang) + where, className="nav-user-role")],
                               className="nav-user", id="nav-user"))
        links.append(html.A(t("logout", lang), href="/logout", className="nav-logout", id="nav-logout"))
    return links


def _allowed_actions() -> frozenset[str]:
    """Actions of RESTRICTED_ROUTES the request's user may do (needs a request when sign-in is on)."""
    return frozenset(action for _, _, action in RESTRICTED_ROUTES if can(action))


def _denied(lang: str) -> html.Div:
    return html.Div([html.H2(DENIED.get(lang, DENIED["zh"])), dcc.Link(t("nav_cockpit", lang), href="/")],
                    className="denied", id="access-denied")


def _campaign(ctx: AppContext, path: str, lang: str) -> Any:
    """Pages of the campaign (hazards, one hazard, the report form, inspections, the 调度表), or None."""
    page = path.rstrip("/")
    if page == hazards.PATH:
        return hazards.layout(ctx, lang) if can("hazards_page") else _denied(lang)
    if page == f"{hazards.PATH}/new":
        return hazard.new_layout(ctx, lang) if can("report_hazard") else _denied(lang)
    if page.startswith(f"{hazards.PATH}/"):
        tail = page.removeprefix(f"{hazards.PATH}/")
        if not tail.isdigit() or not can("hazards_page"):
            return _denied(lang) if tail.isdigit() else None
        return hazard.detail_layout(ctx, lang, int(tail))
    if page == inspect.PATH:
        return inspect.layout(ctx, lang) if can("inspect") else _denied(lang)
    if page == dispatch.PATH:
        return dispatch.layout(ctx, lang)
    return None


def render(ctx: AppContext, path: str, lang: str) -> Any:
    """Page content for ``path`` in ``lang``."""
    user = current_user()
    if path in ("/", "") and user and user.get("role") == "enterprise":
        return hazards.layout(ctx, lang)  # an enterprise's home is its own hazards
    if path in ("/", ""):
        return cockpit.layout(ctx, lang)
    campaign_page = _campaign(ctx, path, lang)
    if campaign_page is not None:
        return campaign_page
    if path.startswith("/planner"):
        return planner.layout(ctx, lang) if can("planner_page") else _denied(lang)
    if path.startswith("/district"):
        code = path.removeprefix("/district").strip("/") or None
        user = current_user()
        if code is None and user and user.get("role") == "district_officer":
            code = user.get("adcode")
        return district.layout(ctx, lang, adcode=code) if district_allowed(code) else _denied(lang)
    if path.rstrip("/") == audit.PATH:
        return audit.layout(ctx, lang) if can("audit_page") else _denied(lang)
    if path.rstrip("/") == rules.PATH:
        return rules.layout(ctx, lang) if can("rules_page") else _denied(lang)
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
    secured = auth_enabled()
    db = engine or store.make_engine(app_database_url(settings) if secured else
                                     store.engine_url(settings, start=False), scoped=secured)
    ctx = AppContext(engine=db, settings=settings)
    assets = str(Path(__file__).resolve().parents[1] / "assets")
    app = dash.Dash(__name__, title="安全风险一张图 RiskMap", assets_folder=assets, serve_locally=True,
                    update_title="", suppress_callback_exceptions=True, compress=True)
    # no request body beyond the largest upload (50 MB file, base64 in a JSON callback) is even read
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
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
        nav = _nav(lang, path, _allowed_actions(), current_user())
        return render(ctx, path, lang), t("title", lang), nav, t("demo", lang)

    if secured:
        init_auth(app.server, db, settings.home)
    cockpit.register(app, ctx)
    planner.register(app, ctx)
    district.register(app, ctx)
    audit.register(app, ctx)
    rules.register(app, ctx)
    hazards.register(app, ctx)
    hazard.register(app, ctx)
    inspect.register(app, ctx)
    dispatch.register(app, ctx)
    return app
