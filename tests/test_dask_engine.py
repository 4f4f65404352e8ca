"""The Dask engine finds exactly what the single process finds: across tile edges, zones and the database.

Each test starts its own LocalCluster (2 process workers) through the engine and closes it.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from benchmarks.citygen import generate_city
from geo import store
from geo.checks.dask_engine import FrameSource, run_partitioned
from geo.checks.partition import finding_anchors, owners, rule_reach_m, zoned_reference
from geo.checks.ruleset import RuleSet, load_ruleset
from geo.checks.runner import run_checks
from geo.constants import STORAGE_SRID
from geo.crs import gk_zone_epsg

AS_OF = dt.date(2026, 11, 1)
#: The boundary between the Gauss-Krüger zones of CM 102°E (EPSG:4543) and CM 105°E (EPSG:4544).
ZONE_EDGE = 103.5
COLUMNS = ["rule_code", "subject_type", "subject_key", "object_type", "object_key", "verdict", "measured_m",
           "required_m", "adcode", "detail"]


def _rows(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings as comparable text rows (geometry as WKT to a tenth of a millimetre), sorted."""
    out = findings[COLUMNS].astype(object).where(findings[COLUMNS].notna(), None).astype(str)
    geoms = np.asarray(findings.geometry.values, dtype=object)
    out["geometry"] = [shapely.to_wkt(g, rounding_precision=9) if g is not None else "None" for g in geoms]
    return out.sort_values([*COLUMNS, "geometry"]).reset_index(drop=True)


def _shifted_city(dx: float, window: tuple[float, float, float, float]) -> dict[str, gpd.GeoDataFrame]:
    """The 1/30 benchmark city moved east by ``dx`` degrees, its features meeting ``window`` (lon/lat)."""
    city = generate_city(scale=1 / 30)
    box = shapely.box(*window)
    frames = {}
    for name, frame in city.frames.items():
        moved = shapely.transform(np.asarray(frame.geometry.values, dtype=object), lambda xy: xy + np.array([dx, 0.0]))
        out = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=list(moved), crs=STORAGE_SRID)
        frames[name] = out if name in ("districts", "enterprises", "hcas") else out[out.intersects(box)]
    return frames


def _straddling_buildings(frames: dict[str, gpd.GeoDataFrame], tile_m: float) -> gpd.GeoDataFrame:
    """Buildings 4 m from a pipeline on the far side of a tile edge from the pipe (2 m squares).

    Where a pipeline crosses a vertical tile edge ``x = k·tile_m`` (in its zone's metres), a point of the
    line 0.5 m east of the edge gets a building 4 m away across the edge, so the shortest line of the
    PIPE_OCCUPY finding starts in one tile and ends in the next.
    """
    rows: list[dict[str, object]] = []
    geoms: list[shapely.Geometry] = []
    template = frames["buildings"].iloc[0]
    for pipe in frames["pipelines"].itertuples():
        epsg = gk_zone_epsg(shapely.point_on_surface(pipe.geometry).x)
        line = gpd.GeoSeries([pipe.geometry], crs=STORAGE_SRID).to_crs(epsg).iloc[0]
        x0, y0, x1, y1 = line.bounds
        for k in range(int(np.ceil(x0 / tile_m)), int(np.floor(x1 / tile_m)) + 1):
            edge = shapely.LineString([(k * tile_m, y0 - 1), (k * tile_m, y1 + 1)])
            for hit in shapely.get_parts(line.intersection(edge)):
                if hit.geom_type != "Point":
                    continue
                s = line.project(hit)
                a, b = line.interpolate(s - 1.0), line.interpolate(s + 1.0)
                t = np.array([b.x - a.x, b.y - a.y]) / 2.0
                if abs(t[1]) < 0.5:
                    continue
                t = t if t[0] > 0 else -t  # along the line, eastwards
                p = line.interpolate(s + 0.5 if (b.x > a.x) else s - 0.5)
                n = np.array([-t[1], t[0]]) if t[1] > 0 else np.array([t[1], -t[0]])  # the normal pointing west
                c = np.array([p.x, p.y]) + 4.0 * n
                geoms.append(gpd.GeoSeries([shapely.box(c[0] - 1, c[1] - 1, c[0] + 1, c[1] + 1)], crs=epsg)
                             .to_crs(STORAGE_SRID).iloc[0])
                rows.append({**template.drop("geometry").to_dict(), "key": f"BX{len(rows):03d}", "households": 3})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=STORAGE_SRID)


