"""企业信息 (/enterprise-info): information changes asked for and decided, and every enterprise's grade.

An enterprise asks to change its basic information, its district decides, city-wide roles read every
enterprise's A/B/C/D grade (分级分类监管).

An enterprise account sees its record, a form that files a request (:func:`campaign.enterprise_changes.
request_change`) and its requests with the district's note; a district officer sees the district's pending
requests (old → new per field) and approves or rejects them (:func:`~campaign.enterprise_changes.decide_change`);
city-wide roles see the grades of :func:`layers.grading.grade_enterprises`, worst first, filtered by grade and
district. PostgreSQL decides which rows each account sees; callbacks check the role, then call the services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, dash_table, dcc, html

from campaign.enterprise_changes import CHANGEABLE_FIELDS, decide_change, list_changes, request_change
from campaign.lifecycle import Refused
from campaign.reference import load_reference
from campaign.service import Actor
from dashboard import ids
from dashboard.auth import current_user
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, register_text, t
from dashboard.pages.campaign_text import page_lang, refusal
from dashboard.permissions import DENIED, can
from dashboard.routing import Page
from geo import store
from geo.checks.sources import bundle_from_store
from geo.constants import CITY_WIDE_ROLES, LOCAL_ZONE
from geo.layer_specs import ENTERPRISES
from layers.grading import grade_enterprises, load_grading_rubric

PATH = "/enterprise-info"
# --- component ids (prefix "ei-") ---------------------------------------------------------------------------
EI_FIELD = "ei-f-{}"
EI_REASON = "ei-reason"
EI_SUBMIT = "ei-submit"
EI_MESSAGE = "ei-message"
EI_MINE = "ei-mine"
EI_PICK = "ei-pick"
EI_NOTE = "ei-note"
EI_APPROVE = "ei-approve"
EI_REJECT = "ei-reject"
EI_DECIDE_MESSAGE = "ei-decide-message"
EI_PENDING = "ei-pending"
EI_DECIDED = "ei-decided"
EI_GRADE = "ei-grade"
EI_DISTRICT = "ei-district"
EI_GRADES = "ei-grades"
EI_COUNT = "ei-count"
GRADE_COLUMNS = ("name", "district", "sector", "grade", "total", "inspections_per_year", "explanation")

TEXT: dict[str, dict[str, str]] = {
    "nav_enterprise_info": {"zh": "企业信息", "en": "Enterprises"},
    "ei_title": {"zh": "企业信息", "en": "Enterprise information"},
    "ei_basic": {"zh": "本企业基础信息", "en": "Your enterprise's record"},
    "ei_credit_code": {"zh": "统一社会信用代码", "en": "Credit code"},
    "ei_not_found": {"zh": "未找到本企业的基础信息", "en": "Your enterprise's record was not found"},
    "ei_request": {"zh": "申请变更基础信息", "en": "Ask to change the record"},
    "ei_request_hint": {"zh": "修改需要变更的项目并说明原因，经区县审批后生效。",
                        "en": "Edit what should change and say why; the district decides."},
    "ei_reason": {"zh": "变更原因（如：营业执照变更）", "en": "Reason (e.g. new business licence)"},
    "ei_submit": {"zh": "提交变更申请", "en": "File the request"},
    "ei_filed": {"zh": "变更申请 {id} 已提交，等待区县审批", "en": "Request {id} filed; waiting for the district"},
    "ei_mine": {"zh": "本企业的变更申请", "en": "Your requests"},
    "ei_none": {"zh": "暂无变更申请", "en": "No requests"},
    "ei_pending": {"zh": "待审批的变更申请", "en": "Requests waiting for a decision"},
    "ei_decided": {"zh": "已审批的变更申请", "en": "Decided requests"},
    "ei_pick": {"zh": "选择申请", "en": "Request"},
    "ei_note": {"zh": "审批意见（驳回必填）", "en": "Note (required to reject)"},
    "ei_approve": {"zh": "批准", "en": "Approve"},
    "ei_reject": {"zh": "驳回", "en": "Reject"},
    "ei_decided_msg": {"zh": "变更申请 {id}：{state}", "en": "Request {id}: {state}"},
    "ei_choose": {"zh": "请先选择一项待审批的申请", "en": "Choose a pending request first"},
    "ei_grades": {"zh": "企业分级分类（A 最好 … D 最差，差者在前）",
                  "en": "Enterprise grades (A best … D worst; worst first)"},
    "ei_grade": {"zh": "等级", "en": "Grade"},
    "ei_district": {"zh": "区县", "en": "District"},
    "ei_count": {"zh": "共 {n} 家企业", "en": "{n} enterprises"},
    "ei_col_id": {"zh": "编号", "en": "No."},
    "ei_col_enterprise": {"zh": "企业", "en": "Enterprise"},
    "ei_col_changes": {"zh": "变更内容（原 → 新）", "en": "Changes (old → new)"},
    "ei_col_reason": {"zh": "原因", "en": "Reason"},
    "ei_col_by": {"zh": "申请人", "en": "Filed by"},
    "ei_col_at": {"zh": "申请时间", "en": "Filed at"},
    "ei_col_state": {"zh": "状态", "en": "State"},
    "ei_col_note": {"zh": "区县意见", "en": "District's note"},
    "ei_col_name": {"zh": "企业名称", "en": "Enterprise"},
    "ei_col_district": {"zh": "区县", "en": "District"},
    "ei_col_sector": {"zh": "行业领域", "en": "Industry"},
    "ei_col_grade": {"zh": "等级", "en": "Grade"},
    "ei_col_total": {"zh": "分数", "en": "Points"},
    "ei_col_inspections_per_year": {"zh": "年检查次数", "en": "Inspections a year"},
    "ei_col_explanation": {"zh": "说明", "en": "Why"},
    "ei_state_pending": {"zh": "待审批", "en": "pending"},
    "ei_state_approved": {"zh": "已批准", "en": "approved"},
    "ei_state_rejected": {"zh": "已驳回", "en": "rejected"},
}
register_text(TEXT)

CELL = {"textAlign": "left", "whiteSpace": "normal", "height": "auto", "minWidth": "70px"}


def _user() -> dict[str, Any] | None:
    user = current_user()
    return dict(user) if user else None


def _role() -> str | None:
    user = _user()
    return str(user.get("role")) if user else None


def _field_label(name: str, lang: str) -> str:
    spec = ENTERPRISES.field(name)
    return spec.zh if lang == "zh" else spec.en


def _value_text(name: str, value: Any) -> str:
    """A stored value as shown: an industry code by its Chinese name, nothing as —."""
    if value is None or value == "":
        return "—"
    choices = ENTERPRISES.field(name).choices
    if choices and str(value) in choices:
        return str(choices[str(value)][0])
    return str(value)


def _when(value: Any) -> str:
    if value is None or value != value:
        return ""
    return f"{pd.Timestamp(value).tz_convert(LOCAL_ZONE):%Y-%m-%d %H:%M}"


def _change_rows(ctx: AppContext, frame: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    names: dict[str, str] = {}
    rows = []
    for r in frame.to_dict("records"):
        code = str(r["credit_code"])
        if code not in names:
            with ctx.engine.connect() as conn:
                found = store.enterprise_fields(conn, code, ["name"])
            names[code] = str(found["name"]) if found else code
        proposed, previous = dict(r["proposed"] or {}), dict(r["previous"] or {})
        changes = "；".join(f"{_field_label(k, lang)}：{_value_text(k, previous.get(k))} → {_value_text(k, v)}"
                           for k, v in proposed.items())
        rows.append({"id": int(r["id"]), "enterprise": names[code], "changes": changes, "reason": r["reason"],
                     "by": r["requested_by"], "at": _when(r["requested_at"]),
                     "state": t(f"ei_state_{r['state']}", lang), "note": r["decision_note"] or ""})
    return rows


def _change_table(table_id: str, rows: list[dict[str, Any]], columns: tuple[str, ...], lang: str) -> Any:
    if not rows:
        return html.P(t("ei_none", lang), className="hint", id=f"{table_id}-empty")
    return dash_table.DataTable(  # type: ignore[attr-defined]
        id=table_id, data=rows, columns=[{"name": t(f"ei_col_{c}", lang), "id": c} for c in columns],
        style_table={"overflowX": "auto"}, style_cell=CELL)


def _mine(ctx: AppContext, lang: str) -> Any:
    rows = _change_rows(ctx, list_changes(ctx.engine), lang)
    return _change_table("ei-mine-table", rows, ("id", "changes", "reason", "at", "state", "note"), lang)


def _district_lists(ctx: AppContext, lang: str) -> tuple[Any, Any, list[dict[str, Any]]]:
    frame = list_changes(ctx.engine)
    pending = _change_rows(ctx, frame[frame["state"] == "pending"], lang)
    decided = _change_rows(ctx, frame[frame["state"] != "pending"], lang)
    options = [{"label": f"{r['id']} · {r['enterprise']}", "value": r["id"]} for r in pending]
    return (_change_table("ei-pending-table", pending, ("id", "enterprise", "changes", "reason", "by", "at"), lang),
            _change_table("ei-decided-table", decided, ("id", "enterprise", "changes", "state", "note"), lang),
            options)


def _enterprise_panel(ctx: AppContext, lang: str, user: dict[str, Any]) -> html.Div:
    code = str(user.get("credit_code") or "")
    with ctx.engine.connect() as conn:
        current = store.enterprise_fields(conn, code, list(CHANGEABLE_FIELDS))
    if current is None:
        return html.Div(html.P(t("ei_not_found", lang), className="error"), className="panel")
    facts = [html.Dt(t("ei_credit_code", lang)), html.Dd(code)]
    for name in CHANGEABLE_FIELDS:
        facts += [html.Dt(_field_label(name, lang)), html.Dd(_value_text(name, current.get(name)))]
    inputs = []
    for name in CHANGEABLE_FIELDS:
        choices = ENTERPRISES.field(name).choices
        if choices:
            control: Any = dcc.Dropdown(id=EI_FIELD.format(name), value=current.get(name), clearable=False,
                                        options=[{"label": v[0], "value": k} for k, v in choices.items()],
                                        labels=dropdown_labels(lang))
        else:
            control = dcc.Input(id=EI_FIELD.format(name), type="text", value=current.get(name) or "", maxLength=200)
        inputs.append(html.Label([_field_label(name, lang), control]))
    return html.Div([
        html.H3(t("ei_basic", lang)), html.Dl(facts, id="ei-facts", className="facts"),
        html.H3(t("ei_request", lang)), html.P(t("ei_request_hint", lang), className="hint"),
        html.Div([*inputs, html.Label([t("ei_reason", lang), dcc.Input(id=EI_REASON, type="text", maxLength=200)]),
                  html.Button(t("ei_submit", lang), id=EI_SUBMIT, n_clicks=0, className="button-primary")],
                 className="form-stack"),
        html.Div(id=EI_MESSAGE, role="status"),
        html.H3(t("ei_mine", lang)), html.Div(_mine(ctx, lang), id=EI_MINE),
    ], className="panel enterprise-self")


def _district_panel(ctx: AppContext, lang: str) -> html.Div:
    pending, decided, options = _district_lists(ctx, lang)
    return html.Div([
        html.H3(t("ei_pending", lang)), html.Div(pending, id=EI_PENDING),
        html.Div([
            html.Label([t("ei_pick", lang), dcc.Dropdown(id=EI_PICK, options=options, labels=dropdown_labels(lang))]),
            html.Label([t("ei_note", lang), dcc.Input(id=EI_NOTE, type="text", maxLength=200)]),
            html.Div([html.Button(t("ei_approve", lang), id=EI_APPROVE, n_clicks=0, className="button-primary"),
                      html.Button(t("ei_reject", lang), id=EI_REJECT, n_clicks=0)], className="actions-row"),
        ], className="form-stack"),
        html.Div(id=EI_DECIDE_MESSAGE, role="status"),
        html.H3(t("ei_decided", lang)), html.Div(decided, id=EI_DECIDED),
    ], className="panel enterprise-decide")


def _grades_panel(ctx: AppContext, lang: str) -> html.Div:
    names = store.district_codes(ctx.engine)
    grades = [{"label": g.label(lang), "value": g.code} for g in load_grading_rubric().grades]
    return html.Div([
        html.H3(t("ei_grades", lang)),
        html.Div([
            html.Label([t("ei_grade", lang), dcc.Dropdown(id=EI_GRADE, options=grades, multi=True,
                                                          labels=dropdown_labels(lang))]),
            html.Label([t("ei_district", lang), dcc.Dropdown(
                id=EI_DISTRICT, options=[{"label": n, "value": c} for c, n in sorted(names.items())],
                labels=dropdown_labels(lang))]),
        ], className="filters"),
        html.P(id=EI_COUNT, className="hint"),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=EI_GRADES, data=[], columns=[{"name": t(f"ei_col_{c}", lang), "id": c} for c in GRADE_COLUMNS],
            page_size=20, style_table={"overflowX": "auto"}, style_cell=CELL,
            style_data_conditional=[{"if": {"filter_query": f'{{grade}} = "{g}"', "column_id": "grade"},
                                     "color": colour, "fontWeight": "bold"}
                                    for g, colour in (("D", "#E60012"), ("C", "#F08200"))]),
    ], className="panel enterprise-grades")


def grade_rows(ctx: AppContext, grades: Any, district: Any, lang: str) -> list[dict[str, Any]]:
    """The enterprises' grades the session sees, worst first, filtered by grade codes and a district."""
    frame = grade_enterprises(bundle_from_store(ctx.engine), store.read_findings(ctx.engine),
                              dt.datetime.now(LOCAL_ZONE).date(), load_grading_rubric())
    if isinstance(grades, list) and grades:
        frame = frame[frame["grade"].isin([g for g in grades if isinstance(g, str)])]
    if isinstance(district, str) and district:
        frame = frame[frame["adcode"] == district]
    names, ref = store.district_codes(ctx.engine), load_reference()
    return [{"name": r["name"], "district": names.get(str(r["adcode"]), str(r["adcode"])),
             "sector": ref.industries[r["sector"]].label.get(lang) if r["sector"] in ref.industries
             else t("dp_other", lang), "grade": r["grade"], "total": f"{round(float(r['total']), 1):g}",
             "inspections_per_year": f"{float(r['inspections_per_year']):g}", "explanation": r["explanation"]}
            for r in frame.to_dict("records")]


