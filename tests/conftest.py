"""Test fixtures: a real private PostGIS cluster for the session, a fresh database per test.

Database and browser tests never skip: a missing PostGIS or Chromium is a failure.
Any skipped test fails the run in CI (CI=true).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from geo import embedded, schema, store
from geo.checks.bundle import Bundle
from geo.checks.ruleset import RuleSet, load_ruleset
from geo.importer import import_file

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DISTRICTS = ROOT / "data" / "kunming_districts.geojson"
ARTIFACTS = ROOT / "artifacts"
_counter = itertools.count()


def _unique_name(prefix: str) -> str:
    """A database name never given before in this run: this module is imported twice (as ``conftest`` by
    pytest and as ``tests.conftest`` by tests/clients.py), each copy with its own counter, so the counter
    alone could repeat a name — and a repeated name would reuse a cached session token of a dropped database."""
    return f"{prefix}_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[embedded.Cluster]:
    """A private PostGIS cluster in a temporary folder, stopped and removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="rmtest-", dir="/tmp"))
    home.chmod(0o755)
    cluster = embedded.cluster_for(home / "pg")
    embedded.start(cluster)
    try:
        yield cluster
    finally:
        embedded.stop(cluster)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_cluster: embedded.Cluster) -> str:
    """Name of a migrated database holding the 14 Kunming districts, used as a template."""
    name = "rm_template"
    embedded.drop_database(pg_cluster, name)
    embedded.create_database(pg_cluster, name)
    engine = store.make_engine(pg_cluster.url(name))
    schema.upgrade(engine)
    import_file(engine, "districts", DISTRICTS, actor="test")
    engine.dispose()
    return name


def _fresh(cluster: embedded.Cluster, template: str | None) -> tuple[str, Engine]:
    name = _unique_name("t")
    embedded.drop_database(cluster, name)
    embedded.create_database(cluster, name, template=template)
    return name, store.make_engine(cluster.url(name))


def _fresh_engine(cluster: embedded.Cluster, template: str | None) -> Iterator[Engine]:
    """An owner engine of a new database copied from ``template``; the database is dropped afterwards."""
    name, eng = _fresh(cluster, template)
    try:
        yield eng
    finally:
        eng.dispose()
        embedded.drop_database(cluster, name)


@pytest.fixture
def engine(pg_cluster: embedded.Cluster, template_db: str) -> Iterator[Engine]:
    """A fresh, migrated database with the Kunming districts, dropped after the test."""
    yield from _fresh_engine(pg_cluster, template_db)


@pytest.fixture
def empty_engine(pg_cluster: embedded.Cluster) -> Iterator[Engine]:
    """A fresh database with nothing in it (not even PostGIS)."""
    yield from _fresh_engine(pg_cluster, None)


@pytest.fixture
def app_engine(engine: Engine) -> Iterator[Engine]:
    """The application role (row-level security) on the test's database, applying the current scope."""
    from tests.clients import app_engine_of

    app = app_engine_of(engine)
    try:
        yield app
    finally:
        app.dispose()


@pytest.fixture(scope="session")
def demo_db(pg_cluster: embedded.Cluster, template_db: str) -> str:
    """URL of a database with the full Kunming demo loaded (shared; do not modify)."""
    from layers.demo_load import load_demo

    name = "rm_demo"
    embedded.drop_database(pg_cluster, name)
    embedded.create_database(pg_cluster, name, template=template_db)
    eng = store.make_engine(pg_cluster.url(name))
    for _line in load_demo(eng):
        pass
    eng.dispose()
    return pg_cluster.url(name)


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    """The rule set as shipped (geo/rules), loaded once per test module."""
    return load_ruleset()


@pytest.fixture
def demo_bundle(demo_db: str) -> Bundle:
    """A check bundle read from the shared demo database (a fresh read for each test)."""
    from geo.checks.sources import bundle_from_store

    engine = store.make_engine(demo_db)
    try:
        return bundle_from_store(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def secured(demo_db: str, pg_cluster: embedded.Cluster, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[str, Engine]]:
    """The app served with sign-in on over a private copy of the demo: its base URL and an owner engine.

    One copy per test module; log-ins and actions write to it (see tests/browser.py).
    """
    from tests.browser import served_signed_in_copy

    with served_signed_in_copy(pg_cluster, demo_db, tmp_path_factory.mktemp("riskmap-home")) as served:
        yield served


@pytest.fixture
def driver() -> Iterator[Any]:
    """Headless Debian Chromium for one test (see tests/browser.py)."""
    from tests.browser import chromium

    drv = chromium()
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots and other files a person may want to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test means something was not tested: fail the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") and skipped:
        if reporter:
            reporter.write_line(f"CI: {len(skipped)} skipped test(s) count as failures", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def campaign_app(engine: Engine) -> Iterator[Engine]:
    """A store with three enterprises and one account per campaign role; yields an application-role engine."""
    from tests.campaign_helpers import campaign_app as body

    yield from body(engine)


@pytest.fixture
def demo_copy(pg_cluster: embedded.Cluster, demo_db: str) -> Iterator[dict[str, str]]:
    """Environment for a private copy of the demo database (accounts included), for the command line."""
    from sqlalchemy.engine import make_url

    from tests.clients import app_url

    name = _unique_name("t_cli")
    embedded.drop_database(pg_cluster, name)
    embedded.create_database(pg_cluster, name, template=make_url(demo_db).database)
    url = pg_cluster.url(name)
    try:
        yield {"RISKMAP_DATABASE_URL": url, "RISKMAP_APP_DATABASE_URL": app_url(url)}
    finally:
        embedded.drop_database(pg_cluster, name)
