"""Scores and classes from raw indicators, and what-if re-ratings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from layers.palette import FIVE_COLOUR, DistrictClass
from layers.rating.rubric import Indicator, Rubric, classify_score


def _normalise(values: pd.Series, ind: Indicator) -> pd.Series:
    """Badness in 0–1 (1 = worst of the city, or at/over the cap)."""
    if ind.method == "cap":
        share = (values / float(ind.cap or 1.0)).clip(0.0, 1.0)
        return 1.0 - share if ind.direction == "higher_is_better" else share
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        return pd.Series(0.0, index=values.index)
    if ind.direction == "higher_is_better":
        return (hi - values) / (hi - lo)
    return (values - lo) / (hi - lo)


def rate_districts(indicators: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    """Score and class every district from its raw indicators.

    For each indicator: ``minmax_city`` normalises to (v − min) / (max − min) over the
    districts given (0 for every district when max == min); ``cap`` to v / cap clipped to
    0–1; ``higher_is_better`` reverses either (1 − that). The contribution is
    weight × normalised × 100 and the score is the sum of the contributions (0–100).

    Parameters
    ----------
    indicators : DataFrame
        One row per district (index: adcode); a column per rubric indicator and optionally
        ``name``. Not modified.
    rubric : Rubric
        Weights, normalisation and class thresholds.

    Returns
    -------
    DataFrame
        Same index; columns ``name`` (if given), ``score``, ``class_code``, ``class_zh``,
        ``class_en``, ``colour`` (palette hex), ``rank`` (1 = highest score), and per
        indicator ``raw_<code>``, ``norm_<code>`` and ``contrib_<code>``.

    Raises
    ------
    ValueError
        When an indicator column is missing, not numeric or has missing values.

    Examples
    --------
    >>> from layers.rating import parse_rubric
    >>> r = parse_rubric({"version": "t", "source": "test",
    ...     "indicators": [{"code": "a", "zh": "甲", "en": "A", "weight": 1.0}],
    ...     "classes": [{"code": "c1", "min_score": 50}, {"code": "c5", "min_score": 0}]})
    >>> ind = pd.DataFrame({"a": [0.0, 1.0, 4.0]}, index=["x", "y", "z"])
    >>> rate_districts(ind, r)[["score", "class_code", "colour"]]
       score class_code   colour
    x    0.0         c5  #A9C4D9
    y   25.0         c5  #A9C4D9
    z  100.0         c1  #E60012
    """
    missing = [c for c in rubric.codes if c not in indicators.columns]
    if missing:
        raise ValueError(f"indicator table lacks rubric indicators: {', '.join(missing)}")
    raw: dict[str, pd.Series] = {}
    for code in rubric.codes:
        try:
            values = pd.to_numeric(indicators[code], errors="raise").astype(float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"indicator {code!r} is not numeric: {exc}") from None
        if values.isna().any():
            where = ", ".join(str(a) for a in values.index[values.isna()])
            raise ValueError(f"indicator {code!r} has no value for district(s) {where}")
        raw[code] = values
    out = pd.DataFrame(index=indicators.index)
    if "name" in indicators.columns:
        out["name"] = indicators["name"]
    parts: dict[str, pd.Series] = {}
    for ind in rubric.indicators:
        norm = _normalise(raw[ind.code], ind)
        parts[f"raw_{ind.code}"] = raw[ind.code]
        parts[f"norm_{ind.code}"] = norm
        parts[f"contrib_{ind.code}"] = ind.weight * norm * 100.0
    contrib = pd.DataFrame({c: parts[f"contrib_{c}"] for c in rubric.codes}, index=indicators.index)
    out["score"] = contrib.sum(axis=1)
    out["class_code"] = [classify_score(float(s), rubric) for s in out["score"]]
    out["class_zh"] = [FIVE_COLOUR[DistrictClass(c)].zh for c in out["class_code"]]
    out["class_en"] = [FIVE_COLOUR[DistrictClass(c)].en for c in out["class_code"]]
    out["colour"] = [FIVE_COLOUR[DistrictClass(c)].hex for c in out["class_code"]]
    out["rank"] = out["score"].rank(ascending=False, method="min").astype(int)
    return pd.concat([out, pd.DataFrame(parts, index=indicators.index)], axis=1)


def district_row(frame: pd.DataFrame, adcode: str, what: str = "ratings") -> dict[str, Any]:
    """One district's row of ``frame`` (indexed by adcode) as a plain mapping; ``what`` names ``frame`` in errors."""
    if adcode not in frame.index:
        raise ValueError(f"district {adcode!r} is not in the {what}")
    row: Any = frame.loc[adcode]
    return {str(k): v for k, v in row.items()}


