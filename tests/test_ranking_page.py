"""The 晾晒 page (/ranking) on the server: taking last month's snapshot, the ranking and its change, an officer's row.

The app runs with sign-in on, as ``riskmap_app``, on a private copy of the demo; callbacks are posted
as the browser posts them, signed in as the leader and as the 安宁 officer.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine, text

from dashboard.pages import ranking
from geo import embedded, store
from layers.ranking import CRITERIA
from layers.snapshots import month_ends
from tests.browser import (
    column_texts,
    console_errors,
    served_signed_in_copy,
    sideways_overflow,
    sign_in,
    text_at,
    ui_text,
)
from tests.clients import DemoApp, callback_body, demo_app_fixture, log_in, post_callback, route_text

pytestmark = pytest.mark.postgis
ANNING = "530181"
LAST = month_ends(dt.date.today(), 1)[0]
BEFORE = month_ends(dt.date.today(), 2)[0]


def backdate_history(owner: Engine, days: int = 90) -> None:
    """Move the copy's whole history ``days`` back and forget its stored snapshots: an install whose data has a
    past (last month has figures) but where nobody has saved a month-end snapshot yet."""
    with owner.begin() as conn:
        conn.execute(text("UPDATE row_versions SET valid_from = valid_from - make_interval(days => :d), "
                          "valid_to = valid_to - make_interval(days => :d)"), {"d": days})
        # the demo stores its month ends; the owner of this test copy lifts the append-only guard to drop them
        conn.execute(text("ALTER TABLE measure_snapshots DISABLE TRIGGER measure_snapshots_append_only"))
        conn.execute(text("DELETE FROM measure_snapshots"))
        conn.execute(text("ALTER TABLE measure_snapshots ENABLE TRIGGER measure_snapshots_append_only"))


leader = demo_app_fixture(secret="ranking-secret", user="leader", prepare=backdate_history)


def _call(client: Any, app: Any, output_prefix: str, values: dict[str, Any], trigger: str) -> Any:
    key = next(k for k, cb in app.callback_map.items() if "callback" in cb and output_prefix in k)
    resp = post_callback(client, callback_body(app, key, {"lang-switch.value": "zh", **values}, trigger))
    assert resp.status_code in (200, 204), resp.get_data(as_text=True)[:500]
    return json.loads(resp.get_data(as_text=True))["response"] if resp.status_code == 200 else None


def _show(client: Any, app: Any, day: str, criterion: str) -> dict[str, Any]:
    return _call(client, app, "rk-districts.data", {"rk-month.value": day, "rk-criterion.value": criterion},
                 "rk-month.value")


def _take_button_style(page: str) -> Any:
    """The style of the block holding the snapshot button in a rendered page (None when there is none)."""
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            kids = node.get("props", {}).get("children")
            if isinstance(kids, list) and any(isinstance(k, dict) and k.get("props", {}).get("id") == ranking.RK_TAKE
                                              for k in kids):
                return node["props"].get("style")
            for value in node.values():
                found = walk(value)
                if found is not None:
                    return found
        elif isinstance(node, list):
            for value in node:
                found = walk(value)
                if found is not None:
                    return found
        return None
    return walk(json.loads(page))


def _plain(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


def _officer(app: Any) -> Any:
    client = app.server.test_client()
    log_in(client, "anning")
    return client


def test_no_snapshot_then_the_leader_takes_last_months_and_sees_every_district_ranked(leader: DemoApp) -> None:
    page = route_text(leader.client, "/ranking")
    assert "尚未保存任何月末统计快照" in page and _take_button_style(page) == {}
    refused = _call(_officer(leader.app), leader.app, "rk-month.options", {"rk-take.n_clicks": 1}, "rk-take.n_clicks")
    assert refused["rk-message"]["children"] == "当前账号无此权限"
    assert store.read_snapshots(leader.owner).empty  # the officer stored nothing

    taken = _call(leader.client, leader.app, "rk-month.options", {"rk-take.n_clicks": 1}, "rk-take.n_clicks")
    assert taken["rk-month"]["value"] == LAST.isoformat()
    assert taken["rk-none"]["style"] == taken["rk-take-row"]["style"] == {"display": "none"}
    assert [o["label"] for o in taken["rk-month"]["options"]] == [f"{LAST.year}年{LAST.month}月"]
    stored = store.read_snapshots(leader.owner, kind="month_end")
    assert len(stored) == 15 and set(stored["taken_by"]) == {"leader"}
    with leader.owner.connect() as conn:
        audited = conn.execute(text("SELECT actor, target FROM audit_log WHERE action = 'snapshot'")).all()
    assert [tuple(a) for a in audited] == [("leader", LAST.isoformat())]

    shown = _show(leader.client, leader.app, LAST.isoformat(), "score")
    rows = shown["rk-districts"]["data"]
    names = store.district_codes(leader.owner)
    assert sorted(r["name"] for r in rows) == sorted(names.values()) and len(rows) == 14
    assert all(r["rank"] != "—" for r in rows) and rows[0]["rank"] == "1"
    assert [int(r["rank"]) for r in rows] == sorted(int(r["rank"]) for r in rows)
    assert {r["previous_rank"] for r in rows} == {"—"}  # no earlier month stored: no change to show
    assert shown["rk-print-title"]["children"] == f"{LAST.year}年{LAST.month}月安全风险晾晒排名（五色评分）"
    assert "月末统计快照" in shown["rk-note"]["children"]
    industries = shown["rk-industries"]["data"]
    assert len(industries) == 19 and industries[0]["industry"] and industries[0]["lead"]
    assert _take_button_style(route_text(leader.client, "/ranking")) == {"display": "none"}  # taken: not offered


def test_change_since_the_month_before_is_judged_the_way_the_criterion_is_better(leader: DemoApp) -> None:
    if store.read_snapshots(leader.owner, kind="month_end").empty:
        _call(leader.client, leader.app, "rk-month.options", {"rk-take.n_clicks": 1}, "rk-take.n_clicks")
    now = store.read_snapshots(leader.owner, since=LAST, until=LAST, kind="month_end")
    worse, better = "530102", "530103"  # 五华区 had a lower (better) score the month before, 盘龙区 a higher one
    rows = []
    for r in now.to_dict("records"):
        score = r["score"]
        if r["scope"] == worse:
            score = float(score) - 7.5
        elif r["scope"] == better:
            score = float(score) + 7.5
        rows.append({"scope": r["scope"], "measures": r["measures"], "score": _plain(score),
                     "class_code": _plain(r["class_code"]), "rank": _plain(r["rank"]), "n_districts": r["n_districts"]})
    store.insert_snapshots(leader.owner, rows, period_end=BEFORE, kind="month_end",
                           rubric_version=str(now["rubric_version"].iloc[0]), taken_by="test")
    shown = _show(leader.client, leader.app, LAST.isoformat(), "score")
    by_code = {r["adcode"]: r for r in shown["rk-districts"]["data"]}
    assert by_code[worse]["change"] == "↓ +7.5" and by_code[better]["change"] == "↑ −7.5"
    assert all(r["change"] == "→" for c, r in by_code.items() if c not in (worse, better))
    assert all(r["previous_rank"] != "—" for r in by_code.values())
    for criterion in CRITERIA:  # every tab renders, in both languages
        assert _show(leader.client, leader.app, LAST.isoformat(), criterion)["rk-districts"]["data"]
    en = _call(leader.client, leader.app, "rk-districts.data",
               {"rk-month.value": LAST.isoformat(), "rk-criterion.value": "rate_all", "lang-switch.value": "en"},
               "rk-month.value")
    assert en["rk-print-title"]["children"].startswith("Ranking of")


def test_an_officer_sees_the_own_row_with_the_stored_rank_not_a_ranking_of_one(leader: DemoApp) -> None:
    if store.read_snapshots(leader.owner, kind="month_end").empty:
        _call(leader.client, leader.app, "rk-month.options", {"rk-take.n_clicks": 1}, "rk-take.n_clicks")
    stored = store.read_snapshots(leader.owner, since=LAST, until=LAST, kind="month_end")
    own = stored[stored["scope"] == ANNING].iloc[0]
    officer = _officer(leader.app)
    page = route_text(officer, "/ranking")
    assert _take_button_style(page) == {"display": "none"}  # an officer may not take snapshots
    shown = _show(officer, leader.app, LAST.isoformat(), "score")
    rows = shown["rk-districts"]["data"]
    assert [r["adcode"] for r in rows] == [ANNING]
    assert rows[0]["rank"] == str(int(own["rank"]))
    assert f"第 {int(own['rank'])} 名 / 共 14 个区县" in shown["rk-note"]["children"]
    other = _show(officer, leader.app, LAST.isoformat(), "overdue_hazards")["rk-districts"]["data"]
    assert [r["rank"] for r in other] == ["—"]  # not "1 of 1"
    assert _show(officer, leader.app, "2020-01-31", "score")["rk-districts"]["data"] == []
    assert ranking.PAGES[0].action == "generate_report"


@pytest.mark.browser
def test_browser_leader_takes_the_snapshot_sees_fourteen_districts_ranked_and_prints(
        pg_cluster: embedded.Cluster, demo_db: str, tmp_path: Path, driver: Any, artifacts: Path) -> None:
    with served_signed_in_copy(pg_cluster, demo_db, tmp_path / "home") as (base, owner):
        backdate_history(owner)
        sign_in(driver, base, "leader", ranking.PATH)
        wait = WebDriverWait(driver, 60)
        wait.until(ec.presence_of_element_located((By.ID, "rk-none")))
        assert "尚未保存任何月末统计快照" in (text_at(driver, "#ranking-page") or "")
        wait.until(ec.element_to_be_clickable((By.ID, ranking.RK_TAKE))).click()
        wait.until(ec.presence_of_element_located((By.ID, "rk-done")))
        wait.until(lambda d: len(column_texts(d, ranking.RK_DISTRICTS, "rank")) == 14)
        assert not driver.find_element(By.ID, ranking.RK_TAKE).is_displayed()
        assert not driver.find_element(By.ID, ranking.RK_NONE).is_displayed()
        names = column_texts(driver, ranking.RK_DISTRICTS, "name")
        assert sorted(names) == sorted(store.district_codes(owner).values())
        assert column_texts(driver, ranking.RK_DISTRICTS, "rank")[0] == "1"
        assert f"{LAST.year}年{LAST.month}月安全风险晾晒排名" in (text_at(driver, f"#{ranking.RK_TITLE}") or "")
        wait.until(lambda d: len(column_texts(d, ranking.RK_INDUSTRIES, "industry")) == 19)
        driver.find_element(By.XPATH, "//div[contains(@class, 'tab') and normalize-space()='五色评分']").click()
        wait.until(lambda d: "五色评分" in (text_at(d, f"#{ranking.RK_TITLE}") or ""))
        assert "Rank" not in ui_text(driver) and "Last month" not in ui_text(driver)
        driver.save_screenshot(str(artifacts / "ranking.png"))
        # on paper: the title and the tables, no header, tabs or buttons
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        shown = driver.execute_script(
            "return ['.top-bar', '#rk-print', '#rk-criterion', '#rk-print-title', '#rk-districts', '#rk-industries']"
            ".map(s => { const e = document.querySelector(s); return !!e && getComputedStyle(e).display !== 'none'"
            " && e.getClientRects().length > 0; });")
        assert shown == [False, False, False, True, True, True]
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        driver.set_window_size(390, 844)
        wait.until(lambda d: sideways_overflow(d) == 0)
        assert console_errors(driver) == []
