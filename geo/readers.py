"""Read import files (XLSX, CSV, GeoPackage, Shapefile, GeoJSON, KML) into one raw table shape.

Readers only read: they map headers to canonical field names, build geometry
(from 经度/纬度 or a WKT column for spreadsheets) and report the file's CRS.
Values stay as read; :mod:`geo.validate` checks and converts them.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely

from geo.crs import SourceCRS, crs_to_source
from geo.dbf_names import ascii_copy, dbf_field_names, decode_name, decodes, match_cut_name, stand_in
from geo.errors import ReadError
from geo.kml_names import ascii_field_copy
from geo.layer_specs import LayerSpec

TABULAR = {".csv", ".txt", ".xlsx", ".xlsm"}
VECTOR = {".gpkg", ".shp", ".geojson", ".json", ".kml", ".kmz", ".zip"}
#: Types one uploaded file may have (a Shapefile comes zipped with its sidecar files; no .txt from a browser).
UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".gpkg", ".geojson", ".json", ".kml", ".kmz", ".zip")
#: Largest total size a zipped upload may unpack to (guards against zip bombs).
MAX_UNZIPPED_BYTES = 512 * 2**20
WKT_HEADERS = ("geometry", "wkt", "geom", "几何", "几何(wkt)", "空间信息", "几何wktgeometry")  # last: reject files


@dataclass
class RawTable:
    """A file's rows before validation.

    Attributes
    ----------
    path : Path
        The file read.
    frame : DataFrame
        Columns renamed to canonical field names where recognised.
    geometry : ndarray of shapely geometries (None where missing)
    row_labels : list of str
        How to name each row in messages (spreadsheet row number or feature number).
    file_crs : SourceCRS or None
        CRS declared by the file, if any.
    unknown_columns : list of str
        Headers that match no field (kept in reject files, otherwise ignored).
    encoding : str or None
        Text encoding used (CSV, Shapefile).
    declared_crs : str or None
        A CRS the file declares that RiskMap does not accept (``file_crs`` is then None).
    """

    path: Path
    frame: pd.DataFrame
    geometry: np.ndarray
    row_labels: list[str]
    file_crs: SourceCRS | None
    unknown_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    #: canonical field name -> the header the file used (for reject files in the user's own words)
    headers: dict[str, str] = field(default_factory=dict)
    declared_crs: str | None = None


def _norm(header: object) -> str:
    text = str(header).strip()
    text = re.sub(r"[（(][^）)]*[）)]\s*$", "", text)  # drop a trailing "(unit)"
    text = re.sub(r"[\s*＊]+", "", text)  # required-field stars and spaces
    return text.lower()


def header_map(spec: LayerSpec, columns: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map a file's headers to field names of ``spec``.

    Parameters
    ----------
    spec : LayerSpec
        Target layer.
    columns : list of str
        Headers as found in the file.

    Returns
    -------
    mapping : dict
        Original header -> canonical field name.
    unknown : list of str
        Headers that match no field.
    """
    lookup: dict[str, tuple[str, int]] = {}
    for f in spec.fields:
        for rank, h in enumerate(f.headers):
            lookup.setdefault(_norm(h), (f.name, rank))
    # When several columns match one field (KML's "id" and a "code" column both match
    # ``code``), the field's own name beats its Chinese/English name, which beat aliases;
    # the losers stay unknown, so renaming can never produce duplicate columns.
    best: dict[str, tuple[tuple[int, bool, int], str]] = {}
    for idx, col in enumerate(columns):
        hit = lookup.get(_norm(col))
        if hit is None:
            continue
        name, rank = hit
        order = (rank, col != name, idx)
        if name not in best or order < best[name][0]:
            best[name] = (order, col)
    chosen = {col: name for name, (_, col) in best.items()}
    mapping = {col: chosen[col] for col in columns if col in chosen}
    unknown = [col for col in columns if col not in chosen]
    return mapping, unknown


