"""The one service for period snapshots, reports and their submission: each action is audited here, once.

The command line (``riskmap snapshot``, ``riskmap report …``), the 晾晒 page and the reports page call these
functions and write no audit entry of their own. Permissions are checked here as well (the callers check
them first to give an early, friendly refusal); row-level security decides what the session's engine sees.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from geo import store
from geo.constants import LOCAL_ZONE
from geo.errors import AccessDenied
from identity.permissions import require
from layers.reporting.build import build_report, plain_figures
from layers.reporting.definitions import check_period, check_ready, data_date, reports_in_force
from layers.reporting.document import Report
from layers.reporting.docx_writer import write_docx
from layers.reporting.pdf_writer import write_pdf
from layers.reporting.sections import load_figures
from layers.snapshots import CITY, take_snapshot

__all__ = ["MEDIA_TYPES", "WRITERS", "GeneratedReport", "Refusal", "generate_report", "record_snapshot",
           "report_figures", "submit_report"]

#: Report file formats: their writers and media types.
WRITERS = {"docx": write_docx, "pdf": write_pdf}
MEDIA_TYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               "pdf": "application/pdf"}
#: The first bytes each format's file starts with.
_MAGIC = {"docx": b"PK\x03\x04", "pdf": b"%PDF"}


class Refusal(ValueError):
    """A request the service refuses, with a message in Chinese and English (``中文 / English``)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en

    @classmethod
    def of(cls, text: str) -> Refusal:
        """Return the refusal of a ``中文 / English`` message (the whole text in both when it has no halves)."""
        zh, _, en = text.partition(" / ")
        return cls(zh, en or zh)


@dataclass(frozen=True)
class GeneratedReport:
    """A report built once and written in each format asked for."""

    report: Report
    files: dict[str, bytes]


def _username(user: dict[str, Any] | None, actor: str) -> str:
    return str(user["username"]) if user is not None else actor


def record_snapshot(engine: Engine, day: dt.date, *, kind: str, user: dict[str, Any] | None, actor: str,
                    via: str) -> pd.DataFrame:
    """Take the snapshot of the figures at ``day`` and audit it (action ``snapshot``).

    Parameters
    ----------
    engine : Engine
        The store under the caller's scope (a snapshot needs the whole city).
    day : date
        The period end.
    kind : str
        ``month_end`` or ``on_demand``.
    user : dict or None
        The signed-in account (None: the host operator or a scheduler).
    actor : str
        Who the audit names when there is no account.
    via : str
        ``cli`` or ``dashboard``.

    Returns
    -------
    DataFrame
        The figures stored, one row per scope.

    Raises
    ------
    AccessDenied
        When the account may not take snapshots.
    ValueError
        A bad period end or kind.
    """
    require(user, "take_snapshot")
    who = _username(user, actor)
    figures = take_snapshot(engine, day, kind=kind, taken_by=who)
    with engine.begin() as conn:
        store.audit(conn, actor=who, action="snapshot", target=day.isoformat(),
                    details={"kind": kind, "scopes": len(figures), "via": via})
    return figures


def generate_report(engine: Engine, code: str, *, scope: str, period: str, formats: list[str],
                    user: dict[str, Any] | None, actor: str, via: str,
                    issued_on: dt.date | None = None) -> GeneratedReport:
    """Build report ``code`` for a district or the city, write it in ``formats`` and audit it (``report``).

    Parameters
    ----------
    engine : Engine
        The store under the caller's scope.
    code, scope, period : str
        Report code, district code or :data:`layers.snapshots.CITY`, period (``YYYY-MM`` or ``YYYY``).
    formats : list of str
        Keys of :data:`WRITERS`.
    user, actor, via
        As for :func:`record_snapshot`.
    issued_on : date, optional
        The date printed on the report (default: today). It is also the day judged on: a report cannot be
        made before its data date has passed (:func:`layers.reporting.definitions.check_ready`).

    Returns
    -------
    GeneratedReport

    Raises
    ------
    AccessDenied
        When the account may not generate reports.
    ValueError
        Unknown report or format, bad period, a period not yet due (its data date has not passed), no
        figures for the scope.
    """
    require(user, "generate_report")
    unknown = [f for f in formats if f not in WRITERS]
    if unknown or not formats:
        raise ValueError(f"unknown formats {unknown}; known: {', '.join(WRITERS)}")
    issued_on = issued_on or _local_today()
    reports = reports_in_force(engine)
    if code in reports:  # an unknown code is build_report's refusal
        check_ready(reports[code], period, issued_on)
    built = build_report(engine, code, scope=scope, period=period, issued_on=issued_on)
    files = {fmt: WRITERS[fmt](built) for fmt in formats}
    with engine.begin() as conn:
        store.audit(conn, actor=_username(user, actor), action="report", target=code,
                    adcode=None if scope == CITY else scope, details={"period": period, "formats": formats, "via": via})
    return GeneratedReport(built, files)


