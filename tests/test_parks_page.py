"""The parks page (/parks, 一园一策) with its grade and park filters and the XLSX export (issue 14 items 9, 10).

The app runs with sign-in on, as ``riskmap_app``, on a private copy of the demo; callbacks are posted as the
browser posts them. Expected lists are computed directly with the owner's engine: ``ST_Contains`` by
:func:`layers.parks.contained` and the grades by :func:`layers.grading.grade_enterprises`. One browser test saves
``artifacts/parks.png``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import text

from campaign.demo import enterprise_account
from dashboard.pages import parks as page
from geo import embedded, store
from geo.constants import LOCAL_ZONE
from layers.city import publish_city
from layers.grading import grade_enterprises, load_grading_rubric
from layers.parks import contained, park_measures, park_sources
from tests.browser import choose_option, column_texts, console_errors, served_signed_in_copy, sideways_overflow, sign_in
from tests.clients import DemoApp, callback_body, demo_app_fixture, log_in, post_callback, route_text

pytestmark = pytest.mark.postgis
ANNING_PARK, XISHAN_PARK, GUANDU_PARK = "PK-530181-01", "PK-530112-01", "PK-530111-01"
NAMES = {ANNING_PARK: "安宁工业园区(演示)", XISHAN_PARK: "西山演示磷化工业园区", GUANDU_PARK: "官渡演示物流园区"}


demo = demo_app_fixture(secret="parks-secret")


@pytest.fixture(scope="module")
def truth(demo: DemoApp) -> dict[str, Any]:
    """The parks, the enterprises' grades and the parks' figures, computed directly (owner: the whole city)."""
    city = publish_city(demo.owner)  # the snapshot a leader's session reads: its sources count verified HCAs
    bundle, sources = city.bundle, city.sources
    parks = store.read_layer(demo.owner, "parks")
    findings = store.read_findings(demo.owner)
    today = dt.datetime.now(LOCAL_ZONE).date()
    grades = grade_enterprises(bundle, findings, today, load_grading_rubric())
    measures = park_measures({**bundle.frames, "parks": parks}, sources, findings, bundle["hidden_hazards"], today)
    return {"bundle": bundle, "parks": parks, "grades": grades, "sources": sources, "measures": measures}


def _client(demo: DemoApp, user: str) -> Any:
    client = demo.app.server.test_client()
    log_in(client, user)
    return client


def _call(client: Any, demo: DemoApp, output: str, values: dict[str, Any], trigger: str) -> Any:
    key = next(k for k, cb in demo.app.callback_map.items() if "callback" in cb and output in k)
    resp = post_callback(client, callback_body(demo.app, key, {"lang-switch.value": "zh", **values}, trigger))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return json.loads(resp.get_data(as_text=True))["response"]


def _show(client: Any, demo: DemoApp, park: str | None, grades: list[str] | None) -> Any:
    return _call(client, demo, f"{page.PK_MEMBERS}.data", {f"{page.PK_PARK}.value": park,
                                                           f"{page.PK_GRADE}.value": grades}, f"{page.PK_PARK}.value")


def _find(tree: Any, ident: str) -> Any:
    """The component with id ``ident`` in a rendered response."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == ident:
            return tree
        tree = list(tree.values())
    if isinstance(tree, list):
        for value in tree:
            found = _find(value, ident)
            if found is not None:
                return found
    return None


def _in_park(truth: dict[str, Any], code: str) -> set[str]:
    ents = truth["bundle"]["enterprises"]
    inside = contained(truth["parks"][truth["parks"]["code"] == code], ents)[code].to_numpy()
    return set(ents["key"].astype(str)[inside])


