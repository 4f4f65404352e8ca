"""QGIS ``qgis_process`` as a baseline for ``PIPE_OCCUPY`` (buildings): reproject, buffer, extract by location.

QGIS is optional: where ``qgis_process`` is not on the PATH the row says "skipped: not installed".
Where it is, the pipelines and buildings are written to a GeoPackage in EPSG:4490, then each run
reprojects both to the metric zone, buffers the pipelines by the threshold and extracts the buildings
that intersect the buffer (the way a desktop GIS user does it); the extracted building count is
compared with RiskMap's, a disagreement raises. The buffer is a polygon inside the true circle, so a
building within a few millimetres of 5 m could be missed: the comparison says so when it happens.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyogrio

from benchmarks.citygen import EPSG
from geo.checks.bundle import Bundle
from geo.checks.ruleset import RuleSet


@dataclass
class QgisResult:
    """Median seconds (None when QGIS did not run), runs and a note for the table."""

    seconds: float | None
    runs: int
    note: str


def _program() -> str | None:
    """The ``qgis_process`` to call, or None where QGIS is not installed.

    Debian's ``/usr/bin/qgis_process`` is a shell wrapper that adds ``--noversioncheck`` from
    ``/etc/default/qgis``, an option ``qgis_process`` 3.22 refuses ("Command --noversioncheck not known!"):
    the program it wraps, ``qgis_process.bin``, is called directly where it exists.
    """
    return shutil.which("qgis_process.bin") or shutil.which("qgis_process")


def _run(program: str, *args: str) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}  # no screen: Qt's offscreen platform
    done = subprocess.run([program, "run", *args], capture_output=True, text=True, timeout=3600, env=env)
    if done.returncode:
        raise RuntimeError(f"qgis_process {args[0]} failed ({done.returncode}): {done.stderr.strip()[-400:]}")


def occupy_seconds(bundle: Bundle, rules: RuleSet, repeat: int, expected: set[tuple[str, str, str, str]]) -> QgisResult:
    """Time QGIS on PIPE_OCCUPY (buildings), checking its count against RiskMap's pairs."""
    program = _program()
    if program is None:
        return QgisResult(None, 0, "QGIS skipped: not installed (qgis_process not on PATH)")
    d = float(rules["PIPE_OCCUPY"].threshold_m or 0.0)
    times = []
    with tempfile.TemporaryDirectory(prefix="rmbench-qgis-") as tmp:
        src = Path(tmp) / "in.gpkg"
        bundle["pipelines"][["key", "geometry"]].to_file(src, layer="pipelines")
        bundle["buildings"][["key", "geometry"]].to_file(src, layer="buildings")
        out = Path(tmp) / "hits.gpkg"
        for i in range(repeat):
            t0 = time.perf_counter()
            pipes, blds, buf = (Path(tmp) / f"{n}{i}.gpkg" for n in ("p", "b", "z"))
            crs = f"EPSG:{EPSG}"
            _run(program, "native:reprojectlayer", f"--INPUT={src}|layername=pipelines", f"--TARGET_CRS={crs}",
                 f"--OUTPUT={pipes}")
            _run(program, "native:reprojectlayer", f"--INPUT={src}|layername=buildings", f"--TARGET_CRS={crs}",
                 f"--OUTPUT={blds}")
            _run(program, "native:buffer", f"--INPUT={pipes}", f"--DISTANCE={d}", "--SEGMENTS=8", f"--OUTPUT={buf}")
            _run(program, "native:extractbylocation", f"--INPUT={blds}", "--PREDICATE=0", f"--INTERSECT={buf}",
                 f"--OUTPUT={out}")
            times.append(time.perf_counter() - t0)
        found = len(pyogrio.read_dataframe(out, read_geometry=False))
    want = len({p[3] for p in expected})
    if found != want:
        raise AssertionError(f"QGIS extracts {found} buildings within {d:g} m of a pipeline; RiskMap {want}")
    return QgisResult(statistics.median(times), repeat, f"QGIS {found} buildings = RiskMap's")
