"""The typed read of a validated GeoParquet file: a tile's rows as validation gives them, without validating again.

Validation (:func:`geo.checks.parquet_source.summarise_file`) converts every row of a file with the
import's rules. For most files that conversion changes nothing a plain typed read could not do itself:
the values are already of their field's type, and what is left is mechanical — columns renamed to the
dictionary's names, missing optional columns as blanks, ISO dates as dates, single polygons and lines
made multi, Z dropped, the natural key and the derived columns, the blanks the import fills. So the
validation task also runs :func:`typed_frame` on the whole file and keeps the flag ``typed`` only when
its frame equals the validated one exactly (:func:`same_frame`: columns, dtypes, values and geometry).
A tile then reads such a file with :func:`read_window`: only the row groups whose ``bbox`` statistics
meet its box, the rows whose ``bbox`` does, and the typed conversion of those rows; a file whose typed
read differs in anything (a repaired geometry, numbers written as text, labels for codes, …) is read
through the full conversion as before. The file's size and modification time are kept with the flag, and
a file changed after validation is refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyproj
import shapely

from geo.constants import STORAGE_SRID
from geo.errors import ReadError
from geo.layer_specs import LayerSpec, layer_spec
from geo.readers import header_map
from geo.validate import record_key
from geo.validate.records import derive_columns

Box = tuple[float, float, float, float]
#: Layers whose derived columns need more than the key and the blanks the import fills (computed row by row).
ROW_BY_ROW = ("districts", "protection_targets", "hcas", "tailings_dams", "pipelines")


class NotTyped(ValueError):
    """The file cannot be read by the typed read (not WKB, a value not in its field's plain form, …)."""


def stamp_of(path: Path) -> tuple[int, int]:
    """Return a file's modification time (ns) and size, to notice a change after validation."""
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


@dataclass
class _Opened:
    stamp: tuple[int, int]
    file: pq.ParquetFile
    geometry: str
    covering: str | None
    groups: np.ndarray | None  # row-group boxes (n, 4), from the bbox column's statistics
    #: One read at a time per open file: a worker's threads share it, and a ParquetFile is not documented as
    #: safe to read from several threads at once.
    reading: threading.Lock = field(default_factory=threading.Lock)


_OPEN: dict[str, _Opened] = {}  # per process: a worker opens each file (and reads its footer) once
#: Rows of whole typed files a process keeps (least recently used dropped first); larger files are read per box.
CACHE_ROWS = 1_000_000
_FRAMES: OrderedDict[tuple[str, tuple[int, int]], gpd.GeoDataFrame] = OrderedDict()
_LOCK = threading.Lock()


def _group_boxes(meta: pq.FileMetaData, covering: str) -> np.ndarray | None:
    paths = [f"{covering}.{p}" for p in ("xmin", "ymin", "xmax", "ymax")]
    boxes = np.empty((meta.num_row_groups, 4))
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        stats = {group.column(j).path_in_schema: group.column(j).statistics for j in range(group.num_columns)}
        for k, p in enumerate(paths):
            st = stats.get(p)
            if st is None or not st.has_min_max:
                return None
            boxes[g, k] = st.min if k < 2 else st.max
    return boxes


def _open(path: Path, stamp: tuple[int, int] | None) -> _Opened:
    now = stamp_of(path)
    if stamp is not None and now != stamp:
        raise ReadError(f"{path}: 文件在校验后被修改 / changed after validation; run the check again")
    hit = _OPEN.get(str(path))
    if hit is not None and hit.stamp == now:
        return hit
    file = pq.ParquetFile(path)
    geo = json.loads((file.schema_arrow.metadata or {}).get(b"geo", b"{}"))
    name = geo.get("primary_column")
    column = geo.get("columns", {}).get(name, {})
    if not name or column.get("encoding", "").upper() != "WKB":
        raise NotTyped(f"{path}: geometry not WKB")
    covering = column.get("covering", {}).get("bbox", {}).get("xmin", [None])[0]
    groups = _group_boxes(file.metadata, covering) if covering else None
    _OPEN[str(path)] = opened = _Opened(now, file, name, covering, groups)
    return opened


def read_window(path: Path, layer: str, bbox: Box | None, districts: gpd.GeoDataFrame,
                stamp: tuple[int, int] | None = None, dtypes: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """Return the rows of a validated file meeting a lon/lat box (all rows without one), typed as validated.

    Parameters
    ----------
    path : Path
        The file.
    layer : str
        Its layer.
    bbox : tuple of float, optional
        The lon/lat box; rows whose geometry intersects it are returned, in file order.
    districts : GeoDataFrame
        Validated districts (pipeline districts are derived from them).
    stamp : tuple of int, optional
        The file's :func:`stamp_of` when it was validated; a different one is refused.
    dtypes : dict of str to str, optional
        The validated frame's dtypes, which a column read otherwise is cast to.

    Returns
    -------
    GeoDataFrame
        Rows in EPSG:4490 with the stored columns, as :func:`~geo.checks.parquet_source.convert` gives them.

    Raises
    ------
    ReadError
        The file changed since ``stamp``.
    NotTyped
        The file's geometry is not WKB, or a value is not in its field's plain form.
    """
    opened = _open(path, stamp)
    meta = opened.file.metadata
    groups = list(range(meta.num_row_groups))
    if bbox is not None and opened.groups is not None:
        b = opened.groups
        groups = np.flatnonzero((b[:, 0] <= bbox[2]) & (b[:, 2] >= bbox[0]) & (b[:, 1] <= bbox[3])
                                & (b[:, 3] >= bbox[1])).tolist()
    with opened.reading:
        table = opened.file.read_row_groups(groups) if groups else opened.file.schema_arrow.empty_table()
    if bbox is not None and opened.covering is not None and table.num_rows:
        box = table.column(opened.covering).combine_chunks()
        xmin, ymin, xmax, ymax = (box.field(k).to_numpy(zero_copy_only=False) for k in ("xmin", "ymin", "xmax", "ymax"))
        table = table.filter(pa.array((xmin <= bbox[2]) & (xmax >= bbox[0]) & (ymin <= bbox[3]) & (ymax >= bbox[1])))
    wkb = table.column(opened.geometry).combine_chunks()
    if isinstance(wkb, pa.ExtensionArray):
        wkb = wkb.storage
    geoms = shapely.from_wkb(np.asarray(wkb.to_numpy(zero_copy_only=False), dtype=object))
    if bbox is not None and len(geoms):
        keep = shapely.intersects(geoms, shapely.box(*bbox))
        table, geoms = table.filter(pa.array(keep)), geoms[keep]
    attrs = table.drop_columns([c for c in (opened.geometry, opened.covering) if c is not None]).to_pandas()
    return typed_frame(attrs, geoms, layer, districts, dtypes)


@functools.cache
def _storage_crs() -> pyproj.CRS:
    return pyproj.CRS.from_epsg(STORAGE_SRID)


def kept_frame(path: Path, layer: str, districts: gpd.GeoDataFrame, stamp: tuple[int, int],
               dtypes: dict[str, str] | None = None, budget: int = CACHE_ROWS) -> gpd.GeoDataFrame | None:
    """Return a validated file's whole typed frame, kept in this process for the next tiles (None if too large).

    A file of more than a quarter of ``budget`` rows is not kept (its tiles read their boxes with
    :func:`read_window`); the least recently used files are dropped to keep at most ``budget`` rows.

    Raises
    ------
    ReadError
        The file changed since ``stamp``.
    """
    opened = _open(path, stamp)
    key = (str(path), stamp)
    with _LOCK:  # (workers may run several threads)
        hit = _FRAMES.get(key)
        if hit is not None:
            _FRAMES.move_to_end(key)
            return hit
    if opened.file.metadata.num_rows > budget // 4:
        return None
    frame = read_window(path, layer, None, districts, stamp, dtypes)
    frame.sindex  # built once, used by every tile that reads the file here  # noqa: B018
    with _LOCK:
        _FRAMES[key] = frame
        while sum(len(f) for f in _FRAMES.values()) > budget and len(_FRAMES) > 1:
            _FRAMES.popitem(last=False)
    return frame


def _dates(values: pd.Series) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    memo: dict[Any, dt.date] = {}
    for i, v in enumerate(values.to_numpy(dtype=object)):
        if v is None or (isinstance(v, float) and v != v):
            out[i] = None
        elif isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            out[i] = v
        elif isinstance(v, str):
            hit = memo.get(v)
            if hit is None:
                try:
                    hit = memo[v] = dt.date.fromisoformat(v)
                except ValueError as exc:
                    raise NotTyped(f"date {v!r} not in ISO form") from exc
            out[i] = hit
        else:
            raise NotTyped(f"date {v!r} of type {type(v).__name__}")
    return out


@functools.cache
def _defaults(layer: str) -> dict[str, Any]:
    """Return the values the import fills in blank optional columns of ``layer`` (set by ``derive_columns``)."""
    spec = layer_spec(layer)
    probe: dict[str, Any] = {f.name: None for f in spec.fields}
    derive_columns(probe, spec, shapely.Point(0, 0), gpd.GeoDataFrame({"adcode": []}, geometry=[]), "-")
    return {k: v for k, v in probe.items() if v is not None and k in {f.name for f in spec.fields}}


def _geometries(geoms: np.ndarray, spec: LayerSpec) -> np.ndarray:
    """Z dropped, single polygons and lines made multi (as :func:`geo.validate.geometry.check_geometries`)."""
    geoms = np.asarray(geoms, dtype=object).copy()
    if not len(geoms):
        return geoms
    if shapely.is_missing(geoms).any():
        raise NotTyped("a row without geometry")
    flat = shapely.has_z(geoms)
    if flat.any():
        geoms[flat] = shapely.force_2d(geoms[flat])
    single = {"polygon": (shapely.GeometryType.POLYGON, shapely.multipolygons),
              "line": (shapely.GeometryType.LINESTRING, shapely.multilinestrings)}.get(spec.geometry)
    if single is not None:
        one = shapely.get_type_id(geoms) == single[0]
        if one.any():
            geoms[one] = single[1](geoms[one], indices=np.arange(int(one.sum())))
    return geoms


def typed_frame(attrs: pd.DataFrame, geoms: np.ndarray, layer: str, districts: gpd.GeoDataFrame,
                dtypes: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """Return rows read with their types as the validated frame holds them (no check is made).

    Parameters
    ----------
    attrs : DataFrame
        The file's columns as read (any names the import knows).
    geoms : numpy.ndarray
        The rows' geometries (EPSG:4490).
    layer : str
        The layer.
    districts : GeoDataFrame
        Validated districts.
    dtypes : dict of str to str, optional
        Dtypes to cast columns to (the validated frame's), where they differ.

    Returns
    -------
    GeoDataFrame
    """
    spec = layer_spec(layer)
    mapping, _unknown = header_map(spec, [str(c) for c in attrs.columns])
    attrs = attrs.rename(columns=mapping).reset_index(drop=True)
    n = len(attrs)
    geoms = _geometries(geoms, spec)
    cols: dict[str, Any] = {}
    for fs in spec.fields:
        if fs.name in ("lon", "lat"):
            continue
        if fs.name not in attrs.columns:
            cols[fs.name] = np.full(n, None, dtype=object)
        elif fs.type == "date":
            cols[fs.name] = _dates(attrs[fs.name])
        else:
            cols[fs.name] = attrs[fs.name]
    if layer in ROW_BY_ROW:
        read = pd.DataFrame(cols).to_dict("records") if n else []
        records = [_derived(rec, spec, geom, districts) for rec, geom in zip(read, geoms, strict=True)]
        frame = pd.DataFrame(records) if records else pd.DataFrame(columns=list(cols))
    else:
        frame = pd.DataFrame(cols)
        for name, default in _defaults(layer).items():
            blank = frame[name].isna()
            if blank.any():
                frame[name] = frame[name].where(~blank, default)
        frame["key"] = _keys(frame, spec, geoms)
    out = gpd.GeoDataFrame(as_validated(frame, dtypes), geometry=gpd.array.from_shapely(geoms, crs=_storage_crs()))
    if layer == "districts" and len(out):
        out["key"] = out["adcode"]
    return out


def as_validated(frame: pd.DataFrame, dtypes: dict[str, str] | None) -> pd.DataFrame:
    """Return ``frame`` with its columns cast to the validated file's dtypes where they differ.

    Some rows of a file can hold only blanks in a column that has values elsewhere in the file; the
    frame of those rows then has the dtype of the whole file's column, as a tile of in-memory data would.
    """
    for col, dtype in (dtypes or {}).items():
        if col in frame.columns and str(frame[col].dtype) != dtype:
            frame[col] = frame[col].astype(dtype)  # type: ignore[call-overload]
    return frame


def _derived(rec: dict[Any, Any], spec: LayerSpec, geom: Any, districts: gpd.GeoDataFrame) -> dict[str, Any]:
    rec = {k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
    derive_columns(rec, spec, geom, districts)
    return rec


def _keys(frame: pd.DataFrame, spec: LayerSpec, geoms: np.ndarray) -> list[str]:
    parts = [frame[f].to_numpy(dtype=object) for f in spec.key_fields]
    if len(parts) == 1 and all(type(v) is str and v for v in parts[0]):
        return list(parts[0])  # the usual case: a text code in every row is its own key (record_key)
    keys = []
    for i, values in enumerate(zip(*parts, strict=True)):
        rec = {f: (None if isinstance(v, float) and v != v else v)
               for f, v in zip(spec.key_fields, values, strict=True)}
        key = record_key(spec, rec)
        keys.append(key if key else derived_key(geoms[i]))
    return keys


def derived_key(geom: Any) -> str:
    """Return the key the import gives a row without one (the SHA-1 of its geometry's WKB)."""
    import hashlib

    return hashlib.sha1(shapely.to_wkb(geom)).hexdigest()


def same_frame(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    """Whether two frames are identical: columns and their order, dtypes, values, geometry (exact), CRS."""
    if list(a.columns) != list(b.columns) or len(a) != len(b) or a.crs != b.crs:
        return False
    if a.geometry.name != b.geometry.name or not (a.dtypes.astype(str) == b.dtypes.astype(str)).all():
        return False
    for col in a.columns:
        if col == a.geometry.name:
            wa = shapely.to_wkb(np.asarray(a[col].values, dtype=object))
            wb = shapely.to_wkb(np.asarray(b[col].values, dtype=object))
            if not all(x == y for x, y in zip(wa, wb, strict=True)):
                return False
        elif not a[col].reset_index(drop=True).equals(b[col].reset_index(drop=True)):
            return False
    return True


def validated_dtypes(frame: gpd.GeoDataFrame) -> dict[str, str]:
    """Return a validated frame's dtypes by column (the geometry's left out)."""
    return {str(c): str(t) for c, t in frame.dtypes.items() if c != frame.geometry.name}


def check_typed(path: Path, layer: str, validated: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                stamp: tuple[int, int]) -> bool:
    """Whether the typed read of the whole file gives exactly ``validated`` (its full conversion)."""
    try:
        frame = read_window(path, layer, None, districts, stamp, validated_dtypes(validated))
    except (NotTyped, ValueError, TypeError, pa.ArrowException):
        return False
    return same_frame(frame, validated)

