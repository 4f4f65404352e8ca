"""Dash application factory: header, navigation, language, and routing to the pages."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, dcc, html
from flask import Flask, Response, request
from sqlalchemy import Engine

from dashboard import ids
from dashboard.auth import PASSWORD_PATH, SECOND_FACTOR_PATH, auth_enabled, current_user, init_auth
from dashboard.context import AppContext
from dashboard.i18n import t
from dashboard.pages import MODULES, PAGES, ROLE_HOME, may_call
from dashboard.password_page import install_password_page
from dashboard.permissions import DENIED, can
from dashboard.routing import CALLBACK_OWNERS, CallbackOwner, Page, register_owned, resolve
from dashboard.second_factor import install_second_factor_pages
from dashboard.web_security import CSRF_FIELD, csrf_token, install_web_security
from geo import store
from geo.config import Settings, load_settings
from identity.permissions import app_database_url

#: Largest request body the server accepts (a 50 MB import file grows by a third as base64).
MAX_REQUEST_BYTES = 72 * 1024 * 1024


def _nav_pages(user: dict[str, Any] | None) -> list[Page]:
    """Pages whose header link ``user`` gets (those needing an action only when the user may do it)."""
    role = None if user is None else user.get("role")
    return sorted((p for p in PAGES if p.nav_key and role not in p.nav_hidden_for
                   and (p.action is None or can(p.action, user))), key=lambda p: p.order)


def _open_pages() -> list[Page]:
    """Pages whose header link everyone gets (shown before anyone is known)."""
    return sorted((p for p in PAGES if p.nav_key and not p.action), key=lambda p: p.order)


def _nav(lang: str, path: str, user: dict[str, Any] | None = None, pages: list[Page] | None = None) -> list[Any]:
    """Navigation links of the pages ``user`` may open, then who is signed in."""
    links: list[Any] = [dcc.Link(t(str(page.nav_key), lang), href=page.href,
                                 className="nav-link active" if path == page.href else "nav-link")
                        for page in (_nav_pages(user) if pages is None else pages)]
    if user:
        where = f" · {user['adcode']}" if user.get("adcode") else ""
        links.append(html.Span([html.Span(str(user.get("name") or user["username"]), className="nav-user-name"),
                                html.Span(t(f"role_{user['role']}", lang) + where, className="nav-user-role")],
                               className="nav-user", id="nav-user"))
        links.append(html.A(t("change_password", lang), href=PASSWORD_PATH, className="nav-password",
                            id="nav-password"))
        links.append(html.A(t("second_factor", lang), href=SECOND_FACTOR_PATH, className="nav-password",
                            id="nav-second-factor"))
        # sign-out is a POST with the session's CSRF token, so no link or image elsewhere can sign anyone out
        # (the submit button itself carries the token as its name and value)
        links.append(html.Form(html.Button(t("logout", lang), type="submit", name=CSRF_FIELD, value=csrf_token(),
                                           className="nav-logout", id="nav-logout"),
                               method="POST", action="/logout", className="nav-logout-form"))
    return links


def _denied(lang: str) -> html.Div:
    return html.Div([html.H2(DENIED.get(lang, DENIED["zh"])), dcc.Link(t("nav_cockpit", lang), href="/")],
                    className="denied", id="access-denied")


def _guard_callbacks(server: Flask, owners: dict[str, CallbackOwner], endpoint: str) -> None:
    """Refuse (403) a callback POST whose callback the signed-in user's role may not use (runs after the gate)."""

    @server.before_request
    def callback_roles() -> Any:
        if request.method != "POST" or request.path != endpoint:
            return None
        body = request.get_json(silent=True)
        if may_call(owners, body.get("output") if isinstance(body, dict) else None, current_user()):
            return None
        message = {"error": f"{DENIED['zh']} / {DENIED['en']}"}
        return Response(json.dumps(message, ensure_ascii=False), status=403, mimetype="application/json")


def render(ctx: AppContext, path: str, lang: str) -> Any:
    """Page content for ``path`` in ``lang``: the page of the table serving it, a refusal, or 404."""
    user = current_user()
    home = ROLE_HOME.get(str(user.get("role"))) if user else None
    found = resolve(PAGES, home if home and path in ("/", "") else path)
    if found is None:
        return html.Div([html.H2("404"), dcc.Link(t("nav_cockpit", lang), href="/")])
    page, params = found
    params = page.params(params) if page.params else params
    if (page.action and not can(page.action)) or (page.allow and not page.allow(params)):
        return _denied(lang)
    return page.layout(ctx, lang, **params)


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
    # before the sign-in gate: paths are normalised and POSTs checked for their origin before anything else
    install_web_security(app.server, settings, app.csp_hashes, basemap_url=ctx.basemap_url)
    owners: dict[str, CallbackOwner] = {}
    app.server.extensions[CALLBACK_OWNERS] = owners
    app.layout = html.Div([
        dcc.Location(id=ids.URL),
        html.Header([
            html.H1(t("title", "zh"), id=ids.TITLE),
            html.Nav(_nav("zh", "/", pages=_open_pages()), id=ids.NAV, className="nav"),
            dcc.RadioItems(id=ids.LANG, options=[{"label": "中文", "value": "zh"}, {"label": "English", "value": "en"}],
                           value="zh", inline=True, className="lang-switch"),
        ], className="top-bar"),
        html.P(t("demo", "zh"), className="demo-note", id=ids.DEMO_NOTE),
        html.Div(id=ids.CONTENT),
    ], className="page")

    def shared() -> None:  # the routing callback every page shares: it checks each page itself
        @app.callback(Output(ids.CONTENT, "children"), Output(ids.TITLE, "children"), Output(ids.NAV, "children"),
                      Output(ids.DEMO_NOTE, "children"), Input(ids.URL, "pathname"), Input(ids.LANG, "value"))
        def route(path: str | None, lang: str) -> tuple[Any, str, list[Any], str]:
            path = path or "/"
            nav = _nav(lang, path, current_user())
            return render(ctx, path, lang), t("title", lang), nav, t("demo", lang)

    register_owned(app, shared, owners)
    if secured:
        init_auth(app.server, db, settings.home)
        install_password_page(app.server, db)
        install_second_factor_pages(app.server, db)
    for module in MODULES:
        register_owned(app, partial(module.register, app, ctx), owners, tuple(module.PAGES),
                       getattr(module, "CALLBACK_ACTIONS", None))
    # after the gate: a signed-in user may call only the callbacks of pages their role opens
    _guard_callbacks(app.server, owners, f"{app.config.routes_pathname_prefix}_dash-update-component")
    return app
