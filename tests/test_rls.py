"""District scope enforced inside PostgreSQL: row-level security for the application role."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo import store
from geo.store import Scope, scoped

pytestmark = pytest.mark.postgis
ANNING, XISHAN = "530181", "530112"


def _seed(engine) -> None:
    rows = [{"key": f"B-{code}-{i}", "adcode": code, "name": None, "use": "residential", "households": 1,
             "floors": 1, "geom": shapely.Point(102.4 + i * 0.001, 24.9), "source_crs": "EPSG:4490",
             "batch_id": None} for code in (ANNING, XISHAN) for i in range(3)]
    with engine.begin() as conn:
        store.upsert_rows(conn, "buildings", rows, "key")


@pytest.fixture
def app_engine(engine, app_engine):
    _seed(engine)
    return app_engine


def _count(eng, table: str = "buildings") -> int:
    with eng.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_no_scope_sees_no_district_rows(app_engine) -> None:
    assert _count(app_engine) == 0
    assert _count(app_engine, "districts") == 14  # outlines are public


def test_district_officer_sees_only_their_district(app_engine) -> None:
    with scoped(Scope(all_districts=False, adcode=ANNING)):
        assert _count(app_engine) == 3
        gdf = store.read_layer(app_engine, "buildings")
        assert set(gdf["adcode"]) == {ANNING}
        with app_engine.begin() as conn:  # another district's rows cannot be touched
            changed = conn.execute(text("UPDATE buildings SET floors = 9 WHERE adcode = :a"), {"a": XISHAN}).rowcount
        assert changed == 0
        with pytest.raises(DBAPIError, match="row-level security"), app_engine.begin() as conn:
            store.upsert_rows(conn, "buildings", [{
                "key": "B-X-new", "adcode": XISHAN, "name": None, "use": "residential", "households": 1,
                "floors": 1, "geom": shapely.Point(102.6, 24.9), "source_crs": None, "batch_id": None}], "key")


def test_leader_sees_everything(app_engine) -> None:
    with scoped(Scope(all_districts=True, actor="leader")):
        assert _count(app_engine) == 6


def test_audit_log_is_append_only_for_the_app(app_engine) -> None:
    with scoped(Scope(all_districts=False, adcode=ANNING)):
        with app_engine.begin() as conn:
            store.audit(conn, actor="officer", action="login", adcode=ANNING)
        with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
        with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET actor = 'x'"))
        with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
            conn.execute(text("INSERT INTO users (username, display_name, password_hash, role) "
                              "VALUES ('x', 'x', 'x', 'admin')"))


def test_scope_does_not_leak_between_blocks(app_engine) -> None:
    with scoped(Scope(all_districts=True)):
        assert _count(app_engine) == 6
    assert _count(app_engine) == 0  # the pooled connection does not keep the last user's scope


def test_district_sessions_notice_city_wide_changes(app_engine, engine) -> None:
    with scoped(Scope(all_districts=False, adcode=ANNING)):
        before = store.data_version(app_engine)
    with engine.begin() as conn:  # a city-wide check run: no district, invisible to the officer
        store.audit(conn, actor="planner", action="check_run", target="check_findings")
    with scoped(Scope(all_districts=False, adcode=ANNING)):
        assert store.data_version(app_engine) > before
        with app_engine.connect() as conn:
            visible = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'check_run'")).scalar_one()
        assert visible == 0  # the entry itself stays hidden
