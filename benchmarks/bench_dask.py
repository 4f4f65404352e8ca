"""Benchmark the Dask engine: equal findings on the city, throughput on the province, and a projection.

``python -m benchmarks.bench_dask [--city-scale 0.125] [--cols 4 --rows 4 | --whole] [--input DIR]
[--workers 1 2] [--tile-km 20] [--json OUT]``

1. The benchmark city (``benchmarks/citygen.py``) at 1/8 scale: the single-process run and the Dask
   engine (2 workers) must give the same findings — rule, subject, object, verdict, distance to the
   centimetre the findings keep, required distance, district, detail (mileage) and geometry (asserted).
2. A piece of the province (``benchmarks/province.py``, ``--cols`` × ``--rows`` cells of 0.25°, from
   ``--west``; the default straddles the zone boundary at 103.5°E), or with ``--whole`` all of it
   (35 × 32 cells, 5.04 million buildings, 22,400 km), generated inside the tasks cell by cell — or read
   from GeoParquet written by ``python -m benchmarks.province DIR`` (``--input DIR``: validated on the
   workers, then read per tile, as ``riskmap check --engine dask --input DIR`` does) — run with 1 and with
   2 workers (``--workers``), each on a LocalCluster of its own: buildings/s, pipeline km/s, the speed-up,
   peak memory per worker and its course during the run (sampled from the scheduler), total findings.
   No process ever holds the province: each task generates or reads only its tile and halo.
3. A projection — arithmetic, not a measurement — of the wall time on N workers for the national
   network, from the 1-worker throughput measured here and the parallel efficiency measured with 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from benchmarks.citygen import generate_city
from benchmarks.province import Province, ProvinceSource, clear_caches
from geo.checks.dask_engine import DaskRun, FrameSource, run_partitioned
from geo.checks.parquet_source import ParquetSource
from geo.checks.partition import zoned_reference
from geo.checks.ruleset import load_ruleset
from geo.checks.runner import run_checks

AS_OF = dt.date(2026, 11, 1)
COLUMNS = ["rule_code", "subject_type", "subject_key", "object_type", "object_key", "verdict", "measured_m",
           "required_m", "adcode", "detail"]
#: The national network the projection is for (order of magnitude, issue #16).
NATIONAL_KM, NATIONAL_BUILDINGS = 100_000.0, 50_000_000


def comparable(findings: pd.DataFrame) -> pd.DataFrame:
    """Return findings as sorted text rows (geometry as WKT to 1e-9°, about 0.1 mm)."""
    out = findings[COLUMNS].astype(object).where(findings[COLUMNS].notna(), None).astype(str)
    out["geometry"] = [shapely.to_wkt(g, rounding_precision=9) if g is not None else "None"
                       for g in np.asarray(findings.geometry.values, dtype=object)]
    return out.sort_values([*COLUMNS, "geometry"]).reset_index(drop=True)


def city_equality(scale: float, tile_km: float) -> dict[str, Any]:
    """Run the city single-process and on Dask (2 workers); assert equal findings."""
    rules = load_ruleset()
    city = generate_city(scale=scale)
    t0 = time.perf_counter()
    single = run_checks(city, rules, as_of=AS_OF).findings
    t_single = time.perf_counter() - t0
    reference = zoned_reference(city.frames, rules, lambda b: run_checks(b, rules, as_of=AS_OF))
    run = run_partitioned(FrameSource(dict(city.frames)), rules, tile_m=tile_km * 1000, as_of=AS_OF, workers=2)
    pd.testing.assert_frame_equal(comparable(run.result.findings), comparable(reference))
    assert len(reference) == len(single), "the city lies in one zone: the zone rule is the plain run"
    return {"scale": scale, "buildings": len(city["buildings"]), "findings": len(single),
            "single_s": round(t_single, 2), "dask_2_workers_s": round(run.wall_s, 2), "tiles": len(run.tiles),
            "halo_m": round(run.halo_m), "equal": True}


class Progress:
    """Progress of a long run on stderr (every 5 % of the tiles or every minute) with the workers' memory.

    Tiles that read nothing are not reported by the engine, so the count shown may end below the total.
    """

    def __init__(self, label: str, client: Any) -> None:
        self.label, self.client, self.t0 = label, client, time.perf_counter()
        self.last, self.shown = self.t0, -1.0
        self.validated_s: float | None = None
        self.samples: list[dict[str, Any]] = []

    def memory(self) -> dict[str, float]:
        """Resident memory of each worker now (MB), as the scheduler last heard it."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        return {addr: round(w["metrics"]["memory"] / 2**20) for addr, w in workers.items()}

    def sample(self, done: int) -> dict[str, float]:
        """Record and return the workers' memory after ``done`` tiles."""
        rss = self.memory()
        self.samples.append({"tiles_done": done, "s": round(time.perf_counter() - self.t0, 1), "rss_mb": rss})
        return rss

    def __call__(self, line: str) -> None:
        now = time.perf_counter()
        if not line.startswith("["):
            if "partitions of" in line:
                self.validated_s = now - self.t0
            print(f"{self.label}: {line}", file=sys.stderr, flush=True)
            return
        done, total = (int(v) for v in line[1:line.index("]")].split("/"))
        if done == total or done / total - self.shown >= 0.05 or now - self.last >= 60:
            spent = now - self.t0
            rss = self.sample(done)
            self.shown, self.last = done / total, now
            print(f"{self.label}: [{done}/{total} tiles] {spent:.0f} s, about {spent / done * (total - done):.0f} s "
                  f"left; worker RSS MB {sorted(rss.values())}", file=sys.stderr, flush=True)


