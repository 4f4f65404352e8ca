"""Files to import in tests: valid credit codes and CSV/XLSX tables written from rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook

from geo.credit_code import check_character


def credit_code(serial: int, region: str = "530181") -> str:
    """A valid 统一社会信用代码 (GB 32100) of a fictitious enterprise registered in ``region``."""
    body = f"91{region}MA6K{serial:05d}"
    assert len(body) == 17
    return body + check_character(body)


def write_xlsx(path: Path, rows: list[dict[str, Any]], headers: list[str] | None = None) -> Path:
    """Rows as one worksheet; the headers are every key in first-seen order unless given."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    headers = headers or list(dict.fromkeys(h for row in rows for h in row))
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[dict[str, Any]], encoding: str = "utf-8") -> Path:
    """Rows as a CSV file in ``encoding``."""
    pd.DataFrame(rows).to_csv(path, index=False, encoding=encoding)
    return path
