"""催办 from the command line, the register page's callback and a real browser (the demo, real PostGIS).

A district officer selects hazards in the register and sends 催办 with a message: the enterprise of each
hazard's next step finds it in its inbox and in the hazard's history; another district's hazard and a struck-off
one are refused, each with its reason, and nothing is written for them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine, text

from campaign.attachments import Upload
from campaign.bulk import take_bulk_step
from campaign.service import Actor, report_hazard, take_step
from dashboard.pages import hazards as page
from geo import store
from geo.store import scoped
from tests.browser import choose_option, sign_in, text_at
from tests.campaign_helpers import JPEG
from tests.clients import app_engine_of, callback_body, demo_app, post_callback, session_scope
from tests.test_cli_as_user import _run

pytestmark = pytest.mark.postgis
ANNING, DONGCHUAN = "530181", "530113"
GENERAL = {"severity": "general", "description": "消防通道堵塞"}
MESSAGE = "请于本周内落实整改并上报进展"


def _as(env: dict[str, str], username: str, work: Any) -> Any:
    """Run ``work(owner, app_engine, actor)`` as demo account ``username``, in a session of its own.

    The session is opened here (``session_scope``), not taken from the per-database cache of
    ``tests.clients.session_for``: a test database's name may be reused by a later test's database.
    """
    owner = store.make_engine(env["RISKMAP_DATABASE_URL"])
    app = app_engine_of(owner)
    try:
        user = store.find_user(owner, username)
        assert user is not None
        with scoped(session_scope(owner, username)):
            return work(owner, app, Actor.of(user))
    finally:
        app.dispose()
        owner.dispose()


def _reported_generals(env: dict[str, str], n: int) -> list[int]:
    """Report ``n`` general hazards of 安宁's demo enterprise (批量测试隐患0, 1, …) as that enterprise."""

    def work(owner: Engine, app: Engine, actor: Actor) -> list[int]:
        with owner.connect() as conn:
            lon, lat = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM enterprises WHERE credit_code = :c"),
                                    {"c": actor.credit_code}).one()
        return [report_hazard(app, actor, {**GENERAL, "description": f"批量测试隐患{i}", "source": "self_check",
                                           "found_on": dt.date.today()},
                              adcode=ANNING, lon=lon, lat=lat, credit_code=actor.credit_code) for i in range(n)]

    return list(_as(env, "ent-530181", work))


def _as_officer(env: dict[str, str], work: Any) -> Any:
    """Run ``work(app_engine, actor)`` as 安宁's demo officer."""
    return _as(env, "anning", lambda _owner, app, actor: work(app, actor))


def _verified(env: dict[str, str], n: int) -> list[int]:
    """``n`` new general hazards of 安宁's demo enterprise, verified by the officer (the enterprise's turn next)."""
    ids = _reported_generals(env, n)
    outcomes = _as_officer(env, lambda app, actor: take_bulk_step(app, ids, "verify", actor))
    assert all(o.done for o in outcomes), [o.reason("en") for o in outcomes]
    return ids


def _struck_off(env: dict[str, str]) -> int:
    """A new general hazard of 安宁 fixed on the spot (已销号)."""
    [hid] = _reported_generals(env, 1)
    _as_officer(env, lambda app, actor: take_step(
        app, hid, "fix_now", actor, values={"measures": "清理通道", "responsible_person": "李四"},
        comment="现场已清理", uploads=[Upload("现场.jpg", JPEG)]))
    return hid


def _dongchuan(owner: Engine) -> int:
    with owner.connect() as conn:
        return int(conn.execute(text("SELECT min(id) FROM hidden_hazards WHERE adcode = :d AND state <> 'closed'"),
                                {"d": DONGCHUAN}).scalar_one())


