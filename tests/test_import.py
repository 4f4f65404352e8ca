"""The import path: readers, validation, the all-or-nothing write, reject files, CRS handling and the CLI.

Every input file is built inside the test (openpyxl, pandas, geopandas/pyogrio or raw
bytes); nothing binary is checked in. Database tests use the ``engine`` fixture: a fresh
migrated PostGIS database holding the 14 Kunming districts.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from geo import store
from geo.crs import gcj02_to_bd09, wgs84_to_gcj02
from geo.errors import ImportValidationError, ReadError
from geo.importer import import_file
from geo.layer_specs import LAYERS, layer_spec
from geo.readers import header_map, read_any
from geo.validate import Issue, repair_geometry
from layers.templates import write_template
from tests.import_files import credit_code, write_csv, write_xlsx

postgis = pytest.mark.postgis

#: Points well inside 安宁市 (530181), each more than 6 km from its boundary.
ANNING = [(102.47, 24.92), (102.40, 24.95), (102.45, 24.90), (102.43, 24.93), (102.42, 24.88)]
#: A point in 五华区 (530102), about 16 km from 安宁市.
WUHUA = (102.70, 25.08)
HEADER = "表头 / header"


# --------------------------------------------------------------------------- helpers


def wrong_check(code: str) -> tuple[str, str]:
    """``code`` with a wrong check character, and the character it should have."""
    right = code[-1]
    bad = "1" if right != "1" else "2"
    return code[:-1] + bad, right


def enterprise_zh(i: int, **changes: Any) -> dict[str, Any]:
    """One enterprise row with the Chinese template headers."""
    lon, lat = ANNING[i]
    row: dict[str, Any] = {
        "统一社会信用代码*": credit_code(i),
        "企业名称*": f"安宁测试化工{i + 1}号有限公司",
        "行政区划代码*": "530181",
        "行业*": "危险化学品生产",
        "详细地址": "安宁市草铺街道",
        "重大危险源等级": 2,
        "风险等级*": "较大风险",
        "外部安全防护距离(m)": 300,
        "涉及爆炸物": "否",
        "经度(°)": lon,
        "纬度(°)": lat,
    }
    row.update(changes)
    return row


def enterprise_en(i: int, **changes: Any) -> dict[str, Any]:
    """One enterprise row with canonical field names as headers."""
    lon, lat = ANNING[i]
    row: dict[str, Any] = {
        "credit_code": credit_code(i),
        "name": f"安宁测试化工{i + 1}号有限公司",
        "adcode": "530181",
        "industry": "hazchem_storage",
        "risk_level": "general",
        "external_distance_m": "300",
        "lon": lon,
        "lat": lat,
    }
    row.update(changes)
    return row


def square(lon: float, lat: float, size: float = 0.001) -> shapely.Polygon:
    return shapely.box(lon, lat, lon + size, lat + size)


def bowtie(lon: float, lat: float, size: float = 0.001) -> shapely.Polygon:
    return shapely.Polygon([(lon, lat), (lon + size, lat + size), (lon + size, lat), (lon, lat + size), (lon, lat)])


def query(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).mappings().all())


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two lon/lat points in the Gauss-Krüger zone of Kunming."""
    pair = gpd.GeoSeries([shapely.Point(a), shapely.Point(b)], crs=4490).to_crs(4543)
    return float(pair.iloc[0].distance(pair.iloc[1]))


def refused(engine: Engine, layer: str, path: Path, exc: type[Exception] = ImportValidationError,
            **kwargs: Any) -> Any:
    """Import ``path``, expect ``exc``, and check that nothing at all was written."""
    before = store.row_counts(engine)
    with pytest.raises(exc) as info:
        import_file(engine, layer, path, **kwargs)
    assert store.row_counts(engine) == before
    assert path.name in str(info.value)
    return info.value


def issue(err: ImportValidationError, row: str, field: str) -> Issue:
    """The single error of ``err`` at ``row`` whose field mentions ``field``."""
    found = [i for i in err.issues if i.row == row and field in i.field and i.severity == "error"]
    assert len(found) == 1, [i.text("both") for i in err.issues]
    return found[0]


# --------------------------------------------------------------------------- 1. tabular files


@postgis
def test_xlsx_with_chinese_headers(engine, tmp_path) -> None:
    rows = [enterprise_zh(0), enterprise_zh(1, **{"重大危险源等级": None, "涉及爆炸物": "是", "风险等级*": "重大"})]
    rows[0]["行政区划代码*"] = 530181  # typed as a number in Excel
    path = write_xlsx(tmp_path / "企业.xlsx", rows)
    before = store.row_counts(engine)
    report = import_file(engine, "企业", path)
    assert (report.layer, report.rows_total, report.rows_imported, report.rows_rejected) == ("enterprises", 2, 2, 0)
    assert report.source_crs == "EPSG:4326"
    after = store.row_counts(engine)
    assert after["enterprises"] == before["enterprises"] + 2
    assert after["import_batches"] == before["import_batches"] + 1
    got = query(engine, "SELECT credit_code, key, name, adcode, industry, address, mhs_grade, risk_level, "
                "external_distance_m, has_explosives, installation_status, source_crs, "
                "ST_X(geom) AS x, ST_Y(geom) AS y FROM enterprises ORDER BY name")
    assert [r["credit_code"] for r in got] == [credit_code(0), credit_code(1)]
    assert [r["key"] for r in got] == [credit_code(0), credit_code(1)]
    assert [r["name"] for r in got] == ["安宁测试化工1号有限公司", "安宁测试化工2号有限公司"]
    assert {r["adcode"] for r in got} == {"530181"}
    assert {r["industry"] for r in got} == {"hazchem_production"}
    assert got[0]["address"] == "安宁市草铺街道"
    assert [r["mhs_grade"] for r in got] == [2, None]
    assert [r["risk_level"] for r in got] == ["significant", "major"]
    assert [r["has_explosives"] for r in got] == [False, True]
    assert {r["installation_status"] for r in got} == {"in_service"}
    assert {r["external_distance_m"] for r in got} == {300.0}
    assert {r["source_crs"] for r in got} == {"EPSG:4326"}
    assert [(r["x"], r["y"]) for r in got] == [ANNING[0], ANNING[1]]
    batch = query(engine, "SELECT layer, file_name, rows_total, rows_imported, rows_rejected, source_crs "
                  "FROM import_batches WHERE id = :id", id=report.batch_id)[0]
    assert dict(batch) == {"layer": "enterprises", "file_name": "企业.xlsx", "rows_total": 2,
                           "rows_imported": 2, "rows_rejected": 0, "source_crs": "EPSG:4326"}


