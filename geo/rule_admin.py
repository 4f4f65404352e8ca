"""Local values of the check rules: what may be changed, validation, and the rule set in force.

``geo/rules/checks.yaml`` ships with the code and carries each rule's clause, confidence,
threshold, inclusivity and lookups. A city that confirms an unconfirmed value against the
official text, or whose local regulation is stricter, changes the value here instead of
editing the installed file: each change is a row of ``rule_overrides`` with its reason and
author, audited as ``rule_change``, and the rule set in force gets the version
``<file version>+local.<hash>`` so that every later check run and finding names the values it
used. Resetting a value brings the file's value back. Only numbers (``threshold_m`` and
numeric leaves of ``params``) and ``inclusive`` can be changed; lists, texts and clauses
cannot.

This module holds the logic; the rows are read and written by :mod:`geo.store`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from geo import store
from geo.checks.ruleset import Rule, RuleSet, load_ruleset
from geo.errors import AccessDenied

log = logging.getLogger(__name__)

#: Largest distance (m) a rule value may take: 100 km.
MAX_METRES = 100_000.0
#: Shortest reason accepted for a change (characters, after stripping spaces).
MIN_REASON_CHARS = 4
_TRUE = {"true", "yes", "1", "是", "真"}
_FALSE = {"false", "no", "0", "否", "假"}


@dataclass(frozen=True)
class EditableValue:
    """One value of a rule that may be changed locally.

    Attributes
    ----------
    code : str
        Rule code, e.g. ``"PIPE_OCCUPY"``.
    path : str
        ``"threshold_m"``, ``"inclusive"`` or a dotted ``"params.…"`` path.
    value : float, int or bool
        The value in the rule set it was read from.
    clause, confidence, zh, en : str
        The rule's source clause, confidence (confirmed / unconfirmed) and names.
    """

    code: str
    path: str
    value: float | int | bool
    clause: str
    confidence: str
    zh: str
    en: str


@dataclass(frozen=True)
class LocalRuleSet(RuleSet):
    """A rule set with local values applied.

    Attributes
    ----------
    base_version : str
        Version of the rule file the values were applied to.
    applied : tuple of (str, str, value)
        The (code, path, value) triples in force, sorted.
    skipped : tuple of str
        Why stored values were not applied (rule or path no longer in the file, type changed).
    """

    base_version: str = ""
    applied: tuple[tuple[str, str, float | int | bool], ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValueState:
    """One editable value with its file value, the value in force and who changed it last.

    Attributes
    ----------
    item : EditableValue
        The value as in the rule file.
    current : float, int or bool
        The value in force.
    actor, reason : str or None
        Who changed it and why (None when the file's value applies).
    changed_at : datetime or None
        When.
    """

    item: EditableValue
    current: float | int | bool
    actor: str | None = None
    reason: str | None = None
    changed_at: dt.datetime | None = None

    @property
    def changed(self) -> bool:
        """Whether a local value is in force."""
        return self.actor is not None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _leaves(prefix: str, node: Mapping[Any, Any]) -> Iterator[tuple[str, float | int]]:
    for key, value in node.items():
        path = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            yield from _leaves(path, value)
        elif _is_number(value):
            yield path, value


def _rule_values(rule: Rule) -> Iterator[tuple[str, float | int | bool]]:
    if rule.threshold_m is not None and _is_number(rule.threshold_m):
        yield "threshold_m", rule.threshold_m
    yield "inclusive", bool(rule.inclusive)
    yield from _leaves("params", rule.params)


def editable_values(rules: RuleSet) -> list[EditableValue]:
    """Every value of ``rules`` that may be changed locally, in file order.

    These are ``threshold_m`` (when the rule has one), ``inclusive``, and every number
    (not a boolean) inside ``params``, through nested lookups.

    Parameters
    ----------
    rules : RuleSet
        Usually the file's rule set (:func:`geo.checks.ruleset.load_ruleset`).

    Returns
    -------
    list of EditableValue

    Examples
    --------
    >>> values = {(v.code, v.path): v.value for v in editable_values(load_ruleset())}
    >>> values["PIPE_OCCUPY", "threshold_m"], values["PIPE_SPACING", "params.required_m.gas.crowded"]
    (5.0, 5.0)
    """
    return [EditableValue(rule.code, path, value, rule.clause, rule.confidence, rule.zh, rule.en)
            for rule in rules.rules.values() for path, value in _rule_values(rule)]


def _unknown(rules: RuleSet, code: str, path: str) -> ValueError:
    """Build the error for a rule or path without an editable value, listing what there is."""
    if code not in rules.rules:
        return ValueError(f"没有规则 {code} / no rule {code}; 规则 / rules: {', '.join(rules.rules)}")
    return ValueError(f"规则 {code} 没有可编辑的值 {path} / rule {code} has no editable value {path}; "
                      f"可编辑 / editable: {', '.join(p for p, _v in _rule_values(rules[code]))}")


def _parse_bool(value: object, code: str, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"规则 {code} 的 {path} 须为 true 或 false，不是 {value!r} / "
                     f"{code} {path} must be true or false, not {value!r}")


def _not_a_number(code: str, path: str, value: object) -> ValueError:
    return ValueError(f"规则 {code} 的 {path} 须为数值，不是 {value!r} / {code} {path} must be a number, not {value!r}")


def _parse_number(value: object, code: str, path: str, as_int: bool) -> float | int:
    number: float | None = None
    if _is_number(value):
        number = float(value)  # type: ignore[arg-type]
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None:
        raise _not_a_number(code, path, value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"规则 {code} 的 {path} 须为不小于 0 的有限数值，不是 {value!r} / "
                         f"{code} {path} must be a finite number >= 0, not {value!r}")
    if (path == "threshold_m" or any(part.endswith("_m") for part in path.split("."))) and number >= MAX_METRES:
        raise ValueError(f"规则 {code} 的 {path} 是米数，须小于 {MAX_METRES:.0f} 米，不是 {value!r} / "
                         f"{code} {path} is in metres and must be below {MAX_METRES:.0f} m, not {value!r}")
    if as_int:
        if not number.is_integer():
            raise ValueError(f"规则 {code} 的 {path} 须为整数，不是 {value!r} / {code} {path} must be a whole number, "
                             f"not {value!r}")
        return int(number)
    return number


def validate_change(rules: RuleSet, code: str, path: str, value: object) -> float | bool:
    """Check a proposed value for ``code``/``path`` and return it with the file value's type.

    Parameters
    ----------
    rules : RuleSet
        The file's rule set (the types and paths come from it).
    code : str
        Rule code.
    path : str
        ``"threshold_m"``, ``"inclusive"`` or a ``"params.…"`` path of :func:`editable_values`.
    value : object
        The new value: a number or a boolean, or its text (``"8"``, ``"true"``).

    Returns
    -------
    float or bool
        ``bool`` for ``inclusive``; an ``int`` where the file has a whole number (counts,
        grades, months), else a ``float``.

    Raises
    ------
    ValueError
        Unknown rule or path (the message lists the editable paths), a value of the wrong type,
        negative, not finite, a fraction where the file has a whole number, or a distance
        (``threshold_m`` or a path with a ``…_m`` part) of 100 km or more. Messages are in Chinese
        and English.

    Examples
    --------
    >>> rules = load_ruleset()
    >>> validate_change(rules, "PIPE_OCCUPY", "threshold_m", "8"), validate_change(rules, "HCA_REVIEW",
    ...     "params.max_months", 12), validate_change(rules, "PIPE_OCCUPY", "inclusive", "false")
    (8.0, 12, False)
    """
    paths = dict(_rule_values(rules[code])) if code in rules.rules else {}
    if path not in paths:
        raise _unknown(rules, code, path)
    current = paths[path]
    if isinstance(current, bool):
        return _parse_bool(value, code, path)
    if isinstance(value, bool):
        raise _not_a_number(code, path, value)
    return _parse_number(value, code, path, as_int=isinstance(current, int))


def _canonical(value: object) -> str:
    """Text of a value for hashing and comparison: 8 and 8.0 agree; booleans stay booleans."""
    if _is_number(value):
        return repr(float(value))  # type: ignore[arg-type]
    return json.dumps(value, ensure_ascii=False, default=str)


def _with_value(rule: Rule, path: str, value: float | int | bool) -> Rule:
    if path == "threshold_m":
        return dataclasses.replace(rule, threshold_m=float(value))
    if path == "inclusive":
        return dataclasses.replace(rule, inclusive=bool(value))
    params = copy.deepcopy(rule.params)
    node = params
    keys = path.split(".")[1:]
    for key in keys[:-1]:
        node = next(v for k, v in node.items() if str(k) == key)
    last = next(k for k in node if str(k) == keys[-1])
    node[last] = value
    return dataclasses.replace(rule, params=params)


def apply_overrides(rules: RuleSet, overrides: Iterable[Mapping[str, Any]]) -> LocalRuleSet:
    """Return a new rule set with local values in place of the file's.

    Parameters
    ----------
    rules : RuleSet
        The file's rule set; it is not modified (changed rules get their own copy of ``params``).
    overrides : iterable of mapping
        Rows with ``rule_code``, ``path`` and ``value`` (as from
        :func:`geo.store.read_rule_overrides`); a later row for the same value wins.

    Returns
    -------
    LocalRuleSet
        Version ``<file version>+local.<h>``, ``h`` the first 8 hex digits of the SHA-256 of the
        sorted (code, path, value) triples applied; the file's version when none applies.
        Rows naming a rule or path the file no longer has, or a value of the wrong type, are not
        applied: they are listed in ``skipped`` and logged, so a check run never fails on them.

    Examples
    --------
    >>> base = load_ruleset()
    >>> local = apply_overrides(base, [{"rule_code": "PIPE_OCCUPY", "path": "threshold_m", "value": 8}])
    >>> local["PIPE_OCCUPY"].threshold_m, base["PIPE_OCCUPY"].threshold_m, local.version.startswith(base.version)
    (8.0, 5.0, True)
    """
    wanted: dict[tuple[str, str], float | int | bool] = {}
    skipped: list[str] = []
    for row in overrides:
        code, path = str(row["rule_code"]), str(row["path"])
        try:
            wanted[code, path] = validate_change(rules, code, path, row["value"])
        except ValueError as exc:
            skipped.append(f"{code}.{path} = {row['value']!r} 未应用 / not applied: {exc}")
            log.warning("rule override %s.%s not applied: %s", code, path, exc)
    changed = dict(rules.rules)
    for (code, path), value in wanted.items():
        changed[code] = _with_value(changed[code], path, value)
    applied = tuple(sorted(((c, p, v) for (c, p), v in wanted.items()), key=lambda t: (t[0], t[1])))
    version = rules.version
    if applied:
        blob = json.dumps([[c, p, _canonical(v)] for c, p, v in applied], ensure_ascii=False)
        version = f"{rules.version}+local.{hashlib.sha256(blob.encode('utf-8')).hexdigest()[:8]}"
    return LocalRuleSet(version=version, rules=changed, base_version=rules.version, applied=applied,
                        skipped=tuple(skipped))


def effective_ruleset(engine: Engine) -> LocalRuleSet:
    """Return the rule set in force: the rule file with the store's active local values applied.

    Parameters
    ----------
    engine : Engine
        The store.

    Returns
    -------
    LocalRuleSet
    """
    return apply_overrides(load_ruleset(), store.read_rule_overrides(engine))


def value_states(engine: Engine) -> tuple[LocalRuleSet, list[ValueState]]:
    """Every editable value with its file value, the value in force and its last change.

    Parameters
    ----------
    engine : Engine
        The store.

    Returns
    -------
    tuple of (LocalRuleSet, list of ValueState)
        The rule set in force and one state per editable value of the rule file, in file order.
    """
    base = load_ruleset()
    rows = store.read_rule_overrides(engine)
    local = apply_overrides(base, rows)
    current = {(v.code, v.path): v.value for v in editable_values(local)}
    in_force = {(c, p) for c, p, _v in local.applied}
    last = {(str(r["rule_code"]), str(r["path"])): r for r in rows}
    states = []
    for item in editable_values(base):
        row = last.get((item.code, item.path)) if (item.code, item.path) in in_force else None
        states.append(ValueState(item, current[item.code, item.path],
                                 actor=None if row is None else str(row["actor"]),
                                 reason=None if row is None else str(row["reason"]),
                                 changed_at=None if row is None else row["created_at"]))
    return local, states


def _check_may_change(reason: str) -> str:
    scope = store.current_scope()
    if scope is not None and not scope.all_districts:
        raise AccessDenied(f"账号 {scope.actor} 仅限本区县 {scope.adcode}，无权修改检查规则 / "
                           f"account {scope.actor} is limited to district {scope.adcode}: "
                           "it may not change check rules")
    text = (reason or "").strip()
    if len(text) < MIN_REASON_CHARS:
        raise ValueError(f"请说明修改理由(至少 {MIN_REASON_CHARS} 个字) / "
                         f"give a reason for the change (at least {MIN_REASON_CHARS} characters)")
    return text


def _version_after(base: RuleSet) -> Callable[[list[dict[str, Any]]], str]:
    """Compute the version the active rows make (called inside the store's transaction)."""
    return lambda rows: apply_overrides(base, rows).version


def set_rule_value(engine: Engine, code: str, path: str, value: object, *, reason: str, actor: str) -> str:
    """Put a local value in force for one rule value (audited as ``rule_change``).

    Parameters
    ----------
    engine : Engine
        The store.
    code, path : str
        The value, e.g. ``"PIPE_OCCUPY"``, ``"threshold_m"`` (see :func:`editable_values`).
    value : object
        The new value, or its text; see :func:`validate_change`.
    reason : str
        Why, at least 4 characters (e.g. the clause of the local regulation).
    actor : str
        Who changes it.

    Returns
    -------
    str
        The rule-set version now in force (``…+local.<hash>``).

    Raises
    ------
    AccessDenied
        When the current scope is one district (row-level security refuses it as well).
    ValueError
        Unknown rule or path, a bad value or reason, or the value already in force locally.
    """
    why = _check_may_change(reason)
    base = load_ruleset()
    new = validate_change(base, code, path, value)
    active = {(str(r["rule_code"]), str(r["path"])): r["value"] for r in store.read_rule_overrides(engine)}
    file_value = dict(_rule_values(base[code]))[path]
    old = active.get((code, path), file_value)
    if (code, path) in active and _canonical(old) == _canonical(new):
        raise ValueError(f"规则 {code} 的 {path} 已是 {new} / {code} {path} is already {new}")
    return store.replace_rule_override(engine, rule_code=code, path=path, value=new, reason=why, actor=actor,
                                       old_value=old, version_after=_version_after(base))


def reset_rule_value(engine: Engine, code: str, path: str, *, reason: str, actor: str) -> bool:
    """Take the local value of one rule value out of force: the rule file's value applies again.

    Parameters
    ----------
    engine : Engine
        The store.
    code, path : str
        The value.
    reason : str
        Why, at least 4 characters.
    actor : str
        Who resets it.

    Returns
    -------
    bool
        Whether a local value was in force (False: nothing changed, nothing audited).

    Raises
    ------
    AccessDenied
        When the current scope is one district.
    ValueError
        Unknown rule or path, or no reason.
    """
    why = _check_may_change(reason)
    base = load_ruleset()
    file_values = dict(_rule_values(base[code])) if code in base.rules else {}
    stored = any(str(r["rule_code"]) == code and str(r["path"]) == path for r in store.read_rule_overrides(engine))
    if path not in file_values and not stored:  # a value the rule file no longer has may still be reset
        raise _unknown(base, code, path)
    return store.deactivate_rule_override(engine, rule_code=code, path=path, reason=why, actor=actor,
                                          file_value=file_values.get(path), version_after=_version_after(base))
