"""Synthetic city-scale check input: 500,000 buildings, 2,000 km of pipelines, 1,000 enterprises, 20,000 targets.

Everything is generated in metres in EPSG:4543 (CGCS2000 GK CM 102°E) over an
80 km × 80 km square around Kunming and returned in EPSG:4490 as a
:class:`geo.checks.bundle.Bundle`. Deterministic for a seed.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.checks.bundle import Bundle

X0, Y0, SIZE = 460_000.0, 2_720_000.0, 80_000.0
EPSG = 4543


def _to4490(geoms: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=EPSG).to_crs(4490)


def _frame(data: dict[str, object], geoms: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=_to4490(geoms).values, crs=4490)


def _walk(rng: np.random.Generator, length_m: float, step: float = 500.0) -> np.ndarray:
    n = int(length_m / step) + 1
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.12, n))
    xy = np.column_stack([np.cos(heading), np.sin(heading)]) * step
    start = rng.uniform([X0 + 10_000, Y0 + 10_000], [X0 + SIZE - 10_000, Y0 + SIZE - 10_000])
    pts = start + np.cumsum(xy, axis=0)
    lo, hi = np.array([X0, Y0]), np.array([X0 + SIZE, Y0 + SIZE])
    return np.clip(pts, lo, hi)


def generate_city(*, seed: int = 7, buildings: int = 500_000, pipeline_km: float = 2000.0,
                  enterprises: int = 1000, targets: int = 20_000) -> Bundle:
    """Generate the synthetic city bundle (see module docstring)."""
    rng = np.random.default_rng(seed)
    # districts: a 4 × 4 grid
    cells, codes = [], []
    for i in range(4):
        for j in range(4):
            cells.append(shapely.box(X0 + i * SIZE / 4, Y0 + j * SIZE / 4, X0 + (i + 1) * SIZE / 4,
                                     Y0 + (j + 1) * SIZE / 4))
            codes.append(f"5399{i}{j}")
    districts = _frame({"adcode": codes, "name": [f"区{c}" for c in codes], "key": codes},
                       np.array([shapely.MultiPolygon([c]) for c in cells], dtype=object))
    # pipelines: random walks of 50 km (clipped to the square)
    n_pipe = max(1, int(np.ceil(pipeline_km / 44.0)))  # walks clipped at the edge average ~45 km
    lines = np.array([shapely.MultiLineString([shapely.LineString(_walk(rng, 50_000.0))]) for _ in range(n_pipe)],
                     dtype=object)
    media = rng.choice(["gas", "crude", "products", "gas"], n_pipe)
    pipes = _frame({
        "key": [f"P{i:03d}" for i in range(n_pipe)], "code": [f"P{i:03d}" for i in range(n_pipe)],
        "name": [f"管道{i}" for i in range(n_pipe)], "medium": media,
        "outside_diameter_mm": rng.choice([219.0, 508.0, 813.0, 1016.0], n_pipe),
        "maop_mpa": rng.choice([1.5, 6.3, 10.0], n_pipe), "start_mileage_m": 0.0,
        "length_m": shapely.length(lines), "adcodes": [[c] for c in rng.choice(codes, n_pipe)],
    }, lines)
    # buildings: 30 % in villages along the pipelines, the rest uniform
    n_near = int(buildings * 0.3)
    along = rng.integers(0, n_pipe, n_near)
    frac = rng.uniform(0, 1, n_near)
    base = shapely.line_interpolate_point(lines[along], frac, normalized=True)
    offs = rng.normal(0, 150, (n_near, 2))
    near_xy = shapely.get_coordinates(base) + offs
    far_xy = rng.uniform([X0, Y0], [X0 + SIZE, Y0 + SIZE], (buildings - n_near, 2))
    xy = np.vstack([near_xy, far_xy])
    half = rng.uniform(4, 10, buildings)
    boxes = shapely.box(xy[:, 0] - half, xy[:, 1] - half, xy[:, 0] + half, xy[:, 1] + half)
    bld = _frame({
        "key": [f"B{i:07d}" for i in range(buildings)], "name": None,
        "use": rng.choice(["residential", "residential", "public", "commercial", "industrial"], buildings),
        "households": rng.integers(0, 6, buildings), "floors": rng.choice([1, 2, 3, 6, 12], buildings),
        "adcode": rng.choice(codes, buildings),
    }, boxes)
    # enterprises, contours, protection targets, tailings, infrastructure
    ent_xy = rng.uniform([X0, Y0], [X0 + SIZE, Y0 + SIZE], (enterprises, 2))
    ent_keys = [f"E{i:05d}" for i in range(enterprises)]
    ents = _frame({
        "key": ent_keys, "credit_code": ent_keys, "name": [f"企业{i}" for i in range(enterprises)],
        "industry": rng.choice(["hazchem_production", "hazchem_storage", "mining", "other"], enterprises),
        "risk_level": rng.choice(["major", "significant", "general", "low"], enterprises),
        "external_distance_m": rng.uniform(100, 800, enterprises),
        "installation_status": rng.choice(["in_service", "new"], enterprises), "has_explosives": False,
        "mhs_grade": rng.integers(1, 5, enterprises), "adcode": rng.choice(codes, enterprises),
    }, shapely.points(ent_xy))
    idx = rng.choice(enterprises, enterprises // 5, replace=False)
    cont_rows, cont_geoms = [], []
    for i in idx:
        for ir, r in ((3e-5, 100.0), (3e-6, 300.0), (3e-7, 700.0)):
            cont_rows.append({"key": f"{ent_keys[i]}:{ir:g}", "enterprise_key": ent_keys[i], "individual_risk": ir,
                              "adcode": ents.iloc[i]["adcode"]})
            cont_geoms.append(shapely.MultiPolygon([shapely.Point(ent_xy[i]).buffer(r)]))
    contours = gpd.GeoDataFrame(cont_rows, geometry=_to4490(np.array(cont_geoms, dtype=object)).values, crs=4490)
    pt_xy = rng.uniform([X0, Y0], [X0 + SIZE, Y0 + SIZE], (targets, 2))
    types = rng.choice(["school", "hospital", "residential", "commercial", "office", "kindergarten"], targets)
    classes = np.where(np.isin(types, ["school", "hospital", "kindergarten"]), "high_sensitivity",
                       rng.choice(["general_1", "general_2", "general_3"], targets))
    pts = _frame({
        "key": [f"T{i:06d}" for i in range(targets)], "name": [f"目标{i}" for i in range(targets)],
        "target_type": types, "gb36894_class": classes, "population": rng.integers(5, 2000, targets),
        "households": rng.integers(0, 200, targets), "adcode": rng.choice(codes, targets),
    }, shapely.points(pt_xy))
    t_xy = rng.uniform([X0, Y0], [X0 + SIZE, Y0 + SIZE], (100, 2))
    tails = _frame({
        "key": [f"TD{i:03d}" for i in range(100)], "name": [f"尾矿库{i}" for i in range(100)],
        "total_storage_10k_m3": rng.uniform(10, 20000, 100), "dam_height_m": rng.uniform(10, 150, 100),
        "design_grade": rng.integers(2, 6, 100), "safety_degree": rng.choice(["normal", "sick", "risk"], 100),
        "status": "operating", "adcode": rng.choice(codes, 100),
    }, shapely.points(t_xy))
    roads = np.array([shapely.LineString(_walk(rng, 30_000.0, 1000.0)) for _ in range(300)], dtype=object)
    fuel = shapely.points(rng.uniform([X0, Y0], [X0 + SIZE, Y0 + SIZE], (50, 2)))
    water = shapely.points(rng.uniform([X0, Y0], [X0 + SIZE, Y0 + SIZE], (30, 2))).astype(object)
    water = np.array([w.buffer(300) for w in water], dtype=object)
    infra_geoms = np.concatenate([roads, fuel, water])
    kinds = ["road"] * 300 + ["fuel_station"] * 50 + ["water_source"] * 30
    infra = _frame({
        "key": [f"I{i:04d}" for i in range(len(kinds))], "kind": kinds,
        "subkind": ["国道" if k == "road" else None for k in kinds], "name": [f"设施{i}" for i in range(len(kinds))],
        "adcode": rng.choice(codes, len(kinds)),
    }, infra_geoms)
    return Bundle({"districts": districts, "pipelines": pipes, "buildings": bld, "enterprises": ents,
                   "risk_contours": contours, "protection_targets": pts, "tailings_dams": tails,
                   "infrastructure": infra}, metric_epsg=EPSG)
