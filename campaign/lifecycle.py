"""The hidden-hazard closed loop (隐患闭环) as a state machine read from ``campaign/lifecycle.yaml``.

States, actions, the roles allowed to take each action and its guards are data; this module only
interprets them. :func:`apply` is pure: given a hazard's current state and an action, it returns the
new state and the history step to record, or raises :class:`TransitionRefused` with every reason
(Chinese first, then English). Storage, row-level security and the audit entry are the store's job.

Guards an action may carry (keys of an action in the table):

``from`` / ``to``
    States the action starts from; the state it leads to (omitted: the state does not change).
``roles``
    Roles that may take it. Which rows a role sees (its district, its enterprise) is enforced by
    PostgreSQL, not here.
``severity``
    Only for hazards of these severities (e.g. 即查即改 only for general hazards).
``requires`` / ``requires_major``
    Fields that must hold a valid value after the action (for every hazard / for major hazards);
    ``five_in_place`` stands for the 五落实 fields. The caller may supply them with the action.
``sets``
    Further fields the action may change. Any other supplied field is refused.
``attachment`` / ``comment``
    ``required``: the action needs at least one attachment (evidence) / a comment.
``supervised`` / ``unsupervised``
    Only for hazards under 挂牌督办 / not (yet) under it.
``supervised_by_level``
    A supervised hazard may be struck off only by a role of its supervising level.
``level_matches_role``
    The supervision level chosen must be one the acting role may impose.
``later_deadline``
    The new deadline must be later than the current one (延期).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from geo.errors import RiskMapError

LIFECYCLE_FILE = Path(__file__).with_name("lifecycle.yaml")
FIVE_IN_PLACE = "five_in_place"
#: The 隐患台账's value for "not under 挂牌督办" (hidden_hazards.supervision).
NO_SUPERVISION = "none"


class LifecycleError(RiskMapError):
    """The lifecycle table itself is inconsistent (unknown state, role or field)."""


class Refused(RiskMapError):
    """Campaign input was refused; ``reasons`` lists every reason as ``(zh, en)`` pairs; nothing was written."""

    def __init__(self, reasons: list[tuple[str, str]]) -> None:
        self.reasons = reasons
        zh = "；".join(r[0] for r in reasons)
        en = "; ".join(r[1] for r in reasons)
        super().__init__(f"{zh} / {en}")


class TransitionRefused(Refused):
    """A step of a hazard's life was refused (not allowed, or its values missing or invalid)."""


class StaleHazard(TransitionRefused):
    """Someone else changed the hazard since it was read (optimistic locking)."""

    def __init__(self) -> None:
        super().__init__([("该隐患已被他人修改，请刷新后重试",
                           "the hazard was changed by someone else; reload and try again")])


@dataclass(frozen=True)
class Label:
    """A coded value's Chinese and English names."""

    zh: str
    en: str

    def get(self, lang: str = "zh") -> str:
        """Return the label in ``lang`` (``zh`` or ``en``)."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Action:
    """One row of the action table (see the module docstring for each guard)."""

    code: str
    label: Label
    from_states: frozenset[str]
    to: str | None
    roles: frozenset[str]
    severity: frozenset[str] | None = None
    requires: tuple[str, ...] = ()
    requires_major: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    attachment_required: bool = False
    comment_required: bool = False
    supervised: bool | None = None
    supervised_by_level: bool = False
    level_matches_role: bool = False
    later_deadline: bool = False
    inbox: bool = False

    def writable(self) -> frozenset[str]:
        """Fields a caller may supply with this action."""
        return frozenset(self.requires) | frozenset(self.requires_major) | frozenset(self.sets)


@dataclass(frozen=True)
class FieldDef:
    """A hazard field the workflow reads or writes."""

    code: str
    label: Label
    kind: str


@dataclass(frozen=True)
class Hazard:
    """What the state machine needs of a hazard: its state, level, field values and version.

    ``version`` counts accepted steps; a step applied with ``expected_version`` other than the
    current one is refused (:class:`StaleHazard`), so two people acting at once cannot both win.
    """

    state: str
    severity: str
    values: Mapping[str, Any] = field(default_factory=dict)
    version: int = 0

    @property
    def supervised(self) -> bool:
        """Whether the hazard is under 挂牌督办."""
        value = self.values.get("supervision")
        return _present(value) and value != NO_SUPERVISION


@dataclass(frozen=True)
class Step:
    """One accepted step of a hazard's history (never overwritten)."""

    action: str
    from_state: str | None
    to_state: str
    role: str
    actor: str
    at: dt.datetime
    comment: str | None
    attachments: tuple[str, ...]
    changes: Mapping[str, tuple[Any, Any]]
    version: int


