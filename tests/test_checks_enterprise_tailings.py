"""Tests of the external-safety-distance (ESD_*) and tailings (TAIL_*) check families.

Geometries are built in metres in a Gauss-Krüger zone (CM 102°E, Kunming; CM 120°E, east China)
around the zone's central meridian, stored in EPSG:4490 like the store does, and checked through a
:class:`~geo.checks.bundle.Bundle` that picks the zone itself.
"""

from __future__ import annotations

import sys
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geo.checks.bundle import Bundle
from geo.checks.findings import COLUMNS
from geo.checks.ruleset import RuleSet
from geo.checks.safety_distance import _reach_along_ray, check_safety_distances
from geo.checks.tailings import DemGrid, check_tailings, flow_path, grade_label, read_dem
from geo.errors import ConfigError
from tests.catalogue import ZONES, bundle, metric


def enterprise(x: float, y: float, *, key: str = "E1", ext: float | None = 300.0,
               status: str = "in_service") -> dict[str, Any]:
    return {"key": key, "credit_code": key, "name": f"企业{key}", "adcode": "530181", "external_distance_m": ext,
            "installation_status": status, "geometry": Point(x, y)}


def target(key: str, geom: Any, cls: str = "general_2", ttype: str = "residential") -> dict[str, Any]:
    return {"key": key, "name": f"目标{key}", "adcode": "530102", "target_type": ttype, "gb36894_class": cls,
            "geometry": geom}


def rows_of(found: gpd.GeoDataFrame, code: str) -> gpd.GeoDataFrame:
    return found[found["rule_code"] == code]


# ---------------------------------------------------------------------------
# ESD_DECLARED
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(("epsg", "x", "y"), ZONES)
def test_declared_distance_is_exclusive(rules: RuleSet, epsg: int, x: float, y: float) -> None:
    b = bundle(epsg, enterprises=[enterprise(x, y, ext=300.0)],
               protection_targets=[target("in", Point(x + 299.8, y)), target("at", Point(x, y + 300.0)),
                                   target("out", Point(x - 300.2, y))])
    found = check_safety_distances(b, rules)
    assert list(found.columns) == [*COLUMNS, "geometry"]
    assert found.crs.to_epsg() == 4490
    declared = rows_of(found, "ESD_DECLARED")
    assert declared["object_key"].tolist() == ["in"]
    row = declared.iloc[0]
    assert row["measured_m"] == pytest.approx(299.8, abs=0.01)
    assert row["required_m"] == 300.0
    assert row["verdict"] == "violation"
    assert (row["subject_type"], row["subject_key"], row["object_type"]) == ("enterprises", "E1",
                                                                               "protection_targets")
    assert row["adcode"] == "530102"
    assert row["clause"] == rules["ESD_DECLARED"].clause
    assert " / " in row["detail"] and "外部安全防护距离" in row["detail"]
    line = metric(row.geometry, epsg)
    assert line.geom_type == "LineString"
    assert line.length == pytest.approx(299.8, abs=0.01)


@pytest.mark.parametrize(("epsg", "x", "y"), ZONES)
def test_declared_distance_uses_nearest_part_of_polygon(rules: RuleSet, epsg: int, x: float, y: float) -> None:
    square = box(x + 290.0, y - 50.0, x + 390.0, y + 50.0)  # edge at 290 m, centroid at 340 m
    b = bundle(epsg, enterprises=[enterprise(x, y, ext=300.0)], protection_targets=[target("poly", square)])
    assert Point(x, y).distance(square.centroid) > 300.0
    declared = rows_of(check_safety_distances(b, rules), "ESD_DECLARED")
    assert declared["object_key"].tolist() == ["poly"]
    assert declared.iloc[0]["measured_m"] == pytest.approx(290.0, abs=0.01)


def test_enterprise_without_declared_distance_is_skipped(rules: RuleSet) -> None:
    x, y = 500000.0, 2760000.0
    b = bundle(4543, enterprises=[enterprise(x, y, ext=None)], protection_targets=[target("t", Point(x + 10, y))])
    assert rows_of(check_safety_distances(b, rules), "ESD_DECLARED").empty


def test_empty_bundle_gives_empty_frame(rules: RuleSet) -> None:
    found = check_safety_distances(Bundle({}), rules)
    assert found.empty and list(found.columns) == [*COLUMNS, "geometry"]
    assert check_tailings(Bundle({}), rules).empty


# ---------------------------------------------------------------------------
# ESD_IR
# ---------------------------------------------------------------------------

