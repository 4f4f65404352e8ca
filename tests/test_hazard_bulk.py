"""Bulk actions on hazards: only bulk-safe steps (lifecycle.yaml ``bulk``), each hazard done or refused on its own.

Through the service (real PostGIS, application role), the command line (``hazard transition`` with several
ids or ``--from-file``), the served register page (a forged Dash request and a phone-sized browser).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine, text

from campaign.bulk import load_bulk_rules, parse_ids, take_bulk_step
from campaign.lifecycle import LIFECYCLE_FILE, LifecycleError, Refused
from campaign.service import Actor, report_hazard
from dashboard.pages import hazards as page
from geo.store import scoped
from identity.accounts import scope_for
from tests.browser import sign_in, text_at
from tests.campaign_helpers import ENT_X, XISHAN, report, signed_in, step
from tests.clients import app_engine_of, callback_body, demo_app, post_callback
from tests.test_cli_as_user import _run

pytestmark = pytest.mark.postgis
ANNING = "530181"
GENERAL = {"severity": "general", "description": "消防通道堵塞"}


def _history(owner: Engine, hid: int) -> tuple[int, int]:
    """(history steps, audit entries of steps) of one hazard, as the database owner counts them."""
    with owner.connect() as conn:
        steps = conn.execute(text("SELECT count(*) FROM hazard_steps WHERE hazard_id = :h"), {"h": hid}).scalar_one()
        audits = conn.execute(text(
            "SELECT count(*) FROM audit_log a JOIN hidden_hazards h ON h.code = a.target "
            "WHERE h.id = :h AND a.action = 'hazard_step'"), {"h": hid}).scalar_one()
    return int(steps), int(audits)


def _state(owner: Engine, hid: int) -> tuple[str, int]:
    with owner.connect() as conn:
        row = conn.execute(text("SELECT state, version FROM hidden_hazards WHERE id = :h"), {"h": hid}).one()
    return str(row[0]), int(row[1])


def test_each_hazard_is_done_or_refused_with_its_reason(engine, campaign_app) -> None:
    generals = [report(engine, campaign_app, **GENERAL) for _ in range(3)]
    major = report(engine, campaign_app)
    other = report(engine, campaign_app, "ent_x", adcode=XISHAN, code=ENT_X, **GENERAL)
    stale = generals[2]
    ctx, officer = signed_in(engine, "anning")
    with ctx:
        outcomes = take_bulk_step(campaign_app, [*generals, major, other, 999999, generals[0]], "verify", officer,
                                  expected_versions={stale: 7})
    by_id = {o.hazard_id: o for o in outcomes}
    assert [o.hazard_id for o in outcomes] == [*generals, major, other, 999999]  # each once, in order
    for hid in generals[:2]:
        assert by_id[hid].done and by_id[hid].state == "verified" and by_id[hid].version == 2
        assert _state(engine, hid) == ("verified", 2)
        assert _history(engine, hid) == (2, 1)  # the report and this step; exactly one audit entry
    refused = {hid: by_id[hid] for hid in (stale, major, other, 999999)}
    assert "已被他人修改" in refused[stale].reason("zh") and "changed by someone else" in refused[stale].reason("en")
    assert "只适用于一般隐患" in refused[major].reason("zh")
    assert "不存在或不在本账号范围内" in refused[other].reason("zh")  # 西山 is outside the officer's scope
    assert "不存在" in refused[999999].reason("zh")
    for hid in (stale, major, other):
        assert not refused[hid].done
        assert _state(engine, hid) == ("reported", 1) and _history(engine, hid) == (1, 0)


def test_a_step_that_is_not_bulk_safe_or_a_role_that_may_not_is_refused_before_anything(engine, campaign_app
                                                                                          ) -> None:
    hid = report(engine, campaign_app, **GENERAL)
    step(engine, campaign_app, "anning", hid, "verify")
    for user, action in (("anning", "extend"), ("anning", "strike_off"), ("anning", "dismiss"),
                         ("ent_a", "verify"), ("sup", "verify")):
        ctx, actor = signed_in(engine, user)
        with ctx, pytest.raises(Refused, match="不能批量操作"):
            take_bulk_step(campaign_app, [hid], action, actor)
    ctx, officer = signed_in(engine, "anning")
    with ctx, pytest.raises(Refused, match="未选择隐患"):
        take_bulk_step(campaign_app, [], "verify", officer)
    assert _history(engine, hid) == (2, 1)


def test_the_bulk_table_refuses_marks_that_are_never_safe(tmp_path) -> None:
    doc = yaml.safe_load(LIFECYCLE_FILE.read_text(encoding="utf-8"))
    assert load_bulk_rules()["verify"].severity == frozenset({"general"})
    for bad, message in ((({"strike_off": {"roles": ["district_officer"]}}), "never bulk-safe"),
                         ({"extend": {"roles": ["district_officer"]}}, "never bulk-safe"),
                         ({"verify": {"roles": ["enterprise"]}}, "role enterprise may not take verify"),
                         ({"teleport": {"roles": ["district_officer"]}}, "unknown action teleport")):
        path = tmp_path / f"{next(iter(bad))}.yaml"
        path.write_text(yaml.safe_dump({**doc, "bulk": bad}, allow_unicode=True), encoding="utf-8")
        with pytest.raises(LifecycleError, match=message):
            load_bulk_rules(path)


def test_ids_from_a_file_name_the_bad_line() -> None:
    assert parse_ids("# 待核定\n12, 15\n\n20 12 # again\n") == [12, 15, 20]
    with pytest.raises(ValueError, match="第 2 行"):
        parse_ids("12\n13a\n")


def _reported_generals(env: dict[str, str], n: int) -> list[int]:
    """Report ``n`` general hazards of 安宁's demo enterprise through the service; return their ids."""
    from geo import store

    owner = store.make_engine(env["RISKMAP_DATABASE_URL"])
    app = app_engine_of(owner)
    try:
        user = store.find_user(owner, "ent-530181")
        assert user is not None
        with owner.connect() as conn:
            lon, lat = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM enterprises WHERE credit_code = :c"),
                                    {"c": user["credit_code"]}).one()
        with scoped(scope_for(user)):
            return [report_hazard(app, Actor.of(user), {**GENERAL, "description": f"批量测试隐患{i}",
                                                        "source": "self_check", "found_on": dt.date.today()},
                                  adcode=ANNING, lon=lon, lat=lat, credit_code=user["credit_code"])
                    for i in range(n)]
    finally:
        app.dispose()
        owner.dispose()


