"""The fast corridor searches give exactly what the straightforward searches gave (issue #16).

:mod:`geo.checks.line_search` asks the spatial index once for all lines, with short query pieces,
where the location classes asked it once per pipeline with kilometre-long locating pieces, and the
pipeline family's :func:`~geo.checks.pipeline.lines.near_pairs` cut lines into 16-vertex pieces.
The straightforward searches are kept here as references; the fast ones must match them bit for
bit (rows, nearest pieces, distances, mileages) on a seeded synthetic set with the awkward cases:
features exactly at and a hair beyond the distance, footprints crossing the line or touching it at
a vertex where pieces meet, lines touching each other, multi-part lines with gaps, long and dense
segments, and empty layers. Whole families are compared too, with the reference searches swapped in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pandas.testing import assert_frame_equal
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box

import geo.checks.location_class as lc
import geo.checks.pipeline as pipeline_family
import geo.checks.pipeline.crossings as crossings
from geo.checks.bundle import Bundle
from geo.checks.hca import hca_family
from geo.checks.line_search import piece_pairs, query_pieces
from geo.checks.metric_frame import LOCATING_PIECE_VERTICES, cut_line
from geo.checks.mileage import Chainage
from geo.checks.pipeline import check_pipelines
from geo.checks.pipeline.lines import PAD_M, Pipe, near_pairs, read_pipes
from geo.checks.ruleset import load_ruleset
from tests.catalogue import KUNMING_GK, X0, Y0
from tests.catalogue import layer as _layer

SEED = 20261206


# ---------------------------------------------------------------------------
# the straightforward searches, as they were
# ---------------------------------------------------------------------------

def _ref_pairs(ln: lc.Line, frame: gpd.GeoDataFrame, dist: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (row, locating piece) within ``dist``: the locating pieces straight into the index."""
    if len(frame) == 0 or ln.pieces.size == 0:
        e = np.zeros(0, dtype=int)
        return e, e, np.zeros(0)
    pi, gi = frame.sindex.query(ln.pieces, predicate="dwithin", distance=dist)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    d = shapely.distance(geoms[gi], ln.pieces[pi])
    ok = d <= dist
    gi, pi, d = gi[ok], pi[ok], d[ok]
    order = np.lexsort((d, gi))
    return gi[order], pi[order], d[order]


def _ref_near(ln: lc.Line, frame: gpd.GeoDataFrame, dist: float) -> pd.DataFrame:
    """Row, mileage of the nearest point and distance of each feature within ``dist`` of one line."""
    gi, pi, d = _ref_pairs(ln, frame, dist)
    first = np.concatenate([[True], gi[1:] != gi[:-1]]) if len(gi) else np.zeros(0, dtype=bool)
    gi, pi, d = gi[first], pi[first], d[first]
    if not len(gi):
        return pd.DataFrame({"row": np.zeros(0, dtype=int), "s": np.zeros(0), "d": np.zeros(0)})
    geoms = np.asarray(frame.geometry.array, dtype=object)
    foot = shapely.get_point(shapely.shortest_line(geoms[gi], ln.pieces[pi]), 1)
    return pd.DataFrame({"row": gi, "s": ln.along(pi, foot), "d": d})


def _ref_near_all(lines: list[lc.Line], frame: gpd.GeoDataFrame, dist: float) -> list[pd.DataFrame]:
    return [_ref_near(ln, frame, dist) for ln in lines]


def _ref_near_pairs(pipes: list[Pipe], frame: gpd.GeoDataFrame, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """The pipeline family's candidate pairs, from 16-vertex pieces."""
    if not pipes or frame.empty:
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    pieces, owner = [], []
    for i, pipe in enumerate(pipes):
        for part in getattr(pipe.geom, "geoms", [pipe.geom]):
            for _first, piece in cut_line(shapely.get_coordinates(part)):
                pieces.append(piece)
                owner.append(i)
    q, t = frame.sindex.query(np.asarray(pieces, dtype=object), predicate="dwithin", distance=distance + PAD_M)
    if not len(q):
        return q, t
    pairs = np.unique(np.column_stack([np.asarray(owner)[q], t]), axis=0)
    return pairs[:, 0], pairs[:, 1]


# ---------------------------------------------------------------------------
# a seeded synthetic set with the awkward cases
# ---------------------------------------------------------------------------

def _walk(rng: np.random.Generator, start: tuple[float, float], n: int, step: float) -> np.ndarray:
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.3, n))
    return np.asarray(start) + np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]) * step, axis=0)


