"""The hazard register page reads the hazards once: the inbox, the first table, map and count share them."""

from __future__ import annotations

import pytest

from geo import store
from tests.clients import demo_app, route_text

pytestmark = pytest.mark.postgis


def test_the_register_reads_the_hazard_list_once_and_shows_it(pg_cluster, demo_db, monkeypatch) -> None:
    reads: list[tuple] = []
    real = store.list_hazards

    def counted(*args, **kwargs):
        reads.append((args[1:], kwargs))
        return real(*args, **kwargs)

    with demo_app(pg_cluster, demo_db, monkeypatch, user="anning") as app:
        monkeypatch.setattr(store, "list_hazards", counted)
        text = route_text(app.client, "/hazards")
        expected = real(app.owner, adcode="530181")
    assert len(reads) == 1 and reads[0] == ((), {})
    assert f"共 {len(expected)} 项隐患" in text and len(expected) > 0
    assert all(code in text for code in expected["code"])