@dataclass(frozen=True)
class Lifecycle:
    """The whole table: states, severities, roles, supervision levels, fields and actions."""

    version: str
    source: str
    states: Mapping[str, Label]
    state_status: Mapping[str, str]
    state_colour: Mapping[str, str]
    import_states: Mapping[str, str]
    final_states: frozenset[str]
    severities: Mapping[str, Label]
    roles: Mapping[str, Label]
    supervised_inbox_roles: frozenset[str]
    supervision_levels: Mapping[str, tuple[Label, frozenset[str]]]
    fields: Mapping[str, FieldDef]
    five_in_place: tuple[str, ...]
    create: Action
    actions: Mapping[str, Action]

    def expand(self, names: Iterable[str]) -> tuple[str, ...]:
        """Field names with ``five_in_place`` replaced by the 五落实 fields."""
        out: list[str] = []
        for name in names:
            out.extend(self.five_in_place if name == FIVE_IN_PLACE else (name,))
        return tuple(dict.fromkeys(out))

    def hazard(self, row: Mapping[Any, Any]) -> Hazard:
        """Return the :class:`Hazard` of a stored row (``state``, ``severity``, ``version`` and field columns)."""
        return Hazard(state=str(row["state"]), severity=str(row["severity"]),
                      values={name: row.get(name) for name in self.fields if name in row},
                      version=int(row.get("version") or 0))

    def available(self, hazard: Hazard, role: str) -> list[Action]:
        """Actions ``role`` may take on ``hazard`` now, before any field is filled in.

        Parameters
        ----------
        hazard : Hazard
            The hazard as read.
        role : str
            The acting role.

        Returns
        -------
        list of Action
            In table order; each may still be refused for missing or invalid values.
        """
        return [a for a in self.actions.values() if not _gate_reasons(self, a, hazard, role)]

    def is_overdue(self, hazard: Hazard, today: dt.date) -> bool:
        """Whether the hazard is past its deadline (整改时限) and not finished."""
        deadline = hazard.values.get("deadline")
        return hazard.state not in self.final_states and isinstance(deadline, dt.date) and deadline < today

    def supervision_overdue(self, hazard: Hazard, today: dt.date) -> bool:
        """Whether a supervised hazard is past its supervision deadline (督办时限) and not finished."""
        deadline = hazard.values.get("supervision_deadline")
        return (hazard.supervised and hazard.state not in self.final_states
                and isinstance(deadline, dt.date) and deadline < today)


def _label(entry: Mapping[str, Any]) -> Label:
    return Label(str(entry["zh"]), str(entry["en"]))


def _action(code: str, row: Mapping[str, Any], *, from_states: Iterable[str]) -> Action:
    def _required(key: str) -> bool:
        value = row.get(key)
        if value not in (None, "required"):
            raise LifecycleError(f"action {code}: {key} must be 'required' or absent, not {value!r}")
        return value == "required"

    severity = row.get("severity")
    supervised = True if row.get("supervised") else (False if row.get("unsupervised") else None)
    return Action(
        code=code, label=_label(row), from_states=frozenset(from_states), to=row.get("to"),
        roles=frozenset(row.get("roles", ())),
        severity=frozenset(severity) if severity else None,
        requires=tuple(row.get("requires", ())), requires_major=tuple(row.get("requires_major", ())),
        sets=tuple(row.get("sets", ())),
        attachment_required=_required("attachment"), comment_required=_required("comment"),
        supervised=supervised, supervised_by_level=bool(row.get("supervised_by_level")),
        level_matches_role=bool(row.get("level_matches_role")), later_deadline=bool(row.get("later_deadline")),
        inbox=bool(row.get("inbox")),
    )