def test_the_command_line_takes_several_ids_or_a_file(demo_copy: dict[str, str], tmp_path: Path) -> None:
    a, b, c = _reported_generals(demo_copy, 3)
    two = _run(demo_copy, "anning", "hazard", "transition", str(a), str(b), "verify")
    assert two.exit_code == 0, two.output
    assert f"{a} " in two.output and "verify → verified (v2)" in two.output and "2 done, 0 refused" in two.output
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# 复核\n{c}\n{a}\n", encoding="utf-8")
    mixed = _run(demo_copy, "anning", "hazard", "transition", "verify", "--from-file", str(ids), "--lang", "en")
    assert mixed.exit_code == 1, mixed.output  # a was verified above: refused, c done
    assert f"{c} " in mixed.output and "1 done, 1 refused" in mixed.output
    assert [line for line in mixed.output.splitlines() if line.startswith(f"{a} ") and "refused" in line]
    not_bulk = _run(demo_copy, "anning", "hazard", "transition", str(a), str(c), "start", "--set", "measures=x")
    assert not_bulk.exit_code == 1 and "不能批量操作" in not_bulk.output
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{a}\n十二\n", encoding="utf-8")
    refused = _run(demo_copy, "anning", "hazard", "transition", "verify", "--from-file", str(bad))
    assert refused.exit_code == 2 and "第 2 行" in refused.output


def _bulk_key(app: Any) -> str:
    return next(k for k in app.callback_map if page.HZ_BULK_RESULT in k)


