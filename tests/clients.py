"""Signed-in test clients: the application role, a private copy of the demo, the Flask client, Dash requests.

With sign-in on, the dashboard connects as ``riskmap_app`` (row-level security applies) while tests
check the database as its owner. :func:`demo_app` makes a private copy of the demo database (its
accounts sign in with ``<user>-demo-2026``), builds the app on it and hands back the Flask test
client (:func:`demo_app_fixture` makes a module-scoped fixture of it); :func:`log_in` posts the log-in
form; :func:`callback_body` and :func:`post_callback` send a Dash callback request the way the browser
(or a forger) would.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import URL, make_url

from geo import embedded, store
from geo.constants import CITY_WIDE_ROLES
from geo.store import Scope


def app_url(url: str | URL) -> str:
    """The URL of the same database for the application role ``riskmap_app``."""
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    return make_url(text).set(username="riskmap_app").render_as_string(hide_password=False)


def session_scope(owner: Engine, username: str, *, minutes: int = 480) -> Scope:
    """The scope of a real session of account ``username``, opened by the owner (``riskmap_issue_session``)."""
    from identity.accounts import scope_for

    user = store.find_user(owner, username)
    assert user is not None, username
    return scope_for(user, store.issue_session(owner, username, via="test", minutes=minutes))


def account_scope(owner: Engine, scope: Scope) -> Scope:
    """``scope`` with the token of a real session of an account that has its role, district and enterprise.

    The application role takes its scope only from a session token, so a test's ``Scope(...)`` becomes
    a session of a real account: ``scope.actor`` when such an account exists, otherwise a new account of
    that name (role from ``scope.role``, else ``leader`` city-wide and ``district_officer`` for a district).
    A scope of no district and no enterprise has no account: it sees nothing, as before.
    """
    if scope.session_token is not None:
        return scope
    role = scope.role or ("leader" if scope.all_districts else "district_officer" if scope.adcode else None)
    if role is None or (role == "enterprise" and not scope.credit_code):
        return scope
    name = scope.actor if scope.actor not in ("", "system") else f"t-{role}-{scope.adcode or 'city'}"
    if store.find_user(owner, name) is None:  # a plain row, not audited: tests count audit entries
        city = role in CITY_WIDE_ROLES
        with owner.begin() as conn:
            conn.execute(text("INSERT INTO users (username, display_name, role, adcode, credit_code, password_hash) "
                              "VALUES (:u, :d, :r, :a, :c, crypt(:p, gen_salt('bf', 4)))"),
                         {"u": name, "d": name, "r": role, "a": None if city else scope.adcode, "c": scope.credit_code,
                          "p": secrets.token_hex(16)})
    token = store.issue_session(owner, name, via="test")
    return dataclasses.replace(scope, session_token=token)


_SESSIONS: dict[tuple[str, Scope], Scope] = {}


def session_for(owner: Engine, scope: Scope) -> Scope:
    """:func:`account_scope` of ``scope``, made once per database (call it before counting rows)."""
    key = (owner.url.render_as_string(hide_password=True), scope)
    if key not in _SESSIONS:
        _SESSIONS[key] = account_scope(owner, scope)
    return _SESSIONS[key]


def app_engine_of(engine: Engine) -> Engine:
    """An engine of the application role on ``engine``'s database, applying the current scope.

    A current scope without a session token (a test's ``Scope(...)``) is given one of a real account
    with that scope (:func:`session_for`): the database scopes the application role by the session
    token only.
    """
    app = store.make_engine(app_url(engine.url), scoped=True)

    def with_session(conn: Connection) -> None:
        scope = store.current_scope()
        if scope is None or scope.session_token is not None:
            return
        token = session_for(engine, scope).session_token
        if token is not None:
            conn.exec_driver_sql("SELECT set_config('riskmap.session', %(t)s, true)", {"t": token})

    event.listen(app, "begin", with_session)
    return app


def demo_password(user: str) -> str:
    """Password of a demo account (geo/demo.py gives each one ``<user>-demo-2026``)."""
    return f"{user}-demo-2026"


#: Form field of the sign-in and sign-out forms' CSRF token (dashboard/web_security.py ``CSRF_FIELD``).
CSRF_FIELD = "csrf_token"


def form_token(client: Any) -> str:
    """The CSRF token of ``client``'s session, as the sign-in and sign-out forms carry it (made if none yet)."""
    import importlib

    try:
        key = importlib.import_module("dashboard.web_security")._CSRF_KEY  # where the forms' token is kept
    except ModuleNotFoundError:  # a tree without the CSRF check
        return ""
    with client.session_transaction() as sess:
        token = sess.get(key) or secrets.token_urlsafe(32)
        sess[key] = token
    return str(token)


def log_in(client: Any, user: str, password: str | None = None, *, expect: int | None = 302) -> Any:
    """Post the log-in form as ``user`` (a demo password unless given); check the status unless ``expect`` is None."""
    resp = client.post("/login", data={"username": user, "password": password or demo_password(user), "next": "/",
                                       CSRF_FIELD: form_token(client)})
    if expect is not None:
        assert resp.status_code == expect, resp.get_data(as_text=True)[:500]
    return resp


def log_out(client: Any) -> Any:
    """Post the sign-out form (with its CSRF token); return the response."""
    return client.post("/logout", data={CSRF_FIELD: form_token(client)})


@dataclass
class DemoApp:
    """The dashboard on a private copy of the demo: the app, its Flask test client and an owner engine."""

    app: Any
    client: Any
    owner: Engine


@contextmanager
def demo_app(cluster: embedded.Cluster, demo_db: str, monkeypatch: pytest.MonkeyPatch, *,
             secret: str = "test-secret", home: Path | None = None, user: str | None = None) -> Iterator[DemoApp]:
    """The app with sign-in on over a private copy of ``demo_db``, connected as ``riskmap_app``.

    The settings come from the environment, set through ``monkeypatch`` (``RISKMAP_HOME`` only when
    ``home`` is given); with ``user`` the client is signed in as that demo account. The copy is
    dropped afterwards.
    """
    from dashboard.app import create_app
    from geo.config import load_settings
    from tests.conftest import _fresh

    name, owner = _fresh(cluster, make_url(demo_db).database)
    monkeypatch.setenv("RISKMAP_AUTH", "on")
    monkeypatch.setenv("RISKMAP_SECRET_KEY", secret)
    if home is not None:
        monkeypatch.setenv("RISKMAP_HOME", str(home))
    engine = app_engine_of(owner)
    try:
        app = create_app(load_settings(), engine=engine)
        client = app.server.test_client()
        if user is not None:
            log_in(client, user)
        yield DemoApp(app, client, owner)
    finally:
        engine.dispose()
        owner.dispose()
        embedded.drop_database(cluster, name)


def demo_app_fixture(*, secret: str, user: str | None = None,
                     prepare: Callable[[Engine], object] | None = None) -> Any:
    """A module-scoped fixture of :func:`demo_app`: assign it to the fixture's name in a test module.

    ``leader = demo_app_fixture(secret="reports-secret", user="leader")`` gives the module's tests one
    app over one private copy of the demo, the client signed in as ``user`` (signed out without one);
    ``prepare(owner)`` runs once on the copy before the first test. The environment it sets is undone
    and the copy dropped after the module's last test.
    """

    @pytest.fixture(scope="module")
    def signed_in_demo(pg_cluster: embedded.Cluster, demo_db: str) -> Iterator[DemoApp]:
        with pytest.MonkeyPatch.context() as mp, demo_app(pg_cluster, demo_db, mp, secret=secret, user=user) as found:
            if prepare is not None:
                prepare(found.owner)
            yield found

    return signed_in_demo


def _prop(spec: str) -> dict[str, str]:
    ident, prop = spec.split(".", 1)
    return {"id": ident, "property": prop}


def callback_outputs(key: str) -> list[dict[str, str]] | dict[str, str]:
    """The ``outputs`` of a Dash request from a ``callback_map`` key (a list when the callback has several)."""
    if key.startswith(".."):
        return [_prop(s) for s in key.strip(".").split("...")]
    return _prop(key)


def callback_body(app: Any, key: str, values: dict[str, Any], trigger: str) -> dict[str, Any]:
    """The body of a request to callback ``key`` of ``app``: every input and state from ``values``.

    ``values`` maps ``"<id>.<property>"`` to a value (missing ones are None); ``trigger`` is the
    ``"<id>.<property>"`` that changed.
    """
    cb = app.callback_map[key]
    return {"output": key, "outputs": callback_outputs(key),
            "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in cb["inputs"]],
            "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")} for s in cb["state"]],
            "changedPropIds": [trigger]}


def post_callback(client: Any, body: dict[str, Any]) -> Any:
    """Post a Dash callback request; return the Flask response."""
    return client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def route(client: Any, path: str = "/", lang: str = "zh") -> tuple[int, str]:
    """Render page ``path`` through the routing callback: the status and the body as readable JSON."""
    from tests.browser import route_payload

    resp = post_callback(client, route_payload(path, lang))
    body = resp.get_data(as_text=True)
    if resp.status_code == 200:
        body = json.dumps(json.loads(body), ensure_ascii=False)  # Dash escapes non-ASCII text
    return resp.status_code, body


def route_text(client: Any, path: str, lang: str = "zh") -> str:
    """The rendered page ``path`` as readable JSON; the request must succeed."""
    status, body = route(client, path, lang)
    assert status == 200, body[:500]
    return body
