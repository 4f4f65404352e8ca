"""Layer-agnostic exports: GeoPackage, zipped Shapefiles, GeoJSON, XLSX, and the print map.

The writers take a dict of named GeoDataFrames (stored in CGCS2000, EPSG:4490) whose
layer and column names may be Chinese, and write them for people who work in
ArcGIS/QGIS (GeoPackage, Shapefile), on the web (GeoJSON) or in Excel (XLSX).

* :mod:`layers.export.formats` holds :data:`EXPORT_FORMATS`, the one table of formats
  (format code → :class:`Writer`: file suffix, media type, labels, write function), and
  :class:`ExportSpec`, which picks formats from it.
* :mod:`layers.export.run` holds :func:`export_layers`, which writes the chosen formats and
  records the export once in the audit log (:func:`record_export`, :mod:`layers.export.audit`).
* :mod:`layers.export.vector` writes the GIS formats: one geometry type per GIS layer (mixed
  layers become ``<layer>_点/_线/_面``), Chinese names kept in the GeoPackage, 10-byte field
  names in Shapefiles, RFC 7946 lon/lat in GeoJSON.
* :mod:`layers.export.sheets` writes the XLSX: geometry dropped (points get 经度/纬度), a
  "说明" sheet first, text never a formula (:mod:`geo.cells`).
* :mod:`layers.export.prepare` checks layers, brings them to CGCS2000 and makes number-only
  text columns numbers, so that GIS fields are Integer/Real, not String.

Projected output (``crs="gk"``) uses the CGCS2000 3-degree Gauss-Krüger CM zone of the
layers' centre (:func:`geo.crs.gk_zone_epsg`), never Web Mercator. The print map itself is
:mod:`layers.printmap`, which this package calls only when "pdf" or "png" is asked for.
"""

from __future__ import annotations

from layers.export.audit import EXPORT_ACTION, record_export
from layers.export.formats import CRS_CHOICES, EXPORT_FORMATS, FORMATS, ExportJob, ExportSpec, Writer
from layers.export.prepare import CrsChoice, output_epsg, slugify
from layers.export.run import export_layers
from layers.export.sheets import INFO_SHEET, XLSX_CELL_CHARS, XLSX_WKT_HEADER, write_xlsx
from layers.export.vector import (
    SHP_ENCODINGS,
    SHP_FIELD_BYTES,
    SHP_VALUE_BYTES,
    ShpEncoding,
    shapefile_field_names,
    write_geojson,
    write_gpkg,
    write_shapefiles_zip,
)

__all__ = [
    "CRS_CHOICES", "EXPORT_ACTION", "EXPORT_FORMATS", "FORMATS", "INFO_SHEET", "SHP_ENCODINGS", "SHP_FIELD_BYTES",
    "SHP_VALUE_BYTES", "XLSX_CELL_CHARS", "XLSX_WKT_HEADER", "CrsChoice", "ExportJob", "ExportSpec", "ShpEncoding",
    "Writer", "export_layers", "output_epsg", "record_export", "shapefile_field_names", "slugify",
    "write_geojson", "write_gpkg", "write_shapefiles_zip", "write_xlsx",
]