def test_the_register_page_applies_a_bulk_step_and_exports_the_selection(pg_cluster, demo_db, monkeypatch) -> None:
    with demo_app(pg_cluster, demo_db, monkeypatch, user="anning") as app:
        env = {"RISKMAP_DATABASE_URL": app.owner.url.render_as_string(hide_password=False)}
        a, b = _reported_generals(env, 2)
        with app.owner.connect() as conn:
            dongchuan = conn.execute(text("SELECT min(id) FROM hidden_hazards WHERE adcode = '530113'")).scalar_one()
        before = (_state(app.owner, dongchuan), _history(app.owner, dongchuan))
        values = {f"{page.HZ_BULK_APPLY}.n_clicks": 1, f"{page.HZ_TABLE}.selected_row_ids": [a, b, dongchuan],
                  f"{page.HZ_TABLE}.data": [{"id": a, "version": 1}, {"id": b, "version": 1}],
                  f"{page.HZ_BULK_ACTION}.value": "verify", "lang-switch.value": "zh"}
        key = _bulk_key(app.app)
        resp = post_callback(app.client, callback_body(app.app, key, values, f"{page.HZ_BULK_APPLY}.n_clicks"))
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        shown = json.dumps(resp.get_json(), ensure_ascii=False)
        assert "2 条完成，1 条被拒绝" in shown and "不存在或不在本账号范围内" in shown
        assert _state(app.owner, a) == ("verified", 2) and _state(app.owner, b) == ("verified", 2)
        assert (_state(app.owner, dongchuan), _history(app.owner, dongchuan)) == before  # another district's
        values[f"{page.HZ_BULK_ACTION}.value"] = page.EXPORT_SELECTED
        resp = post_callback(app.client, callback_body(app.app, key, values, f"{page.HZ_BULK_APPLY}.n_clicks"))
        body = resp.get_json()["response"]
        download = body[page.HZ_BULK_DOWNLOAD]["data"]
        assert download["filename"].endswith(".zip") and download["base64"]
        assert "已导出 2 条隐患" in json.dumps(body, ensure_ascii=False)


def test_bulk_selection_on_a_phone(secured, driver, artifacts: Path) -> None:
    base, owner = secured
    env = {"RISKMAP_DATABASE_URL": owner.url.render_as_string(hide_password=False)}
    ids = _reported_generals(env, 2)
    driver.set_window_size(390, 844)
    sign_in(driver, base, "anning", "/hazards")
    wait = WebDriverWait(driver, 60)  # the first page of a fresh server on a shared 2-core machine
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"#{page.HZ_TABLE} td")))
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    codes = {}
    with owner.connect() as conn:
        for hid in ids:
            codes[hid] = conn.execute(text("SELECT code FROM hidden_hazards WHERE id = :h"), {"h": hid}).scalar_one()
    # narrow the table to the two new hazards with its own filter row, then tick both
    box = driver.find_element(By.CSS_SELECTOR, f"#{page.HZ_TABLE} th[data-dash-column='description'] input")
    box.send_keys("批量测试隐患" + "\n")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, f"#{page.HZ_TABLE} td input[type='checkbox']")) == 2)
    for cell in driver.find_elements(By.CSS_SELECTOR, f"#{page.HZ_TABLE} td input[type='checkbox']"):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", cell)
        cell.click()
    wait.until(lambda d: "已选 2 条" in (text_at(d, f"#{page.HZ_BULK_NOTE}") or ""))
    from tests.browser import choose_option

    choose_option(driver, page.HZ_BULK_ACTION, "核定")
    apply = driver.find_element(By.ID, page.HZ_BULK_APPLY)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", apply)
    apply.click()
    wait.until(ec.presence_of_element_located((By.ID, "hz-bulk-outcome")))
    outcome = text_at(driver, "#hz-bulk-outcome") or ""
    assert "2 条完成，0 条被拒绝" in outcome and all(code in outcome for code in codes.values())
    driver.save_screenshot(str(artifacts / "hazard_bulk_phone.png"))
    assert all(_state(owner, hid) == ("verified", 2) for hid in ids)
