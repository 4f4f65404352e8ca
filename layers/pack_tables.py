"""The risk-source and finding tables of the export packs: Chinese labels, with each code kept beside.

A reader of an exported spreadsheet or GIS layer sees 违规 / 待整改 / 企业, not violation / open /
enterprises; a program (or a later import) still finds the code in a column of its own, named
``<label column>代码``. The labels are the ones every view uses: statuses and verdicts from
:mod:`layers.planning`, levels from :mod:`layers.palette`, source types from
:data:`layers.sources.SOURCE_TYPES`, layer names from :mod:`geo.layer_specs` and rule names
from the rule set.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from geo.checks.ruleset import RuleSet, load_ruleset
from geo.constants import STORAGE_SRID
from geo.layer_specs import LAYERS
from layers.palette import RiskLevel, level_label
from layers.planning import status_label, verdict_label
from layers.sources import SOURCE_TYPES
from layers.values import text_or_none

#: Suffix of the column that keeps the code behind a labelled column.
CODE_SUFFIX = "代码"


def layer_label(layer: Any) -> str | None:
    """Chinese name of a layer code (``enterprises`` → 企业); unknown codes as they are.

    Examples
    --------
    >>> layer_label("protection_targets"), layer_label("site")
    ('防护目标', 'site')
    """
    code = text_or_none(layer)
    if code is None:
        return None
    return LAYERS[code].zh if code in LAYERS else code


def _level(code: Any) -> str | None:
    text = text_or_none(code)
    return level_label(text) if text in set(RiskLevel) else text


def _labelled(label: str, codes: list[Any], name: Any) -> dict[str, list[Any]]:
    """``{label: labels, label + 代码: codes}`` for one coded column."""
    return {label: [name(c) for c in codes], f"{label}{CODE_SUFFIX}": [text_or_none(c) for c in codes]}


def source_table(sources: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lay out the 四色风险源 layer: one row per risk source, labels beside their codes.

    Parameters
    ----------
    sources : GeoDataFrame
        Rows of :func:`layers.sources.risk_sources` (EPSG:4490).

    Returns
    -------
    GeoDataFrame
        Columns 类型, 类型代码, 编号, 名称, 行政区划代码, 风险等级, 风险等级代码, 颜色, 说明 and the
        geometry (EPSG:4490).
    """
    types = list(sources["source_type"])
    levels = list(sources["risk_level"])
    data: dict[str, list[Any]] = {
        **_labelled("类型", types, lambda c: SOURCE_TYPES.get(str(c), text_or_none(c))),
        "编号": list(sources["key"]), "名称": list(sources["name"]), "行政区划代码": list(sources["adcode"]),
        **_labelled("风险等级", levels, _level),
        "颜色": list(sources["colour"]), "说明": list(sources["detail"]),
    }
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=sources.geometry.values, crs=STORAGE_SRID)


def finding_table(findings: gpd.GeoDataFrame, rules: RuleSet | None = None) -> gpd.GeoDataFrame:
    """Lay out the 检查发现 layer: one row per finding, labels beside codes, distances as numbers.

    Parameters
    ----------
    findings : GeoDataFrame
        Rows of :func:`geo.store.read_findings` (EPSG:4490).
    rules : RuleSet, optional
        Rule set in force, for the rule names (the rule file's when omitted).

    Returns
    -------
    GeoDataFrame
        Columns 规则, 规则代码, 条款, 主体类型, 主体类型代码, 主体, 对象类型, 对象类型代码, 对象,
        实测距离(m), 要求距离(m), 结论, 结论代码, 整改状态, 整改状态代码, 说明, 行政区划代码 and
        the geometry (EPSG:4490).
    """
    ruleset = rules or load_ruleset()

    def rule_name(code: Any) -> str | None:
        rule = ruleset.rules.get(str(code))
        return rule.zh if rule is not None else text_or_none(code)

    def metres(values: pd.Series) -> list[float | None]:
        numbers = pd.to_numeric(values, errors="coerce")
        return [None if pd.isna(v) else float(v) for v in numbers]

    data: dict[str, list[Any]] = {
        **_labelled("规则", list(findings["rule_code"]), rule_name),
        "条款": list(findings["clause"]),
        **_labelled("主体类型", list(findings["subject_type"]), layer_label),
        "主体": list(findings["subject_name"]),
        **_labelled("对象类型", list(findings["object_type"]), layer_label),
        "对象": list(findings["object_name"]),
        "实测距离(m)": metres(findings["measured_m"]), "要求距离(m)": metres(findings["required_m"]),
        **_labelled("结论", list(findings["verdict"]), lambda c: verdict_label(str(c)) if text_or_none(c) else None),
        **_labelled("整改状态", list(findings["status"]), lambda c: status_label(str(c)) if text_or_none(c) else None),
        "说明": list(findings["detail"]), "行政区划代码": list(findings["adcode"]),
    }
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=findings.geometry.values, crs=STORAGE_SRID)
