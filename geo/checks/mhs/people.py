"""People exposed around a plant (GB 18218-2018 4.2.2): protection targets and residential buildings within reach.

Counted once per plant, from the figures of protection targets (population, else households ×
persons per household) and residential buildings (households × persons per household) within
``exposure_m`` of the plant hull; see :mod:`geo.checks.mhs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.cell_values import number_column, text_column
from geo.checks.bundle import Bundle, usable_rows
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


def _targets_with_figures(bundle: Bundle, p: MhsParams) -> tuple[np.ndarray, np.ndarray]:
    """Geometries and people of the protection targets that count (types in ``p``, a figure > 0)."""
    frame = usable_rows(bundle.metric("protection_targets"))
    geoms, figures = [], []
    for geom, ttype, pop, hh in zip(
            frame.geometry.tolist(), text_column(frame, "target_type"), number_column(frame, "population"),
            number_column(frame, "households"), strict=True):
        if ttype not in p.target_types:
            continue
        figure = pop if pop is not None else (hh * p.persons_per_household if hh is not None else None)
        if figure is not None and figure > 0:
            geoms.append(geom)
            figures.append(figure)
    return np.asarray(geoms, dtype=object), np.asarray(figures, dtype=float)


def _residential_buildings(bundle: Bundle, p: MhsParams) -> tuple[np.ndarray, np.ndarray]:
    """Geometries and households of the buildings that count (uses in ``p``, households > 0).

    Read column-wise (a city has hundreds of thousands of buildings): a use counts as
    :func:`~geo.cell_values.text_or_none` reads it, households as :func:`~geo.cell_values.number_or_none`.
    """
    frame = bundle.metric("buildings")
    if frame.empty or "use" not in frame.columns:
        return np.asarray([], dtype=object), np.asarray([], dtype=float)
    geoms = frame.geometry.to_numpy()
    use = frame["use"]
    stripped = use.astype(str).str.strip()
    keep = (~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & use.notna().to_numpy(dtype=bool)
            & (stripped != "").to_numpy(dtype=bool) & stripped.isin(p.building_uses).to_numpy(dtype=bool))
    rows = np.flatnonzero(keep)
    if "households" not in frame.columns:
        return np.asarray([], dtype=object), np.asarray([], dtype=float)
    cells = frame["households"].iloc[rows]
    if pd.api.types.is_numeric_dtype(cells.dtype) and not pd.api.types.is_bool_dtype(cells.dtype):
        numbers = cells.to_numpy(dtype=float, na_value=np.nan)
    else:
        numbers = np.asarray([np.nan if n is None else n for n in number_column(cells.to_frame(), "households")],
                             dtype=float)
    with np.errstate(invalid="ignore"):
        counted = np.isfinite(numbers) & (numbers > 0)
    return geoms[rows[counted]], numbers[counted]


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
