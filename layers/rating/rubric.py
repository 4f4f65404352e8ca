"""The 五色 rating rubric: its data types, the checks of ``layers/rubric.yaml`` and the score classes.

The rubric is data, not code: indicators with weights, directions and normalisation, class
thresholds and a few parameters, published in ``layers/rubric.yaml`` and validated here
(:func:`parse_rubric`, :func:`load_rubric`) before anything is rated with it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geo.errors import ConfigError
from layers.palette import FIVE_COLOUR, DistrictClass

#: The published rubric.
RUBRIC_PATH = Path(__file__).resolve().parents[1] / "rubric.yaml"

#: Directions an indicator may have.
DIRECTIONS = ("higher_is_worse", "higher_is_better")
#: Normalisation methods an indicator may use.
METHODS = ("minmax_city", "cap")
#: Defaults of the rubric's ``parameters`` block.
DEFAULT_PARAMETERS: dict[str, float] = {
    "persons_per_household": 3.0,
    "contour_min_individual_risk": 1e-6,
    "hca_overlap_tolerance_m": 0.5,
}
#: Slack when comparing a score with a class threshold (sums of floats).
_SCORE_EPS = 1e-9
_WEIGHT_EPS = 1e-9


class RubricError(ConfigError, ValueError):
    """The rubric file is unusable (missing keys, weights not summing to 1, bad classes…)."""


@dataclass(frozen=True)
class Indicator:
    """One weighted indicator of the rubric.

    ``cap`` is used by ``method == "cap"`` only: the normalised value is ``value / cap``
    clipped to 0–1.
    """

    code: str
    zh: str
    en: str
    unit: str
    weight: float
    direction: str = "higher_is_worse"
    method: str = "minmax_city"
    cap: float | None = None

    def label(self, lang: str = "zh") -> str:
        """Name of the indicator in ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class ClassThreshold:
    """A district class and the lowest score (inclusive) that earns it."""

    code: str
    min_score: float

    def label(self, lang: str = "zh") -> str:
        """Legend label of the class from the palette."""
        swatch = FIVE_COLOUR[DistrictClass(self.code)]
        return swatch.zh if lang == "zh" else swatch.en


@dataclass(frozen=True)
class Rubric:
    """A validated rating rubric (see :func:`load_rubric`)."""

    version: str
    source: str
    data_date_note: str
    method_zh: str
    method_en: str
    indicators: tuple[Indicator, ...]
    classes: tuple[ClassThreshold, ...]
    parameters: Mapping[str, float] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        """Indicator codes in rubric order."""
        return [i.code for i in self.indicators]

    def indicator(self, code: str) -> Indicator:
        """Return indicator ``code``."""
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise KeyError(f"rubric {self.version} has no indicator {code!r}; it has {', '.join(self.codes)}")

    def parameter(self, name: str) -> float:
        """Parameter ``name`` of the rubric, else its default from :data:`DEFAULT_PARAMETERS`."""
        return float(self.parameters.get(name, DEFAULT_PARAMETERS[name]))