def province_run(source: Any, workers: int, tile_km: float, label: str) -> tuple[DaskRun, dict[str, Any]]:
    """Run the province (or a piece) on a LocalCluster of ``workers`` workers and return its figures."""
    from distributed import Client, LocalCluster

    clear_caches()  # the client generates the global layers: each run pays for them alike
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as watch:
        progress = Progress(f"{label}, {workers} worker{'s' if workers > 1 else ''}", watch)
        run = run_partitioned(source, load_ruleset(), tile_m=tile_km * 1000, as_of=AS_OF,
                              scheduler=cluster.scheduler_address, progress=progress)
        progress.sample(len(run.tiles))
    buildings = sum(t.buildings for t in run.tiles)
    km = sum(t.pipeline_km for t in run.tiles)
    samples = progress.samples
    course = {}  # each worker's RSS at about a tenth, half and all of the tiles: flat when memory is bounded
    for share in (0.1, 0.5, 1.0):
        at = [p for p in samples if p["tiles_done"] >= share * len(run.tiles)]
        if at:
            course[f"{share:.0%}"] = sorted(at[0]["rss_mb"].values())
    return run, {"workers": workers, "wall_s": round(run.wall_s, 1), "tiles": len(run.tiles),
                 "validate_s": round(progress.validated_s or 0.0, 1) if isinstance(source, ParquetSource) else None,
                 "task_s": round(sum(t.seconds for t in run.tiles), 1),
                 "load_average_1min_after": round(os.getloadavg()[0], 1), "cpus": os.cpu_count(),
                 "buildings": buildings, "pipeline_km": round(km, 1), "findings": len(run.result.findings),
                 "findings_by_rule": run.result.findings["rule_code"].value_counts().sort_index().to_dict()
                 if len(run.result.findings) else {},
                 "buildings_per_s": round(buildings / run.wall_s), "km_per_s": round(km / run.wall_s, 2),
                 "peak_rss_mb_per_worker": {k: round(v) for k, v in run.peak_rss_mb.items()},
                 "worker_rss_mb_at_share_of_tiles": course, "memory_samples": samples}


def projection(one: dict[str, Any], two: dict[str, Any], workers: list[int]) -> dict[str, Any]:
    """Project the national wall time on N workers (a projection, with its assumptions)."""
    efficiency = (one["wall_s"] / two["wall_s"]) / 2.0
    per_worker_b = one["buildings"] / one["wall_s"]
    per_worker_km = one["pipeline_km"] / one["wall_s"]
    # the work is proportional to buildings and pipeline km together: take the slower of the two scalings
    serial_s = max(NATIONAL_BUILDINGS / per_worker_b, NATIONAL_KM / per_worker_km)
    return {
        "assumptions": (f"{NATIONAL_BUILDINGS:,} buildings and {NATIONAL_KM:,.0f} km of pipelines; cost linear "
                        "in buildings and km at the 1-worker rate measured here (same density as the synthetic "
                        f"province); parallel efficiency {efficiency:.2f} as measured with 2 workers on this "
                        "machine (shared with other jobs: see load_average), held constant, and the ideal 1.0 "
                        "beside it; tiles ≫ workers; data generated in the tasks or read "
                        "from storage at the same speed; scheduler overhead ignored"),
        "serial_h": round(serial_s / 3600, 2),
        "parallel_efficiency_measured": round(efficiency, 2),
        "wall_h_by_workers": {n: round(serial_s / (n * efficiency) / 3600, 2) for n in workers},
        "wall_h_by_workers_if_efficiency_1": {n: round(serial_s / n / 3600, 2) for n in workers},
    }