def layout(ctx: AppContext, lang: str) -> html.Div:
    """The 企业信息 page in ``lang``: what it holds depends on the account's role."""
    lang = page_lang(lang)
    user = _user()
    role = user.get("role") if user else None
    if not can("hazards_page"):
        return html.Div(html.H2(DENIED[lang]), id="access-denied", className="denied")
    if user is not None and role == "enterprise":
        body = _enterprise_panel(ctx, lang, user)
    elif user is not None and role == "district_officer":
        body = _district_panel(ctx, lang)
    elif user is None or role in CITY_WIDE_ROLES:  # without sign-in (a local, single-user install): the city view
        body = _grades_panel(ctx, lang)
    else:
        return html.Div(html.H2(DENIED[lang]), id="access-denied", className="denied")
    return html.Div([html.H2(t("ei_title", lang)), body], className="enterprise-info-page", id="enterprise-info-page")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Register the page's callbacks on ``app``."""

    @app.callback(Output(EI_MESSAGE, "children"), Output(EI_MINE, "children"), Input(EI_SUBMIT, "n_clicks"),
                  *(State(EI_FIELD.format(name), "value") for name in CHANGEABLE_FIELDS),
                  State(EI_REASON, "value"), State(ids.LANG, "value"), prevent_initial_call=True)
    def file_request(n: Any, *values: Any) -> Any:
        *fields, reason, lang = values
        lang = page_lang(lang)
        user = _user()
        if not n or user is None or not can("request_info_change"):
            return DENIED[lang], dash.no_update
        try:
            if any(v is not None and not isinstance(v, str) for v in [*fields, reason]):
                raise Refused([("填写的内容无效", "invalid values")])
            change_id = request_change(ctx.engine, Actor.of(user), dict(zip(CHANGEABLE_FIELDS, fields, strict=True)),
                                       reason=reason or "")
        except Refused as exc:
            return refusal(exc.reasons, lang), dash.no_update
        return html.P(t("ei_filed", lang, id=change_id), className="ok", id="ei-filed"), _mine(ctx, lang)

    @app.callback(Output(EI_DECIDE_MESSAGE, "children"), Output(EI_PENDING, "children"),
                  Output(EI_DECIDED, "children"), Output(EI_PICK, "options"), Output(EI_PICK, "value"),
                  Input(EI_APPROVE, "n_clicks"), Input(EI_REJECT, "n_clicks"), State(EI_PICK, "value"),
                  State(EI_NOTE, "value"), State(ids.LANG, "value"), prevent_initial_call=True)
    def decide(approve: Any, reject: Any, pick: Any, note: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        user = _user()
        nothing = (dash.no_update,) * 4
        trigger = dash.ctx.triggered_id
        if user is None or not can("decide_info_change") or trigger not in (EI_APPROVE, EI_REJECT):
            return DENIED[lang], *nothing
        if not (approve if trigger == EI_APPROVE else reject):
            return dash.no_update, *nothing
        if not isinstance(pick, int) or isinstance(pick, bool):
            return html.P(t("ei_choose", lang), className="error", role="alert"), *nothing
        try:
            state = decide_change(ctx.engine, Actor.of(user), pick, approve=trigger == EI_APPROVE,
                                  note=note if isinstance(note, str) else None)
        except Refused as exc:
            return refusal(exc.reasons, lang), *nothing
        pending, decided, options = _district_lists(ctx, lang)
        done = html.P(t("ei_decided_msg", lang, id=pick, state=t(f"ei_state_{state}", lang)), className="ok",
                      id="ei-done")
        return done, pending, decided, options, None

    @app.callback(Output(EI_GRADES, "data"), Output(EI_COUNT, "children"), Input(EI_GRADE, "value"),
                  Input(EI_DISTRICT, "value"), State(ids.LANG, "value"))
    def grades(grade: Any, district: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        if not can("hazards_page") or (_user() is not None and _role() not in CITY_WIDE_ROLES):
            return [], DENIED[lang]
        rows = grade_rows(ctx, grade, district, lang)
        return rows, t("ei_count", lang, n=len(rows))


PAGES = (Page(PATH, layout, nav_key="nav_enterprise_info", order=47, action="hazards_page"),)


def _city_wide(user: dict[str, Any] | None) -> bool:
    """Whether ``user`` gets the city's grade list (as the layout decides; None: sign-in off)."""
    return user is None or user.get("role") in CITY_WIDE_ROLES


#: Each part of the page belongs to one kind of account (dashboard/pages/__init__.py: stricter than the page).
CALLBACK_ACTIONS = {EI_MESSAGE: "request_info_change", EI_DECIDE_MESSAGE: "decide_info_change", EI_GRADES: _city_wide}
