"""Layers as GeoParquet on shared storage, validated file by file and read tile by tile (the Dask engine).

Layout
------
``DIR/<layer>/*.parquet``: one directory per layer, named as in the data dictionary (``buildings``,
``pipelines``, ``enterprises``, …), holding one or more GeoParquet files in CGCS2000 lon/lat
(EPSG:4490) with the layer's fields named as in a GeoPackage for ``riskmap check --input``
(:func:`geo.checks.sources.bundle_to_file`: ``code``, not ``key``). Files should be spatially compact
(a cell, a district, or rows sorted along a space-filling curve) and carry the GeoParquet 1.1 ``bbox``
covering column, so a tile reads only the files whose extent meets it and, inside them, only the row
groups whose boxes do. :func:`write_parquet_layers` (``riskmap data to-parquet``) writes that layout,
and ``benchmarks/province.py`` writes one file per generation cell and layer.

Validation
----------
Every file goes through :func:`geo.validate.validate` — the rules of an import, with messages naming
the file (``buildings/cell_03_04.parquet``), the row (``要素 12 / feature 12``, the file's own row
number) and the field — once, before any tile is checked: one task per file on the workers
(:meth:`ParquetSource.prepare`), so the client receives only the issues, each file's extent and keys
(natural keys repeated in two files are refused like repeats in one) and the distances the data sets.
Any error stops the run before a tile runs; nothing is written. The same task checks whether the file's
typed read (:mod:`geo.checks.parquet_rows`: types as written, the derived columns computed) gives
exactly the validated frame. Tiles read such files that way — a worker keeps the typed frames of the
files its tiles met (:data:`~geo.checks.parquet_rows.CACHE_ROWS` rows at most) and takes each box
from them with a spatial index; a larger file is read by row groups and ``bbox`` — and convert the
rows of any other file with the validation's own function, so a feature is read and checked exactly
as an import would store it. The small layers every tile needs whole (districts, declared HCAs,
enterprises) are validated on the client.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely

from geo.checks.bundle import LAYERS, Bundle
from geo.checks.parquet_rows import (
    CACHE_ROWS,
    as_validated,
    check_typed,
    kept_frame,
    read_window,
    stamp_of,
    validated_dtypes,
)
from geo.checks.partition import (
    GLOBAL_LAYERS,
    LINE_LAYERS,
    M_PER_DEG,
    TILED_LAYERS,
    data_reach_m,
    degrees_for,
    near_rows,
    window_rows,
)
from geo.checks.ruleset import RuleSet
from geo.constants import STORAGE_SRID
from geo.crs import crs_to_source
from geo.errors import ImportValidationError, ReadError
from geo.layer_specs import layer_spec
from geo.readers import RawTable, header_map
from geo.validate import Issue, record_key, validate

Box = tuple[float, float, float, float]
#: Rows per file written by :func:`write_parquet_layers` (and the most one validation task reads at once).
ROWS_PER_FILE = 50_000
#: Lon/lat CRSs a file may declare (EPSG:4326 and 4490 agree to well under a millimetre here).
LONLAT_EPSG = (4490, 4326)


def layer_files(root: Path) -> dict[str, list[Path]]:
    """Return the GeoParquet files of each layer under ``root`` (``root/<layer>/*.parquet``), sorted.

    Raises
    ------
    ReadError
        ``root`` is not a directory, holds a directory that is not a layer, or no file at all.
    """
    if not root.is_dir():
        raise ReadError(f"{root}: 不是目录 / not a directory (GeoParquet input is DIR/<layer>/*.parquet)")
    found: dict[str, list[Path]] = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if sub.name not in LAYERS:
            raise ReadError(f"{sub}: 不是可检查的图层 / not a check layer; known: {', '.join(LAYERS)}")
        files = sorted(sub.glob("*.parquet"))
        if files:
            found[sub.name] = files
    if not found:
        raise ReadError(f"{root}: 没有 <图层>/*.parquet 文件 / no <layer>/*.parquet files")
    return found


def _covering(path: Path) -> bool:
    """Whether a GeoParquet file has the 1.1 ``bbox`` covering column."""
    meta = pq.read_schema(path).metadata or {}
    return b'"covering"' in meta.get(b"geo", b"")


def _read(path: Path, bbox: Box | None = None, covering: bool = False) -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_parquet(path, bbox=bbox if covering else None)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ReadError(f"{path}: 无法读取 GeoParquet / cannot read as GeoParquet: {exc}") from exc
    epsg = frame.crs.to_epsg() if frame.crs is not None else None
    if epsg not in LONLAT_EPSG:
        raise ReadError(f"{path}: 坐标系须为 CGCS2000 经纬度 (EPSG:4490) / the CRS must be CGCS2000 lon/lat "
                        f"(EPSG:4490), found {frame.crs.name if frame.crs is not None else 'none'}")
    return frame


def no_rows() -> gpd.GeoDataFrame:
    """Return the frame of a window no file meets (a ``key`` column, no rows; a new copy each time)."""
    return _no_rows().copy()


@functools.cache
def _no_rows() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"key": pd.Series(dtype=str)}, geometry=[], crs=STORAGE_SRID)


def convert(frame: gpd.GeoDataFrame, layer: str, name: str, districts: gpd.GeoDataFrame, *, first_row: int = 0,
            tolerance_m: float = 200.0) -> tuple[gpd.GeoDataFrame, list[Issue]]:
    """Return a file's rows validated and converted as an import would store them, and every issue found.

    Parameters
    ----------
    frame : GeoDataFrame
        Rows as read, fields named as in the data dictionary.
    layer : str
        Layer name.
    name : str
        How messages name the file (``buildings/cell_03_04.parquet``).
    districts : GeoDataFrame
        Validated districts (``adcode``), for the district checks and pipeline districts.
    first_row : int
        Row number of the first row in the file, less one (labels count from 1).
    tolerance_m : float
        Tolerance of the "inside its district" check.

    Returns
    -------
    tuple of GeoDataFrame and list of Issue
        Valid rows in EPSG:4490 with the stored columns (``key`` …); issues naming file, row and field.
    """
    spec = layer_spec(layer)
    attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    mapping, unknown = header_map(spec, [str(c) for c in attrs.columns])
    n = len(attrs)
    raw = RawTable(Path(name), attrs.rename(columns=mapping).reset_index(drop=True),
                   np.asarray(frame.geometry.array, dtype=object),
                   [f"要素{i} / feature {i}" for i in range(first_row + 1, first_row + n + 1)],
                   crs_to_source(frame.crs), unknown, headers={v: k for k, v in mapping.items()})
    try:
        result = validate(raw, spec, districts=districts, tolerance_m=tolerance_m)
    except ValueError as exc:  # CRS missing or contradicting the coordinates
        raise ReadError(f"{name}: {exc}") from exc
    issues = [replace(i, file=name) for i in result.issues]
    rows = pd.DataFrame(result.records)
    geoms: Any = rows.pop("geom").to_numpy(dtype=object) if "geom" in rows.columns else []
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=STORAGE_SRID)
    if layer == "districts" and len(out):
        out["key"] = out["adcode"]
    return out, issues


@dataclass
class FileSummary:
    """What validating one file tells the client (never the rows themselves)."""

    layer: str
    name: str
    rows: int
    bounds: Box | None
    covering: bool
    errors: list[Issue]
    keys: pa.Array
    data_reach_m: float
    span_deg: float
    plant_boxes: pd.DataFrame | None = None
    typed: bool = False
    stamp: tuple[int, int] = (0, 0)
    dtypes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileEntry:
    """A validated file as tiles read it: its name under the root, extent, and how to read it."""

    name: str
    bounds: Box
    covering: bool
    typed: bool = False
    stamp: tuple[int, int] = (0, 0)
    dtypes: dict[str, str] = field(default_factory=dict, hash=False)


def _span_deg(frame: gpd.GeoDataFrame) -> float:
    if not len(frame):
        return 0.0
    b = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
    return float(np.nan_to_num(np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])).max(initial=0.0))


def summarise_file(root: str, layer: str, name: str, districts: gpd.GeoDataFrame, rules: RuleSet,
                   tolerance_m: float = 200.0) -> FileSummary:
    """Validate one file and return its summary (a task of :meth:`ParquetSource.prepare`).

    Parameters
    ----------
    root : str
        The input directory.
    layer, name : str
        Layer, and the file's path under ``root``.
    districts : GeoDataFrame
        Validated districts.
    rules : RuleSet
        For the gas impact radius coefficient.
    tolerance_m : float
        Tolerance of the district check.

    Returns
    -------
    FileSummary
    """
    path = Path(root) / name
    stamp = stamp_of(path)
    raw = _read(path)
    frame, issues = convert(raw, layer, name, districts, tolerance_m=tolerance_m)
    errors = [i for i in issues if i.severity == "error"]
    typed = not errors and check_typed(path, layer, frame, districts, stamp)
    spec = layer_spec(layer)
    keys = [record_key(spec, rec) for rec in frame.drop(columns="geometry").to_dict("records")] if len(frame) else []
    bounds = tuple(float(v) for v in frame.total_bounds) if len(frame) else None
    boxes = None
    if layer == "installations" and len(frame) and "enterprise_credit_code" in frame.columns:
        b = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
        boxes = pd.DataFrame({"code": frame["enterprise_credit_code"].astype(str).to_numpy(), "x0": b[:, 0],
                              "y0": b[:, 1], "x1": b[:, 2], "y1": b[:, 3]}).dropna()
    span = 0.0 if layer in LINE_LAYERS else _span_deg(frame)
    return FileSummary(layer, name, len(raw), bounds if bounds and np.isfinite(bounds).all() else None,  # type: ignore[arg-type]
                       _covering(path), errors, pa.array([k for k in keys if k is not None], type=pa.string()),
                       data_reach_m({layer: frame}, rules), span, boxes, typed, stamp, validated_dtypes(frame))


def duplicate_issues(layer: str, summaries: Sequence[FileSummary]) -> list[Issue]:
    """Return an error for every natural key of ``layer`` found in more than one of its files."""
    names = [s.name for s in summaries]
    if len(summaries) < 2:
        return []
    table = pa.table({"key": pa.concat_arrays([s.keys for s in summaries]),
                      "file": pa.concat_arrays([pa.array(np.full(len(s.keys), i, dtype=np.int32))
                                                for i, s in enumerate(summaries)])})
    per_file = table.group_by(["key", "file"]).aggregate([]).group_by("key").aggregate([("file", "count")])
    repeated = per_file.filter(pc.greater(per_file["file_count"], 1))["key"]
    if not len(repeated):
        return []
    spec = layer_spec(layer)
    label = "+".join(spec.field(f).zh for f in spec.key_fields)
    hits = table.filter(pc.is_in(table["key"], value_set=repeated)).to_pandas()
    out = []
    for key, files in hits.groupby("key", sort=True)["file"]:
        where = sorted({names[i] for i in files})
        out.append(Issue(where[1], "整个文件 / whole file", label, f"键值“{key}”在多个文件中重复({'、'.join(where)})",
                         f"duplicate key {key!r} in several files ({', '.join(where)})"))
    return out


@dataclass
class ParquetSource:
    """GeoParquet layers under a directory every worker can read (shared storage), as a Dask engine source.

    Create it with the directory alone; :meth:`prepare` (called by the engine once the cluster is up)
    validates every file and returns the source the tiles read from.
    """

    root: str
    tolerance_m: float = 200.0
    files: dict[str, list[FileEntry]] = field(default_factory=dict)
    globals_: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    reach_: tuple[float, float] = (0.0, 0.0)
    rows: dict[str, int] = field(default_factory=dict)
    cache_rows: int = CACHE_ROWS

    def _whole(self, layer: str, paths: Sequence[Path], districts: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame,
                                                                                              list[Issue]]:
        parts, issues = [], []
        for path in paths:
            frame, found = convert(_read(path), layer, str(path.relative_to(self.root)), districts,
                                   tolerance_m=self.tolerance_m)
            parts.append(frame)
            issues += found
        frame = (gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=STORAGE_SRID) if parts
                 else gpd.GeoDataFrame({"key": pd.Series(dtype=str)}, geometry=[], crs=STORAGE_SRID))
        return frame, issues

    def prepare(self, client: Any, rules: RuleSet, say: Callable[[str], object] = lambda _m: None) -> ParquetSource:
        """Validate every file (one task each on ``client``'s workers) and return the source to read tiles from.

        Raises
        ------
        ImportValidationError
            Some rows are invalid (every issue names file, row and field); no tile is checked.
        ReadError
            A file cannot be read as GeoParquet in EPSG:4490, or the layout is wrong.
        """
        files = layer_files(Path(self.root))
        empty = gpd.GeoDataFrame({"adcode": []}, geometry=[], crs=STORAGE_SRID)
        districts, errors = self._whole("districts", files.get("districts", []), empty)
        whole = {"districts": districts}
        for layer in GLOBAL_LAYERS:
            if layer != "districts":
                whole[layer], found = self._whole(layer, files.get(layer, []), districts)
                errors += found
        tasks = [(layer, str(p.relative_to(self.root))) for layer in TILED_LAYERS for p in files.get(layer, [])]
        say(f"validating {len(tasks)} GeoParquet files of {len(files)} layers")
        dist = client.scatter(districts, broadcast=True)
        token = uuid.uuid4().hex[:8]
        futures = [client.submit(summarise_file, self.root, layer, name, dist, rules, self.tolerance_m,
                                 key=f"riskmap-validate-{name}-{token}") for layer, name in tasks]
        summaries: list[FileSummary] = client.gather(futures)
        errors = [i for i in errors if i.severity == "error"] + [i for s in summaries for i in s.errors]
        for layer in sorted({s.layer for s in summaries}):
            errors += duplicate_issues(layer, [s for s in summaries if s.layer == layer])
        if errors:
            counts = pd.Series([i.file for i in errors]).value_counts(sort=False)
            listed = "、".join(f"{f} {n}" for f, n in counts.items())
            raise ImportValidationError(
                f"{self.root}: 发现 {len(errors)} 处错误({listed})，未运行检查 / {len(errors)} errors "
                f"({', '.join(f'{f} {n}' for f, n in counts.items())}); no check was run", errors)
        index: dict[str, list[FileEntry]] = {}
        for s in summaries:
            if s.bounds is not None:
                index.setdefault(s.layer, []).append(FileEntry(s.name, s.bounds, s.covering, s.typed, s.stamp,
                                                               s.dtypes))
        boxes = [s.plant_boxes for s in summaries if s.plant_boxes is not None and len(s.plant_boxes)]
        span = max([s.span_deg for s in summaries] + [0.0])
        if boxes:
            g = pd.concat(boxes).groupby("code").agg({"x0": "min", "y0": "min", "x1": "max", "y1": "max"})
            span = max(span, float(np.hypot(g["x1"] - g["x0"], g["y1"] - g["y0"]).max()))
        reach = max([s.data_reach_m for s in summaries] + [data_reach_m(whole, rules)])
        rows = {layer: sum(s.rows for s in summaries if s.layer == layer) for layer in index}
        return ParquetSource(self.root, self.tolerance_m, index, whole, (reach, span * M_PER_DEG), rows,
                             self.cache_rows)

    def extent(self) -> Box | None:
        """Lon/lat extent of the tiled layers' files."""
        bounds = [f.bounds for layer in TILED_LAYERS for f in self.files.get(layer, [])]
        if not bounds:
            return None
        return (min(b[0] for b in bounds), min(b[1] for b in bounds), max(b[2] for b in bounds),
                max(b[3] for b in bounds))

    def reach(self, rules: RuleSet) -> tuple[float, float]:
        """Largest distance the data sets and widest feature or plant (m), found while validating."""
        return self.reach_

    def whole(self, layer: str) -> gpd.GeoDataFrame:
        """Return a global layer (validated on the client)."""
        frame = self.globals_.get(layer)
        return frame if frame is not None else gpd.GeoDataFrame({"key": pd.Series(dtype=str)}, geometry=[],
                                                                crs=STORAGE_SRID)

    def _file_rows(self, entry: FileEntry, layer: str, bbox: Box, lines: np.ndarray | None = None,
                   reach_m: float = 0.0) -> gpd.GeoDataFrame:
        """Rows of one file meeting ``bbox`` (and within ``reach_m`` of ``lines`` when given)."""
        path, districts = Path(self.root) / entry.name, self.whole("districts")
        if entry.typed:  # validated, and its typed read gives the validated frame exactly
            kept = kept_frame(path, layer, districts, entry.stamp, entry.dtypes, self.cache_rows)
            if kept is not None:  # its spatial index, as for layers in memory
                return near_rows(kept, lines, reach_m) if lines is not None else window_rows(kept, bbox)
            rows = read_window(path, layer, bbox, districts, entry.stamp, entry.dtypes)
        else:
            raw = _read(path, bbox, entry.covering)
            if len(raw):
                raw = raw[raw.intersects(shapely.box(*bbox))]
            if not len(raw):
                return raw
            frame, issues = convert(raw, layer, entry.name, districts, tolerance_m=self.tolerance_m)
            errors = [i for i in issues if i.severity == "error"]
            if errors:  # the file changed since it was validated
                raise ImportValidationError(f"{entry.name}: 文件在校验后被修改 / changed after validation", errors)
            rows = gpd.GeoDataFrame(as_validated(frame, entry.dtypes))
        return near_rows(rows, lines, reach_m) if lines is not None else rows

    def _rows(self, layer: str, bbox: Box, lines: np.ndarray | None = None, reach_m: float = 0.0
              ) -> gpd.GeoDataFrame:
        x0, y0, x1, y1 = bbox
        parts = [self._file_rows(e, layer, bbox, lines, reach_m) for e in self.files.get(layer, [])
                 if not (e.bounds[0] > x1 or e.bounds[2] < x0 or e.bounds[1] > y1 or e.bounds[3] < y0)]
        parts = [p for p in parts if len(p)]
        if not parts:
            return no_rows()
        if len(parts) == 1:
            return parts[0].reset_index(drop=True)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=STORAGE_SRID)

    def window(self, layer: str, bbox: Box) -> gpd.GeoDataFrame:
        """Rows of ``layer`` meeting a lon/lat box: only the files, and row groups, whose boxes meet it."""
        return self._rows(layer, bbox)

    def near(self, layer: str, lines: Sequence[Any], reach_m: float) -> gpd.GeoDataFrame:
        """Rows of ``layer`` within ``reach_m`` of any of ``lines`` (from the files meeting the box around them)."""
        geoms = np.asarray(lines, dtype=object)
        if not len(geoms):
            return no_rows()
        b = shapely.bounds(geoms)
        grow = degrees_for(reach_m, float(np.abs(b[:, [1, 3]]).max()))
        box = (b[:, 0].min() - grow, b[:, 1].min() - grow, b[:, 2].max() + grow, b[:, 3].max() + grow)
        return self._rows(layer, box, geoms, reach_m)


def read_parquet_dir(root: Path, *, tolerance_m: float = 200.0) -> Bundle:
    """Read, validate and return every layer under ``root`` in one process (the single engine; small data).

    Raises
    ------
    ImportValidationError
        Some rows are invalid, or a natural key repeats across files.
    """
    files = layer_files(root)
    src = ParquetSource(str(root), tolerance_m)
    empty = gpd.GeoDataFrame({"adcode": []}, geometry=[], crs=STORAGE_SRID)
    districts, errors = src._whole("districts", files.get("districts", []), empty)
    frames = {"districts": districts}
    for layer in LAYERS:
        if layer != "districts" and layer in files:
            frames[layer], found = src._whole(layer, files[layer], districts)
            errors += found
            spec = layer_spec(layer)
            if len(files[layer]) > 1 and len(frames[layer]):
                keys = [record_key(spec, r) for r in frames[layer].drop(columns="geometry").to_dict("records")]
                dup = pd.Series([k for k in keys if k is not None]).duplicated()
                if dup.any():  # the per-file check saw each file alone
                    errors.append(Issue(f"{layer}/", "整个文件 / whole file", "+".join(spec.key_fields),
                                        "键值在多个文件中重复", f"{int(dup.sum())} keys repeat across files"))
    errors = [i for i in errors if i.severity == "error"]
    if errors:
        raise ImportValidationError(f"{root}: 发现 {len(errors)} 处错误，未运行检查 / {len(errors)} errors; "
                                    "no check was run", errors)
    return Bundle(frames)


def dictionary_form(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Return a stored layer with its data-dictionary field names (``code`` from ``key``), as files carry it."""
    spec = layer_spec(layer)
    out: dict[str, Any] = {}
    for f in spec.fields:
        if f.name in ("lon", "lat"):
            continue
        if f.name in frame.columns:
            out[f.name] = frame[f.name].to_numpy()
        elif f.name == "code" and "key" in frame.columns:
            out[f.name] = frame["key"].to_numpy()
    gdf = gpd.GeoDataFrame(out, geometry=np.asarray(frame.geometry.values, dtype=object), crs=STORAGE_SRID)
    for col in gdf.columns:
        if col != "geometry" and gdf[col].dtype == object:
            gdf[col] = gdf[col].map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    return gdf


def write_parquet_layers(frames: Mapping[str, gpd.GeoDataFrame], out: Path, *,
                         rows_per_file: int = ROWS_PER_FILE) -> dict[str, list[Path]]:
    """Write stored layers as ``out/<layer>/part_NNNN.parquet`` (GeoParquet 1.1, bbox covering, EPSG:4490).

    Rows are sorted along a Hilbert curve before they are cut into files, so each file covers a compact
    area. Everything is written under a temporary directory beside ``out`` and moved in place at the end:
    an interrupted write leaves no half layout.

    Parameters
    ----------
    frames : mapping of str to GeoDataFrame
        Layers in EPSG:4490 with the stored columns (empty layers are skipped).
    out : Path
        Directory to create; it must not exist yet.
    rows_per_file : int
        Rows per file.

    Returns
    -------
    dict of str to list of Path
        The files of each layer.
    """
    if out.exists():
        raise ReadError(f"{out}: 已存在 / already exists; choose a new directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial"
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    written: dict[str, list[str]] = {}
    for layer in LAYERS:
        frame = frames.get(layer)
        if frame is None or not len(frame):
            continue
        gdf = dictionary_form(frame.to_crs(STORAGE_SRID), layer)
        order = np.argsort(gdf.geometry.hilbert_distance(total_bounds=gdf.total_bounds).to_numpy(), kind="stable")
        gdf = gdf.iloc[order].reset_index(drop=True)
        (tmp / layer).mkdir(parents=True)
        for k, start in enumerate(range(0, len(gdf), rows_per_file)):
            name = f"{layer}/part_{k:04d}.parquet"
            gdf.iloc[start:start + rows_per_file].to_parquet(tmp / name, write_covering_bbox=True,
                                                             row_group_size=5_000, index=False)
            written.setdefault(layer, []).append(name)
    tmp.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    return {layer: [out / n for n in names] for layer, names in written.items()}
