"""催办 (reminders) through the service and the database (real PostGIS, application role).

Who receives a reminder (the party of the hazard's next step, lifecycle.yaml ``remind``), that it reaches that
account's inbox and the hazard's history, that scope is the database's (another district's hazard is refused by
row-level security even when the service is bypassed), that finished hazards are refused with a clear reason, and
that a 催办 of several hazards is done or refused hazard by hazard, each with one row and one audit entry.
"""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from campaign.attachments import Upload
from campaign.inbox import inbox
from campaign.lifecycle import LIFECYCLE_FILE, LifecycleError, Refused
from campaign.reminders import MAX_MESSAGE, load_remind_rules, send_reminders
from geo import store
from tests.campaign_helpers import ENT_X, FIVE, JPEG, XISHAN, report, signed_in, step

pytestmark = pytest.mark.postgis
TODAY = dt.date(2026, 12, 10)
GENERAL = {"severity": "general", "description": "消防通道堵塞"}


def _counts(owner: Engine, hid: int) -> tuple[int, int]:
    """(reminder rows, reminder audit entries) of one hazard, as the database owner counts them."""
    with owner.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM hazard_reminders WHERE hazard_id = :h"), {"h": hid}).scalar_one()
        audits = conn.execute(text(
            "SELECT count(*) FROM audit_log a JOIN hidden_hazards h ON h.code = a.target "
            "WHERE h.id = :h AND a.action = 'hazard_remind'"), {"h": hid}).scalar_one()
    return int(rows), int(audits)


def _inbox_reminders(engine: Engine, app: Engine, username: str) -> list[tuple[int | None, str]]:
    ctx, actor = signed_in(engine, username)
    with ctx:
        box = inbox(app, actor, today=TODAY)
    return [(i.hazard_id, i.text.zh) for i in box.bucket("reminded")]


def _remind(engine: Engine, app: Engine, username: str, ids: list[int], message: str = "请尽快整改并上报进展"):
    ctx, actor = signed_in(engine, username)
    with ctx:
        return send_reminders(app, ids, actor, message)


def _closed_general(engine: Engine, app: Engine) -> int:
    hid = report(engine, app, **GENERAL)
    step(engine, app, "anning", hid, "fix_now", values={"measures": "清理通道", "responsible_person": "李四"},
         comment="现场已清理", uploads=[Upload("现场.jpg", JPEG)])
    return hid


def test_a_reminder_reaches_the_enterprise_of_the_next_step_and_the_history(engine, campaign_app) -> None:
    hid = report(engine, campaign_app)  # 安宁示例矿业's major hazard
    step(engine, campaign_app, "anning", hid, "verify")
    [out] = _remind(engine, campaign_app, "anning", [hid], "整改时限将至，请落实五落实")
    assert out.done and out.recipient == "enterprise" and out.state == "verified" and out.version == 2
    assert _counts(engine, hid) == (1, 1)
    mine = _inbox_reminders(engine, campaign_app, "ent_a")
    assert [h for h, _ in mine] == [hid] and "催办：整改时限将至，请落实五落实（anning" in mine[0][1]
    assert _inbox_reminders(engine, campaign_app, "ent_x") == []  # another enterprise (another district)
    assert _inbox_reminders(engine, campaign_app, "anning") == []  # the sender's role is not the recipient
    ctx, _ = signed_in(engine, "ent_a")
    with ctx:
        [kept] = store.hazard_reminders(campaign_app, hid)
    assert (kept["sent_by"], kept["sender_role"], kept["recipient_role"], kept["hazard_version"]) == (
        "anning", "district_officer", "enterprise", 2)
    assert kept["message"] == "整改时限将至，请落实五落实" and kept["sent_at"] is not None
    # the enterprise's next step answers the reminder: out of the inbox, still in the history
    step(engine, campaign_app, "ent_a", hid, "start", values=FIVE)
    assert _inbox_reminders(engine, campaign_app, "ent_a") == []
    ctx, _ = signed_in(engine, "anning")
    with ctx:
        assert len(store.hazard_reminders(campaign_app, hid)) == 1


