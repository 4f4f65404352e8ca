"""Pipeline checks (geo/checks/pipeline.py): encroachment, spacing, permit zones, crossings and mileage.

Geometries are built in code, in metres in a CGCS2000 Gauss-Krüger zone, around the thresholds, and
handed to the checks in EPSG:4490 as stored; the checks project them back on their own. Two zones are
used: CM 102°E (EPSG:4543, zone 34, Kunming) and CM 120°E (EPSG:4549, zone 40, Hangzhou). The last
test runs every rule on the Kunming demo database.
"""

from __future__ import annotations

import math
import re
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.affinity import rotate, translate
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box

from geo import store
from geo.checks.bundle import Bundle
from geo.checks.findings import COLUMNS, VERDICTS
from geo.checks.pipeline import check_pipelines, format_mileage, pipeline_mileage
from geo.checks.ruleset import RuleSet
from geo.checks.sources import bundle_from_store
from tests.catalogue import bundle

#: (EPSG of the zone, lon/lat of the test origin): zone 34 near Kunming, zone 40 near Hangzhou.
ZONES = {"zone34": (4543, (102.71, 25.04)), "zone40": (4549, (120.32, 30.28))}
PIPE_CODES = ("PIPE_OCCUPY", "PIPE_SPACING", "PIPE_PERMIT_50", "PIPE_PERMIT_200", "PIPE_CROSSING")
STAKE = re.compile(r"里程 K(\d+)\+(\d{3})")
ANGLE = re.compile(r"交角 ([0-9.]+)°")


class Site:
    """Builds layers in metres relative to an origin in one Gauss-Krüger zone."""

    def __init__(self, zone: str = "zone34") -> None:
        self.epsg, (lon, lat) = ZONES[zone]
        self.x0, self.y0 = Transformer.from_crs(4490, self.epsg, always_xy=True).transform(lon, lat)
        self.layers: dict[str, list[dict[str, Any]]] = {}
        self._n = 0

    def shift(self, geom: Any) -> Any:
        return translate(geom, self.x0, self.y0)

    def add(self, layer: str, geom: Any, **attrs: Any) -> str:
        self._n += 1
        key = attrs.pop("key", f"{layer[:3].upper()}-{self._n}")
        row = {"key": key, "code": key, "name": attrs.pop("name", key), "adcode": "530102", **attrs,
               "geometry": self.shift(geom)}
        self.layers.setdefault(layer, []).append(row)
        return key

    def pipe(self, coords: Any, *, medium: str = "gas", start: float = 0.0, key: str = "P-1") -> str:
        geom = MultiLineString(coords) if isinstance(coords[0][0], tuple) else MultiLineString([coords])
        return self.add("pipelines", geom, key=key, medium=medium, start_mileage_m=start,
                        outside_diameter_mm=508.0, maop_mpa=6.3, operator="测试")

    def bundle(self) -> Bundle:
        return bundle(self.epsg, **self.layers)


def run(site: Site, rules: RuleSet, code: str | None = None) -> gpd.GeoDataFrame:
    found = check_pipelines(site.bundle(), rules)
    assert list(found.columns) == [*COLUMNS, "geometry"]
    assert found.crs.to_epsg() == 4490
    return found if code is None else found[found.rule_code == code].reset_index(drop=True)


def stake_m(detail: str) -> int:
    m = STAKE.search(detail)
    assert m, detail
    return int(m.group(1)) * 1000 + int(m.group(2))


def angle_of(detail: str) -> float:
    m = ANGLE.search(detail)
    assert m, detail
    return float(m.group(1))


# --------------------------------------------------------------------------- mileage


