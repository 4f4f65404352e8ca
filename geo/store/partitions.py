"""Reads for the partitioned check engine: the data's extent and reach, and the features near given lines.

A partition's tile window is read with :func:`geo.store.layers.read_layer_window` (a GiST box query);
this module adds what planning needs (extent, widest feature, largest data-set distances) and the
features within a distance of a set of whole pipelines (location class and HCA identification).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import Connection, Engine, text

from geo.constants import STORAGE_SRID
from geo.store.engine import on_connection
from geo.store.layers import _read_gdf, table

#: Layers whose features are passed whole along lines (their extent is not a feature span).
_LINE_TABLES = ("pipelines", "infrastructure")
#: (layer, column) naming the enterprise a plant part belongs to: one enterprise's parts are one plant.
_PLANT_LINK = ("installations", "enterprise_credit_code")


@on_connection
def _scalar(conn: Connection, sql: str) -> Any:
    return conn.execute(text(sql)).scalar()


def layers_extent(engine: Engine | Connection, layers: Sequence[str]) -> tuple[float, float, float, float] | None:
    """Return the lon/lat extent ``(west, south, east, north)`` of ``layers`` (None when all are empty).

    Parameters
    ----------
    engine : Engine or Connection
        The store.
    layers : sequence of str
        Importable layer names.

    Returns
    -------
    tuple of float or None
    """
    boxes = []
    for layer in layers:
        name = table(layer).name
        row = _scalar(engine, f"SELECT ST_AsText(ST_Extent(geom)) FROM {name}")
        if row:
            boxes.append(shapely.from_wkt(row).bounds)
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def widest_span_deg(engine: Engine | Connection, layers: Sequence[str]) -> float:
    """Return the largest bounding-box diagonal (degrees) of one non-line feature or of one plant.

    A plant is the parts (``installations``) of one enterprise together.

    Parameters
    ----------
    engine : Engine or Connection
        The store.
    layers : sequence of str
        Layers to measure (line layers are skipped).

    Returns
    -------
    float
    """
    widest = 0.0
    diag = "sqrt(power(ST_XMax({g}) - ST_XMin({g}), 2) + power(ST_YMax({g}) - ST_YMin({g}), 2))"
    for layer in layers:
        if layer in _LINE_TABLES:
            continue
        value = _scalar(engine, f"SELECT max({diag.format(g='geom')}) FROM {table(layer).name}")
        widest = max(widest, float(value or 0.0))
    layer, column = _PLANT_LINK
    value = _scalar(engine, f"SELECT max({diag.format(g='box')}) FROM (SELECT ST_Extent(geom) AS box "
                            f"FROM {table(layer).name} WHERE {column} IS NOT NULL GROUP BY {column}) e")
    return max(widest, float(value or 0.0))


def data_distances(engine: Engine | Connection) -> tuple[float, float]:
    """Return the largest declared external safety distance (m) and ``max(d·√p)`` of the pipelines (mm·√MPa).

    Parameters
    ----------
    engine : Engine or Connection
        The store.

    Returns
    -------
    tuple of float
    """
    esd = _scalar(engine, f"SELECT max(external_distance_m) FROM {table('enterprises').name}")
    dp = _scalar(engine, f"SELECT max(outside_diameter_mm * sqrt(greatest(maop_mpa, 0))) "
                         f"FROM {table('pipelines').name}")
    return float(esd or 0.0), float(dp or 0.0)


def read_layer_near_lines(engine: Engine | Connection, layer: str, lines: Sequence[Any],
                          degrees: float) -> gpd.GeoDataFrame:
    """Read rows of ``layer`` within ``degrees`` (planar, EPSG:4490) of any of ``lines``, in id order.

    Parameters
    ----------
    engine : Engine or Connection
        The store.
    layer : str
        Importable layer name.
    lines : sequence of shapely geometry
        Lines in EPSG:4490.
    degrees : float
        Distance in degrees (a caller wanting metres passes a value covering them, see
        :func:`geo.checks.partition.degrees_for`).

    Returns
    -------
    GeoDataFrame
    """
    tbl = table(layer)
    cols = ", ".join(f'"{c.name}"' for c in tbl.columns)
    if not len(lines):
        return _read_gdf(engine, f"SELECT {cols} FROM {tbl.name} WHERE false", {})
    wkb = shapely.to_wkb(shapely.geometrycollections(list(lines)))
    sql = (f"WITH l AS (SELECT (ST_Dump(ST_GeomFromWKB(:g, {STORAGE_SRID}))).geom AS g) "
           f"SELECT {cols} FROM {tbl.name} WHERE id IN (SELECT t.id FROM l JOIN {tbl.name} t "
           "ON ST_DWithin(t.geom, l.g, :d)) ORDER BY id")
    return _read_gdf(engine, sql, {"g": wkb, "d": float(degrees)})
