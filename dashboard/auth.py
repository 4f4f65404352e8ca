"""Sign-in for the dashboard: log-in page, server-side sessions, and the per-request data scope.

Signing in, sessions and their timeouts live in the database (:mod:`geo.store.sessions`): the signed
Flask cookie carries only the session token (and the CSRF token of :mod:`dashboard.web_security`).
Every request except the log-in page and static files needs a live session, looked up in the database
each time, so sign-out, a disabled account and a changed password end it at once. The session token is
set as the request's scope, and PostgreSQL's row-level security scopes every query by it alone.
"""

from __future__ import annotations

import os
import secrets
from contextvars import Token
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, g, has_request_context, redirect, request, session

from dashboard.login_form import login_page
from dashboard.web_security import check_csrf, safe_next
from geo import store
from geo.config import load_settings
from identity.accounts import authenticate, scope_for

#: Where an account changes its own password (dashboard/password_page.py).
PASSWORD_PATH = "/password"
#: Where an account sets up its second factor, and where it gives a code after its password
#: (dashboard/second_factor.py): the only pages a pending session reaches, besides sign-out.
SECOND_FACTOR_PATH = "/second-factor"
VERIFY_PATH = "/second-factor/verify"
PENDING_PATHS = (SECOND_FACTOR_PATH, VERIFY_PATH, "/logout")
PUBLIC_PREFIXES = ("/login", "/assets/", "/_dash-component-suites/", "/_favicon.ico")
WRONG = "用户名或密码错误 / wrong user name or password"
LOCKED = "尝试次数过多，账号或地址已暂时锁定，请稍后再试 / too many attempts: locked for a while, try again later"


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
    settings = load_settings()
    server.config.update(
        SECRET_KEY=secret_key(home), SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("RISKMAP_SECURE_COOKIES", "0") == "1",
    )

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        next_url = safe_next(request.values.get("next", "/"))
        if request.method == "GET":
            return Response(login_page(next_url=next_url), mimetype="text/html")
        check_csrf()
        with store.scoped(None):
            result = authenticate(engine, request.form.get("username", ""), request.form.get("password", ""),
                                  address=request.remote_addr, via="web", settings=settings)
        if not result.ok:
            return Response(login_page(LOCKED if result.outcome == "locked" else WRONG, next_url),
                            status=429 if result.outcome == "locked" else 401, mimetype="text/html")
        session.clear()
        session[TOKEN_KEY] = result.token
        if result.second_factor == "second_factor":  # the password was right: a code next
            return redirect(f"{VERIFY_PATH}?next={quote(next_url)}")
        if result.second_factor == "enrol":  # the role requires a second factor the account has not set
            return redirect(SECOND_FACTOR_PATH)
        return redirect(next_url)

    @server.route("/logout", methods=["POST"])
    def logout() -> Any:
        check_csrf()
        with store.scoped(None):
            store.sign_out(engine, session.get(TOKEN_KEY))
        session.clear()
        return redirect("/login")

    @server.before_request
    def gate() -> Any:
        if request.path.startswith(PUBLIC_PREFIXES):
            return None
        token = session.get(TOKEN_KEY)
        with store.scoped(None):
            user = store.session_user(engine, token) if token else None
        if user is None and token:
            with store.scoped(None):
                pending = (store.session_state(engine, token) or {}).get("pending")
            if pending is not None:  # a right password still owing a code or an enrolment: only those forms
                if request.path in PENDING_PATHS:
                    return None
                if request.path.startswith("/_dash"):
                    return Response('{"error": "second factor required"}', status=401, mimetype="application/json")
                return redirect(VERIFY_PATH if pending == "second_factor" else SECOND_FACTOR_PATH)
        if user is None:
            session.pop(TOKEN_KEY, None)  # ended, expired, disabled or never signed in (the form's CSRF token stays)
            if request.path.startswith("/_dash"):
                return Response('{"error": "login required"}', status=401, mimetype="application/json")
            return redirect(f"/login?next={request.full_path.rstrip('?')}")
        g.riskmap_user = {**user, "name": user["display_name"]}
        g.riskmap_scope_token = store.set_scope(scope_for(user, token))
        if user.get("must_change_password") and request.path not in (PASSWORD_PATH, "/logout"):
            # a created or reset account sets its own password before anything else
            if request.path.startswith("/_dash"):
                return Response('{"error": "password change required"}', status=403, mimetype="application/json")
            return redirect(PASSWORD_PATH)
        return None

    @server.teardown_request
    def reset(_exc: BaseException | None) -> None:
        token: Token[Any] | None = g.pop("riskmap_scope_token", None)
        if token is not None:
            store.reset_scope(token)


#: Key of the session token in the signed cookie (the only account data the cookie carries).
TOKEN_KEY = "token"


def signed_in() -> bool:
    """Whether the request's cookie names a session (whether it is live is the gate's check)."""
    return bool(session.get(TOKEN_KEY))


def current_user() -> dict[str, Any] | None:
    """The signed-in user of the current request, as the gate found it live (None when sign-in is off)."""
    if not auth_enabled():
        return None
    user: dict[str, Any] | None = g.get("riskmap_user") if has_request_context() else None
    return user


def actor_name() -> str:
    """Who the audit log names for this request: the signed-in user, else ``dashboard``."""
    user = current_user()
    return str(user["username"]) if user else "dashboard"
