"""The layers a check run works on, in storage CRS and in the metric Gauss-Krüger zone of the area."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.cell_values import text_column
from geo.checks.line_search import query_pieces
from geo.checks.metric_frame import METRES_PER_DEGREE_MAX, degree_reach
from geo.constants import STORAGE_SRID
from geo.crs import gk_zone_epsg

#: Widest longitude span measured in one Gauss-Krüger zone without a warning (scale error at 4.5° from
#: the central meridian is about 0.3 % in Yunnan, i.e. 1.5 cm at a 5 m threshold).
MAX_SPAN_DEG = 9.0
#: Length (m) of the pieces lines are cut into to search a storage index (:meth:`Bundle.near`).
_QUERY_PIECE_M = 100.0
#: Layers a check may read. Missing layers are empty frames.
LAYERS = ("districts", "enterprises", "risk_contours", "protection_targets", "buildings", "pipelines",
          "hcas", "tailings_dams", "infrastructure", "installations", "risk_points", "hidden_hazards")


@dataclass
class Bundle:
    """Input layers for a check run.

    Every frame is in EPSG:4490 with canonical column names (as stored), including
    ``key`` (natural key), ``adcode`` (or ``adcodes`` for pipelines) and ``name``
    where the layer has one. ``metric_epsg`` is the CGCS2000 3-degree Gauss-Krüger
    CM zone used for every distance, chosen from the data's centre unless given.

    Setback distances are grid distances in that zone: within a zone the scale factor makes them
    at most about 3×10⁻⁴ too long (6 cm at 200 m), below the accuracy of the surveyed features and
    on the side of reporting. Mileage and along-line lengths, which add up over kilometres, are
    geodesic (:mod:`geo.checks.mileage`).

    A rule that reaches only a few rows of a large layer (buildings within 5 m of the pipelines)
    asks :meth:`near` which rows can be within reach (an index filter in storage degrees) and
    projects only those with :meth:`metric_rows`; :meth:`metric` projects the whole layer. Both
    share one per-row cache, so no row is projected twice, and give the same coordinates as
    ``to_crs``. The caches belong to this bundle: a new ``Bundle`` of copied frames starts cold.

    Families may run in parallel threads on one bundle (:func:`geo.checks.runner.run_checks`): each
    layer's caches are filled under that layer's lock, so a layer is projected once and a thread
    asking for another layer is not held up. Families never change the frames they are given.
    """

    frames: dict[str, gpd.GeoDataFrame]
    metric_epsg: int | None = None
    _metric: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)
    _rows: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    _longest: dict[str, float] = field(default_factory=dict, repr=False)
    _locks: dict[str, threading.RLock] = field(default_factory=dict, repr=False, compare=False)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in LAYERS:
            if name not in self.frames or self.frames[name] is None:
                self.frames[name] = gpd.GeoDataFrame({"key": pd.Series(dtype=str)}, geometry=[], crs=STORAGE_SRID)
        if self.metric_epsg is None:
            self.metric_epsg = self._pick_zone()

    def _pick_zone(self) -> int:
        bounds = [f.total_bounds for f in self.frames.values() if len(f)]
        if not bounds:
            return gk_zone_epsg(102.7)
        minx = min(b[0] for b in bounds)
        maxx = max(b[2] for b in bounds)
        if maxx - minx > MAX_SPAN_DEG:
            warnings.warn(
                f"数据跨经度 {maxx - minx:.1f}°，超出一个高斯-克吕格投影带的精度范围，请按区域分批检查 / "
                f"the data spans {maxx - minx:.1f}° of longitude; distances far from the central meridian "
                "lose accuracy: run the checks area by area", RuntimeWarning, stacklevel=3)
        return gk_zone_epsg((minx + maxx) / 2)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the frames and caches, not the locks (a copy in another process has its own)."""
        state = dict(self.__dict__)
        state.pop("_locks"), state.pop("_locks_guard")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _locks={}, _locks_guard=threading.Lock())

    def _lock(self, layer: str) -> threading.RLock:
        """Return the lock of ``layer``'s caches (made on first use)."""
        with self._locks_guard:
            return self._locks.setdefault(layer, threading.RLock())

    def __getitem__(self, layer: str) -> gpd.GeoDataFrame:
        """Layer ``layer`` in EPSG:4490."""
        return self.frames[layer]

    def metric(self, layer: str) -> gpd.GeoDataFrame:
        """Return layer ``layer`` projected to the metric Gauss-Krüger zone (cached; rows projected once)."""
        done = self._metric.get(layer)
        if done is not None:
            return done
        with self._lock(layer):
            if layer not in self._metric:
                frame = self.frames[layer]
                if layer in self._rows:   # some rows are projected already: project the others only
                    geoms = self._projected(layer, np.arange(len(frame)))
                    self._metric[layer] = _framed(frame.copy(), geoms, self.metric_epsg)
                else:
                    self._metric[layer] = frame.to_crs(self.metric_epsg)
                self._rows.pop(layer, None)
            return self._metric[layer]

    def metric_rows(self, layer: str, positions: np.ndarray | Sequence[int]) -> gpd.GeoDataFrame:
        """Return rows ``positions`` of layer ``layer`` projected to the metric zone, each row projected once.

        Parameters
        ----------
        layer : str
            The layer.
        positions : array-like of int
            Row positions in ``bundle[layer]`` (as :meth:`near` returns them), in the order wanted.

        Returns
        -------
        GeoDataFrame
            ``bundle.metric(layer).iloc[positions]``: the same index, columns and coordinates,
            without projecting the other rows.
        """
        pos = np.asarray(positions, dtype=np.intp)
        with self._lock(layer):
            if layer in self._metric:
                return self._metric[layer].iloc[pos]
            return _framed(self.frames[layer].iloc[pos], self._projected(layer, pos), self.metric_epsg)

    def near(self, layer: str, around: Sequence[Any] | np.ndarray, reach_m: float) -> np.ndarray:
        """Return the positions of the rows of ``layer`` that can lie within ``reach_m`` metres of ``around``.

        An index filter in the storage CRS (a superset; nothing is measured in degrees): a row
        whose distance to any geometry of ``around``, both projected into the metric zone, is at
        most ``reach_m`` is always among them (:func:`geo.checks.metric_frame.degree_reach` gives
        the degree distance that guarantees it, with the latitude of ``around`` and the longest
        segment on either side). Every distance a rule compares is then measured in metres on
        :meth:`metric_rows`. The layer's spatial index (``bundle[layer].sindex``) is built once. A
        layer not in longitudes and latitudes (a frame built outside the store) is not filtered.

        Parameters
        ----------
        layer : str
            The layer whose rows are wanted.
        around : sequence of shapely geometry
            Geometries in EPSG:4490 (lines are searched by short pieces); missing and empty ones are ignored.
        reach_m : float
            The farthest distance (m) the caller will compare, padding included.

        Returns
        -------
        numpy.ndarray of int
            Sorted row positions in ``bundle[layer]``; rows without geometry are never returned.
        """
        frame = self.frames[layer]
        geoms = np.asarray(around, dtype=object).ravel()
        if len(geoms):
            geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        if not len(frame) or not len(geoms):
            return np.zeros(0, dtype=np.intp)
        if frame.crs is None or not frame.crs.is_geographic:   # not stored coordinates: no filter, every row
            every = np.asarray(frame.geometry.array, dtype=object)
            return np.flatnonzero(~(shapely.is_missing(every) | shapely.is_empty(every)))
        parts = shapely.get_parts(geoms)
        linear = np.isin(shapely.get_type_id(parts), (1, 2))
        lat_max = float(np.abs(shapely.bounds(geoms)[:, 1::2]).max())
        longest = max(self._longest_m(layer), _longest_segment_deg(parts) * METRES_PER_DEGREE_MAX)
        reach_deg = degree_reach(reach_m, lat_max, longest)
        # lines are searched by pieces about 100 m long (whole segments are often longer, and the box of a
        # long diagonal segment holds many rows); extra vertices on a straight segment do not move it
        step = max(8.0 * reach_deg, _QUERY_PIECE_M / METRES_PER_DEGREE_MAX)
        pieces, _src = query_pieces(shapely.segmentize(parts[linear], step), step, min_length=step)
        queries = np.concatenate([pieces, parts[~linear]])
        with self._lock(layer):
            index = frame.sindex   # built once, not by two threads at a time
        _q, rows = index.query(queries, predicate="dwithin", distance=reach_deg)
        return np.unique(rows)

    def _longest_m(self, layer: str) -> float:
        """Upper bound (m) of the longest segment of the layer's rows (the widest bounding box)."""
        with self._lock(layer):
            return self._longest_m_locked(layer)

    def _longest_m_locked(self, layer: str) -> float:
        if layer not in self._longest:
            frame = self.frames[layer]
            x0, y0, x1, y1 = shapely.bounds(np.asarray(frame.geometry.array, dtype=object)).T
            diag = np.hypot(x1 - x0, y1 - y0)
            diag = diag[np.isfinite(diag)]
            self._longest[layer] = float(diag.max()) * METRES_PER_DEGREE_MAX if len(diag) else 0.0
        return self._longest[layer]

    def _projected(self, layer: str, pos: np.ndarray) -> np.ndarray:
        """Metric geometries of rows ``pos``, projecting those not projected before (the layer's lock held)."""
        frame = self.frames[layer]
        if layer not in self._rows:
            self._rows[layer] = (np.zeros(len(frame), dtype=bool), np.full(len(frame), None, dtype=object))
        done, geoms = self._rows[layer]
        todo = np.unique(pos[~done[pos]])
        if len(todo):
            geoms[todo] = np.asarray(frame.geometry.array[todo].to_crs(self.metric_epsg), dtype=object)
            done[todo] = True
        return geoms[pos]


