"""五色 district rating: indicators per district, a published rubric, scores, classes and explanations.

No national standard defines a 五色图 (``standards.md`` §8.2). The rating here is RiskMap's
own, published in ``layers/rubric.yaml`` and editable without code changes:

1. :func:`district_indicators` computes raw indicators per district from a
   :class:`~geo.checks.bundle.Bundle` and a findings frame (counts of 重大/较大 risk sources,
   open and overdue hidden hazards, open violations, HCA length by grade, 头顶库, 危/险/病库,
   population inside individual-risk contours).
2. :func:`rate_districts` normalises each indicator to 0–1 (``minmax_city`` over the
   districts, or ``cap``), weights it, and sums the contributions to a 0–100 score, which
   the rubric's thresholds cut into classes c1 (worst) … c5; colours and labels come from
   :mod:`layers.palette` only.
3. :func:`explain` / :func:`explain_text` answer "why is this district orange?";
   :func:`what_if` re-rates every district after hypothetical changes (min-max scores are
   city-relative, so one district's change moves the others).

Lengths and areas are measured in the bundle's metric Gauss-Krüger zone (``Bundle.metric``).
Nothing is computed at import time; this module never imports Dash or Plotly.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from geo.checks.bundle import Bundle
from geo.errors import ConfigError
from layers.measures import chosen_hcas, counted_sources, hazard_masks, is_violation
from layers.palette import FIVE_COLOUR, DistrictClass

__all__ = [
    "INDICATOR_CODES",
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

#: The published rubric.
RUBRIC_PATH = Path(__file__).with_name("rubric.yaml")

#: Indicators :func:`district_indicators` computes (a rubric may use any subset).
INDICATOR_CODES = (
    "major_risks", "significant_risks", "major_per_100km2", "open_major_hazards", "rectification_rate",
    "overdue_hazards", "open_violations", "hca_km_grade3", "hca_km_grade2", "hca_km_grade1",
    "overhead_tailings", "dangerous_tailings", "population_in_contours",
)
#: Context columns of :func:`district_indicators` that are not indicators (used by :func:`close_hazard`).
CONTEXT_COLUMNS = ("area_km2", "hazards_total")

DIRECTIONS = ("higher_is_worse", "higher_is_better")
METHODS = ("minmax_city", "cap")
#: Layers whose ``risk_level`` counts as a risk source.
#: Layers whose features count as risk sources (merged as :func:`layers.measures.counted_sources` says).
RISK_SOURCE_LAYERS = ("enterprises", "tailings_dams", "hcas", "risk_points")
#: Findings in these states no longer describe the present (remediated, or not found again).
GONE_FINDING_STATUSES = ("closed", "resolved")
DANGEROUS_DEGREES = ("danger", "risk", "sick")
OVERHEAD_RULE = "TAIL_OVERHEAD"
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


# ---------------------------------------------------------------------------
# rubric
# ---------------------------------------------------------------------------

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
    layers.rating.RubricError: rubric: indicator weights sum to 0.9, not 1 (a=0.9)
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


# ---------------------------------------------------------------------------
# indicators
# ---------------------------------------------------------------------------

def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _per_district(values: pd.Series, adcodes: pd.Series, index: pd.Index) -> pd.Series:
    """Sum ``values`` by district code, over ``index`` (zeros where nothing)."""
    if not len(values):
        return pd.Series(0.0, index=index)
    keyed = pd.DataFrame({"adcode": adcodes.astype(object).to_numpy(), "v": values.astype(float).to_numpy()})
    keyed = keyed[keyed["adcode"].notna()]
    keyed["adcode"] = keyed["adcode"].astype(str)
    summed = keyed.groupby("adcode")["v"].sum()
    return summed.reindex(index, fill_value=0.0).astype(float)


def _count(mask: pd.Series, adcodes: pd.Series, index: pd.Index) -> pd.Series:
    return _per_district(mask.fillna(False).astype(bool).astype(float), adcodes, index)


def _is_in(series: pd.Series, values: tuple[str, ...]) -> pd.Series:
    return series.astype(object).isin(values)


def _findings_status(findings: pd.DataFrame) -> pd.Series:
    """Remediation status of each finding; a fresh run's findings (no status column) are open."""
    if "status" in findings.columns:
        return findings["status"].astype(object).fillna("open")
    return pd.Series("open", index=findings.index, dtype=object)


