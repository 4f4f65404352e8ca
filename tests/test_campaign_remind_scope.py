"""催办: who reads a reminder, who may be reminded, and a step racing a reminder (real PostGIS, application role).

An enterprise reads only the reminders addressed to it (never the city chasing the district, migration 0023); a
district officer and another enterprise read nothing of another district's; nobody reminds their own role; the
database refuses a recipient role ``remind`` cannot name, and its refusals read in Chinese first; a step committed
while a reminder is being sent cannot leave the reminder in the wrong party's inbox.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from campaign import reminders
from campaign.attachments import Upload
from campaign.inbox import inbox
from campaign.reminders import database_refusal, send_reminders
from geo import store
from tests.campaign_helpers import ENT_X, FIVE, JPEG, XISHAN, report, signed_in, step

pytestmark = pytest.mark.postgis
TODAY = dt.date(2026, 12, 10)


def _read(engine: Engine, app: Engine, username: str, hid: int) -> list[tuple[str, str]]:
    """(sender, recipient role) of the reminders about ``hid`` that ``username`` reads, straight from the store."""
    ctx, _ = signed_in(engine, username)
    with ctx:
        return [(r["sent_by"], r["recipient_role"]) for r in store.hazard_reminders(app, hid)]


def _remind(engine: Engine, app: Engine, username: str, ids: list[int], message: str = "请尽快办理") -> list[Any]:
    ctx, actor = signed_in(engine, username)
    with ctx:
        return send_reminders(app, ids, actor, message)


def _rows(owner: Engine, hid: int) -> int:
    with owner.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM hazard_reminders WHERE hazard_id = :h"),
                                {"h": hid}).scalar_one())


def test_an_enterprise_reads_only_the_reminders_addressed_to_it(engine, campaign_app) -> None:
    hid = report(engine, campaign_app)  # 安宁示例矿业's hazard, waiting for the district's 核定
    [out] = _remind(engine, campaign_app, "sup", [hid], "请尽快核定")  # the city chases the district
    assert out.done and out.recipient == "district_officer"
    assert _read(engine, campaign_app, "ent_a", hid) == []  # the government's own chasing is not the enterprise's
    assert _read(engine, campaign_app, "anning", hid) == [("sup", "district_officer")]
    step(engine, campaign_app, "anning", hid, "verify")
    [out] = _remind(engine, campaign_app, "anning", [hid], "请落实五落实")
    assert out.done and out.recipient == "enterprise"
    assert _read(engine, campaign_app, "ent_a", hid) == [("anning", "enterprise")]
    assert _read(engine, campaign_app, "anning", hid) == [("sup", "district_officer"), ("anning", "enterprise")]
    assert _read(engine, campaign_app, "sup", hid) == [("sup", "district_officer"), ("anning", "enterprise")]


def test_another_district_and_another_enterprise_read_nothing(engine, campaign_app) -> None:
    xishan = report(engine, campaign_app, "ent_x", adcode=XISHAN, code=ENT_X)
    [out] = _remind(engine, campaign_app, "sup", [xishan], "西山：请尽快核定")
    assert out.done and out.recipient == "district_officer"
    assert _read(engine, campaign_app, "sup", xishan) == [("sup", "district_officer")]
    assert _read(engine, campaign_app, "anning", xishan) == []  # 安宁's officer: another district's
    assert _read(engine, campaign_app, "ent_a", xishan) == []  # another enterprise
    assert _read(engine, campaign_app, "ent_x", xishan) == []  # its own, but addressed to the district
    with engine.connect() as conn:  # the owner sees the row: the policy, not an empty table, gave []
        assert conn.execute(text("SELECT recipient_role FROM hazard_reminders WHERE hazard_id = :h"),
                            {"h": xishan}).scalars().all() == ["district_officer"]


def test_nobody_reminds_their_own_role(engine, campaign_app) -> None:
    reported = report(engine, campaign_app)  # the next step (核定) is the district officer's
    [out] = _remind(engine, campaign_app, "anning", [reported])
    assert not out.done and out.state == "reported" and out.code
    assert out.reason("zh") == "下一步由本角色（区县监管人员）办理，无需催办"
    assert out.reason("en").startswith("the next step is your own role's (District officer)")
    assert _rows(engine, reported) == 0
    # per hazard: in the same 催办 a verified hazard (the enterprise's turn) is reminded
    verified = report(engine, campaign_app)
    step(engine, campaign_app, "anning", verified, "verify")
    outcomes = _remind(engine, campaign_app, "anning", [reported, verified])
    assert [o.done for o in outcomes] == [False, True] and outcomes[1].recipient == "enterprise"
    # awaiting the city's acceptance: the city supervisor does not remind itself, the district officer may
    hid = report(engine, campaign_app)
    step(engine, campaign_app, "anning", hid, "verify")
    step(engine, campaign_app, "ent_a", hid, "start", values=FIVE)
    step(engine, campaign_app, "sup", hid, "supervise", values={
        "supervising_unit": "昆明市安委办", "supervision": "city", "supervision_deadline": dt.date(2099, 6, 30)})
    step(engine, campaign_app, "ent_a", hid, "apply_review", comment="已完成", uploads=[Upload("a.jpg", JPEG)])
    step(engine, campaign_app, "anning", hid, "pass_review", values={"assessment": "合格"})
    [out] = _remind(engine, campaign_app, "sup", [hid])
    assert not out.done and "下一步由本角色（市级督办人员）办理" in out.reason("zh")
    [out] = _remind(engine, campaign_app, "anning", [hid])
    assert out.done and out.recipient == "city_supervisor"
    # past the service: the database refuses a reminder to the sender's own role
    ctx, actor = signed_in(engine, "anning")
    with ctx, pytest.raises(DBAPIError, match="row-level security") as caught, campaign_app.begin() as conn:
        store.insert_reminder(conn, hazard_id=verified, recipient_role="district_officer", message="自己催自己",
                              sent_by=actor.username, sender_role=actor.role)
    zh, en = database_refusal(caught.value)
    assert zh == "本账号不能发送此催办（范围、角色或收件角色不符）" and "row-level security" in en
    assert _rows(engine, verified) == 1


def test_the_database_refuses_a_recipient_remind_cannot_name(engine, campaign_app, monkeypatch) -> None:
    hid = report(engine, campaign_app)
    step(engine, campaign_app, "anning", hid, "verify")
    ctx, actor = signed_in(engine, "anning")
    with ctx, pytest.raises(DBAPIError, match="ck_hazard_reminders_recipient_role"), campaign_app.begin() as conn:
        store.insert_reminder(conn, hazard_id=hid, recipient_role="mayor", message="催市长",
                              sent_by=actor.username, sender_role=actor.role)
    # through the service (a recipient table gone wrong): refused in Chinese first, the database's text in English
    monkeypatch.setattr(reminders, "recipient", lambda *_a, **_k: "leader")
    [out] = _remind(engine, campaign_app, "anning", [hid])
    assert not out.done and out.reason("zh") == "催办的收件角色无效"
    assert out.reason("en").startswith("the database refused the reminder: ") and "check constraint" in out.reason("en")
    assert _rows(engine, hid) == 0


def test_the_triggers_refusals_read_in_chinese_first(engine, campaign_app) -> None:
    other = report(engine, campaign_app, "ent_x", adcode=XISHAN, code=ENT_X)
    closed = report(engine, campaign_app, severity="general", description="消防通道堵塞")
    step(engine, campaign_app, "anning", closed, "fix_now",
         values={"measures": "清理通道", "responsible_person": "李四"}, comment="现场已清理",
         uploads=[Upload("现场.jpg", JPEG)])
    mine = report(engine, campaign_app)
    step(engine, campaign_app, "anning", mine, "verify")
    cases = ((other, "anning", "district_officer", "隐患不存在或不在本账号范围内", "outside this account's scope"),
             (closed, "anning", "district_officer", "隐患已办结，不能催办", "is finished"),
             (mine, "sup", "city_supervisor", "催办须以当前登录账号发送", "signed-in account"))
    for hid, sent_by, sender_role, zh, en in cases:
        ctx, _ = signed_in(engine, "anning")
        with ctx, pytest.raises(DBAPIError) as caught, campaign_app.begin() as conn:
            store.insert_reminder(conn, hazard_id=hid, recipient_role="enterprise", message="直接写入",
                                  sent_by=sent_by, sender_role=sender_role)
        got = database_refusal(caught.value)
        assert got[0] == zh and en in got[1] and got[1].startswith("the database refused the reminder: ")


def _waiting_on_a_lock(owner: Engine) -> bool:
    with owner.connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND wait_event_type = 'Lock'")).scalar_one())


def test_a_step_committed_meanwhile_cannot_misdirect_a_reminder(engine, campaign_app, monkeypatch) -> None:
    hid = report(engine, campaign_app)
    step(engine, campaign_app, "anning", hid, "verify")
    step(engine, campaign_app, "ent_a", hid, "start", values=FIVE)  # 整改中: the enterprise's turn
    errors: list[Exception] = []

    def apply_review() -> None:  # the enterprise applies for 复查: the district officer's turn next
        try:
            step(engine, campaign_app, "ent_a", hid, "apply_review", comment="已完成", uploads=[Upload("b.jpg", JPEG)])
        except Exception as exc:  # reported to the test below
            errors.append(exc)

    real = store.insert_reminder
    racer = threading.Thread(target=apply_review)

    def insert_after_a_step(conn: Any, **kw: Any) -> dict[str, Any]:
        # the recipient is chosen; now the enterprise's step tries to commit before the reminder is stored
        racer.start()
        deadline = time.monotonic() + 60
        while racer.is_alive() and not _waiting_on_a_lock(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        return real(conn, **kw)

    monkeypatch.setattr(store, "insert_reminder", insert_after_a_step)
    [out] = _remind(engine, campaign_app, "sup", [hid], "请尽快整改")
    racer.join(60)
    assert not racer.is_alive() and errors == []
    assert out.done and out.recipient == "enterprise" and out.state == "rectifying"
    with engine.connect() as conn:
        state, version = conn.execute(text("SELECT state, version FROM hidden_hazards WHERE id = :h"), {"h": hid}).one()
        kept = conn.execute(text("SELECT recipient_role, state, hazard_version FROM hazard_reminders "
                                 "WHERE hazard_id = :h"), {"h": hid}).one()
    assert state == "awaiting_review"
    # the reminder belongs to the state it was chosen for, answered by the step that followed it
    assert tuple(kept) == ("enterprise", "rectifying", version - 1)
    ctx, actor = signed_in(engine, "ent_a")
    with ctx:
        assert inbox(campaign_app, actor, today=TODAY).bucket("reminded") == []
