"""District workspace (区县工作台): the 4张清单, imports with their report, the export pack, data completeness.

``/district`` lists the districts to choose from; ``/district/<adcode>`` is one district's workspace.
Everything shown is read from the cached city snapshot (``ctx.snapshot()``); imports and exports go
through ``geo.importer.import_file`` and ``layers.pack.export_district``. No SQL here.

This module lays the page out and routes to it; :mod:`.header`, :mod:`.lists`, :mod:`.upload` and
:mod:`.export` build its cards and :mod:`.common` holds their ids and strings.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from dashboard import ids
from dashboard.auth import current_user
from dashboard.context import AppContext
from dashboard.i18n import t
from dashboard.pages import trends
from dashboard.pages.district import export, upload
from dashboard.pages.district.chooser import (
    _chooser,
    _district_names,
)
from dashboard.pages.district.export import _export_panel
from dashboard.pages.district.export import pack_zip as pack_zip
from dashboard.pages.district.header import _facts as _facts
from dashboard.pages.district.header import _facts_title as _facts_title
from dashboard.pages.district.header import _header
from dashboard.pages.district.header import _listed_points as _listed_points
from dashboard.pages.district.lists import _completeness, _lists
from dashboard.pages.district.page_ids import *  # noqa: F403  (the page's component ids, for callbacks and tests)
from dashboard.pages.district.page_ids import (
    DISTRICT_ADCODE,
    DISTRICT_CHOOSER,
    DISTRICT_COMPLETENESS,
    DISTRICT_COUNT_PREFIX,
    DISTRICT_GOTO,
    DISTRICT_HEADER,
    DISTRICT_LISTS,
    DISTRICT_TABLE_PREFIX,
    DISTRICT_TABS,
    DISTRICT_VERSION,
)
from dashboard.pages.district.tables import (
    FAILED,
)
from dashboard.pages.district.upload import MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES
from dashboard.pages.district.upload import _crs_value as _crs_value
from dashboard.pages.district.upload import _decode as _decode
from dashboard.pages.district.upload import _import_panel
from dashboard.pages.district.upload import _side as _side
from dashboard.pages.district.upload import run_import as run_import
from dashboard.pages.district.upload import run_preview as run_preview
from dashboard.permissions import DENIED, district_allowed
from dashboard.routing import Page
from layers.city import CitySnapshot
from layers.four_lists import LISTS


def _chooser_page(snap: CitySnapshot, lang: str, message: str | None = None) -> html.Div:
    names = _district_names(snap)
    cards = []
    for code in sorted(names):
        r: Any = snap.ratings.loc[code] if code in snap.ratings.index else None
        colour = str(r["colour"]) if r is not None else "#D0D4D9"
        cls = f"{r['class_zh' if lang == 'zh' else 'class_en']} {float(r['score']):.1f}" if r is not None else ""
        cards.append(dcc.Link([html.Span(names[code], className="district-card-name"),
                               html.Span(cls, className="district-card-class")],
                              href=f"/district/{code}", className="district-link",
                              style={"borderLeftColor": colour}))
    return html.Div([
        dcc.Location(id=DISTRICT_GOTO, refresh="callback-nav"),
        dcc.Store(id=DISTRICT_ADCODE, data=None),
        html.H2(t("workspace", lang)),
        *([html.P(message, className="district-report-head district-report-head--failed", style=FAILED)]
          if message else []),
        html.P(t("choose_hint", lang), className="hint"),
        html.Div(_chooser(snap, None, lang), className="district-chooser-box"),
        html.Div(cards, className="district-links"),
    ], className="district-page district-choose")


def layout(ctx: AppContext, lang: str, adcode: str | None = None, **params: Any) -> html.Div:
    """The district workspace (``adcode`` given) or the district chooser."""
    snap = ctx.snapshot()
    if not len(snap.bundle["districts"]):
        return html.Div(html.P(t("empty", lang), className="empty"))
    names = _district_names(snap)
    if not adcode:
        return _chooser_page(snap, lang)
    if adcode not in names:
        return _chooser_page(snap, lang, t("unknown", lang, code=adcode))
    return html.Div([
        dcc.Location(id=DISTRICT_GOTO, refresh="callback-nav"),
        dcc.Store(id=DISTRICT_ADCODE, data=adcode),
        dcc.Store(id=DISTRICT_VERSION),
        html.Div([html.Span(t("workspace", lang), className="district-crumb"),
                  html.Div(_chooser(snap, adcode, lang), className="district-chooser-box")],
                 className="district-topline"),
        html.Div(_header(ctx, snap, adcode, lang), id=DISTRICT_HEADER, className="district-card district-head"),
        html.Div(trends.panels("district", adcode, lang), className="district-card district-trends"),
        html.Div(_lists(snap, adcode, lang), id=DISTRICT_LISTS, className="district-card"),
        html.Div([_import_panel(lang), _export_panel(lang)], className="district-row"),
        html.Div(_completeness(snap, adcode, lang), id=DISTRICT_COMPLETENESS, className="district-card"),
    ], className="district-page")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """District workspace callbacks (they call geo/ and layers/; no SQL)."""
    @app.callback(Output(DISTRICT_GOTO, "pathname"), Input(DISTRICT_CHOOSER, "value"),
                  State(DISTRICT_ADCODE, "data"), prevent_initial_call=True)
    def go(code: str | None, current: str | None) -> Any:
        if not code or code == current:
            return dash.no_update
        return f"/district/{code}"

    for key in LISTS:
        @app.callback(Output(f"{DISTRICT_COUNT_PREFIX}{key}", "children"),
                      Input(f"{DISTRICT_TABLE_PREFIX}{key}", "derived_virtual_data"),
                      State(f"{DISTRICT_TABLE_PREFIX}{key}", "data"), State(ids.LANG, "value"),
                      prevent_initial_call=True)
        def count(shown: list[dict[str, Any]] | None, data: list[dict[str, Any]] | None, lang: str) -> str:
            total = len(data or [])
            return t("rows_shown", lang, shown=total if shown is None else len(shown), total=total)

    @app.callback(Output(DISTRICT_HEADER, "children"), Output(DISTRICT_LISTS, "children"),
                  Output(DISTRICT_COMPLETENESS, "children"), Input(DISTRICT_VERSION, "data"),
                  State(DISTRICT_ADCODE, "data"), State(DISTRICT_TABS, "value"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def refresh(version: Any, adcode: str | None, active: str | None, lang: str) -> tuple[Any, Any, Any]:
        if version is None or not adcode:
            return dash.no_update, dash.no_update, dash.no_update
        if not district_allowed(adcode):
            denied = html.P(DENIED.get(lang, DENIED["zh"]), className="district-error")
            return denied, [], []
        snap = ctx.snapshot()  # rebuilt for the new data version
        return (_header(ctx, snap, adcode, lang), _lists(snap, adcode, lang, active or "basic"),
                _completeness(snap, adcode, lang))
    upload.register(app, ctx)
    export.register(app, ctx)
    trends.register(app, ctx, "district")


def _own_district(params: dict[str, Any]) -> dict[str, Any]:
    """A district officer's ``/district`` is their own district's workspace."""
    user = current_user()
    if params.get("adcode") is None and user and user.get("role") == "district_officer":
        return {**params, "adcode": user.get("adcode")}
    return params


PAGES = (Page("/district", layout, nav_key="nav_district", order=30, prefix=True, rest="adcode",
              params=_own_district, allow=lambda params: district_allowed(params.get("adcode")),
              nav_hidden_for=frozenset({"enterprise"})),)