def _overhead_ponds(bundle: Bundle, findings: pd.DataFrame, index: pd.Index) -> pd.Series:
    if not len(findings) or "rule_code" not in findings.columns:
        return pd.Series(0.0, index=index)
    hits = findings[(findings["rule_code"].astype(object) == OVERHEAD_RULE)
                    & ~_is_in(_findings_status(findings), GONE_FINDING_STATUSES)]
    if not len(hits):
        return pd.Series(0.0, index=index)
    ponds = bundle["tailings_dams"]
    home = dict(zip(_col(ponds, "key").astype(str), _col(ponds, "adcode"), strict=True))
    keys = hits["subject_key"].astype(str)
    found_in = _col(hits, "adcode").astype(object)
    adcodes = [home.get(k, f) for k, f in zip(keys, found_in, strict=True)]
    distinct = pd.DataFrame({"pond": keys.to_numpy(), "adcode": adcodes}).drop_duplicates("pond")
    return _count(pd.Series(True, index=distinct.index), distinct["adcode"], index)


def _hca_km(bundle: Bundle, hca_segments: gpd.GeoDataFrame | None, tolerance_m: float,
            index: pd.Index) -> dict[int, pd.Series]:
    """HCA length in km per district and grade, overlaps of one pipeline counted once at the highest grade."""
    out = {g: pd.Series(0.0, index=index) for g in (1, 2, 3)}
    hcas = chosen_hcas(bundle["hcas"], hca_segments)
    if not len(hcas):
        return out
    metric = hcas.to_crs(bundle.metric_epsg)
    pieces: list[tuple[Any, int, Any]] = []
    for _group, rows in metric.sort_values("grade", ascending=False, kind="stable").groupby("group", sort=False):
        counted: Any = None
        for geom, grade, adcode in zip(rows.geometry, rows["grade"], rows["adcode"], strict=True):
            part = geom if counted is None else shapely.difference(geom, shapely.buffer(counted, tolerance_m))
            counted = geom if counted is None else shapely.union(counted, geom)
            if not part.is_empty:
                pieces.append((part, int(grade), adcode))
    districts = bundle.metric("districts")
    codes = districts["adcode"].astype(str).to_numpy()
    for part, grade, adcode in pieces:
        inside = 0.0
        for j in districts.sindex.query(part, predicate="intersects"):
            length = shapely.intersection(part, districts.geometry.iloc[j]).length
            out[grade].loc[codes[j]] += length / 1000.0
            inside += length
        rest = part.length - inside
        if rest > tolerance_m and isinstance(adcode, str) and adcode in out[grade].index:
            out[grade].loc[adcode] += rest / 1000.0
    return out


def _population_in_contours(bundle: Bundle, min_risk: float, per_household: float,
                            index: pd.Index) -> pd.Series:
    contours = bundle.metric("risk_contours")
    risk = pd.to_numeric(_col(contours, "individual_risk"), errors="coerce")
    contours = contours[risk >= min_risk * (1 - 1e-12)]
    total = pd.Series(0.0, index=index)
    if not len(contours):
        return total
    tree = contours.sindex
    for layer, column, factor in (("protection_targets", "population", 1.0),
                                  ("buildings", "households", per_household)):
        frame = bundle.metric(layer)
        if not len(frame):
            continue
        hit = np.unique(tree.query(frame.geometry.to_numpy(), predicate="intersects")[0])
        inside = frame.iloc[hit]
        people = pd.to_numeric(_col(inside, column), errors="coerce").fillna(0.0) * factor
        total = total + _per_district(people, _col(inside, "adcode"), index)
    return total


