"""The pipeline and HCA families' faster searches give bit for bit what the whole-line measures gave (issue #16).

:func:`geo.checks.pipeline.lines.near_pieces` measures features against short query pieces instead
of whole pipelines, :func:`geo.checks.location_class.along_extent_all` searches the index once for
many lines, and the crossing inventory keeps the parts, segments and overlaps of lines it asks about
again (:class:`~geo.checks.pipeline.lines.SegmentMemo`, :class:`~geo.checks.pipeline.crossings.LaidOn`).
Each is compared here with the straightforward measure on the seeded set of
``tests/test_checks_equivalence.py`` (features exactly at and a hair beyond the distance, footprints
on vertices where pieces meet, multi-part lines with gaps, long and dense segments).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pandas.testing import assert_frame_equal
from shapely.geometry import LineString, MultiLineString, Point

import geo.checks.location_class as lc
from geo.checks.mileage import Chainage
from geo.checks.pipeline.crossings import LaidOn
from geo.checks.pipeline.lines import PAD_M, Pipe, SegmentMemo, direction_at, near_pieces
from tests.catalogue import KUNMING_GK
from tests.test_checks_equivalence import SEED, STRAIGHT, _at_the_distance, _features, _lines, _lines_of


@pytest.fixture(scope="module")
def seeded() -> tuple[list[lc.Line], dict[float, gpd.GeoDataFrame]]:
    rng = np.random.default_rng(SEED)
    geoms = _lines(rng)
    frames = {}
    for dist in (5.0, 50.0, 200.0):
        feats = _features(rng, geoms, dist) + _at_the_distance(dist)
        frames[dist] = gpd.GeoDataFrame({"key": [f"F{i}" for i in range(len(feats))]}, geometry=feats, crs=KUNMING_GK)
    return _lines_of([*geoms, STRAIGHT]), frames


def _pipes(lines: list[lc.Line]) -> list[Pipe]:
    return [Pipe(key=ln.key, name=None, medium="gas", start_m=0.0, geom=MultiLineString(list(ln.chain.parts)),
                 chain=ln.chain) for ln in lines]


@pytest.mark.parametrize(("distance", "layer"), [(0.0, 5.0), (5.0, 5.0), (50.0, 50.0), (200.0, 200.0)])
def test_near_pieces_measure_as_the_whole_pipeline(seeded: Any, distance: float, layer: float) -> None:
    lines, frames = seeded
    pipes, frame = _pipes(lines), frames[layer]
    got = near_pieces(pipes, frame, distance)
    whole = np.asarray([p.geom for p in pipes], dtype=object)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    # every pair, measured against the whole pipeline
    i, j = (a.ravel() for a in np.meshgrid(np.arange(len(pipes)), np.arange(len(frame)), indexing="ij"))
    within = shapely.distance(whole[i], geoms[j]) <= distance + PAD_M
    assert within.sum() > 20
    assert np.array_equal(got.pipe, i[within]) and np.array_equal(got.row, j[within])   # same pairs, same order
    assert np.array_equal(got.d, shapely.distance(whole[got.pipe], geoms[got.row]))     # bit for bit
    mine = shapely.shortest_line(got.near, geoms[got.row])
    theirs = shapely.shortest_line(whole[got.pipe], geoms[got.row])
    assert np.array_equal(shapely.get_coordinates(mine), shapely.get_coordinates(theirs))
    pieces = np.asarray([n is not w for n, w in zip(got.near, whole[got.pipe], strict=True)])
    assert (~pieces).any() and (pieces.any() or distance == 0)   # pieces measure; the whole line at 0 or a tie


def test_near_pieces_of_nothing() -> None:
    empty = gpd.GeoDataFrame({"key": []}, geometry=[], crs=KUNMING_GK)
    assert len(near_pieces([], empty, 5.0).row) == 0
    pipe = Pipe(key="P", name=None, medium="gas", start_m=0.0, geom=STRAIGHT, chain=Chainage.of(STRAIGHT, None))
    assert len(near_pieces([pipe], empty, 5.0).d) == 0


@pytest.mark.parametrize("dist", [5.0, 50.0, 200.0])
def test_along_extent_of_all_lines_is_that_of_each(seeded: Any, dist: float) -> None:
    lines, frames = seeded
    frame = frames[dist]
    together = lc.along_extent_all(lines, frame, dist)
    assert len(together) == len(lines) and sum(len(t) for t in together) > 50
    for ln, got in zip(lines, together, strict=True):
        assert_frame_equal(got, lc.along_extent(ln, frame, dist))


def test_along_extent_of_all_lines_with_nothing_near(seeded: Any) -> None:
    lines, _frames = seeded
    far = gpd.GeoDataFrame({"key": ["X"]}, geometry=[Point(0.0, 0.0)], crs=KUNMING_GK)
    assert [len(t) for t in lc.along_extent_all(lines, far, 5.0)] == [0] * len(lines)
    assert lc.along_extent_all([], far, 5.0) == []


def test_directions_from_the_memo_are_those_measured_afresh(seeded: Any) -> None:
    lines, _frames = seeded
    rng = np.random.default_rng(SEED + 2)
    memo = SegmentMemo()
    for ln in _pipes(lines):
        xy = shapely.get_coordinates(ln.geom)
        for k in rng.integers(0, len(xy), 12):
            for p in (Point(xy[k]), Point(xy[k] + rng.normal(0, 3.0, 2))):   # on a vertex and off it
                assert np.array_equal(direction_at(ln.geom, p, memo), direction_at(ln.geom, p))
                assert np.array_equal(direction_at(ln.geom, p, memo), direction_at(ln.geom, p))   # asked again


def test_laid_on_is_measured_once_and_as_before() -> None:
    pipe = LineString([(0, 0), (100, 0), (200, 50)])
    road = LineString([(50, 0.004), (100, 0.004), (100, 30)])    # on the pipe for 50 m, then away
    crossing = LineString([(150, -20), (150, 60)])
    laid = LaidOn()
    want = [p for p in shapely.get_parts(shapely.intersection(pipe, road.buffer(0.01, quad_segs=2)))
            if p.length >= 1.0]
    got = laid(pipe, road)
    assert [g.wkb for g in got] == [w.wkb for w in want] and len(got) == 1
    assert laid(pipe, road) is got                    # the memo answers the second time
    assert laid.runs_along(pipe, road) and not laid.runs_along(pipe, crossing)
    assert laid(pipe, Point(50, 0)) == []             # a point does not lie along the pipe
