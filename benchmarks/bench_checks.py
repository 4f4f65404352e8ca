"""Benchmark the checks on the rich synthetic city, with baselines that must find the same thing.

Run:  .venv/bin/python -m benchmarks.bench_checks [--scale 1] [--repeat 3] [--json artifacts/bench.json]

Every time is the median of ``--repeat`` (≥ 3) runs, each on a cold :class:`Bundle` (no cached
projections or indexes) unless the row says warm. Rows:

- the full run (all families, in memory, with the DEM) and each family's share;
- the distance rules (``PIPE_OCCUPY`` buildings, ``ESD_DECLARED``, ``TAIL_OVERHEAD`` radial screen)
  by RiskMap, by a naive GeoPandas buffer + sjoin, by the best straightforward Shapely 2 query
  (segments + one STRtree + ``dwithin``), by PostGIS (``ST_DWithin`` on GiST over cut pieces, load
  timed apart) and by QGIS ``qgis_process`` where installed — each baseline's pairs are asserted equal
  to RiskMap's findings (:mod:`benchmarks.baselines`; a disagreement raises);
- the cold site pre-check through the real path (PostGIS window read) against a naive one reading
  the same store; DB mode (read, check, write findings) and file mode (validate, check, write), by phase;
- growth: the full run at 1/8, 1/4, 1/2 and 1 of ``--scale``, with the fitted exponent;
- peak memory (``ru_maxrss``).

The table is printed with baseline/RiskMap ratios and issue #16's targets, and written as JSON
with ``--json``. ``--scale 0.0625`` finishes in well under a minute; ``--rows full,distance`` gives the
in-memory rows only (the quick measure while working on a family); ``--rows precheck`` the pre-check
alone, on a store holding only the layers it reads (``db`` times it too, on the whole city).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import signal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import shapely

from benchmarks import baselines, endtoend, postgis_floor, qgis
from benchmarks.citygen import EPSG, generate_city, generate_dem
from benchmarks.report import TARGETS, Row, fitted_exponent, render, write_json
from geo.checks.bundle import Bundle
from geo.checks.families import FAMILIES
from geo.checks.ruleset import RuleSet, load_ruleset
from geo.checks.runner import CheckResult, default_threads, run_checks
from geo.checks.tailings import DemGrid

T = TypeVar("T")
#: How RiskMap runs each distance rule in the distance rows: its family, given a rule set of that one
#: rule (every family runs only the rules of the set it is given).
OURS_RULES = {"PIPE_OCCUPY": ("pipeline", ("PIPE_OCCUPY",)),
              "ESD_DECLARED": ("safety_distance", ("ESD_DECLARED",)),
              "TAIL_OVERHEAD": ("tailings", ("TAIL_OVERHEAD",))}
#: Rules with a baseline, by family (the others have no plain-query equivalent: said in the table).
WITH_BASELINE = {"pipeline": "PIPE_OCCUPY (buildings)", "safety_distance": "ESD_DECLARED",
                 "tailings": "TAIL_OVERHEAD radial screen",
                 "mhs": "MHS_UNDECLARED enterprises (second computation of S = Σq/Q)"}


def check_second_computations(bundle: Bundle, rules: RuleSet, findings: Any) -> int:
    """Assert the full run's ``MHS_UNDECLARED`` enterprises equal a second computation; return how many."""
    ours = baselines.ours_subjects(findings, "MHS_UNDECLARED")
    theirs = baselines.mhs_undeclared(bundle, rules)
    if ours != theirs:
        raise AssertionError(f"MHS_UNDECLARED: only RiskMap {sorted(ours - theirs)[:3]}, only the second "
                             f"computation {sorted(theirs - ours)[:3]}")
    return len(ours)


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Run ``fn`` ``repeat`` times; return the median seconds and the last result."""
    times: list[float] = []
    out: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def cold(bundle: Bundle) -> Bundle:
    """The same frames with no cached projections or spatial indexes."""
    return Bundle({k: v.copy() for k, v in bundle.frames.items()}, metric_epsg=bundle.metric_epsg)


def full_run(bundle: Bundle, rules: RuleSet, dem: DemGrid | None, repeat: int,
             threads: int | None = None) -> tuple[float, CheckResult, dict[str, float]]:
    """Median of full runs on cold bundles; the per-family medians (``threads``: see ``run_checks``)."""
    medians, result, per = full_runs(bundle, rules, dem, repeat, (threads,))
    return medians[0], result, per


def full_runs(bundle: Bundle, rules: RuleSet, dem: DemGrid | None, repeat: int,
              threads: tuple[int | None, ...]) -> tuple[list[float], CheckResult, dict[str, float]]:
    """Full runs with each thread count of ``threads``, interleaved run by run (so a busy moment of the
    machine hits each alike); the medians, the result and per-family medians of the first; results equal."""
    per: dict[str, list[float]] = {}
    first: CheckResult | None = None
    totals: list[list[float]] = [[] for _ in threads]
    for _ in range(repeat):
        for k, n in enumerate(threads):
            fresh = cold(bundle)
            t0 = time.perf_counter()
            result = run_checks(fresh, rules, dem=dem, threads=n)
            totals[k].append(time.perf_counter() - t0)
            if k == 0:
                first = result
                for name, v in result.timings.items():
                    per.setdefault(name, []).append(v)
            elif first is not None and not _same_findings(first, result):
                raise AssertionError(f"the full run with {n} threads finds other findings than with {threads[0]}")
    assert first is not None
    return [statistics.median(t) for t in totals], first, {k: statistics.median(v) for k, v in per.items()}


def _same_findings(a: CheckResult, b: CheckResult) -> bool:
    """Whether two runs' findings are equal, row for row (geometry by WKB)."""
    fa, fb = a.findings, b.findings
    if len(fa) != len(fb) or list(fa.columns) != list(fb.columns):
        return False
    plain = [c for c in fa.columns if c != "geometry"]
    left, right = fa[plain].astype(str), fb[plain].astype(str)
    return bool(left.equals(right)) and bool((fa.geometry.to_wkb() == fb.geometry.to_wkb()).all())