def test_leader_sees_every_park_and_the_filters_keep_exactly_that_park_and_grade(demo: DemoApp,
                                                                                 truth: dict[str, Any]) -> None:
    leader = _client(demo, "leader")
    shown = route_text(leader, page.PATH)
    assert all(name in shown for name in NAMES.values()) and "园区一园一策" in shown
    grades = truth["grades"]
    for code in NAMES:
        keys = _in_park(truth, code)
        assert keys, f"the demo park {code} holds enterprises"
        expected = grades[grades["key"].astype(str).isin(keys)]
        out = _show(leader, demo, code, [])
        assert [r["name"] for r in out[page.PK_MEMBERS]["data"]] == list(expected["name"])
        assert [r["grade"] for r in out[page.PK_MEMBERS]["data"]] == list(expected["grade"])
        assert out[page.PK_COUNT]["children"] == f"共 {len(expected)} 家企业"
        # the park's 四色 sources on the map, its figures beside it
        assert len(out[page.PK_SOURCES]["data"]["features"]) == len(park_sources(truth["parks"], truth["sources"],
                                                                                  code)) > 0
        row = truth["measures"].loc[code]
        assert NAMES[code] in json.dumps(out[page.PK_MEASURES], ensure_ascii=False)
        for measure in ("risk_sources", "major_risks", "open_major_hazards", "violations"):
            tile = _find(out[page.PK_MEASURES]["children"], f"pk-fig-{measure}")
            assert tile["props"]["children"][0]["props"]["children"] == str(int(row[measure])), measure
        # the enterprise markers are the same enterprises
        assert sorted(f["properties"]["tooltip"] for f in out[page.PK_MEMBERS_LAYER]["data"]["features"]) == \
            sorted(f"{n} · {g}" for n, g in zip(expected["name"], expected["grade"], strict=True))
    present = sorted(set(grades["grade"]))
    assert len(present) >= 2, "the demo grades enterprises into several grades"
    for grade in present:
        out = _show(leader, demo, None, [grade])
        assert [r["name"] for r in out[page.PK_MEMBERS]["data"]] == list(grades[grades["grade"] == grade]["name"])
    # both filters at once, and a forged grade or park is ignored
    both = grades[grades["key"].astype(str).isin(_in_park(truth, ANNING_PARK)) & grades["grade"].isin(present[-1:])]
    out = _show(leader, demo, ANNING_PARK, [present[-1], "Z", 3])
    assert [r["name"] for r in out[page.PK_MEMBERS]["data"]] == list(both["name"])
    everyone = _show(leader, demo, "PK-NOT-A-PARK", None)
    assert len(everyone[page.PK_MEMBERS]["data"]) == len(grades)
    assert "选择一个园区" in json.dumps(everyone[page.PK_MEASURES], ensure_ascii=False)


def test_the_park_list_exports_as_xlsx_and_is_audited(demo: DemoApp, truth: dict[str, Any]) -> None:
    leader = _client(demo, "leader")
    grades = truth["grades"]
    expected = grades[grades["key"].astype(str).isin(_in_park(truth, ANNING_PARK))]
    asked = {f"{page.PK_PARK}.value": ANNING_PARK, f"{page.PK_EXPORT}.n_clicks": 1}
    out = _call(leader, demo, f"{page.PK_DOWNLOAD}.data", asked, f"{page.PK_EXPORT}.n_clicks")
    sent = out[page.PK_DOWNLOAD]["data"]
    assert sent["filename"].startswith(f"园区清单_{ANNING_PARK}_") and sent["filename"].endswith(".xlsx")
    book = load_workbook(io.BytesIO(base64.b64decode(sent["content"])))
    facts = {r[0]: r[1] for r in book["园区"].iter_rows(min_row=2, values_only=True)}
    row = truth["measures"].loc[ANNING_PARK]
    assert facts["园区名称"] == NAMES[ANNING_PARK] and facts["企业数"] == int(row["enterprises"])
    assert facts["重大风险源"] == int(row["major_risks"]) and facts["未整改重大隐患"] == int(row["open_major_hazards"])
    sheet = list(book["企业清单"].iter_rows(values_only=True))
    head = list(sheet[0])
    assert head[:2] == ["企业名称", "统一社会信用代码"] and "分级" in head
    assert [r[0] for r in sheet[1:]] == list(expected["name"])
    assert [r[head.index("分级")] for r in sheet[1:]] == list(expected["grade"])
    assert [r[1] for r in sheet[1:]] == list(expected["credit_code"])
    with demo.owner.connect() as conn:
        audited = conn.execute(text("SELECT actor, adcode, details->>'park' FROM audit_log WHERE action = 'export' "
                                    "AND target = 'park_list'")).all()
    assert [tuple(r) for r in audited] == [("leader", "530181", ANNING_PARK)]


