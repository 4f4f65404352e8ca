"""The inbox shown at sign-in: what is overdue, due soon, waiting for me, and which monthly reports are missing.

What "waiting for me" means comes from the lifecycle table: a hazard waits for a role when that role may
take one of the actions marked ``inbox`` on it now (核定, 落实整改, 复查, 验收销号); a 催办 sent to the account's
role stays until the hazard's next step (:mod:`campaign.reminders`). Everything is read under the
account's own scope, so an enterprise sees its own hazards and a district officer their district's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from campaign.lifecycle import Label, load_lifecycle
from campaign.service import Actor
from campaign.submissions import self_report_due, submission_states
from geo import store
from geo.constants import LOCAL_ZONE

#: Hazards whose deadline falls within this many days count as due soon.
DUE_SOON_DAYS = 7

BUCKETS: dict[str, Label] = {
    "overdue": Label("已逾期", "Overdue"),
    "due_soon": Label(f"{DUE_SOON_DAYS}日内到期", f"Due within {DUE_SOON_DAYS} days"),
    "waiting": Label("待我处理", "Waiting for me"),
    "reminded": Label("催办", "Reminders"),
    "supervision_overdue": Label("督办逾期", "Supervision overdue"),
    "progress_missing": Label("本月督办进展未报", "Monthly progress report missing"),
    "reports_missing": Label("月报未报送", "Monthly reports missing"),
}


@dataclass(frozen=True)
class InboxItem:
    """One line of the inbox: a hazard (with the action waiting, if any) or a missing report."""

    bucket: str
    text: Label
    hazard_id: int | None = None
    code: str | None = None
    due: dt.date | None = None
    action: str | None = None


@dataclass(frozen=True)
class Inbox:
    """The inbox of one account on one day, by bucket (in the order of :data:`BUCKETS`)."""

    today: dt.date
    items: tuple[InboxItem, ...] = field(default_factory=tuple)

    def bucket(self, name: str) -> list[InboxItem]:
        """Return the items of one bucket."""
        return [i for i in self.items if i.bucket == name]

    def counts(self) -> dict[str, int]:
        """Return how many items each bucket holds (every bucket, zeros included)."""
        return {b: len(self.bucket(b)) for b in BUCKETS}


def _when(value: Any) -> dt.date | None:
    return value if isinstance(value, dt.date) and not pd.isna(value) else None


def hazard_items(hazards: pd.DataFrame, role: str, today: dt.date) -> list[InboxItem]:
    """Inbox lines about hazards for ``role`` (the hazards are those the account sees).

    Parameters
    ----------
    hazards : DataFrame
        Rows of :func:`geo.store.list_hazards`.
    role : str
        The account's role.
    today : date
        The day judged.

    Returns
    -------
    list of InboxItem
    """
    life = load_lifecycle()
    out: list[InboxItem] = []
    month_start = today.replace(day=1)
    for row in hazards.to_dict("records"):
        if row["state"] in life.final_states or row["state"] is None:
            continue
        h = life.hazard(row)
        name = f"{row['code']} {row['description']}"
        deadline = _when(row.get("deadline"))
        hid, code = int(row["id"]), str(row["code"])
        if life.is_overdue(h, today):
            days = (today - deadline).days if deadline else 0
            out.append(InboxItem("overdue", Label(f"{name}（逾期 {days} 天）", f"{name} ({days} days overdue)"),
                                 due=deadline, hazard_id=hid, code=code))
        elif deadline is not None and (deadline - today).days <= DUE_SOON_DAYS:
            days = (deadline - today).days
            out.append(InboxItem("due_soon", Label(f"{name}（{days} 天后到期）", f"{name} (due in {days} days)"),
                                 due=deadline, hazard_id=hid, code=code))
        mine = role not in life.supervised_inbox_roles or (
            h.supervised and role in life.supervision_levels[str(row["supervision"])][1])
        for act in life.available(h, role) if mine else []:
            if act.inbox:
                out.append(InboxItem("waiting", Label(f"{name} — 待{act.label.zh}", f"{name} — {act.label.en}"),
                                     action=act.code, hazard_id=hid, code=code))
        if life.supervision_overdue(h, today):
            out.append(InboxItem("supervision_overdue", Label(f"{name}（督办时限 {row['supervision_deadline']}）",
                                                              f"{name} (supervision deadline "
                                                              f"{row['supervision_deadline']})"),
                                 due=_when(row.get("supervision_deadline")), hazard_id=hid, code=code))
        progressed = _when(row.get("progress_on"))
        if h.supervised and role == "enterprise" and (progressed is None or progressed < month_start):
            text = Label(f"{name}（本月进展未报）", f"{name} (no progress this month)")
            out.append(InboxItem("progress_missing", text, action="report_progress", hazard_id=hid, code=code))
    return out


def reminder_items(engine: Engine, actor: Actor) -> list[InboxItem]:
    """Inbox lines of the 催办 addressed to the account's role about hazards it sees, not yet answered by a step.

    Row-level security decides which reminders the account sees (its enterprise's, its district's, or all for city
    roles); a reminder is open until its hazard's next step (campaign/reminders.py).
    """
    out: list[InboxItem] = []
    for row in store.open_reminders(engine, actor.role).to_dict("records"):
        at = pd.Timestamp(row["sent_at"]).tz_convert(LOCAL_ZONE)
        name = f"{row['code']} {row['description']}"
        text = Label(f"{name} — 催办：{row['message']}（{row['sent_by']}，{at:%m-%d %H:%M}）",
                     f"{name} — reminder: {row['message']} ({row['sent_by']}, {at:%m-%d %H:%M})")
        out.append(InboxItem("reminded", text, hazard_id=int(row["hazard_id"]), code=str(row["code"]),
                             due=_when(row.get("deadline"))))
    return out


def _previous_month(today: dt.date) -> str:
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def report_items(engine: Engine, actor: Actor, today: dt.date, districts: Sequence[str]) -> list[InboxItem]:
    """Inbox lines about monthly reports: the account's own missing one, or the districts missing theirs."""
    out: list[InboxItem] = []
    if actor.role == "enterprise" and actor.credit_code:
        period = _previous_month(today)
        state = submission_states(engine, "self_report", period=period, owners=[actor.credit_code], today=today)[0]
        if state.state in ("missing", "not_due"):
            due = self_report_due(period)
            out.append(InboxItem("reports_missing", Label(f"{period} 月度自查报告（{due} 前报送）",
                                                          f"Self-report for {period} (due {due})"), due=due))
    elif actor.role == "district_officer" and actor.adcode:
        period = today.strftime("%Y-%m")
        state = submission_states(engine, "dispatch", period=period, owners=[actor.adcode], today=today)[0]
        if state.state in ("missing", "not_due"):
            due = state.due  # the due day in force (campaign.submissions.dispatch_due_day)
            out.append(InboxItem("reports_missing", Label(f"{period} 调度表（{due} 前报送）",
                                                          f"Dispatch table for {period} (due {due})"), due=due))
    elif actor.role in ("city_supervisor", "leader", "admin"):
        period = _previous_month(today)
        names = store.district_codes(engine)
        late = [s for s in submission_states(engine, "dispatch", period=period, owners=list(districts), today=today)
                if s.state == "missing"]
        for s in late:
            out.append(InboxItem("reports_missing", Label(f"{names.get(s.owner, s.owner)} 未报送 {period} 调度表",
                                                          f"{names.get(s.owner, s.owner)}: no dispatch table "
                                                          f"for {period}"), due=s.due))
    return out


def inbox(engine: Engine, actor: Actor, *, today: dt.date, districts: Sequence[str] = (),
          hazards: pd.DataFrame | None = None) -> Inbox:
    """Build an account's inbox.

    Parameters
    ----------
    engine : Engine
        A store engine under the account's scope.
    actor : Actor
        The account.
    today : date
        The day judged.
    districts : sequence of str
        Districts expected to send the 调度表 (for city roles).
    hazards : DataFrame, optional
        The hazards the session sees (:func:`geo.store.list_hazards`), when the caller has read them already.

    Returns
    -------
    Inbox
    """
    hazards = store.list_hazards(engine) if hazards is None else hazards
    items = (hazard_items(hazards, actor.role, today) + reminder_items(engine, actor)
             + report_items(engine, actor, today, districts))
    order = list(BUCKETS)
    items.sort(key=lambda i: (order.index(i.bucket), i.due or dt.date.max, i.code or ""))
    return Inbox(today=today, items=tuple(items))