@postgis
def test_csv_with_english_field_names_and_units(engine, tmp_path) -> None:
    rows = [enterprise_en(0, external_distance_m="300m"), enterprise_en(1, external_distance_m="0.3km"),
            enterprise_en(2, external_distance_m="1.2 公里"), enterprise_en(3, external_distance_m="")]
    path = write_csv(tmp_path / "enterprises.csv", rows)
    report = import_file(engine, "enterprises", path)
    assert report.rows_imported == 4
    got = query(engine, "SELECT credit_code, industry, risk_level, external_distance_m FROM enterprises")
    by_code = {r["credit_code"]: r for r in got}
    assert [by_code[credit_code(i)]["external_distance_m"] for i in range(4)] == [300.0, 300.0, 1200.0, None]
    assert {r["industry"] for r in got} == {"hazchem_storage"}
    assert {r["risk_level"] for r in got} == {"general"}


@postgis
def test_gbk_csv_keeps_chinese_names(engine, tmp_path) -> None:
    rows = [enterprise_zh(0, **{"企业名称*": "昆明钢铁控股有限公司安宁分厂"}),
            enterprise_zh(1, **{"企业名称*": "云天化集团草铺磷化工(储罐区)"})]
    path = write_csv(tmp_path / "企业_gbk.csv", rows, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    import_file(engine, "enterprises", path)
    names = [r["name"] for r in query(engine, "SELECT name FROM enterprises ORDER BY credit_code")]
    assert names == ["昆明钢铁控股有限公司安宁分厂", "云天化集团草铺磷化工(储罐区)"]


@postgis
def test_unknown_unit_is_an_error_naming_the_field(engine, tmp_path) -> None:
    path = write_csv(tmp_path / "feet.csv", [enterprise_en(0), enterprise_en(1, external_distance_m="300ft")])
    err = refused(engine, "enterprises", path)
    found = issue(err, "第3行 / row 3", "external_distance_m")
    assert found.file == "feet.csv"
    assert found.field == "外部安全防护距离(external_distance_m)"
    assert "ft" in found.zh and "ft" in found.en
    assert "expected m" in found.en
    assert found.text("zh").startswith("feet.csv: 第3行 / row 3: 外部安全防护距离(external_distance_m): 错误:")


# --------------------------------------------------------------------------- 2. bad files write nothing


@postgis
def test_bowtie_polygon_is_refused(engine, tmp_path) -> None:
    gdf = gpd.GeoDataFrame(
        {"code": ["B-1", "B-2"], "adcode": ["530181", "530181"], "use": ["住宅", "厂房"]},
        geometry=[square(*ANNING[0]), bowtie(*ANNING[1])], crs=4326,
    )
    path = tmp_path / "buildings.geojson"
    gdf.to_file(path, driver="GeoJSON")
    err = refused(engine, "buildings", path)
    found = issue(err, "要素2 / feature 2", "geometry")
    assert found.file == "buildings.geojson"
    assert "无法无歧义地修复" in found.zh
    assert "Self-intersection" in found.en
    assert [i.row for i in err.issues if i.severity == "error"] == ["要素2 / feature 2"]


@postgis
def test_wrong_credit_code_check_character(engine, tmp_path) -> None:
    bad, right = wrong_check(credit_code(1))
    path = write_xlsx(tmp_path / "企业.xlsx", [enterprise_zh(0), enterprise_zh(1, **{"统一社会信用代码*": bad})])
    err = refused(engine, "enterprises", path)
    found = issue(err, "第3行 / row 3", "credit_code")
    assert found.field == "统一社会信用代码(credit_code)"
    assert f"校验位应为 {right}" in found.zh
    assert bad in found.zh
    assert f"check character should be {right}" in found.en


@postgis
def test_point_outside_its_district(engine, tmp_path) -> None:
    rows = [enterprise_en(0), enterprise_en(1, lon=WUHUA[0], lat=WUHUA[1])]  # in 五华区, stated 530181
    path = write_csv(tmp_path / "misplaced.csv", rows)
    err = refused(engine, "enterprises", path)
    found = issue(err, "第3行 / row 3", "geometry")
    assert "安宁市(530181)" in found.zh
    distance = int(re.search(r"之外 (\d+) 米", found.zh).group(1))  # type: ignore[union-attr]
    assert 15_000 < distance < 17_500
    assert "tolerance 200 m" in found.en


@postgis
def test_point_just_outside_its_district_within_tolerance_is_a_warning(engine, tmp_path) -> None:
    anning = store.read_districts(engine, ["530181"]).to_crs(4543).geometry.iloc[0]
    ring = anning.buffer(100).exterior  # 100 m outside the boundary
    outside = gpd.GeoSeries([ring.interpolate(0.3, normalized=True)], crs=4543).to_crs(4490).iloc[0]
    path = write_csv(tmp_path / "edge.csv", [enterprise_en(0, lon=outside.x, lat=outside.y)])
    report = import_file(engine, "enterprises", path)
    assert report.rows_imported == 1
    warnings = [i for i in report.issues if i.severity == "warning" and "geometry" in i.field]
    assert len(warnings) == 1
    assert re.search(r"区县边界外 (9\d|10\d) 米，在容差内", warnings[0].zh), warnings[0].zh
    with pytest.raises(ImportValidationError):
        import_file(engine, "enterprises", path, tolerance_m=50)


@postgis
def test_unknown_adcode(engine, tmp_path) -> None:
    path = write_csv(tmp_path / "adcode.csv", [enterprise_en(0, adcode="530199")])
    err = refused(engine, "enterprises", path)
    found = issue(err, "第2行 / row 2", "adcode")
    assert found.field == "行政区划代码(adcode)"
    assert "530199 不存在" in found.zh


@postgis
def test_csv_missing_required_column(engine, tmp_path) -> None:
    rows = [{k: v for k, v in enterprise_en(i).items() if k != "risk_level"} for i in range(2)]
    err = refused(engine, "enterprises", write_csv(tmp_path / "no_risk.csv", rows))
    found = issue(err, HEADER, "risk_level")
    assert found.file == "no_risk.csv"
    assert found.field == "风险等级(risk_level)"
    assert "缺少必填列“风险等级”" in found.zh
    assert "'Risk level'" in found.en


@postgis
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".gpkg", ".geojson", ".shp"])
def test_empty_file(engine, tmp_path, suffix) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    err = refused(engine, "enterprises", path, ReadError)
    assert "文件为空" in str(err) and "file is empty" in str(err)


