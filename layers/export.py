"""Layer-agnostic exports: GeoPackage, zipped Shapefiles, GeoJSON, XLSX, and the print map.

The writers take a dict of named GeoDataFrames (stored in CGCS2000, EPSG:4490) whose
layer and column names may be Chinese, and write them for people who work in
ArcGIS/QGIS (GeoPackage, Shapefile), on the web (GeoJSON) or in Excel (XLSX).

* One geometry type per GIS layer, in every GIS format: a layer that mixes points, lines and
  polygons is written as one layer (or file) per geometry family, ``<layer>_点/_线/_面`` (ASCII
  names and file stems: ``_pt/_ln/_pg``), by the convention of :mod:`geo.geometry_split`.
* Numbers are numbers: a text-typed column that holds only numbers (with gaps) is written as an
  integer or real field, never as text.
* GeoPackage keeps Chinese layer and field names.
* Shapefiles are limited: 10-byte field names, ASCII file names are the safe choice.
  :func:`write_shapefiles_zip` shortens field names deterministically (and writes a
  ``<stem>_fields.csv`` mapping short to full names) and writes a ``.cpg`` naming the encoding.
* GeoJSON follows RFC 7946: always longitude/latitude (EPSG:4326; CGCS2000 and WGS84
  coordinates are treated as identical at map accuracy), whatever ``crs`` is chosen.
* XLSX drops geometry (points get 经度/纬度 columns) and starts with a "说明" sheet. Text is
  always a text cell, never a formula, and CSV text that a spreadsheet would run is neutralised
  (:mod:`geo.cells`, OWASP CSV injection).

Projected output (``crs="gk"``) uses the CGCS2000 3-degree Gauss-Krüger CM zone of the
layers' centre (:func:`geo.crs.gk_zone_epsg`), never Web Mercator.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from geo.cells import append_row, csv_row
from geo.crs import STORAGE_EPSG, gk_zone_epsg
from geo.geometry_split import needs_multi, split_by_family

if TYPE_CHECKING:
    from sqlalchemy import Connection

FORMATS = ("gpkg", "shp", "geojson", "xlsx", "pdf", "png")
CrsChoice = Literal["cgcs2000", "gk"]
ShpEncoding = Literal["UTF-8", "GBK"]

#: Byte limit of a dBASE field name.
SHP_FIELD_BYTES = 10
#: Byte limit of a dBASE character value.
SHP_VALUE_BYTES = 254
#: Excel's limit on the characters of one cell.
XLSX_CELL_CHARS = 32_767
#: Header of the geometry column when a plain table with geometries goes to XLSX (as in the import templates).
XLSX_WKT_HEADER = "几何(WKT)"
_ASCII_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_XLSX_MAX_WIDTH = 60
_XLSX_MIN_WIDTH = 8
_XLSX_WIDTH_SAMPLE = 2000
INFO_SHEET = "说明"


@dataclass(frozen=True)
class ExportSpec:
    """What to export and how.

    Parameters
    ----------
    formats : tuple of str
        Any of :data:`FORMATS`.
    crs : {"cgcs2000", "gk"}
        CRS of the GeoPackage and Shapefiles: CGCS2000 lon/lat (EPSG:4490) or the area's
        CGCS2000 3-degree Gauss-Krüger CM zone (EPSG:4534–4554). GeoJSON is always lon/lat.
    shp_encoding : {"UTF-8", "GBK"}
        Encoding of the Shapefiles' ``.dbf`` (GBK for older ArcGIS/MapGIS installations).
    title : str
        Title of the map and of the XLSX info sheet.
    data_date : str
        Date the data refer to, as shown to readers (e.g. ``"2025-06-30"``).
    source_note : str
        Where the data come from.
    """

    formats: tuple[str, ...] = ("gpkg",)
    crs: CrsChoice = "cgcs2000"
    shp_encoding: ShpEncoding = "UTF-8"
    title: str = ""
    data_date: str = ""
    source_note: str = ""

    def __post_init__(self) -> None:
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise ValueError(f"unknown or no export formats {unknown or list(self.formats)}; choose from {FORMATS}")
        if self.crs not in ("cgcs2000", "gk"):
            raise ValueError(f"crs must be 'cgcs2000' or 'gk', not {self.crs!r}")
        if self.shp_encoding not in ("UTF-8", "GBK"):
            raise ValueError(f"shp_encoding must be 'UTF-8' or 'GBK', not {self.shp_encoding!r}")


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
        The choice from :class:`ExportSpec`.

    Returns
    -------
    int
    """
    if crs == "cgcs2000":
        return STORAGE_EPSG
    if crs != "gk":
        raise ValueError(f"crs must be 'cgcs2000' or 'gk', not {crs!r}")
    _check_layers(layers)
    bounds = np.array([_to_storage(g, name).total_bounds for name, g in layers.items()])
    if np.isnan(bounds).all():
        raise ValueError("no layer has any geometry: cannot choose a Gauss-Krüger zone")
    minx, maxx = np.nanmin(bounds[:, 0]), np.nanmax(bounds[:, 2])
    return gk_zone_epsg(float(minx + maxx) / 2.0)


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: Path, *, epsg: int = STORAGE_EPSG) -> Path:
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
        Output CRS: 4490 or a Gauss-Krüger zone (see :func:`output_epsg`).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        If there are no layers, a layer is empty (named in the message) or a split layer's
        name is taken by another layer.
    """
    _check_layers(layers)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    parts = _split_layers({name: _plain(_to_storage(gdf, name)).to_crs(epsg) for name, gdf in layers.items()})
    for name, out in parts.items():
        # GeoPackage 1.2 opens in every GDAL/QGIS/ArcGIS still in use (1.4 warns on GDAL < 3.7).
        out.to_file(path, layer=name, driver="GPKG", engine="pyogrio", dataset_options={"VERSION": "1.2"},
                    promote_to_multi=needs_multi(out))
    return path


def write_shapefiles_zip(layers: Mapping[str, gpd.GeoDataFrame], path: Path, *, epsg: int = STORAGE_EPSG,
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
        Layer name to ASCII file stem; :func:`slugify` of the layer name by default.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        For no layers, an empty layer, a non-ASCII or duplicate stem, a geometry type a
        shapefile cannot hold, or text that cannot be encoded in ``encoding``.
    """
    if encoding not in ("UTF-8", "GBK"):
        raise ValueError(f"shapefile encoding must be 'UTF-8' or 'GBK', not {encoding!r}")
    _check_layers(layers)
    stems = _stems(layers, names)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rm-shp-") as tmp:
        folder = Path(tmp)
        members: list[Path] = []
        for name, gdf in layers.items():
            stem = stems[name]
            plain = _plain(_to_storage(gdf, name)).to_crs(epsg)
            mapping = shapefile_field_names([c for c in plain.columns if c != plain.geometry.name], encoding)
            out = _shp_values(plain.rename(columns=mapping), name, encoding)
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
        Layer name to ASCII file stem; :func:`slugify` of the layer name by default.

    Returns
    -------
    list of Path
        One file per layer, in input order (``<stem>_pt/_ln/_pg.geojson`` for a mixed layer).

    Raises
    ------
    ValueError
        For no layers, an empty layer or a non-ASCII or duplicate stem.
    """
    _check_layers(layers)
    stems = _stems(layers, names)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, gdf in layers.items():
        for part_stem, part in split_by_family(_plain(_to_storage(gdf, name)).to_crs(4326), stems[name]):
            out = folder / f"{part_stem}.geojson"
            out.unlink(missing_ok=True)
            part.to_file(out, driver="GeoJSON", engine="pyogrio", promote_to_multi=needs_multi(part),
                         layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "10", "WRITE_NAME": "NO"})
            written.append(out)
    return written


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: Path, *, title: str, data_date: str, source_note: str,
               crs_note: str | None = None) -> Path:
    """Write tables to one workbook: an info sheet "说明", then one sheet per table.

    The geometry of a GeoDataFrame is dropped; tables with point geometries get 经度/纬度
    columns (CGCS2000 degrees, filled for point features only). Geometries in a plain table are
    written as WKT (header ``几何(WKT)`` for a column named ``geometry``; a WKT longer than an
    Excel cell holds is replaced by a note). Text is always a text cell, never a formula
    (:func:`geo.cells.set_text_safe`); numbers are numeric cells. Headers are bold, the header
    row is frozen, column widths follow the content (CJK characters count double, capped at 60).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Sheet name to table (GeoDataFrames allowed). Names are cut to Excel's 31 characters
        and made unique.
    path : Path
        Output ``.xlsx``.
    title, data_date, source_note : str
        Shown on the info sheet.
    crs_note : str, optional
        Coordinate note for the info sheet; a default explains the 经度/纬度 columns.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        If there are no tables or a table is empty (named in the message).
    """
    if not tables:
        raise ValueError("没有要导出的表 / no tables to export")
    for name, df in tables.items():
        if len(df) == 0:
            raise ValueError(f"表 {name!r} 为空 / table {name!r} is empty: nothing to export")
    bold = Font(bold=True)
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = INFO_SHEET
    sheet_names = _sheet_names(list(tables))
    frames = {name: _xlsx_frame(df, name) for name, df in tables.items()}
    note = crs_note or ("经度/纬度为 CGCS2000 (EPSG:4490) 经纬度，单位度，仅点要素填写；"
                        "线、面几何见 GeoPackage/Shapefile 导出。 Longitude/latitude in CGCS2000 degrees, points only.")
    rows: list[list[Any]] = [
        ["标题 Title", title], ["数据日期 Data date", data_date], ["数据来源 Source", source_note],
        ["坐标 Coordinates", note], [], ["工作表 Sheet", "记录数 Rows"],
        *[[sheet_names[name], len(frame)] for name, frame in frames.items()],
    ]
    for row in rows:
        append_row(info, row)
    for r in (1, 2, 3, 4, 6):
        info.cell(row=r, column=1).font = bold
    info.cell(row=6, column=2).font = bold
    info.cell(row=1, column=2).font = Font(bold=True, size=14)
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 80
    for r in range(1, 5):
        info.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")

    for name, frame in frames.items():
        ws = wb.create_sheet(sheet_names[name])
        headers = [str(c) for c in frame.columns]
        append_row(ws, headers)
        for values in frame.itertuples(index=False, name=None):
            append_row(ws, [_cell_value(v) for v in values])
        for col, header in enumerate(headers, 1):
            ws.cell(row=1, column=col).font = bold
            sample = frame.iloc[:_XLSX_WIDTH_SAMPLE, col - 1]
            longest = max([display_width(header), *(display_width(_cell_text(v)) for v in sample)])
            ws.column_dimensions[get_column_letter(col)].width = min(_XLSX_MAX_WIDTH,
                                                                     max(_XLSX_MIN_WIDTH, longest + 2))
        for col_name in ("经度", "纬度"):
            if col_name in headers:
                idx = headers.index(col_name) + 1
                for r in range(2, len(frame) + 2):
                    ws.cell(row=r, column=idx).number_format = "0.000000"
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def display_width(text: str) -> int:
    """Width of ``text`` in monospace cells: East Asian wide and full-width characters count 2.

    Examples
    --------
    >>> display_width("安宁ab")
    6
    """
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def export_layers(layers: Mapping[str, gpd.GeoDataFrame], out_dir: Path, spec: ExportSpec, *,
                  stem: str = "riskmap", names: Mapping[str, str] | None = None,
                  tables: Mapping[str, pd.DataFrame] | None = None,
                  district_outline: gpd.GeoDataFrame | None = None, sources: gpd.GeoDataFrame | None = None,
                  context: gpd.GeoDataFrame | None = None, conn: Connection | None = None,
                  actor: str = "system", adcode: str | None = None) -> dict[str, list[Path]]:
    """Write the formats of ``spec`` into ``out_dir`` and, given ``conn``, audit the export.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name to features (EPSG:4490).
    out_dir : Path
        Output folder (created).
    spec : ExportSpec
        Formats, CRS, shapefile encoding and the texts shown to readers.
    stem : str
        ASCII stem of the single-file outputs (``<stem>.gpkg``, ``<stem>_shp.zip``,
        ``<stem>.xlsx``, ``<stem>_map.pdf``/``.png``).
    names : mapping of str to str, optional
        Layer name to ASCII file stem for Shapefiles and GeoJSON.
    tables : mapping of str to DataFrame, optional
        Tables for the XLSX; the layers themselves by default.
    district_outline, sources, context : GeoDataFrame, optional
        Inputs of :func:`layers.printmap.print_map`, required for "pdf" and "png".
    conn : sqlalchemy.Connection, optional
        When given, one ``export`` entry is appended to the audit log (in the caller's
        transaction).
    actor : str
        Who exports (for the audit log).
    adcode : str, optional
        District the export covers (for the audit log).

    Returns
    -------
    dict of str to list of Path
        Format to the files written.
    """
    if not _ASCII_STEM.match(stem):
        raise ValueError(f"output stem must be ASCII letters, digits, '_' or '-', not {stem!r}")
    _check_layers(layers)
    out_dir = Path(out_dir)
    epsg = output_epsg(layers, spec.crs)
    written: dict[str, list[Path]] = {}
    for fmt in spec.formats:
        if fmt == "gpkg":
            written[fmt] = [write_gpkg(layers, out_dir / f"{stem}.gpkg", epsg=epsg)]
        elif fmt == "shp":
            written[fmt] = [write_shapefiles_zip(layers, out_dir / f"{stem}_shp.zip", epsg=epsg,
                                                 encoding=spec.shp_encoding, names=names)]
        elif fmt == "geojson":
            written[fmt] = write_geojson(layers, out_dir / f"{stem}_geojson", names=names)
        elif fmt == "xlsx":
            written[fmt] = [write_xlsx(dict(tables) if tables is not None else dict(layers),
                                       out_dir / f"{stem}.xlsx", title=spec.title, data_date=spec.data_date,
                                       source_note=spec.source_note)]
        else:
            if district_outline is None or sources is None:
                raise ValueError(f"format {fmt!r} needs district_outline and sources for the print map")
            from layers.printmap import print_map  # matplotlib only when a map is asked for

            written[fmt] = [print_map(out_dir / f"{stem}_map.{fmt}", district_outline=district_outline,
                                      sources=sources, title=spec.title, data_date=spec.data_date,
                                      source_note=spec.source_note, context=context)]
    if conn is not None:
        from geo import store

        store.audit(conn, actor=actor, action="export", target=",".join(spec.formats), adcode=adcode,
                    details={"epsg": epsg, "shp_encoding": spec.shp_encoding,
                             "layers": {name: len(gdf) for name, gdf in layers.items()},
                             "files": [p.name for paths in written.values() for p in paths]})
    return written


# --- helpers -----------------------------------------------------------------------------------


def _check_layers(layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    if not layers:
        raise ValueError("没有要导出的图层 / no layers to export")
    for name, gdf in layers.items():
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise TypeError(f"图层 {name!r} 不是 GeoDataFrame / layer {name!r} is not a GeoDataFrame")
        if len(gdf) == 0:
            raise ValueError(f"图层 {name!r} 为空 / layer {name!r} is empty: nothing to export")
        if gdf.crs is None:
            raise ValueError(f"图层 {name!r} 没有坐标系 / layer {name!r} has no CRS (expected EPSG:4490)")


def _to_storage(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise ValueError(f"图层 {name!r} 没有坐标系 / layer {name!r} has no CRS (expected EPSG:4490)")
    return gdf if gdf.crs.to_epsg() == STORAGE_EPSG else gdf.to_crs(STORAGE_EPSG)


def _plain(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Copy with string column names, a default index, extra geometry columns as WKT.

    Number-only text columns become numbers, so that GIS fields are Integer/Real, not String.
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


def _stems(layers: Mapping[str, gpd.GeoDataFrame], names: Mapping[str, str] | None) -> dict[str, str]:
    stems = {name: (names or {}).get(name) or slugify(name) for name in layers}
    seen: dict[str, str] = {}
    for name, stem in stems.items():
        if not _ASCII_STEM.match(stem):
            raise ValueError(f"file name for layer {name!r} must be ASCII letters, digits, '_' or '-', not {stem!r}")
        if stem.lower() in seen:
            raise ValueError(f"layers {seen[stem.lower()]!r} and {name!r} share the file name {stem!r}")
        seen[stem.lower()] = name
    return stems


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


#: Characters outside GBK that our own texts use, with plain equivalents (m³ → m3, 10⁻⁶ → 10-6).
_GBK_FALLBACKS = str.maketrans({"³": "3", "²": "2", "¹": "1", "⁰": "0", "⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7",
                                "⁸": "8", "⁹": "9", "⁻": "-", "⁺": "+"})


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


def _sheet_names(names: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    taken = {INFO_SHEET}
    for name in names:
        base = _SHEET_BAD.sub("_", str(name)).strip("'") or "Sheet"
        sheet, n = base[:31], 1
        while sheet in taken:
            n += 1
            tail = f"~{n}"
            sheet = base[: 31 - len(tail)] + tail
        taken.add(sheet)
        out[name] = sheet
    return out


def _xlsx_frame(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Table without geometry; 经度/纬度 (CGCS2000) for point features when there are any."""
    if not isinstance(df, gpd.GeoDataFrame):
        out = pd.DataFrame(df).reset_index(drop=True)
        geometry = [c for c in out.columns if isinstance(out[c].dtype, gpd.array.GeometryDtype)]
        for col in geometry:
            out[col] = [_wkt_cell(g) for g in out[col]]
        return out.rename(columns={"geometry": XLSX_WKT_HEADER}) if XLSX_WKT_HEADER not in out.columns else out
    gdf = _plain(_to_storage(df, name)) if df.crs is not None else _plain(df)
    geom = gdf.geometry
    out = pd.DataFrame(gdf.drop(columns=[geom.name]))
    is_point = (geom.geom_type == "Point").to_numpy()
    if is_point.any() and "经度" not in out.columns and "纬度" not in out.columns:
        points = np.asarray(geom.values, dtype=object).copy()
        points[~is_point] = None
        out["经度"] = shapely.get_x(points)
        out["纬度"] = shapely.get_y(points)
    return out


def _wkt_cell(geom: Any) -> str | None:
    if not isinstance(geom, shapely.Geometry):
        return None
    wkt = geom.wkt
    if len(wkt) <= XLSX_CELL_CHARS:
        return wkt
    return (f"几何过长，超出 Excel 单元格上限，见 GeoPackage/Shapefile / geometry longer than an Excel cell "
            f"holds ({len(wkt)} characters): see the GeoPackage or Shapefile")


def _cell_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | bool | int | float):
        return None if isinstance(value, float) and np.isnan(value) else value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.tz_localize(None).to_pydatetime()
    if isinstance(value, np.generic):
        return _cell_value(value.item())
    if isinstance(value, shapely.Geometry):
        return value.wkt
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    if isinstance(value, list | tuple | dict | set):
        return str(value)
    return value


def _cell_text(value: Any) -> str:
    cell = _cell_value(value)
    if cell is None:
        return ""
    if isinstance(cell, float):
        return f"{cell:.6f}".rstrip("0").rstrip(".")
    return str(cell)
