"""District workspace (区县工作台): the 4张清单, imports with their report, the export pack, data completeness.

``/district`` lists the districts to choose from; ``/district/<adcode>`` is one district's workspace.
Everything shown is read from the cached city snapshot (``ctx.snapshot()``); imports and exports go
through ``geo.importer.import_file`` and ``layers.pack.export_district``. No SQL here.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import math
import re
import zipfile
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import dash
import dash_leaflet as dl
import pandas as pd
from dash import Input, Output, State, dash_table, dcc, html
from dash.dash_table import FormatTemplate
from dash.dash_table.Format import Format
from werkzeug.exceptions import BadRequest

from dashboard import ids
from dashboard.auth import actor_name
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, t, table_filter_options
from dashboard.mapview import EMPTY, bounds_of, district_collection, geojson_layer, legend, to_geojson
from dashboard.permissions import DENIED, can, district_allowed
from geo.crs import parse_source_crs
from geo.errors import AccessDenied, ImportValidationError, ReadError
from geo.importer import ImportPreview, ImportReport, import_file, preview_file
from geo.layer_detect import wrong_layer_message
from geo.layer_specs import LAYERS, layer_spec
from geo.validate import FILE_LEVEL_ROWS
from layers.city import CitySnapshot
from layers.completeness import completeness
from layers.four_lists import LISTS, four_lists, list_titles
from layers.measures import measure_definition, measure_label
from layers.pack import export_district
from layers.palette import FOUR_COLOUR, RiskLevel, level_colour, level_label
from layers.rating import method_note
from layers.templates import write_template

# ---------------------------------------------------------------------------------------------
# component ids (page prefix "district-")
# ---------------------------------------------------------------------------------------------
DISTRICT_ADCODE = "district-adcode"
DISTRICT_CHOOSER = "district-chooser"
DISTRICT_GOTO = "district-goto"
DISTRICT_HEADER = "district-header"
DISTRICT_MAP = "district-map"
DISTRICT_LISTS = "district-lists"
DISTRICT_TABS = "district-tabs"
DISTRICT_TABLE_PREFIX = "district-list-"
DISTRICT_COUNT_PREFIX = "district-count-"
DISTRICT_VERSION = "district-version"
DISTRICT_IMPORT_LAYER = "district-import-layer"
DISTRICT_IMPORT_CRS = "district-import-crs"
DISTRICT_IMPORT_EPSG = "district-import-epsg"
DISTRICT_IMPORT_SKIP = "district-import-skip"
DISTRICT_UPLOAD_BOX = "district-upload-box"
DISTRICT_UPLOAD = "district-upload"
DISTRICT_UPLOAD_PAYLOAD = "district-upload-payload"
DISTRICT_IMPORT_REPORT = "district-import-report"
DISTRICT_IMPORT_CONFIRM = "district-import-confirm"
DISTRICT_IMPORT_PREVIEWED = "district-import-previewed"
DISTRICT_PREVIEW = "district-import-preview"
DISTRICT_ISSUES = "district-import-issues"
DISTRICT_REJECTS = "district-rejects"
DISTRICT_REJECTS_BTN = "district-rejects-btn"
DISTRICT_REJECTS_DOWNLOAD = "district-rejects-download"
DISTRICT_TEMPLATE_BTN = "district-template-btn"
DISTRICT_TEMPLATE_DOWNLOAD = "district-template-download"
DISTRICT_EXPORT_FORMATS = "district-export-formats"
DISTRICT_EXPORT_CRS = "district-export-crs"
DISTRICT_EXPORT_ENCODING = "district-export-encoding"
DISTRICT_EXPORT_BTN = "district-export-btn"
DISTRICT_EXPORT_STATUS = "district-export-status"
DISTRICT_EXPORT_DOWNLOAD = "district-export-download"
DISTRICT_COMPLETENESS = "district-completeness"
DISTRICT_COMPLETENESS_TABLE = "district-completeness-table"

#: Largest upload accepted (bytes); checked in the browser before sending and again on the server.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: File types the import accepts from the browser (a Shapefile comes zipped with its sidecar files).
UPLOAD_TYPES = (".xlsx", ".xlsm", ".csv", ".gpkg", ".geojson", ".json", ".kml", ".kmz", ".zip")
#: Layers a district officer imports (the district outlines are the city's).
IMPORT_LAYERS = tuple(name for name in LAYERS if name != "districts")
EXPORT_FORMATS = ("gpkg", "shp", "geojson", "xlsx", "pdf", "png")
FORMAT_LABELS = {"gpkg": "GeoPackage", "shp": "Shapefile", "geojson": "GeoJSON", "xlsx": "XLSX", "pdf": "PDF",
                 "png": "PNG"}
CRS_CHOICES = ("file", "wgs84", "cgcs2000", "gcj02", "bd09", "epsg")
#: Pixel size of the header map (kept in step with .district-map in assets/district.css).
MAP_SIZE = (440, 250)
#: Completeness below these shares is highlighted (worst first).
GAP_BAD, GAP_WARN = 0.8, 0.95
_LIGHT_TEXT = {RiskLevel.MAJOR, RiskLevel.LOW}
#: Table cells in the page font (DataTable would otherwise use its own).
CELL = {"fontFamily": '"RiskMap Sans", "Noto Sans CJK SC", sans-serif', "fontSize": 14, "padding": "4px 8px",
        "textAlign": "left", "whiteSpace": "normal", "height": "auto"}
HEADER = {"fontWeight": "bold", "backgroundColor": "#F4F6F8", "whiteSpace": "normal"}
#: Style of the confirm button while there is nothing previewed to confirm.
HIDDEN = {"display": "none"}
#: A failed import or a refused file is marked with the palette's red.
FAILED = {"borderLeftColor": FOUR_COLOUR[RiskLevel.MAJOR].hex}
#: List columns holding longer text, given more room.
WIDE_COLUMNS = ("code", "name", "entity_name", "address", "credit_code", "hazard", "trigger", "consequence",
                "engineering_controls", "management_controls", "monitoring", "open_hazards", "supervising_dept",
                "plan_name", "rescue_team", "supplies_depot", "shelter", "medical_point", "alarm_targets")

TEXT: dict[str, dict[str, str]] = {
    "workspace": {"zh": "区县工作台", "en": "District workspace"},
    "choose": {"zh": "选择区县", "en": "Choose a district"},
    "choose_hint": {"zh": "选择一个区县：查看和导出其4张清单，导入数据并查看校验报告，检查数据完整性。",
                    "en": "Choose a district to see and export its four lists, import data with a validation "
                          "report and check how complete its data is."},
    "unknown": {"zh": "没有区划代码为 {code} 的区县。", "en": "There is no district with code {code}."},
    "rank": {"zh": "全市第 {rank}/{n} 名", "en": "rank {rank} of {n}"},
    "points": {"zh": "清单风险点", "en": "Listed risk points"},
    "facts": {"zh": "风险源 {src} 个(重大 {major}、较大 {sig}) · 企业 {ent} 家 · 尾矿库 {td} 座 · 隐患 {haz} 项"
                    "(未整改 {open}) · 未闭环检查发现 {found} 条(其中违规 {viol} 条) · 数据日期 {day}",
              "en": "{src} risk sources ({major} major, {sig} significant) · {ent} enterprises · {td} tailings ponds · "
                    "{haz} hidden hazards ({open} open) · {found} open check findings ({viol} violations) · "
                    "as of {day}"},
    "map_note": {"zh": "区县内风险点，按风险等级着色", "en": "Risk points of the district, coloured by level"},
    "lists": {"zh": "4张清单", "en": "The four lists"},
    "rows_shown": {"zh": "显示 {shown} 条，共 {total} 条", "en": "{shown} of {total} rows"},
    "list_hint": {"zh": "点击表头排序；在表头下方的空格中输入内容筛选(如 重大、>500)。",
                  "en": "Click a header to sort; type in the row under the headers to filter (e.g. Major, >500)."},
    "no_points": {"zh": "本区县暂无风险点。", "en": "No risk points in this district yet."},
    "import": {"zh": "数据导入", "en": "Import"},
    "layer": {"zh": "图层", "en": "Layer"},
    "crs": {"zh": "坐标系", "en": "Coordinates"},
    "crs_file": {"zh": "按文件自带", "en": "As declared in the file"},
    "crs_wgs84": {"zh": "WGS84(GPS)", "en": "WGS84 (GPS)"},
    "crs_cgcs2000": {"zh": "CGCS2000 经纬度", "en": "CGCS2000 lon/lat"},
    "crs_gcj02": {"zh": "GCJ-02(高德/腾讯地图)", "en": "GCJ-02 (Amap/Tencent)"},
    "crs_bd09": {"zh": "BD-09(百度地图)", "en": "BD-09 (Baidu)"},
    "crs_epsg": {"zh": "其他 EPSG 代码", "en": "Other EPSG code"},
    "epsg_placeholder": {"zh": "如 EPSG:4543", "en": "e.g. EPSG:4543"},
    "skip": {"zh": "跳过无效行(有效行照常导入)", "en": "Skip invalid rows (import the valid ones)"},
    "drop": {"zh": "将文件拖到这里，或点击选择文件", "en": "Drop a file here or click to choose one"},
    "types": {"zh": "xlsx、csv、gpkg、geojson、kml 或 zip(Shapefile)，不超过 50 MB",
              "en": "xlsx, csv, gpkg, geojson, kml or zip (Shapefile), up to 50 MB"},
    "template": {"zh": "下载该图层的导入模板(XLSX)", "en": "Download this layer's template (XLSX)"},
    "too_large": {"zh": "文件 {name} 有 {size:.1f} MB，超过 50 MB 的上限，未导入。请拆分文件后分批导入。",
                  "en": "{name} is {size:.1f} MB, more than the 50 MB limit; it was not imported. "
                        "Split the file and import the parts."},
    "bad_type": {"zh": "不支持的文件类型「{ext}」。请上传 {types}。",
                 "en": "Unsupported file type '{ext}'. Upload {types}."},
    "bad_crs": {"zh": "坐标系无效：{msg}", "en": "Invalid coordinate system: {msg}"},
    "ok": {"zh": "导入成功", "en": "Imported"},
    "failed": {"zh": "导入失败", "en": "Import failed"},
    "nothing": {"zh": "未写入任何数据，数据库保持原样。请修正以下问题后重新导入。",
                "en": "Nothing was written; the database is unchanged. Fix the issues below and import again."},
    "n_issues": {"zh": "共 {n} 个问题", "en": "{n} issues"},
    "notes": {"zh": "读取说明", "en": "Notes"},
    "issues_ok": {"zh": "提示与被拒绝的行", "en": "Warnings and rejected rows"},
    "col_file": {"zh": "文件", "en": "File"},
    "col_row": {"zh": "行", "en": "Row"},
    "col_field": {"zh": "字段", "en": "Field"},
    "col_severity": {"zh": "级别", "en": "Severity"},
    "col_message": {"zh": "说明", "en": "Message"},
    "error": {"zh": "错误", "en": "error"},
    "warning": {"zh": "提示", "en": "warning"},
    "rejects": {"zh": "下载被拒绝的行(CSV)", "en": "Download the rejected rows (CSV)"},
    "rejects_note": {"zh": "被拒绝的行保留原表头，并附错误原因；修正后可直接再次导入。",
                     "en": "Rejected rows keep the file's own headers and the reasons; fix them and import the file "
                           "again."},
    "refresh_note": {"zh": "清单与数据完整性已按新数据更新。", "en": "Lists and completeness now show the new data."},
    "preview": {"zh": "导入预览", "en": "Import preview"},
    "preview_note": {"zh": "尚未写入任何数据；核对后点击“确认导入”。",
                     "en": "Nothing has been written yet; check the preview, then click Confirm import."},
    "preview_counts": {"zh": "{file} → {layer}：读取 {rows} 行，有效 {valid} 行，有错误 {bad} 行；"
                             "确认后将新增 {ins} 行、更新 {upd} 行(源坐标系 {crs})",
                       "en": "{file} → {layer}: {rows} rows read, {valid} valid, {bad} with errors; confirming inserts "
                             "{ins} and updates {upd} rows (source CRS {crs})"},
    "detected": {"zh": "按表头识别的图层：{layer}", "en": "Layer detected from the headers: {layer}"},
    "undetected": {"zh": "无法从表头判断图层", "en": "The headers do not tell which layer this is"},
    "confirm": {"zh": "确认导入", "en": "Confirm import"},
    "blocked": {"zh": "有错误，不能导入：修正文件后重新选择，或勾选“跳过无效行”只导入有效行。",
                "en": "There are errors, so nothing can be imported: fix the file and choose it again, or tick "
                      "Skip invalid rows to import only the valid ones."},
    "blocked_file": {"zh": "整个文件被拒绝(见下表)，不能导入。",
                     "en": "The whole file is refused (see below); nothing can be imported."},
    "unknown_layer": {"zh": "未知图层", "en": "Unknown layer"},
    "export": {"zh": "导出成果包", "en": "Export pack"},
    "formats": {"zh": "格式", "en": "Formats"},
    "export_crs": {"zh": "坐标系", "en": "CRS"},
    "crs_geo": {"zh": "CGCS2000 经纬度(EPSG:4490)", "en": "CGCS2000 lon/lat (EPSG:4490)"},
    "crs_gk": {"zh": "CGCS2000 高斯-克吕格 3度带", "en": "CGCS2000 Gauss-Krüger 3° zone"},
    "encoding": {"zh": "Shapefile 编码", "en": "Shapefile encoding"},
    "enc_gbk": {"zh": "GBK(旧版 ArcGIS/MapGIS)", "en": "GBK (older ArcGIS/MapGIS)"},
    "export_btn": {"zh": "生成并下载(zip)", "en": "Build and download (zip)"},
    "export_note": {"zh": "4张清单、四色风险源、未整改的检查发现和区县边界；GeoJSON 总是经纬度。",
                    "en": "The four lists, the four-colour risk sources, open findings and the outline; GeoJSON is "
                          "always lon/lat."},
    "no_format": {"zh": "请至少选择一种格式。", "en": "Choose at least one format."},
    "export_done": {"zh": "已生成 {name}：{files}", "en": "Built {name}: {files}"},
    "export_failed": {"zh": "导出失败：{msg}", "en": "Export failed: {msg}"},
    "completeness": {"zh": "数据完整性", "en": "Data completeness"},
    "c_layer": {"zh": "图层", "en": "Layer"},
    "c_rows": {"zh": "记录数", "en": "Rows"},
    "c_missing": {"zh": "缺失值", "en": "Missing values"},
    "c_fields": {"zh": "缺失最多的字段", "en": "Most often missing"},
    "c_stale": {"zh": "超过90天未更新", "en": "Not updated in 90 days"},
    "c_review": {"zh": "复核逾期(>92天)", "en": "Review overdue (>92 days)"},
    "c_last": {"zh": "最近更新(北京时间)", "en": "Last update (Beijing time)"},
    "c_score": {"zh": "完整度", "en": "Completeness"},
    "overall": {"zh": "总体完整度 {pct}：应填的 {values} 个可选值中缺 {missing} 个；{stale} 条记录超过90天未更新；"
                      "{overdue} 个风险点复核逾期。",
                "en": "Overall completeness {pct}: {missing} of {values} optional values missing; {stale} rows not "
                      "updated in 90 days; {overdue} risk points overdue for review."},
    "c_note": {"zh": "可选字段按数据字典(非必填字段)统计；风险点“更新日期”须每季度更新(超过92天或未填记为逾期)。"
                     "完整度低于80%标红，低于95%标橙。",
               "en": "Optional fields are the data dictionary's non-required fields; risk points are reviewed "
                     "quarterly (over 92 days or no date counts as overdue). Below 80% is red, below 95% orange."},
}


def tt(key: str, lang: str, **kw: Any) -> str:
    """Page string ``key`` in ``lang`` (Chinese fallback), formatted with ``kw``."""
    entry = TEXT[key]
    text_ = entry.get(lang, entry["zh"])
    return text_.format(**kw) if kw else text_


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def _layer_name(layer: str, lang: str) -> str:
    spec = LAYERS[layer]
    return spec.zh if lang == "zh" else spec.en


def _field_name(layer: str, field: str, lang: str) -> str:
    try:
        f = LAYERS[layer].field(field)
    except KeyError:
        return field
    return f.zh if lang == "zh" else f.en


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records (NaN → None, numpy scalars → Python)."""
    out: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", force_ascii=False, date_format="iso"))
    return out