@postgis
def test_header_only_files(engine, tmp_path) -> None:
    headers = list(enterprise_zh(0))
    csv_path = tmp_path / "header_only.csv"
    csv_path.write_text(",".join(headers) + "\n", encoding="utf-8")
    xlsx_path = write_xlsx(tmp_path / "header_only.xlsx", [], headers)
    geojson = tmp_path / "header_only.geojson"
    geojson.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    for path in (csv_path, xlsx_path, geojson):
        err = refused(engine, "enterprises", path, ReadError)
        assert "没有数据行" in str(err) and "no data rows" in str(err)


@postgis
def test_non_spatial_files(engine, tmp_path) -> None:
    rows = [{k: v for k, v in enterprise_zh(i).items() if not k.startswith(("经度", "纬度"))} for i in range(2)]
    csv_path = write_csv(tmp_path / "no_coords.csv", rows)
    err = refused(engine, "enterprises", csv_path, ReadError)
    assert "非空间数据" in str(err) and "not spatial" in str(err)

    gpkg = tmp_path / "attributes.gpkg"
    pyogrio.write_dataframe(pd.DataFrame([enterprise_en(0)]).drop(columns=["lon", "lat"]), gpkg,
                            layer="enterprises", driver="GPKG")
    assert [list(x) for x in pyogrio.list_layers(gpkg)] == [["enterprises", None]]
    err = refused(engine, "enterprises", gpkg, ReadError)
    assert "没有几何字段" in str(err) and "not spatial" in str(err)


@postgis
def test_unsupported_extension(engine, tmp_path) -> None:
    path = tmp_path / "enterprises.dwg"
    path.write_bytes(b"AC1032\x00\x00")
    err = refused(engine, "enterprises", path, ReadError)
    assert "不支持的文件类型 .dwg" in str(err)
    assert "xlsx, csv, gpkg" in str(err)


@postgis
def test_duplicate_keys_in_one_file(engine, tmp_path) -> None:
    rows = [enterprise_zh(0), enterprise_zh(1), enterprise_zh(2, **{"统一社会信用代码*": credit_code(0)})]
    err = refused(engine, "enterprises", write_xlsx(tmp_path / "dupes.xlsx", rows))
    found = issue(err, "第4行 / row 4", "统一社会信用代码")
    assert credit_code(0) in found.zh
    assert "与第2行 / row 2相同" in found.zh
    assert "same as 第2行 / row 2" in found.en
    assert [i.row for i in err.issues if i.severity == "error"] == ["第4行 / row 4"]


@postgis
def test_projected_metres_need_crs(engine, tmp_path) -> None:
    true = (102.47, 24.92)
    pt = gpd.GeoSeries([shapely.Point(true)], crs=4490).to_crs(4543).iloc[0]
    row = {k: v for k, v in enterprise_en(0).items() if k not in ("lon", "lat")}
    path = write_csv(tmp_path / "metres.csv", [dict(row, x=round(pt.x, 3), y=round(pt.y, 3))])
    err = refused(engine, "enterprises", path, ReadError)
    assert "--crs" in str(err) and "not lon/lat" in str(err)
    # told the zone, it lands on the right point
    report = import_file(engine, "enterprises", path, crs="EPSG:4543")
    assert report.source_crs == "EPSG:4543"
    got = query(engine, "SELECT ST_X(geom) AS x, ST_Y(geom) AS y, source_crs FROM enterprises")[0]
    assert metres((got["x"], got["y"]), true) < 0.01
    assert got["source_crs"] == "EPSG:4543"


@postgis
def test_unsupported_crs_is_refused(engine, tmp_path) -> None:
    path = write_csv(tmp_path / "e.csv", [enterprise_en(0)])
    with pytest.raises(ValueError, match="EPSG:3857"):
        import_file(engine, "enterprises", path, crs="EPSG:3857")


# --------------------------------------------------------------------------- 3. shapefiles and encodings

INFRA = {
    "code": ["INF-1", "INF-2"],
    "adcode": ["530181", "530181"],
    "类别": ["变电站", "水库"],
    "名称": ["草铺220千伏变电站", "车木河水库(饮用水源)"],
}


def _infra_shapefile(folder: Path, encoding: str) -> Path:
    folder.mkdir()
    path = folder / "基础设施.shp"
    gdf = gpd.GeoDataFrame(INFRA, geometry=[shapely.Point(p) for p in ANNING[:2]], crs=4490)
    gdf.to_file(path, encoding=encoding)
    return path


def _infra_rows(engine: Engine) -> list[tuple[str, str, str]]:
    return [(r["code"], r["kind"], r["name"])
            for r in query(engine, "SELECT key AS code, kind, name FROM infrastructure ORDER BY key")]


EXPECTED_INFRA = [("INF-1", "substation", "草铺220千伏变电站"), ("INF-2", "reservoir", "车木河水库(饮用水源)")]


