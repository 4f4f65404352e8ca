"""Tests of the generated Kunming demo data set (no database needed)."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.constants import STORAGE_SRID
from geo.credit_code import check_character, credit_code_problem, organization_check_character
from geo.demo import DEMO_AS_OF, DEMO_SEED, LAYER_NAMES, generate_demo
from geo.demo.context import WORK_CRS
from geo.layer_specs import LAYERS, PT_TYPES, RISK_LEVELS

ROOT = Path(__file__).resolve().parents[1]
DISTRICTS = ROOT / "data" / "kunming_districts.geojson"
METRIC = WORK_CRS  # CGCS2000 3-degree Gauss-Krüger CM 102°E
EXPECTED_LAYERS = {"enterprises", "risk_contours", "protection_targets", "buildings", "pipelines", "hcas",
                   "tailings_dams", "infrastructure", "installations", "risk_points", "hidden_hazards", "parks"}


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return gpd.read_file(DISTRICTS).set_crs(STORAGE_SRID, allow_override=True)[["adcode", "name", "geometry"]]


@pytest.fixture(scope="module")
def demo(districts: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    return generate_demo(districts)


def _canonical(layer: str) -> list[str]:
    return [f.name for f in LAYERS[layer].fields if f.name not in ("lon", "lat")]


def test_same_seed_gives_identical_output(districts: gpd.GeoDataFrame,
                                          demo: dict[str, gpd.GeoDataFrame]) -> None:
    again = generate_demo(districts, seed=DEMO_SEED)
    assert list(again) == list(demo)
    for name in demo:
        assert_geodataframe_equal(demo[name], again[name])
    other = generate_demo(districts, seed=DEMO_SEED + 1)
    assert not other["enterprises"].geometry.equals(demo["enterprises"].geometry)


def test_layers_have_canonical_columns_and_required_values(demo: dict[str, gpd.GeoDataFrame]) -> None:
    assert set(demo) == EXPECTED_LAYERS == set(LAYER_NAMES)
    for name, gdf in demo.items():
        assert len(gdf) > 0, name
        assert list(gdf.columns) == [*_canonical(name), "geometry"], name
        assert gdf.crs is not None and gdf.crs.to_epsg() == STORAGE_SRID, name
        for f in LAYERS[name].fields:
            if f.required:
                assert gdf[f.name].notna().all(), f"{name}.{f.name} has blanks"


def test_values_have_the_declared_types(demo: dict[str, gpd.GeoDataFrame]) -> None:
    for name, gdf in demo.items():
        for f in LAYERS[name].fields:
            if f.name not in gdf:
                continue
            values = gdf[f.name].dropna()
            if f.type == "enum":
                assert f.choices is not None
                bad = sorted(set(values) - set(f.choices))
                assert not bad, f"{name}.{f.name}: {bad}"
            elif f.type == "date":
                assert all(type(v) is dt.date for v in values), f"{name}.{f.name}"
            elif f.type == "int":
                assert str(gdf[f.name].dtype) == "Int64", f"{name}.{f.name}"
            elif f.type == "bool":
                assert gdf[f.name].dtype == bool, f"{name}.{f.name}"
            elif f.type == "adcode":
                assert values.str.fullmatch(r"\d{6}").all(), f"{name}.{f.name}"
            if f.minimum is not None and f.type in ("int", "float"):
                assert (values.astype(float) >= f.minimum).all(), f"{name}.{f.name}"
            if f.maximum is not None and f.type in ("int", "float"):
                assert (values.astype(float) <= f.maximum).all(), f"{name}.{f.name}"


def test_geometries_are_valid_and_of_the_layer_kind(demo: dict[str, gpd.GeoDataFrame]) -> None:
    kinds = {"point": {"Point"}, "line": {"MultiLineString"}, "polygon": {"MultiPolygon"}}
    for name, gdf in demo.items():
        assert gdf.geometry.notna().all(), name
        assert gdf.is_valid.all(), name
        assert not gdf.is_empty.any(), name
        allowed = kinds.get(LAYERS[name].geometry)
        if allowed:
            assert set(gdf.geom_type) <= allowed, name


def _anchor_points(name: str, gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The point whose district is the record's adcode (computed in metres)."""
    metric = gdf.geometry.to_crs(METRIC)
    if name in ("buildings", "protection_targets", "installations"):
        return metric.centroid
    if name == "infrastructure":  # lines and areas: they must touch their district (a border river may run along it)
        return metric
    if name == "hcas":
        return metric.interpolate(0.5, normalized=True)
    return metric