def _numeric(values: pd.Series) -> bool:
    present = [v for v in values.astype(object) if v is not None and not (isinstance(v, float) and v != v)]
    return bool(present) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)


def _level_styles(columns: list[str], lang: str) -> list[dict[str, Any]]:
    """Palette colours for level cells (风险等级, 剩余风险等级) and the basic list's colour column."""
    styles: list[dict[str, Any]] = []
    for level, swatch in FOUR_COLOUR.items():
        ink = "#FFFFFF" if level in _LIGHT_TEXT else "#1F2933"
        label = swatch.zh if lang == "zh" else swatch.en
        for col in ("risk_level", "residual_level"):
            if col in columns:
                styles.append({"if": {"filter_query": f'{{{col}}} = "{label}"', "column_id": col},
                               "backgroundColor": swatch.hex, "color": ink, "fontWeight": "bold"})
        if "colour" in columns:
            styles.append({"if": {"filter_query": f'{{colour}} = "{swatch.hex}"', "column_id": "colour"},
                           "backgroundColor": swatch.hex, "color": ink})
    return styles


def _filter_options(lang: str) -> dict[str, str]:
    return table_filter_options(lang)


def _tint(hex_colour: str) -> str:
    """A light tint of a palette colour for highlighted table cells."""
    return f"{hex_colour}33"


