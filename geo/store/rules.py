"""Local values of the check rules (table ``rule_overrides``), with their history and audit entries."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from geo.models import Base
from geo.store.audit import audit
from geo.store.engine import on_connection

RULE_OVERRIDE_COLUMNS = ("id", "rule_code", "path", "value", "reason", "actor", "created_at", "active")


@on_connection
def read_rule_overrides(conn: Connection, *, active_only: bool = True) -> list[dict[str, Any]]:
    """Read the local values of the check rules (table ``rule_overrides``), oldest first.

    Parameters
    ----------
    conn : Connection or Engine
        The store (every session may read them).
    active_only : bool
        Only the values in force; False for the whole history, deactivated rows included.

    Returns
    -------
    list of dict
        Rows with id, rule_code, path, value (number or bool), reason, actor, created_at, active.
    """
    tbl = Base.metadata.tables["rule_overrides"]
    stmt = select(*(tbl.c[c] for c in RULE_OVERRIDE_COLUMNS)).order_by(tbl.c.id)
    if active_only:
        stmt = stmt.where(tbl.c.active)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def _lock_rules(conn: Connection) -> None:
    """Serialize rule changes (transaction-scoped), so each audited version sees every earlier change."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('riskmap.rule_overrides', 0))"))


def _deactivate_override(conn: Connection, rule_code: str, path: str) -> list[Any]:
    """Deactivate the active row of (rule, path); return its value in a list (empty when none was active)."""
    rows = conn.execute(
        text("UPDATE rule_overrides SET active = false WHERE rule_code = :code AND path = :path AND active "
             "RETURNING value"),
        {"code": rule_code, "path": path},
    ).all()
    return [r[0] for r in rows]


def replace_rule_override(engine: Engine, *, rule_code: str, path: str, value: Any, reason: str, actor: str,
                          old_value: Any, version_after: Callable[[list[dict[str, Any]]], str]) -> str:
    """Put a local rule value in force, keeping the previous one as history, and audit the change.

    In one transaction (serialized with other rule changes): the active row of (rule, path),
    if any, is deactivated; a new active row is inserted; and a ``rule_change`` entry is
    appended to the audit log with the old and new values, the reason and the rule-set version
    now in force.

    Parameters
    ----------
    engine : Engine
        The store. Under the application role, row-level security refuses the change unless the
        session covers all districts.
    rule_code, path : str
        The value changed, e.g. ``"PIPE_OCCUPY"`` and ``"threshold_m"``.
    value : number or bool
        The new value (already validated).
    reason : str
        Why (kept with the row and in the audit entry).
    actor : str
        Who changes it.
    old_value : number or bool
        The value in force before, when no local value was (the file's value).
    version_after : callable
        Given the active rows after the change, returns the rule-set version they make.

    Returns
    -------
    str
        The rule-set version now in force.
    """
    with engine.begin() as conn:
        _lock_rules(conn)
        previous = _deactivate_override(conn, rule_code, path)
        conn.execute(
            text("INSERT INTO rule_overrides (rule_code, path, value, reason, actor) "
                 "VALUES (:code, :path, CAST(:value AS jsonb), :reason, :actor)"),
            {"code": rule_code, "path": path, "value": json.dumps(value), "reason": reason, "actor": actor},
        )
        version = version_after(read_rule_overrides(conn))
        audit(conn, actor=actor, action="rule_change", target=f"{rule_code}.{path}",
              details={"old": previous[0] if previous else old_value, "new": value, "reason": reason,
                       "rule_set_version": version})
    return version


def deactivate_rule_override(engine: Engine, *, rule_code: str, path: str, reason: str, actor: str,
                             file_value: Any, version_after: Callable[[list[dict[str, Any]]], str]) -> bool:
    """Take a local rule value out of force (the file's value applies again), and audit the reset.

    In one transaction (serialized with other rule changes) the active row of (rule, path) is
    deactivated and a ``rule_change`` entry with ``"reset": true`` is appended to the audit log.
    Nothing is written when no local value was in force.

    Parameters
    ----------
    engine : Engine
        The store (see :func:`replace_rule_override` for row-level security).
    rule_code, path : str
        The value reset.
    reason : str
        Why.
    actor : str
        Who resets it.
    file_value : number or bool
        The rule file's value, in force again afterwards (``new`` in the audit entry).
    version_after : callable
        Given the active rows after the reset, returns the rule-set version they make.

    Returns
    -------
    bool
        Whether a local value was in force (and has been reset).
    """
    with engine.begin() as conn:
        _lock_rules(conn)
        previous = _deactivate_override(conn, rule_code, path)
        if not previous:
            return False
        version = version_after(read_rule_overrides(conn))
        audit(conn, actor=actor, action="rule_change", target=f"{rule_code}.{path}",
              details={"old": previous[0], "new": file_value, "reason": reason, "reset": True,
                       "rule_set_version": version})
    return True
