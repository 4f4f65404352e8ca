"""Grade enterprises A/B/C/D with the rubric, and say why.

Points are absolute (an enterprise's grade does not depend on the others, unlike the city-relative
五色 score): each input earns points by the rubric, the total is cut by the grade lines, and a
floor may then raise the grade to a minimum (e.g. a major-risk enterprise is at least C).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from geo.checks.bundle import Bundle
from layers.grading.inputs import COUNT_COLUMNS, ID_COLUMNS, enterprise_inputs
from layers.grading.rubric import GradingInput, GradingRubric, blank, level_key
from layers.palette import RiskLevel, level_label

_CN_GRADE = "一二三四"
#: Result columns after the identity, input and ``points_<input>`` columns.
RESULT_COLUMNS = ("total", "points_grade", "grade", "floor", "inspections_per_year", "frequency", "explanation",
                  "rubric_version")


def value_text(item: GradingInput, value: Any, lang: str = "zh") -> str:
    """Return an input's value in words (``重大``, ``二级``, ``3项``, ``75%``, ``无``).

    Examples
    --------
    >>> from layers.grading.rubric import load_grading_rubric
    >>> r = load_grading_rubric()
    >>> [value_text(r.input(c), v) for c, v in (("risk_level", "major"), ("mhs_grade", 2),
    ...                                           ("overdue_hazards", 3), ("rectification_rate", 0.75))]
    ['重大风险', '二级', '3项', '75%']
    """
    zh = lang == "zh"
    if blank(value) or (item.kind == "levels" and level_key(value) == "none"):
        return "无" if zh else "none"
    if item.code == "risk_level" and str(value) in {lvl.value for lvl in RiskLevel}:
        return level_label(str(value), lang)
    if item.code == "mhs_grade":
        n = int(level_key(value)) if level_key(value).isdigit() else 0
        return (f"{_CN_GRADE[n - 1]}级" if zh else f"grade {n}") if 1 <= n <= 4 else str(value)
    if item.kind == "ratio":
        return f"{float(value):.0%}"
    if item.kind == "count":
        return f"{int(value)}{item.unit}" if zh else f"{int(value)}"
    return str(value)


def _short(item: GradingInput, value: Any, points: float, lang: str) -> str:
    """One item of the explanation line: 重大风险(+35), 一级重大危险源(+20), 未整改重大隐患2项(+30)."""
    text = value_text(item, value, lang)
    if item.code == "risk_level":
        said = text
    elif item.code == "mhs_grade":
        said = f"{text}{item.label(lang).removesuffix('等级')}" if lang == "zh" else f"{item.label(lang)} {text}"
    else:
        said = f"{item.label(lang)}{text}" if lang == "zh" else f"{item.label(lang)} {text}"
    return f"{said}(+{points:g})"


def _grade_row(row: Mapping[str, Any], rubric: GradingRubric) -> dict[str, Any]:
    points = {i.code: i.score(row.get(i.code)) for i in rubric.inputs}
    total = round(math.fsum(points.values()), 2)
    by_points = rubric.grade_of(total)
    grade, floor_text = by_points, None
    for floor in rubric.floors:
        if floor.applies(row.get(floor.input)) and rubric.rank(floor.grade) > rubric.rank(grade):
            grade, floor_text = floor.grade, floor.zh
    g = rubric.grade(grade)
    raised = sorted((i for i in rubric.inputs if points[i.code] > 0), key=lambda i: -points[i.code])
    parts = "、".join(_short(i, row.get(i.code), points[i.code], "zh") for i in raised) or "无计分项"
    line = f"{g.code}级（{total:g}分）：{parts}" + (f"；{floor_text}" if floor_text else "")
    return {**{f"points_{c}": p for c, p in points.items()}, "total": total, "points_grade": by_points,
            "grade": grade, "floor": floor_text, "inspections_per_year": g.inspections_per_year,
            "frequency": g.frequency_zh, "explanation": line, "rubric_version": rubric.version}


def score_inputs(inputs: pd.DataFrame, rubric: GradingRubric) -> pd.DataFrame:
    """Return ``inputs`` with each enterprise's points, total, grade, frequency and explanation.

    Parameters
    ----------
    inputs : DataFrame
        Rows of :func:`layers.grading.inputs.enterprise_inputs` (or any frame with the rubric's input columns).
    rubric : GradingRubric
        The rubric to grade with.

    Returns
    -------
    DataFrame
        ``inputs``' columns, ``points_<input>`` per rubric input, then :data:`RESULT_COLUMNS`.

    Examples
    --------
    >>> from layers.grading.rubric import load_grading_rubric
    >>> frame = pd.DataFrame({"risk_level": ["low", "major"], "mhs_grade": [None, 1], "open_major_hazards": [0, 2],
    ...                       "overdue_hazards": [0, 1], "rectification_rate": [None, 0.5], "open_violations": [0, 0]})
    >>> out = score_inputs(frame, load_grading_rubric())
    >>> out[["total", "grade", "inspections_per_year"]].values.tolist()
    [[0.0, 'A', 1.0], [98.0, 'D', 12.0]]
    >>> out.loc[1, "explanation"]
    'D级（98分）：重大风险(+35)、未整改重大隐患2项(+30)、一级重大危险源(+20)、逾期未整改隐患1项(+8)、隐患整改率50%(+5)'
    """
    graded = [_grade_row({str(k): v for k, v in r.items()}, rubric) for r in inputs.to_dict("records")]
    point_cols = [f"points_{c}" for c in rubric.codes]
    result = pd.DataFrame(graded, index=inputs.index, columns=[*point_cols, *RESULT_COLUMNS])
    return pd.concat([inputs, result], axis=1)


def grade_enterprises(bundle: Bundle, findings: pd.DataFrame, as_of: dt.date, rubric: GradingRubric
                      ) -> pd.DataFrame:
    """Grade every enterprise of the bundle A/B/C/D (分级分类监管) with the rubric.

    Parameters
    ----------
    bundle : Bundle
        ``enterprises``, ``risk_points``, ``installations`` and ``hidden_hazards``
        (:func:`geo.checks.sources.bundle_from_store`).
    findings : DataFrame
        Stored findings (:func:`geo.store.read_findings`).
    as_of : date
        Reference day for overdue hidden hazards.
    rubric : GradingRubric
        :func:`layers.grading.rubric.load_grading_rubric`.

    Returns
    -------
    DataFrame
        One row per enterprise, worst first (total descending, then key): ``key``, ``credit_code``,
        ``name``, ``adcode``, ``industry``, ``sector``; the inputs (``risk_level``, ``mhs_grade``,
        ``open_major_hazards``, ``overdue_hazards``, ``rectification_rate``, ``open_violations``) and
        ``hazards_total``/``hazards_done``; ``points_<input>`` for each rubric input; ``total``;
        ``points_grade`` (by the lines) and ``grade`` (after floors; ``floor`` says which raised it);
        ``inspections_per_year`` and ``frequency`` (Chinese) of the grade; ``explanation`` (one
        Chinese line of what raised the grade) and ``rubric_version``.
    """
    inputs = enterprise_inputs(bundle, findings, as_of)
    out = score_inputs(inputs, rubric)
    order = out.assign(_rank=[rubric.rank(g) for g in out["grade"]])
    order = order.sort_values(["_rank", "total", "key"], ascending=[False, False, True], kind="stable")
    return order.drop(columns="_rank").reset_index(drop=True)


def explain_grade(row: Mapping[str, Any] | pd.Series, rubric: GradingRubric, lang: str = "zh") -> str:
    """Return a detail-view explanation of one enterprise's grade, one line per input.

    Parameters
    ----------
    row : mapping or Series
        A row of :func:`grade_enterprises`.
    rubric : GradingRubric
        The rubric the row was graded with.
    lang : str
        ``zh`` (default) or ``en``.

    Returns
    -------
    str
        Title with grade and total, one line per input (value, points, the most it can give), the
        floor that applied, the inspection frequency, and the rubric's version and source.

    Examples
    --------
    >>> from layers.grading.rubric import load_grading_rubric
    >>> r = load_grading_rubric()
    >>> frame = pd.DataFrame({"name": ["甲公司"], "risk_level": ["major"], "mhs_grade": [None],
    ...     "open_major_hazards": [0], "overdue_hazards": [0], "rectification_rate": [None], "open_violations": [1]})
    >>> print(explain_grade(score_inputs(frame, r).iloc[0], r, "en").splitlines()[0])
    甲公司: grade C (41 points)
    """
    zh = lang == "zh"
    data = dict(row)
    grade = rubric.grade(str(data["grade"]))
    total = float(data["total"])
    name = data.get("name") or data.get("key") or ""
    lines = [f"{name}：{grade.label('zh')}（{total:g}分）" if zh else f"{name}: grade {grade.code} ({total:g} points)"]
    for item in rubric.inputs:
        pts = float(data.get(f"points_{item.code}", item.score(data.get(item.code))))
        most = "不封顶" if zh and math.isinf(item.most) else ("no cap" if math.isinf(item.most) else f"{item.most:g}")
        value = value_text(item, data.get(item.code), lang)
        lines.append(f"· {item.label(lang)}：{value}，{pts:g}分（最高{most}）" if zh
                     else f"· {item.label(lang)}: {value}, {pts:g} points (at most {most})")
    for floor in rubric.floors:
        if data.get("floor") and floor.zh == data["floor"]:
            lines.append(f"· 按分数为{data['points_grade']}级，{floor.zh}" if zh
                         else f"· {data['points_grade']} by points; {floor.en}")
    lines.append(f"检查频次：{grade.frequency('zh')}" if zh else f"Inspections: {grade.frequency('en')}")
    lines.append(f"评分规则 {rubric.version}：{rubric.source}" if zh else f"Rubric {rubric.version}: {rubric.source}")
    return "\n".join(lines)


__all__ = ["COUNT_COLUMNS", "ID_COLUMNS", "RESULT_COLUMNS", "explain_grade", "grade_enterprises", "score_inputs",
           "value_text"]