def parse_lifecycle(doc: Mapping[str, Any]) -> Lifecycle:
    """Build and check a :class:`Lifecycle` from the parsed YAML table.

    Parameters
    ----------
    doc : mapping
        The parsed ``lifecycle.yaml``.

    Returns
    -------
    Lifecycle

    Raises
    ------
    LifecycleError
        When an action names a state, role, severity or field the table does not define.
    """
    states = {k: _label(v) for k, v in doc["states"].items()}
    roles = {k: _label(v) for k, v in doc["roles"].items()}
    severities = {k: _label(v) for k, v in doc["severities"].items()}
    levels = {k: (_label(v), frozenset(v["roles"])) for k, v in doc["supervision_levels"].items()}
    fields = {k: FieldDef(k, _label(v), str(v["type"])) for k, v in doc["fields"].items()}
    five = tuple(doc["five_in_place"])
    create = _action("create", doc["create"], from_states=())
    actions = {code: _action(code, row, from_states=row["from"]) for code, row in doc["actions"].items()}
    import_states = {status: k for k, v in doc["states"].items() for status in v.get("imported_from", ())}
    life = Lifecycle(
        version=str(doc["version"]), source=str(doc.get("source", "")), states=states,
        state_status={k: str(v["status"]) for k, v in doc["states"].items()}, import_states=import_states,
        state_colour={k: str(v.get("colour", "#888888")) for k, v in doc["states"].items()},
        final_states=frozenset(doc["final_states"]), severities=severities, roles=roles,
        supervision_levels=levels, fields=fields,
        supervised_inbox_roles=frozenset(k for k, v in doc["roles"].items() if v.get("inbox") == "supervised"),
        five_in_place=five, create=create, actions=actions,
    )
    problems: list[str] = []
    for name in five:
        if name not in fields:
            problems.append(f"five_in_place: unknown field {name}")
    for name in life.final_states:
        if name not in states:
            problems.append(f"final_states: unknown state {name}")
    for level, (_, level_roles) in levels.items():
        problems += [f"supervision level {level}: unknown role {r}" for r in level_roles if r not in roles]
    for act in (create, *actions.values()):
        problems += [f"{act.code}: unknown state {s}" for s in act.from_states if s not in states]
        if act.to is not None and act.to not in states:
            problems.append(f"{act.code}: unknown target state {act.to}")
        problems += [f"{act.code}: unknown role {r}" for r in act.roles if r not in roles]
        problems += [f"{act.code}: unknown severity {s}" for s in act.severity or () if s not in severities]
        problems += [f"{act.code}: unknown field {f}" for f in life.expand(act.writable()) if f not in fields]
        if act.from_states & life.final_states:
            problems.append(f"{act.code}: starts from a final state")
    if create.to is None:
        problems.append("create: needs a target state")
    if problems:
        raise LifecycleError("lifecycle table: " + "; ".join(problems))
    return life


def state_rows(life: Lifecycle) -> list[dict[str, Any]]:
    """Rows of the database's ``hazard_states`` table for ``life``.

    Parameters
    ----------
    life : Lifecycle
        The table in force.

    Returns
    -------
    list of dict
        ``state``, ``status``, ``final`` and ``imported_from`` per state.
    """
    imported: dict[str, list[str]] = {}
    for status, state in life.import_states.items():
        imported.setdefault(state, []).append(status)
    return [{"state": s, "status": life.state_status[s], "final": s in life.final_states,
             "imported_from": sorted(imported.get(s, []))} for s in life.states]


def rule_rows(life: Lifecycle) -> list[dict[str, Any]]:
    """Rows of the database's ``hazard_rules`` table: one per (action, from, to, role) the table allows.

    Parameters
    ----------
    life : Lifecycle
        The table in force.

    Returns
    -------
    list of dict
        ``action``, ``from_state`` (None for ``create``), ``to_state``, ``role``, ``lifecycle_version``.
    """
    rows = [{"action": "create", "from_state": None, "to_state": life.create.to, "role": role}
            for role in sorted(life.create.roles)]
    for act in life.actions.values():
        rows += [{"action": act.code, "from_state": s, "to_state": act.to or s, "role": role}
                 for s in sorted(act.from_states) for role in sorted(act.roles)]
    return [{**r, "lifecycle_version": life.version} for r in rows]


