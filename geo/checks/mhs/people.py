"""People exposed around a plant (GB 18218-2018 4.2.2): protection targets and residential buildings within reach.

Counted once per plant, from the figures of protection targets (population, else households ×
persons per household) and residential buildings (households × persons per household) within
``exposure_m`` of the plant hull; see :mod:`geo.checks.mhs`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.cell_values import number_column
from geo.checks.bundle import Bundle
from geo.checks.mhs.params import SLACK, MhsParams, whole_people
from geo.checks.ruleset import below


@dataclass(frozen=True)
class People:
    """People within the radius of one plant boundary."""

    count: int
    estimate: float
    households: int
    from_targets: float
    buildings: int
    targets: int


def _numbers(frame: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
    """Cells ``rows`` of column ``name`` read as :func:`~geo.cell_values.number_or_none` does, NaN for ``None``."""
    if name not in frame.columns:
        return np.full(len(rows), np.nan)
    cells = frame[name].iloc[rows]
    if pd.api.types.is_numeric_dtype(cells.dtype) and not pd.api.types.is_bool_dtype(cells.dtype):
        numbers = cells.to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isfinite(numbers), numbers, np.nan)
    return np.asarray([np.nan if n is None else n for n in number_column(cells.to_frame(), name)], dtype=float)


def _rows_of_kind(frame: pd.DataFrame, column: str, kinds: Collection[str]) -> np.ndarray:
    """Positions of the rows with a usable geometry whose ``column``, read as text, is one of ``kinds``."""
    if frame.empty or column not in frame.columns:
        return np.empty(0, dtype=int)
    geoms = frame.geometry.to_numpy()
    cells = frame[column]
    stripped = cells.astype(str).str.strip()
    keep = (~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & cells.notna().to_numpy(dtype=bool)
            & (stripped != "").to_numpy(dtype=bool) & stripped.isin(list(kinds)).to_numpy(dtype=bool))
    return np.flatnonzero(keep)


def _targets_with_figures(bundle: Bundle, p: MhsParams) -> tuple[np.ndarray, np.ndarray]:
    """Geometries and people of the protection targets that count (types in ``p``, a figure > 0).

    The figure is the population, else households × persons per household.
    """
    frame = bundle.metric("protection_targets")
    rows = _rows_of_kind(frame, "target_type", p.target_types)
    population, households = _numbers(frame, "population", rows), _numbers(frame, "households", rows)
    figures = np.where(np.isnan(population), households * p.persons_per_household, population)
    with np.errstate(invalid="ignore"):
        counted = figures > 0
    return frame.geometry.to_numpy()[rows[counted]], figures[counted]


def _residential_buildings(bundle: Bundle, p: MhsParams) -> tuple[np.ndarray, np.ndarray]:
    """Geometries and households of the buildings that count (uses in ``p``, households > 0)."""
    frame = bundle.metric("buildings")
    rows = _rows_of_kind(frame, "use", p.building_uses)
    households = _numbers(frame, "households", rows)
    with np.errstate(invalid="ignore"):
        counted = households > 0
    return frame.geometry.to_numpy()[rows[counted]], households[counted]


def _within(zones: np.ndarray, geoms: np.ndarray, p: MhsParams) -> tuple[np.ndarray, np.ndarray]:
    """(zone index, feature index) pairs with the feature within the radius of the zone (mm resolution)."""
    if not len(zones) or not len(geoms):
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    tree = shapely.STRtree(geoms)
    zi, fi = tree.query(zones, predicate="dwithin", distance=p.radius_m + SLACK)
    dist = shapely.distance(zones[zi], geoms[fi])  # unrounded: round only for display
    keep = np.asarray([below(d, p.radius_m, inclusive=p.radius_inclusive) for d in dist], dtype=bool)
    return zi[keep], fi[keep]


def people_near(bundle: Bundle, zones: list[BaseGeometry], p: MhsParams) -> list[People]:
    """People within the radius of each plant boundary in ``zones`` (metric geometries)."""
    t_geoms, t_figures = _targets_with_figures(bundle, p)
    b_geoms, b_households = _residential_buildings(bundle, p)
    covered: dict[int, set[int]] = {}
    if len(t_geoms) and len(b_geoms):
        bi, ti = shapely.STRtree(t_geoms).query(b_geoms, predicate="intersects")
        for b, t in zip(bi.tolist(), ti.tolist(), strict=True):
            covered.setdefault(b, set()).add(t)
    zone_arr = np.asarray(zones, dtype=object)
    tz, tf = _within(zone_arr, t_geoms, p)
    bz, bf = _within(zone_arr, b_geoms, p)
    targets_of: dict[int, set[int]] = {}
    for z, t in zip(tz.tolist(), tf.tolist(), strict=True):
        targets_of.setdefault(z, set()).add(t)
    buildings_of: dict[int, list[int]] = {}
    for z, b in zip(bz.tolist(), bf.tolist(), strict=True):
        buildings_of.setdefault(z, []).append(b)
    out = []
    for z in range(len(zones)):
        targets = targets_of.get(z, set())
        counted = [b for b in buildings_of.get(z, []) if not (covered.get(b, set()) & targets)]
        households = float(b_households[counted].sum()) if counted else 0.0
        from_targets = float(t_figures[sorted(targets)].sum()) if targets else 0.0
        estimate = households * p.persons_per_household + from_targets
        out.append(People(whole_people(estimate), estimate, round(households), from_targets, len(counted),
                           len(targets)))
    return out
