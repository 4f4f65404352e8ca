"""In a browser: the 安宁 officer reads the city's rating of 安宁 (第 N/14 名, the leader's score).

Also checks what the leader reads about the rating and the counts: the method note is written for a
leader (no developer text) and every KPI tile says what it counts.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import console_errors, sign_in
from tests.browser import text_at as _text

pytestmark = [pytest.mark.browser, pytest.mark.postgis]
ANNING = "530181"
DEVELOPER_TEXT = ("standards.md", "§8.2", "minmax", "origin=", "(c1)", "(c5)", "cap:")


def _rating(driver: Any, base: str, user: str) -> tuple[str, str]:
    """Sign in as ``user``, open 安宁's workspace and read its score and rank."""
    sign_in(driver, base, user, f"/district/{ANNING}")
    wait = WebDriverWait(driver, 60)
    wait.until(ec.presence_of_element_located((By.ID, "district-rank")))
    score, rank = _text(driver, "#district-score"), _text(driver, "#district-rank")
    assert console_errors(driver) == []
    driver.find_element(By.ID, "nav-logout").click()
    wait.until(ec.presence_of_element_located((By.NAME, "username")))
    return score, rank


def test_officer_reads_the_city_rank_and_the_leaders_score(secured: tuple[str, Any], driver: Any) -> None:
    base, _ = secured
    officer = _rating(driver, base, "anning")  # first: nothing of this data version is published yet
    leader = _rating(driver, base, "leader")
    found = re.fullmatch(r"全市第 (\d+)/(\d+) 名", officer[1])
    assert found, officer
    assert int(found.group(2)) == 14 and 1 <= int(found.group(1)) <= 14
    assert re.fullmatch(r"得分 \d+\.\d", officer[0]), officer
    assert officer == leader


def test_leader_reads_the_method_and_what_each_tile_counts(secured: tuple[str, Any], driver: Any) -> None:
    base, _ = secured
    sign_in(driver, base, "leader", "/")
    wait = WebDriverWait(driver, 60)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".method-note")))
    note = _text(driver, ".method-note")
    assert "五色评级" in note and "指标权重" in note and "分级" in note
    assert not [w for w in DEVELOPER_TEXT if w in note], note
    tiles = {t.get_attribute("id"): (t.get_attribute("title") or "")
             for t in driver.find_elements(By.CSS_SELECTOR, ".kpi")}
    assert len(tiles) >= 7 and all(tiles.values()), tiles
    assert "只计一次" in tiles["kpi-kpi_major"] and "违规" in tiles["kpi-kpi_violations"]
    assert console_errors(driver) == []
