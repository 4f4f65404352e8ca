"""The layers a check run works on, in storage CRS and in the metric Gauss-Krüger zone of the area."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.cell_values import text_column
from geo.constants import STORAGE_SRID
from geo.crs import gk_zone_epsg

#: Widest longitude span measured in one Gauss-Krüger zone without a warning (scale error at 4.5° from
#: the central meridian is about 0.3 % in Yunnan, i.e. 1.5 cm at a 5 m threshold).
MAX_SPAN_DEG = 9.0
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
    """

    frames: dict[str, gpd.GeoDataFrame]
    metric_epsg: int | None = None
    _metric: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)

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

    def __getitem__(self, layer: str) -> gpd.GeoDataFrame:
        """Layer ``layer`` in EPSG:4490."""
        return self.frames[layer]

    def metric(self, layer: str) -> gpd.GeoDataFrame:
        """Layer ``layer`` projected to the metric Gauss-Krüger zone (cached)."""
        if layer not in self._metric:
            self._metric[layer] = self.frames[layer].to_crs(self.metric_epsg)
        return self._metric[layer]


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