def district_indicators(bundle: Bundle, findings: pd.DataFrame | None, *, as_of: dt.date,
                        rubric: Rubric | None = None,
                        hca_segments: gpd.GeoDataFrame | None = None,
                        sources: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Raw rating indicators of every district of ``bundle``.

    Features count in the district of their ``adcode`` attribute (features of districts not
    in ``bundle["districts"]`` are ignored), except HCA lengths, which are split by the
    district polygons (a part outside every polygon counts in the HCA's own district).

    Parameters
    ----------
    bundle : Bundle
        Layers as stored (EPSG:4490); lengths and areas are measured in ``bundle.metric``.
    findings : DataFrame or None
        Findings of a check run or of :func:`geo.store.read_findings` (``rule_code``,
        ``verdict``, ``adcode``, ``subject_key`` and, if stored, ``status``; without a
        ``status`` column every finding is taken as open).
    as_of : date
        Rating date: a hidden hazard is overdue when its ``deadline`` is before this day
        and it is not struck off (销号).
    rubric : Rubric, optional
        Supplies ``parameters`` (persons per household, contour threshold, HCA overlap
        tolerance); default :func:`load_rubric`.
    hca_segments : GeoDataFrame, optional
        Identified HCA segments of a run (``CheckResult.hca_segments``). Identified HCAs
        also come from ``bundle["hcas"]`` rows with ``origin == "identified"``.
    sources : GeoDataFrame, optional
        The counted risk sources (:func:`layers.measures.counted_sources`), when already computed.

    Returns
    -------
    DataFrame
        Indexed by ``adcode`` (every district of the bundle, zeros where nothing), columns
        ``name``, the :data:`INDICATOR_CODES` and the context columns ``area_km2`` and
        ``hazards_total`` (not indicators):

        - ``major_risks`` / ``significant_risks``: 重大 / 较大 risk sources as
          :func:`layers.measures.counted_sources` defines them (a risk point describing a facility
          is merged with it);
        - ``major_per_100km2``: ``major_risks`` per 100 km² of district area;
        - ``open_major_hazards``: hidden hazards of severity major, status open or rectifying;
        - ``rectification_rate``: (rectified + closed) / all hidden hazards (1 when none);
        - ``overdue_hazards``: deadline before ``as_of`` and not struck off (销号);
        - ``open_violations``: findings with verdict violation and status open or in_remediation;
        - ``hca_km_grade3/2/1``: HCA length (km) by grade, per pipeline identified HCAs when it
          has any else declared ones, overlaps counted once at the highest grade;
        - ``overhead_tailings``: distinct ponds with ``TAIL_OVERHEAD`` findings not closed or
          resolved, in the pond's district;
        - ``dangerous_tailings``: ponds of safety degree danger, risk or sick;
        - ``population_in_contours``: population of protection targets plus households ×
          persons per household of buildings intersecting an individual-risk contour of at
          least the rubric's ``contour_min_individual_risk`` (each feature counted once).

    Raises
    ------
    ValueError
        When the bundle has no districts or repeats a district code.
    """
    rubric = rubric or load_rubric()
    districts = bundle["districts"]
    if not len(districts) or "adcode" not in districts.columns:
        raise ValueError("the bundle has no districts to rate")
    codes = districts["adcode"].astype(str)
    if codes.duplicated().any():
        raise ValueError(f"district codes repeat in the bundle: {sorted(set(codes[codes.duplicated()]))}")
    index = pd.Index(codes.to_list(), name="adcode")
    out = pd.DataFrame(index=index)
    out["name"] = _col(districts, "name").astype(object).to_numpy()
    area_km2 = pd.Series(bundle.metric("districts").geometry.area.to_numpy() / 1e6, index=index)

    counted = sources if sources is not None else counted_sources(bundle, identified_hcas=hca_segments)
    levels = _col(counted, "risk_level")
    out["major_risks"] = _count(levels == "major", _col(counted, "adcode"), index)
    out["significant_risks"] = _count(levels == "significant", _col(counted, "adcode"), index)
    out["major_per_100km2"] = (out["major_risks"] / area_km2.where(area_km2 > 0) * 100.0).fillna(0.0)

    hz = bundle["hidden_hazards"]
    hz_codes = _col(hz, "adcode")
    masks = hazard_masks(hz, as_of)
    out["open_major_hazards"] = _count(masks["open_major"], hz_codes, index)
    total = _count(masks["counted"], hz_codes, index)
    rectified = _count(masks["done"], hz_codes, index)
    out["rectification_rate"] = (rectified / total.where(total > 0)).fillna(1.0)
    out["overdue_hazards"] = _count(masks["overdue"], hz_codes, index)

    found = findings if findings is not None else pd.DataFrame()
    if len(found) and {"verdict", "adcode"} <= set(found.columns):
        out["open_violations"] = _count(is_violation(found), found["adcode"], index)
    else:
        out["open_violations"] = 0.0

    km = _hca_km(bundle, hca_segments, rubric.parameter("hca_overlap_tolerance_m"), index)
    for grade in (3, 2, 1):
        out[f"hca_km_grade{grade}"] = km[grade]

    ponds = bundle["tailings_dams"]
    out["overhead_tailings"] = _overhead_ponds(bundle, found, index)
    out["dangerous_tailings"] = _count(_is_in(_col(ponds, "safety_degree"), DANGEROUS_DEGREES),
                                       _col(ponds, "adcode"), index)
    out["population_in_contours"] = _population_in_contours(
        bundle, rubric.parameter("contour_min_individual_risk"), rubric.parameter("persons_per_household"), index)
    out["area_km2"] = area_km2
    out["hazards_total"] = total
    return out[["name", *INDICATOR_CODES, *CONTEXT_COLUMNS]]


# ---------------------------------------------------------------------------
# rating
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# explanations
# ---------------------------------------------------------------------------

def _row(frame: pd.DataFrame, adcode: str, what: str = "ratings") -> dict[str, Any]:
    """One district's row as a plain mapping."""
    if adcode not in frame.index:
        raise ValueError(f"district {adcode!r} is not in the {what}")
    row: Any = frame.loc[adcode]
    return {str(k): v for k, v in row.items()}


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
    row = _row(ratings, adcode)
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
    row = _row(ratings, adcode)
    table = explain(ratings, adcode, rubric, lang=lang)
    drivers = table[table["contribution"] > 0].head(top)
    name = row["name"] if isinstance(row.get("name"), str) else adcode
    items: list[dict[str, Any]] = [{str(k): v for k, v in d.items()} for d in drivers.to_dict("records")]
    score, code = float(row["score"]), str(row["class_code"])
    codes = [c.code for c in rubric.classes]
    i = codes.index(code)
    this = rubric.classes[i]
    if lang == "zh":
        parts = [f"{name}得分 {score:.1f}，评为“{this.label('zh')}”。"]
        if items:
            named = "、".join(f"{d['indicator']} {_value_text(d['raw'], d['unit'], 'zh')}"
                             f"(贡献 {d['contribution']:.1f} 分，占 {d['share'] * 100:.0f}%)" for d in items)
            parts.append(f"主要驱动因素：{named}。")
        else:
            parts.append("各项指标均处于全市最低水平，无突出驱动因素。")
        if i + 1 < len(codes):
            nxt = rubric.classes[i + 1]
            parts.append(f"得分需降至 {this.min_score:g} 分以下(降低超过 {score - this.min_score:.1f} 分)"
                         f"方可降为“{nxt.label('zh')}”。")
        else:
            parts.append("已处于最低风险等级。")
        return "".join(parts)
    parts = [f"{name} scores {score:.1f}, class “{this.label('en')}”."]
    if items:
        named = "; ".join(f"{d['indicator']} {_value_text(d['raw'], d['unit'], 'en')} "
                          f"({d['contribution']:.1f} points, {d['share'] * 100:.0f}%)" for d in items)
        parts.append(f" Main drivers: {named}.")
    else:
        parts.append(" Every indicator is at the city minimum; nothing stands out.")
    if i + 1 < len(codes):
        nxt = rubric.classes[i + 1]
        parts.append(f" The score must fall below {this.min_score:g} (by more than {score - this.min_score:.1f} "
                     f"points) to reach “{nxt.label('en')}”.")
    else:
        parts.append(" It is already in the lowest class.")
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
    >>> r = parse_rubric({"version": "t", "source": "test", "method_zh": "说明。", "method_en": "About.",
    ...     "indicators": [{"code": "a", "zh": "甲", "en": "A", "weight": 1.0}],
    ...     "classes": [{"code": "c1", "min_score": 60}, {"code": "c5", "min_score": 0}]})
    >>> method_note(r)
    '说明。指标权重：甲 100%。分级：60 分及以上为“高风险”；60 分以下为“低风险”。'
    """
    zh = lang == "zh"
    weights = ("、" if zh else ", ").join(f"{i.label(lang)} {i.weight * 100:.0f}%" for i in rubric.indicators)
    bands = []
    for k, cls in enumerate(rubric.classes):
        label = cls.label(lang)
        if k == 0:
            bands.append(f"{cls.min_score:g} 分及以上为“{label}”" if zh else f"{cls.min_score:g} or more: “{label}”")
        elif k == len(rubric.classes) - 1:
            upper = rubric.classes[k - 1].min_score
            bands.append(f"{upper:g} 分以下为“{label}”" if zh else f"below {upper:g}: “{label}”")
        else:
            upper = rubric.classes[k - 1].min_score
            bands.append(f"{cls.min_score:g}–{upper:g} 分为“{label}”" if zh
                         else f"{cls.min_score:g} to {upper:g}: “{label}”")
    if zh:
        return f"{rubric.method_zh.strip()}指标权重：{weights}。分级：{'；'.join(bands)}。"
    return f"{rubric.method_en.strip()} Weights: {weights}. Classes: {'; '.join(bands)}."


# ---------------------------------------------------------------------------
# what-if
# ---------------------------------------------------------------------------

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
    >>> r = parse_rubric({"version": "t", "source": "test",
    ...     "indicators": [{"code": "a", "zh": "甲", "en": "A", "weight": 1.0}],
    ...     "classes": [{"code": "c1", "min_score": 50}, {"code": "c5", "min_score": 0}]})
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
    row = _row(indicators, adcode, "indicator table")
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
