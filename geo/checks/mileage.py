"""Mileage (里程) along a pipeline: the one along-line measure every rule and report uses.

Convention for multi-part pipelines
-----------------------------------
A pipeline is a LineString or a MultiLineString. Its parts are taken **in stored order**, each in its
own direction, and mileage runs **along the pipe only, cumulatively over the parts, gaps excluded**:
at a point on part *k* the mileage is ::

    start_mileage_m + (lengths of parts 0 … k−1) + (length along part k up to the point)

A gap between two parts that do not touch adds nothing, and no straight chord is ever drawn across it:
the chord is not pipe, so it is neither measured nor searched (distance searches use the parts
themselves, never a line joined across the gap). Parts that touch simply follow one another. Findings
that name a mileage on a multi-part line say so (:data:`MULTIPART_NOTE`). Occupancy, spacing, permit
zones, crossings, shared laying, location classes, HCAs and the reports all call :class:`Chainage`.

Lengths are geodesic
--------------------
Gauss-Krüger grid lengths are too long by the scale factor, about 1 + y²/2R² at y metres from the
central meridian (2.8×10⁻⁴ at 150 km: 5.5 m over 20 km). So each segment's length is the geodesic
distance on the CGCS2000 ellipsoid between its end vertices (``pyproj.Geod`` inverse, after taking the
vertices back to longitude/latitude); a point inside a segment is placed by its fraction of the
segment's grid length. The mileage of a line's last vertex therefore equals its geodesic length.

Setback distances (5 m, 50 m, 200 m …) stay grid distances in the zone: the same scale factor makes
them at most 3×10⁻⁴ too long (1.5 mm at 5 m, 6 cm at 200 m at 150 km from the meridian), below the
accuracy of the surveyed footprints they are measured between, and always on the side of reporting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geo.checks.metric_frame import PIECE_VERTICES, cut_line
from geo.constants import STORAGE_SRID
from geo.crs import cgcs2000_geod

__all__ = ["MULTIPART_NOTE", "Chainage", "format_mileage", "format_mileage_range", "line_parts"]

#: Said in findings whose mileage is on a pipeline stored in several parts that do not touch.
MULTIPART_NOTE = ("多段管道里程按各段顺序累计，不计段间空隙", "multi-part line: mileage accumulates over the parts "
                  "in order, gaps excluded")
#: Parts whose ends are this close (m) are taken to touch.
_TOUCH_M = 0.01


def format_mileage(mileage_m: float) -> str:
    """Write a mileage as a stake number ``K<km>+<m>`` rounded to the metre (display only).

    Examples
    --------
    >>> format_mileage(12345.4), format_mileage(50.0), format_mileage(1999.6)
    ('K12+345', 'K0+050', 'K2+000')
    """
    km, m = divmod(round(float(mileage_m)), 1000)
    return f"K{km}+{m:03d}"


def format_mileage_range(from_m: float, to_m: float) -> str:
    """Write a mileage range as ``K13+800–K17+900``.

    Examples
    --------
    >>> format_mileage_range(13800.0, 17900.4)
    'K13+800–K17+900'
    """
    return f"{format_mileage(from_m)}–{format_mileage(to_m)}"


def line_parts(geom: BaseGeometry | None) -> list[LineString]:
    """Linear parts of a (Multi)LineString or collection, in stored order, without empty ones.

    Examples
    --------
    >>> [len(p.coords) for p in line_parts(MultiLineString([[(0, 0), (1, 0)], [(5, 0), (6, 0), (7, 0)]]))]
    [2, 3]
    """
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, LineString):
        return [geom]
    out: list[LineString] = []
    for g in getattr(geom, "geoms", []):
        out.extend(line_parts(g))
    return out


@lru_cache(maxsize=16)
def _to_lonlat(epsg: int) -> Transformer:
    return Transformer.from_crs(epsg, STORAGE_SRID, always_xy=True)


def _geodesic_lengths(xy: np.ndarray, epsg: int | None) -> np.ndarray:
    """Geodesic length (m) of each segment of a vertex array in zone ``epsg`` (grid length without one)."""
    grid = np.hypot(*np.diff(xy, axis=0).T)
    if epsg is None or len(xy) < 2:
        return grid
    lon, lat = _to_lonlat(int(epsg)).transform(xy[:, 0], xy[:, 1])
    _az, _baz, dist = cgcs2000_geod().inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.where(grid > 0, np.asarray(dist, dtype=float), 0.0)


@dataclass(frozen=True)
class Chainage:
    """Linear reference of one pipeline in a metric Gauss-Krüger zone (see the module docstring).

    ``along`` values are metres from the first vertex, gaps excluded (geodesic); a *mileage* adds
    ``start_m``. ``grid`` values are the same positions in grid metres (what shapely measures).

    Examples
    --------
    A line of two 100 m parts with a 200 m gap between them (plain metric coordinates, grid lengths):

    >>> c = Chainage.of(MultiLineString([[(0, 0), (100, 0)], [(300, 0), (400, 0)]]), None, 1000.0)
    >>> c.mileage(Point(350, 5)), c.length, c.multipart
    (1150.0, 200.0, True)
    >>> c.point_at(150.0).coords[0]
    (350.0, 0.0)
    """

    parts: tuple[LineString, ...]
    grid_cum: np.ndarray
    geo_cum: np.ndarray
    part_start: np.ndarray
    start_m: float

    @classmethod
    def of(cls, geom_metric: BaseGeometry, epsg: int | None, start_mileage_m: float | None = None) -> Chainage:
        """Build the linear reference of a pipeline.

        Parameters
        ----------
        geom_metric : LineString or MultiLineString
            Centreline in the Gauss-Krüger zone ``epsg``.
        epsg : int or None
            Zone of the coordinates; None measures grid lengths (plain metric coordinates).
        start_mileage_m : float or None
            Mileage of the first vertex (None or NaN is 0).

        Returns
        -------
        Chainage
        """
        start = 0.0 if start_mileage_m is None or pd.isna(start_mileage_m) else float(start_mileage_m)
        parts = tuple(p for p in line_parts(geom_metric) if len(p.coords) >= 2)
        if not parts:
            raise ValueError("pipeline geometry has no linear part")
        grid_cum: list[np.ndarray] = []
        geo_cum: list[np.ndarray] = []
        starts = [0.0]
        g0 = s0 = 0.0
        for part in parts:
            xy = np.asarray(part.coords, dtype=float)[:, :2]
            grid = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]) + g0
            geo = np.concatenate([[0.0], np.cumsum(_geodesic_lengths(xy, epsg))]) + s0
            grid_cum.append(grid)
            geo_cum.append(geo)
            g0, s0 = float(grid[-1]), float(geo[-1])
            starts.append(g0)
        return cls(parts, np.concatenate(grid_cum), np.concatenate(geo_cum), np.asarray(starts), start)

    @property
    def length(self) -> float:
        """Geodesic length of the pipe (m), gaps excluded."""
        return float(self.geo_cum[-1])

    @cached_property
    def multipart(self) -> bool:
        """Whether the line has parts that do not touch (the mileage then skips gaps); worked out once."""
        return any(Point(a.coords[-1]).distance(Point(b.coords[0])) > _TOUCH_M
                   for a, b in zip(self.parts, self.parts[1:], strict=False))

    def along_of_grid(self, grid: np.ndarray | float) -> np.ndarray:
        """Convert grid positions along the pipe (gaps excluded) to geodesic metres from vertex 0."""
        return np.interp(grid, self.grid_cum, self.geo_cum)

    def grid_of_along(self, along: np.ndarray | float) -> np.ndarray:
        """Convert geodesic metres from vertex 0 to grid positions along the pipe."""
        return np.interp(along, self.geo_cum, self.grid_cum)

    def locate(self, point: BaseGeometry) -> float:
        """Metres from vertex 0 (geodesic, gaps excluded) of the point of the pipe nearest to ``point``.

        A non-point geometry is represented by its point nearest to the pipe.
        """
        if not isinstance(point, Point):
            point = shapely.get_point(shapely.shortest_line(point, MultiLineString(list(self.parts))), 0)
        dist = [p.distance(point) for p in self.parts]
        k = int(np.argmin(dist))
        return float(self.along_of_grid(self.part_start[k] + self.parts[k].project(point)))

    def mileage(self, point: BaseGeometry) -> float:
        """Mileage (``start_m`` + :meth:`locate`) of the point of the pipe nearest to ``point``."""
        return self.start_m + self.locate(point)

    def point_at(self, along: float) -> Point:
        """Point of the pipe ``along`` metres from vertex 0 (clamped to the pipe)."""
        g = float(np.clip(self.grid_of_along(along), 0.0, self.part_start[-1]))
        k = int(np.clip(np.searchsorted(self.part_start, g, side="right") - 1, 0, len(self.parts) - 1))
        return self.parts[k].interpolate(g - self.part_start[k])

    def sub_line(self, along_0: float, along_1: float) -> list[LineString]:
        """Cut out the pipe between two positions (metres from vertex 0), in pieces that never bridge a gap.

        Examples
        --------
        >>> c = Chainage.of(MultiLineString([[(0, 0), (100, 0)], [(300, 0), (400, 0)]]), None)
        >>> [p.bounds for p in c.sub_line(100.0, 150.0)]
        [(300.0, 0.0, 350.0, 0.0)]
        >>> [p.bounds for p in c.sub_line(50.0, 150.0)]
        [(50.0, 0.0, 100.0, 0.0), (300.0, 0.0, 350.0, 0.0)]
        """
        g0, g1 = sorted(float(v) for v in self.grid_of_along(np.asarray([along_0, along_1])))
        out: list[LineString] = []
        for k, part in enumerate(self.parts):
            lo, hi = max(g0, self.part_start[k]), min(g1, self.part_start[k + 1])
            if hi < lo:
                continue
            piece = substring(part, lo - self.part_start[k], hi - self.part_start[k])
            if piece.geom_type != "LineString":
                xy = shapely.get_coordinates(piece)[0]
                piece = LineString([xy, xy])
            out.append(piece)
        # a range that starts or ends exactly where a part does touches the neighbouring part in one
        # point: that point (across the gap) is not part of the range
        real = [p for p in out if p.length > 0]
        return real or out[:1]

    def pieces(self, max_vertices: int = PIECE_VERTICES) -> tuple[list[LineString], np.ndarray]:
        """Cut the pipe into short pieces for index queries (never across a gap; see :func:`cut_line`).

        Returns
        -------
        tuple
            The pieces and the grid position (gaps excluded) of each piece's first vertex.
        """
        pieces: list[LineString] = []
        offsets: list[float] = []
        for k, part in enumerate(self.parts):
            xy = np.asarray(part.coords, dtype=float)[:, :2]
            seg = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
            for i, piece in cut_line(xy, max_vertices):
                pieces.append(piece)
                offsets.append(float(self.part_start[k] + seg[i]))
        return pieces, np.asarray(offsets, dtype=float)
