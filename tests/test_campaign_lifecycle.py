"""The hazard lifecycle table and its interpreter: the whole life of a major hazard, every refusal, and a
property test over random sequences of actions by random roles."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign.lifecycle import (
    Hazard,
    LifecycleError,
    StaleHazard,
    TransitionRefused,
    apply,
    load_lifecycle,
    parse_lifecycle,
)

LIFE = load_lifecycle()
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
FIVE = {"measures": "加固围堰", "responsible_unit": "某矿业公司", "responsible_person": "张三",
        "funds_wan": 35.5, "deadline": dt.date(2027, 3, 31), "emergency_plan": "尾矿库溃坝专项预案"}
REPORT = {"description": "尾矿库坝体渗漏", "severity": "major", "source": "企业自查", "found_on": dt.date(2026, 11, 30)}


def _at(days: int) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def test_a_major_hazard_lives_its_whole_life() -> None:
    h, step = apply(LIFE, None, "create", role="enterprise", actor="ent1", at=_at(0), values=REPORT)
    assert (h.state, step.from_state, step.to_state, h.version) == ("reported", None, "reported", 1)
    h, _ = apply(LIFE, h, "verify", role="district_officer", actor="anning", at=_at(1))
    h, _ = apply(LIFE, h, "start", role="enterprise", actor="ent1", at=_at(2), values=FIVE)
    assert h.state == "rectifying" and h.values["funds_wan"] == 35.5
    h, _ = apply(LIFE, h, "supervise", role="city_supervisor", actor="sup", at=_at(3),
                 values={"supervising_unit": "昆明市安委办", "supervision": "city",
                         "supervision_deadline": dt.date(2027, 4, 30)})
    assert h.supervised
    h, _ = apply(LIFE, h, "report_progress", role="enterprise", actor="ent1", at=_at(30),
                 values={"progress": "围堰加固完成60%"})
    h, _ = apply(LIFE, h, "apply_review", role="enterprise", actor="ent1", at=_at(60), comment="已完成",
                 attachments=["a" * 64])
    h, step = apply(LIFE, h, "send_back", role="district_officer", actor="anning", at=_at(61), comment="排水未完成")
    assert (step.from_state, step.to_state) == ("awaiting_review", "rectifying")
    h, _ = apply(LIFE, h, "apply_review", role="enterprise", actor="ent1", at=_at(70), comment="补做排水",
                 attachments=["b" * 64])
    h, _ = apply(LIFE, h, "pass_review", role="district_officer", actor="anning", at=_at(71),
                 values={"assessment": "经第三方评估，隐患已消除"})
    with pytest.raises(TransitionRefused, match="督办层级"):
        apply(LIFE, h, "strike_off", role="district_officer", actor="anning", at=_at(72))
    h, step = apply(LIFE, h, "strike_off", role="city_supervisor", actor="sup", at=_at(72))
    assert h.state == "closed" and step.version == h.version == 10
    assert not LIFE.available(h, "city_supervisor")


def test_major_hazard_needs_the_five_in_place_before_rectification() -> None:
    h, _ = apply(LIFE, None, "create", role="enterprise", actor="e", at=_at(0), values=REPORT)
    h, _ = apply(LIFE, h, "verify", role="district_officer", actor="o", at=_at(1))
    partial = {k: v for k, v in FIVE.items() if k not in ("funds_wan", "emergency_plan")}
    with pytest.raises(TransitionRefused) as err:
        apply(LIFE, h, "start", role="enterprise", actor="e", at=_at(2), values=partial)
    assert "缺少整改资金(万元)" in str(err.value) and "缺少应急预案" in str(err.value)
    assert len(err.value.reasons) == 2


def test_general_hazard_starts_without_funds_and_may_be_fixed_on_the_spot() -> None:
    general = {**REPORT, "severity": "general"}
    h, _ = apply(LIFE, None, "create", role="district_officer", actor="o", at=_at(0), values=general)
    with pytest.raises(TransitionRefused, match="需要附件"):
        apply(LIFE, h, "fix_now", role="enterprise", actor="e", at=_at(0), comment="当场更换",
              values={"measures": "更换灭火器", "responsible_person": "李四"})
    h2, step = apply(LIFE, h, "fix_now", role="enterprise", actor="e", at=_at(0), comment="当场更换",
                     values={"measures": "更换灭火器", "responsible_person": "李四"}, attachments=["c" * 64])
    assert h2.state == "closed" and step.attachments == ("c" * 64,)
    major, _ = apply(LIFE, None, "create", role="district_officer", actor="o", at=_at(0), values=REPORT)
    with pytest.raises(TransitionRefused, match="重大事故隐患不能即查即改"):
        apply(LIFE, major, "fix_now", role="enterprise", actor="e", at=_at(0), comment="x",
              values={"measures": "m", "responsible_person": "p"}, attachments=["d" * 64])


@pytest.mark.parametrize(("values", "message"), [
    ({**FIVE, "deadline": dt.date(2026, 11, 1)}, "早于今天"),
    ({**FIVE, "funds_wan": -1}, "不小于0"),
    ({**FIVE, "funds_wan": float("inf")}, "不小于0"),
    ({**FIVE, "measures": "   "}, "缺少整改措施"),
    ({**FIVE, "assessment": "提前写好"}, "不能修改评估结论"),
])
def test_bad_values_are_refused_with_the_field_named(values: dict[str, Any], message: str) -> None:
    h = Hazard(state="verified", severity="major", version=2)
    with pytest.raises(TransitionRefused, match=message):
        apply(LIFE, h, "start", role="enterprise", actor="e", at=_at(0), values=values)


def test_extension_only_later_and_by_approval() -> None:
    h = Hazard(state="rectifying", severity="major", values=dict(FIVE), version=3)
    with pytest.raises(TransitionRefused, match="企业无权批准延期"):
        apply(LIFE, h, "extend", role="enterprise", actor="e", at=_at(0), comment="雨季",
              values={"deadline": dt.date(2027, 6, 30)})
    with pytest.raises(TransitionRefused, match="应晚于原时限"):
        apply(LIFE, h, "extend", role="district_officer", actor="o", at=_at(0), comment="雨季",
              values={"deadline": dt.date(2027, 3, 1)})
    h2, step = apply(LIFE, h, "extend", role="district_officer", actor="o", at=_at(0), comment="雨季",
                     values={"deadline": dt.date(2027, 6, 30)})
    assert h2.state == "rectifying"
    assert step.changes == {"deadline": (dt.date(2027, 3, 31), dt.date(2027, 6, 30))}


def test_supervision_must_match_the_role_and_overdue_is_derived() -> None:
    h = Hazard(state="rectifying", severity="major", values=dict(FIVE), version=3)
    sup = {"supervising_unit": "区安委办", "supervision": "city", "supervision_deadline": dt.date(2027, 1, 31)}
    with pytest.raises(TransitionRefused, match="不能实施市级督办"):
        apply(LIFE, h, "supervise", role="district_officer", actor="o", at=_at(0), values=sup)
    h2, _ = apply(LIFE, h, "supervise", role="district_officer", actor="o", at=_at(0),
                  values={**sup, "supervision": "county"})
    assert LIFE.supervision_overdue(h2, dt.date(2027, 2, 1)) and not LIFE.supervision_overdue(h2, dt.date(2027, 1, 31))
    assert LIFE.is_overdue(h2, dt.date(2027, 4, 1)) and not LIFE.is_overdue(h2, dt.date(2027, 3, 31))
    assert not LIFE.is_overdue(Hazard("closed", "major", dict(FIVE)), dt.date(2030, 1, 1))
    with pytest.raises(TransitionRefused, match="已挂牌督办"):
        apply(LIFE, h2, "supervise", role="city_supervisor", actor="s", at=_at(1), values=sup)


def test_a_stale_version_is_refused() -> None:
    h = Hazard(state="reported", severity="major", values=dict(REPORT), version=4)
    with pytest.raises(StaleHazard, match="已被他人修改"):
        apply(LIFE, h, "verify", role="district_officer", actor="o", at=_at(0), expected_version=3)
    assert apply(LIFE, h, "verify", role="district_officer", actor="o", at=_at(0), expected_version=4)[0].version == 5


def test_an_inconsistent_table_is_refused_on_load() -> None:
    import yaml

    from campaign.lifecycle import LIFECYCLE_FILE

    doc = yaml.safe_load(LIFECYCLE_FILE.read_text(encoding="utf-8"))
    doc["actions"]["verify"]["to"] = "approved"
    doc["actions"]["start"]["roles"].append("janitor")
    with pytest.raises(LifecycleError, match=r"verify: unknown target state approved.*start: unknown role janitor"):
        parse_lifecycle(doc)


ROLES = [*sorted(LIFE.roles), "viewer"]
ACTIONS = sorted(LIFE.actions)


def _values_for(action: str, draw: Any) -> dict[str, Any]:
    """Plausible values for an action: sometimes complete, sometimes missing or wrong."""
    pool: dict[str, Any] = {**FIVE, "severity": draw(st.sampled_from(["major", "general"])),
                            "assessment": "评估合格", "progress": "进展", "supervising_unit": "安委办",
                            "supervision": draw(st.sampled_from(["city", "county", "province"])),
                            "supervision_deadline": dt.date(2027, 5, 1),
                            "deadline": draw(st.sampled_from([dt.date(2027, 3, 31), dt.date(2027, 9, 30),
                                                              dt.date(2025, 1, 1)]))}
    act = LIFE.actions[action]
    names = sorted(LIFE.expand(act.writable()))
    if draw(st.booleans()):
        return {k: pool[k] for k in names}
    keep = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    return {k: pool[k] for k in keep}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_sequences_never_leave_the_table(data: Any) -> None:
    severity = data.draw(st.sampled_from(["major", "general"]))
    hazard, first = apply(LIFE, None, "create", role="enterprise", actor="e", at=_at(0),
                          values={**REPORT, "severity": severity})
    history = [first]
    for i in range(data.draw(st.integers(1, 25))):
        # Half the steps follow the table (an open action with one of its roles) so that runs reach
        # the late states; the rest are arbitrary action/role pairs, which must be refused or obey it.
        options = [(a.code, r) for r in sorted(LIFE.roles) for a in LIFE.available(hazard, r)]
        if options and data.draw(st.booleans()):
            action, role = data.draw(st.sampled_from(options))
        else:
            action, role = data.draw(st.sampled_from(ACTIONS)), data.draw(st.sampled_from(ROLES))
        values = _values_for(action, data.draw)
        comment = data.draw(st.sampled_from(["说明", "说明", None, ""]))
        attachments = data.draw(st.sampled_from([("e" * 64,), ("e" * 64,), ()]))
        try:
            after, step = apply(LIFE, hazard, action, role=role, actor="x", at=_at(i + 1), values=values,
                                comment=comment, attachments=attachments, expected_version=hazard.version)
        except TransitionRefused as refused:
            assert refused.reasons and all(zh and en for zh, en in refused.reasons)
            continue
        act = LIFE.actions[action]
        assert hazard.state in act.from_states and role in act.roles
        assert after.state == (act.to or hazard.state) and after.state in LIFE.states
        assert after.version == hazard.version + 1 == step.version
        if act.severity is not None:
            assert hazard.severity in act.severity
        if action == "start" and hazard.severity == "major":
            assert all(after.values.get(f) not in (None, "") for f in LIFE.five_in_place)
        if action == "strike_off" and hazard.supervised:
            assert role in LIFE.supervision_levels[hazard.values["supervision"]][1]
        history.append(step)
        hazard = after
    assert [s.version for s in history] == list(range(1, len(history) + 1))
    assert all(a.to_state == b.from_state for a, b in itertools.pairwise(history))


def test_guided_walks_reach_every_state() -> None:
    """Seeded walks along the table (an open action, complete values) reach every state: the table has no dead
    state, and the property test above has the late states within its reach."""
    import random

    rnd = random.Random(2026)
    pool = {**FIVE, "assessment": "评估合格", "progress": "进展", "supervising_unit": "安委办",
            "supervision_deadline": dt.date(2027, 5, 1)}
    reached: set[str] = set()
    for walk in range(200):
        hazard, _ = apply(LIFE, None, "create", role="enterprise", actor="e", at=_at(0),
                          values={**REPORT, "severity": ("major", "general")[walk % 2]})
        reached.add(hazard.state)
        for i in range(30):
            options = [(a, r) for r in sorted(LIFE.roles) for a in LIFE.available(hazard, r)]
            if not options:
                break
            act, role = rnd.choice(options)
            values = {k: pool[k] for k in LIFE.expand(act.writable()) if k in pool}
            if "severity" in act.writable():
                values["severity"] = hazard.severity
            if "supervision" in act.writable():
                values["supervision"] = next(k for k, (_, roles) in LIFE.supervision_levels.items() if role in roles)
            if act.later_deadline:
                values["deadline"] = (hazard.values.get("deadline") or dt.date(2027, 1, 1)) + dt.timedelta(days=30)
            hazard, _ = apply(LIFE, hazard, act.code, role=role, actor="x", at=_at(i + 1), values=values,
                              comment="说明", attachments=("e" * 64,))
            reached.add(hazard.state)
    assert reached == set(LIFE.states)
