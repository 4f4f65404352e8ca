"""What a table cell holds: missing or present, text or a number — one reading for every module.

Layers arrive from GeoPackages, Shapefiles, spreadsheets and the database, so one column can hold
``None``, ``NaN``, ``pd.NA``, ``"  "``, ``"12"``, ``12`` or ``Decimal("12")``. Every module that
reads a cell (the check families in :mod:`geo.checks`, the lists and measures in :mod:`layers`)
reads it through these functions, so a cell means the same thing everywhere:

* **Missing** — ``None``, ``NaN``/``NaT``/``pd.NA``, and text that is empty or only whitespace.
* **Text** — a present cell as ``str(value).strip()``; a missing cell is ``None`` (never ``""``).
* **Number** — a finite ``float`` or ``None``. Numbers (``int``, ``float``, NumPy scalars,
  ``Decimal``) and numeric text (``"12"``, ``" 1e3 "``, ``"-0.5"``; what :class:`float` reads)
  count, because Shapefile and CSV columns often carry numbers as text. Booleans do not (``True``
  is not a count of people), and ``NaN``, ``inf`` and ``"inf"`` are ``None``: no threshold or count
  is infinite, so an infinite cell is a broken cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["column_series", "column_values", "number_column", "number_or_none", "present", "text_column",
           "text_or_none"]


def present(value: Any) -> bool:
    """Tell whether ``value`` holds something (not None, NaN/NA or blank text).

    Parameters
    ----------
    value : object
        A cell.

    Returns
    -------
    bool
        False for ``None``, ``NaN``, ``NaT``, ``pd.NA`` and empty or whitespace-only text; True
        otherwise (arrays and other containers count as present).

    Examples
    --------
    >>> present(" "), present(float("nan")), present(0), present("安宁")
    (False, False, True, True)
    """
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other containers count as present
        return True


def text_or_none(value: Any) -> str | None:
    """Return ``value`` as stripped text, or None when it is missing.

    Parameters
    ----------
    value : object
        A cell.

    Returns
    -------
    str or None
        ``str(value).strip()``; ``None`` when :func:`present` says the cell is missing.

    Examples
    --------
    >>> text_or_none("  安宁市 "), text_or_none("   "), text_or_none(None), text_or_none(12)
    ('安宁市', None, None, '12')
    """
    return str(value).strip() if present(value) else None


def number_or_none(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None when it is missing, not a number or not finite.

    Parameters
    ----------
    value : object
        A cell: a number, numeric text or anything else.

    Returns
    -------
    float or None
        The number; ``None`` for missing cells, booleans, non-numeric text, ``NaN`` and ``±inf``.

    Examples
    --------
    >>> number_or_none(12), number_or_none(" 12 "), number_or_none("1e3"), number_or_none("12 m")
    (12.0, 12.0, 1000.0, None)
    >>> number_or_none(float("inf")), number_or_none("nan"), number_or_none(True), number_or_none(None)
    (None, None, None, None)
    """
    if isinstance(value, bool | np.bool_):
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def column_values(frame: pd.DataFrame, name: str, rows: Sequence[int] | np.ndarray | None = None) -> list[Any]:
    """Column ``name`` as a list of raw cells; all ``None`` when the frame has no such column.

    Parameters
    ----------
    frame : DataFrame
        The layer.
    name : str
        Column name.
    rows : sequence of int, optional
        Positions of the rows to read, in this order (repeats allowed); every row when omitted.

    Returns
    -------
    list
        One cell per row read (a column backed by Arrow is converted once, not iterated).

    Examples
    --------
    >>> column_values(pd.DataFrame({"a": [1, 2]}), "b")
    [None, None]
    >>> column_values(pd.DataFrame({"a": [1, 2, 3]}), "a", [2, 0, 2])
    [3, 1, 3]
    """
    if name not in frame.columns:
        return [None] * (len(frame) if rows is None else len(rows))
    column = frame[name]
    if rows is not None:
        column = column.take(np.asarray(rows, dtype=np.intp))
    return column.tolist()


def _texts(cells: list[Any]) -> list[str | None]:
    """Read ``cells`` with :func:`text_or_none`; plain ``str`` and ``None`` cells (nearly all) take a short path.

    For an exact ``str`` :func:`text_or_none` is ``value.strip()`` or None when that is empty, and
    for ``None`` it is None, so the short path gives what the per-cell function gives; every other
    cell (NaN, ``pd.NA``, numbers, ``str`` subclasses, containers) goes through it.
    """
    out: list[str | None] = []
    add = out.append
    for cell in cells:
        if type(cell) is str:
            add(cell.strip() or None)
        elif cell is None:
            add(None)
        else:
            add(text_or_none(cell))
    return out


def _numbers(cells: list[Any]) -> list[float | None]:
    """Read ``cells`` with :func:`number_or_none`; plain ``float`` cells take a short path (finite or None)."""
    out: list[float | None] = []
    add = out.append
    isfinite = math.isfinite
    for cell in cells:
        if type(cell) is float:
            add(cell if isfinite(cell) else None)
        else:
            add(number_or_none(cell))
    return out


def text_column(frame: pd.DataFrame, name: str, rows: Sequence[int] | np.ndarray | None = None) -> list[str | None]:
    """Column ``name`` read with :func:`text_or_none`; all ``None`` when absent (see :func:`column_values`).

    The column is converted once and read without a per-cell call for plain text and ``None``
    (``tests/test_cell_values_vectorised.py`` compares it with :func:`text_or_none` cell by cell).

    Examples
    --------
    >>> text_column(pd.DataFrame({"name": [" 安宁 ", "", None]}), "name")
    ['安宁', None, None]
    >>> text_column(pd.DataFrame({"name": [" 安宁 ", "", None]}), "name", [0, 0])
    ['安宁', '安宁']
    """
    return _texts(column_values(frame, name, rows))


def number_column(frame: pd.DataFrame, name: str,
                  rows: Sequence[int] | np.ndarray | None = None) -> list[float | None]:
    """Column ``name`` read with :func:`number_or_none`; all ``None`` when absent (see :func:`column_values`).

    Examples
    --------
    >>> number_column(pd.DataFrame({"floors": [3, "4", "高层", float("nan")]}), "floors")
    [3.0, 4.0, None, None]
    """
    return _numbers(column_values(frame, name, rows))


def column_series(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    """Column ``name`` of ``frame`` as it is, or a Series of ``default`` when the column is absent.

    Parameters
    ----------
    frame : DataFrame
        The layer.
    name : str
        Column name.
    default : object, optional
        Value of every row when the column is absent.

    Returns
    -------
    Series
        Indexed like ``frame``.

    Examples
    --------
    >>> column_series(pd.DataFrame({"a": [1, 2]}), "floors", 0).tolist()
    [0, 0]
    """
    return frame[name] if name in frame.columns else pd.Series(default, index=frame.index, dtype=object)
