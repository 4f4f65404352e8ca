"""A province-scale synthetic data set, generated lazily cell by cell, for the Dask engine (issue #16).

The province spans Yunnan's extent (97.5–106.2°E, 21.2–29.2°N: three Gauss-Krüger zones, CM 99°,
102° and 105°E) cut into generation cells of 0.25°. Each cell's features come from a random generator
seeded by ``(seed, column, row)`` alone, so any part of the province can be generated on its own, in
any process, and always the same: a Dask task generates exactly the cells its tile and halo touch
(:class:`ProvinceSource`, a :class:`geo.checks.dask_engine.Source`) and the province never has to fit
in one process. Per cell (defaults): 4,500 buildings (60 % in villages of 30–150 houses), one pipeline of
20 km (a random walk from inside the cell that may run into neighbouring cells, tiles and zones), one
road, 40 protection targets, 3 hazardous-chemical enterprises with risk contours and plant parts, and
a tailings pond in every fourth cell. At the full extent (35 × 32 cells): 5.04 million buildings and
22,400 km of pipelines.

Counties are squares of 0.75° (3 × 3 cells) on a grid fixed to the province's south-west corner (12 × 11
over the whole extent, like Yunnan's 129); the counties at the edge of a piece reach out to cover what its
lines and villages run beyond it, so the counties partition everything generated. Every feature carries
the code of the county its centre (a line: its first vertex) lies in, pipelines the codes of the counties
they cross, and the columns an import derives (GB 36894 class, tailings design grade, geodesic length) are
derived the same way: the generated layers are what validation makes of them, and the province written as
GeoParquet passes the import's rules ("inside its district" included) and reads back as generated.

``python -m benchmarks.province OUT_DIR [--cells W H] [--west LON --south LAT] [--density D]`` writes the
province (or a piece) in the layout ``riskmap check --engine dask --input OUT_DIR`` reads, with the data
dictionary's field names: ``OUT_DIR/<layer>/cell_<col>_<row>.parquet``, one file per cell and layer, the
counties and enterprises one file each, generated cell by cell (never the whole province in memory).
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.checks.parquet_source import dictionary_form
from geo.checks.partition import near_rows, window_rows
from geo.checks.ruleset import RuleSet
from geo.constants import STORAGE_SRID
from geo.credit_code import check_character
from geo.crs import geodesic_length
from geo.rules import protection_target_class, tailings_design_grade

#: Yunnan's extent (lon/lat), the generation cell (degrees) and the largest overhang of a cell's lines.
WEST, SOUTH, EAST, NORTH = 97.5, 21.2, 106.2, 29.2
CELL_DEG = 0.25
COUNTY_DEG = 0.75  # 3 × 3 cells; 12 × 11 counties over the whole extent
LINE_PAD_DEG = 0.3  # a 20 km walk from inside a cell stays within 0.3° of it (≥ 27 km at 29°N)
#: Per-cell counts (scaled by ``density``).
BUILDINGS, PIPE_KM, TARGETS, ENTERPRISES = 4500, 20.0, 40, 3
#: Radius (m) of the widest risk contour around an enterprise, and the declared safety distances' range.
CONTOUR_M = (100.0, 300.0, 700.0)
ESD_RANGE = (100.0, 800.0)


def _m_to_deg(lat: float) -> tuple[float, float]:
    """Degrees of longitude and latitude per metre at ``lat``."""
    return 1.0 / (111_320.0 * math.cos(math.radians(lat))), 1.0 / 110_574.0


@dataclass(frozen=True)
class Province:
    """The generator's parameters: which cells exist and how dense they are."""

    seed: int = 16
    west: float = WEST
    south: float = SOUTH
    cols: int = round((EAST - WEST) / CELL_DEG)
    rows: int = round((NORTH - SOUTH) / CELL_DEG)
    density: float = 1.0

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Lon/lat extent of the cells."""
        return (self.west, self.south, self.west + self.cols * CELL_DEG, self.south + self.rows * CELL_DEG)

    @property
    def buildings(self) -> int:
        """Number of buildings in the whole set."""
        return self.cols * self.rows * max(1, round(BUILDINGS * self.density))

    @property
    def pipeline_km(self) -> float:
        """Nominal pipeline length of the whole set (km)."""
        return self.cols * self.rows * PIPE_KM

    def cells(self, bbox: tuple[float, float, float, float], pad: float = 0.0) -> list[tuple[int, int]]:
        """Return the cells whose box grown by ``pad`` degrees meets ``bbox``."""
        x0, y0, x1, y1 = bbox
        c0 = max(0, math.floor((x0 - pad - self.west) / CELL_DEG))
        c1 = min(self.cols - 1, math.floor((x1 + pad - self.west) / CELL_DEG))
        r0 = max(0, math.floor((y0 - pad - self.south) / CELL_DEG))
        r1 = min(self.rows - 1, math.floor((y1 + pad - self.south) / CELL_DEG))
        return [(c, r) for c in range(c0, c1 + 1) for r in range(r0, r1 + 1)]

    def _county_span(self) -> tuple[int, int, int, int]:
        """Indexes (west, east, south, north) of the counties the cells meet, on the province's fixed grid."""
        w, s, e, n = self.extent
        if w < WEST - 1e-9 or s < SOUTH - 1e-9 or e > WEST + 74 or n > SOUTH + 74:
            raise ValueError(f"cells {self.extent} outside the county grid from ({WEST}, {SOUTH})")
        eps = 1e-9
        return (math.floor((w + eps - WEST) / COUNTY_DEG), math.floor((e - eps - WEST) / COUNTY_DEG),
                math.floor((s + eps - SOUTH) / COUNTY_DEG), math.floor((n - eps - SOUTH) / COUNTY_DEG))

    def adcodes(self, lon: Any, lat: Any) -> list[str]:
        """Return the synthetic county code (``5XXYY1``) of each point; beyond the edge counties, the nearest."""
        kx0, kx1, ky0, ky1 = self._county_span()
        kx = np.clip(np.floor((np.asarray(lon, dtype=float) - WEST) / COUNTY_DEG).astype(int), kx0, kx1)
        ky = np.clip(np.floor((np.asarray(lat, dtype=float) - SOUTH) / COUNTY_DEG).astype(int), ky0, ky1)
        return [f"5{a:02d}{b:02d}1" for a, b in zip(kx.ravel().tolist(), ky.ravel().tolist(), strict=True)]

    def adcode(self, lon: float, lat: float) -> str:
        """Return the synthetic county code of a point."""
        return self.adcodes([lon], [lat])[0]


