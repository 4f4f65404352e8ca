"""Deterministic demo data set for Kunming (昆明市, adcode 530100).

.. warning::

   **Everything this module produces is generated demo data (演示数据), not real
   enterprises, facilities or people.** Only the district boundaries passed in
   are real. Enterprise, tailings-pond, pipeline, building, protection-target,
   risk-point and hidden-hazard records are synthetic: names carry "演示", phone
   numbers are non-dialable (``0871-0000xxxx``), townships and roads are
   fictitious, and the credit codes are merely check-digit-valid strings.

The pipelines follow hand-chosen waypoints that only *roughly* imitate the
corridors of real trunk lines (a gas trunk west→east across 安宁/西山/晋宁/呈贡/
宜良, a crude line ending at a refinery area in 安宁 and a products line towards
嵩明/寻甸); no third-party pipeline data is used. A rough hand-drawn outline of
滇池 only keeps generated points out of the lake.

The data are built to exercise the rules in ``standards.md`` §4-7: buildings
over or within 5 m of a pipeline centreline (管道占压), 2 km windows of every
GB 50251 location class, a cluster of ≥4-storey blocks, declared high-consequence
areas (one older than 18 months), roads crossing at shallow angles, water
sources and fuel stations near lines, tailings ponds of grades 二-五 with people
within 1 km downstream, and protection targets inside individual-risk contours.

All distance work happens in metres in the CGCS2000 3-degree Gauss-Krüger CM
102°E projection (EPSG:4543); results are returned in CGCS2000 (EPSG:4490).
The same seed and districts always give identical output.

HCA ``start_m``/``end_m`` are metres along the pipeline geometry from its first
vertex; the one pipeline with a non-zero ``start_mileage_m`` (PRD-01) carries no
declared HCA, so the two readings of "mileage" cannot disagree.

The generator is one :class:`~geo.demo.context.DemoContext` (random streams, districts in
metres, placed footprints, the records so far) and one module per family of layers, each a
few functions that take the context: :mod:`~geo.demo.pipelines` (lines, anchors, HCAs),
:mod:`~geo.demo.enterprises` (enterprises, risk contours), :mod:`~geo.demo.tailings`,
:mod:`~geo.demo.infrastructure`, :mod:`~geo.demo.buildings`, :mod:`~geo.demo.targets`,
:mod:`~geo.demo.risk_points`, :mod:`~geo.demo.hazards`, :mod:`~geo.demo.neighbours`,
:mod:`~geo.demo.installations` and :mod:`~geo.demo.parks`; :mod:`~geo.demo.geometry` holds the shape helpers.
:func:`generate_demo` runs them in a fixed order, because each draws from the shared stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon

from geo.constants import STORAGE_SRID
from geo.demo.buildings import make_buildings
from geo.demo.context import DEMO_AS_OF, WORK_CRS, DemoContext
from geo.demo.enterprises import make_contours, make_enterprises
from geo.demo.hazards import make_hazards
from geo.demo.infrastructure import make_infrastructure, make_rivers
from geo.demo.installations import make_installations
from geo.demo.neighbours import make_pipeline_neighbours
from geo.demo.parks import park_rows
from geo.demo.pipelines import make_hcas, make_pipelines, pipeline_rows
from geo.demo.risk_points import make_risk_points
from geo.demo.tailings import make_tailings
from geo.demo.targets import make_targets
from geo.layer_specs import LAYERS

__all__ = ["DEMO_AS_OF", "DEMO_SEED", "LAYER_NAMES", "generate_demo"]

#: Default seed of the demo generator.
DEMO_SEED = 20261124
#: Layers returned by :func:`generate_demo`, in dependency order.
LAYER_NAMES = (
    "enterprises", "risk_contours", "protection_targets", "buildings", "pipelines", "hcas",
    "tailings_dams", "infrastructure", "installations", "risk_points", "hidden_hazards", "parks",
)

#: The layer builders in the order they draw from the shared random stream. The order is part
#: of the output: builders added later run last, so that earlier layers keep their draws.
_STEPS: tuple[Callable[[DemoContext], None], ...] = (
    make_pipelines, make_enterprises, make_contours, make_tailings, make_infrastructure, make_buildings,
    make_targets, make_hcas, make_risk_points, make_hazards, make_pipeline_neighbours, make_installations,
    make_rivers,
)


def _frame_for(layer: str, rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Build a GeoDataFrame in EPSG:4490 with exactly the canonical columns of ``layer`` (no lon/lat)."""
    spec = LAYERS[layer]
    data: dict[str, Any] = {}
    for f in spec.fields:
        if f.name in ("lon", "lat"):
            continue
        vals = [r.get(f.name) for r in rows]
        if f.type == "int":
            data[f.name] = pd.array([None if v is None else int(v) for v in vals], dtype="Int64")
        elif f.type == "float":
            data[f.name] = np.array([np.nan if v is None else float(v) for v in vals], dtype="float64")
        elif f.type == "bool":
            data[f.name] = np.array([bool(v) for v in vals], dtype=bool)
        elif f.type == "date":
            data[f.name] = pd.Series(vals, dtype=object)
        else:
            data[f.name] = pd.Series(vals, dtype="str")
    geoms = gpd.GeoSeries([r["geometry"] for r in rows], crs=WORK_CRS).to_crs(STORAGE_SRID)
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=geoms.values, crs=STORAGE_SRID)


def generate_demo(districts: gpd.GeoDataFrame, *, seed: int = DEMO_SEED) -> dict[str, gpd.GeoDataFrame]:
    """Generate the Kunming demo data set inside the given district boundaries.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        The 14 county-level districts of 昆明市 with columns ``adcode``, ``name`` and
        ``geometry`` (EPSG:4490; a frame without CRS is taken to be EPSG:4490).
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`; the same seed and districts always
        give identical output.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        One frame per layer in :data:`LAYER_NAMES`, in EPSG:4490, whose columns are
        the canonical field names of :mod:`geo.layer_specs` (without ``lon``/``lat``)
        plus ``geometry``. Enum fields hold the stored codes, dates are
        :class:`datetime.date`, integers use the nullable ``Int64`` dtype.

    Raises
    ------
    ValueError
        If one of the 14 Kunming districts is missing.

    Notes
    -----
    The output is fictitious demo data; only the district boundaries are real.
    """
    ctx = DemoContext(districts, seed)
    for step in _STEPS:
        step(ctx)
    rows = {
        "enterprises": ctx.enterprises, "risk_contours": ctx.contours,
        "protection_targets": ctx.targets, "buildings": ctx.buildings,
        "pipelines": pipeline_rows(ctx), "hcas": ctx.hcas, "tailings_dams": ctx.tailings,
        "infrastructure": ctx.infra, "installations": ctx.installations, "risk_points": ctx.risk_points,
        "hidden_hazards": ctx.hazards,
        "parks": park_rows(ctx),  # drawn around placed enterprises, no random draw: other layers unchanged
    }
    for b in ctx.buildings:
        b["code"] = f"B-{b['adcode']}-{ctx.next_no('b:' + b['adcode']):05d}"
        b["geometry"] = MultiPolygon([b["geometry"]])  # footprints: the layer holds polygons, stored as multi
    return {name: _frame_for(name, rows[name]) for name in LAYER_NAMES}
