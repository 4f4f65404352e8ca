"""Map legibility in headless Chromium: severity order, a legend on every map, no sideways scroll,
no English left in the Chinese UI.

The app runs over a private copy of the demo in which one enterprise, made 重大, stands exactly on a
低 tailings pond. The cockpit adds its enterprise layer before its tailings layer, and the planner
lists enterprises before tailings ponds, so without severity ordering the blue pond hides the red
enterprise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dashboard import ids
from dashboard.pages import planner as planner_page
from geo import embedded
from layers.palette import FIVE_COLOUR, FOUR_COLOUR, RiskLevel, level_pane
from tests.browser import console_errors, served_app, sideways_overflow, stack_at, ui_text

pytestmark = [pytest.mark.browser, pytest.mark.postgis]
RED, BLUE = FOUR_COLOUR[RiskLevel.MAJOR].hex, FOUR_COLOUR[RiskLevel.LOW].hex
MAJOR_PANE, LOW_PANE = level_pane("major")[0], level_pane("low")[0]
#: English that used to be left in the Chinese UI (DataTable, dcc.Dropdown, leaflet-draw, Leaflet, dcc.Input).
LEFTOVERS = ("filter data", "Search", "errors found", "Draw a", "Cancel", "Delete", "Finish", "Click to",
             "Click and drag", "Zoom in", "Zoom out", "Toggle filter", "No options", "Select All", "Clear",
             "Decrease value", "Increase value", "No layers", "Previous month", "Next month",
             "JavaScript library")
SIZES = ((1366, 768), (1920, 1080))
ANNING = "530181"
DRAW_POLYGON = "a.leaflet-draw-draw-polygon"


@pytest.fixture(scope="module")
def spot(demo_db: str, pg_cluster: embedded.Cluster) -> Iterator[tuple[str, dict[str, Any]]]:
    """Serve a demo copy where a 重大 enterprise and a 低 tailings pond share a location; yield URL and spot."""
    from tests.conftest import _fresh

    name, owner = _fresh(pg_cluster, make_url(demo_db).database)
    try:
        with owner.begin() as conn:
            pond = dict(conn.execute(text(
                "SELECT key, adcode, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM tailings_dams "
                "WHERE risk_level = 'low' ORDER BY key LIMIT 1")).mappings().one())
            pond["district"] = conn.execute(text("SELECT name FROM districts WHERE adcode = :a"),
                                            {"a": pond["adcode"]}).scalar_one()
            ent = conn.execute(text("SELECT key FROM enterprises WHERE adcode = :a ORDER BY key LIMIT 1"),
                               {"a": pond["adcode"]}).scalar_one()
            conn.execute(text("UPDATE enterprises SET risk_level = 'major', "
                              "geom = (SELECT geom FROM tailings_dams WHERE key = :p) WHERE key = :e"),
                         {"p": pond["key"], "e": ent})
        with served_app(pg_cluster.url(name)) as url:
            yield url, pond
    finally:
        owner.dispose()
        embedded.drop_database(pg_cluster, name)


def _red_over_blue(driver: Any, map_id: str, pond: dict[str, Any]) -> bool:
    stack = stack_at(driver, map_id, pond["lat"], pond["lon"]) or []
    return [RED, MAJOR_PANE] in stack and [BLUE, LOW_PANE] in stack


def _assert_major_on_top(driver: Any, map_id: str, pond: dict[str, Any]) -> None:
    WebDriverWait(driver, 30).until(lambda d: _red_over_blue(d, map_id, pond))
    stack = stack_at(driver, map_id, pond["lat"], pond["lon"]) or []
    assert stack[0] == [RED, MAJOR_PANE], stack  # the most severe is the top-most marker
    assert stack.index([RED, MAJOR_PANE]) < stack.index([BLUE, LOW_PANE])


def _open_cockpit(driver: Any, base: str) -> WebDriverWait:
    driver.get(base + "/")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.DISTRICT_TABLE), "安宁市"))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, f"#{ids.MAP} path.leaflet-interactive")) >= 14)
    return wait


def _toggle(driver: Any, checklist: str, label: str) -> None:
    driver.find_element(By.XPATH, f"//*[@id='{checklist}']//label[contains(., '{label}')]").click()


def _drill(driver: Any, wait: WebDriverWait, district: str) -> None:
    cell = next(c for c in driver.find_elements(By.CSS_SELECTOR, f"#{ids.DISTRICT_TABLE} td") if c.text == district)
    cell.click()
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.EXPLAIN), district))


def test_most_severe_marker_is_on_top_at_a_shared_location(spot: tuple[str, dict[str, Any]], driver: Any,
                                                          artifacts: Path) -> None:
    base, pond = spot
    wait = _open_cockpit(driver, base)
    _assert_major_on_top(driver, ids.MAP, pond)
    # a redraw of the 低 layer (tailings off, then on) still leaves 重大 on top
    _toggle(driver, ids.LAYERS, "尾矿库")
    wait.until(lambda d: [BLUE, LOW_PANE] not in (stack_at(d, ids.MAP, pond["lat"], pond["lon"]) or []))
    _toggle(driver, ids.LAYERS, "尾矿库")
    _assert_major_on_top(driver, ids.MAP, pond)
    # and so does drilling into the district (its layers are replaced and the map flies in)
    _drill(driver, wait, pond["district"])
    _assert_major_on_top(driver, ids.MAP, pond)
    driver.save_screenshot(str(artifacts / "map_severity_cockpit.png"))
    assert console_errors(driver) == []

    # the planner map lists enterprises and ponds in one layer: 重大 is still drawn last
    driver.get(base + "/planner")
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return !!(window.riskmapMaps || {})[arguments[0]]", planner_page.PLANNER_MAP))
    driver.execute_script("window.riskmapMaps[arguments[0]].setView([arguments[1], arguments[2]], 13, "
                          "{animate: false});", planner_page.PLANNER_MAP, pond["lat"], pond["lon"])
    _assert_major_on_top(driver, planner_page.PLANNER_MAP, pond)
    driver.save_screenshot(str(artifacts / "map_severity_planner.png"))
    assert console_errors(driver) == []


def _legend_text(driver: Any, legend_id: str) -> str:
    return str(driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.innerText : '';", legend_id))


def _has_levels(legend: str, lang: str) -> bool:
    return all((sw.zh if lang == "zh" else sw.en) in legend for sw in FOUR_COLOUR.values())


def test_every_map_has_a_legend_in_the_page_language(spot: tuple[str, dict[str, Any]], driver: Any,
                                                     artifacts: Path) -> None:
    base, _ = spot
    wait = _open_cockpit(driver, base)
    legend = "cockpit-legend"
    assert driver.find_element(By.ID, legend).is_displayed()
    assert _has_levels(_legend_text(driver, legend), "zh")
    assert "长输管道" in _legend_text(driver, legend)  # a shown overlay is explained
    assert "检查发现" not in _legend_text(driver, legend)  # a hidden one is not
    _toggle(driver, ids.LAYERS, "检查发现")
    wait.until(lambda d: "检查发现" in _legend_text(d, legend))
    driver.find_element(By.XPATH, f"//*[@id='{ids.MODE}']//label[contains(., '五色')]").click()
    wait.until(lambda d: all(sw.zh in _legend_text(d, legend) for sw in FIVE_COLOUR.values()))
    driver.save_screenshot(str(artifacts / "legend_cockpit_five.png"))
    driver.find_element(By.XPATH, f"//*[@id='{ids.LANG}']//label[contains(., 'English')]").click()
    wait.until(lambda d: "Kunming" in d.find_element(By.ID, ids.TITLE).text)
    driver.find_element(By.XPATH, f"//*[@id='{ids.MODE}']//label[contains(., 'Four')]").click()
    wait.until(lambda d: _has_levels(_legend_text(d, legend), "en"))
    assert "重大" not in _legend_text(driver, legend)

    for path, legend in ((f"/district/{ANNING}", "district-legend"), ("/planner", "planner-legend")):
        driver.get(base + path)
        WebDriverWait(driver, 30).until(ec.visibility_of_element_located((By.ID, legend)))
        assert _has_levels(_legend_text(driver, legend), "zh"), path
    assert all(k in _legend_text(driver, "planner-legend") for k in ("拟建场地", "要求距离圈", "检查发现", "防护目标"))
    driver.save_screenshot(str(artifacts / "legend_planner.png"))
    assert console_errors(driver) == []


def _page_ready(driver: Any, base: str, path: str) -> None:
    driver.get(base + path)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return document.querySelectorAll('.leaflet-container path.leaflet-interactive').length > 0"))


def test_no_sideways_scroll(spot: tuple[str, dict[str, Any]], driver: Any, artifacts: Path) -> None:
    base, _ = spot
    for width, height in SIZES:
        driver.set_window_size(width, height)
        wait = _open_cockpit(driver, base)
        _toggle(driver, ids.LAYERS, "风险点")
        _drill(driver, wait, "安宁市")  # the district with the longest source list
        wait.until(lambda d: set(d.execute_script(
            f"return Array.from(document.querySelectorAll('#{ids.SOURCE_TABLE} td[data-dash-column=district]'))"
            ".map(td => td.textContent)")) == {"安宁市"})
        assert sideways_overflow(driver) == 0, f"cockpit after a drill-down at {width}×{height}"
        driver.save_screenshot(str(artifacts / f"scroll_cockpit_{width}.png"))
        pages = driver.execute_script(
            f"return Array.from(document.querySelectorAll('#{ids.NAV} a.nav-link')).map(a => a.getAttribute('href'))")
        for path in (f"/district/{ANNING}", "/planner"):
            _page_ready(driver, base, path)
            assert sideways_overflow(driver) == 0, f"{path} at {width}×{height}"
        for path in [p for p in pages if p not in ("/", "/planner")]:  # every other page of the navigation
            driver.get(base + path)
            WebDriverWait(driver, 30).until(lambda d: len(ui_text(d)) > 200)
            assert sideways_overflow(driver) == 0, f"{path} at {width}×{height}"
    # a phone: the pages stack into one column
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        for path in ("/", f"/district/{ANNING}", "/planner"):
            _page_ready(driver, base, path)
            assert sideways_overflow(driver) == 0, f"{path} at 390×844"
        driver.save_screenshot(str(artifacts / "scroll_planner_phone.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert console_errors(driver) == []


def _leftovers(driver: Any) -> list[str]:
    seen = ui_text(driver)
    return [word for word in LEFTOVERS if word in seen]


def test_no_english_left_in_the_chinese_ui(spot: tuple[str, dict[str, Any]], driver: Any, artifacts: Path) -> None:
    base, _ = spot
    wait = _open_cockpit(driver, base)
    _drill(driver, wait, "安宁市")
    assert driver.find_elements(By.CSS_SELECTOR, f"#{ids.SOURCE_TABLE} input[type=text]")  # its filter row
    assert _leftovers(driver) == [], "cockpit"

    driver.get(f"{base}/district/{ANNING}")
    WebDriverWait(driver, 30).until(ec.visibility_of_element_located((By.ID, "district-legend")))
    WebDriverWait(driver, 20).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#district-chooser"))).click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"))
    assert _leftovers(driver) == [], "district page (chooser open)"
    assert "搜索" in ui_text(driver)

    driver.get(base + "/planner")
    button = WebDriverWait(driver, 30).until(ec.element_to_be_clickable((By.CSS_SELECTOR, DRAW_POLYGON)))
    assert button.get_attribute("title") == "绘制地块(多边形)"
    button.click()  # drawing shows leaflet-draw's tooltip and its Finish / Delete last point / Cancel buttons
    WebDriverWait(driver, 10).until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".leaflet-draw-actions")))
    ActionChains(driver).move_to_element(driver.find_element(By.ID, planner_page.PLANNER_MAP)).perform()
    WebDriverWait(driver, 10).until(lambda d: "点击地图开始绘制地块" in ui_text(d))
    driver.save_screenshot(str(artifacts / "planner_draw_zh.png"))
    assert _leftovers(driver) == [], "planner while drawing"
    assert "取消" in ui_text(driver)
    driver.find_element(By.CSS_SELECTOR, ".leaflet-draw-actions a[title='取消绘制']").click()

    driver.get(base + "/admin/audit")  # with its date picker open
    WebDriverWait(driver, 30).until(ec.element_to_be_clickable((By.ID, "audit-filter-dates"))).click()
    WebDriverWait(driver, 10).until(ec.visibility_of_element_located(
        (By.CSS_SELECTOR, ".dash-datepicker-calendar-wrapper th")))
    WebDriverWait(driver, 10).until(lambda d: {"一", "日"} <= {th.text for th in d.find_elements(
        By.CSS_SELECTOR, ".dash-datepicker-calendar-wrapper th")})
    assert _leftovers(driver) == [], "audit log (date picker open)"
    # every other page of the navigation, as it opens
    pages = driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{ids.NAV} a.nav-link')).map(a => a.getAttribute('href'))")
    assert {"/admin/rules", "/district"} <= set(pages)
    for path in [p for p in pages if p not in ("/", "/planner", "/admin/audit")]:
        driver.get(base + path)
        WebDriverWait(driver, 30).until(lambda d: len(ui_text(d)) > 200)
        assert _leftovers(driver) == [], path

    # English stays available: the same toolbar in English after the switch
    driver.get(base + "/planner")
    WebDriverWait(driver, 30).until(ec.element_to_be_clickable((By.CSS_SELECTOR, DRAW_POLYGON)))
    driver.find_element(By.XPATH, f"//*[@id='{ids.LANG}']//label[contains(., 'English')]").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_element(
        By.CSS_SELECTOR, DRAW_POLYGON).get_attribute("title") == "Draw a polygon")
    assert console_errors(driver) == []