@lru_cache(maxsize=8)
def districts(province: Province) -> gpd.GeoDataFrame:
    """Return the counties (stored columns): the county grid cut to the cells grown by :data:`LINE_PAD_DEG`.

    The edge counties reach out to cover every line and village running beyond the cells, so each point
    generated lies in exactly one county, the one :meth:`Province.adcodes` names.
    """
    w, s, e, n = province.extent
    kx0, kx1, ky0, ky1 = province._county_span()
    xs = [WEST + k * COUNTY_DEG for k in range(kx0, kx1 + 2)]
    ys = [SOUTH + k * COUNTY_DEG for k in range(ky0, ky1 + 2)]
    xs[0], xs[-1], ys[0], ys[-1] = w - LINE_PAD_DEG, e + LINE_PAD_DEG, s - LINE_PAD_DEG, n + LINE_PAD_DEG
    cells = [(i, j) for i in range(len(xs) - 1) for j in range(len(ys) - 1)]
    codes = [f"5{kx0 + i:02d}{ky0 + j:02d}1" for i, j in cells]
    return _frame({"adcode": codes, "key": codes, "name": [f"合成县{c}" for c in codes], "level": "county",
                   "parent_adcode": "530000"},
                  [shapely.MultiPolygon([shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1])]) for i, j in cells])


def _frame(data: dict[str, Any], geoms: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=STORAGE_SRID)


def _walk(rng: np.random.Generator, x: float, y: float, length_m: float, step_m: float = 500.0) -> np.ndarray:
    """A random walk of ``length_m`` metres from (x, y) lon/lat, returned as lon/lat vertices."""
    n = max(2, int(length_m / step_m) + 1)
    heading = rng.uniform(0, 2 * math.pi) + np.cumsum(rng.normal(0, 0.25, n - 1))
    dx, dy = _m_to_deg(y)
    xs = x + np.concatenate([[0.0], np.cumsum(np.cos(heading) * step_m * dx)])
    ys = y + np.concatenate([[0.0], np.cumsum(np.sin(heading) * step_m * dy)])
    return np.column_stack([xs, ys])


