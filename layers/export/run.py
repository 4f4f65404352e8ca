"""Write the chosen formats of a set of layers, then record the export once in the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from layers.export import formats
from layers.export.audit import record_export
from layers.export.formats import ExportJob, ExportSpec
from layers.export.hazard_pack import HazardPack
from layers.export.prepare import ASCII_STEM, check_layers, output_epsg

if TYPE_CHECKING:
    from sqlalchemy import Connection


def export_layers(layers: Mapping[str, gpd.GeoDataFrame], out_dir: Path, spec: ExportSpec, *,
                  stem: str = "riskmap", names: Mapping[str, str] | None = None,
                  tables: Mapping[str, pd.DataFrame] | None = None,
                  district_outline: gpd.GeoDataFrame | None = None, sources: gpd.GeoDataFrame | None = None,
                  context: gpd.GeoDataFrame | None = None, hazards: HazardPack | None = None,
                  conn: Connection | None = None,
                  actor: str = "system", adcode: str | None = None) -> dict[str, list[Path]]:
    """Write the formats of ``spec`` into ``out_dir`` and, given ``conn``, audit the export.

    Each format is written by its :class:`~layers.export.formats.Writer` in
    :data:`~layers.export.formats.EXPORT_FORMATS`, to ``<stem><suffix>``.

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
    hazards : HazardPack, optional
        The 隐患台账 and its files, required for "hazards".
    conn : sqlalchemy.Connection, optional
        When given, one ``export`` entry is appended to the audit log (in the caller's
        transaction, :func:`~layers.export.audit.record_export`).
    actor : str
        Who exports (for the audit log).
    adcode : str, optional
        District the export covers (for the audit log).

    Returns
    -------
    dict of str to list of Path
        Format to the files written.
    """
    if not ASCII_STEM.match(stem):
        raise ValueError(f"output stem must be ASCII letters, digits, '_' or '-', not {stem!r}")
    check_layers(layers)
    out_dir = Path(out_dir)
    job = ExportJob(layers=layers, spec=spec, epsg=output_epsg(layers, spec.crs), names=names, tables=tables,
                    district_outline=district_outline, sources=sources, context=context,
                    hazards=hazards)
    written: dict[str, list[Path]] = {}
    for fmt in spec.formats:
        writer = formats.EXPORT_FORMATS[fmt]
        written[fmt] = writer.write(job, out_dir / f"{stem}{writer.suffix}")
    if conn is not None:
        record_export(conn, actor=actor, target=",".join(spec.formats), adcode=adcode,
                      details={"epsg": job.epsg, "shp_encoding": spec.shp_encoding,
                               "layers": {name: len(gdf) for name, gdf in layers.items()},
                               "files": [p.name for paths in written.values() for p in paths]})
    return written
