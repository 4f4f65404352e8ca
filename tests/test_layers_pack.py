"""District export packs and city outputs from the demo database, read back with GDAL."""

from __future__ import annotations

import re
import subprocess
import zipfile

import openpyxl
import pyogrio
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from geo import store
from layers.pack import export_city, export_district

pytestmark = pytest.mark.postgis
DISTRICTS = ["530102", "530103", "530111", "530112", "530113", "530114", "530115", "530124", "530125",
             "530126", "530127", "530128", "530129", "530181"]


def ogr_counts(path) -> tuple[dict[str, int], str]:
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True).stdout
    counts = {m.group(1): int(m.group(2))
              for m in re.finditer(r"Layer name: (.+)\n(?:.*\n)*?Feature Count: (\d+)", out)}
    return counts, out


@pytest.mark.parametrize("adcode", DISTRICTS)
def test_every_district_pack_opens_with_gdal(demo_db, tmp_path, adcode) -> None:
    engine = store.make_engine(demo_db)
    written = export_district(engine, adcode, tmp_path, formats=("gpkg",), actor="test")
    counts, info = ogr_counts(written["gpkg"][0])
    n_points = len(store.read_layer(engine, "risk_points", adcode))
    assert n_points >= 2
    for title in ("基础清单", "防控清单", "责任清单", "应急清单"):
        assert counts[title] == n_points
    assert counts["区县边界"] == 1
    found = store.read_findings(engine, adcode=adcode)
    open_found = found[found["status"].isin(["open", "in_remediation"])]
    assert counts.get("检查发现", 0) == len(open_found)
    assert 'ID["EPSG",4490]' in info or "CGCS2000" in info


def test_full_pack_formats(demo_db, tmp_path) -> None:
    engine = store.make_engine(demo_db)
    written = export_district(engine, "530181", tmp_path, formats=("gpkg", "shp", "xlsx", "pdf", "geojson"),
                              shp_encoding="GBK", crs="gk", actor="test")
    _, info = ogr_counts(written["gpkg"][0])
    assert 'ID["EPSG",4543]' in info  # CGCS2000 3-degree GK CM 102°E
    wb = openpyxl.load_workbook(written["xlsx"][0])
    assert {"基础清单", "防控清单", "责任清单", "应急清单"} <= set(wb.sheetnames)
    headers = [c.value for c in wb["基础清单"][1]]
    assert "风险点编号" in " ".join(map(str, headers)) or "编号" in " ".join(map(str, headers))
    assert wb["基础清单"].freeze_panes == "A2"
    with zipfile.ZipFile(written["shp"][0]) as zf:
        cpgs = [n for n in zf.namelist() if n.endswith(".cpg")]
        assert cpgs and all(zf.read(n).decode().strip() == "GBK" for n in cpgs)
        zf.extractall(tmp_path / "shp")
    shp = next((tmp_path / "shp").rglob("basic_list*.shp"))
    back = pyogrio.read_dataframe(shp, encoding="GBK")
    names = set(store.read_layer(engine, "risk_points", "530181")["name"])
    assert names & set(back.astype(str).stack())  # Chinese values survive the GBK round trip
    assert written["pdf"][0].stat().st_size > 10_000
    with engine.connect() as conn:
        audits = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'export' AND adcode = '530181'"))
        assert audits.scalar_one() >= 1


def test_unknown_district_is_a_clear_error(demo_db, tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown district"):
        export_district(store.make_engine(demo_db), "530199", tmp_path, formats=("gpkg",))


def test_city_outputs_and_cli(demo_db, tmp_path, monkeypatch) -> None:
    from riskmap.cli import main

    written = export_city(store.make_engine(demo_db), tmp_path, formats=("gpkg", "xlsx", "png"), actor="test")
    counts, _ = ogr_counts(written["gpkg"][0])
    assert counts["五色评级"] == 14
    wb = openpyxl.load_workbook(written["xlsx"][0])
    assert "五色评级" in wb.sheetnames
    monkeypatch.setenv("RISKMAP_DATABASE_URL", demo_db)
    result = CliRunner().invoke(main, ["export", "--district", "530113", "--formats", "gpkg,xlsx",
                                       "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "riskmap_530113.gpkg").exists()
    bad = CliRunner().invoke(main, ["export", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "--district" in bad.output
