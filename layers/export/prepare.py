"""Layers made ready for writing: checked, in CGCS2000, with plain columns and ASCII file stems.

Every writer of :mod:`layers.export` starts here, so that the checks, the CRS handling and the
number-typing of text columns are the same in every format.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.constants import STORAGE_CRS, STORAGE_SRID
from geo.crs import gk_zone_epsg

CrsChoice = Literal["cgcs2000", "gk"]

#: An ASCII file stem: letters, digits, ``_`` and ``-``, not starting with a separator.
ASCII_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def slugify(name: str) -> str:
    """ASCII-safe file stem for a (possibly Chinese) layer name.

    ASCII letters and digits are kept (lower-cased), anything else becomes ``_``. When
    non-ASCII characters were dropped, a short hash of the full name is appended so that
    different Chinese names never share a stem.

    Parameters
    ----------
    name : str
        Layer name.

    Returns
    -------
    str
        Matches ``[a-z0-9][a-z0-9_]*``.

    Examples
    --------
    >>> slugify("Risk sources 2025")
    'risk_sources_2025'
    >>> slugify("风险源")
    'layer_312a0d5c'
    >>> slugify("A区 风险源")
    'a_bd8d3867'
    """
    ascii_part = re.sub(r"[^a-z0-9]+", "_", name.lower().encode("ascii", "ignore").decode()).strip("_")
    lossy = not name.isascii() or not ascii_part
    if not lossy:
        return ascii_part
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{ascii_part or 'layer'}_{digest}"


def output_epsg(layers: Mapping[str, gpd.GeoDataFrame], crs: CrsChoice) -> int:
    """EPSG code for ``crs``: 4490, or the Gauss-Krüger zone of the layers' common centre.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        The layers (any CRS; the centre is taken in CGCS2000 lon/lat).
    crs : {"cgcs2000", "gk"}
        The choice from :class:`layers.export.ExportSpec`.

    Returns
    -------
    int
    """
    if crs == "cgcs2000":
        return STORAGE_SRID
    if crs != "gk":
        raise ValueError(f"crs must be 'cgcs2000' or 'gk', not {crs!r}")
    check_layers(layers)
    bounds = np.array([to_storage(g, name).total_bounds for name, g in layers.items()])
    if np.isnan(bounds).all():
        raise ValueError("no layer has any geometry: cannot choose a Gauss-Krüger zone")
    minx, maxx = np.nanmin(bounds[:, 0]), np.nanmax(bounds[:, 2])
    return gk_zone_epsg(float(minx + maxx) / 2.0)


def check_layers(layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    """Refuse no layers, a layer that is not a GeoDataFrame, an empty layer or one without CRS.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name to features.

    Raises
    ------
    ValueError, TypeError
        Naming the layer, in Chinese and English.
    """
    if not layers:
        raise ValueError("没有要导出的图层 / no layers to export")
    for name, gdf in layers.items():
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise TypeError(f"图层 {name!r} 不是 GeoDataFrame / layer {name!r} is not a GeoDataFrame")
        if len(gdf) == 0:
            raise ValueError(f"图层 {name!r} 为空 / layer {name!r} is empty: nothing to export")
        _require_crs(gdf, name)


def to_storage(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """``gdf`` in CGCS2000 lon/lat (unchanged when it already is).

    Parameters
    ----------
    gdf : GeoDataFrame
        Features with a CRS.
    name : str
        Layer name, for the error message.

    Returns
    -------
    GeoDataFrame
    """
    _require_crs(gdf, name)
    return gdf if gdf.crs.to_epsg() == STORAGE_SRID else gdf.to_crs(STORAGE_SRID)


def plain(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Copy with string column names, a default index, extra geometry columns as WKT.

    Number-only text columns become numbers, so that GIS fields are Integer/Real, not String.

    Parameters
    ----------
    gdf : GeoDataFrame
        Features.

    Returns
    -------
    GeoDataFrame
    """
    out = gdf.copy()
    geom = out.geometry.name
    for col in out.columns:
        if col != geom and isinstance(out[col].dtype, gpd.array.GeometryDtype):
            out[col] = shapely.to_wkt(np.asarray(out[col], dtype=object))
        elif col != geom and pd.api.types.is_object_dtype(out[col].dtype):
            out[col] = _as_numbers(out[col])
    out.columns = [str(c) for c in out.columns]
    return out.set_geometry(str(geom)).reset_index(drop=True)


def file_stems(layers: Mapping[str, gpd.GeoDataFrame], names: Mapping[str, str] | None) -> dict[str, str]:
    """ASCII file stem of each layer: from ``names``, else :func:`slugify` of its name.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name to features.
    names : mapping of str to str, optional
        Layer name to the stem wanted.

    Returns
    -------
    dict of str to str

    Raises
    ------
    ValueError
        For a stem that is not ASCII or that two layers share (case-insensitively).
    """
    stems = {name: (names or {}).get(name) or slugify(name) for name in layers}
    seen: dict[str, str] = {}
    for name, stem in stems.items():
        if not ASCII_STEM.match(stem):
            raise ValueError(f"file name for layer {name!r} must be ASCII letters, digits, '_' or '-', not {stem!r}")
        if stem.lower() in seen:
            raise ValueError(f"layers {seen[stem.lower()]!r} and {name!r} share the file name {stem!r}")
        seen[stem.lower()] = name
    return stems


def _require_crs(gdf: gpd.GeoDataFrame, name: str) -> None:
    if gdf.crs is None:
        raise ValueError(f"图层 {name!r} 没有坐标系 / layer {name!r} has no CRS (expected {STORAGE_CRS})")


def _as_numbers(series: pd.Series) -> pd.Series:
    """Turn a column of numbers and gaps into Int64 (whole numbers) or float; leave others unchanged."""
    values = [v for v in series if _present(v)]
    numeric = (int, float, np.integer, np.floating)
    if not values or not all(isinstance(v, numeric) and not isinstance(v, bool | np.bool_) for v in values):
        return series
    if all(isinstance(v, int | np.integer) for v in values):
        return pd.Series([None if not _present(v) else int(v) for v in series], index=series.index, dtype="Int64")
    return pd.Series([np.nan if not _present(v) else float(v) for v in series], index=series.index, dtype=float)


def _present(value: Any) -> bool:
    return not (value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)))
