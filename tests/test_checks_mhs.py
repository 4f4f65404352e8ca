"""Tests of the major-hazard-installation family (MHS_UNDECLARED, MHS_GRADE_LOW) and the ``substances`` column.

Geometries are built in metres in a Gauss-Krüger zone (CM 102°E, Kunming; CM 120°E, east China) and stored in
EPSG:4490 like the store does. Every S, Σβq/Q, α and R below is computed by hand from GB 18218-2018 Table 1
(``geo/rules/mhs_substances.yaml``: Cl₂ Q 5 t β 4, NH₃ Q 10 t β 2) and the α table of standards.md §8.3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, box

from geo import store
from geo.checks.bundle import Bundle
from geo.checks.findings import COLUMNS
from geo.checks.mhs import MhsParams, check_mhs, mhs_table, mhs_units
from geo.checks.ruleset import RuleSet, load_ruleset
from geo.checks.runner import FAMILIES, run_checks
from geo.checks.sources import bundle_from_store
from geo.errors import ImportValidationError
from geo.importer import import_file, import_frame
from geo.rule_admin import apply_overrides, effective_ruleset, set_rule_value
from layers.four_lists import four_lists
from tests.catalogue import ANNING, ENT_B, ZONES, bundle, layer, metric
from tests.catalogue import ANNING_X as AX
from tests.catalogue import ANNING_Y as AY
from tests.catalogue import ENT_A as ENT
from tests.catalogue import KUNMING_GK as EPSG
from tests.catalogue import X0 as X
from tests.catalogue import Y0 as Y

CHLORINE_AMMONIA = "液氯:12; 液氨:30"  # S = 12/5 + 30/10 = 5.4; Σβq/Q = 4·2.4 + 2·3 = 15.6
AMMONIA_30 = "氨:30"  # S = 3; Σβq/Q = 2·3 = 6: α 2 → R 12 (三级), α 1.5 → R 9 (四级)


def enterprise(x: float, y: float, grade: int | None, key: str = ENT) -> dict[str, Any]:
    return {"key": key, "credit_code": key, "name": f"企业{key[-4:]}", "adcode": ANNING, "industry": "hazchem_storage",
            "mhs_grade": grade, "risk_level": "major", "geometry": Point(x, y)}


def unit(key: str, geom: Any, substances: str | None, owner: str = ENT) -> dict[str, Any]:
    return {"key": key, "code": key, "name": f"单元{key}", "enterprise_credit_code": owner, "adcode": ANNING,
            "part_type": "lpg_tank_group", "fire_class": "甲", "substances": substances, "geometry": geom}


def target(key: str, geom: Any, population: int | None, ttype: str = "residential",
           households: int | None = None) -> dict[str, Any]:
    return {"key": key, "code": key, "name": f"目标{key}", "adcode": ANNING, "target_type": ttype,
            "gb36894_class": "general_1", "population": population, "households": households, "geometry": geom}


def building(key: str, geom: Any, households: int, use: str = "residential") -> dict[str, Any]:
    return {"key": key, "code": key, "name": f"建筑{key}", "adcode": ANNING, "use": use, "households": households,
            "floors": 2, "geometry": geom}


def tank(x: float, y: float) -> Any:
    """A 50 m × 40 m tank group whose east wall is at ``x`` (the plant boundary is this box)."""
    return box(x - 50.0, y - 20.0, x, y + 20.0)


def plant(x: float, y: float, grade: int | None, substances: str | None, epsg: int = EPSG, **more: Any) -> Bundle:
    """One enterprise 100 m west of its single unit ``U1`` (the tank box), plus ``more`` layers."""
    return bundle(epsg, enterprises=[enterprise(x - 100.0, y, grade)],
                  installations=[unit("U1", tank(x, y), substances)], **more)


def of(found: gpd.GeoDataFrame, code: str) -> gpd.GeoDataFrame:
    return found[found["rule_code"] == code].reset_index(drop=True)


def row_of(table: pd.DataFrame, code: str = ENT) -> pd.Series:
    return table.set_index("credit_code").loc[code]


# ---------------------------------------------------------------------------
# S, R, α and the grade, by hand
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(("epsg", "x", "y"), ZONES)
def test_chlorine_and_ammonia_unit_with_120_people_is_grade_3_and_undeclared(rules: RuleSet, epsg: int, x: float,
                                                                             y: float) -> None:
    village = target("V", Point(x + 300.0, y), 120)
    b = plant(x, y, None, CHLORINE_AMMONIA, epsg, protection_targets=[village])
    units = mhs_units(b, rules).set_index("unit_key")
    u = units.loc["U1"]
    assert u["s"] == pytest.approx(5.4) and u["weighted"] == pytest.approx(15.6)
    assert (u["people"], u["alpha"]) == (120, 2.0)
    assert u["r"] == pytest.approx(31.2) and u["grade"] == 3 and bool(u["mhs"])
    table = row_of(mhs_table(b, rules))
    assert pd.isna(table["declared_grade"]) and table["computed_grade"] == 3
    assert table["r"] == pytest.approx(31.2) and table["rule_code"] == "MHS_UNDECLARED"

    found = check_mhs(b, rules)
    assert list(found.columns) == [*COLUMNS, "geometry"] and found.crs.to_epsg() == 4490
    assert found["rule_code"].tolist() == ["MHS_UNDECLARED"]
    f = found.iloc[0]
    assert (f["subject_type"], f["subject_key"], f["object_type"], f["object_key"]) == (
        "enterprises", ENT, "installations", "U1")
    assert f["verdict"] == "violation" and f["adcode"] == ANNING and f["clause"] == rules["MHS_UNDECLARED"].clause
    assert f["measured_m"] is None and f["required_m"] is None  # metres only: the figures are in the detail
    zh, en = f["detail"].split(" / ", 1)
    for text in ("计算等级三级", "R = 31.2", "α = 2", "Σβq/Q = 15.6", "S = 5.4", "约 120 人", "申报等级：无",
                 "氯 12 t/Q 5 t(β 4)", "氨 30 t/Q 10 t(β 2)", "待核实"):
        assert text in zh, (text, zh)
    for text in ("computed grade 3", "R = 31.2", "about 120 people within 500 m", "declared: none"):
        assert text in en, (text, en)
    hull = metric(f.geometry, epsg)
    assert hull.area == pytest.approx(2000.0, rel=1e-4)  # the 50 m × 40 m tank box is the plant boundary


@pytest.mark.parametrize(("declared", "expected"), [(4, ["MHS_GRADE_LOW"]), (3, []), (2, []), (1, [])])
def test_only_a_declared_grade_below_the_computed_one_is_flagged(rules: RuleSet, declared: int,
                                                                 expected: list[str]) -> None:
    b = plant(X, Y, declared, CHLORINE_AMMONIA, protection_targets=[target("V", Point(X + 300.0, Y), 120)])
    found = check_mhs(b, rules)
    assert found["rule_code"].tolist() == expected
    if expected:
        assert "申报等级：四级" in found.iloc[0]["detail"] and "计算等级三级" in found.iloc[0]["detail"]


@pytest.mark.parametrize(("people", "alpha", "grade", "flagged"), [(100, 2.0, 3, True), (99, 1.5, 4, False),
                                                                  (50, 1.5, 4, False), (49, 1.2, 4, False),
                                                                  (1, 1.0, 4, False), (0, 0.5, 4, False)])
def test_alpha_bands_are_inclusive_at_their_lower_bound(rules: RuleSet, people: int, alpha: float, grade: int,
                                                        flagged: bool) -> None:
    # 氨 30 t: Σβq/Q = 6, so R = 6α: 12 (三级) at α 2, 9 (四级) at α 1.5; declared 四级
    targets = [target("V", Point(X + 300.0, Y), people)] if people else []
    b = plant(X, Y, 4, AMMONIA_30, protection_targets=targets)
    t = row_of(mhs_table(b, rules))
    assert (t["people"], t["alpha"], t["computed_grade"]) == (people, alpha, grade)
    assert t["r"] == pytest.approx(6.0 * alpha)
    assert (check_mhs(b, rules)["rule_code"].tolist() == ["MHS_GRADE_LOW"]) is flagged


@pytest.mark.parametrize(("gap", "alpha"), [(499.0, 2.0), (500.0, 2.0), (501.0, 1.5)])
def test_a_building_499_or_500_m_from_the_hull_counts_and_501_m_does_not(rules: RuleSet, gap: float,
                                                                         alpha: float) -> None:
    # 99 people in a school 200 m away; one household (2.62 people) in a house `gap` metres east of the tank
    # wall: 101.62 → 102 people and α 2 when it counts, 99 people and α 1.5 when it does not
    house = box(X + gap, Y - 5.0, X + gap + 10.0, Y + 5.0)
    b = plant(X, Y, 4, AMMONIA_30, protection_targets=[target("S", Point(X, Y + 220.0), 99, "school")],
              buildings=[building("H", house, 1)])
    t = row_of(mhs_table(b, rules))
    assert t["alpha"] == alpha and t["people"] == (102 if alpha == 2.0 else 99)
    assert of(check_mhs(b, rules), "MHS_GRADE_LOW").empty is (alpha != 2.0)


def test_the_convex_hull_of_all_parts_is_the_plant_boundary(rules: RuleSet) -> None:
    # two tank boxes (y ± 20 m) with a 350 m gap between x = X and x = X + 350: the hull's north edge runs
    # over the gap at y + 20, so a house with its south wall at y + 519 is 499 m from the hull though
    # √(145² + 499²) ≈ 520 m from the nearest part
    units = [unit("U1", tank(X, Y), AMMONIA_30), unit("U2", tank(X + 400.0, Y), "氨:5")]
    house = box(X + 195.0, Y + 519.0, X + 205.0, Y + 529.0)
    b = bundle(enterprises=[enterprise(X - 100.0, Y, 4)], installations=units,
               buildings=[building("H", house, 40)])
    t = row_of(mhs_table(b, rules))
    assert (t["people"], t["alpha"]) == (105, 2.0)  # 40 × 2.62 = 104.8
    # the binding unit is the one with the largest R; U2 (S = 0.5) is not a major hazard installation
    assert (t["units"], t["mhs_units"], t["unit_key"], t["computed_grade"]) == (2, 1, "U1", 3)


def test_a_building_inside_a_counted_target_is_not_counted_twice(rules: RuleSet) -> None:
    village = box(X + 200.0, Y - 100.0, X + 400.0, Y + 100.0)
    houses = [building(f"H{i}", box(X + 220.0 + 30 * i, Y - 5.0, X + 230.0 + 30 * i, Y + 5.0), 3) for i in range(5)]
    outside = building("OUT", box(X + 100.0, Y + 150.0, X + 110.0, Y + 160.0), 2)
    counted = target("V", village, 40)
    b = plant(X, Y, None, AMMONIA_30, protection_targets=[counted], buildings=[*houses, outside])
    # 40 in the village (its 5 × 3 households are the village's own people) + 2 × 2.62 outside = 45.24
    assert row_of(mhs_table(b, rules))["people"] == 45
    # a target without a figure counts nothing and hides nothing: 15 + 2 households × 2.62 = 44.54
    b = plant(X, Y, None, AMMONIA_30, protection_targets=[target("V", village, None)], buildings=[*houses, outside])
    assert row_of(mhs_table(b, rules))["people"] == 45
    # households of a target without a population count × 2.62; offices are not resident population
    b = plant(X, Y, None, AMMONIA_30, protection_targets=[target("V", village, None, households=10),
                                                          target("O", Point(X + 100.0, Y - 100.0), 500, "office")])
    assert row_of(mhs_table(b, rules))["people"] == 26


@pytest.mark.parametrize(("substances", "s", "mhs"), [("氨:9.9", 0.99, False), ("氨:10", 1.0, True),
                                                       ("氯:2.5; 氨:4.9", 0.99, False), ("氯：2.5；氨：5", 1.0, True)])
def test_s_below_one_is_not_a_major_hazard_installation(rules: RuleSet, substances: str, s: float,
                                                         mhs: bool) -> None:
    b = plant(X, Y, None, substances)
    u = mhs_units(b, rules).iloc[0]
    assert u["s"] == pytest.approx(s) and bool(u["mhs"]) is mhs
    assert bool(pd.isna(u["grade"])) is (not mhs)
    assert check_mhs(b, rules)["rule_code"].tolist() == (["MHS_UNDECLARED"] if mhs else [])
    assert bool(pd.isna(row_of(mhs_table(b, rules))["computed_grade"])) is (not mhs)


def test_an_unlisted_substance_counts_by_its_hazard_category(rules: RuleSet) -> None:
    # 易燃液体类别1: Q 10 t, β 1 (表2) → S = 2; an unknown CAS without a category is not counted
    b = plant(X, Y, None, "某中间体:易燃液体类别1:20; 某溶剂:50-00-0:999")
    u = mhs_units(b, rules).iloc[0]
    assert (u["s"], u["weighted"], u["unresolved"]) == (2.0, 2.0, 1)
    detail = check_mhs(b, rules).iloc[0]["detail"]
    assert "未计入" in detail and "not counted" in detail


def test_parts_without_inventories_and_other_enterprises_are_left_alone(rules: RuleSet) -> None:
    units = [unit("U1", tank(X, Y), None), unit("U2", tank(X + 800.0, Y), "液氯:12", owner=ENT_B)]
    b = bundle(enterprises=[enterprise(X - 100.0, Y, None)], installations=units)
    assert mhs_units(b, rules)["unit_key"].tolist() == ["U2"]
    # ENT_B is not in the enterprises layer: nothing declared to compare, no finding
    assert check_mhs(b, rules).empty
    assert mhs_table(b, rules)["credit_code"].tolist() == [ENT]


def test_local_values_change_alpha_and_grade(rules: RuleSet) -> None:
    b = plant(X, Y, 4, AMMONIA_30, buildings=[building("H", box(X + 300.0, Y, X + 310.0, Y + 10.0), 30)])
    assert row_of(mhs_table(b, rules))["alpha"] == 1.5  # 30 × 2.62 = 78.6 → 79 people
    assert check_mhs(b, rules).empty
    local = apply_overrides(rules, [{"rule_code": "MHS_GRADE_LOW", "path": "params.persons_per_household",
                                     "value": 3.5}])
    assert row_of(mhs_table(b, local))["alpha"] == 2.0  # 105 people
    assert check_mhs(b, local)["rule_code"].tolist() == ["MHS_GRADE_LOW"]
    assert MhsParams.of(local).persons_per_household == 3.5 and MhsParams.of(rules).persons_per_household == 2.62


def test_family_is_registered_with_the_runner(rules: RuleSet) -> None:
    assert "mhs" in FAMILIES
    assert {r.code for r in rules.family("mhs")} == {"MHS_UNDECLARED", "MHS_GRADE_LOW"}
    b = plant(X, Y, None, CHLORINE_AMMONIA)
    result = run_checks(b, rules, rule_codes=["MHS_UNDECLARED"])
    assert result.findings["rule_code"].tolist() == ["MHS_UNDECLARED"] and "mhs" in result.timings


def test_the_basic_list_shows_declared_and_computed_grade(rules: RuleSet) -> None:
    rp = {"key": "RP-1", "code": "RP-1", "name": "罐区", "adcode": ANNING, "category": "hazchem",
          "credit_code": ENT, "risk_level": "major", "geometry": Point(X - 100.0, Y)}
    b = plant(X, Y, 4, CHLORINE_AMMONIA, protection_targets=[target("V", Point(X + 300.0, Y), 120)],
              risk_points=[rp])
    basic = four_lists(b, lang="raw")["basic"].iloc[0]
    assert (basic["mhs_grade"], basic["mhs_computed_grade"], basic["mhs_r"]) == (4, 3, 31.2)
    zh = four_lists(b)["basic"].iloc[0]
    assert (zh["重大危险源等级"], zh["重大危险源计算等级"], zh["重大危险源R值"]) == (4, 3, 31.2)


# ---------------------------------------------------------------------------
# the column in the store: import errors, database mode, local values, demo
# ---------------------------------------------------------------------------

def _unit_rows(**substances: str) -> list[dict[str, Any]]:
    """Installation rows with Chinese headers, one per ``code=substances``, inside 安宁市."""
    return [{"编号*": code, "名称*": f"单元{code}", "企业统一社会信用代码*": ENT, "行政区划代码*": ANNING,
             "装置类别*": "液化烃罐组", "主要危险化学品及最大存量": text, "经度(°)": 102.47 + 0.001 * i,
             "纬度(°)": 24.92} for i, (code, text) in enumerate(substances.items())]


@pytest.mark.postgis
@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_malformed_inventories_are_refused_naming_row_field_and_entry(engine, tmp_path: Path, suffix: str) -> None:
    from tests.import_files import write_csv, write_xlsx

    rows = _unit_rows(A="液化石油气:74-98-6:120; 氨:10", B="液化石油气:120; 氨", C="苯:-2", D="某物:3",
                      E="氨:abc", F="氨:7664-41-8:10")
    path = tmp_path / f"installations.{suffix}"
    (write_xlsx if suffix == "xlsx" else write_csv)(path, rows)
    before = store.row_counts(engine)
    with pytest.raises(ImportValidationError) as info:
        import_file(engine, "installations", path)
    assert store.row_counts(engine) == before
    errors = [i for i in info.value.issues if i.severity == "error"]
    got = {(i.row, i.field): i for i in errors}
    field = "主要危险化学品及最大存量(substances)"
    assert set(got) == {(f"第{n}行 / row {n}", field) for n in (3, 4, 5, 6, 7)}, [i.text("both") for i in errors]
    expect = {3: ("条目“氨”：缺少最大存量", "entry '氨': maximum quantity (t) missing"),
              4: ("条目“苯:-2”：最大存量不能为负数", "entry '苯:-2': maximum quantity cannot be negative"),
              5: ("“某物”不在 GB 18218 表1 中", "'某物' is not in GB 18218 Table 1"),
              6: ("最大存量应为数值(吨)，实为“abc”", "must be a number of tonnes, got 'abc'"),
              7: ("CAS号“7664-41-8”校验位错误", "CAS number 7664-41-8 has a wrong check digit")}
    for n, (zh, en) in expect.items():
        issue = got[(f"第{n}行 / row {n}", field)]
        assert zh in issue.zh and en in issue.en, issue.text("both")
        assert issue.file == path.name and issue.text("both").startswith(f"{path.name}: 第{n}行 / row {n}: {field}")


@pytest.mark.postgis
def test_an_unresolvable_cas_is_a_warning_and_the_text_is_stored(engine, tmp_path: Path) -> None:
    from tests.import_files import write_csv

    path = write_csv(tmp_path / "units.csv", _unit_rows(A="液化石油气：74-98-6：120；氨：10", B="某溶剂:50-00-0:5"))
    report = import_file(engine, "installations", path)
    assert report.rows_imported == 2
    # (each row also warns that its enterprise is not in the store: not imported in this test)
    warnings = [i for i in report.issues if i.severity == "warning" and "统一社会信用代码" not in i.field]
    assert [(i.row, "50-00-0" in i.zh) for i in warnings] == [("第3行 / row 3", True)]
    stored = store.read_layer(engine, "installations").set_index("key")
    assert stored.loc["A", "substances"] == "液化石油气：74-98-6：120；氨：10"


def _import_plant(engine, declared: int | None, households: int) -> None:
    """In 安宁市: an enterprise declaring ``declared``, its unit holding 30 t of ammonia, a house 300 m east."""
    ents = layer([enterprise(AX - 100.0, AY, declared)]).drop(columns=["key"])
    units = layer([unit("INS-1", tank(AX, AY), AMMONIA_30)]).drop(columns=["key"])
    house = layer([building("B-1", box(AX + 300.0, AY, AX + 310.0, AY + 10.0), households)]).drop(columns=["key"])
    for name, frame in (("enterprises", ents), ("installations", units), ("buildings", house)):
        report = import_frame(engine, name, frame, source_name=f"{name}.gpkg")
        assert report.rows_imported == 1, [i.text("both") for i in report.issues]


@pytest.mark.postgis
def test_check_in_database_mode_and_a_local_persons_per_household(engine, monkeypatch) -> None:
    from riskmap.cli import main

    _import_plant(engine, 4, 30)  # 30 households × 2.62 = 78.6 → α 1.5, R = 1.5 × 6 = 9: 四级 as declared
    monkeypatch.setenv("RISKMAP_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(main, ["check", "--family", "mhs"])
    assert result.exit_code == 0, result.output
    assert not [ln for ln in result.output.splitlines() if ln.startswith("MHS_")], result.output
    assert store.read_findings(engine).empty

    version = set_rule_value(engine, "MHS_GRADE_LOW", "params.persons_per_household", 3.5,
                             reason="昆明市第七次人口普查户均人口(测试)", actor="tester")
    assert "+local." in version
    result = CliRunner().invoke(main, ["check", "--family", "mhs"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("MHS_GRADE_LOW |")]
    assert len(lines) == 1 and f"enterprises:企业{ENT[-4:]} → installations:单元INS-1" in lines[0], result.output
    assert "- / -" in lines[0] and "R = 12" in lines[0] and "α = 2" in lines[0] and "105 人" in lines[0]
    stored = store.read_findings(engine)
    assert stored[["rule_code", "subject_key", "object_key", "verdict"]].values.tolist() == [
        ["MHS_GRADE_LOW", ENT, "INS-1", "violation"]]
    assert stored.iloc[0]["rule_set_version"] == version
    assert pd.isna(stored.iloc[0]["measured_m"]) and pd.isna(stored.iloc[0]["required_m"])
    # the same figures from the store without the command line
    table = row_of(mhs_table(bundle_from_store(engine), effective_ruleset(engine)))
    assert (table["people"], table["alpha"], table["r"], table["computed_grade"]) == (105, 2.0, 12.0, 3)


@pytest.mark.postgis
def test_demo_has_undeclared_and_too_low_major_hazard_installations(demo_db) -> None:
    eng = store.make_engine(demo_db)
    parts = store.read_layer(eng, "installations")
    assert parts["substances"].notna().sum() >= 30
    found = store.read_findings(eng)
    counts = found["rule_code"].value_counts()
    assert counts.get("MHS_UNDECLARED", 0) >= 1 and counts.get("MHS_GRADE_LOW", 0) >= 1
    table = mhs_table(bundle_from_store(eng), load_ruleset())
    assert int((table["mhs_units"] > 0).sum()) >= 10
    hulls = found[found["rule_code"].str.startswith("MHS_")].geometry  # the plant hulls, in EPSG:4490
    assert hulls.notna().all() and set(hulls.geom_type) == {"Polygon"}
