"""Hazard workflow services: report a hazard, take a step, read its history — one transaction each.

Pages and the command line call these; they never touch SQL. Each step is decided twice: here by
:func:`campaign.lifecycle.apply` (with every reason, in Chinese and English), and again by the database
(migration 0009), which refuses a step the lifecycle table does not allow whatever the caller. An
accepted step writes its history row, the hazard's new state and one audit entry, or nothing at all.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from campaign.attachments import Upload, check_upload
from campaign.lifecycle import Lifecycle, Refused, StaleHazard, TransitionRefused, apply, load_lifecycle
from geo import store


@dataclass(frozen=True)
class Actor:
    """Who acts: account name, role, and for enterprise accounts their district and credit code."""

    username: str
    role: str
    adcode: str | None = None
    credit_code: str | None = None

    @classmethod
    def of(cls, user: Mapping[str, Any]) -> Actor:
        """Build from a signed-in user's dict (``username``, ``role``, ``adcode``, ``credit_code``)."""
        return cls(str(user["username"]), str(user["role"]), user.get("adcode"), user.get("credit_code"))


def _check_lifecycle(engine_conn: Any, life: Lifecycle) -> None:
    seeded = store.lifecycle_version(engine_conn)
    if seeded != life.version:
        raise TransitionRefused([(f"数据库中的隐患流程版本（{seeded}）与程序（{life.version}）不一致，请升级数据库",
                                  f"the database's hazard lifecycle ({seeded}) differs from the program's "
                                  f"({life.version}); upgrade the database")])


def _stored_attachments(conn: Any, uploads: Iterable[Upload], *, actor: Actor, hazard_id: int, adcode: str,
                        credit_code: str | None) -> tuple[str, ...]:
    shas = []
    for up in uploads:
        checked = check_upload(up)
        store.add_attachment(conn, sha256=checked.sha256, filename=checked.filename,
                                    media_type=checked.media_type, content=up.content, uploaded_by=actor.username,
                                    hazard_id=hazard_id, adcode=adcode, credit_code=credit_code)
        shas.append(checked.sha256)
    return tuple(shas)


def _db_refusal(exc: DBAPIError) -> TransitionRefused:
    """Turn the database's refusal of a step into the same kind of message the lifecycle gives."""
    code = getattr(exc.orig, "sqlstate", None)
    if code == "40001":
        return StaleHazard()
    diag = getattr(exc.orig, "diag", None)
    detail = str((diag.message_primary if diag is not None else None) or exc.orig)
    return TransitionRefused([(f"数据库拒绝了该操作：{detail}", f"the database refused the step: {detail}")])


def _check_place(conn: Any, *, adcode: str, lon: float, lat: float, credit_code: str | None) -> None:
    """Refuse a hazard placed outside its district, or of an enterprise the account cannot see there."""
    problems = []
    if not store.point_in_district(conn, adcode, lon, lat):
        problems.append((f"位置（{lon:.5f}, {lat:.5f}）不在区县 {adcode} 内",
                         f"position ({lon:.5f}, {lat:.5f}) is outside district {adcode}"))
    if credit_code is not None and store.enterprise_district(conn, credit_code) != adcode:
        problems.append((f"所选企业不在区县 {adcode} 内或不在本账号范围内",
                         f"the enterprise chosen is not in district {adcode} or not visible to this account"))
    if problems:
        raise Refused(problems)


