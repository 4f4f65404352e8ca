"""The table of export formats: one :class:`Writer` per format, and the :class:`ExportSpec` that picks them.

:data:`EXPORT_FORMATS` is the one list of formats: :func:`layers.export.export_layers` looks the
writer up in it, the ``riskmap export`` command and the dashboard's export card offer its keys
and labels. Adding a format is one writer function here plus one row in the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import pandas as pd

from layers.export.hazard_pack import HazardPack, write_hazard_pack
from layers.export.prepare import CrsChoice
from layers.export.sheets import write_xlsx
from layers.export.vector import SHP_ENCODINGS, ShpEncoding, write_geojson, write_gpkg, write_shapefiles_zip

#: Output CRS choices of :class:`ExportSpec`: CGCS2000 lon/lat or the area's Gauss-Krüger zone.
CRS_CHOICES: tuple[str, ...] = ("cgcs2000", "gk")


@dataclass(frozen=True)
class ExportJob:
    """One export's inputs, as every writer receives them.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name to features (checked, non-empty).
    spec : ExportSpec
        Formats, CRS, shapefile encoding and the texts shown to readers.
    epsg : int
        Output CRS of the GIS formats (:func:`layers.export.output_epsg` of ``spec.crs``).
    names : mapping of str to str, optional
        Layer name to ASCII file stem for Shapefiles and GeoJSON.
    tables : mapping of str to DataFrame, optional
        Tables for the XLSX; the layers themselves when None.
    district_outline, sources, context : GeoDataFrame, optional
        Inputs of :func:`layers.printmap.print_map`.
    hazards : HazardPack, optional
        The hazards and their files, required for "hazards".
    """

    layers: Mapping[str, gpd.GeoDataFrame]
    spec: ExportSpec
    epsg: int
    names: Mapping[str, str] | None = None
    tables: Mapping[str, pd.DataFrame] | None = None
    district_outline: gpd.GeoDataFrame | None = None
    sources: gpd.GeoDataFrame | None = None
    context: gpd.GeoDataFrame | None = None
    hazards: HazardPack | None = None


@dataclass(frozen=True)
class Writer:
    """How one export format is written and offered.

    Parameters
    ----------
    suffix : str
        Appended to the export's stem to name the output: a file (``.gpkg``) or a folder
        (``_geojson``) for formats that write one file per layer.
    media_type : str
        MIME type of one output file.
    label_zh, label_en : str
        Name shown to readers.
    write : callable
        ``write(job, target)`` writes the format to ``target`` and returns the files written.
    """

    suffix: str
    media_type: str
    label_zh: str
    label_en: str
    write: Callable[[ExportJob, Path], list[Path]]

    def label(self, lang: str = "zh") -> str:
        """Name of the format in ``lang`` ("zh" or "en")."""
        return self.label_en if lang == "en" else self.label_zh


def _gpkg(job: ExportJob, target: Path) -> list[Path]:
    return [write_gpkg(job.layers, target, epsg=job.epsg)]


def _shp(job: ExportJob, target: Path) -> list[Path]:
    return [write_shapefiles_zip(job.layers, target, epsg=job.epsg, encoding=job.spec.shp_encoding, names=job.names)]


def _geojson(job: ExportJob, target: Path) -> list[Path]:
    return write_geojson(job.layers, target, names=job.names)


def _xlsx(job: ExportJob, target: Path) -> list[Path]:
    tables = dict(job.tables) if job.tables is not None else dict(job.layers)
    return [write_xlsx(tables, target, title=job.spec.title, data_date=job.spec.data_date,
                       source_note=job.spec.source_note)]


def _map(job: ExportJob, target: Path) -> list[Path]:
    if job.district_outline is None or job.sources is None:
        fmt = target.suffix.lstrip(".")
        raise ValueError(f"format {fmt!r} needs district_outline and sources for the print map")
    from layers.printmap import print_map  # matplotlib only when a map is asked for

    return [print_map(target, district_outline=job.district_outline, sources=job.sources, title=job.spec.title,
                      data_date=job.spec.data_date, source_note=job.spec.source_note, context=job.context)]


def _hazards(job: ExportJob, target: Path) -> list[Path]:
    if job.hazards is None:
        raise ValueError("format 'hazards' needs the district's hazards (隐患台账与附件 is part of a district pack)")
    return write_hazard_pack(job.hazards, target)


#: Every export format, in the order they are offered: format code to its :class:`Writer`.
EXPORT_FORMATS: Mapping[str, Writer] = MappingProxyType({
    "gpkg": Writer(".gpkg", "application/geopackage+sqlite3", "GeoPackage", "GeoPackage", _gpkg),
    "shp": Writer("_shp.zip", "application/zip", "Shapefile", "Shapefile", _shp),
    "geojson": Writer("_geojson", "application/geo+json", "GeoJSON", "GeoJSON", _geojson),
    "xlsx": Writer(".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX", "XLSX",
                   _xlsx),
    "pdf": Writer("_map.pdf", "application/pdf", "PDF", "PDF", _map),
    "png": Writer("_map.png", "image/png", "PNG", "PNG", _map),
    "hazards": Writer("_hazards.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      "隐患台账与附件", "Hazard register with files", _hazards),
})
#: The format codes, in order.
FORMATS: tuple[str, ...] = tuple(EXPORT_FORMATS)


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
        unknown = [f for f in self.formats if f not in EXPORT_FORMATS]
        if unknown or not self.formats:
            raise ValueError(f"unknown or no export formats {unknown or list(self.formats)}; choose from {FORMATS}")
        if self.crs not in CRS_CHOICES:
            raise ValueError(f"crs must be 'cgcs2000' or 'gk', not {self.crs!r}")
        if self.shp_encoding not in SHP_ENCODINGS:
            raise ValueError(f"shp_encoding must be 'UTF-8' or 'GBK', not {self.shp_encoding!r}")
