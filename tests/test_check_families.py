"""One table of check families read by the runner, the command line and the site pre-check."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import click
import pytest

from geo.checks import runner, site
from geo.checks.bundle import Bundle
from geo.checks.families import FAMILIES, family_names, precheck_families
from geo.checks.findings import COLUMNS
from geo.checks.ruleset import load_ruleset


def test_the_table_names_every_family_of_the_rule_file_once() -> None:
    rules = load_ruleset()
    assert set(FAMILIES) == {rule.family for rule in rules.rules.values()}
    assert family_names() == tuple(FAMILIES) == runner.FAMILIES
    for name, family in FAMILIES.items():
        assert family.name == name and family.zh and family.en and family.zh != family.en


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_in_the_table_runs_through_the_runner(name: str) -> None:
    result = runner.run_checks(Bundle({}), load_ruleset(), families=[name], as_of=dt.date(2026, 11, 1))
    assert result.findings.empty and set(COLUMNS) <= set(result.findings.columns)
    assert list(result.timings) == [name]
    assert result.rules_run == [r.code for r in load_ruleset().family(name)]
    assert (result.hca_segments is not None) == (name == "hca")


def test_the_runner_refuses_a_family_outside_the_table() -> None:
    with pytest.raises(ValueError, match="unknown check family 'nope'"):
        runner.run_checks(Bundle({}), load_ruleset(), families=["nope"])


def test_cli_family_choices_are_the_table() -> None:
    from riskmap.cli import main

    command = main.commands["check"]
    option = next(p for p in command.params if p.name == "families")
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == tuple(FAMILIES)


def test_site_precheck_runs_the_families_the_table_marks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert precheck_families("site") == ["safety_distance", "code_separation", "pipeline", "tailings"]
    assert precheck_families("neighbours") == ["hca"]
    asked: list[list[str]] = []
    real = site.run_checks

    def spy(bundle: Bundle, rules: object, *, families: list[str], **kw: object) -> runner.CheckResult:
        asked.append(list(families))
        return real(bundle, rules, families=families, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(site, "run_checks", spy)
    for name in precheck_families("neighbours"):  # these give the pre-check their identified segments only
        family = FAMILIES[name]
        assert family.segments is not None

        def segments(bundle: Bundle, rules: object, name: str = name,
                     real: Callable[..., object] = family.segments) -> object:
            asked.append([name])
            return real(bundle, rules)

        monkeypatch.setitem(FAMILIES, name, dataclasses.replace(family, segments=segments))
    from shapely.geometry import Point

    base = Bundle({}, metric_epsg=4543)
    site.precheck_site(base, Point(102.0, 24.85).buffer(0.0005), "residential", households=10)
    assert asked == [precheck_families("site"), precheck_families("neighbours")]


def test_a_run_refuses_a_rule_of_a_family_outside_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from geo.checks import ruleset
    from geo.checks.runner import run_checks

    rule = {"code": "X_NEW", "family": "noise", "zh": "噪声", "en": "Noise", "clause": "GB 0",
            "confidence": "confirmed", "effective": "2026-01-01"}
    monkeypatch.setattr(ruleset, "load_table", lambda _name: {"version": "t", "rules": [rule]})
    with pytest.raises(ValueError, match="X_NEW: unknown family 'noise'"):
        run_checks(Bundle({}, metric_epsg=4543))
    monkeypatch.setattr(ruleset, "load_table", lambda _name: {"version": "t", "rules": [{**rule, "family": "mhs"}]})
    assert ruleset.load_ruleset().family("mhs")[0].code == "X_NEW"
