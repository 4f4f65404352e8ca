"""A tiny bundle for site pre-check tests: a gas trunk line and one enterprise, in metres around (X, Y)."""

from __future__ import annotations

import geopandas as gpd
import shapely

from geo.checks.bundle import Bundle

EPSG = 4543
X, Y = 500_000.0, 2_760_000.0


def gdf(rows, geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geoms, crs=EPSG).to_crs(4490).values, crs=4490)


def site(geom):
    return gpd.GeoSeries([geom], crs=EPSG).to_crs(4490).iloc[0]


def pipeline_and_plant(plant_north_m: float) -> Bundle:
    """Gas line (1016 mm, 10 MPa) along y = Y; a plant declaring 300 m, ``plant_north_m`` north of it."""
    line = shapely.MultiLineString([shapely.LineString([(X - 5000, Y), (X + 5000, Y)])])
    pipes = gdf([{"key": "GAS-T", "code": "GAS-T", "name": "测试输气管道", "medium": "gas",
                  "outside_diameter_mm": 1016.0, "maop_mpa": 10.0, "start_mileage_m": 0.0, "length_m": 10_000.0,
                  "adcodes": ["530181"]}], [line])
    ents = gdf([{"key": "E1", "credit_code": "E1", "name": "测试化工", "industry": "hazchem_production",
                 "risk_level": "major", "external_distance_m": 300.0, "installation_status": "in_service",
                 "has_explosives": False, "mhs_grade": 2, "adcode": "530181"}], [shapely.Point(X, Y + plant_north_m)])
    district = gdf([{"key": "530181", "adcode": "530181", "name": "安宁市"}],
                   [shapely.box(X - 20000, Y - 20000, X + 20000, Y + 20000)])
    return Bundle({"pipelines": pipes, "enterprises": ents, "districts": district}, metric_epsg=EPSG)
