"""Tests of geo.checks.hca: GB 50251 location classes and GB 32167 high-consequence areas."""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box

from geo.checks.bundle import Bundle
from geo.checks.hca import check_hcas, identify_hcas, location_classes
from geo.checks.ruleset import RuleSet
from tests.catalogue import X0, Y0
from tests.catalogue import layer as _gdf

ZONES = (4543, 4546)  # CGCS2000 GK CM 102°E and 111°E


def _diamond(s: float, off: float, half: float = 5.0) -> Polygon:
    """Footprint whose nearest point to the line y=Y0 is the vertex (X0+s, Y0+off)."""
    x, y = X0 + s, Y0 + off
    return Polygon([(x, y), (x + half, y + half), (x, y + 2 * half), (x - half, y + half)])


def _house(key: str, s: float, hh: int, off: float = 50.0, floors: int = 2) -> dict[str, Any]:
    return {"key": key, "name": f"住宅{key}", "use": "residential", "households": hh, "floors": floors,
            "adcode": "530181", "geometry": _diamond(s, off)}


def _pipe(key: str = "P1", medium: str = "gas", d: float = 1016.0, p: float = 10.0,
          length: float = 10000.0, start: float = 0.0) -> dict[str, Any]:
    return {"key": key, "code": key, "name": f"测试管道{key}", "medium": medium, "outside_diameter_mm": d,
            "maop_mpa": p, "start_mileage_m": start, "length_m": length, "adcodes": ["530181"],
            "geometry": MultiLineString([LineString([(X0, Y0), (X0 + length, Y0)])])}


def _bundle(epsg: int = 4543, *, pipes: list[dict[str, Any]] | None = None,
            buildings: list[dict[str, Any]] | None = None, targets: list[dict[str, Any]] | None = None,
            infra: list[dict[str, Any]] | None = None, hcas: list[dict[str, Any]] | None = None) -> Bundle:
    frames = {
        "districts": _gdf([{"key": "530181", "adcode": "530181", "name": "测试区",
                            "geometry": box(X0 - 5000, Y0 - 5000, X0 + 15000, Y0 + 5000)}], epsg),
        "pipelines": _gdf(pipes if pipes is not None else [_pipe()], epsg),
    }
    if buildings:
        frames["buildings"] = _gdf(buildings, epsg)
    if targets:
        frames["protection_targets"] = _gdf(targets, epsg)
    if infra:
        frames["infrastructure"] = _gdf(infra, epsg)
    if hcas:
        frames["hcas"] = _gdf(hcas, epsg)
    b = Bundle(frames)
    assert b.metric_epsg == epsg
    return b


def _runs(lc: pd.DataFrame) -> list[tuple[float, float, str]]:
    return [(float(r.from_m), float(r.to_m), str(r.loc_class)) for r in lc.itertuples()]


def _assert_runs(got: list[tuple[float, float, str]], want: list[tuple[float, float, str]], tol: float) -> None:
    assert [g[2] for g in got] == [w[2] for w in want], got
    for g, w in zip(got, want, strict=True):
        assert abs(g[0] - w[0]) <= tol and abs(g[1] - w[1]) <= tol, (g, w)


# ---------------------------------------------------------------------------
# location classes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("epsg", ZONES)
def test_location_classes_by_household_count(rules: RuleSet, epsg: int) -> None:
    # windows see exactly 10 (s=1 km), 50 (s=5 km), 120 (s=9.5 km) households, 0 elsewhere
    blds = [_house("A", 1000, 10), *[_house(f"B{i}", 5000, 10) for i in range(5)],
            _house("C1", 9500, 60), _house("C2", 9500, 60, off=-80)]
    lc = location_classes(_bundle(epsg, buildings=blds), rules)
    step = rules["LOC_CLASS"].params["step_m"]
    _assert_runs(_runs(lc), [(0, 3000, "1-2"), (3000, 7000, "2"), (7000, 7500, "1-1"), (7500, 10000, "3")], step)
    assert lc["households"].tolist() == [10, 50, 0, 120]
    assert set(lc["pipeline_key"]) == {"P1"}
    assert lc.crs.to_epsg() == 4490
    lengths = lc.to_crs(epsg).geometry.length
    assert (abs(lengths - (lc["to_m"] - lc["from_m"])) < 1.0).all()


