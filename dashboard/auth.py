"""Sign-in for the dashboard: log-in page, signed session cookies, and the per-request data scope.

Every request except the log-in page and static files needs a signed-in user. The user's scope
(the whole city, or one district) is set for the request with :func:`geo.store.scoped`, so every
query the app runs goes through PostgreSQL's row-level security as that user.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from contextvars import Token
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, redirect, request, session

from dashboard.login_form import login_page
from geo import store
from identity.accounts import authenticate, scope_for

PUBLIC_PREFIXES = ("/login", "/assets/", "/_dash-component-suites/", "/_favicon.ico")
SESSION_HOURS = 8


def auth_enabled() -> bool:
    """Whether sign-in is required (``RISKMAP_AUTH``, default on; ``off`` only for tests and benchmarks)."""
    return os.environ.get("RISKMAP_AUTH", "on").lower() not in ("off", "0", "false", "no")


def secret_key(home: Path) -> str:
    """``RISKMAP_SECRET_KEY``, or a random key kept in ``<home>/secret_key`` (mode 0600)."""
    if os.environ.get("RISKMAP_SECRET_KEY"):
        return os.environ["RISKMAP_SECRET_KEY"]
    path = home / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def init_auth(server: Flask, engine: Any, home: Path) -> None:
    """Install the log-in routes and the request gate on the Flask server behind Dash."""
    server.config.update(
        SECRET_KEY=secret_key(home), SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("RISKMAP_SECURE_COOKIES", "0") == "1",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
    )

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        next_url = request.values.get("next", "/")
        if not next_url.startswith("/") or next_url.startswith("//") or "\\" in next_url:
            next_url = "/"  # no open redirects
        if request.method == "GET":
            return Response(login_page(next_url=next_url), mimetype="text/html")
        with store.scoped(None):
            user = authenticate(engine, request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            return Response(login_page("用户名或密码错误 / wrong user name or password", next_url), status=401,
                            mimetype="text/html")
        session.clear()
        session.permanent = True
        session["user"] = {"id": user["id"], "username": user["username"], "role": user["role"],
                           "adcode": user["adcode"], "name": user["display_name"],
                           "credit_code": user.get("credit_code")}
        with store.scoped(scope_for(user)), engine.begin() as conn:
            store.audit(conn, actor=user["username"], action="login", adcode=user["adcode"])
        return redirect(next_url)

    @server.route("/logout")
    def logout() -> Any:
        session.clear()
        return redirect("/login")

    @server.before_request
    def gate() -> Any:
        if request.path.startswith(PUBLIC_PREFIXES):
            return None
        user = session.get("user")
        if not user:
            if request.path.startswith("/_dash"):
                return Response('{"error": "login required"}', status=401, mimetype="application/json")
            return redirect(f"/login?next={request.full_path.rstrip('?')}")
        g.riskmap_scope_token = store.set_scope(scope_for(user))
        return None

    @server.teardown_request
    def reset(_exc: BaseException | None) -> None:
        token: Token[Any] | None = g.pop("riskmap_scope_token", None)
        if token is not None:
            store.reset_scope(token)


def current_user() -> dict[str, Any] | None:
    """The signed-in user of the current request (None when sign-in is off)."""
    return session.get("user") if auth_enabled() else None


def actor_name() -> str:
    """Who the audit log names for this request: the signed-in user, else ``dashboard``."""
    user = current_user()
    return str(user["username"]) if user else "dashboard"
