"""One major hazard's whole life in the browser, as three people: the enterprise, the district officer, the city.

The enterprise reports it with a photo and later its 五落实; the officer verifies it; the city supervisor puts it
under 挂牌督办; the enterprise reports monthly progress and applies for re-inspection; the officer sends it back
once, then passes it; the supervisor strikes it off. At each step the test checks what that person sees: the
state, the actions offered, the inbox. The app runs with sign-in on, as ``riskmap_app``, on a copy of the demo.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import text

from dashboard.pages import hazard as hazard_page
from dashboard.pages import hazards as hazards_page
from geo import embedded
from tests.browser import console_errors, served_signed_in_copy, sign_in
from tests.browser import text_at as _text

pytestmark = [pytest.mark.browser, pytest.mark.postgis]
ENTERPRISE, OFFICER, SUPERVISOR = "ent-530181", "anning", "supervisor"
DESCRIPTION = "浏览器测试：液化烃罐区防火堤破损"


@pytest.fixture(scope="module")
def served(demo_db: str, pg_cluster: embedded.Cluster, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[str, Any]]:
    with served_signed_in_copy(pg_cluster, demo_db, tmp_path_factory.mktemp("riskmap-home")) as found:
        yield found


def _field_id(name: str) -> str:
    """DOM id of a lifecycle field input."""
    return hazard_page.field_id(name)


def _type(driver: Any, element_id: str, value: str) -> None:
    """Type ``value`` into the input or textarea with ``element_id`` (or inside it)."""
    def find(d: Any) -> Any:
        return d.execute_script(
            "const e = document.getElementById(arguments[0]);"
            "if (!e) return null; return e.matches('input, textarea') ? e : e.querySelector('input, textarea');",
            element_id)
    el = WebDriverWait(driver, 20).until(find)
    el.clear()
    el.send_keys(value)


def _choose(driver: Any, element_id: str, label: str) -> None:
    """Pick ``label`` in the dcc.Dropdown with ``element_id`` (works for pattern-matching ids too)."""
    box = WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "return document.getElementById(arguments[0]);", element_id))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.click()
    option = WebDriverWait(driver, 10).until(lambda d: next(
        (o for o in d.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
         if (o.get_attribute("textContent") or "").strip() == label), None))
    option.click()


def _as(driver: Any, base: str, user: str, path: str) -> WebDriverWait:
    driver.delete_all_cookies()
    sign_in(driver, base, user, path)
    wait = WebDriverWait(driver, 30)
    wait.until(ec.presence_of_element_located((By.ID, "nav-user")))  # signed in before going on
    return wait


def _open(driver: Any, base: str, hid: int) -> None:
    driver.get(f"{base}/hazards/{hid}")
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.ID, "hd-state")))


def _offered(driver: Any) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, f"#{hazard_page.HD_ACTION} label")]


def _act(driver: Any, label: str, fields: dict[str, str] | None = None, *, comment: str | None = None,
         photo: Path | None = None, dropdowns: dict[str, str] | None = None) -> None:
    wait = WebDriverWait(driver, 30)
    choice = wait.until(lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, f"#{hazard_page.HD_ACTION} label")
                                        if e.text == label), None))
    choice.click()
    wait.until(ec.presence_of_element_located((By.ID, hazard_page.HD_SUBMIT)))
    for name, value in (fields or {}).items():
        _type(driver, _field_id(name), value)
    for name, option in (dropdowns or {}).items():
        _choose(driver, _field_id(name), option)
    if comment is not None:
        _type(driver, hazard_page.HD_COMMENT, comment)
    if photo is not None:
        driver.find_element(By.CSS_SELECTOR, f"#{hazard_page.HD_FILES} input[type=file]").send_keys(str(photo))
        wait.until(ec.text_to_be_present_in_element((By.ID, hazard_page.HD_FILES_NAMES), photo.name))
    driver.find_element(By.ID, hazard_page.HD_SUBMIT).click()
    try:
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#hd-done, #hd-message .error")))
    except Exception:
        raise AssertionError(f"no answer to {label}: {console_errors(driver)} {_text(driver, 'body')[:2000]}") from None
    errors = _text(driver, f"#{hazard_page.HD_MESSAGE} .error")
    assert not errors, errors


def _state(driver: Any) -> str:
    return _text(driver, "#hd-state")


def _inbox(driver: Any, base: str, bucket: str) -> str:
    driver.get(f"{base}{hazards_page.PATH}")
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.ID, hazards_page.HZ_INBOX)))
    return str(driver.execute_script(  # textContent: folded lines count too
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", f"#inbox-{bucket}"))


def test_a_major_hazard_from_report_to_strike_off(served: tuple[str, Any], driver: Any, tmp_path: Path,
                                                  artifacts: Path) -> None:
    base, owner = served
    photo = tmp_path / "防火堤.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"browser test photo" * 20)
    soon = (dt.date.today() + dt.timedelta(days=60)).isoformat()

    # 1. the enterprise reports it from its home page, with a photo
    wait = _as(driver, base, ENTERPRISE, "/")
    wait.until(ec.presence_of_element_located((By.ID, "hz-new-link"))).click()
    wait.until(ec.presence_of_element_located((By.ID, hazard_page.NEW_SUBMIT)))
    _type(driver, _field_id("description"), DESCRIPTION)
    _choose(driver, _field_id("severity"), "重大事故隐患")
    _type(driver, _field_id("found_on"), dt.date.today().isoformat())
    map_el = driver.find_element(By.ID, hazard_page.NEW_MAP)
    map_el.click()
    wait.until(ec.text_to_be_present_in_element((By.ID, hazard_page.NEW_POSITION_TEXT), "已选位置"))
    driver.find_element(By.CSS_SELECTOR, f"#{hazard_page.HD_FILES} input[type=file]").send_keys(str(photo))
    wait.until(ec.text_to_be_present_in_element((By.ID, hazard_page.HD_FILES_NAMES), photo.name))
    driver.find_element(By.ID, hazard_page.NEW_SUBMIT).click()
    wait.until(ec.presence_of_element_located((By.ID, "hn-done")))
    with owner.connect() as conn:
        hid, credit = conn.execute(text("SELECT id, credit_code FROM hidden_hazards WHERE description = :d"),
                                   {"d": DESCRIPTION}).one()
        own = conn.execute(text("SELECT credit_code FROM users WHERE username = :u"), {"u": ENTERPRISE}).scalar()
    assert credit == own
    driver.find_element(By.ID, "hn-open").click()
    wait.until(ec.presence_of_element_located((By.ID, "hd-state")))
    assert _state(driver) == "已上报" and _offered(driver) == []
    assert "已上报" in _text(driver, "#hd-timeline") and "📎" in _text(driver, "#hd-timeline")
    driver.save_screenshot(str(artifacts / "campaign_1_enterprise_reported.png"))

    # 2. the district officer finds it waiting for verification and verifies it
    _as(driver, base, OFFICER, hazards_page.PATH)
    assert DESCRIPTION in _inbox(driver, base, "waiting")
    _open(driver, base, hid)
    assert "核定" in _offered(driver)
    _act(driver, "核定")
    assert _state(driver) == "已核定"

    # 3. the enterprise fills in the 五落实 and starts rectification
    _as(driver, base, ENTERPRISE, "/")
    assert DESCRIPTION in _inbox(driver, base, "waiting")
    _open(driver, base, hid)
    _act(driver, "落实整改", {"measures": "修复防火堤并做闭水试验", "responsible_unit": "安宁演示石化有限公司",
                          "responsible_person": "王工", "funds_wan": "48.5", "deadline": soon,
                          "emergency_plan": "罐区泄漏专项预案"})
    assert _state(driver) == "整改中" and "48.5" in _text(driver, "#hd-facts")

    # 4. the city supervisor puts it under city-level supervision
    _as(driver, base, SUPERVISOR, hazards_page.PATH)
    _open(driver, base, hid)
    _act(driver, "挂牌督办", {"supervising_unit": "昆明市安委办", "supervision_deadline": soon},
         dropdowns={"supervision": "市级"})
    assert "市级" in _text(driver, "#hd-facts")

    # 5. the enterprise sees the monthly progress due, reports it, then applies for re-inspection
    _as(driver, base, ENTERPRISE, "/")
    assert DESCRIPTION in _inbox(driver, base, "progress_missing")
    _open(driver, base, hid)
    _act(driver, "月度进展报告", {"progress": "防火堤已修复70%"})
    _act(driver, "申请复查", comment="已完成修复", photo=photo)
    assert _state(driver) == "待复查"

    # 6. the officer sends it back once
    _as(driver, base, OFFICER, hazards_page.PATH)
    _open(driver, base, hid)
    assert {"退回", "复查通过"} <= set(_offered(driver))
    _act(driver, "退回", comment="闭水试验记录缺失")
    assert _state(driver) == "整改中"

    # 7. the enterprise applies again; the officer passes the re-inspection but may not strike it off
    _as(driver, base, ENTERPRISE, "/")
    _open(driver, base, hid)
    _act(driver, "申请复查", comment="补充闭水试验记录", photo=photo)
    _as(driver, base, OFFICER, hazards_page.PATH)
    _open(driver, base, hid)
    _act(driver, "复查通过", {"assessment": "第三方评估：防火堤完好，隐患消除"})
    assert _state(driver) == "待验收" and "验收销号" not in _offered(driver)

    # 8. the city supervisor finds it waiting and strikes it off
    _as(driver, base, SUPERVISOR, hazards_page.PATH)
    assert DESCRIPTION in _inbox(driver, base, "waiting")
    _open(driver, base, hid)
    _act(driver, "验收销号")
    assert _state(driver) == "已销号" and _offered(driver) == []
    timeline = _text(driver, "#hd-timeline")
    for word in ("上报", "核定", "落实整改", "挂牌督办", "月度进展报告", "申请复查", "退回", "复查通过", "验收销号"):
        assert word in timeline, word
    driver.save_screenshot(str(artifacts / "campaign_8_struck_off.png"))
    with owner.connect() as conn:
        steps = conn.execute(text("SELECT action, actor FROM hazard_steps WHERE hazard_id = :h ORDER BY version"),
                             {"h": hid}).all()
        audited = conn.execute(text("SELECT count(*) FROM audit_log WHERE action IN ('hazard_report', 'hazard_step') "
                                    "AND target = (SELECT code FROM hidden_hazards WHERE id = :h)"),
                               {"h": hid}).scalar()
    assert [s.action for s in steps] == ["create", "verify", "start", "supervise", "report_progress", "apply_review",
                                         "send_back", "apply_review", "pass_review", "strike_off"]
    assert [s.actor for s in steps] == [ENTERPRISE, OFFICER, ENTERPRISE, SUPERVISOR, ENTERPRISE, ENTERPRISE,
                                        OFFICER, ENTERPRISE, OFFICER, SUPERVISOR]
    assert audited == len(steps)
    assert console_errors(driver) == []


def test_the_enterprise_sees_only_its_own_and_the_phone_form_fits(served: tuple[str, Any], driver: Any,
                                                                  artifacts: Path) -> None:
    base, owner = served
    with owner.connect() as conn:
        own = conn.execute(text("SELECT credit_code FROM users WHERE username = :u"), {"u": ENTERPRISE}).scalar()
        others = {r[0] for r in conn.execute(
            text("SELECT code FROM hidden_hazards WHERE credit_code IS DISTINCT FROM :c"), {"c": own})}
    wait = _as(driver, base, ENTERPRISE, "/")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{hazards_page.HZ_TABLE} td")))
    shown = _text(driver, f"#{hazards_page.HZ_TABLE}")
    assert not [c for c in others if c in shown]
    driver.get(f"{base}/district/530181")
    wait.until(ec.presence_of_element_located((By.ID, "access-denied")))
    # the city's 调度表 page: who sent theirs, and 整改率 by district and by industry with its lead department
    wait = _as(driver, base, SUPERVISOR, "/dispatch")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#dp-status-table td")))
    rates = _text(driver, "#dp-rates-industry")
    assert "危险化学品" in rates and "应急局" in rates and "安宁市" in _text(driver, "#dp-rates-adcode")
    last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    _choose(driver, "dp-period", last_month)  # the demo sent last month's: some on time, some late or missing
    wait.until(lambda d: "按时报送" in _text(d, "#dp-status"))
    assert "逾期报送" in _text(driver, "#dp-status") or "未报送" in _text(driver, "#dp-status")
    driver.save_screenshot(str(artifacts / "campaign_dispatch_city.png"))
    # the inspector's form on a phone-sized screen
    driver.set_window_size(390, 844)
    _as(driver, base, OFFICER, "/inspect")
    wait.until(ec.presence_of_element_located((By.ID, "in-save")))
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    driver.save_screenshot(str(artifacts / "campaign_inspect_phone.png"))
