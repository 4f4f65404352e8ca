"""The planner map's 四色 filter: which levels of risk sources the workspace map draws.

- :func:`layers.planning.map_sources` keeps the enterprises and tailings ponds of the levels chosen and refuses
  a code that is not a 四色 level (the levels are ``layers.palette.FOUR_COLOUR``'s, not restated).
- The page's callback draws exactly those sources; a forged value keeps only the real levels in it.
- In the browser, the number of risk-source markers on the map follows the boxes ticked, and the choice
  survives a reload (it is kept for the browser session, like the other filters the browser keeps).
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import pytest
import shapely
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from geo import store
from geo.constants import STORAGE_SRID
from layers.city import city_snapshot
from layers.palette import FOUR_COLOUR, RiskLevel
from layers.planning import MAP_SOURCE_TYPES, map_sources
from tests.browser import assert_clean_page, served_app
from tests.clients import DemoApp, callback_body, demo_app_fixture, post_callback

pytestmark = pytest.mark.postgis
P_LEVEL, P_HAZARDS = "planner-filter-level", "planner-hazards"
ALL = [level.value for level in FOUR_COLOUR]


def _frame() -> gpd.GeoDataFrame:
    rows = [("enterprise", "major"), ("tailings_dam", "low"), ("hca", "major"), ("enterprise", "general"),
            ("risk_point", "major"), ("tailings_dam", "significant"), ("enterprise", "low")]
    return gpd.GeoDataFrame({"source_type": [r[0] for r in rows], "risk_level": [r[1] for r in rows],
                             "name": [f"s{i}" for i in range(len(rows))]},
                            geometry=[shapely.Point(102.7 + i / 100, 25.0) for i in range(len(rows))],
                            crs=STORAGE_SRID)


def test_map_sources_keeps_the_points_of_the_chosen_levels() -> None:
    frame = _frame()
    assert list(map_sources(frame)["name"]) == ["s0", "s1", "s3", "s5", "s6"]  # no HCA, no risk point
    assert list(map_sources(frame, ["major"])["name"]) == ["s0"]
    assert list(map_sources(frame, ("low", "significant"))["name"]) == ["s1", "s5", "s6"]
    assert map_sources(frame, []).empty
    assert set(map_sources(frame, ALL)["source_type"]) == set(MAP_SOURCE_TYPES)
    with pytest.raises(ValueError, match="purple"):
        map_sources(frame, ["major", "purple"])


planner = demo_app_fixture(secret="planner-level-secret", user="planner")


def _drawn(app: DemoApp, levels: Any) -> list[dict[str, Any]]:
    key = next(k for k in app.app.callback_map if k == f"{P_HAZARDS}.data")
    resp = post_callback(app.client, callback_body(app.app, key, {f"{P_LEVEL}.value": levels,
                                                                  "lang-switch.value": "zh"}, f"{P_LEVEL}.value"))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    features: list[dict[str, Any]] = json.loads(resp.get_data(as_text=True))["response"][P_HAZARDS]["data"].get(
        "features", [])
    return features


def test_the_callback_draws_the_sources_of_the_levels_ticked(planner: DemoApp) -> None:
    sources = city_snapshot(planner.owner).sources
    counts = {level: len(map_sources(sources, [level])) for level in ALL}
    assert all(counts.values()), counts  # the demo has sources of every level, so each box changes the map
    every = _drawn(planner, ALL)
    assert len(every) == sum(counts.values()) == len(map_sources(sources))
    for level in ALL:
        drawn = _drawn(planner, [level])
        assert {f["properties"]["level"] for f in drawn} == {level}
        assert len(drawn) == counts[level]
        assert {f["properties"]["colour"] for f in drawn} == {FOUR_COLOUR[RiskLevel(level)].hex}
    two = _drawn(planner, ["major", "low"])
    assert len(two) == counts["major"] + counts["low"]
    assert _drawn(planner, []) == []
    forged = _drawn(planner, ["major", "low; DROP TABLE", 1, None])
    assert len(forged) == counts["major"]
    assert len(_drawn(planner, "major")) == 0  # not a list: nothing chosen
    with planner.owner.connect() as conn:
        assert store.district_codes(conn)  # the store is intact


def _markers(driver: Any) -> dict[str, int]:
    """Risk-source markers on the planner map, by level (the features of the level-filtered layer)."""
    counts: dict[str, int] = driver.execute_script(
        "const m = (window.riskmapMaps || {})['planner-map']; if (!m) return null; const n = {};"
        "m.eachLayer(l => { const p = l.feature && l.feature.properties;"
        " if (p && p.level) { n[p.level] = (n[p.level] || 0) + 1; } }); return n;")
    return counts


def _tick(driver: Any, level: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"#{P_LEVEL} input[value='{level}']").click()


@pytest.mark.browser
def test_browser_markers_follow_the_boxes_and_the_choice_survives_a_reload(demo_db: str, driver: Any,
                                                                             artifacts: Any) -> None:
    engine = store.make_engine(demo_db)
    try:
        sources = city_snapshot(engine).sources
    finally:
        engine.dispose()
    counts = {level: len(map_sources(sources, [level])) for level in ALL}
    with served_app(demo_db) as url:
        driver.get(url + "/planner")
        wait = WebDriverWait(driver, 60)
        wait.until(lambda d: _markers(d) == counts)
        labels = driver.find_element(By.ID, P_LEVEL).text
        assert all(FOUR_COLOUR[RiskLevel(level)].zh in labels for level in ALL)
        _tick(driver, "major")  # untick 重大
        wait.until(lambda d: _markers(d) == {k: v for k, v in counts.items() if k != "major"})
        _tick(driver, "general")
        _tick(driver, "low")
        wait.until(lambda d: _markers(d) == {"significant": counts["significant"]})
        driver.refresh()  # the choice is kept for the session
        wait.until(lambda d: _markers(d) == {"significant": counts["significant"]})
        ticked = [e.get_attribute("value") for e in driver.find_elements(By.CSS_SELECTOR, f"#{P_LEVEL} input")
                  if e.is_selected()]
        assert ticked == ["significant"]
        _tick(driver, "major")
        wait.until(lambda d: _markers(d) == {"significant": counts["significant"], "major": counts["major"]})
        driver.save_screenshot(str(artifacts / "planner_levels.png"))
        assert_clean_page(driver)
