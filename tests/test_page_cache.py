"""The cockpit's page cache (#15 load): built once per snapshot, never shared across scopes, gone after a change.

Pages derived from a :class:`layers.city.CitySnapshot` are kept on the snapshot (``snap.derived``); the
snapshot belongs to one data scope and one data version. Two district officers of two districts sign in
to the served app (as ``riskmap_app``, under row-level security) and must each see only their own
district whatever the other asked first; a data change must show on the next request.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo import embedded, store
from identity.accounts import add_user
from layers import city
from tests.clients import demo_app, log_in, post_callback, route_text

pytestmark = pytest.mark.postgis
ANNING, XISHAN = "530181", "530112"
PASSWORD = "Vk3#pLr8-wQz5!mT"


def _find(node: Any, component_id: str) -> dict[str, Any] | None:
    """The serialised component ``component_id`` in a Dash response."""
    children: list[Any]
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        children = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find(child, component_id)
        if found is not None:
            return found
    return None


def _page(client: Any) -> tuple[set[str], set[str], str]:
    """The cockpit of ``client``: adcodes of its district table, names of its risk-source list, the raw body."""
    body = route_text(client, "/")
    content = json.loads(body)["response"]["page-content"]["children"]
    table, sources = _find(content, "district-table"), _find(content, "source-table")
    assert table is not None and sources is not None, body[:300]
    return ({str(r["adcode"]) for r in table["props"]["data"]}, {str(r["name"]) for r in sources["props"]["data"]},
            body)


def _drill(client: Any, adcode: str | None) -> str:
    """The drill-down callback's response for ``adcode`` (what a click on the map posts)."""
    outputs = [("kpi-strip", "children"), ("district-explain", "children"), ("level-chart", "figure"),
               ("source-table", "data")]
    body = {"output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [{"id": "selected-district", "property": "data", "value": adcode}],
            "changedPropIds": ["selected-district.data"],
            "state": [{"id": "lang-switch", "property": "value", "value": "zh"}]}
    resp = post_callback(client, body)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return str(resp.get_data(as_text=True))


def _cached(database: str | None, reach: str) -> list[city.CitySnapshot]:
    """Snapshots of ``database`` and the data scope ``reach`` (an adcode or ``all``) holding a built cockpit page."""
    return [snap for key, snap in city._CACHE.items()
            if key.endswith(f"|{reach}") and make_url(key.rsplit("|", 1)[0]).database == database
            and any(isinstance(k, tuple) and k[0] == "cockpit" for k in snap._derived)]


def test_page_cache_keeps_to_its_scope_and_follows_data_changes(
        pg_cluster: embedded.Cluster, demo_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with demo_app(pg_cluster, demo_db, monkeypatch, secret="cache-secret", user="anning") as demo:
        add_user(demo.owner, "xishan-officer", PASSWORD, role="district_officer", adcode=XISHAN)
        xishan = demo.app.server.test_client()
        log_in(xishan, "xishan-officer", PASSWORD)
        leader = demo.app.server.test_client()
        log_in(leader, "leader")

        # the Anning officer fills the cache first; the Xishan officer then gets Xishan, not Anning's page
        anning_codes, anning_names, anning_body = _page(demo.client)
        xishan_codes, xishan_names, _ = _page(xishan)
        assert anning_codes == {ANNING} and xishan_codes == {XISHAN}
        assert anning_names and xishan_names and not anning_names & xishan_names
        city_codes, city_names, _ = _page(leader)
        assert {ANNING, XISHAN} < city_codes and anning_names | xishan_names <= city_names
        # the second request is served from the cache: the same page, one built page per scope
        assert _page(demo.client)[2] == anning_body
        db = demo.owner.url.database
        assert len(_cached(db, ANNING)) == 1 and len(_cached(db, XISHAN)) == 1 and len(_cached(db, "all")) == 1
        snap_before = _cached(db, ANNING)[0]
        # a drill-down into another district answers with the officer's own view, never the other's cached one
        anning_drill = _drill(demo.client, ANNING)
        assert _drill(xishan, ANNING) == _drill(xishan, None) != anning_drill

        # a data change (with its audit entry, as every write makes) shows on the next request
        with demo.owner.begin() as conn:
            key = conn.execute(text("SELECT credit_code FROM enterprises WHERE adcode = :a ORDER BY credit_code "
                                    "LIMIT 1"), {"a": ANNING}).scalar_one()
            conn.execute(text("UPDATE enterprises SET name = '缓存检验企业' WHERE credit_code = :k"), {"k": key})
            store.audit(conn, actor="test", action="edit", target=f"enterprises:{key}")
        codes, names, body = _page(demo.client)
        assert codes == {ANNING} and "缓存检验企业" in names and body != anning_body
        assert _cached(db, ANNING)[0] is not snap_before
        assert "缓存检验企业" not in _page(xishan)[1]
        assert "缓存检验企业" in _page(leader)[1]