def test_the_recipient_follows_the_state_and_the_supervision(engine, campaign_app) -> None:
    reported = report(engine, campaign_app)  # waits for the district's 核定
    [out] = _remind(engine, campaign_app, "sup", [reported], "请尽快核定")
    assert out.done and out.recipient == "district_officer"
    assert [h for h, _ in _inbox_reminders(engine, campaign_app, "anning")] == [reported]
    assert _inbox_reminders(engine, campaign_app, "ent_a") == []
    # a hazard of no enterprise: the district officer is reminded in its place
    orphan = report(engine, campaign_app, "anning", code=None)
    step(engine, campaign_app, "anning", orphan, "verify")
    [out] = _remind(engine, campaign_app, "sup", [orphan])
    assert out.recipient == "district_officer"
    # awaiting acceptance under a city-level 督办: the city supervisor strikes it off, so is reminded
    hid = report(engine, campaign_app)
    step(engine, campaign_app, "anning", hid, "verify")
    step(engine, campaign_app, "ent_a", hid, "start", values=FIVE)
    step(engine, campaign_app, "sup", hid, "supervise", values={
        "supervising_unit": "昆明市安委办", "supervision": "city", "supervision_deadline": dt.date(2099, 6, 30)})
    step(engine, campaign_app, "ent_a", hid, "apply_review", comment="已完成", uploads=[Upload("a.jpg", JPEG)])
    step(engine, campaign_app, "anning", hid, "pass_review", values={"assessment": "合格"})
    [out] = _remind(engine, campaign_app, "anning", [hid], "请安排验收")
    assert out.recipient == "city_supervisor"
    assert [h for h, _ in _inbox_reminders(engine, campaign_app, "sup")] == [hid]


def test_another_districts_hazard_is_refused_by_the_database(engine, campaign_app) -> None:
    other = report(engine, campaign_app, "ent_x", adcode=XISHAN, code=ENT_X, **GENERAL)
    [out] = _remind(engine, campaign_app, "anning", [other])
    assert not out.done and "不存在或不在本账号范围内" in out.reason("zh") and "outside" in out.reason("en")
    # past the service: the application role inserting directly is refused by row-level security
    ctx, actor = signed_in(engine, "anning")
    with ctx, pytest.raises(DBAPIError, match="outside this account's scope"), campaign_app.begin() as conn:
        store.insert_reminder(conn, hazard_id=other, recipient_role="enterprise", message="越权催办",
                              sent_by=actor.username, sender_role=actor.role)
    mine = report(engine, campaign_app, **GENERAL)
    ctx, actor = signed_in(engine, "anning")
    with ctx, pytest.raises(DBAPIError, match="signed-in account"), campaign_app.begin() as conn:
        store.insert_reminder(conn, hazard_id=mine, recipient_role="enterprise", message="冒名催办",
                              sent_by="sup", sender_role="city_supervisor")
    ctx, actor = signed_in(engine, "ent_a")  # an enterprise never sends 催办, even about its own hazard
    with ctx, pytest.raises(DBAPIError, match="row-level security"), campaign_app.begin() as conn:
        store.insert_reminder(conn, hazard_id=mine, recipient_role="enterprise", message="自己催自己",
                              sent_by=actor.username, sender_role=actor.role)
    assert _counts(engine, other) == (0, 0) and _counts(engine, mine) == (0, 0)
    ctx, actor = signed_in(engine, "ent_a")
    with ctx, pytest.raises(Refused, match="不能催办"):
        send_reminders(campaign_app, [mine], actor, "自己催自己")


def test_a_struck_off_hazard_is_refused_with_its_reason(engine, campaign_app) -> None:
    closed = _closed_general(engine, campaign_app)
    [out] = _remind(engine, campaign_app, "anning", [closed])
    assert not out.done and out.state == "closed"
    assert out.reason("zh") == "隐患已办结（已销号），不能催办"
    assert out.reason("en") == "the hazard is finished (Struck off); it cannot be reminded"
    ctx, actor = signed_in(engine, "anning")
    with ctx, pytest.raises(DBAPIError, match="is finished"), campaign_app.begin() as conn:
        store.insert_reminder(conn, hazard_id=closed, recipient_role="district_officer", message="已销号也催",
                              sent_by=actor.username, sender_role=actor.role)
    assert _counts(engine, closed) == (0, 0)