def test_location_classes_outside_corridor_and_start_mileage(rules: RuleSet) -> None:
    corridor = rules["LOC_CLASS"].params["corridor_m"]
    blds = [_house("far", 5000, 500, off=corridor + 5), _house("in", 5000, 3, off=corridor - 5)]
    lc = location_classes(_bundle(pipes=[_pipe(start=1200.0)], buildings=blds), rules)
    assert lc["loc_class"].tolist() == ["1-1", "1-2", "1-1"]
    assert lc["from_m"].iloc[0] == 1200.0 and lc["to_m"].iloc[-1] == pytest.approx(11200.0)
    assert lc["from_m"].iloc[1] == pytest.approx(1200.0 + 3000.0)


def test_class_4_needs_high_rise_share(rules: RuleSet) -> None:
    p = rules["LOC_CLASS"].params
    hi = int(p["class_4_min_floors"])
    towers = [_house("T1", 5000, 70, floors=hi), _house("T2", 5000, 50, off=-60, floors=hi - 1)]
    low = [_house("L1", 5000, 50, floors=hi), _house("L2", 5000, 70, off=-60, floors=hi - 1)]
    assert "4" in set(location_classes(_bundle(buildings=towers), rules)["loc_class"])
    classes = set(location_classes(_bundle(buildings=low), rules)["loc_class"])
    assert "4" not in classes and "3" in classes


def test_class_boundary_extends_beyond_last_building(rules: RuleSet) -> None:
    # two clusters of 60 households 1.9 km apart: only windows holding both reach class 3,
    # whose union [3900, 6000] ends 100 m after the last building; 4.2.2-2 pushes it to >= 200 m.
    ext = rules["LOC_CLASS"].params["extend_m"]
    step = rules["LOC_CLASS"].params["step_m"]
    blds = [_house("A", 4000, 60), _house("B", 5900, 60)]
    lc = location_classes(_bundle(buildings=blds), rules)
    three = lc[lc["loc_class"] == "3"]
    assert len(three) == 1
    lo, hi = float(three["from_m"].iloc[0]), float(three["to_m"].iloc[0])
    assert 4000 - ext - step <= lo <= 4000 - ext
    assert 5900 + ext <= hi <= 5900 + ext + step
    _assert_runs(_runs(lc), [(0, 2000, "1-1"), (2000, 3800, "2"), (3800, 6100, "3"), (6100, 7900, "2"),
                             (7900, 10000, "1-1")], step)


def test_school_lifts_class_2_to_3(rules: RuleSet) -> None:
    ext = rules["LOC_CLASS"].params["extend_m"]
    step = rules["LOC_CLASS"].params["step_m"]
    corridor = rules["LOC_CLASS"].params["corridor_m"]
    blds = [_house(f"B{i}", 5000, 10) for i in range(5)]
    school = {"key": "PT1", "name": "测试小学", "target_type": "school", "adcode": "530181",
              "geometry": Point(X0 + 4000, Y0 + 100)}
    far_school = {"key": "PT2", "name": "远处小学", "target_type": "school", "adcode": "530181",
                  "geometry": Point(X0 + 6000, Y0 + corridor + 10)}
    lc = location_classes(_bundle(buildings=blds, targets=[school, far_school]), rules)
    _assert_runs(_runs(lc), [(0, 3000, "1-1"), (3000, 4000 - ext, "2"), (4000 - ext, 4000 + ext, "3"),
                             (4000 + ext, 7000, "2"), (7000, 10000, "1-1")], step)


# ---------------------------------------------------------------------------
# HCA identification
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(("d", "p", "r"), [(1016.0, 10.0, 318.0), (711.0, 6.3, 177.0)])
def test_potential_impact_radius(rules: RuleSet, d: float, p: float, r: float) -> None:
    school = {"key": "PT1", "name": "测试小学", "target_type": "school", "adcode": "530181",
              "geometry": Point(X0 + 5000, Y0 + 20)}
    hcas = identify_hcas(_bundle(pipes=[_pipe(d=d, p=p)], targets=[school]), rules)
    assert len(hcas) == 1
    assert hcas["potential_impact_radius_m"].iloc[0] == pytest.approx(r, abs=1.0)