def ours_distance(bundle: Bundle, rules: RuleSet, codes: tuple[str, ...] = tuple(OURS_RULES)) -> set[baselines.Pair]:
    """RiskMap's pairs of the distance rules ``codes`` (their families, only the rules they need).

    ``bundle`` should be cold (:func:`cold`, made outside any timing: copying 500,000 buildings is not the
    check's work).
    """
    wanted = {c for code in codes for c in OURS_RULES[code][1]}
    subset = RuleSet(rules.version, {c: rules[c] for c in wanted})
    result = run_checks(bundle, subset, families=[OURS_RULES[c][0] for c in codes])
    return baselines.ours_pairs(result.findings, [r for r in baselines.distance_rules(rules) if r.code in codes])


def timed_cold(fn: Callable[[Bundle], T], bundle: Bundle, repeat: int) -> tuple[float, T]:
    """Like :func:`timed`, each run on a fresh :func:`cold` copy of ``bundle`` made before the clock starts."""
    times: list[float] = []
    out: Any = None
    for _ in range(repeat):
        fresh = cold(bundle)
        t0 = time.perf_counter()
        out = fn(fresh)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def check_equality(bundle: Bundle, rules: RuleSet, engine: Any) -> dict[str, int]:
    """Assert the baselines find RiskMap's pairs (and MHS_UNDECLARED enterprises); return counts per rule.

    ``engine`` is a database with PostGIS (see :func:`benchmarks.postgis_floor.floor_database`).
    """
    specs = baselines.distance_rules(rules)
    ours = ours_distance(cold(bundle), rules)
    baselines.assert_same("naive", baselines.naive(bundle, specs, EPSG), ours)
    baselines.assert_same("best", baselines.best(bundle, specs, EPSG), ours)
    postgis_floor.load(engine, bundle, specs, EPSG)
    baselines.assert_same("postgis", postgis_floor.query(engine, specs), ours)
    counts = baselines.by_rule(ours)
    mhs = run_checks(cold(bundle), rules, families=["mhs"])
    counts["MHS_UNDECLARED"] = check_second_computations(bundle, rules, mhs.findings)
    return counts


