"""Imports at the same time, and imports by a district officer, against a real PostGIS.

1. Two imports into the same layer and district at once serialize (one transaction-scoped
   lock per layer): each stored row is entirely one file's row, their writes never overlap.
2. When one of two concurrent imports fails inside the database after writing rows, it
   leaves nothing behind and the other one is complete.
3. A district officer (riskmap_app scoped to 安宁市) cannot import another district's rows or
   the district boundaries: refused before writing, naming file, row and field.

Concurrency is made real, not hoped for: both threads start at a barrier, and a probe
wrapped around ``store.lock_layer``/``store.upsert_rows`` makes the first writer pause in
the middle of its upsert until the other import has reached its own write. Without the
layer lock the two transactions then interleave (and with keys in opposite orders deadlock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import Connection, Engine, text

from geo import store
from geo.errors import ImportValidationError
from geo.importer import ImportReport, check_file, import_file
from geo.store import Scope, scoped
from geo.validate import FILE_ROW
from tests.clients import session_for
from tests.import_files import credit_code, write_xlsx

pytestmark = pytest.mark.postgis

ANNING, WUHUA = "530181", "530102"
OFFICER = Scope(all_districts=False, adcode=ANNING, actor="anning")
LEADER = Scope(all_districts=True, actor="leader")
DISTRICTS = Path(__file__).resolve().parents[1] / "data" / "kunming_districts.geojson"
#: Points in 五华区, about 16 km from 安宁市.
WUHUA_POINTS = [(102.70, 25.08), (102.71, 25.07)]
#: Columns compared between a stored enterprise and a file row (every attribute, the geometry, the batch).
FIELDS = ("credit_code", "name", "adcode", "industry", "address", "mhs_grade", "risk_level", "external_distance_m",
          "installation_status", "has_explosives", "principal", "phone", "lon", "lat", "batch_id")


# --------------------------------------------------------------------------- files


def enterprise(serial: int, variant: str) -> dict[str, Any]:
    """Row ``serial`` of file ``variant`` ("A" or "B"): same key, every other value different."""
    a = variant == "A"
    return {
        "credit_code": credit_code(serial),
        "name": f"{'甲' if a else '乙'}化工{serial}号有限公司",
        "adcode": ANNING,
        "industry": "hazchem_production" if a else "gas_station",
        "address": "草铺街道" if a else "连然街道",
        "mhs_grade": 1 if a else 3,
        "risk_level": "major" if a else "low",
        "external_distance_m": 100.0 + serial if a else 900.0 + serial,
        "installation_status": "in_service" if a else "new",
        "has_explosives": not a,
        "principal": "张三" if a else "李四",
        "phone": f"0871-1{serial:07d}" if a else f"0871-2{serial:07d}",
        # a 10 x 12 grid well inside 安宁市, B shifted by about 50 m
        "lon": round(102.44 + (serial % 10) * 0.002 + (0.0 if a else 0.0005), 6),
        "lat": round(24.91 + (serial // 10) * 0.002 + (0.0 if a else 0.0005), 6),
    }


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    frame = pd.DataFrame(rows)
    frame["has_explosives"] = frame["has_explosives"].map({True: "是", False: "否"})
    frame.to_csv(path, index=False, encoding="utf-8")
    return path


def officer_row(i: int, adcode: str = ANNING, point: tuple[float, float] | None = None, **changes: Any) -> dict:
    """An enterprise row with the Chinese template headers (the adcode column is "行政区划代码*")."""
    lon, lat = point or (102.44 + i * 0.003, 24.915)
    row = {"统一社会信用代码*": credit_code(500 + i, adcode), "企业名称*": f"测试企业{i}", "行政区划代码*": adcode,
           "行业*": "危险化学品储存", "风险等级*": "一般风险", "经度(°)": lon, "纬度(°)": lat}
    row.update(changes)
    return row


# --------------------------------------------------------------------------- database helpers


@pytest.fixture
def app(engine: Engine, app_engine: Engine) -> Engine:
    """An engine connecting as the application role, applying the thread's scope (row-level security).

    The accounts and sessions of the tests' scopes are made first, so that row counts taken before an
    import are not changed by them.
    """
    for scope in (OFFICER, LEADER):
        session_for(engine, scope)
    return app_engine


def query(engine: Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def stored_enterprises(engine: Engine) -> dict[str, dict[str, Any]]:
    rows = query(engine, "SELECT key, credit_code, name, adcode, industry, address, mhs_grade, risk_level, "
                         "external_distance_m, installation_status, has_explosives, principal, phone, "
                         "ST_X(geom) AS lon, ST_Y(geom) AS lat, batch_id FROM enterprises")
    return {r.pop("key"): r for r in rows}


def origin(stored: dict[str, Any], candidates: dict[str, dict[str, Any]]) -> str | None:
    """Name of the candidate (file) whose row ``stored`` equals in every field, or None for a mixture."""
    def same(a: Any, b: Any) -> bool:
        return abs(a - b) < 1e-9 if isinstance(a, float) and isinstance(b, float) else a == b

    found = [name for name, row in candidates.items() if all(same(stored[f], row[f]) for f in FIELDS)]
    assert len(found) <= 1
    return found[0] if found else None


def run_together(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run each job in its own thread (named after its key), all released at once by a barrier.

    Returns each job's result, or the exception it raised.
    """
    barrier = threading.Barrier(len(jobs))
    results: dict[str, Any] = {}

    def run(name: str, job: Callable[[], Any]) -> None:
        barrier.wait(timeout=60)
        try:
            results[name] = job()
        except Exception as exc:
            results[name] = exc

    threads = [threading.Thread(target=run, args=(name, job), name=name) for name, job in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
        assert not t.is_alive(), f"import thread {t.name} hung"
    return results


def officer_import(app: Engine, path: Path, scope: Scope = OFFICER) -> Callable[[], ImportReport]:
    def job() -> ImportReport:
        with scoped(scope):  # each thread (each request) has its own scope
            return import_file(app, "enterprises", path, actor=f"officer-{threading.current_thread().name}")
    return job


class WriteProbe:
    """Wraps ``store.lock_layer`` and ``store.upsert_rows`` to force two imports to meet.

    Each upsert is split in two halves; after the first half the writer waits until the other
    import has reached its write (its lock request, or its upsert when there is no lock), then
    a moment more, before writing the second half. It records each thread's upsert interval and
    how many of its rows were visible in its own transaction after the first half. ``poison``
    names a thread whose second half gets a row the database refuses (a negative distance,
    which validation would have caught, so it can only be injected here).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, threads: tuple[str, ...], poison: str | None = None):
        self.arrived = {name: threading.Event() for name in threads}
        self.intervals: dict[str, tuple[float, float]] = {}
        self.written_midway: dict[str, int] = {}
        self.waited_ok: dict[str, bool] = {}
        self.poison = poison
        real_lock, real_upsert = store.lock_layer, store.upsert_rows

        def lock_layer(conn: Connection, layer: str) -> None:
            self.arrived[threading.current_thread().name].set()
            real_lock(conn, layer)

        def upsert_rows(conn: Connection, layer: str, records: Any, key: str) -> int:
            me = threading.current_thread().name
            self.arrived[me].set()
            start = time.monotonic()
            rows = list(records)
            half = len(rows) // 2
            count = real_upsert(conn, layer, rows[:half], key)
            self.written_midway[me] = int(conn.execute(
                text("SELECT count(*) FROM enterprises WHERE batch_id = :b"), {"b": rows[0]["batch_id"]}).scalar_one())
            others = [e for name, e in self.arrived.items() if name != me]
            self.waited_ok[me] = all(e.wait(timeout=30) for e in others)
            time.sleep(0.3)
            rest = rows[half:]
            if me == self.poison:
                rest[-1] = rest[-1] | {"external_distance_m": -1.0}  # violates ck_enterprises_distance_pos
            count += real_upsert(conn, layer, rest, key)
            self.intervals[me] = (start, time.monotonic())
            return count

        monkeypatch.setattr(store, "lock_layer", lock_layer)
        monkeypatch.setattr(store, "upsert_rows", upsert_rows)


# --------------------------------------------------------------------------- 1. serialized imports


def test_origin_detects_a_mixture() -> None:
    """The oracle of the concurrency test: a row mixing two files' fields belongs to neither."""
    a, b = enterprise(7, "A") | {"batch_id": 1}, enterprise(7, "B") | {"batch_id": 2}
    assert origin(dict(a), {"A": a, "B": b}) == "A"
    assert origin(dict(b), {"A": a, "B": b}) == "B"
    differing = [f for f in FIELDS if a[f] != b[f]]
    assert len(differing) == len(FIELDS) - 2  # all but the key and the district
    for f in differing:
        assert origin(a | {f: b[f]}, {"A": a, "B": b}) is None, f
        assert origin(b | {f: a[f]}, {"A": a, "B": b}) is None, f


def test_two_imports_into_one_district_serialize(engine, app, tmp_path, monkeypatch) -> None:
    keys_a, keys_b = range(80), range(40, 120)  # 40 shared keys
    file_a = write_csv(tmp_path / "甲.csv", [enterprise(i, "A") for i in keys_a])
    file_b = write_csv(tmp_path / "乙.csv", [enterprise(i, "B") for i in reversed(keys_b)])  # opposite order
    before = store.row_counts(engine)
    probe = WriteProbe(monkeypatch, ("A", "B"))

    results = run_together({"A": officer_import(app, file_a), "B": officer_import(app, file_b)})

    assert not any(isinstance(r, Exception) for r in results.values()), results
    assert probe.waited_ok == {"A": True, "B": True}  # both imports reached their write while the other was in it
    assert results["A"].rows_imported == 80 and results["B"].rows_imported == 80
    # serialized: one import's upsert ended before the other's began (the second waited for the layer lock)
    (first, (_, e1)), (second, (s2, _)) = sorted(probe.intervals.items(), key=lambda kv: kv[1][0])
    assert e1 <= s2, probe.intervals
    batch = {name: results[name].batch_id for name in ("A", "B")}
    assert batch[first] < batch[second]

    # every stored row is entirely one file's row; a shared key holds the later import's row
    files = {"A": {credit_code(i): enterprise(i, "A") | {"batch_id": batch["A"]} for i in keys_a},
             "B": {credit_code(i): enterprise(i, "B") | {"batch_id": batch["B"]} for i in keys_b}}
    stored = stored_enterprises(engine)
    assert set(stored) == set(files["A"]) | set(files["B"])  # the union: 120 rows
    for key, row in stored.items():
        candidates = {name: rows[key] for name, rows in files.items() if key in rows}
        source = origin(row, candidates)
        assert source is not None, f"{key} mixes fields of both files: {row}"
        assert source == (second if len(candidates) == 2 else next(iter(candidates)))

    after = store.row_counts(engine)
    assert after["enterprises"] == before["enterprises"] + 120
    batches = query(engine, "SELECT id, file_name, rows_imported, actor FROM import_batches "
                            "WHERE layer = 'enterprises' ORDER BY id")
    assert [(b["id"], b["file_name"], b["rows_imported"]) for b in batches] == sorted(
        [(batch["A"], "甲.csv", 80), (batch["B"], "乙.csv", 80)])
    audits = query(engine, "SELECT actor, adcode, details FROM audit_log WHERE action = 'import' "
                           "AND target = 'enterprises' ORDER BY id")
    assert [(a["details"]["file"], a["details"]["batch"], a["adcode"]) for a in audits] == [
        ("甲.csv" if first == "A" else "乙.csv", batch[first], ANNING),
        ("甲.csv" if second == "A" else "乙.csv", batch[second], ANNING)]


# --------------------------------------------------------------------------- 2. a failure leaves nothing


def test_a_failed_concurrent_import_leaves_nothing(engine, app, tmp_path, monkeypatch) -> None:
    keys_good, keys_bad = range(60), range(30, 90)
    good = write_csv(tmp_path / "good.csv", [enterprise(i, "A") for i in keys_good])
    bad = write_csv(tmp_path / "bad.csv", [enterprise(i, "B") for i in reversed(keys_bad)])
    before = store.row_counts(engine)
    probe = WriteProbe(monkeypatch, ("good", "bad"), poison="bad")

    results = run_together({"good": officer_import(app, good), "bad": officer_import(app, bad)})

    assert probe.waited_ok == {"good": True, "bad": True}
    assert probe.written_midway["bad"] == 30  # the failing import had written half its rows...
    err = results["bad"]
    assert isinstance(err, ImportValidationError), err  # ...then the database refused one: a clear error
    assert "未写入任何数据" in str(err) and "nothing was written" in str(err)
    assert "distance_pos" in str(err)
    assert [(i.file, i.severity) for i in err.issues] == [("bad.csv", "error")]
    report = results["good"]
    assert isinstance(report, ImportReport) and report.rows_imported == 60

    stored = stored_enterprises(engine)
    assert set(stored) == {credit_code(i) for i in keys_good}  # none of the failed file's own keys
    for i in keys_good:  # shared keys too: the good file's row, untouched by the rolled-back import
        assert origin(stored[credit_code(i)], {"good": enterprise(i, "A") | {"batch_id": report.batch_id}}) == "good"
    after = store.row_counts(engine)
    assert after == before | {"enterprises": before["enterprises"] + 60, "import_batches": before["import_batches"] + 1,
                              "audit_log": before["audit_log"] + 1, "row_versions": before["row_versions"] + 60}
    # history keeps the good file's rows only: the rolled-back import left no version behind
    assert {v["row_key"] for v in query(engine, "SELECT row_key FROM row_versions WHERE table_name = 'enterprises'")
            } == {credit_code(i) for i in keys_good}
    assert [b["file_name"] for b in query(engine, "SELECT file_name FROM import_batches WHERE layer = 'enterprises'")
            ] == ["good.csv"]
    assert [a["details"]["file"] for a in query(engine, "SELECT details FROM audit_log WHERE action = 'import' "
                                                        "AND target = 'enterprises'")] == ["good.csv"]


# --------------------------------------------------------------------------- 3. district scope at import


def _mixed_officer_file(tmp_path: Path) -> Path:
    rows = [officer_row(0), officer_row(1, WUHUA, WUHUA_POINTS[0]), officer_row(2),
            officer_row(3, WUHUA, WUHUA_POINTS[1], **{"风险等级*": "特别大"})]
    return write_xlsx(tmp_path / "混合辖区.xlsx", rows)


FOREIGN_ZH = "该行属于 530102 五华区，不在本账号辖区 530181 安宁市内"
FOREIGN_EN = "row belongs to 530102 五华区, outside your district 530181 安宁市"


def test_officer_cannot_import_another_districts_rows(engine, app, tmp_path) -> None:
    path = _mixed_officer_file(tmp_path)
    before = store.row_counts(engine)
    with scoped(OFFICER), pytest.raises(ImportValidationError) as info:
        import_file(app, "enterprises", path, actor="anning")
    assert store.row_counts(engine) == before
    assert "未写入任何数据" in str(info.value)
    errors = [(i.file, i.row, i.field) for i in info.value.issues if i.severity == "error"]
    assert errors == [("混合辖区.xlsx", "第3行 / row 3", "行政区划代码*"),
                      ("混合辖区.xlsx", "第5行 / row 5", "风险等级(risk_level)"),
                      ("混合辖区.xlsx", "第5行 / row 5", "行政区划代码*")]  # a row keeps all its reasons
    foreign = info.value.issues[0]
    assert (foreign.zh, foreign.en) == (FOREIGN_ZH, FOREIGN_EN)
    assert foreign.text("both") == f"混合辖区.xlsx: 第3行 / row 3: 行政区划代码*: 错误: {FOREIGN_ZH} / {FOREIGN_EN}"
    assert not (tmp_path / "混合辖区.xlsx.rejected.csv").exists()


def test_the_import_preview_shows_the_refusal(engine, app, tmp_path) -> None:
    path = _mixed_officer_file(tmp_path)
    with scoped(OFFICER):
        _, _, result = check_file(app, "enterprises", path)
    assert result.record_rows == [0, 2]
    assert sorted(result.rejected_rows) == [1, 3]
    assert [(i.row, i.zh) for i in result.rejected_rows[1]] == [("第3行 / row 3", FOREIGN_ZH)]
    with scoped(LEADER):  # a city-wide account may import any district's rows
        _, _, result = check_file(app, "enterprises", path)
    assert result.record_rows == [0, 1, 2] and sorted(result.rejected_rows) == [3]
    _, _, result = check_file(engine, "enterprises", path)  # no scope: the command line as database owner
    assert result.record_rows == [0, 1, 2]


def test_officer_skip_invalid_rejects_foreign_rows_to_the_reject_file(engine, app, tmp_path) -> None:
    path = _mixed_officer_file(tmp_path)
    before = store.row_counts(engine)
    with scoped(OFFICER):
        report = import_file(app, "enterprises", path, skip_invalid=True, actor="anning")
    assert (report.rows_total, report.rows_imported, report.rows_rejected) == (4, 2, 2)
    assert store.row_counts(engine) == before | {"enterprises": before["enterprises"] + 2,
                                                 "import_batches": before["import_batches"] + 1,
                                                 "audit_log": before["audit_log"] + 1,
                                                 "row_versions": before["row_versions"] + 2}
    rows = query(engine, "SELECT name, adcode FROM enterprises ORDER BY name")
    assert rows == [{"name": "测试企业0", "adcode": ANNING}, {"name": "测试企业2", "adcode": ANNING}]

    assert report.reject_file == tmp_path / "混合辖区.xlsx.rejected.csv"
    rejects = pd.read_csv(report.reject_file, dtype=str, encoding="utf-8-sig")
    assert rejects["行号 row"].tolist() == ["第3行 / row 3", "第5行 / row 5"]
    assert rejects["行政区划代码*"].tolist() == [WUHUA, WUHUA]
    assert rejects["企业名称*"].tolist() == ["测试企业1", "测试企业3"]
    reasons = rejects["错误原因 reasons"].tolist()
    assert reasons[0] == f"行政区划代码*: {FOREIGN_ZH} / {FOREIGN_EN}"
    assert "风险等级(risk_level)" in reasons[1] and f"行政区划代码*: {FOREIGN_ZH}" in reasons[1]
    batch = query(engine, "SELECT rows_imported, rows_rejected, actor FROM import_batches WHERE id = :i",
                  i=report.batch_id)
    assert batch == [{"rows_imported": 2, "rows_rejected": 2, "actor": "anning"}]


def test_officer_imports_own_district(engine, app, tmp_path) -> None:
    path = write_xlsx(tmp_path / "本辖区.xlsx", [officer_row(0), officer_row(1)])
    before = store.row_counts(engine)
    with scoped(OFFICER):
        report = import_file(app, "enterprises", path, actor="anning")
        seen = store.read_layer(app, "enterprises")
    assert (report.rows_imported, report.rows_rejected, report.reject_file) == (2, 0, None)
    assert sorted(seen["name"]) == ["测试企业0", "测试企业1"]
    assert store.row_counts(engine)["enterprises"] == before["enterprises"] + 2


def test_officer_cannot_import_districts(engine, app, tmp_path) -> None:
    before = store.row_counts(engine)
    for skip in (False, True):
        with scoped(OFFICER), pytest.raises(ImportValidationError) as info:
            import_file(app, "districts", DISTRICTS, skip_invalid=skip, actor="anning")
        assert store.row_counts(engine) == before
        errors = [i for i in info.value.issues if i.severity == "error"]
        assert [(i.file, i.row, i.field) for i in errors] == [(DISTRICTS.name, FILE_ROW, "图层(layer)")]
        assert "只有全市账号可以修改行政区划" in errors[0].zh
        assert "only city-wide accounts may change district boundaries" in errors[0].en
        assert "530181 安宁市" in errors[0].zh
    assert not DISTRICTS.with_name(DISTRICTS.name + ".rejected.csv").exists()


def test_officer_pipeline_must_cross_own_district(engine, app, tmp_path) -> None:
    common = {"medium": "gas", "outside_diameter_mm": 508.0, "maop_mpa": 6.3, "operator": "测试管道公司"}
    gdf = gpd.GeoDataFrame(
        [{"code": "P-AN", "name": "安宁支线"} | common, {"code": "P-WH", "name": "五华支线"} | common],
        geometry=[shapely.LineString([(102.44, 24.91), (102.47, 24.92)]),
                  shapely.LineString([WUHUA_POINTS[0], WUHUA_POINTS[1]])], crs=4490)
    path = tmp_path / "管道.geojson"
    gdf.to_file(path, driver="GeoJSON")
    before = store.row_counts(engine)
    with scoped(OFFICER), pytest.raises(ImportValidationError) as info:
        import_file(app, "pipelines", path, actor="anning")
    assert store.row_counts(engine) == before
    errors = [i for i in info.value.issues if i.severity == "error"]
    assert [(i.row, i.field) for i in errors] == [("要素2 / feature 2", "几何(geometry)")]
    assert errors[0].zh == "该管道经过 530102 五华区，不经过本账号辖区 530181 安宁市"
    assert errors[0].en == "pipeline crosses 530102 五华区, not your district 530181 安宁市"
    with scoped(OFFICER):
        report = import_file(app, "pipelines", path, skip_invalid=True, actor="anning")
    assert (report.rows_imported, report.rows_rejected) == (1, 1)
    assert [r["key"] for r in query(engine, "SELECT key FROM pipelines")] == ["P-AN"]
