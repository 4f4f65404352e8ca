"""Every server callback checks the caller's role, not only the pages (issue 15 item 9).

For each role of :data:`identity.permissions.PERMISSIONS` a demo account posts every callback the app
registers, directly, the way a forged request would. The expectation does not come from the app's own
ownership table: each callback's page is found by rendering every page (through the routing callback,
as each role) and looking for the callback's component ids in it. A role must get 403 from a callback
exactly when it cannot open any page that holds the callback's components; the shared routing callback
is open to every signed-in role. A callback that no page holds, or that the app registered without an
owner, fails the test.
"""

from __future__ import annotations

import json
import re
from typing import Any

import dash
import pytest
from dash import Input, Output
from sqlalchemy import text

from campaign.demo import SUPERVISOR, enterprise_account
from dashboard import ids
from dashboard.pages import PAGES
from dashboard.routing import CALLBACK_OWNERS, output_ids
from geo.constants import ROLES
from identity.permissions import PERMISSIONS
from tests.clients import DemoApp, callback_body, demo_app_fixture, log_in, log_out, post_callback, route

pytestmark = pytest.mark.postgis
ANNING = "530181"
#: A demo account of each role.
ACCOUNTS = {"leader": "leader", "admin": "admin", "planner": "planner", "district_officer": "anning",
            "viewer": "viewer", "city_supervisor": SUPERVISOR[0], "enterprise": enterprise_account(ANNING)}
#: Components of the page shell (header, language, routing): on every page, owned by none.
SHELL = {ids.URL, ids.LANG, ids.CONTENT, ids.TITLE, ids.NAV, ids.DEMO_NOTE}


demo = demo_app_fixture(secret="roles-secret")


def _server_callbacks(app: dash.Dash) -> dict[str, dict[str, Any]]:
    return {k: cb for k, cb in app.callback_map.items() if "callback" in cb}


def _ids(tree: Any) -> set[str]:
    """Every component id in a rendered layout (JSON of the routing callback's response)."""
    found: set[str] = set()
    if isinstance(tree, dict):
        if isinstance(tree.get("id"), str):
            found.add(tree["id"])
        for value in tree.values():
            found |= _ids(value)
    elif isinstance(tree, list):
        for value in tree:
            found |= _ids(value)
    return found


def _page_urls(demo: DemoApp) -> dict[str, str]:
    """A URL of each page: 安宁 for a district, a hazard of 安宁's demo enterprise (every role may see it)."""
    with demo.owner.connect() as conn:
        hazard = conn.execute(text("SELECT min(h.id) FROM hidden_hazards h JOIN users u ON u.credit_code = "
                                   "h.credit_code WHERE u.username = :u"), {"u": ACCOUNTS["enterprise"]}).scalar_one()
    assert hazard is not None
    return {page.path: f"{page.path}/{ANNING}" if page.rest else re.sub(r"<int:[a-z_]+>", str(hazard), page.path)
            for page in PAGES}


def _opened(demo: DemoApp) -> dict[str, dict[str, set[str]]]:
    """Role → page path → ids of the page as that role renders it (empty when refused or another page shows)."""
    urls, out = _page_urls(demo), {}
    for role, user in ACCOUNTS.items():
        log_out(demo.client)
        log_in(demo.client, user)
        out[role] = {}
        for path, url in urls.items():
            status, body = route(demo.client, url)
            assert status == 200, (role, url, body[:300])
            content = json.loads(body)["response"][ids.CONTENT]["children"]
            found = _ids(content)
            out[role][path] = set() if "access-denied" in found else found
    return out


def test_every_role_is_refused_exactly_the_callbacks_of_pages_it_cannot_open(demo: DemoApp) -> None:
    assert set(ACCOUNTS) == set(ROLES) == set().union(*PERMISSIONS.values())
    callbacks = _server_callbacks(demo.app)
    owners = demo.app.server.extensions[CALLBACK_OWNERS]
    assert set(owners) == set(callbacks), "a callback was registered without an owner (dashboard/routing.py)"
    opened = _opened(demo)
    page_ids = {path: set().union(*(seen[path] for seen in opened.values())) for path in opened["admin"]}
    # which pages hold each callback: its outputs are on the page (shell callbacks belong to none)
    holders: dict[str, set[str]] = {}
    for key, cb in callbacks.items():
        outs = set(output_ids(key))
        if outs <= SHELL:
            holders[key] = set()
            continue
        comps = outs | {i["id"] for i in (*cb["inputs"], *cb["state"])} - SHELL
        holders[key] = {path for path, seen in page_ids.items() if outs & seen} or \
            {path for path, seen in page_ids.items() if comps & seen}
        assert holders[key], f"callback {key} belongs to no page: give it an owner and a page"
    assert sum(1 for h in holders.values() if not h) == 1  # the routing callback only
    refused_somewhere, wrong = 0, []
    for role, user in ACCOUNTS.items():
        log_out(demo.client)
        log_in(demo.client, user)
        for key, cb in callbacks.items():
            may = not holders[key] or any(opened[role][path] & (set(output_ids(key)) | {
                i["id"] for i in (*cb["inputs"], *cb["state"])}) for path in holders[key])
            trigger = f"{cb['inputs'][0]['id']}.{cb['inputs'][0]['property']}"
            resp = post_callback(demo.client, callback_body(demo.app, key, {}, trigger))
            if (resp.status_code == 403) == may or (may and resp.status_code not in (200, 204)):
                wrong.append((role, key, "may" if may else "may not", resp.status_code))
            elif not may:
                assert "无此权限" in resp.get_data(as_text=True)
                refused_somewhere += 1
    assert wrong == []
    assert refused_somewhere > 50  # the planner's, the audit log's, the rules' … callbacks for most roles


def test_district_officer_cannot_post_the_planners_callbacks(demo: DemoApp) -> None:
    log_out(demo.client)
    log_in(demo.client, "anning")
    planner_keys = [k for k in _server_callbacks(demo.app) if k.strip(".").startswith("planner-")]
    assert len(planner_keys) >= 5
    for key in planner_keys:
        cb = demo.app.callback_map[key]
        trigger = f"{cb['inputs'][0]['id']}.{cb['inputs'][0]['property']}"
        assert post_callback(demo.client, callback_body(demo.app, key, {}, trigger)).status_code == 403, key


def test_a_callback_without_an_owner_is_refused_to_everyone(demo: DemoApp) -> None:
    app = demo.app
    app.callback(Output("rogue-out", "children"), Input("rogue-in", "n_clicks"))(lambda n: "rogue")
    try:
        owners = app.server.extensions[CALLBACK_OWNERS]
        assert set(_server_callbacks(app)) - set(owners) == {"rogue-out.children"}
        log_out(demo.client)
        log_in(demo.client, "admin")  # even the administrator
        resp = post_callback(demo.client, callback_body(app, "rogue-out.children", {}, "rogue-in.n_clicks"))
        assert resp.status_code == 403
        forged = {"output": "no-such.children", "outputs": {"id": "no-such", "property": "children"},
                  "inputs": [], "state": [], "changedPropIds": []}
        assert post_callback(demo.client, forged).status_code == 403
        assert demo.client.post("/_dash-update-component", data="not json",
                                content_type="application/json").status_code == 403
    finally:
        app.callback_map.pop("rogue-out.children", None)
