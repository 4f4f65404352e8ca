"""No report for a data date still to come: one rule (``check_ready``) for the service, the CLI, the page, the matrix.

A report's figures are as of the END of its data date (数据截至), so until that day is over they would be
today's figures labelled with a later date. On a fixed "today" (the date issued, the day sent, the day the
matrix is judged on) generating and submitting such a period is refused with the date named, nothing is
written or audited, and the status matrix shows 未到期; the period whose data date has passed works. The
command line and the reports page (its buttons disabled with the reason) read the clock, so their tests
choose periods relative to it: next year's summary and this month's bulletin are never ready.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from dashboard.pages import reports as page
from geo import embedded, store
from geo.constants import LOCAL_ZONE
from layers.reporting.definitions import (
    check_ready,
    data_date,
    latest_ready,
    load_reports,
    not_yet_due,
    period_of,
    ready_on,
)
from layers.reporting.service import Refusal, generate_report, submit_report
from layers.reporting.status import load_states, submission_status
from layers.snapshots import CITY, month_ends
from tests.clients import DemoApp, callback_body, demo_app_fixture, post_callback
from tests.test_cli_as_user import _audit, _run

pytestmark = pytest.mark.postgis
ANNING = "530181"
YEAR = 2027  # a simulated year after the demo was loaded (the demo's history starts the day it was made)
TODAY = dt.date(YEAR, 12, 6)  # the fixed "today": the 2027 summary (as of 2027-11-30) is ready, 2028's is not
YEARLY = ("four_lists", "stage_report", "summary")
#: The first day each yearly report of a year can be made, written from workflows.md §3 (Kunming 2023: the
#: 4张清单 by 6-20, the stage report by 8-15, the summary by 12-15), each as of the month end before it is
#: due: the 1st of the month it is due in. Independent of layers/reporting (a check on it).
FIRST_DAY = {"four_lists": (6, 1), "stage_report": (8, 1), "summary": (12, 1)}


def ready_year(code: str, today: dt.date | None = None) -> str:
    """The newest year whose report ``code`` can be made on ``today`` (default: the clock's): ``latest_ready``."""
    return latest_ready(load_reports()[code], today or dt.date.today())


def test_the_default_period_is_the_newest_that_can_be_made() -> None:
    reports = load_reports()
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(0, 731, 3)]
    for code, definition in reports.items():
        for day in days:
            period = latest_ready(definition, day)
            assert ready_on(definition, period) <= day, (code, day, period)  # it can be made
            if period != period_of(definition, day):  # stepped back only when the usual one cannot be made yet
                assert day < ready_on(definition, period_of(definition, day)), (code, day)
    assert set(FIRST_DAY) == set(YEARLY) == {c for c, d in reports.items() if d.period == "year"}
    for code, (month, day) in FIRST_DAY.items():
        first = dt.date(2027, month, day)
        assert [latest_ready(reports[code], d) for d in (first - dt.timedelta(days=1), first)] == ["2026", "2027"]
        assert [ready_year(code, d) for d in (first - dt.timedelta(days=1), first)] == ["2026", "2027"]
        assert latest_ready(reports[code], dt.date(2027, 12, 31)) == "2027" == ready_year(code, dt.date(2027, 12, 31))
        assert latest_ready(reports[code], dt.date(2027, 1, 1)) == "2026" == ready_year(code, dt.date(2027, 1, 1))


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LOCAL_ZONE)


def _officer() -> dict[str, Any]:
    return {"username": "anning", "role": "district_officer", "adcode": ANNING}


def test_the_rule_names_the_data_date_and_the_first_day() -> None:
    reports = load_reports()
    summary, bulletin = reports["summary"], reports["bulletin"]
    check_ready(summary, "2026", dt.date(2026, 12, 6))  # as of 2026-11-30: ready
    with pytest.raises(ValueError, match="2027-11-30") as refused:
        check_ready(summary, "2027", dt.date(2026, 12, 6))
    message = str(refused.value)
    assert "尚未到期" in message and "2027-12-01" in message and "not yet due" in message
    with pytest.raises(ValueError, match="2026-12-31"):
        check_ready(bulletin, "2026-12", dt.date(2026, 12, 31))  # the data date itself has not passed
    check_ready(bulletin, "2026-12", dt.date(2027, 1, 1))
    for code, definition in reports.items():
        period = "2027" if definition.period == "year" else "2027-03"
        first = ready_on(definition, period)
        assert first == data_date(definition, period) + dt.timedelta(days=1)
        check_ready(definition, period, first)
        with pytest.raises(ValueError, match=str(data_date(definition, period))):
            check_ready(definition, period, first - dt.timedelta(days=1))
        # the 调度表 is due before its month ends (sent with its figures as they stand): never "not yet due"
        assert not_yet_due(definition, period, first - dt.timedelta(days=1)) == (code != "dispatch"), code
        assert not not_yet_due(definition, period, first)
    style = load_states()["not_due"]
    assert (style.zh, style.en) == ("未到期", "Not yet due")
    assert page._cell_text({"state": "not_due", "days": 12}, "zh") == "未到期（12天后可生成）"
    assert page._cell_text({"state": "not_due", "days": 12}, "en") == "Not yet due (can be made in 12 days)"


