"""The bulk import (``COPY`` + one merge) stores exactly what the row-by-row upsert stored.

Two copies of the migrated store import the same generated Kunming demo layers, one through the bulk
path (``store.upsert_rows``, the importer's) and one through the reference that writes one statement per
row (``_upsert_rows_each`` below, the importer's write before the bulk path, and the hazards' import steps one
hazard at a time, as before). Then both
import changed rows of every layer again (updates, with history). The layers, their ``row_versions``, the
hazards' steps and the audit rows must be the same in both (ids included; times compared by their pattern,
since the two imports ran at different moments). Then a file whose last row is invalid, and one whose last
row the database refuses, must leave the bulk store exactly as it was, naming file, row and field.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from geoalchemy2.shape import from_shape
from sqlalchemy import Connection, Engine, func, text
from sqlalchemy.dialects.postgresql import insert

from geo import embedded, store
from geo.constants import STORAGE_SRID
from geo.demo import generate_demo
from geo.errors import ImportValidationError
from geo.importer import import_frame
from layers.demo_load import DEMO_LAYERS

_names = itertools.count()
#: Columns whose values are times of the import itself (they differ between the two stores).
_TIMES = {"created_at", "updated_at", "valid_from", "valid_to", "at", "finished_at", "imported_at"}


@pytest.fixture
def pair(pg_cluster: embedded.Cluster, template_db: str) -> Iterator[tuple[Engine, Engine]]:
    """Two fresh copies of the migrated store with the districts: (bulk, row by row)."""
    names = [f"t_bulk_{os.getpid()}_{next(_names)}_{side}" for side in ("a", "b")]
    engines = []
    for name in names:
        embedded.drop_database(pg_cluster, name)
        embedded.create_database(pg_cluster, name, template=template_db)
        engines.append(store.make_engine(pg_cluster.url(name)))
    try:
        yield engines[0], engines[1]
    finally:
        for eng, name in zip(engines, names, strict=True):
            eng.dispose()
            embedded.drop_database(pg_cluster, name)


def _upsert_rows_each(conn: Connection, layer: str, records: Any, key: str) -> int:
    """The layers' import write as it was before the bulk path: one ``INSERT … ON CONFLICT`` per row.

    Geometry values (Shapely, EPSG:4490) are bound as WKB; rows whose ``key`` exists are updated.
    """
    tbl = store.table(layer)
    rows = [{c: from_shape(v, srid=STORAGE_SRID) if c in ("geom", "corridor") and v is not None else v
             for c, v in r.items()} for r in records]
    if not rows:
        return 0
    stmt = insert(tbl)
    update = {c: stmt.excluded[c] for c in rows[0] if c not in (key, "id", "created_at")}
    if "updated_at" in tbl.columns:
        update["updated_at"] = func.now()
    stmt = stmt.on_conflict_do_update(index_elements=[key], set_=update)
    for start in range(0, len(rows), 2000):
        conn.execute(stmt, rows[start : start + 2000])
    return len(rows)


def _import_steps_each(conn: Connection, *, actor: str, role: str | None, batch_id: int | None) -> int:
    """The hazards' import steps as they were written before the bulk path: one hazard at a time."""
    rows = conn.execute(text("SELECT id, state, severity, coalesce(supervision, 'none') <> 'none' FROM hidden_hazards "
                             "WHERE version = 0 ORDER BY id FOR UPDATE")).all()
    for hid, state, severity, sup in rows:
        store.insert_step(conn, hazard_id=int(hid), version=1, action="import", from_state=None, to_state=str(state),
                          severity=str(severity), supervised=bool(sup), role=role, actor=actor, batch_id=batch_id)
        conn.execute(text("UPDATE hidden_hazards SET version = 1 WHERE id = :id"), {"id": hid})
    return len(rows)


