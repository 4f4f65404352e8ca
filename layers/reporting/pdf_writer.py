"""A report as an A4 portrait PDF in the outline of Chinese official documents, drawn with matplotlib.

The same :class:`~layers.reporting.document.Report` the DOCX writer lays out, on the same page: A4 with the
margins of GB/T 9704-2012 (top 37 mm, bottom 35 mm, left 28 mm, right 26 mm), the issuer's name in red over
the document number (文号) and a red rule, the title, the recipient, the lead paragraph, numbered sections
(一、二、…) of paragraphs, tables and figures, the issuer and issue date at the end, and "— n —" under each
page. Tables have a bold header row repeated on every page they continue on (with 续表 above), and their note
under them; figures (the 四色 and 五色 maps) are scaled to the text width, embedded at their own resolution,
with their caption. Title and body use a serif CJK face when one is installed (the nearest to 小标宋 and
仿宋), headings the sans face of :func:`layers.printmap.cjk_font` (the nearest to 黑体).

Text is wrapped by display width (:func:`layers.reasons_report.wrap_text`) and drawn in Type 3 font subsets,
as the reasons sheet is, so Chinese stays extractable (``pdftotext``) and prints anywhere. The PDF's Title,
Subject (the data note), Author (the issuer) and Keywords (the report code and document number) are set.
Only the object-oriented matplotlib API is used.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure as MplFigure
from matplotlib.image import imread
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from layers.printmap import cjk_font
from layers.reasons_report import A4_PORTRAIT, wrap_text
from layers.reporting.document import Figure, Report, Table
from layers.text_width import display_width

__all__ = ["column_widths", "write_pdf"]

_MM = 72.0 / 25.4
#: A4 portrait (pt) and the type area of GB/T 9704-2012: 156 mm × 225 mm.
PAGE_W, PAGE_H = 595.0, 842.0
TOP, BOTTOM, LEFT, RIGHT = 37 * _MM, 35 * _MM, 28 * _MM, 26 * _MM
TEXT_W = PAGE_W - LEFT - RIGHT
BODY_BOTTOM = PAGE_H - BOTTOM
MIDDLE = LEFT + TEXT_W / 2
#: Sizes (pt) as in the DOCX: issuer, title, body (三号) and its line pitch (22 lines a page), tables (五号),
#: captions, page numbers (四号).
ISSUER, TITLE, BODY, PITCH, SMALL, CAPTION, FOLIO = 26.0, 22.0, 16.0, 28.9, 10.5, 12.0, 14.0
#: Width of one display cell (half a CJK glyph) in em, a little over half so Latin text fits too.
_CELL_EM = 0.53
_RED = "#E60012"
_INK = "#000000"
_MUTED = "#555555"
_HEADER_FILL = "#EEEEEE"
#: Padding inside a table cell and the line pitch of table text (pt).
_PAD, _ROW_LINE = 3.0, SMALL * 1.35
#: Chinese numerals of section headings.
_NUMERALS = "一二三四五六七八九十"
#: Serif CJK families tried for title and body text (the sans face is the fallback).
SERIF_FAMILIES = ("Noto Serif CJK SC", "Source Han Serif SC", "Source Han Serif CN", "Noto Serif SC")


def _cells(width_pt: float, size: float) -> int:
    """Display cells of text of ``size`` pt that fit in ``width_pt``."""
    return max(int(width_pt / (size * _CELL_EM)), 2)


def column_widths(table: Table, total: float = TEXT_W, size: float = SMALL) -> list[float]:
    """Return column widths (pt) adding up to ``total``: narrow columns get what they need, wide ones share the rest.

    Parameters
    ----------
    table : Table
        The table; its header and cells are measured in display cells (CJK glyphs count two).
    total : float
        Width of the table (pt).
    size : float
        Font size of the table (pt).

    Returns
    -------
    list of float

    Examples
    --------
    >>> t = Table(("名次", "说明"), ((1, "很长的说明" * 20),))
    >>> [round(w) for w in column_widths(t, 400)]
    [30, 370]
    >>> [round(w) for w in column_widths(Table(("名次", "县(市、区)"), ((1, "安宁市"),)), 100)]
    [32, 68]
    """
    cell = size * _CELL_EM
    need = [max([display_width(heading)] + [display_width("" if row[i] is None else str(row[i]))
                                            for row in table.rows]) * cell + 2 * _PAD + 2
            for i, heading in enumerate(table.columns)]
    if sum(need) <= total:
        return [w * total / sum(need) for w in need]
    widths: list[float | None] = [None] * len(need)
    left, open_cols = total, list(range(len(need)))
    while open_cols:  # give the columns narrower than a fair share what they need, then share what is left
        fair = left / len(open_cols)
        small = [i for i in open_cols if need[i] <= fair]
        if not small:
            wide = sum(need[i] for i in open_cols)
            for i in open_cols:
                widths[i] = left * need[i] / wide
            break
        for i in small:
            widths[i] = need[i]
            left -= need[i]
        open_cols = [i for i in open_cols if i not in small]
    return [float(w or 0.0) for w in widths]


@dataclass
class _Pages:
    """Pages being drawn, with a cursor ``y`` in points from the top edge of the current page."""

    serif: str
    sans: str
    pages: list[MplFigure] = field(default_factory=list)
    y: float = TOP

    @property
    def fig(self) -> MplFigure:
        return self.pages[-1]

    def new_page(self) -> None:
        self.pages.append(MplFigure(figsize=A4_PORTRAIT))
        self.y = TOP

    def room(self, height: float) -> bool:
        return self.y + height <= BODY_BOTTOM

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` fits under the cursor (a fresh page takes whatever comes)."""
        if not self.room(height) and self.y > TOP:
            self.new_page()

    def text(self, x: float, y: float, s: str, *, size: float, sans: bool = False, **kw: Any) -> None:
        kw.setdefault("color", _INK)
        kw.setdefault("va", "top")
        self.fig.text(x / PAGE_W, 1 - y / PAGE_H, s, fontsize=size, family=[self.sans if sans else self.serif,
                                                                          self.sans, "DejaVu Sans"], **kw)

    def rule(self, y: float, *, colour: str, width: float) -> None:
        self.fig.add_artist(Line2D([LEFT / PAGE_W, 1 - RIGHT / PAGE_W], [1 - y / PAGE_H] * 2,
                                   transform=self.fig.transFigure, color=colour, linewidth=width))

    def box(self, x: float, y: float, w: float, h: float, **kw: Any) -> None:
        self.fig.add_artist(Rectangle((x / PAGE_W, 1 - (y + h) / PAGE_H), w / PAGE_W, h / PAGE_H,
                                      transform=self.fig.transFigure, **kw))

    def paragraph(self, s: str, *, size: float = BODY, pitch: float = PITCH, align: str = "left",
                  indent: bool = False, sans: bool = False, **kw: Any) -> None:
        """Wrap ``s`` to the text width and draw it line by line, breaking pages between lines."""
        lines = wrap_text(("\u3000\u3000" if indent else "") + s, _cells(TEXT_W, size))
        x = {"left": LEFT, "center": MIDDLE, "right": PAGE_W - RIGHT}[align]
        for line in lines:
            self.ensure(pitch)
            self.text(x, self.y + (pitch - size) / 2, line, size=size, sans=sans, ha=align, **kw)
            self.y += pitch

    def folios(self) -> None:
        """Write "— n —" centred under the type area of every page."""
        for number, fig in enumerate(self.pages, start=1):
            fig.text(MIDDLE / PAGE_W, 1 - (BODY_BOTTOM + 7 * _MM) / PAGE_H, f"— {number} —", ha="center", va="top",
                     fontsize=FOLIO, family=[self.serif, self.sans, "DejaVu Sans"], color=_INK)


