"""Panels shared by the cockpit and the district page: 12-month trends and "what changed since the last report".

Not a page: :func:`panels` lays the two cards out for a page (``prefix`` keeps their ids apart) and
:func:`register` adds their callbacks. The series come from :func:`layers.trends.trend_series` (stored
month-end snapshots; a missing month is a gap marked 无快照 unless a city-wide session recomputes it from
the history) and the change list from :func:`layers.changes.changes_between` (rows the session may see,
its district only on the district page). No SQL here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from campaign.lifecycle import load_lifecycle
from dashboard import ids
from dashboard.i18n import register_text, t
from dashboard.permissions import DENIED, district_allowed
from geo.constants import LOCAL_ZONE
from geo.layer_specs import LAYERS
from layers.changes import CHANGE_KINDS, WATCHED, changes_between
from layers.measures import measure_definition
from layers.palette import FOUR_COLOUR, OVERLAY, RiskLevel
from layers.planning import status_label, verdict_label
from layers.snapshots import CITY, month_ends
from layers.trends import trend_series

__all__ = ["TEXT", "panels", "register", "today"]

TEXT: dict[str, dict[str, str]] = {
    "tr_title": {"zh": "近12个月趋势", "en": "Trends over the last 12 months"},
    "tr_title_district": {"zh": "本区县近12个月趋势", "en": "The district over the last 12 months"},
    "tr_axis": {"zh": "月末(统计截止日)", "en": "Month end (period end)"},
    "tr_levels": {"zh": "风险源数量(按等级)", "en": "Risk sources by level"},
    "tr_rate": {"zh": "隐患整改率(%)", "en": "Rectification rate (%)"},
    "tr_overdue": {"zh": "逾期未整改隐患", "en": "Overdue hidden hazards"},
    "tr_score": {"zh": "五色评分(越低越好)", "en": "Five-colour score (lower is better)"},
    "tr_no_snapshot": {"zh": "无快照", "en": "No snapshot"},
    "tr_gaps": {"zh": "无快照的月份(留空)：{days}", "en": "Months without a snapshot (left blank): {days}"},
    "tr_computed": {"zh": "未保存快照、按历史数据重算的月份：{days}",
                    "en": "Months without a stored snapshot, recomputed from the history: {days}"},
    "tr_source": {"zh": "数据来源：每月月末保存的统计快照(与当月通报一致)。",
                  "en": "Source: the statistics snapshot stored at each month end (as in that month's bulletin)."},
    "ch_title": {"zh": "自上次报告以来的变化", "en": "What changed since the last report"},
    "ch_since": {"zh": "自此日结束以来", "en": "Since the end of"},
    "ch_until": {"zh": "截至 {day}", "en": "up to {day}"},
    "ch_summary": {"zh": "共 {n} 条变化：{parts}", "en": "{n} changes: {parts}"},
    "ch_none": {"zh": "此日以来没有变化。", "en": "Nothing changed since that day."},
    "ch_more": {"zh": "另有 {n} 条未列出", "en": "{n} more not listed"},
    "ch_bad_date": {"zh": "日期无效：请选择今天或以前的日期。", "en": "Invalid date: choose today or an earlier day."},
    "ch_hint": {"zh": "新增、变化(等级、状态等)、销号/关闭和移除的记录；点击一条打开其页面。",
                "en": "Records that appeared, changed (level, state …), closed or went; click one to open its page."},
}
register_text(TEXT)

#: Lines listed per kind and layer (the counts cover them all).
SHOWN = 15
#: Figures of the risk-source chart, by level (四色, never green).
LEVELS = (("major_risks", RiskLevel.MAJOR), ("significant_risks", RiskLevel.SIGNIFICANT),
          ("general_risks", RiskLevel.GENERAL), ("low_risks", RiskLevel.LOW))
#: Line colour of the single-figure charts (整改率, overdue, score).
LINE = OVERLAY["pipeline"].hex


def _ids(prefix: str) -> dict[str, str]:
    return {"scope": f"{prefix}-trend-scope", "trends": f"{prefix}-trends", "since": f"{prefix}-changes-since",
            "changes": f"{prefix}-changes"}


def today() -> dt.date:
    """Today in Kunming."""
    return dt.datetime.now(LOCAL_ZONE).date()


def panels(prefix: str, scope: str, lang: str) -> html.Div:
    """The trend card and the change-list card of a page; their contents load by callback.

    Parameters
    ----------
    prefix : str
        ``"cockpit"`` or ``"district"`` (the ids of the page's cards start with it).
    scope : str
        :data:`layers.snapshots.CITY` or a district code.
    lang : str
        Page language.
    """
    i = _ids(prefix)
    last = month_ends(today(), 1)[0]
    return html.Div([
        dcc.Store(id=i["scope"], data=scope),
        html.Div([html.H3(t("tr_title" if scope == CITY else "tr_title_district", lang)),
                  dcc.Loading(html.Div(id=i["trends"], className="trend-charts"))], className="trends-panel"),
        html.Div([html.H3(t("ch_title", lang)),
                  html.P(t("ch_hint", lang), className="hint"),
                  html.Div([html.Label(t("ch_since", lang), htmlFor=i["since"]),
                            dcc.DatePickerSingle(id=i["since"], date=last.isoformat(),
                                                 max_date_allowed=today().isoformat(), display_format="YYYY-MM-DD",
                                                 first_day_of_week=1, clearable=False),
                            html.Span(t("ch_until", lang, day=today().isoformat()), className="hint")],
                           className="changes-since"),
                  dcc.Loading(html.Div(id=i["changes"], className="change-list"))], className="changes-panel"),
    ], className="trend-row")


def _scope_allowed(scope: Any) -> str | None:
    """``scope`` when the session may see its figures (the city, or a district it may open), else None."""
    if scope == CITY:
        return CITY if district_allowed(None) else None
    if isinstance(scope, str) and scope.isdigit() and district_allowed(scope):
        return scope
    return None


def _figure(title: str, xs: list[str], traces: list[go.Scatter], gaps: list[str], gap_label: str, *,
            percent: bool = False) -> go.Figure:
    """A trend chart: period ends on a category axis (every month shown), gaps marked ``gap_label``."""
    fig = go.Figure(traces)
    fig.update_layout(annotations=[{"x": x, "y": 0.02, "xref": "x", "yref": "paper", "yanchor": "bottom",
                                    "text": gap_label, "textangle": -90, "showarrow": False,
                                    "font": {"size": 10, "color": "#7B8794"}} for x in gaps])
    fig.update_layout(height=230, margin={"l": 36, "r": 8, "t": 34, "b": 56}, plot_bgcolor="#fff",
                      title={"text": title, "font": {"size": 14}}, legend={"orientation": "h", "y": -0.4},
                      showlegend=len(traces) > 1,
                      xaxis={"type": "category", "categoryorder": "array", "categoryarray": xs, "tickangle": -45,
                             "tickfont": {"size": 10}, "gridcolor": "#EEF1F4"},
                      yaxis={"rangemode": "tozero", "gridcolor": "#EEF1F4", "ticksuffix": "%" if percent else ""})
    return fig


def _trend_charts(prefix: str, series: pd.DataFrame, scope: str, lang: str) -> list[Any]:
    xs = [d.isoformat() for d in series.index]
    gaps = [x for x, s in zip(xs, series["source"], strict=True) if s is None]
    computed = [x for x, s in zip(xs, series["source"], strict=True) if s == "computed"]

    def line(code: str, name: str, colour: str, scale: float = 1.0) -> go.Scatter:
        ys = [None if pd.isna(v) else round(float(v) * scale, 2) for v in series[code]]
        return go.Scatter(x=xs, y=ys, name=name, mode="lines+markers", connectgaps=False,
                          line={"color": colour, "width": 2}, marker={"color": colour, "size": 6},
                          hovertemplate="%{x}: %{y}<extra>" + name + "</extra>")

    charts = [("levels", t("tr_levels", lang), [line(code, FOUR_COLOUR[level].zh if lang == "zh"
                                                      else FOUR_COLOUR[level].en, FOUR_COLOUR[level].hex)
                                                 for code, level in LEVELS], "risk_sources", False),
              ("rate", t("tr_rate", lang), [line("rectification_rate", t("tr_rate", lang), LINE, 100.0)],
               "rectification_rate", True),
              ("overdue", t("tr_overdue", lang), [line("overdue_hazards", t("tr_overdue", lang), LINE)],
               "overdue_hazards", False)]
    if scope != CITY:
        charts.append(("score", t("tr_score", lang), [line("score", t("tr_score", lang), LINE)], "", False))
    graphs = []
    for key, title, traces, measure, percent in charts:
        fig = _figure(title, xs, traces, gaps, t("tr_no_snapshot", lang), percent=percent)
        graphs.append(html.Div(dcc.Graph(id=f"{prefix}-trend-{key}", figure=json.loads(fig.to_json()),  # kept: plain
                                         config={"displayModeBar": False},
                                         className=f"trend-graph trend-{key}"),
                               title=measure_definition(measure, lang) if measure else None, className="trend-cell"))
    notes = [html.P(t("tr_source", lang), className="hint")]
    if gaps:
        notes.append(html.P(t("tr_gaps", lang, days="、".join(gaps) if lang == "zh" else ", ".join(gaps)),
                            className="hint trend-gaps"))
    if computed:
        notes.append(html.P(t("tr_computed", lang, days="、".join(computed) if lang == "zh" else ", ".join(computed)),
                            className="hint trend-computed"))
    return [html.Div(graphs, className="trend-grid"), *notes]


_LIFE_FIELDS = {"state": "states", "severity": "severities"}


def _value(layer: str, field: str | None, value: str | None, lang: str) -> str:
    """A stored value as people read it (风险等级 重大, 隐患状态 已销号 …)."""
    if value is None or field is None:
        return "—"
    if field == "risk_level" and value in {lv.value for lv in RiskLevel}:
        sw = FOUR_COLOUR[RiskLevel(value)]
        return sw.zh if lang == "zh" else sw.en
    if layer == "hidden_hazards":
        life = load_lifecycle()
        if field in _LIFE_FIELDS:
            labels = getattr(life, _LIFE_FIELDS[field])
            return labels[value].get(lang) if value in labels else value
        if field == "supervision" and value in life.supervision_levels:
            return life.supervision_levels[value][0].get(lang)
    if layer == "check_findings":
        return status_label(value, lang) if field == "status" else verdict_label(value, lang)
    spec = LAYERS.get(layer)
    try:
        choices = spec.field(field).choices if spec is not None else None
    except KeyError:
        choices = None
    if choices and value in choices and lang == "zh":
        return choices[value][0]
    return value


def _field(layer: str, field: str, lang: str) -> str:
    names = {"state": ("隐患状态", "State"), "verdict": ("判定", "Verdict"), "status": ("状态", "Status")}
    spec = LAYERS.get(layer)
    try:
        if spec is not None:
            f = spec.field(field)
            return f.zh if lang == "zh" else f.en
    except KeyError:
        pass
    zh, en = names.get(field, (field, field))
    return zh if lang == "zh" else en


def _line(row: dict[Any, Any], lang: str) -> html.Li:
    name = str(row["name"] or row["key"])
    if len(name) > 40:
        name = name[:39] + "…"
    parts: list[Any] = [dcc.Link(name, href=str(row["link"]), className="change-link")]
    if row["field"]:
        parts.append(html.Span(f" {_field(row['layer'], row['field'], lang)}："
                               f"{_value(row['layer'], row['field'], row['before'], lang)} → "
                               f"{_value(row['layer'], row['field'], row['after'], lang)}", className="change-what"))
    return html.Li(parts, className=f"change-line change-{row['kind']}")


def _change_list(lines: pd.DataFrame, lang: str) -> list[Any]:
    if not len(lines):
        return [html.P(t("ch_none", lang), className="hint change-none")]
    col = 0 if lang == "zh" else 1
    counts = lines["kind"].value_counts()
    sep = "、" if lang == "zh" else ", "
    parts = sep.join(f"{CHANGE_KINDS[k][col]} {int(counts[k])}" for k in CHANGE_KINDS if k in counts)
    out: list[Any] = [html.P(t("ch_summary", lang, n=len(lines), parts=parts), className="change-summary")]
    for kind, labels in CHANGE_KINDS.items():
        of_kind = lines[lines["kind"] == kind]
        if not len(of_kind):
            continue
        groups: list[Any] = []
        for layer, spec in WATCHED.items():
            rows = of_kind[of_kind["layer"] == layer]
            if not len(rows):
                continue
            more = len(rows) - SHOWN
            groups.append(html.Div([
                html.H5(f"{spec.zh if lang == 'zh' else spec.en} {len(rows)}"),
                html.Ul([_line(r, lang) for r in rows.head(SHOWN).to_dict("records")]),
                *([html.P(t("ch_more", lang, n=more), className="hint")] if more > 0 else []),
            ], className="change-layer"))
        out.append(html.Details([html.Summary(f"{labels[col]} {len(of_kind)}"), *groups], open=True,
                                className=f"change-kind change-kind-{kind}"))
    return out


def _since(value: Any) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    return day if day <= today() else None


def register(app: dash.Dash, ctx: Any, prefix: str) -> None:
    """The callbacks of the panels of ``prefix`` (they call layers/; no SQL).

    What they draw is kept on the session's :class:`layers.city.CitySnapshot` (``derived``), which belongs
    to one data scope and one data version: a later request of the same scope, day and language is
    answered without recomputing, and a data change starts afresh.
    """
    i = _ids(prefix)

    @app.callback(Output(i["trends"], "children"), Input(i["scope"], "data"), State(ids.LANG, "value"))
    def trends(scope: Any, lang: str | None) -> list[Any]:
        lang = lang if lang in ("zh", "en") else "zh"
        allowed = _scope_allowed(scope)
        if allowed is None:
            return [html.P(DENIED.get(lang, DENIED["zh"]), className="district-error")]
        # kept on the session's snapshot (its data scope and version; a stored month-end snapshot is audited,
        # so it moves the version too): each scope's charts are drawn once per day and data version
        day = today()
        return ctx.snapshot().derived(
            ("trends", prefix, allowed, day, lang),
            lambda: _trend_charts(prefix, trend_series(ctx.engine, allowed, day), allowed, lang))

    @app.callback(Output(i["changes"], "children"), Input(i["since"], "date"), State(i["scope"], "data"),
                  State(ids.LANG, "value"))
    def changes(since: Any, scope: Any, lang: str | None) -> list[Any]:
        lang = lang if lang in ("zh", "en") else "zh"
        allowed = _scope_allowed(scope)
        if allowed is None:
            return [html.P(DENIED.get(lang, DENIED["zh"]), className="district-error")]
        day = _since(since)
        if day is None:
            return [html.P(t("ch_bad_date", lang), className="district-error")]
        until = today()
        return ctx.snapshot().derived(
            ("changes", allowed, day, until, lang),
            lambda: _change_list(changes_between(ctx.engine, day, until, adcode=None if allowed == CITY else allowed),
                                 lang))

