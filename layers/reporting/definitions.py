"""Report definitions as data: name, period, due day, issuer, recipient and sections of each submission.

Read from ``definitions.yaml`` beside this module. A period is named ``YYYY-MM`` (monthly reports) or
``YYYY`` (yearly ones); :func:`due_date` says when a period's report is due, :func:`period_end` the
last day it covers and :func:`data_date` the day its figures are as of (数据截至): the period's end, or for a
yearly report due mid-year the last month end before the due date (``as_of`` in ``definitions.yaml``).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, Engine

from campaign.dispatch import load_dispatch
from geo import store

__all__ = [
    "AS_OF",
    "EDITABLE_FIELDS",
    "ISSUERS",
    "PERIODS",
    "ReportDefinition",
    "apply_overrides",
    "check_period",
    "check_ready",
    "data_date",
    "due_date",
    "latest_ready",
    "load_reports",
    "not_yet_due",
    "period_end",
    "period_of",
    "ready_on",
    "reports_in_force",
]

DEFINITIONS = Path(__file__).with_name("definitions.yaml")
#: Period kinds and the form of their names.
PERIODS = {"month": re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$"), "year": re.compile(r"^[0-9]{4}$")}
#: Who issues a report: each district (to the city) or the city (to the districts).
ISSUERS = ("district", "city")
#: What a period's figures are as of: the period's last day, or the last month end before the due date.
AS_OF = ("period_end", "month_end_before_due")


@dataclass(frozen=True)
class ReportDefinition:
    """One periodic report (see ``definitions.yaml``)."""

    code: str
    zh: str
    en: str
    period: str
    due_month: int | None
    due_day: int
    due_offset_months: int
    issuer: str
    recipient_zh: str
    recipient_en: str
    sections: tuple[str, ...]
    as_of: str = "period_end"

    def title(self, lang: str = "zh") -> str:
        """Return the report's name in ``lang``."""
        return self.en if lang == "en" else self.zh


def _definition(code: str, doc: dict[str, Any]) -> ReportDefinition:
    period = str(doc["period"])
    if period not in PERIODS:
        raise ValueError(f"definitions.yaml: report {code}: period must be one of {sorted(PERIODS)}")
    if str(doc["issuer"]) not in ISSUERS:
        raise ValueError(f"definitions.yaml: report {code}: issuer must be one of {ISSUERS}")
    as_of = str(doc.get("as_of", "period_end"))
    if as_of not in AS_OF:
        raise ValueError(f"definitions.yaml: report {code}: as_of must be one of {AS_OF}, not {as_of!r}")
    # the 调度表's default due day is declared once, with the table itself (campaign/dispatch.yaml); an
    # administrator's local value (report_definition_overrides) applies to it as to every other report
    due = {"day": load_dispatch().due_day} if doc["due"] == "campaign" else dict(doc["due"])
    if period == "year" and "month" not in due:
        raise ValueError(f"definitions.yaml: report {code}: a yearly report's due needs a month")
    return ReportDefinition(
        code=code, zh=str(doc["zh"]), en=str(doc["en"]), period=period,
        due_month=int(due["month"]) if "month" in due else None, due_day=int(due["day"]),
        due_offset_months=int(doc.get("due_offset_months", 0)), issuer=str(doc["issuer"]),
        recipient_zh=str(doc["recipient"]["zh"]), recipient_en=str(doc["recipient"]["en"]),
        sections=tuple(str(s) for s in doc["sections"]), as_of=as_of)


@cache
def load_reports(path: Path = DEFINITIONS) -> dict[str, ReportDefinition]:
    """Load the report definitions.

    Parameters
    ----------
    path : Path
        The YAML file (default: the published ``definitions.yaml``).

    Returns
    -------
    dict of str to ReportDefinition
        By report code, in file order.
    """
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {code: _definition(code, body) for code, body in doc["reports"].items()}


#: Fields an administrator may change (name as the CLI and the page call it → attribute of ReportDefinition).
EDITABLE_FIELDS = {"name": "zh", "name_en": "en", "due_day": "due_day", "due_month": "due_month",
                   "recipient": "recipient_zh", "recipient_en": "recipient_en", "sections": "sections"}


