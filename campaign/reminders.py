"""催办: reminders about hazards, sent by a district officer or city supervisor to the party of the next step.

``lifecycle.yaml`` says under ``remind`` who may send a reminder (``by``) and, per state, who is responsible for
a hazard's next step (``states``: the first party the hazard has receives it — the enterprise when the hazard
belongs to one, a city supervisor when the hazard is under a supervision level of theirs, the district officer
always). A state not listed cannot be reminded; finished hazards (已销号, 不予核定) never can.

:func:`send_reminders` works like a bulk step (:mod:`campaign.bulk`): each hazard in its own transaction, either
reminded (one ``hazard_reminders`` row and one audit entry) or refused with its reasons, never half done. The
hazard is read share-locked, so its recipient is decided on the state a step cannot change before the reminder
is stored. Nobody reminds their own role: when the next step is the sender's role's, the hazard is refused. The
database checks again (migrations 0021, 0023): a hazard outside the session's scope is not found, a finished one
is refused, the sender is the signed-in account, the recipient a role of ``remind: states`` other than the
sender's; its refusals are reported in Chinese first (:func:`database_refusal`). The reminder stays in the
recipient's inbox (催办) until the hazard's next step, and in its history for good.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from campaign.bulk import MAX_BULK, BulkOutcome
from campaign.lifecycle import LIFECYCLE_FILE, Label, Lifecycle, LifecycleError, Refused, load_lifecycle
from campaign.service import Actor
from geo import store
from geo.constants import LOCAL_ZONE

#: Longest reminder message, in characters (the database's check, migration 0021, holds the same).
MAX_MESSAGE = 500
#: The label of the step in pages, the inbox and the history.
REMIND = Label("催办", "Reminder")


@dataclass(frozen=True)
class RemindRules:
    """The ``remind`` section: who may send, and per remindable state the parties of its next step in order."""

    by: frozenset[str]
    states: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class ReminderOutcome(BulkOutcome):
    """What happened to one hazard of a 催办: reminded (with the role it went to) or refused (with reasons)."""

    recipient: str = ""


@cache
def load_remind_rules(path: Path = LIFECYCLE_FILE) -> RemindRules:
    """Read the ``remind`` section of the lifecycle table and check it.

    Parameters
    ----------
    path : Path
        The lifecycle YAML; the one shipped with RiskMap by default.

    Returns
    -------
    RemindRules

    Raises
    ------
    LifecycleError
        The section is missing, names an unknown state or role, or lists a final state.
    """
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    life = load_lifecycle(path)
    section = doc.get("remind")
    if not isinstance(section, Mapping):
        raise LifecycleError(f"lifecycle table {path}: no remind section")
    by = frozenset(str(r) for r in section.get("by") or ())
    problems = [f"remind by: unknown role {r}" for r in sorted(by - set(life.roles))]
    states: dict[str, tuple[str, ...]] = {}
    for state, roles in (section.get("states") or {}).items():
        if state not in life.states:
            problems.append(f"remind states: unknown state {state}")
        elif state in life.final_states:
            problems.append(f"remind states: {state} is final; a finished hazard is never reminded")
        parties = tuple(str(r) for r in roles or ())
        problems += [f"remind states {state}: unknown role {r}" for r in parties if r not in life.roles]
        if not parties:
            problems.append(f"remind states {state}: nobody to remind")
        states[str(state)] = parties
    if problems:
        raise LifecycleError(f"lifecycle table {path}: " + "; ".join(problems))
    return RemindRules(by, states)


def may_remind(role: str | None) -> bool:
    """Return whether accounts of ``role`` may send 催办."""
    return role in load_remind_rules().by


def recipient(life: Lifecycle, rules: RemindRules, row: Mapping[str, Any], sender_role: str | None = None) -> str:
    """Return the role a reminder about hazard ``row`` goes to: the party of its next step.

    Raises :class:`Refused` (with its reason) when the hazard's state cannot be reminded, or when that party is
    ``sender_role`` itself (the next step is the sender's own role's: nobody else to chase).
    """
    h = life.hazard(row)
    for role in rules.states.get(h.state, ()):
        if role == "enterprise" and not row.get("credit_code"):
            continue  # no enterprise account sees a hazard that belongs to no enterprise
        if role in life.supervised_inbox_roles and not (
                h.supervised and role in life.supervision_levels[str(row["supervision"])][1]):
            continue
        if role == sender_role:
            label = life.roles.get(role) or Label(role, role)
            raise Refused([(f"下一步由本角色（{label.zh}）办理，无需催办",
                            f"the next step is your own role's ({label.en}); there is nobody to remind")])
        return role
    raise Refused([_not_remindable(life, h.state)])


def _not_remindable(life: Lifecycle, state: str) -> tuple[str, str]:
    label = life.states[state] if state in life.states else Label(state, state)
    if state in life.final_states:
        return (f"隐患已办结（{label.zh}），不能催办", f"the hazard is finished ({label.en}); it cannot be reminded")
    return (f"“{label.zh}”状态的隐患不能催办", f"a hazard in state {label.en!r} cannot be reminded")


def check_message(message: str | None) -> str:
    """Return the message trimmed, or refuse an empty or too long one (nothing is written)."""
    text = (message or "").strip()
    if not text:
        raise Refused([("请填写催办内容", "write a reminder message")])
    if len(text) > MAX_MESSAGE:
        raise Refused([(f"催办内容最多 {MAX_MESSAGE} 字（现 {len(text)} 字）",
                        f"a reminder message has at most {MAX_MESSAGE} characters ({len(text)} given)")])
    return text


def send_reminders(engine: Engine, hazard_ids: Iterable[int], actor: Actor, message: str | None
                   ) -> list[ReminderOutcome]:
    """Send 催办 about each hazard, one transaction each; return what happened to each.

    Parameters
    ----------
    engine : Engine
        A store engine under the actor's scope.
    hazard_ids : iterable of int
        The hazards, in order (duplicates are taken once).
    actor : Actor
        Who sends (a role of ``remind: by``).
    message : str
        The reminder's text (at most :data:`MAX_MESSAGE` characters).

    Returns
    -------
    list of ReminderOutcome
        One per hazard: reminded (with the recipient role) or refused (with every reason).

    Raises
    ------
    Refused
        The actor's role may not send 催办, the message is empty or too long, or there are no or too many
        hazards; nothing written.
    """
    ids = list(dict.fromkeys(int(h) for h in hazard_ids))
    rules = load_remind_rules()
    if actor.role not in rules.by:
        raise Refused([("本账号角色不能催办", "this account's role may not send reminders")])
    text = check_message(message)
    if not ids:
        raise Refused([("未选择隐患", "no hazards chosen")])
    if len(ids) > MAX_BULK:
        raise Refused([(f"一次最多催办 {MAX_BULK} 条隐患（选择了 {len(ids)} 条）",
                        f"at most {MAX_BULK} hazards at once ({len(ids)} chosen)")])
    return [_one(engine, hid, actor, text, rules) for hid in ids]


#: The database's refusals of a reminder (migrations 0021, 0023) as they begin or contain, in Chinese.
_DATABASE_REFUSALS = (
    ("outside this account's scope", "隐患不存在或不在本账号范围内"),
    ("it cannot be reminded", "隐患已办结，不能催办"),
    ("sent as the signed-in account", "催办须以当前登录账号发送"),
    ("row-level security", "本账号不能发送此催办（范围、角色或收件角色不符）"),
    ("ck_hazard_reminders_recipient_role", "催办的收件角色无效"),
    ("ck_hazard_reminders_message_length", f"催办内容须为 1 至 {MAX_MESSAGE} 字"),
)


def database_refusal(exc: DBAPIError) -> tuple[str, str]:
    """Return (Chinese, English) of the database's refusal of a reminder: known ones in Chinese, its text in English."""
    diag = getattr(exc.orig, "diag", None)
    detail = str((diag.message_primary if diag is not None else None) or exc.orig)
    known = f"{detail} {getattr(diag, 'constraint_name', None) or ''}"
    zh = next((z for needle, z in _DATABASE_REFUSALS if needle in known), "数据库拒绝了催办")
    return zh, f"the database refused the reminder: {detail}"


