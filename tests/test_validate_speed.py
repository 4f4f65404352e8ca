"""Validation checks columns at once (issue #16): every bad row is still reported, by row and field, as before.

Equal cells of a column share one check, geometry and district checks run over all rows together
and only the rows they flag take the per-row path. These files mix valid rows with bad rows of
many kinds, some bad values repeated on several rows, so a shared outcome must reach each of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.constants import STORAGE_SRID
from geo.layer_specs import layer_spec
from geo.readers import read_any
from geo.validate import GEOMETRY_FIELD, Issue, validate
from tests.import_files import credit_code

#: A square district near 安宁 (lon/lat) and its code.
ADCODE = "530181"
DISTRICT = shapely.box(102.40, 24.90, 102.50, 25.00)


def districts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"adcode": [ADCODE], "name": ["安宁市"]}, geometry=[DISTRICT], crs=STORAGE_SRID)


def square(x: float, y: float, d: float = 0.0002) -> shapely.Geometry:
    return shapely.box(x, y, x + d, y + d)


def building_rows() -> tuple[list[dict[str, object]], list[shapely.Geometry | None], dict[int, set[tuple[str, str]]]]:
    """Rows of a buildings layer, their geometries and the (field, severity) each bad row must get."""
    rows: list[dict[str, object]] = []
    geoms: list[shapely.Geometry | None] = []
    want: dict[int, set[tuple[str, str]]] = {}
    for i in range(300):  # valid rows, uses and values repeated
        rows.append({"code": f"B{i:04d}", "adcode": ADCODE, "name": f"楼{i}",
                     "use": ["residential", "住宅", "商业"][i % 3], "households": i % 7, "floors": 1 + i % 5})
        geoms.append(square(102.41 + (i % 20) * 0.003, 24.91 + (i // 20) * 0.003))

    def bad(row: dict[str, object], geom: shapely.Geometry | None, *problems: tuple[str, str]) -> None:
        want[len(rows)] = set(problems)
        rows.append({"code": f"X{len(rows):04d}", "adcode": ADCODE, "name": "坏行", "use": "residential",
                     "households": 1, "floors": 2, **row})
        geoms.append(geom if geom is not None else square(102.45, 24.95))

    err, warn = "error", "warning"
    for _ in range(3):  # the same bad use on three rows: each is reported
        bad({"use": "飞船"}, None, ("用途(use)", err))
    bad({"households": "很多"}, None, ("户数(households)", err))
    bad({"floors": 2.5}, None, ("层数(floors)", err))
    bad({"floors": -1}, None, ("层数(floors)", err))
    bad({"code": "=HYPERLINK(1)"}, None, ("编号(code)", err))
    bad({"name": "楼\u202e名"}, None, ("名称(name)", err))
    bad({"name": "楼\u200b名"}, None, ("名称(name)", err))
    bad({"code": "K" * 81}, None, ("编号(code)", err))  # longer than the column (80)
    bad({"adcode": "53018"}, None, ("行政区划代码(adcode)", err))
    bad({"adcode": "530102"}, None, ("行政区划代码(adcode)", err))  # not among the districts
    bad({}, shapely.Polygon([(102.45, 24.95), (102.46, 24.96), (102.46, 24.95), (102.45, 24.96)]),
        (GEOMETRY_FIELD, err))  # bow-tie: no unambiguous repair
    bad({}, shapely.Point(102.45, 24.95), (GEOMETRY_FIELD, err))  # a point for a polygon layer
    bad({}, shapely.Polygon(), (GEOMETRY_FIELD, err))
    bad({}, square(120.0, 60.0), (GEOMETRY_FIELD, err))  # outside China
    bad({}, square(102.60, 24.95), (GEOMETRY_FIELD, err))  # 10 km outside its district
    bad({}, square(102.5005, 24.95), (GEOMETRY_FIELD, warn))  # about 50 m outside: within tolerance
    bad({"code": "B0007"}, None, ("编号", err))  # duplicate key: the key fields, by name
    bad({"use": None, "households": "3 户"}, None, ("用途(use)", err), ("户数(households)", err))
    return rows, geoms, want


def write_layer(path: Path, layer: str, rows: Sequence[Mapping[str, object]], geoms: list[shapely.Geometry | None],
                ) -> Path:
    frame = gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geoms, crs=STORAGE_SRID))
    for col in frame.columns:
        if col != "geometry":
            frame[col] = frame[col].astype(object).map(lambda v: None if v is None or v != v else str(v))
    frame.to_file(path, layer=layer, driver="GPKG")
    return path


def reported(issues: list[Issue], labels: list[str]) -> dict[int, set[tuple[str, str]]]:
    position = {label: i for i, label in enumerate(labels)}
    out: dict[int, set[tuple[str, str]]] = {}
    for issue in issues:
        out.setdefault(position[issue.row], set()).add((issue.field, issue.severity))
    return out


def test_bad_rows_of_a_buildings_file_are_each_reported(tmp_path: Path) -> None:
    rows, geoms, want = building_rows()
    spec = layer_spec("buildings")
    raw = read_any(write_layer(tmp_path / "b.gpkg", "buildings", rows, geoms), spec, layer_name="buildings")
    result = validate(raw, spec, districts=districts())
    assert reported(result.issues, raw.row_labels) == want
    refused = {i for i, found in want.items() if any(sev == "error" for _, sev in found)}
    assert set(result.rejected_rows) == refused
    assert result.record_rows == [i for i in range(len(rows)) if i not in refused]
    assert all(i.file == "b.gpkg" for i in result.issues)
    by_row = {r: [i for i in result.issues if i.row == raw.row_labels[r]] for r in want}
    first, second = (by_row[r][0] for r in sorted(want)[:2])  # the repeated bad use: same text, own row
    assert (first.zh, first.en) == (second.zh, second.en) and first.row != second.row
    assert "飞船" in first.zh and "residential" in first.en
    # valid rows come back typed, polygons as MultiPolygons, with keys and defaults
    rec = result.records[0]
    assert rec["key"] == "B0000" and rec["use"] == "residential" and rec["households"] == 0
    assert rec["geom"].geom_type == "MultiPolygon" and result.records[1]["use"] == "residential"
    assert result.records[2]["use"] == "commercial" and isinstance(result.records[3]["floors"], int)


def test_a_repairable_polygon_and_altitudes(tmp_path: Path) -> None:
    spec = layer_spec("buildings")
    ring = [(102.45, 24.95), (102.46, 24.95), (102.46, 24.96), (102.45, 24.96), (102.45, 24.95)]
    spike = shapely.Polygon([*ring[:2], (102.47, 24.95), *ring[1:]])  # a zero-width spike: repairable
    with_z = shapely.force_3d(square(102.44, 24.94), 1800.0)
    assert not spike.is_valid
    rows = [{"code": f"R{i}", "adcode": ADCODE, "use": "residential"} for i in range(3)]
    raw = read_any(write_layer(tmp_path / "r.gpkg", "buildings", rows, [spike, with_z, square(102.43, 24.93)]),
                   spec, layer_name="buildings")
    result = validate(raw, spec, districts=districts())
    found = [(i.row, i.field, i.severity) for i in result.issues]
    assert found == [(raw.row_labels[0], GEOMETRY_FIELD, "warning")]
    assert [r["geom"].geom_type for r in result.records] == ["MultiPolygon"] * 3
    assert not any(shapely.has_z(np.asarray([r["geom"] for r in result.records])))


def wrong_check(code: str) -> str:
    """``code`` with another check character."""
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def test_bad_rows_of_an_enterprises_file(tmp_path: Path) -> None:
    spec = layer_spec("enterprises")
    base = {"adcode": ADCODE, "name": "企业", "industry": "hazchem_production", "risk_level": "major"}
    rows: list[dict[str, object]] = [{"credit_code": credit_code(i), **base, "has_explosives": "否"} for i in range(50)]
    rows += [
        {**base, "credit_code": wrong_check(credit_code(100)), "has_explosives": "也许"},
        {**base, "credit_code": credit_code(101), "external_distance_m": "2 km", "address": "@地址"},
        {**base, "credit_code": credit_code(102), "external_distance_m": "3 光年"},
        {**base, "credit_code": credit_code(103), "risk_level": "极大", "industry": None},
    ]
    geoms = [shapely.Point(102.45, 24.95)] * len(rows)
    raw = read_any(write_layer(tmp_path / "e.gpkg", "enterprises", rows, geoms), spec, layer_name="enterprises")
    result = validate(raw, spec, districts=districts())
    got = reported(result.issues, raw.row_labels)
    assert got == {
        50: {("统一社会信用代码(credit_code)", "error"), ("涉及爆炸物(has_explosives)", "error")},
        51: {("详细地址(address)", "warning")},
        52: {("外部安全防护距离(external_distance_m)", "error")},
        53: {("风险等级(risk_level)", "error"), ("行业(industry)", "error")},
    }
    assert next(r for r in result.records if r["credit_code"] == credit_code(101))["external_distance_m"] == 2000.0
    assert result.records[0]["has_explosives"] is False


@pytest.mark.parametrize("value", [0.0, -0.0, 1.5, 3])
def test_equal_numbers_keep_their_own_form(tmp_path: Path, value: float) -> None:
    """Cells shared by value still give each row its own typed value (0.0 and -0.0 stay apart)."""
    from geo.validate.values import check_column

    spec = layer_spec("enterprises")
    fs = spec.field("external_distance_m")
    values, problems = check_column([value, -0.0, 0.0, None, float("nan"), value], fs, spec, None)
    assert problems == {}
    assert [None if v is None else (v, np.signbit(v)) for v in values] == [
        (float(value), np.signbit(value)), (0.0, True), (0.0, False), None, None, (float(value), np.signbit(value))]
