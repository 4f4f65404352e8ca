"""UI strings in Chinese (default) and English, and the one function that looks them up: :func:`t`.

The strings shared by every page are in :data:`TEXT`; a page keeps its own table next to it and adds it
with :func:`register_text` when the page module is imported. Keys are unique across all tables.
"""

from __future__ import annotations

from typing import Any

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "昆明市安全风险一张图", "en": "Kunming Work-Safety Risk Map"},
    "demo": {"zh": "演示数据：区县边界为真实数据，企业与风险点为生成数据",
             "en": "Demo data: real district boundaries, generated enterprises and risk points"},
    "nav_cockpit": {"zh": "一张图", "en": "Cockpit"},
    "nav_planner": {"zh": "规划审查", "en": "Planner"},
    "nav_district": {"zh": "区县工作台", "en": "District"},
    "logout": {"zh": "退出", "en": "Sign out"},
    "change_password": {"zh": "修改密码", "en": "Password"},
    "second_factor": {"zh": "双因素认证", "en": "Two-factor"},
    "role_leader": {"zh": "领导", "en": "Leader"},
    "role_admin": {"zh": "管理员", "en": "Administrator"},
    "role_planner": {"zh": "规划审查", "en": "Planner"},
    "role_district_officer": {"zh": "区县工作人员", "en": "District officer"},
    "role_viewer": {"zh": "只读", "en": "Viewer"},
    "districts": {"zh": "区县", "en": "Districts"},
    "enterprises": {"zh": "企业", "en": "Enterprises"},
    "tailings_dams": {"zh": "尾矿库", "en": "Tailings ponds"},
    "pipelines": {"zh": "长输管道", "en": "Pipelines"},
    "hcas": {"zh": "高后果区", "en": "HCAs"},
    "risk_points": {"zh": "风险点", "en": "Risk points"},
    "protection_targets": {"zh": "防护目标", "en": "Protection targets"},
    "findings": {"zh": "检查发现", "en": "Findings"},
    "hidden_hazards": {"zh": "隐患", "en": "Hidden hazards"},
    "kpi_major": {"zh": "重大风险源", "en": "Major risk sources"},
    "kpi_significant": {"zh": "较大风险源", "en": "Significant risk sources"},
    "kpi_hazards": {"zh": "未整改重大隐患", "en": "Open major hidden hazards"},
    "kpi_rate": {"zh": "隐患整改率", "en": "Rectification rate"},
    "kpi_violations": {"zh": "违规发现(未闭环)", "en": "Open violations"},
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
    "n_major": {"zh": "重大风险源", "en": "Major sources"},
    "n_significant": {"zh": "较大风险源", "en": "Significant sources"},
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
    # audit log (administrators)
    "nav_audit": {"zh": "审计日志", "en": "Audit log"},
    "audit_intro": {"zh": "谁在何时做了什么：登录、导入、导出、检查、状态变更、预检、账号与规则修改。"
                          "日志只能追加，不能修改或删除。",
                    "en": "Who did what and when: log-ins, imports, exports, check runs, status changes, pre-checks, "
                          "account and rule changes. The log is append-only."},
    "audit_actor": {"zh": "操作人", "en": "User"},
    "audit_actor_placeholder": {"zh": "操作人(部分匹配)", "en": "Part of the name"},
    "audit_action": {"zh": "操作类型", "en": "Action"},
    "audit_all_actions": {"zh": "全部操作", "en": "All actions"},
    "audit_district": {"zh": "区县", "en": "District"},
    "audit_all_districts": {"zh": "全部区县", "en": "All districts"},
    "audit_dates": {"zh": "日期(北京时间)", "en": "Dates (Beijing time)"},
    "audit_from": {"zh": "开始日期", "en": "From"},
    "audit_to": {"zh": "结束日期", "en": "To"},
    "audit_col_at": {"zh": "时间", "en": "Time"},
    "audit_col_actor": {"zh": "操作人", "en": "User"},
    "audit_col_action": {"zh": "操作", "en": "Action"},
    "audit_col_target": {"zh": "对象", "en": "Target"},
    "audit_col_district": {"zh": "区县", "en": "District"},
    "audit_col_details": {"zh": "详情", "en": "Details"},
    "audit_col_action_code": {"zh": "操作代码", "en": "Action code"},
    "audit_col_adcode": {"zh": "区划代码", "en": "District code"},
    "audit_count": {"zh": "共 {n} 条记录 · 第 {page}/{pages} 页", "en": "{n} entries · page {page} of {pages}"},
    "audit_csv": {"zh": "导出 CSV", "en": "Export CSV"},
    "audit_csv_name": {"zh": "审计日志", "en": "audit-log"},
    "audit_bad_date": {"zh": "日期「{value}」无效，请使用 YYYY-MM-DD 格式(如 2026-11-24)。",
                       "en": "The date '{value}' is not valid; use YYYY-MM-DD (e.g. 2026-11-24)."},
    "audit_bad_range": {"zh": "开始日期 {start} 晚于结束日期 {end}。",
                        "en": "The start date {start} is after the end date {end}."},
    "audit_bad_actor": {"zh": "操作人筛选过长(最多 {n} 个字符)。",
                        "en": "The user filter is too long (at most {n} characters)."},
    "audit_bad_district": {"zh": "区县筛选无效。", "en": "The district filter is not valid."},
    "audit_bad_action": {"zh": "操作类型筛选无效。", "en": "The action filter is not valid."},
    "audit_failed": {"zh": "读取审计日志失败：{msg}", "en": "Could not read the audit log: {msg}"},
    "action_login": {"zh": "登录", "en": "Log-in"},
    "action_import": {"zh": "导入", "en": "Import"},
    "action_export": {"zh": "导出", "en": "Export"},
    "action_check_run": {"zh": "运行检查", "en": "Check run"},
    "action_finding_status": {"zh": "违规状态变更", "en": "Finding status change"},
    "action_precheck": {"zh": "选址预检", "en": "Site pre-check"},
    "action_user_add": {"zh": "新增账号", "en": "Account added"},
    "action_user_disable": {"zh": "停用账号", "en": "Account disabled"},
    "action_user_enable": {"zh": "启用账号", "en": "Account enabled"},
    "action_rule_change": {"zh": "规则修改", "en": "Rule change"},
    "action_audit_export": {"zh": "导出审计日志", "en": "Audit log export"},
    "action_hazard_report": {"zh": "上报隐患", "en": "Hazard reported"},
    "action_hazard_step": {"zh": "隐患办理", "en": "Hazard step"},
    "action_hazard_remind": {"zh": "催办隐患", "en": "Hazard reminder (催办)"},
    "action_inspection": {"zh": "排查记录", "en": "Inspection"},
    "action_dispatch_submit": {"zh": "报送调度表", "en": "Dispatch table sent"},
    "action_self_report_submit": {"zh": "企业月报", "en": "Self-report sent"},
    # check rules: local values (administrators change, planners read)
    "nav_rules": {"zh": "检查规则", "en": "Check rules"},
    "rules_intro": {"zh": "检查规则的数值来自随系统发布的规则文件(国家/行业标准)。核实正式文本或地方规定更严时，"
                          "管理员可在此修改本地值并说明原因；每次修改都记入审计日志，之后的检查与预审使用新值。",
                    "en": "Rule values come from the rule file shipped with RiskMap (national and industry standards). "
                          "When the official text is verified or a local regulation is stricter, an administrator "
                          "changes the local value here with a reason; every change is audited and later checks "
                          "and pre-checks use it."},
    "rules_version": {"zh": "当前规则版本", "en": "Rule set in force"},
    "rules_file_version": {"zh": "(规则文件 {version})", "en": " (rule file {version})"},
    "rules_changed_count": {"zh": "本地修改 {n} 项", "en": "{n} value(s) changed locally"},
    "rules_skipped": {"zh": "未应用的本地值：{note}", "en": "Local value not applied: {note}"},
    "rules_family": {"zh": "规则类别", "en": "Rule family"},
    "rules_all_families": {"zh": "全部类别", "en": "All families"},
    "rules_family_safety_distance": {"zh": "外部安全距离", "en": "External safety distance"},
    "rules_family_pipeline": {"zh": "油气管道", "en": "Pipelines"},
    "rules_family_hca": {"zh": "地区等级与高后果区", "en": "Location class and HCAs"},
    "rules_family_tailings": {"zh": "尾矿库", "en": "Tailings ponds"},
    "rules_family_siting": {"zh": "选址禁限", "en": "Siting bans"},
    "rules_family_mhs": {"zh": "重大危险源", "en": "Major hazard installations"},
    "rules_family_code_separation": {"zh": "规范防火间距", "en": "Code fire separations"},
    "rules_show": {"zh": "显示", "en": "Show"},
    "rules_only_unconfirmed": {"zh": "只看待核实", "en": "Only unconfirmed"},
    "rules_only_changed": {"zh": "只看已修改", "en": "Only changed"},
    "rules_count": {"zh": "共 {n} 项(全部 {total} 项)", "en": "{n} of {total} values"},
    "rules_col_code": {"zh": "规则", "en": "Rule"},
    "rules_col_name": {"zh": "规则名称", "en": "Rule name"},
    "rules_col_clause": {"zh": "条款", "en": "Clause"},
    "rules_col_confidence": {"zh": "可信度", "en": "Confidence"},
    "rules_col_path": {"zh": "参数", "en": "Value"},
    "rules_col_file_value": {"zh": "国家/行业标准值", "en": "Standard value (rule file)"},
    "rules_col_current": {"zh": "当前值", "en": "Value in force"},
    "rules_col_change": {"zh": "修改人/时间/原因", "en": "Changed by, when (Beijing time), why"},
    "rules_confirmed": {"zh": "已核实", "en": "Confirmed"},
    "rules_unconfirmed": {"zh": "▲ 待核实", "en": "▲ Unconfirmed"},
    "rules_yes": {"zh": "是", "en": "yes"},
    "rules_no": {"zh": "否", "en": "no"},
    "rules_pick": {"zh": "在表格中选择一行，查看该值的来源与修改记录。",
                   "en": "Select a row of the table to see where the value comes from and who changed it."},
    "rules_pick_admin": {"zh": "在表格中选择一行，修改该值或恢复标准值。",
                         "en": "Select a row of the table to change the value or restore the standard value."},
    "rules_unconfirmed_note": {"zh": "待核实：规则文件中的数值尚未对照正式文本核实，请核实后再使用或修改。",
                               "en": "Unconfirmed: the rule file's value has not been checked against the official "
                                     "text; verify it before relying on it or changing it."},
    "rules_last_change": {"zh": "{actor} 于 {at} 修改：{reason}", "en": "Changed by {actor} on {at}: {reason}"},
    "rules_not_changed": {"zh": "未修改，使用规则文件的值。", "en": "Not changed: the rule file's value applies."},
    "rules_new_value": {"zh": "新值", "en": "New value"},
    "rules_inclusive_help": {"zh": "是：恰在阈值处也算违规(距离 ≤ 阈值)；否：恰在阈值处不算违规(距离 < 阈值)。",
                             "en": "Yes: a feature exactly at the threshold is a finding (distance ≤ threshold); "
                                   "no: it is not (distance < threshold)."},
    "rules_reason": {"zh": "修改原因(必填)", "en": "Reason (required)"},
    "rules_reason_placeholder": {"zh": "如：昆明市管道保护办法第12条(至少 4 个字)",
                                 "en": "e.g. the local regulation and its clause (at least 4 characters)"},
    "rules_save": {"zh": "保存", "en": "Save"},
    "rules_reset": {"zh": "恢复标准值", "en": "Restore standard value"},
    "rules_admin_only": {"zh": "只有管理员可以修改检查规则的值。", "en": "Only administrators may change rule values."},
    "rules_need_value": {"zh": "请输入新值。", "en": "Enter the new value."},
    "rules_reason_long": {"zh": "修改原因过长(最多 {n} 个字符)。",
                          "en": "The reason is too long (at most {n} characters)."},
    "rules_need_pick": {"zh": "请先在表格中选择一行。", "en": "Select a row of the table first."},
    "rules_saved": {"zh": "已保存：{code} {path} = {value}；当前规则版本 {version}",
                    "en": "Saved: {code} {path} = {value}; rule set in force: {version}"},
    "rules_was_reset": {"zh": "已恢复标准值：{code} {path} = {value}；当前规则版本 {version}",
                        "en": "Standard value restored: {code} {path} = {value}; rule set in force: {version}"},
    "rules_nothing_to_reset": {"zh": "{code} {path} 没有本地值，规则文件的值已在使用。",
                               "en": "{code} {path} has no local value: the rule file's value already applies."},
    # the campaign (hazards, inspections, the 调度表); page strings in dashboard/pages/campaign_text.py
    "nav_hazards": {"zh": "隐患排查治理", "en": "Hazards"},
    "nav_inspect": {"zh": "排查", "en": "Inspect"},
    "role_enterprise": {"zh": "企业", "en": "Enterprise"},
    "role_city_supervisor": {"zh": "市级督办", "en": "City supervisor"},
}


