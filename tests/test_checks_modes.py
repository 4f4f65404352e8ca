"""The same checks on the database and on a GeoPackage give the same findings; the CLI prints them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from geo import store
from geo.checks.runner import run_checks
from geo.checks.sources import bundle_from_file, bundle_from_store, bundle_to_file

pytestmark = pytest.mark.postgis
AS_OF = dt.date(2026, 11, 1)


def _identities(findings):
    cols = ["rule_code", "subject_key", "object_key", "verdict"]
    out = {}
    for row in findings[[*cols, "measured_m"]].itertuples(index=False):
        m = row.measured_m
        out[tuple(row[:4])] = None if m is None or m != m else round(float(m), 1)
    return out


def test_file_mode_equals_database_mode(demo_db, tmp_path) -> None:
    engine = store.make_engine(demo_db)
    db_bundle = bundle_from_store(engine)
    gpkg = bundle_to_file(db_bundle, tmp_path / "bundle.gpkg")
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"districts", "enterprises", "pipelines", "buildings", "protection_targets"} <= layers
    file_bundle = bundle_from_file(gpkg)
    db = run_checks(db_bundle, as_of=AS_OF).findings
    fl = run_checks(file_bundle, as_of=AS_OF).findings
    assert len(db) > 100
    assert _identities(db) == _identities(fl)
    assert set(db["rule_code"]) >= {"ESD_DECLARED", "ESD_IR", "PIPE_OCCUPY", "PIPE_SPACING", "PIPE_PERMIT_50",
                                    "PIPE_PERMIT_200", "PIPE_CROSSING", "LOC_CLASS", "HCA_OIL", "HCA_GAS",
                                    "HCA_UNDECLARED", "HCA_REVIEW", "TAIL_OVERHEAD", "TAIL_SAFETY"}


def test_cli_check_file_mode_prints_rule_clause_and_metres(demo_db, tmp_path, monkeypatch) -> None:
    from riskmap.cli import main

    gpkg = bundle_to_file(bundle_from_store(store.make_engine(demo_db)), tmp_path / "in.gpkg")
    out = tmp_path / "findings.gpkg"
    monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["check", "--input", str(gpkg), "--output", str(out),
                                       "--as-of", "2026-11-01", "--rules", "PIPE_OCCUPY"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("PIPE_OCCUPY |")]
    assert lines, result.output
    first = lines[0]
    assert "石油天然气管道保护法 第30条" in first and " m / 5.0 m" in first
    # one geometry type per layer: mixed findings are written as check_findings_pt / _ln (geo.geometry_split)
    names = [str(n) for n, _ in pyogrio.list_layers(out) if str(n).startswith("check_findings")]
    assert names and all(n == "check_findings" or n[len("check_findings_"):] in ("pt", "ln", "pg") for n in names)
    written = pd.concat([pyogrio.read_dataframe(out, layer=n) for n in names], ignore_index=True)
    assert set(written["rule_code"]) == {"PIPE_OCCUPY"} and len(written) == len(lines)
