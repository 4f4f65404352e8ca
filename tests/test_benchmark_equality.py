"""The benchmark's baselines stay honest: at a small scale every baseline finds RiskMap's pairs.

Runs the naive GeoPandas query, the best straightforward Shapely 2 query and the PostGIS floor (on
this test session's private cluster) on a small rich city and asserts each finds exactly RiskMap's
(rule, subject, object) pairs of the distance rules. Nothing is timed here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import baselines, postgis_floor
from benchmarks.bench_checks import check_equality, cold, ours_distance
from benchmarks.citygen import EPSG, generate_city, generate_dem
from geo import embedded
from geo.checks.bundle import LAYERS, Bundle
from geo.checks.ruleset import RuleSet
from geo.checks.runner import run_checks
from geo.checks.sources import bundle_from_file, bundle_to_file


@pytest.fixture(scope="module")
def small_city() -> Bundle:
    return generate_city(scale=0.016)  # 8,000 buildings


def test_every_baseline_finds_riskmaps_pairs(small_city: Bundle, pg_cluster: embedded.Cluster, rules: RuleSet) -> None:
    with postgis_floor.floor_database(pg_cluster, "bench_floor") as floor:
        counts = check_equality(small_city, rules, floor)
    # every distance rule has work at this size, so equality is not vacuous
    assert set(counts) == {"PIPE_OCCUPY", "ESD_DECLARED", "TAIL_OVERHEAD", "MHS_UNDECLARED"}
    assert all(n > 0 for n in counts.values())


def test_a_wrong_pair_is_caught(small_city: Bundle, rules: RuleSet) -> None:
    ours = ours_distance(cold(small_city), rules)
    best = baselines.best(small_city, baselines.distance_rules(rules), EPSG)
    with pytest.raises(AssertionError, match="1 pairs only RiskMap found"):
        baselines.assert_same("best", best - {next(iter(best))}, ours)


def test_every_family_has_work(small_city: Bundle, rules: RuleSet) -> None:
    result = run_checks(cold(small_city), rules, dem=generate_dem())
    families = {rules[c].family for c in result.findings["rule_code"]}
    assert families == {r.family for r in rules.rules.values()}


def test_the_city_passes_riskmaps_validation(small_city: Bundle, tmp_path: Path) -> None:
    read = bundle_from_file(bundle_to_file(small_city, tmp_path / "city.gpkg"))
    counts = {layer: len(read[layer]) for layer in LAYERS if layer != "districts"}
    assert counts == {layer: len(small_city[layer]) for layer in LAYERS if layer != "districts"}
    assert all(counts.values())  # every layer present, risk points and hidden hazards included
    # the in-memory city is what validation reads back: both modes find the same
    dem = generate_dem()
    found = [run_checks(b, dem=dem).findings for b in (cold(small_city), read)]
    keys = [set(zip(f["rule_code"], f["subject_key"], f["object_type"].fillna(""), f["object_key"].fillna(""),
                    strict=True)) for f in found]
    assert keys[0] == keys[1] and len(keys[0]) > 100
