"""The dashboard in real headless Chromium, served by gunicorn on the demo database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from dashboard import ids
from geo import store
from layers.city import city_snapshot
from tests.browser import console_errors, foreign_requests, requested_urls, served_app

pytestmark = [pytest.mark.browser, pytest.mark.postgis]
NAMES = ("五华区", "盘龙区", "官渡区", "西山区", "东川区", "呈贡区", "晋宁区", "富民县", "宜良县", "石林彝族自治县",
         "嵩明县", "禄劝彝族苗族自治县", "寻甸回族彝族自治县", "安宁市")


@pytest.fixture(scope="module")
def app_url(demo_db: str) -> Iterator[str]:
    with served_app(demo_db) as url:
        yield url


def _open(driver, url: str) -> WebDriverWait:
    driver.get(url + "/")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.DISTRICT_TABLE), "安宁市"))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, f"#{ids.MAP} path.leaflet-interactive")) >= 14)
    return wait


def _kpi(driver, key: str) -> str:
    # read in one script: the KPI strip is re-rendered by callbacks, so element handles go stale
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", f"#kpi-{key} .kpi-value")


def _fills(driver) -> set[str]:
    return set(driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{ids.MAP} path.leaflet-interactive'))"
        ".map(p => (p.getAttribute('fill') || '').toUpperCase())"))


def test_cockpit_shows_demo_offline(app_url, demo_db, driver, artifacts) -> None:
    _open(driver, app_url)
    assert driver.find_element(By.ID, ids.TITLE).text == "昆明市安全风险一张图"
    table = driver.find_element(By.ID, ids.DISTRICT_TABLE).text
    assert all(name in table for name in NAMES)
    kpis = city_snapshot(store.make_engine(demo_db)).kpis()
    assert _kpi(driver, "kpi_major") == str(kpis["major_risks"]) and kpis["major_risks"] > 0
    assert _kpi(driver, "kpi_violations") == str(kpis["violations"]) and kpis["violations"] > 0
    fills = _fills(driver)
    assert "#E60012" in fills and "#0070C0" in fills  # 四色 markers: red … blue, never green for 低
    assert not {"#00FF00", "#008000", "#2E7D32"} & fills
    driver.save_screenshot(str(artifacts / "cockpit_zh.png"))
    assert not foreign_requests(requested_urls(driver)), "page requested a non-local host"
    assert console_errors(driver) == []


def test_switch_to_five_colour_and_drill_into_a_district(app_url, demo_db, driver, artifacts) -> None:
    wait = _open(driver, app_url)
    snap = city_snapshot(store.make_engine(demo_db))
    anning_colour = snap.ratings.loc["530181", "colour"].upper()
    driver.find_element(By.XPATH, f"//*[@id='{ids.MODE}']//label[contains(., '五色')]").click()
    wait.until(lambda d: anning_colour in _fills(d))
    # drill in by clicking 安宁市 on the map itself
    driver.execute_script(
        "const el = Array.from(document.querySelectorAll('.leaflet-interactive'))"
        ".find(p => p.getAttribute('stroke') === '#4A5560' && p.getAttribute('fill').toUpperCase() === arguments[0]);"
        "el.dispatchEvent(new MouseEvent('click', {bubbles: true}));", anning_colour)
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.EXPLAIN), "为什么是这个颜色"))
    explain = driver.find_element(By.ID, ids.EXPLAIN).text
    assert "安宁市" in explain and "得分" in explain
    district = snap.kpis("530181")
    wait.until(lambda d: _kpi(d, "kpi_major") == str(district["major_risks"]))
    # the source list follows the drill-down: only 安宁市 rows remain
    rows = driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{ids.SOURCE_TABLE} td[data-dash-column=district]'))"
        ".map(td => td.textContent)")
    assert rows and set(rows) == {"安宁市"}
    assert _kpi(driver, "kpi_violations") == str(district["violations"])
    driver.save_screenshot(str(artifacts / "cockpit_drill_anning.png"))
    driver.find_element(By.ID, ids.BACK).click()
    wait.until(lambda d: _kpi(d, "kpi_major") == str(snap.kpis()["major_risks"]))
    assert console_errors(driver) == []
    assert not foreign_requests(requested_urls(driver))


def test_table_row_drills_in_and_language_switch(app_url, driver, artifacts) -> None:
    wait = _open(driver, app_url)
    cell = next(c for c in driver.find_elements(By.CSS_SELECTOR, f"#{ids.DISTRICT_TABLE} td")
                if c.text == "东川区")
    cell.click()
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.EXPLAIN), "东川区"))
    driver.find_element(By.XPATH, f"//*[@id='{ids.LANG}']//label[contains(., 'English')]").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.TITLE), "Kunming Work-Safety Risk Map"))
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.KPI), "Major risk sources"))
    assert "Planner" in driver.find_element(By.ID, ids.NAV).text
    driver.save_screenshot(str(artifacts / "cockpit_en.png"))
    assert console_errors(driver) == []
    assert not foreign_requests(requested_urls(driver))


def test_other_pages_open(app_url, driver) -> None:
    for path, text in (("/planner", "规划审查"), ("/district", "区县工作台")):
        driver.get(app_url + path)
        WebDriverWait(driver, 20).until(ec.text_to_be_present_in_element((By.ID, ids.CONTENT), text))
    assert console_errors(driver) == []
