"""One bulk search of a layer's features near the pieces of many lines at once.

The location classes and HCAs (:mod:`geo.checks.location_class`, :mod:`geo.checks.hca`) locate
features on a pipeline by their nearest *locating piece* (pieces of
:data:`~geo.checks.metric_frame.LOCATING_PIECE_VERTICES` segments, kilometres long). Asking the
spatial index with those long pieces hands GEOS every feature in a box around each one, which is
most of a city. :func:`piece_pairs` therefore asks the index once, for every line, with short
*query pieces* cut out of the locating pieces (never longer than about the search distance), and
then measures each feature against the locating piece it was found near — the same distance, the
same nearest piece and the same tie-break (lowest piece) as a search with the locating pieces
themselves, for a fraction of the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["QUERY_PIECE_SEGMENTS", "PiecePairs", "piece_pairs", "query_pieces"]

#: Most segments in one query piece.
QUERY_PIECE_SEGMENTS = 16
#: Shortest length (m) a query piece is allowed to reach before it is cut (keeps pieces of
#: densely digitised lines from becoming one per segment for small search distances).
_MIN_QUERY_LENGTH_M = 25.0
#: Two query pieces of one piece within this distance (m) of each other's least distance to a feature are a
#: tie: the line may pass the nearest point twice (runs over itself), and the first pass is the one located.
_TIE_M = 1e-6


def query_pieces(pieces: np.ndarray, length_m: float,
                 min_length: float = _MIN_QUERY_LENGTH_M) -> tuple[np.ndarray, np.ndarray]:
    """Cut lines into consecutive query pieces of at most about ``length_m`` (and 16 segments).

    A segment is never cut: a piece holds whole segments, so together the query pieces of a line
    cover exactly its segments, each once.

    Parameters
    ----------
    pieces : numpy.ndarray of LineString
        The lines (usually locating pieces).
    length_m : float
        Target length of a query piece; a single longer segment is a piece of its own.
    min_length : float, default 25 m
        Shortest target length (in the units of the coordinates: pass degrees for storage lines).

    Returns
    -------
    tuple of numpy.ndarray
        The query pieces and, for each, the index of the line it was cut from.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> q, src = query_pieces(np.array([LineString([(x, 0) for x in range(0, 101, 10)])]), 30.0)
    >>> [p.bounds[::2] for p in q], src.tolist()
    ([(0.0, 30.0), (30.0, 60.0), (60.0, 90.0), (90.0, 100.0)], [0, 0, 0, 0])
    """
    lines, owner, _at = _cut(pieces, length_m, min_length)
    return lines, owner


def _cut(pieces: np.ndarray, length_m: float,
         min_length: float = _MIN_QUERY_LENGTH_M) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`query_pieces`, and where each query piece starts along the line it was cut from."""
    if not len(pieces):
        return np.zeros(0, dtype=object), np.zeros(0, dtype=int), np.zeros(0)
    xy, owner = shapely.get_coordinates(pieces, return_index=True)
    seg_owner = owner[:-1]
    real = seg_owner == owner[1:]                         # segment i joins vertices i and i+1 of one line
    if not real.any():
        return np.zeros(0, dtype=object), np.zeros(0, dtype=int), np.zeros(0)
    seg_len = np.where(real, np.hypot(*np.diff(xy, axis=0).T), 0.0)
    line_start = np.searchsorted(owner, seg_owner, "left")   # first vertex (= first segment) of the line
    cum = np.cumsum(seg_len) - seg_len                   # length before each segment, reset per line below
    cum -= cum[line_start]
    rank = np.arange(len(seg_owner)) - line_start
    step = max(float(length_m), float(min_length))
    bin_key = np.floor(cum / step).astype(np.int64) * (1 << 20) + rank // QUERY_PIECE_SEGMENTS
    seg = np.flatnonzero(real)
    new = np.ones(len(seg), dtype=bool)
    new[1:] = (seg_owner[seg][1:] != seg_owner[seg][:-1]) | (bin_key[seg][1:] != bin_key[seg][:-1])
    group = np.cumsum(new) - 1
    starts = seg[new]                                     # first segment (= first vertex) of each group
    ends = np.zeros(len(starts), dtype=int)
    np.maximum.at(ends, group, seg + 1)                   # last vertex of each group
    counts = ends - starts + 1
    idx = np.repeat(starts - np.cumsum(np.concatenate([[0], counts[:-1]])), counts) + np.arange(counts.sum())
    lines = shapely.linestrings(xy[idx], indices=np.repeat(np.arange(len(starts)), counts))
    return np.asarray(lines, dtype=object), seg_owner[starts], cum[starts]


