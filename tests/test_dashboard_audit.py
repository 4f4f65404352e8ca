"""The audit log for administrators: store filters and paging, row-level security, callback permissions, browser."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import text

from dashboard import ids
from dashboard.pages import audit as page
from geo import store
from geo.store import Scope, scoped
from tests.browser import (
    assert_clean_page,
    choose_option,
    column_texts,
    sign_in,
)
from tests.clients import app_engine_of, demo_app, log_in, route_text

ANNING, XISHAN = "530181", "530112"
BEIJING = ZoneInfo("Asia/Shanghai")


def _seed(engine, entries: list[tuple[str, str, str | None, dict | None]]) -> list[int]:
    with engine.begin() as conn:
        for actor, action, adcode, details in entries:
            store.audit(conn, actor=actor, action=action, target=f"t-{actor}", adcode=adcode, details=details)
        return [int(i) for i in conn.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars()]


def _set_time(engine, entry_id: int, at: dt.datetime) -> None:
    with engine.begin() as conn:  # the log is append-only: back-date behind its triggers (superuser only)
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("UPDATE audit_log SET at = :at WHERE id = :id"), {"at": at, "id": entry_id})


# ---------------------------------------------------------------------------------------------
# store
# ---------------------------------------------------------------------------------------------
@pytest.mark.postgis
def test_filters_paging_and_order(engine) -> None:
    base_frame, base = store.read_audit(engine)  # the template's own district import
    assert base == len(base_frame) == 1
    _seed(engine, [("Admin", "login", None, None), ("anning", "login", ANNING, {"via": "web"}),
                   ("demo", "import", ANNING, {"file": "企业.xlsx", "imported": 3}),
                   ("xishan", "export", XISHAN, {"formats": ["gpkg", "xlsx"]}),
                   ("planner", "finding_status", XISHAN, {"status": "closed"})])
    frame, total = store.read_audit(engine)
    assert total == 6 and list(frame.columns) == list(store.AUDIT_COLUMNS)
    assert list(frame["id"]) == sorted(frame["id"], reverse=True)  # same transaction, same time: newest id first
    assert str(frame["at"].dt.tz) == "UTC"

    assert list(store.read_audit(engine, actor="ADMIN")[0]["actor"]) == ["Admin"]  # case-insensitive
    assert set(store.read_audit(engine, actor="n")[0]["actor"]) == {"Admin", "anning", "xishan", "planner"}
    assert set(store.read_audit(engine, action="login")[0]["actor"]) == {"Admin", "anning"}
    assert set(store.read_audit(engine, adcode=XISHAN)[0]["action"]) == {"export", "finding_status"}
    found, n = store.read_audit(engine, action="login", adcode=ANNING)
    assert n == 1 and found.iloc[0]["details"] == {"via": "web"}
    assert store.read_audit(engine, actor="nobody")[1] == 0
    assert store.audit_actions(engine) == ["export", "finding_status", "import", "login"]

    first, total = store.read_audit(engine, limit=4)
    second, again = store.read_audit(engine, limit=4, offset=4)
    assert total == again == 6 and len(first) == 4 and len(second) == 2
    assert list(first["id"]) + list(second["id"]) == list(frame["id"])
    assert len(store.read_audit(engine, limit=None)[0]) == 6
    with pytest.raises(ValueError):
        store.read_audit(engine, offset=-1)


@pytest.mark.postgis
def test_percent_and_underscore_in_actor_are_literal(engine) -> None:
    _seed(engine, [("50%_user", "login", None, None), ("5000user", "login", None, None),
                   (r"back\slash", "login", None, None)])
    assert list(store.read_audit(engine, actor="50%")[0]["actor"]) == ["50%_user"]
    assert list(store.read_audit(engine, actor="%_u")[0]["actor"]) == ["50%_user"]
    assert store.read_audit(engine, actor="%")[1] == 1
    assert store.read_audit(engine, actor="_")[1] == 1
    assert list(store.read_audit(engine, actor="k\\s")[0]["actor"]) == [r"back\slash"]


@pytest.mark.postgis
def test_dates_are_beijing_days_and_until_is_inclusive(engine) -> None:
    ids_ = _seed(engine, [("a", "login", None, None), ("b", "login", None, None), ("c", "login", None, None),
                          ("d", "login", None, None)])
    _set_time(engine, ids_[0], dt.datetime(2020, 1, 1, tzinfo=BEIJING))  # the template's import
    times = {"a": dt.datetime(2026, 11, 23, 23, 59, 59, tzinfo=BEIJING),
             "b": dt.datetime(2026, 11, 24, 0, 0, 0, tzinfo=BEIJING),  # = 2026-11-23 16:00 UTC
             "c": dt.datetime(2026, 11, 24, 23, 59, 59, 900000, tzinfo=BEIJING),
             "d": dt.datetime(2026, 11, 25, 0, 0, 0, tzinfo=BEIJING)}
    for entry_id, actor in zip(ids_[1:], "abcd", strict=True):
        _set_time(engine, entry_id, times[actor])

    def actors(**kw: Any) -> list[str]:
        return list(store.read_audit(engine, action="login", **kw)[0]["actor"])

    day = dt.date(2026, 11, 24)
    assert actors(since=day, until=day) == ["c", "b"]
    assert actors(since=day) == ["d", "c", "b"]
    assert actors(until=day) == ["c", "b", "a"]
    assert actors(until=dt.date(2026, 11, 23)) == ["a"]
    assert store.read_audit(engine, until=dt.date(2025, 1, 1))[1] == 1
    local = store.read_audit(engine, actor="b")[0].iloc[0]["at"].tz_convert("Asia/Shanghai")
    assert (local.hour, local.day) == (0, 24)
    assert page.local_time(store.read_audit(engine, actor="c")[0].iloc[0]["at"]) == "2026-11-24 23:59:59"


@pytest.mark.postgis
def test_app_role_with_a_district_scope_sees_only_that_district(engine) -> None:
    _seed(engine, [("anning", "login", ANNING, None), ("anning", "import", ANNING, {"file": "a.csv"}),
                   ("xishan", "export", XISHAN, None), ("admin", "user_add", None, None)])
    app = app_engine_of(engine)
    try:
        with scoped(Scope(all_districts=False, adcode=ANNING, actor="anning")):
            frame, total = store.read_audit(app)
            assert total == 2 and set(frame["adcode"]) == {ANNING}
            assert store.read_audit(app, adcode=XISHAN)[1] == 0  # asking for another district does not help
            assert store.audit_actions(app) == ["import", "login"]
        assert store.read_audit(app)[1] == 0  # no scope, no district's entries
        with scoped(Scope(all_districts=True, actor="admin")):
            assert store.read_audit(app)[1] == 5
    finally:
        app.dispose()


def test_filter_checks_and_cell_text() -> None:
    f = page.parse_filters(" adm ", "login", ANNING, "2026-11-01", "2026-11-24T00:00:00")
    assert f == page.Filters("adm", "login", ANNING, dt.date(2026, 11, 1), dt.date(2026, 11, 24))
    assert page.parse_filters(None, None, None, None, "") == page.Filters()
    for bad in ("2026-13-01", "24/11/2026", "2026-02-30", "x" * 500, 20261124, ["2026-11-01"]):
        with pytest.raises(page.FilterError, match="日期"):
            page.parse_filters(None, None, None, bad, None)
    with pytest.raises(page.FilterError, match="not valid"):
        page.parse_filters(None, None, None, None, "2026-11-31", lang="en")
    with pytest.raises(page.FilterError, match="晚于"):
        page.parse_filters(None, None, None, "2026-11-25", "2026-11-24")
    for args in (("x" * 81, None, None), ({"a": 1}, None, None), (None, 5, None), (None, None, "5301")):
        with pytest.raises(page.FilterError):
            page.parse_filters(*args, None, None)
    assert page.action_label("import", "zh") == "导入" and page.action_label("import", "en") == "Import"
    assert page.action_label("rule_change", "zh") == "规则修改"
    assert page.action_label("something_new", "zh") == "something_new"
    text_ = page.details_text({"file": "企业.xlsx", "sha256": "f" * 64, "layers": {"enterprises": 3}, "x": None})
    assert text_.startswith("file=企业.xlsx; sha256=ffff") and "…" in text_ and "layers=enterprises:3" in text_
    assert text_.endswith("x=—") and len(page.details_text({str(i): "v" * 50 for i in range(50)})) == 300


# ---------------------------------------------------------------------------------------------
# permissions: forged callback requests
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def client(pg_cluster, demo_db, monkeypatch, tmp_path):
    with demo_app(pg_cluster, demo_db, monkeypatch, home=tmp_path) as demo:
        test_client = demo.client
        test_client.csv_output = next(k for k in demo.app.callback_map
                                      if k.startswith(f"..{page.AUDIT_DOWNLOAD}.data"))
        yield test_client


def _payload(outputs: list[tuple[str, str]], inputs: list[tuple[str, str, Any]], state: list[tuple[str, str, Any]],
             changed: str) -> dict[str, Any]:
    return {"output": "..{}..".format("...".join(f"{i}.{p}" for i, p in outputs)),
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": [changed]}


def _entries(client, *, action: Any = None, start: Any = None, end: Any = None, page_current: Any = 0,
             lang: str = "zh") -> tuple[int, dict[str, Any]]:
    body = _payload(
        [(page.AUDIT_TABLE, "data"), (page.AUDIT_TABLE, "tooltip_data"), (page.AUDIT_TABLE, "page_count"),
         (page.AUDIT_TABLE, "page_current"), (page.AUDIT_COUNT, "children"), (page.AUDIT_MESSAGE, "children")],
        [(page.AUDIT_ACTOR, "value", None), (page.AUDIT_ACTION, "value", action),
         (page.AUDIT_DISTRICT, "value", None), (page.AUDIT_DATES, "start_date", start),
         (page.AUDIT_DATES, "end_date", end), (page.AUDIT_TABLE, "page_current", page_current)],
        [(ids.LANG, "value", lang)], f"{page.AUDIT_ACTION}.value")
    resp = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    return resp.status_code, (resp.get_json() or {}).get("response", {}) if resp.status_code == 200 else {}


def _csv(client) -> dict[str, Any]:
    body = _payload([(page.AUDIT_DOWNLOAD, "data"), (page.AUDIT_MESSAGE, "children")],
                    [(page.AUDIT_CSV, "n_clicks", 1)],
                    [(page.AUDIT_ACTOR, "value", None), (page.AUDIT_ACTION, "value", "login"),
                     (page.AUDIT_DISTRICT, "value", None), (page.AUDIT_DATES, "start_date", None),
                     (page.AUDIT_DATES, "end_date", None), (ids.LANG, "value", "zh")], f"{page.AUDIT_CSV}.n_clicks")
    body["output"] = client.csv_output  # the message output is shared (allow_duplicate): Dash renames it
    resp = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    if resp.status_code == 400:
        raise AssertionError(resp.get_data(as_text=True))
    return resp.get_json()["response"] if resp.status_code == 200 else {}


@pytest.mark.postgis
@pytest.mark.parametrize("user", ["planner", "anning", "viewer", "leader"])
def test_forged_callbacks_are_refused_for_other_roles(client, user: str) -> None:
    log_in(client, user)
    status, response = _entries(client)
    assert status == 403 and response == {}  # the callback guard refuses another page's callbacks (#15, item 9)
    assert "data" not in _csv(client).get(page.AUDIT_DOWNLOAD, {})
    routed = route_text(client, page.PATH)
    assert "当前账号无此权限" in routed and "审计日志" not in routed  # no page and no nav link


@pytest.mark.postgis
def test_admin_reads_pages_and_exports(client) -> None:
    log_in(client, "admin")
    status, response = _entries(client)
    assert status == 200 and response[page.AUDIT_MESSAGE]["children"] == ""
    rows = response[page.AUDIT_TABLE]["data"]
    assert 0 < len(rows) <= page.PAGE_SIZE
    assert rows[0]["actor"] == "admin" and rows[0]["action"] == "登录"  # this very log-in, newest first
    assert dt.datetime.strptime(rows[0]["at"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING) > (
        dt.datetime.now(BEIJING) - dt.timedelta(minutes=5))
    _, imports = _entries(client, action="import")
    assert {r["action"] for r in imports[page.AUDIT_TABLE]["data"]} == {"导入"}
    assert imports[page.AUDIT_COUNT]["children"].startswith("共 ")
    _, past_end = _entries(client, action="login", page_current=10_000)  # a page beyond the end: the last one
    assert past_end[page.AUDIT_TABLE]["page_current"] == 0 and past_end[page.AUDIT_TABLE]["data"]
    _, bad = _entries(client, start="2026-02-30")
    assert bad[page.AUDIT_TABLE]["data"] == [] and "2026-02-30" in json.dumps(bad[page.AUDIT_MESSAGE],
                                                                             ensure_ascii=False)
    _, reversed_ = _entries(client, start="2026-11-25", end="2026-11-01", lang="en")
    assert "after the end date" in json.dumps(reversed_[page.AUDIT_MESSAGE])

    download = _csv(client)[page.AUDIT_DOWNLOAD]["data"]
    raw = base64.b64decode(download["content"])
    assert raw.startswith(b"\xef\xbb\xbf") and download["filename"].endswith(".csv")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:3] == ["时间", "操作人", "操作"] and len(table) >= 2
    assert {r[3] for r in table[1:]} == {"login"} and "admin" in {r[1] for r in table[1:]}
    _, logged = _entries(client, action="audit_export")  # the export itself is in the log
    assert [r["actor"] for r in logged[page.AUDIT_TABLE]["data"]] == ["admin"]
    assert "审计日志" in route_text(client, page.PATH)


# ---------------------------------------------------------------------------------------------
# browser
# ---------------------------------------------------------------------------------------------
def _column(driver, column: str) -> list[str]:
    return column_texts(driver, page.AUDIT_TABLE, column)


@pytest.mark.browser
@pytest.mark.postgis
def test_admin_sees_their_log_in_and_filters_imports(secured, driver, artifacts: Path) -> None:
    base, owner = secured
    sign_in(driver, base, "admin", page.PATH)
    wait = WebDriverWait(driver, 30)
    wait.until(lambda d: _column(d, "actor"))
    assert driver.find_element(By.CSS_SELECTOR, f"#{ids.NAV} a[href='{page.PATH}']").text == "审计日志"
    assert driver.find_element(By.CSS_SELECTOR, f"#{page.AUDIT_PAGE} h2").text == "审计日志"
    newest = store.read_audit(owner, limit=1)[0].iloc[0]
    assert (newest["actor"], newest["action"]) == ("admin", "login")  # this very session
    assert _column(driver, "actor")[0] == "admin" and _column(driver, "action")[0] == "登录"
    assert _column(driver, "at")[0] == page.local_time(newest["at"])
    _, total = store.read_audit(owner)
    count = driver.find_element(By.ID, page.AUDIT_COUNT).text
    assert count == f"共 {total} 条记录 · 第 1/{-(-total // page.PAGE_SIZE)} 页"

    _, imports = store.read_audit(owner, action="import")
    assert imports > 0
    choose_option(driver, page.AUDIT_ACTION, "导入")
    wait.until(lambda d: d.find_element(By.ID, page.AUDIT_COUNT).text.startswith(f"共 {imports} 条"))
    actions = _column(driver, "action")
    assert actions and set(actions) == {"导入"}
    assert all("file=" in d for d in _column(driver, "details"))
    assert "隐患（hidden_hazards）" in _column(driver, "target")
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(artifacts / "audit_log.png"))

    start, end = driver.find_elements(By.CSS_SELECTOR, ".audit-field-dates input")
    end.send_keys("2020-01-01\n")  # nothing that old
    wait.until(lambda d: d.find_element(By.ID, page.AUDIT_COUNT).text.startswith("共 0 条"))
    assert _column(driver, "action") == []
    start.send_keys("2020-01-02\n")  # a reversed range is explained, not an error
    wait.until(ec.text_to_be_present_in_element((By.ID, page.AUDIT_MESSAGE), "晚于结束日期"))
    driver.find_element(By.CSS_SELECTOR, ".audit-field-dates .dash-datepicker-clear").click()
    wait.until(lambda d: d.find_element(By.ID, page.AUDIT_COUNT).text.startswith(f"共 {imports} 条"))
    assert driver.find_element(By.ID, page.AUDIT_MESSAGE).text == ""

    driver.find_element(By.XPATH, f"//*[@id='{ids.LANG}']//label[contains(., 'English')]").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, f"#{page.AUDIT_PAGE} h2"), "Audit log"))
    wait.until(lambda d: _column(d, "action") and set(_column(d, "action")) <= {
        "Log-in", "Import", "Account added", "Check run", "Export", "Hazard reported", "Hazard step", "Inspection",
        "Dispatch table sent", "Self-report sent"})
    assert "Time" in driver.find_element(By.ID, page.AUDIT_TABLE).text
    assert_clean_page(driver)


@pytest.mark.browser
@pytest.mark.postgis
def test_viewer_is_denied(secured, driver) -> None:
    base, _ = secured
    sign_in(driver, base, "viewer", page.PATH)
    WebDriverWait(driver, 30).until(ec.text_to_be_present_in_element((By.ID, ids.CONTENT), "当前账号无此权限"))
    assert driver.find_elements(By.ID, page.AUDIT_TABLE) == []
    assert driver.find_elements(By.CSS_SELECTOR, f"#{ids.NAV} a[href='{page.PATH}']") == []
    assert_clean_page(driver)

