"""Imports that explain themselves (issue 11, items 6-9).

Formula-like text, control and invisible characters, ``nan`` in integer cells of XLSX, wrong
geometry types, UTF-8 and cut Chinese DBF field names, the likely layer of a file chosen for
another, the preview counts, unknown layers on the command line, row-and-field errors of
``riskmap check --input``, ``riskmap db status`` on a stopped database and the synthetic city
going through file mode. Every file is built here and read back by the real readers.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from geo import embedded, schema, store
from geo.checks.sources import bundle_from_file, bundle_to_file
from geo.credit_code import credit_code_problem
from geo.dbf_names import dbf_field_names, match_cut_name
from geo.errors import ImportValidationError
from geo.importer import check_file, import_file, preview_file
from geo.layer_detect import likely_layer, rank_layers
from geo.layer_specs import LAYERS, F, LayerSpec, UnknownLayerError, layer_spec
from geo.readers import read_any
from geo.validate import GEOMETRY_FIELD, validate
from riskmap.cli import EXIT_STOPPED, main
from tests.clients import callback_body, post_callback
from tests.import_files import credit_code, write_csv, write_xlsx

ROOT = Path(__file__).resolve().parents[1]
DISTRICTS = gpd.read_file(ROOT / "data" / "kunming_districts.geojson").to_crs(4490)
ANNING = [(102.47, 24.92), (102.40, 24.95), (102.45, 24.90)]


def risk_point(i: int, **changes: Any) -> dict[str, Any]:
    lon, lat = ANNING[i]
    row = {"编号": f"RP-530181-{i:03d}", "名称": f"测试风险点{i}", "行政区划代码": "530181", "类别": "危险化学品",
           "风险等级": "较大风险", "详细地址": "安宁市草铺街道", "影响人口": 100, "经度": lon, "纬度": lat}
    row.update(changes)
    return row


def enterprise(i: int, **changes: Any) -> dict[str, Any]:
    lon, lat = ANNING[i]
    row = {"统一社会信用代码": credit_code(i), "企业名称": f"安宁测试化工{i}号有限公司", "行政区划代码": "530181",
           "行业": "危险化学品生产", "风险等级": "较大风险", "重大危险源等级": 2, "经度": lon, "纬度": lat}
    row.update(changes)
    return row


def check(path: Path, layer: str):
    spec = layer_spec(layer)
    return validate(read_any(path, spec), spec, districts=DISTRICTS)


def issues_of(result, row: str) -> list[tuple[str, str, str]]:
    return [(i.field, i.severity, i.zh) for i in result.issues if i.row.startswith(row)]


# --------------------------------------------------------------------------- text values


def test_formula_like_text_is_refused_in_keys_and_names_and_flagged_in_free_text(tmp_path: Path) -> None:
    rows = [
        risk_point(0, 名称='=HYPERLINK("http://x/?"&A1,"点击")'),
        risk_point(1, 编号="=cmd|' /C calc'!A0"),
        risk_point(2, 详细地址="@SUM(1+1)", 影响人口=-0.0),
    ]
    result = check(write_csv(tmp_path / "rp.csv", rows), "risk_points")
    name_issue = issues_of(result, "第2行")
    assert [(f, s) for f, s, _ in name_issue] == [("名称(name)", "error")]
    assert "公式" in name_issue[0][2]
    assert [(f, s) for f, s, _ in issues_of(result, "第3行")] == [("编号(code)", "error")]
    # free text: kept as text with a warning; a negative number in a numeric field is no text at all
    assert [(f, s) for f, s, _ in issues_of(result, "第4行")] == [("详细地址(address)", "warning")]
    assert result.record_rows == [2]
    assert result.records[0]["address"] == "@SUM(1+1)"
    assert result.records[0]["population_exposed"] == 0


@pytest.mark.parametrize(("value", "why"), [
    ("RP-1\nRP-2", "U+000A"), ("RP-1\u202eRP-2", "U+202E"), ("RP\u200b-1", "U+200B"), ("RP-1\ufeff", "U+FEFF"),
    ("RP\u2066-1", "U+2066"), ("RP-1\tX", "U+0009"),
])
def test_control_and_invisible_characters_in_keys_are_refused(tmp_path: Path, value: str, why: str) -> None:
    result = check(write_xlsx(tmp_path / "rp.xlsx", [risk_point(0, 编号=value)]), "risk_points")
    errors = [i for i in result.errors if i.field == "编号(code)"]
    assert len(errors) == 1 and why in errors[0].zh and why in errors[0].en
    assert errors[0].row == "第2行 / row 2" and not result.records


def test_invisible_characters_in_names_are_refused_spaces_stripped_free_text_warned(tmp_path: Path) -> None:
    rows = [risk_point(0, 名称="测试\u200d风险点"), risk_point(1, 名称="  测试风险点1  ", 编号=" RP-530181-001 "),
            risk_point(2, 详细地址="草铺\u200b街道", 可能导致的后果="第一行\n第二行")]
    result = check(write_xlsx(tmp_path / "rp.xlsx", rows), "risk_points")
    assert [(f, s) for f, s, _ in issues_of(result, "第2行")] == [("名称(name)", "error")]
    assert issues_of(result, "第3行") == []
    assert [(f, s) for f, s, _ in issues_of(result, "第4行")] == [("详细地址(address)", "warning")]
    kept = {r["code"]: r for r in result.records}
    assert kept["RP-530181-001"]["name"] == "测试风险点1"
    assert kept["RP-530181-002"]["consequence"] == "第一行\n第二行"  # line breaks are fine in free text


def test_bidi_override_is_refused_even_in_free_text(tmp_path: Path) -> None:
    result = check(write_csv(tmp_path / "rp.csv", [risk_point(0, 详细地址="草铺\u202e街道")]), "risk_points")
    assert [(i.field, i.severity) for i in result.issues] == [("详细地址(address)", "error")]


# --------------------------------------------------------------------------- numbers from XLSX


def test_nan_in_integer_cells_is_refused_in_xlsx_as_in_csv(tmp_path: Path) -> None:
    box = shapely.box(102.470, 24.920, 102.4702, 24.9202).wkt
    rows = [{"编号": "B-1", "行政区划代码": "530181", "用途": "住宅", "户数": "nan", "层数": "NaN", "几何(WKT)": box},
            {"编号": "B-2", "行政区划代码": "530181", "用途": "住宅", "户数": "NA", "层数": 2, "几何(WKT)": box}]
    for path in (write_xlsx(tmp_path / "b.xlsx", rows), write_csv(tmp_path / "b.csv", rows)):
        result = check(path, "buildings")
        assert not result.records, path.name
        assert sorted((i.row, i.field) for i in result.errors) == [
            ("第2行 / row 2", "层数(floors)"), ("第2行 / row 2", "户数(households)"),
            ("第3行 / row 3", "户数(households)")], path.name
        assert all("应为数值" in i.zh for i in result.errors)


def test_blank_optional_integer_is_null_not_zero(tmp_path: Path) -> None:
    rows = [enterprise(0, 重大危险源等级=None), enterprise(1, 重大危险源等级=3)]
    result = check(write_xlsx(tmp_path / "e.xlsx", rows), "enterprises")
    assert not result.errors
    assert [r["mhs_grade"] for r in result.records] == [None, 3]


# --------------------------------------------------------------------------- geometry types


def test_buildings_take_only_polygons(tmp_path: Path) -> None:
    poly = shapely.box(102.470, 24.920, 102.4702, 24.9202)
    geoms = [poly, shapely.Point(102.47, 24.92), shapely.LineString([(102.47, 24.92), (102.471, 24.921)])]
    gdf = gpd.GeoDataFrame({"code": ["B-1", "B-2", "B-3"], "adcode": "530181", "use": "住宅"}, geometry=geoms,
                           crs=4490)
    path = tmp_path / "b.gpkg"
    gdf.to_file(path, layer="buildings", driver="GPKG")
    result = check(path, "buildings")
    assert [r["key"] for r in result.records] == ["B-1"]
    assert result.records[0]["geom"].geom_type == "MultiPolygon"
    assert [(i.row, i.field) for i in result.errors] == [("要素2 / feature 2", GEOMETRY_FIELD),
                                                          ("要素3 / feature 3", GEOMETRY_FIELD)]
    assert "Point" in result.errors[0].zh and "LineString" in result.errors[1].en


def test_every_layer_refuses_a_geometry_it_cannot_hold() -> None:
    allowed = {
        "districts": {"Polygon", "MultiPolygon"}, "enterprises": {"Point"},
        "risk_contours": {"Polygon", "MultiPolygon"}, "buildings": {"Polygon", "MultiPolygon"},
        "protection_targets": {"Point", "MultiPoint", "Polygon", "MultiPolygon"},
        "pipelines": {"LineString", "MultiLineString"}, "hcas": {"LineString", "MultiLineString"},
        "tailings_dams": {"Point"}, "installations": {"Point", "Polygon", "MultiPolygon"},
        "risk_points": {"Point"}, "hidden_hazards": {"Point"}, "parks": {"Polygon", "MultiPolygon"},
        "infrastructure": {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"},
    }
    assert set(allowed) == set(LAYERS)
    samples = {"Point": shapely.Point(102.47, 24.92), "MultiPoint": shapely.MultiPoint([(102.47, 24.92)]),
               "LineString": shapely.LineString([(102.47, 24.92), (102.471, 24.921)]),
               "MultiLineString": shapely.MultiLineString([[(102.47, 24.92), (102.471, 24.921)]]),
               "Polygon": shapely.box(102.47, 24.92, 102.4702, 24.9202),
               "MultiPolygon": shapely.MultiPolygon([shapely.box(102.47, 24.92, 102.4702, 24.9202)])}
    from geo.validate import _geom_problem

    for layer, kinds in allowed.items():
        for kind, geom in samples.items():
            problem = _geom_problem(geom, LAYERS[layer])
            assert (problem is None) == (kind in kinds), (layer, kind, problem)


# --------------------------------------------------------------------------- Shapefiles


def _shapefile(folder: Path, encoding: str, cpg: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    gdf = gpd.GeoDataFrame({"编号": ["PT-1", "PT-2"], "名称": ["草铺中学", "安宁幼儿园"],
                            "行政区划代码": ["530181", "530181"], "类型": ["学校", "幼儿园"], "人数": [1200, 300]},
                           geometry=[shapely.Point(*ANNING[0]), shapely.Point(*ANNING[1])], crs=4490)
    path = folder / "防护目标.shp"
    with warnings.catch_warnings():  # GDAL says it cut 行政区划代码 to 10 bytes, as desktop GIS does
        warnings.simplefilter("ignore")
        gdf.to_file(path, encoding=encoding, engine="pyogrio")
    if not cpg:
        path.with_suffix(".cpg").unlink()
    return path


@pytest.mark.parametrize("encoding", ["UTF-8", "GBK"])
@pytest.mark.parametrize("cpg", [True, False])
def test_chinese_shapefile_field_names_with_cut_headers(tmp_path: Path, encoding: str, cpg: bool) -> None:
    path = _shapefile(tmp_path / f"{encoding}{cpg}", encoding, cpg)
    stored = dbf_field_names(path.with_suffix(".dbf"))
    cut = "行政区划代码".encode(encoding)[:10]
    assert cut in stored  # really cut: 行政区\xe5 in UTF-8 (mid-character), 行政区划代 in GBK
    raw = read_any(path, layer_spec("protection_targets"))
    assert set(raw.frame.columns) == {"code", "name", "adcode", "target_type", "population"}
    assert not raw.unknown_columns
    assert any("10字节" in n for n in raw.notes)
    result = validate(raw, layer_spec("protection_targets"), districts=DISTRICTS)
    assert not result.errors
    assert [(r["name"], r["adcode"], r["population"]) for r in result.records] == [
        ("草铺中学", "530181", 1200), ("安宁幼儿园", "530181", 300)]


def test_a_cut_name_matches_only_one_field() -> None:
    spec = layer_spec("risk_points")
    assert match_cut_name("企业主要负责人".encode("gbk")[:10], "gbk", spec) == "principal"
    assert match_cut_name("预案日期".encode()[:10], "utf-8", spec) == "plan_date"
    assert match_cut_name("评估".encode("gbk"), "gbk", spec) is None  # 4 bytes: not cut by the limit
    assert match_cut_name("不存在的字段名".encode("gbk")[:10], "gbk", spec) is None
    # two fields whose headers share the stored 10 bytes: neither is chosen
    twins = LayerSpec("t", "测试", "Test", "point", ("a",),
                      fields=(F("a", "行政区划代码", "A"), F("b", "行政区划名称", "B")))
    assert match_cut_name("行政区划代码".encode()[:10], "utf-8", twins) is None
    assert match_cut_name("行政区划代码".encode("gbk")[:8], "gbk", twins) is None
    assert match_cut_name("行政区划代码".encode("gbk")[:10], "gbk", twins) == "a"  # 行政区划代: only one


# --------------------------------------------------------------------------- the likely layer


def test_headers_tell_the_layer() -> None:
    assert likely_layer(list(enterprise(0))) == "enterprises"
    assert likely_layer(list(risk_point(0))) == "risk_points"
    assert likely_layer(["甲", "乙", "经度", "纬度"]) is None
    ranked = rank_layers(list(enterprise(0)))
    assert ranked[0].required_found == ranked[0].required_total


@pytest.mark.postgis
def test_wrong_layer_names_the_likely_one_and_preview_counts(engine, tmp_path: Path) -> None:
    ents = write_csv(tmp_path / "企业.csv", [enterprise(0), enterprise(1)])
    _, _, result = check_file(engine, "risk_points", ents)
    first = result.errors[0]
    assert first.zh.startswith("这看起来是企业表，当前选择的是重大风险点") and "enterprises" in first.en
    assert any("缺少必填列" in i.zh for i in result.errors[1:])
    with pytest.raises(ImportValidationError) as refused:
        import_file(engine, "risk_points", ents)
    assert "这看起来是企业表" in refused.value.issues[0].zh

    before = store.row_counts(engine)
    preview = preview_file(engine, "enterprises", ents)
    assert (preview.rows_total, preview.rows_valid, preview.inserts, preview.updates) == (2, 2, 2, 0)
    assert preview.likely_layer == "enterprises" and preview.importable(False)
    assert store.row_counts(engine) == before  # a preview writes nothing
    import_file(engine, "enterprises", write_csv(tmp_path / "one.csv", [enterprise(0)]))
    again = preview_file(engine, "enterprises", ents)
    assert (again.inserts, again.updates) == (1, 1)
    bad = write_csv(tmp_path / "bad.csv", [enterprise(0), enterprise(1, 企业名称="=1+1")])
    mixed = preview_file(engine, "enterprises", bad)
    assert (mixed.rows_valid, mixed.rows_rejected) == (1, 1)
    assert not mixed.importable(False) and mixed.importable(True)


# --------------------------------------------------------------------------- command line


def test_unknown_layer_exits_2_with_the_known_layers(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        layer_spec("factories")
    with pytest.raises(UnknownLayerError):
        layer_spec("factories")
    path = write_csv(tmp_path / "x.csv", [enterprise(0)])
    for args in (["import", "factories", str(path)], ["template", "factories", "--out", str(tmp_path)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and "KeyError" not in result.output
        assert "未知图层“factories”" in result.output
        assert "enterprises(企业)" in result.output and "risk_points" in result.output


def _districts_layer(path: Path) -> None:
    DISTRICTS.assign(level="county").to_file(path, layer="districts", driver="GPKG")


def test_check_input_prints_row_and_field_errors(tmp_path: Path) -> None:
    path = tmp_path / "bundle.gpkg"
    _districts_layer(path)
    infra = gpd.GeoDataFrame({"code": ["I-1", "I-2", "I-3"], "adcode": "530181", "kind": ["道路", "飞机场", "道路"]},
                             geometry=[shapely.LineString([(102.47, 24.92), (102.48, 24.93)])] * 3, crs=4490)
    infra.loc[2, "code"] = "I-1"
    infra.to_file(path, layer="infrastructure", driver="GPKG")
    ents = gpd.GeoDataFrame({"credit_code": [credit_code(0)], "name": ["=cmd|' /C calc'!A0"], "adcode": "530181",
                             "industry": "危险化学品生产", "risk_level": "较大风险"},
                            geometry=[shapely.Point(*ANNING[0])], crs=4490)
    ents.to_file(path, layer="enterprises", driver="GPKG")
    result = CliRunner().invoke(main, ["check", "--input", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "bundle.gpkg:infrastructure: 要素2 / feature 2: 类别(kind): 错误: 取值“飞机场”不在允许值内" in out
    assert "bundle.gpkg:infrastructure: 要素3 / feature 3: 编号: 错误: 键值“I-1”重复" in out
    assert "bundle.gpkg:enterprises: 要素1 / feature 1: 企业名称(name): 错误:" in out
    assert "未运行检查" in out and "Traceback" not in out
    en = CliRunner().invoke(main, ["check", "--input", str(path), "--lang", "en"])
    assert en.exit_code == 1
    assert "bundle.gpkg:infrastructure: 要素2 / feature 2: 类别(kind): error: value '飞机场' not allowed" in en.output


def test_small_citygen_city_passes_file_mode_end_to_end(tmp_path: Path) -> None:
    from benchmarks.citygen import generate_city

    city = generate_city(seed=3, scale=0.004)
    codes = city["enterprises"]["credit_code"]
    assert all(len(c) == 18 and credit_code_problem(c) is None for c in codes)
    assert set(city["buildings"]["adcode"]) <= set(DISTRICTS["adcode"])
    path = bundle_to_file(city, tmp_path / "city.gpkg")
    bundle = bundle_from_file(path)  # the program's own validation: no error
    assert len(bundle["buildings"]) == len(city["buildings"]) == 2000
    assert len(bundle["enterprises"]) == len(city["enterprises"])
    t0 = time.perf_counter()
    result = CliRunner().invoke(main, ["check", "--input", str(path), "--summary-only",
                                       "--output", str(tmp_path / "findings.gpkg")])
    assert result.exit_code == 0, result.output
    assert "total findings:" in result.output and "PIPE_OCCUPY" in result.output
    assert (tmp_path / "findings.gpkg").exists()
    assert time.perf_counter() - t0 < 120


# --------------------------------------------------------------------------- db status


def test_db_status_reports_a_stopped_database_and_starts_nothing(monkeypatch) -> None:
    home = Path(tempfile.mkdtemp(prefix="rmstatus-", dir="/tmp"))  # reachable by the postgres user
    home.chmod(0o755)
    monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("RISKMAP_HOME", str(home))
    from geo.config import load_settings

    settings = load_settings()
    cluster = embedded.cluster_for(settings.home, settings.pg_os_user)
    fresh = CliRunner().invoke(main, ["db", "status"])
    assert fresh.exit_code == EXIT_STOPPED and "not created" in fresh.output
    assert not embedded.is_initialised(cluster)  # nothing was created either
    embedded.initialise(cluster)
    try:
        stopped = CliRunner().invoke(main, ["db", "status"])
        assert stopped.exit_code == EXIT_STOPPED, stopped.output
        assert "embedded database: stopped" in stopped.output and "riskmap db start" in stopped.output
        assert not embedded.is_running(cluster)
    finally:
        embedded.stop(cluster)
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.postgis
def test_db_status_of_a_running_database(pg_cluster, monkeypatch) -> None:
    monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("RISKMAP_HOME", str(pg_cluster.home))
    result = CliRunner().invoke(main, ["db", "status"])  # its default database was never migrated
    assert result.exit_code == 0, result.output
    assert "schema revision: None" in result.output and "no tables yet" in result.output
    engine = store.make_engine(pg_cluster.url())
    try:
        assert schema.current_revision(engine) is None  # status migrated nothing
    finally:
        engine.dispose()


@pytest.mark.postgis
def test_db_status_of_a_migrated_database(engine, monkeypatch) -> None:
    monkeypatch.setenv("RISKMAP_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(main, ["db", "status"])
    assert result.exit_code == 0, result.output
    assert f"schema revision: {schema.head_revision()}" in result.output
    assert re.search(r"^districts\s+14$", result.output, re.M), result.output


# --------------------------------------------------------------------------- the district page's callbacks


def _post(client: Any, app: Any, output_key: str, values: dict[str, Any], trigger: str) -> Any:
    return post_callback(client, callback_body(app, output_key, values, trigger))


@pytest.mark.postgis
def test_district_page_previews_confirms_and_refuses_unknown_layers(engine, tmp_path: Path, monkeypatch) -> None:
    from dashboard.app import create_app
    from dashboard.pages import district as page
    from geo.config import load_settings

    monkeypatch.setenv("RISKMAP_AUTH", "off")
    app = create_app(load_settings(), engine=engine)
    client = app.server.test_client()
    key = next(k for k in app.callback_map if f"{page.DISTRICT_IMPORT_PREVIEWED}.data" in k)
    template_key = next(k for k in app.callback_map if k.startswith(f"{page.DISTRICT_TEMPLATE_DOWNLOAD}."))
    content = write_csv(tmp_path / "企业.csv", [enterprise(0), enterprise(1)]).read_bytes()
    payload = {"filename": "企业.csv", "size": len(content), "at": 7,
               "contents": "data:text/csv;base64," + base64.b64encode(content).decode("ascii")}
    values = {f"{page.DISTRICT_UPLOAD_PAYLOAD}.data": payload, f"{page.DISTRICT_IMPORT_LAYER}.value": "risk_points",
              f"{page.DISTRICT_IMPORT_CRS}.value": "file", f"{page.DISTRICT_IMPORT_EPSG}.value": None,
              f"{page.DISTRICT_IMPORT_SKIP}.value": [], f"{page.DISTRICT_IMPORT_CONFIRM}.n_clicks": None,
              f"{page.DISTRICT_IMPORT_PREVIEWED}.data": None, "lang.value": "zh"}
    before = store.row_counts(engine)

    # choosing the file under the default layer: a preview naming the likely layer, nothing written
    resp = _post(client, app, key, values, f"{page.DISTRICT_UPLOAD_PAYLOAD}.data")
    assert resp.status_code == 200
    text = json.dumps(resp.get_json(), ensure_ascii=False)
    assert "导入预览" in text and "这看起来是企业表，当前选择的是重大风险点" in text
    assert store.row_counts(engine) == before
    # the right layer: 2 rows to insert; the preview records what it showed
    values[f"{page.DISTRICT_IMPORT_LAYER}.value"] = "enterprises"
    resp = _post(client, app, key, values, f"{page.DISTRICT_IMPORT_LAYER}.value")
    out = resp.get_json()["response"]
    assert "确认后将新增 2 行、更新 0 行" in json.dumps(out, ensure_ascii=False)
    shown = out[page.DISTRICT_IMPORT_PREVIEWED]["data"]
    assert store.row_counts(engine) == before
    # a confirm whose settings differ from the preview previews again instead of importing
    values[f"{page.DISTRICT_IMPORT_CONFIRM}.n_clicks"] = 1
    values[f"{page.DISTRICT_IMPORT_PREVIEWED}.data"] = {**shown, "layer": "risk_points"}
    resp = _post(client, app, key, values, f"{page.DISTRICT_IMPORT_CONFIRM}.n_clicks")
    assert "导入预览" in json.dumps(resp.get_json(), ensure_ascii=False)
    assert store.row_counts(engine) == before
    # the confirm of what was previewed imports
    values[f"{page.DISTRICT_IMPORT_PREVIEWED}.data"] = shown
    resp = _post(client, app, key, values, f"{page.DISTRICT_IMPORT_CONFIRM}.n_clicks")
    assert "导入成功" in json.dumps(resp.get_json(), ensure_ascii=False)
    assert store.row_counts(engine)["enterprises"] == before["enterprises"] + 2

    # a forged layer name: HTTP 400, not 500, and nothing written
    values[f"{page.DISTRICT_IMPORT_LAYER}.value"] = "no_such_layer"
    resp = _post(client, app, key, values, f"{page.DISTRICT_IMPORT_LAYER}.value")
    assert resp.status_code == 400
    resp = _post(client, app, template_key, {f"{page.DISTRICT_TEMPLATE_BTN}.n_clicks": 1,
                                             f"{page.DISTRICT_IMPORT_LAYER}.value": "no_such_layer"},
                 f"{page.DISTRICT_TEMPLATE_BTN}.n_clicks")
    assert resp.status_code == 400
    assert store.row_counts(engine)["enterprises"] == before["enterprises"] + 2


def test_zipped_utf8_shapefile_with_cut_chinese_names(tmp_path: Path) -> None:
    import zipfile

    shp = _shapefile(tmp_path / "shp", "UTF-8", cpg=False)
    archive = tmp_path / "防护目标.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp.parent.iterdir():
            zf.write(part, part.name)
    raw = read_any(archive, layer_spec("protection_targets"))
    assert raw.path == archive and "adcode" in raw.frame.columns and not raw.unknown_columns
    assert list(raw.frame["name"]) == ["草铺中学", "安宁幼儿园"]
