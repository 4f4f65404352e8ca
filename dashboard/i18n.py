"""UI strings in Chinese (default) and English."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "昆明市安全风险一张图", "en": "Kunming Work-Safety Risk Map"},
    "demo": {"zh": "演示数据：区县边界为真实数据，企业与风险点为生成数据",
             "en": "Demo data: real district boundaries, generated enterprises and risk points"},
    "nav_cockpit": {"zh": "一张图", "en": "Cockpit"},
    "nav_planner": {"zh": "规划审查", "en": "Planner"},
    "nav_district": {"zh": "区县工作台", "en": "District"},
    "districts": {"zh": "区县", "en": "Districts"},
    "enterprises": {"zh": "企业", "en": "Enterprises"},
    "tailings_dams": {"zh": "尾矿库", "en": "Tailings ponds"},
    "pipelines": {"zh": "长输管道", "en": "Pipelines"},
    "hcas": {"zh": "高后果区", "en": "HCAs"},
    "risk_points": {"zh": "风险点", "en": "Risk points"},
    "protection_targets": {"zh": "防护目标", "en": "Protection targets"},
    "findings": {"zh": "检查发现", "en": "Findings"},
    "hidden_hazards": {"zh": "隐患", "en": "Hidden hazards"},
    "kpi_major": {"zh": "重大风险", "en": "Major risks"},
    "kpi_significant": {"zh": "较大风险", "en": "Significant risks"},
    "kpi_hazards": {"zh": "未销号重大隐患", "en": "Open major hazards"},
    "kpi_rate": {"zh": "隐患整改率", "en": "Rectification rate"},
    "kpi_violations": {"zh": "违规发现", "en": "Violations"},
    "kpi_hca": {"zh": "高后果区(km)", "en": "HCA (km)"},
    "kpi_overhead": {"zh": "头顶库", "en": "Overhead ponds"},
    "mode_four": {"zh": "四色图(风险源)", "en": "Four-colour (sources)"},
    "mode_five": {"zh": "五色图(区县评级)", "en": "Five-colour (districts)"},
    "city": {"zh": "全市", "en": "Whole city"},
    "back": {"zh": "返回全市", "en": "Back to city"},
    "adcode": {"zh": "区划代码", "en": "Code"},
    "name": {"zh": "名称", "en": "Name"},
    "class": {"zh": "五色等级", "en": "Class"},
    "score": {"zh": "得分", "en": "Score"},
    "n_major": {"zh": "重大", "en": "Major"},
    "n_significant": {"zh": "较大", "en": "Significant"},
    "why": {"zh": "为什么是这个颜色？", "en": "Why this colour?"},
    "pick_district": {"zh": "点击地图上的区县或表格中的一行查看详情。",
                      "en": "Click a district on the map or a row in the table for details."},
    "method": {"zh": "评级方法(项目自定，非国家标准)", "en": "Method (project-defined, not a national standard)"},
    "chart_title": {"zh": "各区县风险源数量(按等级)", "en": "Risk sources by district and level"},
    "chart_title_one": {"zh": "风险源数量(按类型与等级)", "en": "Risk sources by type and level"},
    "contrib": {"zh": "指标贡献(分)", "en": "Indicator contributions (points)"},
    "empty": {"zh": "数据库中还没有数据。运行 riskmap demo 导入演示数据。",
              "en": "The store is empty. Run `riskmap demo` to load the demo data."},
    "source_list": {"zh": "风险源清单", "en": "Risk sources"},
    "type": {"zh": "类型", "en": "Type"},
    "level": {"zh": "风险等级", "en": "Level"},
    "district": {"zh": "区县", "en": "District"},
    "enterprise": {"zh": "企业", "en": "Enterprise"},
    "tailings_dam": {"zh": "尾矿库", "en": "Tailings pond"},
    "hca": {"zh": "高后果区", "en": "HCA"},
    "risk_point": {"zh": "风险点", "en": "Risk point"},
}


def t(key: str, lang: str) -> str:
    """Return the UI string ``key`` in ``lang`` (falls back to Chinese)."""
    entry = TEXT[key]
    return entry.get(lang, entry["zh"])
