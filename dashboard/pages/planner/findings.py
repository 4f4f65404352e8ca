"""The planner's violations register: the filtered table of stored findings, one finding's detail, its status."""

from __future__ import annotations

from typing import Any

import dash
import geopandas as gpd
import pandas as pd
from dash import Input, Output, State, dash_table, dcc, html

from dashboard import ids
from dashboard.auth import actor_name
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, t
from dashboard.mapview import EMPTY, on_top, to_geojson
from dashboard.pages.planner.page_ids import (
    P_COUNT,
    P_DETAIL,
    P_DISTRICT,
    P_FINDINGS,
    P_NEW_STATUS,
    P_NOTE,
    P_REFRESH,
    P_RULE,
    P_SAVE,
    P_SAVE_MSG,
    P_SELECTED,
    P_SELECTED_GEOM,
    P_STATUS,
    P_TABLE,
    P_TABS,
    PLANNER_MAP,
)
from dashboard.pages.planner.style import (
    BLUE,
    FONT,
    RED,
    bounds_view,
)
from dashboard.pages.planner.text import (
    with_m,
)
from dashboard.permissions import DENIED, can
from geo import store
from geo.checks.ruleset import RuleSet
from layers.palette import FOUR_COLOUR, OVERLAY, RiskLevel
from layers.planning import (
    BLOCKING_VERDICTS,
    DEFAULT_STATUSES,
    SETTABLE_STATUSES,
    STATUS_LABELS,
    bilingual,
    register_table,
    status_label,
)


def _findings(ctx: AppContext, rule: str | None, adcode: str | None, statuses: list[str] | None) -> gpd.GeoDataFrame:
    statuses = list(statuses or [])
    one = statuses[0] if len(statuses) == 1 else None
    frame = store.read_findings(ctx.engine, adcode=adcode or None, rule_code=rule or None, status=one)
    if one is None:
        frame = frame[frame["status"].isin(statuses)]
    return frame