def _reminders(owner: Engine, hid: int) -> list[tuple[str, str, str]]:
    """(sent_by, recipient_role, message) of a hazard's reminders, and its audit entries must match in number."""
    with owner.connect() as conn:
        rows = conn.execute(text("SELECT sent_by, recipient_role, message FROM hazard_reminders WHERE hazard_id = :h "
                                 "ORDER BY id"), {"h": hid}).all()
        audits = conn.execute(text("SELECT count(*) FROM audit_log a JOIN hidden_hazards h ON h.code = a.target "
                                   "WHERE h.id = :h AND a.action = 'hazard_remind'"), {"h": hid}).scalar_one()
    assert audits == len(rows)
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def test_the_command_line_reminds_several_hazards(demo_copy: dict[str, str]) -> None:
    [mine] = _verified(demo_copy, 1)
    closed = _struck_off(demo_copy)
    owner = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    try:
        other = _dongchuan(owner)
        out = _run(demo_copy, "anning", "hazard", "remind", str(mine), str(closed), str(other), "--message", MESSAGE)
        assert out.exit_code == 1, out.output  # two refused
        lines = out.output.splitlines()
        assert any(line.startswith(f"{mine} ") and "催办 reminded → 企业" in line for line in lines), out.output
        assert any(line.startswith(f"{closed} ") and "隐患已办结（已销号），不能催办" in line for line in lines)
        assert any(line.startswith(f"{other} ") and "不存在或不在本账号范围内" in line for line in lines)
        assert "1 done, 2 refused" in out.output  # the bulk step's words
        assert _reminders(owner, mine) == [("anning", "enterprise", MESSAGE)]
        assert _reminders(owner, closed) == [] and _reminders(owner, other) == []
        shown = _run(demo_copy, "ent-530181", "hazard", "show", str(mine))
        assert shown.exit_code == 0 and "reminders (催办):" in shown.output and f"催办企业：{MESSAGE}" in shown.output
        refused = _run(demo_copy, "ent-530181", "hazard", "remind", str(mine), "--message", "自己催自己")
        assert refused.exit_code == 1 and "本账号角色不能催办" in refused.output
        assert _reminders(owner, mine) == [("anning", "enterprise", MESSAGE)]
    finally:
        owner.dispose()


def test_the_command_line_shows_an_enterprise_only_its_own_reminders(demo_copy: dict[str, str]) -> None:
    from identity.accounts import add_user

    [reported] = _reported_generals(demo_copy, 1)  # 已上报: the district officer's 核定 is next
    owner = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    try:
        add_user(owner, "city-sup", "Sup-Remind-2026!", role="city_supervisor")
        out = _run(demo_copy, "city-sup", "hazard", "remind", str(reported), "--message", "请尽快核定",
                   password="Sup-Remind-2026!")
        assert out.exit_code == 0 and "催办 reminded → 区县监管人员" in out.output and "1 done, 0 refused" in out.output
        assert _reminders(owner, reported) == [("city-sup", "district_officer", "请尽快核定")]
    finally:
        owner.dispose()
    officer = _run(demo_copy, "anning", "hazard", "show", str(reported))
    assert officer.exit_code == 0 and "催办区县监管人员：请尽快核定" in officer.output, officer.output
    enterprise = _run(demo_copy, "ent-530181", "hazard", "show", str(reported))
    assert enterprise.exit_code == 0 and "批量测试隐患0" in enterprise.output  # it sees the hazard itself
    assert "reminders (催办):" not in enterprise.output and "请尽快核定" not in enterprise.output, enterprise.output
    # the officer does not remind its own role: refused with the reason, nothing written
    own = _run(demo_copy, "anning", "hazard", "remind", str(reported), "--message", "自己催自己")
    assert own.exit_code == 1 and "下一步由本角色（区县监管人员）办理，无需催办" in own.output
    assert "0 done, 1 refused" in own.output


def _bulk_key(app: Any) -> str:
    return next(k for k in app.callback_map if page.HZ_BULK_RESULT in k)


