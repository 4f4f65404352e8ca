"""The synthetic province as GeoParquet: it passes the import's validation and checks as generated.

A 2 × 2-cell piece of ``benchmarks/province.py`` from 103.4°E, astride 103.5°E (the boundary of the Gauss-Krüger zones
CM 102° and CM 105°, and a county edge) and 24.95°N (another county edge), at a fifth of the density,
is written as ``DIR/<layer>/*.parquet`` and run on the Dask engine as ``riskmap check --engine dask
--input DIR`` runs it (:class:`~geo.checks.parquet_source.ParquetSource`: every file validated with the
import's rules on the workers, then read per tile). Its findings equal those of the same piece generated
lazily inside the tasks, and those of one process reading the files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from benchmarks.province import Province, ProvinceSource, districts, write_parquet
from geo.checks.dask_engine import run_partitioned
from geo.checks.parquet_source import ParquetSource, layer_files, read_parquet_dir
from geo.checks.partition import zoned_reference
from geo.checks.ruleset import load_ruleset
from geo.checks.runner import run_checks
from geo.errors import ImportValidationError
from tests.test_dask_engine import AS_OF, ZONE_EDGE, _rows

PIECE = Province(west=103.4, south=24.75, cols=2, rows=2, density=0.2)
TILE_M = 12_000.0


@pytest.fixture(scope="module")
def piece_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The piece written as GeoParquet (one file per cell and layer, counties and enterprises one file each)."""
    out = tmp_path_factory.mktemp("province") / "piece"
    rows = write_parquet(PIECE, out)
    assert rows["buildings"] == PIECE.buildings and rows["districts"] == 4
    return out


def test_piece_has_four_counties_across_the_zone_edge(piece_dir: Path) -> None:
    counties = districts(PIECE)
    assert sorted(counties["adcode"]) == ["507041", "507051", "508041", "508051"]
    b = counties.bounds
    assert set(b["minx"].round(6)) | set(b["maxx"].round(6)) >= {ZONE_EDGE}
    # the counties cover every generated feature, lines included, and each feature meets its own county
    frames = ProvinceSource(PIECE).frames()
    cover = counties.union_all()
    for layer in ("buildings", "pipelines", "infrastructure", "protection_targets", "installations"):
        assert frames[layer].within(cover).all(), layer
    own = frames["buildings"].merge(counties[["adcode", "geometry"]], on="adcode", suffixes=("", "_county"))
    assert len(own) == len(frames["buildings"])
    assert gpd.GeoSeries(own["geometry"]).intersects(gpd.GeoSeries(own["geometry_county"])).all()
    assert frames["buildings"]["adcode"].nunique() == 4
    assert {c for codes in frames["pipelines"]["adcodes"] for c in codes} == set(counties["adcode"])
    with pytest.raises(FileExistsError):
        write_parquet(PIECE, piece_dir)


def test_province_parquet_validates_and_finds_what_the_generator_finds(piece_dir: Path) -> None:
    rules = load_ruleset()
    lines: list[str] = []
    on_files = run_partitioned(ParquetSource(str(piece_dir)), rules, tile_m=TILE_M, as_of=AS_OF, workers=2,
                               progress=lines.append)
    assert any(line.startswith("validating ") for line in lines)  # the workers validated every file first
    generated = run_partitioned(ProvinceSource(PIECE), rules, tile_m=TILE_M, as_of=AS_OF, workers=2)
    bundle = read_parquet_dir(piece_dir)  # one process, the import's rules: raises on any invalid row
    single = zoned_reference(bundle.frames, rules, lambda b: run_checks(b, rules, as_of=AS_OF))
    found = on_files.result.findings
    assert len(single) > 50 and {"PIPE_OCCUPY", "LOC_CLASS"} <= set(single["rule_code"])
    pd.testing.assert_frame_equal(_rows(found), _rows(generated.result.findings))
    pd.testing.assert_frame_equal(_rows(found), _rows(single))
    assert found["adcode"].nunique() >= 2
    # pipelines crossing the zone boundary (two here) are classed along their whole length, once
    pipes = bundle["pipelines"]
    crossing = set(pipes.loc[(pipes.bounds["minx"] < ZONE_EDGE) & (pipes.bounds["maxx"] > ZONE_EDGE), "key"])
    assert crossing & set(found.loc[found["rule_code"] == "LOC_CLASS", "subject_key"])
    assert sum(t.buildings for t in on_files.tiles) == len(bundle["buildings"]) == PIECE.buildings


def test_a_feature_coded_to_another_county_fails_validation(piece_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(piece_dir, bad)
    path = layer_files(bad)["buildings"][0]
    frame = gpd.read_parquet(path)
    far = next(c for c in districts(PIECE)["adcode"] if c[1:3] != frame.loc[3, "adcode"][1:3]
               and c[3:5] != frame.loc[3, "adcode"][3:5])
    frame.loc[3, "adcode"] = far  # the diagonal county: kilometres away
    frame.to_parquet(path, write_covering_bbox=True, index=False)
    with pytest.raises(ImportValidationError) as caught:
        read_parquet_dir(bad)
    name = str(path.relative_to(bad))
    assert [(i.file, i.row) for i in caught.value.issues] == [(name, "要素4 / feature 4")]
    assert f"outside its stated district {far}" in caught.value.issues[0].en
