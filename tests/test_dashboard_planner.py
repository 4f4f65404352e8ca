"""The planner workspace (规划审查) in real headless Chromium, served by gunicorn on the demo database.

Covered: the register (Chinese rule names and clauses, the rule filter, a row's detail and map zoom),
a status change on a writable copy of the demo database, site pre-checks from a map click near the
GAS-01 pipeline in 安宁 (不建议) and from typed coordinates far from hazards (无异议), the reasons PDF
download, a pre-check of an uploaded GeoJSON parcel (and a refused bad file), a parcel drawn with
the EditControl polygon tool, and the English labels. Every test fails on console errors and on
requests to any non-local host.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Iterator
from functools import partial

import pytest
import shapely
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.engine import make_url

from dashboard.pages import planner as P
from geo import store
from geo.checks.ruleset import load_ruleset
from geo.checks.site import ADVISE_AGAINST
from layers.planning import recent_precheck, run_precheck
from layers.site_file import MAX_SITE_BYTES, read_site_upload
from tests.browser import assert_clean_page as _assert_clean
from tests.browser import column_texts, served_app, text_at

pytestmark = [pytest.mark.browser, pytest.mark.postgis]

def _on_map(driver, script: str, *args):
    """Run ``script`` with ``m`` bound to the planner's Leaflet map; ``args`` are arguments[1:].

    The map is the app's documented test handle ``window.riskmapMaps`` (assets/riskmap_map.js).
    """
    return driver.execute_script("const m = (window.riskmapMaps || {})[arguments[0]] || null;" + script,
                                 P.PLANNER_MAP, *args)


@pytest.fixture(scope="module")
def app_url(demo_db: str) -> Iterator[str]:
    with served_app(demo_db) as url:
        yield url


@pytest.fixture(scope="module")
def gas01_point(demo_db: str) -> shapely.Point:
    """A point on the GAS-01 gas pipeline in 安宁市 (as in tests/test_site.py)."""
    eng = store.make_engine(demo_db)
    pipes = store.read_layer(eng, "pipelines")
    eng.dispose()
    line = pipes[pipes["code"] == "GAS-01"].geometry.iloc[0].geoms[0]
    return shapely.line_interpolate_point(line, 0.1, normalized=True)


def _open(driver, url: str) -> WebDriverWait:
    driver.get(url + "/planner")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_COUNT), "共"))
    wait.until(lambda d: _on_map(d, "return m !== null;"))
    return wait


_text = partial(text_at, missing=None)


def _column(driver, column: str) -> list[str]:
    return column_texts(driver, P.P_TABLE, column)


def _choose(driver, wait: WebDriverWait, dropdown_id: str, label: str) -> None:
    """Pick the option containing ``label`` of a Dash 4 dropdown."""
    driver.find_element(By.ID, dropdown_id).click()
    xpath = f"//*[contains(@class,'dash-dropdown-content')]//*[@role='option'][contains(., '{label}')]"
    wait.until(ec.element_to_be_clickable((By.XPATH, xpath))).click()
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".dash-dropdown-content"))


def _map_view(driver, lon: float, lat: float, zoom: int) -> None:
    _on_map(driver, "m.setView([arguments[2], arguments[1]], arguments[3], {animate: false});", lon, lat, zoom)


def _click_map_at(driver, lon: float, lat: float) -> None:
    """A real mouse click on the map where (lon, lat) is drawn."""
    x, y = _on_map(driver, "const p = m.latLngToContainerPoint([arguments[2], arguments[1]]); return [p.x, p.y];",
                   lon, lat)
    el = driver.find_element(By.ID, P.PLANNER_MAP)
    size = el.size
    ActionChains(driver).move_to_element_with_offset(el, int(x - size["width"] / 2),
                                                     int(y - size["height"] / 2)).click().perform()


def _map_center(driver) -> tuple[float, float]:
    lng, lat = _on_map(driver, "const c = m.getCenter(); return [c.lng, c.lat];")
    return float(lng), float(lat)


def _type_site(driver, wait: WebDriverWait, lon: str, lat: str) -> None:
    """Type a site's coordinates, use them and wait until the page shows the typed site."""
    driver.find_element(By.ID, P.P_LON).send_keys(lon)
    driver.find_element(By.ID, P.P_LAT).send_keys(lat)
    driver.find_element(By.ID, P.P_GOTO).click()
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_SITE_INFO), "输入坐标"))


