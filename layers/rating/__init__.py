"""五色 district rating: indicators per district, a published rubric, scores, classes and explanations.

No national standard defines a 五色图 (``standards.md`` §8.2). The rating here is RiskMap's
own, published in ``layers/rubric.yaml`` and editable without code changes
(:mod:`layers.rating.rubric` loads and checks it):

1. :func:`district_indicators` (:mod:`layers.rating.indicators`) computes raw indicators per
   district from a :class:`~geo.checks.bundle.Bundle` and a findings frame (counts of 重大/较大
   risk sources, open and overdue hidden hazards, open violations, HCA length by grade, 头顶库,
   危/险/病库, population inside individual-risk contours).
2. :func:`rate_districts` (:mod:`layers.rating.scoring`) normalises each indicator to 0–1
   (``minmax_city`` over the districts, or ``cap``), weights it, and sums the contributions to a
   0–100 score, which the rubric's thresholds cut into classes c1 (worst) … c5; colours and
   labels come from :mod:`layers.palette` only.
3. :func:`explain` / :func:`explain_text` (:mod:`layers.rating.explanations`) answer "why is
   this district orange?"; :func:`method_note` states the method for a leader; :func:`what_if`
   re-rates every district after hypothetical changes (min-max scores are city-relative, so one
   district's change moves the others).

Lengths and areas are measured in the bundle's metric Gauss-Krüger zone (``Bundle.metric``).
Nothing is computed at import time; this package never imports Dash or Plotly.
"""

from __future__ import annotations

from layers.rating.explanations import explain, explain_text, method_note
from layers.rating.indicators import (
    CONTEXT_COLUMNS,
    DANGEROUS_DEGREES,
    INDICATOR_CODES,
    OVERHEAD_RULE,
    RISK_SOURCE_LAYERS,
    district_indicators,
)
from layers.rating.rubric import (
    DEFAULT_PARAMETERS,
    DIRECTIONS,
    METHODS,
    RUBRIC_PATH,
    ClassThreshold,
    Indicator,
    Rubric,
    RubricError,
    classify_score,
    load_rubric,
    parse_rubric,
)
from layers.rating.scoring import close_hazard, rate_districts, what_if

__all__ = [
    "CONTEXT_COLUMNS",
    "DANGEROUS_DEGREES",
    "DEFAULT_PARAMETERS",
    "DIRECTIONS",
    "INDICATOR_CODES",
    "METHODS",
    "OVERHEAD_RULE",
    "RISK_SOURCE_LAYERS",
    "RUBRIC_PATH",
    "ClassThreshold",
    "Indicator",
    "Rubric",
    "RubricError",
    "classify_score",
    "close_hazard",
    "district_indicators",
    "explain",
    "explain_text",
    "load_rubric",
    "method_note",
    "parse_rubric",
    "rate_districts",
    "what_if",
]
