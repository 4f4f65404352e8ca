"""The monthly 调度表 (workflows.md §5): a district's figures, the XLSX in the annex layout, sending it, who is late.

A district officer sees and sends their district's table; city roles see any district's, the whole
city's, and which districts have sent theirs (on time, late, missing). Figures are cumulative to the
end of the month before the report month and are kept as sent. A district's table can be narrowed to one of
its streets (街道/乡镇, the ``township`` of its enterprises): the table a street sends to its district.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
from dash import Input, Output, State, dash_table, dcc, html

from campaign.dispatch import DispatchTable, district_streets, load_dispatch
from campaign.dispatch_sheet import dispatch_xlsx
from campaign.lifecycle import Refused
from campaign.reference import load_reference
from campaign.service import Actor
from campaign.submissions import dispatch_due, dispatch_due_day, dispatch_from_store, submission_states, submit_dispatch
from dashboard import ids
from dashboard.auth import current_user
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, register_text, t
from dashboard.pages.campaign_text import page_lang, refusal
from dashboard.permissions import DENIED, can
from dashboard.routing import Page
from geo import store
from geo.constants import LOCAL_ZONE
from layers.campaign_measures import CAMPAIGN_MEASURES, campaign_measures

PATH = "/dispatch"
DP_PERIOD = "dp-period"
DP_UNIT = "dp-unit"
DP_STREET = "dp-street"
DP_TABLE = "dp-table"
DP_HEAD = "dp-head"
DP_DOWNLOAD_BUTTON = "dp-download-button"
DP_DOWNLOAD = "dp-download"
DP_SUBMIT = "dp-submit"
DP_MESSAGE = "dp-message"
DP_STATUS = "dp-status"
CITY = "city"
TEXT: dict[str, dict[str, str]] = {
    "dp_street": {"zh": "街道/乡镇", "en": "Street / town"},
    "dp_street_all": {"zh": "（全区县）", "en": "(whole district)"},
}
register_text(TEXT)


def _months(today: dt.date, n: int = 12) -> list[str]:
    out, first = [], today.replace(day=1)
    for _ in range(n):
        out.append(first.strftime("%Y-%m"))
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return out


def _table(ctx: AppContext, unit: Any, period: Any, street: Any = None) -> DispatchTable | None:
    names = store.district_codes(ctx.engine)
    if not isinstance(period, str) or period not in _months(dt.datetime.now(LOCAL_ZONE).date(), 24):
        return None
    user = current_user()
    if user and user.get("role") == "district_officer":
        unit = user.get("adcode")
    if unit == CITY:
        return dispatch_from_store(ctx.engine, adcode=None, unit="全市", period=period)
    if not isinstance(unit, str) or unit not in names:
        return None
    if isinstance(street, str) and street:
        if street not in district_streets(ctx.engine, unit):
            return None
        return dispatch_from_store(ctx.engine, adcode=unit, street=street, unit=f"{names[unit]}{street}", period=period)
    return dispatch_from_store(ctx.engine, adcode=unit, unit=names[unit], period=period)


def _rows(table: DispatchTable, lang: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"no": r.no, "item": r.label.get(lang), "value": n} for r, n in table.hazards]
    rows.append({"no": "", "item": load_dispatch().spot_check_total.get(lang), "value": table.spot_checked})
    rows += [{"no": i, "item": label.get(lang), "value": n} for i, (_, label, n) in enumerate(table.spot_items, 2)]
    return rows


def _rates(ctx: AppContext, lang: str, names: dict[str, str]) -> list[Any]:
    """整改率 and the other campaign measures by district and by 行业领域 (what the session sees)."""
    hazards = store.list_hazards(ctx.engine)
    today = dt.datetime.now(LOCAL_ZONE).date()
    ref = load_reference()
    out: list[Any] = []
    for by, title in (("adcode", "dp_by_district"), ("industry", "dp_by_industry")):
        frame = campaign_measures(hazards, by=by, today=today)
        rows = []
        for key, r in frame.iterrows():
            label = names.get(str(key), str(key)) if by == "adcode" else (
                ref.industries[str(key)].label.get(lang) if str(key) in ref.industries else t("dp_other", lang))
            lead = "、".join(ref.industries[str(key)].lead) if by == "industry" and str(key) in ref.industries else ""
            rows.append({"group": label, "lead": lead, **{m.code: _show(r[m.code], m.code) for m in CAMPAIGN_MEASURES}})
        columns = [{"name": t("dp_district" if by == "adcode" else "dp_industry", lang), "id": "group"}]
        if by == "industry":
            columns.append({"name": t("dp_lead", lang), "id": "lead"})
        columns += [{"name": m.zh if lang == "zh" else m.en, "id": m.code} for m in CAMPAIGN_MEASURES]
        out += [html.H3(t(title, lang)),
                dash_table.DataTable(  # type: ignore[attr-defined]
                    id=f"dp-rates-{by}", data=rows, columns=columns, sort_action="native",
                    style_table={"overflowX": "auto"},
                    style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto"},
                    tooltip_header={m.code: m.definition_zh for m in CAMPAIGN_MEASURES})]
    return out


def _show(value: Any, code: str) -> Any:
    if value is None or value != value:
        return "—"
    return f"{value:.0%}" if code.startswith("rate_") else value


def layout(ctx: AppContext, lang: str) -> html.Div:
    """The 调度表 page in ``lang``."""
    lang = page_lang(lang)
    user = current_user()
    if not can("hazards_page") or (user and user.get("role") == "enterprise"):
        return html.Div(html.H2(DENIED[lang]), id="access-denied", className="denied")
    today = dt.datetime.now(LOCAL_ZONE).date()
    names = store.district_codes(ctx.engine)
    officer = bool(user and user.get("role") == "district_officer")
    units = ([{"label": names.get(str(user.get("adcode")), ""), "value": str(user.get("adcode"))}] if officer and user
             else [{"label": t("dp_city", lang), "value": CITY},
                   *({"label": n, "value": c} for c, n in sorted(names.items()))])
    status: Any = []
    if not officer:
        status = [html.H3(t("dp_status", lang)), html.Div(id=DP_STATUS)]
    status += _rates(ctx, lang, names)
    return html.Div([
        dcc.Link(t("hz_back", lang), href="/hazards", className="back-link"),
        html.H2(t("dp_title", lang)),
        html.Div([
            html.Label([t("dp_period", lang),
                        dcc.Dropdown(id=DP_PERIOD, options=_months(today), value=_months(today)[0], clearable=False,
                                     labels=dropdown_labels(lang))]),
            html.Label([t("dp_district", lang), dcc.Dropdown(id=DP_UNIT, options=units, value=units[0]["value"],
                                                              clearable=False, labels=dropdown_labels(lang))]),
            html.Label([t("dp_street", lang), dcc.Dropdown(id=DP_STREET, options=[], value=None,
                                                            placeholder=t("dp_street_all", lang),
                                                            labels=dropdown_labels(lang))]),
        ], className="filters"),
        html.P(id=DP_HEAD, className="hint"),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=DP_TABLE, columns=[{"name": t(f"dp_{c}", lang), "id": c} for c in ("no", "item", "value")], data=[],
            style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto"},
            style_cell_conditional=[{"if": {"column_id": "value"}, "textAlign": "right", "width": "90px"}]),
        html.Div([html.Button(t("dp_download", lang), id=DP_DOWNLOAD_BUTTON, n_clicks=0),
                  html.Button(t("dp_submit", lang), id=DP_SUBMIT, n_clicks=0, className="button-primary",
                              style={} if officer else {"display": "none"})], className="actions-row"),
        dcc.Download(id=DP_DOWNLOAD), html.Div(id=DP_MESSAGE, role="status"),
        *status,
    ], className="dispatch-page", id="dispatch-page")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Register the page's callbacks on ``app``."""

    @app.callback(Output(DP_STREET, "options"), Output(DP_STREET, "value"), Input(DP_UNIT, "value"))
    def streets(unit: Any) -> Any:
        user = current_user()
        if not can("hazards_page") or (user and user.get("role") == "enterprise"):
            return [], None
        if user and user.get("role") == "district_officer":
            unit = user.get("adcode")
        if not isinstance(unit, str) or unit not in store.district_codes(ctx.engine):
            return [], None
        return [{"label": s, "value": s} for s in district_streets(ctx.engine, unit)], None

    @app.callback(Output(DP_TABLE, "data"), Output(DP_HEAD, "children"), Input(DP_PERIOD, "value"),
                  Input(DP_UNIT, "value"), Input(DP_STREET, "value"), State(ids.LANG, "value"))
    def show(period: Any, unit: Any, street: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        if not can("hazards_page"):
            return [], DENIED[lang]
        table = _table(ctx, unit, period, street)
        if table is None:
            return [], ""
        due = dispatch_due(table.period, dispatch_due_day(ctx.engine))  # the administrator's due day reaches here
        return _rows(table, lang), t("dp_cutoff", lang, date=table.cutoff.isoformat(), due=due)

    @app.callback(Output(DP_STATUS, "children"), Input(DP_PERIOD, "value"), State(ids.LANG, "value"))
    def status(period: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        user = current_user()
        if not can("hazards_page") or (user and user.get("role") in ("district_officer", "enterprise")):
            return []
        if not isinstance(period, str) or period not in _months(dt.datetime.now(LOCAL_ZONE).date(), 24):
            return []
        names = store.district_codes(ctx.engine)
        states = submission_states(ctx.engine, "dispatch", period=period, owners=sorted(names),
                                   today=dt.datetime.now(LOCAL_ZONE).date())
        rows = [{"district": names[s.owner], "state": s.label[0 if lang == "zh" else 1],
                 "sent_at": s.submitted_at.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M") if s.submitted_at else ""}
                for s in states]
        return dash_table.DataTable(  # type: ignore[attr-defined]
            id="dp-status-table", data=rows, columns=[{"name": t(f"dp_{c}", lang), "id": c}
                                                      for c in ("district", "state", "sent_at")],
            style_cell={"textAlign": "left"},
            style_data_conditional=[{"if": {"filter_query": '{state} = "未报送" || {state} = "missing"'},
                                     "color": "#E60012"}])

    @app.callback(Output(DP_DOWNLOAD, "data"), Input(DP_DOWNLOAD_BUTTON, "n_clicks"), State(DP_PERIOD, "value"),
                  State(DP_UNIT, "value"), State(DP_STREET, "value"), prevent_initial_call=True)
    def download(n: Any, period: Any, unit: Any, street: Any) -> Any:
        if not n or not can("hazards_page"):
            return dash.no_update
        table = _table(ctx, unit, period, street)
        if table is None:
            return dash.no_update
        return dcc.send_bytes(dispatch_xlsx(table, issued_on=dt.datetime.now(LOCAL_ZONE).date()),
                              f"调度表_{table.unit}_{table.period}.xlsx")

    @app.callback(Output(DP_MESSAGE, "children"), Input(DP_SUBMIT, "n_clicks"), State(DP_PERIOD, "value"),
                  State(ids.LANG, "value"), prevent_initial_call=True)
    def submit(n: Any, period: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        user = current_user()
        if not n or user is None or not can("submit_dispatch"):
            return DENIED[lang]
        names = store.district_codes(ctx.engine)
        try:
            if not isinstance(period, str) or period not in _months(dt.datetime.now(LOCAL_ZONE).date(), 24):
                raise Refused([("报表月份无效", "invalid report month")])
            adcode = str(user.get("adcode"))
            revision, _ = submit_dispatch(ctx.engine, Actor.of(user), adcode=adcode, unit=names.get(adcode, adcode),
                                          period=period)
        except Refused as exc:
            return refusal(exc.reasons, lang)
        return html.P(t("dp_submitted", lang, rev=revision), className="ok", id="dp-done")


def _not_enterprise(_params: dict[str, Any]) -> bool:
    """An enterprise has no 调度表 to see or send (its callbacks refuse it too: dashboard/pages/__init__.py)."""
    user = current_user()
    return not (user and user.get("role") == "enterprise")


# every other role opens it; the page itself says what the account may do
PAGES = (Page(PATH, layout, allow=_not_enterprise),)
