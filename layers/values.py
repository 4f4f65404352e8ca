"""Tell missing values (None, NaN/NA, blank text) from present ones in mixed-type table cells."""

from __future__ import annotations

from typing import Any

import pandas as pd


def present(value: Any) -> bool:
    """Tell whether ``value`` holds something (not None, NaN/NA or blank text).

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

    Examples
    --------
    >>> text_or_none("  安宁市 "), text_or_none(None)
    ('安宁市', None)
    """
    return str(value).strip() if present(value) else None
