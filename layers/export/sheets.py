"""The XLSX writer: an info sheet "说明", then one sheet per table.

XLSX drops geometry (points get 经度/纬度 columns) and starts with a "说明" sheet. Text is
always a text cell, never a formula, and CSV text that a spreadsheet would run is neutralised
(:mod:`geo.cells`, OWASP CSV injection).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from geo.cells import append_row
from geo.constants import STORAGE_CRS
from layers.export.prepare import plain, to_storage
from layers.text_width import display_width

#: Excel's limit on the characters of one cell.
XLSX_CELL_CHARS = 32_767
#: Header of the geometry column when a plain table with geometries goes to XLSX (as in the import templates).
XLSX_WKT_HEADER = "几何(WKT)"
#: Name of the first sheet, which describes the workbook.
INFO_SHEET = "说明"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_XLSX_MAX_WIDTH = 60
_XLSX_MIN_WIDTH = 8
_XLSX_WIDTH_SAMPLE = 2000


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: Path, *, title: str, data_date: str, source_note: str,
               crs_note: str | None = None) -> Path:
    """Write tables to one workbook: an info sheet "说明", then one sheet per table.

    The geometry of a GeoDataFrame is dropped; tables with point geometries get 经度/纬度
    columns (CGCS2000 degrees, filled for point features only). Geometries in a plain table are
    written as WKT (header ``几何(WKT)`` for a column named ``geometry``; a WKT longer than an
    Excel cell holds is replaced by a note). Text is always a text cell, never a formula
    (:func:`geo.cells.set_text_safe`); numbers are numeric cells. Headers are bold, the header
    row is frozen, column widths follow the content (CJK characters count double, capped at 60).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Sheet name to table (GeoDataFrames allowed). Names are cut to Excel's 31 characters
        and made unique.
    path : Path
        Output ``.xlsx``.
    title, data_date, source_note : str
        Shown on the info sheet.
    crs_note : str, optional
        Coordinate note for the info sheet; a default explains the 经度/纬度 columns.

    Returns
    -------
    Path
        ``path``, the workbook written.

    Raises
    ------
    ValueError
        If there are no tables or a table is empty (named in the message).
    """
    if not tables:
        raise ValueError("没有要导出的表 / no tables to export")
    for name, df in tables.items():
        if len(df) == 0:
            raise ValueError(f"表 {name!r} 为空 / table {name!r} is empty: nothing to export")
    bold = Font(bold=True)
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = INFO_SHEET
    sheet_names = _sheet_names(list(tables))
    frames = {name: _xlsx_frame(df, name) for name, df in tables.items()}
    note = crs_note or (f"经度/纬度为 CGCS2000 ({STORAGE_CRS}) 经纬度，单位度，仅点要素填写；"
                        "线、面几何见 GeoPackage/Shapefile 导出。 Longitude/latitude in CGCS2000 degrees, points only.")
    rows: list[list[Any]] = [
        ["标题 Title", title], ["数据日期 Data date", data_date], ["数据来源 Source", source_note],
        ["坐标 Coordinates", note], [], ["工作表 Sheet", "记录数 Rows"],
        *[[sheet_names[name], len(frame)] for name, frame in frames.items()],
    ]
    for row in rows:
        append_row(info, row)
    for r in (1, 2, 3, 4, 6):
        info.cell(row=r, column=1).font = bold
    info.cell(row=6, column=2).font = bold
    info.cell(row=1, column=2).font = Font(bold=True, size=14)
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 80
    for r in range(1, 5):
        info.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")

    for name, frame in frames.items():
        ws = wb.create_sheet(sheet_names[name])
        headers = [str(c) for c in frame.columns]
        append_row(ws, headers)
        for values in frame.itertuples(index=False, name=None):
            append_row(ws, [_cell_value(v) for v in values])
        for col, header in enumerate(headers, 1):
            ws.cell(row=1, column=col).font = bold
            sample = frame.iloc[:_XLSX_WIDTH_SAMPLE, col - 1]
            longest = max([display_width(header), *(display_width(_cell_text(v)) for v in sample)])
            ws.column_dimensions[get_column_letter(col)].width = min(_XLSX_MAX_WIDTH,
                                                                     max(_XLSX_MIN_WIDTH, longest + 2))
        for col_name in ("经度", "纬度"):
            if col_name in headers:
                idx = headers.index(col_name) + 1
                for r in range(2, len(frame) + 2):
                    ws.cell(row=r, column=idx).number_format = "0.000000"
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _sheet_names(names: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    taken = {INFO_SHEET}
    for name in names:
        base = _SHEET_BAD.sub("_", str(name)).strip("'") or "Sheet"
        sheet, n = base[:31], 1
        while sheet in taken:
            n += 1
            tail = f"~{n}"
            sheet = base[: 31 - len(tail)] + tail
        taken.add(sheet)
        out[name] = sheet
    return out


def _xlsx_frame(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Table without geometry; 经度/纬度 (CGCS2000) for point features when there are any."""
    if not isinstance(df, gpd.GeoDataFrame):
        out = pd.DataFrame(df).reset_index(drop=True)
        geometry = [c for c in out.columns if isinstance(out[c].dtype, gpd.array.GeometryDtype)]
        for col in geometry:
            out[col] = [_wkt_cell(g) for g in out[col]]
        return out.rename(columns={"geometry": XLSX_WKT_HEADER}) if XLSX_WKT_HEADER not in out.columns else out
    gdf = plain(to_storage(df, name)) if df.crs is not None else plain(df)
    geom = gdf.geometry
    out = pd.DataFrame(gdf.drop(columns=[geom.name]))
    is_point = (geom.geom_type == "Point").to_numpy()
    if is_point.any() and "经度" not in out.columns and "纬度" not in out.columns:
        points = np.asarray(geom.values, dtype=object).copy()
        points[~is_point] = None
        out["经度"] = shapely.get_x(points)
        out["纬度"] = shapely.get_y(points)
    return out


def _wkt_cell(geom: Any) -> str | None:
    if not isinstance(geom, shapely.Geometry):
        return None
    wkt = geom.wkt
    if len(wkt) <= XLSX_CELL_CHARS:
        return wkt
    return (f"几何过长，超出 Excel 单元格上限，见 GeoPackage/Shapefile / geometry longer than an Excel cell "
            f"holds ({len(wkt)} characters): see the GeoPackage or Shapefile")


def _cell_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | bool | int | float):
        return None if isinstance(value, float) and np.isnan(value) else value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.tz_localize(None).to_pydatetime()
    if isinstance(value, np.generic):
        return _cell_value(value.item())
    if isinstance(value, shapely.Geometry):
        return value.wkt
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    if isinstance(value, list | tuple | dict | set):
        return str(value)
    return value


def _cell_text(value: Any) -> str:
    cell = _cell_value(value)
    if cell is None:
        return ""
    if isinstance(cell, float):
        return f"{cell:.6f}".rstrip("0").rstrip(".")
    return str(cell)