def _row(pages: _Pages, widths: list[float], cells: list[list[str]], centred: list[bool], *,
         header: bool = False) -> float:
    """Draw one table row at the cursor; return its height."""
    height = max(len(c) for c in cells) * _ROW_LINE + 2 * _PAD
    x = LEFT
    for lines, width, centre in zip(cells, widths, centred, strict=True):
        pages.box(x, pages.y, width, height, facecolor=_HEADER_FILL if header else "none", edgecolor=_INK,
                  linewidth=0.5)
        for i, line in enumerate(lines):
            pages.text(x + (width / 2 if centre or header else _PAD), pages.y + _PAD + i * _ROW_LINE + 1.0, line,
                       size=SMALL, sans=header, fontweight="bold" if header else "normal",
                       ha="center" if centre or header else "left")
        x += width
    pages.y += height
    return height


def _table(pages: _Pages, table: Table) -> None:
    """Draw ``table``; where it continues on the next page, write 续表 and its header row again."""
    widths = column_widths(table)

    def wrap(values: tuple[Any, ...]) -> list[list[str]]:
        return [wrap_text("" if v is None else str(v), _cells(w - 2 * _PAD, SMALL)) for v, w in
                zip(values, widths, strict=True)]

    head = wrap(table.columns)
    head_h = max(len(c) for c in head) * _ROW_LINE + 2 * _PAD
    rows = [wrap(r) for r in table.rows]
    centred = [all(len(r[i]) == 1 and display_width(r[i][0]) <= 12 for r in rows) for i in range(len(widths))]
    first = max(len(c) for c in rows[0]) * _ROW_LINE + 2 * _PAD if rows else 0.0
    pages.y += 4
    pages.ensure(head_h + first)
    _row(pages, widths, head, centred, header=True)
    for cells in rows:
        height = max(len(c) for c in cells) * _ROW_LINE + 2 * _PAD
        if not pages.room(height):
            pages.new_page()
            pages.text(LEFT, pages.y, "续表", size=SMALL, sans=True, color=_MUTED)
            pages.y += _ROW_LINE + 2
            _row(pages, widths, head, centred, header=True)
        _row(pages, widths, cells, centred)
    if table.note:
        pages.y += 3
        pages.paragraph(table.note, size=SMALL, pitch=_ROW_LINE + 2)
    pages.y += PITCH / 3


