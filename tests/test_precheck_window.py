"""The pre-check's narrowed read gives exactly the verdict and reasons of the wide 5 km window.

``bundle_near`` reads hazards, pipelines and the other layers in the 5 km box as before, but buildings
and protection targets only within ``CONTEXT_M`` of the site and the HCA rules' lateral reach of a
pipeline (issue #16); ``precheck_site`` then runs the HCA family on the pipelines near the site only.
Here every kind of site (targets of each kind, the hazard uses) is checked both ways on the demo data,
beside pipelines, at the edge of the narrowed selection and far from every pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import Engine

from geo import store
from geo.checks.bundle import LAYERS, Bundle
from geo.checks.metric_frame import to_metric, to_storage
from geo.checks.site import NEAR_MARGIN_M, REACH_M, SiteVerdict, hca_lateral_m, precheck_site
from geo.checks.sources import _declared_only, bundle_near
from geo.crs import gk_zone_epsg
from geo.rule_admin import effective_ruleset
from tests.catalogue import KUNMING_GK as EPSG

pytestmark = pytest.mark.postgis

#: Columns of a reason that say what it is; all must agree.
REASON_COLUMNS = ["rule_code", "subject_type", "subject_key", "object_type", "object_key", "measured_m",
                  "required_m", "verdict", "detail_zh", "detail_en"]


@pytest.fixture(scope="module")
def demo(demo_db: str) -> Iterator[Engine]:
    engine = store.make_engine(demo_db)
    yield engine
    engine.dispose()


def wide_bundle(engine: Engine, site: shapely.Geometry) -> Bundle:
    """What ``bundle_near`` read before issue #16: every layer in the box of 5 km around the site."""
    epsg = gk_zone_epsg(site.centroid.x)
    window = to_storage([to_metric(site, epsg).buffer(REACH_M)], epsg)[0]
    bbox = tuple(float(v) for v in window.bounds)
    frames = {layer: store.read_layer_window(engine, layer, bbox) for layer in LAYERS}  # type: ignore[arg-type]
    return Bundle(_declared_only(frames), metric_epsg=epsg)


def assert_same(narrow: SiteVerdict, wide: SiteVerdict) -> None:
    assert (narrow.verdict, narrow.use, narrow.gb36894_class) == (wide.verdict, wide.use, wide.gb36894_class)
    assert narrow.notes == wide.notes
    a, b = narrow.reasons, wide.reasons
    assert len(a) == len(b)
    pd.testing.assert_frame_equal(a[REASON_COLUMNS].reset_index(drop=True), b[REASON_COLUMNS].reset_index(drop=True),
                                  check_dtype=False)
    assert list(shapely.to_wkb(a.geometry.values)) == list(shapely.to_wkb(b.geometry.values))


def gas_line(engine: Engine) -> shapely.Geometry:
    """The longest gas pipeline of the demo, in metres."""
    pipes = store.read_layer(engine, "pipelines").to_crs(EPSG)
    gas = pipes[pipes["medium"] == "gas"]
    assert len(gas), "the demo has gas pipelines"
    return gas.geometry.iloc[int(gas.length.to_numpy().argmax())]


def beside(line: shapely.Geometry, offset_m: float, at: float = 0.5, size_m: float = 30.0) -> shapely.Geometry:
    """A square parcel (EPSG:4490) ``offset_m`` to the side of ``line`` at fraction ``at`` of its length."""
    merged = shapely.line_merge(line)
    part = max(getattr(merged, "geoms", [merged]), key=lambda g: g.length)
    p = part.interpolate(at, normalized=True)
    q = part.interpolate(min(at + 0.001, 1.0), normalized=True)
    dx, dy = q.x - p.x, q.y - p.y
    norm = (dx * dx + dy * dy) ** 0.5
    centre = shapely.Point(p.x - dy / norm * offset_m, p.y + dx / norm * offset_m)
    return gpd.GeoSeries([centre.buffer(size_m / 2, cap_style="square")], crs=EPSG).to_crs(4490).iloc[0]


@pytest.mark.parametrize("use", ["学校", "hospital", "residential", "commercial", "factory", "elderly_home",
                                 "kindergarten", "尾矿库", "化工项目"])
