"""The one place that maps risk levels and district classes to colours and legend labels.

四色 (risk sources): the national scheme (安委办〔2016〕11号, standards.md §8.1) is
重大=红, 较大=橙, 一般=黄, 低=蓝 — never green for 低. Hex values are a design choice;
no standard fixes them.

五色 (district rating): no national standard defines a 五色图 (standards.md §8.2), so the
five classes, their ramp and labels are RiskMap's own, shown with the rubric's method text.
The ramp keeps the four national colours for the four upper classes and adds a pale grey-blue
for the lowest class, so a district never looks "green = safe" by mistake.
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


#: Drawing order of the four levels on every map, least severe first: 重大 (red) is drawn last, on top.
DRAW_ORDER: tuple[RiskLevel, ...] = (RiskLevel.LOW, RiskLevel.GENERAL, RiskLevel.SIGNIFICANT, RiskLevel.MAJOR)
#: z-index of the map pane of the least severe level; each more severe level is one higher. Leaflet's own
#: panes: tiles 200, outlines and lines 400 (overlayPane), shadows 500, markers 600, tooltips 650.
LEVEL_PANE_Z = 410
#: Map pane of things drawn above every risk level (the planner's proposed site and its reasons).
TOP_PANE, TOP_PANE_Z = "rm-top", 450


def draw_rank(level: str | None) -> int:
    """Position of a level in DRAW_ORDER (0 = drawn first, underneath); unknown or missing levels get -1.

    Examples
    --------
    >>> [draw_rank(v) for v in ("major", "significant", "general", "low", None)]
    [3, 2, 1, 0, -1]
    """
    if not isinstance(level, str):
        return -1
    try:
        return DRAW_ORDER.index(RiskLevel(level))
    except ValueError:
        return -1


def level_pane(level: str) -> tuple[str, int]:
    """Name and z-index of the map pane that draws markers of ``level`` (more severe above).

    Examples
    --------
    >>> level_pane("major")
    ('rm-level-major', 413)
    """
    rank = draw_rank(level)
    if rank < 0:
        raise ValueError(f"unknown risk level {level!r}")
    return f"rm-level-{DRAW_ORDER[rank].value}", LEVEL_PANE_Z + rank


class DistrictClass(StrEnum):
    """The five district classes of the 五色 rating, worst first (project-defined)."""

    C1 = "c1"
    C2 = "c2"
    C3 = "c3"
    C4 = "c4"
    C5 = "c5"


FIVE_COLOUR: dict[DistrictClass, Swatch] = {
    DistrictClass.C1: Swatch("#E60012", "高风险", "High", "红"),
    DistrictClass.C2: Swatch("#FF7F00", "较高风险", "Elevated", "橙"),
    DistrictClass.C3: Swatch("#FFD700", "中等风险", "Moderate", "黄"),
    DistrictClass.C4: Swatch("#0070C0", "较低风险", "Lower", "蓝"),
    DistrictClass.C5: Swatch("#A9C4D9", "低风险", "Low", "浅蓝"),
}
FIVE_COLOUR_SOURCE = "RiskMap 项目自定 / project-defined (no national 五色图 standard found)"
#: Colour for districts or features without data.
NO_DATA = Swatch("#D0D4D9", "无数据", "No data", "灰")


def class_colour(cls: str) -> str:
    """Hex colour of a 五色 district class code.

    Examples
    --------
    >>> class_colour("c1")
    '#E60012'
    """
    return FIVE_COLOUR[DistrictClass(cls)].hex


def class_label(cls: str, lang: str = "zh") -> str:
    """Legend label of a 五色 district class code in ``lang`` ("zh" or "en")."""
    swatch = FIVE_COLOUR[DistrictClass(cls)]
    return swatch.zh if lang == "zh" else swatch.en


#: Colours of map overlays that are not risk levels (kept here so every colour has one home).
OVERLAY = {
    "pipeline": Swatch("#37474F", "长输管道", "Pipeline", "深灰"),
    "protection_target": Swatch("#6A1B9A", "防护目标", "Protection target", "紫"),
    "finding": Swatch("#111111", "检查发现", "Finding", "黑"),
    "selected": Swatch("#00897B", "拟建场地", "Proposed site", "青"),
    "ring": Swatch("#E60012", "要求距离圈", "Required distance", "红"),
}
