"""Parks (化工园区/工业园区): the layer imports like every layer, is scoped and versioned, and its measures
are the plain PostGIS containment counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import text

from geo import store
from geo.checks.sources import bundle_from_store
from geo.constants import DONE_HAZARD_STATUSES, NOT_HAZARD_STATUSES, OPEN_HAZARD_STATUSES
from geo.demo import DEMO_AS_OF
from geo.demo.context import WORK_CRS
from geo.importer import ImportValidationError, import_file
from geo.store import Scope, scoped
from geo.store.history import read_layer_as_of, record_versions
from layers.measures import counted_sources
from layers.parks import PARK_COLUMNS, park_measures, park_sources
from tests.import_files import write_csv

pytestmark = pytest.mark.postgis
ANNING, XISHAN = "530181", "530112"
#: A small box well inside 安宁市 (the demo's chemical park lies around 102.43°E 24.95°N).
ANNING_BOX = box(102.42, 24.94, 102.44, 24.96)


def _park_file(tmp_path: Path, name: str = "安宁工业园区", level: str = "省级", code: str = "PK-530181-01") -> Path:
    frame = gpd.GeoDataFrame({"园区编号": [code], "园区名称": [name], "行政区划代码": [ANNING],
                              "园区类型": ["化工园区"], "园区级别": [level], "管理机构": ["安宁工业园区管理委员会"]},
                             geometry=[ANNING_BOX], crs=4490)
    path = tmp_path / f"parks_{name}.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def test_a_park_file_imports_with_codes_and_a_multipolygon(engine, tmp_path) -> None:
    report = import_file(engine, "园区", _park_file(tmp_path))
    assert (report.rows_imported, report.rows_rejected) == (1, 0), [i.text("both") for i in report.issues]
    with engine.connect() as conn:
        row = conn.execute(text("SELECT key, name, adcode, park_type, level, managing_body, GeometryType(geom), "
                                "ST_SRID(geom), ST_Equals(geom, ST_GeomFromText(:wkt, 4490)) FROM parks"),
                           {"wkt": ANNING_BOX.wkt}).one()
    assert tuple(row) == ("PK-530181-01", "安宁工业园区", ANNING, "chemical", "provincial", "安宁工业园区管理委员会",
                          "MULTIPOLYGON", 4490, True)


def test_a_bad_level_is_refused_naming_the_row_and_field(engine, tmp_path) -> None:
    good = {"园区编号": "PK-530181-02", "园区名称": "安宁物流园区", "行政区划代码": ANNING, "园区类型": "物流园区",
            "园区级别": "县级", "几何(WKT)": ANNING_BOX.wkt}
    bad = {**good, "园区编号": "PK-530181-03", "园区级别": "乡级"}
    path = write_csv(tmp_path / "parks.csv", [good, bad])
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "parks", path)
    errors = [i for i in info.value.issues if i.severity == "error"]
    assert [(i.row, i.field) for i in errors] == [("第3行 / row 3", "园区级别(level)")], \
        [i.text("both") for i in errors]
    assert "乡级" in errors[0].zh and "parks.csv" in str(info.value)
    assert store.row_counts(engine)["parks"] == 0  # nothing of a refused file is written


def _seed_two_districts(engine) -> None:
    rows = [{"key": f"PK-{code}", "code": f"PK-{code}", "name": f"园区{code}", "adcode": code,
             "park_type": "industrial", "level": "city", "managing_body": None,
             "geom": shapely.MultiPolygon([box(102.4 + i * 0.1, 24.9, 102.45 + i * 0.1, 24.95)]),
             "source_crs": "EPSG:4490", "batch_id": None} for i, code in enumerate((ANNING, XISHAN))]
    with engine.begin() as conn:
        store.upsert_rows(conn, "parks", rows, "key")


def test_another_districts_officer_does_not_see_a_park(engine, app_engine) -> None:
    _seed_two_districts(engine)
    with scoped(Scope(all_districts=False, adcode=XISHAN, actor="xishan", role="district_officer")):
        assert list(store.read_layer(app_engine, "parks")["key"]) == [f"PK-{XISHAN}"]
        with app_engine.begin() as conn:  # nor change it
            changed = conn.execute(text("UPDATE parks SET name = 'x' WHERE adcode = :a"), {"a": ANNING}).rowcount
        assert changed == 0
    with scoped(Scope(all_districts=True, actor="leader", role="leader")):
        assert sorted(store.read_layer(app_engine, "parks")["key"]) == [f"PK-{XISHAN}", f"PK-{ANNING}"]


def test_editing_a_park_keeps_its_old_version(engine, tmp_path) -> None:
    import_file(engine, "parks", _park_file(tmp_path, name="安宁工业园区"))
    import_file(engine, "parks", _park_file(tmp_path, name="安宁工业园区(扩区)", level="国家级"))
    versions = record_versions(engine, "parks", "PK-530181-01")
    assert [v["name"] for v in versions["data"]] == ["安宁工业园区", "安宁工业园区(扩区)"]
    assert [v["level"] for v in versions["data"]] == ["provincial", "national"]
    first, second = versions.iloc[0], versions.iloc[1]
    assert first["valid_to"] == second["valid_from"] and pd.isna(second["valid_to"])
    before = read_layer_as_of(engine, "parks", first["valid_from"].to_pydatetime())
    assert list(before["name"]) == ["安宁工业园区"]
    assert list(store.read_layer(engine, "parks")["name"]) == ["安宁工业园区(扩区)"]


@pytest.fixture(scope="module")
def demo_parks(demo_db):
    eng = store.make_engine(demo_db)
    bundle = bundle_from_store(eng)
    frames = {**bundle.frames, "parks": store.read_layer(eng, "parks")}
    sources = counted_sources(bundle)
    measures = park_measures(frames, sources, store.read_findings(eng), bundle["hidden_hazards"], DEMO_AS_OF)
    yield eng, frames, sources, measures
    eng.dispose()


def _sql_counts(conn, sql: str, **params) -> dict[str, int]:
    return {str(k): int(n) for k, n in conn.execute(text(sql), params).all()}


def test_park_measures_on_the_demo_are_the_postgis_containment_counts(demo_parks) -> None:
    eng, frames, sources, measures = demo_parks
    assert list(measures.columns[:len(PARK_COLUMNS)]) == list(PARK_COLUMNS)
    assert list(measures.index) == list(frames["parks"]["code"]) and len(measures) == 3
    contains = "FROM parks p JOIN {t} x ON ST_Contains(p.geom, x.geom) {where} GROUP BY p.code"
    with eng.connect() as conn:
        enterprises = _sql_counts(conn, "SELECT p.code, count(*) " + contains.format(t="enterprises", where=""))
        points = _sql_counts(conn, "SELECT p.code, count(*) " + contains.format(t="risk_points", where=""))
        hazards = _sql_counts(conn, "SELECT p.code, count(*) " + contains.format(
            t="hidden_hazards", where="WHERE NOT x.status = ANY(:not_hazard)"), not_hazard=list(NOT_HAZARD_STATUSES))
        open_hz = _sql_counts(conn, "SELECT p.code, count(*) " + contains.format(
            t="hidden_hazards", where="WHERE x.status = ANY(:open)"), open=list(OPEN_HAZARD_STATUSES))
        done = _sql_counts(conn, "SELECT p.code, count(*) " + contains.format(
            t="hidden_hazards", where="WHERE x.status = ANY(:done)"), done=list(DONE_HAZARD_STATUSES))
        # the counted sources, placed in PostGIS and counted there by level
        conn.execute(text("CREATE TEMP TABLE src (risk_level text, geom geometry(Geometry, 4490))"))
        conn.execute(text("INSERT INTO src VALUES (:level, ST_GeomFromText(:wkt, 4490))"),
                     [{"level": lv, "wkt": g.wkt} for lv, g in zip(sources["risk_level"], sources.geometry,
                                                                    strict=True)])
        levels = {(str(c), str(lv)): int(n) for c, lv, n in conn.execute(text(
            "SELECT p.code, x.risk_level, count(*) " + contains.format(t="src", where="") + ", x.risk_level"))}
    for code in measures.index:
        row = measures.loc[code]
        assert row["enterprises"] == enterprises.get(code, 0), code
        assert row["risk_points"] == points.get(code, 0), code
        assert row["hazards_total"] == hazards.get(code, 0), code
        assert row["open_hazards"] == open_hz.get(code, 0), code
        assert row["hazards_done"] == done.get(code, 0), code
        for level, column in (("major", "major_risks"), ("significant", "significant_risks"),
                              ("general", "general_risks"), ("low", "low_risks")):
            assert row[column] == levels.get((code, level), 0), (code, level)
        assert row["risk_sources"] == len(park_sources(frames["parks"], sources, code))
    anning = measures.loc["PK-530181-01"]
    # the demo's 安宁 chemical park holds the refinery and the five plants of the park, the highest level 重大
    assert anning["enterprises"] >= 6 and anning["park_type_zh"] == "化工园区" and anning["level_zh"] == "省级"
    assert (anning["highest_level"], anning["highest_level_zh"]) == ("major", "重大风险")
    assert (measures["enterprises"] > 0).all()


def test_park_measures_count_a_record_in_each_of_two_overlapping_parks(demo_parks) -> None:
    _eng, frames, sources, _measures = demo_parks
    inner = frames["parks"][frames["parks"]["code"] == "PK-530181-01"].copy()
    ring = inner.geometry.to_crs(WORK_CRS).buffer(1000.0).to_crs(4490)  # 1 km wider, in metres
    wider = inner.assign(code="PK-wider", name="外围", geometry=ring.to_numpy())
    parks = gpd.GeoDataFrame(pd.concat([inner, wider]), crs=4490)
    both = park_measures({**frames, "parks": parks}, sources, pd.DataFrame(), None, dt.date(2026, 12, 1))
    assert both.loc["PK-wider", "enterprises"] >= both.loc["PK-530181-01", "enterprises"] > 0
    assert both.loc["PK-wider", "risk_sources"] >= both.loc["PK-530181-01", "risk_sources"]
