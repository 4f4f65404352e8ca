"""晾晒: the districts ranked by a stored month-end snapshot, with the change since the month before, and 按行业.

The figures are the stored snapshots of :mod:`layers.snapshots` (so a ranking printed for a bulletin is
the same when printed again), ranked by :func:`layers.ranking.rank_districts` on each criterion of
:data:`layers.ranking.CRITERIA`. A district officer's session sees only their own district's rows and the
city's: the page shows their row with the 五色 rank stored in the snapshot, never a ranking of one. When
no snapshot is stored, a leader or administrator can take last month's from the page (audited as the
command line does). The print stylesheet (``assets/ranking.css``) keeps only the title and the tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
import pandas as pd
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
from layers.ranking import CRITERIA, figures_from_snapshots, industry_figures, rank_districts
from layers.rating import load_rubric
from layers.reporting.service import record_snapshot
from layers.snapshots import CITY, month_ends

PATH = "/ranking"
#: Who may open the page: every account that may generate reports (all roles but the enterprise).
ACTION = "generate_report"
RK_MONTH = "rk-month"
RK_CRITERION = "rk-criterion"
RK_DISTRICTS = "rk-districts"
RK_INDUSTRIES = "rk-industries"
RK_TITLE = "rk-print-title"
RK_NOTE = "rk-note"
RK_TAKE = "rk-take"
RK_TAKE_ROW = "rk-take-row"
RK_NONE = "rk-none"
RK_MESSAGE = "rk-message"
RK_PRINT = "rk-print"
RK_PRINTED = "rk-printed"

TEXT: dict[str, dict[str, str]] = {
    "nav_ranking": {"zh": "晾晒排名", "en": "Ranking"},
    "rk_title": {"zh": "区县晾晒排名", "en": "District ranking (晾晒)"},
    "rk_print_title": {"zh": "{month}安全风险晾晒排名（{criterion}）", "en": "Ranking of {month} ({criterion})"},
    "rk_month": {"zh": "月份(月末快照)", "en": "Month (month-end snapshot)"},
    "rk_month_label": {"zh": "{y}年{m}月", "en": "{y}-{m:02d}"},
    "rk_none": {"zh": "尚未保存任何月末统计快照，暂无排名。统计快照由市级账号保存（或由定时任务每月1日保存）。",
                "en": "No month-end snapshot is stored yet, so there is no ranking. A city account (or the "
                      "monthly scheduler) stores them."},
    "rk_take": {"zh": "保存上月统计快照", "en": "Store last month's snapshot"},
    "rk_taken": {"zh": "已保存 {day} 的月末统计快照（{n} 个范围）。",
                 "en": "Month-end snapshot of {day} stored ({n} scopes)."},
    "rk_take_failed": {"zh": "保存失败：{error}", "en": "Could not store the snapshot: {error}"},
    "rk_print": {"zh": "打印", "en": "Print"},
    "rk_rank": {"zh": "排名", "en": "Rank"},
    "rk_district": {"zh": "区县", "en": "District"},
    "rk_value": {"zh": "本月", "en": "This month"},
    "rk_previous_rank": {"zh": "上月排名", "en": "Last month's rank"},
    "rk_previous": {"zh": "上月", "en": "Last month"},
    "rk_change": {"zh": "变化", "en": "Change"},
    "rk_by_industry": {"zh": "分行业领域", "en": "By industry"},
    "rk_industry": {"zh": "行业领域", "en": "Industry"},
    "rk_lead": {"zh": "牵头部门", "en": "Lead departments"},
    "rk_no_industry": {"zh": "该快照未包含分行业数据。", "en": "This snapshot holds no figures by industry."},
    "rk_officer_note": {"zh": "区县账号只能看到本区县的数据：五色排名取自全市快照（第 {rank} 名 / 共 {n} 个区县），"
                              "其他指标的全市排名以市级通报为准。",
                        "en": "A district account sees only its own district: the five-colour rank comes from the "
                              "city's snapshot ({rank} of {n}); the city's bulletin gives the other ranks."},
    "rk_source": {"zh": "数据截至 {day}，取自 {taken} 保存的月末统计快照（评级方法 {rubric}）。",
                  "en": "Figures as of {day}, from the month-end snapshot stored {taken} (rubric {rubric})."},
    "rk_better": {"zh": "↑ 好转  ↓ 退步  → 持平", "en": "↑ better  ↓ worse  → the same"},
}
register_text(TEXT)

#: Columns of the industry table after the name and lead departments: (figure, percent?).
INDUSTRY_COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("major_risks", "重大风险源", "Major risk sources", False),
    ("major_found", "重大隐患", "Major hazards", False),
    ("major_rectified", "已完成整改", "Rectified", False),
    ("rate_all", "整改率", "Rectification rate", True),
    ("open_hazards", "未整改隐患", "Open hazards", False),
    ("overdue_hazards", "逾期未整改隐患", "Overdue hazards", False),
)


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_ZONE).date()


def stored_months(engine: Any) -> dict[str, pd.DataFrame]:
    """The month-end snapshots the session sees, newest first: ``{"YYYY-MM-DD": rows of one rubric}``.

    Where a month was stored under several rubrics, the published rubric's rows are used (else the latest).
    """
    rows = store.read_snapshots(engine, kind="month_end")
    out: dict[str, pd.DataFrame] = {}
    if not len(rows):
        return out
    published = load_rubric().version
    ends = sorted({pd.Timestamp(str(e)).date().isoformat() for e in rows["period_end"]}, reverse=True)
    days = rows["period_end"].map(lambda e: pd.Timestamp(str(e)).date().isoformat())
    for end in ends:
        group = rows[days == end]
        versions = set(group["rubric_version"])
        version = published if published in versions else str(
            group.sort_values("taken_at")["rubric_version"].iloc[-1])
        out[end] = group[group["rubric_version"] == version]
    return out


def _month_label(day: str, lang: str) -> str:
    d = dt.date.fromisoformat(day)
    return t("rk_month_label", lang, y=d.year, m=d.month)


def _show(value: Any, percent: bool) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "—"
    if percent:
        return f"{float(value):.0%}"
    return f"{float(value):.1f}" if isinstance(value, float) and not float(value).is_integer() else f"{int(value)}"


def _change(trend: str, delta: Any, percent: bool, lang: str) -> str:
    if not trend:
        return "—"
    if delta is None or delta != delta or float(delta) == 0:
        return trend
    points = " 个百分点" if lang == "zh" else " points"
    figure = f"{abs(float(delta)) * 100:.0f}{points}" if percent else _show(abs(float(delta)), False)
    return f"{trend} {'+' if float(delta) > 0 else '−'}{figure}"


def _int(value: Any) -> str:
    return "—" if value is None or value is pd.NA or value != value else str(int(value))


def district_rows(months: dict[str, pd.DataFrame], day: str, criterion: str, names: dict[str, str],
                  officer: bool, lang: str = "zh") -> tuple[list[dict[str, Any]], str]:
    """The district table of ``day`` by ``criterion`` and a note (an officer's own row, ranked from the snapshot)."""
    spec = CRITERIA[criterion]
    current = figures_from_snapshots(months[day])
    older = sorted((d for d in months if d < day), reverse=True)
    previous = figures_from_snapshots(months[older[0]]) if older else None
    ranked = rank_districts(current, previous, criterion, names)
    rows = []
    for code, r in ranked.iterrows():
        rank, previous_rank = _int(r["rank"]), _int(r["previous_rank"])
        if officer:  # their rank among all districts is not visible to the session, only the stored 五色 rank
            rank = _int(current.at[code, "rank"]) if criterion == "score" and code in current.index else "—"
            previous_rank = (_int(previous.at[code, "rank"]) if criterion == "score" and previous is not None
                             and code in previous.index else "—")
        rows.append({"adcode": str(code), "rank": rank, "name": r["name"], "value": _show(r["value"], spec.percent),
                     "previous": _show(r["previous"], spec.percent), "previous_rank": previous_rank,
                     "change": _change(str(r["trend"]), r["delta"], spec.percent, lang)})
    note = ""
    if officer:
        own = [c for c in current.index if c != CITY]
        if own:
            note = t("rk_officer_note", lang, rank=_int(current.at[own[0], "rank"]),
                     n=_int(current.at[own[0], "n_districts"]))
    return rows, note


def industry_rows(months: dict[str, pd.DataFrame], day: str, lang: str) -> list[dict[str, Any]]:
    """The 行业领域 table of ``day`` (name, lead departments, the figures of :data:`INDUSTRY_COLUMNS`)."""
    frame = industry_figures(figures_from_snapshots(months[day]))
    rows = []
    for code, r in frame.iterrows():
        row = {"industry": str(r.get("name") or code), "lead": str(r.get("lead") or "")}
        row.update({c: _show(r.get(c), pct) for c, _, _, pct in INDUSTRY_COLUMNS})
        rows.append({"code": str(code), **row})
    return rows


def _table(table_id: str, columns: list[dict[str, str]]) -> Any:
    return dash_table.DataTable(  # type: ignore[attr-defined]
        id=table_id, columns=columns, data=[], style_table={"overflowX": "auto"},
        style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto", "fontSize": "14px"},
        style_header={"fontWeight": "bold"},
        style_data_conditional=[{"if": {"filter_query": '{change} contains "↓"', "column_id": "change"},
                                 "color": "#E60012"},
                                {"if": {"filter_query": '{change} contains "↑"', "column_id": "change"},
                                 "color": "#0070C0"}])


def layout(ctx: AppContext, lang: str) -> html.Div:
    """The 晾晒 page in ``lang``."""
    lang = page_lang(lang)
    if not can(ACTION):
        return html.Div(html.H2(DENIED[lang]), id="access-denied", className="denied")
    months = stored_months(ctx.engine)
    options = [{"label": _month_label(d, lang), "value": d} for d in months]
    last_month = month_ends(_today(), 1)[0].isoformat()
    offer = can("take_snapshot") and last_month not in months
    district_columns = [{"name": t(f"rk_{c}", lang), "id": c}
                        for c in ("rank", "district", "value", "previous", "previous_rank", "change")]
    district_columns[1]["id"] = "name"
    industry_columns = [{"name": t("rk_industry", lang), "id": "industry"}, {"name": t("rk_lead", lang), "id": "lead"},
                        *({"name": zh if lang == "zh" else en, "id": c} for c, zh, en, _ in INDUSTRY_COLUMNS)]
    return html.Div([
        html.H2(t("rk_title", lang), className="no-print"),
        html.P(t("rk_none", lang), id=RK_NONE, className="hint no-print",
               style={"display": "none"} if months else {}),
        html.Div([html.Button(t("rk_take", lang), id=RK_TAKE, n_clicks=0, className="button-primary")],
                 id=RK_TAKE_ROW, className="actions-row no-print", style={} if offer else {"display": "none"}),
        html.Div(id=RK_MESSAGE, role="status", className="no-print"),
        html.Div([
            html.Label([t("rk_month", lang),
                        dcc.Dropdown(id=RK_MONTH, options=options, value=options[0]["value"] if options else None,
                                     clearable=False, labels=dropdown_labels(lang))]),
            html.Button(t("rk_print", lang), id=RK_PRINT, n_clicks=0),
        ], className="filters no-print"),
        dcc.Tabs(id=RK_CRITERION, value=next(iter(CRITERIA)), className="no-print",
                 children=[dcc.Tab(label=c.zh if lang == "zh" else c.en, value=c.code) for c in CRITERIA.values()]),
        html.H3(id=RK_TITLE, className="rk-print-title"),
        html.P(id=RK_NOTE, className="hint"),
        _table(RK_DISTRICTS, district_columns),
        html.P(t("rk_better", lang), className="hint"),
        html.H3(t("rk_by_industry", lang)),
        _table(RK_INDUSTRIES, industry_columns),
        html.Span(id=RK_PRINTED, style={"display": "none"}),
    ], className="ranking-page", id="ranking-page")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Register the page's callbacks on ``app``."""

    @app.callback(Output(RK_DISTRICTS, "data"), Output(RK_INDUSTRIES, "data"), Output(RK_TITLE, "children"),
                  Output(RK_NOTE, "children"), Input(RK_MONTH, "value"), Input(RK_CRITERION, "value"),
                  State(ids.LANG, "value"))
    def show(day: Any, criterion: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        if not can(ACTION):
            return [], [], DENIED[lang], ""
        months = stored_months(ctx.engine)
        if not isinstance(day, str) or day not in months or criterion not in CRITERIA:
            return [], [], "", ""
        user = current_user()
        officer = bool(user and user.get("role") == "district_officer")
        rows, note = district_rows(months, day, str(criterion), store.district_codes(ctx.engine), officer, lang)
        spec = CRITERIA[str(criterion)]
        title = t("rk_print_title", lang, month=_month_label(day, lang), criterion=spec.zh if lang == "zh" else spec.en)
        taken = pd.Timestamp(months[day]["taken_at"].max()).tz_convert(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")
        source = t("rk_source", lang, day=day, taken=taken, rubric=str(months[day]["rubric_version"].iloc[0]))
        return rows, industry_rows(months, day, lang), title, f"{source} {note}".strip()

    @app.callback(Output(RK_MONTH, "options"), Output(RK_MONTH, "value"), Output(RK_MESSAGE, "children"),
                  Output(RK_NONE, "style"), Output(RK_TAKE_ROW, "style"),
                  Input(RK_TAKE, "n_clicks"), State(ids.LANG, "value"), prevent_initial_call=True)
    def take(n: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        unchanged = (dash.no_update, dash.no_update)
        if not n or not can("take_snapshot"):
            return dash.no_update, dash.no_update, DENIED[lang], *unchanged
        day = month_ends(_today(), 1)[0]
        try:
            figures = record_snapshot(ctx.engine, day, kind="month_end", user=current_user(), actor=actor_name(),
                                      via="dashboard")
        except ValueError as exc:
            failed = html.P(t("rk_take_failed", lang, error=str(exc)), className="error")
            return dash.no_update, dash.no_update, failed, *unchanged
        options = [{"label": _month_label(d, lang), "value": d} for d in stored_months(ctx.engine)]
        done = html.P(t("rk_taken", lang, day=day.isoformat(), n=len(figures)), className="ok", id="rk-done")
        return options, day.isoformat(), done, {"display": "none"}, {"display": "none"}

    app.clientside_callback("function(n) { if (n) { window.print(); } return ''; }",
                            Output(RK_PRINTED, "children"), Input(RK_PRINT, "n_clicks"), prevent_initial_call=True)


PAGES = (Page(PATH, layout, nav_key="nav_ranking", order=45, action=ACTION),)
