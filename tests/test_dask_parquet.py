"""The Dask engine on GeoParquet: files validated on the workers, read per tile, findings equal the single process.

The data is the zone-straddling window of tests/test_dask_engine.py, written as ``DIR/<layer>/part_NNNN.parquet``
(small files, so a tile reads only some of them and natural keys are checked across files).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from geo.checks.dask_engine import run_partitioned
from geo.checks.parquet_source import ParquetSource, layer_files, read_parquet_dir, write_parquet_layers
from geo.checks.partition import rule_reach_m, zoned_reference
from geo.checks.ruleset import load_ruleset
from geo.checks.runner import run_checks
from geo.constants import STORAGE_SRID
from geo.errors import ImportValidationError
from tests.test_dask_engine import AS_OF, ZONE_EDGE, _rows, _shifted_city, _straddling_buildings

TILE_M = 10_000.0


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The window astride 103.5°E with buildings across tile edges, as GeoParquet files of 1,500 rows."""
    frames = _shifted_city(0.96, (103.3, 25.0, 103.75, 25.4))
    extra = _straddling_buildings(frames, TILE_M)
    extra["code"] = extra["key"]  # files carry the code; the straddlers are in the district they lie in
    districts = frames["districts"]
    extra["adcode"] = [str(districts.loc[districts.contains(g.centroid), "adcode"].iloc[0]) for g in extra.geometry]
    frames["buildings"] = gpd.GeoDataFrame(pd.concat([frames["buildings"], extra], ignore_index=True),
                                           crs=STORAGE_SRID)
    out = tmp_path_factory.mktemp("parquet") / "city"
    written = write_parquet_layers(frames, out, rows_per_file=1500)
    assert len(written["buildings"]) >= 5
    return out


def test_parquet_source_on_two_workers_equals_single_process(parquet_dir: Path) -> None:
    rules = load_ruleset()
    bundle = read_parquet_dir(parquet_dir)
    reference = zoned_reference(bundle.frames, rules, lambda b: run_checks(b, rules, as_of=AS_OF))
    lines: list[str] = []
    run = run_partitioned(ParquetSource(str(parquet_dir)), rules, tile_m=TILE_M, as_of=AS_OF, workers=2,
                          progress=lines.append)
    found = run.result.findings
    assert len(reference) > 100
    pd.testing.assert_frame_equal(_rows(found), _rows(reference))
    assert any(line.startswith("validating ") and "GeoParquet files" in line for line in lines)
    # a pipeline crossing the zone boundary has its HCA findings; pairs across tile edges are found
    pipes = bundle["pipelines"]
    crossing = pipes[(pipes.bounds["minx"] < ZONE_EDGE) & (pipes.bounds["maxx"] > ZONE_EDGE)]
    assert set(found.loc[found["rule_code"].isin(["LOC_CLASS", "HCA_GAS", "HCA_OIL"]), "subject_key"]) \
        & set(crossing["key"])
    straddlers = {k for k in bundle["buildings"]["key"] if str(k).startswith("BX")}
    assert len(straddlers) >= 3 and set(found.loc[found["rule_code"] == "PIPE_OCCUPY", "object_key"]) >= straddlers
    # most tiles read their windows only (a tile owning a pipeline also reads its corridor)
    total = sum(len(f) for f in bundle.frames.values())
    assert len(run.tiles) > 4 and sum(t.read < total / 2 for t in run.tiles) > len(run.tiles) / 2
    assert run.halo_m >= rule_reach_m(rules)


def _break(parquet_dir: Path, tmp_path: Path) -> tuple[Path, str, str]:
    """A copy with a bad value in one buildings file and a key repeated in another; their names."""
    bad = tmp_path / "bad"
    shutil.copytree(parquet_dir, bad)
    files = layer_files(bad)["buildings"]
    first, second = (str(p.relative_to(bad)) for p in files[:2])
    table = gpd.read_parquet(files[0])
    table["floors"] = table["floors"].astype(str)  # numbers as text are read as numbers; one is not a number
    table.loc[4, "floors"] = "很多"
    table.to_parquet(files[0], write_covering_bbox=True)
    other = gpd.read_parquet(files[1])
    other.loc[0, "code"] = table.loc[7, "code"]
    other.to_parquet(files[1], write_covering_bbox=True)
    assert pq.read_metadata(files[0]).num_rows == len(table)
    return bad, first, second


def test_bad_parquet_file_names_file_row_and_field_and_nothing_is_written(parquet_dir: Path,
                                                                          tmp_path: Path) -> None:
    from riskmap.cli import main

    bad, first, second = _break(parquet_dir, tmp_path)
    out = tmp_path / "findings.gpkg"
    result = CliRunner().invoke(main, ["check", "--engine", "dask", "--input", str(bad), "--workers", "2",
                                       "--tile-km", "10", "--output", str(out), "--lang", "en"])
    assert result.exit_code != 0
    assert f"{first}: 要素5 / feature 5: " in result.stderr, result.stderr
    assert "duplicate key" in result.stderr and first in result.stderr and second in result.stderr
    assert "no check was run" in result.output
    assert not out.exists()
    assert "partitions of" not in result.output  # stopped before any tile
    # the single process refuses the same files
    with pytest.raises(ImportValidationError) as caught:
        read_parquet_dir(bad)
    assert any(i.file == first and i.row == "要素5 / feature 5" for i in caught.value.issues)


def test_to_parquet_writes_the_layout_check_reads(parquet_dir: Path, tmp_path: Path) -> None:
    from geo.checks.sources import bundle_to_file
    from riskmap.cli import main

    gpkg = bundle_to_file(read_parquet_dir(parquet_dir), tmp_path / "city.gpkg")
    out = tmp_path / "again"
    result = CliRunner().invoke(main, ["data", "to-parquet", str(out), "--input", str(gpkg),
                                       "--rows-per-file", "2000"])
    assert result.exit_code == 0, result.output
    assert "buildings: " in result.output and not (tmp_path / ".again.partial").exists()
    assert sorted(p.name for p in (out / "buildings").iterdir())[0] == "part_0000.parquet"
    assert b'"covering"' in (pq.read_schema(out / "buildings" / "part_0000.parquet").metadata or {})[b"geo"]
    first, second = read_parquet_dir(parquet_dir), read_parquet_dir(out)
    for layer in ("buildings", "pipelines", "enterprises"):
        assert sorted(first[layer]["key"]) == sorted(second[layer]["key"])
    again = CliRunner().invoke(main, ["data", "to-parquet", str(out), "--input", str(gpkg)])
    assert again.exit_code != 0 and "already exists" in again.output
