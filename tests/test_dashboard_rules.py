"""The check-rules page (/admin/rules): planners read, administrators change and reset values; forged changes refused.

Callbacks are posted as the browser would (Flask test client, sign-in on, the app connected as
``riskmap_app`` over a private copy of the demo), then the same page is driven in headless Chromium.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import shapely
from pyproj import Transformer
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from shapely.ops import transform
from sqlalchemy import Engine, text

from dashboard import ids
from dashboard.pages import planner
from dashboard.pages import rules as page
from geo import store
from geo.checks.ruleset import load_ruleset
from geo.rule_admin import effective_ruleset, value_states
from tests.browser import (
    assert_clean_page,
    column_texts,
    sign_in,
    text_at,
)
from tests.clients import callback_outputs, demo_app, log_in, log_out, post_callback, route_text

BASE = load_ruleset()
LOCAL = re.compile(rf"{re.escape(BASE.version)}\+local\.[0-9a-f]{{8}}")
SPACING, CROWDED = "PIPE_SPACING", "params.required_m.gas.crowded"
REASON = "昆明市管道保护办法第12条"


# ---------------------------------------------------------------------------------------------
# helpers without a database
# ---------------------------------------------------------------------------------------------
def test_cell_text_filters_and_selection_checks() -> None:
    assert page.value_text(5.0, "threshold_m", "zh") == "5 m"
    assert page.value_text(3e-07, "params.criteria.general_1.new", "en") == "3e-07"
    assert page.value_text(18, "params.max_months", "zh") == "18"
    assert page.value_text(762.0, "params.large_d_mm", "zh") == "762"  # millimetres are not metres
    assert (page.value_text(True, "inclusive", "zh"), page.value_text(False, "inclusive", "en")) == ("是", "no")
    assert page.confidence_text("unconfirmed", "zh") == "▲ 待核实"
    assert page.confidence_text("confirmed", "en") == "Confirmed"
    assert page.parse_selected({"code": SPACING, "path": CROWDED}) == (SPACING, CROWDED)
    for bad in (None, "PIPE_OCCUPY", {"code": "PIPE_OCCUPY"}, {"code": "NOPE", "path": "threshold_m"},
                {"code": ["PIPE_OCCUPY"], "path": "threshold_m"}, {"code": "PIPE_OCCUPY", "path": 'x" || "1'},
                {"code": "ESD_DECLARED", "path": "threshold_m"}):
        assert page.parse_selected(bad) is None, bad
    cell = {"row": 1, "column": 0, "column_id": "code"}
    viewport = [{"id": "PIPE_OCCUPY|threshold_m"}, {"id": f"{SPACING}|{CROWDED}"}]
    assert page._selected_from_cell(cell, viewport) == {"code": SPACING, "path": CROWDED}
    assert page._selected_from_cell({**cell, "row_id": "PIPE_OCCUPY|inclusive"}, viewport) == {
        "code": "PIPE_OCCUPY", "path": "inclusive"}
    for bad_cell, bad_rows in ((None, viewport), ({"row": 5}, viewport), ({"row": True}, viewport),
                               ({"row": 0}, [{"id": "PIPE_OCCUPY"}]), ({"row": 0}, "x"), ({"row_id": "A|B"}, [])):
        assert page._selected_from_cell(bad_cell, bad_rows) is None

    local, states = _file_states()
    rows = page.table_rows(local, states, "zh")
    assert len(rows) == len(states)
    assert {r["family"] for r in rows} == {rule.family for rule in BASE.rules.values()} >= {
        "safety_distance", "pipeline", "hca", "tailings"}
    assert all(page.family_label(r["family"], "zh") != r["family"] for r in rows)  # every family has a name
    spacing = next(r for r in rows if r["id"] == f"{SPACING}|{CROWDED}")
    assert spacing["confidence"] == "▲ 待核实" and spacing["file_value"] == spacing["current"] == "5 m"
    assert spacing["changed"] == "no" and spacing["actor"] == spacing["at"] == spacing["reason"] == ""
    unconfirmed = page.filter_rows(rows, None, ["unconfirmed"])
    assert unconfirmed and {r["confidence_code"] for r in unconfirmed} == {"unconfirmed"}
    assert {r["family"] for r in page.filter_rows(rows, "pipeline", [])} == {"pipeline"}
    assert page.filter_rows(rows, None, ["changed"]) == []
    assert page.filter_rows(rows, {"x": 1}, "changed") == rows  # forged filter values are ignored, not errors


def _file_states() -> tuple[Any, list[Any]]:
    """The rule file as value_states shows it with no local values."""
    from geo.rule_admin import ValueState, apply_overrides, editable_values

    local = apply_overrides(BASE, [])
    return local, [ValueState(v, v.value) for v in editable_values(BASE)]


# ---------------------------------------------------------------------------------------------
# callbacks through the Flask test client (sign-in on)
# ---------------------------------------------------------------------------------------------
class Client:
    """A signed-in test client of one app, with the owner engine of its database."""

    def __init__(self, app: Any, owner: Engine) -> None:
        self.app, self.owner, self.http = app, owner, app.server.test_client()
        self.refused = False  # expect every callback post to be refused (403) for the signed-in role
        self.keys = {name: next(k for k in app.callback_map if k.startswith(prefix)) for name, prefix in (
            ("rows", f"..{page.RULES_TABLE}.data"), ("select", f"{page.RULES_SELECTED}.data"),
            ("show", f"..{page.RULES_EDITOR}.children"), ("change", f"..{page.RULES_REFRESH}.data"),
            ("precheck", f"..{planner.P_RINGS}.data"))}

    def login(self, user: str) -> None:
        log_out(self.http)
        log_in(self.http, user)

    def post(self, name: str, inputs: list[tuple[str, str, Any]], state: list[tuple[str, str, Any]],
             changed: str) -> dict[str, Any]:
        key = self.keys[name]
        body = {"output": key, "outputs": callback_outputs(key),
                "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
                "state": [{"id": i, "property": p, "value": v} for i, p, v in state], "changedPropIds": [changed]}
        resp = post_callback(self.http, body)
        if self.refused:  # the callback role check answers before the callback runs
            assert resp.status_code == 403 and "当前账号无此权限" in resp.get_data(as_text=True), resp.status_code
            return {}
        assert resp.status_code in (200, 204), resp.get_data(as_text=True)[:800]
        return resp.get_json()["response"] if resp.status_code == 200 else {}

    def rows(self, family: Any = None, only: Any = None, lang: str = "zh") -> dict[str, Any]:
        return self.post("rows", [(page.RULES_FAMILY, "value", family), (page.RULES_ONLY, "value", only or []),
                                  (page.RULES_REFRESH, "data", 0)], [(ids.LANG, "value", lang)],
                         f"{page.RULES_FAMILY}.value")

    def show(self, code: str, path: str) -> str:
        out = self.post("show", [(page.RULES_SELECTED, "data", {"code": code, "path": path}),
                                 (page.RULES_REFRESH, "data", 0)], [(ids.LANG, "value", "zh")],
                        f"{page.RULES_SELECTED}.data")
        return json.dumps(out, ensure_ascii=False)

    def change(self, code: str, path: str, *, value: Any = None, boolean: Any = None, reason: Any = REASON,
               reset: bool = False, lang: str = "zh") -> tuple[Any, str]:
        trigger = page.RULES_RESET if reset else page.RULES_SAVE
        out = self.post("change", [(page.RULES_SAVE, "n_clicks", 0 if reset else 1),
                                   (page.RULES_RESET, "n_clicks", 1 if reset else 0)],
                        [(page.RULES_SELECTED, "data", {"code": code, "path": path}),
                         (page.RULES_VALUE, "value", value), (page.RULES_BOOL, "value", boolean),
                         (page.RULES_REASON, "value", reason), (page.RULES_REFRESH, "data", 3),
                         (ids.LANG, "value", lang)], f"{trigger}.n_clicks")
        return out.get(page.RULES_REFRESH, {}).get("data"), json.dumps(out.get(page.RULES_MESSAGE, {}),
                                                                      ensure_ascii=False)

    def route(self, path: str) -> str:
        return route_text(self.http, path)


@pytest.fixture
def client(pg_cluster, demo_db, monkeypatch, tmp_path) -> Iterator[Client]:
    with demo_app(pg_cluster, demo_db, monkeypatch, home=tmp_path) as demo:
        yield Client(demo.app, demo.owner)


def _rule_changes(owner: Engine) -> list[tuple[str, str, dict[str, Any]]]:
    frame, _ = store.read_audit(owner, action="rule_change")
    return [(str(r["actor"]), str(r["target"]), r["details"]) for r in frame.to_dict("records")][::-1]


def _nothing_changed(owner: Engine) -> None:
    assert store.read_rule_overrides(owner, active_only=False) == []
    assert _rule_changes(owner) == []
    assert effective_ruleset(owner).version == BASE.version


def _state(owner: Engine, code: str, path: str) -> Any:
    return next(s for s in value_states(owner)[1] if (s.item.code, s.item.path) == (code, path))


@pytest.mark.postgis
def test_admin_changes_a_value_and_restores_it(client: Client) -> None:
    client.login("admin")
    routed = client.route(page.PATH)
    assert "检查规则" in routed and "当前账号无此权限" not in routed and f'"href": "{page.PATH}"' in routed
    first = client.rows()
    rows = first[page.RULES_TABLE]["data"]
    assert len(rows) == len(value_states(client.owner)[1]) and first[page.RULES_TABLE]["page_current"] == 0
    version = json.dumps(first[page.RULES_VERSION], ensure_ascii=False)
    assert BASE.version in version and "本地修改 0 项" in version
    panel = client.show("PIPE_OCCUPY", "threshold_m")
    assert page.RULES_SAVE in panel and page.RULES_REASON in panel and "石油天然气管道保护法" in panel

    refresh, message = client.change("PIPE_OCCUPY", "threshold_m", value=8)
    assert refresh == 4 and "已保存" in message, message
    now = effective_ruleset(client.owner)
    assert LOCAL.fullmatch(now.version) and now.version in message and now["PIPE_OCCUPY"].threshold_m == 8.0
    state = _state(client.owner, "PIPE_OCCUPY", "threshold_m")
    assert (state.current, state.actor, state.reason, state.changed) == (8.0, "admin", REASON, True)
    assert _rule_changes(client.owner) == [("admin", "PIPE_OCCUPY.threshold_m", {
        "old": 5.0, "new": 8.0, "reason": REASON, "rule_set_version": now.version})]

    changed = client.rows(only=["changed"])
    [row] = changed[page.RULES_TABLE]["data"]
    assert (row["code"], row["path"], row["file_value"], row["current"], row["changed"], row["actor"],
            row["reason"]) == ("PIPE_OCCUPY", "threshold_m", "5 m", "8 m", "yes", "admin", REASON)
    assert row["at"] == page.changed_time(state.changed_at) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row["at"])
    assert row["change"] == f"admin · {row['at']}\n{REASON}"
    version = json.dumps(changed[page.RULES_VERSION], ensure_ascii=False)
    assert now.version in version and "本地修改 1 项" in version
    assert "admin 于" in client.show("PIPE_OCCUPY", "threshold_m")

    _, same = client.change("PIPE_OCCUPY", "threshold_m", value=8.0)  # already in force: explained, not audited
    assert "已是" in same and len(_rule_changes(client.owner)) == 1
    _, flag = client.change("PIPE_OCCUPY", "inclusive", boolean="false", lang="en")
    assert "Saved: PIPE_OCCUPY inclusive = no" in flag
    assert effective_ruleset(client.owner)["PIPE_OCCUPY"].inclusive is False

    for path in ("threshold_m", "inclusive"):
        refresh, message = client.change("PIPE_OCCUPY", path, reason="地方办法已废止", reset=True)
        assert refresh == 4 and "已恢复标准值" in message, message
    assert BASE.version in message and "+local" not in message
    assert effective_ruleset(client.owner).version == BASE.version
    assert not _state(client.owner, "PIPE_OCCUPY", "threshold_m").changed
    _, again = client.change("PIPE_OCCUPY", "threshold_m", reason="地方办法已废止", reset=True)
    assert "没有本地值" in again
    assert [(a, t, d.get("reset", False)) for a, t, d in _rule_changes(client.owner)] == [
        ("admin", "PIPE_OCCUPY.threshold_m", False), ("admin", "PIPE_OCCUPY.inclusive", False),
        ("admin", "PIPE_OCCUPY.threshold_m", True), ("admin", "PIPE_OCCUPY.inclusive", True)]


@pytest.mark.postgis
def test_bad_values_and_short_reasons_change_nothing(client: Client) -> None:
    client.login("admin")
    cases = [
        ({"value": -1}, "不小于 0"), ({"value": "abc"}, "须为数值"), ({"value": None}, "请输入新值"),
        ({"value": 100_000}, "100000 米"), ({"value": "nan"}, "有限数值"), ({"value": 8, "reason": "ab"}, "至少 4"),
        ({"value": 8, "reason": None}, "至少 4"), ({"value": 8, "reason": "    "}, "至少 4"),
        ({"value": 8, "reason": ["理由很充分"]}, "至少 4"), ({"value": {"x": 1}}, "须为数值"),
        ({"value": True}, "须为数值"), ({"value": 8, "reason": "理" * 501}, "过长"),
    ]
    for kwargs, expected in cases:
        refresh, message = client.change("PIPE_OCCUPY", "threshold_m", **kwargs)
        assert refresh is None and expected in message and "rules-error" in message, (kwargs, message)
    _, months = client.change("HCA_REVIEW", "params.max_months", value=12.5)
    assert "整数" in months
    _, flag = client.change("PIPE_OCCUPY", "inclusive", boolean="maybe")
    assert "true 或 false" in flag
    _, unknown = client.change("NOPE", "threshold_m", value=8)
    assert "请先在表格中选择一行" in unknown
    _, english = client.change("PIPE_OCCUPY", "threshold_m", value=-1, lang="en")
    assert "must be a finite number" in english
    _nothing_changed(client.owner)


@pytest.mark.postgis
def test_planner_reads_the_values_but_a_forged_change_is_refused(client: Client) -> None:
    client.login("planner")
    routed = client.route(page.PATH)
    assert "检查规则" in routed and "当前账号无此权限" not in routed and f'"href": "{page.PATH}"' in routed
    assert '"href": "/admin/audit"' not in routed
    rows = client.rows(family="pipeline", only=["unconfirmed"])[page.RULES_TABLE]["data"]
    assert {r["code"] for r in rows} == {r.code for r in BASE.family("pipeline") if r.confidence == "unconfirmed"}
    assert SPACING in {r["code"] for r in rows}
    panel = client.show(SPACING, CROWDED)
    assert "只有管理员可以修改" in panel and page.RULES_SAVE not in panel and page.RULES_REASON not in panel
    for kwargs in ({"value": 1000}, {"reset": True}):
        refresh, message = client.change("PIPE_OCCUPY", "threshold_m", **kwargs)
        assert refresh is None and "当前账号无此权限" in message
    _nothing_changed(client.owner)


@pytest.mark.postgis
@pytest.mark.parametrize("user", ["viewer", "leader", "anning"])
def test_other_roles_see_neither_page_nor_values(client: Client, user: str) -> None:
    client.login(user)
    routed = client.route(page.PATH)
    assert "当前账号无此权限" in routed and f'"href": "{page.PATH}"' not in routed
    client.refused = True  # the page's callbacks, posted directly, are refused before they run
    assert client.rows() == {} and client.show(SPACING, CROWDED) == "{}"
    for kwargs in ({"value": 1000}, {"reset": True}):
        assert client.change("PIPE_OCCUPY", "threshold_m", **kwargs) == (None, "{}")
    _nothing_changed(client.owner)


def _site_near_gas_pipeline(owner: Engine, offset_m: float) -> shapely.Geometry:
    """A point ``offset_m`` from the middle of the demo's longest gas pipeline (EPSG:4490)."""
    with owner.connect() as conn:
        wkt = conn.execute(text("SELECT ST_AsText(geom) FROM pipelines WHERE medium = 'gas' "
                                "ORDER BY ST_Length(geom) DESC LIMIT 1")).scalar_one()
    line = shapely.from_wkt(wkt)
    lon = line.centroid.x
    epsg = 4534 + round((lon - 75) / 3)  # CGCS2000 3-degree Gauss-Krüger zone of the pipeline
    to_m = Transformer.from_crs(4490, epsg, always_xy=True).transform
    back = Transformer.from_crs(epsg, 4490, always_xy=True).transform
    line_m = transform(to_m, shapely.line_merge(line) if line.geom_type == "MultiLineString" else line)
    if line_m.geom_type == "MultiLineString":
        line_m = max(line_m.geoms, key=lambda g: g.length)
    site_m = line_m.offset_curve(offset_m).interpolate(0.5, normalized=True)
    assert abs(site_m.distance(line_m) - offset_m) < 0.2
    return transform(back, site_m)