def test_mileage_single_and_multipart() -> None:
    line = LineString([(0, 0), (300, 0), (300, 400)])
    assert pipeline_mileage(line, Point(120, 7), 0.0) == pytest.approx(120.0)
    assert pipeline_mileage(line, Point(295, 100), 2500.0) == pytest.approx(2500.0 + 300.0 + 100.0)
    assert pipeline_mileage(line, Point(-50, 0), None) == pytest.approx(0.0)
    multi = MultiLineString([[(0, 0), (300, 0)], [(1000, 0), (1000, 500)]])  # a gap between the parts
    assert pipeline_mileage(multi, Point(299, 2), 0.0) == pytest.approx(299.0)
    assert pipeline_mileage(multi, Point(1003, 200), 100.0) == pytest.approx(100.0 + 300.0 + 200.0)
    wedge = Polygon([(985, 235), (995, 245), (985, 255)])  # apex 5 m from the line, opposite (1000, 245)
    assert pipeline_mileage(multi, wedge, 0.0) == pytest.approx(545.0)


def test_format_mileage() -> None:
    assert [format_mileage(m) for m in (0.0, 7.4, 999.5, 12345.0, 120000.2)] == [
        "K0+000", "K0+007", "K1+000", "K12+345", "K120+000"]


# --------------------------------------------------------------------------- PIPE_OCCUPY


@pytest.mark.parametrize("zone", sorted(ZONES))
@pytest.mark.parametrize(("gap", "hit"), [(4.8, True), (5.0, True), (5.2, False)])
def test_occupy_threshold_is_inclusive_in_both_zones(rules: RuleSet, zone: str, gap: float, hit: bool) -> None:
    site = Site(zone)
    site.pipe([(0.0, 0.0), (2000.0, 0.0)], start=10_000.0)
    # a 10 m x 8 m house north of the line, its south wall `gap` from the centreline, at chainage 1234-1244
    site.add("buildings", box(1234.0, gap, 1244.0, gap + 8.0), use="residential")
    found = run(site, rules, "PIPE_OCCUPY")
    assert len(found) == int(hit)
    if hit:
        f = found.iloc[0]
        assert f.verdict == "violation" and f.subject_key == "P-1" and f.object_type == "buildings"
        assert f.measured_m == pytest.approx(gap, abs=0.01)
        assert f.required_m == 5.0
        assert f.clause == rules["PIPE_OCCUPY"].clause
        assert 11_234 <= stake_m(f.detail) <= 11_244


def test_occupy_uses_the_footprint_not_the_centroid(rules: RuleSet) -> None:
    site = Site()
    site.pipe([(0.0, 0.0), (1000.0, 0.0)])
    # a square turned 45°: its south corner is 4.8 m from the centreline, its centroid 12 m
    diamond = Polygon([(500.0, 4.8), (507.2, 12.0), (500.0, 19.2), (492.8, 12.0)])
    assert diamond.centroid.y == pytest.approx(12.0)
    site.add("buildings", diamond, use="residential")
    site.add("buildings", Point(700.0, 12.0), use="residential")  # a point building 12 m away: no
    found = run(site, rules, "PIPE_OCCUPY")
    assert len(found) == 1
    assert found.iloc[0].measured_m == pytest.approx(4.8, abs=0.01)
    assert stake_m(found.iloc[0].detail) == 500


def test_occupy_building_over_the_pipe_and_on_every_line(rules: RuleSet) -> None:
    site = Site()
    site.pipe([(0.0, 0.0), (1000.0, 0.0)], key="P-1")
    site.pipe([(0.0, 6.0), (1000.0, 6.0)], key="P-2", medium="products")
    site.add("buildings", box(300.0, -4.0, 312.0, 3.0), use="agricultural")  # straddles P-1, 3 m from P-2
    found = run(site, rules, "PIPE_OCCUPY").sort_values("subject_key")
    assert found.subject_key.tolist() == ["P-1", "P-2"]
    assert found.measured_m.tolist() == pytest.approx([0.0, 3.0], abs=0.01)
    assert found.iloc[0].geometry.geom_type == "Point"  # a zero-length shortest line is drawn as a point


# --------------------------------------------------------------------------- PIPE_SPACING


