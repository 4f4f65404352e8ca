"""Between the metric working frame of the checks and storage: project back, cut lines for the index.

Check families measure in the CGCS2000 Gauss-Krüger zone of their bundle
(``bundle.metric_epsg``) and hand back findings in the storage reference system
(:data:`geo.constants.STORAGE_SRID`). :func:`to_storage` is that one way back;
:func:`to_metric` the way in for a single shape. :func:`cut_line` cuts long lines into short
pieces before they query a spatial index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from geo.constants import STORAGE_SRID

__all__ = ["LOCATING_PIECE_VERTICES", "PIECE_VERTICES", "cut_line", "to_metric", "to_storage"]

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
    return list(gpd.GeoSeries(list(geoms), crs=epsg).to_crs(STORAGE_SRID))


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
