"""Bulk steps on many hazards at once: only those the lifecycle table marks bulk-safe, one hazard at a time.

``lifecycle.yaml`` lists under ``bulk`` which actions may be taken on several hazards at once, by which roles
and for which severities. :func:`take_bulk_step` takes the step on each hazard through
:func:`campaign.service.take_step` — the same checks, optimistic locking, history and audit as one at a time —
each in its own transaction, so every hazard is either done or refused (with the reason), never half done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from campaign.lifecycle import LIFECYCLE_FILE, Label, LifecycleError, Refused, load_lifecycle
from campaign.service import Actor, take_step
from geo import store
from geo.errors import AccessDenied

#: Most hazards one bulk step may cover (a page or a file of ids; more is a batch job, not a click).
MAX_BULK = 500


@dataclass(frozen=True)
class BulkRule:
    """One bulk-safe action: who may take it on many hazards at once, on hazards of which severities."""

    action: str
    roles: frozenset[str]
    severity: frozenset[str] | None


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one hazard of a bulk step."""

    hazard_id: int
    done: bool
    code: str = ""
    state: str = ""
    version: int = 0
    reasons: tuple[tuple[str, str], ...] = ()

    def reason(self, lang: str = "zh") -> str:
        """Return the reasons of a refusal in ``lang`` (empty when done)."""
        return ("; " if lang == "en" else "；").join(r[1 if lang == "en" else 0] for r in self.reasons)


@cache
def load_bulk_rules(path: Path = LIFECYCLE_FILE) -> dict[str, BulkRule]:
    """Read the ``bulk`` section of the lifecycle table and check it.

    Parameters
    ----------
    path : Path
        The lifecycle YAML; the one shipped with RiskMap by default.

    Returns
    -------
    dict of str to BulkRule

    Raises
    ------
    LifecycleError
        A row names an unknown action, role or severity, or marks a step that is never bulk-safe (one that
        ends a hazard's life, needs evidence or a comment per hazard, or extends a deadline).
    """
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    life = load_lifecycle(path)
    rules, problems = {}, []
    for code, row in (doc.get("bulk") or {}).items():
        act = life.actions.get(code)
        if act is None:
            problems.append(f"bulk: unknown action {code}")
            continue
        roles = frozenset(row.get("roles", ()))
        severity = frozenset(row["severity"]) if row.get("severity") else None
        problems += [f"bulk {code}: role {r} may not take {code}" for r in roles - act.roles]
        problems += [f"bulk {code}: unknown severity {s}" for s in (severity or ()) if s not in life.severities]
        if (act.to in life.final_states or act.attachment_required or act.comment_required or act.later_deadline
                or act.supervised_by_level):
            problems.append(f"bulk {code}: never bulk-safe (ends a hazard, needs evidence, a comment or approval)")
        rules[code] = BulkRule(code, roles, severity)
    if problems:
        raise LifecycleError("lifecycle table: " + "; ".join(problems))
    return rules


def bulk_actions(role: str) -> list[tuple[str, Label]]:
    """Return the (action, label) pairs ``role`` may take on many hazards at once, in table order."""
    life = load_lifecycle()
    return [(code, life.actions[code].label) for code, rule in load_bulk_rules().items() if role in rule.roles]


def parse_ids(text: str) -> list[int]:
    """Return the hazard ids of a text (one or more per line, separated by spaces or commas; ``#`` comments).

    Examples
    --------
    >>> parse_ids("12, 15  20 12  # checked")
    [12, 15, 20]

    Raises
    ------
    ValueError
        A token is not a whole number (the line is named).
    """
    ids: list[int] = []
    for no, line in enumerate(text.splitlines(), 1):
        for token in line.split("#", 1)[0].replace(",", " ").split():
            if not token.isdigit():
                raise ValueError(f"第 {no} 行：“{token}”不是隐患编号 / line {no}: {token!r} is not a hazard id")
            if int(token) not in ids:
                ids.append(int(token))
    return ids


