"""The one place that maps risk levels to colours and legend labels (四色: 红/橙/黄/蓝).

The national scheme (安委办〔2016〕11号, standards.md §8.1) is 重大=红, 较大=橙,
一般=黄, 低=蓝 — never green for 低. Hex values are a design choice; no standard
fixes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RiskLevel(StrEnum):
    """The four national risk levels, highest first."""

    MAJOR = "major"
    SIGNIFICANT = "significant"
    GENERAL = "general"
    LOW = "low"


@dataclass(frozen=True)
class Swatch:
    """Colour and labels of one level."""

    hex: str
    zh: str
    en: str
    colour_zh: str


FOUR_COLOUR: dict[RiskLevel, Swatch] = {
    RiskLevel.MAJOR: Swatch("#E60012", "重大风险", "Major risk", "红"),
    RiskLevel.SIGNIFICANT: Swatch("#FF7F00", "较大风险", "Significant risk", "橙"),
    RiskLevel.GENERAL: Swatch("#FFD700", "一般风险", "General risk", "黄"),
    RiskLevel.LOW: Swatch("#0070C0", "低风险", "Low risk", "蓝"),
}
FOUR_COLOUR_SOURCE = "安委办〔2016〕11号"


def level_colour(level: str) -> str:
    """Hex colour of a risk level code.

    Examples
    --------
    >>> level_colour("low")
    '#0070C0'
    """
    return FOUR_COLOUR[RiskLevel(level)].hex


def level_label(level: str, lang: str = "zh") -> str:
    """Legend label of a risk level code in ``lang`` ("zh" or "en")."""
    swatch = FOUR_COLOUR[RiskLevel(level)]
    return swatch.zh if lang == "zh" else swatch.en