def test_a_district_sees_only_its_parks_and_an_enterprise_none(demo: DemoApp, truth: dict[str, Any]) -> None:
    officer = _client(demo, "anning")
    shown = route_text(officer, page.PATH)
    assert NAMES[ANNING_PARK] in shown
    assert NAMES[XISHAN_PARK] not in shown and NAMES[GUANDU_PARK] not in shown
    out = _show(officer, demo, XISHAN_PARK, None)  # another district's park: not there for this session
    text_out = json.dumps(out, ensure_ascii=False)
    assert NAMES[XISHAN_PARK] not in text_out and "选择一个园区" in text_out
    assert out[page.PK_SOURCES]["data"]["features"] == []
    anning = set(truth["bundle"]["enterprises"].loc[lambda e: e["adcode"] == "530181", "name"])
    assert {r["name"] for r in out[page.PK_MEMBERS]["data"]} == anning
    refused = _call(officer, demo, f"{page.PK_DOWNLOAD}.data", {f"{page.PK_PARK}.value": XISHAN_PARK,
                                                                f"{page.PK_EXPORT}.n_clicks": 1},
                    f"{page.PK_EXPORT}.n_clicks")
    assert page.PK_DOWNLOAD not in refused and "请先选择一个园区" in json.dumps(refused, ensure_ascii=False)
    own = _show(officer, demo, ANNING_PARK, None)
    assert len(own[page.PK_MEMBERS]["data"]) == len(_in_park(truth, ANNING_PARK))
    enterprise = _client(demo, enterprise_account("530181"))
    denied = route_text(enterprise, page.PATH)
    assert "access-denied" in denied or "无此权限" in denied
    assert NAMES[ANNING_PARK] not in denied


@pytest.mark.browser
def test_browser_leader_filters_a_park_by_grade(pg_cluster: embedded.Cluster, demo_db: str, tmp_path: Path,
                                                driver: Any, artifacts: Path) -> None:
    with served_signed_in_copy(pg_cluster, demo_db, tmp_path / "home") as (base, _owner):
        sign_in(driver, base, "leader", page.PATH)
        wait = WebDriverWait(driver, 90)
        wait.until(ec.presence_of_element_located((By.ID, "pk-head")))
        choose_option(driver, page.PK_PARK, "安宁工业园区(演示)")
        wait.until(lambda d: "安宁工业园区" in (d.find_element(By.ID, "pk-head").text or ""))
        listed = dict(zip(column_texts(driver, page.PK_TABLE, "name"), column_texts(driver, page.PK_TABLE,
                                                                                   "enterprises"), strict=True))
        wait.until(lambda d: len(column_texts(d, page.PK_MEMBERS, "grade")) == int(listed["安宁工业园区(演示)"]))
        before = column_texts(driver, page.PK_MEMBERS, "grade")
        assert before and len(set(before)) >= 1
        keep = sorted(set(before))[-1]
        choose_option(driver, page.PK_GRADE, load_grading_rubric().grade(keep).label("zh"))
        wait.until(lambda d: set(column_texts(d, page.PK_MEMBERS, "grade")) == {keep})
        wait.until(lambda d: d.execute_script(
            f"return document.querySelectorAll('#{page.PK_MAP} path.leaflet-interactive').length") > 1)
        driver.find_element(By.TAG_NAME, "h2").click()  # close the dropdown
        driver.execute_script("document.getElementById(arguments[0]).scrollIntoView();", page.PK_PARK)
        driver.save_screenshot(str(artifacts / "parks.png"))
        driver.set_window_size(390, 844)
        wait.until(lambda d: sideways_overflow(d) == 0)
        assert console_errors(driver) == []