def test_several_hazards_are_each_reminded_or_refused_never_half(engine, campaign_app) -> None:
    first, second = report(engine, campaign_app, **GENERAL), report(engine, campaign_app)
    for hid in (first, second):  # verified: the enterprise's turn (the officer does not remind its own role)
        step(engine, campaign_app, "anning", hid, "verify")
    closed = _closed_general(engine, campaign_app)
    other = report(engine, campaign_app, "ent_x", adcode=XISHAN, code=ENT_X, **GENERAL)
    outcomes = _remind(engine, campaign_app, "anning", [first, closed, other, 999999, second, first])
    assert [o.hazard_id for o in outcomes] == [first, closed, other, 999999, second]  # each once, in order
    assert [o.done for o in outcomes] == [True, False, False, False, True]
    for hid, expected in ((first, (1, 1)), (second, (1, 1)), (closed, (0, 0)), (other, (0, 0))):
        assert _counts(engine, hid) == expected
    # the whole 催办 is refused before anything when the message or the choice is wrong
    for message, ids, reason in (("  ", [first], "请填写催办内容"), ("催" * (MAX_MESSAGE + 1), [first], "最多"),
                                 ("请整改", [], "未选择隐患")):
        with pytest.raises(Refused, match=reason):
            _remind(engine, campaign_app, "anning", ids, message)
    assert _counts(engine, first) == (1, 1)


def test_reminders_are_append_only(engine, campaign_app) -> None:
    hid = report(engine, campaign_app)
    _remind(engine, campaign_app, "sup", [hid])
    for sql in ("UPDATE hazard_reminders SET message = 'x'", "DELETE FROM hazard_reminders"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    assert _counts(engine, hid) == (1, 1)


def test_the_remind_table_refuses_final_states_and_unknown_roles(tmp_path) -> None:
    doc = yaml.safe_load(LIFECYCLE_FILE.read_text(encoding="utf-8"))
    rules = load_remind_rules()
    assert "closed" not in rules.states and "withdrawn" not in rules.states
    assert rules.by == frozenset({"district_officer", "city_supervisor"})
    for bad, message in (({"by": ["district_officer"], "states": {"closed": ["enterprise"]}}, "closed is final"),
                         ({"by": ["janitor"], "states": {}}, "unknown role janitor"),
                         ({"by": [], "states": {"verified": ["mayor"]}}, "unknown role mayor"),
                         ({"by": [], "states": {"lost": ["enterprise"]}}, "unknown state lost")):
        path = tmp_path / "lifecycle.yaml"
        path.write_text(yaml.safe_dump({**doc, "remind": bad}, allow_unicode=True), encoding="utf-8")
        with pytest.raises(LifecycleError, match=message):
            load_remind_rules.__wrapped__(path)


def test_the_migration_goes_down_and_up_again(engine) -> None:
    from alembic import command

    from geo import schema

    def present() -> tuple[bool, bool]:
        with engine.connect() as conn:
            table = conn.execute(text("SELECT to_regclass('hazard_reminders') IS NOT NULL")).scalar_one()
            function = conn.execute(text("SELECT to_regprocedure('riskmap_reminder_insert()') IS NOT NULL")
                                    ).scalar_one()
        return bool(table), bool(function)

    assert present() == (True, True)
    with engine.begin() as conn:
        cfg = schema.alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0020")
    assert present() == (False, False) and schema.current_revision(engine) == "0020"
    schema.upgrade(engine)
    assert present() == (True, True) and schema.current_revision(engine) == schema.head_revision()
    with engine.connect() as conn:
        forced = conn.execute(text("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'hazard_reminders'")
                              ).scalar_one()
        roles = dict(conn.execute(text("SELECT policyname, roles::text FROM pg_policies "
                                       "WHERE tablename = 'hazard_reminders'")).all())
        recipients = conn.execute(text("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                       "WHERE conname = 'ck_hazard_reminders_recipient_role'")).scalar_one()
    # 0023 again: the recipients are the roles lifecycle.yaml remind: states names
    assert all(f"'{r}'" in recipients for r in ("enterprise", "district_officer", "city_supervisor"))
    # held to the rule of 0015 (geo.schema.secure_scope_policies): every policy for every role, the owner's own
    assert forced and roles.pop("owner_unscoped") != "{public}"
    assert roles == {"reminder_read": "{public}", "reminder_insert": "{public}"}