@pytest.mark.postgis
def test_a_planner_precheck_uses_the_value_the_admin_saved(client: Client) -> None:
    site = _site_near_gas_pipeline(client.owner, 6.5)  # a school 6.5 m from a gas pipeline: 5 m required by the file

    def precheck() -> str:
        out = client.post("precheck", [(planner.P_CHECK, "n_clicks", 1)],
                          [(planner.P_SITE, "data", {"geometry": shapely.geometry.mapping(site), "source": "coords"}),
                           (planner.P_USE, "value", "school"), (planner.P_POP, "value", 500),
                           (planner.P_HH, "value", None), (ids.LANG, "value", "zh")], f"{planner.P_CHECK}.n_clicks")
        return json.dumps(out[planner.P_RESULT], ensure_ascii=False)

    client.login("planner")
    assert SPACING not in precheck()
    client.login("admin")
    _, message = client.change(SPACING, CROWDED, value=8, reason="昆明市燃气管道保护规定第8条")
    assert "已保存" in message
    client.login("planner")
    after = precheck()
    assert SPACING in after and "8.0 m" in after
    rules = effective_ruleset(client.owner)
    assert rules[SPACING].params["required_m"]["gas"]["crowded"] == 8.0
    assert BASE[SPACING].params["required_m"]["gas"]["crowded"] == 5.0  # the shipped file is untouched


