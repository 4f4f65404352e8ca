"""Property-based tests: malformed rows and geometries get a clear error and leave the database unchanged."""

from __future__ import annotations

import csv
import json
import math
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import store
from geo.credit_code import check_character
from geo.errors import ImportValidationError, ReadError
from geo.importer import import_file

pytestmark = pytest.mark.postgis

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=40)
NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
    st.sampled_from(["300m", "0.3km", "300ft", "-5", "1e400", "nan", "", " ", "三百", "1,200", "10 MPa"]), TEXT)


def _code(body: str) -> str:
    return body + check_character(body)


CREDIT = st.one_of(
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8).map(
        lambda s: _code("91530181" + s + "0")),  # valid
    TEXT, st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXYZIOSV", min_size=18, max_size=18))
ROW = st.fixed_dictionaries({
    "统一社会信用代码": CREDIT,
    "企业名称": st.one_of(st.just("安宁性质测试化工有限公司"), TEXT, st.text(min_size=300, max_size=400)),
    "行政区划代码": st.one_of(st.just("530181"), st.just("530112"), st.just("530199"), TEXT),
    "行业": st.one_of(st.sampled_from(["危险化学品生产", "加油站", "其他"]), TEXT),
    "风险等级": st.one_of(st.sampled_from(["重大风险", "较大", "蓝", "low"]), TEXT),
    "外部安全防护距离(m)": NUMBER_TEXT,
    "经度": st.one_of(st.floats(102.35, 102.55).map(str), NUMBER_TEXT),
    "纬度": st.one_of(st.floats(24.85, 25.05).map(str), NUMBER_TEXT),
})


def _write_csv(tmp_path, rows) -> object:
    path = tmp_path / f"prop-{uuid.uuid4().hex[:8]}.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _check_outcome(engine, path, layer: str) -> None:
    before = store.row_counts(engine)
    try:
        report = import_file(engine, layer, path)
    except ImportValidationError as exc:
        assert store.row_counts(engine) == before, "a failed import changed the database"
        assert exc.issues, "an import error must list its issues"
        for issue in exc.issues:
            assert issue.file == path.name and issue.row and issue.field and issue.zh and issue.en
    except ReadError as exc:
        assert store.row_counts(engine) == before
        assert path.name in str(exc)
    else:
        assert report.rows_imported == report.rows_total > 0
        assert report.rows_rejected == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=4))
def test_malformed_enterprise_rows(engine, tmp_path, rows) -> None:
    _check_outcome(engine, _write_csv(tmp_path, rows), "enterprises")


COORD = st.one_of(st.floats(102.3, 102.6), st.floats(allow_nan=True, allow_infinity=True),
                  st.floats(-1e6, 1e6))
RING = st.lists(st.tuples(COORD, COORD), min_size=0, max_size=7)


@st.composite
def polygons(draw: st.DrawFn) -> dict:
    ring = draw(RING)
    if draw(st.booleans()) and ring:
        ring = [*ring, ring[0]]  # closed, maybe self-intersecting
    kind = draw(st.sampled_from(["Polygon", "Point", "LineString", "MultiPolygon"]))
    if kind == "Point":
        coords: object = list(ring[0]) if ring else []
    elif kind == "LineString":
        coords = [list(p) for p in ring]
    elif kind == "Polygon":
        coords = [[list(p) for p in ring]]
    else:
        coords = [[[list(p) for p in ring]]]
    return {"type": kind, "coordinates": coords}


def _safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return 1e308  # JSON has no NaN/Infinity; still absurd as a coordinate
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(geoms=st.lists(polygons(), min_size=1, max_size=4), households=st.lists(NUMBER_TEXT, min_size=4, max_size=4))
def test_malformed_building_geometries(engine, tmp_path, geoms, households) -> None:
    features = [{"type": "Feature", "geometry": {"type": g["type"], "coordinates": _safe(g["coordinates"])},
                 "properties": {"编号": f"PB-{i}", "行政区划代码": "530181", "用途": "住宅", "户数": households[i]}}
                for i, g in enumerate(geoms)]
    path = tmp_path / f"prop-{uuid.uuid4().hex[:8]}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    _check_outcome(engine, path, "buildings")


def test_gdal_tolerances_are_reported(engine, tmp_path) -> None:
    ring = [[102.47, 24.92], [102.4703, 24.92], [102.4703, 24.9203], [102.47, 24.9203]]  # not closed
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
               "properties": {"编号": "UNCLOSED-1", "行政区划代码": "530181", "用途": "住宅"}}
    path = tmp_path / "unclosed.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    report = import_file(engine, "buildings", path)
    assert report.rows_imported == 1
    assert any("Non closed ring" in note for note in report.notes)