def apply_overrides(reports: dict[str, ReportDefinition],
                    rows: Iterable[dict[str, Any]]) -> dict[str, ReportDefinition]:
    """Return the definitions with local values (rows of ``report_definition_overrides``) applied.

    Rows for a report or field no longer defined are left out; a list value (sections) becomes a tuple.
    """
    out = dict(reports)
    for row in rows:
        code, field = str(row["report_code"]), str(row["field"])
        if code in out and field in EDITABLE_FIELDS:
            value = row["value"]
            changes: dict[str, Any] = {EDITABLE_FIELDS[field]: (
                tuple(str(v) for v in value) if isinstance(value, list) else value)}
            out[code] = dataclasses.replace(out[code], **changes)
    return out


def reports_in_force(engine: Engine | Connection) -> dict[str, ReportDefinition]:
    """Return the report definitions in force: ``definitions.yaml`` with the administrator's local values.

    This is the one reading every view (pages, command line, status, generated documents) uses.

    Parameters
    ----------
    engine : Engine or Connection
        The store (every session may read the local values).

    Returns
    -------
    dict of str to ReportDefinition
        By report code, in file order.
    """
    return apply_overrides(load_reports(), store.read_definition_overrides(engine))


def check_period(definition: ReportDefinition, period: str) -> None:
    """Refuse a period not named as the report's periods are (``YYYY-MM`` monthly, ``YYYY`` yearly).

    Raises
    ------
    ValueError
        Bilingual (``中文 / English``), naming the report, the period given and the form expected.

    Examples
    --------
    >>> try:
    ...     check_period(load_reports()["summary"], "2026-05")
    ... except ValueError as exc:
    ...     print(str(exc).split(" / ")[1])
    period '2026-05' is not YYYY: summary is yearly (e.g. 2026)
    """
    if not PERIODS[definition.period].match(period):
        kind, form, example = (("月报", "YYYY-MM", "2026-05") if definition.period == "month"
                               else ("年报", "YYYY", "2026"))
        raise ValueError(f"《{definition.zh}》是{kind}，期间应为 {form}（如 {example}），不是 {period!r} / "
                         f"period {period!r} is not {form}: {definition.code} is {definition.period}ly "
                         f"(e.g. {example})")



def period_end(definition: ReportDefinition, period: str) -> dt.date:
    """Return the last day a period's report covers.

    Examples
    --------
    >>> reports = load_reports()
    >>> period_end(reports["bulletin"], "2026-02"), period_end(reports["summary"], "2026")
    (datetime.date(2026, 2, 28), datetime.date(2026, 12, 31))
    """
    check_period(definition, period)
    if definition.period == "year":
        return dt.date(int(period), 12, 31)
    year, month = (int(p) for p in period.split("-"))
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def due_date(definition: ReportDefinition, period: str) -> dt.date:
    """Return the day a period's report is due (a due day past the month's end falls on its last day).

    Examples
    --------
    >>> reports = load_reports()
    >>> due_date(reports["dispatch"], "2026-02"), due_date(reports["bulletin"], "2026-12")
    (datetime.date(2026, 2, 28), datetime.date(2027, 1, 10))
    >>> due_date(reports["four_lists"], "2026")
    datetime.date(2026, 6, 20)
    """
    check_period(definition, period)
    if definition.period == "year":
        year, month = int(period), int(definition.due_month or 12)
    else:
        year, month = (int(p) for p in period.split("-"))
    month += definition.due_offset_months
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.date(year, month, min(definition.due_day, calendar.monthrange(year, month)[1]))


def data_date(definition: ReportDefinition, period: str) -> dt.date:
    """Return the day a period's figures are as of (数据截至), as the definition's ``as_of`` says.

    ``period_end``: the period's last day. ``month_end_before_due``: the last month end before the due
    date, so a yearly report due mid-year states figures that exist when it is due.

    Examples
    --------
    >>> reports = load_reports()
    >>> [data_date(reports[c], "2026") for c in ("four_lists", "stage_report", "summary")]
    [datetime.date(2026, 5, 31), datetime.date(2026, 7, 31), datetime.date(2026, 11, 30)]
    >>> data_date(reports["bulletin"], "2026-11")
    datetime.date(2026, 11, 30)
    """
    if definition.as_of == "month_end_before_due":
        return due_date(definition, period).replace(day=1) - dt.timedelta(days=1)
    return period_end(definition, period)