def distance_rows(bundle: Bundle, rules: RuleSet, engine: Any, repeat: int) -> list[Row]:
    """Time each distance rule four ways, asserting equal pairs; one row per rule and a total row."""
    specs = baselines.distance_rules(rules)
    load_s, _ = timed(lambda: postgis_floor.load(engine, bundle, specs, EPSG), 1)
    rows: list[Row] = []
    for spec in specs:
        one = (spec,)
        ours_s, ours = timed_cold(lambda b: ours_distance(b, rules, (spec.code,)), bundle, repeat)  # noqa: B023
        naive_s, naive = timed(lambda: baselines.naive(bundle, one, EPSG), repeat)  # noqa: B023
        baselines.assert_same(f"naive {spec.code}", naive, ours)
        best_s, best = timed(lambda: baselines.best(bundle, one, EPSG), repeat)  # noqa: B023
        baselines.assert_same(f"best {spec.code}", best, ours)
        pg_s, pg = timed(lambda: postgis_floor.query(engine, one), repeat)  # noqa: B023
        baselines.assert_same(f"postgis {spec.code}", pg, ours)
        row = Row(f"  {spec.code} ({', '.join(t.layer for t in spec.objects)})", ours_s, len(ours), naive_s, best_s,
                  pg_s, None, repeat, note=f"RiskMap runs {', '.join(OURS_RULES[spec.code][1])}; pairs equal")
        row.target, row.met = "≥ 1.5× best", best_s / ours_s >= 1.5
        if spec.code == "PIPE_OCCUPY":
            q = qgis.occupy_seconds(bundle, rules, repeat, expected=ours)
            row.qgis_s, row.note = q.seconds, f"{row.note}; {q.note}"
            if q.seconds is not None:  # without QGIS the row is judged on the best query alone, and says so
                row.target = TARGETS["distance"]
                row.met = row.met and q.seconds / ours_s >= 10.0
            else:
                row.target = "≥ 1.5× best (≥ 10× QGIS not measured)"
        rows.append(row)
    total = Row("distance rules: PIPE_OCCUPY + ESD_DECLARED + TAIL_OVERHEAD screen",
                sum(r.ours_s or 0.0 for r in rows), sum(r.findings or 0 for r in rows),
                sum(r.naive_s or 0.0 for r in rows), sum(r.best_s or 0.0 for r in rows),
                sum(r.postgis_s or 0.0 for r in rows), None, repeat, "≥ 1.5× best",
                note=f"sums of the rule rows; PostGIS load {load_s:.2f} s apart; every baseline's pairs asserted equal "
                     "to RiskMap's findings (RiskMap also builds full findings: mileage, shortest line, text)")
    total.met = total.best_s is not None and total.ours_s is not None and total.best_s / total.ours_s >= 1.5
    return [total, *rows]


def family_rows(result: CheckResult, rules: RuleSet, per: dict[str, float], repeat: int) -> list[Row]:
    """One row per family: its median share of the full run, what it found, which rules have a baseline."""
    found = result.findings.groupby("rule_code").size().to_dict() if len(result.findings) else {}
    rows = []
    for name in FAMILIES:
        codes = sorted(c for c in found if rules[c].family == name)
        n = sum(found[c] for c in codes)
        base = WITH_BASELINE.get(name)
        note = (f"baseline: {base}" if base else "no baseline (no plain-query equivalent)") + \
            f"; found {', '.join(f'{c} {found[c]}' for c in codes) or 'nothing'}"
        rows.append(Row(f"  family {name}", per.get(name), n, runs=repeat, note=note))
    return rows


def site_near_a_line(bundle: Bundle) -> shapely.Geometry:
    """A 60 m parcel next to the first pipeline's midpoint (EPSG:4490)."""
    line = bundle["pipelines"].to_crs(EPSG).geometry.iloc[0]
    return gpd.GeoSeries([line.interpolate(0.5, normalized=True).buffer(60)], crs=EPSG).to_crs(4490).iloc[0]


def maxrss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


ROWS = ("full", "distance", "db", "precheck", "files", "growth")


