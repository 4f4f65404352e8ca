"""The district workspace in headless Chromium: lists, import with its report, export pack, completeness.

Reading tests use the shared demo database; imports and exports run against a second app served on a
writable copy of it.
"""

from __future__ import annotations

import base64
import csv
import re
import subprocess
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.engine import make_url

from dashboard import ids
from dashboard.pages import district as page
from geo import embedded, store
from geo.credit_code import check_character
from geo.importer import check_file
from geo.layer_specs import LAYERS
from layers.city import city_snapshot
from layers.completeness import DISTRICT_LAYERS
from layers.four_lists import list_titles
from tests.browser import assert_clean_page as _clean
from tests.browser import (
    choose_option,
    column_texts,
    served_app,
    text_at,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgis]
ANNING = "530181"
#: Points well inside 安宁市, away from its boundary.
POINTS = [(102.47, 24.92), (102.40, 24.95), (102.45, 24.90)]
HEADERS = ["统一社会信用代码", "企业名称", "行政区划代码", "行业", "风险等级", "经度", "纬度"]


@pytest.fixture(scope="module")
def app_url(demo_db: str) -> Iterator[str]:
    with served_app(demo_db) as url:
        yield url


@pytest.fixture(scope="module")
def writable(demo_db: str, pg_cluster: embedded.Cluster) -> Iterator[tuple[str, Any]]:
    """A second app on a private copy of the demo database (imports and exports write to it)."""
    from tests.conftest import _fresh

    name, engine = _fresh(pg_cluster, make_url(demo_db).database)
    try:
        with served_app(pg_cluster.url(name)) as url:
            yield url, engine
    finally:
        engine.dispose()
        embedded.drop_database(pg_cluster, name)


def _open(driver, url: str, adcode: str = ANNING) -> WebDriverWait:
    driver.get(f"{url}/district/{adcode}")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{page.DISTRICT_TABLE_PREFIX}basic td")))
    return wait


_text = partial(text_at, missing=None)


def _column(driver, key: str, column: str) -> list[str]:
    return column_texts(driver, f"{page.DISTRICT_TABLE_PREFIX}{key}", column)


def credit_code(serial: int) -> str:
    body = f"91{ANNING}MA7Q{serial:05d}"
    return body + check_character(body)


def _csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([HEADERS, *rows])
    return path


def _enterprise(i: int, code: str | None = None) -> list[Any]:
    lon, lat = POINTS[i]
    name = f"安宁浏览器测试{i + 1}号化工有限公司"
    return [code or credit_code(i), name, ANNING, "危险化学品储存", "一般风险", lon, lat]


# ---------------------------------------------------------------------------------------------
# reading: lists, sort, filter, language, chooser
# ---------------------------------------------------------------------------------------------
def test_lists_sort_filter_language_and_completeness(app_url, demo_db, driver, artifacts) -> None:
    engine = store.make_engine(demo_db)
    points = store.read_layer(engine, "risk_points", ANNING)
    n = len(points)
    assert n >= 2
    # the chooser: /district offers every district; the dropdown navigates to the workspace
    driver.get(app_url + "/district")
    wait = WebDriverWait(driver, 30)
    wait.until(ec.text_to_be_present_in_element((By.ID, ids.CONTENT), "区县工作台"))
    assert len(driver.find_elements(By.CSS_SELECTOR, "a.district-link")) == 14
    choose_option(driver, page.DISTRICT_CHOOSER, "安宁市（530181）")
    wait.until(lambda d: d.current_url.endswith("/district/530181"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{page.DISTRICT_TABLE_PREFIX}basic td")))

    snap = city_snapshot(engine)
    assert _text(driver, "#district-name").startswith("安宁市")
    rating = snap.ratings.loc[ANNING]
    assert _text(driver, "#district-badge") == rating["class_zh"]
    assert f"{rating['score']:.1f}" in _text(driver, "#district-score")
    tabs = driver.execute_script("return Array.from(document.querySelectorAll('.district-tab'))"
                                 ".map(e => e.innerText.trim());")
    assert [re.sub(r"\s*\(\d+\)$", "", s) for s in tabs] == list(list_titles("zh").values())
    assert _text(driver, f"#{page.DISTRICT_COUNT_PREFIX}basic") == f"显示 {n} 条，共 {n} 条"
    assert sorted(_column(driver, "basic", "code")) == sorted(points["code"])
    headers = _text(driver, f"#{page.DISTRICT_TABLE_PREFIX}basic thead") or _text(
        driver, f"#{page.DISTRICT_TABLE_PREFIX}basic")
    assert "风险点编号" in headers and "风险等级" in headers
    # 风险等级 cells carry the palette colour
    major = driver.execute_script(
        "const c = Array.from(document.querySelectorAll(arguments[0])).find(e => e.innerText.trim() === '重大风险');"
        "return c ? getComputedStyle(c).backgroundColor : null;",
        f"#{page.DISTRICT_TABLE_PREFIX}basic td[data-dash-column='risk_level']")
    assert major == "rgb(230, 0, 18)"
    # the small map: outline plus one marker per risk point
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, f"#{page.DISTRICT_MAP} path.leaflet-interactive"))
               >= n + 1)

    # sort by code, both ways
    sort = f"#{page.DISTRICT_TABLE_PREFIX}basic th[data-dash-column='code'] .column-header--sort"
    driver.find_element(By.CSS_SELECTOR, sort).click()
    wait.until(lambda d: _column(d, "basic", "code") == sorted(points["code"]))
    driver.find_element(By.CSS_SELECTOR, sort).click()
    wait.until(lambda d: _column(d, "basic", "code") == sorted(points["code"], reverse=True))

    # filter by name: fewer rows, and the count says so
    expected = int(points["name"].str.contains("罐区").sum())
    assert 0 < expected < n
    box = driver.find_element(
        By.CSS_SELECTOR, f"#{page.DISTRICT_TABLE_PREFIX}basic th.dash-filter[data-dash-column='name'] input")
    box.click()
    box.send_keys("罐区", Keys.ENTER)
    wait.until(lambda d: len(_column(d, "basic", "name")) == expected)
    assert all("罐区" in s for s in _column(driver, "basic", "name"))
    wait.until(lambda d: _text(d, f"#{page.DISTRICT_COUNT_PREFIX}basic") == f"显示 {expected} 条，共 {n} 条")

    # completeness panel lists every district layer
    panel = _text(driver, f"#{page.DISTRICT_COMPLETENESS}")
    assert "数据完整性" in panel
    assert all(LAYERS[layer].zh in panel for layer in DISTRICT_LAYERS)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(artifacts / "district_lists.png"))

    # English: English headers and titles
    driver.find_element(By.XPATH, f"//*[@id='{ids.LANG}']//label[contains(., 'English')]").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".district-tabs"), "Basic list"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{page.DISTRICT_TABLE_PREFIX}basic td")))
    headers = _text(driver, f"#{page.DISTRICT_TABLE_PREFIX}basic")
    assert "Risk point code" in headers and "Risk level" in headers and "风险点编号" not in headers
    assert "Major risk" in headers
    assert "Data completeness" in _text(driver, f"#{page.DISTRICT_COMPLETENESS}")
    assert _text(driver, f"#{page.DISTRICT_COUNT_PREFIX}basic") == f"{n} of {n} rows"
    _clean(driver)


