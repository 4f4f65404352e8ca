"""An enterprise asks to change its basic information; only its district decides; nothing is overwritten unseen."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from campaign.enterprise_changes import decide_change, list_changes, request_change
from campaign.lifecycle import Refused
from geo import store
from tests.campaign_helpers import ANNING, ENT_A, ENT_X, signed_in

pytestmark = pytest.mark.postgis


def _as(engine, username):
    return signed_in(engine, username)


def _enterprise(engine, code: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT name, phone, principal, industry FROM enterprises "
                                      "WHERE credit_code = :c"), {"c": code}).mappings().one())


def test_request_then_approval_updates_the_enterprise_and_keeps_the_old_version(engine, campaign_app) -> None:
    ctx, ent = _as(engine, "ent_a")
    with ctx:
        cid = request_change(campaign_app, ent, {"name": "安宁示例矿业(更名)", "phone": "0871-68600000"},
                             reason="营业执照名称变更")
        mine = list_changes(campaign_app)
    assert list(mine["id"]) == [cid] and mine.iloc[0]["previous"] == {"name": "安宁示例矿业", "phone": None}
    ctx, _ = _as(engine, "ent_x")
    with ctx:
        assert list_changes(campaign_app).empty  # another enterprise sees nothing of it
    ctx, officer = _as(engine, "anning")
    with ctx:
        assert decide_change(campaign_app, officer, cid, approve=True, note="核对营业执照无误") == "approved"
        with pytest.raises(Refused, match="已审批"):
            decide_change(campaign_app, officer, cid, approve=False, note="再次审批")
    assert _enterprise(engine, ENT_A)["name"] == "安宁示例矿业(更名)"
    versions = store.record_versions(engine, "enterprises", ENT_A)
    assert [v["name"] for v in versions["data"]] == ["安宁示例矿业", "安宁示例矿业(更名)"]
    assert versions.iloc[-1]["changed_by"] == "anning"
    actions = [r["action"] for r in store.read_audit(engine)[0].to_dict("records")]
    assert "enterprise_change_request" in actions and "enterprise_change_decide" in actions


def test_bad_requests_are_refused_with_the_field_named(engine, campaign_app) -> None:
    ctx, ent = _as(engine, "ent_a")
    with ctx:
        with pytest.raises(Refused, match="不能申请变更的字段：risk_level"):
            request_change(campaign_app, ent, {"risk_level": "low"}, reason="想降低风险等级")
        with pytest.raises(Refused, match=r"企业名称.*必填"):
            request_change(campaign_app, ent, {"name": "  "}, reason="名称清空")
        with pytest.raises(Refused, match="行业"):
            request_change(campaign_app, ent, {"industry": "造船"}, reason="行业调整")
        with pytest.raises(Refused, match="双向"):
            request_change(campaign_app, ent, {"name": "安宁\u202e矿业"}, reason="名称变更")
        with pytest.raises(Refused, match="原因"):
            request_change(campaign_app, ent, {"phone": "0871-1"}, reason="")
        with pytest.raises(Refused, match="相同"):
            request_change(campaign_app, ent, {"name": "安宁示例矿业"}, reason="无变化的申请")
        request_change(campaign_app, ent, {"principal": "李四"}, reason="法定代表人变更")
        with pytest.raises(Refused, match="待审批"):
            request_change(campaign_app, ent, {"phone": "0871-2"}, reason="电话变更")
    ctx, officer = _as(engine, "anning")
    with ctx, pytest.raises(Refused, match="权限"):
        request_change(campaign_app, officer, {"phone": "0871-3"}, reason="代企业申请")
    assert _enterprise(engine, ENT_A)["principal"] is None  # nothing applied before a decision


def test_only_the_enterprises_district_decides_and_a_stale_request_cannot_overwrite(engine, campaign_app) -> None:
    ctx, ent = _as(engine, "ent_x")
    with ctx:
        cid = request_change(campaign_app, ent, {"phone": "0871-64100000"}, reason="联系电话变更")
    ctx, officer = _as(engine, "anning")  # the Anning officer, a Xishan enterprise
    with ctx:
        with pytest.raises(Refused, match="不属于本辖区"):
            decide_change(campaign_app, officer, cid, approve=True)
        assert list_changes(campaign_app).empty
    ctx, ent = _as(engine, "ent_a")
    with ctx:
        stale = request_change(campaign_app, ent, {"phone": "0871-111"}, reason="联系电话变更")
    with engine.begin() as conn:  # the district's own import changes the phone meanwhile
        conn.execute(text("UPDATE enterprises SET phone = '0871-999' WHERE credit_code = :c"), {"c": ENT_A})
    ctx, officer = _as(engine, "anning")
    with ctx:
        with pytest.raises(Refused, match="已被修改"):
            decide_change(campaign_app, officer, stale, approve=True)
        with pytest.raises(Refused, match="理由"):
            decide_change(campaign_app, officer, stale, approve=False)
        assert decide_change(campaign_app, officer, stale, approve=False, note="电话已由区县更新") == "rejected"
    assert _enterprise(engine, ENT_A)["phone"] == "0871-999"


def test_the_database_refuses_what_the_service_would_not_do(engine, campaign_app) -> None:
    ctx, ent = _as(engine, "ent_a")
    with ctx:
        cid = request_change(campaign_app, ent, {"phone": "0871-5"}, reason="联系电话变更")
        with campaign_app.begin() as conn:  # an enterprise cannot write its row, nor approve its own request
            assert conn.execute(text("UPDATE enterprises SET phone = '0871-5' WHERE credit_code = :c"),
                                {"c": ENT_A}).rowcount == 0
            assert conn.execute(text("UPDATE enterprise_changes SET state = 'approved', decided_at = now() "
                                     "WHERE id = :i"), {"i": cid}).rowcount == 0
        with pytest.raises(DBAPIError, match="row-level security"), campaign_app.begin() as conn:
            conn.execute(text("INSERT INTO enterprise_changes (credit_code, adcode, proposed, previous, reason, "
                              "requested_by) VALUES (:c, '530112', '{}', '{}', '冒充他企业', 'ent_a')"), {"c": ENT_X})
    ctx, officer = _as(engine, "anning")
    with ctx:
        decide_change(campaign_app, officer, cid, approve=True)
        with pytest.raises(DBAPIError, match="decided once"), campaign_app.begin() as conn:
            conn.execute(text("UPDATE enterprise_changes SET state = 'pending', decided_at = NULL WHERE id = :i"),
                         {"i": cid})
    assert _enterprise(engine, ENT_A)["phone"] == "0871-5"  # applied by the officer's approval only
    assert ANNING in set(store.list_changes(engine)["adcode"])


def test_the_command_line_files_and_decides_a_request(demo_copy) -> None:
    from tests.test_cli_as_user import _audit, _run

    filed = _run(demo_copy, "ent-530181", "enterprise", "request", "--set", "phone=0871-68601234",
                 "--reason", "联系电话变更")
    assert filed.exit_code == 0, filed.output
    change_id = filed.output.split()[1]
    refused = _run(demo_copy, "ent-530181", "enterprise", "decide", change_id, "--approve")
    assert refused.exit_code != 0 and "审批企业信息变更" in refused.output
    listed = _run(demo_copy, "anning", "enterprise", "changes", "--state", "pending")
    assert listed.exit_code == 0 and "0871-68601234" in listed.output
    bad = _run(demo_copy, "anning", "enterprise", "decide", change_id, "--reject", "--lang", "en")
    assert bad.exit_code == 1 and "a rejection needs a reason" in bad.output
    done = _run(demo_copy, "anning", "enterprise", "decide", change_id, "--approve")
    assert done.exit_code == 0 and "approved" in done.output
    assert [actor for actor, _, _ in _audit(demo_copy, "enterprise_change_decide")] == ["anning"]