def main() -> None:
    """Run the three parts and print one table (and JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city-scale", type=float, default=0.125)
    parser.add_argument("--city-tile-km", type=float, default=10.0)
    parser.add_argument("--west", type=float, default=103.0)
    parser.add_argument("--south", type=float, default=24.5)
    parser.add_argument("--cols", type=int, default=4)
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--whole", action="store_true", help="the whole province (35 × 32 cells), not a piece")
    parser.add_argument("--input", type=Path, help="read GeoParquet written by benchmarks.province instead "
                                                   "of generating (the piece options are then ignored)")
    parser.add_argument("--density", type=float, default=1.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to run (default 1 2)")
    parser.add_argument("--tile-km", type=float, default=20.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-city", action="store_true", help="skip the city equality part")
    args = parser.parse_args()
    report: dict[str, Any] = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    if not args.no_city:
        report["city"] = city_equality(args.city_scale, args.city_tile_km)
        print("city", report["city"], flush=True)
    piece = (Province(density=args.density) if args.whole else
             Province(west=args.west, south=args.south, cols=args.cols, rows=args.rows, density=args.density))
    source: Any = ProvinceSource(piece)
    label = "whole province" if args.whole else f"piece {args.cols}×{args.rows}"
    report["province"] = {"whole": args.whole, "cells": piece.cols * piece.rows, "extent": piece.extent,
                          "nominal_buildings": piece.buildings, "nominal_km": piece.pipeline_km,
                          "source": "generated in the tasks, cell by cell"}
    if args.input is not None:
        source, label = ParquetSource(str(args.input.resolve())), f"GeoParquet {args.input}"
        report["province"] = {"source": f"GeoParquet {args.input.resolve()} (validated on the workers, read per tile)"}
    runs, first = [], None
    for n in args.workers:
        run, figures = province_run(source, n, args.tile_km, label)
        runs.append(figures)
        found = comparable(run.result.findings)
        if first is None:
            first = found
        else:  # every worker count must find exactly the same
            pd.testing.assert_frame_equal(found, first)
            figures["findings_equal_first_run"] = True
        del run, found
        print("province", {k: v for k, v in figures.items() if k != "memory_samples"}, flush=True)
    report["province_runs"] = runs
    heads = [f"{r['workers']} worker(s)" for r in runs]
    print(f"\n{label:24}" + "".join(f"{h:>14}" for h in heads))
    for key in ("wall_s", "validate_s", "tiles", "buildings", "pipeline_km", "findings", "buildings_per_s",
                "km_per_s"):
        print(f"{key:24}" + "".join(f"{r[key]!s:>14}" for r in runs))
    for r in runs:
        print(f"peak RSS per worker (MB), {r['workers']} worker(s): {sorted(r['peak_rss_mb_per_worker'].values())}; "
              f"RSS at 10 %/50 %/100 % of tiles: {r['worker_rss_mb_at_share_of_tiles']}")
    report["client_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"this process (the client, holding the merged findings) peak RSS: {report['client_peak_rss_mb']} MB")
    by = {r["workers"]: r for r in runs}
    if 1 in by and 2 in by:
        report["speedup_2_over_1"] = round(by[1]["wall_s"] / by[2]["wall_s"], 2)
        print(f"{'speed-up 2 over 1':24}{report['speedup_2_over_1']:>14}")
        report["projection"] = projection(by[1], by[2], [2, 8, 32, 128])
        print("PROJECTION (arithmetic, not a measurement):", report["projection"])
    if "city" in report:
        print(f"city 1/{round(1 / args.city_scale)}: {report['city']['findings']} findings equal "
              f"(single {report['city']['single_s']} s, Dask 2 workers {report['city']['dask_2_workers_s']} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
