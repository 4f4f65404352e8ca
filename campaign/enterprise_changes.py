"""Enterprises ask to change their basic information; their district approves or rejects.

An enterprise account may read its own enterprise row but never write it (row-level security): a change
of name, address, legal representative, telephone or industry is a request, checked like an import row,
with the values it replaces and a reason. The district officer of the enterprise's district approves —
the enterprise row is updated and its old version kept in the history — or rejects with a reason. An
approval is refused when the enterprise's values changed since the request (someone else edited them):
nothing is ever overwritten unseen. Every request and decision is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from campaign.lifecycle import Refused
from campaign.service import Actor
from geo import store
from geo.layer_specs import ENTERPRISES
from geo.validate.issues import RowIssues
from geo.validate.values import check_text, convert_value, is_blank
from identity.permissions import allowed

__all__ = ["CHANGEABLE_FIELDS", "decide_change", "list_changes", "request_change"]

#: Fields an enterprise may ask to change (the database boundary's list).
CHANGEABLE_FIELDS = store.CHANGEABLE_FIELDS
#: Shortest reason accepted for a request or a rejection.
MIN_REASON = 4


def _refuse_unless(actor: Actor, action: str) -> None:
    if not allowed(actor.role, action):
        raise Refused([("当前账号无此权限", "your account may not do this")])


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the proposed values converted like an import row, or raise :class:`Refused` naming each field."""
    unknown = sorted(set(values) - set(CHANGEABLE_FIELDS))
    if unknown:
        raise Refused([(f"不能申请变更的字段：{'、'.join(unknown)}(可变更：{'、'.join(CHANGEABLE_FIELDS)})",
                        f"fields that cannot be changed by request: {', '.join(unknown)}")])
    row = RowIssues("变更申请 / change request", "")
    out: dict[str, Any] = {}
    for name, value in values.items():
        spec = ENTERPRISES.field(name)
        if is_blank(value):
            if spec.required:
                row.error(spec.zh, "必填，不能清空", "required: cannot be emptied")
            else:
                out[name] = None
            continue
        converted = convert_value(value, spec, row)
        if isinstance(converted, str):
            check_text(converted, spec, ENTERPRISES, row)
        out[name] = converted
    errors = [i for i in row.issues if i.severity == "error"]
    if errors:
        raise Refused([(f"{i.field}：{i.zh}", f"{i.field}: {i.en}") for i in errors])
    return out


def request_change(engine: Engine, actor: Actor, values: Mapping[str, Any], *, reason: str) -> int:
    """File a request to change the actor's enterprise; return its id.

    Parameters
    ----------
    engine : Engine
        A store engine under the enterprise account's scope.
    actor : Actor
        The enterprise account (its credit code names the enterprise).
    values : mapping
        Field to new value, fields of :data:`CHANGEABLE_FIELDS`.
    reason : str
        Why (e.g. 营业执照变更); at least :data:`MIN_REASON` characters.

    Returns
    -------
    int

    Raises
    ------
    Refused
        Not an enterprise account, unknown or invalid fields, nothing to change, no reason, or a request
        already pending.
    """
    _refuse_unless(actor, "request_info_change")
    if len((reason or "").strip()) < MIN_REASON:
        raise Refused([(f"请说明变更原因(至少{MIN_REASON}个字)", f"give a reason (at least {MIN_REASON} characters)")])
    proposed = _checked(values)
    with engine.begin() as conn:
        current = store.enterprise_fields(conn, str(actor.credit_code), list(proposed))
        if current is None:
            raise Refused([("未找到本企业的基础信息", "your enterprise's record was not found")])
        changed = {k: v for k, v in proposed.items() if v != current.get(k)}
        if not changed:
            raise Refused([("申请的内容与现有信息相同", "the values asked for are those already recorded")])
        if not store.list_changes(conn, state="pending").empty:
            raise Refused([("已有待审批的变更申请，请等待区县审批后再申请",
                            "a request is already waiting for the district's decision")])
        change_id = store.insert_change(conn, credit_code=str(actor.credit_code), adcode=str(current["adcode"]),
                                        proposed=changed, previous={k: current.get(k) for k in changed},
                                        reason=reason.strip(), requested_by=actor.username)
        store.audit(conn, actor=actor.username, action="enterprise_change_request", target=str(change_id),
                    adcode=str(current["adcode"]), details={"fields": sorted(changed)})
    return change_id


def decide_change(engine: Engine, actor: Actor, change_id: int, *, approve: bool, note: str | None = None) -> str:
    """Approve (and apply) or reject a pending request; return the new state.

    Parameters
    ----------
    engine : Engine
        A store engine under the district officer's scope.
    actor : Actor
        The district officer of the enterprise's district.
    change_id : int
        The request.
    approve : bool
        Approve and apply, or reject.
    note : str, optional
        The decision's note; required (at least :data:`MIN_REASON` characters) for a rejection.

    Returns
    -------
    str
        ``"approved"`` or ``"rejected"``.

    Raises
    ------
    Refused
        Not a district officer, a request not found in the district or already decided, a rejection
        without a reason, or the enterprise changed since the request.
    """
    _refuse_unless(actor, "decide_info_change")
    if not approve and len((note or "").strip()) < MIN_REASON:
        raise Refused([(f"驳回须说明理由(至少{MIN_REASON}个字)", f"a rejection needs a reason "
                                                            f"(at least {MIN_REASON} characters)")])
    state = "approved" if approve else "rejected"
    with engine.begin() as conn:
        change = store.read_change(conn, change_id, lock=True)
        if change is None:
            raise Refused([("未找到该变更申请(或不属于本辖区)", "no such request in your district")])
        if change["state"] != "pending":
            raise Refused([("该申请已审批", "this request has already been decided")])
        if approve:
            proposed, previous = dict(change["proposed"]), dict(change["previous"])
            current = store.enterprise_fields(conn, str(change["credit_code"]), list(proposed)) or {}
            moved = [k for k in proposed if _plain(current.get(k)) != _plain(previous.get(k))]
            if moved:
                raise Refused([(f"企业信息在申请后已被修改({'、'.join(moved)})，请驳回后由企业重新申请",
                                f"the enterprise's {', '.join(moved)} changed since the request: reject it and "
                                "let the enterprise ask again")])
            store.update_enterprise_fields(conn, str(change["credit_code"]), proposed)
        store.decide_change(conn, change_id, state=state, decided_by=actor.username, note=(note or "").strip() or None)
        store.audit(conn, actor=actor.username, action="enterprise_change_decide", target=str(change_id),
                    adcode=str(change["adcode"]), details={"state": state, "fields": sorted(change["proposed"])})
    return state


def _plain(value: Any) -> Any:
    return None if value is None else str(value)


def list_changes(engine: Engine, *, state: str | None = None) -> pd.DataFrame:
    """Return the requests the session sees (an enterprise its own, a district its district's), newest first."""
    return store.list_changes(engine, state=state)