def _district_names(snap: CitySnapshot) -> dict[str, str]:
    d = snap.bundle["districts"]
    return {str(a): str(n) for a, n in zip(d["adcode"], d["name"], strict=True)}


def _chooser(snap: CitySnapshot, adcode: str | None, lang: str) -> dcc.Dropdown:
    names = _district_names(snap)
    order = sorted(names)
    return dcc.Dropdown(id=DISTRICT_CHOOSER, value=adcode, clearable=False, searchable=True,
                        placeholder=tt("choose", lang), className="district-chooser", labels=dropdown_labels(lang),
                        options=[{"label": f"{names[a]}（{a}）" if lang == "zh" else f"{names[a]} ({a})", "value": a}
                                 for a in order])


# ---------------------------------------------------------------------------------------------
# header with badge and small map
# ---------------------------------------------------------------------------------------------
def _fit_zoom(south: float, west: float, north: float, east: float, width: int = MAP_SIZE[0],
              height: int = MAP_SIZE[1]) -> int:
    """Largest web-map zoom at which the box fits a ``width`` × ``height`` pixel map."""
    stretch = 1 / max(math.cos(math.radians((south + north) / 2)), 0.2)  # Mercator stretch of latitude
    px_per_degree = 256 / 360
    fit = min(width / (max(east - west, 1e-6) * px_per_degree),
              height / (max(north - south, 1e-6) * px_per_degree * stretch))
    return max(3, min(14, math.floor(math.log2(fit))))


#: Measures named in the facts line (their definitions make its tooltip).
FACT_MEASURES = ("risk_sources", "major_risks", "significant_risks", "hazards_total", "open_hazards", "open_findings",
                 "violations")


def _facts(snap: CitySnapshot, adcode: str, lang: str) -> str:
    """One line of counts, each a measure of :mod:`layers.measures`: sources, registers, hazards, findings, date."""
    def n(layer: str) -> int:
        frame = snap.bundle[layer]
        return int((frame["adcode"] == adcode).sum()) if len(frame) and "adcode" in frame.columns else 0

    m: Any = snap.measures.loc[adcode]
    return tt("facts", lang, src=int(m["risk_sources"]), major=int(m["major_risks"]),
              sig=int(m["significant_risks"]), ent=n("enterprises"), td=n("tailings_dams"),
              haz=int(m["hazards_total"]), open=int(m["open_hazards"]), found=int(m["open_findings"]),
              viol=int(m["violations"]), day=snap.as_of.isoformat())


def _facts_title(lang: str) -> str:
    """Tooltip of the facts line: what each figure counts."""
    return "\n".join(f"{measure_label(c, lang)}：{measure_definition(c, lang)}" if lang == "zh"
                     else f"{measure_label(c, lang)}: {measure_definition(c, lang)}" for c in FACT_MEASURES)