@pytest.mark.parametrize(("medium", "gap", "required"), [
    ("gas", 4.0, 5.0), ("gas", 10.0, None), ("lpg", 10.0, 30.0), ("lpg", 29.9, 30.0), ("lpg", 30.0, None),
])
def test_spacing_depends_on_the_medium(rules: RuleSet, medium: str, gap: float, required: float | None) -> None:
    site = Site("zone40")
    site.pipe([(0.0, 0.0), (1000.0, 0.0)], medium=medium)
    site.add("protection_targets", box(400.0, gap, 460.0, gap + 40.0), target_type="kindergarten")
    site.add("infrastructure", Point(600.0, -gap), kind="fuel_station")
    found = run(site, rules, "PIPE_SPACING")
    if required is None:  # exactly at the minimum complies
        assert found.empty
        return
    assert sorted(found.object_type) == ["infrastructure", "protection_targets"]
    assert (found.verdict == "violation").all()
    assert found.required_m.tolist() == [required, required]
    assert found.measured_m.tolist() == pytest.approx([gap, gap], abs=0.01)


def test_spacing_ignores_other_types_and_uses_reservoir_distance_for_oil(rules: RuleSet) -> None:
    site = Site()
    site.pipe([(0.0, 0.0), (1000.0, 0.0)], medium="crude", key="OIL")
    site.pipe([(0.0, 5000.0), (1000.0, 5000.0)], medium="gas", key="GAS")
    site.add("protection_targets", Point(100.0, 2.0), target_type="factory")  # not a crowded type
    site.add("infrastructure", box(300.0, 15.0, 500.0, 200.0), kind="reservoir")  # 15 m < 20 m for crude
    site.add("infrastructure", box(300.0, 5015.0, 500.0, 5200.0), kind="reservoir")  # gas: no requirement
    found = run(site, rules, "PIPE_SPACING")
    assert found.subject_key.tolist() == ["OIL"]
    assert found.iloc[0].required_m == 20.0 and found.iloc[0].measured_m == pytest.approx(15.0, abs=0.01)


# --------------------------------------------------------------------------- PIPE_PERMIT_50 / 200


def test_permit_50_band_beyond_five_metres(rules: RuleSet) -> None:
    """30 m: permit. 60 m: nothing. 4 m without crossing: not the Art. 35(2) band (which starts beyond
    5 m) but the Art. 30 five-metre zone, so PIPE_OCCUPY reports it. A crossing road is PIPE_CROSSING only.
    """
    site = Site()
    site.pipe([(0.0, 0.0), (3000.0, 0.0)])
    r30 = site.add("infrastructure", LineString([(100.0, 30.0), (900.0, 30.0)]), kind="road")
    r4 = site.add("infrastructure", LineString([(1000.0, -4.0), (1400.0, -4.0)]), kind="road")
    site.add("infrastructure", LineString([(1500.0, 60.0), (2000.0, 60.0)]), kind="railway")
    cross = site.add("infrastructure", LineString([(2500.0, -300.0), (2500.0, 300.0)]), kind="road")
    site.add("infrastructure", LineString([(2600.0, 20.0), (2700.0, 20.0)]), kind="water_source")  # not listed
    found = run(site, rules)
    permit = found[found.rule_code == "PIPE_PERMIT_50"]
    assert permit.object_key.tolist() == [r30]
    assert permit.iloc[0].verdict == "permit"
    assert permit.iloc[0].measured_m == pytest.approx(30.0, abs=0.01) and permit.iloc[0].required_m == 50.0
    occupy = found[found.rule_code == "PIPE_OCCUPY"]
    assert occupy.object_key.tolist() == [r4]
    assert occupy.iloc[0].measured_m == pytest.approx(4.0, abs=0.01)
    assert found[found.rule_code == "PIPE_CROSSING"].object_key.tolist() == [cross]


def test_permit_50_around_stations(rules: RuleSet) -> None:
    site = Site()
    site.pipe([(0.0, 0.0), (3000.0, 0.0)])
    site.add("infrastructure", Point(1000.0, 0.0), kind="station")
    near = site.add("infrastructure", LineString([(1050.0, 70.0), (1050.0, 400.0)]), kind="other")  # 86 m
    site.add("infrastructure", LineString([(2000.0, 70.0), (2000.0, 400.0)]), kind="other")  # no station
    found = run(site, rules, "PIPE_PERMIT_50")
    assert found.object_key.tolist() == [near]
    f = found.iloc[0]
    assert f.required_m == 100.0 and f.measured_m == pytest.approx(math.hypot(50, 70), abs=0.01)
    assert stake_m(f.detail) == 1000


