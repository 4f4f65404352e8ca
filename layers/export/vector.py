"""GIS writers: one GeoPackage, zipped Shapefiles, RFC 7946 GeoJSON files.

* One geometry type per GIS layer: a layer that mixes points, lines and polygons is written as
  one layer (or file) per geometry family, ``<layer>_点/_线/_面`` (ASCII names and file stems:
  ``_pt/_ln/_pg``), by the convention of :mod:`geo.geometry_split`.
* GeoPackage keeps Chinese layer and field names.
* Shapefiles are limited: 10-byte field names, ASCII file names are the safe choice.
  :func:`write_shapefiles_zip` shortens field names deterministically (and writes a
  ``<stem>_fields.csv`` mapping short to full names) and writes a ``.cpg`` naming the encoding.
* GeoJSON follows RFC 7946: always longitude/latitude (EPSG:4326; CGCS2000 and WGS84
  coordinates are treated as identical at map accuracy), whatever ``crs`` is chosen.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from geo.cells import csv_row
from geo.constants import STORAGE_SRID
from geo.geometry_split import needs_multi, split_by_family
from layers.export.prepare import check_layers, file_stems, plain, to_storage

ShpEncoding = Literal["UTF-8", "GBK"]
#: Encodings a Shapefile's ``.dbf`` may be written in.
SHP_ENCODINGS: tuple[str, ...] = ("UTF-8", "GBK")

#: Byte limit of a dBASE field name.
SHP_FIELD_BYTES = 10
#: Byte limit of a dBASE character value.
SHP_VALUE_BYTES = 254

#: Characters outside GBK that our own texts use, with plain equivalents (m³ → m3, 10⁻⁶ → 10-6).
_GBK_FALLBACKS = str.maketrans({"³": "3", "²": "2", "¹": "1", "⁰": "0", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7",
                                "⁸": "8", "⁹": "9", "⁻": "-", "⁺": "+"})


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: Path, *, epsg: int = STORAGE_SRID) -> Path:
    """Write all layers into one GeoPackage, one table per layer and geometry type.

    A layer of one geometry family is one table named as given; a layer that mixes families is
    one table per family, ``<name>_点``, ``<name>_线``, ``<name>_面`` (:mod:`geo.geometry_split`).

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name (Chinese allowed) to features.
    path : Path
        Output ``.gpkg``; an existing file is replaced.
    epsg : int
        Output CRS: 4490 or a Gauss-Krüger zone (see :func:`layers.export.output_epsg`).

    Returns
    -------
    Path
        ``path``, the GeoPackage written.

    Raises
    ------
    ValueError
        If there are no layers, a layer is empty (named in the message) or a split layer's
        name is taken by another layer.
    """
    check_layers(layers)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    parts = _split_layers({name: plain(to_storage(gdf, name)).to_crs(epsg) for name, gdf in layers.items()})
    for name, out in parts.items():
        # GeoPackage 1.2 opens in every GDAL/QGIS/ArcGIS still in use (1.4 warns on GDAL < 3.7).
        out.to_file(path, layer=name, driver="GPKG", engine="pyogrio", dataset_options={"VERSION": "1.2"},
                    promote_to_multi=needs_multi(out))
    return path


def write_shapefiles_zip(layers: Mapping[str, gpd.GeoDataFrame], path: Path, *, epsg: int = STORAGE_SRID,
                         encoding: ShpEncoding = "UTF-8", names: Mapping[str, str] | None = None) -> Path:
    """Write each layer as Shapefile(s) into one zip.

    Per layer the zip holds ``<stem>.shp/.shx/.dbf/.prj/.cpg`` (or ``<stem>_pt``, ``_ln``,
    ``_pg`` sets when the layer mixes points, lines and polygons; features without geometry
    go with the first of those) and ``<stem>_fields.csv`` (UTF-8 with BOM) mapping the short
    field names to the full ones. Field names are cut to 10 bytes in ``encoding`` (3 Chinese
    characters in UTF-8, 5 in GBK) and made unique with ``_1``, ``_2``…; text values longer
    than 254 bytes are cut at a character boundary (the GeoPackage keeps them whole).

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name to features.
    path : Path
        Output ``.zip``; an existing file is replaced.
    epsg : int
        Output CRS (written to the ``.prj``).
    encoding : {"UTF-8", "GBK"}
        Encoding of field names and values in the ``.dbf``; named in the ``.cpg``.
    names : mapping of str to str, optional
        Layer name to ASCII file stem; :func:`layers.export.slugify` of the layer name by default.

    Returns
    -------
    Path
        ``path``, the zip written.

    Raises
    ------
    ValueError
        For no layers, an empty layer, a non-ASCII or duplicate stem, a geometry type a
        shapefile cannot hold, or text that cannot be encoded in ``encoding``.
    """
    if encoding not in SHP_ENCODINGS:
        raise ValueError(f"shapefile encoding must be 'UTF-8' or 'GBK', not {encoding!r}")
    check_layers(layers)
    stems = file_stems(layers, names)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rm-shp-") as tmp:
        folder = Path(tmp)
        members: list[Path] = []
        for name, gdf in layers.items():
            stem = stems[name]
            flat = plain(to_storage(gdf, name)).to_crs(epsg)
            mapping = shapefile_field_names([c for c in flat.columns if c != flat.geometry.name], encoding)
            out = _shp_values(flat.rename(columns=mapping), name, encoding)
            for part_stem, part in _shapefile_parts(out, name, stem):
                shp = folder / f"{part_stem}.shp"
                part.to_file(shp, driver="ESRI Shapefile", engine="pyogrio", encoding=encoding,
                             promote_to_multi=needs_multi(part))
                cpg = shp.with_suffix(".cpg")
                cpg.write_text(encoding, encoding="ascii")  # GDAL writes it too; make it certain
                members += [shp.with_suffix(ext) for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")]
            fields_csv = folder / f"{stem}_fields.csv"
            _write_fields_csv(fields_csv, mapping)
            members.append(fields_csv)
        tmp_zip = folder / "out.zip"
        with zipfile.ZipFile(tmp_zip, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for member in members:
                zf.write(member, arcname=member.name)
        path.unlink(missing_ok=True)
        path.write_bytes(tmp_zip.read_bytes())
    return path


def shapefile_field_names(columns: Sequence[Any], encoding: str) -> dict[Any, str]:
    """Short, unique dBASE field names (≤ 10 bytes in ``encoding``) for ``columns``.

    Characters other than letters, digits and ``_`` become ``_``; the name is cut at a
    character boundary; a name that collides (case-insensitively) with an earlier one gets
    ``_1``, ``_2``… in place of its tail. The result depends only on the column order.

    Parameters
    ----------
    columns : sequence
        Column names in order (Chinese allowed).
    encoding : str
        ``"UTF-8"`` or ``"GBK"``.

    Returns
    -------
    dict
        Column name to short name.

    Examples
    --------
    >>> shapefile_field_names(["风险点编号", "风险点名称", "疏散半径(m)"], "UTF-8")
    {'风险点编号': '风险点', '风险点名称': '风险_1', '疏散半径(m)': '疏散半'}
    >>> shapefile_field_names(["风险点编号", "风险点名称", "疏散半径(m)"], "GBK")
    {'风险点编号': '风险点编号', '风险点名称': '风险点名称', '疏散半径(m)': '疏散半径_m'}
    """
    out: dict[Any, str] = {}
    taken: set[str] = set()
    for col in columns:
        base = "".join(ch if (ch.isalnum() or ch == "_") and _encodable(ch, encoding) else "_" for ch in str(col))
        base = re.sub(r"_+", "_", base).strip("_") or "field"
        if base[0].isdigit():
            base = f"f{base}"
        short = _cut_bytes(base, SHP_FIELD_BYTES, encoding).rstrip("_") or "field"
        n = 0
        while short.upper() in taken:
            n += 1
            tail = f"_{n}"
            short = _cut_bytes(base, SHP_FIELD_BYTES - len(tail), encoding).rstrip("_") + tail
        taken.add(short.upper())
        out[col] = short
    return out


def write_geojson(layers: Mapping[str, gpd.GeoDataFrame], folder: Path, *,
                  names: Mapping[str, str] | None = None) -> list[Path]:
    """Write one RFC 7946 GeoJSON file per layer (per layer and geometry family when it mixes them).

    RFC 7946 allows only WGS84 longitude/latitude, so the files are always EPSG:4326
    (CGCS2000 coordinates carried over unchanged: the two frames agree to a few
    centimetres), whatever CRS the other exports use. Coordinates keep 10 decimals,
    polygons are wound counter-clockwise and no ``crs`` member is written.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name to features.
    folder : Path
        Output folder (created); files are ``<stem>.geojson``.
    names : mapping of str to str, optional
        Layer name to ASCII file stem; :func:`layers.export.slugify` of the layer name by default.

    Returns
    -------
    list of Path
        One file per layer, in input order (``<stem>_pt/_ln/_pg.geojson`` for a mixed layer).

    Raises
    ------
    ValueError
        For no layers, an empty layer or a non-ASCII or duplicate stem.
    """
    check_layers(layers)
    stems = file_stems(layers, names)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, gdf in layers.items():
        for part_stem, part in split_by_family(plain(to_storage(gdf, name)).to_crs(4326), stems[name]):
            out = folder / f"{part_stem}.geojson"
            out.unlink(missing_ok=True)
            part.to_file(out, driver="GeoJSON", engine="pyogrio", promote_to_multi=needs_multi(part),
                         layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "10", "WRITE_NAME": "NO"})
            written.append(out)
    return written


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _cut_bytes(text: str, limit: int, encoding: str) -> str:
    """Longest prefix of ``text`` whose encoding is at most ``limit`` bytes."""
    out, used = [], 0
    for ch in text:
        size = len(ch.encode(encoding))
        if used + size > limit:
            break
        out.append(ch)
        used += size
    return "".join(out)


def _shp_values(gdf: gpd.GeoDataFrame, layer: str, encoding: str) -> gpd.GeoDataFrame:
    """Text values fit for a dBASE file: encodable, ≤ 254 bytes; dates and times as text."""
    out = gdf.copy()
    geom = out.geometry.name
    for col in out.columns:
        if col == geom:
            continue
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series) or isinstance(series.dtype, pd.PeriodDtype):
            out[col] = series.astype(str).where(series.notna(), None)
            continue
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            continue

        def fit(value: Any, col: str = col) -> Any:
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                return None
            text = value if isinstance(value, str) else str(value)
            if encoding.upper() != "UTF-8":
                text = text.translate(_GBK_FALLBACKS)  # units like 万m³ and 10⁻⁶ are common in our data
            try:
                data = text.encode(encoding)
            except UnicodeEncodeError as err:
                raise ValueError(f"图层 {layer!r} 字段 {col!r} 的值 {text!r} 无法用 {encoding} 编码 / "
                                 f"layer {layer!r}, field {col!r}: value cannot be encoded in {encoding}; "
                                 "export with UTF-8") from err
            return text if len(data) <= SHP_VALUE_BYTES else _cut_bytes(text, SHP_VALUE_BYTES, encoding)

        out[col] = pd.Series([fit(v) for v in series], index=series.index, dtype=object)
    return out


def _split_layers(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Layers with one geometry family each (mixed layers split, :mod:`geo.geometry_split`)."""
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, gdf in layers.items():
        for part_name, part in split_by_family(gdf, name):
            if part_name in out or (part_name != name and part_name in layers):
                raise ValueError(f"图层 {name!r} 按几何类型拆分后的 {part_name!r} 与另一图层重名 / layer {name!r} "
                                 f"split by geometry type gives {part_name!r}, the name of another layer")
            out[part_name] = part
    return out


def _shapefile_parts(gdf: gpd.GeoDataFrame, layer: str, stem: str) -> list[tuple[str, gpd.GeoDataFrame]]:
    parts = split_by_family(gdf, stem)
    if any((part.geom_type == "GeometryCollection").any() for _, part in parts):
        raise ValueError(f"图层 {layer!r} 含 Shapefile 不支持的几何类型 ['GeometryCollection'] / layer {layer!r} has "
                         "geometry types a shapefile cannot hold: ['GeometryCollection']")
    return parts


def _write_fields_csv(path: Path, mapping: Mapping[Any, str]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["short_name", "full_name"])
    writer.writerows(csv_row([short, str(full)]) for full, short in mapping.items())
    path.write_text(buf.getvalue(), encoding="utf-8-sig", newline="")