@postgis
def test_gbk_shapefile_without_cpg(engine, tmp_path) -> None:
    path = _infra_shapefile(tmp_path / "gbk", "GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert not list(path.parent.glob("*.cpg"))
    with pytest.raises(UnicodeDecodeError):
        path.with_suffix(".dbf").read_bytes().decode("utf-8")
    report = import_file(engine, "infrastructure", path)
    assert report.rows_imported == 2
    assert report.source_crs == "EPSG:4490"
    assert _infra_rows(engine) == EXPECTED_INFRA


@postgis
def test_utf8_shapefile_with_cpg(engine, tmp_path) -> None:
    path = _infra_shapefile(tmp_path / "utf8", "UTF-8")
    assert path.with_suffix(".cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    import_file(engine, "infrastructure", path)
    assert _infra_rows(engine) == EXPECTED_INFRA


@postgis
def test_zipped_gbk_shapefile(engine, tmp_path) -> None:
    path = _infra_shapefile(tmp_path / "zipme", "GBK")
    archive = tmp_path / "基础设施.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in path.parent.iterdir():
            zf.write(part, f"数据/{part.name}")
    report = import_file(engine, "infrastructure", archive)
    assert report.file == "基础设施.zip"
    assert _infra_rows(engine) == EXPECTED_INFRA
    batch = query(engine, "SELECT file_name FROM import_batches WHERE id = :id", id=report.batch_id)
    assert batch[0]["file_name"] == "基础设施.zip"


# --------------------------------------------------------------------------- 4. geometry repair


def _ring_touching_itself(lon: float, lat: float, s: float = 0.001) -> shapely.Polygon:
    """A square whose shell runs in to touch itself at its top edge, cutting out a triangle (area 90 s²)."""
    return shapely.Polygon([(lon, lat), (lon + 10 * s, lat), (lon + 10 * s, lat + 10 * s), (lon + 5 * s, lat + 10 * s),
                            (lon + 7 * s, lat + 5 * s), (lon + 3 * s, lat + 5 * s), (lon + 5 * s, lat + 10 * s),
                            (lon, lat + 10 * s), (lon, lat)])


def _spike(lon: float, lat: float, s: float = 0.001) -> shapely.Polygon:
    """A 10 s square with a zero-width spike out of one corner (area 100 s²)."""
    return shapely.Polygon([(lon, lat), (lon + 10 * s, lat), (lon + 10 * s, lat + 10 * s), (lon + 10 * s, lat + 15 * s),
                            (lon + 10 * s, lat + 10 * s), (lon, lat + 10 * s), (lon, lat)])


def test_repair_is_unambiguous_only() -> None:
    for geom, area in ((_ring_touching_itself(102.47, 24.92), 90e-6), (_spike(102.47, 24.92), 100e-6)):
        assert not geom.is_valid
        fixed, reason = repair_geometry(geom)
        assert fixed is not None, reason
        assert fixed.is_valid
        assert fixed.area == pytest.approx(area, rel=1e-6)
        assert "Self-intersection" in reason
    fixed, reason = repair_geometry(bowtie(102.47, 24.92))
    assert fixed is None
    assert "Self-intersection" in reason


@postgis
def test_repairable_polygons_import_with_a_warning(engine, tmp_path) -> None:
    gdf = gpd.GeoDataFrame(
        {"code": ["B-1", "B-2", "B-3"], "adcode": ["530181"] * 3, "use": ["住宅", "仓库", "厂房"]},
        geometry=[square(*ANNING[0]), _ring_touching_itself(*ANNING[1]), _spike(*ANNING[2])], crs=4326,
    )
    path = tmp_path / "buildings.geojson"
    gdf.to_file(path, driver="GeoJSON")
    report = import_file(engine, "buildings", path)
    assert report.rows_imported == 3
    repaired = [i for i in report.issues if "已自动修复" in i.zh]
    assert [i.row for i in repaired] == ["要素2 / feature 2", "要素3 / feature 3"]
    assert all(i.severity == "warning" and i.field == "几何(geometry)" and "repaired" in i.en for i in repaired)
    got = query(engine, "SELECT key, use, ST_IsValid(geom) AS ok, GeometryType(geom) AS t, ST_Area(geom) AS a, "
                "households, floors FROM buildings ORDER BY key")
    assert [r["key"] for r in got] == ["B-1", "B-2", "B-3"]
    assert [r["use"] for r in got] == ["residential", "warehouse", "industrial"]
    assert [r["t"] for r in got] == ["MULTIPOLYGON"] * 3  # footprints: one geometry type in the layer
    assert all(r["ok"] for r in got)
    assert [r["a"] for r in got] == pytest.approx([1e-6, 90e-6, 100e-6], rel=1e-6)
    assert {(r["households"], r["floors"]) for r in got} == {(0, 1)}

    # the same file with a bowtie added is refused as a whole
    bad = pd.concat([gdf, gpd.GeoDataFrame({"code": ["B-4"], "adcode": ["530181"], "use": ["住宅"]},
                                           geometry=[bowtie(*ANNING[3])], crs=4326)], ignore_index=True)
    bad_path = tmp_path / "buildings_bowtie.geojson"
    bad.to_file(bad_path, driver="GeoJSON")
    err = refused(engine, "buildings", bad_path)
    assert issue(err, "要素4 / feature 4", "geometry").zh.startswith("几何无效且无法无歧义地修复")


# --------------------------------------------------------------------------- 5. --skip-invalid


def _mixed_file(tmp_path: Path) -> tuple[Path, str]:
    bad_code, _ = wrong_check(credit_code(1))
    rows = [enterprise_zh(0), enterprise_zh(1, **{"统一社会信用代码*": bad_code}),
            enterprise_zh(2), enterprise_zh(3, **{"行政区划代码*": "530199", "风险等级*": "特别大"})]
    return write_xlsx(tmp_path / "混合.xlsx", rows), bad_code


@postgis
def test_skip_invalid_writes_a_reject_file(engine, tmp_path) -> None:
    path, bad_code = _mixed_file(tmp_path)
    before = store.row_counts(engine)
    report = import_file(engine, "enterprises", path, skip_invalid=True)
    assert (report.rows_total, report.rows_imported, report.rows_rejected) == (4, 2, 2)
    assert store.row_counts(engine)["enterprises"] == before["enterprises"] + 2
    names = {r["name"] for r in query(engine, "SELECT name FROM enterprises")}
    assert names == {"安宁测试化工1号有限公司", "安宁测试化工3号有限公司"}

    assert report.reject_file == tmp_path / "混合.xlsx.rejected.csv"
    rejects = pd.read_csv(report.reject_file, dtype=str, encoding="utf-8-sig")
    assert rejects["行号 row"].tolist() == ["第3行 / row 3", "第5行 / row 5"]
    # the reject file speaks the file's own headers, so it can be fixed and imported again
    assert rejects["统一社会信用代码*"].tolist() == [bad_code, credit_code(3)]
    assert rejects["企业名称*"].tolist() == ["安宁测试化工2号有限公司", "安宁测试化工4号有限公司"]
    assert rejects["风险等级*"].tolist() == ["较大风险", "特别大"]
    assert rejects["几何WKT geometry"].tolist() == ["POINT (102.4 24.95)", "POINT (102.43 24.93)"]
    reasons = rejects["错误原因 reasons"].tolist()
    assert "统一社会信用代码(credit_code)" in reasons[0] and "校验位应为" in reasons[0]
    assert "行政区划代码(adcode)" in reasons[1] and "风险等级(risk_level)" in reasons[1]
    assert "特别大" in reasons[1]

    batch = query(engine, "SELECT rows_total, rows_imported, rows_rejected, reject_file FROM import_batches "
                  "WHERE id = :id", id=report.batch_id)[0]
    assert dict(batch) == {"rows_total": 4, "rows_imported": 2, "rows_rejected": 2,
                           "reject_file": str(report.reject_file)}


@postgis
def test_without_skip_invalid_nothing_is_written(engine, tmp_path) -> None:
    path, _ = _mixed_file(tmp_path)
    err = refused(engine, "enterprises", path)
    assert "发现 3 处错误，未写入任何数据" in str(err)
    assert {i.row for i in err.issues if i.severity == "error"} == {"第3行 / row 3", "第5行 / row 5"}
    assert not (tmp_path / "混合.xlsx.rejected.csv").exists()
    assert list(tmp_path.iterdir()) == [path]


@postgis
def test_skip_invalid_does_not_skip_file_errors(engine, tmp_path) -> None:
    rows = [{k: v for k, v in enterprise_en(0).items() if k != "industry"}]
    path = write_csv(tmp_path / "no_industry.csv", rows)
    err = refused(engine, "enterprises", path, skip_invalid=True)
    assert issue(err, HEADER, "industry")
    assert not (tmp_path / "no_industry.csv.rejected.csv").exists()


# --------------------------------------------------------------------------- 6. re-import


@postgis
def test_reimport_upserts_by_key(engine, tmp_path) -> None:
    path = write_csv(tmp_path / "e.csv", [enterprise_en(0), enterprise_en(1)])
    first = import_file(engine, "enterprises", path)
    counts = store.row_counts(engine)
    second = import_file(engine, "enterprises", path)
    again = store.row_counts(engine)
    assert again["enterprises"] == counts["enterprises"] == 2
    assert again["import_batches"] == counts["import_batches"] + 1
    assert second.batch_id != first.batch_id

    write_csv(path, [enterprise_en(0), enterprise_en(1, risk_level="major", external_distance_m="450")])
    third = import_file(engine, "enterprises", path)
    assert store.row_counts(engine)["enterprises"] == 2
    got = {r["credit_code"]: r for r in query(
        engine, "SELECT credit_code, risk_level, external_distance_m, batch_id FROM enterprises")}
    assert (got[credit_code(1)]["risk_level"], got[credit_code(1)]["external_distance_m"]) == ("major", 450.0)
    assert got[credit_code(1)]["batch_id"] == third.batch_id
    assert (got[credit_code(0)]["risk_level"], got[credit_code(0)]["external_distance_m"]) == ("general", 300.0)


# --------------------------------------------------------------------------- 7. coordinates


@postgis
def test_gcj02_is_undone_only_when_declared(engine, tmp_path) -> None:
    true = ANNING[0]
    glon, glat = wgs84_to_gcj02(true[0], true[1])
    path = write_csv(tmp_path / "gaode.csv", [enterprise_en(0, lon=float(glon), lat=float(glat))])
    report = import_file(engine, "enterprises", path, crs="gcj02")
    assert report.source_crs == "GCJ-02"
    got = query(engine, "SELECT ST_X(geom) AS x, ST_Y(geom) AS y, source_crs FROM enterprises")[0]
    assert metres((got["x"], got["y"]), true) < 1.0
    assert got["source_crs"] == "GCJ-02"

    import_file(engine, "enterprises", path)  # same key: updates the row, now taken literally
    got = query(engine, "SELECT ST_X(geom) AS x, ST_Y(geom) AS y, source_crs FROM enterprises")
    assert len(got) == 1
    assert metres((got[0]["x"], got[0]["y"]), true) > 300.0
    assert got[0]["source_crs"] == "EPSG:4326"


@postgis
def test_bd09_is_undone_when_declared(engine, tmp_path) -> None:
    true = ANNING[1]
    blon, blat = gcj02_to_bd09(*wgs84_to_gcj02(true[0], true[1]))
    path = write_csv(tmp_path / "baidu.csv", [enterprise_en(1, lon=float(blon), lat=float(blat))])
    report = import_file(engine, "enterprises", path, crs="BD-09")
    assert report.source_crs == "BD-09"
    got = query(engine, "SELECT ST_X(geom) AS x, ST_Y(geom) AS y, source_crs FROM enterprises")[0]
    assert metres((got["x"], got["y"]), true) < 1.0
    assert got["source_crs"] == "BD-09"
    import_file(engine, "enterprises", path)
    got = query(engine, "SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM enterprises")[0]
    assert metres((got["x"], got["y"]), true) > 300.0


@postgis
def test_geopackage_in_gauss_kruger_zone(engine, tmp_path) -> None:
    rows = [enterprise_en(i) for i in range(3)]
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows).drop(columns=["lon", "lat"]),
                           geometry=[shapely.Point(p) for p in ANNING[:3]], crs=4490).to_crs(4543)
    assert gdf.geometry.x.min() > 100_000  # really metres
    path = tmp_path / "enterprises_4543.gpkg"
    gdf.to_file(path, layer="企业", driver="GPKG")
    report = import_file(engine, "enterprises", path)
    assert report.source_crs == "EPSG:4543"
    got = query(engine, "SELECT credit_code, ST_X(geom) AS x, ST_Y(geom) AS y, source_crs FROM enterprises "
                "ORDER BY credit_code")
    assert [r["credit_code"] for r in got] == [credit_code(i) for i in range(3)]
    for r, true in zip(got, ANNING, strict=False):
        assert metres((r["x"], r["y"]), true) < 0.5
        assert r["source_crs"] == "EPSG:4543"