def test_the_register_page_reminds_the_selection_and_refuses_the_rest(pg_cluster, demo_db, monkeypatch) -> None:
    with demo_app(pg_cluster, demo_db, monkeypatch, user="anning") as app:
        env = {"RISKMAP_DATABASE_URL": app.owner.url.render_as_string(hide_password=False)}
        [mine] = _verified(env, 1)
        other = _dongchuan(app.owner)
        values = {f"{page.HZ_BULK_APPLY}.n_clicks": 1, f"{page.HZ_TABLE}.selected_row_ids": [mine, other],
                  f"{page.HZ_TABLE}.data": [{"id": mine, "version": 2}], f"{page.HZ_BULK_ACTION}.value": "remind",
                  f"{page.HZ_REMIND_MESSAGE}.value": MESSAGE, "lang-switch.value": "zh"}
        key = _bulk_key(app.app)
        resp = post_callback(app.client, callback_body(app.app, key, values, f"{page.HZ_BULK_APPLY}.n_clicks"))
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        shown = json.dumps(resp.get_json(), ensure_ascii=False)
        assert "1 条已催办，1 条被拒绝" in shown and "已催办 → 企业" in shown and "不存在或不在本账号范围内" in shown
        assert _reminders(app.owner, mine) == [("anning", "enterprise", MESSAGE)] and _reminders(app.owner, other) == []
        values[f"{page.HZ_REMIND_MESSAGE}.value"] = "   "  # no message: the whole 催办 is refused, nothing written
        resp = post_callback(app.client, callback_body(app.app, key, values, f"{page.HZ_BULK_APPLY}.n_clicks"))
        assert "请填写催办内容" in json.dumps(resp.get_json(), ensure_ascii=False)
        assert len(_reminders(app.owner, mine)) == 1


def test_a_reminder_sent_in_the_register_reaches_the_enterprise(secured, driver, artifacts) -> None:
    base, owner = secured
    env = {"RISKMAP_DATABASE_URL": owner.url.render_as_string(hide_password=False)}
    ids = _verified(env, 2)
    sign_in(driver, base, "anning", "/hazards")
    wait = WebDriverWait(driver, 60)  # the first page of a fresh server on a shared 2-core machine
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{page.HZ_TABLE} td")))
    box = driver.find_element(By.CSS_SELECTOR, f"#{page.HZ_TABLE} th[data-dash-column='description'] input")
    box.send_keys("批量测试隐患" + "\n")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, f"#{page.HZ_TABLE} td input[type='checkbox']")) == 2)
    for cell in driver.find_elements(By.CSS_SELECTOR, f"#{page.HZ_TABLE} td input[type='checkbox']"):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)
        cell.click()
    wait.until(lambda d: "已选 2 条" in (text_at(d, f"#{page.HZ_BULK_NOTE}") or ""))
    choose_option(driver, page.HZ_BULK_ACTION, "催办")
    driver.find_element(By.ID, page.HZ_REMIND_MESSAGE).send_keys(MESSAGE)
    apply = driver.find_element(By.ID, page.HZ_BULK_APPLY)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", apply)
    apply.click()
    wait.until(ec.presence_of_element_located((By.ID, "hz-bulk-outcome")))
    outcome = text_at(driver, "#hz-bulk-outcome") or ""
    assert "2 条已催办，0 条被拒绝" in outcome and outcome.count("已催办 → 企业") == 2, outcome
    driver.save_screenshot(str(artifacts / "hazard_remind_officer.png"))
    for hid in ids:
        assert _reminders(owner, hid) == [("anning", "enterprise", MESSAGE)]
    # the enterprise signs in: the 催办 card of its inbox, then the hazard's history
    driver.delete_all_cookies()
    sign_in(driver, base, "ent-530181", "/hazards")
    wait.until(ec.presence_of_element_located((By.ID, "inbox-reminded")))
    card = text_at(driver, "#inbox-reminded") or ""
    assert card.startswith("催办 2") and card.count(MESSAGE) == 2 and "anning" in card, card
    driver.save_screenshot(str(artifacts / "hazard_remind_inbox.png"))
    driver.get(f"{base}/hazards/{ids[0]}")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#hd-timeline .step-remind")))
    line = text_at(driver, "#hd-timeline .step-remind") or ""
    assert "anning（区县监管人员）催办企业" in line and MESSAGE in line, line