RADII = {3e-5: 100.0, 1e-5: 200.0, 3e-6: 400.0, 1e-6: 600.0, 3e-7: 900.0}


def contours(x: float, y: float, key: str = "E1") -> list[dict[str, Any]]:
    return [{"key": f"{key}-{ir}", "enterprise_key": key, "adcode": "530181", "individual_risk": ir,
             "geometry": MultiPolygon([Point(x, y).buffer(r, quad_segs=64)])} for ir, r in RADII.items()]


def ir_bundle(epsg: int, x: float, y: float, status: str, targets: list[dict[str, Any]]) -> Bundle:
    # external distance 0 keeps ESD_DECLARED out of the way
    return bundle(epsg, enterprises=[enterprise(x, y, ext=None, status=status)], risk_contours=contours(x, y),
                  protection_targets=targets)


@pytest.mark.parametrize(("epsg", "x", "y"), ZONES)
def test_ir_new_installation_uses_strict_criterion(rules: RuleSet, epsg: int, x: float, y: float) -> None:
    # general_2 target 300 m out: inside the 3e-6 contour (400 m), outside 1e-5 (200 m)
    b = ir_bundle(epsg, x, y, "new", [target("g2", Point(x + 300.0, y), "general_2")])
    found = rows_of(check_safety_distances(b, rules), "ESD_IR")
    assert found["object_key"].tolist() == ["g2"]
    row = found.iloc[0]
    assert row["verdict"] == "violation"
    assert row["measured_m"] == pytest.approx(300.0, abs=0.01)
    assert row["required_m"] == pytest.approx(400.0, abs=0.5)  # criterion contour 3e-6 along the ray
    assert "3×10⁻⁶" in row["detail"] and "一般防护目标(二类)" in row["detail"] and "新建" in row["detail"]
    assert "general_2" in row["detail"].split(" / ")[1]


@pytest.mark.parametrize(("epsg", "x", "y"), ZONES)
def test_ir_in_service_criterion(rules: RuleSet, epsg: int, x: float, y: float) -> None:
    b = ir_bundle(epsg, x, y, "in_service", [target("g2_300", Point(x + 300.0, y), "general_2"),
                                             target("g2_150", Point(x, y - 150.0), "general_2")])
    found = rows_of(check_safety_distances(b, rules), "ESD_IR")
    # 3e-6 < 1e-5: the 300 m target is acceptable for an in-service installation
    assert found["object_key"].tolist() == ["g2_150"]
    row = found.iloc[0]
    assert "1×10⁻⁵" in row["detail"] and "在役" in row["detail"]
    assert row["required_m"] == pytest.approx(200.0, abs=0.5)
    assert row["measured_m"] == pytest.approx(150.0, abs=0.01)


def test_ir_reports_only_most_severe_contour(rules: RuleSet) -> None:
    x, y = 500000.0, 2760000.0
    # a school 50 m out lies in all five contours; all are ≥ its criterion (3e-7, new)
    b = ir_bundle(4543, x, y, "new", [target("school", Point(x - 50.0, y + 0.0), "high_sensitivity", "school")])
    found = rows_of(check_safety_distances(b, rules), "ESD_IR")
    assert len(found) == 1
    row = found.iloc[0]
    assert row["detail"].startswith("个人风险3×10⁻⁵/年")
    assert "基准3×10⁻⁷/年" in row["detail"]
    assert row["required_m"] == pytest.approx(900.0, abs=0.5)  # the 3e-7 criterion contour


def test_ir_polygon_target_touching_contour(rules: RuleSet) -> None:
    x, y = 500000.0, 2760000.0
    # polygon whose near edge (180 m) is inside the 1e-5 contour though its centroid (230 m) is not
    poly = box(x + 180.0, y - 20.0, x + 280.0, y + 20.0)
    b = ir_bundle(4543, x, y, "in_service", [target("p", poly, "general_2")])
    found = rows_of(check_safety_distances(b, rules), "ESD_IR")
    assert found["object_key"].tolist() == ["p"]
    assert found.iloc[0]["measured_m"] == pytest.approx(180.0, abs=0.01)


def test_ir_skips_contours_of_unknown_enterprises(rules: RuleSet) -> None:
    x, y = 500000.0, 2760000.0
    b = bundle(4543, risk_contours=contours(x, y, key="OTHER"),
               enterprises=[enterprise(x + 5000, y, ext=None)],
               protection_targets=[target("t", Point(x + 50, y), "high_sensitivity")])
    assert rows_of(check_safety_distances(b, rules), "ESD_IR").empty


