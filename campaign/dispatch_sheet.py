"""The monthly 调度表 as an XLSX sheet in the layout of the street plan's annex 2 (workflows.md §5)."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from campaign.dispatch import DispatchDefinition, DispatchTable, load_dispatch
from campaign.lifecycle import load_lifecycle
from geo.cells import set_text_safe

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
SPOT_SECTION = "对企业自查自改进行抽查检查情况"


def _text(ws: Worksheet, ref: str, value: str, *, bold: bool = False, size: int = 11) -> None:
    """Write ``value`` as a text cell (never a formula, whatever it starts with)."""
    cell = ws[ref]
    set_text_safe(cell, value)
    cell.font = Font(bold=bold, size=size)


def _table_row(ws: Worksheet, row: int, no: str | int, label: str, value: int | str, *, bold: bool = False) -> None:
    for col, val in zip("ABC", (no, label, value), strict=True):
        cell = ws[f"{col}{row}"]
        if isinstance(val, str):
            _text(ws, f"{col}{row}", val, bold=bold)
        else:
            cell.value = val
        cell.border = _BOX
        cell.alignment = Alignment(horizontal="left" if col == "B" else "center", vertical="center", wrap_text=True)


def dispatch_xlsx(table: DispatchTable, *, issued_on: dt.date, definition: DispatchDefinition | None = None) -> bytes:
    """Lay out one 调度表 as an XLSX workbook.

    Parameters
    ----------
    table : DispatchTable
        The figures (:func:`campaign.dispatch.dispatch_table`).
    issued_on : date
        The date written as 填报日期.
    definition : DispatchDefinition, optional
        The definition in force; the shipped one by default.

    Returns
    -------
    bytes
        The workbook; one sheet ``调度表``: part 1 (major hazards) in rows 4–10, part 2 (spot checks)
        after it, and a note on what is counted.
    """
    definition = definition or load_dispatch()
    life = load_lifecycle()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "调度表"
    ws.merge_cells("A1:C1")
    _text(ws, "A1", definition.title.zh, bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    _text(ws, "A2", f"填报单位：{table.unit}")
    _text(ws, "B2", f"统计截至：{table.cutoff.isoformat()}（累计）")
    _text(ws, "C2", f"填报日期：{issued_on.isoformat()}")
    _table_row(ws, 4, "序号", "项目", "数量", bold=True)
    row = 5
    for hazard_row, n in table.hazards:
        _table_row(ws, row, hazard_row.no, hazard_row.label.zh, n)
        row += 1
    row += 1
    ws.merge_cells(f"A{row}:C{row}")
    _text(ws, f"A{row}", SPOT_SECTION, bold=True)
    row += 1
    _table_row(ws, row, "序号", "项目", "企业数（家）", bold=True)
    row += 1
    _table_row(ws, row, 1, definition.spot_check_total.zh, table.spot_checked)
    for i, (_, label, n) in enumerate(table.spot_items, start=2):
        row += 1
        _table_row(ws, row, i, label.zh, n)
    done = "、".join(life.states[s].zh for s in sorted(definition.rectified_states))
    _text(ws, f"A{row + 2}", f"说明：数量累计至 {table.cutoff.isoformat()}；“已完成整改”指状态为{done}的重大事故隐患；"
                              f"口径版本 {definition.version}（{definition.source}）。")
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 52
    ws.column_dimensions["C"].width = 22
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
