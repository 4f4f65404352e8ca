"""The check families: one table that the runner, the command line and the site pre-check read.

A family is a pure function ``check_<family>(bundle, rules)`` (see :mod:`geo.checks`) whose rules
carry ``family: <name>`` in ``geo/rules/checks.yaml``. To add one, write its module, add its rules
to the YAML and add one :class:`Family` row to :data:`FAMILIES` here; ``riskmap check --family``,
:func:`geo.checks.runner.run_checks` and :func:`geo.checks.site.precheck_site` follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd

from geo.checks.bundle import Bundle
from geo.checks.code_separation import check_code_separations
from geo.checks.hca import hca_family, identify_hcas
from geo.checks.mhs import check_mhs
from geo.checks.pipeline import check_pipelines
from geo.checks.ruleset import RuleSet
from geo.checks.safety_distance import check_safety_distances
from geo.checks.siting import check_siting
from geo.checks.tailings import DemGrid, check_tailings

__all__ = ["FAMILIES", "Family", "FamilyRun", "family_names", "precheck_families", "site_ruleset"]

#: What running a family gives: its findings and, for ``hca``, the identified HCA segments.
FamilyRun = tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]
#: How the site pre-check runs a family: ``"site"`` with only the site exposed (distance rules
#: about the site), ``"neighbours"`` with the site among its neighbours (the location class counts
#: them), ``None`` not at all (the family does not judge a single new site).
Precheck = Literal["site", "neighbours"] | None


@dataclass(frozen=True)
class Family:
    """One check family: its name, its names for people and how to run it."""

    name: str
    zh: str
    en: str
    run: Callable[[Bundle, RuleSet, dt.date, DemGrid | None], FamilyRun]
    precheck: Precheck = None
    #: For a ``"site"`` family: its rules whose findings can be about a new protection target or
    #: building (the others judge existing features against each other, so the pre-check leaves them
    #: out); None: all of them.
    site_rules: tuple[str, ...] | None = None
    #: For a ``"neighbours"`` family: what the pre-check runs, which gives only the identified segments
    #: (its findings judge existing features, never the site: none are made).
    segments: Callable[[Bundle, RuleSet], gpd.GeoDataFrame] | None = None
    #: Seconds the family takes in a full run of the benchmark city (README): when families run side by
    #: side (:func:`geo.checks.runner.run_checks`), the heaviest start first so that none is left alone at
    #: the end. Only the order depends on it, never a finding.
    cost: float = 0.1


def _safety_distance(bundle: Bundle, rules: RuleSet, _as_of: dt.date, _dem: DemGrid | None) -> FamilyRun:
    return check_safety_distances(bundle, rules), None


def _code_separation(bundle: Bundle, rules: RuleSet, _as_of: dt.date, _dem: DemGrid | None) -> FamilyRun:
    return check_code_separations(bundle, rules), None


def _pipeline(bundle: Bundle, rules: RuleSet, _as_of: dt.date, _dem: DemGrid | None) -> FamilyRun:
    return check_pipelines(bundle, rules), None


def _hca(bundle: Bundle, rules: RuleSet, as_of: dt.date, _dem: DemGrid | None) -> FamilyRun:
    return hca_family(bundle, rules, as_of=as_of)


def _tailings(bundle: Bundle, rules: RuleSet, _as_of: dt.date, dem: DemGrid | None) -> FamilyRun:
    return check_tailings(bundle, rules, dem=dem), None


def _siting(bundle: Bundle, rules: RuleSet, _as_of: dt.date, _dem: DemGrid | None) -> FamilyRun:
    return check_siting(bundle, rules), None


def _mhs(bundle: Bundle, rules: RuleSet, _as_of: dt.date, _dem: DemGrid | None) -> FamilyRun:
    return check_mhs(bundle, rules), None


#: Every check family, in the order a run takes them.
FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("safety_distance", "外部安全距离", "External safety distance", _safety_distance, "site", cost=0.14),
    Family("code_separation", "规范防火间距", "Code fire separations", _code_separation, "site",
           ("CODE_50160", "CODE_50016_WAREHOUSE", "CODE_50016_FACTORY"), cost=2.7),
    Family("pipeline", "油气管道", "Pipelines", _pipeline, "site", ("PIPE_OCCUPY", "PIPE_SPACING"), cost=3.0),
    Family("hca", "地区等级与高后果区", "Location class and HCAs", _hca, "neighbours", segments=identify_hcas,
           cost=5.2),
    Family("tailings", "尾矿库", "Tailings ponds", _tailings, "site", cost=0.38),
    Family("siting", "选址禁限", "Siting bans", _siting, cost=0.19),
    Family("mhs", "重大危险源", "Major hazard installations", _mhs, cost=0.63),
)}


def family_names() -> tuple[str, ...]:
    """Return the names of the check families in run order.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> family_names()[:3]
    ('safety_distance', 'code_separation', 'pipeline')
    """
    return tuple(FAMILIES)


def precheck_families(precheck: Precheck) -> list[str]:
    """Return the families the site pre-check runs in the way ``precheck``, in run order.

    Parameters
    ----------
    precheck : {"site", "neighbours"}
        How the family is run (see :class:`Family`).

    Returns
    -------
    list of str

    Examples
    --------
    >>> precheck_families("neighbours")
    ['hca']
    """
    return [name for name, family in FAMILIES.items() if family.precheck == precheck]


def site_ruleset(rules: RuleSet) -> RuleSet:
    """Return the rules of the ``"site"`` families that can be about a new site (see :class:`Family`).

    Parameters
    ----------
    rules : RuleSet
        The rules of the pre-check.

    Returns
    -------
    RuleSet
        The same version, with the rules of the families the pre-check runs with only the site
        exposed, less those a family lists as judging existing features only.

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> sorted(c for c in site_ruleset(load_ruleset()).rules if c.startswith("PIPE_"))
    ['PIPE_OCCUPY', 'PIPE_SPACING']
    """
    kept = {}
    for code, rule in rules.rules.items():
        family = FAMILIES.get(rule.family)
        if family is not None and family.precheck == "site" and (family.site_rules is None
                                                                   or code in family.site_rules):
            kept[code] = rule
    return RuleSet(rules.version, kept)
