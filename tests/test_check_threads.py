"""Families run side by side in threads give exactly what they give one after the other.

``run_checks(threads=N)`` runs the families of one bundle in N threads sharing its projection caches
(:class:`geo.checks.bundle.Bundle` fills each layer's caches under that layer's lock). The findings,
their order, the HCA segments and the rules run must not depend on it; a layer must be projected
once however many threads ask for it; a family's error must reach the caller.
"""

from __future__ import annotations

import dataclasses
import pickle
import threading
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from benchmarks.bench_checks import cold
from benchmarks.citygen import generate_city, generate_dem
from geo.checks import families as families_module
from geo.checks.bundle import Bundle
from geo.checks.families import FAMILIES
from geo.checks.ruleset import RuleSet
from geo.checks.runner import default_threads, run_checks
from geo.checks.sources import bundle_to_file


@pytest.fixture(scope="module")
def city() -> Bundle:
    return generate_city(seed=11, scale=0.03)  # 15,000 buildings: every family has work


def _frame(found: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(found.drop(columns="geometry"))
    out["detail"] = out["detail"].astype(str)
    out["wkb"] = shapely.to_wkb(np.asarray(found.geometry.array, dtype=object), hex=True)
    return out


def test_threads_give_the_same_findings_in_the_same_order(city: Bundle, rules: RuleSet) -> None:
    dem = generate_dem(seed=11)
    one = run_checks(cold(city), rules, dem=dem, threads=1)
    assert len(one.findings) > 300 and one.hca_segments is not None and len(one.hca_segments)
    assert {rules[c].family for c in one.findings["rule_code"]} == set(FAMILIES)  # every family has work
    for threads in (2, 4):
        many = run_checks(cold(city), rules, dem=dem, threads=threads)
        pd.testing.assert_frame_equal(_frame(many.findings), _frame(one.findings))
        assert many.hca_segments is not None
        pd.testing.assert_frame_equal(_frame_of_segments(many.hca_segments), _frame_of_segments(one.hca_segments))
        assert many.rules_run == one.rules_run
        assert list(many.timings) == list(one.timings) == list(FAMILIES)


def _frame_of_segments(segments: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(segments.drop(columns="geometry")).astype(str)
    out["wkb"] = shapely.to_wkb(np.asarray(segments.geometry.array, dtype=object), hex=True)
    return out


def test_a_layer_is_projected_once_however_many_threads_ask(city: Bundle, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = cold(city)
    calls: list[str] = []
    real = gpd.GeoDataFrame.to_crs

    def counting(self: gpd.GeoDataFrame, *args: Any, **kwargs: Any) -> gpd.GeoDataFrame:
        calls.append(threading.current_thread().name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_crs", counting)
    start = threading.Barrier(6)
    got: list[gpd.GeoDataFrame] = []

    def ask() -> None:
        start.wait()
        got.append(bundle.metric("buildings"))

    workers = [threading.Thread(target=ask) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(calls) == 1
    assert all(frame is got[0] for frame in got)
    expected = city["buildings"].to_crs(bundle.metric_epsg)
    assert shapely.equals_exact(np.asarray(got[0].geometry.array), np.asarray(expected.geometry.array), 0).all()


def test_a_bundle_still_pickles(city: Bundle) -> None:
    bundle = cold(city)
    bundle.metric("pipelines")
    copy = pickle.loads(pickle.dumps(bundle))
    assert list(copy.frames) == list(bundle.frames) and copy.metric_epsg == bundle.metric_epsg
    assert copy.metric("pipelines").equals(bundle.metric("pipelines"))
    assert len(copy.near("buildings", city["pipelines"].geometry.array[:1], 10.0))


def test_a_familys_error_reaches_the_caller_and_stops_the_rest(city: Bundle, rules: RuleSet,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []

    def slow(name: str) -> Any:
        def run(*_args: Any) -> Any:
            started.append(name)
            if name == "hca":
                raise RuntimeError("hca broke")
            time.sleep(0.5)
            return gpd.GeoDataFrame(geometry=[]), None
        return run

    table = {name: dataclasses.replace(f, run=slow(name)) for name, f in FAMILIES.items()}
    monkeypatch.setattr(families_module, "FAMILIES", table)
    monkeypatch.setattr("geo.checks.runner.FAMILY_TABLE", table)
    with pytest.raises(RuntimeError, match="hca broke"):
        run_checks(cold(city), rules, threads=2)
    # the heaviest (hca) fails at once: the other thread's family and the next one ran, the queued ones never did
    assert started[0] == "hca" and {"siting", "safety_distance"}.isdisjoint(started) and len(started) <= 3
    with pytest.raises(RuntimeError, match="hca broke"):
        run_checks(cold(city), rules, threads=1)


def test_default_threads_follow_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert default_threads() == 1
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert default_threads() == 4
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert default_threads() == 1


def test_cli_threads_option_writes_the_same_findings(city: Bundle, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from riskmap.cli import main

    gpkg = bundle_to_file(city, tmp_path / "city.gpkg")
    monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    written = []
    for threads in ("1", "2"):
        out = tmp_path / f"findings-{threads}.gpkg"
        result = CliRunner().invoke(main, ["check", "--input", str(gpkg), "--output", str(out), "--as-of",
                                           "2026-11-01", "--summary-only", "--threads", threads])
        assert result.exit_code == 0, result.output
        names = sorted(str(n) for n, _ in pyogrio.list_layers(out) if str(n).startswith("check_findings"))
        written.append(pd.concat([pyogrio.read_dataframe(out, layer=n) for n in names], ignore_index=True))
    assert len(written[0]) > 300
    pd.testing.assert_frame_equal(written[0], written[1])
    bad = CliRunner().invoke(main, ["check", "--input", str(gpkg), "--threads", "0"])
    assert bad.exit_code != 0 and "--threads" in bad.output