def register_text(table: dict[str, dict[str, str]]) -> None:
    """Add a page's strings to the lookup of :func:`t`.

    Raises ``ValueError`` when a key is already taken by a different string (keys are global).
    """
    clashes = sorted(k for k, v in table.items() if k in TEXT and TEXT[k] != v)
    if clashes:
        raise ValueError(f"text keys registered twice with different strings: {clashes}")
    TEXT.update(table)


def has_text(key: str) -> bool:
    """Whether :func:`t` knows ``key``."""
    return key in TEXT


def t(key: str, lang: str = "zh", **values: object) -> str:
    """Return the UI string ``key`` in ``lang`` (falls back to Chinese), formatted with ``values`` if any."""
    entry = TEXT[key]
    text = entry.get(lang, entry["zh"])
    return text.format(**values) if values else text


#: Built-in strings of dcc.Dropdown (search box, clear buttons, "select all") in Chinese.
DROPDOWN_ZH = {"search": "搜索", "clear_search": "清除搜索", "clear_selection": "清除选择",
               "no_options_found": "无匹配项", "select_all": "全选", "deselect_all": "全不选",
               "selected_count": "已选 {num_selected} 项"}


def dropdown_labels(lang: str) -> Any:
    """``labels`` for every dcc.Dropdown: Chinese, or {} for the component's English."""
    return dict(DROPDOWN_ZH) if lang == "zh" else {}


def table_filter_options(lang: str) -> dict[str, str]:
    """``filter_options`` for every DataTable with a filter row (placeholder in ``lang``, case-insensitive)."""
    return {"case": "insensitive", "placeholder_text": "筛选…" if lang == "zh" else "filter…"}
