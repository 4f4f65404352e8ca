"""Project only what is within reach: the storage-CRS near filter and the per-row projection cache (issue #16).

:meth:`Bundle.near` filters a layer's rows by a spatial index on their EPSG:4490 geometries with a
degree distance (:func:`geo.checks.metric_frame.degree_reach`); the rules then measure in metres on
the rows :meth:`Bundle.metric_rows` projects. The filter must never miss a row whose true metric
distance is within reach: checked here against brute-force metric distances on random lines (with
segments up to 25 km long, whose straight chords in the zone bow away from the degree-straight
lines) and footprints placed exactly at, just inside and just beyond the reach, at latitudes 21–29°,
on a zone's central meridian, at and beyond its edge. The cache must project each row once and give
``to_crs``'s coordinates bit for bit.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pandas.testing import assert_frame_equal
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box

from geo.checks.bundle import Bundle
from geo.checks.metric_frame import degree_reach
from geo.checks.pipeline import check_pipelines
from geo.checks.ruleset import load_ruleset
from geo.constants import STORAGE_SRID
from geo.crs import gk_zone_epsg

SEED = 20261207


def _project(geoms: list[Any], src: int, dst: int) -> list[Any]:
    return list(gpd.GeoSeries(geoms, crs=src).to_crs(dst))


def _random_lines(rng: np.random.Generator, lon0: float, lat0: float, n: int) -> list[LineString]:
    """Lines in degrees around (lon0, lat0): short and long segments, some with 25 km straight runs."""
    lines = []
    for _ in range(n):
        k = int(rng.integers(2, 12))
        step = rng.choice([0.0005, 0.005, 0.05, 0.22], size=k - 1)
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.6, size=k - 1))
        xy = np.zeros((k, 2))
        xy[0] = lon0 + rng.uniform(-0.3, 0.3), lat0 + rng.uniform(-0.3, 0.3)
        xy[1:] = xy[0] + np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]) * step[:, None], axis=0)
        lines.append(LineString(xy))
    return lines


def _features_near(rng: np.random.Generator, lines_m: list[LineString], reach: float, n: int) -> list[Any]:
    """Footprints and points (metric) with their nearest side at about ``reach`` from a random line point."""
    out: list[Any] = []
    for _ in range(n):
        line = lines_m[int(rng.integers(len(lines_m)))]
        s = rng.uniform(0, line.length)
        p, q = line.interpolate(max(s - 0.5, 0.0)), line.interpolate(min(s + 0.5, line.length))
        t = np.array([q.x - p.x, q.y - p.y])
        t = t / (np.hypot(*t) or 1.0)
        normal = np.array([-t[1], t[0]]) * rng.choice([-1.0, 1.0])
        off = reach * rng.choice([1.0, 1.0, 0.999, 1.001, 0.5, 1.02, 1.1]) + rng.choice([0.0, 0.0, -0.004, 0.004])
        c = np.array(line.interpolate(s).coords[0]) + normal * off
        kind = rng.integers(3)
        if kind == 0:
            out.append(Point(c))
        else:
            w, h = rng.uniform(4, 30), rng.uniform(4, 30)
            centre = c + normal * (h / 2)
            rect = box(centre[0] - w / 2, centre[1] - h / 2, centre[0] + w / 2, centre[1] + h / 2)
            angle = float(np.degrees(np.arctan2(normal[1], normal[0]))) - 90.0
            out.append(shapely.affinity.rotate(rect, angle, origin=Point(c)))
    return out


# (longitude, latitude) of the data, and the zone it is measured in: on the central meridian, at the
# zone's edge (1.5° off), beyond it (the next zone's data measured here, 3° off)
PLACES = [pytest.param(102.0, 21.2, gk_zone_epsg(102.0), id="21N-CM"),
          pytest.param(103.45, 25.0, gk_zone_epsg(102.0), id="25N-zone-edge"),
          pytest.param(105.0, 28.8, gk_zone_epsg(102.0), id="29N-next-zone"),
          pytest.param(99.2, 24.0, gk_zone_epsg(99.2), id="24N-CM99")]


@pytest.mark.parametrize(("lon0", "lat0", "epsg"), PLACES)
@pytest.mark.parametrize("reach", [0.0, 5.01, 200.0, 1000.0])
def test_near_never_misses_a_row_within_reach(lon0: float, lat0: float, epsg: int, reach: float) -> None:
    rng = np.random.default_rng(SEED + int(reach * 100) + int(lon0 * 10))
    lines = _random_lines(rng, lon0, lat0, 6)
    lines_m = _project(lines, STORAGE_SRID, epsg)
    feats = _project(_features_near(rng, lines_m, reach, 600), epsg, STORAGE_SRID)
    layer = gpd.GeoDataFrame({"key": [f"B{i}" for i in range(len(feats))]}, geometry=feats, crs=STORAGE_SRID)
    bundle = Bundle({"buildings": layer, "pipelines": gpd.GeoDataFrame(geometry=lines, crs=STORAGE_SRID)},
                    metric_epsg=epsg)
    found = bundle.near("buildings", np.asarray(lines, dtype=object), reach)
    # brute force: every row against every line, in metres in the zone
    metric = np.asarray(layer.to_crs(epsg).geometry.array, dtype=object)
    d = shapely.distance(metric[:, None], np.asarray(lines_m, dtype=object)[None, :]).min(axis=1)
    within = set(np.flatnonzero(d <= reach).tolist())
    assert len(within) > 100   # many rows sit at the reach itself, not only well inside it
    missed = within - set(found.tolist())
    assert not missed, f"near() missed rows {sorted(missed)[:5]} at {d[sorted(missed)[:5]]} m (reach {reach} m)"
    # and it is a filter: rows beyond twice the reach (+ 30 m for the bowing of 25 km chords) stay out
    assert not set(found.tolist()) & set(np.flatnonzero(d > 2 * reach + 30.0).tolist())


def test_near_finds_rows_at_the_reach_in_every_direction_at_a_high_latitude() -> None:
    """A degree of longitude is shortest at the highest latitude: the filter is scaled there."""
    epsg = gk_zone_epsg(102.0)
    centre_m = _project([Point(102.0, 29.0)], STORAGE_SRID, epsg)[0]
    pipe_m = Point(centre_m.x, centre_m.y)
    angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    pts_m = [Point(pipe_m.x + 50.0 * np.cos(a), pipe_m.y + 50.0 * np.sin(a)) for a in angles]
    pts = _project(pts_m, epsg, STORAGE_SRID)
    layer = gpd.GeoDataFrame({"key": [str(i) for i in range(len(pts))]}, geometry=pts, crs=STORAGE_SRID)
    bundle = Bundle({"buildings": layer}, metric_epsg=epsg)
    around = _project([pipe_m], epsg, STORAGE_SRID)
    d = shapely.distance(np.asarray(layer.to_crs(epsg).geometry.array, dtype=object), pipe_m)
    reach = float(d.max())
    assert list(bundle.near("buildings", around, reach)) == list(range(len(pts)))
    assert len(bundle.near("buildings", around, 30.0)) == 0


def test_degree_reach_refuses_latitudes_it_is_not_made_for() -> None:
    assert degree_reach(5.0, 60.0) > degree_reach(5.0, 25.0) > 5.0 / 111_320
    with pytest.raises(ValueError, match="80"):
        degree_reach(5.0, 85.0)


def test_near_of_nothing_and_rows_without_geometry() -> None:
    layer = gpd.GeoDataFrame({"key": ["a", "b", "c", "d"]},
                             geometry=[None, Polygon(), Point(102.0, 25.0), Point(102.0, 25.0001)], crs=STORAGE_SRID)
    bundle = Bundle({"buildings": layer}, metric_epsg=gk_zone_epsg(102.0))
    assert bundle.near("buildings", [], 5.0).tolist() == []
    assert bundle.near("buildings", [None, Point()], 5.0).tolist() == []
    assert bundle.near("buildings", [Point(102.0, 25.0)], 5.0).tolist() == [2]
    assert bundle.near("buildings", [Point(102.0, 25.0)], 12.0).tolist() == [2, 3]
    assert bundle.near("pipelines", [Point(102.0, 25.0)], 5.0).tolist() == []   # an empty layer
    metres = Bundle({"buildings": layer.to_crs(4543)}, metric_epsg=4543)   # not storage coordinates: no filter
    assert metres.near("buildings", [Point(0.0, 0.0)], 5.0).tolist() == [2, 3]


@pytest.fixture
def projections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many geometries each ``GeometryArray.to_crs`` call projects, in order."""
    sizes: list[int] = []
    real = gpd.array.GeometryArray.to_crs

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        sizes.append(len(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(gpd.array.GeometryArray, "to_crs", counting)
    yield sizes


def _buildings(n: int = 400) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(SEED)
    geoms: list[Any] = [box(x, y, x + 0.0001, y + 0.00008)
                        for x, y in zip(rng.uniform(102.6, 102.8, n), rng.uniform(24.9, 25.1, n), strict=True)]
    geoms[7], geoms[11] = None, Polygon()
    geoms[13] = Point(102.7, 25.0, 1900.0)   # a point with a height
    return gpd.GeoDataFrame({"key": [f"B{i}" for i in range(n)], "name": [f"楼{i}" for i in range(n)],
                             "floors": rng.integers(1, 30, n)}, geometry=geoms, crs=STORAGE_SRID,
                            index=np.arange(1000, 1000 + n))


def _same_coordinates(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    assert_geodataframe_equal(a, b)
    ga, gb = np.asarray(a.geometry.array, dtype=object), np.asarray(b.geometry.array, dtype=object)
    assert np.array_equal(shapely.get_coordinates(ga, include_z=True), shapely.get_coordinates(gb, include_z=True),
                          equal_nan=True)
    assert (shapely.is_missing(ga) == shapely.is_missing(gb)).all()


def test_metric_rows_project_each_row_once_and_equal_to_crs(projections: list[int]) -> None:
    frame = _buildings()
    epsg = gk_zone_epsg(102.7)
    bundle = Bundle({"buildings": frame}, metric_epsg=epsg)
    first, second = np.array([5, 7, 11, 13, 40, 3]), np.array([40, 3, 3, 99, 13, 200])
    got = bundle.metric_rows("buildings", first)
    assert projections == [len(set(first.tolist()))]
    _same_coordinates(got, frame.iloc[first].to_crs(epsg))
    projections.clear()
    got = bundle.metric_rows("buildings", second)
    assert projections == [2]   # 99 and 200 only
    _same_coordinates(got, frame.iloc[second].to_crs(epsg))
    projections.clear()
    whole = bundle.metric("buildings")   # the whole layer projects only the rows not projected before
    assert projections == [len(frame) - len(set(first.tolist()) | set(second.tolist()))]
    _same_coordinates(whole, frame.to_crs(epsg))
    projections.clear()
    got = bundle.metric_rows("buildings", second)   # from now on the whole projection serves
    assert projections == []
    _same_coordinates(got, frame.iloc[second].to_crs(epsg))
    _same_coordinates(bundle.metric_rows("buildings", np.array([], dtype=int)), frame.iloc[[]].to_crs(epsg))


def test_a_copy_of_the_frames_starts_cold_and_a_pickled_bundle_keeps_its_rows(projections: list[int]) -> None:
    frame = _buildings()
    epsg = gk_zone_epsg(102.7)
    bundle = Bundle({"buildings": frame}, metric_epsg=epsg)
    bundle.metric_rows("buildings", [1, 2, 3])
    again = pickle.loads(pickle.dumps(bundle))
    assert projections == [3]
    got = again.metric_rows("buildings", [3, 2, 1])
    assert projections == [3]   # the rows came with the pickle
    _same_coordinates(got, frame.iloc[[3, 2, 1]].to_crs(epsg))
    projections.clear()
    cold = Bundle({k: v.copy() for k, v in bundle.frames.items()}, metric_epsg=epsg)
    cold.metric_rows("buildings", [1, 2, 3])
    assert projections == [3]


def test_pipe_occupy_projects_only_buildings_near_the_lines_and_finds_the_same(projections: list[int]) -> None:
    from benchmarks.citygen import generate_city
    city = generate_city(scale=0.01)
    rules = load_ruleset()
    rules = type(rules)(rules.version, {"PIPE_OCCUPY": rules["PIPE_OCCUPY"]})
    lazy = Bundle({k: v.copy() for k, v in city.frames.items()}, metric_epsg=city.metric_epsg)
    whole = Bundle({k: v.copy() for k, v in city.frames.items()}, metric_epsg=city.metric_epsg)
    whole.metric("buildings")
    projections.clear()
    found = check_pipelines(lazy, rules)
    n_buildings = len(city["buildings"])
    assert 0 < max(projections) < n_buildings / 5    # the buildings near the lines, not the layer
    expected = check_pipelines(whole, rules)
    assert (found["object_type"] == "buildings").sum() > 20
    assert_frame_equal(found.drop(columns="geometry"), expected.drop(columns="geometry"))
    assert shapely.equals_exact(found.geometry.array, expected.geometry.array, tolerance=0).all()


def _roads(rng: np.random.Generator, lines: list[Any], dist: float) -> list[Any]:
    """Line rows about the pipelines: walks crossing them, laid along them at ``dist``, multi-part, one-segment."""
    from tests.test_checks_equivalence import _walk
    out: list[Any] = []
    for geom in lines:
        xy = shapely.get_coordinates(geom)
        for _ in range(25):
            k = int(rng.integers(len(xy)))
            out.append(LineString(_walk(rng, (float(xy[k][0]) - 300.0, float(xy[k][1])), 12, rng.uniform(20, 150))))
        k = int(rng.integers(max(len(xy) - 3, 1)))   # laid along the line at exactly ``dist`` (a parallel offset)
        along = LineString(xy[k:k + 3]).offset_curve(dist)
        if not along.is_empty:
            out.append(along)
        a = _walk(rng, (float(xy[0][0]), float(xy[0][1]) + dist), 6, 80.0)
        out.append(MultiLineString([LineString(a), LineString(a[-1] + _walk(rng, (500.0, 0.0), 6, 80.0))]))
        out.append(LineString([xy[k], xy[k] + (dist, 2 * dist)]))   # one segment from a vertex of the line
    return out


@pytest.mark.parametrize("dist", [0.0, 5.0, 50.0])
def test_near_pieces_measure_line_rows_as_whole_lines(dist: float) -> None:
    """Roads are measured by their pieces: the same distances, pairs and shortest lines as whole."""
    from geo.checks.pipeline.lines import PAD_M, near_pieces
    from tests.test_checks_equivalence import STRAIGHT, _lines, _lines_of
    from tests.test_checks_line_memo import _pipes
    rng = np.random.default_rng(SEED + int(dist))
    geoms = _lines(rng)
    rows = [*_roads(rng, geoms, dist), LineString([(0, 0), (1, 1)]), box(0, 0, 1, 1)]   # far away, any type
    frame = gpd.GeoDataFrame({"key": [f"R{i}" for i in range(len(rows))]}, geometry=rows, crs=4543)
    pipes = _pipes(_lines_of([*geoms, STRAIGHT]))
    got = near_pieces(pipes, frame, dist)
    whole = np.asarray([p.geom for p in pipes], dtype=object)
    lines = np.asarray(frame.geometry.array, dtype=object)
    i, j = (a.ravel() for a in np.meshgrid(np.arange(len(pipes)), np.arange(len(frame)), indexing="ij"))
    within = shapely.distance(whole[i], lines[j]) <= dist + PAD_M
    assert within.sum() > 40 and (shapely.distance(whole[got.pipe], lines[got.row]) == 0).sum() > 10
    assert np.array_equal(got.pipe, i[within]) and np.array_equal(got.row, j[within])
    assert np.array_equal(got.d, shapely.distance(whole[got.pipe], lines[got.row]))     # bit for bit
    mine = shapely.shortest_line(got.near, lines[got.row])
    theirs = shapely.shortest_line(whole[got.pipe], lines[got.row])
    assert np.array_equal(shapely.get_coordinates(mine), shapely.get_coordinates(theirs))