def _check(driver, wait: WebDriverWait, verdict: str) -> None:
    driver.find_element(By.ID, P.P_CHECK).click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "planner-verdict"), verdict))


def test_register_filter_and_detail(app_url, demo_db, driver, artifacts) -> None:
    wait = _open(driver, app_url)
    eng = store.make_engine(demo_db)
    everything = store.read_findings(eng)
    shown = everything[everything["status"].isin(["open", "in_remediation"])]
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_COUNT), f"共 {len(shown)} 条"))
    rules = load_ruleset()
    table = _text(driver, f"#{P.P_TABLE}")
    first = shown.iloc[0]
    district = store.district_codes(eng)[first["adcode"]]
    assert rules[first["rule_code"]].zh in table and first["clause"] in table and district in table
    assert set(_column(driver, "status")) <= {"待整改", "整改中"}

    _choose(driver, wait, P.P_RULE, "PIPE_OCCUPY")
    expected = store.read_findings(eng, rule_code="PIPE_OCCUPY", status="open")
    assert len(expected) > 0
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_COUNT), f"共 {len(expected)} 条"))
    wait.until(lambda d: set(_column(d, "rule_code")) == {"PIPE_OCCUPY"})
    assert len(_column(driver, "rule_code")) == min(len(expected), 12)
    assert rules["PIPE_OCCUPY"].zh in _text(driver, f"#{P.P_TABLE}")

    # a row shows its detail and zooms the map to the finding
    row = expected.iloc[0]
    cell = next(c for c in driver.find_elements(By.CSS_SELECTOR, f"#{P.P_TABLE} td[data-dash-column='pair']")
                if c.text.startswith(str(row["subject_name"])) and str(row["object_name"]) in c.text)
    cell.click()
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_DETAIL), f"#{row['id']}"))
    detail = _text(driver, f"#{P.P_DETAIL}")
    assert str(row["subject_name"]) in detail and str(row["object_name"]).split(" / ")[0] in detail
    assert f"{row['measured_m']:,.1f} m" in detail and f"{row['required_m']:,.1f} m" in detail
    assert row["clause"] in detail and str(row["detail"]).split(" / ")[0] in detail
    target = row.geometry.representative_point()
    wait.until(lambda d: math.dist(_map_center(d), (target.x, target.y)) < 0.01)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.set_window_size(1600, 1500)
    time.sleep(0.3)
    driver.save_screenshot(str(artifacts / "planner_register.png"))
    eng.dispose()
    _assert_clean(driver)


def test_status_change_on_a_copy(pg_cluster, demo_db, driver) -> None:
    from geo import embedded
    from tests.conftest import _fresh

    name, eng = _fresh(pg_cluster, make_url(demo_db).database)  # a private copy: this test writes
    try:
        with served_app(pg_cluster.url(name)) as url:
            wait = _open(driver, url)
            _choose(driver, wait, P.P_RULE, "PIPE_OCCUPY")
            before = store.read_findings(eng, rule_code="PIPE_OCCUPY", status="open")
            wait.until(ec.text_to_be_present_in_element((By.ID, P.P_COUNT), f"共 {len(before)} 条"))
            driver.find_element(By.CSS_SELECTOR, f"#{P.P_TABLE} td[data-dash-column='pair']").click()
            wait.until(ec.text_to_be_present_in_element((By.ID, P.P_DETAIL), "#"))
            fid = int(_text(driver, ".planner-id").lstrip("#"))

            _choose(driver, wait, P.P_NEW_STATUS, "整改中")
            driver.find_element(By.ID, P.P_NOTE).send_keys("已约谈管道企业")
            driver.find_element(By.ID, P.P_SAVE).click()
            wait.until(ec.text_to_be_present_in_element((By.ID, P.P_SAVE_MSG), f"第 {fid} 号"))
            now = store.read_findings(eng, rule_code="PIPE_OCCUPY")
            assert now.set_index("id").loc[fid, "status"] == "in_remediation"
            wait.until(lambda d: "整改中" in _column(d, "status"))  # the table refreshed
            wait.until(ec.text_to_be_present_in_element((By.ID, P.P_DETAIL), "整改中"))

            _choose(driver, wait, P.P_NEW_STATUS, "已销号")
            driver.find_element(By.ID, P.P_SAVE).click()
            wait.until(ec.text_to_be_present_in_element((By.ID, P.P_COUNT), f"共 {len(before) - 1} 条"))
            assert store.read_findings(eng, status="closed")["id"].tolist() == [fid]
            _assert_clean(driver)
    finally:
        eng.dispose()
        embedded.drop_database(pg_cluster, name)