def _tag(province: Province, col: int, row: int) -> tuple[str, float, float, float, float]:
    x0, y0 = province.west + col * CELL_DEG, province.south + row * CELL_DEG
    dx, dy = _m_to_deg(y0 + CELL_DEG / 2)
    return f"{col:02d}{row:02d}", x0, y0, dx, dy


def credit_code(code: str, tag: str, serial: int) -> str:
    """Return a valid 统一社会信用代码 (GB 32100-2015) of enterprise ``serial`` of cell ``tag`` in county ``code``."""
    body = f"91{code}MA{tag}{serial:03d}"
    return body + check_character(body)


@lru_cache(maxsize=256)
def cell_lines(province: Province, col: int, row: int) -> dict[str, gpd.GeoDataFrame]:
    """Return the cell's pipeline and road (their own random stream: cheap to generate for a halo)."""
    rng = np.random.default_rng([province.seed, col, row, 1])
    tag, x0, y0, _dx, _dy = _tag(province, col, row)
    line = shapely.LineString(_walk(rng, x0 + rng.uniform(0, CELL_DEG), y0 + rng.uniform(0, CELL_DEG),
                                    PIPE_KM * 1000.0))
    geom = shapely.MultiLineString([line])
    counties = districts(province)
    pipes = _frame({
        "key": [f"P{tag}"], "code": [f"P{tag}"], "name": [f"合成管道{tag}"],
        "medium": [str(rng.choice(["gas", "crude", "products", "gas"]))],
        "outside_diameter_mm": [float(rng.choice([219.0, 508.0, 813.0, 1016.0]))],
        "maop_mpa": [float(rng.choice([1.5, 6.3, 10.0]))], "operator": ["合成管道运营公司"], "laying": ["buried"],
        "start_mileage_m": [0.0], "length_m": [geodesic_length(geom)],
        "adcodes": [sorted(counties.loc[counties.intersects(geom), "adcode"])],  # as validation derives them
    }, [geom])
    road = shapely.LineString(_walk(rng, x0 + rng.uniform(0, CELL_DEG), y0 + rng.uniform(0, CELL_DEG),
                                    15_000.0, 1000.0))
    start = shapely.get_coordinates(road)[0]
    infra = _frame({"key": [f"R{tag}"], "code": [f"R{tag}"], "kind": ["road"], "subkind": ["国道"],
                    "name": [f"合成道路{tag}"], "adcode": province.adcodes([start[0]], [start[1]])}, [road])
    return {"pipelines": pipes, "infrastructure": infra}


@lru_cache(maxsize=2048)
def cell_plants(province: Province, col: int, row: int) -> dict[str, gpd.GeoDataFrame]:
    """Return the cell's enterprises, their risk contours and plant parts (their own random stream)."""
    rng = np.random.default_rng([province.seed, col, row, 2])
    tag, x0, y0, dx, dy = _tag(province, col, row)
    ex = x0 + rng.uniform(0.02, CELL_DEG - 0.02, ENTERPRISES)
    ey = y0 + rng.uniform(0.02, CELL_DEG - 0.02, ENTERPRISES)
    codes = province.adcodes(ex, ey)
    keys = [credit_code(c, tag, i) for i, c in enumerate(codes)]
    out = {"enterprises": _frame({
        "key": keys, "credit_code": keys, "name": [f"企业{tag}-{i}" for i in range(ENTERPRISES)],
        "industry": rng.choice(["hazchem_production", "hazchem_storage", "mining", "other"], ENTERPRISES),
        "risk_level": rng.choice(["major", "significant", "general", "low"], ENTERPRISES),
        "external_distance_m": rng.uniform(*ESD_RANGE, ENTERPRISES),
        "installation_status": rng.choice(["in_service", "new"], ENTERPRISES), "has_explosives": False,
        "mhs_grade": rng.integers(1, 5, ENTERPRISES), "adcode": codes,
    }, shapely.points(ex, ey))}
    rows, geoms = [], []
    t = np.linspace(0, 2 * math.pi, 33)
    for k, x, y, code in zip(keys, ex, ey, codes, strict=True):
        for ir, r in zip((3e-5, 3e-6, 3e-7), CONTOUR_M, strict=True):
            rows.append({"key": f"{k}:{ir:g}", "enterprise_key": k, "individual_risk": ir, "adcode": code})
            geoms.append(shapely.MultiPolygon([shapely.Polygon(np.column_stack([x + r * dx * np.cos(t),
                                                                                 y + r * dy * np.sin(t)]))]))
    out["risk_contours"] = _frame({c: [r[c] for r in rows] for c in rows[0]}, geoms)
    parts = [(k, x + rng.uniform(-150, 150) * dx, y + rng.uniform(-150, 150) * dy, j)
             for k, x, y in zip(keys, ex, ey, strict=True) for j in range(2)]
    names = [f"INS{k[-9:]}-{j}" for k, _, _, j in parts]
    out["installations"] = _frame({
        "key": names, "code": names, "name": [f"装置{j}" for *_, j in parts],
        "enterprise_credit_code": [p[0] for p in parts],
        "adcode": province.adcodes([p[1] for p in parts], [p[2] for p in parts]),
        "part_type": rng.choice(["process_unit", "flammable_liquid_tank_group", "class_a_warehouse"], len(parts)),
        "fire_class": "甲", "goods_items": None, "stock_t": rng.uniform(1, 50, len(parts)), "substances": None,
    }, [shapely.box(x - 20 * dx, y - 20 * dy, x + 20 * dx, y + 20 * dy) for _, x, y, _ in parts])
    return out