@postgis
def test_geopackage_with_several_layers_needs_layer_name(engine, tmp_path) -> None:
    path = tmp_path / "two.gpkg"
    for name, idx in (("甲", 0), ("乙", 1)):
        gpd.GeoDataFrame(pd.DataFrame([enterprise_en(idx)]).drop(columns=["lon", "lat"]),
                         geometry=[shapely.Point(ANNING[idx])], crs=4490).to_file(path, layer=name, driver="GPKG")
    err = refused(engine, "enterprises", path, ReadError)
    assert "--layer-name" in str(err) and "甲" in str(err) and "乙" in str(err)
    import_file(engine, "enterprises", path, layer_name="乙")
    assert [r["credit_code"] for r in query(engine, "SELECT credit_code FROM enterprises")] == [credit_code(1)]


@postgis
@pytest.mark.parametrize(("epsg", "name"), [(3857, "WGS 84 / Pseudo-Mercator (EPSG:3857)"),
                                            (4214, "Beijing 1954 (EPSG:4214)")])
def test_unsupported_declared_crs_is_refused(engine, tmp_path, epsg, name) -> None:
    # Beijing 1954 lon/lat would otherwise pass for WGS84 and land up to ~100 m off
    gdf = gpd.GeoDataFrame(pd.DataFrame([enterprise_en(0)]).drop(columns=["lon", "lat"]),
                           geometry=[shapely.Point(ANNING[0])], crs=4490).to_crs(epsg)
    path = tmp_path / f"e_{epsg}.gpkg"
    gdf.to_file(path, layer="enterprises", driver="GPKG")
    err = refused(engine, "enterprises", path, ReadError)
    assert f"文件坐标系 {name} 不受支持" in str(err)
    assert "--crs" in str(err)


