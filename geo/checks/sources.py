"""Build a :class:`~geo.checks.bundle.Bundle` from the store or from a GeoPackage of layers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Engine

from geo import store
from geo.checks.bundle import LAYERS, Bundle
from geo.checks.metric_frame import to_metric, to_storage
from geo.checks.ruleset import RuleSet
from geo.checks.site import CONTEXT_M, NEAR_MARGIN_M, REACH_M, hca_lateral_m
from geo.constants import STORAGE_SRID
from geo.crs import gk_zone_epsg
from geo.errors import ImportValidationError, ReadError
from geo.layer_specs import layer_spec
from geo.readers import read_any
from geo.rule_admin import effective_ruleset
from geo.validate import Issue, validate


def bundle_from_store(engine: Engine, adcode: str | None = None) -> Bundle:
    """Read every check layer from the store (optionally only what concerns one district).

    Parameters
    ----------
    engine : Engine
        The store.
    adcode : str, optional
        Limit to one district. Pipelines crossing it are included whole, and so are
        the districts table and the enterprises, tailings, contours and installations
        of neighbouring districts within 5 km (their hazards reach across the boundary).

    Returns
    -------
    Bundle
    """
    frames: dict[str, gpd.GeoDataFrame] = {"districts": store.read_districts(engine)}
    for layer in LAYERS:
        if layer != "districts":
            frames[layer] = store.read_layer(engine, layer, adcode=None if adcode is None else adcode)
    if adcode is not None:
        for layer in ("enterprises", "tailings_dams", "risk_contours", "installations"):
            frames[layer] = store.read_layer_near(engine, layer, adcode, 5000.0)
    return Bundle(_declared_only(frames))


def _declared_only(frames: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Keep declared HCAs only: identified ones are outputs of earlier runs, not inputs."""
    hcas = frames.get("hcas")
    if hcas is not None and "origin" in hcas.columns:
        frames["hcas"] = hcas[hcas["origin"] != "identified"].reset_index(drop=True)
    return frames


def bundle_near(engine: Engine, geom: shapely.Geometry, reach_m: float = REACH_M, *,
                rules: RuleSet | None = None) -> Bundle:
    """Read what a site pre-check at ``geom`` can reach from the store, and nothing more.

    Hazards, pipelines, infrastructure and the other layers: the rows meeting the box around
    ``geom`` of ``reach_m``. Buildings and protection targets only join the pre-check through the
    neighbours' run of the HCA family (the site's own distance rules see the site alone): the
    rows within :data:`~geo.checks.site.CONTEXT_M` of the site (what
    :func:`~geo.checks.site.precheck_site` keeps) that lie within the HCA rules' lateral reach
    (corridor, near and other distances, the gas impact radius of each line; plus
    :data:`~geo.checks.site.NEAR_MARGIN_M`) of a pipeline read; none when no pipeline is near.
    Risk points and hidden hazards (registers no check family reads) are not read, nor the columns
    of :data:`_UNREAD`.

    Parameters
    ----------
    engine : Engine
        The store.
    geom : shapely.Geometry
        Site geometry in EPSG:4490.
    reach_m : float
        Radius of the window; whole pipelines meeting it are read.
    rules : RuleSet, optional
        The rules the pre-check runs (default: the rules in force in the store).

    Returns
    -------
    Bundle
    """
    epsg = gk_zone_epsg(geom.centroid.x)
    site_m = to_metric(geom, epsg)
    window = to_storage([site_m.buffer(reach_m)], epsg)[0]
    bbox = tuple(float(v) for v in window.bounds)
    rules = rules or effective_ruleset(engine)
    with engine.connect() as conn:
        frames = {layer: store.read_layer_window(conn, layer, bbox, leave_out=_UNREAD)  # type: ignore[arg-type]
                  for layer in LAYERS if layer not in _CONTEXT_LAYERS and layer not in _REGISTERS}
        near = _context_window(site_m, frames["pipelines"], epsg, hca_lateral_m(rules, frames["pipelines"]))
        box = tuple(float(v) for v in (near.bounds if not near.is_empty else geom.bounds))
        for layer in _CONTEXT_LAYERS:
            frames[layer] = store.read_layer_window(conn, layer, box, within=near,  # type: ignore[arg-type]
                                                    leave_out=_UNREAD)
    return Bundle(_declared_only(frames), metric_epsg=epsg)


_CONTEXT_LAYERS = ("protection_targets", "buildings")
#: Columns of the stored layers that no check family reads (row bookkeeping, and the corridor of a
#: declared HCA): the pre-check's window read leaves them out.
_UNREAD = ("id", "source_crs", "batch_id", "created_at", "updated_at", "corridor")
#: Layers of the campaign's registers that no check family reads (they stay empty in the pre-check's bundle).
_REGISTERS = ("risk_points", "hidden_hazards")