# ---------------------------------------------------------------------------------------------
# browser
# ---------------------------------------------------------------------------------------------
_text = partial(text_at, trim=True)


def _column(driver: Any, column: str) -> list[str]:
    return column_texts(driver, page.RULES_TABLE, column)


def _row_cells(driver: Any, code: str, path: str) -> dict[str, Any]:
    """The table row of one value: its cells' text and background colour by column (empty when not shown)."""
    return dict(driver.execute_script("""
        const [table, code, path] = arguments;
        for (const tr of document.querySelectorAll('#' + table + ' tr')) {
          const cell = c => tr.querySelector(`td[data-dash-column='${c}']`);
          if (cell('code') && cell('code').innerText.trim() === code && cell('path').innerText.trim() === path) {
            const out = {};
            for (const td of tr.querySelectorAll('td[data-dash-column]')) {
              out[td.dataset.dashColumn] = td.innerText.trim();
              out[td.dataset.dashColumn + ':bg'] = getComputedStyle(td).backgroundColor;
            }
            return out;
          }
        }
        return {};""", page.RULES_TABLE, code, path))


def _click_row(driver: Any, code: str, path: str) -> None:
    cell = WebDriverWait(driver, 20).until(lambda d: next(
        (td for td in d.find_elements(By.CSS_SELECTOR, f"#{page.RULES_TABLE} td[data-dash-column='path']")
         if td.text.strip() == path and td.find_element(By.XPATH, "..").find_element(
             By.CSS_SELECTOR, "td[data-dash-column='code']").text.strip() == code), None))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)
    cell.click()