@pytest.mark.parametrize("name", ["enterprises", "tailings_dams", "risk_points", "hidden_hazards",
                                  "protection_targets", "buildings", "infrastructure", "hcas", "installations"])
def test_records_lie_in_their_stated_district(name: str, districts: gpd.GeoDataFrame,
                                              demo: dict[str, gpd.GeoDataFrame]) -> None:
    bounds = districts.to_crs(METRIC).set_index("adcode").geometry
    gdf = demo[name]
    points = _anchor_points(name, gdf)
    far = [(code, adcode, round(float(p.distance(bounds[adcode])), 1))
           for code, adcode, p in zip(gdf.iloc[:, 0], gdf["adcode"], points, strict=True)
           if p.distance(bounds[adcode]) > 1.0]
    assert not far, far[:5]


def test_credit_codes_are_valid_and_unique(demo: dict[str, gpd.GeoDataFrame]) -> None:
    assert check_character("91350100M000100Y4") == "3"  # the GB 32100 example
    assert organization_check_character("M000100Y") == "4"  # its organisation code M000100Y-4
    ent = demo["enterprises"]
    codes = list(ent["credit_code"])
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) == 18 and code.startswith("91") and code[2:8] in set(ent["adcode"])
        assert check_character(code[:17]) == code[17], code
        assert organization_check_character(code[8:16]) == code[16], code  # GB 11714 inside GB 32100
        assert credit_code_problem(code) is None, code
    for name in ("risk_points", "tailings_dams"):
        for code in demo[name]["credit_code"].dropna():
            assert credit_code_problem(code) is None, (name, code)
    assert set(demo["risk_contours"]["enterprise_key"]) <= set(codes)
    assert set(demo["tailings_dams"]["credit_code"]) <= set(codes)


def test_enterprise_mix(demo: dict[str, gpd.GeoDataFrame]) -> None:
    ent = demo["enterprises"]
    assert 50 <= len(ent) <= 70
    assert ent["adcode"].nunique() == 14
    assert set(ent["risk_level"]) == set(RISK_LEVELS)
    assert set(ent["installation_status"]) == {"in_service", "new"}
    assert ent["has_explosives"].sum() >= 2
    assert ent["mhs_grade"].dropna().between(1, 4).all()
    assert ent["name"].str.contains("演示").all()
    hazchem = ent["industry"].isin(["hazchem_production", "hazchem_storage", "refinery"])
    assert ent.loc[hazchem, "external_distance_m"].notna().all()


def test_risk_contours_are_nested(demo: dict[str, gpd.GeoDataFrame]) -> None:
    rc = demo["risk_contours"].to_crs(METRIC)
    assert rc["enterprise_key"].nunique() >= 8
    for _key, group in rc.groupby("enterprise_key"):
        ordered = group.sort_values("individual_risk", ascending=False).geometry.tolist()
        assert len(ordered) == 5
        for inner, outer in itertools.pairwise(ordered):
            assert outer.contains(inner)


def test_every_protection_target_type_occurs(demo: dict[str, gpd.GeoDataFrame]) -> None:
    pt = demo["protection_targets"]
    counts = pt["target_type"].value_counts()
    assert all(counts.get(t, 0) >= 2 for t in PT_TYPES), counts.to_dict()
    hh = pt.loc[pt["target_type"] == "residential", "households"].dropna()
    assert (hh < 10).any() and hh.between(10, 29).any() and (hh >= 30).any()
    assert pt["code"].is_unique
    contours = demo["risk_contours"].to_crs(METRIC)
    inside = pt.to_crs(METRIC).intersects(shapely.union_all(contours.geometry.values))
    assert inside.sum() >= 8 and (~inside).sum() >= 100


