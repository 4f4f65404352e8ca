"""Read a proposed site (one point or parcel) from a file or a browser upload, into EPSG:4490.

The planner's pre-check takes its site from here (:func:`read_site_upload` for the dashboard's
``dcc.Upload`` data URL, :func:`read_site_file` for a file on disk).
"""

from __future__ import annotations

import base64
import zipfile
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geo.constants import STORAGE_SRID
from geo.crs import SourceCRS, crs_to_source, undo_offset
from geo.errors import ReadError
from geo.layer_specs import layer_spec
from geo.readers import TABULAR, UPLOAD_SUFFIXES, read_any
from geo.validate import repair_geometry

__all__ = ["MAX_SITE_BYTES", "SITE_TYPES", "read_site_file", "read_site_upload"]

#: Geometry types accepted as a site.
SITE_TYPES = ("Point", "Polygon", "MultiPolygon")
#: A site file is one parcel: anything larger is refused before it is decoded.
MAX_SITE_BYTES = 10 * 1024 * 1024


def _geometry_only(path: Path) -> tuple[list[Any], SourceCRS | None, str | None]:
    """Geometries and CRS of the first spatial layer of a vector file (zip/kmz unpacked), no attributes."""
    with TemporaryDirectory(prefix="riskmap-site-") as tmp:
        target = path
        if path.suffix.lower() in (".zip", ".kmz"):
            with zipfile.ZipFile(path) as zf:
                zf.extractall(tmp)
            inner = sorted(Path(tmp).rglob("*.shp")) + sorted(Path(tmp).rglob("*.kml"))
            if not inner:
                raise ReadError(f"{path}: 压缩包内没有 .shp 或 .kml / no .shp or .kml inside")
            target = inner[0]
        spatial = [str(n) for n, g in pyogrio.list_layers(target) if g]
        if not spatial:
            raise ReadError(f"{path}: 文件中没有几何 / no geometry in the file")
        gdf = pyogrio.read_dataframe(target, layer=spatial[0], columns=[])
        crs = crs_to_source(gdf.crs)
        declared = None
        if gdf.crs is not None and crs is None:
            declared = str(gdf.crs.name)
        return list(gdf.geometry.array), crs, declared


def read_site_file(path: Path) -> shapely.Geometry:
    """Read a proposed site (point or parcel) from a file: the first feature's geometry in EPSG:4490.

    Parameters
    ----------
    path : Path
        GeoJSON, KML/KMZ, zipped Shapefile, Shapefile or GeoPackage (also XLSX/CSV with
        经度/纬度). Coordinates may be CGCS2000 or WGS84 lon/lat, a CGCS2000 Gauss-Krüger zone
        declared by the file, or GCJ-02/BD-09 as declared by the reader.

    Returns
    -------
    shapely.Geometry
        A valid 2-D point or (multi)polygon in EPSG:4490.

    Raises
    ------
    ValueError
        With a Chinese and English message naming the file only (not its folder): unreadable,
        empty or non-spatial files, unsupported coordinate systems, projected coordinates
        without a declared CRS, lines, and polygons that cannot be repaired unambiguously.
    """
    path = Path(path)
    name = path.name
    try:
        try:
            raw = read_any(path, layer_spec("protection_targets"))
        except ReadError as exc:
            if "several layers" in str(exc):
                spatial = [str(n) for n, g in pyogrio.list_layers(path) if g]
                raw = read_any(path, layer_spec("protection_targets"), layer_name=spatial[0])
            elif "no data rows" in str(exc) and path.suffix.lower() not in TABULAR:
                raw = None  # features without attributes: read the geometry alone
            else:
                raise
        geometry, crs, declared = (_geometry_only(path) if raw is None
                                   else (list(raw.geometry), raw.file_crs, raw.declared_crs))
    except ReadError as exc:
        raise ValueError(str(exc).replace(str(path), name)) from exc
    geoms = [g for g in geometry if isinstance(g, shapely.Geometry) and not g.is_empty]
    if not geoms:
        raise ValueError(f"{name}: 文件中没有几何 / no geometry in the file")
    geom = shapely.force_2d(geoms[0])
    if geom.geom_type not in SITE_TYPES:
        raise ValueError(f"{name}: 场地须为点或面，而不是 {geom.geom_type} / the site must be a point or a polygon, "
                         f"not a {geom.geom_type}")
    if declared:
        raise ValueError(f"{name}: 文件坐标系 {declared} 不受支持，请使用 CGCS2000/WGS84 经纬度或"
                         f"CGCS2000 高斯-克吕格投影 / unsupported CRS {declared}: use EPSG:4490, "
                         "EPSG:4326 or EPSG:4491–4554")
    coords = shapely.get_coordinates(geom)
    geographic = bool((np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all())
    if crs is None and not geographic:
        raise ValueError(f"{name}: 文件未声明坐标系且坐标不是经纬度 / no CRS declared and the coordinates are "
                         "not lon/lat")
    if crs is not None and crs.offset:
        geom = undo_offset(np.array([geom], dtype=object), crs.offset)[0]
    elif crs is not None and crs.epsg not in (4326, STORAGE_SRID):
        geom = gpd.GeoSeries([geom], crs=crs.epsg).to_crs(STORAGE_SRID).iloc[0]
    elif not geographic:
        raise ValueError(f"{name}: 坐标像是投影坐标(米)而不是经纬度 / the coordinates look projected (metres), "
                         "not lon/lat")
    if not geom.is_valid:
        fixed, reason = repair_geometry(geom)
        if fixed is None:
            raise ValueError(f"{name}: 几何无效且无法自动修复({reason}) / invalid geometry that cannot be repaired "
                             f"unambiguously ({reason})")
        geom = fixed
    lon, lat = geom.representative_point().coords[0]
    if not (73 <= lon <= 136 and 3 <= lat <= 54):
        raise ValueError(f"{name}: 场地不在中国境内({lon:.4f}, {lat:.4f}) / the site is outside China")
    return geom


def read_site_upload(contents: str, name: str) -> shapely.Geometry:
    """Read the site from a ``dcc.Upload`` data URL of a file called ``name`` (type and size checked first).

    Parameters
    ----------
    contents : str
        ``data:<type>;base64,<payload>`` as the browser sends it.
    name : str
        The file's name (its suffix must be one of :data:`geo.readers.UPLOAD_SUFFIXES`).

    Returns
    -------
    shapely.Geometry
        As :func:`read_site_file`.

    Raises
    ------
    ValueError
        Unsupported type, larger than :data:`MAX_SITE_BYTES`, undecodable, or as :func:`read_site_file`.
    """
    name = Path(name).name
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise ValueError(f"{name}: 不支持的文件类型 / unsupported file type; {','.join(UPLOAD_SUFFIXES)}")
    if len(contents) > MAX_SITE_BYTES * 4 // 3 + 1024:
        mb = MAX_SITE_BYTES // 2**20
        raise ValueError(f"{name}: 文件超过 {mb} MB / file larger than {mb} MB")
    try:
        payload = base64.b64decode(contents.split(",", 1)[1], validate=False)
    except (IndexError, ValueError) as exc:
        raise ValueError(f"{name}: 无法解码上传内容 / cannot decode the upload") from exc
    with TemporaryDirectory(prefix="riskmap-site-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(payload)
        return read_site_file(path)