def test_reach_along_ray_farthest_crossing_and_fallback() -> None:
    # A C-shaped contour: the ray east crosses the boundary several times; the farthest counts.
    ring = Polygon([(-10, -10), (100, -10), (100, 10), (50, 10), (50, 5), (80, 5), (80, -5), (-5, -5),
                    (-5, 5), (40, 5), (40, 10), (-10, 10)])
    assert _reach_along_ray(Point(0, 0), Point(1, 0), ring) == pytest.approx(100.0)
    # Ray pointing away from a contour that does not hold the origin: max boundary distance.
    far = box(10, 10, 20, 20)
    assert _reach_along_ray(Point(0, 0), Point(-1, 0), far) == pytest.approx(np.hypot(20, 20))
    # Target at the origin: no direction, same fallback.
    assert _reach_along_ray(Point(0, 0), Point(0, 0), box(-3, -4, 3, 4)) == pytest.approx(5.0)


# ---------------------------------------------------------------------------
# TAIL_SAFETY and grades
# ---------------------------------------------------------------------------

def pond(key: str, x: float, y: float, degree: str | None = "normal", grade: int | None = 3) -> dict[str, Any]:
    return {"key": key, "name": f"尾矿库{key}", "adcode": "530181", "total_storage_10k_m3": 2000.0,
            "dam_height_m": 70.0, "design_grade": grade, "safety_degree": degree, "status": "operating",
            "geometry": Point(x, y)}


def test_grade_label() -> None:
    assert [grade_label(g) for g in (1, 2, 3, 4, 5)] == ["一等", "二等", "三等", "四等", "五等"]
    assert grade_label(None) == "等别未知"
    assert grade_label(float("nan")) == "等别未知"


def test_tailings_safety_degrees(rules: RuleSet) -> None:
    x, y = 500000.0, 2760000.0
    b = bundle(4543, tailings_dams=[pond("D", x, y, "danger", 3), pond("R", x + 9000, y, "risk", 2),
                                    pond("S", x, y + 9000, "sick", None), pond("N", x - 9000, y, "normal"),
                                    pond("U", x, y - 9000, None)])
    found = rows_of(check_tailings(b, rules), "TAIL_SAFETY")
    assert sorted(found["subject_key"]) == ["D", "R", "S"]
    assert (found["subject_key"] == found["object_key"]).all()
    assert (found["subject_type"] == "tailings_dams").all() and (found["object_type"] == "tailings_dams").all()
    assert (found["verdict"] == "violation").all()
    details = dict(zip(found["subject_key"], found["detail"], strict=True))
    assert "危库" in details["D"] and "三等" in details["D"]
    assert "险库" in details["R"] and "二等" in details["R"]
    assert "病库" in details["S"] and "等别未知" in details["S"]


# ---------------------------------------------------------------------------
# TAIL_OVERHEAD: radial screen
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(("epsg", "x", "y"), ZONES)
def test_overhead_radial_screen_is_inclusive(rules: RuleSet, epsg: int, x: float, y: float) -> None:
    b = bundle(epsg, tailings_dams=[pond("T1", x, y)],
               protection_targets=[target("999", Point(x + 999.0, y)), target("1000", Point(x, y - 1000.0)),
                                   target("1001", Point(x - 1001.0, y))],
               buildings=[{"key": "B-res", "name": "住宅", "adcode": "530181", "use": "residential",
                           "geometry": box(x + 400, y + 400, x + 420, y + 420)},
                          {"key": "B-ind", "name": "厂房", "adcode": "530181", "use": "industrial",
                           "geometry": box(x + 100, y + 100, x + 120, y + 120)}])
    found = rows_of(check_tailings(b, rules), "TAIL_OVERHEAD")
    assert sorted(found["object_key"]) == ["1000", "999", "B-res"]
    assert (found["verdict"] == "screen").all()
    assert (found["required_m"] == 1000.0).all()
    assert all("径向初筛，非流经路径判定" in d and "radial pre-screen, not a flow-path finding" in d
               for d in found["detail"])
    by_key = found.set_index("object_key")
    assert by_key.loc["1000", "measured_m"] == pytest.approx(1000.0, abs=0.001)
    assert by_key.loc["B-res", "object_type"] == "buildings"
    assert by_key.loc["B-res", "measured_m"] == pytest.approx(400 * np.sqrt(2), abs=0.01)


