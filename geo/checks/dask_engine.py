"""Run the check families partition by partition on a Dask cluster (``distributed``), and merge the findings.

The spatial logic — tiles, halos, which tile owns a finding, the zone rule — is
:mod:`geo.checks.partition`; this module schedules one task per tile on a
:class:`distributed.LocalCluster` (``n_workers`` processes, one thread each) or on an existing
cluster given by its scheduler address, reads each tile's inputs from a :class:`Source`, runs
:func:`geo.checks.runner.run_checks` on the tile's :class:`~geo.checks.bundle.Bundle` and keeps the
findings the tile owns. Sources: :class:`FrameSource` (layers in memory, e.g. a GeoPackage read in
file mode; sent to every worker once), :class:`StoreSource` (PostGIS, bounding-box queries from each
worker), :class:`~geo.checks.parquet_source.ParquetSource` (GeoParquet files on shared storage, validated
file by file on the workers, then read per tile with bounding-box filters) or any object with the same
methods (``benchmarks/province.py`` generates its data per tile). A source with a ``prepare(client, rules,
say)`` method is prepared once the cluster is up and replaced by what it returns.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.checks.bundle import Bundle
from geo.checks.parquet_source import ParquetSource
from geo.checks.partition import (
    GLOBAL_LAYERS,
    LINE_FAMILY,
    M_PER_DEG,
    TILED_LAYERS,
    Tile,
    data_reach_m,
    degrees_for,
    finding_anchors,
    halo_m,
    in_tile,
    line_anchors,
    near_rows,
    plan_tiles,
    span_m,
    window_rows,
)
from geo.checks.ruleset import RuleSet, load_ruleset
from geo.checks.runner import FAMILIES, CheckResult, run_checks
from geo.constants import STORAGE_SRID
from geo.crs import geodesic_length

Box = tuple[float, float, float, float]


class Source(Protocol):
    """Where partitions read their layers from (EPSG:4490 frames with the stored columns)."""

    def extent(self) -> Box | None:
        """Lon/lat extent of the tiled layers (None without data)."""

    def reach(self, rules: RuleSet) -> tuple[float, float]:
        """Largest distance the data sets (m) and widest feature or enterprise (m)."""

    def whole(self, layer: str) -> gpd.GeoDataFrame:
        """Return a layer read whole (:data:`~geo.checks.partition.GLOBAL_LAYERS`)."""

    def window(self, layer: str, bbox: Box) -> gpd.GeoDataFrame:
        """Rows of ``layer`` meeting a lon/lat box."""

    def near(self, layer: str, lines: Sequence[Any], reach_m: float) -> gpd.GeoDataFrame:
        """Rows of ``layer`` within ``reach_m`` of any of ``lines`` (a superset is fine)."""


@dataclass
class FrameSource:
    """Layers held in memory (EPSG:4490), e.g. a bundle read from a GeoPackage."""

    frames: dict[str, gpd.GeoDataFrame]

    def extent(self) -> Box | None:
        """Lon/lat extent of the tiled layers."""
        bounds = [f.total_bounds for k, f in self.frames.items() if k in TILED_LAYERS and f is not None and len(f)]
        if not bounds:
            return None
        return (min(b[0] for b in bounds), min(b[1] for b in bounds), max(b[2] for b in bounds),
                max(b[3] for b in bounds))

    def reach(self, rules: RuleSet) -> tuple[float, float]:
        """Largest data distance and widest feature (m)."""
        return data_reach_m(self.frames, rules), span_m(self.frames)

    def _layer(self, layer: str) -> gpd.GeoDataFrame:
        frame = self.frames.get(layer)
        return frame if frame is not None else gpd.GeoDataFrame({"key": pd.Series(dtype=str)}, geometry=[],
                                                                 crs=STORAGE_SRID)

    def whole(self, layer: str) -> gpd.GeoDataFrame:
        """Return the layer as held."""
        return self._layer(layer)

    def window(self, layer: str, bbox: Box) -> gpd.GeoDataFrame:
        """Rows meeting the box, in the held order."""
        return window_rows(self._layer(layer), bbox)

    def near(self, layer: str, lines: Sequence[Any], reach_m: float) -> gpd.GeoDataFrame:
        """Rows within ``reach_m`` of the lines, in the held order."""
        frame = near_rows(self._layer(layer), lines, reach_m)
        return frame.iloc[np.argsort(frame.index.to_numpy(), kind="stable")] if len(frame) else frame


_ENGINES: dict[str, Any] = {}


@dataclass
class StoreSource:
    """The PostGIS store, by URL: each worker opens its own engine and reads its tiles with box queries."""

    url: str

    def _engine(self) -> Any:
        from geo import store

        if self.url not in _ENGINES:
            _ENGINES[self.url] = store.make_engine(self.url)
        return _ENGINES[self.url]

    def extent(self) -> Box | None:
        """Extent of the tiled layers (``ST_Extent``)."""
        from geo import store

        return store.layers_extent(self._engine(), TILED_LAYERS)

    def reach(self, rules: RuleSet) -> tuple[float, float]:
        """Largest declared safety distance or gas impact radius, and widest feature or enterprise (m)."""
        from geo import store

        esd, dp = store.data_distances(self._engine())
        coeff = float(rules.rules["HCA_GAS"].params.get("radius_coeff", 0.0)) if "HCA_GAS" in rules.rules else 0.0
        return max(esd, coeff * dp), store.widest_span_deg(self._engine(), TILED_LAYERS) * M_PER_DEG

    def whole(self, layer: str) -> gpd.GeoDataFrame:
        """Districts, or declared HCAs (identified ones are outputs of earlier runs)."""
        from geo import store

        if layer == "districts":
            return store.read_districts(self._engine())
        frame = store.read_layer(self._engine(), layer)
        if layer == "hcas" and "origin" in frame.columns:
            frame = frame[frame["origin"] != "identified"].reset_index(drop=True)
        return _by_id(frame)

    def window(self, layer: str, bbox: Box) -> gpd.GeoDataFrame:
        """Rows meeting the box (GiST), in id order."""
        from geo import store

        return _by_id(store.read_layer_window(self._engine(), layer, bbox))

    def near(self, layer: str, lines: Sequence[Any], reach_m: float) -> gpd.GeoDataFrame:
        """Rows within ``reach_m`` of the lines (``ST_DWithin`` in degrees covering the metres)."""
        from geo import store

        lat = max(abs(float(g.bounds[1])) for g in lines) if len(lines) else 0.0
        lat = max([lat] + [abs(float(g.bounds[3])) for g in lines])
        return store.read_layer_near_lines(self._engine(), layer, list(lines), degrees_for(reach_m, lat))


def _by_id(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "id" in frame.columns and len(frame):
        return frame.sort_values("id", kind="stable").reset_index(drop=True)
    return frame


@dataclass
class TileResult:
    """What one partition task returns."""

    tile: str
    findings: gpd.GeoDataFrame
    segments: gpd.GeoDataFrame | None
    buildings: int
    pipeline_km: float
    read: int
    seconds: float
    worker: str
    peak_rss_mb: float


@dataclass
class DaskRun:
    """A partitioned run: the merged result and what the run measured."""

    result: CheckResult
    tiles: list[TileResult] = field(default_factory=list)
    halo_m: float = 0.0
    wall_s: float = 0.0

    @property
    def peak_rss_mb(self) -> dict[str, float]:
        """Peak resident memory of each worker (MB), from the tasks it ran."""
        peak: dict[str, float] = {}
        for t in self.tiles:
            peak[t.worker] = max(peak.get(t.worker, 0.0), t.peak_rss_mb)
        return peak


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except ValueError:
        return "local"


def _keep(found: gpd.GeoDataFrame, frames: Mapping[str, gpd.GeoDataFrame], tile: Tile) -> gpd.GeoDataFrame:
    if not len(found):
        return found
    return found[in_tile(finding_anchors(found, frames), tile)]


def run_tile(tile: Tile, source: Source, globals_: Mapping[str, gpd.GeoDataFrame], rules: RuleSet,
             families: Sequence[str], halo: float, as_of: dt.date, dem: Any = None) -> TileResult:
    """Check one tile: read its work set, run the families, keep the findings it owns.

    Parameters
    ----------
    tile : Tile
        The partition.
    source : Source
        Where the layers are read from.
    globals_ : mapping of str to GeoDataFrame
        Layers every partition gets whole (districts, declared HCAs).
    rules : RuleSet
        Rules of the run.
    families : sequence of str
        Families to run.
    halo : float
        Halo in metres (:func:`geo.checks.partition.halo_m`).
    as_of : date
        Reference date.
    dem : DemGrid, optional
        Elevation grid for the 头顶库 flow path.

    Returns
    -------
    TileResult
    """
    t0 = time.perf_counter()
    parts, segments, read = [], None, 0
    frames = {layer: source.window(layer, tile.window(halo)) for layer in TILED_LAYERS}
    read += sum(len(f) for f in frames.values())
    buildings = int(in_tile(line_anchors(frames["buildings"]), tile).sum()) if len(frames["buildings"]) else 0
    tiled = [f for f in families if f != LINE_FAMILY]
    if tiled and read:
        bundle = Bundle({**frames, **{k: v.copy() for k, v in globals_.items()}}, metric_epsg=tile.epsg)
        # one thread per task: the cluster runs tasks side by side already
        found = run_checks(bundle, rules, families=tiled, as_of=as_of, dem=dem, threads=1).findings
        parts.append(_keep(found, bundle.frames, tile))
    km = 0.0
    if LINE_FAMILY in families and len(frames["pipelines"]):
        pipes = frames["pipelines"]
        own = pipes[in_tile(line_anchors(pipes), tile)]
        km = sum(geodesic_length(g) for g in own.geometry.values) / 1000.0
        if len(own):
            lines = list(own.geometry.values)
            near = {layer: source.near(layer, lines, halo) for layer in TILED_LAYERS if layer != "pipelines"}
            read += sum(len(f) for f in near.values())
            bundle = Bundle({**near, "pipelines": own, **{k: v.copy() for k, v in globals_.items()}},
                            metric_epsg=tile.epsg)
            res = run_checks(bundle, rules, families=[LINE_FAMILY], as_of=as_of, dem=dem, threads=1)
            # declared HCAs are global: their review findings follow their pipeline's owner, like the rest
            mine = set(own["key"].astype(str))
            parts.append(res.findings[res.findings["subject_key"].astype(str).isin(mine)])
            segments = res.hca_segments
            if segments is not None and "pipeline_key" in segments.columns:
                segments = segments[segments["pipeline_key"].astype(str).isin(mine)]
    nonempty = [p for p in parts if len(p)]
    findings = (gpd.GeoDataFrame(pd.concat(nonempty, ignore_index=True), crs=STORAGE_SRID) if nonempty
                else gpd.GeoDataFrame(geometry=[], crs=STORAGE_SRID))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux
    return TileResult(tile.name, findings, segments, buildings, km, read, time.perf_counter() - t0,
                      _worker_name(), rss)


def _families(rules: RuleSet, families: Sequence[str] | None, rule_codes: Sequence[str] | None) -> list[str]:
    wanted = list(families or FAMILIES)
    unknown = [f for f in wanted if f not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown check families {unknown}; known: {', '.join(FAMILIES)}")
    if rule_codes:
        missing = [c for c in rule_codes if c not in rules.rules]
        if missing:
            raise ValueError(f"unknown rule codes {missing}; known: {', '.join(rules.rules)}")
        wanted = [f for f in FAMILIES if any(rules[c].family == f for c in rule_codes)]
    return wanted


def _merge(tiles: list[TileResult], rules: RuleSet, wanted: list[str],
           rule_codes: Sequence[str] | None) -> CheckResult:
    nonempty = [t.findings for t in tiles if len(t.findings)]
    if nonempty:
        findings = gpd.GeoDataFrame(pd.concat(nonempty, ignore_index=True), crs=STORAGE_SRID)
        order = ["rule_code", "subject_key", "object_key", "verdict", "measured_m"]
        findings = findings.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)
    else:
        from geo.checks.findings import findings_frame

        findings = findings_frame([])
    segs = [t.segments for t in tiles if t.segments is not None and len(t.segments)]
    segments = None
    if LINE_FAMILY in wanted:
        empty = [t.segments for t in tiles if t.segments is not None]
        segments = (gpd.GeoDataFrame(pd.concat(segs, ignore_index=True), crs=STORAGE_SRID) if segs
                    else (empty[0] if empty else None))
    run_rules = [r.code for f in wanted for r in rules.family(f)]
    if rule_codes:
        findings = findings[findings["rule_code"].isin(rule_codes)].reset_index(drop=True)
        run_rules = list(rule_codes)
    return CheckResult(findings, segments, rules.version, run_rules)


def run_partitioned(
    source: Source,
    rules: RuleSet | None = None,
    *,
    tile_m: float = 20_000.0,
    families: Sequence[str] | None = None,
    rule_codes: Sequence[str] | None = None,
    as_of: dt.date | None = None,
    dem: Any = None,
    scheduler: str | None = None,
    workers: int = 2,
    processes: bool = True,
    progress: Callable[[str], object] | None = None,
) -> DaskRun:
    """Run the checks tile by tile on Dask and merge the findings the tiles own.

    Parameters
    ----------
    source : Source
        Where the layers are read from (:class:`FrameSource`, :class:`StoreSource`, …).
    rules : RuleSet, optional
        Rule set (default: ``geo/rules/checks.yaml``).
    tile_m : float
        Tile side in metres.
    families, rule_codes : sequence of str, optional
        As for :func:`geo.checks.runner.run_checks`.
    as_of : date, optional
        Reference date (default: today).
    dem : DemGrid, optional
        Elevation grid (sent to every task).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); default: a new LocalCluster.
    workers : int
        Workers of the LocalCluster (one thread each).
    processes : bool
        LocalCluster workers as processes (default) or threads of this process.
    progress : callable, optional
        Called with one line per finished partition.

    Returns
    -------
    DaskRun
        The merged :class:`~geo.checks.runner.CheckResult`, each tile's figures, the halo and the wall time.
    """
    from distributed import Client, LocalCluster, as_completed

    t0 = time.perf_counter()
    rules = rules or load_ruleset()
    wanted = _families(rules, families, rule_codes)
    say = progress or (lambda _m: None)
    when = as_of or dt.date.today()
    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                                                  dashboard_address=":0")
    client = Client(scheduler) if scheduler else Client(cluster)
    done: list[TileResult] = []
    halo = 0.0
    try:
        prepare = getattr(source, "prepare", None)
        if prepare is not None:  # e.g. GeoParquet: validate every file on the workers first
            source = prepare(client, rules, say)
        extent = source.extent()
        if extent is None:
            return DaskRun(_merge([], rules, wanted, rule_codes))
        data_reach, span = source.reach(rules)
        halo = halo_m(rules, wanted, data_reach=data_reach, span=span)
        tiles = plan_tiles(extent, tile_m)
        say(f"{len(tiles)} partitions of {tile_m / 1000:g} km, halo {halo:.0f} m")
        src = client.scatter(source, broadcast=True) if isinstance(source, FrameSource | ParquetSource) else source
        glob = client.scatter({layer: source.whole(layer) for layer in GLOBAL_LAYERS}, broadcast=True)
        token = uuid.uuid4().hex[:8]
        pending = as_completed([client.submit(run_tile, tile, src, glob, rules, wanted, halo, when, dem,
                                              key=f"riskmap-tile-{tile.name}-{token}") for tile in tiles])
        for future in pending:
            res = future.result()
            future.release()  # the client has the result: the worker need not keep it
            done.append(res)
            if res.read:
                say(f"[{len(done)}/{len(tiles)}] {res.tile}: {len(res.findings)} findings, {res.buildings} buildings, "
                    f"{res.pipeline_km:.1f} km, {res.seconds:.2f} s on {res.worker}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    done.sort(key=lambda r: r.tile)
    return DaskRun(_merge(done, rules, wanted, rule_codes), done, halo, time.perf_counter() - t0)
