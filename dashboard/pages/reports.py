"""Periodic reports (定期报送): definitions and due dates, generating and submitting, who has submitted, editing.

The definitions in force are :func:`layers.reporting.definitions.reports_in_force` (``definitions.yaml`` with
the administrator's local values). Generating, submitting and changing a definition go through
:mod:`layers.reporting.service` and :mod:`layers.reporting.definition_admin`, which check permissions and
write the one audit entry, as the command line does; row-level security keeps a district officer to their
own district. The status matrix (district × report) is :func:`layers.reporting.status.submission_status`,
its colours ``layers/reporting/status.yaml``; the city downloads what was sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
from dash import Input, Output, State, dash_table, dcc, html

from dashboard import ids
from dashboard.auth import actor_name, current_user
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, register_text, t
from dashboard.pages.campaign_text import page_lang
from dashboard.permissions import DENIED, can
from dashboard.routing import Page
from geo import store
from geo.constants import LOCAL_ZONE
from layers.reporting import definition_admin
from layers.reporting.definition_admin import reset_definition, set_definition
from layers.reporting.definitions import (
    EDITABLE_FIELDS,
    ReportDefinition,
    check_ready,
    data_date,
    due_date,
    latest_ready,
    period_of,
    reports_in_force,
)
from layers.reporting.service import MEDIA_TYPES, WRITERS, Refusal, generate_report, submit_report
from layers.reporting.status import load_states, submission_status
from layers.snapshots import CITY

PATH = "/reports"
ACTION = "generate_report"
RP_DEFINITIONS = "rp-definitions"
RP_REPORT = "rp-report"
RP_SCOPE = "rp-scope"
RP_PERIOD = "rp-period"
RP_FORMAT = "rp-format"
RP_GENERATE = "rp-generate"
RP_DOWNLOAD = "rp-download"
RP_MESSAGE = "rp-message"
RP_READY = "rp-ready"
RP_NOTE = "rp-note"
RP_SUBMIT = "rp-submit"
RP_SUBMITTED = "rp-submitted"
RP_REFRESH = "rp-refresh"
RP_STATUS_MONTH = "rp-status-month"
RP_MATRIX = "rp-matrix"
RP_SENT = "rp-sent"
RP_SENT_GET = "rp-sent-get"
RP_SENT_DOWNLOAD = "rp-sent-download"
RP_DEF_REPORT = "rp-def-report"
RP_DEF_FIELD = "rp-def-field"
RP_DEF_VALUE = "rp-def-value"
RP_DEF_REASON = "rp-def-reason"
RP_DEF_SAVE = "rp-def-save"
RP_DEF_RESET = "rp-def-reset"
RP_DEF_MESSAGE = "rp-def-message"
RP_DEF_TABLE = "rp-def-table"

TEXT: dict[str, dict[str, str]] = {
    "nav_reports": {"zh": "定期报告", "en": "Reports"},
    "rp_title": {"zh": "定期报告", "en": "Periodic reports"},
    "rp_definitions": {"zh": "报告种类与报送时限", "en": "Reports and their due dates"},
    "rp_name": {"zh": "报告名称", "en": "Report"},
    "rp_period_kind": {"zh": "周期", "en": "Period"},
    "rp_month": {"zh": "月报", "en": "Monthly"},
    "rp_year": {"zh": "年报", "en": "Yearly"},
    "rp_issuer": {"zh": "报送方向", "en": "Issued by"},
    "rp_issuer_district": {"zh": "区县报市", "en": "District to city"},
    "rp_issuer_city": {"zh": "市发区县", "en": "City to districts"},
    "rp_recipient": {"zh": "报送对象", "en": "Recipient"},
    "rp_current": {"zh": "本期", "en": "Current period"},
    "rp_due": {"zh": "截止日期", "en": "Due"},
    "rp_data_date": {"zh": "数据截至", "en": "Data as of"},
    "rp_generate_title": {"zh": "生成报告", "en": "Generate a report"},
    "rp_report": {"zh": "报告", "en": "Report"},
    "rp_scope": {"zh": "范围", "en": "Scope"},
    "rp_city": {"zh": "全市", "en": "Whole city"},
    "rp_period": {"zh": "期间", "en": "Period"},
    "rp_format": {"zh": "格式", "en": "Format"},
    "rp_generate": {"zh": "生成", "en": "Generate"},
    "rp_done": {"zh": "已生成《{title}》（{fmt}），请查看浏览器下载。",
                "en": "Generated “{title}” ({fmt}): see your downloads."},
    "rp_failed": {"zh": "无法生成：{error}", "en": "Could not generate the report: {error}"},
    "rp_invalid": {"zh": "请选择报告、范围和期间。", "en": "Choose a report, a scope and a period."},
    "rp_submit": {"zh": "报送", "en": "Submit"},
    "rp_note": {"zh": "备注（可选）", "en": "Note (optional)"},
    "rp_submitted": {"zh": "已报送《{title}》（第 {revision} 次）。",
                     "en": "Submitted “{title}” (revision {revision})."},
    "rp_status_title": {"zh": "报送情况", "en": "Who has submitted"},
    "rp_status_month": {"zh": "月份（年报按该年）", "en": "Month (yearly reports: its year)"},
    "rp_district": {"zh": "区县", "en": "District"},
    "rp_days_late": {"zh": "{label} {days}天", "en": "{label} {days} days"},
    "rp_days_left": {"zh": "{label}（{days}天后截止）", "en": "{label} (due in {days} days)"},
    "rp_days_ready": {"zh": "{label}（{days}天后可生成）", "en": "{label} (can be made in {days} days)"},
    "rp_days_over": {"zh": "{label} {days}天", "en": "{label} {days} days"},
    "rp_sent": {"zh": "已报送文件", "en": "Submitted documents"},
    "rp_sent_get": {"zh": "下载所选", "en": "Download"},
    "rp_admin_title": {"zh": "修改报告定义（管理员）", "en": "Change report definitions (administrator)"},
    "rp_field": {"zh": "字段", "en": "Field"},
    "rp_value": {"zh": "新值（章节以逗号分隔）", "en": "New value (sections: comma-separated)"},
    "rp_reason": {"zh": "修改理由", "en": "Reason"},
    "rp_save": {"zh": "保存", "en": "Save"},
    "rp_reset": {"zh": "恢复默认", "en": "Reset to default"},
    "rp_saved": {"zh": "已保存 {code}.{field}。", "en": "Saved {code}.{field}."},
    "rp_was_reset": {"zh": "已恢复 {code}.{field} 的默认值。", "en": "{code}.{field} is back to its default."},
    "rp_not_changed": {"zh": "{code}.{field} 本来就是默认值。", "en": "{code}.{field} was not changed."},
    "rp_file_value": {"zh": "默认值", "en": "Default"},
    "rp_current_value": {"zh": "现行值", "en": "In force"},
    "rp_changed_by": {"zh": "修改人", "en": "Changed by"},
    "rp_hint": {"zh": "区县报告与全市比较，需市级账号先保存当月统计快照（晾晒排名页）。",
                "en": "A district's report compares it with the city: a city account must store the month's "
                      "snapshot first (ranking page)."},
}
register_text(TEXT)


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_ZONE).date()


def periods(definition: ReportDefinition, today: dt.date, count: int = 24) -> list[str]:
    """The periods a report may be generated for, newest first: this month and the 23 before, or 6 years."""
    if definition.period == "year":
        return [str(today.year - i) for i in range(6)]
    out, first = [], today.replace(day=1)
    for _ in range(count):
        out.append(f"{first:%Y-%m}")
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return out


def definition_rows(lang: str, today: dt.date, reports: dict[str, ReportDefinition]) -> list[dict[str, str]]:
    """One row per report definition: name, period kind, direction, recipient, current period, data date, due date."""
    rows = []
    for code, d in reports.items():
        period = period_of(d, today)
        rows.append({"code": code, "name": d.title(lang), "period_kind": t(f"rp_{d.period}", lang),
                     "issuer": t(f"rp_issuer_{d.issuer}", lang),
                     "recipient": d.recipient_zh if lang == "zh" else d.recipient_en,
                     "current": period, "data_date": data_date(d, period).isoformat(),
                     "due": due_date(d, period).isoformat()})
    return rows


def _cell_text(row: Any, lang: str) -> str:
    label = load_states()[row["state"]].label(lang)
    key = {"late": "rp_days_late", "not_due": "rp_days_ready", "pending": "rp_days_left",
           "overdue": "rp_days_over"}.get(row["state"])
    return t(key, lang, label=label, days=row["days"]) if key else label


def status_matrix(ctx: AppContext, month: str, lang: str) -> html.Div:
    """The table district × district-issued report for ``month``, each cell coloured by its state."""
    table = submission_status(ctx.engine, month, today=_today())
    reports = reports_in_force(ctx.engine)
    kinds = list(dict.fromkeys(table["kind"]))
    as_of = dict(zip(table["kind"], table["data_date"], strict=True))
    head = html.Tr([html.Th(t("rp_district", lang)), *(
        html.Th([reports[k].title(lang), html.Br(), html.Small(f"{t('rp_data_date', lang)} {as_of[k]}")],
                **{"data-kind": k, "data-date": str(as_of[k])}) for k in kinds)])
    body = []
    for adcode, rows in table.groupby("adcode", sort=True):
        cells = []
        for row in rows.set_index("kind").reindex(kinds).reset_index().to_dict("records"):
            style = load_states()[row["state"]]
            cells.append(html.Td(_cell_text(row, lang), style={"background": style.colour, "color": style.text},
                                 title=f"{row['period']} · {t('rp_data_date', lang)} {row['data_date']} · "
                                       f"{t('rp_due', lang)} {row['due']}",
                                 **{"data-state": row["state"], "data-kind": row["kind"]}))
        attrs: dict[str, Any] = {"data-adcode": str(adcode)}
        body.append(html.Tr([html.Th(str(rows["district"].iloc[0])), *cells], **attrs))
    legend = [html.Span(st.label(lang), className="rp-legend",
                        style={"background": st.colour, "color": st.text, "padding": "0 0.5em", "marginRight": "0.5em"})
              for st in load_states().values()]
    return html.Div([html.Table([html.Thead(head), html.Tbody(body)], className="rp-matrix-table"),
                     html.P(legend)])


def _sent_options(ctx: AppContext, month: str, lang: str) -> list[dict[str, Any]]:
    reports = reports_in_force(ctx.engine)
    names = store.district_codes(ctx.engine)
    frames = [store.list_report_submissions(ctx.engine, period=p) for p in (month, month[:4])]
    out = []
    for frame in frames:
        for r in frame.to_dict("records"):
            title = reports[r["kind"]].title(lang) if r["kind"] in reports else r["kind"]
            at = r["submitted_at"].astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")
            who = names.get(r["adcode"], r["adcode"])
            out.append({"label": f"{who} · {title} · {r['period']} · r{r['revision']} · {r['submitted_by']} {at}",
                        "value": int(r["id"])})
    return out


def _months(today: dt.date) -> list[str]:
    """The months the status matrix may be shown for: this month and the 23 before, newest first."""
    out, first = [], today.replace(day=1)
    for _ in range(24):
        out.append(f"{first:%Y-%m}")
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return out


def _officer_adcode() -> str | None:
    user = current_user()
    return str(user.get("adcode")) if user and user.get("role") == "district_officer" else None


def _error_text(error: str, lang: str) -> str:
    """The half of a bilingual ``中文 / English`` error in ``lang`` (the whole text otherwise)."""
    parts = error.split(" / ", 1)
    return parts[0 if lang == "zh" else 1] if len(parts) == 2 else error


def _admin_section(ctx: AppContext, lang: str, reports: dict[str, ReportDefinition]) -> html.Div:
    columns = [{"name": t(k, lang), "id": c} for k, c in (
        ("rp_report", "code"), ("rp_field", "field"), ("rp_file_value", "file"), ("rp_current_value", "current"),
        ("rp_changed_by", "actor"), ("rp_reason", "reason"))]
    return html.Div([
        html.H3(t("rp_admin_title", lang)),
        html.Div([
            html.Label([t("rp_report", lang), dcc.Dropdown(
                id=RP_DEF_REPORT, options=[{"label": d.title(lang), "value": c} for c, d in reports.items()],
                value=next(iter(reports)), clearable=False, labels=dropdown_labels(lang))]),
            html.Label([t("rp_field", lang), dcc.Dropdown(
                id=RP_DEF_FIELD, options=[{"label": f, "value": f} for f in EDITABLE_FIELDS], value="due_day",
                clearable=False, labels=dropdown_labels(lang))]),
            html.Label([t("rp_value", lang), dcc.Input(id=RP_DEF_VALUE, type="text", value="")]),
            html.Label([t("rp_reason", lang), dcc.Input(id=RP_DEF_REASON, type="text", value="")]),
            html.Button(t("rp_save", lang), id=RP_DEF_SAVE, n_clicks=0, className="button-primary"),
            html.Button(t("rp_reset", lang), id=RP_DEF_RESET, n_clicks=0),
        ], className="rp-form filters"),
        html.Div(id=RP_DEF_MESSAGE, role="status"),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=RP_DEF_TABLE, columns=columns, data=_def_table(ctx), page_size=14,
            style_table={"overflowX": "auto"}, style_cell={"textAlign": "left", "whiteSpace": "normal"}),
    ], id="rp-admin")


def _def_table(ctx: AppContext) -> list[dict[str, str]]:
    return [{**r, "file": str(r["file"]), "current": str(r["current"]), "actor": r["actor"] or "",
             "reason": r["reason"] or ""} for r in definition_admin.definition_rows(ctx.engine)]


def layout(ctx: AppContext, lang: str) -> html.Div:
    """The reports page in ``lang``."""
    lang = page_lang(lang)
    if not can(ACTION):
        return html.Div(html.H2(DENIED[lang]), id="access-denied", className="denied")
    today = _today()
    reports = reports_in_force(ctx.engine)
    names = store.district_codes(ctx.engine)
    own = _officer_adcode()
    scopes = ([{"label": names.get(own, own), "value": own}] if own else
              [{"label": t("rp_city", lang), "value": CITY},
               *({"label": n, "value": c} for c, n in sorted(names.items()))])
    first = next(iter(reports))
    if own is None and any(d.issuer == "city" for d in reports.values()):
        first = next(c for c, d in reports.items() if d.issuer == "city")
    columns = [{"name": t(f"rp_{c}", lang), "id": c} for c in ("name", "period_kind", "issuer", "recipient",
                                                                "current", "data_date", "due")]
    month = f"{today:%Y-%m}"
    months = _months(today)
    submit = ([html.Label([t("rp_note", lang), dcc.Input(id=RP_NOTE, type="text", value="")]),
               html.Button(t("rp_submit", lang), id=RP_SUBMIT, n_clicks=0)] if can("submit_report") else [])
    return html.Div([
        html.H2(t("rp_title", lang)),
        html.H3(t("rp_definitions", lang)),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=RP_DEFINITIONS, columns=columns, data=definition_rows(lang, today, reports),
            style_table={"overflowX": "auto"},
            style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto"}),
        html.H3(t("rp_generate_title", lang)),
        html.Div([
            html.Label([t("rp_report", lang), dcc.Dropdown(
                id=RP_REPORT, options=[{"label": d.title(lang), "value": c} for c, d in reports.items()], value=first,
                clearable=False, labels=dropdown_labels(lang))]),
            html.Label([t("rp_scope", lang), dcc.Dropdown(id=RP_SCOPE, options=scopes, value=scopes[0]["value"],
                                                          clearable=False, labels=dropdown_labels(lang))]),
            html.Label([t("rp_period", lang), dcc.Dropdown(id=RP_PERIOD, options=[], value=None, clearable=False,
                                                           labels=dropdown_labels(lang))]),
            html.Label([t("rp_format", lang), dcc.RadioItems(
                id=RP_FORMAT, options=[{"label": f.upper(), "value": f} for f in WRITERS], value="docx", inline=True)]),
            html.Button(t("rp_generate", lang), id=RP_GENERATE, n_clicks=0, className="button-primary"),
            *submit,
        ], className="rp-form filters"),
        html.P(id=RP_READY, className="hint error", role="status"),
        html.P(t("rp_hint", lang), className="hint"),
        dcc.Loading(html.Div(id=RP_MESSAGE, role="status")),
        html.Div(id=RP_SUBMITTED, role="status"),
        dcc.Download(id=RP_DOWNLOAD),
        dcc.Store(id=RP_REFRESH, data=0),
        html.H3(t("rp_status_title", lang)),
        html.Div(html.Label([t("rp_status_month", lang), dcc.Dropdown(
            id=RP_STATUS_MONTH, options=months, value=month, clearable=False, labels=dropdown_labels(lang))]),
            className="rp-form filters"),
        html.Div(status_matrix(ctx, month, lang), id=RP_MATRIX),
        html.Div([html.Label([t("rp_sent", lang), dcc.Dropdown(
            id=RP_SENT, options=_sent_options(ctx, month, lang), value=None, labels=dropdown_labels(lang))]),
            html.Button(t("rp_sent_get", lang), id=RP_SENT_GET, n_clicks=0)], className="rp-form filters"),
        dcc.Download(id=RP_SENT_DOWNLOAD),
        *([_admin_section(ctx, lang, reports)] if can("manage_reports") else []),
    ], className="reports-page", id="reports-page")


def _valid_request(ctx: AppContext, code: Any, scope: Any, period: Any, fmt: Any) -> bool:
    reports = reports_in_force(ctx.engine)
    names = store.district_codes(ctx.engine)
    return (isinstance(code, str) and code in reports and fmt in WRITERS
            and isinstance(scope, str) and (scope == CITY or scope in names)
            and isinstance(period, str) and period in periods(reports[code], _today()))


def not_ready(ctx: AppContext, code: Any, period: Any, lang: str) -> str:
    """Why the chosen report and period cannot be made today (its data date has not passed), or ``""``."""
    reports = reports_in_force(ctx.engine)
    if not can(ACTION) or not isinstance(code, str) or code not in reports or not isinstance(period, str):
        return ""
    try:
        check_ready(reports[code], period, _today())
    except ValueError as exc:
        return _error_text(str(exc), lang)
    return ""


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Register the page's callbacks on ``app``."""

    @app.callback(Output(RP_PERIOD, "options"), Output(RP_PERIOD, "value"), Input(RP_REPORT, "value"))
    def choose(code: Any) -> Any:
        reports = reports_in_force(ctx.engine)
        if not can(ACTION) or not isinstance(code, str) or code not in reports:
            return [], None
        today = _today()
        return periods(reports[code], today), latest_ready(reports[code], today)

    @app.callback(Output(RP_GENERATE, "disabled"), Output(RP_GENERATE, "title"), Output(RP_READY, "children"),
                  Input(RP_REPORT, "value"), Input(RP_PERIOD, "value"), State(ids.LANG, "value"))
    def ready(code: Any, period: Any, lang: Any) -> Any:
        # a period whose data date has not passed cannot be generated or submitted: the button says why
        reason = not_ready(ctx, code, period, page_lang(lang))
        return bool(reason), reason, reason

    @app.callback(Output(RP_SUBMIT, "disabled"), Output(RP_SUBMIT, "title"), Input(RP_REPORT, "value"),
                  Input(RP_PERIOD, "value"), State(ids.LANG, "value"))
    def ready_to_submit(code: Any, period: Any, lang: Any) -> Any:
        reason = not_ready(ctx, code, period, page_lang(lang))
        return bool(reason), reason

    @app.callback(Output(RP_DOWNLOAD, "data"), Output(RP_MESSAGE, "children"), Input(RP_GENERATE, "n_clicks"),
                  State(RP_REPORT, "value"), State(RP_SCOPE, "value"), State(RP_PERIOD, "value"),
                  State(RP_FORMAT, "value"), State(ids.LANG, "value"), prevent_initial_call=True)
    def generate(n: Any, code: Any, scope: Any, period: Any, fmt: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        if not n or not can(ACTION):
            return dash.no_update, DENIED[lang]
        own = _officer_adcode()
        if own is not None and scope != own:
            return dash.no_update, DENIED[lang]
        if not _valid_request(ctx, code, scope, period, fmt):
            return dash.no_update, html.P(t("rp_invalid", lang), className="error")
        try:
            made = generate_report(ctx.engine, code, scope=scope, period=period, formats=[fmt], user=current_user(),
                                   actor=actor_name(), via="dashboard")
        except ValueError as exc:
            return dash.no_update, html.P(t("rp_failed", lang, error=_error_text(str(exc), lang)), className="error",
                                          id="rp-error")
        message = html.P(t("rp_done", lang, title=made.report.title, fmt=fmt.upper()), className="ok", id="rp-done")
        return dcc.send_bytes(made.files[fmt], f"{made.report.title}.{fmt}"), message

    @app.callback(Output(RP_SUBMITTED, "children"), Output(RP_REFRESH, "data"), Input(RP_SUBMIT, "n_clicks"),
                  State(RP_REPORT, "value"), State(RP_SCOPE, "value"), State(RP_PERIOD, "value"),
                  State(RP_FORMAT, "value"), State(RP_NOTE, "value"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def submit(n: Any, code: Any, scope: Any, period: Any, fmt: Any, note: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        own = _officer_adcode()
        if not n or not can("submit_report") or own is None or scope != own:
            return html.P(DENIED[lang], className="error"), dash.no_update
        if not _valid_request(ctx, code, scope, period, fmt):
            return html.P(t("rp_invalid", lang), className="error"), dash.no_update
        try:
            made = generate_report(ctx.engine, code, scope=own, period=period, formats=[fmt], user=current_user(),
                                   actor=actor_name(), via="dashboard")
            revision = submit_report(ctx.engine, code, adcode=own, period=period,
                                     filename=f"{code}-{own}-{period}.{fmt}", content=made.files[fmt],
                                     figures=made.report.figures, user=current_user(), actor=actor_name(),
                                     via="dashboard", note=str(note)[:500] if isinstance(note, str) else None)
        except ValueError as exc:
            text = exc.zh if isinstance(exc, Refusal) and lang == "zh" else (
                exc.en if isinstance(exc, Refusal) else _error_text(str(exc), lang))
            return html.P(t("rp_failed", lang, error=text), className="error", id="rp-submit-error"), dash.no_update
        done = html.P(t("rp_submitted", lang, title=made.report.title, revision=revision), className="ok",
                      id="rp-submit-done")
        return done, int(n)

    @app.callback(Output(RP_MATRIX, "children"), Output(RP_SENT, "options"), Input(RP_STATUS_MONTH, "value"),
                  Input(RP_REFRESH, "data"), State(ids.LANG, "value"), prevent_initial_call=True)
    def status(month: Any, _refresh: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        if not can(ACTION):
            return DENIED[lang], []
        if not isinstance(month, str) or month not in _months(_today()):
            return html.P(t("rp_invalid", lang), className="error"), []
        return status_matrix(ctx, month, lang), _sent_options(ctx, month, lang)

    @app.callback(Output(RP_SENT_DOWNLOAD, "data"), Input(RP_SENT_GET, "n_clicks"), State(RP_SENT, "value"),
                  prevent_initial_call=True)
    def download_sent(n: Any, chosen: Any) -> Any:
        if not n or not can(ACTION) or not isinstance(chosen, int) or isinstance(chosen, bool):
            return dash.no_update
        row = store.read_report_submission(ctx.engine, chosen)  # row-level security: own district or the city
        if row is None:
            return dash.no_update
        suffix = next((f for f, m in MEDIA_TYPES.items() if m == row["media_type"]), "bin")
        name = f"{row['kind']}-{row['adcode']}-{row['period']}-r{row['revision']}.{suffix}"
        return dcc.send_bytes(row["content"], name)

    @app.callback(Output(RP_DEF_MESSAGE, "children"), Output(RP_DEF_TABLE, "data"), Output(RP_DEFINITIONS, "data"),
                  Input(RP_DEF_SAVE, "n_clicks"), Input(RP_DEF_RESET, "n_clicks"), State(RP_DEF_REPORT, "value"),
                  State(RP_DEF_FIELD, "value"), State(RP_DEF_VALUE, "value"), State(RP_DEF_REASON, "value"),
                  State(ids.LANG, "value"), prevent_initial_call=True)
    def edit(save: Any, reset: Any, code: Any, field: Any, value: Any, reason: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        unchanged = (dash.no_update, dash.no_update)
        if not can("manage_reports"):
            return html.P(DENIED[lang], className="error"), *unchanged
        if not isinstance(code, str) or not isinstance(field, str) or not isinstance(reason, str):
            return html.P(t("rp_invalid", lang), className="error"), *unchanged
        resetting = dash.ctx.triggered_id == RP_DEF_RESET
        try:
            if resetting:
                done = reset_definition(ctx.engine, code, field, reason=reason, user=current_user(),
                                        actor=actor_name())
                key = "rp_was_reset" if done else "rp_not_changed"
            else:
                set_definition(ctx.engine, code, field, value if isinstance(value, str) else "", reason=reason,
                               user=current_user(), actor=actor_name())
                key = "rp_saved"
        except Refusal as exc:
            return html.P(exc.zh if lang == "zh" else exc.en, className="error", id="rp-def-error"), *unchanged
        message = html.P(t(key, lang, code=code, field=field), className="ok", id="rp-def-done")
        return message, _def_table(ctx), definition_rows(lang, _today(), reports_in_force(ctx.engine))


PAGES = (Page(PATH, layout, nav_key="nav_reports", order=46, action=ACTION),)
