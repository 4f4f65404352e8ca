"""UI strings of the campaign pages (隐患台账, 隐患详情, 排查记录, 调度表), added to :func:`dashboard.i18n.t`.

Labels of states, actions, levels, sources and fields are not here: they come with their tables
(``campaign/lifecycle.yaml``, ``campaign/reference.yaml``, ``campaign/dispatch.yaml``).
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.i18n import register_text

TEXT: dict[str, dict[str, str]] = {
    "hz_title": {"zh": "隐患排查治理", "en": "Hidden hazards"},
    "hz_inbox": {"zh": "待办", "en": "Inbox"},
    "hz_inbox_empty": {"zh": "暂无待办事项", "en": "Nothing waiting"},
    "hz_report_new": {"zh": "上报隐患", "en": "Report a hazard"},
    "hz_inspect": {"zh": "录入排查记录", "en": "Record an inspection"},
    "hz_dispatch": {"zh": "月度调度表", "en": "Monthly dispatch table"},
    "hz_filter_district": {"zh": "区县", "en": "District"},
    "hz_filter_severity": {"zh": "隐患级别", "en": "Level"},
    "hz_filter_source": {"zh": "来源", "en": "Source"},
    "hz_filter_state": {"zh": "状态", "en": "State"},
    "hz_filter_industry": {"zh": "行业领域", "en": "Industry"},
    "hz_filter_flags": {"zh": "仅显示", "en": "Only"},
    "hz_overdue": {"zh": "逾期", "en": "Overdue"},
    "hz_supervised": {"zh": "挂牌督办", "en": "Under supervision"},
    "hz_all": {"zh": "全部", "en": "All"},
    "hz_count": {"zh": "共 {n} 项隐患（{overdue} 项逾期）", "en": "{n} hazards ({overdue} overdue)"},
    "hz_download": {"zh": "下载隐患台账(XLSX)", "en": "Download the register (XLSX)"},
    "hz_ledger_title": {"zh": "隐患台账（截至 {date}）", "en": "Hazard register (as of {date})"},
    "hz_legend": {"zh": "图例（状态）", "en": "Legend (state)"},
    "hz_legend_overdue": {"zh": "红圈：逾期", "en": "Red ring: overdue"},
    "col_code": {"zh": "编号", "en": "Code"},
    "col_description": {"zh": "隐患", "en": "Hazard"},
    "col_enterprise": {"zh": "所属企业", "en": "Enterprise"},
    "col_severity": {"zh": "级别", "en": "Level"},
    "col_source": {"zh": "来源", "en": "Source"},
    "col_state": {"zh": "状态", "en": "State"},
    "col_deadline": {"zh": "整改时限", "en": "Deadline"},
    "col_overdue": {"zh": "逾期", "en": "Overdue"},
    "col_supervision": {"zh": "督办", "en": "Supervision"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    # hazard page
    "hz_back": {"zh": "返回隐患台账", "en": "Back to the register"},
    "hz_not_found": {"zh": "隐患不存在，或不在本账号范围内", "en": "No such hazard in your scope"},
    "hz_facts": {"zh": "隐患信息", "en": "Facts"},
    "hz_timeline": {"zh": "处理过程", "en": "History"},
    "hz_attachments": {"zh": "附件", "en": "Attachments"},
    "hz_actions": {"zh": "办理", "en": "Act"},
    "hz_no_actions": {"zh": "当前账号在此状态下无可办理事项", "en": "Nothing for your account to do in this state"},
    "hz_choose_action": {"zh": "选择办理事项", "en": "Choose an action"},
    "hz_comment": {"zh": "说明", "en": "Comment"},
    "hz_files": {"zh": "拖入或点击选择照片/PDF（每个不超过 10 MB）", "en": "Drop or choose photos/PDFs (10 MB each)"},
    "hz_files_chosen": {"zh": "已选择：{names}", "en": "Chosen: {names}"},
    "hz_submit": {"zh": "提交", "en": "Submit"},
    "hz_done": {"zh": "已办理：{action}，当前状态：{to}", "en": "Done: {action}; the hazard is now {to}"},
    "hz_step_line": {"zh": "{at} · {actor}（{role}）· {action}：{from_} → {to}",
                     "en": "{at} · {actor} ({role}) · {action}: {from_} → {to}"},
    "hz_import_line": {"zh": "{at} · 导入台账（{to}）", "en": "{at} · imported from a register ({to})"},
    "hz_overdue_badge": {"zh": "逾期 {days} 天", "en": "{days} days overdue"},
    # report form
    "hz_new_title": {"zh": "上报隐患", "en": "Report a hazard"},
    "hz_position": {"zh": "位置：点击地图选择，或使用定位", "en": "Position: click the map, or use your location"},
    "hz_locate": {"zh": "使用当前位置", "en": "Use my location"},
    "hz_position_value": {"zh": "已选位置：{lon:.5f}, {lat:.5f}", "en": "Position: {lon:.5f}, {lat:.5f}"},
    "hz_no_position": {"zh": "请先在地图上选择位置", "en": "Choose the position on the map first"},
    "hz_enterprise": {"zh": "所属企业", "en": "Enterprise"},
    "hz_reported": {"zh": "已上报：{code}", "en": "Reported: {code}"},
    # self-report
    "sr_title": {"zh": "企业月度自查报告", "en": "Monthly self-report"},
    "sr_month": {"zh": "报告月份", "en": "Month"},
    "sr_signed": {"zh": "法定代表人签字（姓名）", "en": "Signed by the legal representative (name)"},
    "sr_submit": {"zh": "提交月报", "en": "Submit the report"},
    "sr_done": {"zh": "{period} 月报已提交（第 {rev} 次）：{figures}",
                "en": "{period} report sent (revision {rev}): {figures}"},
    "sr_history": {"zh": "已提交的月报", "en": "Reports sent"},
    # inspection page
    "in_title": {"zh": "排查记录", "en": "Inspection record"},
    "in_kind": {"zh": "类型", "en": "Kind"},
    "in_unit": {"zh": "排查单位", "en": "Inspecting unit"},
    "in_inspector": {"zh": "排查人员", "en": "Inspector"},
    "in_time": {"zh": "排查时间（YYYY-MM-DD HH:MM）", "en": "Time (YYYY-MM-DD HH:MM)"},
    "in_place": {"zh": "排查地点", "en": "Place"},
    "in_major": {"zh": "发现重大事故隐患", "en": "A major hazard was found"},
    "in_description": {"zh": "隐患描述", "en": "Hazard description"},
    "in_disposal": {"zh": "重大隐患处置情况及建议", "en": "Disposal and suggestions"},
    "in_remarks": {"zh": "备注", "en": "Remarks"},
    "in_spot_items": {"zh": "抽查发现的问题", "en": "Problems found in the spot check"},
    "in_photos": {"zh": "排查图片（拍照或选择，JPEG/PNG/PDF，每个不超过 10 MB）",
                  "en": "Photos (camera or files; JPEG/PNG/PDF, 10 MB each)"},
    "in_save": {"zh": "保存排查记录", "en": "Save the record"},
    "in_saved": {"zh": "排查记录已保存（编号 {id}）", "en": "Record saved (no. {id})"},
    "in_to_hazard": {"zh": "上报为隐患", "en": "Report it as a hazard"},
    "in_bad_time": {"zh": "排查时间应为 YYYY-MM-DD HH:MM：{value}", "en": "time must be YYYY-MM-DD HH:MM: {value}"},
    "in_recent": {"zh": "本区县最近的排查记录", "en": "Recent records"},
    # dispatch page
    "dp_title": {"zh": "重大事故隐患专项排查整治月度调度表", "en": "Monthly dispatch table"},
    "dp_period": {"zh": "报表月份", "en": "Report month"},
    "dp_cutoff": {"zh": "数据累计至 {date}；{due} 前报送", "en": "Figures to {date}; due {due}"},
    "dp_download": {"zh": "下载调度表(XLSX)", "en": "Download (XLSX)"},
    "dp_submit": {"zh": "报送市安委办", "en": "Send to the city"},
    "dp_submitted": {"zh": "已报送（第 {rev} 次）", "en": "Sent (revision {rev})"},
    "dp_status": {"zh": "各区县报送情况", "en": "Who has sent it"},
    "dp_item": {"zh": "项目", "en": "Item"},
    "dp_value": {"zh": "数量", "en": "Count"},
    "dp_no": {"zh": "序号", "en": "No."},
    "dp_city": {"zh": "全市", "en": "Whole city"},
    "dp_sent_at": {"zh": "首次报送时间", "en": "First sent"},
    "dp_state": {"zh": "状态", "en": "State"},
    "dp_district": {"zh": "区县", "en": "District"},
    "dp_industry": {"zh": "行业领域", "en": "Industry"},
    "dp_lead": {"zh": "牵头部门", "en": "Lead department"},
    "dp_other": {"zh": "其他", "en": "Other"},
    "dp_by_district": {"zh": "整改情况（按属地）", "en": "Rectification by district"},
    "dp_by_industry": {"zh": "整改情况（分行业）", "en": "Rectification by industry"},
}


register_text(TEXT)


def page_lang(lang: Any) -> str:
    """The page language from a callback value: ``en`` or, for anything else, ``zh``."""
    return lang if lang in ("zh", "en") else "zh"


def refusal(reasons: list[tuple[str, str]], lang: str) -> html.Div:
    """Every reason a campaign action was refused, one paragraph each, in ``lang``."""
    return html.Div([html.P(en if lang == "en" else zh) for zh, en in reasons], className="error", role="alert")
