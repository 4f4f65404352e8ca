"""The district workspace's strings (added to :func:`dashboard.i18n.t`) and layer and field names."""

from __future__ import annotations

from dashboard.i18n import register_text
from geo.layer_specs import LAYERS

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
    "import_notes": {"zh": "读取说明", "en": "Notes"},
    "issues_ok": {"zh": "提示与被拒绝的行", "en": "Warnings and rejected rows"},
    "col_file": {"zh": "文件", "en": "File"},
    "col_row": {"zh": "行", "en": "Row"},
    "col_field": {"zh": "字段", "en": "Field"},
    "issue_severity": {"zh": "级别", "en": "Severity"},
    "col_message": {"zh": "说明", "en": "Message"},
    "issue_error": {"zh": "错误", "en": "error"},
    "issue_warning": {"zh": "提示", "en": "warning"},
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
    "c_last_update": {"zh": "最近更新(北京时间)", "en": "Last update (Beijing time)"},
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


register_text(TEXT)


def _layer_name(layer: str, lang: str) -> str:
    spec = LAYERS[layer]
    return spec.zh if lang == "zh" else spec.en


def _field_name(layer: str, field: str, lang: str) -> str:
    try:
        f = LAYERS[layer].field(field)
    except KeyError:
        return field
    return f.zh if lang == "zh" else f.en
