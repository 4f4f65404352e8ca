"""The administrator's local values of report definitions: validation, change and reset, with history.

``definitions.yaml`` ships with the code; a city changes a report's name, due day or month, recipient or
sections here instead of editing the file. Each change is a row of ``report_definition_overrides`` with
who, when, why and the value it replaced (rows are never overwritten; a reset takes the local value out of
force), audited as ``report_definition_change``. :func:`layers.reporting.definitions.reports_in_force`
applies the values in force, so every view and document follows them; the 调度表's due day (report
``dispatch``) is read the same way by :func:`campaign.submissions.dispatch_due_day` for /dispatch and the inbox.
"""

from __future__ import annotations

import calendar
from typing import Any

from sqlalchemy import Engine

from geo import store
from geo.errors import AccessDenied
from identity.permissions import require
from layers.reporting.definitions import EDITABLE_FIELDS, ReportDefinition, load_reports, reports_in_force
from layers.reporting.sections import SECTIONS
from layers.reporting.service import Refusal

__all__ = ["MIN_REASON_CHARS", "definition_rows", "field_value", "reset_definition", "set_definition",
           "validate_value"]

#: Shortest reason accepted (characters, after stripping spaces).
MIN_REASON_CHARS = 4
#: The field names people read, for messages.
FIELD_NAMES = {"name": "名称", "name_en": "英文名称", "due_day": "截止日", "due_month": "截止月份",
               "recipient": "报送对象", "recipient_en": "报送对象(英文)", "sections": "内容(章节)"}


def field_value(definition: ReportDefinition, field: str) -> Any:
    """Return the value of an editable ``field`` of ``definition`` as JSON (sections as a list)."""
    value = getattr(definition, EDITABLE_FIELDS[field])
    return list(value) if isinstance(value, tuple) else value


def _refuse(code: str, field: str, zh: str, en: str) -> Refusal:
    return Refusal(f"报告 {code} 字段 {field}（{FIELD_NAMES.get(field, field)}）：{zh}",
                   f"report {code}, field {field}: {en}")


def _integer(code: str, field: str, raw: object) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        raise _refuse(code, field, f"应为整数，而不是 {raw!r}", f"must be a whole number, not {raw!r}") from None