def _context_window(site_m: shapely.Geometry, pipes: gpd.GeoDataFrame, epsg: int,
                    lateral: float | None) -> shapely.Geometry:
    """Return the part of the site's context circle within ``lateral`` (+ margin) of a pipeline, in EPSG:4490."""
    circle = site_m.buffer(CONTEXT_M)
    if lateral is None:
        return to_storage([circle], epsg)[0]
    if not len(pipes):
        return shapely.Polygon()
    reach = lateral + NEAR_MARGIN_M
    lines = shapely.intersection(pipes.geometry.to_crs(epsg).values, site_m.buffer(CONTEXT_M + reach))
    corridor = shapely.union_all(shapely.buffer(lines[~shapely.is_empty(lines)], reach))
    near = shapely.intersection(circle, corridor)
    return shapely.Polygon() if near.is_empty else to_storage([near], epsg)[0]


def bundle_from_file(path: Path, *, tolerance_m: float = 200.0) -> Bundle:
    """Read a GeoPackage whose layers are named as in the data dictionary.

    Every layer goes through the same validation as an import (so keys, GB 36894
    classes and pipeline districts are derived the same way). Errors of every layer
    are collected; any error raises :class:`~geo.errors.ImportValidationError` whose
    issues name the layer (``bundle.gpkg:enterprises``), the row and the field.

    Parameters
    ----------
    path : Path
        GeoPackage holding some of ``districts``, ``enterprises``, ``pipelines``, ...
    tolerance_m : float
        Tolerance of the "inside its district" check.

    Returns
    -------
    Bundle

    Raises
    ------
    ImportValidationError
        Some rows are invalid; nothing is checked.
    """
    present = {str(name) for name, _ in pyogrio.list_layers(path)}
    frames: dict[str, gpd.GeoDataFrame] = {}
    districts = gpd.GeoDataFrame({"adcode": []}, geometry=[], crs=STORAGE_SRID)
    errors: list[Issue] = []
    counts: list[str] = []
    for layer in LAYERS:
        if layer not in present:
            continue
        spec = layer_spec(layer)
        raw = read_any(path, spec, layer_name=layer)
        try:
            result = validate(raw, spec, districts=districts, tolerance_m=tolerance_m)
        except ValueError as exc:  # CRS missing or contradicting the coordinates
            raise ReadError(f"{path.name}:{layer}: {exc}") from exc
        if result.errors:
            errors += [replace(i, file=f"{path.name}:{layer}") for i in result.errors]
            counts.append(f"{layer}({spec.zh}) {len(result.errors)}")
            continue
        rows = pd.DataFrame(result.records)  # (the records are not changed: no copy of each)
        geoms: Any = rows.pop("geom").to_numpy(dtype=object) if "geom" in rows.columns else []
        gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=STORAGE_SRID)
        if layer == "districts":
            gdf = gdf.rename(columns={}).copy()
            gdf["key"] = gdf["adcode"]
            districts = gdf
        frames[layer] = gdf
    if errors:
        raise ImportValidationError(
            f"{path.name}: 发现 {len(errors)} 处错误(各图层：{'、'.join(counts)})，未运行检查 / "
            f"{len(errors)} errors ({', '.join(counts)}); no check was run", errors)
    return Bundle(frames)


def bundle_to_file(bundle: Bundle, path: Path) -> Path:
    """Write a bundle's layers to a GeoPackage that :func:`bundle_from_file` (and imports) read back.

    Columns are the layer's field names from the data dictionary (a layer's ``code``
    is written from its ``key``), so planners can take the data offline, edit it in
    desktop GIS and run ``riskmap check --input``.

    Parameters
    ----------
    bundle : Bundle
        Layers to write (empty layers are skipped).
    path : Path
        Output ``.gpkg``; an existing file is replaced.

    Returns
    -------
    Path
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    for layer in LAYERS:
        frame = bundle[layer]
        if not len(frame):
            continue
        spec = layer_spec(layer)
        out = {}
        for f in spec.fields:
            if f.name in ("lon", "lat"):
                continue
            if f.name in frame.columns:
                out[f.name] = frame[f.name]
            elif f.name == "code" and "key" in frame.columns:
                out[f.name] = frame["key"]
        gdf = gpd.GeoDataFrame(out, geometry=frame.geometry.values, crs=STORAGE_SRID)
        for col in gdf.columns:
            if col != "geometry" and gdf[col].dtype == object:
                gdf[col] = gdf[col].map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
        gdf.to_file(path, layer=layer, driver="GPKG")
    return path
