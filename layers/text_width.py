"""Width of text in monospace display cells, where East Asian wide characters count two.

Used to size spreadsheet columns (:mod:`layers.export.sheets`), to choose heading sizes and cut
footers on the print map (:mod:`layers.printmap`) and to wrap table cells in the reasons report
(:mod:`layers.reasons_report`). Pure functions, no dependencies beyond the standard library.
"""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Width of ``text`` in monospace cells: East Asian wide and full-width characters count 2.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    int

    Examples
    --------
    >>> display_width("安宁ab")
    6
    """
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def clip_text(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` display cells (CJK count two), ending in an ellipsis when cut.

    Parameters
    ----------
    text : str
        Any text.
    width : int
        Display cells available, the ellipsis included.

    Returns
    -------
    str

    Examples
    --------
    >>> clip_text("安宁市应急管理局", 8)
    '安宁市…'
    >>> clip_text("安宁", 8)
    '安宁'
    """
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        used += display_width(ch)
        if used > width - 1:
            break
        out.append(ch)
    return "".join(out) + "…"
