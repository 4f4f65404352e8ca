"""The administrator's local values of report definitions: validation, history, reset, and one reading everywhere.

A change is a row of ``report_definition_overrides`` (who, when, why, the value it replaced), never an edit of
``definitions.yaml``; :func:`layers.reporting.definitions.reports_in_force` applies it for every view: due dates,
the status matrix and (tests/test_report_cli.py) the generated document's date line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from geo import store
from geo.store import Scope, scoped
from layers.reporting.definition_admin import reset_definition, set_definition, validate_value
from layers.reporting.definitions import due_date, load_reports, reports_in_force
from layers.reporting.service import Refusal
from layers.reporting.status import submission_status

pytestmark = pytest.mark.postgis
ADMIN: dict[str, Any] = {"username": "admin", "role": "admin", "adcode": None}
ANNING = "530181"


def _audits(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r[0], target=r[1], actor=r[2]) for r in conn.execute(text(
            "SELECT details, target, actor FROM audit_log WHERE action = 'report_definition_change' ORDER BY id"))]


@pytest.mark.parametrize(("code", "field", "value", "zh", "en"), [
    ("four_lists", "sections", "headline,nonsense", "未知章节代码 nonsense", "unknown section codes nonsense"),
    ("four_lists", "due_day", "31", "6 月没有 31 日", "day must be 1–30 in month 6, not 31"),
    ("stage_report", "due_month", "13", "月份应在 1–12 之间", "month must be 1–12, not 13"),
    ("summary", "name", "   ", "不能为空", "must not be empty"),
    ("bulletin", "due_month", "2", "月报没有截止月份", "a monthly report has no due month"),
    ("four_lists", "due_day", "twenty", "应为整数", "must be a whole number"),
    ("four_lists", "sections", " , ", "至少需要一个章节", "needs at least one section"),
    ("four_lists", "colour", "red", "没有可修改的字段", "has no editable field"),
    ("dispatch", "due_month", "12", "月报没有截止月份", "a monthly report has no due month"),
])
def test_invalid_values_are_refused_naming_the_field_and_nothing_is_written(
        engine: Engine, code: str, field: str, value: str, zh: str, en: str) -> None:
    with pytest.raises(Refusal) as refused:
        set_definition(engine, code, field, value, reason="按市政府新通知调整", user=ADMIN, actor="x")
    assert zh in refused.value.zh and en in refused.value.en
    assert field in refused.value.zh and field in refused.value.en
    assert store.read_definition_overrides(engine, active_only=False) == [] and _audits(engine) == []
    assert reports_in_force(engine) == load_reports()


def test_a_change_applies_everywhere_keeps_history_and_reset_restores(engine: Engine) -> None:
    shipped = load_reports()["four_lists"]
    assert due_date(shipped, "2026") == dt.date(2026, 6, 20)
    changed = set_definition(engine, "four_lists", "due_day", "25", reason="市安委办通知延期", user=ADMIN, actor="x")
    assert due_date(changed, "2026") == dt.date(2026, 6, 25) == due_date(reports_in_force(engine)["four_lists"],
                                                                          "2026")
    status = submission_status(engine, "2026-06", today=dt.date(2026, 6, 22))
    row = status[(status["adcode"] == ANNING) & (status["kind"] == "four_lists")].iloc[0]
    assert (row["due"], row["state"], row["days"]) == (dt.date(2026, 6, 25), "pending", 3)
    set_definition(engine, "four_lists", "due_month", "7", reason="改为七月报送", user=ADMIN, actor="x")
    set_definition(engine, "four_lists", "due_day", "31", reason="七月底前报送", user=ADMIN, actor="x")  # July has 31
    set_definition(engine, "four_lists", "sections", "headline，four_lists", reason="暂不附地图", user=ADMIN, actor="x")
    set_definition(engine, "four_lists", "name", "安全风险四张清单", reason="统一名称", user=ADMIN, actor="x")
    now = reports_in_force(engine)["four_lists"]
    assert due_date(now, "2026") == dt.date(2026, 7, 31)
    assert now.sections == ("headline", "four_lists") and now.zh == "安全风险四张清单"
    assert load_reports()["four_lists"] == shipped  # the file's definitions are untouched
    history = store.read_definition_overrides(engine, active_only=False)
    days = [(r["value"], r["previous"], r["active"], r["actor"]) for r in history if r["field"] == "due_day"]
    assert days == [(25, 20, False, "admin"), (31, 25, True, "admin")]
    assert reset_definition(engine, "four_lists", "due_day", reason="恢复默认时限", user=ADMIN, actor="x")
    assert reset_definition(engine, "four_lists", "due_month", reason="恢复默认时限", user=ADMIN, actor="x")
    assert not reset_definition(engine, "four_lists", "due_month", reason="再次恢复默认", user=ADMIN, actor="x")
    assert due_date(reports_in_force(engine)["four_lists"], "2026") == dt.date(2026, 6, 20)
    assert len(store.read_definition_overrides(engine, active_only=False)) == 5  # nothing overwritten
    audits = _audits(engine)
    assert [(a["target"], a["old"], a["new"]) for a in audits][:2] == [("four_lists.due_day", 20, 25),
                                                                      ("four_lists.due_month", 6, 7)]
    assert audits[-2]["reset"] is True and audits[-2]["new"] == 20 and len(audits) == 7
    # the history cannot be rewritten, not even by the owner: only taking a value out of force is an update
    for sql in ("UPDATE report_definition_overrides SET value = '1'", "DELETE FROM report_definition_overrides",
                "UPDATE report_definition_overrides SET active = true"):
        with pytest.raises(DBAPIError, match="kept as history"), engine.begin() as conn:
            conn.execute(text(sql))


def test_only_the_administrator_changes_definitions(engine: Engine, app_engine: Engine) -> None:
    for user in ({"username": "leader", "role": "leader"}, {"username": "anning", "role": "district_officer",
                                                            "adcode": ANNING}):
        with pytest.raises(Refusal, match="修改报告定义"):
            set_definition(engine, "summary", "due_day", "10", reason="越权修改测试", user=user, actor="x")
    with pytest.raises(Refusal, match="reason"):
        set_definition(engine, "summary", "due_day", "10", reason=" ", user=ADMIN, actor="x")
    leader = Scope(all_districts=True, actor="leader", role="leader")  # RLS: not without the admin role
    with scoped(leader), pytest.raises(DBAPIError, match="row-level security"):
        set_definition(app_engine, "summary", "due_day", "10", reason="越权修改测试", user=ADMIN, actor="x")
    with scoped(Scope(all_districts=True, actor="admin", role="admin")):
        set_definition(app_engine, "summary", "due_day", "10", reason="年终提前报送", user=ADMIN, actor="x")
        assert due_date(reports_in_force(app_engine)["summary"], "2026") == dt.date(2026, 12, 10)
    with scoped(Scope(all_districts=False, adcode=ANNING, actor="anning", role="district_officer")):
        assert due_date(reports_in_force(app_engine)["summary"], "2026") == dt.date(2026, 12, 10)  # everyone reads
    assert validate_value(load_reports()["summary"], "sections", ["headline", "method"]) == ["headline", "method"]