def _listed_points(snap: CitySnapshot, adcode: str) -> pd.DataFrame:
    """The district's 清单风险点 (every risk point of the 4张清单, not merged with facilities), with colours."""
    points = snap.bundle["risk_points"]
    points = points[points["adcode"] == adcode] if len(points) else points
    return points.assign(colour=[level_colour(v) for v in points["risk_level"]]) if len(points) else points


def _header(ctx: AppContext, snap: CitySnapshot, adcode: str, lang: str) -> list[Any]:
    names = _district_names(snap)
    r: Any = snap.ratings.loc[adcode] if adcode in snap.ratings.index else None
    badge: list[Any] = []
    if r is not None:
        ink = "#FFFFFF" if str(r["class_code"]) in ("c1", "c4") else "#1F2933"
        badge = [
            html.Span(str(r["class_zh" if lang == "zh" else "class_en"]), className="district-badge",
                      id="district-badge", style={"backgroundColor": r["colour"], "color": ink},
                      title=method_note(snap.rubric, lang)),
            html.Span(f"{t('score', lang)} {float(r['score']):.1f}", className="district-score",
                      id="district-score"),
            html.Span(tt("rank", lang, rank=int(r["rank"]), n=int(r.get("n_districts", len(snap.ratings)))),
                      className="district-rank", id="district-rank"),
        ]
    src = _listed_points(snap, adcode)
    chips = []
    for level, swatch in FOUR_COLOUR.items():
        n = int((src["risk_level"] == level.value).sum()) if len(src) else 0
        ink = "#FFFFFF" if level in _LIGHT_TEXT else "#1F2933"
        chips.append(html.Span(f"{swatch.zh if lang == 'zh' else swatch.en} {n}", className="district-chip",
                               style={"backgroundColor": swatch.hex, "color": ink}))
    districts = snap.bundle["districts"]
    outline = districts[districts["adcode"] == adcode]
    points = to_geojson(src, {"colour": "colour", "radius": lambda row: 7,
                              "tooltip": lambda row: f"{row['name']} · {level_label(row['risk_level'], lang)}"}
                        ) if len(src) else EMPTY
    base = [dl.TileLayer(url=ctx.basemap_url)] if ctx.basemap_url else []
    shape = district_collection(outline, snap.summary, snap.ratings, lang)
    (south, west), (north, east) = bounds_of(outline)
    small_map = dl.Map([*base, geojson_layer("district-outline", shape, kind="district",
                                             hideout={"mode": "four", "selected": adcode}),
                        geojson_layer("district-points", points, kind="point")],
                       id=DISTRICT_MAP, bounds=[[south, west], [north, east]], boundsOptions={"padding": [12, 12]},
                       center=[(south + north) / 2, (west + east) / 2], zoom=_fit_zoom(south, west, north, east),
                       className="district-map", attributionControl=False, scrollWheelZoom=False)
    return [
        html.Div([
            html.H2([names[adcode], html.Span(f"（{adcode}）" if lang == "zh" else f" ({adcode})",
                                              className="district-code")], id="district-name"),
            html.Div(badge, className="district-rating"),
            html.Div([html.Span(f"{tt('points', lang)}：" if lang == "zh" else f"{tt('points', lang)}: ",
                                className="district-chip-label"), *chips], className="district-chips",
                     title=measure_definition("risk_points", lang)),
            html.P(_facts(snap, adcode, lang), className="district-facts", id="district-facts",
                   title=_facts_title(lang)),
        ], className="district-head-text"),
        html.Div([small_map, legend(lang, below=True, legend_id="district-legend"),
                  html.Div(tt("map_note", lang), className="district-map-note")], className="district-map-box"),
    ]


# ---------------------------------------------------------------------------------------------
# the four lists
# ---------------------------------------------------------------------------------------------
def _list_table(key: str, frame: pd.DataFrame, lang: str) -> list[Any]:
    headers = LISTS[key].headers(lang)
    fields = {h: name for name, h in headers.items()}
    data = pd.DataFrame(frame.drop(columns=frame.geometry.name)).rename(columns=fields)
    columns = []
    for name in data.columns:
        col: dict[str, Any] = {"name": headers.get(name, name), "id": name}
        if _numeric(data[name]):
            col["type"] = "numeric"
        columns.append(col)
    table = dash_table.DataTable(  # type: ignore[attr-defined]
        id=f"{DISTRICT_TABLE_PREFIX}{key}", data=_records(data), columns=columns,
        sort_action="native", filter_action="native", page_action="native", page_size=12,
        filter_options=_filter_options(lang),
        style_table={"overflowX": "auto"}, style_data_conditional=_level_styles(list(data.columns), lang),
        style_cell={**CELL, "minWidth": "80px", "maxWidth": "280px"}, style_header=HEADER,
        style_cell_conditional=[{"if": {"column_id": c}, "minWidth": "150px"} for c in WIDE_COLUMNS if c in data],
        style_filter={"backgroundColor": "#FFFDF2"},
    )
    count = html.Div(tt("rows_shown", lang, shown=len(data), total=len(data)), id=f"{DISTRICT_COUNT_PREFIX}{key}",
                     className="district-count")
    return [count, table]


def _lists(snap: CitySnapshot, adcode: str, lang: str, active: str = "basic") -> list[Any]:
    lists = four_lists(snap.bundle, adcode, lang=lang, as_of=snap.as_of, rules=snap.rules)
    titles = list_titles(lang)
    tabs = [dcc.Tab(label=f"{titles[key]} ({len(frame)})", value=key, id=f"district-tab-{key}",
                    className="district-tab", selected_className="district-tab--selected",
                    children=html.Div(_list_table(key, frame, lang), className="district-tab-body"))
            for key, frame in lists.items()]
    body: list[Any] = [html.H3(tt("lists", lang)), html.P(tt("list_hint", lang), className="hint")]
    if not len(lists["basic"]):
        body.append(html.P(tt("no_points", lang), className="hint"))
    body.append(dcc.Tabs(tabs, id=DISTRICT_TABS, value=active if active in lists else "basic",
                         className="district-tabs"))
    return body


# ---------------------------------------------------------------------------------------------
# import
# ---------------------------------------------------------------------------------------------
def _upload(lang: str) -> dcc.Upload:
    return dcc.Upload(
        html.Div([html.Div(tt("drop", lang), className="district-drop-main"),
                  html.Div(tt("types", lang), className="district-drop-sub")]),
        id=DISTRICT_UPLOAD, multiple=False, accept=",".join(UPLOAD_TYPES), className="district-upload",
        className_active="district-upload district-upload--active")


