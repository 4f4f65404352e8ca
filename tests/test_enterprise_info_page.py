"""The 企业信息 page (/enterprise-info): an enterprise files a change, its district approves it, the city reads grades.

The app runs with sign-in on, as ``riskmap_app``, on a private copy of the demo; callbacks are posted as the
browser posts them, signed in as ent-530181, the 安宁 officer and the leader. One browser test files a request
on a phone-sized window.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine, text

from dashboard.pages import enterprise_info as page
from geo import embedded
from tests.browser import console_errors, served_signed_in_copy, sideways_overflow, sign_in, ui_text
from tests.clients import DemoApp, callback_body, demo_app_fixture, log_in, post_callback, route_text

pytestmark = pytest.mark.postgis
ENTERPRISE, OFFICER = "ent-530181", "anning"
NEW_PHONE = "0871-68881234"


demo = demo_app_fixture(secret="enterprise-info-secret")


def _client(demo: DemoApp, user: str) -> Any:
    client = demo.app.server.test_client()
    log_in(client, user)
    return client


def _call(client: Any, app: Any, output: str, values: dict[str, Any], trigger: str, *, status: int = 200) -> Any:
    key = next(k for k, cb in app.callback_map.items() if "callback" in cb and output in k)
    resp = post_callback(client, callback_body(app, key, {"lang-switch.value": "zh", **values}, trigger))
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    return json.loads(resp.get_data(as_text=True))["response"] if status == 200 else None


def _refused(client: Any, app: Any, output: str, values: dict[str, Any], trigger: str) -> None:
    """A callback of another kind of account is refused by the server before it runs (403)."""
    _call(client, app, output, values, trigger, status=403)


def _credit_code(owner: Engine, user: str) -> str:
    with owner.connect() as conn:
        return str(conn.execute(text("SELECT credit_code FROM users WHERE username = :u"), {"u": user}).scalar_one())


def _enterprise(owner: Engine, code: str) -> dict[str, Any]:
    with owner.connect() as conn:
        return dict(conn.execute(text("SELECT name, address, principal, phone, industry FROM enterprises "
                                      "WHERE credit_code = :c"), {"c": code}).mappings().one())


def _form(values: dict[str, Any], reason: str) -> dict[str, Any]:
    return {**{f"ei-f-{k}.value": v for k, v in values.items()}, "ei-reason.value": reason, "ei-submit.n_clicks": 1}


def test_enterprise_files_a_request_the_officer_approves_it_and_the_record_changes(demo: DemoApp) -> None:
    code = _credit_code(demo.owner, ENTERPRISE)
    before = _enterprise(demo.owner, code)
    ent = _client(demo, ENTERPRISE)
    shown = route_text(ent, page.PATH)
    assert before["name"] in shown and "申请变更基础信息" in shown and "grades" not in shown

    short = _call(ent, demo.app, "ei-message.children", _form({**before, "phone": NEW_PHONE}, "变更"),
                  "ei-submit.n_clicks")
    assert "请说明变更原因" in json.dumps(short, ensure_ascii=False)
    same = _call(ent, demo.app, "ei-message.children", _form(before, "营业执照变更"), "ei-submit.n_clicks")
    assert "申请的内容与现有信息相同" in json.dumps(same, ensure_ascii=False)
    filed = _call(ent, demo.app, "ei-message.children", _form({**before, "phone": NEW_PHONE}, "联系电话变更"),
                  "ei-submit.n_clicks")
    mine = json.dumps(filed, ensure_ascii=False)
    assert "ei-filed" in mine and NEW_PHONE in mine and "待审批" in mine
    again = _call(ent, demo.app, "ei-message.children", _form({**before, "phone": "0871-1"}, "再次申请变更"),
                  "ei-submit.n_clicks")
    assert "已有待审批的变更申请" in json.dumps(again, ensure_ascii=False)
    assert _enterprise(demo.owner, code) == before  # nothing applied before the district decides
    with demo.owner.connect() as conn:
        change_id = int(conn.execute(text("SELECT id FROM enterprise_changes WHERE credit_code = :c AND "
                                          "state = 'pending'"), {"c": code}).scalar_one())

    officer = _client(demo, OFFICER)
    listed = route_text(officer, page.PATH)
    assert "待审批的变更申请" in listed and NEW_PHONE in listed and "联系电话变更" in listed
    # the enterprise cannot decide, the officer cannot file
    _refused(ent, demo.app, "ei-decide-message.children",
             {"ei-pick.value": change_id, "ei-approve.n_clicks": 1}, "ei-approve.n_clicks")
    _refused(officer, demo.app, "ei-message.children", _form({"phone": "1"}, "越权申请测试"), "ei-submit.n_clicks")
    # a rejection needs a reason
    bare = _call(officer, demo.app, "ei-decide-message.children",
                 {"ei-pick.value": change_id, "ei-reject.n_clicks": 1}, "ei-reject.n_clicks")
    assert "驳回须说明理由" in json.dumps(bare, ensure_ascii=False)
    done = _call(officer, demo.app, "ei-decide-message.children",
                 {"ei-pick.value": change_id, "ei-approve.n_clicks": 1, "ei-note.value": "核实无误"},
                 "ei-approve.n_clicks")
    text_out = json.dumps(done, ensure_ascii=False)
    assert "ei-done" in text_out and "已批准" in text_out
    assert done["ei-pick"]["options"] == []  # nothing left pending
    assert _enterprise(demo.owner, code) == {**before, "phone": NEW_PHONE}
    with demo.owner.connect() as conn:
        state, by = conn.execute(text("SELECT state, decided_by FROM enterprise_changes WHERE id = :i"),
                                 {"i": change_id}).one()
    assert (state, by) == ("approved", OFFICER)
    assert "核实无误" in route_text(ent, page.PATH)  # the enterprise reads the district's note


def test_the_leader_reads_every_enterprises_grade_worst_first_and_filters(demo: DemoApp) -> None:
    leader = _client(demo, "leader")
    with demo.owner.connect() as conn:
        total = int(conn.execute(text("SELECT count(*) FROM enterprises")).scalar_one())
    assert total == 61
    every = _call(leader, demo.app, "ei-grades.data", {}, "ei-grade.value")
    rows = every["ei-grades"]["data"]
    assert len(rows) == total and every["ei-count"]["children"] == f"共 {total} 家企业"
    order = "ABCD"
    ranks = [order.index(r["grade"]) for r in rows]
    assert ranks == sorted(ranks, reverse=True)  # worst first
    assert all(r["explanation"] and r["sector"] and r["district"] for r in rows)
    worst = rows[0]["grade"]
    only = _call(leader, demo.app, "ei-grades.data", {"ei-grade.value": [worst]}, "ei-grade.value")["ei-grades"]
    assert only["data"] and {r["grade"] for r in only["data"]} == {worst}
    assert len(only["data"]) == sum(r["grade"] == worst for r in rows) < total
    anning = _call(leader, demo.app, "ei-grades.data", {"ei-district.value": "530181"}, "ei-district.value")
    assert anning["ei-grades"]["data"] and {r["district"] for r in anning["ei-grades"]["data"]} == {"安宁市"}
    # an officer is not a city-wide role: no grades table
    officer = _client(demo, OFFICER)
    _refused(officer, demo.app, "ei-grades.data", {}, "ei-grade.value")


@pytest.mark.browser
def test_browser_enterprise_files_a_request_on_a_phone(pg_cluster: embedded.Cluster, demo_db: str, driver: Any,
                                                       artifacts: Path, tmp_path: Path) -> None:
    with served_signed_in_copy(pg_cluster, demo_db, tmp_path / "home") as (base, owner):
        driver.set_window_size(390, 844)
        sign_in(driver, base, ENTERPRISE, page.PATH)
        wait = WebDriverWait(driver, 30)
        wait.until(ec.presence_of_element_located((By.ID, "ei-facts")))
        phone = driver.find_element(By.ID, "ei-f-phone")
        phone.send_keys(Keys.CONTROL, "a")  # a Dash input keeps its value through clear(): select and type over
        phone.send_keys(NEW_PHONE)
        driver.find_element(By.ID, page.EI_REASON).send_keys("联系电话变更")
        button = driver.find_element(By.ID, page.EI_SUBMIT)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        wait.until(ec.presence_of_element_located((By.ID, "ei-filed")))
        wait.until(ec.text_to_be_present_in_element((By.ID, page.EI_MINE), NEW_PHONE))
        assert "待审批" in driver.find_element(By.ID, page.EI_MINE).text
        assert sideways_overflow(driver) == 0
        shown = ui_text(driver)
        assert "Request" not in shown and "Enterprise" not in shown
        driver.execute_script("arguments[0].scrollIntoView({block: 'end'});",
                              driver.find_element(By.ID, page.EI_MINE))
        driver.save_screenshot(str(artifacts / "enterprise-info.png"))
        assert not console_errors(driver)
        with owner.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM enterprise_changes WHERE state = 'pending' AND "
                                     "proposed->>'phone' = :p"), {"p": NEW_PHONE}).scalar_one() == 1
