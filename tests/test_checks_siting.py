"""Yangtze siting bans (长江保护法 Art. 26): hand-computed distances, the pre-check of a new pond or project.

Geometries are built in metres in the Gauss-Krüger zone of Kunming (CM 102°E, EPSG:4543) and stored in
EPSG:4490 like the store does. A river stored as a centreline has its shore ``centreline_to_shore_m``
out (100 m for the main stem, 25 m for a tributary), so a pond 3,100 m from the main-stem centreline is
exactly 3,000 m from its shore.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from geo import store
from geo.checks.bundle import Bundle
from geo.checks.ruleset import RuleSet
from geo.checks.runner import FAMILIES
from geo.checks.site import ADVISE_AGAINST, NO_OBJECTION, precheck_site, site_use
from geo.checks.siting import check_siting
from geo.checks.sources import bundle_near
from geo.rule_admin import apply_overrides
from tests.catalogue import KUNMING_GK as EPSG
from tests.catalogue import layer as _layer
from tests.catalogue import stored

X, Y = 500000.0, 2900000.0
MAIN = {"key": "R-MAIN", "kind": "river", "subkind": "长江干流(金沙江)", "name": "金沙江"}
TRIB = {"key": "R-TRIB", "kind": "river", "subkind": "长江重要支流", "name": "某支流"}
PEARL = {"key": "R-PEARL", "kind": "river", "subkind": "珠江水系", "name": "南盘江"}


def _bundle(rivers: list[dict[str, Any]], dams: list[dict[str, Any]] = (),  # type: ignore[assignment]
            enterprises: list[dict[str, Any]] = ()) -> Bundle:  # type: ignore[assignment]
    frames = {"infrastructure": _layer(rivers)}
    if dams:
        frames["tailings_dams"] = _layer(dams)
    if enterprises:
        frames["enterprises"] = _layer(enterprises)
    return Bundle(frames, metric_epsg=EPSG)


def _river(meta: dict[str, Any], y: float = Y) -> dict[str, Any]:
    return {**meta, "geometry": LineString([(X - 20000, y), (X + 20000, y)])}


def _dam(key: str, dy: float, status: str = "building") -> dict[str, Any]:
    return {"key": key, "name": f"尾矿库{key}", "status": status, "adcode": "530113",
            "geometry": Point(X, Y + dy)}


def _plant(key: str, dy: float, status: str = "new", industry: str = "hazchem_production") -> dict[str, Any]:
    return {"key": key, "name": f"化工{key}", "industry": industry, "installation_status": status,
            "adcode": "530181", "geometry": Point(X, Y - dy)}


def test_family_is_registered() -> None:
    assert "siting" in FAMILIES


def test_main_stem_ban_is_3_km_from_the_shore_inclusive(rules: RuleSet) -> None:
    found = check_siting(_bundle([_river(MAIN)], dams=[
        _dam("in", 3099.0), _dam("edge", 3100.0), _dam("out", 3101.0), _dam("old", 500.0, "operating")]), rules)
    got = {r.subject_key: (r.measured_m, r.required_m) for r in found.itertuples()}
    assert got == {"in": (pytest.approx(2999.0, abs=0.01), 3000.0), "edge": (pytest.approx(3000.0, abs=0.01), 3000.0)}
    assert set(found["verdict"]) == {"violation"} and set(found["clause"]) == {"长江保护法(2020) 第26条"}
    assert set(found["object_key"]) == {"R-MAIN"}
    line = found.set_index("subject_key").loc["in"].geometry  # the shortest line, in EPSG:4490
    assert gpd.GeoSeries([line], crs=4490).to_crs(EPSG).length.iloc[0] == pytest.approx(3099.0, abs=0.05)


def test_tributary_and_chemical_limits(rules: RuleSet) -> None:
    found = check_siting(_bundle([_river(TRIB)], dams=[_dam("d1", 1020.0), _dam("d2", 1030.0)],
                                 enterprises=[_plant("c1", 1020.0), _plant("c2", 1030.0),
                                              _plant("old", 100.0, "in_service"),
                                              _plant("shop", 100.0, industry="gas_station")]), rules)
    got = {r.subject_key: r.measured_m for r in found.itertuples()}
    assert got == {"d1": pytest.approx(995.0, abs=0.01), "c1": pytest.approx(995.0, abs=0.01)}
    assert set(found[found["subject_key"] == "c1"]["subject_type"]) == {"enterprises"}


def test_river_areas_are_measured_to_their_edge_and_other_basins_do_not_count(rules: RuleSet) -> None:
    area = {**MAIN, "key": "R-AREA", "geometry": box(X - 20000, Y - 150, X + 20000, Y + 150)}
    found = check_siting(_bundle([area, _river(PEARL, Y - 5000)],
                                 dams=[_dam("a", 150 + 2990.0), _dam("b", 150 + 3010.0),
                                       _dam("pearl", -5000 + 200.0)]), rules)
    assert {r.subject_key: r.measured_m for r in found.itertuples()} == {"a": pytest.approx(2990.0, abs=0.01)}


def test_limits_are_rule_data(rules: RuleSet) -> None:
    wider = apply_overrides(rules, [{"rule_code": "YANGTZE_SITING", "path": "params.tailings_m.main", "value": 5000}])
    bundle = _bundle([_river(MAIN)], dams=[_dam("d", 4000.0)])
    assert len(check_siting(bundle, rules)) == 0
    assert list(check_siting(bundle, wider)["required_m"]) == [5000.0]


def test_hazard_uses_are_known() -> None:
    assert site_use("尾矿库") == "tailings_pond" and site_use("化工项目") == "chemical_project"


@pytest.mark.postgis
def test_precheck_of_a_new_tailings_pond_near_the_jinsha(demo_db: str) -> None:
    """The demo ships the real 金沙江 line (GSHHG) along 东川's northern border."""
    engine = store.make_engine(demo_db)
    try:
        rivers = store.read_layer(engine, "infrastructure")
        jinsha = rivers[rivers["key"].str.startswith("RIV-JSJ")]
        assert len(jinsha) >= 1
        line = jinsha.to_crs(EPSG).union_all()
        dongchuan = store.read_districts(engine, ["530113"]).to_crs(EPSG).geometry.iloc[0]
        inside = dongchuan.buffer(-500)
        ring = line.buffer(2000).boundary.intersection(inside)  # 2 km from the centreline, inside 东川
        far_ring = line.buffer(8000).boundary.intersection(inside)
        assert not ring.is_empty and not far_ring.is_empty
        near = gpd.GeoSeries([shapely.line_interpolate_point(ring, 0.5, normalized=True)], crs=EPSG).to_crs(4490)
        far = gpd.GeoSeries([shapely.line_interpolate_point(far_ring, 0.5, normalized=True)], crs=EPSG).to_crs(4490)
        verdict = precheck_site(bundle_near(engine, near.iloc[0]), near.iloc[0], "尾矿库")
        assert verdict.verdict == ADVISE_AGAINST
        reason = verdict.reasons.iloc[0]
        assert reason["rule_code"] == "YANGTZE_SITING" and reason["required_m"] == 3000.0
        assert reason["measured_m"] == pytest.approx(1900.0, abs=2.0)  # 2,000 m from the centreline, shore 100 m out
        assert verdict.gb36894_class == "" and verdict.use == "tailings_pond"
        chemical = precheck_site(bundle_near(engine, near.iloc[0]), near.iloc[0], "化工项目")
        assert chemical.verdict == NO_OBJECTION  # chemical projects: 1 km
        assert precheck_site(bundle_near(engine, far.iloc[0]), far.iloc[0], "尾矿库").verdict == NO_OBJECTION
    finally:
        engine.dispose()


