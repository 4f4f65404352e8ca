"""Synthetic city-scale check input: 500,000 buildings, 2,000 km of pipelines, 1,000 enterprises, 20,000 targets.

Everything is generated in metres in EPSG:4543 (CGCS2000 GK CM 102°E) over an
80 km × 80 km square over Kunming and returned in EPSG:4490 as a
:class:`geo.checks.bundle.Bundle`. Deterministic for a seed.

The data pass RiskMap's own validation, so file mode can be benchmarked too: the districts
are the real Kunming districts (``data/kunming_districts.geojson``), every feature carries the
code of the district it lies in (points outside Kunming are drawn again), and enterprises have
valid 18-character GB 32100 credit codes. Write a city to a GeoPackage for
``riskmap check --input`` with ``python -m benchmarks.citygen --scale 0.125 --out city.gpkg``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from benchmarks.citylayers import add_rich_layers, city_dem
from geo.checks.bundle import Bundle
from geo.checks.tailings import DemGrid
from geo.credit_code import check_character
from geo.crs import geodesic_length
from geo.rules import protection_target_class, tailings_design_grade

X0, Y0, SIZE = 530_000.0, 2_732_000.0, 80_000.0
EPSG = 4543
BOX = (X0, Y0, X0 + SIZE, Y0 + SIZE)
DISTRICTS_FILE = Path(__file__).resolve().parents[1] / "data" / "kunming_districts.geojson"


def credit_code(serial: int, adcode: str) -> str:
    """A valid 统一社会信用代码 (GB 32100-2015) registered in ``adcode``.

    Examples
    --------
    >>> from geo.credit_code import credit_code_problem
    >>> code = credit_code(7, "530181")
    >>> len(code), credit_code_problem(code) is None
    (18, True)
    """
    body = f"91{adcode}MA6K{serial:05d}"
    return body + check_character(body)


class _Districts:
    """The real district boundaries in metres, to say which district a point lies in."""

    def __init__(self) -> None:
        frame = gpd.read_file(DISTRICTS_FILE).to_crs(EPSG)
        self.frame = frame
        self.codes = frame["adcode"].astype(str).to_numpy()
        self.tree = shapely.STRtree(frame.geometry.to_numpy())

    def locate(self, geoms: np.ndarray) -> np.ndarray:
        """Adcode of the district each geometry lies in or meets first ("" outside Kunming)."""
        out = np.full(len(geoms), "", dtype=object)
        pred = "within" if len(geoms) and all(g.geom_type == "Point" for g in geoms[:10]) else "intersects"
        src, tgt = self.tree.query(geoms, predicate=pred)
        first = np.unique(src, return_index=True)[1]
        out[src[first]] = self.codes[tgt[first]]
        return out

    def points(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` uniform points of the square that lie inside Kunming, with their district codes."""
        xy = np.empty((0, 2))
        codes = np.empty(0, dtype=object)
        while len(xy) < n:
            cand = rng.uniform([X0, Y0], [X0 + SIZE, Y0 + SIZE], (int((n - len(xy)) * 1.2) + 10, 2))
            found = self.locate(shapely.points(cand))
            keep = found != ""
            xy, codes = np.vstack([xy, cand[keep]]), np.concatenate([codes, found[keep]])
        return xy[:n], codes[:n]


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
                  enterprises: int = 1000, targets: int = 20_000, scale: float = 1.0, rich: bool = True) -> Bundle:
    """Generate the synthetic city bundle (see module docstring).

    Parameters
    ----------
    seed : int
        Random seed.
    buildings, pipeline_km, enterprises, targets : int or float
        Size of the city at ``scale`` 1.
    scale : float
        Multiplies every count (``0.125`` is the 1/8 city).
    rich : bool
        Add the layers that give every check family work (plant parts, declared HCAs, rivers,
        targets of every type, risk points, hidden hazards: :mod:`benchmarks.citylayers`). The
        base layers are the same either way for a seed.

    Returns
    -------
    Bundle
        The layers in EPSG:4490, metric CRS EPSG:4543.
    """
    rng = np.random.default_rng(seed)
    buildings, enterprises, targets = (max(1, round(n * scale)) for n in (buildings, enterprises, targets))
    n_tail, n_road, n_fuel, n_water = (max(1, round(n * scale)) for n in (100, 300, 50, 30))
    place = _Districts()
    frame = place.frame
    districts = gpd.GeoDataFrame({"adcode": place.codes, "name": frame["name"].to_numpy(), "key": place.codes,
                                  "level": "county", "parent_adcode": "530100"},
                                 geometry=[g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
                                           for g in frame.geometry], crs=EPSG).to_crs(4490)
    # pipelines: random walks of 50 km (clipped to the square)
    n_pipe = max(1, int(np.ceil(pipeline_km * scale / 44.0)))  # walks clipped at the edge average ~45 km
    lines = np.array([shapely.MultiLineString([shapely.LineString(_walk(rng, 50_000.0))]) for _ in range(n_pipe)],
                     dtype=object)
    media = rng.choice(["gas", "crude", "products", "gas"], n_pipe)
    pipes = _frame({
        "key": [f"P{i:03d}" for i in range(n_pipe)], "code": [f"P{i:03d}" for i in range(n_pipe)],
        "name": [f"管道{i}" for i in range(n_pipe)], "medium": media,
        "outside_diameter_mm": rng.choice([219.0, 508.0, 813.0, 1016.0], n_pipe),
        "maop_mpa": rng.choice([1.5, 6.3, 10.0], n_pipe), "operator": "合成管道运营公司", "laying": "buried",
        "start_mileage_m": 0.0, "length_m": shapely.length(lines),
        "adcodes": [sorted(set(place.frame.loc[place.frame.intersects(g), "adcode"])) for g in lines],
    }, lines)
    # buildings: 30 % in villages along the pipelines, the rest uniform; all inside Kunming
    n_near = int(buildings * 0.3)
    along = rng.integers(0, n_pipe, n_near)
    frac = rng.uniform(0, 1, n_near)
    base = shapely.line_interpolate_point(lines[along], frac, normalized=True)
    near_xy = shapely.get_coordinates(base) + rng.normal(0, 150, (n_near, 2))
    near_codes = place.locate(shapely.points(near_xy))
    near_xy, near_codes = near_xy[near_codes != ""], near_codes[near_codes != ""]
    far_xy, far_codes = place.points(rng, buildings - len(near_xy))
    xy = np.vstack([near_xy, far_xy])
    bcodes = np.concatenate([near_codes, far_codes])
    half = rng.uniform(4, 10, buildings)
    boxes = shapely.box(xy[:, 0] - half, xy[:, 1] - half, xy[:, 0] + half, xy[:, 1] + half)
    bld = _frame({
        "key": [f"B{i:07d}" for i in range(buildings)], "code": [f"B{i:07d}" for i in range(buildings)], "name": None,
        "use": rng.choice(["residential", "residential", "public", "commercial", "industrial"], buildings),
        "households": rng.integers(0, 6, buildings), "floors": rng.choice([1, 2, 3, 6, 12], buildings),
        "adcode": bcodes,
    }, boxes)
    # enterprises, contours, protection targets, tailings, infrastructure
    ent_xy, ent_codes = place.points(rng, enterprises)
    ent_keys = [credit_code(i, str(c)) for i, c in enumerate(ent_codes)]
    ents = _frame({
        "key": ent_keys, "credit_code": ent_keys, "name": [f"企业{i}" for i in range(enterprises)],
        "industry": rng.choice(["hazchem_production", "hazchem_storage", "mining", "other"], enterprises),
        "risk_level": rng.choice(["major", "significant", "general", "low"], enterprises),
        "external_distance_m": rng.uniform(100, 800, enterprises),
        "installation_status": rng.choice(["in_service", "new"], enterprises), "has_explosives": False,
        "mhs_grade": rng.integers(1, 5, enterprises), "adcode": ent_codes,
    }, shapely.points(ent_xy))
    idx = rng.choice(enterprises, enterprises // 5, replace=False)
    cont_rows, cont_geoms = [], []
    for i in idx:
        for ir, r in ((3e-5, 100.0), (3e-6, 300.0), (3e-7, 700.0)):
            cont_rows.append({"key": f"{ent_keys[i]}:{ir:g}", "enterprise_key": ent_keys[i], "individual_risk": ir,
                              "adcode": ent_codes[i]})
            cont_geoms.append(shapely.MultiPolygon([shapely.Point(ent_xy[i]).buffer(r)]))
    contours = gpd.GeoDataFrame(cont_rows, geometry=_to4490(np.array(cont_geoms, dtype=object)).values, crs=4490)
    pt_xy, pt_codes = place.points(rng, targets)
    types = rng.choice(["school", "hospital", "residential", "commercial", "office", "kindergarten"], targets)
    classes = np.where(np.isin(types, ["school", "hospital", "kindergarten"]), "high_sensitivity",
                       rng.choice(["general_1", "general_2", "general_3"], targets))
    pts = _frame({
        "key": [f"T{i:06d}" for i in range(targets)], "code": [f"T{i:06d}" for i in range(targets)],
        "name": [f"目标{i}" for i in range(targets)],
        "target_type": types, "gb36894_class": classes, "population": rng.integers(5, 2000, targets),
        "households": rng.integers(0, 200, targets), "adcode": pt_codes,
    }, shapely.points(pt_xy))
    t_xy, t_codes = place.points(rng, n_tail)
    tails = _frame({
        "key": [f"TD{i:03d}" for i in range(n_tail)], "code": [f"TD{i:03d}" for i in range(n_tail)],
        "name": [f"尾矿库{i}" for i in range(n_tail)],
        "total_storage_10k_m3": rng.uniform(10, 20000, n_tail), "dam_height_m": rng.uniform(10, 150, n_tail),
        "design_grade": rng.integers(2, 6, n_tail), "safety_degree": rng.choice(["normal", "sick", "risk"], n_tail),
        "status": "operating", "risk_level": rng.choice(["major", "significant", "general"], n_tail),
        "adcode": t_codes,
    }, shapely.points(t_xy))
    roads = np.array([shapely.LineString(_walk(rng, 30_000.0, 1000.0)) for _ in range(n_road)], dtype=object)
    fuel_xy, _ = place.points(rng, n_fuel)
    water_xy, _ = place.points(rng, n_water)
    water = np.array([shapely.Point(p).buffer(300) for p in water_xy], dtype=object)
    infra_geoms = np.concatenate([roads, np.asarray(shapely.points(fuel_xy), dtype=object), water])
    infra_codes = place.locate(infra_geoms)
    keep = infra_codes != ""  # a road walk may stay outside Kunming: leave it out
    kinds = np.array(["road"] * n_road + ["fuel_station"] * n_fuel + ["water_source"] * n_water)[keep]
    infra = _frame({
        "key": [f"I{i:04d}" for i in range(len(kinds))], "code": [f"I{i:04d}" for i in range(len(kinds))],
        "kind": kinds, "subkind": ["国道" if k == "road" else None for k in kinds],
        "name": [f"设施{i}" for i in range(len(kinds))], "adcode": infra_codes[keep],
    }, infra_geoms[keep])
    frames = {"districts": districts, "pipelines": pipes, "buildings": bld, "enterprises": ents,
              "risk_contours": contours, "protection_targets": pts, "tailings_dams": tails, "infrastructure": infra}
    if rich:
        add_rich_layers(frames, seed=seed, scale=scale, epsg=EPSG, box=BOX, locate=place.locate,
                        points=place.points, to_frame=_frame)
    return Bundle(_as_validated(frames), metric_epsg=EPSG)


def _as_validated(frames: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Derive the columns validation derives (GB 36894 class, tailings grade, HCA grade, pipeline length).

    So the in-memory city is what file mode and the store read back, and every mode finds the same.
    """
    pts = frames["protection_targets"]
    pts["gb36894_class"] = [protection_target_class(t, h, p) for t, h, p in
                            zip(pts["target_type"], pts["households"], pts["population"], strict=True)]
    tails = frames["tailings_dams"]
    tails["design_grade"] = [tailings_design_grade(v, h) for v, h in
                             zip(tails["total_storage_10k_m3"], tails["dam_height_m"], strict=True)]
    if "hcas" in frames and len(frames["hcas"]):
        frames["hcas"]["grade"] = frames["hcas"]["grade"].astype(int)
    frames["pipelines"]["length_m"] = [geodesic_length(g) for g in frames["pipelines"].geometry]
    return frames


def generate_dem(*, seed: int = 7) -> DemGrid:
    """Return the synthetic elevation grid of the city (50 m cells, EPSG:4543) for the 头顶库 flow path.

    Parameters
    ----------
    seed : int
        Random seed.

    Returns
    -------
    DemGrid
    """
    return city_dem(BOX, EPSG, seed=seed)


def main() -> None:
    """Write a synthetic city to a GeoPackage for ``riskmap check --input``."""
    from geo.checks.sources import bundle_to_file

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--scale", type=float, default=0.125, help="1 is the full city (500,000 buildings)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    t0 = time.perf_counter()
    bundle = generate_city(seed=args.seed, scale=args.scale)
    bundle_to_file(bundle, args.out)
    print(f"{args.out}: {len(bundle['buildings']):,} buildings, {len(bundle['enterprises']):,} enterprises, "
          f"{len(bundle['pipelines']):,} pipelines ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
