"""Why a district has its score and colour, in a table and in words, and the method for a leader."""

from __future__ import annotations

from typing import Any

import pandas as pd

from layers.rating.rubric import Rubric
from layers.rating.scoring import district_row

#: Phrases of the explanations, (Chinese, English); templates are filled with :meth:`str.format`.
_PHRASES: dict[str, tuple[str, str]] = {
    "head": ("{name}得分 {score:.1f}，评为“{label}”。", "{name} scores {score:.1f}, class “{label}”."),
    "driver": ("{indicator} {value}(贡献 {contribution:.1f} 分，占 {share:.0f}%)",
               "{indicator} {value} ({contribution:.1f} points, {share:.0f}%)"),
    "list_sep": ("、", "; "),
    "drivers": ("主要驱动因素：{named}。", " Main drivers: {named}."),
    "no_driver": ("各项指标均处于全市最低水平，无突出驱动因素。",
                  " Every indicator is at the city minimum; nothing stands out."),
    "next": ("得分需降至 {threshold:g} 分以下(降低超过 {gap:.1f} 分)方可降为“{label}”。",
             " The score must fall below {threshold:g} (by more than {gap:.1f} points) to reach “{label}”."),
    "lowest": ("已处于最低风险等级。", " It is already in the lowest class."),
    "weight_sep": ("、", ", "),
    "band_top": ("{low:g} 分及以上为“{label}”", "{low:g} or more: “{label}”"),
    "band": ("{low:g}–{high:g} 分为“{label}”", "{low:g} to {high:g}: “{label}”"),
    "band_bottom": ("{high:g} 分以下为“{label}”", "below {high:g}: “{label}”"),
    "band_sep": ("；", "; "),
    "note": ("{method}指标权重：{weights}。分级：{bands}。", "{method} Weights: {weights}. Classes: {bands}."),
}


def _words(lang: str) -> dict[str, str]:
    """Return the phrases in ``lang`` ("zh"; anything else is English)."""
    i = 0 if lang == "zh" else 1
    return {key: pair[i] for key, pair in _PHRASES.items()}


def explain(ratings: pd.DataFrame, adcode: str, rubric: Rubric, *, lang: str = "zh") -> pd.DataFrame:
    """List one district's indicators, largest contribution first: why it has its score and colour.

    Parameters
    ----------
    ratings : DataFrame
        Output of :func:`rate_districts` (or :func:`what_if`).
    adcode : str
        District code.
    rubric : Rubric
        The rubric the ratings were made with.
    lang : str
        Language of the indicator names ("zh" or "en").

    Returns
    -------
    DataFrame
        Columns ``code``, ``indicator``, ``unit``, ``direction``, ``raw``, ``normalised``,
        ``weight``, ``contribution`` (score points) and ``share`` (of the score; 0 when the
        score is 0), sorted by contribution (ties in rubric order).

    Examples
    --------
    >>> from layers.rating import parse_rubric, rate_districts
    >>> r = parse_rubric({"version": "t", "source": "test", "indicators": [
    ...     {"code": "a", "zh": "甲", "en": "A", "weight": 0.5},
    ...     {"code": "b", "zh": "乙", "en": "B", "weight": 0.5}],
    ...     "classes": [{"code": "c1", "min_score": 50}, {"code": "c5", "min_score": 0}]})
    >>> ind = pd.DataFrame({"a": [0.0, 2.0], "b": [1.0, 3.0]}, index=["x", "y"])
    >>> explain(rate_districts(ind, r), "y", r)[["code", "contribution", "share"]]
      code  contribution  share
    0    a          50.0    0.5
    1    b          50.0    0.5
    """
    row = district_row(ratings, adcode)
    score = float(row["score"])
    rows = []
    for ind in rubric.indicators:
        contribution = float(row[f"contrib_{ind.code}"])
        rows.append({"code": ind.code, "indicator": ind.label(lang), "unit": ind.unit, "direction": ind.direction,
                     "raw": float(row[f"raw_{ind.code}"]), "normalised": float(row[f"norm_{ind.code}"]),
                     "weight": ind.weight, "contribution": contribution,
                     "share": contribution / score if score > 0 else 0.0})
    table = pd.DataFrame(rows)
    return table.sort_values("contribution", ascending=False, kind="stable").reset_index(drop=True)


def _value_text(raw: float, unit: str, lang: str) -> str:
    """Raw value with its unit: a 0–1 rate as a percentage; Chinese units only in Chinese text."""
    if unit == "0–1":
        return f"{raw * 100:.0f}%"
    number = f"{raw:.0f}" if float(raw).is_integer() else f"{raw:.1f}"
    if unit.isascii():
        return f"{number} {unit}".strip()
    return f"{number}{unit}" if lang == "zh" else number


