"""The parameters of the major-hazard rules and the GB 18218-2018 lookups: α by people exposed, grade by R.

:class:`MhsParams` reads ``MHS_GRADE_LOW`` / ``MHS_UNDECLARED`` from the rule set; :func:`alpha_for`
and :func:`grade_for` apply its tables. The rules are described in :mod:`geo.checks.mhs`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from geo.checks.ruleset import RuleSet, below

#: Distances are compared after rounding to this many decimals of a metre (1 mm).
MM = 3


SLACK = 10.0 ** -MM


#: S and R are compared after rounding to this many decimals.
DECIMALS = 6


#: Chinese grade labels (1 = 一级, the most severe).
GRADE_LABELS = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}


#: The lowest grade: a major hazard installation below every ``grade_min_r``.
LOWEST_GRADE = 4


@dataclass(frozen=True)
class MhsParams:
    """The numbers of the ``mhs`` rules (``MHS_UNDECLARED`` and ``MHS_GRADE_LOW``), as read from a rule set.

    Attributes
    ----------
    min_s : float
        S at or above which a unit is a major hazard installation.
    s_inclusive : bool
        Whether S = ``min_s`` counts (``MHS_UNDECLARED.inclusive``).
    grade_min_r : tuple of (int, float)
        (grade, minimum R), most severe grade first.
    alpha_bands : tuple of (float, float)
        (minimum people, α), largest minimum first.
    radius_m : float
        Radius around the plant boundary in which people count.
    radius_inclusive : bool
        Whether a feature exactly at ``radius_m`` counts (``MHS_GRADE_LOW.inclusive``).
    persons_per_household : float
        People per household.
    building_uses, target_types : tuple of str
        Building uses and protection-target types whose people count.
    """

    min_s: float
    s_inclusive: bool
    grade_min_r: tuple[tuple[int, float], ...]
    alpha_bands: tuple[tuple[float, float], ...]
    radius_m: float
    radius_inclusive: bool
    persons_per_household: float
    building_uses: tuple[str, ...]
    target_types: tuple[str, ...]

    @classmethod
    def of(cls, rules: RuleSet) -> MhsParams:
        """Read the parameters from ``rules`` (local values included when ``rules`` carries them).

        Examples
        --------
        >>> from geo.checks.ruleset import load_ruleset
        >>> p = MhsParams.of(load_ruleset())
        >>> p.min_s, p.radius_m, p.grade_min_r[0], p.alpha_bands[0], p.alpha_bands[-1]
        (1.0, 500.0, (1, 100.0), (100.0, 2.0), (0.0, 0.5))
        """
        undeclared, low = rules["MHS_UNDECLARED"], rules["MHS_GRADE_LOW"]
        grades = sorted((int(g), float(r)) for g, r in low.params["grade_min_r"].items())
        bands = sorted(((float(b["min_people"]), float(b["alpha"])) for b in low.params["alpha"].values()),
                       reverse=True)
        return cls(
            min_s=float(undeclared.params["min_s"]), s_inclusive=bool(undeclared.inclusive),
            grade_min_r=tuple(grades), alpha_bands=tuple(bands), radius_m=float(low.params["radius_m"]),
            radius_inclusive=bool(low.inclusive), persons_per_household=float(low.params["persons_per_household"]),
            building_uses=tuple(str(u) for u in low.params["residential_building_uses"]),
            target_types=tuple(str(t) for t in low.params["resident_target_types"]),
        )

    def is_mhs(self, s: float) -> bool:
        """Whether a unit with this S is a major hazard installation.

        Examples
        --------
        >>> from geo.checks.ruleset import load_ruleset
        >>> p = MhsParams.of(load_ruleset())
        >>> p.is_mhs(0.99), p.is_mhs(1.0), p.is_mhs(0.1 + 0.2 + 0.7)
        (False, True, True)
        """
        return not below(s, self.min_s, inclusive=not self.s_inclusive)


def alpha_for(people: float, bands: Iterable[tuple[float, float]]) -> float:
    """α for ``people`` within the radius: the band with the largest minimum reached (inclusive).

    Parameters
    ----------
    people : float
        Whole persons within the radius of the plant boundary.
    bands : iterable of (min_people, alpha)
        E.g. :attr:`MhsParams.alpha_bands`.

    Returns
    -------
    float

    Examples
    --------
    >>> bands = [(100, 2.0), (50, 1.5), (30, 1.2), (1, 1.0), (0, 0.5)]
    >>> [alpha_for(n, bands) for n in (120, 100, 99, 50, 30, 29, 1, 0)]
    [2.0, 2.0, 1.5, 1.5, 1.2, 1.0, 1.0, 0.5]
    """
    ordered = sorted(bands, reverse=True)
    for minimum, alpha in ordered:
        if people >= minimum:
            return float(alpha)
    return float(ordered[-1][1])


def grade_for(r: float, grade_min_r: Iterable[tuple[int, float]]) -> int:
    """Grade (1 = 一级 … 4 = 四级) of a major hazard installation with this R.

    Examples
    --------
    >>> thresholds = [(1, 100.0), (2, 50.0), (3, 10.0)]
    >>> [grade_for(r, thresholds) for r in (150.0, 100.0, 99.99, 50.0, 31.2, 10.0, 9.99, 0.0)]
    [1, 1, 2, 2, 3, 3, 4, 4]
    """
    for grade, minimum in sorted(grade_min_r):
        if not below(r, minimum, inclusive=False):  # r ≥ minimum, unrounded (noise-aware)
            return int(grade)
    return LOWEST_GRADE


def fmt(x: float) -> str:
    """Format a number with at most 4 decimals, trailing zeros dropped (31.2, 5.4, 0.75)."""
    return f"{x:.4f}".rstrip("0").rstrip(".")


def whole_people(people: float) -> int:
    """Round an estimate of people to whole persons, half up (noise below 1e-6 ignored)."""
    return math.floor(round(people, DECIMALS) + 0.5)


def grade_zh(grade: int | None) -> str:
    """Return the Chinese label of a grade (``无`` for none)."""
    return "无" if grade is None else GRADE_LABELS.get(grade, str(grade))


def grade_en(grade: int | None) -> str:
    """Return the English label of a grade (``none`` for none)."""
    return "none" if grade is None else f"grade {grade}"
