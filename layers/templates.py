"""XLSX import templates, one per layer: Chinese headers with units, allowed values, an example row.

Every cell is written through :func:`geo.cells.append_row`, so no text can become a formula.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from geo.cells import append_row
from geo.layer_specs import LAYERS, FieldSpec, LayerSpec, layer_spec

WKT_HEADER = "几何(WKT)"
_TYPE_ZH = {"str": "文本", "int": "整数", "float": "数值", "date": "日期 YYYY-MM-DD", "enum": "选项",
            "credit_code": "统一社会信用代码", "adcode": "行政区划代码", "bool": "是/否"}


def header_text(f: FieldSpec) -> str:
    """Template header of a field: Chinese name, ``*`` when required, unit in brackets.

    Examples
    --------
    >>> from geo.layer_specs import ENTERPRISES
    >>> header_text(ENTERPRISES.field("external_distance_m"))
    '外部安全防护距离(m)'
    """
    return f"{f.zh}{'*' if f.required else ''}{f'({f.unit})' if f.unit else ''}"


def template_fields(spec: LayerSpec) -> list[FieldSpec]:
    """Fields shown in a layer's template (lon/lat only for point-capable layers)."""
    if spec.geometry in ("point", "any"):
        return list(spec.fields)
    return [f for f in spec.fields if f.name not in ("lon", "lat")]


def write_template(spec: LayerSpec, path: Path) -> Path:
    """Write the XLSX template of one layer.

    Parameters
    ----------
    spec : LayerSpec
        The layer.
    path : Path
        Output ``.xlsx`` file.

    Returns
    -------
    Path
        ``path``.
    """
    fields = template_fields(spec)
    headers = [header_text(f) for f in fields]
    if spec.geometry != "point":
        headers.append(WKT_HEADER)
    wb = Workbook()
    data = wb.active
    assert data is not None
    data.title = "数据"
    append_row(data, headers)
    bold, required_fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for col, f in enumerate(fields, 1):
        cell = data.cell(row=1, column=col)
        cell.font = bold
        if f.required:
            cell.fill = required_fill
        note = f"{f.en}" + (f"; 单位 {f.unit}" if f.unit else "") + (f"; {f.note}" if f.note else "")
        cell.comment = Comment(note, "RiskMap")
        data.column_dimensions[get_column_letter(col)].width = max(12, len(headers[col - 1]) * 2 + 2)
        if f.choices:
            labels = ",".join(v[0] for v in f.choices.values())
            if len(labels) < 250:  # Excel's limit for inline list validations
                dv = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=not f.required)
                dv.error, dv.errorTitle = f"请选择: {labels}", f.zh
                data.add_data_validation(dv)
                dv.add(f"{get_column_letter(col)}2:{get_column_letter(col)}5000")
        if f.type in ("credit_code", "adcode", "str"):
            for row in range(2, 200):
                data.cell(row=row, column=col).number_format = "@"
    if spec.geometry != "point":
        data.column_dimensions[get_column_letter(len(headers))].width = 40
    data.freeze_panes = "A2"

    example = wb.create_sheet("示例")
    append_row(example, headers)
    sample = [f.example for f in fields]
    if spec.geometry != "point":
        sample.append(_example_wkt(spec))
    append_row(example, sample)
    for col in range(1, len(headers) + 1):
        example.cell(row=1, column=col).font = bold
        example.column_dimensions[get_column_letter(col)].width = data.column_dimensions[
            get_column_letter(col)].width

    info: Any = wb.create_sheet("说明")
    append_row(info, ["列名", "English", "字段 field", "类型 type", "单位 unit", "必填 required", "允许值 allowed",
                 "来源 source", "说明 note"])
    for f in fields:
        allowed = "；".join(f"{v[0]}({k})" for k, v in f.choices.items()) if f.choices else ""
        append_row(info, [f.zh, f.en, f.name, _TYPE_ZH[f.type], f.unit or "", "是" if f.required else "",
                     allowed, f.source, f.note])
    if spec.geometry != "point":
        append_row(info, [WKT_HEADER, "Geometry as WKT", "geometry", "WKT", "经纬度 lon/lat", "是", "", "", ""])
    append_row(info, [])
    append_row(info, [f"图层 {spec.zh} / {spec.en}", spec.note])
    append_row(info, ["坐标 / coordinates",
                 "默认 WGS84/CGCS2000 经纬度；高德/腾讯(GCJ-02)、百度(BD-09) 坐标请在导入时用 --crs 声明"])
    for idx, width in enumerate((18, 22, 22, 16, 10, 8, 50, 30, 40), 1):
        info.column_dimensions[get_column_letter(idx)].width = width
        info.cell(row=1, column=idx).font = bold
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _example_wkt(spec: LayerSpec) -> str:
    if spec.geometry == "line":
        return "LINESTRING (102.40 24.90, 102.45 24.91, 102.50 24.93)"
    return "POLYGON ((102.4700 24.9200, 102.4703 24.9200, 102.4703 24.9203, 102.4700 24.9203, 102.4700 24.9200))"


def write_templates(out_dir: Path, layers: list[str] | None = None) -> list[Path]:
    """Write templates for ``layers`` (default: all) into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Folder for the files, named ``<layer>_<中文名>.xlsx``.
    layers : list of str, optional
        Layer names; all layers when omitted.

    Returns
    -------
    list of Path
    """
    specs = [layer_spec(n) for n in layers] if layers else list(LAYERS.values())
    return [write_template(s, out_dir / f"{s.name}_{s.zh}.xlsx".replace("/", "_")) for s in specs]