def read_any(path: Path, spec: LayerSpec, *, layer_name: str | None = None) -> RawTable:
    """Read ``path`` for layer ``spec``.

    Parameters
    ----------
    path : Path
        Import file.
    spec : LayerSpec
        Layer the file is meant to hold.
    layer_name : str, optional
        Layer inside a GeoPackage (default: the one named like ``spec`` or the only one).

    Returns
    -------
    RawTable

    Raises
    ------
    ReadError
        Missing, empty, unreadable or non-spatial files, with the file named.
    """
    if not path.exists():
        raise ReadError(f"{path}: 文件不存在 / file not found")
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: 文件为空 / file is empty")
    suffix = path.suffix.lower()
    if suffix in TABULAR:
        table = _read_tabular(path, spec)
    elif suffix in VECTOR:
        table = _read_vector(path, spec, layer_name)
    else:
        raise ReadError(
            f"{path}: 不支持的文件类型 {suffix} / unsupported file type; use "
            "xlsx, csv, gpkg, shp (or zipped shp), geojson, kml"
        )
    if not table.row_labels:  # (a frame without attribute columns is still rows of geometry)
        raise ReadError(f"{path}: 没有数据行 / no data rows")
    return table


def _decode_csv(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise ReadError(f"{path}: 无法识别文本编码(应为 UTF-8 或 GBK) / cannot decode as UTF-8 or GBK")


def _check_unpacked_size(path: Path) -> None:
    """Refuse a zip (or XLSX) whose members add up to more than :data:`MAX_UNZIPPED_BYTES`."""
    try:
        with zipfile.ZipFile(path) as zf:
            size_mb = sum(i.file_size for i in zf.infolist()) / 2**20
    except zipfile.BadZipFile:
        return  # not a zip after all: the reader reports it
    limit_mb = MAX_UNZIPPED_BYTES / 2**20
    if size_mb > limit_mb:
        raise ReadError(f"{path}: 解压后 {size_mb:.1f} MB，超过 {limit_mb:.1f} MB 上限 / "
                        f"unpacks to {size_mb:.1f} MB, over the {limit_mb:.1f} MB limit")


def _read_tabular(path: Path, spec: LayerSpec) -> RawTable:
    encoding: str | None = None
    try:
        if path.suffix.lower() in (".csv", ".txt"):
            from io import StringIO

            text, encoding = _decode_csv(path)
            if not text.strip():
                raise ReadError(f"{path}: 文件为空 / file is empty")
            df = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, sep=None, engine="python")
        else:
            _check_unpacked_size(path)  # an XLSX is a zip: refuse a bomb before openpyxl inflates it
            # as for CSV, a cell reading "nan", "NA" or "null" is text (and so refused in a number field),
            # never a blank that a default would fill; only empty cells are blank
            df = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl", keep_default_na=False,
                               na_values=[""])
    except ReadError:
        raise
    except Exception as exc:  # pandas raises many types for broken files
        raise ReadError(f"{path}: 无法读取 / cannot read: {exc}") from exc
    df = df.dropna(how="all")
    df = df.loc[:, [c for c in df.columns if not str(c).startswith("Unnamed:")]]
    mapping, unknown = header_map(spec, [str(c) for c in df.columns])
    df.columns = [str(c) for c in df.columns]
    df = df.rename(columns=mapping)
    labels = [f"第{i + 2}行 / row {i + 2}" for i in range(len(df))]
    wkt_col = next((c for c in unknown if _norm(c) in WKT_HEADERS), None)
    if wkt_col is not None:
        unknown.remove(wkt_col)
        geoms = _parse_wkt(df[wkt_col].tolist())
        df = df.drop(columns=[wkt_col])
    elif "lon" in df.columns and "lat" in df.columns:
        geoms = _points_from_lonlat(df["lon"].tolist(), df["lat"].tolist())
    else:
        raise ReadError(
            f"{path}: 非空间数据，缺少“经度”“纬度”列或 WKT 几何列 / not spatial: "
            "no 经度/纬度 (lon/lat) columns and no WKT geometry column"
        )
    return RawTable(path, df.reset_index(drop=True), geoms, labels, None, unknown, encoding,
                    headers={v: k for k, v in mapping.items()})