def _import_panel(lang: str) -> html.Div:
    crs_options = [{"label": tt(f"crs_{c}", lang), "value": c} for c in CRS_CHOICES]
    return html.Div([
        html.H3(tt("import", lang)),
        html.Div([
            html.Label([tt("layer", lang), dcc.Dropdown(
                id=DISTRICT_IMPORT_LAYER, value="risk_points", clearable=False,
                options=[{"label": f"{_layer_name(n, lang)}（{n}）" if lang == "zh" else f"{_layer_name(n, lang)}",
                          "value": n} for n in IMPORT_LAYERS])], className="district-field"),
            html.Label([tt("crs", lang), dcc.Dropdown(id=DISTRICT_IMPORT_CRS, value="file", clearable=False,
                                                      options=crs_options)], className="district-field"),
            html.Label(["EPSG", dcc.Input(id=DISTRICT_IMPORT_EPSG, type="text", disabled=True, debounce=True,
                                          placeholder=tt("epsg_placeholder", lang), className="district-epsg")],
                       className="district-field district-field--narrow"),
        ], className="district-form-row"),
        html.Div([
            dcc.Checklist(id=DISTRICT_IMPORT_SKIP, options=[{"label": tt("skip", lang), "value": "skip"}], value=[],
                          className="district-skip"),
            html.Button(tt("template", lang), id=DISTRICT_TEMPLATE_BTN, n_clicks=0, className="btn btn-light"),
        ], className="district-form-row"),
        html.Div(_upload(lang), id=DISTRICT_UPLOAD_BOX),
        # shown (and enabled) only by a preview whose rows can be imported
        html.Button(tt("confirm", lang), id=DISTRICT_IMPORT_CONFIRM, n_clicks=0, disabled=True, style=HIDDEN,
                    className="btn district-confirm"),
        dcc.Loading(html.Div(id=DISTRICT_IMPORT_REPORT, className="district-report"), type="dot"),
        dcc.Store(id=DISTRICT_UPLOAD_PAYLOAD),
        dcc.Store(id=DISTRICT_IMPORT_PREVIEWED),
        dcc.Store(id=DISTRICT_REJECTS),
        dcc.Download(id=DISTRICT_REJECTS_DOWNLOAD),
        dcc.Download(id=DISTRICT_TEMPLATE_DOWNLOAD),
    ], className="district-card district-import")


def _side(label: str, lang: str) -> str:
    """The ``lang`` half of a bilingual label such as ``"第3行 / row 3"``."""
    zh, sep, en = str(label).partition(" / ")
    return (en if lang == "en" else zh) if sep else str(label)


def _issue_table(issues: list[Any], lang: str) -> Any:
    rows = [{"file": i.file, "row": _side(i.row, lang), "field": i.field,
             "severity": tt(i.severity if i.severity in ("error", "warning") else "error", lang),
             "message": i.en if lang == "en" else i.zh} for i in issues]
    cols = [("file", "col_file"), ("row", "col_row"), ("field", "col_field"), ("severity", "col_severity"),
            ("message", "col_message")]
    err = FOUR_COLOUR[RiskLevel.MAJOR].hex
    return dash_table.DataTable(  # type: ignore[attr-defined]
        id=DISTRICT_ISSUES, data=rows, columns=[{"name": tt(k, lang), "id": c} for c, k in cols],
        page_size=15, sort_action="native", filter_action="native", filter_options=_filter_options(lang),
        style_table={"overflowX": "auto"},
        style_cell={**CELL, "maxWidth": "520px"}, style_header=HEADER,
        style_data_conditional=[{"if": {"filter_query": f'{{severity}} = "{tt("error", lang)}"',
                                        "column_id": "severity"}, "color": err, "fontWeight": "bold"}],
    )


def _short(message: str, folder: str) -> str:
    """A message without the temporary folder the upload was saved in."""
    return message.replace(folder.rstrip("/") + "/", "").replace(folder, "")


def _failure(message: str, issues: list[Any], lang: str) -> list[Any]:
    out: list[Any] = [html.Div([html.Strong(tt("failed", lang)), html.Span(" · "), html.Span(tt("nothing", lang))],
                               className="district-report-head district-report-head--failed", style=FAILED),
                      html.P(message, className="district-report-msg")]
    if issues:
        out += [html.Div(tt("n_issues", lang, n=len(issues)), className="district-count"), _issue_table(issues, lang)]
    return out


def _success(report: ImportReport, lang: str, has_rejects: bool) -> list[Any]:
    out: list[Any] = [html.Div([html.Strong(tt("ok", lang)), html.Span(" · "),
                                html.Span(replace(report, reject_file=None).summary(lang))],
                               className="district-report-head district-report-head--ok")]
    if report.notes:
        out.append(html.Ul([html.Li(n) for n in report.notes], className="district-notes"))
    if report.issues:
        out += [html.Div(f"{tt('issues_ok', lang)} · {tt('n_issues', lang, n=len(report.issues))}",
                         className="district-count"), _issue_table(report.issues, lang)]
    if has_rejects:
        out += [html.Button(tt("rejects", lang), id=DISTRICT_REJECTS_BTN, n_clicks=0, className="btn"),
                html.Span(tt("rejects_note", lang), className="hint district-rejects-note")]
    out.append(html.P(tt("refresh_note", lang), className="hint"))
    return out


def _decode(payload: dict[str, Any]) -> bytes:
    contents = str(payload.get("contents") or "")
    _, _, data = contents.partition(",")
    return base64.b64decode(data, validate=False)


def _crs_value(choice: str | None, epsg: str | None) -> str | None:
    if choice in (None, "", "file"):
        return None
    if choice == "epsg":
        code = (epsg or "").strip()
        return code or None
    return choice


def _checked_upload(payload: dict[str, Any], crs_choice: str | None, epsg: str | None,
                    lang: str) -> tuple[list[Any] | None, str, str | None, bytes]:
    """Check an upload (permission first, before its contents are decoded), then decode it.

    Returns the failure to show (or None), the file name, the source CRS and the file's bytes.
    """
    name = Path(str(payload.get("filename") or "upload")).name
    if not can("import"):
        return _failure(DENIED.get(lang, DENIED["zh"]), [], lang), name, None, b""
    size = float(payload.get("size") or 0)
    if payload.get("too_large") or size > MAX_UPLOAD_BYTES:
        return [html.Div(tt("too_large", lang, name=name, size=size / 1024 / 1024),
                         className="district-report-head district-report-head--failed", style=FAILED)], name, None, b""
    ext = Path(name).suffix.lower()
    if ext not in UPLOAD_TYPES:
        return _failure(tt("bad_type", lang, ext=ext or name, types=tt("types", lang)), [], lang), name, None, b""
    try:
        crs = _crs_value(crs_choice, epsg)
        parse_source_crs(crs)
    except ValueError as exc:
        return _failure(tt("bad_crs", lang, msg=str(exc)), [], lang), name, None, b""
    try:
        raw = _decode(payload)
    except (binascii.Error, ValueError) as exc:
        return _failure(str(exc), [], lang), name, None, b""
    if len(raw) > MAX_UPLOAD_BYTES:
        return [html.Div(tt("too_large", lang, name=name, size=len(raw) / 1024 / 1024),
                         className="district-report-head district-report-head--failed", style=FAILED)], name, None, b""
    return None, name, crs, raw


