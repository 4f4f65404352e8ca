"""Inspections with photos, hazards found by them, the 调度表 from the store, self-reports and who is late."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import text

from campaign.attachments import Upload
from campaign.dispatch_sheet import dispatch_xlsx
from campaign.inspections import InspectionRecord, hazard_from_inspection, record_inspection
from campaign.lifecycle import Refused
from campaign.reference import load_reference
from campaign.service import Actor, report_hazard, take_step
from campaign.submissions import (
    dispatch_from_store,
    self_report_figures,
    submission_states,
    submit_dispatch,
    submit_self_report,
)
from geo import store
from tests.campaign_helpers import ANNING, ENT_A, ENT_B, FIVE, JPEG, XISHAN, signed_in

pytestmark = pytest.mark.postgis
CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 12, 6, 10, tzinfo=CST)
ITEMS = list(load_reference().spot_check_items)


def _record(**kw) -> InspectionRecord:
    base = {"kind": "inspection", "adcode": ANNING, "unit": "安宁市应急管理局", "inspector": "王五",
            "inspected_at": dt.datetime(2026, 12, 5, 9, tzinfo=CST), "major_found": True, "place": "草铺街道",
            "lon": 102.45, "lat": 24.92, "credit_code": ENT_A, "description": "尾矿库排洪设施堵塞",
            "disposal": "责令停产整改", "remarks": None}
    return InspectionRecord(**{**base, **kw})


def test_an_inspection_with_photos_becomes_a_hazard(engine, campaign_app) -> None:
    ctx, officer = signed_in(engine, "anning")
    with ctx:
        iid = record_inspection(campaign_app, officer, _record(), uploads=[Upload("现场1.jpg", JPEG)], now=NOW)
        hid = hazard_from_inspection(campaign_app, officer, iid, {"description": "尾矿库排洪设施堵塞",
                                                                  "severity": "major",
                                                                  "found_on": dt.date(2026, 12, 5)},
                                     lon=102.45, lat=24.92, enterprise_name="安宁示例矿业")
        rec = store.list_inspections(campaign_app).iloc[0]
        with campaign_app.connect() as conn:
            hz = store.read_hazard(conn, hid)
    assert rec["hazard_id"] == hid and rec["inspector"] == "王五" and rec["lon"] == pytest.approx(102.45)
    assert hz is not None and hz["source"] == "department" and hz["credit_code"] == ENT_A and hz["state"] == "reported"
    with engine.connect() as conn:
        photo = conn.execute(text("SELECT media_type, size_bytes, sha256 FROM attachments WHERE inspection_id = :i"),
                             {"i": iid}).one()
    assert photo[0] == "image/jpeg" and photo[1] == len(JPEG) and len(photo[2]) == 64
    ctx, enterprise = signed_in(engine, "ent_a")
    with ctx, pytest.raises(Refused, match="无权录入排查记录"):
        record_inspection(campaign_app, enterprise, _record(), now=NOW)
    ctx, _ = signed_in(engine, "ent_x")
    with ctx:
        assert store.list_inspections(campaign_app).empty  # an enterprise does not read inspections


@pytest.mark.parametrize(("change", "message"), [
    ({"unit": " "}, "缺少排查单位"),
    ({"inspected_at": dt.datetime(2026, 12, 7, 9, tzinfo=CST)}, "晚于当前时间"),
    ({"lon": None, "lat": None, "place": ""}, "缺少排查地点"),
    ({"description": None}, "须描述隐患"),
    ({"kind": "spot_check", "credit_code": None}, "须指定企业"),
    ({"lon": 102.62, "lat": 25.03}, "不在区县 530181 内"),
])
def test_bad_inspections_are_refused_and_nothing_is_written(engine, campaign_app, change, message) -> None:
    ctx, officer = signed_in(engine, "anning")
    with ctx, pytest.raises(Refused, match=message):
        record_inspection(campaign_app, officer, _record(**change), uploads=[Upload("a.jpg", JPEG)], now=NOW)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inspections")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM attachments")).scalar_one() == 0


def _history(engine) -> dict[str, int]:
    """Replay three months of work as the owner (who may set the time of each step); return hazard ids."""
    officer, ent = Actor("anning", "district_officer", ANNING), Actor("ent_a", "enterprise", ANNING, ENT_A)
    sup = Actor("sup", "city_supervisor")

    def at(day: str, hour: int = 10) -> dt.datetime:
        return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=CST)

    def new(actor: Actor, day: str, severity: str, source: str, code: str | None = ENT_A) -> int:
        return report_hazard(engine, actor, {"description": "演示隐患", "severity": severity, "source": source,
                                             "found_on": dt.date.fromisoformat(day)},
                             adcode=ANNING, lon=102.45, lat=24.92, credit_code=code, at=at(day))

    five = {**FIVE, "deadline": dt.date(2027, 3, 31)}
    ids = {"self_done": new(ent, "2026-09-03", "major", "self_check"),
           "self_open": new(ent, "2026-10-01", "major", "self_check"),
           "dept_sup": new(officer, "2026-09-15", "major", "department", ENT_B),
           "dept_late": new(officer, "2026-10-10", "major", "expert", ENT_B),
           "general": new(ent, "2026-10-05", "general", "self_check"),
           "dismissed": new(officer, "2026-11-05", "major", "public", None),
           "december": new(ent, "2026-12-02", "major", "self_check")}
    take_step(engine, ids["self_done"], "verify", officer, at=at("2026-09-05"))
    take_step(engine, ids["self_done"], "start", ent, values=five, at=at("2026-09-10"))
    take_step(engine, ids["self_done"], "apply_review", ent, comment="完成", uploads=[Upload("a.jpg", JPEG)],
              at=at("2026-10-20"))
    take_step(engine, ids["self_done"], "pass_review", officer, values={"assessment": "合格"}, at=at("2026-10-25"))
    take_step(engine, ids["self_done"], "strike_off", officer, at=at("2026-11-02"))
    take_step(engine, ids["self_open"], "verify", officer, at=at("2026-10-02"))
    take_step(engine, ids["dept_sup"], "verify", officer, at=at("2026-09-16"))
    take_step(engine, ids["dept_sup"], "start", officer, values=five, at=at("2026-09-20"))
    take_step(engine, ids["dept_sup"], "supervise", sup, values={"supervising_unit": "昆明市安委办",
                                                                 "supervision": "city",
                                                                 "supervision_deadline": dt.date(2027, 1, 31)},
              at=at("2026-09-21"))
    take_step(engine, ids["dept_sup"], "apply_review", ent, comment="完成", uploads=[Upload("b.jpg", JPEG)],
              at=at("2026-11-20"))
    take_step(engine, ids["dept_sup"], "pass_review", sup, values={"assessment": "合格"}, at=at("2026-11-30", 23))
    take_step(engine, ids["dept_late"], "verify", officer, at=at("2026-10-11"))
    take_step(engine, ids["dept_late"], "start", officer, values=five, at=at("2026-10-12"))
    take_step(engine, ids["dept_late"], "apply_review", ent, comment="完成", uploads=[Upload("c.jpg", JPEG)],
              at=at("2026-11-25"))
    take_step(engine, ids["dept_late"], "pass_review", officer, values={"assessment": "合格"}, at=at("2026-12-01", 0))
    take_step(engine, ids["general"], "fix_now", ent, values={"measures": "更换", "responsible_person": "李四"},
              comment="当场整改", uploads=[Upload("d.jpg", JPEG)], at=at("2026-10-06"))
    take_step(engine, ids["dismissed"], "dismiss", officer, comment="非隐患", at=at("2026-11-06"))
    for day, code, items in (("2026-10-09", ENT_A, ITEMS[:1]), ("2026-11-09", ENT_A, ITEMS[:2]),
                             ("2026-11-20", ENT_B, ITEMS[4:5]), ("2026-12-01", ENT_B, ITEMS)):
        record_inspection(engine, officer, _record(kind="spot_check", credit_code=code, major_found=False,
                                                   description=None, inspected_at=at(day),
                                                   spot_items=dict.fromkeys(items, True)), now=NOW)
    return ids


def _by_sql(engine, cutoff: str) -> dict[str, int]:
    """The 调度表 counted with SQL straight from the history rows, independently of the campaign package."""
    sql = """
    WITH last AS (
      SELECT DISTINCT ON (s.hazard_id) s.hazard_id, s.to_state, s.severity, s.supervised, h.source
        FROM hazard_steps s JOIN hidden_hazards h ON h.id = s.hazard_id
       WHERE h.adcode = :a AND s.at < CAST(:cut AS timestamptz)
       ORDER BY s.hazard_id, s.version DESC)
    SELECT count(*) FILTER (WHERE source = 'self_check') AS self_found,
           count(*) FILTER (WHERE source = 'self_check' AND to_state IN ('awaiting_acceptance', 'closed')) AS self_r,
           count(*) FILTER (WHERE source <> 'self_check') AS insp_found,
           count(*) FILTER (WHERE source <> 'self_check' AND to_state IN ('awaiting_acceptance', 'closed')) AS insp_r,
           count(*) FILTER (WHERE supervised) AS sup_found,
           count(*) FILTER (WHERE supervised AND to_state IN ('awaiting_acceptance', 'closed')) AS sup_r
      FROM last WHERE severity = 'major' AND to_state <> 'withdrawn'"""
    with engine.connect() as conn:
        row = conn.execute(text(sql), {"a": ANNING, "cut": cutoff}).one()
        spot = conn.execute(text(
            "SELECT count(DISTINCT credit_code) FROM inspections WHERE kind = 'spot_check' AND adcode = :a "
            "AND inspected_at < CAST(:cut AS timestamptz)"), {"a": ANNING, "cut": cutoff}).scalar_one()
        per_item = {k: conn.execute(text(
            "SELECT count(DISTINCT credit_code) FROM inspections WHERE kind = 'spot_check' AND adcode = :a "
            "AND inspected_at < CAST(:cut AS timestamptz) AND (spot_items ->> :k)::boolean"),
            {"a": ANNING, "cut": cutoff, "k": k}).scalar_one() for k in ITEMS}
    names = ("self_found", "self_rectified", "inspection_found", "inspection_rectified", "supervised_found",
             "supervised_rectified")
    return {**dict(zip(names, row, strict=True)), "spot_total": spot, **per_item}


def test_the_dispatch_table_from_the_store_equals_the_rows_counted_in_sql(engine, campaign_app) -> None:
    _history(engine)
    for period, cutoff in (("2026-10", "2026-10-01 00:00+08"), ("2026-11", "2026-11-01 00:00+08"),
                           ("2026-12", "2026-12-01 00:00+08")):
        table = dispatch_from_store(engine, adcode=ANNING, unit="安宁市", period=period)
        assert table.figures() == _by_sql(engine, cutoff), period
    dec = dispatch_from_store(engine, adcode=ANNING, unit="安宁市", period="2026-12").figures()
    assert (dec["self_found"], dec["self_rectified"], dec["inspection_found"], dec["inspection_rectified"],
            dec["supervised_found"], dec["supervised_rectified"]) == (2, 1, 2, 1, 1, 1)
    # the officer sends it; the figures are kept as sent and the XLSX holds the same numbers
    ctx, officer = signed_in(engine, "anning")
    with ctx:
        revision, sent = submit_dispatch(campaign_app, officer, adcode=ANNING, unit="安宁市", period="2026-12")
        with pytest.raises(Refused, match="不能报送 530112"):
            submit_dispatch(campaign_app, officer, adcode=XISHAN, unit="西山区", period="2026-12")
    assert revision == 1 and sent.figures() == dec
    stored = store.list_submissions(engine, "dispatch", period="2026-12")
    assert stored.iloc[0]["figures"] == dec and stored.iloc[0]["submitted_by"] == "anning"
    ws = openpyxl.load_workbook(io.BytesIO(dispatch_xlsx(sent, issued_on=dt.date(2026, 12, 6))))["调度表"]
    assert [ws[f"C{r}"].value for r in range(5, 11)] == [dec[row.code] for row, _ in sent.hazards]
    states = {s.owner: s.state for s in submission_states(engine, "dispatch", period="2026-12",
                                                          owners=[ANNING, XISHAN], today=dt.date(2026, 12, 31))}
    sent_on_time = dt.datetime.now(CST).date() <= dt.date(2026, 12, 30)  # the server stamps the submission
    assert states == {ANNING: "on_time" if sent_on_time else "late", XISHAN: "missing"}
    early = submission_states(engine, "dispatch", period="2026-12", owners=[XISHAN], today=dt.date(2026, 12, 6))
    assert early[0].state == "not_due" and early[0].label == ("未到期", "not yet due")


def test_the_enterprise_self_report(engine, campaign_app) -> None:
    _history(engine)
    assert self_report_figures(engine, credit_code=ENT_A, period="2026-10") == {
        "major_found": 1, "major_rectified": 1, "major_open": 1,  # self_open found; self_done passed review
        "general_found": 1, "general_rectified": 1, "general_open": 0}
    assert self_report_figures(engine, credit_code=ENT_A, period="2026-11")["major_rectified"] == 0
    ctx, ent = signed_in(engine, "ent_a")
    with ctx:
        with pytest.raises(Refused) as refused:
            submit_self_report(campaign_app, ent, period="2026-12", signed_by=" ", today=dt.date(2026, 12, 6))
        assert len(refused.value.reasons) == 2
        first, figures = submit_self_report(campaign_app, ent, period="2026-11", signed_by="赵法人",
                                            today=dt.date(2026, 12, 6))
        again, _ = submit_self_report(campaign_app, ent, period="2026-11", signed_by="赵法人", note="更正",
                                      today=dt.date(2026, 12, 6))
    assert (first, again) == (1, 2)
    rows = store.list_submissions(engine, "self_report", period="2026-11")
    assert list(rows["revision"]) == [2, 1] and set(rows["signed_by"]) == {"赵法人"}
    assert rows.iloc[1]["figures"] == figures
    ctx, officer = signed_in(engine, "anning")
    with ctx, pytest.raises(Refused, match="只有企业账号"):
        submit_self_report(campaign_app, officer, period="2026-11", signed_by="x", today=dt.date(2026, 12, 6))
    states = submission_states(engine, "self_report", period="2026-11", owners=[ENT_A, ENT_B],
                               today=dt.date(2026, 12, 6))
    assert [s.state for s in states] == ["late", "missing"]  # sent on 12-06, due by 12-05


def test_the_inbox_of_each_role(engine, campaign_app) -> None:
    from campaign.inbox import BUCKETS, inbox
    from tests.campaign_helpers import report, step

    soon = dt.date.today() + dt.timedelta(days=3)
    waiting = report(engine, campaign_app)  # reported: waits for the officer's 核定
    due = report(engine, campaign_app)
    step(engine, campaign_app, "anning", due, "verify")
    step(engine, campaign_app, "ent_a", due, "start", values={**FIVE, "deadline": soon})
    sup = report(engine, campaign_app)
    step(engine, campaign_app, "anning", sup, "verify")
    step(engine, campaign_app, "ent_a", sup, "start", values=FIVE)
    step(engine, campaign_app, "sup", sup, "supervise", values={"supervising_unit": "市安委办", "supervision": "city",
                                                                  "supervision_deadline": soon})
    today = dt.date.today()
    boxes = {}
    for name in ("anning", "ent_a", "ent_x", "sup"):
        ctx, actor = signed_in(engine, name)
        with ctx:
            boxes[name] = inbox(campaign_app, actor, today=today, districts=[ANNING, XISHAN])
    officer, ent = boxes["anning"], boxes["ent_a"]
    assert [(i.hazard_id, i.action) for i in officer.bucket("waiting")] == [(waiting, "verify")]
    assert [i.hazard_id for i in officer.bucket("due_soon")] == [due] == [i.hazard_id for i in ent.bucket("due_soon")]
    assert not ent.bucket("waiting") and [i.hazard_id for i in ent.bucket("progress_missing")] == [sup]
    assert len(officer.bucket("reports_missing")) == 1 and "调度表" in officer.bucket("reports_missing")[0].text.zh
    assert "月度自查报告" in ent.bucket("reports_missing")[0].text.zh
    assert boxes["ent_x"].counts() == {**dict.fromkeys(BUCKETS, 0), "reports_missing": 1}
    city = boxes["sup"]
    assert {i.code.split("-")[1] for i in city.bucket("due_soon")} == {ANNING}
    assert len(city.bucket("reports_missing")) == 2  # neither district sent last month's 调度表
