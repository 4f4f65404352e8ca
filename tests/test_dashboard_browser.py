"""The dashboard in real headless Chromium, served by gunicorn on the demo database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from dashboard import ids
from tests.browser import chromium, console_errors, foreign_requests, requested_urls, served_app

pytestmark = [pytest.mark.browser, pytest.mark.postgis]


@pytest.fixture(scope="module")
def app_url(demo_db: str) -> Iterator[str]:
    with served_app(demo_db) as url:
        yield url


@pytest.fixture
def driver():
    drv = chromium()
    try:
        yield drv
    finally:
        drv.quit()


def test_cockpit_shows_demo_districts_offline(app_url, driver, artifacts) -> None:
    driver.get(app_url + "/")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.DISTRICT_TABLE), "安宁市"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{ids.MAP} .js-plotly-plot")))
    assert driver.find_element(By.ID, ids.TITLE).text == "昆明市安全风险一张图"
    table_text = driver.find_element(By.ID, ids.DISTRICT_TABLE).text
    for name in ("五华区", "东川区", "寻甸回族彝族自治县"):
        assert name in table_text
    kpis = driver.find_elements(By.CSS_SELECTOR, f"#{ids.KPI} .kpi-value")
    values = [int(k.text) for k in kpis]
    assert values[0] == 14  # districts
    assert values[1] > 0  # enterprises
    # the map draws district outlines: one choropleth with 14 locations
    n_locations = driver.execute_script(
        f"return document.getElementById('{ids.MAP}').querySelector('.js-plotly-plot').data[0].locations.length"
    )
    assert n_locations == 14
    driver.save_screenshot(str(artifacts / "cockpit_zh.png"))
    assert not foreign_requests(requested_urls(driver)), "page requested a non-local host"
    assert console_errors(driver) == []


def test_language_switch_to_english(app_url, driver, artifacts) -> None:
    driver.get(app_url + "/")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.DISTRICT_TABLE), "安宁市"))
    driver.find_element(By.XPATH, f"//*[@id='{ids.LANG}']//label[contains(., 'English')]").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.TITLE), "Kunming Work-Safety Risk Map"))
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.KPI), "Enterprises"))
    driver.save_screenshot(str(artifacts / "cockpit_en.png"))
    assert not foreign_requests(requested_urls(driver))
    assert console_errors(driver) == []