def take_bulk_step(engine: Engine, hazard_ids: Iterable[int], action: str, actor: Actor, *,
                   values: Mapping[str, Any] | None = None, comment: str | None = None,
                   expected_versions: Mapping[int, int] | None = None,
                   at: dt.datetime | None = None) -> list[BulkOutcome]:
    """Take a bulk-safe ``action`` on each hazard, one transaction each; return what happened to each.

    Parameters
    ----------
    engine : Engine
        A store engine under the actor's scope.
    hazard_ids : iterable of int
        The hazards, in order (duplicates are taken once).
    action : str
        An action of the ``bulk`` section of ``lifecycle.yaml``.
    actor : Actor
        Who acts.
    values, comment : optional
        As for :func:`campaign.service.take_step`, the same for every hazard.
    expected_versions : mapping of int to int, optional
        The version the actor saw per hazard; a hazard changed since is refused (optimistic locking).
    at : datetime, optional
        When (default now).

    Returns
    -------
    list of BulkOutcome
        One per hazard: done (with the new state and version) or refused (with every reason).

    Raises
    ------
    Refused
        The action is not bulk-safe for the actor's role, or there are no or too many hazards; nothing written.
    """
    ids = list(dict.fromkeys(int(h) for h in hazard_ids))
    rule = load_bulk_rules().get(action)
    life = load_lifecycle()
    label = life.actions[action].label if action in life.actions else Label(action, action)
    if rule is None or actor.role not in rule.roles:
        raise Refused([(f"“{label.zh}”不能批量操作（或本账号角色不能批量操作）",
                        f"{label.en!r} may not be taken in bulk (or not by this account's role)")])
    if not ids:
        raise Refused([("未选择隐患", "no hazards chosen")])
    if len(ids) > MAX_BULK:
        raise Refused([(f"一次最多批量处理 {MAX_BULK} 条隐患（选择了 {len(ids)} 条）",
                        f"at most {MAX_BULK} hazards at once ({len(ids)} chosen)")])
    outcomes = []
    for hid in ids:
        outcomes.append(_one(engine, hid, action, actor, rule, values=values, comment=comment,
                             expected=(expected_versions or {}).get(hid), at=at))
    return outcomes


def _one(engine: Engine, hid: int, action: str, actor: Actor, rule: BulkRule, *, values: Mapping[str, Any] | None,
         comment: str | None, expected: int | None, at: dt.datetime | None) -> BulkOutcome:
    life = load_lifecycle()
    try:
        if rule.severity is not None:
            with engine.connect() as conn:
                row = store.read_hazard(conn, hid)
            if row is None:
                raise LookupError(hid)
            if row["severity"] not in rule.severity:
                allowed = "、".join(life.severities[s].zh for s in sorted(rule.severity))
                allowed_en = ", ".join(life.severities[s].en for s in sorted(rule.severity))
                return BulkOutcome(hid, False, str(row["code"]), str(row["state"]), int(row["version"]),
                                   ((f"批量“{life.actions[action].label.zh}”只适用于{allowed}，请逐条处理",
                                     f"bulk {action} applies only to: {allowed_en}; take this one on its own"),))
        after = take_step(engine, hid, action, actor, values=values, comment=comment, expected_version=expected,
                          at=at)
    except Refused as exc:
        return BulkOutcome(hid, False, reasons=tuple(exc.reasons))
    except LookupError:
        return BulkOutcome(hid, False, reasons=((f"隐患 {hid} 不存在或不在本账号范围内",
                                                 f"hazard {hid} not found or outside this account's scope"),))
    except AccessDenied as exc:
        return BulkOutcome(hid, False, reasons=((f"无权操作：{exc}", f"not allowed: {exc}"),))
    return BulkOutcome(hid, True, str(after["code"]), str(after["state"]), int(after["version"]))
