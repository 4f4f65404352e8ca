"""Site pre-check: verdicts and reasons on tiny in-code layers, and the CLI on the demo database."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from geo import store
from geo.checks.bundle import Bundle
from geo.checks.site import ADVISE_AGAINST, NO_OBJECTION, precheck_site, site_use
from tests.catalogue import X0 as X
from tests.catalogue import Y0 as Y
from tests.catalogue import frame as _gdf
from tests.catalogue import pipeline_and_plant
from tests.catalogue import stored as _site


@pytest.fixture
def bundle() -> Bundle:
    return pipeline_and_plant(3000)


def test_school_inside_impact_radius_is_advised_against(bundle) -> None:
    v = precheck_site(bundle, _site(shapely.Point(X, Y - 100)), "学校")
    assert v.verdict == ADVISE_AGAINST and v.gb36894_class == "high_sensitivity"
    hca = v.reasons[v.reasons["rule_code"] == "HCA_GAS"]
    assert len(hca) == 1 and hca.iloc[0]["required_m"] == pytest.approx(0.099 * 1016 * 10 ** 0.5, abs=0.5)
    assert "GB 32167" in hca.iloc[0]["clause"]


def test_school_outside_every_zone_gets_no_objection(bundle) -> None:
    v = precheck_site(bundle, _site(shapely.Point(X, Y - 400)), "school")
    assert v.verdict == NO_OBJECTION
    assert len(v.reasons[v.reasons["verdict"] == "violation"]) == 0


def test_office_near_pipeline_is_not_a_special_site(bundle) -> None:
    v = precheck_site(bundle, _site(shapely.Point(X, Y - 100)), "办公", population=50)
    assert v.verdict == NO_OBJECTION


def test_parcel_straddling_declared_distance_counts(bundle) -> None:
    parcel = shapely.box(X - 20, Y + 3000 - 320, X + 20, Y + 3000 - 280)  # 280–320 m south of the plant
    v = precheck_site(bundle, _site(parcel), "住宅", households=40)
    esd = v.reasons[v.reasons["rule_code"] == "ESD_DECLARED"]
    assert v.verdict == ADVISE_AGAINST
    assert len(esd) == 1
    assert esd.iloc[0]["measured_m"] == pytest.approx(280.0, abs=0.5)
    assert esd.iloc[0]["required_m"] == 300.0


def test_multiple_hazards_are_all_reasons(bundle) -> None:
    # 3 m from the pipeline and 250 m from the plant
    bundle.frames["enterprises"] = _gdf(
        [dict(bundle["enterprises"].drop(columns="geometry").iloc[0])], [shapely.Point(X, Y + 250)])
    v = precheck_site(bundle, _site(shapely.Point(X, Y - 3)), "幼儿园")
    assert {"PIPE_OCCUPY", "ESD_DECLARED", "HCA_GAS"} <= set(v.reasons["rule_code"])


def test_unknown_use_and_bad_geometry(bundle) -> None:
    with pytest.raises(ValueError, match="unknown use"):
        site_use("spaceport")
    with pytest.raises(ValueError, match="invalid"):
        precheck_site(bundle, shapely.Polygon(), "学校")


@pytest.mark.postgis
def test_cli_precheck_on_demo(demo_db, monkeypatch) -> None:
    from riskmap.cli import main

    eng = store.make_engine(demo_db)
    pipes = store.read_layer(eng, "pipelines")
    line = pipes[pipes["code"] == "GAS-01"].geometry.iloc[0].geoms[0]
    pt = shapely.line_interpolate_point(line, 0.1, normalized=True)
    monkeypatch.setenv("RISKMAP_DATABASE_URL", demo_db)
    result = CliRunner().invoke(main, ["precheck", "--lon", str(pt.x), "--lat", str(pt.y), "--use", "学校"])
    assert result.exit_code == 0, result.output
    assert "不建议" in result.output
    assert "PIPE_OCCUPY" in result.output and "石油天然气管道保护法 第30条" in result.output
    far = CliRunner().invoke(main, ["precheck", "--lon", "103.30", "--lat", "26.30", "--use", "住宅"])
    assert far.exit_code == 0 and "无异议" in far.output


def test_bundle_spanning_several_zones_warns() -> None:
    far = gpd.GeoDataFrame({"key": ["a", "b"]}, geometry=[shapely.Point(100.0, 25.0), shapely.Point(115.0, 25.0)],
                           crs=4490)
    with pytest.warns(RuntimeWarning, match="spans 15.0°"):
        Bundle({"buildings": far})
