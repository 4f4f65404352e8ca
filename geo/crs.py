"""Coordinate systems: CGCS2000 and its Gauss-Krüger zones, and the GCJ-02/BD-09 web offsets.

Storage is CGCS2000 geographic (EPSG:4490). Distances are measured in the
CGCS2000 3-degree Gauss-Krüger CM projection of the area (EPSG 4534–4554,
``4534 + (CM − 75)/3``), never in degrees or Web Mercator (standards.md §10.1).
GCJ-02 (高德/腾讯) and BD-09 (百度) are obfuscations, not EPSG systems; they are
undone here at import (standards.md §10.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Geod

from geo.constants import STORAGE_SRID

#: Projected and geographic codes that imports accept besides GCJ-02/BD-09.
ACCEPTED_EPSG = {4326, STORAGE_SRID, *range(4491, 4555)}

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


@dataclass(frozen=True)
class SourceCRS:
    """The coordinate system a file's coordinates arrived in.

    ``epsg`` is set for real CRSs; ``offset`` is ``"gcj02"`` or ``"bd09"`` for
    web-map obfuscated lon/lat (whose datum is WGS84).
    """

    epsg: int | None = None
    offset: str | None = None

    @property
    def label(self) -> str:
        """Text recorded with the imported rows, e.g. ``EPSG:4549`` or ``GCJ-02``."""
        if self.offset:
            return {"gcj02": "GCJ-02", "bd09": "BD-09"}[self.offset]
        return f"EPSG:{self.epsg}"


def parse_source_crs(value: str | int | None) -> SourceCRS | None:
    """Parse a user's ``--crs`` value.

    Parameters
    ----------
    value : str or int or None
        ``"4326"``, ``"EPSG:4549"``, ``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``,
        ``"bd09"``; None means "read from the file".

    Returns
    -------
    SourceCRS or None

    Raises
    ------
    ValueError
        For a CRS that RiskMap does not accept, with the accepted list.

    Examples
    --------
    >>> parse_source_crs("gcj-02").label
    'GCJ-02'
    >>> parse_source_crs("EPSG:4543").epsg
    4543
    """
    if value is None or value == "":
        return None
    text = str(value).strip().lower().replace("_", "").replace("-", "")
    aliases: dict[str, int | str] = {"wgs84": 4326, "cgcs2000": STORAGE_SRID, "gcj02": "gcj02", "bd09": "bd09",
               "mars": "gcj02", "baidu": "bd09", "gaode": "gcj02", "amap": "gcj02"}
    if text in aliases:
        found = aliases[text]
        return SourceCRS(offset=found) if isinstance(found, str) else SourceCRS(epsg=int(found))
    code = text.removeprefix("epsg:").removeprefix("epsg")
    if code.isdigit() and int(code) in ACCEPTED_EPSG:
        return SourceCRS(epsg=int(code))
    raise ValueError(
        f"不支持的坐标系 {value!r} / unsupported CRS: use EPSG:4326 (WGS84), EPSG:{STORAGE_SRID} (CGCS2000), "
        "EPSG:4491–4554 (CGCS2000 Gauss-Krüger zones), gcj02 or bd09"
    )


def crs_to_source(crs: CRS | None) -> SourceCRS | None:
    """Map a file's declared CRS to an accepted :class:`SourceCRS` (None if unknown)."""
    if crs is None:
        return None
    epsg = crs.to_epsg(min_confidence=70)
    if epsg in ACCEPTED_EPSG:
        return SourceCRS(epsg=epsg)
    if crs.is_geographic and crs.ellipsoid and crs.ellipsoid.name in ("WGS 84", "GRS 1980"):
        return SourceCRS(epsg=4326)
    return None


def gk_zone_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger CM projection for a longitude.

    Parameters
    ----------
    lon : float
        Longitude in degrees east (China: 73–135).

    Returns
    -------
    int
        EPSG 4534–4554.

    Examples
    --------
    >>> gk_zone_epsg(102.7)   # Kunming, CM 102°E
    4543
    >>> gk_zone_epsg(121.5)   # Shanghai, CM 120°E
    4549
    """
    cm = 3 * round(lon / 3.0)
    cm = min(max(cm, 75), 135)
    return 4534 + (cm - 75) // 3


def local_metric_epsg(geoms: shapely.Geometry | np.ndarray | list[shapely.Geometry]) -> int:
    """Pick the Gauss-Krüger CM zone for the centre of a set of lon/lat geometries."""
    arr = np.atleast_1d(np.asarray(geoms, dtype=object))
    minx, _, maxx, _ = shapely.total_bounds(arr)
    return gk_zone_epsg((minx + maxx) / 2.0)


def geodesic_length(geom: shapely.Geometry) -> float:
    """Length in metres on the CGCS2000 ellipsoid of a line in EPSG:4490 (lon/lat degrees).

    Gauss-Krüger grid lengths are too long by the scale factor (about 1 + y²/2R² at y metres from
    the central meridian: 5.5 m over 20 km at 150 km), so lengths that are shown or summed are
    measured here. The parts of a MultiLineString are summed; gaps between them are not pipe.

    Parameters
    ----------
    geom : shapely.Geometry
        LineString or MultiLineString in EPSG:4490.

    Returns
    -------
    float

    Examples
    --------
    >>> round(geodesic_length(shapely.LineString([(102.0, 25.0), (102.0, 25.1)])), 1)
    11077.4
    """
    if geom is None or geom.is_empty:
        return 0.0
    return float(cgcs2000_geod().geometry_length(geom))


@lru_cache(maxsize=1)
def cgcs2000_geod() -> Geod:
    """Return the CGCS2000 ellipsoid for geodesic distances (``pyproj.Geod``)."""
    geod = CRS.from_epsg(STORAGE_SRID).get_geod()
    assert geod is not None
    return geod


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply the GCJ-02 obfuscation to WGS84 lon/lat arrays."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray, iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Undo GCJ-02 by fixed-point iteration (round-trip error far below a millimetre).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude in degrees.
    iterations : int
        Fixed-point iterations; 6 gives < 1e-9° in China.

    Returns
    -------
    tuple of ndarray
        WGS84 longitude and latitude.
    """
    glon, glat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(iterations):
        tlon, tlat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon + (glon - tlon), wlat + (glat - tlat)
    return wlon, wlat


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert Baidu BD-09 lon/lat to GCJ-02."""
    x, y = np.asarray(lon, float) - 0.0065, np.asarray(lat, float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 lon/lat to Baidu BD-09."""
    x, y = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def undo_offset(geoms: np.ndarray, offset: str) -> np.ndarray:
    """Convert an array of GCJ-02 or BD-09 geometries to WGS84/CGCS2000 lon/lat.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
        Coordinates in the obfuscated system.
    offset : {"gcj02", "bd09"}
        Which obfuscation to undo.

    Returns
    -------
    ndarray of shapely geometries
    """

    def fix(coords: np.ndarray) -> np.ndarray:
        lon, lat = coords[:, 0], coords[:, 1]
        if offset == "bd09":
            lon, lat = bd09_to_gcj02(lon, lat)
        wlon, wlat = gcj02_to_wgs84(lon, lat)
        return np.column_stack([wlon, wlat])

    if offset not in ("gcj02", "bd09"):
        raise ValueError(f"unknown offset {offset!r}")
    return shapely.transform(np.asarray(geoms, dtype=object), fix)
