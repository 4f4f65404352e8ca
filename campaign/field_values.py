"""Turn typed-in text (a form, a command line) into the typed values of lifecycle fields."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from campaign.lifecycle import Lifecycle, Refused

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_field_values(life: Lifecycle, pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Parse ``(field, raw value)`` pairs: dates ``YYYY-MM-DD``, amounts as numbers, text stripped; blanks left out.

    Parameters
    ----------
    life : Lifecycle
        The table in force (it says each field's kind).
    pairs : iterable of (str, Any)
        Field codes and the values as typed.

    Returns
    -------
    dict

    Raises
    ------
    Refused
        Naming every unknown field and every date or number that does not parse.

    Examples
    --------
    >>> from campaign.lifecycle import load_lifecycle
    >>> parse_field_values(load_lifecycle(), [("deadline", "2027-03-31"), ("funds_wan", "12.5"),
    ...                                       ("measures", " 加固 ")])
    {'deadline': datetime.date(2027, 3, 31), 'funds_wan': 12.5, 'measures': '加固'}
    """
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, raw in pairs:
        if name not in life.fields:
            problems.append((f"未知字段“{name}”", f"unknown field {name!r}; fields: {', '.join(life.fields)}"))
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        fdef = life.fields[name]
        text = str(raw).strip()
        if fdef.kind in ("date", "future_date"):
            try:
                if not _DATE.match(text):
                    raise ValueError(text)
                out[name] = dt.date.fromisoformat(text)
            except ValueError:
                problems.append((f"{fdef.label.zh}应为日期 YYYY-MM-DD：{text[:20]}",
                                 f"{fdef.label.en} must be a date YYYY-MM-DD: {text[:20]}"))
        elif fdef.kind == "amount":
            try:
                out[name] = float(raw)
            except (TypeError, ValueError):
                problems.append((f"{fdef.label.zh}应为数字：{text[:20]}",
                                 f"{fdef.label.en} must be a number: {text[:20]}"))
        else:
            out[name] = text
    if problems:
        raise Refused(problems)
    return out
