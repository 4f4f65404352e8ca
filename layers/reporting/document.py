"""A report as plain data: a title block and sections of paragraphs, tables and figures.

The writers (DOCX, PDF) lay out this model and nothing else, so every format shows the same figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Figure", "Report", "Section", "Table"]


@dataclass(frozen=True)
class Table:
    """A table: column headings, rows of cells (text or numbers) and an optional note under it."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str | None = None

    def __post_init__(self) -> None:
        bad = [i for i, row in enumerate(self.rows) if len(row) != len(self.columns)]
        if bad:
            raise ValueError(f"table rows {bad} do not have {len(self.columns)} cells")


@dataclass(frozen=True)
class Figure:
    """A picture (PNG bytes) with its caption."""

    png: bytes
    caption: str


@dataclass
class Section:
    """A numbered section: heading, then paragraphs, tables and figures in that order."""

    code: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Report:
    """One report of one period for one scope (a district or the city)."""

    code: str
    title: str
    scope: str
    scope_name: str
    period: str
    #: The day the figures are as of (数据截至, :func:`layers.reporting.definitions.data_date`): the period's
    #: end, or for a yearly report due mid-year the last month end before its due date.
    period_end: dt.date
    issued_on: dt.date
    issuer: str
    recipient: str
    #: Document number (文号) as the sender fills it in: the year is set, the serial left blank.
    number: str
    data_note: str
    sections: list[Section] = field(default_factory=list)
    #: The day the report is due (its definition in force), printed under the issue date.
    due: dt.date | None = None
    #: The figures of the scope the report was built from (measure code → value), as a submission keeps them.
    figures: dict[str, Any] = field(default_factory=dict)

    def due_line(self) -> str | None:
        """Return the due-date line printed under the issue date (None without a due date)."""
        return None if self.due is None else f"（报送时限：{self.due.year}年{self.due.month}月{self.due.day}日）"