def _lines(rng: np.random.Generator) -> list[Any]:
    """Pipelines: long segments, dense segments, a multi-part line with a gap, lines touching and crossing."""
    long_walk = _walk(rng, (X0, Y0), 150, 400.0)             # 150 × 400 m: locating pieces 25 km long
    dense = _walk(rng, (X0 + 3000, Y0 - 2000), 700, 7.0)      # 700 × 7 m
    part_a = _walk(rng, (X0 - 4000, Y0 + 3000), 80, 60.0)
    part_b = part_a[-1] + _walk(rng, (900.0, 0.0), 80, 60.0)  # 900 m gap
    touching = np.array([long_walk[40], long_walk[40] + (3000.0, 2500.0)])  # starts on a vertex of the first
    crossing = np.array([long_walk[70] + (-2000.0, -10.0), long_walk[70] + (2000.0, 10.0)])
    return [MultiLineString([LineString(long_walk)]), MultiLineString([LineString(dense)]),
            MultiLineString([LineString(part_a), LineString(part_b)]), MultiLineString([LineString(touching)]),
            MultiLineString([LineString(crossing)])]


def _jitter(rng: np.random.Generator, at: np.ndarray, sigma: float) -> tuple[float, float]:
    x, y = at + rng.normal(0, sigma, 2)
    return float(x), float(y)


def _square(x: float, y: float, half: float) -> Polygon:
    return box(x - half, y - half, x + half, y + half)


def _features(rng: np.random.Generator, lines: list[Any], dist: float) -> list[Any]:
    """Footprints scattered about the lines, and some placed exactly on the awkward spots."""
    out: list[Any] = []
    for geom in lines:
        xy = shapely.get_coordinates(geom)
        # random footprints near the line
        for _ in range(120):
            x, y = xy[rng.integers(len(xy))] + rng.normal(0, dist, 2)
            out.append(_square(x, y, rng.uniform(2.0, 15.0)))
        # a footprint crossing the line at a vertex, and one whose corner touches a vertex
        for k in rng.integers(0, len(xy), 4):
            out.append(_square(float(xy[k][0]), float(xy[k][1]), 4.0))
            out.append(Polygon([xy[k], xy[k] + (6.0, 3.0), xy[k] + (2.0, 9.0)]))
    return out


#: The straight test line (``Y_EDGE``, from X0 to X0 + 1 km) beside which the exact-distance cases sit.
Y_EDGE = Y0 + 20_000.0
STRAIGHT = MultiLineString([LineString([(X0, Y_EDGE), (X0 + 1000, Y_EDGE)])])


def _at_the_distance(dist: float) -> list[Any]:
    """Exactly at ``dist`` from the straight line, a hair inside, a hair beyond, on it, past its end."""
    out: list[Any] = []
    for k, off in enumerate((dist, dist - 1e-9, dist + 1e-9, dist + 1e-6, 0.0)):
        x = X0 + 100 + 150 * k
        out.append(Point(x, Y_EDGE + off))
        out.append(Polygon([(x, Y_EDGE - off), (x + 5, Y_EDGE - off - 5), (x - 5, Y_EDGE - off - 5)]))
    out.append(Point(X0 + 1000 + dist, Y_EDGE))
    return out


def _lines_of(geoms: list[Any]) -> list[lc.Line]:
    out = []
    for i, geom in enumerate(geoms):
        chain = Chainage.of(geom, None)
        pieces, offsets = chain.pieces(LOCATING_PIECE_VERTICES)
        out.append(lc.Line(key=f"P{i}", name=None, medium="gas", d_mm=500.0, p_mpa=4.0, start_m=0.0, chain=chain,
                           pieces=np.asarray(pieces, dtype=object), offsets=offsets))
    return out


