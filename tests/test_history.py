"""Record history kept by the database: any tracked layer can be read as it was at a moment."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo import store
from geo.constants import LOCAL_ZONE
from geo.store import Scope, scoped
from geo.store.history import read_layer_as_of, record_versions, versions_between

pytestmark = pytest.mark.postgis
ANNING, XISHAN = "530181", "530112"


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=LOCAL_ZONE)


def _enterprise(key: str, level: str, lon: float = 102.40, adcode: str = ANNING) -> dict:
    return {"key": key, "credit_code": None, "name": f"企业{key}", "industry": "hazchem", "address": None,
            "mhs_grade": None, "risk_level": level, "external_distance_m": None, "principal": None, "phone": None,
            "geom": shapely.Point(lon, 24.90), "adcode": adcode, "source_crs": "EPSG:4490", "batch_id": None}


def _on(engine, day: str, *statements) -> None:
    """Run writes as the owner in one transaction dated ``day`` (only owners may date a change)."""
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('riskmap.valid_from', :at, true)"), {"at": _at(day).isoformat()})
        for write in statements:
            write(conn)


def _months(engine) -> None:
    _on(engine, "2026-09-15", lambda c: store.upsert_rows(c, "enterprises", [
        _enterprise("E1", "general"), _enterprise("E2", "low"), _enterprise("X1", "major", adcode=XISHAN)], "key"))
    _on(engine, "2026-10-10",
        lambda c: store.upsert_rows(c, "enterprises", [_enterprise("E1", "major")], "key"),
        lambda c: c.execute(text("DELETE FROM enterprises WHERE key = 'E2'")))
    _on(engine, "2026-11-05",
        lambda c: store.upsert_rows(c, "enterprises", [_enterprise("E1", "major", lon=102.41),
                                                        _enterprise("E3", "large")], "key"))


def _levels(frame) -> dict[str, str]:
    return dict(zip(frame["key"], frame["risk_level"], strict=True))


def test_a_layer_reads_as_it_was_at_each_month_end(engine) -> None:
    _months(engine)
    assert _levels(read_layer_as_of(engine, "enterprises", _at("2026-09-01"))) == {}
    assert _levels(read_layer_as_of(engine, "enterprises", _at("2026-09-30"), ANNING)) == {"E1": "general",
                                                                                        "E2": "low"}
    assert _levels(read_layer_as_of(engine, "enterprises", _at("2026-10-31"), ANNING)) == {"E1": "major"}
    november = read_layer_as_of(engine, "enterprises", _at("2026-11-30"), ANNING)
    assert _levels(november) == {"E1": "major", "E3": "large"}
    assert november.set_index("key").geometry["E1"].equals(shapely.Point(102.41, 24.90))
    october = read_layer_as_of(engine, "enterprises", _at("2026-10-31"), ANNING)
    assert october.set_index("key").geometry["E1"].equals(shapely.Point(102.40, 24.90))
    # "as of now" is exactly what is stored now, column for column
    now = read_layer_as_of(engine, "enterprises", dt.datetime.now(LOCAL_ZONE)).sort_values("key")
    stored = store.read_layer(engine, "enterprises").sort_values("key")
    assert list(now.columns) == list(stored.columns)
    assert now.drop(columns="geometry").reset_index(drop=True).equals(
        stored.drop(columns="geometry").reset_index(drop=True))
    assert list(now.geometry.to_wkb()) == list(stored.geometry.to_wkb())


def test_each_record_keeps_its_versions_and_the_period_lists_its_changes(engine) -> None:
    _months(engine)
    versions = record_versions(engine, "enterprises", "E1")
    assert list(versions["change"]) == ["insert", "update", "update"]
    assert [v["risk_level"] for v in versions["data"]] == ["general", "major", "major"]
    # each version ends when the next begins; the last is current
    assert list(versions["valid_to"][:-1]) == list(versions["valid_from"][1:])
    assert pd.isna(versions["valid_to"].iloc[-1])
    gone = record_versions(engine, "enterprises", "E2")
    assert len(gone) == 1 and gone["valid_to"].iloc[0] == _at("2026-10-10")
    october = versions_between(engine, _at("2026-10-01"), _at("2026-10-31"), ("enterprises",))
    began = set(october.loc[october["valid_from"] > _at("2026-10-01"), "row_key"])
    ended = set(october.loc[october["valid_to"].notna() & (october["valid_from"] <= _at("2026-10-01")), "row_key"])
    assert began == {"E1"} and ended == {"E1", "E2"}


def test_bookkeeping_alone_writes_no_version(engine) -> None:
    _months(engine)
    before = len(record_versions(engine, "enterprises", "E3"))
    with engine.begin() as conn:  # a re-import of the same row only touches updated_at and batch_id
        store.upsert_rows(conn, "enterprises", [_enterprise("E3", "large")], "key")
    assert len(record_versions(engine, "enterprises", "E3")) == before == 1


def test_the_app_reads_only_its_scope_and_can_neither_write_nor_backdate_history(engine, app_engine) -> None:
    _months(engine)
    with scoped(Scope(all_districts=False, adcode=XISHAN, actor="xishan", role="district_officer")):
        assert _levels(read_layer_as_of(app_engine, "enterprises", _at("2026-11-30"))) == {"X1": "major"}
        assert record_versions(app_engine, "enterprises", "E1").empty
        for sql in ("UPDATE row_versions SET valid_to = now()", "DELETE FROM row_versions",
                    "INSERT INTO row_versions (table_name, row_key, valid_from, data, changed_by, change) "
                    "VALUES ('enterprises', 'E9', now(), '{}', 'x', 'insert')"):
            with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
                conn.execute(text(sql))
        with app_engine.begin() as conn:  # a forged date is ignored: the change is dated now, by its actor
            conn.execute(text("SELECT set_config('riskmap.valid_from', '2020-01-01T00:00+08', true)"))
            store.upsert_rows(conn, "enterprises", [_enterprise("X1", "low", adcode=XISHAN)], "key")
    with scoped(Scope(all_districts=True, actor="leader", role="leader")):
        latest = record_versions(app_engine, "enterprises", "X1").iloc[-1]
    assert latest["changed_by"] == "xishan" and latest["valid_from"].year == dt.date.today().year


def test_the_demo_has_a_past_so_last_month_is_not_empty(demo_db) -> None:
    from layers.snapshots import month_ends, period_figures

    engine = store.make_engine(demo_db)
    try:
        last = month_ends(dt.date.today(), 1)[0]
        then, now = period_figures(engine, last), store.row_counts(engine)
        assert then.loc["city", "risk_sources"] > 0 and then.loc["city", "hazards_total"] > 0
        as_of = read_layer_as_of(engine, "enterprises", dt.datetime.now(LOCAL_ZONE) - dt.timedelta(days=200))
        assert len(as_of) == now["enterprises"]  # the demo's records existed 200 days ago
        with engine.connect() as conn:  # a hazard's versions follow its steps, in order, without gaps
            spans = conn.execute(text("""
                SELECT v.row_key, v.valid_from, v.valid_to,
                       lead(v.valid_from) OVER (PARTITION BY v.row_key ORDER BY v.id) AS next_from
                  FROM row_versions v WHERE v.table_name = 'hidden_hazards'""")).all()
            steps_before_load = conn.execute(text(
                "SELECT count(*) FROM row_versions WHERE table_name = 'hidden_hazards' AND valid_from < now() - "
                "interval '1 day'")).scalar_one()
        assert all(r.valid_to == r.next_from for r in spans if r.next_from is not None)
        assert steps_before_load > 0
    finally:
        engine.dispose()


def test_a_transaction_that_began_earlier_but_writes_later_keeps_the_versions_in_order(engine) -> None:
    """now() is when a transaction began: one that waited for another must not end a version before it began."""
    row = {"key": "PT-order", "adcode": "530181", "name": "学校", "target_type": "school",
           "gb36894_class": "high_density", "population": 500, "households": None, "floor_area_m2": None,
           "beds": None, "seats": None, "geom": shapely.Point(102.4, 24.9), "source_crs": "EPSG:4490",
           "batch_id": None}
    with engine.begin() as conn:
        store.upsert_rows(conn, "protection_targets", [row], "key")
    with engine.connect() as early:
        early.begin()
        began = early.execute(text("SELECT now()")).scalar_one()  # this transaction's clock stops here
        with engine.begin() as later:  # another one versions the row after that moment and commits
            later.execute(text("UPDATE protection_targets SET population = 600 WHERE key = 'PT-order'"))
        early.execute(text("UPDATE protection_targets SET population = 700 WHERE key = 'PT-order'"))
        early.commit()
    with engine.connect() as conn:
        spans = conn.execute(text("SELECT data ->> 'population', valid_from, valid_to FROM row_versions "
                                  "WHERE table_name = 'protection_targets' AND row_key = 'PT-order' "
                                  "ORDER BY valid_from, id")).all()
    assert [s[0] for s in spans] == ["500", "600", "700"]
    assert spans[1][1] > began and spans[1][2] == spans[2][1] and spans[2][2] is None
    assert all(s[2] is None or s[2] >= s[1] for s in spans)