def test_every_kind_of_site_beside_a_gas_line(demo: Engine, use: str) -> None:
    site = beside(gas_line(demo), 40.0)
    rules = effective_ruleset(demo)
    narrow_bundle = bundle_near(demo, site, rules=rules)
    wide = wide_bundle(demo, site)
    assert len(narrow_bundle["buildings"]) < len(wide["buildings"])  # the read is narrower
    narrow = precheck_site(narrow_bundle, site, use, rules=rules, households=120, population=400)
    assert_same(narrow, precheck_site(wide, site, use, rules=rules, households=120, population=400))


def test_a_site_near_the_edge_of_the_narrowed_selection(demo: Engine) -> None:
    """Sites just inside and just outside the HCA reach, and at the edge of the selection's margin."""
    line = gas_line(demo)
    rules = effective_ruleset(demo)
    pipes = store.read_layer(demo, "pipelines")
    lateral = hca_lateral_m(rules, pipes)
    assert lateral is not None and lateral >= 200.0
    seen = set()
    for offset in (195.0, 205.0, lateral - 5.0, lateral + NEAR_MARGIN_M - 10.0, lateral + NEAR_MARGIN_M + 10.0):
        for at in (0.2, 0.5, 0.8):
            site = beside(line, offset, at=at)
            for use in ("学校", "residential"):
                narrow = precheck_site(bundle_near(demo, site, rules=rules), site, use, rules=rules, households=200)
                wide = precheck_site(wide_bundle(demo, site), site, use, rules=rules, households=200)
                assert_same(narrow, wide)
                seen.update(narrow.reasons["rule_code"])
    assert seen  # some of these sites have reasons, so the comparison compares something


def test_a_site_far_from_every_pipeline_reads_no_buildings(demo: Engine) -> None:
    pipes = store.read_layer(demo, "pipelines").to_crs(EPSG)
    districts = store.read_districts(demo).to_crs(EPSG)
    corridor = pipes.buffer(6000.0).union_all()
    free = districts.union_all().buffer(-1000.0).difference(corridor)
    assert not free.is_empty
    site = gpd.GeoSeries([free.representative_point().buffer(20.0)], crs=EPSG).to_crs(4490).iloc[0]
    rules = effective_ruleset(demo)
    narrow_bundle = bundle_near(demo, site, rules=rules)
    assert len(narrow_bundle["pipelines"]) == 0 and len(narrow_bundle["buildings"]) == 0
    for use in ("学校", "hospital", "尾矿库"):
        assert_same(precheck_site(narrow_bundle, site, use, rules=rules),
                    precheck_site(wide_bundle(demo, site), site, use, rules=rules))


def test_leaving_out_rules_and_far_features_changes_no_verdict(demo: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site run leaves out the rules that judge existing features only, and the plant parts and
    pipelines beyond every code separation and pipeline distance: sites beside plant parts and a gas
    line get the same verdict as with every rule of the site families run on every feature read."""
    from geo.checks import site as site_module
    from geo.checks.families import FAMILIES
    from geo.checks.ruleset import RuleSet

    rules = effective_ruleset(demo)
    parts = store.read_layer(demo, "installations").to_crs(EPSG)
    assert len(parts), "the demo has plant parts"
    sites = [beside(gas_line(demo), d, at=0.3) for d in (3.0, 20.0)]
    for i in range(0, len(parts), max(1, len(parts) // 4)):
        for d in (30.0, 80.0, 160.0):
            centre = parts.geometry.iloc[i].centroid
            sites.append(gpd.GeoSeries([shapely.Point(centre.x + d, centre.y).buffer(10.0)], crs=EPSG)
                         .to_crs(4490).iloc[0])
    narrowed = {(k, use): precheck_site(bundle_near(demo, s, rules=rules), s, use, rules=rules, households=80)
                for k, s in enumerate(sites) for use in ("学校", "residential", "commercial")}
    every = RuleSet(rules.version, {c: r for c, r in rules.rules.items() if FAMILIES[r.family].precheck == "site"})
    monkeypatch.setattr(site_module, "site_ruleset", lambda _rules: every)
    monkeypatch.setattr(site_module, "site_reach_m", lambda _rules: 1e7)
    monkeypatch.setattr(site_module, "_largest_m", lambda _rules: 1e7)
    seen: set[str] = set()
    for (k, use), verdict in narrowed.items():
        s = sites[k]
        assert_same(verdict, precheck_site(bundle_near(demo, s, rules=rules), s, use, rules=rules, households=80))
        seen.update(verdict.reasons["rule_code"])
    assert {"PIPE_OCCUPY"} <= seen and any(c.startswith("CODE_") for c in seen), seen