def test_unknown_district_offers_the_chooser(app_url, driver) -> None:
    driver.get(app_url + "/district/530199")
    WebDriverWait(driver, 20).until(ec.text_to_be_present_in_element((By.ID, ids.CONTENT), "530199"))
    assert len(driver.find_elements(By.CSS_SELECTOR, "a.district-link")) == 14
    _clean(driver)


# ---------------------------------------------------------------------------------------------
# writing: import and export on a private copy
# ---------------------------------------------------------------------------------------------
def _upload(driver, path: Path) -> None:
    # dcc.Upload loads asynchronously and is replaced after every import or re-preview: wait for a fresh
    # file input, and find it again if it was replaced between finding and typing
    for attempt in range(5):
        field = WebDriverWait(driver, 20).until(ec.presence_of_element_located(
            (By.CSS_SELECTOR, f"#{page.DISTRICT_UPLOAD} input[type=file]")))
        try:
            field.send_keys(str(path))
            return
        except StaleElementReferenceException:
            if attempt == 4:
                raise
            time.sleep(0.5)


def _report(driver) -> str:
    return _text(driver, f"#{page.DISTRICT_IMPORT_REPORT}") or ""


def _confirm(driver, wait: WebDriverWait, name: str) -> None:
    """Wait for the preview of ``name`` (nothing written yet), then click 确认导入."""
    wait.until(lambda d: name in _report(d) and "导入预览" in _report(d)
               and d.find_elements(By.ID, page.DISTRICT_IMPORT_CONFIRM))
    button = driver.find_element(By.ID, page.DISTRICT_IMPORT_CONFIRM)
    assert button.is_enabled()
    button.click()


