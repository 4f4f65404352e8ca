"""One builder per section code: the report's content, from stored snapshots and the data's history.

The figures of a period are the stored month-end snapshot (:mod:`layers.snapshots`) when there is one
for the rubric in force, else computed from history on the spot (and the data note says so). Every
label of a measure comes from :mod:`layers.measures` or :mod:`layers.campaign_measures`, so a report,
the cockpit and the exports name the same figure the same way. :data:`SECTIONS` is the table a report
definition's section codes are looked up in: a new section is one function and one row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from geo import store
from layers.campaign_measures import CAMPAIGN_MEASURES
from layers.changes import CHANGE_KINDS, WATCHED, changes_between
from layers.measures import measure_label
from layers.ranking import CRITERIA, figures_from_snapshots, rank_districts
from layers.rating import load_rubric
from layers.reporting.document import Section, Table
from layers.reporting.figures import five_colour_map, four_colour_map
from layers.snapshots import CITY, period_figures, period_moment

__all__ = ["SECTIONS", "ReportContext", "load_figures"]

#: Headline measures, in the order of the table.
HEADLINE = ("major_risks", "significant_risks", "risk_sources", "hazards_total", "open_major_hazards",
            "overdue_hazards", "rectification_rate", "violations", "open_findings")
#: Lines of the change list printed in full (the rest are counted).
CHANGE_LINES = 30


def load_figures(engine: Engine, period_end: dt.date) -> tuple[pd.DataFrame, str]:
    """Return a period's figures and where they come from (a stored snapshot, or computed now).

    Parameters
    ----------
    engine : Engine
        The store.
    period_end : date
        The day the figures are as of (the report's data date).

    Returns
    -------
    tuple of (DataFrame, str)
        Figures as :func:`layers.snapshots.period_figures` gives them, and a note naming the source.
    """
    rubric = load_rubric()
    stored = store.read_snapshots(engine, since=period_end, until=period_end, rubric_version=rubric.version)
    for kind in ("month_end", "on_demand"):
        rows = stored[stored["kind"] == kind]
        if len(rows):
            taken = pd.Timestamp(rows["taken_at"].max()).strftime("%Y-%m-%d %H:%M")
            note = f"数据截至 {period_end}，取自 {taken} 保存的统计快照(评级方法 {rubric.version})"
            return figures_from_snapshots(rows), note
    scope = store.current_scope()
    if scope is not None and not scope.all_districts:
        raise ValueError(f"全市尚未保存 {period_end} 的统计快照，区县报告需与全市比较；请市级账号先保存快照 / "
                         f"the city has stored no snapshot for {period_end}: a district's report compares it with "
                         "the city, so a city account must take the snapshot first (riskmap snapshot)")
    return period_figures(engine, period_end, rubric=rubric), (
        f"数据截至 {period_end}，按历史数据即时计算(评级方法 {rubric.version})")


@dataclass
class ReportContext:
    """What a section builder reads: the store, the scope and period, this and the previous figures."""

    engine: Engine
    scope: str
    period_end: dt.date
    previous_end: dt.date
    figures: pd.DataFrame
    previous: pd.DataFrame | None
    names: dict[str, str]

    @property
    def scope_name(self) -> str:
        """The district's name, or 全市."""
        return "全市" if self.scope == CITY else self.names.get(self.scope, self.scope)


def _fmt(value: Any, percent: bool = False) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return "—"
    if percent:
        return f"{float(value) * 100:.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value)) if isinstance(value, float | int) else str(value)


def _headline(ctx: ReportContext) -> Section:
    now = ctx.figures.loc[ctx.scope]
    before = ctx.previous.loc[ctx.scope] if ctx.previous is not None and ctx.scope in ctx.previous.index else None
    rows = []
    for code in HEADLINE:
        pct = code == "rectification_rate"
        change = "—" if before is None else _fmt(_number(now.get(code)) - _number(before.get(code)), pct)
        rows.append((measure_label(code), _fmt(now.get(code), pct), _fmt(None if before is None else
                                                                          before.get(code), pct), change))
    section = Section("headline", f"{ctx.scope_name}主要指标", tables=[Table(
        ("指标", f"截至{ctx.period_end}", f"截至{ctx.previous_end}", "变化"), tuple(rows))])
    if ctx.scope != CITY and pd.notna(now.get("score")):
        section.paragraphs.append(f"五色评级得分 {_fmt(now.get('score'))} 分，在全市 {_fmt(now.get('n_districts'))} 个"
                                  f"县(市、区)中排第 {_fmt(now.get('rank'))} 位(分数越高风险越突出)。")
    return section


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _campaign(ctx: ReportContext) -> Section:
    now = ctx.figures.loc[ctx.scope]
    rows = tuple((m.zh, _fmt(now.get(m.code), m.code.startswith("rate_")), m.definition_zh)
                 for m in CAMPAIGN_MEASURES)
    return Section("campaign", "重大事故隐患排查整治情况", tables=[Table(("指标", "数值", "口径"), rows)])


def _ranking(ctx: ReportContext) -> Section:
    section = Section("ranking", "各县(市、区)晾晒排名")
    if ctx.scope != CITY:  # a district sees the city's ranking of itself only (the stored, city-wide rank)
        now = ctx.figures.loc[ctx.scope]
        section.paragraphs.append(f"{ctx.scope_name}五色评分 {_fmt(now.get('score'))} 分，全市 "
                                  f"{_fmt(now.get('n_districts'))} 个县(市、区)中排第 {_fmt(now.get('rank'))} 位。")
        return section
    for code in ("rate_all", "overdue_hazards", "score"):
        spec = CRITERIA[code]
        ranked = rank_districts(ctx.figures, ctx.previous, code, ctx.names)
        rows = tuple((_fmt(r["rank"]), r["name"], _fmt(r["value"], spec.percent), _fmt(r["previous_rank"]),
                      f"{r['trend']}{'' if pd.isna(r['delta']) else _fmt(abs(r['delta']), spec.percent)}")
                     for _, r in ranked.iterrows())
        better = "越高越好" if spec.higher_is_better else "越低越好"
        section.tables.append(Table(("名次", "县(市、区)", spec.zh, "上期名次", "变化"), rows,
                                    note=f"按{spec.zh}排名，{better}；↑ 好转，↓ 退步，→ 持平。"))
    return section


def _movers(ctx: ReportContext) -> Section:
    ranked = rank_districts(ctx.figures, ctx.previous, "score", ctx.names)
    better = "、".join(ranked.loc[ranked["trend"] == "↑", "name"]) or "无"
    worse = "、".join(ranked.loc[ranked["trend"] == "↓", "name"]) or "无"
    return Section("movers", "好转和退步的县(市、区)", paragraphs=[
        f"与{ctx.previous_end}相比，五色评分好转的有：{better}。", f"评分退步的有：{worse}。"])


def _supervised_overdue(ctx: ReportContext) -> Section:
    adcode = None if ctx.scope == CITY else ctx.scope
    hz = store.read_layer_as_of(ctx.engine, "hidden_hazards", period_moment(ctx.period_end), adcode)
    ents = store.read_layer_as_of(ctx.engine, "enterprises", period_moment(ctx.period_end), adcode)
    names = dict(zip(ents["credit_code"], ents["name"], strict=False)) if len(ents) else {}
    deadline = pd.to_datetime(hz["supervision_deadline"].fillna(hz["deadline"]), errors="coerce").dt.date
    late = hz[hz["supervision"].fillna("none").ne("none") & ~hz["state"].isin(["closed", "withdrawn"])
              & deadline.notna() & (deadline < ctx.period_end)]
    rows = tuple((ctx.names.get(str(r["adcode"]), str(r["adcode"])), names.get(r["credit_code"], "—"),
                  str(r["description"]), str(r["supervision"]), str(deadline[i]))
                 for i, r in late.sort_values(["adcode", "code"]).iterrows())
    section = Section("supervised_overdue", "挂牌督办隐患逾期情况")
    if rows:
        section.tables.append(Table(("县(市、区)", "企业", "隐患", "督办级别", "督办时限"), rows))
    else:
        section.paragraphs.append(f"截至{ctx.period_end}，无逾期未销号的挂牌督办隐患。")
    return section


def _changes(ctx: ReportContext) -> Section:
    lines = changes_between(ctx.engine, ctx.previous_end, ctx.period_end,
                            adcode=None if ctx.scope == CITY else ctx.scope)
    counts = lines.groupby(["kind", "layer"]).size().reset_index(name="n")
    summary = "；".join(f"{WATCHED[str(r['layer'])].zh}{CHANGE_KINDS[str(r['kind'])][0]} {int(r['n'])} 项"
                       for _, r in counts.iterrows())
    section = Section("changes", f"{ctx.previous_end}以来的变化", paragraphs=[summary or "无变化。"])
    shown = lines.head(CHANGE_LINES)
    if len(shown):
        section.tables.append(Table(("类别", "变化", "名称", "字段", "原值", "现值"), tuple(
            (r["layer_zh"], r["kind_zh"], r["name"] or r["key"], r["field"] or "", r["before"] or "", r["after"] or "")
            for _, r in shown.iterrows()), note=None if len(lines) <= CHANGE_LINES else
            f"另有 {len(lines) - CHANGE_LINES} 项变化未列出，详见系统。"))
    return section


def _four_lists(ctx: ReportContext) -> Section:
    now = ctx.figures.loc[ctx.scope]
    rows = tuple((measure_label(c), _fmt(now.get(c))) for c in ("risk_points", "major_risks", "significant_risks",
                                                                "general_risks", "low_risks"))
    return Section("four_lists", "安全风险\"4张清单\"", tables=[Table(("项目", "数量"), rows)],
                   paragraphs=["基础清单、防控清单、责任清单和应急清单的明细随本报告以表格另附(导出包)。"])


def _dispatch_table(ctx: ReportContext) -> Section:
    from campaign.submissions import dispatch_from_store

    period = f"{ctx.period_end.year:04d}-{ctx.period_end.month:02d}"
    table = dispatch_from_store(ctx.engine, adcode=None if ctx.scope == CITY else ctx.scope,
                                unit=ctx.scope_name, period=period)
    rows = tuple((row.label.zh, str(n)) for row, n in table.hazards)
    spot = tuple((label.zh, str(n)) for _, label, n in table.spot_items)
    return Section("dispatch_table", "月度调度表", tables=[
        Table(("项目", "数量"), rows, note=f"统计截至 {table.cutoff}"),
        Table(("企业自查抽查项目", "企业数"), (("抽查企业数", str(table.spot_checked)), *spot))])


def _maps(ctx: ReportContext) -> Section:
    section = Section("maps", "安全风险分布图")
    section.figures.append(four_colour_map(ctx.engine, ctx.scope, ctx.period_end, ctx.scope_name))
    if ctx.scope == CITY:
        section.figures.append(five_colour_map(ctx.engine, ctx.figures, ctx.period_end))
    return section


def _method(ctx: ReportContext) -> Section:
    rubric = load_rubric()
    return Section("method", "数据和方法说明", paragraphs=[
        "风险源、隐患和违规问题按系统的统一口径计数(与“一张图”和各类导出一致)。", rubric.method_zh.strip()])


#: Section code -> builder.
SECTIONS: dict[str, Callable[[ReportContext], Section]] = {
    "headline": _headline, "campaign": _campaign, "ranking": _ranking, "movers": _movers,
    "supervised_overdue": _supervised_overdue, "changes": _changes, "four_lists": _four_lists,
    "dispatch_table": _dispatch_table, "maps": _maps, "method": _method,
}