def _need(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(mapping, Mapping) or key not in mapping or mapping[key] is None:
        raise RubricError(f"{where}: missing {key!r}")
    return mapping[key]


def _number(value: Any, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RubricError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise RubricError(f"{where}: {value!r} is not a finite number")
    return number


def _parse_indicator(raw: Any, i: int, origin: str) -> Indicator:
    where = f"{origin}: indicators[{i}]"
    code = str(_need(raw, "code", where))
    where = f"{origin}: indicator {code!r}"
    weight = _number(_need(raw, "weight", where), f"{where} weight")
    if weight < 0:
        raise RubricError(f"{where}: weight {weight} is negative")
    direction = str(raw.get("direction", "higher_is_worse"))
    if direction not in DIRECTIONS:
        raise RubricError(f"{where}: direction {direction!r} must be one of {', '.join(DIRECTIONS)}")
    norm = raw.get("normalisation") or {"method": "minmax_city"}
    method = str(_need(norm, "method", f"{where} normalisation"))
    if method not in METHODS:
        raise RubricError(f"{where}: normalisation method {method!r} must be one of {', '.join(METHODS)}")
    cap = None
    if method == "cap":
        cap = _number(_need(norm, "cap", f"{where} normalisation"), f"{where} cap")
        if cap <= 0:
            raise RubricError(f"{where}: cap must be positive, not {cap}")
    return Indicator(code=code, zh=str(_need(raw, "zh", where)), en=str(_need(raw, "en", where)),
                     unit=str(raw.get("unit") or ""), weight=weight, direction=direction, method=method, cap=cap)


def _parse_classes(raw: Any, origin: str) -> tuple[ClassThreshold, ...]:
    if not isinstance(raw, list) or not raw:
        raise RubricError(f"{origin}: 'classes' must be a non-empty list of {{code, min_score}}")
    known = [c.value for c in DistrictClass]
    classes: list[ClassThreshold] = []
    for i, item in enumerate(raw):
        code = str(_need(item, "code", f"{origin}: classes[{i}]"))
        if code not in known:
            raise RubricError(f"{origin}: class {code!r} is not a palette class ({', '.join(known)})")
        classes.append(ClassThreshold(code, _number(_need(item, "min_score", f"{origin}: class {code}"),
                                                    f"{origin}: class {code} min_score")))
    codes = [c.code for c in classes]
    if len(set(codes)) != len(codes):
        raise RubricError(f"{origin}: class codes repeat: {codes}")
    if codes != sorted(codes, key=known.index):
        raise RubricError(f"{origin}: classes must be listed worst first (c1 … c5), got {codes}")
    scores = [c.min_score for c in classes]
    if any(a <= b for a, b in itertools.pairwise(scores)):
        raise RubricError(f"{origin}: class thresholds must be strictly descending, got {scores}")
    if scores[-1] != 0:
        raise RubricError(f"{origin}: the last class ({codes[-1]}) must start at 0 so every score has a class, "
                          f"got {scores[-1]}")
    if scores[0] > 100:
        raise RubricError(f"{origin}: threshold {scores[0]} of {codes[0]} is above the maximum score 100")
    return tuple(classes)


def parse_rubric(data: Mapping[str, Any], *, origin: str = "rubric") -> Rubric:
    """Validate a parsed rubric mapping (the YAML's content) and build a :class:`Rubric`.

    Parameters
    ----------
    data : mapping
        Keys ``version``, ``source``, ``indicators`` and ``classes`` (required),
        ``data_date_note``, ``method_zh``, ``method_en`` and ``parameters`` (optional).
    origin : str
        Name used in error messages (e.g. the file path).

    Returns
    -------
    Rubric
        The validated rubric.

    Raises
    ------
    RubricError
        When a key is missing, the weights do not sum to 1 (±1e-9), codes repeat, a
        direction or method is unknown, or the class thresholds are not strictly descending
        down to 0.

    Examples
    --------
    >>> r = parse_rubric({"version": "t", "source": "test",
    ...     "indicators": [{"code": "a", "zh": "甲", "en": "A", "weight": 1.0}],
    ...     "classes": [{"code": "c1", "min_score": 50}, {"code": "c5", "min_score": 0}]})
    >>> r.codes, r.indicator("a").method
    (['a'], 'minmax_city')
    >>> parse_rubric({"version": "t", "source": "test",
    ...     "indicators": [{"code": "a", "zh": "甲", "en": "A", "weight": 0.9}],
    ...     "classes": [{"code": "c5", "min_score": 0}]})
    Traceback (most recent call last):
    ...
    layers.rating.rubric.RubricError: rubric: indicator weights sum to 0.9, not 1 (a=0.9)
    """
    if not isinstance(data, Mapping):
        raise RubricError(f"{origin}: expected a mapping, got {type(data).__name__}")
    version = str(_need(data, "version", origin))
    source = str(_need(data, "source", origin))
    raw_inds = _need(data, "indicators", origin)
    if not isinstance(raw_inds, list) or not raw_inds:
        raise RubricError(f"{origin}: 'indicators' must be a non-empty list")
    indicators = tuple(_parse_indicator(raw, i, origin) for i, raw in enumerate(raw_inds))
    codes = [i.code for i in indicators]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise RubricError(f"{origin}: indicator codes repeat: {', '.join(repeated)}")
    total = math.fsum(i.weight for i in indicators)
    if abs(total - 1.0) > _WEIGHT_EPS:
        parts = ", ".join(f"{i.code}={i.weight:g}" for i in indicators)
        raise RubricError(f"{origin}: indicator weights sum to {total:.12g}, not 1 ({parts})")
    classes = _parse_classes(_need(data, "classes", origin), origin)
    params_raw = data.get("parameters") or {}
    if not isinstance(params_raw, Mapping):
        raise RubricError(f"{origin}: 'parameters' must be a mapping")
    params = {str(k): _number(v, f"{origin}: parameter {k}") for k, v in params_raw.items()}
    return Rubric(version=version, source=source, data_date_note=str(data.get("data_date_note") or ""),
                  method_zh=str(data.get("method_zh") or ""), method_en=str(data.get("method_en") or ""),
                  indicators=indicators, classes=classes, parameters=params)


def load_rubric(path: str | Path | None = None) -> Rubric:
    """Load and validate a rubric YAML file (default: the published ``layers/rubric.yaml``).

    Parameters
    ----------
    path : str or Path, optional
        Rubric file.

    Returns
    -------
    Rubric
        The rubric in the file, validated.

    Raises
    ------
    RubricError
        When the file is missing, is not YAML, or fails :func:`parse_rubric`'s checks.

    Examples
    --------
    >>> r = load_rubric()
    >>> [c.code for c in r.classes]
    ['c1', 'c2', 'c3', 'c4', 'c5']
    """
    file = Path(path) if path is not None else RUBRIC_PATH
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError(f"cannot read rubric {file}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RubricError(f"rubric {file} is not valid YAML: {exc}") from exc
    return parse_rubric(data, origin=str(file))


def classify_score(score: float, rubric: Rubric) -> str:
    """Class code of a 0–100 score: the first (worst) class whose ``min_score`` it reaches.

    A score within 1e-9 below a threshold counts as reaching it (sums of floats).

    Examples
    --------
    >>> r = load_rubric()
    >>> classify_score(60, r), classify_score(59.99, r), classify_score(0, r)
    ('c1', 'c2', 'c5')
    """
    for cls in rubric.classes:
        if score >= cls.min_score - _SCORE_EPS:
            return cls.code
    return rubric.classes[-1].code