@pytest.fixture(scope="module")
def year_db(pg_cluster: embedded.Cluster, demo_db: str) -> Iterator[Engine]:
    """A private copy of the demo (reports generated and submitted here are audited and stored)."""
    from sqlalchemy.engine import make_url

    from tests.conftest import _fresh

    name, owner = _fresh(pg_cluster, make_url(demo_db).database)
    try:
        yield owner
    finally:
        owner.dispose()
        embedded.drop_database(pg_cluster, name)


def _audited(engine: Engine, action: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_log WHERE action = :a"), {"a": action}).scalar_one())


def test_generate_submit_and_the_matrix_on_a_fixed_today(year_db: Engine) -> None:
    reports = load_reports()
    # before anyone could send the year's 4张清单 (as of 05-31), the matrix says 未到期, not 未报送
    judged = dt.date(YEAR, 5, 20)
    table = submission_status(year_db, f"{YEAR}-05", today=judged)
    assert len(table) == 14 * len([d for d in reports.values() if d.issuer == "district"])
    for code in YEARLY:
        rows = table[table["kind"] == code]
        assert set(rows["state"]) == {"not_due"}, code
        assert set(rows["days"]) == {(ready_on(reports[code], str(YEAR)) - judged).days}
    assert set(table[table["kind"] == "dispatch"]["state"]) == {"pending"}  # due on the 30th, figures as sent

    before = _audited(year_db, "report")
    for scope, user in ((CITY, None), (ANNING, _officer())):
        with pytest.raises(ValueError, match=f"{YEAR + 1}-11-30") as refused:
            generate_report(year_db, "summary", scope=scope, period=str(YEAR + 1), formats=["docx"], user=user,
                            actor="scheduler", via="test", issued_on=TODAY)
        assert "尚未到期" in str(refused.value) and f"today is {TODAY}" in str(refused.value)
    with pytest.raises(ValueError, match=f"{YEAR}-12-31"):
        generate_report(year_db, "bulletin", scope=CITY, period=f"{YEAR}-12", formats=["pdf"], user=None,
                        actor="scheduler", via="test", issued_on=TODAY)
    assert _audited(year_db, "report") == before  # nothing built, nothing audited
    made = generate_report(year_db, "summary", scope=ANNING, period=str(YEAR), formats=["docx"], user=_officer(),
                           actor="x", via="test", issued_on=TODAY)
    assert made.report.period_end == dt.date(YEAR, 11, 30) and made.files["docx"].startswith(b"PK")
    assert _audited(year_db, "report") == before + 1

    sent = _audited(year_db, "report_submit")

    def submit(period: str, day: dt.datetime, kind: str = "summary") -> int:
        return submit_report(year_db, kind, adcode=ANNING, period=period, filename=f"{kind}.docx",
                             content=made.files["docx"], figures=made.report.figures, user=_officer(), actor="x",
                             via="test", at=day)

    with pytest.raises(Refusal, match=f"{YEAR + 1}-11-30") as early:
        submit(str(YEAR + 1), _at(TODAY))
    assert "尚未到期" in early.value.zh and f"{YEAR + 1}-11-30" in early.value.en
    with pytest.raises(Refusal, match=f"{YEAR}-05-31"):  # sent on its data date: the day is not over
        submit(str(YEAR), _at(dt.date(YEAR, 5, 31), 23), kind="four_lists")
    assert _audited(year_db, "report_submit") == sent
    assert store.list_report_submissions(year_db).empty
    assert submit(str(YEAR), _at(dt.date(YEAR, 6, 1), 8), kind="four_lists") == 1
    assert submit(str(YEAR), _at(TODAY)) == 1
    assert _audited(year_db, "report_submit") == sent + 2

    later = submission_status(year_db, f"{YEAR}-06", today=dt.date(YEAR, 6, 2))
    four = later[later["kind"] == "four_lists"].set_index("adcode")
    assert four.loc[ANNING, "state"] == "on_time"
    assert set(four.drop(index=ANNING)["state"]) == {"pending"}
    assert set(later[later["kind"] == "summary"].set_index("adcode").drop(index=ANNING)["state"]) == {"not_due"}


def test_the_command_line_refuses_next_years_summary_naming_its_data_date(demo_copy: dict[str, str],
                                                                          tmp_path: Path) -> None:
    today = dt.date.today()
    reports = load_reports()
    ahead = str(today.year + 1)
    as_of = data_date(reports["summary"], ahead)
    made = _run(demo_copy, "leader", "report", "generate", "summary", "--city", "--period", ahead,
                "--out", str(tmp_path / "ahead"))
    assert made.exit_code == 1 and f"数据截至 {as_of}" in made.output and "尚未到期" in made.output
    assert not (tmp_path / "ahead").exists() and _audit(demo_copy, "report") == []
    fake = tmp_path / "summary.pdf"
    fake.write_bytes(b"%PDF-1.4 a report")
    sent = _run(demo_copy, "anning", "report", "submit", "summary", str(fake), "--district", ANNING,
                "--period", ahead)
    assert sent.exit_code == 1 and str(as_of) in sent.output and "not yet due" in sent.output
    assert _audit(demo_copy, "report_submit") == []
    status = _run(demo_copy, "leader", "report", "status", "--period", f"{ahead}-06")
    lines = [line for line in status.output.splitlines() if "four_lists" in line]
    assert len(lines) == 14 and all("未到期 / Not yet due" in line for line in lines)
    listed = _run(demo_copy, "viewer", "report", "list")
    for code, definition in reports.items():
        line = next(x for x in listed.output.splitlines() if x.startswith(code))
        period = period_of(definition, today)
        assert ("未到期" in line) == (today < ready_on(definition, period)), line


leader = demo_app_fixture(secret="future-secret", user="leader")


def _ready(app: DemoApp, code: str, period: str, lang: str = "zh") -> dict[str, Any]:
    key = next(k for k in app.app.callback_map if k.startswith("..rp-generate.disabled"))
    values = {"rp-report.value": code, "rp-period.value": period, "lang-switch.value": lang}
    resp = post_callback(app.client, callback_body(app.app, key, values, "rp-period.value"))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return dict(json.loads(resp.get_data(as_text=True))["response"])


def test_the_page_disables_generate_with_the_reason(leader: DemoApp) -> None:
    bulletin = load_reports()["bulletin"]
    month = f"{dt.date.today():%Y-%m}"  # this month's bulletin is as of its last day: never ready today
    last = f"{month_ends(dt.date.today(), 1)[0]:%Y-%m}"
    out = _ready(leader, "bulletin", month)
    reason = out["rp-ready"]["children"]
    assert out["rp-generate"] == {"disabled": True, "title": reason}
    assert f"数据截至 {data_date(bulletin, month)}" in reason and "尚未到期" in reason and "/" not in reason
    english = _ready(leader, "bulletin", month, "en")["rp-ready"]["children"]
    assert "not yet due" in english and str(ready_on(bulletin, month)) in english
    assert _ready(leader, "bulletin", last)["rp-generate"] == {"disabled": False, "title": ""}
    key = next(k for k, cb in leader.app.callback_map.items() if "callback" in cb and "rp-download.data" in k)
    forced = post_callback(leader.client, callback_body(leader.app, key, {
        "rp-generate.n_clicks": 1, "rp-report.value": "bulletin", "rp-scope.value": CITY, "rp-period.value": month,
        "rp-format.value": "docx", "lang-switch.value": "zh"}, "rp-generate.n_clicks"))
    answer = json.loads(forced.get_data(as_text=True))["response"]
    assert "rp-download" not in answer and "尚未到期" in json.dumps(answer, ensure_ascii=False)


@pytest.mark.browser
def test_browser_the_generate_button_is_disabled_for_this_months_bulletin(
        pg_cluster: embedded.Cluster, demo_db: str, tmp_path: Path, driver: Any, artifacts: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import choose_option, console_errors, served_signed_in_copy, sign_in, text_at

    month = f"{dt.date.today():%Y-%m}"
    last = f"{month_ends(dt.date.today(), 1)[0]:%Y-%m}"
    with served_signed_in_copy(pg_cluster, demo_db, tmp_path / "home") as (base, _owner):
        sign_in(driver, base, "leader", page.PATH)
        wait = WebDriverWait(driver, 90)
        wait.until(ec.presence_of_element_located((By.ID, page.RP_DEFINITIONS)))
        wait.until(lambda d: last in (text_at(d, f"#{page.RP_PERIOD}") or ""))
        button = driver.find_element(By.ID, page.RP_GENERATE)
        wait.until(lambda _: button.is_enabled())
        choose_option(driver, page.RP_PERIOD, month)
        wait.until(lambda d: not d.find_element(By.ID, page.RP_GENERATE).is_enabled())
        reason = text_at(driver, f"#{page.RP_READY}") or ""
        as_of = data_date(load_reports()["bulletin"], month)
        assert f"数据截至 {as_of}" in reason and "尚未到期" in reason
        assert driver.find_element(By.ID, page.RP_GENERATE).get_attribute("title") == reason
        driver.save_screenshot(str(artifacts / "reports_not_yet_due.png"))
        choose_option(driver, page.RP_PERIOD, last)
        wait.until(lambda d: d.find_element(By.ID, page.RP_GENERATE).is_enabled())
        assert (text_at(driver, f"#{page.RP_READY}") or "").strip() == ""
        assert console_errors(driver) == []