# --------------------------------------------------------------------------- 8. KML


@postgis
def test_kml_written_by_gdal(engine, tmp_path) -> None:
    gdf = gpd.GeoDataFrame({"name": ["草铺变电站", "车木河水库"], "code": ["K-1", "K-2"],
                            "adcode": ["530181", "530181"], "kind": ["变电站", "水库"]},
                           geometry=[shapely.Point(p) for p in ANNING[:2]], crs=4326)
    path = tmp_path / "基础设施.kml"
    gdf.to_file(path, driver="KML")
    report = import_file(engine, "infrastructure", path)
    assert report.rows_imported == 2
    got = query(engine, "SELECT key, kind, name, ST_X(geom) AS x, ST_Y(geom) AS y FROM infrastructure ORDER BY key")
    assert [(r["key"], r["kind"], r["name"]) for r in got] == [
        ("K-1", "substation", "草铺变电站"), ("K-2", "reservoir", "车木河水库")]
    assert [(r["x"], r["y"]) for r in got] == ANNING[:2]


GOOGLE_EARTH_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>尾矿库</name>
<Placemark id="pm1"><name>安宁示例尾矿库</name>
  <ExtendedData>
    <Data name="code"><value>TD-1</value></Data>
    <Data name="adcode"><value>530181</value></Data>
    <Data name="total_storage_10k_m3"><value>12000</value></Data>
    <Data name="dam_height_m"><value>45</value></Data>
    <Data name="status"><value>运行</value></Data>
    <Data name="risk_level"><value>重大风险</value></Data>
  </ExtendedData>
  <Point><coordinates>102.47,24.92,0</coordinates></Point></Placemark>
</Document></kml>
"""


@postgis
def test_kml_with_extended_data_and_altitude(engine, tmp_path) -> None:
    path = tmp_path / "尾矿库.kml"
    path.write_text(GOOGLE_EARTH_KML, encoding="utf-8")
    report = import_file(engine, "tailings_dams", path)
    assert report.rows_imported == 1
    got = query(engine, "SELECT key, name, status, risk_level, design_grade, ST_AsText(geom) AS wkt "
                "FROM tailings_dams")[0]
    assert dict(got) == {"key": "TD-1", "name": "安宁示例尾矿库", "status": "operating", "risk_level": "major",
                         "design_grade": 3, "wkt": "POINT(102.47 24.92)"}


OVI_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>尾矿库</name>
<Placemark><name>一号库</name>
  <ExtendedData>
    <Data name="编号"><value>TD-7</value></Data>
    <Data name="尾矿库名称"><value>安宁草铺尾矿库</value></Data>
    <Data name="行政区划代码"><value>530181</value></Data>
    <Data name="全库容(万m³)"><value>800</value></Data>
    <Data name="坝高(m)"><value>38</value></Data>
    <Data name="运行状态"><value>运行</value></Data>
    <Data name="风险等级"><value>较大风险</value></Data>
  </ExtendedData>
  <Point><coordinates>102.47,24.92,0</coordinates></Point></Placemark>
</Folder></Document></kml>
"""


@postgis
def test_kml_with_chinese_extended_data_names(engine, tmp_path) -> None:
    # 奥维/Google Earth write untyped <Data name="中文">; GDAL's LIBKML reader turns such names into
    # underscores, so the reader restores them from the file
    path = tmp_path / "尾矿库.kml"
    path.write_text(OVI_KML, encoding="utf-8")
    report = import_file(engine, "tailings_dams", path)
    assert report.rows_imported == 1
    got = query(engine, "SELECT key, name, status, risk_level, total_storage_10k_m3 FROM tailings_dams")[0]
    assert dict(got) == {"key": "TD-7", "name": "安宁草铺尾矿库", "status": "operating", "risk_level": "significant",
                         "total_storage_10k_m3": 800}


def test_kml_stand_ins_round_trip(tmp_path) -> None:
    from geo.kml_names import ascii_field_copy

    path = tmp_path / "x.kml"
    path.write_text(OVI_KML, encoding="utf-8")
    (tmp_path / "copy").mkdir()
    copy, names = ascii_field_copy(path, tmp_path / "copy")
    assert list(names.values()) == ["编号", "尾矿库名称", "行政区划代码", "全库容(万m³)", "坝高(m)", "运行状态",
                                    "风险等级"]
    text = copy.read_text(encoding="utf-8")
    assert "运行状态" not in text and "一号库" in text and all(stand in text for stand in names)
    plain = tmp_path / "plain.kml"
    plain.write_text(GOOGLE_EARTH_KML, encoding="utf-8")
    assert ascii_field_copy(plain, tmp_path / "copy") == (plain, {})  # ASCII names: the file itself