@cache
def load_lifecycle(path: Path = LIFECYCLE_FILE) -> Lifecycle:
    """Read and check the lifecycle table (cached per path).

    Parameters
    ----------
    path : Path
        The YAML file; the one shipped with RiskMap by default.

    Returns
    -------
    Lifecycle
    """
    with open(path, encoding="utf-8") as fh:
        return parse_lifecycle(yaml.safe_load(fh))


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


def _value_problem(life: Lifecycle, name: str, value: Any, today: dt.date) -> tuple[str, str] | None:
    """Why ``value`` is not valid for field ``name`` (None when it is)."""
    fdef = life.fields[name]
    zh, en = fdef.label.zh, fdef.label.en
    if not _present(value):
        return f"缺少{zh}", f"{en} is missing"
    kind = fdef.kind
    if kind in ("date", "future_date"):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            return f"{zh}不是日期", f"{en} is not a date"
        if kind == "future_date" and value < today:
            return f"{zh}{value.isoformat()}早于今天", f"{en} {value.isoformat()} is in the past"
    elif kind == "amount":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            return f"{zh}应为不小于0的数", f"{en} must be a number ≥ 0"
    elif kind == "severity":
        if value not in life.severities:
            return f"{zh}“{value}”无效", f"{en} {value!r} is not one of {sorted(life.severities)}"
    elif kind == "supervision":
        if value not in life.supervision_levels:
            return f"{zh}“{value}”无效", f"{en} {value!r} is not one of {sorted(life.supervision_levels)}"
    elif not isinstance(value, str):
        return f"{zh}应为文字", f"{en} must be text"
    return None


def _gate_reasons(life: Lifecycle, act: Action, hazard: Hazard, role: str) -> list[tuple[str, str]]:
    """Reasons an action is closed to ``role`` on ``hazard`` whatever values are supplied."""
    name = act.label
    reasons: list[tuple[str, str]] = []
    state = life.states.get(hazard.state, Label(hazard.state, hazard.state))
    if act.from_states and hazard.state not in act.from_states:
        reasons.append((f"“{state.zh}”状态不能{name.zh}", f"cannot {name.en.lower()} a hazard that is {state.en}"))
    if role not in act.roles:
        who = life.roles.get(role, Label(role, role))
        reasons.append((f"{who.zh}无权{name.zh}", f"{who.en} may not {name.en.lower()}"))
    if act.severity is not None and hazard.severity not in act.severity:
        sev = life.severities.get(hazard.severity, Label(hazard.severity, hazard.severity))
        reasons.append((f"{sev.zh}不能{name.zh}", f"a {sev.en.lower()} cannot be {name.en.lower()}"))
    if act.supervised is True and not hazard.supervised:
        reasons.append((f"未挂牌督办的隐患无需{name.zh}", f"{name.en} applies only to supervised hazards"))
    if act.supervised is False and hazard.supervised:
        reasons.append(("该隐患已挂牌督办", "the hazard is already under supervision"))
    if act.supervised_by_level and hazard.supervised:
        level = str(hazard.values.get("supervision"))
        level_label, level_roles = life.supervision_levels[level]
        if role not in level_roles:
            reasons.append((f"{level_label.zh}督办的隐患只能由督办层级销号",
                            f"a hazard under {level_label.en.lower()} supervision is struck off only by that level"))
    return reasons


