"""Store, embedded cluster, migrations and the districts import."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from geoalchemy2 import alembic_helpers
from sqlalchemy import text

from geo import embedded, schema, store
from geo.importer import import_file
from geo.models import Base
from tests.clients import app_engine_of
from tests.conftest import DISTRICTS, SHARED

pytestmark = pytest.mark.postgis


def test_single_migration_head() -> None:
    heads = ScriptDirectory.from_config(schema.alembic_config()).get_heads()
    assert len(heads) == 1


def test_models_match_migrated_database(empty_engine) -> None:
    schema.upgrade(empty_engine)
    assert schema.current_revision(empty_engine) == schema.head_revision()
    with empty_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "include_object": lambda obj, name, type_, reflected, compare_to: (
                type_ != "table" or name in Base.metadata.tables
            ) and alembic_helpers.include_object(obj, name, type_, reflected, compare_to),
            "compare_type": True,
        })
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_geometry_columns_are_cgcs2000_with_gist(engine) -> None:
    with engine.connect() as conn:
        srids = conn.execute(text("SELECT f_table_name, f_geometry_column, srid FROM geometry_columns")).all()
        gist = {r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'"))}
    assert srids, "no geometry columns"
    assert {s for _, _, s in srids} == {4490}
    assert {t for t, _, _ in srids} <= gist


def test_every_district_owned_table_has_adcode() -> None:
    # measure_snapshots hold aggregates keyed by scope (a district's code or "city"), read under that scope
    skip = {"districts", "import_batches", "audit_log", "check_runs", "pipelines", "rule_overrides",
            "measure_snapshots", "report_definition_overrides"}
    for name, table in Base.metadata.tables.items():
        if name not in skip:
            assert "adcode" in table.columns, name
    assert "adcodes" in Base.metadata.tables["pipelines"].columns


def test_shared_districts_import_gives_14_valid(empty_engine) -> None:
    schema.upgrade(empty_engine)
    report = import_file(empty_engine, "districts", SHARED / "data" / "kunming_districts.geojson")
    assert report.rows_imported == 14
    with empty_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT adcode, ST_IsValid(geom), ST_SRID(geom), level, parent_adcode FROM districts")).all()
    expected = {f["properties"]["adcode"] for f in json.loads(DISTRICTS.read_text())["features"]}
    assert {r[0] for r in rows} == expected
    assert all(r[1] and r[2] == 4490 and r[3] == "county" and r[4] == "530100" for r in rows)
    # re-import updates, does not duplicate
    again = import_file(empty_engine, "districts", SHARED / "data" / "kunming_districts.geojson")
    assert again.rows_imported == 14
    counts = store.row_counts(empty_engine)
    assert counts["districts"] == 14
    assert counts["import_batches"] == 2
    assert counts["audit_log"] == 2


def test_cluster_lifecycle() -> None:
    home = Path(tempfile.mkdtemp(prefix="rmlife-", dir="/tmp"))
    home.chmod(0o755)
    cluster = embedded.cluster_for(home / "pg")
    assert not embedded.is_running(cluster)
    embedded.start(cluster)
    try:
        assert embedded.is_running(cluster)
        assert "PostGIS" in store.postgis_version(_migrated(cluster))
        embedded.start(cluster)  # idempotent
    finally:
        assert embedded.stop(cluster)
    assert not embedded.is_running(cluster)
    assert not embedded.stop(cluster)
    shutil.rmtree(home)


def test_unreachable_home_is_reported(tmp_path) -> None:
    if os.geteuid() != 0:
        pytest.fail("this machine kind runs tests as root")
    cluster = embedded.cluster_for(tmp_path / "pg")  # pytest's tmp is 0700 root: postgres cannot enter
    with pytest.raises(embedded.EmbeddedDatabaseError, match="cannot reach"):
        embedded.start(cluster)


def _migrated(cluster):
    eng = store.make_engine(cluster.url())
    schema.upgrade(eng)
    return eng


def test_cli_db_status(pg_cluster, engine, monkeypatch) -> None:
    from riskmap.cli import main

    monkeypatch.setenv("RISKMAP_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    result = CliRunner().invoke(main, ["db", "status"])
    assert result.exit_code == 0, result.output
    assert "PostGIS 3" in result.output
    assert "districts" in result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("districts "))
    assert line.split()[-1] == "14"


def test_data_version_moves_with_data_not_with_reads(engine) -> None:
    start = store.data_version(engine)
    assert start > 0  # the districts import
    with engine.begin() as conn:
        for action in store.READ_ONLY_ACTIONS:
            store.audit(conn, actor="t", action=action)
    assert store.data_version(engine) == start  # log-ins, pre-checks and exports keep caches
    with engine.begin() as conn:
        store.audit(conn, actor="t", action="finding_status", target="check_findings:1")
    moved = store.data_version(engine)
    assert moved > start
    with engine.begin() as conn:
        store.audit(conn, actor="t", action="login")
    assert store.data_version(engine) == moved


def test_read_finding_reads_one_row_in_scope(engine) -> None:
    import shapely

    from geo.checks.findings import finding, findings_frame
    from geo.checks.ruleset import load_ruleset

    rules = load_ruleset()
    line = shapely.LineString([(102.40, 24.90), (102.40001, 24.90001)])
    records = [finding(rules["PIPE_OCCUPY"], subject_type="pipelines", subject_key="GAS-01", subject_name="管道",
                       object_type="buildings", object_key=key, object_name=key, measured_m=3.0, required_m=5.0,
                       verdict="violation", adcode=adcode, geometry=line)
               for key, adcode in (("A", "530181"), ("B", "530112"))]
    store.save_check_run(engine, findings=findings_frame(records), hca_segments=None,
                         rule_set_version=rules.version, rules_run=["PIPE_OCCUPY"], scope_adcode=None, actor="t")
    every = store.read_findings(engine).set_index("object_key")
    one = store.read_finding(engine, int(every.loc["B", "id"]))
    assert len(one) == 1 and one.iloc[0]["object_key"] == "B" and one.crs == every.crs
    assert list(one.columns) == list(store.read_findings(engine).columns)
    assert store.read_finding(engine, 999999).empty
    app = app_engine_of(engine)
    try:  # row-level security: a district officer of 530181 does not see 530112's finding
        with store.scoped(store.Scope(all_districts=False, adcode="530181", actor="t", role="district_officer")):
            assert store.read_finding(app, int(every.loc["B", "id"])).empty
            assert len(store.read_finding(app, int(every.loc["A", "id"]))) == 1
    finally:
        app.dispose()