@pytest.mark.parametrize("epsg", ZONES)
@pytest.mark.parametrize(("delta", "found"), [(-5.0, True), (5.0, False)])
def test_special_site_inside_impact_radius(rules: RuleSet, epsg: int, delta: float, found: bool) -> None:
    p = rules["HCA_GAS"].params
    r = p["radius_coeff"] * 1016.0 * 10.0 ** 0.5
    school = {"key": "PT1", "name": "测试小学", "target_type": "school", "adcode": "530181",
              "geometry": Point(X0 + 5000, Y0 + r + delta)}
    hcas = identify_hcas(_bundle(epsg, targets=[school]), rules)
    assert len(hcas) == int(found)
    if found:
        row = hcas.iloc[0]
        assert row["criterion"] == "c" and row["grade"] == p["grades"]["c"]
        assert row["trigger_keys"] == "PT1" and row["adcode"] == "530181"
        assert row["start_m"] == pytest.approx(5000 - r, abs=0.5)
        assert row["end_m"] == pytest.approx(5000 + r, abs=0.5)
        assert row["nearest_trigger_m"] == pytest.approx(r + delta, abs=0.05)
        assert hcas.geometry.iloc[0].geom_type == "MultiLineString"
        corridor = gpd.GeoSeries(hcas["corridor"], crs=4490).to_crs(epsg).iloc[0]
        assert corridor.geom_type == "MultiPolygon"
        assert corridor.contains(Point(X0 + 5000, Y0 + p["corridor_m"] - 1))
        assert "特定场所" in row["reason"]


def test_small_and_other_gas_lines_use_rows_d_and_e(rules: RuleSet) -> None:
    p = rules["HCA_GAS"].params
    kinder = {"key": "PT1", "name": "幼儿园", "target_type": "kindergarten", "adcode": "530181",
              "geometry": Point(X0 + 5000, Y0 + 20)}
    small = identify_hcas(_bundle(pipes=[_pipe(d=219.0, p=1.5)], targets=[kinder]), rules)
    assert small["criterion"].tolist() == ["d"] and small["grade"].tolist() == [p["grades"]["d"]]
    mid = identify_hcas(_bundle(pipes=[_pipe(d=508.0, p=4.0)], targets=[kinder]), rules)
    assert mid["criterion"].tolist() == ["e"]
    assert mid["end_m"].iloc[0] - mid["start_m"].iloc[0] == pytest.approx(2 * p["other_m"], abs=0.5)


def test_fuel_station_row_f_only_outside_class_3(rules: RuleSet) -> None:
    fuel = {"key": "F1", "name": "加油站", "kind": "fuel_station", "subkind": "加油站", "adcode": "530181",
            "geometry": Point(X0 + 2000, Y0 + 60)}
    hcas = identify_hcas(_bundle(infra=[fuel]), rules)
    assert hcas["criterion"].tolist() == ["f"]
    assert hcas["grade"].tolist() == [rules["HCA_GAS"].params["grades"]["f"]]
    blds = [_house("C1", 2000, 60), _house("C2", 2000, 60, off=-80)]
    hcas = identify_hcas(_bundle(infra=[fuel], buildings=blds), rules)
    assert hcas["criterion"].tolist() == ["b"]


def _water(key: str, gap: float, s: float = 5000.0) -> dict[str, Any]:
    return {"key": key, "name": f"水源{key}", "kind": "water_source", "subkind": "饮用水水源一级保护区",
            "adcode": "530181", "geometry": box(X0 + s - 300, Y0 + gap, X0 + s + 300, Y0 + gap + 400)}