def test_risk_levels_cover_all_four(demo: dict[str, gpd.GeoDataFrame]) -> None:
    assert set(demo["enterprises"]["risk_level"]) == set(RISK_LEVELS)
    assert set(demo["risk_points"]["risk_level"]) == set(RISK_LEVELS)


def test_buildings_encroach_on_pipelines(demo: dict[str, gpd.GeoDataFrame]) -> None:
    pipes = shapely.union_all(demo["pipelines"].to_crs(METRIC).geometry.values)
    dist = demo["buildings"].to_crs(METRIC).distance(pipes)
    assert (dist < 5.0).sum() >= 3
    assert ((dist >= 5.0) & (dist < 10.0)).sum() >= 3
    assert (dist <= 400.0).mean() > 0.7


def test_buildings_include_a_tall_cluster_by_the_gas_trunk(demo: dict[str, gpd.GeoDataFrame]) -> None:
    bld = demo["buildings"].to_crs(METRIC)
    gas = demo["pipelines"].set_index("code").to_crs(METRIC).geometry["GAS-01"]
    tall = bld[(bld["floors"] >= 4) & (bld.distance(gas) <= 200.0)]
    assert len(tall) >= 10
    assert set(tall["adcode"]) & {"530112", "530111"}
    assert bld["code"].is_unique


def test_pipelines_and_hcas(demo: dict[str, gpd.GeoDataFrame]) -> None:
    pipes = demo["pipelines"].set_index("code")
    assert {"GAS-01", "OIL-01", "PRD-01", "GAS-02"} <= set(pipes.index)
    lengths = pipes.to_crs(METRIC).length
    hcas = demo["hcas"]
    assert set(hcas["grade"]) == {"1", "2", "3"}
    assert set(hcas["pipeline_key"]) <= set(pipes.index)
    for _, h in hcas.iterrows():
        assert 0.0 <= h["start_m"] < h["end_m"] <= lengths[h["pipeline_key"]] + 1.0
    cutoff = DEMO_AS_OF - dt.timedelta(days=548)
    assert (hcas["identified_on"] < cutoff).any() and (hcas["identified_on"] >= cutoff).any()


def test_tailings_ponds(demo: dict[str, gpd.GeoDataFrame]) -> None:
    td = demo["tailings_dams"].to_crs(METRIC)
    assert set(td["safety_degree"].dropna()) == {"danger", "risk", "sick", "normal"}
    pt = demo["protection_targets"].to_crs(METRIC)
    res = pt[pt["target_type"] == "residential"]
    near = [bool((res.distance(g) <= 1000.0).any()) for g in td.geometry]
    assert sum(near) >= 3


def test_risk_points_and_hidden_hazards(demo: dict[str, gpd.GeoDataFrame]) -> None:
    rp = demo["risk_points"]
    per = rp["adcode"].value_counts()
    assert len(per) == 14 and per.min() >= 2
    assert rp["code"].is_unique
    list_fields = [f.name for f in LAYERS["risk_points"].fields if f.name not in ("lon", "lat")]
    assert rp[list_fields].notna().all().all()
    hh = demo["hidden_hazards"]
    assert set(hh["status"]) == {"open", "rectifying", "rectified", "closed"}
    assert set(hh["severity"]) == {"major", "general"}
    assert set(hh["supervision"]) == {"none", "county", "city", "province"}
    assert set(hh["risk_point_code"].dropna()) <= set(rp["code"])
    assert (hh["closed_on"].notna() == (hh["status"] == "closed")).all()
    overdue = (hh["deadline"] < DEMO_AS_OF) & (hh["status"] != "closed")
    assert overdue.sum() >= 3
    found = pd.to_datetime(hh["found_on"])
    assert found.dt.year.isin([2025, 2026]).all()