def test_precheck_by_map_click_near_gas01_and_pdf(app_url, gas01_point, driver, artifacts, tmp_path) -> None:
    wait = _open(driver, app_url)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    # the PDF button waits for a check; the check waits for a site
    assert driver.find_element(By.ID, P.P_PDF).get_attribute("disabled") is not None
    driver.find_element(By.ID, P.P_CHECK).click()
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_RESULT), "请先选择场地"))

    _map_view(driver, gas01_point.x, gas01_point.y, 16)
    _click_map_at(driver, gas01_point.x, gas01_point.y)
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_SITE_INFO), "地图点选"))
    info = _text(driver, f"#{P.P_SITE_INFO}")
    lon, lat = (float(v) for v in re.search(r"([\d.]+)°E, ([\d.]+)°N", info).groups())
    assert math.dist((lon, lat), (gas01_point.x, gas01_point.y)) < 0.0002  # within ~20 m of the click target
    assert "学校" in _text(driver, f"#{P.P_USE}")
    _check(driver, wait, "不建议")
    result = _text(driver, f"#{P.P_RESULT}")
    assert "PIPE_OCCUPY" in result or "HCA_GAS" in result
    assert "高敏感防护目标" in result and "西南演示输气干线昆明段" in result
    rules = load_ruleset()
    assert rules["HCA_GAS"].zh in result and rules["HCA_GAS"].clause in result
    red = "#E60012"
    wait.until(lambda d: d.execute_script(
        "return Array.from(document.querySelectorAll('#planner-map path')).filter("
        "p => (p.getAttribute('stroke') || '').toUpperCase() === arguments[0] && p.getAttribute('stroke-dasharray'))"
        ".length", red) >= 1)  # the rings of the required distances
    driver.execute_script("document.getElementById('planner-verdict').scrollIntoView({block: 'start'});"
                          "window.scrollTo(0, 0);")
    time.sleep(0.3)
    driver.save_screenshot(str(artifacts / "planner_precheck.png"))

    wait.until(lambda d: d.find_element(By.ID, P.P_PDF).get_attribute("disabled") is None)
    driver.find_element(By.ID, P.P_PDF).click()
    wait.until(lambda d: any(p.suffix == ".pdf" for p in tmp_path.iterdir()))
    pdf = next(p for p in tmp_path.iterdir() if p.suffix == ".pdf")
    assert pdf.name.startswith("场地预审意见") and pdf.read_bytes().startswith(b"%PDF")
    _assert_clean(driver)


def test_precheck_far_from_hazards_has_no_objection(app_url, driver) -> None:
    wait = _open(driver, app_url)
    _type_site(driver, wait, "103.30", "26.30")
    wait.until(lambda d: math.dist(_map_center(d), (103.30, 26.30)) < 0.01)  # the map went there
    _choose(driver, wait, P.P_USE, "住宅")
    _check(driver, wait, "无异议")
    assert "未发现任何规则限制" in _text(driver, f"#{P.P_RESULT}")
    _assert_clean(driver)


def test_upload_parcel_runs_a_precheck(app_url, gas01_point, driver, tmp_path) -> None:
    wait = _open(driver, app_url)
    bad = tmp_path / "road.geojson"
    bad.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "LineString", "coordinates": [[102.30, 24.90], [102.31, 24.91]]}}), encoding="utf-8")
    upload = driver.find_element(By.CSS_SELECTOR, f"#{P.P_UPLOAD} input[type=file]")
    upload.send_keys(str(bad))
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_UPLOAD_MSG), "场地须为点或面"))
    assert "road.geojson" in _text(driver, f"#{P.P_UPLOAD_MSG}")

    x, y = gas01_point.x, gas01_point.y
    parcel = shapely.box(x - 0.0008, y + 0.0004, x + 0.0008, y + 0.0016)  # ~50–180 m north of the pipeline
    good = tmp_path / "拟建地块.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"名称": "拟建学校"}, "geometry": parcel.__geo_interface__}]}),
        encoding="utf-8")
    driver.find_element(By.CSS_SELECTOR, f"#{P.P_UPLOAD} input[type=file]").send_keys(str(good))
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_UPLOAD_MSG), "已读取 拟建地块.geojson"))
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_SITE_INFO), "地块"))
    assert "上传文件" in _text(driver, f"#{P.P_SITE_INFO}") and "面积" in _text(driver, f"#{P.P_SITE_INFO}")
    _choose(driver, wait, P.P_USE, "医院")
    _check(driver, wait, "不建议")
    assert "HCA_GAS" in _text(driver, f"#{P.P_RESULT}")
    _assert_clean(driver)