def test_site_counts_once_per_hazard_although_it_is_a_target_and_a_building(rules: RuleSet) -> None:
    # a proposed school 600 m below a tailings pond: the radial 头顶库 screen reaches it as a protection
    # target and as a building; the reasons list the pond once
    dam = {"key": "TD-1", "name": "某尾矿库", "status": "operating", "adcode": "530113",
           "total_storage_10k_m3": 500.0, "dam_height_m": 40.0, "geometry": Point(X, Y)}
    base = Bundle({"tailings_dams": _layer([dam])}, metric_epsg=EPSG)
    site = stored(Point(X + 600, Y), EPSG)
    verdict = precheck_site(base, site, "学校", rules=rules)
    overhead = verdict.reasons[verdict.reasons["rule_code"] == "TAIL_OVERHEAD"]
    assert len(overhead) == 1 and verdict.verdict == ADVISE_AGAINST


def test_a_chemical_project_is_measured_from_its_nearest_part(rules: RuleSet) -> None:
    plant = {**_plant("c", 1100.0), "credit_code": "91530181MA6K5XYW1W"}  # office point 1,075 m from the shore
    tank = {"key": "T1", "enterprise_credit_code": "91530181MA6K5XYW1W", "adcode": "530181",
            "part_type": "lpg_tank_group", "geometry": box(X - 20, Y - 925, X + 20, Y - 900)}  # 875 m
    bundle = Bundle({"infrastructure": _layer([_river(TRIB)]), "enterprises": _layer([plant])}, metric_epsg=EPSG)
    assert len(check_siting(bundle, rules)) == 0  # the point alone is outside the 1 km ban
    bundle = Bundle({"infrastructure": _layer([_river(TRIB)]), "enterprises": _layer([plant]),
                     "installations": _layer([tank])}, metric_epsg=EPSG)
    found = check_siting(bundle, rules)
    assert list(found["subject_key"]) == ["c"]
    assert found.iloc[0]["measured_m"] == pytest.approx(875.0, abs=0.01)
