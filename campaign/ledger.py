"""The 隐患台账 (hazard register) as a table and an XLSX workbook, in the conventional column order.

Columns (issue #9 of the campaign, the order districts exchange): 序号, 隐患名称, 所属企业, 统一社会信用代码,
行业, 隐患级别, 来源, 发现日期, 整改措施, 责任单位, 责任人, 整改资金(万元), 整改时限, 应急预案, 状态, 督办级别,
督办单位, 销号日期 — then, kept apart, the codes behind the labels (状态代码 …) and 是否逾期.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from openpyxl import Workbook

from campaign.lifecycle import load_lifecycle
from campaign.reference import load_reference
from geo.cells import append_row

#: (column, source) of the 台账 in the conventional order; sources are store.HAZARD_COLUMNS or derived names.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("序号", "_no"), ("隐患名称", "description"), ("所属企业", "enterprise_name"), ("统一社会信用代码", "credit_code"),
    ("行业", "_industry"), ("隐患级别", "_severity"), ("来源", "_source"), ("发现日期", "found_on"),
    ("整改措施", "measures"), ("责任单位", "responsible_unit"), ("责任人", "responsible_person"),
    ("整改资金(万元)", "funds_wan"), ("整改时限", "deadline"), ("应急预案", "emergency_plan"), ("状态", "_state"),
    ("督办级别", "_supervision"), ("督办单位", "supervising_unit"), ("销号日期", "closed_on"),
)
#: Columns after the conventional ones: codes kept in columns of their own, and the derived overdue flag.
EXTRA: tuple[tuple[str, str], ...] = (("隐患编号", "code"), ("区县代码", "adcode"), ("隐患级别代码", "severity"),
                                      ("来源代码", "source"), ("状态代码", "state"), ("督办级别代码", "supervision"),
                                      ("是否逾期", "_overdue"))


def ledger_frame(hazards: pd.DataFrame, *, today: dt.date) -> pd.DataFrame:
    """Lay out hazards (rows of :func:`geo.store.list_hazards`) as the 台账.

    Parameters
    ----------
    hazards : DataFrame
        The hazards, in the order wanted.
    today : date
        The day overdue is judged on.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS` then :data:`EXTRA`, Chinese labels for coded values.
    """
    life, ref = load_lifecycle(), load_reference()
    rows = []
    for i, r in enumerate(hazards.to_dict("records"), 1):
        industry = ref.industry_of(r.get("enterprise_industry"))
        level = str(r.get("supervision"))
        derived = {
            "_no": i,
            "_industry": ref.industries[industry].label.zh if industry else "",
            "_severity": life.severities[r["severity"]].zh if r["severity"] in life.severities else r["severity"],
            "_source": ref.sources[r["source"]].zh if r.get("source") in ref.sources else (r.get("source") or ""),
            "_state": life.states[r["state"]].zh if r.get("state") in life.states else (r.get("state") or ""),
            "_supervision": life.supervision_levels[level][0].zh if level in life.supervision_levels else "",
            "_overdue": "是" if life.is_overdue(life.hazard(r), today) else "否",
        }
        rows.append([derived[src] if src.startswith("_") else r.get(src) for _, src in COLUMNS + EXTRA])
    return pd.DataFrame(rows, columns=[c for c, _ in COLUMNS + EXTRA])


def ledger_xlsx(frame: pd.DataFrame, *, title: str) -> bytes:
    """Write the 台账 as XLSX: a title row, the header, one row per hazard (text never a formula).

    Parameters
    ----------
    frame : DataFrame
        From :func:`ledger_frame`.
    title : str
        The first row (e.g. "安宁市重大事故隐患台账（截至 2026-12-06）").

    Returns
    -------
    bytes
    """
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "隐患台账"
    append_row(ws, [title])
    append_row(ws, list(frame.columns))
    for values in frame.itertuples(index=False):
        append_row(ws, [None if (not isinstance(v, str) and pd.isna(v)) else v for v in values])
    for col, width in zip("ABCDEFGHIJKLMNOPQR", (6, 30, 24, 22, 12, 12, 12, 12, 30, 20, 10, 12, 12, 20, 10, 10, 16, 12),
                          strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "C3"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