def _local_today() -> dt.date:
    return dt.datetime.now(LOCAL_ZONE).date()


def _check_submission(engine: Engine, code: str, *, adcode: str, period: str, user: dict[str, Any] | None,
                      filename: str, content: bytes, today: dt.date) -> str:
    """Refuse a submission that is not the district's own, of a district report, as a DOCX or PDF; return the format."""
    try:
        require(user, "submit_report")
    except AccessDenied as exc:
        raise Refusal.of(str(exc)) from None
    if user is not None and str(user.get("adcode")) != adcode:
        raise Refusal(f"账号 {user['username']} 只能报送本区县的报告，不能报送 {adcode}",
                      f"account {user['username']} may submit its own district's reports only, not {adcode}'s")
    reports = reports_in_force(engine)
    if code not in reports:
        raise Refusal(f"报告种类 {code!r} 不存在（可选：{', '.join(reports)}）",
                      f"unknown report kind {code!r}; known: {', '.join(reports)}")
    definition = reports[code]
    if definition.issuer != "district":
        raise Refusal(f"《{definition.zh}》由市级发出，区县不报送",
                      f"“{definition.en}” is issued by the city, not submitted")
    if code == "dispatch":
        raise Refusal("调度表经隐患排查页或 riskmap campaign 命令报送（随表保存当时数字）",
                      "the dispatch table is sent from the campaign pages or `riskmap campaign` (figures as sent)")
    try:
        check_period(definition, period)
        check_ready(definition, period, today)
    except ValueError as exc:
        raise Refusal.of(str(exc)) from None
    fmt = PurePath(filename).suffix.lower().lstrip(".")
    if fmt not in _MAGIC or not content.startswith(_MAGIC[fmt]):
        raise Refusal(f"文件 {filename} 不是 DOCX 或 PDF 报告", f"file {filename} is not a DOCX or PDF report")
    with engine.connect() as conn:
        if adcode not in store.district_codes(conn):
            raise Refusal(f"区县代码 {adcode} 不存在", f"no district {adcode}")
    return fmt


def report_figures(engine: Engine, code: str, *, adcode: str, period: str) -> dict[str, Any]:
    """Return the figures a district's report of ``period`` is built from (those of its data date).

    Raises
    ------
    Refusal
        Unknown report, bad period, or no figures of the district for that period.
    """
    reports = reports_in_force(engine)
    if code not in reports:
        raise Refusal(f"报告种类 {code!r} 不存在", f"unknown report kind {code!r}")
    try:
        figures, _ = load_figures(engine, data_date(reports[code], period))
    except ValueError as exc:
        raise Refusal.of(str(exc)) from None
    if adcode not in figures.index:
        raise Refusal(f"{period} 没有区县 {adcode} 的统计数字", f"no figures of district {adcode} for {period}")
    return plain_figures(figures.loc[adcode])


def submit_report(engine: Engine, code: str, *, adcode: str, period: str, filename: str, content: bytes,
                  figures: dict[str, Any], user: dict[str, Any] | None, actor: str, via: str,
                  note: str | None = None, at: dt.datetime | None = None) -> int:
    """Record a district's report of one period as sent to the city, and audit it (``report_submit``).

    Append-only: a resubmission is a new revision that corrects the document; on time or late is judged
    on when the first one arrived (:func:`campaign.submissions.timeliness`, shown by
    :mod:`layers.reporting.status`).

    Parameters
    ----------
    engine : Engine
        The store under the caller's scope.
    code, adcode, period : str
        Report kind (a district-issued one other than the 调度表), district, period.
    filename : str
        The document's name (``.docx`` or ``.pdf``).
    content : bytes
        The document.
    figures : dict
        The figures the report was built from (:attr:`Report.figures`).
    user, actor, via
        As for :func:`record_snapshot`.
    note : str, optional
        A remark kept with the submission.
    at : datetime, optional
        When (default now; tests simulate past days).

    Returns
    -------
    int
        The revision written.

    Raises
    ------
    Refusal
        Not allowed, another district's, unknown kind, city-issued or the 调度表, bad period, a period not yet
        due on the day it is sent (its data date has not passed), not a DOCX/PDF.
    """
    today = at.astimezone(LOCAL_ZONE).date() if at is not None else _local_today()
    fmt = _check_submission(engine, code, adcode=adcode, period=period, user=user, filename=filename,
                            content=content, today=today)
    who = _username(user, actor)
    sha = hashlib.sha256(content).hexdigest()
    with engine.begin() as conn:
        revision = store.insert_report_submission(
            conn, kind=code, adcode=adcode, period=period, submitted_by=who, filename=PurePath(filename).name,
            media_type=MEDIA_TYPES[fmt], sha256=sha, content=content, figures=figures, note=note or None, at=at)
        store.audit(conn, actor=who, action="report_submit", target=code, adcode=adcode,
                    details={"period": period, "revision": revision, "sha256": sha, "size": len(content),
                             "via": via})
    return revision