def test_oil_water_source_row_f(rules: RuleSet) -> None:
    corridor = rules["HCA_OIL"].params["corridor_m"]
    pipes = [_pipe(medium="crude", d=813.0, p=10.0)]
    hcas = identify_hcas(_bundle(pipes=pipes, infra=[_water("W1", 150.0), _water("W2", 250.0, s=8000)]), rules)
    assert len(hcas) == 1
    row = hcas.iloc[0]
    assert row["grade"] == 3 and row["criterion"] == "f" and row["trigger_keys"] == "W1"
    assert row["start_m"] == pytest.approx(4700 - corridor, abs=1) and row["end_m"] == pytest.approx(5300 + corridor,
                                                                                                      abs=1)
    assert pd.isna(row["potential_impact_radius_m"])
    found = check_hcas(_bundle(pipes=pipes, infra=[_water("W1", 150.0)]), rules, as_of=dt.date(2026, 11, 1))
    hca = found[found["rule_code"] == "HCA_OIL"]
    assert len(hca) == 1 and hca["verdict"].iloc[0] == "hca"
    assert hca["measured_m"].iloc[0] == pytest.approx(150.0) and hca["required_m"].iloc[0] == corridor
    assert hca["object_key"].iloc[0] == "W1" and hca["subject_key"].iloc[0] == "P1"
    assert "Ⅲ级" in hca["detail"].iloc[0] and "K4+500" in hca["detail"].iloc[0]
    # nothing declared: the identified segment is undeclared
    assert (found["rule_code"] == "HCA_UNDECLARED").sum() == 1


def test_overlapping_criteria_merge_with_max_grade(rules: RuleSet) -> None:
    g = rules["HCA_OIL"].params["grades"]
    road = {"key": "R1", "name": "国道", "kind": "road", "subkind": "国道", "adcode": "530181",
            "geometry": LineString([(X0 + 5400, Y0 - 3000), (X0 + 5400, Y0 + 3000)])}
    minor = {"key": "R2", "name": "乡道", "kind": "road", "subkind": "其他公路", "adcode": "530181",
             "geometry": LineString([(X0 + 8000, Y0 - 3000), (X0 + 8000, Y0 + 3000)])}
    pipes = [_pipe(medium="products", d=508.0, p=8.0)]
    hcas = identify_hcas(_bundle(pipes=pipes, infra=[_water("W1", 150.0), road, minor]), rules)
    assert len(hcas) == 1
    row = hcas.iloc[0]
    assert row["criterion"] == "d,f" and row["grade"] == max(g["d"], g["f"])
    assert row["trigger_keys"] == "R1,W1"  # nearest first
    assert row["nearest_trigger_m"] == 0.0
    assert row["start_m"] == pytest.approx(4500, abs=1) and row["end_m"] == pytest.approx(5500, abs=1)
    assert "；" in row["reason"]


# ---------------------------------------------------------------------------
# findings: undeclared, review
# ---------------------------------------------------------------------------

def _declared(key: str, grade: int, a: float, b: float, on: dt.date | None) -> dict[str, Any]:
    return {"key": key, "pipeline_key": "P1", "grade": grade, "start_m": a, "end_m": b, "criterion": "f",
            "reason": "水源", "identified_on": on, "adcode": "530181",
            "geometry": MultiLineString([LineString([(X0 + a, Y0), (X0 + b, Y0)])])}


@pytest.mark.parametrize(("grade", "a", "b", "undeclared"),
                         [(3, 4500, 5500, False), (2, 4500, 5500, True), (3, 4500, 4995, True),
                          (3, 4500, 5005, False), (3, 0, 1000, True)])
def test_undeclared(rules: RuleSet, grade: int, a: float, b: float, undeclared: bool) -> None:
    # identified: [4500, 5500] grade Ⅲ; covered share must be >= 50 %
    pipes = [_pipe(medium="crude", d=813.0, p=10.0)]
    hca = [_declared("H1", grade, a, b, dt.date(2026, 6, 1))]
    found = check_hcas(_bundle(pipes=pipes, infra=[_water("W1", 150.0)], hcas=hca), rules,
                       as_of=dt.date(2026, 11, 1))
    und = found[found["rule_code"] == "HCA_UNDECLARED"]
    assert len(und) == int(undeclared)
    if undeclared:
        assert und["verdict"].iloc[0] == "violation"
        assert und["required_m"].iloc[0] == pytest.approx(500.0, abs=1)