# --------------------------------------------------------------------------- 9. templates


def _fill_from_example(template: Path) -> Path:
    wb = load_workbook(template)
    example, data = wb["示例"], wb["数据"]
    assert [c.value for c in example[1]] == [c.value for c in data[1]]
    for col, cell in enumerate(example[2], 1):
        data.cell(row=2, column=col, value=cell.value)
    wb.save(template)
    return template


@postgis
@pytest.mark.parametrize("layer", [name for name in LAYERS if name != "districts"])
def test_template_example_row_imports(engine, tmp_path, layer) -> None:
    spec = layer_spec(layer)
    path = _fill_from_example(write_template(spec, tmp_path / f"{layer}.xlsx"))
    before = store.row_counts(engine)
    report = import_file(engine, layer, path)
    assert report.rows_imported == 1, [i.text("both") for i in report.issues]
    assert not [i for i in report.issues if i.severity == "error"]
    # the template's headers are all recognised
    assert not [i for i in report.issues if i.row == HEADER], [i.text("both") for i in report.issues]
    assert store.row_counts(engine)[layer] == before[layer] + 1


@postgis
def test_enterprise_template_values(engine, tmp_path) -> None:
    path = _fill_from_example(write_template(layer_spec("enterprises"), tmp_path / "企业模板.xlsx"))
    import_file(engine, "enterprises", path)
    got = query(engine, "SELECT credit_code, name, adcode, industry, mhs_grade, risk_level, external_distance_m, "
                "installation_status, has_explosives, ST_X(geom) AS x, ST_Y(geom) AS y FROM enterprises")
    assert [dict(r) for r in got] == [{
        "credit_code": layer_spec("enterprises").field("credit_code").example, "name": "安宁示例化工有限公司",
        "adcode": "530181", "industry": "hazchem_production", "mhs_grade": 2, "risk_level": "significant",
        "external_distance_m": 300.0, "installation_status": "in_service", "has_explosives": False,
        "x": 102.4776, "y": 24.919,
    }]


@postgis
def test_building_template_polygon(engine, tmp_path) -> None:
    path = _fill_from_example(write_template(layer_spec("buildings"), tmp_path / "建筑.xlsx"))
    import_file(engine, "buildings", path)
    got = query(engine, "SELECT key, use, households, floors, GeometryType(geom) AS t, "
                "ST_XMin(geom) AS x0, ST_YMax(geom) AS y1 FROM buildings")
    # buildings are footprints: polygons only, stored as one type (MultiPolygon)
    assert [dict(r) for r in got] == [{"key": "RP-530181-001", "use": "residential", "households": 2, "floors": 3,
                                       "t": "MULTIPOLYGON", "x0": 102.47, "y1": 24.9203}]


# --------------------------------------------------------------------------- 10. derived columns


@postgis
def test_protection_target_class_is_derived(engine, tmp_path) -> None:
    rows = [
        {"编号": "PT-1", "名称": "草铺中学", "行政区划代码": "530181", "类型": "学校", "人数(人)": 1200,
         "经度": ANNING[0][0], "纬度": ANNING[0][1]},
        {"编号": "PT-2", "名称": "大村", "行政区划代码": "530181", "类型": "村庄", "户数(户)": 12,
         "经度": ANNING[1][0], "纬度": ANNING[1][1]},
        {"编号": "PT-3", "名称": "物流办公楼", "行政区划代码": "530181", "类型": "办公", "人数(人)": 20,
         "经度": ANNING[2][0], "纬度": ANNING[2][1]},
        {"编号": "PT-4", "名称": "小区", "行政区划代码": "530181", "类型": "住宅", "户数(户)": 30,
         "经度": ANNING[3][0], "纬度": ANNING[3][1]},
    ]
    import_file(engine, "protection_targets", write_xlsx(tmp_path / "防护目标.xlsx", rows))
    got = query(engine, "SELECT key, target_type, gb36894_class, households, population "
                "FROM protection_targets ORDER BY key")
    assert [(r["key"], r["target_type"], r["gb36894_class"]) for r in got] == [
        ("PT-1", "school", "high_sensitivity"), ("PT-2", "residential", "general_2"),
        ("PT-3", "office", "general_3"), ("PT-4", "residential", "general_1")]
    assert [r["households"] for r in got] == [None, 12, None, 30]


@postgis
def test_tailings_design_grade_is_derived(engine, tmp_path) -> None:
    base = {"行政区划代码": "530181", "状态": "运行", "风险等级": "较大风险"}
    rows = [
        dict(base, 编号="TD-1", 名称="一号库", **{"全库容(万m³)": 12000, "坝高(m)": 45},
             经度=ANNING[0][0], 纬度=ANNING[0][1]),
        dict(base, 编号="TD-2", 名称="二号库", **{"全库容(万m³)": "3000万立方米", "坝高(m)": "70米"},
             经度=ANNING[1][0], 纬度=ANNING[1][1]),
        dict(base, 编号="TD-3", 名称="三号库", **{"全库容(万m³)": 50, "坝高(m)": 20},
             经度=ANNING[2][0], 纬度=ANNING[2][1]),
    ]
    import_file(engine, "尾矿库", write_xlsx(tmp_path / "尾矿库.xlsx", rows))
    got = query(engine, "SELECT key, total_storage_10k_m3, dam_height_m, design_grade FROM tailings_dams ORDER BY key")
    assert [(r["key"], r["total_storage_10k_m3"], r["dam_height_m"], r["design_grade"]) for r in got] == [
        ("TD-1", 12000.0, 45.0, 3), ("TD-2", 3000.0, 70.0, 3), ("TD-3", 50.0, 20.0, 5)]


# --------------------------------------------------------------------------- 11. CLI


