"""A report as a Word document laid out as Chinese official documents are (GB/T 9704-2012 in outline).

A4 with the standard's margins; the issuer's name and the document number (文号, serial left for the
sender) above a red rule; the title in 小标宋 二号; the recipient; numbered sections (一、二、…) in 黑体
三号 over 仿宋 三号 text; tables in 五号 with a bold header row; the maps as figures with captions; the
issue date at the end; page numbers "— n —" in the footer. Chinese fonts are set for East Asian text
(``w:eastAsia``), so Word and WPS use them and fall back to their own when absent.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from layers.reporting.document import Report, Table

__all__ = ["FONTS", "write_docx"]

#: Fonts of the official style: title, headings, body.
FONTS = {"title": "方正小标宋简体", "heading": "黑体", "body": "仿宋_GB2312"}
#: Chinese numerals of section headings.
_NUMERALS = "一二三四五六七八九十"
_RED = RGBColor(0xE6, 0x00, 0x12)


def _font(run: Any, family: str, size_pt: float, *, bold: bool = False, colour: RGBColor | None = None) -> None:
    run.font.name = family
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    if colour is not None:
        run.font.color.rgb = colour
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), family)


def _para(doc: Any, text: str, family: str, size_pt: float, *, align: Any = None, bold: bool = False,
          colour: RGBColor | None = None, indent: bool = False) -> Paragraph:
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size_pt * 2)
    paragraph.paragraph_format.line_spacing = Pt(28)
    _font(paragraph.add_run(text), family, size_pt, bold=bold, colour=colour)
    return paragraph


def _rule(paragraph: Paragraph) -> None:
    """Draw the red rule under the header block (a bottom border on the paragraph)."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "1"), ("w:color", "E60012")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _page_numbers(section: Any) -> None:
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run("— "), "宋体", 14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    _font(paragraph.add_run(" —"), "宋体", 14)


def _table(doc: Any, table: Table) -> None:
    grid = doc.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, heading in zip(grid.rows[0].cells, table.columns, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(heading), FONTS["heading"], 10.5, bold=True)
    for row in table.rows:
        cells = grid.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run("" if value is None else str(value)), FONTS["body"], 10.5)
    if table.note:
        _para(doc, table.note, FONTS["body"], 10.5)


def write_docx(report: Report, path: Path | None = None) -> bytes:
    """Write ``report`` as a DOCX document; return its bytes (and save them to ``path`` when given).

    Parameters
    ----------
    report : Report
        The report (see :mod:`layers.reporting.document`).
    path : Path, optional
        Where to save the file.

    Returns
    -------
    bytes
        The document.
    """
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _page_numbers(section)
    core = doc.core_properties
    core.title, core.identifier, core.subject = report.title, report.number, report.data_note
    core.author, core.category = report.issuer, report.code
    _para(doc, report.issuer, FONTS["title"], 26, align=WD_ALIGN_PARAGRAPH.CENTER, colour=_RED)
    _rule(_para(doc, report.number, FONTS["body"], 16, align=WD_ALIGN_PARAGRAPH.CENTER))
    _para(doc, report.title, FONTS["title"], 22, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, f"{report.recipient}：", FONTS["body"], 16)
    _para(doc, f"现将{report.scope_name}{report.period}有关情况报告如下。{report.data_note}。", FONTS["body"], 16,
          indent=True)
    for number, part in enumerate(report.sections):
        numeral = _NUMERALS[number] if number < len(_NUMERALS) else str(number + 1)
        _para(doc, f"{numeral}、{part.heading}", FONTS["heading"], 16, indent=True)
        for text in part.paragraphs:
            _para(doc, text, FONTS["body"], 16, indent=True)
        for table in part.tables:
            _table(doc, table)
        for figure in part.figures:
            doc.add_picture(io.BytesIO(figure.png), width=Mm(150))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _para(doc, figure.caption, FONTS["body"], 12, align=WD_ALIGN_PARAGRAPH.CENTER)
    date = report.issued_on
    _para(doc, f"{report.issuer}", FONTS["body"], 16, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, f"{date.year}年{date.month}月{date.day}日", FONTS["body"], 16, align=WD_ALIGN_PARAGRAPH.RIGHT)
    if report.due_line():
        _para(doc, str(report.due_line()), FONTS["body"], 14, align=WD_ALIGN_PARAGRAPH.RIGHT)
    buffer = io.BytesIO()
    doc.save(buffer)
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data
