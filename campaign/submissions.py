"""Periodic submissions: the enterprise's monthly self-report and the district's monthly 调度表, with who is late.

Both are kept as sent, never overwritten: a second submission for the same month is a new revision.
It corrects the content; on time or late is judged on when the FIRST one arrived (:func:`timeliness`, the
one rule the 调度表 page, the inbox and the reports' status matrix all use; decisions.md 2026-12-06).
Rhythm (workflows.md §3): enterprises report month M before the 5th of month M+1 (signed by the legal
representative); districts send the 调度表 of report month M (figures to the end of M-1) by the 30th of M.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine

from campaign.dispatch import DispatchTable, as_of, dispatch_table, enterprise_streets, load_dispatch
from campaign.lifecycle import Refused
from campaign.reference import load_reference
from campaign.service import Actor
from geo import store
from geo.constants import LOCAL_ZONE
from identity.permissions import allowed

#: Enterprises' self-report of month M is due on this day of month M+1 (Baoshan plan: "before the 5th").
SELF_REPORT_DUE_DAY = 5


def _month(period: str) -> dt.date:
    try:
        return dt.datetime.strptime(period, "%Y-%m").date()
    except ValueError:
        raise Refused([(f"月份应为 YYYY-MM：{period!r}", f"month must be YYYY-MM: {period!r}")]) from None


def _day_of(month: dt.date, day: int) -> dt.date:
    return month.replace(day=min(day, calendar.monthrange(month.year, month.month)[1]))


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


#: The 调度表 is the report definition ``dispatch`` (layers/reporting/definitions.yaml), whose due day an
#: administrator may change (``report_definition_overrides``); its default is ``dispatch.yaml``'s.
DISPATCH_REPORT = "dispatch"


def dispatch_due_day(engine: Engine | Connection) -> int:
    """Return the 调度表's due day in force: the administrator's local value, else ``dispatch.yaml``'s.

    The same reading :func:`layers.reporting.definitions.reports_in_force` applies to the definition
    ``dispatch``, so the reports pages, /dispatch and the inbox name one due day.

    Parameters
    ----------
    engine : Engine or Connection
        The store (every session may read the local values).

    Returns
    -------
    int
    """
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return dispatch_due_day(conn)
    local = [r["value"] for r in store.read_definition_overrides(engine)
             if r["report_code"] == DISPATCH_REPORT and r["field"] == "due_day"]
    return int(local[-1]) if local else load_dispatch().due_day


def dispatch_due(period: str, due_day: int) -> dt.date:
    """Return the last day to send the 调度表 of report month ``period`` (``due_day``: :func:`dispatch_due_day`).

    Examples
    --------
    >>> dispatch_due("2026-12", 30), dispatch_due("2027-02", 30)
    (datetime.date(2026, 12, 30), datetime.date(2027, 2, 28))
    """
    return _day_of(_month(period), due_day)


def timeliness(first_sent: dt.datetime | None, due: dt.date, today: dt.date) -> tuple[str, int]:
    """Judge one submission: the one rule of on time and late for every periodic submission.

    A resubmission corrects the content but does not move the arrival: lateness is judged on the local
    day the first revision arrived.

    Parameters
    ----------
    first_sent : datetime or None
        When the first revision arrived (timezone-aware); None when nothing was sent.
    due : date
        The last day to send it.
    today : date
        The day judged on (for what is not sent).

    Returns
    -------
    (str, int)
        ``("on_time", 0)``, ``("late", days after due)``, ``("pending", days left)`` or
        ``("overdue", days past due)`` (the states of layers/reporting/status.yaml).

    Examples
    --------
    >>> from geo.constants import LOCAL_ZONE
    >>> due = dt.date(2026, 6, 20)
    >>> timeliness(dt.datetime(2026, 6, 20, 23, 0, tzinfo=LOCAL_ZONE), due, dt.date(2026, 7, 1))
    ('on_time', 0)
    >>> timeliness(dt.datetime(2026, 6, 22, 9, 0, tzinfo=LOCAL_ZONE), due, dt.date(2026, 7, 1))
    ('late', 2)
    >>> timeliness(None, due, dt.date(2026, 6, 12)), timeliness(None, due, dt.date(2026, 6, 30))
    (('pending', 8), ('overdue', 10))
    """
    if first_sent is not None:
        late = (_local_day(first_sent) - due).days
        return ("late", late) if late > 0 else ("on_time", 0)
    return ("pending", (due - today).days) if today <= due else ("overdue", (today - due).days)


def self_report_due(period: str) -> dt.date:
    """Return the last day for an enterprise's self-report of month ``period`` (the 5th of the next month).

    Examples
    --------
    >>> self_report_due("2026-11"), self_report_due("2026-12")
    (datetime.date(2026, 12, 5), datetime.date(2027, 1, 5))
    """
    return _day_of(_next_month(_month(period)), SELF_REPORT_DUE_DAY)


def dispatch_from_store(engine: Engine, *, adcode: str | None, unit: str, period: str,
                        street: str | None = None) -> DispatchTable:
    """Compute the 调度表 of a district, of one of its streets, or (``adcode`` None) of every district the session sees.

    Parameters
    ----------
    engine : Engine
        A store engine under the caller's scope.
    adcode : str or None
        The district; None for the whole city.
    unit : str
        The unit's name for the header.
    period : str
        Report month ``YYYY-MM``.
    street : str, optional
        A street (街道/乡镇) of district ``adcode``, as its enterprises name it (``enterprises.township``):
        only the hazards and spot checks of those enterprises count.

    Returns
    -------
    DispatchTable

    Raises
    ------
    ValueError
        For a street that no enterprise of the district (that the session sees) names.
    """
    with engine.connect() as conn:
        streets = enterprise_streets(conn, adcode) if street is not None and adcode is not None else {}
        hazards = store.list_hazards(conn, adcode=adcode)
        steps = store.steps_frame(conn, adcode=adcode)
        spots = store.list_inspections(conn, adcode=adcode, kind="spot_check")
    if street is not None and street not in set(streets.values()):
        raise ValueError(f"区县 {adcode} 没有企业属于“{street}” / no enterprise of {adcode} is in {street!r}")
    items = list(load_reference().spot_check_items)
    spot_rows = pd.DataFrame(
        [{"enterprise": r["credit_code"], "township": streets.get(str(r["credit_code"])),
          "checked_on": _local_day(r["inspected_at"]),
          **{k: bool((r["spot_items"] or {}).get(k)) for k in items}} for r in spots.to_dict("records")],
        columns=["enterprise", "township", "checked_on", *items])
    hazards = hazards.assign(source=hazards["source"].fillna("department"),
                             township=hazards["credit_code"].astype(str).map(streets))
    return dispatch_table(hazards[["code", "source", "township"]], steps, spot_rows, unit=unit, period=period,
                          street=street)


def _local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(LOCAL_ZONE).date()


def submit_dispatch(engine: Engine, actor: Actor, *, adcode: str, unit: str, period: str,
                    note: str | None = None, at: dt.datetime | None = None) -> tuple[int, DispatchTable]:
    """Send a district's 调度表 for ``period``: the figures are computed now and kept as sent.

    Returns
    -------
    (int, DispatchTable)
        The revision written and the figures sent.

    Raises
    ------
    Refused
        When the account may not send it (only the district's own officer may).
    """
    if not allowed(actor.role, "submit_dispatch") or actor.adcode != adcode:
        raise Refused([(f"账号 {actor.username} 不能报送 {adcode} 的调度表",
                        f"account {actor.username} may not send the dispatch table of {adcode}")])
    table = dispatch_from_store(engine, adcode=adcode, unit=unit, period=period)
    with engine.begin() as conn:
        revision = store.insert_submission(conn, "dispatch", adcode=adcode, credit_code=None, period=period,
                                                  submitted_by=actor.username, figures=table.figures(), note=note,
                                                  at=at)
        store.audit(conn, actor=actor.username, action="dispatch_submit", target=period, adcode=adcode,
                    details={"revision": revision, "figures": table.figures()})
    return revision, table


def self_report_figures(engine: Engine, *, credit_code: str, period: str) -> dict[str, int]:
    """Count an enterprise's hazards of month ``period``: found, rectified and still open, by level.

    Counted from the hazards' histories: found = reported in the month; rectified = reached a
    rectified state (``dispatch.yaml``'s ``rectified_states``) in the month; open = not finished at its end.
    """
    month = _month(period)
    end = _next_month(month) - dt.timedelta(days=1)
    before = month - dt.timedelta(days=1)
    done_states = load_dispatch().rectified_states | {"withdrawn"}
    with engine.connect() as conn:
        hazards = store.list_hazards(conn, credit_code=credit_code)
        steps = store.steps_frame(conn)
    steps = steps.loc[steps["hazard"].isin(hazards["code"])]
    now, then = as_of(steps, end), as_of(steps, before)
    out: dict[str, int] = {}
    for level in ("major", "general"):
        at_end = now.loc[now["severity"] == level]
        new = at_end.index.difference(then.index)
        was_done = then["to_state"].isin(done_states).reindex(at_end.index, fill_value=False)
        out[f"{level}_found"] = len(new)
        out[f"{level}_rectified"] = int((at_end["to_state"].isin(done_states) & ~was_done).sum())
        out[f"{level}_open"] = int((~at_end["to_state"].isin(done_states)).sum())
    return out


def submit_self_report(engine: Engine, actor: Actor, *, period: str, signed_by: str, note: str | None = None,
                       today: dt.date | None = None, at: dt.datetime | None = None) -> tuple[int, dict[str, int]]:
    """Send an enterprise's monthly self-report, signed by its legal representative.

    Returns
    -------
    (int, dict)
        The revision written and the figures sent.

    Raises
    ------
    Refused
        When the account is not an enterprise account, the month has not ended, or nobody signed.
    """
    today = today or dt.date.today()
    problems = []
    if not allowed(actor.role, "self_report") or not actor.credit_code or not actor.adcode:
        problems.append(("只有企业账号可以提交月度自查报告", "only an enterprise account submits the self-report"))
    if _next_month(_month(period)) > today:
        problems.append((f"{period} 尚未结束，不能提交该月报告", f"{period} has not ended yet"))
    if not signed_by or not signed_by.strip():
        problems.append(("须由法定代表人签字（填写姓名）", "the legal representative must sign (name)"))
    if problems:
        raise Refused(problems)
    assert actor.credit_code is not None and actor.adcode is not None
    figures = self_report_figures(engine, credit_code=actor.credit_code, period=period)
    with engine.begin() as conn:
        revision = store.insert_submission(conn, "self_report", adcode=actor.adcode,
                                                  credit_code=actor.credit_code, period=period,
                                                  submitted_by=actor.username, figures=figures,
                                                  signed_by=signed_by.strip(), note=note, at=at)
        store.audit(conn, actor=actor.username, action="self_report_submit", target=period, adcode=actor.adcode,
                    details={"revision": revision, "credit_code": actor.credit_code, "figures": figures})
    return revision, figures


#: The inbox's and /dispatch's names of the two unsent states of :func:`timeliness`.
_CAMPAIGN_STATES = {"pending": "not_due", "overdue": "missing"}


@dataclass(frozen=True)
class SubmissionState:
    """Whether one district (or enterprise) has sent its submission for a month, and when it was due."""

    owner: str
    due: dt.date
    submitted_at: dt.datetime | None
    state: str  # on_time / late / missing / not_due
    days: int = 0  # late: days after due; missing: days past due; not_due: days left

    @property
    def label(self) -> tuple[str, str]:
        """Chinese and English label of the state."""
        return {"on_time": ("按时报送", "on time"), "late": ("逾期报送", "late"),
                "missing": ("未报送", "missing"), "not_due": ("未到期", "not yet due")}[self.state]


def submission_states(engine: Engine, kind: str, *, period: str, owners: list[str],
                      today: dt.date) -> list[SubmissionState]:
    """Per district (``dispatch``) or enterprise (``self_report``): sent on time, late, missing or not yet due.

    Parameters
    ----------
    engine : Engine
        A store engine under the caller's scope.
    kind : str
        ``dispatch`` or ``self_report``.
    period : str
        The month.
    owners : list of str
        District codes (dispatch) or credit codes (self-reports) expected to submit.
    today : date
        The day the states are judged on.

    Returns
    -------
    list of SubmissionState
        In the order of ``owners``; the first submission counts for timeliness (:func:`timeliness`).
    """
    due = dispatch_due(period, dispatch_due_day(engine)) if kind == "dispatch" else self_report_due(period)
    subs = store.list_submissions(engine, kind, period=period)
    key = "adcode" if kind == "dispatch" else "credit_code"
    first = subs.sort_values("submitted_at").groupby(key)["submitted_at"].first() if len(subs) else pd.Series()
    out = []
    for owner in owners:
        sent = first.get(owner)
        sent = None if sent is None or pd.isna(sent) else pd.Timestamp(sent).to_pydatetime()
        state, days = timeliness(sent, due, today)
        out.append(SubmissionState(owner=owner, due=due, submitted_at=sent,
                                   state=_CAMPAIGN_STATES.get(state, state), days=days))
    return out