def explain_text(ratings: pd.DataFrame, adcode: str, rubric: Rubric, *, lang: str = "zh", top: int = 3) -> str:
    r"""Write a short paragraph naming a district's top drivers and its distance to the next better class.

    Written for a leader: the district's name, score and class label, no codes.

    Parameters
    ----------
    ratings : DataFrame
        Output of :func:`rate_districts`.
    adcode : str
        District code.
    rubric : Rubric
        The rubric the ratings were made with.
    lang : str
        "zh" (default) or "en".
    top : int
        Number of drivers to name (only indicators that contribute).

    Returns
    -------
    str

    Examples
    --------
    >>> from layers.rating import parse_rubric, rate_districts
    >>> r = parse_rubric({"version": "t", "source": "test",
    ...     "indicators": [{"code": "a", "zh": "重大风险源", "en": "Major", "unit": "个", "weight": 1.0}],
    ...     "classes": [{"code": "c1", "min_score": 60}, {"code": "c5", "min_score": 0}]})
    >>> ind = pd.DataFrame({"name": ["甲区", "乙区"], "a": [0.0, 5.0]}, index=["1", "2"])
    >>> text = explain_text(rate_districts(ind, r), "2", r)
    >>> print(text.replace("。", "。\n"), end="")
    乙区得分 100.0，评为“高风险”。
    主要驱动因素：重大风险源 5个(贡献 100.0 分，占 100%)。
    得分需降至 60 分以下(降低超过 40.0 分)方可降为“低风险”。
    """
    key = "zh" if lang == "zh" else "en"
    words = _words(key)
    row = district_row(ratings, adcode)
    table = explain(ratings, adcode, rubric, lang=lang)
    drivers = table[table["contribution"] > 0].head(top)
    name = row["name"] if isinstance(row.get("name"), str) else adcode
    items: list[dict[str, Any]] = [{str(k): v for k, v in d.items()} for d in drivers.to_dict("records")]
    score, code = float(row["score"]), str(row["class_code"])
    codes = [c.code for c in rubric.classes]
    i = codes.index(code)
    this = rubric.classes[i]
    parts = [words["head"].format(name=name, score=score, label=this.label(key))]
    if items:
        named = words["list_sep"].join(
            words["driver"].format(indicator=d["indicator"], value=_value_text(d["raw"], d["unit"], key),
                                   contribution=d["contribution"], share=d["share"] * 100) for d in items)
        parts.append(words["drivers"].format(named=named))
    else:
        parts.append(words["no_driver"])
    if i + 1 < len(codes):
        parts.append(words["next"].format(threshold=this.min_score, gap=score - this.min_score,
                                          label=rubric.classes[i + 1].label(key)))
    else:
        parts.append(words["lowest"])
    return "".join(parts)


def method_note(rubric: Rubric, lang: str = "zh") -> str:
    """Write the rating method for a leader: what the score means, the indicators' weights and the classes.

    The text comes from the rubric (``method_zh``/``method_en``, indicator labels and weights, class
    thresholds and palette labels); the technical method is in this module's docstring and in
    ``layers/rubric.yaml``, not on the page.

    Parameters
    ----------
    rubric : Rubric
        The rubric in force.
    lang : str
        "zh" (default) or "en".

    Returns
    -------
    str

    Examples
    --------
    >>> from layers.rating import parse_rubric
    >>> r = parse_rubric({"version": "t", "source": "test", "method_zh": "说明。", "method_en": "About.",
    ...     "indicators": [{"code": "a", "zh": "甲", "en": "A", "weight": 1.0}],
    ...     "classes": [{"code": "c1", "min_score": 60}, {"code": "c5", "min_score": 0}]})
    >>> method_note(r)
    '说明。指标权重：甲 100%。分级：60 分及以上为“高风险”；60 分以下为“低风险”。'
    """
    key = "zh" if lang == "zh" else "en"
    words = _words(key)
    weights = words["weight_sep"].join(f"{i.label(lang)} {i.weight * 100:.0f}%" for i in rubric.indicators)
    bands = []
    for k, cls in enumerate(rubric.classes):
        label = cls.label(lang)
        if k == 0:
            bands.append(words["band_top"].format(low=cls.min_score, label=label))
        elif k == len(rubric.classes) - 1:
            bands.append(words["band_bottom"].format(high=rubric.classes[k - 1].min_score, label=label))
        else:
            bands.append(words["band"].format(low=cls.min_score, high=rubric.classes[k - 1].min_score, label=label))
    method = rubric.method_zh if key == "zh" else rubric.method_en
    return words["note"].format(method=method.strip(), weights=weights, bands=words["band_sep"].join(bands))