def _changed(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every other row of ``frame`` with a changed name (or, without a name, a moved geometry)."""
    out = frame.iloc[::2].copy()
    if "name" in out.columns:
        out["name"] = out["name"].fillna("") + "（改）"
    else:
        out["geometry"] = out.geometry.translate(1e-5, 0)
    return out


def _import_all(engine: Engine, layers: dict[str, gpd.GeoDataFrame]) -> None:
    for name in DEMO_LAYERS:
        import_frame(engine, name, layers[name], source_name=f"demo_{name}.gpkg", actor="tester")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k not in _TIMES and k != "sha256"}
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    return value


def _table(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` with the times replaced by their order (equal times equal, later times larger)."""
    result = conn.execute(text(sql))
    cols = list(result.keys())
    rows = [dict(r._mapping) for r in result]
    times = sorted({r[c] for r in rows for c in cols if c in _TIMES and r[c] is not None})
    rank = {t: i for i, t in enumerate(times)}
    return [tuple(rank.get(r[c]) if c in _TIMES and r[c] is not None else _plain(r[c]) for c in cols)
            for r in rows]


def _contents(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Everything an import writes: the layers, their history, the hazards' steps, batches and audit rows."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name in DEMO_LAYERS:
            cols = [c.name for c in store.table(name).columns if c.name not in ("geom", "corridor")]
            select = ", ".join(f'"{c}"' for c in cols)
            out[name] = _table(conn, f"SELECT {select}, ST_AsEWKB(geom) AS g FROM {name} ORDER BY id")
        out["row_versions"] = _table(conn, "SELECT table_name, row_key, adcode, adcodes, credit_code, valid_from, "
                                           "valid_to, data, ST_AsEWKB(geom) AS g, changed_by, change FROM row_versions "
                                           "ORDER BY table_name, row_key, valid_from, change")
        out["hazard_steps"] = _table(conn, "SELECT * FROM hazard_steps ORDER BY id")
        out["import_batches"] = _table(conn, "SELECT id, layer, file_name, source_crs, rows_total, rows_imported, "
                                             "rows_rejected, actor FROM import_batches ORDER BY id")
        out["audit"] = [(r[0], r[1], r[2], r[3], json.dumps(_plain(r[4]), sort_keys=True)) for r in conn.execute(
            text("SELECT actor, action, target, adcode, details FROM audit_log ORDER BY id"))]
    return out


def test_bulk_import_stores_what_row_by_row_stored(pair: tuple[Engine, Engine],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    bulk, each = pair
    layers = generate_demo(store.read_districts(bulk)[["adcode", "name", "geometry"]])
    changed = {name: _changed(layers[name]) for name in DEMO_LAYERS}
    _import_all(bulk, layers)
    _import_all(bulk, changed)
    with monkeypatch.context() as patch:
        patch.setattr(store, "upsert_rows", _upsert_rows_each)
        patch.setattr(store, "record_import_steps", _import_steps_each)
        _import_all(each, layers)
        _import_all(each, changed)
    ours, reference = _contents(bulk), _contents(each)
    assert sum(len(ours[n]) for n in DEMO_LAYERS) > 1000, "the demo has rows in its layers"
    assert sum(1 for v in ours["row_versions"] if v[-1] == "update") > 100, "the second import changed rows"
    assert len(ours["hazard_steps"]) == len(layers["hidden_hazards"]) > 0
    for name, rows in reference.items():
        assert len(ours[name]) == len(rows), name
        differ = [(a, b) for a, b in zip(ours[name], rows, strict=True) if a != b]
        assert not differ, f"{name}: {len(differ)} rows differ, e.g. {differ[0]}"


def _unchanged(engine: Engine, run: Any) -> Exception:
    before = _contents(engine)
    with pytest.raises(ImportValidationError) as caught:
        run()
    assert _contents(engine) == before, "a failed import left the store as it was"
    return caught.value


def test_an_error_in_the_last_row_writes_nothing(pair: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    engine, _ = pair
    layers = generate_demo(store.read_districts(engine)[["adcode", "name", "geometry"]])
    _import_all(engine, layers)
    targets = _changed(layers["protection_targets"])
    bad = targets.copy()
    bad.loc[bad.index[-1], "target_type"] = "不存在的类型"
    error = _unchanged(engine, lambda: import_frame(engine, "protection_targets", bad, source_name="bad.gpkg"))
    issues = error.issues  # type: ignore[attr-defined]
    assert len(issues) == 1 and issues[0].file == "bad.gpkg"
    assert f"feature {len(bad)}" in str(issues[0].row) and "target_type" in issues[0].field  # the last feature

    real = store.upsert_rows

    def refused_last(conn: Connection, layer: str, records: Any, key: str) -> int:
        rows = list(records)
        rows[-1] = rows[-1] | {"adcode": "990000"}  # no such district: the database refuses the last row
        return real(conn, layer, rows, key)

    monkeypatch.setattr(store, "upsert_rows", refused_last)
    error = _unchanged(engine, lambda: import_frame(engine, "protection_targets", targets, source_name="last.gpkg"))
    assert "数据库拒绝写入" in str(error) and "protection_targets" in str(error)
