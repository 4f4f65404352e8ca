"""The enterprise grading rubric: its data types and the checks of ``layers/grading/rubric.yaml``.

The rubric is data, not code: inputs with their points, grade lines (A best … D worst) with the
inspection frequency each implies, and floors (conditions that set a minimum grade), published in
``layers/grading/rubric.yaml`` and validated here (:func:`parse_grading_rubric`,
:func:`load_grading_rubric`) before any enterprise is graded with it. Error messages name the file
and the field, as the 五色 rubric's do (:mod:`layers.rating.rubric`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from geo.errors import ConfigError

#: The published rubric.
GRADING_RUBRIC_PATH = Path(__file__).resolve().parent / "rubric.yaml"
#: Kinds of input and the keys each needs besides code, zh, en.
KINDS: dict[str, tuple[str, ...]] = {"levels": ("points",), "count": ("per_item",), "ratio": ("max_points",)}
#: Inputs RiskMap computes per enterprise (:func:`layers.grading.inputs.enterprise_inputs`) and their kind.
INPUT_KINDS: dict[str, str] = {
    "risk_level": "levels",
    "mhs_grade": "levels",
    "open_major_hazards": "count",
    "overdue_hazards": "count",
    "rectification_rate": "ratio",
    "open_violations": "count",
}
#: Key of a ``levels`` input's points for a blank value.
NONE_KEY = "none"
_EPS = 1e-9


class GradingRubricError(ConfigError, ValueError):
    """The grading rubric is unusable (missing keys, unknown inputs, grade lines out of order…)."""


@dataclass(frozen=True)
class GradingInput:
    """One input of the rubric and how it earns points.

    ``levels``: ``points`` maps each value (as text; ``none`` for blank) to its points.
    ``count``: ``per_item`` points per item, at most ``cap`` (no cap when None).
    ``ratio``: ``max_points × (1 − value)``; no points when the value is blank (nothing to rate).
    """

    code: str
    zh: str
    en: str
    kind: str
    unit: str = ""
    points: Mapping[str, float] | None = None
    per_item: float = 0.0
    cap: float | None = None
    max_points: float = 0.0

    def label(self, lang: str = "zh") -> str:
        """Return the name of the input in ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en

    @property
    def most(self) -> float:
        """Return the most points this input can give (inf for an uncapped count)."""
        if self.kind == "levels":
            return max(self.points.values()) if self.points else 0.0
        if self.kind == "count":
            return math.inf if self.cap is None else self.cap
        return self.max_points

    def score(self, value: Any) -> float:
        """Return the points ``value`` earns.

        Examples
        --------
        >>> GradingInput("n", "数", "N", "count", per_item=5, cap=12).score(3)
        12.0
        >>> GradingInput("r", "率", "R", "ratio", max_points=10).score(0.75)
        2.5
        >>> GradingInput("l", "级", "L", "levels", points={"1": 9, "none": 0}).score(1.0)
        9.0
        """
        if self.kind == "levels":
            return float((self.points or {}).get(level_key(value), 0.0))
        if blank(value):
            return 0.0
        number = float(value)
        if self.kind == "count":
            raw = self.per_item * number
            return float(raw if self.cap is None else min(raw, self.cap))
        return float(self.max_points * (1.0 - min(max(number, 0.0), 1.0)))


@dataclass(frozen=True)
class Grade:
    """A grade, the lowest total (inclusive) that earns it, and the inspection frequency it implies."""

    code: str
    zh: str
    en: str
    min_points: float
    inspections_per_year: float
    frequency_zh: str
    frequency_en: str

    def label(self, lang: str = "zh") -> str:
        """Return the grade's name in ``lang``."""
        return self.zh if lang == "zh" else self.en

    def frequency(self, lang: str = "zh") -> str:
        """Return the inspection frequency in words in ``lang``."""
        return self.frequency_zh if lang == "zh" else self.frequency_en