def test_import_reports_in_the_page(writable, driver, artifacts, tmp_path) -> None:
    url, engine = writable
    wait = _open(driver, url)
    before = store.row_counts(engine)  # once the page is open (opening it may publish the city's rating)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})

    # an enterprise file under the default layer (重大风险点): the preview names the likely layer, no confirm
    good_file = _csv(tmp_path / "企业_正确.csv", [_enterprise(0), _enterprise(1)])
    _upload(driver, good_file)
    wait.until(lambda d: "这看起来是企业表，当前选择的是重大风险点" in _report(d))
    assert not driver.find_element(By.ID, page.DISTRICT_IMPORT_CONFIRM).is_enabled()
    assert store.row_counts(engine) == before
    # choosing the layer previews the same file again: two rows to insert, still nothing written
    choose_option(driver, page.DISTRICT_IMPORT_LAYER, "企业（enterprises）")
    wait.until(lambda d: "确认后将新增 2 行、更新 0 行" in _report(d) and "按表头识别的图层：企业" in _report(d))
    assert store.row_counts(engine) == before

    # a wrong check character: refused, the issue names row and field, nothing written
    good = credit_code(1)
    bad = good[:-1] + ("1" if good[-1] != "1" else "2")
    bad_file = _csv(tmp_path / "企业_错误.csv", [_enterprise(0), _enterprise(1, bad)])
    expected = check_file(engine, "enterprises", bad_file)[2].errors
    assert [i.row for i in expected] == ["第3行 / row 3"]
    _upload(driver, bad_file)
    wait.until(lambda d: "未写入任何数据" in _report(d) and "企业_错误.csv" in _report(d))
    issues = _text(driver, f"#{page.DISTRICT_ISSUES}")
    assert "第3行" in issues and expected[0].field in issues and "校验位" in issues and bad in issues
    assert not driver.find_element(By.ID, page.DISTRICT_IMPORT_CONFIRM).is_enabled()
    assert store.row_counts(engine) == before
    driver.execute_script("document.querySelector('.district-import').scrollIntoView()")
    driver.save_screenshot(str(artifacts / "district_import.png"))

    # a good file: previewed, confirmed, then the summary, and two more enterprises in the store and in the
    # completeness panel
    _upload(driver, good_file)
    _confirm(driver, wait, "企业_正确.csv")
    wait.until(lambda d: "导入成功" in _report(d))
    assert "共 2 行，导入 2 行" in _report(driver)
    after = store.row_counts(engine)
    assert after["enterprises"] == before["enterprises"] + 2
    n_ent = len(store.read_layer(engine, "enterprises", ANNING))
    wait.until(lambda d: driver.execute_script(
        "const t = document.querySelector(arguments[0]); if (!t) return false;"
        "return Array.from(t.querySelectorAll('tr')).some(r => {"
        "  const c = r.querySelectorAll('td'); return c.length && c[0].innerText.trim() === '企业' "
        "  && c[1].innerText.trim() === arguments[1]; });",
        f"#{page.DISTRICT_COMPLETENESS_TABLE}", str(n_ent)))

    # skip invalid rows: the good row goes in, the rejected one comes back as a CSV download
    driver.find_element(By.CSS_SELECTOR, f"#{page.DISTRICT_IMPORT_SKIP} input").click()
    mixed = _csv(tmp_path / "企业_部分.csv", [_enterprise(2), _enterprise(1, bad)])
    _upload(driver, mixed)
    _confirm(driver, wait, "企业_部分.csv")
    wait.until(lambda d: "导入成功" in _report(d) and "拒绝 1 行" in _report(d))
    assert store.row_counts(engine)["enterprises"] == before["enterprises"] + 3
    driver.find_element(By.ID, page.DISTRICT_REJECTS_BTN).click()
    wait.until(lambda d: list(tmp_path.glob("*.rejected.csv")))
    rejected = next(tmp_path.glob("*.rejected.csv"))
    assert bad in rejected.read_text(encoding="utf-8-sig")

    # oversized files are refused in the browser with a clear message
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(page.MAX_UPLOAD_BYTES + 1024 * 1024)
    _upload(driver, big)
    wait.until(lambda d: "超过 50 MB" in _report(d))
    assert store.row_counts(engine)["enterprises"] == before["enterprises"] + 3

    # the import template of the chosen layer
    driver.find_element(By.ID, page.DISTRICT_TEMPLATE_BTN).click()
    wait.until(lambda d: list(tmp_path.glob("enterprises_*.xlsx")))
    _clean(driver)


def test_export_pack_downloads_a_zip(writable, driver, tmp_path) -> None:
    url, engine = writable
    wait = _open(driver, url)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    n = len(store.read_layer(engine, "risk_points", ANNING))
    driver.find_element(By.ID, page.DISTRICT_EXPORT_BTN).click()  # default formats: gpkg + xlsx
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("*.zip")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.3)
    zips = list(tmp_path.glob("*.zip"))
    assert len(zips) == 1 and re.fullmatch(r"riskmap_530181_\d{8}\.zip", zips[0].name)
    with zipfile.ZipFile(zips[0]) as zf:
        names = zf.namelist()
        assert sorted(names) == ["riskmap_530181.gpkg", "riskmap_530181.xlsx"]
        zf.extractall(tmp_path / "pack")
    info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(tmp_path / "pack" / "riskmap_530181.gpkg")],
                          capture_output=True, text=True, check=True).stdout
    assert re.search(rf"Layer name: 基础清单\n(?:.*\n)*?Feature Count: {n}\n", info)
    wait.until(ec.text_to_be_present_in_element((By.ID, page.DISTRICT_EXPORT_STATUS), "riskmap_530181.gpkg"))
    _clean(driver)


def test_zip_and_payload_helpers() -> None:
    # the server re-checks what the browser sends
    payload = {"contents": "data:text/plain;base64," + base64.b64encode(b"x").decode()}
    assert page._decode(payload) == b"x"
    assert page._crs_value("file", None) is None and page._crs_value("epsg", " EPSG:4543 ") == "EPSG:4543"
    assert page._side("第3行 / row 3", "en") == "row 3" and page._side("第3行 / row 3", "zh") == "第3行"