def _longest_segment_deg(geoms: np.ndarray) -> float:
    """Return the length (degrees) of the longest segment of lines and polygon rings (0 for points)."""
    rings = shapely.get_rings(geoms[np.isin(shapely.get_type_id(geoms), (3, 6))])
    lines = np.concatenate([geoms[np.isin(shapely.get_type_id(geoms), (1, 2))], rings])
    if not len(lines):
        return 0.0
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    same = owner[1:] == owner[:-1]
    if not same.any():
        return 0.0
    return float(np.hypot(*np.diff(xy, axis=0)[same].T).max())


def _framed(rows: gpd.GeoDataFrame, geoms: np.ndarray, epsg: int | None) -> gpd.GeoDataFrame:
    """``rows`` with their geometry column replaced by ``geoms`` in ``epsg`` (what ``to_crs`` returns)."""
    rows.geometry = gpd.GeoSeries(gpd.array.GeometryArray(geoms, crs=epsg), index=rows.index,
                                  name=rows.geometry.name)
    return rows


def usable_rows(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows of ``frame`` with a non-empty geometry, re-indexed 0..n-1 (what the distance checks work on)."""
    if frame.empty:
        return frame.reset_index(drop=True)
    geoms = frame.geometry.values
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return frame[ok].reset_index(drop=True)


def district_codes(points: Sequence[Any], districts: gpd.GeoDataFrame) -> list[str | None]:
    """Return the ``adcode`` of the district holding each point (the nearest district when none holds it).

    Parameters
    ----------
    points : sequence of shapely Point
        Points in the CRS of ``districts`` (usually ``bundle.metric("districts")``).
    districts : GeoDataFrame
        Districts with ``adcode``; where districts overlap, the first row wins.

    Returns
    -------
    list of str or None
        One code per point; all ``None`` without districts.
    """
    if not points:
        return []
    if not len(districts) or "adcode" not in districts.columns:
        return [None] * len(points)
    arr = np.asarray(points, dtype=object)
    codes = text_column(districts, "adcode")
    out: list[str | None] = [None] * len(points)
    pi, di = districts.sindex.query(arr, predicate="intersects")
    for a, b in zip(pi[::-1], di[::-1], strict=True):
        out[a] = codes[b]
    missing = [i for i, v in enumerate(out) if v is None]
    if missing:
        _pi, di2 = districts.sindex.nearest(arr[missing], return_all=False)
        for i, b in zip(missing, di2, strict=True):
            out[i] = codes[b]
    return out
