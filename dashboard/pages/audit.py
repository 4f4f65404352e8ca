"""Audit log (审计日志) for administrators: who did what and when, filtered, paged on the server, exported as CSV.

Entries are read through :func:`geo.store.read_audit` and :func:`geo.store.audit_actions` (no SQL here),
so PostgreSQL's row-level security still applies. Every callback checks ``can("audit_page")`` itself:
a forged callback request never passes through the page layout.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, dash_table, dcc, html

from dashboard import ids
from dashboard.auth import actor_name
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, has_text, t
from dashboard.permissions import DENIED, can
from dashboard.routing import Page
from geo import store
from geo.cells import csv_row
from geo.constants import LOCAL_TIMEZONE, LOCAL_ZONE
from geo.layer_specs import LAYERS

# --- component ids (page prefix "audit-") ------------------------------------------------------------
AUDIT_PAGE = "audit-page"
AUDIT_ACTOR = "audit-filter-actor"
AUDIT_ACTION = "audit-filter-action"
AUDIT_DISTRICT = "audit-filter-district"
AUDIT_DATES = "audit-filter-dates"
AUDIT_TABLE = "audit-table"
AUDIT_COUNT = "audit-count"
AUDIT_MESSAGE = "audit-message"
AUDIT_CSV = "audit-csv"
AUDIT_DOWNLOAD = "audit-download"

PATH = "/admin/audit"
PAGE_SIZE = 50
#: Times are shown, and date filters read, in Beijing time (the store keeps UTC instants).
TIMEZONE = LOCAL_TIMEZONE
#: Longest actor filter accepted (the column holds 80 characters).
MAX_ACTOR = 80
#: Pages beyond this are not asked for (a forged request could send any number).
MAX_PAGE = 1_000_000
#: One details value, and the whole details cell, are cut to these lengths in the table (not in the CSV).
VALUE_CHARS, DETAILS_CHARS, TARGET_CHARS = 40, 300, 80
#: Actions written by RiskMap, in the order the filter offers them; others are listed raw after them.
KNOWN_ACTIONS = ("login", "import", "export", "check_run", "finding_status", "precheck", "user_add",
                 "user_disable", "user_enable", "rule_change", "audit_export", "hazard_report", "hazard_step",
                 "inspection", "dispatch_submit", "self_report_submit", "hazard_remind")
COLUMNS = ("at", "actor", "action", "target", "district", "details")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]*)?")
_ADCODE = re.compile(r"\d{6}")
CELL = {"fontFamily": '"RiskMap Sans", "Noto Sans CJK SC", sans-serif', "fontSize": 14, "padding": "4px 8px",
        "textAlign": "left", "whiteSpace": "normal", "height": "auto"}
HEADER = {"fontWeight": "bold", "backgroundColor": "#F4F6F8", "whiteSpace": "normal"}


class FilterError(ValueError):
    """A filter value the page cannot use; the message is in the page language."""


@dataclass(frozen=True)
class Filters:
    """Checked filter values, as :func:`geo.store.read_audit` takes them."""

    actor: str | None = None
    action: str | None = None
    adcode: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def store_args(self) -> dict[str, Any]:
        """Keyword arguments for :func:`geo.store.read_audit`."""
        return {"actor": self.actor, "action": self.action, "adcode": self.adcode, "since": self.since,
                "until": self.until}


def _lang(lang: Any) -> str:
    return lang if lang in ("zh", "en") else "zh"


def _parse_date(value: Any, lang: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        raise FilterError(t("audit_bad_date", lang, value=str(value)[:40]))
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise FilterError(t("audit_bad_date", lang, value=value.strip()[:40])) from None


def parse_filters(actor: Any, action: Any, adcode: Any, start: Any, end: Any, lang: str = "zh") -> Filters:
    """Check the filter values sent by the browser (or by anyone posting to the callback).

    Raises
    ------
    FilterError
        With a message in ``lang`` for a bad date, a reversed range, or a value of the wrong kind.
    """
    if actor is not None and not isinstance(actor, str):
        raise FilterError(t("audit_bad_actor", lang, n=MAX_ACTOR))
    actor = (actor or "").strip() or None
    if actor is not None and len(actor) > MAX_ACTOR:
        raise FilterError(t("audit_bad_actor", lang, n=MAX_ACTOR))
    if action is not None and (not isinstance(action, str) or len(action) > 40):
        raise FilterError(t("audit_bad_action", lang))
    if adcode is not None and (not isinstance(adcode, str) or not _ADCODE.fullmatch(adcode)):
        raise FilterError(t("audit_bad_district", lang))
    since, until = _parse_date(start, lang), _parse_date(end, lang)
    if since is not None and until is not None and since > until:
        raise FilterError(t("audit_bad_range", lang, start=since.isoformat(), end=until.isoformat()))
    return Filters(actor=actor, action=action or None, adcode=adcode or None, since=since, until=until)


def action_label(action: str, lang: str) -> str:
    """Name of an audit action in ``lang``; an action RiskMap does not know is shown as it is stored."""
    key = f"action_{action}"
    return t(key, lang) if has_text(key) else action


def _action_order(action: str) -> tuple[int, str]:
    return (KNOWN_ACTIONS.index(action), "") if action in KNOWN_ACTIONS else (len(KNOWN_ACTIONS), action)


def _str(value: Any) -> str:
    """Text of a cell; a missing value is empty."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value_text(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, dict):
        return ",".join(f"{k}:{_value_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ",".join(_value_text(v) for v in value)
    return str(value)


def details_text(details: Any, *, value_chars: int = VALUE_CHARS, total_chars: int = DETAILS_CHARS) -> str:
    """Details of an entry as ``key=value; …`` with long values cut.

    >>> details_text({"file": "企业.xlsx", "imported": 3, "adcodes": ["530181", "530112"]})
    'file=企业.xlsx; imported=3; adcodes=530181,530112'
    >>> details_text({"sha256": "ab" * 40}, value_chars=10)
    'sha256=ababababa…'
    """
    if not isinstance(details, dict):
        return _cut(_str(details), total_chars)
    parts = [f"{key}={_cut(_value_text(value), value_chars)}" for key, value in details.items()]
    return _cut("; ".join(parts), total_chars)


def local_time(at: Any) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in Beijing time for a stored instant."""
    if at is None or pd.isna(at):
        return ""
    stamp = pd.Timestamp(at)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return stamp.tz_convert(TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


def _district(adcode: Any, names: dict[str, str]) -> str:
    code = _str(adcode)
    return f"{names[code]} {code}" if code in names else code


def target_text(action: str, target: str, lang: str) -> str:
    """The target of an entry for people: an imported layer is named in ``lang`` with its code."""
    if action == "import" and target in LAYERS:
        spec = LAYERS[target]
        return f"{spec.zh}（{target}）" if lang == "zh" else f"{spec.en} ({target})"
    return target


def table_rows(frame: pd.DataFrame, names: dict[str, str], lang: str) -> list[dict[str, Any]]:
    """Rows of the audit table for entries of :func:`geo.store.read_audit` (``names``: adcode → district)."""
    rows = []
    for rec in frame.to_dict("records"):
        target = target_text(_str(rec["action"]), _str(rec["target"]), lang)
        rows.append({"id": int(rec["id"]), "at": local_time(rec["at"]), "actor": _str(rec["actor"]),
                     "action": action_label(_str(rec["action"]), lang), "action_code": _str(rec["action"]),
                     "target": _cut(target, TARGET_CHARS), "district": _district(rec["adcode"], names),
                     "details": details_text(rec["details"])})
    return rows


def _tooltips(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The full target and details of each row, shown on hover where the cell is cut."""
    tips = []
    for rec in frame.to_dict("records"):
        tip: dict[str, Any] = {}
        target = _str(rec["target"])
        if len(target) > TARGET_CHARS:
            tip["target"] = {"value": target, "type": "text"}
        full = details_text(rec["details"], value_chars=10_000, total_chars=100_000)
        if full != details_text(rec["details"]):
            tip["details"] = {"value": full, "type": "text"}
        tips.append(tip)
    return tips


def csv_bytes(frame: pd.DataFrame, names: dict[str, str], lang: str) -> bytes:
    """The entries as CSV in UTF-8 with a byte-order mark (so that Excel reads the Chinese text).

    Nothing is cut: details are the stored JSON. Text that Excel would run as a formula is prefixed
    with an apostrophe (:func:`geo.cells.csv_row`).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([t(f"audit_col_{c}", lang) for c in
                     ("at", "actor", "action", "action_code", "target", "district", "adcode", "details")])
    for rec in frame.to_dict("records"):
        adcode = _str(rec["adcode"])
        writer.writerow(csv_row((
            local_time(rec["at"]), _str(rec["actor"]), action_label(_str(rec["action"]), lang), _str(rec["action"]),
            _str(rec["target"]), names.get(adcode, ""), adcode,
            json.dumps(rec["details"] if isinstance(rec["details"], dict) else {}, ensure_ascii=False,
                       default=str))))
    return buffer.getvalue().encode("utf-8-sig")


def _dropdown_labels(lang: str) -> Any:
    return dropdown_labels(lang)


def _field(label: str, control: Any, class_name: str = "") -> html.Div:
    return html.Div([html.Label(label, htmlFor=control.id, className="audit-label"), control],
                    className=f"audit-field {class_name}".strip())


def _columns(lang: str) -> list[dict[str, Any]]:
    return [{"name": t(f"audit_col_{c}", lang), "id": c} for c in COLUMNS]


def layout(ctx: AppContext, lang: str, **params: Any) -> html.Div:
    """The audit page (the caller has checked ``can("audit_page")``)."""
    lang = _lang(lang)
    actions = sorted(store.audit_actions(ctx.engine), key=_action_order)
    names = store.district_codes(ctx.engine)
    district_label = "{name}（{code}）" if lang == "zh" else "{name} ({code})"
    filters = html.Div([
        _field(t("audit_actor", lang), dcc.Input(id=AUDIT_ACTOR, type="text", debounce=0.5, maxLength=MAX_ACTOR,
                                                 placeholder=t("audit_actor_placeholder", lang),
                                                 className="audit-input")),
        _field(t("audit_action", lang), dcc.Dropdown(
            id=AUDIT_ACTION, clearable=True, searchable=True, placeholder=t("audit_all_actions", lang),
            labels=_dropdown_labels(lang), className="audit-dropdown",
            options=[{"label": action_label(a, lang), "value": a} for a in actions])),
        _field(t("audit_district", lang), dcc.Dropdown(
            id=AUDIT_DISTRICT, clearable=True, searchable=True, placeholder=t("audit_all_districts", lang),
            labels=_dropdown_labels(lang), className="audit-dropdown",
            options=[{"label": district_label.format(name=names[c], code=c), "value": c} for c in sorted(names)])),
        _field(t("audit_dates", lang), dcc.DatePickerRange(
            id=AUDIT_DATES, display_format="YYYY-MM-DD", first_day_of_week=1, minimum_nights=0, clearable=True,
            start_date_placeholder_text=t("audit_from", lang), end_date_placeholder_text=t("audit_to", lang),
            month_format="YYYY年M月" if lang == "zh" else "MMMM YYYY", className="audit-dates"), "audit-field-dates"),
    ], className="audit-filters")
    table = dash_table.DataTable(  # type: ignore[attr-defined]
        id=AUDIT_TABLE, data=[], columns=_columns(lang), page_action="custom", page_current=0, page_size=PAGE_SIZE,
        page_count=1, sort_action="none", cell_selectable=False, tooltip_delay=300, tooltip_duration=None,
        style_table={"overflowX": "auto"}, style_cell={**CELL, "maxWidth": "520px"}, style_header=HEADER,
        style_cell_conditional=[{"if": {"column_id": "at"}, "whiteSpace": "nowrap", "width": "160px"},
                                {"if": {"column_id": "details"}, "minWidth": "320px", "fontSize": 13}],
    )
    return html.Div([
        dcc.Download(id=AUDIT_DOWNLOAD),
        html.Div([html.H2(t("nav_audit", lang)), html.P(t("audit_intro", lang), className="hint")],
                 className="audit-head"),
        html.Div([
            filters,
            html.Div(id=AUDIT_MESSAGE, className="audit-message", role="alert"),
            html.Div([html.Span(id=AUDIT_COUNT, className="audit-count"),
                      html.Button(t("audit_csv", lang), id=AUDIT_CSV, n_clicks=0, className="btn audit-csv")],
                     className="audit-bar"),
            table,
        ], className="audit-card"),
    ], className="audit-page", id=AUDIT_PAGE)


def _denied(lang: str) -> html.Span:
    return html.Span(DENIED.get(lang, DENIED["zh"]), className="audit-error", id="audit-denied")


def _error(message: str) -> html.Span:
    return html.Span(message, className="audit-error")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Audit page callbacks (they call geo.store; no SQL)."""

    @app.callback(Output(AUDIT_TABLE, "data"), Output(AUDIT_TABLE, "tooltip_data"),
                  Output(AUDIT_TABLE, "page_count"), Output(AUDIT_TABLE, "page_current"),
                  Output(AUDIT_COUNT, "children"), Output(AUDIT_MESSAGE, "children"),
                  Input(AUDIT_ACTOR, "value"), Input(AUDIT_ACTION, "value"), Input(AUDIT_DISTRICT, "value"),
                  Input(AUDIT_DATES, "start_date"), Input(AUDIT_DATES, "end_date"),
                  Input(AUDIT_TABLE, "page_current"), State(ids.LANG, "value"))
    def entries(actor: Any, action: Any, adcode: Any, start: Any, end: Any, page: Any,
                lang: Any) -> tuple[Any, Any, Any, Any, Any, Any]:
        lang = _lang(lang)
        if not can("audit_page"):
            return [], [], 1, 0, "", _denied(lang)
        try:
            filters = parse_filters(actor, action, adcode, start, end, lang)
        except FilterError as exc:
            return [], [], 1, 0, "", _error(str(exc))
        # a new filter starts at the first page; paging keeps the filter
        page = page if dash.ctx.triggered_id == AUDIT_TABLE and isinstance(page, int) else 0
        page = min(max(page, 0), MAX_PAGE)
        frame, total = store.read_audit(ctx.engine, **filters.store_args(), limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        if page >= pages:  # past the end (the log shrank in view, or a forged page number): show the last page
            page = pages - 1
            frame, total = store.read_audit(ctx.engine, **filters.store_args(), limit=PAGE_SIZE,
                                            offset=page * PAGE_SIZE)
        names = store.district_codes(ctx.engine)
        count = t("audit_count", lang, n=total, page=page + 1, pages=pages)
        return table_rows(frame, names, lang), _tooltips(frame), pages, page, count, ""

    @app.callback(Output(AUDIT_DOWNLOAD, "data"), Output(AUDIT_MESSAGE, "children", allow_duplicate=True),
                  Input(AUDIT_CSV, "n_clicks"), State(AUDIT_ACTOR, "value"), State(AUDIT_ACTION, "value"),
                  State(AUDIT_DISTRICT, "value"), State(AUDIT_DATES, "start_date"), State(AUDIT_DATES, "end_date"),
                  State(ids.LANG, "value"), prevent_initial_call=True)
    def export_csv(n: Any, actor: Any, action: Any, adcode: Any, start: Any, end: Any, lang: Any) -> tuple[Any, Any]:
        lang = _lang(lang)
        if not n:
            return dash.no_update, dash.no_update
        if not can("audit_page"):
            return dash.no_update, _denied(lang)
        try:
            filters = parse_filters(actor, action, adcode, start, end, lang)
        except FilterError as exc:
            return dash.no_update, _error(str(exc))
        frame, total = store.read_audit(ctx.engine, **filters.store_args(), limit=None)
        data = csv_bytes(frame, store.district_codes(ctx.engine), lang)
        with ctx.engine.begin() as conn:  # exporting the log is itself logged
            store.audit(conn, actor=actor_name(), action="audit_export",
                        target="audit_log", adcode=None,
                        details={"rows": total, **{k: v for k, v in filters.store_args().items() if v is not None}})
        name = f"{t('audit_csv_name', lang)}_{dt.datetime.now(LOCAL_ZONE):%Y%m%d-%H%M%S}.csv"
        return dcc.send_bytes(data, name), ""


PAGES = (Page(PATH, layout, nav_key="nav_audit", order=60, action="audit_page"),)
