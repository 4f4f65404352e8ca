"""Who has submitted which periodic report: district × report kind for a period, on time, late or missing.

Two tables hold the submissions: the 调度表 keeps its own (``dispatch_submissions``, with the figures as
sent, written by :func:`campaign.submissions.submit_dispatch`); every other district report is a row of
``report_submissions`` (:func:`layers.reporting.service.submit_report`). :func:`submission_status` reads
both, so every view shows one matrix. On time or late is judged on when the FIRST revision arrived against
the due date of the definition in force (:func:`layers.reporting.definitions.due_date`), by the one rule
:func:`campaign.submissions.timeliness` that /dispatch and the inbox use too: a resubmission corrects the
document (its revision, time and sender are shown) but does not make an on-time report late.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from sqlalchemy import Engine

from campaign.submissions import timeliness
from geo import store
from layers.reporting.definitions import ReportDefinition, data_date, due_date, not_yet_due, ready_on, reports_in_force

__all__ = ["STATUS_COLUMNS", "StateStyle", "load_states", "period_for", "submission_status"]

STATES_FILE = Path(__file__).with_name("status.yaml")
STATUS_COLUMNS = ("adcode", "district", "kind", "period", "data_date", "due", "state", "days", "first_submitted_at",
                  "revision", "submitted_at", "submitted_by", "submission_id")


@dataclass(frozen=True)
class StateStyle:
    """How one state reads and looks."""

    zh: str
    en: str
    colour: str
    text: str

    def label(self, lang: str = "zh") -> str:
        """Return the state's name in ``lang``."""
        return self.en if lang == "en" else self.zh


@cache
def load_states(path: Path = STATES_FILE) -> dict[str, StateStyle]:
    """Return the submission states (``on_time``, ``late``, ``not_due``, ``pending``, ``overdue``) of status.yaml."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {code: StateStyle(zh=str(v["zh"]), en=str(v["en"]), colour=str(v["colour"]), text=str(v["text"]))
            for code, v in doc["states"].items()}


def period_for(definition: ReportDefinition, month: str) -> str:
    """Return the period of ``definition`` a month (``YYYY-MM``) falls in: the month, or its year."""
    return month[:4] if definition.period == "year" else month


def _first_and_latest(frame: pd.DataFrame) -> dict[str, tuple[dt.datetime, dict[str, Any]]]:
    """By district: when its first revision arrived, and its latest revision."""
    if not len(frame):
        return {}
    frame = frame.sort_values(["submitted_at", "revision"])
    first = frame.groupby("adcode")["submitted_at"].first()
    latest = frame.groupby("adcode").tail(1)
    return {str(r["adcode"]): (pd.Timestamp(first[r["adcode"]]).to_pydatetime(), {str(k): v for k, v in r.items()})
            for r in latest.to_dict("records")}


def submission_status(engine: Engine, month: str, *, today: dt.date) -> pd.DataFrame:
    """Return one row per district the session sees and district-issued report: its state for the period.

    Parameters
    ----------
    engine : Engine
        The store under the caller's scope (a district session sees its own district's row only).
    month : str
        ``YYYY-MM``; yearly reports are judged for its year.
    today : date
        The day the states are judged on.

    Returns
    -------
    DataFrame
        Columns :data:`STATUS_COLUMNS`. ``state`` is ``on_time``, ``late`` (``days`` after the due date),
        ``not_due`` (its data date has not passed: it can be made in ``days``,
        :func:`layers.reporting.definitions.not_yet_due`), ``pending`` (due in ``days``) or ``overdue``
        (``days`` past the due date), judged on
        ``first_submitted_at``; ``revision``, ``submitted_at`` and ``submitted_by`` are the latest
        revision's; ``data_date`` is the day the period's figures are as of (数据截至).
    """
    reports = {c: d for c, d in reports_in_force(engine).items() if d.issuer == "district"}
    with engine.connect() as conn:
        names = store.district_codes(conn)
        scope = store.current_scope()
        if scope is not None and not scope.all_districts:
            names = {k: v for k, v in names.items() if k == scope.adcode}
        rows = []
        for code, definition in reports.items():
            period = period_for(definition, month)
            due, as_of = due_date(definition, period), data_date(definition, period)
            early = not_yet_due(definition, period, today)
            if code == "dispatch":
                sent = store.list_submissions(conn, "dispatch", period=period).assign(submission_id=None)
            else:
                sent = store.list_report_submissions(conn, kind=code, period=period).rename(
                    columns={"id": "submission_id"})
            sent_by = _first_and_latest(sent)
            for adcode, name in sorted(names.items()):
                first, row = sent_by.get(adcode, (None, None))
                state, days = timeliness(first, due, today)
                if first is None and early:
                    state, days = "not_due", (ready_on(definition, period) - today).days
                extra: tuple[Any, ...] = (None, None, None, None)
                if row is not None:
                    sid = row["submission_id"]
                    extra = (int(row["revision"]), pd.Timestamp(row["submitted_at"]).to_pydatetime(),
                             str(row["submitted_by"]), None if sid is None or pd.isna(sid) else int(sid))
                rows.append((adcode, name, code, period, as_of, due, state, days, first, *extra))
    return pd.DataFrame(rows, columns=list(STATUS_COLUMNS))