def _one(engine: Engine, hid: int, actor: Actor, message: str, rules: RemindRules) -> ReminderOutcome:
    life = load_lifecycle()
    try:
        with engine.begin() as conn:
            row = store.read_hazard_shared(conn, hid)  # no step commits before this reminder does
            if row is None:
                return ReminderOutcome(hid, False, reasons=((f"隐患 {hid} 不存在或不在本账号范围内",
                                                             f"hazard {hid} not found or outside this account's "
                                                             "scope"),))
            code, state, version = str(row["code"]), str(row["state"]), int(row["version"])
            try:
                to = recipient(life, rules, row, actor.role)
            except Refused as exc:
                return ReminderOutcome(hid, False, code, state, version, tuple(exc.reasons))
            stored = store.insert_reminder(conn, hazard_id=hid, recipient_role=to, message=message,
                                           sent_by=actor.username, sender_role=actor.role)
            store.audit(conn, actor=actor.username, action="hazard_remind", target=code, adcode=str(row["adcode"]),
                        details={"to": to, "state": stored["state"], "version": stored["hazard_version"],
                                 "message": message})
    except DBAPIError as exc:
        return ReminderOutcome(hid, False, reasons=(database_refusal(exc),))
    return ReminderOutcome(hid, True, code, state, version, recipient=to)


def reminder_label(row: Mapping[str, Any], lang: str = "zh") -> str:
    """Return one line describing a stored reminder: when, who (role), to whom, and the message."""
    life = load_lifecycle()

    def role(code: Any) -> str:
        return life.roles[code].get(lang) if code in life.roles else str(code)

    at = row["sent_at"]
    when = at.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M") if hasattr(at, "astimezone") else str(at)
    if lang == "en":
        return (f"{when} {row['sent_by']} ({role(row['sender_role'])}) reminded the {role(row['recipient_role'])}: "
                f"{row['message']}")
    return f"{when} {row['sent_by']}（{role(row['sender_role'])}）催办{role(row['recipient_role'])}：{row['message']}"