def precheck_row(engine: Any, bundle: Bundle, repeat: int) -> Row:
    """The cold pre-check through the real path (window read, rules in force, ``precheck_site``), by phase."""
    settled = endtoend.settle(engine)
    site = site_near_a_line(bundle)
    pre_s, reasons = timed(lambda: endtoend.precheck_real(engine, site, "学校"), repeat)
    naive_pre_s, _ = timed(lambda: endtoend.precheck_naive(engine, site, EPSG), repeat)
    phases = endtoend.precheck_phases(engine, site, "学校", lambda fn: timed(fn, repeat))
    return Row("cold site pre-check via PostGIS window (school, 60 m parcel)", pre_s, reasons, naive_pre_s,
               runs=repeat, target=TARGETS["precheck"], met=pre_s < 0.2,
               note=", ".join(f"{k} {v:.3f} s" for k, v in phases.items() if k != "features read")
               + f" ({phases['features read']:,.0f} features in the window); naive: the same window read, then "
               f"the distance to every feature (no index); VACUUM (ANALYZE) after the load {settled:.1f} s apart",
               extra=phases)


def precheck_rows(cluster: Any, bundle: Bundle, repeat: int) -> list[Row]:
    """The cold pre-check alone, on a store holding the layers it reads (``--rows precheck`` without ``db``)."""
    with endtoend.city_store(cluster, bundle, layers=endtoend.PRECHECK_LAYERS) as (engine, load_s):
        row = precheck_row(engine, bundle, repeat)
    row.note += f"; setup (import the layers the pre-check reads) {load_s:.1f} s apart"
    return [row]


def db_rows(cluster: Any, bundle: Bundle, dem: DemGrid, repeat: int) -> list[Row]:
    """The cold pre-check and DB mode, on a store holding the city (imported first, timed apart)."""
    with endtoend.city_store(cluster, bundle) as (engine, load_s):
        pre = precheck_row(engine, bundle, repeat)
        db = endtoend.db_mode(engine, lambda fn: timed(fn, repeat), dem)
        mode = Row("DB mode end-to-end: read + check + write findings", db.total, db.findings, runs=repeat,
                   target=TARGETS["db"], met=db.total < 30.0,
                   note=", ".join(f"{k} {v:.2f} s" for k, v in db.seconds.items())
                   + f"; setup (import the city through the importer) {load_s:.1f} s apart", extra=db.seconds)
    return [pre, mode]


def growth_row(seed: int, scale: float, rules: RuleSet, dem: DemGrid, repeat: int,
               full: tuple[int, float] | None) -> tuple[Row, dict[str, Any]]:
    """The full run at 1/8, 1/4, 1/2 (and 1, measured already when ``full`` is given) of ``scale``; the exponent."""
    ns: list[float] = []
    ts: list[float] = []
    for frac in (0.125, 0.25, 0.5) if full else (0.125, 0.25, 0.5, 1.0):
        part = generate_city(seed=seed, scale=scale * frac)
        s, _r, _p = full_run(part, rules, dem, repeat)
        ns.append(len(part["buildings"]))
        ts.append(s)
    if full:
        ns.append(full[0])
        ts.append(full[1])
    growth = {"buildings": ns, "seconds": ts, "exponent": fitted_exponent(ns, ts)}
    return Row("growth of the full run, 1/8 → 1", None, runs=repeat, note=f"time ∝ n^{growth['exponent']:.2f} ("
               + ", ".join(f"{n:,.0f}: {t:.2f} s" for n, t in zip(ns, ts, strict=True)) + ")"), growth