def test_permit_200_enterprises(rules: RuleSet) -> None:
    site = Site("zone40")
    site.pipe([(0.0, 0.0), (5000.0, 0.0)], start=500.0)
    site.add("infrastructure", Point(4000.0, 30.0), kind="station")  # 30 m off the line: still its station
    mine = site.add("enterprises", Point(1000.0, 150.0), industry="mining")
    edge = site.add("enterprises", Point(1500.0, -200.0), industry="fireworks")  # exactly 200 m: inclusive
    site.add("enterprises", Point(2000.0, 250.0), industry="mining")
    site.add("enterprises", Point(2500.0, 100.0), industry="refinery")  # not a listed industry
    by_station = site.add("enterprises", Point(4000.0, 480.0), industry="mining")  # 450 m from the station
    found = run(site, rules, "PIPE_PERMIT_200").set_index("object_key")
    assert sorted(found.index) == sorted([mine, edge, by_station])
    assert (found.verdict == "permit").all()
    assert found.loc[mine, "measured_m"] == pytest.approx(150.0, abs=0.01)
    assert found.loc[edge, "measured_m"] == pytest.approx(200.0, abs=0.01)
    assert found.loc[by_station, "required_m"] == 500.0
    assert found.loc[by_station, "measured_m"] == pytest.approx(450.0, abs=0.01)
    assert stake_m(found.loc[mine, "detail"]) == 1500


# --------------------------------------------------------------------------- PIPE_CROSSING


def _road_through(x: float, y: float, angle_deg: float, half: float = 300.0) -> LineString:
    a = math.radians(angle_deg)
    dx, dy = half * math.cos(a), half * math.sin(a)
    return LineString([(x - dx, y - dy), (x + dx, y + dy)])


@pytest.mark.parametrize("zone", sorted(ZONES))
@pytest.mark.parametrize(("angle", "verdict"), [(20.0, "violation"), (90.0, "inventory"), (150.0, "inventory")])
def test_crossing_angle_and_mileage(rules: RuleSet, zone: str, angle: float, verdict: str) -> None:
    site = Site(zone)
    site.pipe([(0.0, 0.0), (400.0, 0.0), (400.0, 100.0), (3000.0, 100.0)], start=1000.0)  # a dog-leg
    site.add("infrastructure", _road_through(1700.0, 100.0, angle), kind="road")
    found = run(site, rules, "PIPE_CROSSING")
    assert len(found) == 1
    f = found.iloc[0]
    expected_angle = min(angle % 180.0, 180.0 - angle % 180.0)
    assert angle_of(f.detail) == pytest.approx(expected_angle, abs=0.5)
    assert abs(stake_m(f.detail) - (1000.0 + 400.0 + 100.0 + 1300.0)) <= 1.0
    assert f.verdict == verdict
    assert pd.isna(f.measured_m) and pd.isna(f.required_m)
    assert f.geometry.geom_type == "Point"
    assert f.object_type == "infrastructure"


def test_crossing_with_a_river_polygon(rules: RuleSet) -> None:
    site = Site()
    site.pipe([(0.0, 0.0), (2000.0, 0.0)])
    # a 40 m wide river strip crossing the line at 60°, centred on x = 1000
    strip = translate(rotate(box(-500.0, -20.0, 500.0, 20.0), 60.0, origin=(0.0, 0.0)), 1000.0, 0.0)
    site.add("infrastructure", strip, kind="river")
    found = run(site, rules, "PIPE_CROSSING")
    assert len(found) == 1
    f = found.iloc[0]
    assert angle_of(f.detail) == pytest.approx(60.0, abs=0.5)
    assert abs(stake_m(f.detail) - 1000.0) <= 1.0
    assert "穿越段" in f.detail and f.verdict == "inventory"


