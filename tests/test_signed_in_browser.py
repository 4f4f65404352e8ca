"""Signed-in use in headless Chromium: a district officer's day, a leader's view, wrong passwords, sign-out.

The app runs with sign-in on, connected as ``riskmap_app`` over a private copy of the demo, so what the
browser shows is what PostgreSQL's row-level security lets the account see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import text

from dashboard import ids
from dashboard.pages import district as district_page
from tests.browser import assert_clean_page as _clean
from tests.browser import sign_in
from tests.browser import text_at as _text

pytestmark = [pytest.mark.browser, pytest.mark.postgis]
ANNING, DONGCHUAN = "530181", "530113"


def _nav_links(driver: Any) -> list[str]:
    return list(driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{ids.NAV} a.nav-link')).map(a => a.getAttribute('href'))"))


def test_district_officer_sees_only_their_district(secured: tuple[str, Any], driver: Any,
                                                   artifacts: Path) -> None:
    base, owner = secured
    with owner.connect() as conn:
        other_names = {r[0] for r in conn.execute(
            text("SELECT name FROM enterprises WHERE adcode <> :a"), {"a": ANNING})}
    sign_in(driver, base, "anning", "/")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.DISTRICT_TABLE), "安宁市"))
    wait.until(ec.presence_of_element_located((By.ID, "nav-user")))
    assert "安宁市应急管理局" in _text(driver, "#nav-user") and ANNING in _text(driver, "#nav-user")
    # no planner page, no audit log
    assert _nav_links(driver) == ["/", "/district", "/hazards", "/ranking", "/reports", "/parks", "/enterprise-info",
                                  "/inspect"]
    rows = driver.find_elements(By.CSS_SELECTOR, f"#{ids.DISTRICT_TABLE} td[data-dash-column='name']")
    assert [r.text for r in rows] == ["安宁市"]
    sources = _text(driver, f"#{ids.SOURCE_TABLE}")
    assert "安宁" in sources and not [n for n in other_names if n in sources]
    driver.save_screenshot(str(artifacts / "signed_in_officer_cockpit.png"))

    driver.get(f"{base}/district/{DONGCHUAN}")  # a crafted URL to another district
    wait.until(ec.presence_of_element_located((By.ID, "access-denied")))
    assert "当前账号无此权限" in _text(driver, "#access-denied")
    driver.get(f"{base}/planner")
    wait.until(ec.presence_of_element_located((By.ID, "access-denied")))

    driver.get(f"{base}/district")  # their own workspace
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{district_page.DISTRICT_TABLE_PREFIX}basic td")))
    lists = _text(driver, f"#{district_page.DISTRICT_LISTS}")
    assert not [n for n in other_names if n in lists]
    _clean(driver)

    driver.find_element(By.ID, "nav-logout").click()
    wait.until(ec.presence_of_element_located((By.NAME, "username")))
    driver.get(f"{base}/district/{ANNING}")  # signed out: back to the log-in page
    wait.until(ec.presence_of_element_located((By.NAME, "username")))
    assert "/login" in driver.current_url


def test_leader_sees_the_city_and_the_planner_link(secured: tuple[str, Any], driver: Any) -> None:
    base, _ = secured
    sign_in(driver, base, "leader", "/")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.DISTRICT_TABLE), "东川区"))
    wait.until(ec.presence_of_element_located((By.ID, "nav-user")))
    assert _nav_links(driver) == ["/", "/planner", "/district", "/hazards", "/ranking", "/reports", "/parks",
                                  "/enterprise-info"]
    assert len(driver.find_elements(By.CSS_SELECTOR, f"#{ids.DISTRICT_TABLE} td[data-dash-column='name']")) >= 10
    assert "领导" in _text(driver, "#nav-user")
    _clean(driver)


def test_wrong_password_stays_on_the_log_in_page(secured: tuple[str, Any], driver: Any) -> None:
    base, _ = secured
    sign_in(driver, base, "anning", "/district", password="wrong-password-1")
    WebDriverWait(driver, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".login-box .error")))
    assert "用户名或密码错误" in _text(driver, ".login-box .error")
    driver.get(f"{base}/")
    WebDriverWait(driver, 10).until(ec.presence_of_element_located((By.NAME, "username")))
    assert "/login" in driver.current_url
