"""How the workspace's tables and cards look: cell styles, level colours, highlights, JSON-safe rows."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from dashboard.i18n import table_filter_options
from layers.palette import FOUR_COLOUR, RiskLevel

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
