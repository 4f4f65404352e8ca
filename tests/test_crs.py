"""Unit tests of geo/crs.py (CGCS2000 zones, GCJ-02/BD-09) and geo/credit_code.py (GB 32100)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS

from geo.credit_code import CHARSET, check_character, credit_code_problem
from geo.crs import (
    SourceCRS,
    bd09_to_gcj02,
    crs_to_source,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    gk_zone_epsg,
    local_metric_epsg,
    parse_source_crs,
    undo_offset,
    wgs84_to_gcj02,
)
from geo.layer_specs import LAYERS

# --------------------------------------------------------------------------- credit codes


def test_known_valid_credit_code() -> None:
    assert check_character("91350100M000100Y4") == "3"
    assert credit_code_problem("91350100M000100Y43") is None


def test_wrong_check_character_names_the_expected_one() -> None:
    problem = credit_code_problem("91350100M000100Y44")
    assert problem == "校验位应为 3 / check character should be 3"


def test_every_other_check_character_is_refused() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        body = "".join(rng.choice(list("159Y"))) + "".join(rng.choice(list("123"))) + "".join(
            rng.choice(list("0123456789"), 6)) + "".join(rng.choice(list(CHARSET), 9))
        right = check_character(body)
        assert credit_code_problem(body + right) is None
        for wrong in set(CHARSET) - {right}:
            assert credit_code_problem(body + wrong) == f"校验位应为 {right} / check character should be {right}"


@pytest.mark.parametrize(("code", "fragment"), [
    ("91350100M000100Y4", "应为18位，实为17位"),
    ("91350100M000100Y433", "must be 18 characters, got 19"),
    ("91350100M000100I43", "invalid characters I"),
    ("91350100MO00100Y43", "含非法字符 O"),
    ("9135010ZM000100Y43", "Z"),
    ("91350100m000100Y43", "invalid characters m"),
    ("9135A100M000100Y43", "characters 3-8 must be the digits of an adcode"),
])
def test_malformed_credit_codes(code: str, fragment: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None and fragment in problem


def test_layer_spec_credit_code_examples_are_valid() -> None:
    examples = [(name, f.name, f.example) for name, spec in LAYERS.items() for f in spec.fields
                if f.type == "credit_code" and f.example]
    assert examples
    for layer, fld, example in examples:
        assert credit_code_problem(example) is None, (layer, fld, example)


# --------------------------------------------------------------------------- source CRS


@pytest.mark.parametrize(("value", "expected"), [
    ("4326", SourceCRS(epsg=4326)), (4490, SourceCRS(epsg=4490)), ("EPSG:4543", SourceCRS(epsg=4543)),
    ("epsg4549", SourceCRS(epsg=4549)), ("EPSG:4522", SourceCRS(epsg=4522)), ("WGS84", SourceCRS(epsg=4326)),
    ("CGCS2000", SourceCRS(epsg=4490)), ("gcj02", SourceCRS(offset="gcj02")), ("GCJ-02", SourceCRS(offset="gcj02")),
    ("gcj_02", SourceCRS(offset="gcj02")), ("amap", SourceCRS(offset="gcj02")), ("BD-09", SourceCRS(offset="bd09")),
    ("baidu", SourceCRS(offset="bd09")), (None, None), ("", None),
])
def test_parse_source_crs(value: object, expected: SourceCRS | None) -> None:
    assert parse_source_crs(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["EPSG:3857", "EPSG:4555", "4214", "beijing54", "EPSG:"])
def test_parse_source_crs_refuses(value: str) -> None:
    with pytest.raises(ValueError, match="不支持的坐标系") as info:
        parse_source_crs(value)
    assert "gcj02 or bd09" in str(info.value)


def test_labels() -> None:
    assert SourceCRS(epsg=4543).label == "EPSG:4543"
    assert SourceCRS(offset="gcj02").label == "GCJ-02"
    assert SourceCRS(offset="bd09").label == "BD-09"


ESRI_GK_102 = (
    'PROJCS["CGCS2000_3_Degree_GK_CM_102E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
    'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],'
    'PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",102.0],PARAMETER["Scale_Factor",1.0],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)


def test_crs_to_source() -> None:
    assert crs_to_source(None) is None
    assert crs_to_source(CRS(4543)) == SourceCRS(epsg=4543)
    assert crs_to_source(CRS(4490)) == SourceCRS(epsg=4490)
    assert crs_to_source(CRS("OGC:CRS84")) == SourceCRS(epsg=4326)
    assert crs_to_source(CRS.from_wkt(ESRI_GK_102)) == SourceCRS(epsg=4543)  # ArcGIS .prj
    assert crs_to_source(CRS.from_proj4("+proj=longlat +ellps=GRS80 +no_defs")) == SourceCRS(epsg=4326)
    assert crs_to_source(CRS(3857)) is None  # Web Mercator is not accepted
    assert crs_to_source(CRS(4214)) is None  # Beijing 1954 (Krassowsky) is not WGS84/CGCS2000


@pytest.mark.parametrize(("lon", "epsg"), [
    (102.7, 4543), (102.2, 4543), (103.4, 4543), (100.4, 4542), (121.5, 4549), (75.0, 4534), (73.5, 4534),
    (135.0, 4554), (134.9, 4554),
])
def test_gk_zone_epsg(lon: float, epsg: int) -> None:
    assert gk_zone_epsg(lon) == epsg


def test_local_metric_epsg() -> None:
    assert local_metric_epsg([shapely.Point(102.4, 24.9), shapely.Point(103.2, 25.3)]) == 4543
    assert local_metric_epsg(shapely.Point(121.47, 31.23)) == 4549


# --------------------------------------------------------------------------- GCJ-02 and BD-09

# Published test vectors of the same algorithm (coordtransform, eviltransform): WGS84 -> GCJ-02.
GCJ_VECTORS = [
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]


@pytest.mark.parametrize(("wgs", "gcj"), GCJ_VECTORS)
def test_wgs84_to_gcj02_matches_published_values(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lon, lat = wgs84_to_gcj02(np.array([wgs[0]]), np.array([wgs[1]]))
    assert (lon[0], lat[0]) == pytest.approx(gcj, abs=1e-9)
    back = gcj02_to_wgs84(lon, lat)
    assert (back[0][0], back[1][0]) == pytest.approx(wgs, abs=1e-9)


def test_bd09_matches_published_values() -> None:
    assert tuple(map(float, gcj02_to_bd09(116.404, 39.915))) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-9)
    assert tuple(map(float, bd09_to_gcj02(116.404, 39.915))) == pytest.approx(
        (116.39762729119315, 39.90865673957631), abs=1e-9)


def test_offsets_round_trip_over_yunnan() -> None:
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(97.5, 106.2, 2000), rng.uniform(21.1, 29.2, 2000)
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = np.hypot((glon - lon) * 111_320 * np.cos(np.radians(lat)), (glat - lat) * 110_574)
    assert shift.min() > 100 and shift.max() < 1000  # the offset is hundreds of metres
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.abs(wlon - lon).max() < 1e-9 and np.abs(wlat - lat).max() < 1e-9
    blon, blat = gcj02_to_bd09(glon, glat)
    rlon, rlat = bd09_to_gcj02(blon, blat)
    assert np.abs(rlon - glon).max() < 2e-6 and np.abs(rlat - glat).max() < 2e-6  # < 0.2 m


def test_no_offset_outside_china() -> None:
    lon, lat = np.array([2.35, -74.0, 139.7]), np.array([48.85, 40.7, 35.7])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert np.array_equal(glon, lon) and np.array_equal(glat, lat)


def test_undo_offset_on_geometries() -> None:
    true = shapely.Polygon([(102.47, 24.92), (102.48, 24.92), (102.48, 24.93), (102.47, 24.92)])
    coords = shapely.get_coordinates(true)
    g = np.column_stack(wgs84_to_gcj02(coords[:, 0], coords[:, 1]))
    b = np.column_stack(gcj02_to_bd09(g[:, 0], g[:, 1]))
    for offset, shifted in (("gcj02", g), ("bd09", b)):
        geom = shapely.Polygon(shifted)
        back = undo_offset(np.array([geom, shapely.Point(shifted[0])], dtype=object), offset)
        assert back[0].geom_type == "Polygon"
        assert np.abs(shapely.get_coordinates(back[0]) - coords).max() < 2e-6
        assert np.abs(shapely.get_coordinates(back[1]) - coords[:1]).max() < 2e-6
    with pytest.raises(ValueError, match="unknown offset"):
        undo_offset(np.array([true], dtype=object), "wgs84")
