"""``riskmap check --engine dask --scheduler ADDR`` on a cluster the test starts: a scheduler and two workers.

The processes are ``dask scheduler`` and ``dask worker`` from the project's environment (one thread each, no
dashboards, a scheduler file in tmp_path); they are always stopped, whatever the test does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from benchmarks.citygen import generate_city
from geo.checks.parquet_source import read_parquet_dir, write_parquet_layers
from geo.checks.ruleset import load_ruleset
from geo.checks.runner import run_checks
from tests.test_dask_engine import AS_OF

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """Start a scheduler and two workers; yield the scheduler's address; stop them all."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(DASK), "scheduler", "--scheduler-file", str(file), "--port", "0",
                               "--no-dashboard", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1", "--no-dashboard",
                                           "--nworkers", "1", "--local-directory", str(tmp_path)], cwd=ROOT,
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_check_on_an_external_scheduler_equals_single_process(scheduler: str, tmp_path: Path) -> None:
    from riskmap.cli import main

    data = tmp_path / "city"
    write_parquet_layers(generate_city(scale=1 / 64).frames, data, rows_per_file=2000)
    rules = load_ruleset()
    reference = run_checks(read_parquet_dir(data), rules, as_of=AS_OF).findings
    out = tmp_path / "findings.gpkg"
    result = CliRunner().invoke(main, ["check", "--engine", "dask", "--scheduler", scheduler, "--input", str(data),
                                       "--tile-km", "10", "--as-of", AS_OF.isoformat(), "--summary-only",
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert f"total findings: {len(reference)}" in result.output and "partitions of 10 km" in result.output
    assert len(reference) > 50
    layers = [str(n) for n, _ in pyogrio.list_layers(out) if str(n).startswith("check_findings")]
    got = pd.concat([pyogrio.read_dataframe(out, layer=n, read_geometry=False) for n in layers], ignore_index=True)
    ident = ["rule_code", "subject_key", "object_key", "verdict"]

    def rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
        return sorted((*(str(v) if pd.notna(v) else "" for v in r[:4]), "" if pd.isna(r[4]) else round(float(r[4]), 2))
                      for r in frame[[*ident, "measured_m"]].itertuples(index=False))

    assert rows(got) == rows(reference)
    # the tasks ran on the two external workers (their addresses are in the progress lines)
    assert scheduler not in {line for line in result.output.splitlines() if " on tcp://" in line}
    assert len({line.rsplit(" on ", 1)[1] for line in result.output.splitlines() if " s on tcp://" in line}) == 2