def _preview(preview: ImportPreview, lang: str, skip: bool) -> list[Any]:
    """The preview of an import: counts, the detected layer and the issues (the page shows 确认导入 beside it)."""
    head = html.Div([html.Strong(tt("preview", lang)), html.Span(" · "), html.Span(tt("preview_note", lang))],
                    className="district-report-head district-report-head--preview")
    counts = tt("preview_counts", lang, file=preview.file, layer=_layer_name(preview.layer, lang),
                rows=preview.rows_total, valid=preview.rows_valid, bad=preview.rows_rejected,
                ins=preview.inserts, upd=preview.updates, crs=preview.source_crs or "—")
    out: list[Any] = [head, html.P(counts, className="district-report-msg", id=DISTRICT_PREVIEW)]
    likely = preview.likely_layer
    if likely is not None and likely != preview.layer:
        zh, en = wrong_layer_message(preview.layer, likely)
        out.append(html.P(en if lang == "en" else zh, className="district-error district-layer-hint", style=FAILED))
    else:
        out.append(html.P(tt("detected", lang, layer=_layer_name(likely, lang)) if likely else tt("undetected", lang),
                          className="hint district-layer-hint"))
    if preview.notes:
        out.append(html.Ul([html.Li(n) for n in preview.notes], className="district-notes"))
    ok = preview.importable(skip)
    if not ok:
        whole = any(i.row in FILE_LEVEL_ROWS for i in preview.errors) or not preview.rows_valid
        out.append(html.P(tt("blocked_file" if whole else "blocked", lang), className="district-error"))
    if preview.issues:
        out += [html.Div(tt("n_issues", lang, n=len(preview.issues)), className="district-count"),
                _issue_table(preview.issues, lang)]
    return out