#: Cells a process keeps generated (about 3.5 MB each at full density, so at most about 450 MB): a column
#: of 20 km tiles and its halo meet about 105 cells, so the next column finds the cells it shares ready.
CELL_CACHE = 128


@lru_cache(maxsize=CELL_CACHE)
def cell(province: Province, col: int, row: int) -> dict[str, gpd.GeoDataFrame]:
    """Return every layer generated in one cell (the same for the same cell, in any process).

    Parameters
    ----------
    province : Province
        The generator's parameters.
    col, row : int
        Cell indexes.

    Returns
    -------
    dict of str to GeoDataFrame
        ``buildings``, ``pipelines``, ``infrastructure``, ``protection_targets``, ``enterprises``,
        ``risk_contours``, ``installations``, ``tailings_dams`` (EPSG:4490).
    """
    rng = np.random.default_rng([province.seed, col, row])
    tag, x0, y0, dx, dy = _tag(province, col, row)
    out: dict[str, gpd.GeoDataFrame] = {**cell_lines(province, col, row), **cell_plants(province, col, row)}
    line = out["pipelines"].geometry.values[0]
    n = max(1, round(BUILDINGS * province.density))
    n_village = int(n * 0.6)
    centres: list[tuple[float, float, int]] = []
    while sum(c[2] for c in centres) < n_village:
        size = int(rng.integers(30, 150))
        if rng.random() < 0.5:  # half the villages by the pipeline
            p = line.interpolate(rng.uniform(0, 1), normalized=True)
            cx, cy = p.x + rng.normal(0, 150) * dx, p.y + rng.normal(0, 150) * dy
        else:
            cx, cy = x0 + rng.uniform(0, CELL_DEG), y0 + rng.uniform(0, CELL_DEG)
        centres.append((cx, cy, size))
    vx = np.concatenate([np.full(s, cx) + rng.normal(0, 120, s) * dx for cx, _, s in centres])[:n_village]
    vy = np.concatenate([np.full(s, cy) + rng.normal(0, 120, s) * dy for _, cy, s in centres])[:n_village]
    # every building stays within 0.005° of its cell, so a window needs only the cells it meets (pad 0.01°)
    bx = np.clip(np.concatenate([vx, x0 + rng.uniform(0, CELL_DEG, n - n_village)]), x0 - 0.005, x0 + CELL_DEG + 0.005)
    by = np.clip(np.concatenate([vy, y0 + rng.uniform(0, CELL_DEG, n - n_village)]), y0 - 0.005, y0 + CELL_DEG + 0.005)
    half = rng.uniform(4, 10, n)
    out["buildings"] = _frame({
        "key": [f"B{tag}{i:05d}" for i in range(n)], "name": None,
        "use": rng.choice(["residential", "residential", "public", "commercial", "industrial"], n),
        "households": rng.integers(0, 6, n), "floors": rng.choice([1, 2, 3, 6, 12], n),
        "adcode": province.adcodes(bx, by),
    }, shapely.multipolygons(shapely.box(bx - half * dx, by - half * dy, bx + half * dx, by + half * dy),
                             indices=np.arange(n)))  # stored as multi-polygons, as an import stores them
    nt = max(1, round(TARGETS * province.density))
    types = rng.choice(["school", "hospital", "residential", "commercial", "office", "kindergarten"], nt)
    rng.choice(["general_1", "general_2", "general_3"], nt)  # (a draw kept so the later streams stay the same)
    people, homes = rng.integers(5, 2000, nt), rng.integers(0, 200, nt)
    tx, ty = x0 + rng.uniform(0, CELL_DEG, nt), y0 + rng.uniform(0, CELL_DEG, nt)
    out["protection_targets"] = _frame({
        "key": [f"T{tag}{i:03d}" for i in range(nt)], "code": [f"T{tag}{i:03d}" for i in range(nt)],
        "name": [f"目标{tag}-{i}" for i in range(nt)], "target_type": types,
        "gb36894_class": [protection_target_class(str(t), int(h), int(p)) for t, h, p in zip(types, homes, people,
                                                                                             strict=True)],
        "population": people, "households": homes, "adcode": province.adcodes(tx, ty),
    }, shapely.points(tx, ty))
    ponds = 1 if (col + row) % 4 == 0 else 0
    storage, height = rng.uniform(10, 20000, ponds), rng.uniform(10, 150, ponds)
    rng.integers(2, 6, ponds)  # (a draw kept so the later streams stay the same)
    safety = rng.choice(["normal", "sick", "risk"], ponds)
    px, py = x0 + rng.uniform(0, CELL_DEG, ponds), y0 + rng.uniform(0, CELL_DEG, ponds)
    out["tailings_dams"] = _frame({
        "key": [f"TD{tag}"] * ponds, "code": [f"TD{tag}"] * ponds, "name": [f"尾矿库{tag}"] * ponds,
        "total_storage_10k_m3": storage, "dam_height_m": height,
        "design_grade": [tailings_design_grade(v, h) for v, h in zip(storage, height, strict=True)],
        "safety_degree": safety, "status": ["operating"] * ponds, "risk_level": ["general"] * ponds,
        "adcode": province.adcodes(px, py),
    }, shapely.points(px, py))
    return out


