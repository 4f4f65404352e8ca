"""The planner page's strings (added to :func:`dashboard.i18n.t`) and how it writes lengths."""

from __future__ import annotations

from typing import Any

from dashboard.i18n import register_text

TEXT: dict[str, dict[str, str]] = {
    "intro": {"zh": "违规台账：点击一行在地图上定位并查看详情、变更整改状态。"
                    "场地预审：在地图上点选位置、绘制地块或上传文件，选择拟建用途后点「审查」。",
              "en": "Register: click a row to locate the finding on the map, see its detail and change its status. "
                    "Pre-check: click the map, draw a parcel or upload a file, choose the intended use, press Check."},
    "tab_precheck": {"zh": "场地预审", "en": "Site pre-check"},
    "tab_finding": {"zh": "发现详情", "en": "Finding detail"},
    "register": {"zh": "违规台账", "en": "Violations register"},
    "count": {"zh": "共 {n} 条", "en": "{n} findings"},
    "f_rule": {"zh": "全部规则", "en": "All rules"},
    "f_district": {"zh": "全部区县", "en": "All districts"},
    "f_status": {"zh": "整改状态", "en": "Status"},
    "f_level": {"zh": "风险源四色等级", "en": "Risk sources by level"},
    "c_rule_code": {"zh": "规则", "en": "Rule"},
    "c_rule": {"zh": "规则名称", "en": "Rule name"},
    "c_clause": {"zh": "条款", "en": "Clause"},
    "c_district": {"zh": "区县", "en": "District"},
    "c_pair": {"zh": "风险源 → 对象", "en": "Subject → object"},
    "c_measured": {"zh": "实测(m)", "en": "Measured (m)"},
    "c_required": {"zh": "要求(m)", "en": "Required (m)"},
    "c_verdict": {"zh": "结论", "en": "Verdict"},
    "c_status": {"zh": "整改状态", "en": "Status"},
    "c_first": {"zh": "首次发现", "en": "First found"},
    "c_last": {"zh": "最近发现", "en": "Last found"},
    "c_source": {"zh": "来源 / 距离", "en": "Source / distance"},
    "c_detail": {"zh": "说明", "en": "Detail"},
    "pick_finding": {"zh": "在下方台账中点击一行，或点击地图上的黑色发现点。",
                     "en": "Click a row of the register below, or a black finding dot on the map."},
    "subject": {"zh": "风险源", "en": "Subject"},
    "object": {"zh": "对象", "en": "Object"},
    "measured": {"zh": "实测距离", "en": "Measured"},
    "required": {"zh": "要求距离", "en": "Required"},
    "clause": {"zh": "依据条款", "en": "Clause"},
    "rule_version": {"zh": "规则集版本", "en": "Rule set"},
    "found": {"zh": "首次 / 最近发现", "en": "First / last found"},
    "status_now": {"zh": "当前状态", "en": "Current status"},
    "new_status": {"zh": "变更为", "en": "Change to"},
    "note": {"zh": "备注(可选)", "en": "Note (optional)"},
    "save": {"zh": "保存状态", "en": "Save status"},
    "saved": {"zh": "已将第 {id} 号发现的状态改为「{status}」。", "en": "Finding {id} is now “{status}”."},
    "site_how": {"zh": "选择场地：点击地图(点)、用左上角工具绘制地块，或上传文件(GeoJSON、KML、压缩的 Shapefile)。",
                 "en": "Choose the site: click the map (point), draw a parcel with the tool at the top left, "
                       "or upload a file (GeoJSON, KML, zipped Shapefile)."},
    "no_site": {"zh": "尚未选择场地。", "en": "No site chosen yet."},
    "site": {"zh": "场地", "en": "Site"},
    "from_click": {"zh": "地图点选", "en": "map click"},
    "from_draw": {"zh": "绘制地块", "en": "drawn parcel"},
    "from_upload": {"zh": "上传文件", "en": "uploaded file"},
    "from_coords": {"zh": "输入坐标", "en": "typed coordinates"},
    "upload": {"zh": "拖入或点击上传地块文件", "en": "Drop or click to upload a parcel file"},
    "uploaded": {"zh": "已读取 {name}", "en": "Read {name}"},
    "upload_error": {"zh": "无法使用该文件：", "en": "Cannot use this file: "},
    "lon": {"zh": "经度", "en": "Longitude"},
    "lat": {"zh": "纬度", "en": "Latitude"},
    "goto": {"zh": "使用坐标", "en": "Use coordinates"},
    "bad_coords": {"zh": "请输入昆明范围内的经纬度(如 102.35, 24.91)。",
                   "en": "Enter a longitude and latitude (e.g. 102.35, 24.91)."},
    "use": {"zh": "拟建用途", "en": "Intended use"},
    "population": {"zh": "人数(可选)", "en": "Population (optional)"},
    "households": {"zh": "户数(可选)", "en": "Households (optional)"},
    "check": {"zh": "审查", "en": "Check"},
    "need_site": {"zh": "请先选择场地。", "en": "Choose a site first."},
    "gb_class": {"zh": "GB 36894 防护目标类别", "en": "GB 36894 target class"},
    "reasons": {"zh": "理由({n} 项)", "en": "Reasons ({n})"},
    "no_reasons": {"zh": "未发现任何规则限制。", "en": "No rule restricts this site."},
    "notes": {"zh": "备注", "en": "Notes"},
    "unconfirmed": {"zh": "※ 阈值尚未确认，使用前须以标准原文核实。",
                    "en": "※ threshold unconfirmed: verify against the standard before use."},
    "pdf": {"zh": "下载预审意见(PDF)", "en": "Download reasons (PDF)"},
    "pdf_name": {"zh": "场地预审意见", "en": "site-precheck"},
    "rings": {"zh": "虚线圈：各理由的要求距离；红色为构成限制的理由。",
              "en": "Dashed rings: each reason's required distance; red ones restrict the site."},
    "error": {"zh": "预审失败：", "en": "Pre-check failed: "},
}


register_text(TEXT)


def fmt_m(value: Any) -> str:
    """Metres with one decimal, or a dash for a missing value."""
    return "—" if value is None or value != value else f"{float(value):,.1f}"


def colon(lang: str) -> str:
    """The colon after a label in ``lang``."""
    return "：" if lang == "zh" else ": "


def with_m(value: Any) -> str:
    """Metres with one decimal and the unit, or a dash."""
    text = fmt_m(value)
    return text if text == "—" else f"{text} m"