def apply(
    life: Lifecycle,
    hazard: Hazard | None,
    action: str,
    *,
    role: str,
    actor: str,
    at: dt.datetime,
    values: Mapping[str, Any] | None = None,
    comment: str | None = None,
    attachments: Iterable[str] = (),
    expected_version: int | None = None,
) -> tuple[Hazard, Step]:
    """Take ``action`` on ``hazard`` (``None`` with action ``"create"``: report a new one).

    Parameters
    ----------
    life : Lifecycle
        The table in force.
    hazard : Hazard or None
        The hazard as read; None only for ``create``.
    action : str
        ``"create"`` or a key of ``life.actions``.
    role, actor : str
        Who acts: their role and account name.
    at : datetime
        When (timezone-aware); its date is "today" for deadline checks.
    values : mapping, optional
        Field values supplied with the action (the 五落实, a new deadline, the supervision, …).
    comment : str, optional
        The actor's comment (required by some actions).
    attachments : iterable of str
        Identifiers (sha256) of evidence attached to this step.
    expected_version : int, optional
        The version the actor saw; refused with :class:`StaleHazard` when the hazard moved on.

    Returns
    -------
    (Hazard, Step)
        The hazard after the action and the history step to record.

    Raises
    ------
    TransitionRefused
        With every reason, when the action is not allowed or its values are missing or invalid.
    """
    values = dict(values or {})
    attachments = tuple(attachments)
    today = at.date()
    if action == "create":
        if hazard is not None:
            raise TransitionRefused([("隐患已存在", "the hazard already exists")])
        act = life.create
        current = Hazard(state="", severity=str(values.get("severity", "")), values={}, version=0)
    else:
        if action not in life.actions:
            raise TransitionRefused([(f"未知操作“{action}”", f"unknown action {action!r}")])
        if hazard is None:
            raise TransitionRefused([("隐患不存在", "no such hazard")])
        act = life.actions[action]
        current = hazard
        if expected_version is not None and expected_version != hazard.version:
            raise StaleHazard()
    reasons = _gate_reasons(life, act, current, role) if action != "create" else []
    if action == "create" and role not in act.roles:
        who = life.roles.get(role, Label(role, role))
        reasons.append((f"{who.zh}无权上报隐患", f"{who.en} may not report hazards"))
    writable = set(life.expand(act.writable()))
    for name in values:
        if name not in writable:
            label = life.fields[name].label if name in life.fields else Label(name, name)
            reasons.append((f"{act.label.zh}时不能修改{label.zh}", f"{label.en} cannot be changed by {act.code}"))
    merged = {**current.values, **values}
    severity = str(merged.get("severity", current.severity)) if "severity" in values else current.severity
    needed = list(life.expand(act.requires))
    if severity == "major":
        needed += [f for f in life.expand(act.requires_major) if f not in needed]
    for name in needed:
        problem = _value_problem(life, name, merged.get(name), today)
        if problem:
            reasons.append(problem)
    for name in values:
        if name in writable and name not in needed and _present(values[name]):
            problem = _value_problem(life, name, values[name], today)
            if problem:
                reasons.append(problem)
    if act.later_deadline:
        old, new = current.values.get("deadline"), values.get("deadline")
        if isinstance(old, dt.date) and isinstance(new, dt.date) and new <= old:
            reasons.append((f"延期后的整改时限应晚于原时限{old.isoformat()}",
                            f"the extended deadline must be later than {old.isoformat()}"))
    if act.level_matches_role:
        level = str(values.get("supervision"))
        if level in life.supervision_levels and role not in life.supervision_levels[level][1]:
            level_label = life.supervision_levels[level][0]
            who = life.roles.get(role, Label(role, role))
            reasons.append((f"{who.zh}不能实施{level_label.zh}督办",
                            f"{who.en} cannot impose {level_label.en} supervision"))
    if act.attachment_required and not attachments:
        reasons.append((f"{act.label.zh}需要附件（照片或文件）", f"{act.label.en} needs evidence (a photo or file)"))
    if act.comment_required and not _present(comment):
        reasons.append((f"{act.label.zh}需要填写说明", f"{act.label.en} needs a comment"))
    if reasons:
        raise TransitionRefused(reasons)
    changes = {k: (current.values.get(k), v) for k, v in values.items() if current.values.get(k) != v}
    to_state = act.to or current.state
    after = replace(current, state=to_state, severity=severity, values=merged, version=current.version + 1)
    step = Step(action=act.code, from_state=current.state or None, to_state=to_state, role=role, actor=actor,
                at=at, comment=comment if _present(comment) else None, attachments=attachments,
                changes=changes, version=after.version)
    return after, step
