"""The versioned rule set (``geo/rules/checks.yaml``): codes, clauses, thresholds and lookups as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geo.rules import load_table

#: Thresholds are compared on unrounded values; only differences below this (a micrometre, or a
#: micro-degree for angles) count as "exactly at the threshold". It is far below every displayed digit
#: and far above the float64 noise of a round trip through EPSG:4490 (nanometres), so a feature drawn
#: exactly on a threshold is not lost to reprojection, and 29.96° is below 30° although shown as 30.0°.
FLOAT_NOISE = 1e-6


def below(value: float, limit: float, *, inclusive: bool) -> bool:
    """Compare an unrounded value with a limit: ``value ≤ limit`` or ``value < limit``, noise-aware.

    Examples
    --------
    >>> below(29.96, 30.0, inclusive=False), below(30.0 - 1e-9, 30.0, inclusive=False)
    (True, False)
    """
    if inclusive:
        return float(value) <= float(limit) + FLOAT_NOISE
    return float(value) < float(limit) - FLOAT_NOISE


@dataclass(frozen=True)
class Rule:
    """One check rule.

    ``inclusive`` says whether a feature exactly at ``threshold_m`` counts as a
    finding (``True``: distance ≤ threshold; ``False``: distance < threshold).
    ``params`` holds rule-specific lookups (e.g. distance by pipeline medium).
    """

    code: str
    family: str
    zh: str
    en: str
    clause: str
    confidence: str
    effective: str
    threshold_m: float | None = None
    inclusive: bool = True
    params: dict[str, Any] = field(default_factory=dict)

    def hit(self, distance_m: float, threshold_m: float | None = None) -> bool:
        """Whether ``distance_m`` is inside the rule's threshold (honouring ``inclusive``).

        The value is compared unrounded (round only for display); a difference below
        :data:`FLOAT_NOISE` counts as exactly at the threshold.

        Examples
        --------
        >>> r = Rule("X", "f", "", "", "", "confirmed", "2010-10-01", threshold_m=5.0, inclusive=True)
        >>> r.hit(4.8), r.hit(5.0), r.hit(5.0004), r.hit(5.2)
        (True, True, False, False)
        >>> Rule("Y", "f", "", "", "", "confirmed", "2010-10-01", threshold_m=30.0, inclusive=False).hit(29.96)
        True
        """
        limit = self.threshold_m if threshold_m is None else threshold_m
        if limit is None:
            raise ValueError(f"rule {self.code} has no threshold")
        return below(distance_m, limit, inclusive=self.inclusive)


@dataclass(frozen=True)
class RuleSet:
    """All rules of one version."""

    version: str
    rules: dict[str, Rule]

    def __getitem__(self, code: str) -> Rule:
        """Rule ``code``."""
        return self.rules[code]

    def family(self, family: str) -> list[Rule]:
        """Rules of one family, in file order."""
        return [r for r in self.rules.values() if r.family == family]


def load_ruleset(name: str = "checks") -> RuleSet:
    """Load the rule set from ``geo/rules/<name>.yaml``.

    Parameters
    ----------
    name : str
        Rule table name.

    Returns
    -------
    RuleSet

    Raises
    ------
    ValueError
        For a duplicate rule code. (A rule of a family outside :data:`geo.checks.families.FAMILIES`
        is refused by :func:`geo.checks.runner.run_checks`, which reads that table.)
    """
    table = load_table(name)
    rules: dict[str, Rule] = {}
    for raw in table["rules"]:
        known = {k: raw[k] for k in ("code", "family", "zh", "en", "clause", "confidence", "effective")}
        rule = Rule(**known, threshold_m=raw.get("threshold_m"), inclusive=raw.get("inclusive", True),
                    params=raw.get("params", {}))
        if rule.code in rules:
            raise ValueError(f"duplicate rule code {rule.code}")
        rules[rule.code] = rule
    return RuleSet(version=str(table["version"]), rules=rules)