def test_partitioned_run_equals_single_process_across_tiles_and_zones() -> None:
    # the city's pipelines (102.4–102.7°E) moved onto the zone boundary; a 45 km × 45 km window of it
    frames = _shifted_city(0.96, (103.3, 25.0, 103.75, 25.4))
    rules = load_ruleset()
    pipes = frames["pipelines"]
    crossing = pipes[(pipes.bounds["minx"] < ZONE_EDGE) & (pipes.bounds["maxx"] > ZONE_EDGE)]
    assert len(crossing) >= 1, "the test set must have a pipeline crossing the zone boundary"

    tile_m = 5000.0
    extra = _straddling_buildings(frames, tile_m)
    assert len(extra) >= 3
    frames["buildings"] = gpd.GeoDataFrame(pd.concat([frames["buildings"], extra], ignore_index=True),
                                           crs=STORAGE_SRID)
    reference = zoned_reference(frames, rules, lambda b: run_checks(b, rules, as_of=AS_OF))
    run = run_partitioned(FrameSource(frames), rules, tile_m=tile_m, as_of=AS_OF, workers=2)
    found = run.result.findings

    assert len(reference) > 100
    pd.testing.assert_frame_equal(_rows(found), _rows(reference))
    # every family has findings, measured in both zones
    assert {rules[c].family for c in found["rule_code"]} >= {"safety_distance", "pipeline", "hca", "code_separation"}
    zones = {gk_zone_epsg(p.x) for p in finding_anchors(found, frames)}
    assert zones == {4543, 4544}
    # HCA findings of a pipeline crossing the zone boundary, from whichever tile owns the line
    assert set(found.loc[found["rule_code"].isin(["LOC_CLASS", "HCA_GAS", "HCA_OIL"]), "subject_key"]) \
        & set(crossing["key"])
    # findings straddle tile edges: the two ends of a shortest line, a crossing stretch or an HCA
    # segment lie in different tiles (pairs among them)
    geoms = [g for g in found.geometry.values if g is not None and not g.is_empty and g.geom_type != "Point"]
    coords = [shapely.get_coordinates(g) for g in geoms]
    starts = owners([shapely.Point(c[0]) for c in coords], tile_m)
    ends = owners([shapely.Point(c[-1]) for c in coords], tile_m)
    across = (starts != ends).any(axis=1).to_numpy()
    pairs = np.array([g.geom_type == "LineString" and len(c) == 2 for g, c in zip(geoms, coords, strict=True)])
    assert across.sum() >= 10 and (across & pairs).sum() >= 3, (across.sum(), (across & pairs).sum())
    assert set(found.loc[found["rule_code"] == "PIPE_OCCUPY", "object_key"]) >= set(extra["key"])
    assert run.halo_m >= rule_reach_m(rules)
    assert len(run.peak_rss_mb) == 2 and all(v > 0 for v in run.peak_rss_mb.values())


@pytest.mark.postgis
def test_cli_dask_engine_reads_postgis_by_tile_and_stores_the_same_findings(demo_copy: dict[str, str]) -> None:
    from geo.checks.sources import bundle_from_store
    from geo.rule_admin import effective_ruleset
    from riskmap.cli import main

    engine = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    try:
        rules: RuleSet = effective_ruleset(engine)
        frames = bundle_from_store(engine).frames
        reference = zoned_reference(frames, rules, lambda b: run_checks(b, rules, as_of=AS_OF))
        before = len(store.read_findings(engine))
        result = CliRunner().invoke(main, ["check", "--engine", "dask", "--workers", "2", "--tile-km", "30",
                                           "--as-of", AS_OF.isoformat(), "--summary-only"], env=demo_copy)
        assert result.exit_code == 0, result.output
        assert "partitions of 30 km" in result.output and "on tcp://" in result.output
        stored = store.read_findings(engine)
    finally:
        engine.dispose()
    assert len(reference) > 100
    assert f"total findings: {len(reference)}" in result.output
    current = stored[stored["status"] != "resolved"] if before else stored
    ident = ["rule_code", "subject_key", "object_key", "verdict"]
    got = {(*r[:4], None if pd.isna(r[4]) else round(float(r[4]), 2))
           for r in current[[*ident, "measured_m"]].itertuples(index=False)}
    want = {(*r[:4], None if pd.isna(r[4]) else round(float(r[4]), 2))
            for r in reference[[*ident, "measured_m"]].itertuples(index=False)}
    assert got == want


def test_lazily_generated_province_piece_equals_single_process() -> None:
    from benchmarks.province import Province, ProvinceSource

    # 2 × 2 cells of 0.25° astride 103.5°E, generated in the tasks cell by cell
    source = ProvinceSource(Province(west=103.25, south=25.0, cols=2, rows=2, density=0.2))
    rules = load_ruleset()
    reference = zoned_reference(source.frames(), rules, lambda b: run_checks(b, rules, as_of=AS_OF))
    run = run_partitioned(source, rules, tile_m=8000.0, as_of=AS_OF, workers=2)
    assert len(reference) > 50 and {"PIPE_OCCUPY", "LOC_CLASS"} <= set(reference["rule_code"])
    pd.testing.assert_frame_equal(_rows(run.result.findings), _rows(reference))
    assert sum(t.buildings for t in run.tiles) == len(source.frames()["buildings"])