def main() -> None:
    """Run the benchmark (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1 is the full city (500,000 buildings)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (at least 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the table here as JSON")
    parser.add_argument("--rows", default=",".join(ROWS), help="which rows, comma-separated (default: all)")
    args = parser.parse_args()
    wanted = {r.strip() for r in args.rows.split(",") if r.strip()}
    if args.repeat < 3:
        parser.error("--repeat must be at least 3: every figure is a median")
    if wanted - set(ROWS):
        parser.error(f"unknown rows {sorted(wanted - set(ROWS))}; known: {', '.join(ROWS)}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the private cluster on kill
    t0 = time.perf_counter()
    bundle = generate_city(seed=args.seed, scale=args.scale)
    dem = generate_dem(seed=args.seed)
    rules = load_ruleset()
    km = bundle["pipelines"].to_crs(EPSG).length.sum() / 1000
    sizes = {k: len(v) for k, v in bundle.frames.items()}
    print(f"rich synthetic city (scale {args.scale:g}): {sizes['buildings']:,} buildings, {km:,.0f} km pipelines, "
          f"{sizes['enterprises']:,} enterprises, {sizes['installations']:,} plant parts, {sizes['hcas']:,} declared "
          f"HCAs, {sizes['protection_targets']:,} targets, {sizes['infrastructure']:,} infrastructure, "
          f"{sizes['risk_points']:,} risk points, {sizes['hidden_hazards']:,} hidden hazards, DEM "
          f"{dem.shape[0]}×{dem.shape[1]} ({time.perf_counter() - t0:.1f} s)")
    print(f"machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), load average "
          f"{os.getloadavg()[0]:.1f}; medians of {args.repeat} runs", flush=True)
    rows: list[Row] = []

    def add(new: list[Row]) -> None:
        rows.extend(new)
        for row in new:  # as they come, so a long run shows its progress
            print(f"... {row.task.strip()}: {row.ours_s if row.ours_s is None else round(row.ours_s, 3)} s; "
                  f"{row.note}", flush=True)

    full: tuple[int, float] | None = None
    per: dict[str, float] = {}
    if "full" in wanted:
        threads = default_threads()
        (full_s, one_s), result, per = full_runs(bundle, rules, dem, args.repeat, (threads, 1))
        full = (sizes["buildings"], full_s)
        check_second_computations(bundle, rules, result.findings)
        add([Row(f"full run, all families, in memory (cold bundle, DEM), {threads} threads", full_s,
                 len(result.findings), runs=args.repeat, target=TARGETS["full"], met=full_s < 8.0,
                 note="families side by side (run_checks' default: the cores); family rows are each "
                      "family's own wall time, overlapping"),
             Row("full run, one thread (families in turn)", one_s, len(result.findings), runs=args.repeat,
                 note="interleaved with the row above, run by run; findings asserted equal"),
             *family_rows(result, rules, per, args.repeat)])
    mem_full = maxrss_mb()
    if wanted & {"distance", "db", "precheck"}:
        with postgis_floor.private_cluster() as cluster:
            if "distance" in wanted:
                with postgis_floor.floor_database(cluster) as floor:
                    add(distance_rows(bundle, rules, floor, args.repeat))
            if "db" in wanted:  # (its store holds the whole city: the pre-check row is timed there)
                add(db_rows(cluster, bundle, dem, args.repeat))
            elif "precheck" in wanted:
                add(precheck_rows(cluster, bundle, args.repeat))
    if "files" in wanted:
        files = endtoend.file_mode(bundle, lambda fn: timed(fn, args.repeat), dem)
        add([Row("file mode end-to-end: validate + check + write findings file", files.total, files.findings,
                 runs=args.repeat, note=", ".join(f"{k} {v:.2f} s" for k, v in files.seconds.items()),
                 extra=files.seconds)])
    growth: dict[str, Any] = {}
    if "growth" in wanted:
        row, growth = growth_row(args.seed, args.scale, rules, dem, args.repeat, full)
        add([row])
    mem_end = maxrss_mb()
    print(render(rows))
    print(f"peak memory (ru_maxrss): {mem_full:,.0f} MB after generating the city and the full runs (when run), "
          f"{mem_end:,.0f} MB at the end")
    if args.json:
        write_json(args.json, rows, {
            "scale": args.scale, "repeat": args.repeat, "seed": args.seed, "sizes": sizes, "pipeline_km": km,
            "cores": os.cpu_count(), "load_average": os.getloadavg()[0], "when": dt.datetime.now(dt.UTC).isoformat(),
            "peak_rss_mb_full_runs": mem_full, "peak_rss_mb_end": mem_end, "growth": growth,
            "per_family_s": per, "rows_run": sorted(wanted)})
        print(f"written: {args.json}")


if __name__ == "__main__":
    main()