def test_crossing_of_two_pipelines_once_and_no_tie_ins(rules: RuleSet) -> None:
    site = Site()
    site.pipe((((0.0, 0.0), (1500.0, 0.0)), ((1500.0, 0.0), (3000.0, 0.0))), key="A")  # two parts
    # B crosses A at 45° exactly where A's parts join: a crossing, not a tie-in
    site.pipe([(1000.0, -500.0), (2000.0, 500.0)], key="B", medium="crude")
    site.pipe([(2500.0, 0.0), (2600.0, 800.0)], key="C")  # a branch starting on A: a tie-in
    found = run(site, rules, "PIPE_CROSSING")
    assert len(found) == 1
    f = found.iloc[0]
    assert (f.subject_key, f.object_key, f.object_type) == ("A", "B", "pipelines")
    assert angle_of(f.detail) == pytest.approx(45.0, abs=0.5)
    assert abs(stake_m(f.detail) - 1500.0) <= 1.0
    assert "对方管道里程 K0+707" in f.detail  # sqrt(500² + 500²) along B


def test_repeated_crossings_keep_distinct_identities_and_their_own_district(rules: RuleSet) -> None:
    site = Site()
    site.add("districts", box(-100.0, -1000.0, 1000.0, 1000.0), key="530102", adcode="530102")
    site.add("districts", box(1000.0, -1000.0, 3100.0, 1000.0), key="530103", adcode="530103")
    site.pipe([(0.0, 0.0), (3000.0, 0.0)], start=100.0)
    # a road stored with 530102 that crosses the line at x = 2400 and again at x = 600, both at 90°
    road = site.add("infrastructure", LineString([(2400.0, -200.0), (2400.0, 200.0), (600.0, 200.0),
                                                  (600.0, -200.0)]), kind="road", adcode="530102")
    found = run(site, rules, "PIPE_CROSSING")
    assert found.object_key.tolist() == [road, f"{road}#2"]  # numbered by mileage
    assert [stake_m(d) for d in found.detail] == [700, 2500]
    assert found.adcode.tolist() == ["530102", "530103"]
    assert [angle_of(d) for d in found.detail] == pytest.approx([90.0, 90.0], abs=0.5)


def test_road_laid_on_the_pipeline_is_an_encroachment_not_a_crossing(rules: RuleSet) -> None:
    site = Site()
    site.pipe([(0.0, 0.0), (1000.0, 0.0), (3000.0, 0.0)])
    # a road on the centreline from x = 500 to x = 1500 (shared vertex at 1000), then away at 45°
    road = site.add("infrastructure", LineString([(500.0, 0.0), (1000.0, 0.0), (1500.0, 0.0), (1800.0, 300.0)]),
                    kind="road")
    found = run(site, rules)
    assert not (found.rule_code == "PIPE_CROSSING").any()  # an overlap is not a 0° crossing
    occupy = found[found.rule_code == "PIPE_OCCUPY"]
    assert occupy.object_key.tolist() == [road] and occupy.measured_m.iloc[0] == 0.0
    assert "压占管道中心线" in occupy.detail.iloc[0]


def test_parallel_pipelines_are_recorded_and_a_local_spacing_makes_them_violations(rules: RuleSet) -> None:
    from geo.rule_admin import apply_overrides

    site = Site()
    site.pipe([(0.0, 0.0), (3000.0, 0.0)], key="A")
    site.pipe([(0.0, 6.0), (2000.0, 6.0), (2500.0, 40.0)], key="B")  # 6 m apart for 2 km, then away
    site.pipe([(0.0, 60.0), (3000.0, 60.0)], key="C")  # 54 m from B: not laid with it
    found = run(site, rules)
    laid = found[found.rule_code == "PIPE_PARALLEL"]
    assert laid[["subject_key", "object_key", "verdict"]].values.tolist() == [["A", "B", "inventory"]]
    assert laid.measured_m.iloc[0] == pytest.approx(6.0, abs=0.01) and pd.isna(laid.required_m.iloc[0])
    assert not (found.rule_code == "PIPE_CROSSING").any()
    local = apply_overrides(rules, [{"rule_code": "PIPE_PARALLEL", "path": "params.required_m", "value": 8.0}])
    strict = run(site, local, "PIPE_PARALLEL")
    assert strict.verdict.tolist() == ["violation"] and strict.required_m.tolist() == [8.0]
    exact = apply_overrides(rules, [{"rule_code": "PIPE_PARALLEL", "path": "params.required_m", "value": 6.0}])
    assert run(site, exact, "PIPE_PARALLEL").verdict.tolist() == ["inventory"]  # exactly at it complies


