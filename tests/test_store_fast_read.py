"""The store's reads build the same GeoDataFrames as ``geopandas.read_postgis`` (issue #16: read faster).

``_read_gdf`` takes rows over psycopg's binary protocol and decodes geometry in one vectorised call;
the reference here is ``read_postgis`` on the same query. Columns, dtypes, values, geometry and CRS
must all be equal, for every layer of the demo (time stamps, arrays of districts, a second geometry
column, empty names), for findings, and for an empty result. Row-level security through the fast
read is covered by ``tests/test_store.py`` (a district officer's ``read_finding``).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from geo import store
from geo.checks.bundle import LAYERS
from geo.constants import STORAGE_SRID
from geo.models import Base

pytestmark = pytest.mark.postgis


def _reference(engine: Engine, sql: str, params: dict[str, object]) -> gpd.GeoDataFrame:
    with engine.connect() as conn:
        gdf = gpd.read_postgis(text(sql), conn, geom_col="geom", params=params)
    return gdf.rename_geometry("geometry").set_crs(STORAGE_SRID, allow_override=True)


def _assert_same(ours: gpd.GeoDataFrame, theirs: gpd.GeoDataFrame) -> None:
    assert list(ours.columns) == list(theirs.columns)
    assert ours.crs == theirs.crs and ours.geometry.name == theirs.geometry.name == "geometry"
    pd.testing.assert_frame_equal(pd.DataFrame(ours.drop(columns="geometry")),
                                  pd.DataFrame(theirs.drop(columns="geometry")))
    assert list(ours.geometry.isna()) == list(theirs.geometry.isna())
    present = ~theirs.geometry.isna()
    assert ours.geometry[present].geom_equals_exact(theirs.geometry[present], 0).all()


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_reads_as_read_postgis_reads_it(demo_db: str, layer: str) -> None:
    engine = store.make_engine(demo_db)
    try:
        tbl = store.table(layer) if layer != "districts" else Base.metadata.tables["districts"]
        cols = ", ".join(f'"{c.name}"' for c in tbl.columns) if layer != "districts" else (
            "adcode, name, level, parent_adcode, geom")  # what read_districts selects
        order = "adcode" if layer == "districts" else "id"
        sql = f"SELECT {cols} FROM {tbl.name} ORDER BY {order}"
        theirs = _reference(engine, sql, {})
        ours = store.read_districts(engine) if layer == "districts" else store.read_layer(engine, layer)
        ours = ours.sort_values(order, ignore_index=True)
        assert len(theirs) > 0, f"the demo has no {layer}"
        _assert_same(ours, theirs.sort_values(order, ignore_index=True))
        empty = f"SELECT {cols} FROM {tbl.name} WHERE {order} IS NULL"
        _assert_same(store.layers._read_gdf(engine, empty, {}), _reference(engine, empty, {}))
    finally:
        engine.dispose()


def test_findings_and_a_filtered_read_match(demo_db: str) -> None:
    engine = store.make_engine(demo_db)
    try:
        tbl = Base.metadata.tables["check_findings"]
        cols = ", ".join(f'"{c.name}"' for c in tbl.columns)
        sql = f"SELECT {cols} FROM check_findings WHERE adcode = :adcode OR rule_code LIKE '%%OCC%%' ORDER BY id"
        theirs = _reference(engine, sql, {"adcode": "530181"})
        assert len(theirs) > 0
        _assert_same(store.layers._read_gdf(engine, sql, {"adcode": "530181"}), theirs)
        pipes = store.read_layer(engine, "pipelines", adcode="530181")
        assert len(pipes) and all("530181" in codes for codes in pipes["adcodes"])
    finally:
        engine.dispose()

