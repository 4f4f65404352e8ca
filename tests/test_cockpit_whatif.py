"""The cockpit's 五色 what-if (模拟) and hexagon density grid (issue 14 item 12).

The app runs with sign-in on, as ``riskmap_app``, on a private copy of the demo; callbacks are posted as the
browser posts them. The what-if figures must be :func:`layers.rating.what_if`'s for the same change, nothing may
be stored, and the hexagons must count every risk source once. One browser test saves
``artifacts/cockpit_whatif.png``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from shapely.geometry import shape
from sqlalchemy import text

from dashboard.pages import cockpit_whatif as wi
from geo import embedded, store
from geo.constants import STORAGE_SRID
from layers.city import CitySnapshot, publish_city
from layers.rating import close_hazard, what_if
from tests.browser import choose_option, console_errors, served_signed_in_copy, sideways_overflow, sign_in
from tests.clients import DemoApp, callback_body, demo_app_fixture, log_in, post_callback, route_text

pytestmark = pytest.mark.postgis
XISHAN, ANNING, DONGCHUAN = "530112", "530181", "530113"


demo = demo_app_fixture(secret="whatif-secret")


@pytest.fixture(scope="module")
def city(demo: DemoApp) -> CitySnapshot:
    """The whole city's snapshot, computed with the owner's engine (what a leader's session sees)."""
    return publish_city(demo.owner)


def _client(demo: DemoApp, user: str) -> Any:
    client = demo.app.server.test_client()
    log_in(client, user)
    return client


def _call(client: Any, demo: DemoApp, output: str, values: dict[str, Any], trigger: str) -> Any:
    key = next(k for k, cb in demo.app.callback_map.items() if "callback" in cb and output in k)
    resp = post_callback(client, callback_body(demo.app, key, {"lang-switch.value": "zh", **values}, trigger))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return json.loads(resp.get_data(as_text=True))["response"]


def _find(tree: Any, ident: str) -> Any:
    """The component with id ``ident`` in a rendered response."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == ident:
            return tree
        for value in tree.values():
            found = _find(value, ident)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for value in tree:
            found = _find(value, ident)
            if found is not None:
                return found
    return None


def _shown(result: Any, ident: str) -> str:
    return str(_find(result, ident)["props"]["children"])


def _boxes(codes: tuple[str, ...], values: dict[str, float]) -> dict[str, Any]:
    return {f"{wi.WI_IND.format(c)}.value": values[c] for c in codes}


def _simulate(client: Any, demo: DemoApp, adcode: str, boxes: dict[str, Any]) -> Any:
    return _call(client, demo, f"{wi.WI_RESULT}.children", {f"{wi.WI_DISTRICT}.value": adcode, **boxes},
                 f"{wi.WI_DISTRICT}.value")


def test_what_if_shows_the_library_figures_for_closing_hazards_and_stores_nothing(demo: DemoApp, city: CitySnapshot
                                                                                  ) -> None:
    leader = _client(demo, "leader")
    page = route_text(leader, "/")
    assert "wi-panel" in page and "五色评级模拟（仅供推演，不保存）" in page
    codes = tuple(city.rubric.codes)
    version = store.data_version(demo.owner)
    with demo.owner.connect() as conn:
        published = conn.execute(text("SELECT count(*), max(published_at), sum(score) FROM published_ratings")).one()

    n = min(10, int(city.indicators.loc[XISHAN, "open_major_hazards"]))
    assert n > 0, "the demo's 西山区 has open major hazards to close"
    filled = _call(leader, demo, f"{wi.WI_IND.format(codes[0])}.value",
                   {f"{wi.WI_DISTRICT}.value": XISHAN, f"{wi.WI_CLOSE_N}.value": n, f"{wi.WI_CLOSE}.n_clicks": 1},
                   f"{wi.WI_CLOSE}.n_clicks")
    values = {c: filled[wi.WI_IND.format(c)]["value"] for c in codes}
    # the boxes show the values rounded to wi.DECIMALS places; the simulation uses what they show
    change = {XISHAN: {c: round(v, wi.DECIMALS) for c, v in close_hazard(city.indicators, XISHAN, n)[XISHAN].items()}}
    assert values["open_major_hazards"] == city.indicators.loc[XISHAN, "open_major_hazards"] - n
    assert {c: v for c, v in values.items() if v != round(city.indicators.loc[XISHAN, c], wi.DECIMALS)} == \
        change[XISHAN]

    expected = what_if(city.indicators, change, city.rubric).loc[XISHAN]
    shown = _simulate(leader, demo, XISHAN, _boxes(codes, values))
    result = shown[wi.WI_RESULT]["children"]
    assert _shown(result, "wi-sim-score") == f"{expected['score']:.1f}"
    assert _shown(result, "wi-sim-class") == expected["class_zh"]
    assert _shown(result, "wi-sim-rank") == f"第 {expected['rank']} / {len(city.indicators)} 名"
    now = city.ratings.loc[XISHAN]
    assert _shown(result, "wi-now-score") == f"{now['score']:.1f}"
    assert _shown(result, "wi-now-class") == now["class_zh"]
    assert _shown(result, "wi-delta") == f"{expected['score'] - now['score']:+.1f}"
    assert "模拟" in json.dumps(result, ensure_ascii=False)
    assert float(expected["score"]) < float(now["score"])  # closing hazards lowers the risk score
    # the map shows the simulated 五色 of every district (min-max scores move the others too)
    after = what_if(city.indicators, change, city.rubric)
    fills = {f["properties"]["adcode"]: f["properties"]["fill5"] for f in shown[wi.WI_DISTRICTS]["data"]["features"]}
    assert fills == after["colour"].to_dict()

    # any indicator, in its unit: no overdue hazards and a full rectification rate
    manual = {**current(city, XISHAN), "overdue_hazards": 0.0, "rectification_rate": 1.0}
    expected = what_if(city.indicators, {XISHAN: {"overdue_hazards": 0.0, "rectification_rate": 1.0}},
                       city.rubric).loc[XISHAN]
    result = _simulate(leader, demo, XISHAN, _boxes(codes, manual))[wi.WI_RESULT]["children"]
    assert _shown(result, "wi-sim-score") == f"{expected['score']:.1f}"
    assert _shown(result, "wi-sim-rank") == f"第 {expected['rank']} / {len(city.indicators)} 名"
    # reset: the current values, and unchanged values simulate the current rating
    reset = _call(leader, demo, f"{wi.WI_IND.format(codes[0])}.value",
                  {f"{wi.WI_DISTRICT}.value": XISHAN, f"{wi.WI_RESET}.n_clicks": 1}, f"{wi.WI_RESET}.n_clicks")
    assert {c: reset[wi.WI_IND.format(c)]["value"] for c in codes} == \
        {c: round(v, wi.DECIMALS) for c, v in current(city, XISHAN).items()}
    boxes = {c: reset[wi.WI_IND.format(c)]["value"] for c in codes}
    same = _simulate(leader, demo, XISHAN, _boxes(codes, boxes))[wi.WI_RESULT]["children"]
    assert _shown(same, "wi-sim-score") == _shown(same, "wi-now-score") == f"{now['score']:.1f}"
    # bad values are refused with the indicator's name; closing more hazards than are open is refused
    bad = _simulate(leader, demo, XISHAN, {**_boxes(codes, current(city, XISHAN)),
                                           f"{wi.WI_IND.format('overdue_hazards')}.value": -3})
    assert "逾期未整改隐患" in json.dumps(bad, ensure_ascii=False)
    too_many = _call(leader, demo, wi.WI_NOTE, {f"{wi.WI_DISTRICT}.value": XISHAN, f"{wi.WI_CLOSE_N}.value": 10_000,
                                                f"{wi.WI_CLOSE}.n_clicks": 1}, f"{wi.WI_CLOSE}.n_clicks")
    assert "无法代入" in json.dumps(too_many, ensure_ascii=False)
    # nothing was stored: no data version, no rating published
    assert store.data_version(demo.owner) == version
    with demo.owner.connect() as conn:
        after = conn.execute(text("SELECT count(*), max(published_at), sum(score) FROM published_ratings")).one()
    assert after == published


def current(city: CitySnapshot, adcode: str) -> dict[str, float]:
    return {c: float(city.indicators.loc[adcode, c]) for c in city.rubric.codes}


def _anchor(geom: Any) -> Any:
    """A source's place as the grid counts it: a point, the middle of a line, a point inside a polygon."""
    if geom.geom_type in ("LineString", "MultiLineString"):
        line = shapely.line_merge(geom) if geom.geom_type == "MultiLineString" else geom
        return shapely.line_interpolate_point(line, 0.5, normalized=True)
    return geom if geom.geom_type == "Point" else geom.representative_point()


def test_hexagons_count_every_source_once_and_one_cell_directly(demo: DemoApp, city: CitySnapshot) -> None:
    leader = _client(demo, "leader")
    sizes, default = wi.grid_settings()
    assert default in sizes and all(s > 0 for s in sizes)
    off = _call(leader, demo, f"{wi.WI_HEX}.data", {f"{wi.WI_HEX_ON}.value": [], f"{wi.WI_HEX_SIZE}.value": 2000},
                f"{wi.WI_HEX_ON}.value")
    assert off[wi.WI_HEX]["data"]["features"] == []
    on = _call(leader, demo, f"{wi.WI_HEX}.data", {f"{wi.WI_HEX_ON}.value": ["on"], f"{wi.WI_HEX_SIZE}.value": 2000},
               f"{wi.WI_HEX_ON}.value")
    cells = on[wi.WI_HEX]["data"]["features"]
    assert len(cells) > 10
    assert sum(c["properties"]["n_sources"] for c in cells) == len(city.sources)
    assert "风险源密度" in json.dumps(on[wi.WI_LEGEND], ensure_ascii=False)
    # the fullest cell, counted directly: sources whose anchor lies in the hexagon (in metres)
    top = max(cells, key=lambda c: c["properties"]["n_sources"])
    hexagon = gpd.GeoSeries([shape(top["geometry"])], crs=STORAGE_SRID).to_crs(city.bundle.metric_epsg).iloc[0]
    anchors = gpd.GeoSeries([_anchor(g) for g in city.sources.geometry.to_crs(STORAGE_SRID)], crs=STORAGE_SRID)
    inside = int(anchors.to_crs(city.bundle.metric_epsg).within(hexagon).sum())
    assert top["properties"]["n_sources"] == inside > 1
    # its width across flats is the cell size in metres (a forged size falls back to the default)
    xs = [p[0] for p in hexagon.exterior.coords]
    assert max(xs) - min(xs) == pytest.approx(2000.0, abs=1.0)
    forged = _call(leader, demo, f"{wi.WI_HEX}.data", {f"{wi.WI_HEX_ON}.value": ["on"], f"{wi.WI_HEX_SIZE}.value": 7},
                   f"{wi.WI_HEX_SIZE}.value")
    assert len(forged[wi.WI_HEX]["data"]["features"]) == len(wi.hex_cells(city, default))


def test_a_district_account_gets_a_note_not_a_simulation(demo: DemoApp) -> None:
    officer = _client(demo, "anning")
    page = route_text(officer, "/")
    assert "wi-panel" in page and "区县账号无法模拟" in page
    for adcode in (ANNING, DONGCHUAN):
        shown = _simulate(officer, demo, adcode, {})
        assert "区县账号无法模拟" in json.dumps(shown, ensure_ascii=False)
    hexes = _call(officer, demo, f"{wi.WI_HEX}.data", {f"{wi.WI_HEX_ON}.value": ["on"],
                                                       f"{wi.WI_HEX_SIZE}.value": 5000}, f"{wi.WI_HEX_ON}.value")
    districts = publish_city(demo.owner).bundle["districts"]
    outline = districts[districts["adcode"] == ANNING].geometry.iloc[0]
    cells = hexes[wi.WI_HEX]["data"]["features"]
    assert cells and all(shape(c["geometry"]).intersects(outline) for c in cells)


@pytest.mark.browser
def test_browser_leader_simulates_xishan_and_shows_the_grid(pg_cluster: embedded.Cluster, demo_db: str,
                                                             tmp_path: Path, driver: Any, artifacts: Path) -> None:
    with served_signed_in_copy(pg_cluster, demo_db, tmp_path / "home") as (base, _owner):
        sign_in(driver, base, "leader", "/")
        wait = WebDriverWait(driver, 90)
        panel = wait.until(ec.presence_of_element_located((By.ID, "wi-panel")))
        driver.execute_script("arguments[0].scrollIntoView();", panel)
        choose_option(driver, wi.WI_DISTRICT, "西山区")
        wait.until(ec.presence_of_element_located((By.ID, "wi-sim-score")))
        assert driver.find_element(By.ID, "wi-delta").text == "+0.0"  # nothing changed yet
        count = driver.find_element(By.ID, wi.WI_CLOSE_N)
        count.clear()
        count.send_keys("1")
        driver.find_element(By.ID, wi.WI_CLOSE).click()
        wait.until(lambda d: d.find_element(By.ID, "wi-delta").text not in ("", "+0.0"))
        assert driver.find_element(By.ID, "wi-delta").text.startswith("-")
        driver.find_element(By.CSS_SELECTOR, f"#{wi.WI_HEX_ON} input").click()
        wait.until(lambda d: d.execute_script(
            f"return document.querySelectorAll('#{wi.WI_MAP} path.leaflet-interactive').length") > 30)
        driver.execute_script("document.getElementById('wi-panel').scrollIntoView();")
        driver.save_screenshot(str(artifacts / "cockpit_whatif.png"))
        assert "模拟" in driver.find_element(By.ID, wi.WI_RESULT).text
        driver.set_window_size(390, 844)
        wait.until(lambda d: sideways_overflow(d) == 0)
        assert console_errors(driver) == []
