"""Periodic reports (定期报送): the report definitions with the due date of the current period, and generating one.

The definitions are data (``layers/reporting/definitions.yaml``); a report is built by
:func:`layers.reporting.build.build_report` under the session's scope (a district officer builds only
their own district's, from the city's stored snapshot) and written as DOCX or PDF by the same writers the
command line uses; each generation is audited (action ``report``) as ``riskmap report generate`` does.
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
from layers.reporting.build import build_report
from layers.reporting.definitions import ReportDefinition, due_date, load_reports, period_of
from layers.reporting.docx_writer import write_docx
from layers.reporting.pdf_writer import write_pdf
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
#: File formats offered, their writers and media names.
WRITERS = {"docx": write_docx, "pdf": write_pdf}

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


def definition_rows(lang: str, today: dt.date) -> list[dict[str, str]]:
    """One row per report definition: name, period kind, direction, recipient, current period and its due date."""
    rows = []
    for code, d in load_reports().items():
        period = period_of(d, today)
        rows.append({"code": code, "name": d.title(lang), "period_kind": t(f"rp_{d.period}", lang),
                     "issuer": t(f"rp_issuer_{d.issuer}", lang),
                     "recipient": d.recipient_zh if lang == "zh" else d.recipient_en,
                     "current": period, "due": due_date(d, period).isoformat()})
    return rows


def _officer_adcode() -> str | None:
    user = current_user()
    return str(user.get("adcode")) if user and user.get("role") == "district_officer" else None


def _error_text(error: str, lang: str) -> str:
    """The half of a bilingual ``中文 / English`` error in ``lang`` (the whole text otherwise)."""
    parts = error.split(" / ", 1)
    return parts[0 if lang == "zh" else 1] if len(parts) == 2 else error


def layout(ctx: AppContext, lang: str) -> html.Div:
    """The reports page in ``lang``."""
    lang = page_lang(lang)
    if not can(ACTION):
        return html.Div(html.H2(DENIED[lang]), id="access-denied", className="denied")
    today = _today()
    reports = load_reports()
    names = store.district_codes(ctx.engine)
    own = _officer_adcode()
    scopes = ([{"label": names.get(own, own), "value": own}] if own else
              [{"label": t("rp_city", lang), "value": CITY},
               *({"label": n, "value": c} for c, n in sorted(names.items()))])
    first = next(iter(reports))
    if own is None and any(d.issuer == "city" for d in reports.values()):
        first = next(c for c, d in reports.items() if d.issuer == "city")
    columns = [{"name": t(f"rp_{c}", lang), "id": c} for c in ("name", "period_kind", "issuer", "recipient",
                                                                "current", "due")]
    return html.Div([
        html.H2(t("rp_title", lang)),
        html.H3(t("rp_definitions", lang)),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=RP_DEFINITIONS, columns=columns, data=definition_rows(lang, today), style_table={"overflowX": "auto"},
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
        ], className="rp-form filters"),
        html.P(t("rp_hint", lang), className="hint"),
        dcc.Loading(html.Div(id=RP_MESSAGE, role="status")),
        dcc.Download(id=RP_DOWNLOAD),
    ], className="reports-page", id="reports-page")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Register the page's callbacks on ``app``."""

    @app.callback(Output(RP_PERIOD, "options"), Output(RP_PERIOD, "value"), Input(RP_REPORT, "value"))
    def choose(code: Any) -> Any:
        reports = load_reports()
        if not can(ACTION) or not isinstance(code, str) or code not in reports:
            return [], None
        today = _today()
        return periods(reports[code], today), period_of(reports[code], today)

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
        reports = load_reports()
        names = store.district_codes(ctx.engine)
        if (not isinstance(code, str) or code not in reports or fmt not in WRITERS
                or not isinstance(scope, str) or (scope != CITY and scope not in names)
                or not isinstance(period, str) or period not in periods(reports[code], _today())):
            return dash.no_update, html.P(t("rp_invalid", lang), className="error")
        try:
            built = build_report(ctx.engine, code, scope=scope, period=period)
        except ValueError as exc:
            return dash.no_update, html.P(t("rp_failed", lang, error=_error_text(str(exc), lang)), className="error",
                                          id="rp-error")
        content = WRITERS[fmt](built)
        with ctx.engine.begin() as conn:
            store.audit(conn, actor=actor_name(), action="report", target=code,
                        adcode=None if scope == CITY else scope,
                        details={"period": period, "formats": [fmt], "via": "dashboard"})
        message = html.P(t("rp_done", lang, title=built.title, fmt=fmt.upper()), className="ok", id="rp-done")
        return dcc.send_bytes(content, f"{built.title}.{fmt}"), message


PAGES = (Page(PATH, layout, nav_key="nav_reports", order=46, action=ACTION),)