def _figure(pages: _Pages, figure: Figure) -> None:
    """Draw ``figure`` at the text width (smaller when it would not fit a page) with its caption under it."""
    image = imread(io.BytesIO(figure.png), format="png")
    rows, cols = image.shape[:2]
    caption = wrap_text(figure.caption, _cells(TEXT_W, CAPTION))
    caption_h = len(caption) * CAPTION * 1.5 + 6
    width = TEXT_W
    height = width * rows / cols
    most = BODY_BOTTOM - TOP - caption_h - 8
    if height > most:
        width, height = width * most / height, most
    pages.ensure(height + caption_h + 8)
    pages.y += 8
    left = LEFT + (TEXT_W - width) / 2
    ax = pages.fig.add_axes((left / PAGE_W, 1 - (pages.y + height) / PAGE_H, width / PAGE_W, height / PAGE_H))
    ax.imshow(image, interpolation="none", aspect="auto")  # "none": the PNG goes in at its own resolution
    ax.set_axis_off()
    pages.y += height + 4
    for line in caption:
        pages.text(MIDDLE, pages.y, line, size=CAPTION, ha="center")
        pages.y += CAPTION * 1.5
    pages.y += 6


def _fit(text: str, size: float) -> float:
    """Largest size up to ``size`` at which ``text`` fits the text width on one line."""
    return min(size, TEXT_W / (max(display_width(text), 1) * _CELL_EM))


def _serif() -> str:
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in SERIF_FAMILIES if family in names), cjk_font())


def write_pdf(report: Report, path: Path | None = None) -> bytes:
    """Write ``report`` as an A4 portrait PDF; return its bytes (and save them to ``path`` when given).

    Parameters
    ----------
    report : Report
        The report (see :mod:`layers.reporting.document`).
    path : Path, optional
        Where to save the file.

    Returns
    -------
    bytes
        The PDF.

    Raises
    ------
    RuntimeError
        When no CJK font is installed (see :func:`layers.printmap.cjk_font`).
    """
    sans = cjk_font()
    rc: dict[Any, Any] = {"font.family": [sans, "DejaVu Sans"], "axes.unicode_minus": False, "pdf.fonttype": 3}
    with matplotlib.rc_context(rc):
        pages = _Pages(serif=_serif(), sans=sans)
        pages.new_page()
        size = _fit(report.issuer, ISSUER)
        pages.text(MIDDLE, pages.y, report.issuer, size=size, color=_RED, ha="center", fontweight="bold")
        pages.y += size * 1.5 + 10
        pages.text(MIDDLE, pages.y, report.number, size=BODY, ha="center")
        pages.y += BODY * 1.3 + 4 * _MM
        pages.rule(pages.y, colour=_RED, width=1.5)
        pages.y += 2 * PITCH - 10
        pages.paragraph(report.title, size=TITLE, pitch=TITLE * 1.5, align="center", fontweight="bold")
        pages.y += PITCH / 2
        pages.paragraph(f"{report.recipient}：")
        pages.paragraph(f"现将{report.scope_name}{report.period}有关情况报告如下。{report.data_note}。", indent=True)
        for number, part in enumerate(report.sections):
            numeral = _NUMERALS[number] if number < len(_NUMERALS) else str(number + 1)
            pages.ensure(2 * PITCH)  # never a heading alone at the foot of a page
            pages.paragraph(f"{numeral}、{part.heading}", indent=True, sans=True)
            for text in part.paragraphs:
                pages.paragraph(text, indent=True)
            for table in part.tables:
                _table(pages, table)
            for figure in part.figures:
                _figure(pages, figure)
        pages.ensure(4 * PITCH)
        pages.y += PITCH
        date = report.issued_on
        lines = (report.issuer, f"{date.year}年{date.month}月{date.day}日", report.due_line())
        for line in (x for x in lines if x):
            pages.text(PAGE_W - RIGHT - 2 * BODY, pages.y + (PITCH - BODY) / 2, line, size=BODY, ha="right")
            pages.y += PITCH
        pages.folios()
        metadata = {"Title": report.title, "Subject": report.data_note, "Author": report.issuer,
                    "Keywords": f"{report.code}; {report.number}", "Creator": "RiskMap"}
        buffer = io.BytesIO()
        with PdfPages(buffer, metadata=metadata) as pdf:
            for fig in pages.pages:
                pdf.savefig(fig, facecolor="white")
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