@postgis
def test_cli_import(engine, tmp_path, monkeypatch) -> None:
    from riskmap.cli import main

    monkeypatch.setenv("RISKMAP_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    bad_code, right = wrong_check(credit_code(1))
    bad = write_csv(tmp_path / "cli_bad.csv", [enterprise_en(0), enterprise_en(1, credit_code=bad_code)])
    before = store.row_counts(engine)

    zh = CliRunner().invoke(main, ["import", "enterprises", str(bad)])
    assert zh.exit_code != 0
    assert f"cli_bad.csv: 第3行 / row 3: 统一社会信用代码(credit_code): 错误: 统一社会信用代码“{bad_code}”无效：" \
           f"校验位应为 {right}" in zh.output
    assert "未写入任何数据" in zh.output

    en = CliRunner().invoke(main, ["import", "enterprises", str(bad), "--lang", "en"])
    assert en.exit_code != 0
    assert f"cli_bad.csv: 第3行 / row 3: 统一社会信用代码(credit_code): error: invalid credit code '{bad_code}': " \
           f"check character should be {right}" in en.output
    assert "校验位" not in en.output
    assert store.row_counts(engine) == before

    skipped = CliRunner().invoke(main, ["import", "企业", str(bad), "--skip-invalid", "--lang", "en"])
    assert skipped.exit_code == 0, skipped.output
    assert "1 of 2 rows imported, 1 rejected" in skipped.output
    assert "cli_bad.csv.rejected.csv" in skipped.output
    assert store.row_counts(engine)["enterprises"] == before["enterprises"] + 1


@postgis
def test_cli_read_error_message(engine, tmp_path, monkeypatch, capsys) -> None:
    from riskmap.cli import run

    monkeypatch.setenv("RISKMAP_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    empty = tmp_path / "空.csv"
    empty.write_bytes(b"")
    monkeypatch.setattr(sys, "argv", ["riskmap", "import", "enterprises", str(empty)])
    with pytest.raises(SystemExit) as exited:
        run()
    assert exited.value.code != 0
    err = capsys.readouterr().err
    assert "空.csv: 文件为空 / file is empty" in err


# --------------------------------------------------------------------------- reader units


def test_header_map_prefers_the_field_name_over_an_alias() -> None:
    spec = layer_spec("infrastructure")
    # LIBKML always adds an "id" column; "ID" is also an alias of ``code``
    mapping, unknown = header_map(spec, ["id", "Name", "code", "adcode", "kind"])
    assert mapping == {"Name": "name", "code": "code", "adcode": "adcode", "kind": "kind"}
    assert unknown == ["id"]
    mapping, unknown = header_map(spec, ["ID", "类别*", "行政区划代码(6位)"])
    assert mapping == {"ID": "code", "类别*": "kind", "行政区划代码(6位)": "adcode"}
    assert unknown == []


def test_read_any_reports_the_file_for_a_missing_file(tmp_path) -> None:
    with pytest.raises(ReadError, match=r"nope\.csv: 文件不存在"):
        read_any(tmp_path / "nope.csv", layer_spec("enterprises"))


@postgis
def test_too_long_text_is_a_row_error_not_a_database_error(engine, tmp_path) -> None:
    phone = "0871-68000000 转 8001；13800000000(张经理，夜间值班)"
    assert len(phone) > 40
    rows = [dict(enterprise_en(0), phone="0871-68000000"), dict(enterprise_en(1), phone=phone)]
    err = refused(engine, "enterprises", write_csv(tmp_path / "phone.csv", rows))
    found = issue(err, "第3行 / row 3", "phone")
    assert found.field == "联系电话(phone)"
    assert f"{len(phone)} 个字符，最多 40 个" in found.zh


@postgis
def test_reject_file_keeps_the_files_own_headers(engine, tmp_path) -> None:
    good = {"企业名称": "安宁表头测试化工有限公司", "统一社会信用代码": credit_code(7), "行政区划代码": "530181",
            "行业": "危险化学品生产", "风险等级": "较大风险", "经度": 102.47, "纬度": 24.93}
    bad = dict(good, 企业名称="安宁表头测试二号", 统一社会信用代码=credit_code(8), 风险等级="特别大")
    path = tmp_path / "中文表头.csv"
    pd.DataFrame([good, bad]).to_csv(path, index=False, encoding="utf-8-sig")
    report = import_file(engine, "enterprises", path, skip_invalid=True)
    assert report.rows_imported == 1
    rejects = pd.read_csv(report.reject_file, dtype=str, encoding="utf-8-sig")
    assert rejects["企业名称"].tolist() == ["安宁表头测试二号"]
    assert rejects["风险等级"].tolist() == ["特别大"]
    assert "name" not in rejects.columns


@postgis
def test_fixed_reject_file_imports_again(engine, tmp_path) -> None:
    path, _ = _mixed_file(tmp_path)
    report = import_file(engine, "enterprises", path, skip_invalid=True)
    rejects = pd.read_csv(report.reject_file, dtype=str, encoding="utf-8-sig")
    rejects["统一社会信用代码*"] = [credit_code(1), credit_code(3)]
    rejects["行政区划代码*"] = "530181"
    rejects["风险等级*"] = "较大风险"
    fixed = tmp_path / "fixed.csv"
    rejects.to_csv(fixed, index=False, encoding="utf-8-sig")
    again = import_file(engine, "enterprises", fixed)
    assert again.rows_imported == 2
    assert store.row_counts(engine)["enterprises"] == 4


def test_zip_that_unpacks_too_large_is_refused(tmp_path, monkeypatch) -> None:
    import geo.readers as readers

    monkeypatch.setattr(readers, "MAX_UNZIPPED_BYTES", 1000)
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.shp", b"\0" * 5000)
    with pytest.raises(ReadError, match=r"超过 0\.0 MB 上限"):
        read_any(path, layer_spec("buildings"))


def test_xlsx_that_unpacks_too_large_is_refused(tmp_path, monkeypatch) -> None:
    import geo.readers as readers

    path = write_template(layer_spec("buildings"), tmp_path / "b.xlsx")
    monkeypatch.setattr(readers, "MAX_UNZIPPED_BYTES", 1000)  # an XLSX is a zip: checked before openpyxl
    with pytest.raises(ReadError, match=r"超过 0\.0 MB 上限"):
        read_any(path, layer_spec("buildings"))