def run_preview(ctx: AppContext, payload: dict[str, Any], layer: str, crs_choice: str | None, epsg: str | None,
                skip: bool, lang: str) -> tuple[list[Any], bool]:
    """Save the uploaded file, check it without writing and describe what an import would do.

    Returns the preview and whether confirming it would import rows.
    """
    failure, name, crs, raw = _checked_upload(payload, crs_choice, epsg, lang)
    if failure is not None:
        return failure, False
    with TemporaryDirectory(prefix="riskmap-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        try:
            preview = preview_file(ctx.engine, layer, path, crs=crs)
        except (ReadError, ValueError) as exc:
            return _failure(_side(_short(str(exc), folder), lang), [], lang), False
    return _preview(preview, lang, skip), preview.importable(skip)


def run_import(ctx: AppContext, payload: dict[str, Any], layer: str, crs_choice: str | None, epsg: str | None,
               skip: bool, lang: str) -> tuple[list[Any], dict[str, Any] | None, bool]:
    """Save the uploaded file, import it and describe the result (report, reject file, success)."""
    failure, name, crs, raw = _checked_upload(payload, crs_choice, epsg, lang)
    if failure is not None:
        return failure, None, False
    with TemporaryDirectory(prefix="riskmap-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        try:
            report = import_file(ctx.engine, layer, path, crs=crs, skip_invalid=skip, actor=actor_name())
        except ImportValidationError as exc:
            return _failure(_side(_short(str(exc), folder), lang), list(exc.issues), lang), None, False
        except (ReadError, ValueError) as exc:
            return _failure(_side(_short(str(exc), folder), lang), [], lang), None, False
        rejects = None
        if report.reject_file is not None and Path(report.reject_file).exists():
            rejects = {"filename": Path(report.reject_file).name, "base64": True,
                       "content": base64.b64encode(Path(report.reject_file).read_bytes()).decode("ascii")}
    return _success(report, lang, rejects is not None), rejects, True


# ---------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------
def _export_panel(lang: str) -> html.Div:
    return html.Div([
        html.H3(tt("export", lang)),
        html.Div(tt("formats", lang), className="district-label"),
        dcc.Checklist(id=DISTRICT_EXPORT_FORMATS, value=["gpkg", "xlsx"], inline=True, className="district-checks",
                      options=[{"label": FORMAT_LABELS[f], "value": f} for f in EXPORT_FORMATS]),
        html.Div(tt("export_crs", lang), className="district-label"),
        dcc.RadioItems(id=DISTRICT_EXPORT_CRS, value="cgcs2000", className="district-radios",
                       options=[{"label": tt("crs_geo", lang), "value": "cgcs2000"},
                                {"label": tt("crs_gk", lang), "value": "gk"}]),
        html.Div(tt("encoding", lang), className="district-label"),
        dcc.RadioItems(id=DISTRICT_EXPORT_ENCODING, value="UTF-8", inline=True, className="district-radios",
                       options=[{"label": "UTF-8", "value": "UTF-8"}, {"label": tt("enc_gbk", lang), "value": "GBK"}]),
        html.Button(tt("export_btn", lang), id=DISTRICT_EXPORT_BTN, n_clicks=0, className="btn district-export-btn"),
        dcc.Loading(html.Div(id=DISTRICT_EXPORT_STATUS, className="district-export-status"), type="dot"),
        html.P(tt("export_note", lang), className="hint"),
        dcc.Download(id=DISTRICT_EXPORT_DOWNLOAD),
    ], className="district-card district-export")


def pack_zip(ctx: AppContext, adcode: str, formats: list[str], crs: str, encoding: str) -> tuple[bytes, list[str]]:
    """Build the district's export pack and return it zipped, with the names of the files inside."""
    with TemporaryDirectory(prefix="riskmap-pack-") as folder:
        root = Path(folder)
        written = export_district(ctx.engine, adcode, root, formats=tuple(formats), crs=crs, shp_encoding=encoding,
                                  actor=actor_name())
        buffer = io.BytesIO()
        names: list[str] = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for paths in written.values():
                for path in paths:
                    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
                    for f in files:
                        arc = f.relative_to(root).as_posix()
                        zf.write(f, arc)
                        names.append(arc)
    return buffer.getvalue(), names


# ---------------------------------------------------------------------------------------------
# completeness
# ---------------------------------------------------------------------------------------------
def _completeness(snap: CitySnapshot, adcode: str, lang: str) -> list[Any]:
    frame = completeness(snap.bundle, adcode, as_of=snap.as_of)
    sep = "、" if lang == "zh" else ", "
    rows = []
    for rec in frame.to_dict("records"):
        layer = rec["layer"]
        top = list(rec["missing_by_field"].items())[:4]
        last = rec["last_update"]
        rows.append({
            "layer": _layer_name(layer, lang), "rows": int(rec["rows"]), "missing": int(rec["missing"]),
            "fields": sep.join(f"{_field_name(layer, f, lang)} {n}" for f, n in top)
            + (" …" if len(rec["missing_by_field"]) > 4 else ""),
            "stale": None if pd.isna(rec["stale"]) else int(rec["stale"]),
            "review": None if pd.isna(rec["review_overdue"]) else int(rec["review_overdue"]),
            "last": "" if pd.isna(last) else pd.Timestamp(last).strftime("%Y-%m-%d %H:%M"),
            "score": None if pd.isna(rec["completeness_score"]) else round(float(rec["completeness_score"]), 4),
        })
    rows.sort(key=lambda r: (r["score"] is None, r["score"] if r["score"] is not None else 0))
    values, missing = int(frame["values"].sum()), int(frame["missing"].sum())
    pct = f"{(1 - missing / values) * 100:.1f}%" if values else "—"
    stale = int(frame["stale"].fillna(0).sum())
    overdue = int(frame["review_overdue"].fillna(0).sum())
    bad, warn = FOUR_COLOUR[RiskLevel.MAJOR].hex, FOUR_COLOUR[RiskLevel.SIGNIFICANT].hex
    styles = [
        {"if": {"filter_query": f"{{score}} is num && {{score}} < {GAP_BAD}", "column_id": ["layer", "score"]},
         "backgroundColor": _tint(bad), "fontWeight": "bold"},
        {"if": {"filter_query": f"{{score}} is num && {{score}} >= {GAP_BAD} && {{score}} < {GAP_WARN}",
                "column_id": ["layer", "score"]}, "backgroundColor": _tint(warn)},
        {"if": {"filter_query": f"{{score}} is num && {{score}} < {GAP_BAD}", "column_id": "fields"},
         "backgroundColor": _tint(bad)},
        {"if": {"filter_query": "{stale} > 0", "column_id": "stale"}, "backgroundColor": _tint(warn),
         "fontWeight": "bold"},
        {"if": {"filter_query": "{review} > 0", "column_id": "review"}, "backgroundColor": _tint(warn),
         "fontWeight": "bold"},
    ]
    cols = [("layer", "c_layer", None), ("rows", "c_rows", "numeric"), ("score", "c_score", "numeric"),
            ("missing", "c_missing", "numeric"), ("fields", "c_fields", None), ("stale", "c_stale", "numeric"),
            ("review", "c_review", "numeric"), ("last", "c_last", None)]
    columns: list[dict[str, Any]] = []
    for cid, key, kind in cols:
        col: dict[str, Any] = {"name": tt(key, lang), "id": cid}
        if kind:
            col["type"] = kind
        if cid == "score":
            col["format"] = FormatTemplate.percentage(1).nully("—")
        elif kind == "numeric":
            col["format"] = Format(nully="—")
        columns.append(col)
    return [
        html.H3(tt("completeness", lang)),
        html.P(tt("overall", lang, pct=pct, values=values, missing=missing, stale=stale, overdue=overdue),
               className="district-overall", id="district-overall"),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=DISTRICT_COMPLETENESS_TABLE, data=rows, columns=columns, sort_action="native",
            style_data_conditional=styles, style_table={"overflowX": "auto"},
            style_cell={**CELL, "maxWidth": "420px"}, style_header=HEADER,
        ),
        html.P(tt("c_note", lang), className="hint"),
    ]


# ---------------------------------------------------------------------------------------------
# page
# ---------------------------------------------------------------------------------------------
def _chooser_page(snap: CitySnapshot, lang: str, message: str | None = None) -> html.Div:
    names = _district_names(snap)
    cards = []
    for code in sorted(names):
        r: Any = snap.ratings.loc[code] if code in snap.ratings.index else None
        colour = str(r["colour"]) if r is not None else "#D0D4D9"
        cls = f"{r['class_zh' if lang == 'zh' else 'class_en']} {float(r['score']):.1f}" if r is not None else ""
        cards.append(dcc.Link([html.Span(names[code], className="district-card-name"),
                               html.Span(cls, className="district-card-class")],
                              href=f"/district/{code}", className="district-link",
                              style={"borderLeftColor": colour}))
    return html.Div([
        dcc.Location(id=DISTRICT_GOTO, refresh="callback-nav"),
        dcc.Store(id=DISTRICT_ADCODE, data=None),
        html.H2(tt("workspace", lang)),
        *([html.P(message, className="district-report-head district-report-head--failed", style=FAILED)]
          if message else []),
        html.P(tt("choose_hint", lang), className="hint"),
        html.Div(_chooser(snap, None, lang), className="district-chooser-box"),
        html.Div(cards, className="district-links"),
    ], className="district-page district-choose")


def layout(ctx: AppContext, lang: str, adcode: str | None = None, **params: Any) -> html.Div:
    """The district workspace (``adcode`` given) or the district chooser."""
    snap = ctx.snapshot()
    if not len(snap.bundle["districts"]):
        return html.Div(html.P(t("empty", lang), className="empty"))
    names = _district_names(snap)
    if not adcode:
        return _chooser_page(snap, lang)
    if adcode not in names:
        return _chooser_page(snap, lang, tt("unknown", lang, code=adcode))
    return html.Div([
        dcc.Location(id=DISTRICT_GOTO, refresh="callback-nav"),
        dcc.Store(id=DISTRICT_ADCODE, data=adcode),
        dcc.Store(id=DISTRICT_VERSION),
        html.Div([html.Span(tt("workspace", lang), className="district-crumb"),
                  html.Div(_chooser(snap, adcode, lang), className="district-chooser-box")],
                 className="district-topline"),
        html.Div(_header(ctx, snap, adcode, lang), id=DISTRICT_HEADER, className="district-card district-head"),
        html.Div(_lists(snap, adcode, lang), id=DISTRICT_LISTS, className="district-card"),
        html.Div([_import_panel(lang), _export_panel(lang)], className="district-row"),
        html.Div(_completeness(snap, adcode, lang), id=DISTRICT_COMPLETENESS, className="district-card"),
    ], className="district-page")


_UPLOAD_CHECK = """
function(contents, filename) {
    if (!contents) { return window.dash_clientside.no_update; }
    var comma = contents.indexOf(",");
    var b64 = comma >= 0 ? contents.length - comma - 1 : contents.length;
    var size = Math.floor(b64 * 3 / 4);
    var out = {filename: filename, size: size, at: Date.now()};
    if (size > MAX_BYTES) { out.too_large = true; } else { out.contents = contents; }
    return out;
}
""".replace("MAX_BYTES", str(MAX_UPLOAD_BYTES))


def _known_layer(layer: str) -> str:
    """Return ``layer`` when it is an importable layer; otherwise answer HTTP 400 (a forged request)."""
    if layer not in IMPORT_LAYERS:
        raise BadRequest(f"{tt('unknown_layer', 'zh')} / {tt('unknown_layer', 'en')}: {str(layer)[:60]!r}")
    return layer


def register(app: dash.Dash, ctx: AppContext) -> None:
    """District workspace callbacks (they call geo/ and layers/; no SQL)."""

    @app.callback(Output(DISTRICT_GOTO, "pathname"), Input(DISTRICT_CHOOSER, "value"),
                  State(DISTRICT_ADCODE, "data"), prevent_initial_call=True)
    def go(code: str | None, current: str | None) -> Any:
        if not code or code == current:
            return dash.no_update
        return f"/district/{code}"

    @app.callback(Output(DISTRICT_IMPORT_EPSG, "disabled"), Input(DISTRICT_IMPORT_CRS, "value"))
    def epsg_box(choice: str | None) -> bool:
        return choice != "epsg"

    for key in LISTS:
        @app.callback(Output(f"{DISTRICT_COUNT_PREFIX}{key}", "children"),
                      Input(f"{DISTRICT_TABLE_PREFIX}{key}", "derived_virtual_data"),
                      State(f"{DISTRICT_TABLE_PREFIX}{key}", "data"), State(ids.LANG, "value"),
                      prevent_initial_call=True)
        def count(shown: list[dict[str, Any]] | None, data: list[dict[str, Any]] | None, lang: str) -> str:
            total = len(data or [])
            return tt("rows_shown", lang, shown=total if shown is None else len(shown), total=total)

    @app.callback(Output(DISTRICT_TEMPLATE_DOWNLOAD, "data"), Input(DISTRICT_TEMPLATE_BTN, "n_clicks"),
                  State(DISTRICT_IMPORT_LAYER, "value"), prevent_initial_call=True)
    def template(n: int | None, layer: str | None) -> Any:
        if not n or not layer:
            return dash.no_update
        spec = layer_spec(_known_layer(layer))
        with TemporaryDirectory(prefix="riskmap-template-") as folder:
            path = write_template(spec, Path(folder) / re.sub(r"[/\\]", "_", f"{spec.name}_{spec.zh}.xlsx"))
            return dcc.send_file(str(path))

    app.clientside_callback(_UPLOAD_CHECK, Output(DISTRICT_UPLOAD_PAYLOAD, "data"),
                            Input(DISTRICT_UPLOAD, "contents"), State(DISTRICT_UPLOAD, "filename"),
                            prevent_initial_call=True)

    @app.callback(Output(DISTRICT_IMPORT_REPORT, "children"), Output(DISTRICT_REJECTS, "data"),
                  Output(DISTRICT_VERSION, "data"), Output(DISTRICT_UPLOAD_BOX, "children"),
                  Output(DISTRICT_IMPORT_PREVIEWED, "data"), Output(DISTRICT_IMPORT_CONFIRM, "disabled"),
                  Output(DISTRICT_IMPORT_CONFIRM, "style"),
                  Input(DISTRICT_UPLOAD_PAYLOAD, "data"), Input(DISTRICT_IMPORT_LAYER, "value"),
                  Input(DISTRICT_IMPORT_CRS, "value"), Input(DISTRICT_IMPORT_EPSG, "value"),
                  Input(DISTRICT_IMPORT_SKIP, "value"), Input(DISTRICT_IMPORT_CONFIRM, "n_clicks"),
                  State(DISTRICT_IMPORT_PREVIEWED, "data"), State(ids.LANG, "value"), prevent_initial_call=True)
    def do_import(payload: dict[str, Any] | None, layer: str | None, crs: str | None, epsg: str | None,
                  skip: list[str] | None, confirm: int | None, previewed: dict[str, Any] | None,
                  lang: str) -> tuple[Any, ...]:
        """Choosing a file (or changing layer, CRS or skip) previews it; only the confirm button imports."""
        none = dash.no_update
        if not payload or not layer:
            return none, none, none, none, none, none, none
        _known_layer(layer)
        skip_invalid = "skip" in (skip or [])
        shown = {"at": payload.get("at"), "file": payload.get("filename"), "layer": layer, "crs": crs,
                 "epsg": epsg, "skip": skip_invalid}
        if dash.ctx.triggered_id == DISTRICT_IMPORT_CONFIRM:
            if not confirm:
                return none, none, none, none, none, none, none
            if previewed == shown:  # import exactly what the preview showed
                report, rejects, ok = run_import(ctx, payload, layer, crs, epsg, skip_invalid, lang)
                # a fresh Upload, so that the same file can be chosen again (e.g. after picking another layer)
                return report, rejects, (payload.get("at") if ok else none), _upload(lang), None, True, HIDDEN
        preview, importable = run_preview(ctx, payload, layer, crs, epsg, skip_invalid, lang)
        return preview, None, none, _upload(lang), shown, not importable, ({} if importable else HIDDEN)

    @app.callback(Output(DISTRICT_REJECTS_DOWNLOAD, "data"), Input(DISTRICT_REJECTS_BTN, "n_clicks"),
                  State(DISTRICT_REJECTS, "data"), prevent_initial_call=True)
    def rejects(n: int | None, data: dict[str, Any] | None) -> Any:
        return data if n and data else dash.no_update

    @app.callback(Output(DISTRICT_HEADER, "children"), Output(DISTRICT_LISTS, "children"),
                  Output(DISTRICT_COMPLETENESS, "children"), Input(DISTRICT_VERSION, "data"),
                  State(DISTRICT_ADCODE, "data"), State(DISTRICT_TABS, "value"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def refresh(version: Any, adcode: str | None, active: str | None, lang: str) -> tuple[Any, Any, Any]:
        if version is None or not adcode:
            return dash.no_update, dash.no_update, dash.no_update
        if not district_allowed(adcode):
            denied = html.P(DENIED.get(lang, DENIED["zh"]), className="district-error")
            return denied, [], []
        snap = ctx.snapshot()  # rebuilt for the new data version
        return (_header(ctx, snap, adcode, lang), _lists(snap, adcode, lang, active or "basic"),
                _completeness(snap, adcode, lang))

    @app.callback(Output(DISTRICT_EXPORT_DOWNLOAD, "data"), Output(DISTRICT_EXPORT_STATUS, "children"),
                  Input(DISTRICT_EXPORT_BTN, "n_clicks"), State(DISTRICT_ADCODE, "data"),
                  State(DISTRICT_EXPORT_FORMATS, "value"), State(DISTRICT_EXPORT_CRS, "value"),
                  State(DISTRICT_EXPORT_ENCODING, "value"), State(ids.LANG, "value"), prevent_initial_call=True)
    def export(n: int | None, adcode: str | None, formats: list[str] | None, crs: str | None,
               encoding: str | None, lang: str) -> tuple[Any, Any]:
        if not n or not adcode:
            return dash.no_update, dash.no_update
        chosen = [f for f in EXPORT_FORMATS if f in (formats or [])]
        if not chosen:
            return dash.no_update, html.Span(tt("no_format", lang), className="district-error")
        if not can("export"):
            return dash.no_update, html.Span(DENIED.get(lang, DENIED["zh"]), className="district-error")
        try:
            data, names = pack_zip(ctx, adcode, chosen, crs or "cgcs2000", encoding or "UTF-8")
        except (ValueError, AccessDenied) as exc:
            return dash.no_update, html.Span(tt("export_failed", lang, msg=str(exc)), className="district-error")
        name = f"riskmap_{adcode}_{dt.date.today():%Y%m%d}.zip"
        status = tt("export_done", lang, name=name, files=", ".join(names))
        return dcc.send_bytes(data, name), html.Span(status, id="district-export-done")