def what_if(indicators: pd.DataFrame, changes: Mapping[str, Mapping[str, float]], rubric: Rubric) -> pd.DataFrame:
    """Re-rate every district after setting some indicator values (inputs are not modified).

    Min-max indicators are relative to the city, so every district is re-rated, not only
    the changed ones.

    Parameters
    ----------
    indicators : DataFrame
        As for :func:`rate_districts`.
    changes : mapping
        ``{adcode: {column: new absolute value}}``.
    rubric : Rubric
        The rubric.

    Returns
    -------
    DataFrame
        The new ratings (as :func:`rate_districts`) plus ``changed`` (the district's values
        were edited), ``old_score``, ``old_class_code`` and ``score_delta`` (new − old).

    Raises
    ------
    ValueError
        For an unknown district or column, or a value that is not a finite number.

    Examples
    --------
    >>> from layers.rating import parse_rubric
    >>> one = {"code": "a", "zh": "甲", "en": "A", "weight": 1.0}
    >>> r = parse_rubric({"version": "t", "source": "test", "indicators": [one],
    ...                   "classes": [{"code": "c1", "min_score": 50}, {"code": "c5", "min_score": 0}]})
    >>> ind = pd.DataFrame({"a": [0.0, 1.0, 4.0]}, index=["x", "y", "z"])
    >>> what_if(ind, {"z": {"a": 2.0}}, r)[["score", "old_score", "changed"]]
       score  old_score  changed
    x    0.0        0.0    False
    y   50.0       25.0    False
    z  100.0      100.0     True
    """
    before = rate_districts(indicators, rubric)
    edited = indicators.copy(deep=True)
    for adcode, values in changes.items():
        if adcode not in edited.index:
            raise ValueError(f"what-if: district {adcode!r} is not in the indicator table")
        for column, value in values.items():
            if column not in edited.columns or column == "name":
                raise ValueError(f"what-if: {column!r} is not an indicator column")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"what-if: {adcode} {column} = {value!r} is not a number") from None
            if not math.isfinite(number):
                raise ValueError(f"what-if: {adcode} {column} = {value!r} is not a finite number")
            if edited[column].dtype != float:
                edited[column] = edited[column].astype(float)
            edited.loc[adcode, column] = number
    after = rate_districts(edited, rubric)
    after["changed"] = after.index.isin(list(changes))
    after["old_score"] = before["score"]
    after["old_class_code"] = before["class_code"]
    after["score_delta"] = after["score"] - before["score"]
    return after


def close_hazard(indicators: pd.DataFrame, adcode: str, n: int = 1, *, overdue: int = 0) -> dict[str, dict[str, float]]:
    """What-if changes for closing ``n`` open major hidden hazards of one district.

    ``open_major_hazards`` falls by ``n`` and ``overdue_hazards`` by ``overdue`` (how many of
    them were overdue); ``rectification_rate`` rises by ``n / hazards_total`` when the table
    has the ``hazards_total`` context column (as :func:`district_indicators` gives).

    Parameters
    ----------
    indicators : DataFrame
        Indicator table.
    adcode : str
        District.
    n : int
        Hazards closed.
    overdue : int
        How many of them were overdue.

    Returns
    -------
    dict
        Changes for :func:`what_if`.

    Raises
    ------
    ValueError
        When the district has fewer open major (or overdue) hazards than asked.

    Examples
    --------
    >>> ind = pd.DataFrame({"open_major_hazards": [2.0], "overdue_hazards": [1.0],
    ...                     "rectification_rate": [0.5], "hazards_total": [4.0]}, index=["x"])
    >>> close_hazard(ind, "x", overdue=1)
    {'x': {'open_major_hazards': 1.0, 'overdue_hazards': 0.0, 'rectification_rate': 0.75}}
    """
    row = district_row(indicators, adcode, "indicator table")
    open_major = float(row["open_major_hazards"])
    if n < 0 or overdue < 0 or n > open_major or overdue > n:
        raise ValueError(f"{adcode} has {open_major:g} open major hazards; cannot close {n} ({overdue} overdue)")
    change = {"open_major_hazards": open_major - n}
    if overdue:
        late = float(row["overdue_hazards"])
        if overdue > late:
            raise ValueError(f"{adcode} has {late:g} overdue hazards; cannot close {overdue}")
        change["overdue_hazards"] = late - overdue
    if "rectification_rate" in row and float(row.get("hazards_total", 0.0)) > 0:
        change["rectification_rate"] = min(1.0, float(row["rectification_rate"]) + n / float(row["hazards_total"]))
    return {adcode: change}