# ---------------------------------------------------------------------------
# TAIL_OVERHEAD: D8 flow path
# ---------------------------------------------------------------------------

def valley_dem(epsg: int, x: float, y: float, cell: float = 10.0) -> DemGrid:
    """A plane falling east (5 %) with a V valley (20 % side slopes) along y = ``y``; toe at (x, y)."""
    x0, y0 = x - 1500.0, y + 1500.0
    cols, rows = 400, 300
    cx = x0 + (np.arange(cols) + 0.5) * cell
    cy = y0 - (np.arange(rows) + 0.5) * cell
    gx, gy = np.meshgrid(cx, cy)
    z = 1000.0 - 0.05 * (gx - x0) + 0.2 * np.abs(gy - y)
    return DemGrid(z, x0, y0, cell, epsg)


@pytest.mark.parametrize(("epsg", "x", "y"), ZONES)
def test_flow_path_follows_valley(epsg: int, x: float, y: float) -> None:
    dem = valley_dem(epsg, x, y)
    path = flow_path(dem, x, y, 1000.0)
    assert path.length == pytest.approx(1000.0, abs=1e-6)
    assert path.coords[0] == (x, y)
    coords = np.asarray(path.coords)
    assert (np.diff(coords[:, 0]) > 0).all()  # always downstream (east)
    assert np.abs(coords[:, 1] - y).max() <= 10.0


@pytest.mark.parametrize(("epsg", "x", "y"), ZONES)
def test_overhead_d8_path(rules: RuleSet, epsg: int, x: float, y: float) -> None:
    dem = valley_dem(epsg, x, y)
    far_x = x + 20000.0  # a second pond off the DEM falls back to the radial screen
    b = bundle(epsg, tailings_dams=[pond("T1", x, y), pond("T2", far_x, y)],
               protection_targets=[target("down800", Point(x + 800.0, y + 30.0)),
                                   target("up300", Point(x - 300.0, y)),
                                   target("ridge500", Point(x + 100.0, y + 500.0)),
                                   target("past1150", Point(x + 1150.0, y)),
                                   target("far", Point(far_x + 500.0, y))])
    found = rows_of(check_tailings(b, rules, dem=dem), "TAIL_OVERHEAD")
    on_path = found[found["subject_key"] == "T1"]
    assert on_path["object_key"].tolist() == ["down800"]
    row = on_path.iloc[0]
    assert row["verdict"] == "violation"
    assert row["measured_m"] == pytest.approx(800.0, abs=10.0)
    assert row["required_m"] == 1000.0
    assert "D8" in row["detail"] and " / " in row["detail"]
    shown = metric(row.geometry, epsg)
    assert shown.geom_type == "LineString"
    assert shapely.get_coordinates(shown)[0] == pytest.approx([x, y], abs=1e-3)
    assert shown.distance(Point(x + 800.0, y + 30.0)) < 0.01
    screened = found[found["subject_key"] == "T2"]
    assert screened["object_key"].tolist() == ["far"]
    assert (screened["verdict"] == "screen").all()
    # without the DEM the same data only gives radial screens, including the upslope house
    radial = rows_of(check_tailings(b, rules), "TAIL_OVERHEAD")
    assert set(radial[radial["subject_key"] == "T1"]["object_key"]) == {"down800", "up300", "ridge500"}
    assert (radial["verdict"] == "screen").all()


def test_overhead_dem_in_other_zone(rules: RuleSet) -> None:
    # Data in CM 102°E, DEM delivered in CM 105°E: the path is projected into the bundle's zone.
    from pyproj import Transformer

    x, y = 500000.0, 2760000.0
    to105 = Transformer.from_crs(4543, 4544, always_xy=True)
    dx, dy = to105.transform(x, y)
    dem = valley_dem(4544, dx, dy)
    hx, hy = Transformer.from_crs(4544, 4543, always_xy=True).transform(dx + 600.0, dy)
    b = bundle(4543, tailings_dams=[pond("T1", x, y)], protection_targets=[target("h", Point(hx, hy))])
    found = rows_of(check_tailings(b, rules, dem=dem), "TAIL_OVERHEAD")
    assert found["object_key"].tolist() == ["h"]
    assert found.iloc[0]["verdict"] == "violation"
    assert found.iloc[0]["measured_m"] == pytest.approx(600.0, abs=15.0)


