"""Checks of a row's geometry and position, and of the file's coordinate reference system."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.constants import STORAGE_CRS, STORAGE_SRID
from geo.crs import SourceCRS, gk_zone_epsg, undo_offset
from geo.layer_specs import LayerSpec
from geo.readers import RawTable
from geo.validate.issues import GEOMETRY_FIELD, RowIssues

#: Rough extent of China including the South China Sea islands (lon/lat).
CHINA_BOUNDS = (73.0, 3.3, 135.2, 53.6)
_GEOM_TYPES = {
    "point": ("Point",),
    "line": ("LineString", "MultiLineString"),
    "polygon": ("Polygon", "MultiPolygon"),
    "any": ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"),
}


def geometry_problem(geom: Any, spec: LayerSpec) -> tuple[str, str] | None:
    """Say what keeps ``geom`` from being a geometry of layer ``spec``, before any repair.

    Parameters
    ----------
    geom : Any
        The geometry as read (None when the row had none).
    spec : LayerSpec
        The layer.

    Returns
    -------
    tuple of str or None
        The reason in Chinese and in English, or None when the type and coordinates are acceptable.
    """
    if geom is None or not isinstance(geom, shapely.Geometry):
        return ("缺少几何或坐标", "geometry or coordinates missing")
    if geom.is_empty:
        return ("几何为空", "geometry is empty")
    allowed = spec.geometry_types or _GEOM_TYPES[spec.geometry]
    if geom.geom_type not in allowed:
        return (f"几何类型应为 {'/'.join(allowed)}，实为 {geom.geom_type}",
                f"geometry must be {'/'.join(allowed)}, got {geom.geom_type}")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        return ("坐标含无效数值", "coordinates contain NaN or infinity")
    return None


def repair_geometry(geom: shapely.Geometry) -> tuple[shapely.Geometry | None, str]:
    """Repair an invalid geometry only when the repair is unambiguous.

    Two independent repairs (``make_valid`` and a zero-width buffer) must agree
    and keep the geometry's dimension and area; otherwise the geometry is refused.

    Parameters
    ----------
    geom : shapely.Geometry
        An invalid geometry.

    Returns
    -------
    repaired : shapely.Geometry or None
        The repaired geometry, or None when no unambiguous repair exists.
    reason : str
        GEOS's explanation of the invalidity.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    >>> repair_geometry(bowtie)[0] is None
    True
    """
    reason = shapely.is_valid_reason(geom)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        fixed = shapely.make_valid(geom)
        same = fixed.geom_type == geom.geom_type and shapely.equals(fixed, geom)
        return (fixed if same else None), reason
    a = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    b = geom.buffer(0)
    if a.is_empty or b.is_empty or a.geom_type not in ("Polygon", "MultiPolygon"):
        return None, reason
    tol = max(a.area, b.area) * 1e-9
    if a.symmetric_difference(b).area > tol:
        return None, reason
    return shapely.normalize(a), reason


def to_storage(geoms: np.ndarray, crs: SourceCRS) -> np.ndarray:
    """Bring geometries from the file's reference system into storage coordinates (CGCS2000 lon/lat).

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely geometries in ``crs``.
    crs : SourceCRS
        The file's reference system, possibly with a GCJ-02/BD-09 offset to undo.

    Returns
    -------
    numpy.ndarray
        The geometries in EPSG:4490 (WGS84 is taken as is; the two differ by centimetres).
    """
    if crs.offset:
        return undo_offset(geoms, crs.offset)
    if crs.epsg in (4326, STORAGE_SRID):
        return geoms  # WGS84 and CGCS2000 differ by centimetres to decimetres (standards.md §10.1)
    out = gpd.GeoSeries(geoms, crs=crs.epsg).to_crs(STORAGE_SRID)
    return np.asarray(out.array, dtype=object)


def _looks_geographic(coords: np.ndarray) -> bool:
    return bool(len(coords)) and bool((np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all())


def resolve_crs(raw: RawTable, user: SourceCRS | None) -> SourceCRS:
    """Decide the file's reference system from the user's choice, the file and its coordinates.

    Parameters
    ----------
    raw : RawTable
        The file as read.
    user : SourceCRS or None
        The reference system the user chose, if any; it overrides the file's.

    Returns
    -------
    SourceCRS

    Raises
    ------
    ValueError
        When the file's CRS is unsupported, missing with projected coordinates, or contradicts them.
    """
    if user is None and raw.declared_crs:
        raise ValueError(
            f"{raw.path}: 文件坐标系 {raw.declared_crs} 不受支持，请转换为 CGCS2000/WGS84 经纬度或高斯-克吕格投影，"
            f"或用 --crs 指定 / unsupported CRS {raw.declared_crs}: use {STORAGE_CRS}, EPSG:4326 or EPSG:4491–4554, "
            "or pass --crs"
        )
    crs = user or raw.file_crs
    valid = [g for g in raw.geometry if isinstance(g, shapely.Geometry) and not g.is_empty]
    coords = shapely.get_coordinates(np.asarray(valid, dtype=object)) if valid else np.empty((0, 2))
    if crs is None:
        if raw.frame is not None and _looks_geographic(coords):
            return SourceCRS(epsg=4326)
        raise ValueError(
            f"{raw.path}: 文件未声明坐标系且坐标不是经纬度，请用 --crs 指定(如 EPSG:4543) / "
            "no CRS declared and coordinates are not lon/lat; pass --crs (e.g. EPSG:4543)"
        )
    geographic = crs.offset is not None or crs.epsg in (4326, STORAGE_SRID)
    if geographic and len(coords) and not _looks_geographic(coords):
        raise ValueError(
            f"{raw.path}: 坐标像是投影坐标(米)而不是经纬度，请用 --crs 指定高斯-克吕格投影带 / "
            f"coordinates look projected (metres), not {crs.label} lon/lat; pass --crs EPSG:45xx"
        )
    if not geographic and len(coords) and _looks_geographic(coords):
        raise ValueError(
            f"{raw.path}: 声明为 {crs.label} 但坐标像是经纬度 / declared {crs.label} but the "
            f"coordinates look like lon/lat; pass --crs {STORAGE_CRS} or EPSG:4326"
        )
    return crs


def check_geometries(raw: RawTable, spec: LayerSpec, rows: list[RowIssues]) -> list[shapely.Geometry | None]:
    """Check every row's geometry: drop Z, make lines and polygons multi, repair only when unambiguous.

    Parameters
    ----------
    raw : RawTable
        The file as read.
    spec : LayerSpec
        The layer.
    rows : list of RowIssues
        One per row; receive the errors and warnings.

    Returns
    -------
    list of shapely.Geometry or None
        The usable geometry of each row (still in the file's CRS), None where refused.
    """
    geoms = np.empty(len(raw.geometry), dtype=object)
    geoms[:] = list(raw.geometry)
    usable = _acceptable(geoms, spec)
    for i in np.flatnonzero(~usable):
        problem = geometry_problem(geoms[i], spec)
        if problem:
            rows[i].error(GEOMETRY_FIELD, *problem)
            geoms[i] = None
        else:  # pragma: no cover - _acceptable refuses exactly what geometry_problem does
            usable[i] = True
    at = np.flatnonzero(usable)
    good = geoms[at]
    flat = shapely.has_z(good)
    good[flat] = shapely.force_2d(good[flat])  # KML and survey files carry altitudes; storage is 2D
    single = {"polygon": (shapely.GeometryType.POLYGON, shapely.multipolygons),
              "line": (shapely.GeometryType.LINESTRING, shapely.multilinestrings)}.get(spec.geometry)
    if single is not None:
        one = shapely.get_type_id(good) == single[0]
        if one.any():
            good[one] = single[1](good[one], indices=np.arange(int(one.sum())))
    geoms[at] = good
    for j in np.flatnonzero(~shapely.is_valid(good)):
        i, geom = at[j], good[j]
        fixed, reason = repair_geometry(geom)
        if fixed is None:
            rows[i].error(GEOMETRY_FIELD, f"几何无效且无法无歧义地修复：{reason}",
                          f"invalid geometry with no unambiguous repair: {reason}")
            geoms[i] = None
            continue
        if spec.geometry == "polygon" and fixed.geom_type == "Polygon":
            fixed = shapely.MultiPolygon([fixed])
        rows[i].warn(GEOMETRY_FIELD, f"几何无效({reason})，已自动修复(结果唯一)",
                     f"invalid geometry ({reason}) repaired; the repair is unambiguous")
        geoms[i] = fixed
    return list(geoms)


def _acceptable(geoms: np.ndarray, spec: LayerSpec) -> np.ndarray:
    """Return which rows :func:`geometry_problem` accepts, computed for all rows at once."""
    ok = np.fromiter((isinstance(g, shapely.Geometry) for g in geoms), dtype=bool, count=len(geoms))
    at = np.flatnonzero(ok)
    cand = geoms[at]
    allowed = spec.geometry_types or _GEOM_TYPES[spec.geometry]
    ids = [int(getattr(shapely.GeometryType, _TYPE_IDS[t])) for t in allowed]
    fine = ~shapely.is_empty(cand) & np.isin(shapely.get_type_id(cand), ids)
    coords, index = shapely.get_coordinates(cand, return_index=True)
    fine[np.unique(index[~np.isfinite(coords).all(axis=1)])] = False
    ok[at] = fine
    return ok


_TYPE_IDS = {"Point": "POINT", "MultiPoint": "MULTIPOINT", "LineString": "LINESTRING",
             "MultiLineString": "MULTILINESTRING", "Polygon": "POLYGON", "MultiPolygon": "MULTIPOLYGON",
             "GeometryCollection": "GEOMETRYCOLLECTION", "LinearRing": "LINEARRING"}


def check_location(stored: np.ndarray, records: list[dict[str, Any]], rows: list[RowIssues], spec: LayerSpec,
                   districts: gpd.GeoDataFrame, tolerance_m: float) -> None:
    """Check that each stored geometry lies in China and within ``tolerance_m`` of its stated district.

    Parameters
    ----------
    stored : numpy.ndarray
        Geometries in EPSG:4490 (None for rows without one).
    records : list of dict
        The converted rows (their ``adcode``).
    rows : list of RowIssues
        One per row; receive the errors and warnings.
    spec : LayerSpec
        The layer.
    districts : geopandas.GeoDataFrame
        District boundaries in EPSG:4490 with ``adcode`` and ``name``.
    tolerance_m : float
        How far outside its district a feature may lie (a warning within it).
    """
    minx, miny, maxx, maxy = CHINA_BOUNDS
    known = set(districts["adcode"]) if len(districts) else set()
    by_code = districts.set_index("adcode").geometry if len(districts) else None
    at = np.flatnonzero(np.fromiter((g is not None for g in stored), dtype=bool, count=len(stored)))
    bounds = shapely.bounds(np.asarray(stored[at], dtype=object)).reshape(-1, 4)
    outside = ((bounds[:, 0] < minx) | (bounds[:, 2] > maxx) | (bounds[:, 1] < miny) | (bounds[:, 3] > maxy))
    for i, (bx0, by0, _bx1, _by1) in zip(at[outside], bounds[outside], strict=True):
        rows[i].error(GEOMETRY_FIELD, f"位置({bx0:.5f}, {by0:.5f})不在中国境内",
                      f"location ({bx0:.5f}, {by0:.5f}) is outside China")
    if spec.name == "districts" or "adcode" not in {f.name for f in spec.fields}:
        return
    by_row: dict[str, list[int]] = {}
    for i in at[~outside]:
        code = records[i].get("adcode")
        if not code:
            continue
        if code not in known:
            rows[i].error("行政区划代码(adcode)", f"行政区划代码 {code} 不存在(请先导入行政区划)",
                          f"district {code} does not exist (import districts first)")
            continue
        by_row.setdefault(code, []).append(int(i))
    for code, idx in by_row.items():
        assert by_code is not None
        boundary = by_code[code]
        shapely.prepare(boundary)
        meets = shapely.intersects(np.asarray(stored[idx], dtype=object), boundary)
        for i in np.asarray(idx)[~meets]:
            _outside_district(stored[i], boundary, code, rows[i], districts, tolerance_m)


def _outside_district(geom: shapely.Geometry, boundary: shapely.Geometry, code: str, row: RowIssues,
                      districts: gpd.GeoDataFrame, tolerance_m: float) -> None:
    """Report a feature that does not meet its district: an error beyond ``tolerance_m``, else a warning."""
    epsg = gk_zone_epsg(geom.centroid.x)
    pair = gpd.GeoSeries([geom, boundary], crs=STORAGE_SRID).to_crs(epsg)
    dist = float(pair.iloc[0].distance(pair.iloc[1]))
    if dist > tolerance_m:
        name = districts.loc[districts["adcode"] == code, "name"].iloc[0]
        row.error(GEOMETRY_FIELD, f"位于所填区县 {name}({code}) 之外 {dist:.0f} 米(容差 {tolerance_m:g} 米)",
                  f"lies {dist:.0f} m outside its stated district {code} (tolerance {tolerance_m:g} m)")
    else:
        row.warn(GEOMETRY_FIELD, f"位于区县边界外 {dist:.0f} 米，在容差内",
                 f"{dist:.0f} m outside the district boundary, within tolerance")
