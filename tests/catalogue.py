"""The tests' shared geometry catalogue: layers drawn in metres, stored in CGCS2000 like the store keeps them.

Check and layer tests draw their geometries in metres on a CGCS2000 3° Gauss-Krüger zone, around a base
point on the zone's central meridian, so every distance can be worked out by hand; :func:`layer` then
turns the rows into a layer in the storage CRS (EPSG:4490) and :func:`bundle` into a check bundle, as
:func:`geo.checks.sources.bundle_from_store` would hand them over. Named places and geometries that
several test files reuse (the 安宁 district, two fictitious enterprises, a gas trunk line beside a plant)
live here once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import pytest
import shapely

from geo.checks.bundle import Bundle
from geo.constants import STORAGE_CRS

#: CGCS2000 3° Gauss-Krüger zone with central meridian 102°E (zone 34, Kunming).
KUNMING_GK = 4543
#: CGCS2000 3° Gauss-Krüger zone with central meridian 120°E (zone 40, east China: Hangzhou).
EAST_CHINA_GK = 4549
#: Base point on the central meridian of :data:`KUNMING_GK`, near 24.9°N.
X0, Y0 = 500_000.0, 2_760_000.0
#: Both zones as pytest parameters ``(epsg, x, y)``, each with a base point on its central meridian.
ZONES = [pytest.param(KUNMING_GK, X0, Y0, id="CM102"),
         pytest.param(EAST_CHINA_GK, 500_000.0, 3_300_000.0, id="CM120")]

#: 安宁市, the district most tests put their data in, and a point inside it in :data:`KUNMING_GK`
#: (imports check that a row lies in its district).
ANNING = "530181"
ANNING_X, ANNING_Y = 547_000.0, 2_757_000.0
#: Check-character-valid credit codes (GB 32100) of two fictitious enterprises in 安宁市.
ENT_A = "91530181MA6K5XYW1W"
ENT_B = "91530181MA0WB1RD7R"


def layer(rows: Iterable[dict[str, Any]], epsg: int = KUNMING_GK) -> gpd.GeoDataFrame:
    """A layer in the storage CRS from rows whose ``geometry`` is in metres in ``epsg``.

    The rows are not changed; the geometry becomes the last column.
    """
    rows = [dict(r) for r in rows]
    geoms = [r.pop("geometry") for r in rows]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=epsg).to_crs(STORAGE_CRS)


def frame(rows: Sequence[dict[str, Any]], geoms: Sequence[Any], epsg: int = KUNMING_GK) -> gpd.GeoDataFrame:
    """A layer in the storage CRS from attribute rows and their geometries (in metres in ``epsg``)."""
    stored_geoms = gpd.GeoSeries(list(geoms), crs=epsg).to_crs(STORAGE_CRS).values
    return gpd.GeoDataFrame(list(rows), geometry=stored_geoms, crs=STORAGE_CRS)


def bundle(epsg: int = KUNMING_GK, **layers: Iterable[dict[str, Any]]) -> Bundle:
    """A check bundle of the named layers (rows in metres in ``epsg``); the bundle must pick ``epsg`` itself."""
    b = Bundle({name: layer(rows, epsg) for name, rows in layers.items()})
    assert b.metric_epsg == epsg
    return b


def stored(geom: Any, epsg: int = KUNMING_GK) -> Any:
    """One geometry in metres in ``epsg`` → the same geometry in the storage CRS."""
    return gpd.GeoSeries([geom], crs=epsg).to_crs(STORAGE_CRS).iloc[0]


def metric(geom: Any, epsg: int = KUNMING_GK) -> Any:
    """One stored geometry → the same geometry in metres in ``epsg`` (to measure what a check returned)."""
    return gpd.GeoSeries([geom], crs=STORAGE_CRS).to_crs(epsg).iloc[0]


def at(dx: float, dy: float, x0: float = X0, y0: float = Y0) -> shapely.Point:
    """The point ``dx`` metres east and ``dy`` metres north of the base point ``(x0, y0)``."""
    return shapely.Point(x0 + dx, y0 + dy)


# ---------------------------------------------------------------------------------------------
# named geometries
# ---------------------------------------------------------------------------------------------
#: A gas trunk line of 10 km (1016 mm, 10 MPa) through 安宁市, west to east along y = Y0.
GAS_TRUNK = {"key": "GAS-T", "code": "GAS-T", "name": "测试输气管道", "medium": "gas", "outside_diameter_mm": 1016.0,
             "maop_mpa": 10.0, "start_mileage_m": 0.0, "length_m": 10_000.0, "adcodes": [ANNING]}
#: A hazardous-chemicals plant (MHS grade 2) declaring an external safety distance of 300 m.
PLANT = {"key": "E1", "credit_code": "E1", "name": "测试化工", "industry": "hazchem_production",
         "risk_level": "major", "external_distance_m": 300.0, "installation_status": "in_service",
         "has_explosives": False, "mhs_grade": 2, "adcode": ANNING}


def pipeline_and_plant(plant_north_m: float) -> Bundle:
    """:data:`GAS_TRUNK` along y = Y0 and :data:`PLANT` ``plant_north_m`` north of it, in 安宁市."""
    line = shapely.MultiLineString([shapely.LineString([(X0 - 5000, Y0), (X0 + 5000, Y0)])])
    pipes = frame([{**GAS_TRUNK, "adcodes": [ANNING]}], [line])
    ents = frame([PLANT], [shapely.Point(X0, Y0 + plant_north_m)])
    district = frame([{"key": ANNING, "adcode": ANNING, "name": "安宁市"}],
                     [shapely.box(X0 - 20000, Y0 - 20000, X0 + 20000, Y0 + 20000)])
    return Bundle({"pipelines": pipes, "enterprises": ents, "districts": district}, metric_epsg=KUNMING_GK)