def report_hazard(engine: Engine, actor: Actor, values: Mapping[str, Any], *, adcode: str, lon: float, lat: float,
                  enterprise_name: str | None = None, credit_code: str | None = None,
                  uploads: Iterable[Upload] = (), at: dt.datetime | None = None) -> int:
    """Report a new hazard (已上报) with its first history step; return its id.

    Parameters
    ----------
    engine : Engine
        A store engine under the actor's scope (row-level security applies to the application role).
    actor : Actor
        Who reports; an enterprise account reports only for its own credit code and district.
    values : mapping
        ``description``, ``severity``, ``source``, ``found_on`` (and any further lifecycle fields).
    adcode, lon, lat : str, float, float
        District and position (CGCS2000 longitude/latitude).
    enterprise_name, credit_code : str, optional
        The enterprise the hazard belongs to.
    uploads : iterable of Upload
        Photos or PDFs (checked for type and size).
    at : datetime, optional
        When (default now; the database records its own time for the application role).

    Returns
    -------
    int
        The new hazard's id.

    Raises
    ------
    TransitionRefused
        With every reason, when the report is incomplete or not allowed; nothing is written.
    """
    life = load_lifecycle()
    at = at or dt.datetime.now(dt.UTC)
    if actor.role == "enterprise":
        if credit_code not in (None, actor.credit_code) or adcode != actor.adcode:
            raise TransitionRefused([("企业账号只能上报本企业的隐患",
                                      "an enterprise account reports only its own hazards")])
        credit_code = actor.credit_code
    hazard, step = apply(life, None, "create", role=actor.role, actor=actor.username, at=at, values=values)
    code = f"YH-{adcode}-{at:%Y%m%d}-{secrets.token_hex(3).upper()}"
    row = {"key": code, "code": code, "adcode": adcode, "status": life.state_status[hazard.state],
           "state": hazard.state, "enterprise_name": enterprise_name, "credit_code": credit_code,
           **{k: v for k, v in hazard.values.items() if k in store.WORKFLOW_WRITABLE}}
    try:
        with engine.begin() as conn:
            _check_lifecycle(conn, life)
            _check_place(conn, adcode=adcode, lon=lon, lat=lat, credit_code=credit_code)
            hid = store.insert_hazard(conn, row, lon=lon, lat=lat)
            shas = _stored_attachments(conn, uploads, actor=actor, hazard_id=hid, adcode=adcode,
                                       credit_code=credit_code)
            store.insert_step(conn, hazard_id=hid, version=1, action="create", from_state=None,
                                     to_state=hazard.state, severity=hazard.severity, supervised=hazard.supervised,
                                     role=actor.role, actor=actor.username, changes=step.changes, attachments=shas,
                                     at=at)
            store.update_hazard(conn, hid, version=1, state=hazard.state, values={})
            store.audit(conn, actor=actor.username, action="hazard_report", target=code, adcode=adcode,
                        details={"severity": hazard.severity, "source": hazard.values.get("source")})
    except DBAPIError as exc:
        raise _db_refusal(exc) from exc
    return hid


def take_step(engine: Engine, hazard_id: int, action: str, actor: Actor, *, values: Mapping[str, Any] | None = None,
              comment: str | None = None, uploads: Iterable[Upload] = (), expected_version: int | None = None,
              at: dt.datetime | None = None) -> dict[str, Any]:
    """Take ``action`` on a hazard as ``actor``; return the hazard as it is afterwards.

    Parameters
    ----------
    engine : Engine
        A store engine under the actor's scope.
    hazard_id : int
        The hazard.
    action : str
        A lifecycle action code (``verify``, ``start``, ``apply_review``, …).
    actor : Actor
        Who acts.
    values : mapping, optional
        Field values the action supplies (the 五落实, a new deadline, the supervision, …).
    comment : str, optional
        The actor's comment.
    uploads : iterable of Upload
        Evidence (photos, PDFs).
    expected_version : int, optional
        The version the actor saw; a hazard changed since is refused (:class:`StaleHazard`).
    at : datetime, optional
        When (default now).

    Returns
    -------
    dict
        The hazard row after the step.

    Raises
    ------
    TransitionRefused
        With every reason; nothing is written.
    LookupError
        When the hazard does not exist or is outside the actor's scope.
    """
    life = load_lifecycle()
    at = at or dt.datetime.now(dt.UTC)
    uploads = list(uploads)
    try:
        with engine.begin() as conn:
            _check_lifecycle(conn, life)
            row = store.read_hazard(conn, hazard_id, lock=True)
            if row is None:
                raise LookupError(f"隐患 {hazard_id} 不存在或不在本账号范围内 / hazard {hazard_id} not found")
            current = life.hazard(row)
            placeholder = ("0" * 64,) * len(uploads)
            after, step = apply(life, current, action, role=actor.role, actor=actor.username, at=at,
                                values=values, comment=comment, attachments=placeholder,
                                expected_version=expected_version)
            shas = _stored_attachments(conn, uploads, actor=actor, hazard_id=hazard_id, adcode=str(row["adcode"]),
                                       credit_code=row.get("credit_code"))
            store.insert_step(conn, hazard_id=hazard_id, version=after.version, action=action,
                                     from_state=current.state, to_state=after.state, severity=after.severity,
                                     supervised=after.supervised, role=actor.role, actor=actor.username,
                                     comment=step.comment, changes=step.changes, attachments=shas, at=at)
            changed = {k: v for k, v in (values or {}).items() if k in store.WORKFLOW_WRITABLE}
            if action == "report_progress":
                changed["progress_on"] = at.date()
            store.update_hazard(conn, hazard_id, version=after.version, state=after.state, values=changed)
            store.audit(conn, actor=actor.username, action="hazard_step", target=str(row["code"]),
                        adcode=str(row["adcode"]),
                        details={"action": action, "from": current.state, "to": after.state,
                                 "version": after.version, "attachments": list(shas)})
            out = store.read_hazard(conn, hazard_id)
    except DBAPIError as exc:
        raise _db_refusal(exc) from exc
    assert out is not None
    return out