def ready_on(definition: ReportDefinition, period: str) -> dt.date:
    """Return the first day a period's report can be made: the day after its data date.

    Figures are as of the END of the data date (:func:`layers.snapshots.period_moment`), so until that day
    is over they would be today's figures labelled with a later date.

    Examples
    --------
    >>> reports = load_reports()
    >>> ready_on(reports["summary"], "2026"), ready_on(reports["bulletin"], "2026-12")
    (datetime.date(2026, 12, 1), datetime.date(2027, 1, 1))
    """
    return data_date(definition, period) + dt.timedelta(days=1)


def check_ready(definition: ReportDefinition, period: str, today: dt.date) -> None:
    """Refuse a period whose data date has not passed on ``today``: the one rule of "not yet" for every view.

    Generating (:func:`layers.reporting.service.generate_report`) and submitting
    (:func:`layers.reporting.service.submit_report`) call it; the reports page disables its buttons with
    its message and the status matrix shows :func:`not_yet_due` periods as 未到期.

    Raises
    ------
    ValueError
        Bilingual (``中文 / English``), naming the report, the period, its data date and the first day it
        can be made.

    Examples
    --------
    >>> summary = load_reports()["summary"]
    >>> check_ready(summary, "2026", dt.date(2026, 12, 6))  # as of 2026-11-30: ready
    >>> try:
    ...     check_ready(summary, "2027", dt.date(2026, 12, 6))
    ... except ValueError as exc:
    ...     print(str(exc).split(" / ")[1].split(": ")[1])
    its figures are as of 2027-11-30, which has not passed (today is 2026-12-06); it can be made from 2027-12-01
    """
    first = ready_on(definition, period)
    if today < first:
        as_of = first - dt.timedelta(days=1)
        raise ValueError(f"《{definition.zh}》{period} 尚未到期：数据截至 {as_of}，该日尚未过去（今天是 {today}），"
                         f"{first} 起才能生成或报送 / {definition.code} {period} is not yet due: its figures are as "
                         f"of {as_of}, which has not passed (today is {today}); it can be made from {first}")


def not_yet_due(definition: ReportDefinition, period: str, today: dt.date) -> bool:
    """Return whether a period's report cannot be made yet on ``today`` while it is not due before it can be.

    The 调度表, due before its month ends, is sent with its figures as they stand (the campaign pages), so
    it is never "not yet due": it is pending until its due date.

    Examples
    --------
    >>> reports = load_reports()
    >>> not_yet_due(reports["summary"], "2027", dt.date(2026, 12, 6)), not_yet_due(reports["summary"], "2026",
    ...                                                                           dt.date(2026, 12, 6))
    (True, False)
    >>> not_yet_due(reports["dispatch"], "2026-12", dt.date(2026, 12, 6))
    False
    """
    first = ready_on(definition, period)
    return today < first <= due_date(definition, period)


def period_of(definition: ReportDefinition, day: dt.date) -> str:
    """Name the period a report made on ``day`` is normally about (the month before, or the year).

    Examples
    --------
    >>> reports = load_reports()
    >>> period_of(reports["bulletin"], dt.date(2026, 12, 6)), period_of(reports["summary"], dt.date(2026, 12, 6))
    ('2026-11', '2026')
    """
    if definition.period == "year":
        return str(day.year)
    last = day.replace(day=1) - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def latest_ready(definition: ReportDefinition, day: dt.date) -> str:
    """Name the newest period whose report can be made on ``day``: the default when none is asked for.

    That is :func:`period_of` unless its data date has not passed yet (a yearly report as of a month end
    later in the year), then the period before it.

    Examples
    --------
    >>> reports = load_reports()
    >>> latest_ready(reports["summary"], dt.date(2026, 12, 6)), latest_ready(reports["summary"], dt.date(2026, 3, 1))
    ('2026', '2025')
    >>> latest_ready(reports["bulletin"], dt.date(2026, 12, 6))
    '2026-11'
    """
    period = period_of(definition, day)
    if day >= ready_on(definition, period):
        return period
    if definition.period == "year":
        return str(int(period) - 1)
    year, month = (int(v) for v in period.split("-"))
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"
