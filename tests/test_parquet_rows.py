"""The typed read of validated GeoParquet files: every tile's frames equal the validated frames, dtypes included.

The data is the benchmark city at 1/64 (every layer has rows), written in files of 2,000 rows. Each tile window
read by :class:`ParquetSource` is compared with the same window of the frames the single process validates
(:func:`read_parquet_dir`), through both ways a worker reads a typed file (the kept whole file, and row groups
by ``bbox`` when the file is larger than its budget) and through the full conversion of a file whose typed
read would differ; the Dask run on the row-group path finds what the single process finds.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from benchmarks.citygen import generate_city
from geo.checks.dask_engine import run_partitioned
from geo.checks.parquet_source import ParquetSource, layer_files, read_parquet_dir, write_parquet_layers
from geo.checks.partition import TILED_LAYERS, halo_m, near_rows, plan_tiles, window_rows, zoned_reference
from geo.checks.ruleset import load_ruleset
from geo.checks.runner import FAMILIES, run_checks
from geo.errors import ReadError
from geo.layer_specs import layer_spec
from tests.test_dask_engine import AS_OF, _rows

TILE_M = 8_000.0


@pytest.fixture(scope="module")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 1/64 benchmark city as DIR/<layer>/part_NNNN.parquet, 2,000 rows a file."""
    out = tmp_path_factory.mktemp("rows") / "city"
    written = write_parquet_layers(generate_city(seed=7, scale=1 / 64).frames, out, rows_per_file=2000)
    assert len(written["buildings"]) >= 4 and set(TILED_LAYERS) <= set(written)
    return out


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """A real Dask client on one in-process worker (validation tasks run there)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        yield c


def _same(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame, where: str) -> None:
    """Columns, order, dtypes and values equal; geometry equal to the byte (WKB)."""
    got, want = got.reset_index(drop=True), want.reset_index(drop=True)
    assert list(got.columns) == list(want.columns), where
    assert got.crs == want.crs, where
    pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")),
                                  pd.DataFrame(want.drop(columns="geometry")), check_exact=True, obj=where)
    assert shapely.to_wkb(np.asarray(got.geometry.values, dtype=object)).tolist() == \
        shapely.to_wkb(np.asarray(want.geometry.values, dtype=object)).tolist(), where


def _windows_equal(src: ParquetSource, validated: dict[str, gpd.GeoDataFrame]) -> int:
    """Compare every tile window of every tiled layer; return how many rows were compared."""
    rules = load_ruleset()
    reach, span = src.reach(rules)
    halo = halo_m(rules, list(FAMILIES), data_reach=reach, span=span)
    extent = src.extent()
    assert extent is not None
    compared = 0
    for tile in plan_tiles(extent, TILE_M):
        box = tile.window(halo)
        for layer in TILED_LAYERS:
            got, want = src.window(layer, box), window_rows(validated[layer], box)
            if len(want):
                _same(got, want, f"{tile.name}/{layer}")
                compared += len(want)
            else:
                assert len(got) == 0 and "key" in got.columns
    return compared


def test_tile_frames_equal_validated_frames_both_ways(city_dir: Path, client: object) -> None:
    rules = load_ruleset()
    validated = read_parquet_dir(city_dir).frames
    kept = ParquetSource(str(city_dir)).prepare(client, rules)
    entries = [e for layer in TILED_LAYERS for e in kept.files.get(layer, [])]
    assert entries and all(e.typed for e in entries)  # what to-parquet writes is read by the typed read
    assert {layer for layer in TILED_LAYERS if len(validated[layer])} == set(kept.files)
    assert _windows_equal(kept, validated) > 2 * len(validated["buildings"])  # halos overlap
    # a budget below every file: each tile reads row groups by bbox, and gets the same frames
    by_box = ParquetSource(str(city_dir), cache_rows=100).prepare(client, rules)
    assert _windows_equal(by_box, validated) > 2 * len(validated["buildings"])
    lines = list(validated["pipelines"].geometry.values[:2])
    for layer in TILED_LAYERS:  # and the lines' corridors read the same rows
        want = near_rows(validated[layer], lines, 500.0)
        assert layer != "buildings" or len(want) > 100
        for src in (kept, by_box):
            got = src.near(layer, lines, 500.0)
            if len(want):
                _same(got, want, f"near/{layer}")
            else:
                assert len(got) == 0


def test_a_file_the_typed_read_would_change_is_converted_and_a_changed_file_refused(
        city_dir: Path, client: object, tmp_path: Path) -> None:
    copy = tmp_path / "city"
    shutil.copytree(city_dir, copy)
    first = layer_files(copy)["buildings"][0]
    frame = gpd.read_parquet(first)
    choices = layer_spec("buildings").field("use").choices
    assert choices
    labels = {code: names[0] for code, names in choices.items()}
    frame["use"] = frame["use"].map(labels)  # 住宅 for residential: valid, but converted by validation
    frame.to_parquet(first, write_covering_bbox=True, row_group_size=500)
    rules = load_ruleset()
    src = ParquetSource(str(copy)).prepare(client, rules)
    typed = {e.name: e.typed for e in src.files["buildings"]}
    assert typed.pop(str(first.relative_to(copy))) is False and all(typed.values())
    validated = read_parquet_dir(copy).frames
    assert set(validated["buildings"]["use"]) <= set(labels)  # codes again after validation
    assert _windows_equal(src, validated) > len(validated["buildings"])
    # a typed file changed after validation is refused, not read
    second = layer_files(copy)["buildings"][1]
    gpd.read_parquet(second).iloc[:10].to_parquet(second, write_covering_bbox=True)
    box = tuple(float(v) for v in validated["buildings"].total_bounds)
    with pytest.raises(ReadError, match="changed after validation"):
        src.window("buildings", box)  # type: ignore[arg-type]


def test_dask_run_reading_row_groups_equals_single_process(city_dir: Path) -> None:
    rules = load_ruleset()
    bundle = read_parquet_dir(city_dir)
    reference = zoned_reference(bundle.frames, rules, lambda b: run_checks(b, rules, as_of=AS_OF))
    run = run_partitioned(ParquetSource(str(city_dir), cache_rows=100), rules, tile_m=TILE_M, as_of=AS_OF,
                          workers=2)
    assert len(reference) > 100 and len(run.tiles) > 4
    pd.testing.assert_frame_equal(_rows(run.result.findings), _rows(reference))
