"""Periods of the periodic reports: the data date of yearly reports, one lateness rule, one due day of the 调度表.

- A yearly report due mid-year (4张清单 6-20, stage report 8-15, summary 12-15) is as of the last month end
  before its due date (``as_of: month_end_before_due`` in definitions.yaml): generated and submitted in June,
  August and December of a simulated year, its DOCX states that date and carries the measures as they stood
  then, not a later edit.
- On time or late is judged on the first submission, on /dispatch and in the reports' status matrix alike.
- The administrator's due day of the 调度表 (report ``dispatch``) reaches /dispatch, the inbox and the matrix.
- ``riskmap report generate`` and ``report status`` print the data date; ``--period`` is checked against the
  report's period kind.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from docx import Document
from sqlalchemy import Engine, create_engine, text

from campaign.inbox import report_items
from campaign.service import Actor
from campaign.submissions import dispatch_due_day, submission_states, timeliness
from geo import embedded, store
from geo.constants import LOCAL_ZONE
from layers.measures import measure_label
from layers.reporting.definition_admin import set_definition
from layers.reporting.definitions import data_date, due_date, load_reports, reports_in_force
from layers.reporting.service import generate_report, report_figures, submit_report
from layers.reporting.status import submission_status
from layers.snapshots import CITY, period_figures
from tests.clients import DemoApp, callback_body, demo_app_fixture, post_callback
from tests.test_cli_as_user import _run

pytestmark = pytest.mark.postgis
ANNING, XISHAN = "530181", "530112"
YEAR = 2027  # a simulated year after the demo was loaded (its history starts the day it was generated)
YEARLY = ("four_lists", "stage_report", "summary")
#: One Anning enterprise raised to a major risk source on each day: one before each data date, one between
#: the data date and the due date (which the report must not count).
EDITS = (dt.date(YEAR, 5, 20), dt.date(YEAR, 6, 10), dt.date(YEAR, 7, 20), dt.date(YEAR, 8, 5),
         dt.date(YEAR, 11, 20), dt.date(YEAR, 12, 5))
#: When each yearly report is generated and submitted (before its due date).
SENT_ON = {"four_lists": dt.date(YEAR, 6, 15), "stage_report": dt.date(YEAR, 8, 12),
           "summary": dt.date(YEAR, 12, 10)}
ADMIN: dict[str, Any] = {"username": "admin", "role": "admin", "adcode": None}


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LOCAL_ZONE)


def _officer(adcode: str = ANNING) -> dict[str, Any]:
    return {"username": "anning", "role": "district_officer", "adcode": adcode}


@pytest.fixture(scope="module")
def year_db(pg_cluster: embedded.Cluster, demo_db: str) -> Iterator[Engine]:
    """A copy of the demo where one Anning enterprise becomes a major risk source on each day of :data:`EDITS`."""
    from sqlalchemy.engine import make_url

    from tests.conftest import _fresh

    name, owner = _fresh(pg_cluster, make_url(demo_db).database)
    url = pg_cluster.url(name)
    try:
        for day in EDITS:
            # only an owner may date a change; every change of this engine is dated that day at noon
            dated = create_engine(url, connect_args={"options": f"-c riskmap.valid_from={_at(day, 12).isoformat()}"})
            with dated.begin() as conn:
                key = conn.execute(text("SELECT key FROM enterprises WHERE adcode = :a AND risk_level <> 'major' "
                                        "ORDER BY key LIMIT 1"), {"a": ANNING}).scalar_one()
                conn.execute(text("UPDATE enterprises SET risk_level = 'major' WHERE key = :k"), {"k": key})
            dated.dispose()
        yield owner
    finally:
        owner.dispose()
        embedded.drop_database(pg_cluster, name)


def _figure(frame: pd.DataFrame, scope: str, measure: str) -> int:
    value: Any = frame.loc[scope, measure]
    return int(value)


def _headline(doc: Any) -> dict[str, list[str]]:
    return {row.cells[0].text: [c.text for c in row.cells[1:]] for row in doc.tables[0].rows}


def test_yearly_reports_are_as_of_the_month_end_before_they_are_due(year_db: Engine) -> None:
    reports = load_reports()
    assert [data_date(reports[c], str(YEAR)) for c in YEARLY] == [
        dt.date(YEAR, 5, 31), dt.date(YEAR, 7, 31), dt.date(YEAR, 11, 30)]
    label = measure_label("major_risks")
    for code in YEARLY:
        definition = reports[code]
        as_of, due = data_date(definition, str(YEAR)), due_date(definition, str(YEAR))
        assert as_of < SENT_ON[code] <= due
        expected = period_figures(year_db, as_of)
        later = period_figures(year_db, due)  # an edit falls between the data date and the due date
        assert _figure(later, ANNING, "major_risks") == _figure(expected, ANNING, "major_risks") + 1
        for scope, user in ((ANNING, _officer()), (CITY, None)):
            made = generate_report(year_db, code, scope=scope, period=str(YEAR), formats=["docx"], user=user,
                                   actor="scheduler", via="test", issued_on=SENT_ON[code])
            assert made.report.period_end == as_of
            doc = Document(io.BytesIO(made.files["docx"]))
            body = "\n".join(p.text for p in doc.paragraphs)
            assert f"数据截至 {as_of}" in body and f"{YEAR}年" in made.report.title, (code, scope)
            assert f"（报送时限：{due.year}年{due.month}月{due.day}日）" in body
            headline = _headline(doc)
            assert headline["指标"][0] == f"截至{as_of}" and headline["指标"][1] == f"截至{YEAR - 1}-12-31"
            for measure in ("major_risks", "hazards_total", "open_findings"):
                assert headline[measure_label(measure)][0] == str(_figure(expected, scope, measure)), (code, measure)
            assert headline[label][0] != str(_figure(later, scope, "major_risks"))
            if scope == ANNING:
                figures = report_figures(year_db, code, adcode=ANNING, period=str(YEAR))
                assert figures["major_risks"] == made.report.figures["major_risks"] == _figure(
                    expected, ANNING, "major_risks")
                revision = submit_report(year_db, code, adcode=ANNING, period=str(YEAR), filename=f"{code}.docx",
                                         content=made.files["docx"], figures=made.report.figures, user=_officer(),
                                         actor="x", via="test", at=_at(SENT_ON[code]))
                assert revision == 1
    status = submission_status(year_db, f"{YEAR}-12", today=dt.date(YEAR, 12, 20))
    mine = status[(status["adcode"] == ANNING) & status["kind"].isin(YEARLY)].set_index("kind")
    for code in YEARLY:
        row = mine.loc[code]
        assert (row["state"], row["data_date"], row["due"]) == (
            "on_time", data_date(reports[code], str(YEAR)), due_date(reports[code], str(YEAR)))
        assert row["first_submitted_at"] == _at(SENT_ON[code])
    others = status[(status["adcode"] == XISHAN) & status["kind"].isin(YEARLY)].set_index("kind")
    assert others.loc["summary", "state"] == "overdue" and others.loc["summary", "days"] == 5


def test_one_rule_of_lateness_judged_on_the_first_arrival() -> None:
    due = dt.date(2026, 11, 30)
    assert timeliness(_at(dt.date(2026, 11, 30), 23), due, dt.date(2026, 12, 9)) == ("on_time", 0)
    assert timeliness(_at(dt.date(2026, 12, 3)), due, dt.date(2026, 12, 9)) == ("late", 3)
    assert timeliness(None, due, dt.date(2026, 11, 20)) == ("pending", 10)
    assert timeliness(None, due, dt.date(2026, 12, 9)) == ("overdue", 9)


def _dispatch_page_states(app: DemoApp, period: str) -> dict[str, str]:
    key = next(k for k in app.app.callback_map if k == "dp-status.children")
    resp = post_callback(app.client, callback_body(app.app, key, {"dp-period.value": period,
                                                                  "lang-switch.value": "zh"}, "dp-period.value"))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    data = json.loads(resp.get_data(as_text=True))["response"]["dp-status"]["children"]["props"]["data"]
    names = store.district_codes(app.owner)
    return {next(c for c, n in names.items() if n == r["district"]): r["state"] for r in data}


def _matrix_states(app: DemoApp, month: str) -> dict[str, str]:
    key = next(k for k in app.app.callback_map if "rp-matrix.children" in k)
    resp = post_callback(app.client, callback_body(app.app, key, {"rp-status-month.value": month,
                                                                  "lang-switch.value": "zh"},
                                                   "rp-status-month.value"))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    out: dict[str, str] = {}

    def walk(node: Any, adcode: str | None) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child, adcode)
        elif isinstance(node, dict):
            props = node.get("props", {})
            adcode = props.get("data-adcode", adcode)
            if node.get("type") == "Td" and props.get("data-kind") == "dispatch" and adcode:
                out[adcode] = props["data-state"]
            walk(props.get("children"), adcode)

    walk(json.loads(resp.get_data(as_text=True))["response"]["rp-matrix"]["children"], None)
    return out


leader = demo_app_fixture(secret="periods-secret", user="leader")


def test_sent_on_time_and_corrected_late_is_on_time_on_both_pages_and_the_due_day_is_one(leader: DemoApp) -> None:
    today = dt.datetime.now(LOCAL_ZONE).date()
    # a month a year ago: in both pages' lists, its due day long past, before the demo's own submissions
    month = (today.replace(day=1) - dt.timedelta(days=330)).replace(day=28) + dt.timedelta(days=4)
    month = month.replace(day=1) - dt.timedelta(days=1)
    period = f"{month:%Y-%m}"
    due = month.replace(day=min(30, month.day))
    assert store.list_submissions(leader.owner, "dispatch", period=period).empty
    with leader.owner.begin() as conn:
        for adcode, days, name in ((ANNING, -2, "anning"), (ANNING, 3, "anning"), (XISHAN, 1, "xishan")):
            store.insert_submission(conn, "dispatch", adcode=adcode, credit_code=None, period=period,
                                    submitted_by=name, figures={"spot_total": 0}, at=_at(due + dt.timedelta(days)))
    page, matrix = _dispatch_page_states(leader, period), _matrix_states(leader, period)
    states = submission_status(leader.owner, period, today=today)
    cell = states[(states["adcode"] == ANNING) & (states["kind"] == "dispatch")].iloc[0]
    # Anning sent two days early and corrected three days late: on time everywhere, the correction shown
    assert (cell["state"], cell["revision"], cell["first_submitted_at"]) == ("on_time", 2, _at(due - dt.timedelta(2)))
    assert page[ANNING] == "按时报送" and matrix[ANNING] == "on_time"
    assert page[XISHAN] == "逾期报送" and matrix[XISHAN] == "late"
    # the administrator moves the 调度表's due day: /dispatch, the inbox and the matrix follow the one value
    set_definition(leader.owner, "dispatch", "due_day", "20", reason="市安委办通知提前报送", user=ADMIN, actor="x")
    assert dispatch_due_day(leader.owner) == reports_in_force(leader.owner)["dispatch"].due_day == 20
    page, matrix = _dispatch_page_states(leader, period), _matrix_states(leader, period)
    assert page[ANNING] == "逾期报送" and matrix[ANNING] == "late"
    [state] = submission_states(leader.owner, "dispatch", period=period, owners=[ANNING], today=today)
    assert state.due == dt.date(month.year, month.month, 20) and state.days == (due - dt.timedelta(2)).day - 20
    this_month = store.list_submissions(leader.owner, "dispatch", period=f"{today:%Y-%m}")
    assert ANNING not in set(this_month["adcode"])  # so Anning's inbox asks for this month's table
    items = report_items(leader.owner, Actor("anning", "district_officer", ANNING), today, [])
    assert [i.due for i in items if i.bucket == "reports_missing"] == [dt.date(today.year, today.month, 20)]


def test_cli_prints_the_data_date_and_checks_the_period_form(demo_copy: dict[str, str], tmp_path: Path) -> None:
    year = str(dt.date.today().year)
    yearly = _run(demo_copy, "leader", "report", "generate", "summary", "--city", "--period", f"{year}-05",
                  "--out", str(tmp_path))
    assert yearly.exit_code == 2 and "是年报，期间应为 YYYY" in yearly.output and "summary is yearly" in yearly.output
    monthly = _run(demo_copy, "leader", "report", "generate", "bulletin", "--city", "--period", year,
                   "--out", str(tmp_path))
    assert monthly.exit_code == 2 and "是月报，期间应为 YYYY-MM" in monthly.output
    assert not list(tmp_path.iterdir())
    made = _run(demo_copy, None, "report", "generate", "four_lists", "--district", ANNING, "--period", year,
                "--out", str(tmp_path))
    assert made.exit_code == 0, made.output
    assert f"数据截至 / data as of {year}-05-31" in made.output and "写入 / wrote docx" in made.output
    assert made.stdout.strip() == str(tmp_path / f"four_lists-{ANNING}-{year}.docx")  # stdout: the paths only
    status = _run(demo_copy, "leader", "report", "status", "--period", f"{year}-06")
    assert status.exit_code == 0, status.output
    lines = [line for line in status.stdout.splitlines() if "four_lists" in line]
    assert len(lines) == 14 and all(f"数据截至 {year}-05-31" in line for line in lines)
    assert "lateness is judged on the first submission" in status.output
    listed = _run(demo_copy, "viewer", "report", "list")
    assert f"数据截至 / as of {year}-05-31" in next(line for line in listed.output.splitlines()
                                                   if line.startswith("four_lists"))
