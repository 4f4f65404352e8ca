"""Write check results to files (GeoPackage), for planners working without the database.

Findings mix points (e.g. a site), lines (subject to object) and polygons; a GeoPackage layer
holds one geometry type, so findings of several geometry families are written as
``check_findings_pt``, ``check_findings_ln``, ``check_findings_pg`` (one family: ``check_findings``),
by the convention of :mod:`geo.geometry_split`. The same holds for ``hcas``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geo.checks.runner import CheckResult
from geo.constants import STORAGE_SRID
from geo.geometry_split import needs_multi, split_by_family


def write_findings(result: CheckResult, path: Path) -> Path:
    """Write findings (layer ``check_findings``) and identified HCAs (layer ``hcas``) to a GeoPackage.

    Each layer holds one geometry type: a layer that mixes points, lines and polygons is split
    into ``<layer>_pt``, ``<layer>_ln`` and ``<layer>_pg`` (:func:`geo.geometry_split.split_by_family`).

    Parameters
    ----------
    result : CheckResult
        A check run's result.
    path : Path
        Output ``.gpkg``; an existing file is replaced.

    Returns
    -------
    Path
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    findings = result.findings.copy()
    findings["rule_set_version"] = result.rule_set_version
    _write(findings, path, "check_findings")
    if result.hca_segments is not None and len(result.hca_segments):
        segs = result.hca_segments.copy()
        for col in segs.columns:
            if col != segs.geometry.name and isinstance(segs[col].dtype, gpd.array.GeometryDtype):
                segs[col] = gpd.GeoSeries(segs[col]).to_wkt()  # GeoPackage layers hold one geometry
        _write(gpd.GeoDataFrame(segs, crs=STORAGE_SRID), path, "hcas")
    return path


def _write(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    for name, part in split_by_family(gdf, layer):
        part.to_file(path, layer=name, driver="GPKG", engine="pyogrio", promote_to_multi=needs_multi(part))
