"""Enterprise grading for 分级分类监管: a published rubric, A/B/C/D grades, inspection frequencies, reasons.

Like the 五色 district rating (:mod:`layers.rating`), the rubric is data with its source, published in
``layers/grading/rubric.yaml`` and editable without code changes; unlike it, points are absolute, so an
enterprise's grade does not move when another enterprise changes.

1. :func:`enterprise_inputs` (:mod:`layers.grading.inputs`) reads each enterprise's risk level,
   major-hazard grade, open major and overdue hidden hazards, 整改率 and open violations from a
   :class:`~geo.checks.bundle.Bundle` and the stored findings (one definition of each in
   :mod:`layers.measures`).
2. :func:`grade_enterprises` / :func:`score_inputs` (:mod:`layers.grading.scoring`) give the points per
   input, the total, the grade (A best … D worst) after the rubric's floors, the inspections per year it
   implies and a one-line Chinese explanation; :func:`explain_grade` is the detail view.
3. :func:`load_grading_rubric` / :func:`parse_grading_rubric` (:mod:`layers.grading.rubric`) refuse a
   bad rubric with an error naming the file and field.

Nothing is computed at import time; this package never imports Dash or Plotly.
"""

from __future__ import annotations

from layers.grading.inputs import COUNT_COLUMNS, ID_COLUMNS, INPUT_CODES, enterprise_inputs, hazard_owner
from layers.grading.rubric import (
    GRADING_RUBRIC_PATH,
    INPUT_KINDS,
    Floor,
    Grade,
    GradingInput,
    GradingRubric,
    GradingRubricError,
    load_grading_rubric,
    parse_grading_rubric,
)
from layers.grading.scoring import RESULT_COLUMNS, explain_grade, grade_enterprises, score_inputs, value_text

__all__ = [
    "COUNT_COLUMNS",
    "GRADING_RUBRIC_PATH",
    "ID_COLUMNS",
    "INPUT_CODES",
    "INPUT_KINDS",
    "RESULT_COLUMNS",
    "Floor",
    "Grade",
    "GradingInput",
    "GradingRubric",
    "GradingRubricError",
    "enterprise_inputs",
    "explain_grade",
    "grade_enterprises",
    "hazard_owner",
    "load_grading_rubric",
    "parse_grading_rubric",
    "score_inputs",
    "value_text",
]