@pytest.mark.browser
@pytest.mark.postgis
def test_admin_changes_an_unconfirmed_value_in_the_browser(secured, driver, artifacts: Path) -> None:
    base, owner = secured
    sign_in(driver, base, "admin", page.PATH)
    wait = WebDriverWait(driver, 30)
    wait.until(lambda d: _column(d, "code"))
    assert driver.find_element(By.CSS_SELECTOR, f"#{ids.NAV} a[href='{page.PATH}']").text == "检查规则"
    assert driver.find_element(By.CSS_SELECTOR, f"#{page.RULES_PAGE} h2").text == "检查规则"
    assert _text(driver, "#rules-version-code") == BASE.version
    assert "本地修改 0 项" in _text(driver, f"#{page.RULES_VERSION}")

    states = value_states(owner)[1]
    unconfirmed = sum(s.item.confidence == "unconfirmed" for s in states)
    driver.find_element(By.XPATH, f"//*[@id='{page.RULES_ONLY}']//label[contains(., '只看待核实')]").click()
    wait.until(lambda d: d.find_element(By.ID, page.RULES_COUNT).text == f"共 {unconfirmed} 项(全部 {len(states)} 项)")
    assert set(_column(driver, "confidence")) == {"▲ 待核实"}
    colour = driver.execute_script("return getComputedStyle(arguments[0]).color;", driver.find_element(
        By.CSS_SELECTOR, f"#{page.RULES_TABLE} td[data-dash-column='confidence']"))
    assert colour == "rgb(179, 89, 0)"  # marked, not only worded

    _click_row(driver, SPACING, CROWDED)
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".rules-panel-title"), CROWDED))
    assert "待核实" in _text(driver, ".rules-unconfirmed-note")
    number = driver.find_element(By.ID, page.RULES_VALUE)
    assert number.get_attribute("value") == "5"
    number.send_keys(Keys.CONTROL, "a")
    number.send_keys("8")
    driver.find_element(By.ID, page.RULES_REASON).send_keys("昆明市燃气管道保护规定第8条")
    driver.find_element(By.ID, page.RULES_SAVE).click()
    wait.until(ec.text_to_be_present_in_element((By.ID, page.RULES_MESSAGE), "已保存"))
    version = effective_ruleset(owner).version
    assert LOCAL.fullmatch(version) and version in driver.find_element(By.ID, page.RULES_MESSAGE).text
    wait.until(lambda d: _text(d, "#rules-version-code") == version)
    assert "本地修改 1 项" in _text(driver, f"#{page.RULES_VERSION}")
    wait.until(lambda d: _row_cells(d, SPACING, CROWDED).get("current") == "8 m")
    row = _row_cells(driver, SPACING, CROWDED)
    assert row["file_value"] == "5 m" and row["change"].startswith("admin · ")
    assert row["change"].endswith("昆明市燃气管道保护规定第8条")
    assert row["current:bg"] == row["code:bg"] == "rgb(255, 244, 214)"  # the row is marked changed
    other = _row_cells(driver, SPACING, "params.required_m.gas.flammable")
    assert other["current"] == "5 m" and other["code:bg"] != "rgb(255, 244, 214)"
    state = _state(owner, SPACING, CROWDED)
    assert (state.current, state.actor) == (8.0, "admin")
    assert effective_ruleset(owner)[SPACING].params["required_m"]["gas"]["crowded"] == 8.0
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".rules-history"), "admin 于"))
    driver.set_window_size(1600, 1300)  # the changed row and the panel in one picture
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(artifacts / "rules_page.png"))

    reset = driver.find_element(By.ID, page.RULES_RESET)
    assert reset.is_enabled()
    driver.find_element(By.ID, page.RULES_REASON).send_keys("已核实正式文本，恢复标准值")
    reset.click()
    wait.until(ec.text_to_be_present_in_element((By.ID, page.RULES_MESSAGE), "已恢复标准值"))
    wait.until(lambda d: _text(d, "#rules-version-code") == BASE.version)
    wait.until(lambda d: _row_cells(d, SPACING, CROWDED).get("current") == "5 m")
    assert _row_cells(driver, SPACING, CROWDED)["code:bg"] != "rgb(255, 244, 214)"
    assert "本地修改 0 项" in _text(driver, f"#{page.RULES_VERSION}")
    assert not _state(owner, SPACING, CROWDED).changed
    assert [(a, t) for a, t, _d in _rule_changes(owner)] == [("admin", f"{SPACING}.{CROWDED}")] * 2

    driver.find_element(By.XPATH, f"//*[@id='{ids.LANG}']//label[contains(., 'English')]").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, f"#{page.RULES_PAGE} h2"), "Check rules"))
    wait.until(lambda d: "Rule set in force" in _text(d, f"#{page.RULES_VERSION}") and _column(d, "confidence"))
    assert "Standard value (rule file)" in driver.find_element(By.ID, page.RULES_TABLE).text
    assert_clean_page(driver)


@pytest.mark.browser
@pytest.mark.postgis
def test_planner_sees_the_table_without_edit_controls(secured, driver) -> None:
    base, _ = secured
    sign_in(driver, base, "planner", page.PATH)
    wait = WebDriverWait(driver, 30)
    wait.until(lambda d: _column(d, "code"))
    links = driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{ids.NAV} a.nav-link')).map(a => a.getAttribute('href'))")
    assert links == ["/", "/planner", "/district", "/hazards", "/ranking", "/reports", "/parks", "/enterprise-info",
                     page.PATH]
    _click_row(driver, SPACING, CROWDED)
    wait.until(ec.text_to_be_present_in_element((By.ID, page.RULES_EDITOR), "只有管理员可以修改"))
    assert driver.find_elements(By.ID, page.RULES_SAVE) == [] and driver.find_elements(By.ID, page.RULES_VALUE) == []
    assert_clean_page(driver)