def finding_key(value: Any) -> int | None:
    """The finding id a store or a map click holds, or None for anything that is not one."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        key = int(value)
    except ValueError:
        return None
    return key if 0 < key < 2**63 else None


def _register_columns(lang: str) -> list[dict[str, Any]]:
    cols = [("rule_code", "c_rule_code"), ("rule", "c_rule"), ("clause", "c_clause"), ("district", "c_district"),
            ("pair", "c_pair"), ("measured_m", "c_measured"), ("required_m", "c_required"),
            ("verdict", "c_verdict"), ("status", "c_status"), ("first_found", "c_first"), ("last_found", "c_last")]
    metres = {"type": "numeric", "format": {"locale": {}, "nully": "—", "prefix": None, "specifier": ".1f"}}
    return [{"name": t(key, lang), "id": col, **(metres if col.endswith("_m") else {})} for col, key in cols]


def register_table_component(lang: str) -> Any:
    status_styles = [{"if": {"filter_query": f'{{status_code}} = "{code}"', "column_id": "status"},
                      "color": colour, "fontWeight": "bold"}
                     for code, colour in (("open", RED), ("in_remediation", FOUR_COLOUR[RiskLevel.SIGNIFICANT].hex),
                                          ("closed", BLUE), ("resolved", BLUE))]
    return dash_table.DataTable(  # type: ignore[attr-defined]
        id=P_TABLE, data=[], columns=_register_columns(lang), page_size=12, sort_action="native",
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": FONT, "padding": "4px 8px", "textAlign": "left", "fontSize": 14,
                    "whiteSpace": "normal", "height": "auto", "maxWidth": 280, "minWidth": 60},
        style_cell_conditional=[{"if": {"column_id": c}, "textAlign": "right"} for c in ("measured_m", "required_m")],
        style_data_conditional=[*status_styles, {"if": {"state": "active"}, "backgroundColor": "#E3ECF5",
                                                 "border": "1px solid #1F2933"}],
        style_header={"fontWeight": "bold", "backgroundColor": "#EEF1F4"},
    )


def detail(ctx: AppContext, found: gpd.GeoDataFrame | None, lang: str) -> list[Any]:
    """Detail of the one finding in ``found`` (rows of read_findings), or a hint when there is none."""
    if found is None or not len(found):
        return [html.P(t("pick_finding", lang), className="hint")]
    finding_id = int(found.iloc[0]["id"])
    names = store.district_codes(ctx.engine)
    row = register_table(found, names, lang=lang).iloc[0]
    rec = found.iloc[0]
    facts = [("subject", bilingual(rec["subject_name"] or rec["subject_key"], lang)),
             ("object", bilingual(rec["object_name"] or rec["object_key"], lang)),
             ("measured", with_m(rec["measured_m"])), ("required", with_m(rec["required_m"])),
             ("clause", str(rec["clause"])), ("found", f"{row['first_found']} / {row['last_found']}"),
             ("rule_version", str(rec["rule_set_version"] or "—")),
             ("status_now", str(row["status"]))]
    return [
        html.Div([html.Span(f"#{finding_id}", className="planner-id"), html.Span(str(row["rule_code"]),
                                                                                 className="planner-code"),
                  html.Span(str(row["verdict"]), className="planner-tag",
                            style={"backgroundColor": RED if rec["verdict"] in BLOCKING_VERDICTS else BLUE})],
                 className="sel-head"),
        html.H4(str(row["rule"]), className="planner-rule-name"),
        html.P(f"{row['district']} · {row['pair']}", className="planner-pair"),
        html.Table(html.Tbody([html.Tr([html.Th(t(k, lang)), html.Td(v)]) for k, v in facts]),
                   className="planner-facts"),
        html.P(bilingual(rec["detail"], lang), className="planner-detail-text", id="planner-detail-text"),
    ]


def status_control(lang: str) -> html.Div:
    return html.Div([
        html.Label(t("new_status", lang)),
        dcc.Dropdown(id=P_NEW_STATUS, options=[{"label": status_label(s, lang), "value": s} for s in SETTABLE_STATUSES],
                     value=None, clearable=False, className="planner-status-dd", labels=dropdown_labels(lang)),
        dcc.Input(id=P_NOTE, type="text", placeholder=t("note", lang), debounce=False, className="planner-note"),
        html.Button(t("save", lang), id=P_SAVE, n_clicks=0, className="btn"),
        html.Div(id=P_SAVE_MSG, className="planner-msg"),
    ], className="planner-status-row")


def finding_panel(ctx: AppContext, lang: str) -> html.Div:
    """The finding tab: the detail of the chosen finding and the status control."""
    return html.Div([html.Div(detail(ctx, None, lang), id=P_DETAIL), status_control(lang)])


def register_section(rules: RuleSet, names: pd.Series, lang: str) -> html.Div:
    """The violations register under the map: its filters (rule, district, status) and the table."""
    return html.Div([
        html.Div([html.H3(t("register", lang)), html.Span(id=P_COUNT, className="planner-count")],
                 className="planner-register-head"),
        html.Div([
            dcc.Dropdown(id=P_RULE, placeholder=t("f_rule", lang), clearable=True, className="planner-filter",
                         labels=dropdown_labels(lang),
                         options=[{"label": f"{code} · {rule.zh if lang == 'zh' else rule.en}", "value": code}
                                  for code, rule in rules.rules.items()]),
            dcc.Dropdown(id=P_DISTRICT, placeholder=t("f_district", lang), clearable=True,
                         className="planner-filter", labels=dropdown_labels(lang),
                         options=[{"label": str(name), "value": str(code)} for code, name in names.items()]),
            html.Div([html.Span(t("f_status", lang), className="planner-filter-label"),
                      dcc.Checklist(id=P_STATUS, value=list(DEFAULT_STATUSES), inline=True,
                                    options=[{"label": status_label(s, lang), "value": s} for s in STATUS_LABELS])],
                     className="planner-status-filter"),
        ], className="planner-filters"),
        register_table_component(lang),
    ], className="planner-register")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Callbacks of the register and the finding detail (no SQL: they call geo.store and layers)."""

    @app.callback(Output(P_TABLE, "data"), Output(P_COUNT, "children"), Output(P_FINDINGS, "data"),
                  Input(P_RULE, "value"), Input(P_DISTRICT, "value"), Input(P_STATUS, "value"),
                  Input(P_REFRESH, "data"), State(ids.LANG, "value"))
    def register_rows(rule: str | None, adcode: str | None, statuses: list[str] | None, _refresh: int,
                      lang: str) -> tuple[list[dict[Any, Any]], str, dict[str, Any]]:
        lang = lang or "zh"
        found = _findings(ctx, rule, adcode, statuses)
        rows = register_table(found, store.district_codes(ctx.engine), lang=lang)
        points = found.set_geometry(found.geometry.representative_point()) if len(found) else found
        dots = to_geojson(points, {"id": "id", "colour": lambda r: OVERLAY["finding"].hex, "radius": lambda r: 4,
                                   "tooltip": lambda r: f"#{r['id']} {r['rule_code']} · "
                                                        f"{bilingual(r['object_name'] or '', lang)}"})
        return rows.to_dict("records"), t("count", lang, n=len(rows)), dots

    @app.callback(Output(P_SELECTED, "data"), Output(P_TABS, "value"),
                  Input(P_TABLE, "active_cell"), Input(P_FINDINGS, "clickData"),
                  State(P_TABLE, "derived_viewport_data"), prevent_initial_call=True)
    def select_finding(cell: dict[str, Any] | None, click: dict[str, Any] | None,
               rows: list[dict[str, Any]] | None) -> tuple[Any, Any]:
        trigger = dash.ctx.triggered_id
        if trigger == P_TABLE and cell and rows and cell["row"] < len(rows):
            return int(rows[cell["row"]]["id"]), "finding"
        if trigger == P_FINDINGS and click:
            return int(click["properties"]["id"]), "finding"
        return dash.no_update, dash.no_update

    @app.callback(Output(P_DETAIL, "children"), Output(P_SELECTED_GEOM, "data"),
                  Output(PLANNER_MAP, "viewport"), Output(P_NEW_STATUS, "value"),
                  Input(P_SELECTED, "data"), Input(P_REFRESH, "data"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def show_finding(finding_id: int | None, _refresh: int, lang: str) -> tuple[Any, Any, Any, Any]:
        lang = lang or "zh"
        key = finding_key(finding_id)
        if key is None:
            return detail(ctx, None, lang), EMPTY, dash.no_update, None
        found = store.read_finding(ctx.engine, key)
        if not len(found):
            return detail(ctx, None, lang), EMPTY, dash.no_update, None
        geom = on_top(to_geojson(found, {"colour": lambda r: OVERLAY["finding"].hex, "weight": lambda r: 6,
                                         "radius": lambda r: 8, "tooltip": lambda r: f"#{r['id']} {r['rule_code']}"}))
        view = bounds_view(found.geometry) if dash.ctx.triggered_id == P_SELECTED else dash.no_update
        status = str(found.iloc[0]["status"])
        return detail(ctx, found, lang), geom, view, status if status in SETTABLE_STATUSES else None

    @app.callback(Output(P_REFRESH, "data"), Output(P_SAVE_MSG, "children"),
                  Input(P_SAVE, "n_clicks"), State(P_SELECTED, "data"), State(P_NEW_STATUS, "value"),
                  State(P_NOTE, "value"), State(P_REFRESH, "data"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def save_status(_n: int, finding_id: int | None, status: str | None, note: str | None, refresh: int,
                    lang: str) -> tuple[Any, Any]:
        lang = lang or "zh"
        if finding_id is None or not status:
            return dash.no_update, t("pick_finding", lang)
        if not can("edit_findings"):
            return dash.no_update, html.Span(DENIED.get(lang, DENIED["zh"]), className="planner-error")
        try:
            store.set_finding_status(ctx.engine, int(finding_id), status, actor=actor_name(), note=note or "")
        except ValueError as exc:
            return dash.no_update, html.Span(str(exc), className="planner-error")
        return (refresh or 0) + 1, t("saved", lang, id=finding_id, status=status_label(status, lang))
