"""State shared by the demo's layer builders: random streams, districts, placed footprints, records.

Every layer module of :mod:`geo.demo` is a set of functions that take one :class:`DemoContext`:
they draw from its random streams in a fixed order, read what earlier layers placed and append
their own records. The draw order is part of the output: reordering calls changes the data set.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon

from geo.constants import STORAGE_SRID
from geo.credit_code import CHARSET, check_character, organization_check_character

#: Reference date of the demo ("today" for deadlines and 18-month re-identification).
DEMO_AS_OF = dt.date(2026, 11, 1)
#: CGCS2000 3-degree Gauss-Krüger CM 102°E: every distance is worked out in these metres.
WORK_CRS = 4543
_MARGIN_M = 25.0  # generated features keep this far inside their district
_LAKE_BUFFER_M = 300.0

# Hand-chosen geography (lon/lat, CGCS2000 ≈ WGS84)

#: Very rough outline of 滇池; only used to keep generated points off the lake.
_DIANCHI = (
    (102.655, 25.02), (102.685, 25.01), (102.70, 24.975), (102.735, 24.955), (102.765, 24.905),
    (102.765, 24.84), (102.735, 24.77), (102.69, 24.71), (102.645, 24.675), (102.615, 24.69),
    (102.60, 24.74), (102.605, 24.80), (102.625, 24.86), (102.64, 24.93), (102.645, 24.98),
)

#: Approximate county seats, used to cluster urban features.
_SEATS: dict[str, tuple[float, float]] = {
    "530102": (102.700, 25.060), "530103": (102.735, 25.075), "530111": (102.770, 25.010),
    "530112": (102.640, 25.030), "530113": (103.185, 26.085), "530114": (102.830, 24.890),
    "530115": (102.590, 24.660), "530124": (102.500, 25.220), "530125": (103.140, 24.920),
    "530126": (103.275, 24.770), "530127": (103.040, 25.340), "530128": (102.470, 25.550),
    "530129": (103.255, 25.560), "530181": (102.470, 24.920),
}

#: Pools of fictitious personal names.
_SURNAMES = ("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
             "袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢钟谭陆范金石廖夏韦方白孟熊秦邱江尹段雷侯龙史陶贺顾毛")
_GIVEN = ("伟芳娜英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志红文斌宇浩"
          "凯鑫辉丹玲萍燕云海波林春晓东亮俊峰琼梅荣庆祥福顺")
#: Chinese numerals one to ten, for "第三加油站" and "二号尾矿库".
CN_NUM = "一二三四五六七八九十"


def random_date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    """Return a uniform random date in [start, end]."""
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


@dataclass
class District:
    """A district of the demo in metres, with its inner margin prepared for point tests."""

    adcode: str
    name: str
    short: str
    geom: Any  # EPSG:4543
    inner: Any  # geom shrunk by _MARGIN_M, prepared


class Footprints:
    """Spatial hash of placed footprints, to keep buildings from overlapping."""

    def __init__(self, cell: float = 60.0) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[Any]] = {}

    def _keys(self, geom: Any, pad: float) -> list[tuple[int, int]]:
        x0, y0, x1, y1 = geom.bounds
        c = self.cell
        return [(i, j) for i in range(math.floor((x0 - pad) / c), math.floor((x1 + pad) / c) + 1)
                for j in range(math.floor((y0 - pad) / c), math.floor((y1 + pad) / c) + 1)]

    def free(self, geom: Any, gap: float = 3.0) -> bool:
        """Tell whether ``geom`` keeps ``gap`` metres from every stored footprint."""
        return not any(shapely.dwithin(other, geom, gap)
                       for key in self._keys(geom, gap) for other in self.cells.get(key, ()))

    def add(self, geom: Any) -> None:
        """Store ``geom``."""
        for key in self._keys(geom, 0.0):
            self.cells.setdefault(key, []).append(geom)


class DemoContext:
    """Holds the random streams, the districts and everything generated so far.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        The 14 districts of 昆明市 (``adcode``, ``name``, ``geometry``; no CRS means EPSG:4490).
    seed : int
        Seed of the main random stream; the plant parts and their inventories use streams
        derived from it.
    """

    def __init__(self, districts: gpd.GeoDataFrame, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        #: Plant parts draw from their own stream, so adding them left every other layer unchanged.
        self.inst_rng = np.random.default_rng([seed, 50160])
        #: The parts' hazardous-chemical inventories draw from another, so the parts stayed as they were.
        self.substance_rng = np.random.default_rng([seed, 18218])
        src = districts if districts.crs is not None else districts.set_crs(STORAGE_SRID)
        work = src.to_crs(WORK_CRS).sort_values("adcode").reset_index(drop=True)
        missing = [a for a in _SEATS if a not in set(work["adcode"].astype(str))]
        if missing:
            raise ValueError(f"the Kunming demo needs districts {missing}")
        self.to_m = Transformer.from_crs(STORAGE_SRID, WORK_CRS, always_xy=True)
        self.districts: dict[str, District] = {}
        for adcode, name, geom in zip(work["adcode"].astype(str), work["name"].astype(str),
                                      work.geometry, strict=True):
            if adcode not in _SEATS:
                continue
            inner = geom.buffer(-_MARGIN_M)
            shapely.prepare(inner)
            shapely.prepare(geom)
            short = name[:2] if "自治" in name else name[:-1]
            self.districts[adcode] = District(adcode, name, short, geom, inner)
        lake = Polygon([self.xy(lon, lat) for lon, lat in _DIANCHI]).buffer(_LAKE_BUFFER_M)
        shapely.prepare(lake)
        self.lake = lake
        whole = shapely.union_all([d.geom for d in self.districts.values()])
        self.land = whole.buffer(-_MARGIN_M).difference(lake)
        shapely.prepare(self.land)
        self.used_codes: set[str] = set()
        self.counters: dict[str, int] = {}
        self.footprints = Footprints()
        self.pipes: dict[str, LineString] = {}
        # The records of each layer, appended by the builders; keys starting with "_" are notes for
        # later builders (an enterprise's stem, a pond's owner) and are not output.
        self.enterprises: list[dict[str, Any]] = []
        self.contours: list[dict[str, Any]] = []
        self.tailings: list[dict[str, Any]] = []
        self.buildings: list[dict[str, Any]] = []
        self.targets: list[dict[str, Any]] = []
        self.infra: list[dict[str, Any]] = []
        self.hcas: list[dict[str, Any]] = []
        self.risk_points: list[dict[str, Any]] = []
        self.hazards: list[dict[str, Any]] = []
        self.installations: list[dict[str, Any]] = []
        self.marks: dict[str, Any] = {}  # planned features the HCAs refer to

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Project a lon/lat pair to EPSG:4543 metres."""
        x, y = self.to_m.transform(lon, lat)
        return float(x), float(y)

    def next_no(self, key: str) -> int:
        """Return the next serial number for ``key`` (starting at 1)."""
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    def locate(self, x: float, y: float) -> str | None:
        """Return the adcode of the district containing (x, y), or None."""
        for d in self.districts.values():
            if shapely.contains_xy(d.geom, x, y):
                return d.adcode
        return None

    def on_land(self, x: float, y: float, adcode: str | None = None) -> bool:
        """Tell whether (x, y) is inside a district (``adcode`` if given), clear of edges and the lake."""
        if shapely.contains_xy(self.lake, x, y):
            return False
        if adcode is not None:
            return bool(shapely.contains_xy(self.districts[adcode].inner, x, y))
        return bool(shapely.contains_xy(self.land, x, y))

    def sample(self, adcode: str, center: tuple[float, float] | None = None,
               r_min: float = 0.0, r_max: float = 0.0) -> tuple[float, float]:
        """Return a random point in district ``adcode`` (optionally in an annulus around ``center``)."""
        d = self.districts[adcode]
        for _ in range(400):
            if center is not None:
                r = math.sqrt(self.rng.uniform(r_min**2, r_max**2))
                a = self.rng.uniform(0, 2 * math.pi)
                x, y = center[0] + r * math.cos(a), center[1] + r * math.sin(a)
            else:
                x0, y0, x1, y1 = d.inner.bounds
                x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
            if self.on_land(x, y, adcode):
                return x, y
        if center is not None:  # annulus missed the district: fall back to anywhere in it
            return self.sample(adcode)
        raise RuntimeError(f"could not sample a point in {adcode}")

    def seat(self, adcode: str) -> tuple[float, float]:
        """Return the approximate county seat of ``adcode`` in metres."""
        return self.xy(*_SEATS[adcode])

    def near_seat(self, adcode: str, r_max: float = 6000.0) -> tuple[float, float]:
        """Return a random point within ``r_max`` of the county seat, inside the district."""
        return self.sample(adcode, self.seat(adcode), 0.0, r_max)

    def person(self) -> str:
        """Return a fictitious personal name."""
        n = int(self.rng.integers(1, 3))
        return (_SURNAMES[int(self.rng.integers(len(_SURNAMES)))]
                + "".join(_GIVEN[int(i)] for i in self.rng.integers(0, len(_GIVEN), n)))

    def phone(self) -> str:
        """Return a non-dialable demo phone number."""
        return f"0871-0000{int(self.rng.integers(0, 10000)):04d}"

    def township(self, adcode: str) -> str:
        """Return a fictitious township (街道/镇/乡) of ``adcode``."""
        short = self.districts[adcode].short
        return f"{short}演示{('街道', '镇', '乡')[int(self.rng.integers(3))]}"

    def address(self, adcode: str, township: str) -> str:
        """Return a fictitious street address in ``township``."""
        road = ("兴业路", "工业大道", "园区路", "东环路", "新村路", "矿区路")[int(self.rng.integers(6))]
        return f"{self.districts[adcode].name}{township}演示{road}{int(self.rng.integers(1, 300))}号"

    def credit_code(self, adcode: str, prefix: str = "91") -> str:
        """Return a new, unique, check-digit-valid credit code registered in ``adcode``."""
        while True:
            if prefix == "91":
                body8 = "MA" + "".join(CHARSET[int(i)] for i in self.rng.integers(0, 31, 6))
            else:
                body8 = "".join(str(int(i)) for i in self.rng.integers(0, 10, 8))
            first17 = prefix + adcode + body8 + organization_check_character(body8)
            code = first17 + check_character(first17)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def pipe_s(self, anchor: tuple[str, tuple[float, float]]) -> tuple[LineString, float]:
        """Return the pipeline and chainage nearest to an anchor ``(code, (lon, lat))``."""
        line = self.pipes[anchor[0]]
        return line, float(line.project(Point(self.xy(*anchor[1]))))

    def pipe_distance(self, geom: Any) -> float:
        """Return the distance from ``geom`` to the nearest pipeline centreline."""
        return float(min(geom.distance(line) for line in self.pipes.values()))