@pytest.fixture(scope="module")
def synthetic() -> tuple[list[lc.Line], dict[float, gpd.GeoDataFrame]]:
    rng = np.random.default_rng(SEED)
    geoms = _lines(rng)
    frames = {}
    for dist in (5.0, 50.0, 200.0):
        feats = _features(rng, geoms, dist) + _at_the_distance(dist)
        frames[dist] = gpd.GeoDataFrame({"key": [f"F{i}" for i in range(len(feats))]}, geometry=feats, crs=KUNMING_GK)
    return _lines_of([*geoms, STRAIGHT]), frames


# ---------------------------------------------------------------------------
# the searches
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dist", [5.0, 50.0, 200.0])
def test_located_features_match_the_per_line_search(synthetic: Any, dist: float) -> None:
    lines, frames = synthetic
    frame = frames[dist]
    fast, ref = lc._near_all(lines, frame, dist), _ref_near_all(lines, frame, dist)
    assert sum(len(r) for r in ref) > 100  # the set does exercise the search
    for got, want in zip(fast, ref, strict=True):
        assert np.array_equal(got["row"].to_numpy(), want["row"].to_numpy())
        assert np.array_equal(got["d"].to_numpy(), want["d"].to_numpy())   # bit for bit
        # the mileage is located on the short piece holding the nearest point, then the lengths before
        # it added: the same point, the sum taken in another order (a nanometre, far below the 0.1 m shown)
        assert np.abs(got["s"].to_numpy() - want["s"].to_numpy()).max(initial=0.0) < 1e-6


def test_edge_cases_are_found_or_left_exactly_as_before(synthetic: Any) -> None:
    lines, frames = synthetic
    for dist, frame in frames.items():
        found = lc._near_all([lines[-1]], frame, dist)[0]
        d = found["d"].tolist()
        assert d.count(dist) >= 3 and 0.0 in d              # exactly at the distance (point, tip, past the end)
        assert not (found["d"] > dist).any()                # a hair beyond is left out
        assert (found["d"] < dist).sum() >= 3               # a hair inside is in


def test_all_pairs_match_the_locating_piece_search(synthetic: Any) -> None:
    lines, frames = synthetic
    for dist, frame in frames.items():
        found = piece_pairs([ln.pieces for ln in lines], frame, dist)
        for k, ln in enumerate(lines):
            mine = found.line == k
            gi, pi, d = _ref_pairs(ln, frame, dist)
            order = np.lexsort((pi, d, gi))
            assert np.array_equal(found.row[mine], gi[order])
            assert np.array_equal(found.piece[mine], pi[order])
            assert np.array_equal(found.d[mine], d[order])


def test_empty_layers_and_no_lines(synthetic: Any) -> None:
    lines, frames = synthetic
    empty = frames[5.0].iloc[0:0]
    assert all(len(f) == 0 for f in lc._near_all(lines, empty, 5.0))
    assert lc._near_all([], frames[5.0], 5.0) == []
    found = piece_pairs([np.zeros(0, dtype=object)], frames[5.0], 5.0)
    assert len(found.row) == 0 and len(found.near) == 0


def test_query_pieces_cover_every_segment_once() -> None:
    rng = np.random.default_rng(SEED)
    lines = np.array([LineString(_walk(rng, (X0, Y0), n, step)) for n, step in ((3, 900.0), (200, 3.0), (40, 50.0))]
                     + [LineString([(X0, Y0), (X0, Y0)])], dtype=object)
    pieces, src = query_pieces(lines, 30.0)
    for k, line in enumerate(lines):
        mine = pieces[src == k]
        segs = sum(len(p.coords) - 1 for p in mine)
        assert segs == len(line.coords) - 1
        assert shapely.equals(shapely.union_all(mine), line) or line.length == 0
        assert all(len(p.coords) - 1 <= 16 for p in mine)


@pytest.mark.parametrize("distance", [0.0, 5.0, 50.0, 200.0])
def test_pipeline_candidate_pairs_match_the_16_vertex_search(synthetic: Any, distance: float) -> None:
    lines, frames = synthetic
    pipes = [Pipe(key=ln.key, name=None, medium="gas", start_m=0.0, geom=MultiLineString(list(ln.chain.parts)),
                  chain=ln.chain) for ln in lines]
    frame = frames[200.0]
    got, want = near_pairs(pipes, frame, distance), _ref_near_pairs(pipes, frame, distance)
    assert len(want[0]) > 0
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