def validate_value(definition: ReportDefinition, field: str, raw: object) -> Any:
    """Return ``raw`` as the value of ``field`` (checked against the rest of the definition), or refuse.

    Parameters
    ----------
    definition : ReportDefinition
        The definition in force (its other fields are what the value must agree with).
    field : str
        A key of :data:`layers.reporting.definitions.EDITABLE_FIELDS`.
    raw : object
        The value as typed (text), or already typed.

    Returns
    -------
    Any
        The JSON value to keep (int, str or list of section codes).

    Raises
    ------
    Refusal
        With a bilingual message naming the report and field: unknown field, empty name, a month outside
        1–12, a day the month does not have, a due month for a monthly report, unknown or repeated sections.
    """
    code = definition.code
    if field not in EDITABLE_FIELDS:
        raise Refusal(f"报告 {code} 没有可修改的字段 {field!r}（可改：{', '.join(EDITABLE_FIELDS)}）",
                      f"report {code} has no editable field {field!r}; editable: {', '.join(EDITABLE_FIELDS)}")
    if field in ("name", "name_en", "recipient", "recipient_en"):
        text = str(raw).strip() if raw is not None else ""
        if not text:
            raise _refuse(code, field, "不能为空", "must not be empty")
        if len(text) > 200:
            raise _refuse(code, field, "不能超过 200 字", "must be at most 200 characters")
        return text
    if field == "sections":
        items = raw if isinstance(raw, list | tuple) else str(raw).replace("，", ",").split(",")
        codes = [str(s).strip() for s in items if str(s).strip()]
        unknown = [s for s in codes if s not in SECTIONS]
        if not codes:
            raise _refuse(code, field, "至少需要一个章节", "needs at least one section")
        if unknown:
            raise _refuse(code, field, f"未知章节代码 {', '.join(unknown)}（可选：{', '.join(SECTIONS)}）",
                          f"unknown section codes {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
        if len(set(codes)) != len(codes):
            raise _refuse(code, field, "章节重复", "a section is listed twice")
        return codes
    number = _integer(code, field, raw)
    if field == "due_month":
        if definition.period != "year":
            raise _refuse(code, field, "月报没有截止月份（截止日在下月或当月）",
                          "a monthly report has no due month (only a due day)")
        if not 1 <= number <= 12:
            raise _refuse(code, field, f"月份应在 1–12 之间，而不是 {number}", f"month must be 1–12, not {number}")
        if definition.due_day > calendar.monthrange(2024, number)[1]:
            raise _refuse(code, field, f"{number} 月没有 {definition.due_day} 日，请先改截止日",
                          f"month {number} has no day {definition.due_day}; change the due day first")
        return number
    last = 31 if definition.due_month is None else calendar.monthrange(2024, definition.due_month)[1]
    if not 1 <= number <= last:
        where = f"{definition.due_month} 月" if definition.due_month else "一个月"
        raise _refuse(code, field, f"{where}没有 {number} 日（应在 1–{last} 之间）",
                      f"day must be 1–{last}" + (f" in month {definition.due_month}" if definition.due_month else "")
                      + f", not {number}")
    return number


def _check(user: dict[str, Any] | None, engine: Engine, code: str, reason: str) -> ReportDefinition:
    try:
        require(user, "manage_reports")
    except AccessDenied as exc:
        raise Refusal.of(str(exc)) from None
    reports = reports_in_force(engine)
    if code not in reports:
        raise Refusal(f"报告种类 {code!r} 不存在（可选：{', '.join(reports)}）",
                      f"unknown report kind {code!r}; known: {', '.join(reports)}")
    if len((reason or "").strip()) < MIN_REASON_CHARS:
        raise Refusal(f"请说明修改理由（至少 {MIN_REASON_CHARS} 个字）",
                      f"give a reason of at least {MIN_REASON_CHARS} characters")
    return reports[code]


def set_definition(engine: Engine, code: str, field: str, raw: object, *, reason: str,
                   user: dict[str, Any] | None, actor: str) -> ReportDefinition:
    """Put a local value of one field of report ``code`` in force (validated; nothing written otherwise).

    Parameters
    ----------
    engine : Engine
        The store (under the application role, only a city-wide administrator session may write).
    code, field : str
        The report and field (:data:`layers.reporting.definitions.EDITABLE_FIELDS`).
    raw : object
        The new value as typed.
    reason : str
        Why (kept with the value and in the audit log).
    user : dict or None
        The signed-in account (None: the host operator).
    actor : str
        Who is named when there is no account.

    Returns
    -------
    ReportDefinition
        The definition in force afterwards.

    Raises
    ------
    Refusal
        Not an administrator, unknown report or field, invalid value, no reason.
    """
    definition = _check(user, engine, code, reason)
    value = validate_value(definition, field, raw)
    previous = field_value(definition, field)
    store.replace_definition_override(engine, report_code=code, field=field, value=value, previous=previous,
                                      reason=reason.strip(), actor=str(user["username"]) if user else actor)
    return reports_in_force(engine)[code]


def reset_definition(engine: Engine, code: str, field: str, *, reason: str, user: dict[str, Any] | None,
                     actor: str) -> bool:
    """Take the local value of a field out of force: ``definitions.yaml``'s value applies again.

    Returns
    -------
    bool
        Whether a local value was in force.

    Raises
    ------
    Refusal
        As :func:`set_definition`.
    """
    _check(user, engine, code, reason)
    if field not in EDITABLE_FIELDS:
        raise Refusal(f"报告 {code} 没有可修改的字段 {field!r}", f"report {code} has no editable field {field!r}")
    shipped = field_value(load_reports()[code], field)
    return store.retire_definition_override(engine, report_code=code, field=field, file_value=shipped,
                                            reason=reason.strip(), actor=str(user["username"]) if user else actor)


def definition_rows(engine: Engine) -> list[dict[str, Any]]:
    """Return one row per report and editable field: the file's value, the value in force, who changed it."""
    shipped, now = load_reports(), reports_in_force(engine)
    active = {(r["report_code"], r["field"]): r for r in store.read_definition_overrides(engine)}
    out = []
    for code, definition in now.items():
        for field in EDITABLE_FIELDS:
            if definition.period == "month" and field == "due_month":
                continue
            row = active.get((code, field))
            out.append({"code": code, "field": field, "file": field_value(shipped[code], field),
                        "current": field_value(definition, field), "actor": row["actor"] if row else None,
                        "reason": row["reason"] if row else None,
                        "changed_at": row["created_at"] if row else None})
    return out


