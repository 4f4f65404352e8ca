"""Measures of the campaign: 整改率 of major hazards by source and under 督办, overdue, days to close.

By district and by 行业领域 (按属地、分行业), as workflows.md §2 and §5 define them.

One definition each, read by the pages and the exports: a major hazard counts once it is a hazard (not
不予核定); it is rectified when its state is one of ``campaign/dispatch.yaml``'s ``rectified_states``
(re-inspection passed or struck off), the same rule as the monthly 调度表. The rates are cumulative over
the whole register at the time of reading.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from campaign.dispatch import load_dispatch
from campaign.lifecycle import load_lifecycle
from campaign.reference import load_reference


@dataclass(frozen=True)
class CampaignMeasure:
    """A campaign measure: code, labels and a one-line definition."""

    code: str
    zh: str
    en: str
    definition_zh: str


CAMPAIGN_MEASURES: tuple[CampaignMeasure, ...] = (
    CampaignMeasure("major_found", "重大隐患", "Major hazards", "已核定为重大事故隐患的隐患（不含不予核定）"),
    CampaignMeasure("major_rectified", "已完成整改", "Rectified", "复查通过或已销号的重大隐患"),
    CampaignMeasure("rate_all", "整改率", "Rectification rate", "已完成整改 ÷ 重大隐患"),
    CampaignMeasure("rate_self", "企业自查整改率", "Rate (self-checks)", "来源为企业自查的重大隐患的整改率"),
    CampaignMeasure("rate_inspection", "排查发现整改率", "Rate (inspections)",
                    "其余来源（部门排查、专家、督查、举报）的整改率"),
    CampaignMeasure("rate_supervised", "挂牌督办整改率", "Rate (supervised)", "挂牌督办的重大隐患的整改率"),
    CampaignMeasure("overdue", "逾期", "Overdue", "超过整改时限仍未完成的隐患（任何级别）"),
    CampaignMeasure("median_days", "销号用时中位数(天)", "Median days to close", "已销号隐患从发现到销号的天数中位数"),
)


def _rate(done: int, found: int) -> float | None:
    return round(done / found, 4) if found else None


def _group_measures(rows: pd.DataFrame) -> dict[str, Any]:
    major = rows.loc[rows["major"]]
    out: dict[str, Any] = {"major_found": len(major), "major_rectified": int(major["done"].sum())}
    out["rate_all"] = _rate(out["major_rectified"], out["major_found"])
    for name, mask in (("rate_self", major["self"]), ("rate_inspection", ~major["self"]),
                       ("rate_supervised", major["supervised"])):
        out[name] = _rate(int((major["done"] & mask).sum()), int(mask.sum()))
    out["overdue"] = int(rows["overdue"].sum())
    days = rows["days_to_close"].dropna()
    out["median_days"] = float(days.median()) if len(days) else None
    return out


def hazard_facts(hazards: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Per hazard: district, 行业领域, major, self-found, supervised, rectified, overdue, days to close.

    Parameters
    ----------
    hazards : DataFrame
        Rows of :func:`geo.store.list_hazards` (``state``, ``severity``, ``source``, ``supervision``,
        ``deadline``, ``found_on``, ``closed_on``, ``enterprise_industry``, ``adcode``).
    today : date
        The day overdue is judged on.

    Returns
    -------
    DataFrame
        One row per hazard that counts (不予核定 left out).
    """
    life, ref, dispatch = load_lifecycle(), load_reference(), load_dispatch()
    rows = []
    for r in hazards.to_dict("records"):
        state = str(r.get("state"))
        if state in dispatch.excluded_states:
            continue
        closed, found = r.get("closed_on"), r.get("found_on")
        days = (closed - found).days if isinstance(closed, dt.date) and isinstance(found, dt.date) else None
        industry = ref.industry_of(r.get("enterprise_industry"))
        h = life.hazard(r)
        rows.append({"adcode": r.get("adcode"), "industry": industry or "other",
                     "major": r.get("severity") == "major", "self": r.get("source") in ref.self_sources,
                     "supervised": h.supervised, "done": state in dispatch.rectified_states,
                     "overdue": life.is_overdue(h, today), "days_to_close": days if state == "closed" else None})
    return pd.DataFrame(rows, columns=["adcode", "industry", "major", "self", "supervised", "done", "overdue",
                                       "days_to_close"])


def campaign_measures(hazards: pd.DataFrame, *, by: str, today: dt.date) -> pd.DataFrame:
    """Every campaign measure per district (``by="adcode"``) or per 行业领域 (``by="industry"``).

    Parameters
    ----------
    hazards : DataFrame
        Rows of :func:`geo.store.list_hazards` (what the session sees).
    by : str
        ``adcode`` or ``industry`` (codes of ``campaign/reference.yaml``; ``other`` for none).
    today : date
        The day overdue is judged on.

    Returns
    -------
    DataFrame
        Indexed by the group; columns the codes of :data:`CAMPAIGN_MEASURES` (rates 0–1 or None).
    """
    if by not in ("adcode", "industry"):
        raise ValueError(f"by must be adcode or industry, not {by!r}")
    facts = hazard_facts(hazards, today)
    groups = {key: _group_measures(rows) for key, rows in facts.groupby(by, sort=True)} if len(facts) else {}
    return pd.DataFrame.from_dict(groups, orient="index", columns=[m.code for m in CAMPAIGN_MEASURES])
