"""Check rules (检查规则): every editable rule value, where it comes from, and its local changes.

Planners and administrators read the table: rule, name, clause, confidence (待核实 marked), the value
of the shipped rule file (national and industry standards), the value in force, and who changed it,
when and why. Administrators select a row to change the value or restore the file's value, with a
reason; the work is done by :mod:`geo.rule_admin` (validation, audit as ``rule_change``, the
``<file version>+local.<hash>`` version), which reads and writes through :mod:`geo.store` (no SQL here).

Every callback checks the permission itself (``rules_page`` to read, ``manage_rules`` to change): a
forged callback request never passes through the page layout.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
from dash import Input, Output, State, dash_table, dcc, html

from dashboard import ids
from dashboard.auth import actor_name
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, has_text, t
from dashboard.permissions import DENIED, can
from dashboard.routing import Page
from geo.checks.ruleset import load_ruleset
from geo.constants import LOCAL_TIMEZONE, LOCAL_ZONE
from geo.errors import AccessDenied
from geo.rule_admin import (
    LocalRuleSet,
    ValueState,
    editable_values,
    effective_ruleset,
    reset_rule_value,
    set_rule_value,
    validate_change,
    value_states,
)

# --- component ids (page prefix "rules-") ------------------------------------------------------------
RULES_PAGE = "rules-page"
RULES_VERSION = "rules-version"
RULES_FAMILY = "rules-filter-family"
RULES_ONLY = "rules-filter-only"
RULES_COUNT = "rules-count"
RULES_TABLE = "rules-table"
RULES_SELECTED = "rules-selected"
RULES_REFRESH = "rules-refresh"
RULES_EDITOR = "rules-editor"
RULES_VALUE = "rules-value"
RULES_BOOL = "rules-bool"
RULES_REASON = "rules-reason"
RULES_SAVE = "rules-save"
RULES_RESET = "rules-reset"
RULES_MESSAGE = "rules-message"

PATH = "/admin/rules"
PAGE_SIZE = 25
#: Times of changes are shown in Beijing time (the store keeps UTC instants).
TIMEZONE = LOCAL_TIMEZONE
#: Rule families in the order the filter offers them (others, if the file adds one, follow by name).
FAMILIES = ("safety_distance", "code_separation", "mhs", "pipeline", "hca", "tailings", "siting")
#: Longest reason accepted from the page (the text area stops there too).
MAX_REASON = 500
#: Row ids are ``<code>|<path>``.
_SEP = "|"
#: Shown columns; ``change`` joins who, when and why (also kept apart as ``actor``, ``at``, ``reason``).
COLUMNS = ("code", "name", "clause", "confidence", "path", "file_value", "current", "change")
UNCONFIRMED_COLOUR = "#B35900"
CHANGED_BACKGROUND = "#FFF4D6"
CELL = {"fontFamily": '"RiskMap Sans", "Noto Sans CJK SC", sans-serif', "fontSize": 14, "padding": "4px 8px",
        "textAlign": "left", "whiteSpace": "normal", "height": "auto"}
HEADER = {"fontWeight": "bold", "backgroundColor": "#F4F6F8", "whiteSpace": "normal"}


def _lang(lang: Any) -> str:
    return lang if lang in ("zh", "en") else "zh"


def is_metres(path: str) -> bool:
    """Whether the value at ``path`` is a distance in metres (as :mod:`geo.rule_admin` reads it).

    >>> is_metres("threshold_m"), is_metres("params.required_m.gas.crowded"), is_metres("params.large_d_mm")
    (True, True, False)
    """
    return path == "threshold_m" or any(part.endswith("_m") for part in path.split("."))


def value_text(value: Any, path: str, lang: str) -> str:
    """A rule value for people: 是/否 for booleans, numbers without trailing zeros, metres with ``m``.

    >>> value_text(5.0, "threshold_m", "zh"), value_text(3e-07, "params.criteria.x.new", "en")
    ('5 m', '3e-07')
    >>> value_text(True, "inclusive", "zh"), value_text(18, "params.max_months", "zh")
    ('是', '18')
    """
    if isinstance(value, bool):
        return t("rules_yes" if value else "rules_no", lang)
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = f"{value:.10g}"
    else:
        return str(value)
    return f"{text} m" if is_metres(path) else text


def changed_time(at: dt.datetime | None) -> str:
    """``YYYY-MM-DD HH:MM`` in Beijing time for a stored instant (empty when there is none)."""
    if at is None:
        return ""
    stamp = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    return stamp.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


def row_id(code: str, path: str) -> str:
    """Id of the table row of one value."""
    return f"{code}{_SEP}{path}"


def confidence_text(confidence: str, lang: str) -> str:
    """已核实 / ▲ 待核实 (or the stored word for anything else)."""
    key = f"rules_{confidence}"
    return t(key, lang) if has_text(key) else confidence


def family_label(family: str, lang: str) -> str:
    """Name of a rule family in ``lang`` (an unknown family is shown as it is in the file)."""
    key = f"rules_family_{family}"
    return t(key, lang) if has_text(key) else family


def table_rows(local: LocalRuleSet, states: list[ValueState], lang: str) -> list[dict[str, Any]]:
    """One row per editable value (``states`` from :func:`geo.rule_admin.value_states`)."""
    rows = []
    for state in states:
        item = state.item
        rule = local.rules.get(item.code)
        rows.append({
            "id": row_id(item.code, item.path), "code": item.code, "name": item.zh if lang == "zh" else item.en,
            "clause": item.clause, "confidence": confidence_text(item.confidence, lang),
            "confidence_code": item.confidence, "family": rule.family if rule else "", "path": item.path,
            "file_value": value_text(item.value, item.path, lang),
            "current": value_text(state.current, item.path, lang),
            "changed": "yes" if state.changed else "no", "actor": state.actor or "",
            "at": changed_time(state.changed_at), "reason": state.reason or "",
            "change": f"{state.actor} · {changed_time(state.changed_at)}\n{state.reason}" if state.changed else "",
        })
    return rows


def filter_rows(rows: list[dict[str, Any]], family: Any, only: Any) -> list[dict[str, Any]]:
    """The rows of one family (None or anything but text: all) and, per ``only``, unconfirmed or changed ones."""
    wanted = set(only) & {"unconfirmed", "changed"} if isinstance(only, list) and all(
        isinstance(o, str) for o in only) else set()
    out = [r for r in rows if not isinstance(family, str) or not family or r["family"] == family]
    if "unconfirmed" in wanted:
        out = [r for r in out if r["confidence_code"] == "unconfirmed"]
    if "changed" in wanted:
        out = [r for r in out if r["changed"] == "yes"]
    return out


def _known_ids() -> set[str]:
    return {row_id(v.code, v.path) for v in editable_values(load_ruleset())}


def parse_selected(data: Any) -> tuple[str, str] | None:
    """The (code, path) of a selection sent by the browser, or None unless it names an editable value."""
    if not isinstance(data, dict):
        return None
    code, path = data.get("code"), data.get("path")
    if not isinstance(code, str) or not isinstance(path, str) or len(code) + len(path) > 300:
        return None
    return (code, path) if row_id(code, path) in _known_ids() else None


def _selected_from_cell(cell: Any, rows: Any) -> dict[str, str] | None:
    """The value of the clicked cell: its row id, else the row at its index in the page shown."""
    if not isinstance(cell, dict):
        return None
    ident = cell.get("row_id")
    if not isinstance(ident, str):
        index = cell.get("row")
        if not isinstance(index, int) or isinstance(index, bool) or not isinstance(rows, list) or not (
                0 <= index < len(rows)) or not isinstance(rows[index], dict):
            return None
        ident = rows[index].get("id")
    if not isinstance(ident, str) or _SEP not in ident:
        return None
    code, path = ident.split(_SEP, 1)
    return {"code": code, "path": path} if parse_selected({"code": code, "path": path}) else None


def _dropdown_labels(lang: str) -> Any:
    return dropdown_labels(lang)


def _family_options(lang: str) -> list[dict[str, str]]:
    found = {r.family for r in load_ruleset().rules.values()}
    order = [f for f in FAMILIES if f in found] + sorted(found - set(FAMILIES))
    return [{"label": family_label(f, lang), "value": f} for f in order]


def _columns(lang: str) -> list[dict[str, Any]]:
    return [{"name": t(f"rules_col_{c}", lang), "id": c} for c in COLUMNS]


def table_styles(selected: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """Conditional styles: unconfirmed marked, changed rows highlighted, the selected row outlined."""
    styles: list[dict[str, Any]] = [
        {"if": {"filter_query": '{confidence_code} = "unconfirmed"', "column_id": "confidence"},
         "color": UNCONFIRMED_COLOUR, "fontWeight": "bold"},
        {"if": {"filter_query": '{changed} = "yes"'}, "backgroundColor": CHANGED_BACKGROUND},
        {"if": {"filter_query": '{changed} = "yes"', "column_id": "current"}, "fontWeight": "bold",
         "color": "#8A3B00"},
        {"if": {"state": "active"}, "backgroundColor": "#E3ECF5", "border": "1px solid #1F2933"},
    ]
    if selected is not None:  # a checked (code, path): no quote can reach the query
        styles.append({"if": {"filter_query": f'{{id}} = "{row_id(*selected)}"'},
                       "borderTop": "2px solid #1F2933", "borderBottom": "2px solid #1F2933"})
    return styles


def layout(ctx: AppContext, lang: str, **params: Any) -> html.Div:
    """The check-rules page (the caller has checked ``can("rules_page")``)."""
    lang = _lang(lang)
    filters = html.Div([
        html.Div([html.Label(t("rules_family", lang), htmlFor=RULES_FAMILY, className="rules-label"),
                  dcc.Dropdown(id=RULES_FAMILY, options=_family_options(lang), clearable=True, searchable=False,
                               placeholder=t("rules_all_families", lang), labels=_dropdown_labels(lang),
                               className="rules-dropdown")], className="rules-field"),
        html.Div([html.Span(t("rules_show", lang), className="rules-label"),
                  dcc.Checklist(id=RULES_ONLY, value=[], inline=True, className="rules-only",
                                options=[{"label": t("rules_only_unconfirmed", lang), "value": "unconfirmed"},
                                         {"label": t("rules_only_changed", lang), "value": "changed"}])],
                 className="rules-field"),
        html.Span(id=RULES_COUNT, className="rules-count"),
    ], className="rules-filters")
    table = dash_table.DataTable(  # type: ignore[attr-defined]
        id=RULES_TABLE, data=[], columns=_columns(lang), page_action="native", page_size=PAGE_SIZE,
        sort_action="none", style_table={"overflowX": "auto"}, style_cell={**CELL, "maxWidth": "280px"},
        style_header=HEADER, style_data_conditional=table_styles(),
        style_cell_conditional=[
            {"if": {"column_id": c}, "whiteSpace": "nowrap"} for c in ("code", "confidence")] + [
            {"if": {"column_id": c}, "textAlign": "right", "whiteSpace": "nowrap", "minWidth": "64px"}
            for c in ("file_value", "current")
        ] + [{"if": {"column_id": "path"}, "fontFamily": "monospace", "fontSize": 13, "minWidth": "180px",
              "wordBreak": "break-all"},
             {"if": {"column_id": "name"}, "minWidth": "180px"},
             {"if": {"column_id": "clause"}, "fontSize": 13, "minWidth": "130px"},
             {"if": {"column_id": "change"}, "fontSize": 13, "minWidth": "150px", "whiteSpace": "pre-line"}],
    )
    editor = html.Div(html.P(t("rules_pick_admin" if can("manage_rules") else "rules_pick", lang),
                             className="hint"), id=RULES_EDITOR)
    return html.Div([
        dcc.Store(id=RULES_SELECTED), dcc.Store(id=RULES_REFRESH, data=0),
        html.Div([html.H2(t("nav_rules", lang)), html.P(t("rules_intro", lang), className="hint")],
                 className="rules-head"),
        html.Div(id=RULES_VERSION, className="rules-version"),
        html.Div([
            html.Div([filters, table], className="rules-card rules-table-card"),
            html.Div([editor, html.Div(id=RULES_MESSAGE, className="rules-message", role="status")],
                     className="rules-card rules-side"),
        ], className="rules-main"),
    ], className="rules-page", id=RULES_PAGE)


def version_line(local: LocalRuleSet, changed: int, lang: str) -> list[Any]:
    """``当前规则版本 <version>(规则文件 <file version>) · 本地修改 n 项``, then any stored value not applied."""
    head: list[Any] = [t("rules_version", lang) + " ", html.Code(local.version, className="rules-version-code",
                                                                 id="rules-version-code")]
    if local.version != local.base_version:
        head.append(t("rules_file_version", lang, version=local.base_version))
    head += [" · ", html.Span(t("rules_changed_count", lang, n=changed), id="rules-changed-count",
                              className="rules-changed-count" + (" rules-has-changes" if changed else ""))]
    out: list[Any] = [html.Div(head, className="rules-version-line")]
    out += [html.Div(t("rules_skipped", lang, note=note), className="rules-error") for note in local.skipped]
    return out


def _fact(label: str, value: Any) -> html.Div:
    return html.Div([html.Span(label, className="rules-fact-label"), html.Span(value, className="rules-fact-value")],
                    className="rules-fact")


def panel(state: ValueState, lang: str, editable: bool) -> list[Any]:
    """The detail of one value and, for ``editable`` (administrators), the form that changes it."""
    item = state.item
    unconfirmed = item.confidence == "unconfirmed"
    history = (t("rules_last_change", lang, actor=state.actor, at=changed_time(state.changed_at),
                                                   reason=state.reason)
               if state.changed else t("rules_not_changed", lang))
    out: list[Any] = [
        html.H3([html.Code(item.code), " · ", html.Code(item.path)], className="rules-panel-title"),
        html.P(item.zh if lang == "zh" else item.en, className="rules-panel-name"),
        _fact(t("rules_col_clause", lang), item.clause),
        _fact(t("rules_col_confidence", lang), html.Span(confidence_text(item.confidence, lang),
                                                         className="rules-unconfirmed" if unconfirmed else "")),
        _fact(t("rules_col_file_value", lang), value_text(item.value, item.path, lang)),
        _fact(t("rules_col_current", lang), html.Span(value_text(state.current, item.path, lang),
                                                      className="rules-current-changed" if state.changed else "")),
        html.P(history, className="rules-history" + (" rules-history-changed" if state.changed else "")),
    ]
    if unconfirmed:
        out.append(html.P(t("rules_unconfirmed_note", lang), className="rules-unconfirmed-note"))
    if not editable:
        out.append(html.P(t("rules_admin_only", lang), className="hint rules-admin-only"))
        return out
    boolean = isinstance(item.value, bool)
    current = state.current
    out.append(html.Div([
        html.Label(t("rules_new_value", lang), htmlFor=RULES_VALUE if not boolean else RULES_BOOL,
                   className="rules-label"),
        html.Div(dcc.Input(id=RULES_VALUE, type="number", step="any", debounce=False, className="rules-input",
                           value=None if boolean else current),
                 className="rules-hidden" if boolean else "rules-number"),
        html.Div([dcc.RadioItems(id=RULES_BOOL, inline=True, className="rules-bool",
                                 options=[{"label": t("rules_yes", lang), "value": "true"},
                                          {"label": t("rules_no", lang), "value": "false"}],
                                 value=("true" if current else "false") if boolean else None),
                  html.P(t("rules_inclusive_help", lang), className="hint rules-help")],
                 className="" if boolean else "rules-hidden"),
        html.Label(t("rules_reason", lang), htmlFor=RULES_REASON, className="rules-label"),
        dcc.Textarea(id=RULES_REASON, value="", maxLength=MAX_REASON, className="rules-reason",
                     placeholder=t("rules_reason_placeholder", lang)),
        html.Div([html.Button(t("rules_save", lang), id=RULES_SAVE, n_clicks=0, className="btn rules-save"),
                  html.Button(t("rules_reset", lang), id=RULES_RESET, n_clicks=0, className="btn rules-reset",
                              disabled=not state.changed)], className="rules-buttons"),
    ], className="rules-form"))
    return out


def _denied(lang: str) -> html.Span:
    return html.Span(DENIED.get(lang, DENIED["zh"]), className="rules-error")


def _error(message: str) -> html.Span:
    return html.Span(message, className="rules-error")


def _state_of(states: list[ValueState], code: str, path: str) -> ValueState | None:
    return next((s for s in states if s.item.code == code and s.item.path == path), None)


def change_value(ctx: AppContext, trigger: Any, selected: Any, number: Any, boolean: Any, reason: Any,
                 lang: str) -> tuple[bool, Any]:
    """Save or reset the selected value as the request's user; return (whether it changed, message).

    The permission is checked here, and :mod:`geo.rule_admin` refuses a district-scoped session again.
    """
    if not can("manage_rules"):
        return False, _denied(lang)
    picked = parse_selected(selected)
    if picked is None:
        return False, _error(t("rules_need_pick", lang))
    code, path = picked
    why = reason if isinstance(reason, str) else ""
    if len(why) > MAX_REASON:  # the text area stops at MAX_REASON: only a forged request gets here
        return False, _error(t("rules_reason_long", lang, n=MAX_REASON))
    try:
        if trigger == RULES_RESET:
            if not reset_rule_value(ctx.engine, code, path, reason=why, actor=actor_name()):
                return False, html.Span(t("rules_nothing_to_reset", lang, code=code, path=path))
            base = load_ruleset()
            file_value = next(v.value for v in editable_values(base) if (v.code, v.path) == (code, path))
            return True, html.Span(t("rules_was_reset", lang, code=code, path=path,
                                     value=value_text(file_value, path, lang),
                                     version=effective_ruleset(ctx.engine).version), className="rules-ok")
        value = boolean if path == "inclusive" else number
        if value is None or value == "":
            return False, _error(t("rules_need_value", lang))
        version = set_rule_value(ctx.engine, code, path, value, reason=why, actor=actor_name())
    except (ValueError, AccessDenied) as exc:
        return False, _error(str(exc))
    shown = value_text(validate_change(load_ruleset(), code, path, value), path, lang)
    return True, html.Span(t("rules_saved", lang, code=code, path=path, value=shown, version=version),
                           className="rules-ok")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Check-rules page callbacks (they call geo.rule_admin; no SQL)."""

    @app.callback(Output(RULES_TABLE, "data"), Output(RULES_TABLE, "page_current"), Output(RULES_VERSION, "children"),
                  Output(RULES_COUNT, "children"),
                  Input(RULES_FAMILY, "value"), Input(RULES_ONLY, "value"), Input(RULES_REFRESH, "data"),
                  State(ids.LANG, "value"))
    def rows(family: Any, only: Any, _refresh: Any, lang: Any) -> tuple[Any, Any, Any, Any]:
        lang = _lang(lang)
        if not can("rules_page"):
            return [], 0, _denied(lang), ""
        local, states = value_states(ctx.engine)
        everything = table_rows(local, states, lang)
        shown = filter_rows(everything, family, only)
        page = dash.no_update if dash.ctx.triggered_id == RULES_REFRESH else 0  # a save keeps the page
        count = t("rules_count", lang, n=len(shown), total=len(everything))
        return shown, page, version_line(local, sum(s.changed for s in states), lang), count

    @app.callback(Output(RULES_SELECTED, "data"), Input(RULES_TABLE, "active_cell"),
                  State(RULES_TABLE, "derived_viewport_data"), prevent_initial_call=True)
    def pick(cell: Any, viewport: Any) -> Any:
        if not can("rules_page"):
            return dash.no_update
        picked = _selected_from_cell(cell, viewport)
        return dash.no_update if picked is None else picked

    @app.callback(Output(RULES_TABLE, "style_data_conditional"), Input(RULES_SELECTED, "data"),
                  prevent_initial_call=True)
    def outline(selected: Any) -> Any:
        return table_styles(parse_selected(selected) if can("rules_page") else None)

    @app.callback(Output(RULES_EDITOR, "children"), Output(RULES_MESSAGE, "children", allow_duplicate=True),
                  Input(RULES_SELECTED, "data"), Input(RULES_REFRESH, "data"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def show(selected: Any, _refresh: Any, lang: Any) -> tuple[Any, Any]:
        lang = _lang(lang)
        if not can("rules_page"):
            return _denied(lang), dash.no_update
        message = "" if dash.ctx.triggered_id == RULES_SELECTED else dash.no_update  # keep a save's message
        editable = can("manage_rules")
        picked = parse_selected(selected)
        state = None
        if picked is not None:
            _local, states = value_states(ctx.engine)
            state = _state_of(states, *picked)
        if state is None:
            return html.P(t("rules_pick_admin" if editable else "rules_pick", lang), className="hint"), message
        return panel(state, lang, editable), message

    @app.callback(Output(RULES_REFRESH, "data"), Output(RULES_MESSAGE, "children"),
                  Input(RULES_SAVE, "n_clicks"), Input(RULES_RESET, "n_clicks"), State(RULES_SELECTED, "data"),
                  State(RULES_VALUE, "value"), State(RULES_BOOL, "value"), State(RULES_REASON, "value"),
                  State(RULES_REFRESH, "data"), State(ids.LANG, "value"), prevent_initial_call=True)
    def change(save: Any, reset: Any, selected: Any, number: Any, boolean: Any, reason: Any, refresh: Any,
               lang: Any) -> tuple[Any, Any]:
        lang = _lang(lang)
        trigger = dash.ctx.triggered_id
        if not (save if trigger == RULES_SAVE else reset if trigger == RULES_RESET else None):
            return dash.no_update, dash.no_update
        done, message = change_value(ctx, trigger, selected, number, boolean, reason, lang)
        if not done:
            return dash.no_update, message
        return (refresh if isinstance(refresh, int) and not isinstance(refresh, bool) else 0) + 1, message


PAGES = (Page(PATH, layout, nav_key="nav_rules", order=70, action="rules_page"),)
