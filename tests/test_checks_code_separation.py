"""Tests of the code-separation family (CODE_50160, CODE_50016_*, ESD_BELOW_CODE) and the installations layer.

Geometries are built in metres in a Gauss-Krüger zone (CM 102°E, Kunming; CM 120°E, east China) and
stored in EPSG:4490 like the store does; every distance below is computed by hand from them.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point, box
from sqlalchemy import text

from geo import store
from geo.checks.bundle import Bundle
from geo.checks.code_separation import check_code_separations, part_requirements
from geo.checks.findings import COLUMNS
from geo.checks.ruleset import RuleSet
from geo.checks.runner import FAMILIES, run_checks
from geo.checks.site import ADVISE_AGAINST, NO_OBJECTION, precheck_site
from geo.checks.sources import bundle_from_file, bundle_from_store, bundle_to_file
from geo.errors import ImportValidationError
from geo.importer import import_frame
from geo.rule_admin import apply_overrides
from geo.store import Scope, scoped
from tests.catalogue import ANNING, ENT_A, ENT_B, ZONES, bundle, layer, metric
from tests.catalogue import ANNING_X as AX
from tests.catalogue import ANNING_Y as AY
from tests.catalogue import KUNMING_GK as EPSG
from tests.catalogue import X0 as X
from tests.catalogue import Y0 as Y
from tests.catalogue import stored as _to_site
from tests.clients import app_engine_of


def part(key: str, geom: Any, part_type: str = "lpg_tank_group", *, owner: str = ENT_A, fire_class: str | None = "甲",
         goods_items: str | None = None, stock_t: float | None = None) -> dict[str, Any]:
    return {"key": key, "code": key, "name": f"装置{key}", "enterprise_credit_code": owner, "adcode": ANNING,
            "part_type": part_type, "fire_class": fire_class, "goods_items": goods_items, "stock_t": stock_t,
            "geometry": geom}


def target(key: str, geom: Any, ttype: str = "school") -> dict[str, Any]:
    return {"key": key, "code": key, "name": f"目标{key}", "adcode": "530102", "target_type": ttype,
            "gb36894_class": "important", "geometry": geom}


def building(key: str, geom: Any, use: str = "residential", floors: int = 2) -> dict[str, Any]:
    return {"key": key, "name": f"建筑{key}", "adcode": ANNING, "use": use, "households": 1, "floors": floors,
            "geometry": geom}


def infra(key: str, geom: Any, kind: str, subkind: str | None = None) -> dict[str, Any]:
    return {"key": key, "name": f"设施{key}", "adcode": ANNING, "kind": kind, "subkind": subkind, "geometry": geom}


def enterprise(key: str, x: float, y: float, ext: float | None) -> dict[str, Any]:
    return {"key": key, "credit_code": key, "name": f"企业{key[-4:]}", "adcode": ANNING, "industry": "hazchem_storage",
            "risk_level": "major", "external_distance_m": ext, "installation_status": "in_service",
            "geometry": Point(x, y)}


def of(found: gpd.GeoDataFrame, code: str) -> gpd.GeoDataFrame:
    return found[found["rule_code"] == code].reset_index(drop=True)


def tank(x: float, y: float) -> Any:
    """A 50 m × 40 m tank group whose east wall is at ``x``."""
    return box(x - 50.0, y - 20.0, x, y + 20.0)


# ---------------------------------------------------------------------------
# CODE_50160: thresholds, reductions, measuring points
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(("epsg", "x", "y"), ZONES)
def test_lpg_tank_group_and_school_wall_is_exclusive_at_150(rules: RuleSet, epsg: int, x: float, y: float) -> None:
    school_near = box(x + 149.0, y - 30.0, x + 209.0, y + 30.0)  # west wall 149 m from the tank shell
    school_at = box(x - 50.0 - 30.0, y + 20.0 + 150.0, x - 20.0, y + 230.0)  # south wall exactly 150 m away
    b = bundle(epsg, installations=[part("T1", tank(x, y))],
               protection_targets=[target("near", school_near), target("at", school_at)])
    found = check_code_separations(b, rules)
    assert list(found.columns) == [*COLUMNS, "geometry"] and found.crs.to_epsg() == 4490
    rows = of(found, "CODE_50160")
    assert rows["object_key"].tolist() == ["near"]
    row = rows.iloc[0]
    assert row["measured_m"] == pytest.approx(149.0, abs=0.01)
    assert row["required_m"] == 150.0
    assert (row["subject_type"], row["subject_key"], row["object_type"]) == ("installations", "T1",
                                                                               "protection_targets")
    assert row["verdict"] == "violation" and row["adcode"] == "530102"
    assert row["clause"] == rules["CODE_50160"].clause and "4.1.9" in row["clause"]
    assert "液化烃罐组" in row["detail"] and "居民区、公共福利设施、村庄" in row["detail"] and " / " in row["detail"]
    line = metric(row.geometry, epsg)
    assert line.geom_type == "LineString" and line.length == pytest.approx(149.0, abs=0.01)


def test_class_c_process_unit_gets_the_25_percent_reduction(rules: RuleSet) -> None:
    # required: 甲 process unit (column D) 100 m; 丙 one 100 × 0.75 = 75 m
    unit = box(X - 40.0, Y - 20.0, X, Y + 20.0)
    village = Point(X + 74.9, Y)
    b = bundle(installations=[part("U-bing", unit, "process_unit", fire_class="丙")],
               protection_targets=[target("v", village, "residential")])
    rows = of(check_code_separations(b, rules), "CODE_50160")
    assert rows["required_m"].tolist() == [75.0]
    assert rows.iloc[0]["measured_m"] == pytest.approx(74.9, abs=0.01)
    assert "丙类" in rows.iloc[0]["detail"]
    b = bundle(installations=[part("U-bing", unit, "process_unit", fire_class="丙")],
               protection_targets=[target("v", Point(X + 75.0, Y), "residential")])
    assert of(check_code_separations(b, rules), "CODE_50160").empty
    b = bundle(installations=[part("U-jia", unit, "process_unit", fire_class="甲")],
               protection_targets=[target("v", Point(X + 75.0, Y), "residential")])
    assert of(check_code_separations(b, rules), "CODE_50160")["required_m"].tolist() == [100.0]


def test_edge_to_edge_not_centroid_to_centroid(rules: RuleSet) -> None:
    big = box(X - 400.0, Y - 200.0, X, Y + 200.0)  # centroid 200 m west of its east wall
    hamlet = box(X + 90.0, Y - 300.0, X + 490.0, Y + 300.0)  # west wall 90 m east; centroid 290 m east
    assert big.centroid.distance(hamlet.centroid) == pytest.approx(490.0)
    b = bundle(installations=[part("BIG", big, "flammable_liquid_tank_group")],
               protection_targets=[target("h", hamlet, "residential")])
    rows = of(check_code_separations(b, rules), "CODE_50160")
    assert rows["object_key"].tolist() == ["h"]
    assert rows.iloc[0]["measured_m"] == pytest.approx(90.0, abs=0.01)
    assert rows.iloc[0]["required_m"] == 100.0  # column B


def test_road_edge_versus_railway_centreline(rules: RuleSet) -> None:
    t = tank(X, Y)
    # An expressway stored as a centreline 40 m east: edge ≈ 40 − 13 = 27 m < 35 m.
    road = LineString([(X + 40.0, Y - 500.0), (X + 40.0, Y + 500.0)])
    # A national railway centreline 54 m west of the west shell (at X − 50): 54 < 55 m.
    rail = LineString([(X - 104.0, Y - 500.0), (X - 104.0, Y + 500.0)])
    # The same railway class 56 m north: complies.
    rail_ok = LineString([(X - 500.0, Y + 76.0), (X + 500.0, Y + 76.0)])
    # A road drawn as its surface polygon 30 m south is its own edge: 30 < 35 m.
    surface = box(X - 500.0, Y - 20.0 - 30.0 - 26.0, X + 500.0, Y - 20.0 - 30.0)
    b = bundle(installations=[part("T1", t)],
               infrastructure=[infra("road", road, "road", "高速公路"), infra("rail", rail, "railway", "国家铁路"),
                               infra("rail-ok", rail_ok, "railway", "国家铁路"),
                               infra("surface", surface, "road", "一级公路")])
    rows = of(check_code_separations(b, rules), "CODE_50160").set_index("object_key")
    assert set(rows.index) == {"road", "rail", "surface"}
    assert rows.loc["road", "measured_m"] == pytest.approx(27.0, abs=0.01)
    assert rows.loc["road", "required_m"] == 35.0 and "半幅宽13米" in rows.loc["road", "detail"]
    assert rows.loc["rail", "measured_m"] == pytest.approx(54.0, abs=0.01)
    assert rows.loc["rail", "required_m"] == 55.0 and "半幅宽" not in rows.loc["rail", "detail"]
    assert rows.loc["surface", "measured_m"] == pytest.approx(30.0, abs=0.01)


def test_unknown_road_class_takes_the_stricter_row(rules: RuleSet) -> None:
    t = tank(X, Y)
    # 国道 may be first-class or not: the expressway row (35 m) applies, said in the detail.
    national = LineString([(X + 13.0 + 30.0, Y - 500.0), (X + 13.0 + 30.0, Y + 500.0)])  # edge 30 m
    county = LineString([(X - 50.0 - 6.0 - 24.0, Y - 500.0), (X - 50.0 - 6.0 - 24.0, Y + 500.0)])  # edge 24 m
    b = bundle(installations=[part("T1", t)],
               infrastructure=[infra("g", national, "road", "国道"), infra("x", county, "road", "县道")])
    rows = of(check_code_separations(b, rules), "CODE_50160").set_index("object_key")
    assert rows.loc["g", "required_m"] == 35.0 and "较严格" in rows.loc["g", "detail"]
    assert rows.loc["x", "required_m"] == 25.0 and "较严格" not in rows.loc["x", "detail"]
    assert rows.loc["x", "measured_m"] == pytest.approx(24.0, abs=0.01)


def test_pipelines_buried_and_above_ground(rules: RuleSet) -> None:
    unit = box(X - 40.0, Y - 20.0, X, Y + 20.0)
    gas = LineString([(X + 29.0, Y - 500.0), (X + 29.0, Y + 500.0)])  # 29 < 30 (column D, buried gas)
    lpg_above = LineString([(X - 40.0 - 85.0, Y - 500.0), (X - 40.0 - 85.0, Y + 500.0)])  # 85 < 60 × 1.5
    pipes = [{"key": "G", "code": "G", "name": "输气", "medium": "gas", "laying": "buried", "adcodes": [ANNING],
              "geometry": gas},
             {"key": "L", "code": "L", "name": "液化烃", "medium": "lpg", "laying": "above", "adcodes": [ANNING],
              "geometry": lpg_above}]
    b = bundle(installations=[part("U1", unit, "process_unit")], pipelines=pipes)
    rows = of(check_code_separations(b, rules), "CODE_50160").set_index("object_key")
    assert rows.loc["G", "required_m"] == 30.0 and rows.loc["G", "measured_m"] == pytest.approx(29.0, abs=0.01)
    assert rows.loc["L", "required_m"] == pytest.approx(90.0) and "地上敷设" in rows.loc["L", "detail"]
    assert set(rows["adcode"]) == {ANNING}  # pipelines have no single district: the part's


def test_tower_height_cells_are_skipped_but_the_flare_row_is_checked(rules: RuleSet) -> None:
    line = LineString([(X + 5.0, Y - 500.0), (X + 5.0, Y + 500.0)])
    flare = Point(X + 75.0, Y)  # 70 m from the line: < 80 m (column C)
    b = bundle(installations=[part("T1", tank(X, Y)), part("F1", flare, "flare", fire_class=None)],
               infrastructure=[infra("pl", line, "power_line", "110kV")])
    rows = of(check_code_separations(b, rules), "CODE_50160")
    assert rows["subject_key"].tolist() == ["F1"]  # the tank group's 1.5 × tower height is not judged
    assert rows.iloc[0]["required_m"] == 80.0 and rows.iloc[0]["measured_m"] == pytest.approx(70.0, abs=0.01)


def test_neighbouring_plant_is_measured_to_its_nearest_part(rules: RuleSet) -> None:
    own_near = box(X + 5.0, Y - 10.0, X + 25.0, Y + 10.0)  # same enterprise, 5 m away: not compared
    theirs_1 = box(X + 110.0, Y - 10.0, X + 130.0, Y + 10.0)  # 110 m: the nearest part of enterprise B
    theirs_2 = box(X + 115.0, Y + 30.0, X + 140.0, Y + 50.0)
    b = bundle(installations=[part("A-T", tank(X, Y)), part("A-W", own_near, "class_a_warehouse"),
                              part("B-1", theirs_1, "class_b_warehouse", owner=ENT_B, fire_class="乙"),
                              part("B-2", theirs_2, "process_unit", owner=ENT_B)],
               enterprises=[enterprise(ENT_A, X - 200, Y, None), enterprise(ENT_B, X + 300, Y, None)])
    rows = of(check_code_separations(b, rules), "CODE_50160")
    mine = rows[rows["subject_key"] == "A-T"]
    assert mine["object_type"].tolist() == ["enterprises"] and mine["object_key"].tolist() == [ENT_B]
    assert mine.iloc[0]["object_name"] == f"企业{ENT_B[-4:]}"
    assert mine.iloc[0]["measured_m"] == pytest.approx(110.0, abs=0.01) and mine.iloc[0]["required_m"] == 120.0
    assert "围墙" in mine.iloc[0]["detail"]
    # B's process unit (column D, 50 m) is 60+ m from A's parts: no finding the other way round
    assert "B-2" not in set(rows["subject_key"])
    assert not (rows["object_key"] == "A-W").any()


# ---------------------------------------------------------------------------
# GB 50016
# ---------------------------------------------------------------------------

def test_class_a_warehouse_items_1256_over_10_t_needs_30_m_from_a_civil_building(rules: RuleSet) -> None:
    store_ = box(X - 30.0, Y - 10.0, X, Y + 10.0)
    house = box(X + 29.0, Y - 5.0, X + 39.0, Y + 5.0)  # 29 m
    b = bundle(installations=[part("W", store_, "class_a_warehouse", goods_items="1,2,5,6", stock_t=12.0)],
               buildings=[building("H", house)])
    rows = of(check_code_separations(b, rules), "CODE_50016_WAREHOUSE")
    assert rows["object_key"].tolist() == ["H"] and rows.iloc[0]["required_m"] == 30.0
    assert rows.iloc[0]["measured_m"] == pytest.approx(29.0, abs=0.01)
    assert "3.5.1" in rows.iloc[0]["clause"]
    # 10 t is the smaller column (25 m): 29 m complies
    b = bundle(installations=[part("W", store_, "class_a_warehouse", goods_items="1,2,5,6", stock_t=10.0)],
               buildings=[building("H", house)])
    assert of(check_code_separations(b, rules), "CODE_50016_WAREHOUSE").empty
    # unknown items and stock: the strictest column (items 3,4 above 5 t: 40 m), said in the detail
    b = bundle(installations=[part("W", store_, "class_a_warehouse")], buildings=[building("H", house)])
    rows = of(check_code_separations(b, rules), "CODE_50016_WAREHOUSE")
    assert rows.iloc[0]["required_m"] == 40.0 and "储存物品项未填" in rows.iloc[0]["detail"]


def test_warehouse_high_rise_and_important_public_need_50_m(rules: RuleSet) -> None:
    store_ = box(X - 30.0, Y - 10.0, X, Y + 10.0)
    tower = box(X + 45.0, Y - 10.0, X + 65.0, Y + 10.0)  # 45 m, 18 floors → 高层 → 50 m
    low = box(X - 30.0 - 45.0 - 10.0, Y - 5.0, X - 30.0 - 45.0, Y + 5.0)  # 45 m, 2 floors → 25 m: complies
    hospital = Point(X - 15.0, Y + 10.0 + 49.0)  # 49 m
    b = bundle(installations=[part("W", store_, "class_a_warehouse", goods_items="1,2,5,6", stock_t=8.0)],
               buildings=[building("tower", tower, floors=18), building("low", low)],
               protection_targets=[target("hosp", hospital, "hospital")])
    rows = of(check_code_separations(b, rules), "CODE_50016_WAREHOUSE").set_index("object_key")
    assert set(rows.index) == {"tower", "hosp"}
    assert (rows["required_m"] == 50.0).all()


def test_class_ab_factory_and_class_b_warehouse_need_25_m_from_civil_buildings(rules: RuleSet) -> None:
    factory = box(X - 40.0, Y - 10.0, X, Y + 10.0)
    house = box(X + 24.0, Y - 5.0, X + 34.0, Y + 5.0)  # 24 m < 25
    b_store = box(X - 40.0, Y + 300.0, X, Y + 320.0)
    house_ok = box(X + 25.0, Y + 305.0, X + 35.0, Y + 315.0)  # exactly 25 m from the 乙类仓库
    b = bundle(installations=[part("F", factory, "class_ab_factory"),
                              part("S", b_store, "class_b_warehouse", fire_class="乙")],
               buildings=[building("h", house), building("ok", house_ok)])
    rows = of(check_code_separations(b, rules), "CODE_50016_FACTORY")
    assert rows[["subject_key", "object_key", "required_m"]].values.tolist() == [["F", "h", 25.0]]


# ---------------------------------------------------------------------------
# ESD_BELOW_CODE and rule values as data
# ---------------------------------------------------------------------------

def test_declared_distance_below_the_code_separation(rules: RuleSet) -> None:
    b = bundle(installations=[part("A-T", tank(X, Y)), part("A-U", box(X + 100, Y, X + 140, Y + 30),
                                                            "process_unit", fire_class="丙")],
               enterprises=[enterprise(ENT_A, X, Y, 140.0)])
    rows = of(check_code_separations(b, rules), "ESD_BELOW_CODE")
    assert rows[["subject_key", "object_key", "measured_m", "required_m"]].values.tolist() == [
        [ENT_A, "A-T", 140.0, 150.0]]
    assert "GB/T 37243" in rows.iloc[0]["clause"] and rows.iloc[0]["object_type"] == "installations"
    b = bundle(installations=[part("A-T", tank(X, Y))], enterprises=[enterprise(ENT_A, X, Y, 150.0)])
    assert of(check_code_separations(b, rules), "ESD_BELOW_CODE").empty


def test_part_requirements_read_the_rules(rules: RuleSet) -> None:
    frame = gpd.GeoDataFrame({"part_type": ["lpg_tank_group", "class_a_warehouse", "class_ab_factory"],
                              "goods_items": [None, "3,4", None], "stock_t": [None, 4.0, None]})
    rows = rules["ESD_BELOW_CODE"].params["code_rows"]
    assert [n and n[:2] for n in part_requirements(rules, frame, rows)] == [
        (150.0, "CODE_50160"), (50.0, "CODE_50016_WAREHOUSE"), (50.0, "CODE_50016_FACTORY")]


def test_a_local_value_changes_the_result(rules: RuleSet) -> None:
    school = box(X + 149.0, Y - 30.0, X + 209.0, Y + 30.0)
    b = bundle(installations=[part("T1", tank(X, Y))], protection_targets=[target("s", school)])
    assert len(of(check_code_separations(b, rules), "CODE_50160")) == 1
    local = apply_overrides(rules, [{"rule_code": "CODE_50160", "path": "params.required_m.residential.A",
                                     "value": 140.0}])
    assert of(check_code_separations(b, local), "CODE_50160").empty


# ---------------------------------------------------------------------------
# runner, site pre-check
# ---------------------------------------------------------------------------

def test_family_is_registered_with_the_runner(rules: RuleSet) -> None:
    assert "code_separation" in FAMILIES
    assert {r.code for r in rules.family("code_separation")} == {"CODE_50160", "CODE_50016_WAREHOUSE",
                                                                  "CODE_50016_FACTORY", "ESD_BELOW_CODE"}
    b = bundle(installations=[part("T1", tank(X, Y))],
               protection_targets=[target("s", box(X + 100, Y, X + 120, Y + 20))])
    result = run_checks(b, rules, rule_codes=["CODE_50160"])
    assert result.findings["rule_code"].tolist() == ["CODE_50160"]
    assert "code_separation" in result.timings


def _site_bundle(owner_ext: float = 300.0) -> Bundle:
    district = [{"key": ANNING, "adcode": ANNING, "name": "安宁市",
                 "geometry": box(X - 20000, Y - 20000, X + 20000, Y + 20000)}]
    ents = [enterprise(ENT_A, X - 3000.0, Y, owner_ext)]
    return bundle(districts=district, enterprises=ents, installations=[part("LPG-1", tank(X, Y))])


def test_site_precheck_school_next_to_an_lpg_tank_group_is_advised_against() -> None:
    v = precheck_site(_site_bundle(), _to_site(box(X + 100.0, Y - 50.0, X + 180.0, Y + 50.0)), "学校")
    assert v.verdict == ADVISE_AGAINST
    reasons = v.reasons[v.reasons["rule_code"] == "CODE_50160"]
    assert len(reasons) == 1  # one reason per part, though the site is both a target and a building
    r = reasons.iloc[0]
    assert r["subject_key"] == "LPG-1" and r["object_key"] == "SITE"
    assert r["measured_m"] == pytest.approx(100.0, abs=0.01) and r["required_m"] == 150.0
    assert "GB 50160" in r["clause"] and "4.1.9" in r["clause"]
    # the same school 150 m away is no longer a reason (and nothing else objects)
    far = precheck_site(_site_bundle(), _to_site(box(X + 150.0, Y - 50.0, X + 230.0, Y + 50.0)), "学校")
    assert far.verdict == NO_OBJECTION and not (far.reasons["rule_code"] == "CODE_50160").any()


# ---------------------------------------------------------------------------
# the layer in the store: import, modes, row-level security, demo
# ---------------------------------------------------------------------------

def _import_small_site(engine) -> None:
    """In 安宁市: an LPG tank group of A (declaring 130 m), a unit of B 100 m away, a village 216 m away."""
    ents = layer([enterprise(ENT_A, AX, AY + 60.0, 130.0), enterprise(ENT_B, AX + 600.0, AY, None)], EPSG)
    parts = [part("INS-1", tank(AX, AY)), part("INS-2", box(AX + 100, AY - 10, AX + 130, AY + 10), "process_unit",
                                                owner=ENT_B)]
    village = [target("PT-1", Point(AX + 120.0, AY + 200.0), "residential")]
    for name, frame in (("enterprises", ents.drop(columns=["key"])),
                        ("installations", layer(parts, EPSG).drop(columns=["key"])),
                        ("protection_targets", layer(village, EPSG).drop(columns=["key", "gb36894_class"])
                         .assign(adcode=ANNING))):
        report = import_frame(engine, name, frame, source_name=f"{name}.gpkg")
        assert report.rows_imported == len(frame), [i.text("both") for i in report.issues]


@pytest.mark.postgis
def test_installation_with_a_bad_credit_code_is_rejected(engine) -> None:
    frame = layer([part("INS-X", tank(AX, AY), owner="91530181MA6K5XYW1X")], EPSG).drop(columns=["key"])
    with pytest.raises(ImportValidationError) as err:
        import_frame(engine, "installations", frame, source_name="bad.gpkg")
    issues = [i for i in err.value.issues if i.severity == "error"]
    assert [(i.field, "校验位" in i.zh) for i in issues] == [("企业统一社会信用代码(enterprise_credit_code)", True)]
    assert store.row_counts(engine)["installations"] == 0


@pytest.mark.postgis
def test_check_runs_in_database_mode_and_file_mode(engine, tmp_path, monkeypatch) -> None:
    from riskmap.cli import main

    _import_small_site(engine)
    monkeypatch.setenv("RISKMAP_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(main, ["check", "--family", "code_separation"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith(("CODE_50160 |", "ESD_BELOW_CODE |"))]
    assert any("installations:装置INS-1 → enterprises:" in ln and " m / 120.0 m" in ln for ln in lines), lines
    assert any(ln.startswith("ESD_BELOW_CODE |") and "130.0 m / 150.0 m" in ln for ln in lines), lines
    stored = store.read_findings(engine)
    got = {(r.rule_code, r.subject_key, r.object_key) for r in stored.itertuples()}
    assert ("CODE_50160", "INS-1", ENT_B) in got and ("ESD_BELOW_CODE", ENT_A, "INS-1") in got
    # the village point is 120 m east and 200 m north of the shell's north-east corner: √(120² + 180²) ≈ 216 m
    assert ("CODE_50160", "INS-1", "PT-1") not in got
    db = run_checks(bundle_from_store(engine), families=["code_separation"]).findings
    gpkg = bundle_to_file(bundle_from_store(engine), tmp_path / "bundle.gpkg")
    monkeypatch.delenv("RISKMAP_DATABASE_URL")
    out = tmp_path / "findings.gpkg"
    file_run = CliRunner().invoke(main, ["check", "--input", str(gpkg), "--output", str(out),
                                         "--rules", "CODE_50160,ESD_BELOW_CODE"])
    assert file_run.exit_code == 0, file_run.output
    fl = run_checks(bundle_from_file(gpkg), families=["code_separation"]).findings
    ident = ["rule_code", "subject_key", "object_key", "measured_m", "required_m"]
    assert sorted(map(tuple, db[ident].values.tolist())) == sorted(map(tuple, fl[ident].values.tolist()))
    assert len(db) == 2


@pytest.mark.postgis
def test_district_scope_applies_to_installations(engine) -> None:
    _import_small_site(engine)
    app = app_engine_of(engine)
    try:
        with app.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM installations")).scalar_one() == 0
        with scoped(Scope(all_districts=False, adcode=ANNING)):
            assert len(store.read_layer(app, "installations")) == 2
        with scoped(Scope(all_districts=False, adcode="530102")):
            assert len(store.read_layer(app, "installations")) == 0
    finally:
        app.dispose()


@pytest.mark.postgis
def test_demo_has_installations_and_code_findings(demo_db) -> None:
    eng = store.make_engine(demo_db)
    parts = store.read_layer(eng, "installations")
    ents = store.read_layer(eng, "enterprises")
    assert len(parts) >= 30 and set(parts["enterprise_credit_code"]) <= set(ents["credit_code"])
    assert {"lpg_tank_group", "flammable_liquid_tank_group", "flare", "process_unit", "important_facility",
            "class_a_warehouse", "class_ab_factory", "class_b_warehouse"} <= set(parts["part_type"])
    found = store.read_findings(eng)
    counts = found["rule_code"].value_counts()
    assert counts.get("CODE_50160", 0) >= 5
    assert counts.get("CODE_50016_WAREHOUSE", 0) >= 1 and counts.get("ESD_BELOW_CODE", 0) >= 1
    lpg = found[(found["rule_code"] == "CODE_50160") & (found["required_m"] == 150.0)]
    assert len(lpg) >= 1  # an LPG tank group placed on purpose inside the 150 m of people


def test_a_part_of_unknown_owner_is_not_its_own_neighbour(rules: RuleSet) -> None:
    lone = part("LONE", box(X, Y, X + 30.0, Y + 30.0), owner=None)  # type: ignore[arg-type]
    found = check_code_separations(bundle(installations=[lone]), rules)
    assert not len(found[found["object_key"] == "LONE"])
