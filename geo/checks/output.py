"""Write check results to files (GeoPackage), for planners working without the database."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geo.checks.runner import CheckResult


def write_findings(result: CheckResult, path: Path) -> Path:
    """Write findings (layer ``check_findings``) and identified HCAs (layer ``hcas``) to a GeoPackage.

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
    findings.to_file(path, layer="check_findings", driver="GPKG")
    if result.hca_segments is not None and len(result.hca_segments):
        segs = result.hca_segments.copy()
        for col in segs.columns:
            if col != segs.geometry.name and isinstance(segs[col].dtype, gpd.array.GeometryDtype):
                segs[col] = gpd.GeoSeries(segs[col]).to_wkt()  # GeoPackage layers hold one geometry
        gpd.GeoDataFrame(segs, crs=4490).to_file(path, layer="hcas", driver="GPKG")
    return path