@pytest.mark.parametrize(("on", "as_of", "overdue"),
                         [(dt.date(2025, 5, 1), dt.date(2026, 11, 1), False),
                          (dt.date(2025, 5, 1), dt.date(2026, 11, 2), True),
                          (dt.date(2024, 8, 31), dt.date(2026, 2, 28), False),
                          (dt.date(2024, 8, 31), dt.date(2026, 3, 1), True),
                          (None, dt.date(2026, 11, 1), True)])
def test_review_after_18_months(rules: RuleSet, on: dt.date | None, as_of: dt.date, overdue: bool) -> None:
    assert rules["HCA_REVIEW"].params["max_months"] == 18
    found = check_hcas(_bundle(hcas=[_declared("H1", 1, 100, 600, on)]), rules, as_of=as_of)
    rev = found[found["rule_code"] == "HCA_REVIEW"]
    assert len(rev) == int(overdue)
    if overdue:
        assert rev["verdict"].iloc[0] == "overdue" and rev["object_key"].iloc[0] == "H1"
        assert rev["subject_key"].iloc[0] == "P1" and rev["adcode"].iloc[0] == "530181"


def test_loc_class_inventory_findings(rules: RuleSet) -> None:
    blds = [_house("C1", 5000, 60), _house("C2", 5000, 60, off=-80)]
    found = check_hcas(_bundle(buildings=blds), rules, as_of=dt.date(2026, 11, 1))
    loc = found[found["rule_code"] == "LOC_CLASS"]
    assert len(loc) == 1 and loc["verdict"].iloc[0] == "inventory"
    assert loc["object_key"].iloc[0] == "C1" and loc["measured_m"].iloc[0] == pytest.approx(50.0)
    assert "三级地区" in loc["detail"].iloc[0]
    assert set(found["rule_code"]) == {"LOC_CLASS", "HCA_GAS", "HCA_UNDECLARED"}


def test_empty_bundle(rules: RuleSet) -> None:
    b = Bundle({})
    assert len(location_classes(b, rules)) == 0
    assert len(identify_hcas(b, rules)) == 0
    assert len(check_hcas(b, rules, as_of=dt.date(2026, 11, 1))) == 0


# ---------------------------------------------------------------------------
# demo database
# ---------------------------------------------------------------------------

@pytest.mark.postgis
def test_demo_database(demo_bundle: Bundle, rules: RuleSet) -> None:
    from geo.demo import DEMO_AS_OF

    b = demo_bundle
    lc = location_classes(b, rules)
    assert set(lc["pipeline_key"]) == set(b["pipelines"]["key"])
    assert (lc[lc["loc_class"] == "3"]["pipeline_key"].nunique()) >= 2
    assert "4" in set(lc[lc["pipeline_key"] == "GAS-01"]["loc_class"])
    hcas = identify_hcas(b, rules)
    assert {"gas", "crude", "products"} <= set(hcas["medium"])
    assert hcas["grade"].between(1, 3).all() and hcas["adcode"].notna().all()
    assert (hcas["end_m"] > hcas["start_m"]).all()
    # the declared school (row c) and water-source (row f) HCAs are found again
    assert ((hcas["pipeline_key"] == "GAS-01") & hcas["criterion"].str.contains("c")).any()
    assert ((hcas["pipeline_key"] == "OIL-01") & hcas["criterion"].str.contains("f") & (hcas["grade"] == 3)).any()
    found = check_hcas(b, rules, as_of=DEMO_AS_OF)
    counts = found.groupby("rule_code").size()
    assert counts.get("HCA_UNDECLARED", 0) >= 1
    assert counts.get("HCA_REVIEW", 0) >= 1
    assert counts.get("LOC_CLASS", 0) >= 3
    assert found[found["rule_code"] == "HCA_REVIEW"]["object_key"].tolist() == ["HCA-GAS-01-02"]
    assert found["adcode"].notna().all()
