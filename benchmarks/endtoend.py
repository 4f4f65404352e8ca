"""End-to-end rows of the check benchmark: DB mode, file mode and the cold site pre-check.

DB mode is what ``riskmap check`` does against the store: read every layer (``bundle_from_store``),
run the checks, write the findings (``store.save_check_run``). File mode is ``riskmap check --input
city.gpkg --output findings.gpkg``: validate and read the GeoPackage (``bundle_from_file``), check,
write the findings file (``write_findings``). The pre-check is the planner page's path
(``layers.planning.run_precheck`` without the audit entry): read the features near the site from
PostGIS (``bundle_near``), the rules in force, and ``precheck_site``; the naive pre-check does the same
read and measures the site's distance to every feature read, with no index.

Loading the city into the store goes through the importer (``import_frame``: the same validation as
users' files) and is timed apart as setup.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import Engine

from benchmarks.citygen import DISTRICTS_FILE
from geo import embedded, schema, store
from geo.checks.bundle import LAYERS, Bundle
from geo.checks.output import write_findings
from geo.checks.runner import CheckResult, run_checks
from geo.checks.site import precheck_site
from geo.checks.sources import bundle_from_file, bundle_from_store, bundle_near, bundle_to_file
from geo.checks.tailings import DemGrid
from geo.errors import ImportValidationError
from geo.importer import import_file, import_frame
from geo.rule_admin import effective_ruleset

Timer = Callable[[Callable[[], Any]], tuple[float, Any]]


@dataclass
class Phases:
    """Median seconds per phase of one end-to-end mode, and what it found."""

    seconds: dict[str, float] = field(default_factory=dict)
    findings: int = 0

    @property
    def total(self) -> float:
        """Sum of the timed phases (setup excluded)."""
        return sum(v for k, v in self.seconds.items() if not k.startswith("setup"))


@contextmanager
def city_store(cluster: embedded.Cluster, bundle: Bundle, name: str = "city",
               layers: Sequence[str] = LAYERS) -> Iterator[tuple[Engine, float]]:
    """A migrated store on ``cluster`` with the districts and ``layers`` of ``bundle``; yield it and the load time."""
    embedded.drop_database(cluster, name)
    embedded.create_database(cluster, name)
    engine = store.make_engine(cluster.url(name))
    try:
        t0 = time.perf_counter()
        schema.upgrade(engine)
        import_file(engine, "districts", DISTRICTS_FILE, actor="benchmark")
        for layer in layers:
            frame = bundle[layer]
            if layer != "districts" and len(frame):
                try:
                    report = import_frame(engine, layer, frame, source_name=f"city-{layer}.gpkg", actor="benchmark")
                except ImportValidationError as exc:
                    raise AssertionError(f"{layer}: the city does not pass validation: "
                                         + "; ".join(i.text("en") for i in exc.issues[:5])) from exc
                if report.rows_imported != len(frame):
                    raise AssertionError(f"{layer}: the city does not pass validation: {report.summary()}")
        yield engine, time.perf_counter() - t0
    finally:
        engine.dispose()
        embedded.drop_database(cluster, name)


def db_mode(engine: Engine, timer: Timer, dem: DemGrid | None) -> Phases:
    """Time read (``bundle_from_store``), check and write (``save_check_run``) against the store."""
    out = Phases()
    out.seconds["read"], bundle = timer(lambda: bundle_from_store(engine))
    rules = effective_ruleset(engine)

    def check() -> CheckResult:
        return run_checks(Bundle(dict(bundle.frames), metric_epsg=bundle.metric_epsg), rules, dem=dem)

    out.seconds["check"], result = timer(check)
    out.seconds["write"], _ = timer(lambda: store.save_check_run(
        engine, findings=result.findings, hca_segments=result.hca_segments, rule_set_version=result.rule_set_version,
        rules_run=result.rules_run, scope_adcode=None, actor="benchmark"))
    out.findings = len(result.findings)
    return out


def file_mode(bundle: Bundle, timer: Timer, dem: DemGrid | None) -> Phases:
    """Time validate-and-read of a GeoPackage, check, and writing the findings file."""
    out = Phases()
    with tempfile.TemporaryDirectory(prefix="rmbench-file-") as tmp:
        city = Path(tmp) / "city.gpkg"
        t0 = time.perf_counter()
        bundle_to_file(bundle, city)
        out.seconds["setup: write the city GeoPackage"] = time.perf_counter() - t0
        out.seconds["validate + read"], read = timer(lambda: bundle_from_file(city))

        def check() -> CheckResult:
            return run_checks(Bundle(dict(read.frames), metric_epsg=read.metric_epsg), dem=dem)

        out.seconds["check"], result = timer(check)
        target = Path(tmp) / "findings.gpkg"
        out.seconds["write findings file"], _ = timer(lambda: write_findings(result, target))
        out.findings = len(result.findings)
    return out


def settle(engine: Engine) -> float:
    """``VACUUM (ANALYZE)`` the freshly loaded store, as autovacuum would soon after a bulk load; return seconds.

    Timed as setup: otherwise autovacuum works through the 500,000 new buildings during the first
    timed runs and they measure its competition for the two cores, not the pre-check.
    """
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
    return time.perf_counter() - t0


def precheck_real(engine: Engine, site: shapely.Geometry, use: str) -> int:
    """The planner's pre-check path, cold: window read from PostGIS, rules in force, ``precheck_site``."""
    verdict = precheck_site(bundle_near(engine, site), site, use, rules=effective_ruleset(engine))
    return len(verdict.reasons)


def precheck_phases(engine: Engine, site: shapely.Geometry, use: str, timer: Timer) -> dict[str, float]:
    """Median seconds of the pre-check's phases: the window read, the rules in force, the check (cold bundle)."""
    out: dict[str, float] = {}
    out["window read"], near = timer(lambda: bundle_near(engine, site))
    out["rules in force"], rules = timer(lambda: effective_ruleset(engine))
    out["precheck_site"], _ = timer(lambda: precheck_site(
        Bundle({k: v.copy() for k, v in near.frames.items()}, metric_epsg=near.metric_epsg), site, use, rules=rules))
    out["features read"] = float(sum(len(f) for f in near.frames.values()))
    return out


#: The layers the pre-check reads (``bundle_near`` leaves out the registers no check family reads):
#: ``--rows precheck`` imports only these, which is quicker than the whole city.
PRECHECK_LAYERS = tuple(layer for layer in LAYERS if layer not in ("risk_points", "hidden_hazards"))


def precheck_naive(engine: Engine, site: shapely.Geometry, epsg: int) -> int:
    """The same window read from PostGIS, then the site's distance to every feature of it, projected afresh, no index.

    Its output (features within 1 km) is not the pre-check's verdict, so nothing is compared: it is the cost
    of the plainest computation over the same data.
    """
    near = bundle_near(engine, site)
    site_m = gpd.GeoSeries([site], crs=4490).to_crs(epsg).iloc[0]
    found = 0
    for frame in near.frames.values():
        if len(frame):
            found += int((frame.to_crs(epsg).distance(site_m) < 1000).sum())
    return found