@dataclass(frozen=True)
class Floor:
    """A condition that sets a minimum grade: ``input`` in ``values`` (levels) or ≥ ``min`` (count)."""

    input: str
    grade: str
    zh: str
    en: str
    values: tuple[str, ...] = ()
    min: float | None = None

    def applies(self, value: Any) -> bool:
        """Tell whether an enterprise whose input is ``value`` meets the condition."""
        if self.values:
            return level_key(value) in self.values
        return self.min is not None and not blank(value) and float(value) >= self.min - _EPS

    def label(self, lang: str = "zh") -> str:
        """Return the floor stated in ``lang``."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class GradingRubric:
    """A validated enterprise grading rubric (see :func:`load_grading_rubric`)."""

    version: str
    source: str
    method_zh: str
    method_en: str
    inputs: tuple[GradingInput, ...]
    grades: tuple[Grade, ...]
    floors: tuple[Floor, ...] = ()

    @property
    def codes(self) -> list[str]:
        """Return the input codes in rubric order."""
        return [i.code for i in self.inputs]

    def input(self, code: str) -> GradingInput:
        """Return input ``code``."""
        for item in self.inputs:
            if item.code == code:
                return item
        raise KeyError(f"grading rubric {self.version} has no input {code!r}; it has {', '.join(self.codes)}")

    def grade(self, code: str) -> Grade:
        """Return grade ``code``."""
        for g in self.grades:
            if g.code == code:
                return g
        raise KeyError(f"grading rubric {self.version} has no grade {code!r}")

    def rank(self, code: str) -> int:
        """Return the position of grade ``code``, 0 for the best."""
        return [g.code for g in self.grades].index(code)

    def grade_of(self, total: float) -> str:
        """Return the grade a total earns by the grade lines (floors not applied).

        Examples
        --------
        >>> r = load_grading_rubric()
        >>> r.grade_of(0), r.grade_of(14.99), r.grade_of(15), r.grade_of(100)
        ('A', 'A', 'B', 'D')
        """
        for g in reversed(self.grades):
            if total >= g.min_points - _EPS:
                return g.code
        return self.grades[0].code


def blank(value: Any) -> bool:
    """Tell whether a value is missing (None, NaN, pandas NA).

    Examples
    --------
    >>> blank(None), blank(float("nan")), blank(pd.NA), blank(0)
    (True, True, True, False)
    """
    return value is None or bool(pd.api.types.is_scalar(value) and pd.isna(value))


def level_key(value: Any) -> str:
    """Return the key a value has in a ``levels`` input's points (``none`` when blank).

    Examples
    --------
    >>> level_key(2.0), level_key("major"), level_key(None), level_key(float("nan"))
    ('2', 'major', 'none', 'none')
    """
    if blank(value) or (isinstance(value, str) and not value.strip()):
        return NONE_KEY
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _need(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, Mapping) or key not in mapping or mapping[key] is None:
        raise GradingRubricError(f"{where}: missing {key!r}")
    return mapping[key]


def _points(value: Any, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GradingRubricError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise GradingRubricError(f"{where}: {value!r} must be a finite number ≥ 0")
    return number


def _parse_input(raw: Any, i: int, origin: str) -> GradingInput:
    code = str(_need(raw, "code", f"{origin}: inputs[{i}]"))
    where = f"{origin}: input {code!r}"
    if code not in INPUT_KINDS:
        raise GradingRubricError(f"{where}: unknown input; RiskMap computes {', '.join(INPUT_KINDS)}")
    kind = str(_need(raw, "kind", where))
    if kind != INPUT_KINDS[code]:
        raise GradingRubricError(f"{where}: kind {kind!r} must be {INPUT_KINDS[code]!r}")
    for key in KINDS[kind]:
        _need(raw, key, where)
    points = None
    if kind == "levels":
        table = raw["points"]
        if not isinstance(table, Mapping) or not table:
            raise GradingRubricError(f"{where}: 'points' must map each level to its points")
        points = {level_key(k): _points(v, f"{where} points[{k}]") for k, v in table.items()}
    cap = raw.get("cap")
    return GradingInput(
        code=code, zh=str(_need(raw, "zh", where)), en=str(_need(raw, "en", where)), kind=kind,
        unit=str(raw.get("unit") or ""), points=points,
        per_item=_points(raw["per_item"], f"{where} per_item") if kind == "count" else 0.0,
        cap=_points(cap, f"{where} cap") if kind == "count" and cap is not None else None,
        max_points=_points(raw["max_points"], f"{where} max_points") if kind == "ratio" else 0.0)


def _parse_grades(raw: Any, origin: str) -> tuple[Grade, ...]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise GradingRubricError(f"{origin}: 'grades' must list at least two grades, best first")
    grades = []
    for i, item in enumerate(raw):
        code = str(_need(item, "code", f"{origin}: grades[{i}]"))
        where = f"{origin}: grade {code!r}"
        per_year = _points(_need(item, "inspections_per_year", where), f"{where} inspections_per_year")
        if per_year <= 0:
            raise GradingRubricError(f"{where}: inspections_per_year must be positive, not {per_year:g}")
        grades.append(Grade(code=code, zh=str(_need(item, "zh", where)), en=str(_need(item, "en", where)),
                            min_points=_points(_need(item, "min_points", where), f"{where} min_points"),
                            inspections_per_year=per_year,
                            frequency_zh=str(_need(item, "frequency_zh", where)),
                            frequency_en=str(_need(item, "frequency_en", where))))
    codes = [g.code for g in grades]
    if len(set(codes)) != len(codes):
        raise GradingRubricError(f"{origin}: grade codes repeat: {codes}")
    lines = [g.min_points for g in grades]
    if lines[0] != 0:
        raise GradingRubricError(f"{origin}: grades: the best grade ({codes[0]}) must start at min_points 0 so "
                                 f"every total has a grade, got {lines[0]:g}")
    if any(a >= b for a, b in itertools.pairwise(lines)):
        raise GradingRubricError(f"{origin}: grades: min_points must rise strictly from the best grade to the "
                                 f"worst, got {dict(zip(codes, lines, strict=True))}")
    for a, b in itertools.pairwise(grades):
        if b.inspections_per_year < a.inspections_per_year:
            raise GradingRubricError(f"{origin}: grade {b.code!r} inspections_per_year: a worse grade is inspected "
                                     f"at least as often as {a.code!r} ({b.inspections_per_year:g} < "
                                     f"{a.inspections_per_year:g})")
    return tuple(grades)


def _parse_floor(raw: Any, i: int, inputs: dict[str, GradingInput], grades: list[str], origin: str) -> Floor:
    where = f"{origin}: floors[{i}]"
    code = str(_need(raw, "input", where))
    if code not in inputs:
        raise GradingRubricError(f"{where} input: {code!r} is not an input of this rubric ({', '.join(inputs)})")
    grade = str(_need(raw, "grade", where))
    if grade not in grades:
        raise GradingRubricError(f"{where} grade: {grade!r} is not a grade ({', '.join(grades)})")
    values, low = raw.get("values"), raw.get("min")
    if inputs[code].kind == "levels":
        if not isinstance(values, list) or not values:
            raise GradingRubricError(f"{where} values: a floor on {code!r} needs a non-empty list of levels")
        return Floor(code, grade, str(_need(raw, "zh", where)), str(_need(raw, "en", where)),
                     values=tuple(level_key(v) for v in values))
    if low is None:
        raise GradingRubricError(f"{where}: missing 'min' (a floor on {code!r} applies from a value)")
    return Floor(code, grade, str(_need(raw, "zh", where)), str(_need(raw, "en", where)),
                 min=_points(low, f"{where} min"))


def parse_grading_rubric(data: Any, *, origin: str = "grading rubric") -> GradingRubric:
    """Validate a parsed grading rubric (the YAML's content) and build a :class:`GradingRubric`.

    Parameters
    ----------
    data : mapping
        Keys ``version``, ``source``, ``inputs`` and ``grades`` (required), ``method_zh``,
        ``method_en`` and ``floors`` (optional).
    origin : str
        Name used in error messages (e.g. the file path).

    Returns
    -------
    GradingRubric
        The validated rubric.

    Raises
    ------
    GradingRubricError
        Naming the field: a missing key, an input RiskMap does not compute or listed twice, a
        negative number, grade lines not rising strictly from 0, a worse grade inspected less
        often, or a floor naming an unknown input or grade.

    Examples
    --------
    >>> grades = [{"code": "A", "zh": "甲", "en": "A", "min_points": 0, "inspections_per_year": 1,
    ...            "frequency_zh": "每年", "frequency_en": "yearly"},
    ...           {"code": "D", "zh": "丁", "en": "D", "min_points": 10, "inspections_per_year": 12,
    ...            "frequency_zh": "每月", "frequency_en": "monthly"}]
    >>> r = parse_grading_rubric({"version": "t", "source": "test", "grades": grades, "inputs": [
    ...     {"code": "open_violations", "zh": "违规", "en": "Violations", "kind": "count", "per_item": 5}]})
    >>> r.codes, r.grade_of(10)
    (['open_violations'], 'D')
    >>> parse_grading_rubric({"version": "t", "source": "test", "grades": grades, "inputs": [
    ...     {"code": "open_violations", "zh": "违规", "en": "Violations", "kind": "count"}]})
    Traceback (most recent call last):
    ...
    layers.grading.rubric.GradingRubricError: grading rubric: input 'open_violations': missing 'per_item'
    """
    if not isinstance(data, Mapping):
        raise GradingRubricError(f"{origin}: expected a mapping, got {type(data).__name__}")
    version, source = str(_need(data, "version", origin)), str(_need(data, "source", origin))
    raw_inputs = _need(data, "inputs", origin)
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise GradingRubricError(f"{origin}: 'inputs' must be a non-empty list")
    inputs = tuple(_parse_input(raw, i, origin) for i, raw in enumerate(raw_inputs))
    codes = [i.code for i in inputs]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise GradingRubricError(f"{origin}: inputs repeat: {', '.join(repeated)}")
    grades = _parse_grades(_need(data, "grades", origin), origin)
    raw_floors = data.get("floors") or []
    if not isinstance(raw_floors, list):
        raise GradingRubricError(f"{origin}: 'floors' must be a list")
    by_code = {i.code: i for i in inputs}
    floors = tuple(_parse_floor(raw, i, by_code, [g.code for g in grades], origin)
                   for i, raw in enumerate(raw_floors))
    return GradingRubric(version=version, source=source, method_zh=str(data.get("method_zh") or ""),
                         method_en=str(data.get("method_en") or ""), inputs=inputs, grades=grades, floors=floors)


def load_grading_rubric(path: str | Path | None = None) -> GradingRubric:
    """Load and validate a grading rubric file (default: the published ``layers/grading/rubric.yaml``).

    Parameters
    ----------
    path : str or Path, optional
        Rubric file.

    Returns
    -------
    GradingRubric
        The rubric in the file, validated.

    Raises
    ------
    GradingRubricError
        When the file is missing, is not YAML, or fails :func:`parse_grading_rubric`'s checks.

    Examples
    --------
    >>> r = load_grading_rubric()
    >>> [(g.code, g.inspections_per_year) for g in r.grades]
    [('A', 1.0), ('B', 2.0), ('C', 4.0), ('D', 12.0)]
    """
    file = Path(path) if path is not None else GRADING_RUBRIC_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise GradingRubricError(f"cannot read grading rubric {file}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GradingRubricError(f"grading rubric {file} is not valid YAML: {exc}") from exc
    return parse_grading_rubric(data, origin=str(file))