# ---------------------------------------------------------------------------
# whole families, with the reference searches swapped in
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def town() -> Bundle:
    """A small seeded town: five pipelines (gas and oil), 2,000 houses, gathering places, roads, fuel."""
    rng = np.random.default_rng(SEED + 1)
    geoms = _lines(rng)
    media = ["gas", "crude", "gas", "products", "gas"]
    pipes = [{"key": f"P{i}", "code": f"P{i}", "name": f"管道{i}", "medium": media[i],
              "outside_diameter_mm": [1016.0, 273.0, 508.0, 323.9, 150.0][i], "maop_mpa": [10.0, 6.3, 4.0, 8.0, 1.6][i],
              "start_mileage_m": 1000.0 * i, "adcodes": ["530181"], "geometry": g} for i, g in enumerate(geoms)]
    xy = np.concatenate([shapely.get_coordinates(g) for g in geoms])
    houses = []
    for i in range(2000):
        x, y = xy[rng.integers(len(xy))] + rng.normal(0, 120.0, 2)
        houses.append({"key": f"B{i}", "name": f"楼{i}", "use": "residential", "households": int(rng.integers(1, 40)),
                       "floors": int(rng.integers(1, 12)), "adcode": "530181",
                       "geometry": _square(x, y, rng.uniform(4.0, 12.0))})
    targets = [{"key": f"T{i}", "name": f"场所{i}", "target_type": ["school", "hospital", "market"][i % 3],
                "adcode": "530181", "geometry": Point(*(xy[rng.integers(len(xy))] + rng.normal(0, 150.0, 2)))}
               for i in range(60)]
    infra = [{"key": f"R{i}", "name": f"路{i}", "kind": "road", "subkind": "expressway", "adcode": "530181",
              "geometry": LineString([xy[k] + (-3000.0, -40.0), xy[k] + (3000.0, 40.0)])}
             for i, k in enumerate(rng.integers(0, len(xy), 6))]
    infra += [{"key": f"G{i}", "name": f"加油站{i}", "kind": "fuel_station", "subkind": None, "adcode": "530181",
               "geometry": _square(*_jitter(rng, xy[k], 60.0), 15.0)}
              for i, k in enumerate(rng.integers(0, len(xy), 12))]
    xs, ys = xy[:, 0], xy[:, 1]
    area = box(xs.min() - 5000, ys.min() - 5000, xs.max() + 5000, ys.max() + 5000)
    frames = {"districts": _layer([{"key": "530181", "adcode": "530181", "name": "测试区", "geometry": area}]),
              "pipelines": _layer(pipes), "buildings": _layer(houses), "protection_targets": _layer(targets),
              "infrastructure": _layer(infra)}
    return Bundle(frames, metric_epsg=KUNMING_GK)


def _fresh(bundle: Bundle) -> Bundle:
    return Bundle(dict(bundle.frames), metric_epsg=bundle.metric_epsg)


def test_hca_family_is_unchanged_by_the_bulk_search(town: Bundle, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = load_ruleset()
    fast, fast_segments = hca_family(_fresh(town), rules, as_of=dt.date(2026, 12, 1))
    monkeypatch.setattr(lc, "_near_all", _ref_near_all)
    ref, ref_segments = hca_family(_fresh(town), rules, as_of=dt.date(2026, 12, 1))
    assert len(ref) >= 10 and len(ref_segments) >= 3
    assert set(ref["rule_code"]) >= {"LOC_CLASS", "HCA_GAS", "HCA_OIL"}
    assert_frame_equal(fast, ref)
    assert_frame_equal(fast_segments, ref_segments)


def test_pipeline_family_is_unchanged_by_the_short_query_pieces(town: Bundle,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    rules = load_ruleset()
    fast = check_pipelines(_fresh(town), rules)
    monkeypatch.setattr(pipeline_family, "near_pairs", _ref_near_pairs)
    monkeypatch.setattr(crossings, "near_pairs", _ref_near_pairs)
    ref = check_pipelines(_fresh(town), rules)
    assert len(ref) > 20 and {"PIPE_OCCUPY", "PIPE_CROSSING"} <= set(ref["rule_code"])
    assert_frame_equal(fast, ref)
    assert len(read_pipes(_fresh(town))) == 5