def _number(value: object) -> float | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().replace("°", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _points_from_lonlat(lons: list[object], lats: list[object]) -> np.ndarray:
    out = np.empty(len(lons), dtype=object)
    for i, (x, y) in enumerate(zip(lons, lats, strict=True)):
        fx, fy = _number(x), _number(y)
        out[i] = None if fx is None or fy is None else shapely.Point(fx, fy)
    return out


def _parse_wkt(values: list[object]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        text = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        try:
            out[i] = shapely.from_wkt(text) if text else None
        except shapely.errors.GEOSException:
            out[i] = None
    return out


def _read_vector(path: Path, spec: LayerSpec, layer_name: str | None,
                 kml_names: dict[str, str] | None = None,
                 dbf_names: tuple[list[bytes], str] | None = None) -> RawTable:
    if path.suffix.lower() == ".shp" and dbf_names is None:
        dbf = _sidecar(path, ".dbf")
        fields = dbf_field_names(dbf) if dbf is not None else []
        if any(not n.isascii() for n in fields):  # GDAL cannot decode cut names: read a copy with ASCII names
            with TemporaryDirectory() as tmp:
                copy = ascii_copy(path, Path(tmp), fields)
                table = _read_vector(copy, spec, layer_name, dbf_names=(fields, _shapefile_encoding(path)))
                table.path = path
                return table
    if path.suffix.lower() == ".kml" and kml_names is None:
        with TemporaryDirectory() as tmp:
            copy, names = ascii_field_copy(path, Path(tmp))
            table = _read_vector(copy, spec, layer_name, kml_names=names)
            table.path = path
            return table
    if path.suffix.lower() in (".zip", ".kmz"):
        with TemporaryDirectory() as tmp:
            try:
                _check_unpacked_size(path)
                with zipfile.ZipFile(path) as zf:
                    zf.extractall(tmp)
            except zipfile.BadZipFile as exc:
                raise ReadError(f"{path}: 不是有效的 zip 文件 / not a valid zip: {exc}") from exc
            inner = sorted(Path(tmp).rglob("*.shp")) + sorted(Path(tmp).rglob("*.kml"))
            if not inner:
                raise ReadError(f"{path}: 压缩包内没有 .shp 或 .kml / no .shp or .kml inside")
            table = _read_vector(inner[0], spec, layer_name)
            table.path = path
            return table
    layers = _list_layers(path)
    if not layers:
        raise ReadError(f"{path}: 文件中没有图层 / no layers in file")
    chosen = _choose_layer(path, layers, spec, layer_name)
    encoding: str | None = None
    if path.suffix.lower() == ".shp":
        encoding = dbf_names[1] if dbf_names is not None else _shapefile_encoding(path)
    try:
        # GDAL reports what it tolerated (e.g. it closes unclosed rings) as warnings: keep them for the user
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                gdf = pyogrio.read_dataframe(path, layer=chosen, encoding=encoding)
            except shapely.errors.GEOSException:
                gdf = _read_fixing_rings(path, chosen, encoding)
    except Exception as exc:  # GDAL errors come in several types
        raise ReadError(f"{path}: 无法读取 / cannot read: {exc}") from exc
    gdal_notes = sorted({f"GDAL: {w.message}" for w in caught})
    if kml_names is not None and isinstance(gdf, gpd.GeoDataFrame):
        gdf = _kml_columns(gdf.rename(columns=kml_names), spec)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise ReadError(f"{path}: 图层 {chosen} 没有几何字段(非空间数据) / layer has no geometry (not spatial)")
    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    cut: dict[str, str] = {}
    if dbf_names is not None:
        attrs, cut = _dbf_columns(attrs, spec, *dbf_names)
    mapping, unknown = header_map(spec, [str(c) for c in attrs.columns])
    for col, name in cut.items():
        if col in unknown and name not in mapping.values():
            mapping[col] = name
            unknown.remove(col)
            gdal_notes.append(f"字段名“{col}”被 DBF 的10字节限制截断，按“{spec.field(name).zh}”读取 / "
                              f"field name {col!r} was cut by the DBF 10-byte limit; read as {name}")
    attrs = attrs.rename(columns=mapping)
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    labels = [f"要素{i + 1} / feature {i + 1}" for i in range(len(attrs))]
    notes = list(gdal_notes)
    if encoding:
        notes.append(f"Shapefile 编码 / encoding: {encoding}")
    file_crs = crs_to_source(gdf.crs)
    declared = None
    if gdf.crs is not None and file_crs is None:
        authority = gdf.crs.to_authority()
        declared = gdf.crs.name + (f" ({':'.join(authority)})" if authority else "")
    return RawTable(path, attrs.reset_index(drop=True), geoms, labels, file_crs,
                    unknown, encoding, notes, declared_crs=declared, headers={v: k for k, v in mapping.items()})


#: Fields GDAL's LIBKML driver adds to every KML layer: styling and time (dropped), and the
#: placemark's own id, name and description (kept unless the file's data has the same field).
KML_STYLING = ("timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility", "drawOrder",
               "icon")
KML_PLACEMARK = ("id", "Name", "name", "description", "Description")


def _kml_columns(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Drop LIBKML's styling fields; let the file's own fields beat the placemark's name and id."""
    gdf = gdf.drop(columns=[c for c in KML_STYLING if c in gdf.columns])
    columns = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    own, _ = header_map(spec, [c for c in columns if c not in KML_PLACEMARK])
    builtin, _ = header_map(spec, [c for c in columns if c in KML_PLACEMARK])
    return gdf.drop(columns=[c for c, name in builtin.items() if name in set(own.values())])


def _read_fixing_rings(path: Path, layer: str, encoding: str | None) -> gpd.GeoDataFrame:
    """Read features whose WKB GEOS refuses (unclosed rings): closing a ring is an unambiguous repair."""
    meta, _fids, wkb, fields = pyogrio.raw.read(path, layer=layer, encoding=encoding)
    geoms = shapely.from_wkb(wkb, on_invalid="fix")
    warnings.warn("有要素的环未闭合，已自动闭合 / unclosed rings were closed", stacklevel=2)
    return gpd.GeoDataFrame(dict(zip(meta["fields"], fields, strict=True)), geometry=geoms, crs=meta["crs"])


def _list_layers(path: Path) -> list[tuple[str, str | None]]:
    try:
        return [(str(name), None if gtype is None else str(gtype))
                for name, gtype in pyogrio.list_layers(path)]
    except Exception as exc:
        raise ReadError(f"{path}: 无法打开 / cannot open: {exc}") from exc


def _choose_layer(path: Path, layers: list[tuple[str, str | None]], spec: LayerSpec,
                  wanted: str | None) -> str:
    names = [n for n, _ in layers]
    for candidate in (wanted, spec.name, spec.zh, spec.en):
        if candidate and candidate in names:
            chosen = candidate
            break
    else:
        if wanted:
            raise ReadError(f"{path}: 没有图层 {wanted} / no layer {wanted}; layers: {', '.join(names)}")
        spatial = [n for n, g in layers if g]
        if len(layers) == 1:
            chosen = names[0]
        elif len(spatial) == 1:
            chosen = spatial[0]
        else:
            raise ReadError(
                f"{path}: 含多个图层，请用 --layer-name 指定 / several layers, choose one with "
                f"--layer-name: {', '.join(names)}"
            )
    gtype = dict(layers)[chosen]
    if gtype is None:
        raise ReadError(f"{path}: 图层 {chosen} 没有几何字段(非空间数据) / layer has no geometry (not spatial)")
    return chosen


def _dbf_columns(attrs: pd.DataFrame, spec: LayerSpec, names: list[bytes],
                 encoding: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Give the stand-in columns of :func:`geo.dbf_names.ascii_copy` their names back.

    Returns the renamed frame and, for names cut by the 10-byte limit, the field each can only be.
    """
    rename: dict[str, str] = {}
    cut: dict[str, str] = {}
    for i, raw in enumerate(names):
        name = decode_name(raw, encoding) or stand_in(i)
        while name in rename.values():
            name += "_"
        rename[stand_in(i)] = name
        hit = match_cut_name(raw, encoding, spec)
        if hit is not None:
            cut[name] = hit
    return attrs.rename(columns=rename), cut


def _sidecar(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


def _shapefile_encoding(path: Path) -> str:
    """Honour .cpg; otherwise tell UTF-8 from GBK by decoding the .dbf field names and text."""
    cpg = path.with_suffix(".cpg")
    if not cpg.exists():
        cpg = path.with_suffix(".CPG")
    if cpg.exists():
        declared = cpg.read_text(encoding="ascii", errors="ignore").strip().upper()
        aliases = {"936": "GBK", "CP936": "GBK", "GB2312": "GBK", "65001": "UTF-8", "UTF8": "UTF-8"}
        return aliases.get(declared, declared or "UTF-8")
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return "UTF-8"
    data = dbf.read_bytes()
    header_len = int.from_bytes(data[8:10], "little") if len(data) > 10 else 0
    body = data[header_len:]
    names = dbf_field_names(dbf)
    best, best_share = "UTF-8", -1.0
    for encoding, label in (("utf-8", "UTF-8"), ("gb18030", "GB18030")):
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not all(decodes(n, encoding) for n in names):
            continue
        # short GBK text can also decode as UTF-8 (学校 → ѧУ): prefer the reading that gives Chinese
        text += "".join(decode_name(n, encoding) for n in names)
        wide = [c for c in text if ord(c) > 127]
        share = sum("\u4e00" <= c <= "\u9fff" for c in wide) / len(wide) if wide else 1.0
        if share > best_share:
            best, best_share = label, share
    return best