def test_flow_path_stops_at_pit_edge_and_nodata() -> None:
    # bowl: toe at the bottom → zero-length path
    gx, gy = np.meshgrid(np.arange(21) - 10.0, np.arange(21) - 10.0)
    bowl = DemGrid(gx**2 + gy**2, 0.0, 210.0, 10.0, 4543)
    pit = flow_path(bowl, 105.0, 105.0, 1000.0)
    assert pit.length == 0.0
    # plane falling east on a small grid: stops at the east edge (last cell centre)
    plane = DemGrid(np.tile(100.0 - np.arange(20.0), (5, 1)), 0.0, 50.0, 10.0, 4543)
    edge = flow_path(plane, 5.0, 25.0, 1000.0)
    assert edge.coords[-1] == pytest.approx((195.0, 25.0))
    # a no-data column blocks the path
    holed = plane.elevation.copy()
    holed[:, 10] = np.nan
    blocked = flow_path(DemGrid(holed, 0.0, 50.0, 10.0, 4543), 5.0, 25.0, 1000.0)
    assert blocked.coords[-1] == pytest.approx((95.0, 25.0))
    with pytest.raises(ValueError, match="outside the DEM"):
        flow_path(plane, -5.0, 25.0, 100.0)


def test_pond_in_a_pit_uses_a_disc(rules: RuleSet) -> None:
    x, y = 500000.0, 2760000.0
    gx, gy = np.meshgrid(np.arange(41) - 20.0, np.arange(41) - 20.0)
    dem = DemGrid(gx**2 + gy**2, x - 205.0, y + 205.0, 10.0, 4543)
    b = bundle(4543, tailings_dams=[pond("T1", x, y)],
               protection_targets=[target("near", Point(x + 150.0, y)), target("away", Point(x + 250.0, y))])
    found = rows_of(check_tailings(b, rules, dem=dem), "TAIL_OVERHEAD")
    assert found["object_key"].tolist() == ["near"]
    assert found.iloc[0]["measured_m"] == 0.0


def test_read_dem_geotiff_round_trip(tmp_path, rules: RuleSet) -> None:
    import rasterio
    from rasterio.transform import from_origin

    epsg, x, y = ZONES[0].values
    dem = valley_dem(epsg, x, y)
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", height=dem.elevation.shape[0], width=dem.elevation.shape[1],
                       count=1, dtype="float32", crs=f"EPSG:{epsg}", nodata=-9999.0,
                       transform=from_origin(dem.x0, dem.y0, dem.cell_size, dem.cell_size)) as dst:
        dst.write(dem.elevation.astype("float32"), 1)
    back = read_dem(path)
    assert back.epsg == epsg and back.cell_size == dem.cell_size and back.elevation.shape == dem.elevation.shape
    assert np.allclose(back.elevation, dem.elevation, atol=1e-3)
    path_line = flow_path(back, x, y, 1000.0)
    assert path_line.length == pytest.approx(1000.0, abs=1e-6)


def test_demgrid_validation_and_read_dem_without_rasterio(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="projected"):
        DemGrid(np.zeros((2, 2)), 102.0, 25.0, 0.001, 4490)
    with pytest.raises(ValueError, match="2-D"):
        DemGrid(np.zeros(4), 0.0, 0.0, 10.0, 4543)
    monkeypatch.setitem(sys.modules, "rasterio", None)
    with pytest.raises(ConfigError, match="rasterio"):
        read_dem("/nonexistent/dem.tif")


# ---------------------------------------------------------------------------
# Demo database
# ---------------------------------------------------------------------------

@pytest.mark.postgis
def test_demo_database(demo_bundle: Bundle, rules: RuleSet) -> None:
    b = demo_bundle
    esd = check_safety_distances(b, rules)
    tail = check_tailings(b, rules)
    counts = {**esd["rule_code"].value_counts().to_dict(), **tail["rule_code"].value_counts().to_dict()}
    assert counts.get("ESD_DECLARED", 0) >= 1
    assert counts.get("ESD_IR", 0) >= 1
    assert counts.get("TAIL_SAFETY", 0) >= 1
    overhead = tail[tail["rule_code"] == "TAIL_OVERHEAD"]
    assert (overhead["verdict"] == "screen").sum() >= 3
    for found in (esd, tail):
        assert found.crs.to_epsg() == 4490
        assert found["detail"].str.contains(" / ").all()
        assert found["adcode"].notna().all()
        assert found.geometry.notna().all()
    assert (esd["measured_m"] >= 0).all()
    # ESD_IR keeps one finding per (enterprise, target)
    ir = esd[esd["rule_code"] == "ESD_IR"]
    assert not ir.duplicated(["subject_key", "object_key"]).any()