# --------------------------------------------------------------------------- multi-part lines


def test_multipart_pipeline_accumulates_mileage(rules: RuleSet) -> None:
    site = Site("zone40")
    parts = (((0.0, 0.0), (1000.0, 0.0)), ((1000.0, 0.0), (1000.0, 2000.0)))
    site.pipe(parts, start=200.0)
    site.add("buildings", box(1003.0, 700.0, 1010.0, 710.0), use="residential")  # 3 m, on part 2
    site.add("infrastructure", _road_through(1000.0, 1500.0, 35.0), kind="railway")
    found = run(site, rules)
    occupy = found[found.rule_code == "PIPE_OCCUPY"].iloc[0]
    assert occupy.measured_m == pytest.approx(3.0, abs=0.01)
    assert 200 + 1000 + 700 <= stake_m(occupy.detail) <= 200 + 1000 + 710
    crossing = found[found.rule_code == "PIPE_CROSSING"].iloc[0]
    assert abs(stake_m(crossing.detail) - (200 + 1000 + 1500)) <= 1
    assert angle_of(crossing.detail) == pytest.approx(55.0, abs=0.5)


def test_no_pipelines_or_empty_layers(rules: RuleSet) -> None:
    empty = check_pipelines(Bundle({}), rules)
    assert empty.empty and list(empty.columns) == [*COLUMNS, "geometry"]
    site = Site()
    site.pipe([(0.0, 0.0), (100.0, 0.0)])
    assert run(site, rules).empty


# --------------------------------------------------------------------------- demo database


@pytest.mark.postgis
def test_demo_database_has_findings_of_every_rule(demo_db: str, rules: RuleSet) -> None:
    engine = store.make_engine(demo_db)
    try:
        found = check_pipelines(bundle_from_store(engine), rules)
    finally:
        engine.dispose()
    counts = found.rule_code.value_counts().to_dict()
    assert {code: counts.get(code, 0) for code in PIPE_CODES if counts.get(code, 0) == 0} == {}
    assert found.clause.map(bool).all() and found.rule_code.isin(PIPE_CODES).all()
    assert found.clause.tolist() == [rules[c].clause for c in found.rule_code]
    assert found.verdict.isin(VERDICTS).all() and found.subject_key.map(bool).all()
    assert found.adcode.notna().all()  # the findings register needs a district for every row
    identity = ["rule_code", "subject_type", "subject_key", "object_type", "object_key"]
    assert not found.duplicated(identity).any()
    distances = found[found.rule_code != "PIPE_CROSSING"]
    assert distances.measured_m.notna().all() and distances.required_m.notna().all()
    assert (distances.measured_m <= distances.required_m).all()
    spacing = distances[distances.rule_code == "PIPE_SPACING"]
    assert (spacing.measured_m < spacing.required_m).all()  # exclusive minimum
    occupy = distances[distances.rule_code == "PIPE_OCCUPY"]
    assert (occupy.measured_m <= rules["PIPE_OCCUPY"].threshold_m).all()
    crossings = found[found.rule_code == "PIPE_CROSSING"]
    assert crossings.measured_m.isna().all() and (crossings.geometry.geom_type == "Point").all()
    assert all(0.0 <= angle_of(d) <= 90.0 for d in crossings.detail)
    assert found.detail.map(lambda d: bool(STAKE.search(d))).all()
