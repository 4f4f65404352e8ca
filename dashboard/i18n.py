"""UI strings in Chinese (default) and English."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "昆明市安全风险一张图", "en": "Kunming Work-Safety Risk Map"},
    "demo": {"zh": "演示数据：区县边界为真实数据，企业与风险点为生成数据",
             "en": "Demo data: real district boundaries, generated enterprises and risk points"},
    "districts": {"zh": "区县", "en": "Districts"},
    "enterprises": {"zh": "企业", "en": "Enterprises"},
    "major": {"zh": "重大风险企业", "en": "Major-risk enterprises"},
    "risk_points": {"zh": "风险点", "en": "Risk points"},
    "open_hazards": {"zh": "未销号隐患", "en": "Open hidden hazards"},
    "adcode": {"zh": "区划代码", "en": "Code"},
    "name": {"zh": "名称", "en": "Name"},
    "empty": {"zh": "数据库中还没有数据。运行 riskmap demo 导入演示数据。",
              "en": "The store is empty. Run `riskmap demo` to load the demo data."},
    "tailings_dams": {"zh": "尾矿库", "en": "Tailings ponds"},
    "protection_targets": {"zh": "防护目标", "en": "Protection targets"},
    "buildings": {"zh": "建筑", "en": "Buildings"},
    "hidden_hazards": {"zh": "隐患", "en": "Hidden hazards"},
}


def t(key: str, lang: str) -> str:
    """Return the UI string ``key`` in ``lang`` (falls back to Chinese)."""
    entry = TEXT[key]
    return entry.get(lang, entry["zh"])