def clear_caches() -> None:
    """Forget every generated cell in this process (so two timed runs start alike)."""
    for cached in (cell, cell_lines, cell_plants, districts):
        cached.cache_clear()


#: Layers that hold lines reaching out of their cell.
_LINE_LAYERS = ("pipelines", "infrastructure")
#: Largest extent of a non-line feature or of one plant (m): the widest contour's bounding-box diagonal,
#: and two parts of ±150 m plus their 40 m boxes.
SPAN_M = max(2 * CONTOUR_M[-1] * math.sqrt(2), (300.0 + 40.0) * math.sqrt(2)) * 1.01


@dataclass(frozen=True)
class ProvinceSource:
    """The province as a :class:`geo.checks.dask_engine.Source`: each read generates the cells it needs."""

    province: Province

    def _cells(self, layer: str, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
        pad = LINE_PAD_DEG if layer in _LINE_LAYERS else 0.01
        make = (cell_lines if layer in _LINE_LAYERS else
                cell_plants if layer in ("enterprises", "risk_contours", "installations") else cell)
        frames = [make(self.province, c, r).get(layer) for c, r in self.province.cells(bbox, pad)]
        frames = [f for f in frames if f is not None and len(f)]
        if not frames:
            return gpd.GeoDataFrame({"key": pd.Series(dtype=str)}, geometry=[], crs=STORAGE_SRID)
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=STORAGE_SRID)

    def extent(self) -> tuple[float, float, float, float]:
        """Extent of the data: the cells grown by the farthest a line or a village runs out of its cell."""
        w, s, e, n = self.province.extent
        return (w - LINE_PAD_DEG, s - LINE_PAD_DEG, e + LINE_PAD_DEG, n + LINE_PAD_DEG)

    def reach(self, rules: RuleSet) -> tuple[float, float]:
        """Largest declared distance or gas impact radius, and the widest feature (by construction)."""
        coeff = float(rules.rules["HCA_GAS"].params.get("radius_coeff", 0.0)) if "HCA_GAS" in rules.rules else 0.0
        return max(ESD_RANGE[1], coeff * 1016.0 * math.sqrt(10.0)), SPAN_M

    def whole(self, layer: str) -> gpd.GeoDataFrame:
        """Counties (:func:`districts`) and enterprises of the whole province; no declared HCAs."""
        if layer == "districts":
            return districts(self.province)
        if layer == "enterprises":
            return self._cells(layer, self.province.extent)
        return gpd.GeoDataFrame({"key": pd.Series(dtype=str)}, geometry=[], crs=STORAGE_SRID)

    def window(self, layer: str, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
        """Features meeting ``bbox``, from the cells they can come from."""
        return window_rows(self._cells(layer, bbox), bbox)

    def near(self, layer: str, lines: Any, reach_m: float) -> gpd.GeoDataFrame:
        """Features within ``reach_m`` of ``lines``."""
        b = shapely.bounds(np.asarray(lines, dtype=object))
        grow = reach_m / 90_000.0  # ≥ the degrees of reach_m up to 29.5°N
        bbox = (b[:, 0].min() - grow, b[:, 1].min() - grow, b[:, 2].max() + grow, b[:, 3].max() + grow)
        return near_rows(self._cells(layer, bbox), lines, reach_m)

    def frames(self) -> dict[str, gpd.GeoDataFrame]:
        """Every layer of every cell in one process (only for small provinces: the reference run)."""
        out = {layer: self._cells(layer, self.province.extent) for layer in
               ("buildings", "pipelines", "infrastructure", "protection_targets", "risk_contours", "installations",
                "tailings_dams")}
        out.update({layer: self.whole(layer) for layer in ("districts", "enterprises")})
        return out


#: Layers written as one file each (every tile reads them whole).
_ONE_FILE = ("districts", "enterprises")


def write_parquet(province: Province, out: Path, say: Any = None) -> dict[str, int]:
    """Write the province as GeoParquet for ``riskmap check --engine dask --input OUT``, cell by cell.

    Parameters
    ----------
    province : Province
        The province or piece to write.
    out : Path
        Directory to create (it must not exist); written under ``.OUT.partial`` and renamed at the end, so
        an interrupted write leaves nothing that looks complete.
    say : callable, optional
        Called with a progress line now and then.

    Returns
    -------
    dict of str to int
        Rows written per layer.
    """
    if out.exists():
        raise FileExistsError(f"{out}: already exists; choose a new directory")
    tmp = out.parent / f".{out.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    rows: dict[str, int] = {}

    def put(layer: str, frame: gpd.GeoDataFrame, name: str) -> None:
        (tmp / layer).mkdir(parents=True, exist_ok=True)
        dictionary_form(frame, layer).to_parquet(tmp / layer / name, write_covering_bbox=True, index=False)
        rows[layer] = rows.get(layer, 0) + len(frame)

    t0, total, enterprises = time.perf_counter(), province.cols * province.rows, []
    for k, (c, r) in enumerate((c, r) for c in range(province.cols) for r in range(province.rows)):
        for layer, frame in cell(province, c, r).items():
            if layer == "enterprises":
                enterprises.append(frame)
            elif len(frame):
                put(layer, frame, f"cell_{c:02d}_{r:02d}.parquet")
        if say is not None and (k + 1) % max(1, total // 20) == 0:
            spent = time.perf_counter() - t0
            say(f"[{k + 1}/{total} cells] {spent:.0f} s, about {spent / (k + 1) * (total - k - 1):.0f} s left")
    put("districts", districts(province), "districts.parquet")
    put("enterprises", gpd.GeoDataFrame(pd.concat(enterprises, ignore_index=True), crs=STORAGE_SRID),
        "enterprises.parquet")
    tmp.rename(out)
    return rows


def main() -> None:
    """Write the province (or ``--cells`` of it) as GeoParquet, one file per cell and layer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--cells", type=int, nargs=2, metavar=("COLS", "ROWS"), help="only this many cells")
    parser.add_argument("--west", type=float, default=WEST, help="west edge of the piece (with --cells)")
    parser.add_argument("--south", type=float, default=SOUTH, help="south edge of the piece (with --cells)")
    parser.add_argument("--density", type=float, default=1.0)
    args = parser.parse_args()
    prov = Province(density=args.density)
    if args.cells:
        prov = Province(west=args.west, south=args.south, cols=args.cells[0], rows=args.cells[1],
                        density=args.density)
    rows = write_parquet(prov, args.out, lambda m: print(m, file=sys.stderr, flush=True))
    print(f"{prov.cols * prov.rows} cells, {rows.get('buildings', 0):,} buildings, {prov.pipeline_km:,.0f} km, "
          f"{len(districts(prov))} counties → {args.out}")


if __name__ == "__main__":
    main()