def test_draw_parcel_runs_a_precheck(app_url, gas01_point, driver) -> None:
    wait = _open(driver, app_url)
    x, y = gas01_point.x, gas01_point.y
    _map_view(driver, x, y, 16)
    driver.find_element(By.CSS_SELECTOR, f"#{P.PLANNER_MAP} .leaflet-draw-draw-polygon").click()
    corners = [(x - 0.0006, y + 0.0004), (x + 0.0006, y + 0.0004), (x + 0.0006, y + 0.0012),
               (x - 0.0006, y + 0.0012), (x - 0.0006, y + 0.0004)]
    for lon, lat in corners:
        _click_map_at(driver, lon, lat)
        time.sleep(0.4)
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_SITE_INFO), "绘制地块"))
    area = float(re.search(r"面积 ([\d,]+) m²", _text(driver, f"#{P.P_SITE_INFO}")).group(1).replace(",", ""))
    assert 8_000 < area < 14_000  # about 120 m × 90 m
    _check(driver, wait, "不建议")
    _assert_clean(driver)


def test_english_labels(app_url, driver) -> None:
    wait = _open(driver, app_url)
    driver.find_element(By.XPATH, "//*[@id='lang-switch']//label[contains(., 'English')]").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, P.P_COUNT), "findings"))
    page = _text(driver, f"#{P.PLANNER}")
    for words in ("Site pre-check", "Violations register", "Intended use", "Check", "Rule name"):
        assert words in page
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in _text(driver, f"#{P.P_TABS}"))
    _assert_clean(driver)


def test_site_upload_limits() -> None:
    with pytest.raises(ValueError, match="不支持的文件类型"):
        read_site_upload("data:application/octet-stream;base64,AAAA", "site.exe")
    huge = "data:application/json;base64," + "A" * (MAX_SITE_BYTES * 2)
    with pytest.raises(ValueError, match="文件超过 10 MB"):
        read_site_upload(huge, "site.geojson")
    with pytest.raises(ValueError, match=r"site\.geojson"):  # decodes, but is not a site
        read_site_upload("data:application/json;base64," + base64.b64encode(b"{}").decode(), "site.geojson")


def test_precheck_of_a_tailings_pond_near_the_jinsha(app_url, driver) -> None:
    """A new tailings pond 1.5 km from the 金沙江 centreline in 东川: inside the 3 km Yangtze ban."""
    wait = _open(driver, app_url)
    _type_site(driver, wait, "103.04286", "26.48949")
    _choose(driver, wait, P.P_USE, "尾矿库(新建、改建、扩建)")
    _check(driver, wait, "不建议")
    result = _text(driver, f"#{P.P_RESULT}")
    assert "YANGTZE_SITING" in result and "长江保护法" in result and "金沙江" in result
    assert "防护目标类别" not in result  # the site is the hazard here, not a protection target
    _choose(driver, wait, P.P_USE, "化工项目(新建、改建、扩建)")
    _check(driver, wait, "无异议")  # chemical projects: 1 km
    _assert_clean(driver)


def test_precheck_service_keeps_the_result_for_its_pdf(demo_db, gas01_point) -> None:
    """The pre-check callback renders what layers.planning.run_precheck returns; the PDF reads it back by key."""
    eng = store.make_engine(demo_db)
    try:
        result = run_precheck(eng, shapely.geometry.mapping(gas01_point), "school", population=500, actor="tester",
                              record=False)  # the shared demo database stays as it is
    finally:
        eng.dispose()
    assert result.verdict.verdict == ADVISE_AGAINST and len(result.verdict.reasons)
    assert result.site.equals(gas01_point)
    assert recent_precheck(result.key, actor="tester") is result
    assert recent_precheck(result.key, actor="someone-else") is None  # not handed to another account
    assert recent_precheck("no-such-key", actor="tester") is None
    assert recent_precheck(None, actor="tester") is None
