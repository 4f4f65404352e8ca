"""Between the metric working frame of the checks and storage: project back, cut lines for the index.

Check families measure in the CGCS2000 Gauss-Krüger zone of their bundle
(``bundle.metric_epsg``) and hand back findings in the storage reference system
(:data:`geo.constants.STORAGE_SRID`). :func:`to_storage` is that one way back;
:func:`to_metric` the way in for a single shape. :func:`cut_line` cuts long lines into short
pieces before they query a spatial index. :func:`degree_reach` turns a reach in metres into a
distance in degrees that is safe for *filtering* storage geometries by index before projecting them
(never for measuring: every distance a rule compares is metres in the zone).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from geo.constants import STORAGE_SRID

__all__ = ["LOCATING_PIECE_VERTICES", "METRES_PER_DEGREE_MAX", "PIECE_VERTICES", "cut_line", "degree_reach",
           "to_metric", "to_storage"]

#: Most vertices (segments) per piece of a cut line. The bounding box of a whole 50 km pipeline
#: holds most of a city, so querying the building index with it hands GEOS nearly every building;
#: pieces of 16 segments keep each box local (the pipeline family fell from 14 s to 4 s on 500,000
#: buildings) while keeping the number of pieces — one index query and one buffer each — small.
#: Results do not depend on it: every piece within reach is examined.
PIECE_VERTICES = 16
#: Most segments per piece when the pieces also *locate* features along the line (the location
#: classes and HCAs of :mod:`geo.checks.location_class`). There a feature's mileage is taken on its
#: nearest piece, and a building that touches the line at several places is equally near to
#: several pieces: which one wins, and so the mileage and the class of the stretch, depends on the
#: cut (on a 100,000-building city, 16-vertex pieces change 14 of 816 HCA findings). 64 is the
#: cut these findings have always been made with; change it only with a decision to re-grade.
LOCATING_PIECE_VERTICES = 64

#: Semi-major axis (m) and first eccentricity squared of the CGCS2000 ellipsoid.
_A_M = 6378137.0
_E2 = 0.00669438002290
#: Least scale factor of a metric zone anywhere in it: a Gauss-Krüger zone has 1 on its central
#: meridian and more away from it; 0.999 leaves room for a UTM-like 0.9996.
_MIN_SCALE = 0.999
#: More metres than one degree of longitude or latitude spans anywhere in a zone (111.7 km at most on
#: the ellipsoid, times a scale factor below 1.03): turns a length in degrees into an upper bound in metres.
METRES_PER_DEGREE_MAX = 115_000.0
#: Relative slack of :func:`degree_reach` (the zone's projection is not affine over the reach).
_SLACK = 0.01
#: Absolute slack (m) of :func:`degree_reach`.
_SLACK_M = 1.0


def degree_reach(reach_m: float, lat_max: float, longest_m: float = 0.0) -> float:
    """Return a distance in degrees within which every pair of features ``reach_m`` apart in the zone lies.

    Two storage (EPSG:4490) geometries whose projections into a metric zone are at most
    ``reach_m`` metres apart are at most this many degrees apart in the plane of their longitudes
    and latitudes — what a storage-CRS spatial index measures with ``dwithin``. It serves **only to
    filter** which rows to project; rules still measure every distance in metres in the zone.

    The bound: the zone is conformal with scale at least :data:`_MIN_SCALE`, so a degree of
    longitude spans at least ``a·cos(lat)·π/180`` and a degree of latitude at least
    ``a(1-e²)·π/180`` metres; the projection is not affine, which over the reach costs less than
    ``κ·reach²`` with ``κ = (2·tan(lat) + 0.5)/a`` (the measured curvature of degree-straight lines in
    a zone is below ``(1.15·tan(lat) + 0.2)/a`` for latitudes 0–60° and 6° from the meridian); and a
    segment drawn straight in the zone departs from the projected degree-straight segment by at most
    ``κ·L²/8`` for a segment ``L`` metres long (on either side: ``longest_m``, the longest segment of
    either geometry). On top: 1 % and 1 m.

    Parameters
    ----------
    reach_m : float
        The farthest distance (m, in the zone) a rule will compare.
    lat_max : float
        The largest absolute latitude (degrees) of the geometries searched around (below 80°).
    longest_m : float, default 0
        An upper bound (m) of the longest segment of the geometries on either side.

    Returns
    -------
    float
        Degrees.

    Examples
    --------
    >>> round(degree_reach(5.0, 25.0), 7)    # 6.05 m at ≥ 100.8 km per degree of longitude
    6e-05
    >>> degree_reach(200.0, 29.0) > 200.0 / (111_320 * math.cos(math.radians(29.0)))
    True
    """
    if not 0 <= abs(lat_max) < 80:
        raise ValueError(f"latitude {lat_max}° is outside the range the degree filter is made for (|lat| < 80°)")
    reach = max(float(reach_m), 0.0)
    out = 0.0
    lat = abs(float(lat_max))
    for _ in range(2):   # the second time at the latitude grown by the reach itself
        phi = math.radians(min(lat, 80.0))
        kappa = (2.0 * math.tan(phi) + 0.5) / _A_M
        grown = reach * (1.0 + _SLACK + kappa * reach) + _SLACK_M + kappa * float(longest_m) ** 2 / 4.0
        per_degree = _MIN_SCALE * _A_M * min(math.cos(phi), 1.0 - _E2) * math.pi / 180.0
        out = grown / per_degree
        lat = abs(float(lat_max)) + out
    return out


def to_storage(geoms: Sequence[Any], epsg: int | None) -> list[Any]:
    """Project metric geometries back to the storage reference system.

    Parameters
    ----------
    geoms : sequence of shapely geometry
        Geometries in ``epsg`` (``None`` entries stay ``None``).
    epsg : int or None
        Their EPSG code (the bundle's ``metric_epsg``).

    Returns
    -------
    list of shapely geometry
        The same geometries in :data:`~geo.constants.STORAGE_SRID`, in order; ``[]`` for no input.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> [round(c, 4) for c in to_storage([Point(500000, 2750000)], 4543)[0].coords[0]]
    [102.0, 24.8551]
    """
    if len(geoms) == 0:
        return []
    projected = gpd.GeoSeries(list(geoms), crs=epsg).to_crs(STORAGE_SRID)
    return np.asarray(projected.array, dtype=object).tolist()   # not element by element through pandas


def to_metric(geom: BaseGeometry, epsg: int | None) -> BaseGeometry:
    """Project one storage geometry into the metric frame ``epsg``.

    Parameters
    ----------
    geom : shapely geometry
        Geometry in :data:`~geo.constants.STORAGE_SRID`.
    epsg : int
        Target EPSG code (a Gauss-Krüger zone).

    Returns
    -------
    shapely geometry

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> [round(c) for c in to_metric(Point(102, 24.855070), 4543).coords[0]]
    [500000, 2750000]
    """
    return gpd.GeoSeries([geom], crs=STORAGE_SRID).to_crs(epsg).iloc[0]


def cut_line(xy: Any, max_vertices: int = PIECE_VERTICES) -> list[tuple[int, LineString]]:
    """Cut a vertex sequence into consecutive pieces of at most ``max_vertices`` segments.

    Neighbouring pieces share their end vertex, so together they cover the line exactly once.

    Parameters
    ----------
    xy : array-like of shape (n, 2) or (n, 3)
        Vertices of one line part.
    max_vertices : int, default :data:`PIECE_VERTICES`
        Most segments per piece.

    Returns
    -------
    list of (int, LineString)
        Each piece with the index of its first vertex in ``xy``; ``[]`` for fewer than two vertices.

    Examples
    --------
    >>> [(i, len(p.coords)) for i, p in cut_line([(x, 0) for x in range(40)])]
    [(0, 17), (16, 17), (32, 8)]
    """
    coords = np.asarray(xy, dtype=float)
    return [(i, LineString(coords[i:i + max_vertices + 1])) for i in range(0, len(coords) - 1, max_vertices)]
