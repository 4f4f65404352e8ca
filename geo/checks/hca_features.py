"""Records of features near a pipeline, for the high-consequence areas of :mod:`geo.checks.hca`.

Each record is a stretch of a pipeline (``s_lo``–``s_hi``, metres from vertex 0) with the Table 1
row (``crit``), grade, layer, key, name and distance of the feature that triggers it. The subsets
of a layer (:class:`Kinds`) are selected once per run, and the lines of a cohort (every oil line,
or every gas line asking the same subset at the same distance) are searched together
(:class:`Extents`: one index search, :func:`geo.checks.location_class.along_extent_all`).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.cell_values import column_series
from geo.checks.location_class import Line, along_extent, along_extent_all

__all__ = ["REC_COLUMNS", "Extents", "Kinds", "feature_records", "records"]

#: Columns of a record.
REC_COLUMNS = ("s_lo", "s_hi", "crit", "grade", "layer", "key", "name", "d", "req")


def records(s_lo: Any, s_hi: Any, crit: str, grade: int, layer: str, keys: Any, names: Any, d: Any,
            req: float) -> pd.DataFrame:
    """Return records of one criterion: one row per trigger (see the module docstring)."""
    n = len(np.atleast_1d(s_lo))
    return pd.DataFrame({"s_lo": np.asarray(s_lo, float), "s_hi": np.asarray(s_hi, float), "crit": crit,
                         "grade": int(grade), "layer": layer, "key": np.asarray(keys, dtype=object).astype(str),
                         "name": np.asarray(names, dtype=object), "d": np.asarray(d, float),
                         "req": np.full(n, float(req))})


def feature_records(ln: Line, frame: gpd.GeoDataFrame, layer: str, dist: float, crit: str,
                    grade: int, memo: Kinds | None = None, cohort: Extents | None = None) -> list[pd.DataFrame]:
    """Return records of the features within ``dist``: their along-line range ± ``dist``.

    ``cohort`` searches the index once for all its lines (every line of a cohort asks the same
    subset at the same distance); ``memo`` keeps each subset's keys and names.
    """
    if not len(frame):
        return []
    ext = cohort(ln, frame, dist) if cohort is not None else along_extent(ln, frame, dist)
    if not len(ext):
        return []
    rows = ext["row"].to_numpy()
    all_keys, all_names = memo.labels(frame) if memo is not None else _labels(frame)
    keys, names = all_keys[rows], all_names[rows]
    return [records(ext["s_lo"] - dist, ext["s_hi"] + dist, crit, grade, layer, keys, names, ext["d"], dist)]


def _labels(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    return column_series(frame, "key").astype(str).to_numpy(), column_series(frame, "name").to_numpy()


class Extents:
    """Along-line extents near the lines of a cohort, one index search per (subset, distance) for all of them."""

    def __init__(self, lines: list[Line]) -> None:
        self._lines = lines
        self._at = {id(ln): k for k, ln in enumerate(lines)}
        self._memo: dict[tuple[int, float], list[pd.DataFrame]] = {}
        self._keep: list[gpd.GeoDataFrame] = []   # the frames keyed by id stay alive

    def __call__(self, ln: Line, frame: gpd.GeoDataFrame, dist: float) -> pd.DataFrame:
        """Return :func:`~geo.checks.location_class.along_extent` of ``ln`` (a line of the cohort)."""
        key = (id(frame), float(dist))
        if key not in self._memo:
            self._keep.append(frame)
            self._memo[key] = along_extent_all(self._lines, frame, dist)
        return self._memo[key][self._at[id(ln)]]


def _kind_rows(frame: gpd.GeoDataFrame, kinds: list[str], column: str = "kind") -> gpd.GeoDataFrame:
    if not len(frame) or column not in frame.columns:
        return frame.iloc[0:0]
    return frame[frame[column].isin(kinds)]


class Kinds:
    """Rows of a layer of given kinds, selected once per run (so each subset builds its index once)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, tuple[str, ...], str], gpd.GeoDataFrame] = {}
        self._keep: list[gpd.GeoDataFrame] = []   # the frames keyed by id stay alive
        self._labels: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def labels(self, frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return the keys (as text) and names of a subset's rows, read once."""
        if id(frame) not in self._labels:
            self._keep.append(frame)
            self._labels[id(frame)] = _labels(frame)
        return self._labels[id(frame)]

    def __call__(self, frame: gpd.GeoDataFrame, kinds: list[str], column: str = "kind") -> gpd.GeoDataFrame:
        """Return the rows of ``frame`` whose ``column`` is one of ``kinds`` (the same frame each time)."""
        key = (id(frame), tuple(kinds), column)
        if key not in self._memo:
            self._keep.append(frame)
            self._memo[key] = _kind_rows(frame, kinds, column)
        return self._memo[key]
