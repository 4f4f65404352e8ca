"""Text of the parks page (/parks, 一园一策) and the cockpit's what-if and density panel, in Chinese and English."""

from __future__ import annotations

from dashboard.i18n import register_text

TEXT: dict[str, dict[str, str]] = {
    # parks page
    "nav_parks": {"zh": "园区", "en": "Parks"},
    "pk_title": {"zh": "园区一园一策", "en": "Parks (one plan per park)"},
    "pk_list": {"zh": "园区清单", "en": "Parks"},
    "pk_none": {"zh": "当前范围内没有园区。", "en": "No park in your area."},
    "pk_park": {"zh": "园区", "en": "Park"},
    "pk_all": {"zh": "全部企业（不限园区）", "en": "All enterprises (any park)"},
    "pk_grade": {"zh": "企业分级", "en": "Grade"},
    "pk_measures": {"zh": "园区风险指标", "en": "The park's figures"},
    "pk_pick": {"zh": "选择一个园区查看其四色风险源、指标和企业。", "en": "Choose a park to see its risk sources, "
                "figures and enterprises."},
    "pk_members": {"zh": "企业及分级", "en": "Enterprises and their grades"},
    "pk_count": {"zh": "共 {n} 家企业", "en": "{n} enterprises"},
    "pk_export": {"zh": "导出本园区清单(XLSX)", "en": "Export the park's list (XLSX)"},
    "pk_export_pick": {"zh": "请先选择一个园区再导出。", "en": "Choose a park before exporting."},
    "pk_boundary": {"zh": "园区边界", "en": "Park boundary"},
    "pk_map_title": {"zh": "园区风险源四色图", "en": "Risk sources of the park (four colours)"},
    "pk_enterprise_ring": {"zh": "筛选出的企业（黑框）", "en": "Filtered enterprises (black ring)"},
    "pk_col_name": {"zh": "园区名称", "en": "Park"},
    "pk_col_district": {"zh": "区县", "en": "District"},
    "pk_col_type": {"zh": "类型", "en": "Type"},
    "pk_col_level": {"zh": "级别", "en": "Level"},
    "pk_col_enterprises": {"zh": "企业数", "en": "Enterprises"},
    "pk_col_sources": {"zh": "风险源", "en": "Risk sources"},
    "pk_col_major": {"zh": "重大", "en": "Major"},
    "pk_col_highest": {"zh": "最高等级", "en": "Highest level"},
    "pk_col_enterprise": {"zh": "企业名称", "en": "Enterprise"},
    "pk_col_risk": {"zh": "风险等级", "en": "Risk level"},
    "pk_col_grade": {"zh": "分级", "en": "Grade"},
    "pk_col_total": {"zh": "分数", "en": "Points"},
    "pk_col_inspections": {"zh": "年检查次数", "en": "Inspections a year"},
    "pk_col_why": {"zh": "分级说明", "en": "Why"},
    # cockpit: what-if (模拟) and the hexagon density grid
    "wi_title": {"zh": "五色评级模拟（仅供推演，不保存）", "en": "Five-colour what-if (a simulation, never stored)"},
    "wi_hint": {"zh": "选择区县，修改其指标（单位见括号），即可看到模拟后的分数、等级和排名。"
                      "评分为全市相对评分，其他区县的分数也会随之变化。",
                "en": "Choose a district and change its indicators (units in brackets) to see the simulated "
                      "score, class and rank. Scores are relative to the city, so other districts move too."},
    "wi_district": {"zh": "区县", "en": "District"},
    "wi_close_n": {"zh": "再整改重大隐患(项)", "en": "Close more major hazards"},
    "wi_close": {"zh": "代入", "en": "Apply"},
    "wi_reset": {"zh": "恢复现状", "en": "Reset"},
    "wi_current": {"zh": "现状", "en": "Current"},
    "wi_simulated": {"zh": "模拟", "en": "What-if"},
    "wi_score": {"zh": "分数", "en": "Score"},
    "wi_class": {"zh": "等级", "en": "Class"},
    "wi_rank": {"zh": "排名", "en": "Rank"},
    "wi_rank_of": {"zh": "第 {rank} / {n} 名", "en": "{rank} of {n}"},
    "wi_moved": {"zh": "等级随之变化的其他区县：{names}", "en": "Other districts whose class changes: {names}"},
    "wi_pick": {"zh": "请选择一个区县。", "en": "Choose a district."},
    "wi_city_only": {"zh": "五色评分是全市相对评分，模拟需要全市各区县的指标，区县账号无法模拟。",
                     "en": "The five-colour score is relative to the city: a simulation needs every district's "
                           "indicators, which a district account does not see."},
    "wi_bad": {"zh": "指标值无效：{error}", "en": "Invalid value: {error}"},
    "wi_close_refused": {"zh": "无法代入：{error}", "en": "Cannot apply: {error}"},
    "wi_map_title": {"zh": "模拟五色图与风险源密度", "en": "What-if five colours and risk-source density"},
    "wi_hex_on": {"zh": "显示风险源密度六边形网格", "en": "Show the hexagon density grid"},
    "wi_hex_size": {"zh": "网格大小", "en": "Cell size"},
    "wi_hex_km": {"zh": "{km:g} 公里", "en": "{km:g} km"},
    "wi_hex_legend": {"zh": "风险源密度网格：颜色为格内最高风险等级，悬停可见风险源数",
                      "en": "Risk-source density grid: colour = highest level in the cell; hover for the count"},
    "wi_hex_tip": {"zh": "风险源 {n} 个（重大 {major}、较大 {significant}、一般 {general}、低 {low}）",
                   "en": "{n} risk sources (major {major}, significant {significant}, general {general}, low {low})"},
}
register_text(TEXT)