class PiecePairs(NamedTuple):
    """Features within the search distance of lines' pieces (see :func:`piece_pairs`)."""

    line: np.ndarray    # index of the line
    row: np.ndarray     # positional row of the feature
    piece: np.ndarray   # index of the piece among the line's pieces
    d: np.ndarray       # distance from the feature to the piece
    near: np.ndarray    # the short piece alone holding the nearest point (d > 0), else the piece itself
    near_at: np.ndarray  # where ``near`` starts along the piece (0 where it is the piece itself)


def piece_pairs(pieces: Sequence[np.ndarray], frame: gpd.GeoDataFrame, dist: float) -> PiecePairs:
    """Return every (line, feature, piece) within ``dist``, each line's pieces searched together.

    The index is asked with short query pieces (:func:`query_pieces`); a feature's distance to a
    piece is the least distance to the query pieces cut from it — the very segment distances GEOS
    takes the least of for the whole piece — so distances, and the nearest piece, are those of a
    search with the whole pieces.

    Parameters
    ----------
    pieces : sequence of numpy.ndarray of LineString
        The locating pieces of each line (metric CRS of ``frame``).
    frame : GeoDataFrame
        The features; rows are positional.
    dist : float
        Search distance (m), inclusive.

    Returns
    -------
    PiecePairs
        One entry per (line, feature, piece) within ``dist``, sorted by line, row, distance and
        piece — so the first entry of a (line, row) is the nearest piece, the lowest-numbered one
        on a tie. ``near`` is the geometry to take the feature's nearest point on: the one query
        piece that alone reaches the least distance when that distance is positive, no other one
        within a micrometre of it (the nearest point found on it is the one GEOS finds on the whole
        piece, and the line passes it once), the whole piece otherwise.
        ``near_at`` is where ``near`` starts along the piece, so that a point of ``near`` lies
        ``near_at + line_locate_point(near, point)`` along the piece (to a nanometre: the lengths
        before it are summed in another order).
    """
    empty = np.zeros(0, dtype=int)
    counts = np.array([len(p) for p in pieces], dtype=int)
    if len(frame) == 0 or not counts.sum():
        return PiecePairs(empty, empty, empty, np.zeros(0), np.zeros(0, dtype=object), np.zeros(0))
    flat = np.concatenate([np.asarray(p, dtype=object) for p in pieces if len(p)])
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    line_of = np.repeat(np.arange(len(pieces)), counts)
    queries, coarse, starts_at = _cut(flat, dist)
    x0, y0, x1, y1 = shapely.bounds(queries).T
    qi, gi = frame.sindex.query(shapely.box(x0 - dist, y0 - dist, x1 + dist, y1 + dist))
    geoms = np.asarray(frame.geometry.array, dtype=object)
    d = shapely.distance(geoms[gi], queries[qi])
    ok = d <= dist
    qi, gi, d = qi[ok], gi[ok], d[ok]
    cg = coarse[qi]
    order = np.lexsort((qi, d, gi, cg))
    qi, gi, d, cg = qi[order], gi[order], d[order], cg[order]
    head = np.ones(len(gi), dtype=bool)
    head[1:] = (gi[1:] != gi[:-1]) | (cg[1:] != cg[:-1])
    start = np.flatnonzero(head)
    # a second query piece at (or within a micrometre of) the least distance: the whole piece decides the
    # nearest point and where it lies — where a line runs over itself, the first pass, as GEOS locates it
    tie = np.zeros(len(start), dtype=bool)
    nxt = start + 1
    has = nxt < len(gi)
    tie[has] = ~head[nxt[has]] & (d[nxt[has]] <= d[start[has]] + _TIE_M)
    qi, gi, d, cg = qi[start], gi[start], d[start], cg[start]
    whole = tie | (d <= 0)
    near = np.where(whole, flat[cg], queries[qi])
    near_at = np.where(whole, 0.0, starts_at[qi])
    line = line_of[cg]
    piece = cg - first[line]
    order = np.lexsort((piece, d, gi, line))
    return PiecePairs(line[order], gi[order], piece[order], d[order], near[order], near_at[order])
