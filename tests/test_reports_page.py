"""The reports page (/reports) on the server: the definitions with due dates, generating DOCX and PDF, scope, errors.

Signed in as the leader and as the 安宁 officer on a private copy of the demo (sign-in on, ``riskmap_app``);
the generated files are decoded from the callback's download and read back with python-docx.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import text

from dashboard.pages import reports
from geo import embedded, store
from layers.reporting.definitions import data_date, due_date, load_reports, period_of
from layers.reporting.status import load_states
from layers.snapshots import month_ends, take_snapshot
from tests.browser import column_texts, console_errors, served_signed_in_copy, sideways_overflow, sign_in, text_at
from tests.clients import DemoApp, callback_body, demo_app_fixture, log_in, post_callback, route_text
from tests.test_ranking_page import backdate_history
from tests.test_report_future import ready_year

pytestmark = pytest.mark.postgis
ANNING, DONGCHUAN = "530181", "530113"
LAST = month_ends(dt.date.today(), 1)[0]
PERIOD = f"{LAST:%Y-%m}"


leader = demo_app_fixture(secret="reports-secret", user="leader", prepare=backdate_history)


def _generate(client: Any, app: Any, code: str, scope: str, period: str, fmt: str = "docx",
              lang: str = "zh") -> dict[str, Any]:
    key = next(k for k, cb in app.callback_map.items() if "callback" in cb and "rp-download.data" in k)
    values = {"rp-generate.n_clicks": 1, "rp-report.value": code, "rp-scope.value": scope, "rp-period.value": period,
              "rp-format.value": fmt, "lang-switch.value": lang}
    resp = post_callback(client, callback_body(app, key, values, "rp-generate.n_clicks"))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return dict(json.loads(resp.get_data(as_text=True))["response"])


def _message(out: dict[str, Any]) -> str:
    return json.dumps(out["rp-message"]["children"], ensure_ascii=False)


def _file(out: dict[str, Any]) -> tuple[str, bytes]:
    data = out["rp-download"]["data"]
    return data["filename"], base64.b64decode(data["content"])


def _audited(app: DemoApp) -> list[tuple[str, str, str | None, str]]:
    with app.owner.connect() as conn:
        rows = conn.execute(text("SELECT actor, target, adcode, details->>'period' FROM audit_log "
                                 "WHERE action = 'report' ORDER BY id")).all()
    return [tuple(r) for r in rows]


def test_the_page_lists_every_report_with_the_due_date_of_its_current_period(leader: DemoApp) -> None:
    page = route_text(leader.client, "/reports")
    today = dt.date.today()
    for definition in load_reports().values():
        assert json.dumps(definition.zh, ensure_ascii=False)[1:-1] in page
        assert due_date(definition, period_of(definition, today)).isoformat() in page
    assert "市发区县" in page and "区县报市" in page and "Monthly" not in page
    key = next(k for k, cb in leader.app.callback_map.items() if "callback" in cb and "rp-period.options" in k)
    for code, definition in load_reports().items():
        resp = post_callback(leader.client, callback_body(leader.app, key, {"rp-report.value": code},
                                                          "rp-report.value"))
        chosen = json.loads(resp.get_data(as_text=True))["response"]["rp-period"]
        assert chosen["value"] == period_of(definition, today) and chosen["value"] in chosen["options"]
    assert reports.periods(load_reports()["bulletin"], dt.date(2026, 1, 5))[:2] == ["2026-01", "2025-12"]


def test_the_leader_generates_the_city_bulletin_as_docx_and_pdf(leader: DemoApp) -> None:
    out = _generate(leader.client, leader.app, "bulletin", "city", PERIOD)
    name, content = _file(out)
    assert name.endswith(".docx") and "月度安全风险形势通报" in name
    doc = Document(io.BytesIO(content))
    title = f"全市{LAST.year}年{LAST.month}月月度安全风险形势通报"
    assert any(p.text.replace(" ", "") == title for p in doc.paragraphs), [p.text for p in doc.paragraphs[:8]]
    names = set(store.district_codes(leader.owner).values())
    cells = {c.text for table in doc.tables for row in table.rows for c in row.cells}
    assert len(names & cells) == 14  # the ranking names every district
    assert "已生成" in _message(out)
    pdf = _generate(leader.client, leader.app, "bulletin", "city", PERIOD, "pdf")
    assert _file(pdf)[1].startswith(b"%PDF")
    assert _audited(leader)[-2:] == [("leader", "bulletin", None, PERIOD)] * 2


def test_an_officer_gets_the_own_district_only_and_a_clear_message_without_a_snapshot(leader: DemoApp) -> None:
    officer = leader.app.server.test_client()
    log_in(officer, "anning")
    page = route_text(officer, "/reports")
    assert "安宁市" in page and "东川区" not in page and "全市" in page  # 全市 only as text, not a scope
    before = len(_audited(leader))
    other = _generate(officer, leader.app, "bulletin", DONGCHUAN, PERIOD)
    assert "rp-download" not in other and "当前账号无此权限" in _message(other)
    if store.read_snapshots(leader.owner, since=LAST, until=LAST).empty:
        early = _generate(officer, leader.app, "bulletin", ANNING, PERIOD)
        assert "rp-download" not in early and "全市尚未保存" in _message(early) and "city has stored" not in \
            _message(early)
        take_snapshot(leader.owner, LAST, taken_by="leader")
    own = _generate(officer, leader.app, "bulletin", ANNING, PERIOD)
    doc = Document(io.BytesIO(_file(own)[1]))
    assert any(p.text.startswith("安宁市") and "月度安全风险形势通报" in p.text for p in doc.paragraphs)
    assert _audited(leader)[before:] == [("anning", "bulletin", ANNING, PERIOD)]
    bad = _generate(officer, leader.app, "bulletin", ANNING, "2026-13")
    assert "rp-download" not in bad and "请选择报告" in _message(bad)
    en = _generate(officer, leader.app, "summary", ANNING, str(LAST.year - 30), lang="en")
    assert "Choose a report" in _message(en)


@pytest.mark.browser
def test_browser_leader_generates_the_city_bulletin_and_reads_the_downloaded_docx(
        pg_cluster: embedded.Cluster, demo_db: str, tmp_path: Path, driver: Any, artifacts: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with served_signed_in_copy(pg_cluster, demo_db, tmp_path / "home") as (base, owner):
        backdate_history(owner)
        sign_in(driver, base, "leader", reports.PATH)
        wait = WebDriverWait(driver, 120)
        wait.until(ec.presence_of_element_located((By.ID, reports.RP_DEFINITIONS)))
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        assert len(column_texts(driver, reports.RP_DEFINITIONS, "name")) == len(load_reports())
        bulletin = load_reports()["bulletin"]
        row = column_texts(driver, reports.RP_DEFINITIONS, "name").index(bulletin.zh)
        assert column_texts(driver, reports.RP_DEFINITIONS, "due")[row] == due_date(bulletin, PERIOD).isoformat()
        # the form starts on the city's bulletin of last month
        wait.until(lambda d: PERIOD in (text_at(d, f"#{reports.RP_PERIOD}") or ""))
        assert bulletin.zh in (text_at(driver, f"#{reports.RP_REPORT}") or "")
        assert "全市" in (text_at(driver, f"#{reports.RP_SCOPE}") or "")
        driver.find_element(By.ID, reports.RP_GENERATE).click()
        wait.until(ec.presence_of_element_located((By.ID, "rp-done")))
        done = wait.until(lambda _: list(downloads.glob("*.docx")) or None)
        doc = Document(str(done[0]))
        assert any(p.text == f"全市{LAST.year}年{LAST.month}月月度安全风险形势通报" for p in doc.paragraphs)
        cells = {c.text for table in doc.tables for r in table.rows for c in r.cells}
        assert len(set(store.district_codes(owner).values()) & cells) == 14
        assert "English" not in (text_at(driver, "#reports-page") or "")
        driver.save_screenshot(str(artifacts / "reports.png"))
        driver.set_window_size(390, 844)
        wait.until(lambda d: sideways_overflow(d) == 0)
        assert console_errors(driver) == []


def _post(client: Any, app: Any, output: str, values: dict[str, Any], trigger: str) -> Any:
    key = next(k for k, cb in app.callback_map.items() if "callback" in cb and output in k)
    return post_callback(client, callback_body(app, key, values, trigger))


def _response(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return dict(json.loads(resp.get_data(as_text=True))["response"])


def _year_end_snapshot(owner: Any) -> str:
    """The city's figures at the data date of the newest 4张清单 that can be made (a district builds its yearly
    report from them): this year's once its data date has passed, else last year's."""
    year = ready_year("four_lists")
    day = data_date(load_reports()["four_lists"], year)  # the month end before it is due, not 31 December
    if store.read_snapshots(owner, since=day, until=day).empty:
        take_snapshot(owner, day, kind="on_demand", taken_by="leader")
    return year


def test_officer_submits_the_city_sees_the_matrix_and_downloads_what_was_sent(leader: DemoApp) -> None:
    year = _year_end_snapshot(leader.owner)
    month = f"{year}-06"  # the matrix of the month its 4张清单 is due in
    officer = leader.app.server.test_client()
    log_in(officer, "anning")
    assert "报送" in route_text(officer, "/reports")
    submit = {"rp-submit.n_clicks": 1, "rp-report.value": "four_lists", "rp-scope.value": ANNING,
              "rp-period.value": year, "rp-format.value": "docx", "rp-note.value": "按时报送",
              "lang-switch.value": "zh"}
    done = _response(_post(officer, leader.app, "rp-submitted.children", submit, "rp-submit.n_clicks"))
    assert "已报送" in json.dumps(done["rp-submitted"], ensure_ascii=False) and done["rp-refresh"]["data"] == 1
    other = _response(_post(officer, leader.app, "rp-submitted.children", {**submit, "rp-scope.value": DONGCHUAN},
                            "rp-submit.n_clicks"))
    assert "当前账号无此权限" in json.dumps(other, ensure_ascii=False)
    leader_try = _response(_post(leader.client, leader.app, "rp-submitted.children", submit, "rp-submit.n_clicks"))
    assert "当前账号无此权限" in json.dumps(leader_try, ensure_ascii=False)
    sent = store.list_report_submissions(leader.owner, kind="four_lists")
    assert list(sent["adcode"]) == [ANNING] and list(sent["note"]) == ["按时报送"]
    assert sent["figures"].iloc[0]["major_risks"] is not None  # the figures the report was built from
    status = {"rp-status-month.value": month, "rp-refresh.data": 1, "lang-switch.value": "zh"}
    city = _response(_post(leader.client, leader.app, "rp-matrix.children", status, "rp-status-month.value"))
    matrix = json.dumps(city["rp-matrix"], ensure_ascii=False)
    assert matrix.count('"data-adcode"') == 14
    due = due_date(load_reports()["four_lists"], year)
    state = "on_time" if dt.date.today() <= due else "late"
    assert f'"data-state": "{state}"' in matrix and load_states()[state].colour in matrix
    assert load_states()[state].zh in matrix
    options = city["rp-sent"]["options"]
    assert len(options) == 1 and "安宁市" in options[0]["label"]
    got = _response(_post(leader.client, leader.app, "rp-sent-download.data",
                          {"rp-sent-get.n_clicks": 1, "rp-sent.value": options[0]["value"]}, "rp-sent-get.n_clicks"))
    content = base64.b64decode(got["rp-sent-download"]["data"]["content"])
    assert content == store.read_report_submission(leader.owner, options[0]["value"])["content"]  # type: ignore[index]
    assert any(p.text.startswith("安宁市") for p in Document(io.BytesIO(content)).paragraphs)
    own = _response(_post(officer, leader.app, "rp-matrix.children", status, "rp-status-month.value"))
    assert json.dumps(own["rp-matrix"], ensure_ascii=False).count('"data-adcode"') == 1
    with leader.owner.connect() as conn:
        entries = conn.execute(text("SELECT actor, action FROM audit_log WHERE action IN ('report_submit') "
                                    "ORDER BY id")).all()
    assert [tuple(e) for e in entries] == [("anning", "report_submit")]


def test_the_administrator_changes_a_due_day_on_the_page_and_resets_it(leader: DemoApp) -> None:
    admin = leader.app.server.test_client()
    log_in(admin, "admin")
    assert "修改报告定义" in route_text(admin, "/reports")
    assert "修改报告定义" not in route_text(leader.client, "/reports")
    values = {"rp-def-save.n_clicks": 1, "rp-def-report.value": "four_lists", "rp-def-field.value": "due_day",
              "rp-def-value.value": "31", "rp-def-reason.value": "六月三十一日", "lang-switch.value": "zh"}
    bad = _response(_post(admin, leader.app, "rp-def-message.children", values, "rp-def-save.n_clicks"))
    assert "due_day" in json.dumps(bad, ensure_ascii=False) and "6 月没有 31 日" in json.dumps(bad, ensure_ascii=False)
    assert store.read_definition_overrides(leader.owner, active_only=False) == []
    ok = _response(_post(admin, leader.app, "rp-def-message.children", {**values, "rp-def-value.value": "25"},
                         "rp-def-save.n_clicks"))
    year = dt.date.today().year
    four = next(r for r in ok["rp-definitions"]["data"] if r["code"] == "four_lists")
    assert four["due"] == f"{year}-06-25"
    denied = _response(_post(leader.client, leader.app, "rp-def-message.children", values, "rp-def-save.n_clicks"))
    assert "当前账号无此权限" in json.dumps(denied, ensure_ascii=False)
    reset = _response(_post(admin, leader.app, "rp-def-message.children", {**values, "rp-def-reset.n_clicks": 1},
                            "rp-def-reset.n_clicks"))
    four = next(r for r in reset["rp-definitions"]["data"] if r["code"] == "four_lists")
    assert four["due"] == f"{year}-06-20" and "默认" in json.dumps(reset["rp-def-message"], ensure_ascii=False)
    history = store.read_definition_overrides(leader.owner, active_only=False)
    assert [(r["value"], r["previous"], r["actor"], r["active"]) for r in history] == [(25, 20, "admin", False)]


@pytest.mark.browser
def test_browser_officer_submits_and_sees_the_own_row_turn(pg_cluster: embedded.Cluster, demo_db: str,
                                                            tmp_path: Path, driver: Any, artifacts: Path) -> None:
    from tests.browser import choose_option

    with served_signed_in_copy(pg_cluster, demo_db, tmp_path / "home") as (base, owner):
        year = _year_end_snapshot(owner)
        sign_in(driver, base, "anning", reports.PATH)
        wait = WebDriverWait(driver, 120)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{reports.RP_MATRIX} td[data-kind=four_lists]")))
        cell = f"#{reports.RP_MATRIX} td[data-kind=four_lists]"
        state = "const e = document.querySelector(arguments[0]); return e ? e.getAttribute('data-state') : null;"
        choose_option(driver, reports.RP_STATUS_MONTH, f"{year}-06")  # the month the year's 4张清单 is due in
        wait.until(lambda d: d.execute_script(state, cell) in ("pending", "overdue"))  # read in one go
        assert len(driver.find_elements(By.CSS_SELECTOR, f"#{reports.RP_MATRIX} tr[data-adcode]")) == 1
        choose_option(driver, reports.RP_REPORT, load_reports()["four_lists"].zh)
        wait.until(lambda d: f"{year}-" not in (text_at(d, f"#{reports.RP_PERIOD}") or ""))  # a year, not a month
        choose_option(driver, reports.RP_PERIOD, year)
        wait.until(lambda d: (text_at(d, f"#{reports.RP_PERIOD}", trim=True) or "").startswith(year)
                   and d.find_element(By.ID, reports.RP_SUBMIT).is_enabled())
        driver.find_element(By.ID, reports.RP_SUBMIT).click()
        WebDriverWait(driver, 300).until(lambda d: text_at(d, f"#{reports.RP_SUBMITTED}", trim=True))
        assert driver.find_elements(By.ID, "rp-submit-done"), text_at(driver, f"#{reports.RP_SUBMITTED}")
        wait.until(lambda d: d.execute_script(state, cell) in ("on_time", "late"))
        sent = store.list_report_submissions(owner)
        assert list(sent["adcode"]) == [ANNING] and list(sent["submitted_by"]) == ["anning"]
        driver.save_screenshot(str(artifacts / "reports-submitted.png"))
        assert console_errors(driver) == []
