"""The cockpit snapshot: computed from the store, cached per data version, invalidated by changes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import make_url

from geo import store
from layers.city import city_snapshot

pytestmark = pytest.mark.postgis
AS_OF = dt.date(2026, 11, 1)


def test_snapshot_cached_and_invalidated(demo_db, pg_cluster) -> None:
    from tests.conftest import _fresh  # a private copy: this test changes a finding's status

    name, engine = _fresh(pg_cluster, make_url(demo_db).database)
    try:
        first = city_snapshot(engine, as_of=AS_OF)
        assert city_snapshot(engine, as_of=AS_OF) is first  # cached
        kpis = first.kpis()
        assert kpis["districts"] == 14 and kpis["major_risks"] > 0 and kpis["violations"] > 0
        assert 0 < kpis["rectification_rate"] < 1
        assert set(first.ratings.index) == set(first.summary.index)
        assert len(first.findings) > 100 and set(first.findings["status"]) <= {"open", "in_remediation"}
        fid = int(first.findings.iloc[0]["id"])
        store.set_finding_status(engine, fid, "closed", actor="test")
        second = city_snapshot(engine, as_of=AS_OF)
        assert second is not first
        assert fid not in set(second.findings["id"])
        district = first.kpis("530181")
        assert district["districts"] == 1 and district["major_risks"] <= kpis["major_risks"]
    finally:
        engine.dispose()
        from geo import embedded

        embedded.drop_database(pg_cluster, name)
