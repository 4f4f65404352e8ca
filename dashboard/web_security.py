"""The served app's web defences: path normalisation, security headers, CSRF on the two plain forms, same-origin POSTs.

:func:`install_web_security` is called by :func:`dashboard.app.create_app` before the sign-in gate
(:func:`dashboard.auth.init_auth`), because Flask runs ``before_request`` hooks in the order they were
registered. It installs, on the Flask server behind Dash:

- **path normalisation**: a request whose path is not already normal (``/../``, ``/./``, ``//``, a backslash,
  ``%2e``/``%2f``/``%5c``/``%25`` encodings, control characters, a trailing ``/..``) is answered 404 before the
  gate sees it, so ``/login/../_dash-layout`` cannot pass for the public ``/login``. Browsers normalise
  such paths themselves before sending them, so no person meets the refusal; a redirect would only help
  hand-made requests, so there is none.
- **same-origin POSTs**: a POST (sign-in, sign-out, every Dash callback, uploads) whose ``Origin`` (or,
  without it, ``Referer``) names another host, ``null``, or whose ``Sec-Fetch-Site`` says cross-site, is
  refused with 403. Together with ``SameSite=Lax`` session cookies this stops cross-site request forgery
  of the JSON callbacks, which carry no token.
- **security headers** on every response (pages, callbacks, assets, the sign-in page, refusals):
  see :func:`content_security_policy` and :data:`STATIC_HEADERS`; HSTS only when the session cookie is
  ``Secure`` (``RISKMAP_SECURE_COOKIES=1``, i.e. served behind HTTPS).
- **CSRF tokens** for the sign-in and sign-out forms: :func:`csrf_token` (kept in the session, rendered as
  a hidden field) and :func:`check_csrf` (called first by the ``/login`` POST and ``/logout``).

Sign-in's own next-URL check is :func:`safe_next`.
"""

from __future__ import annotations

import hmac
import html
import re
import secrets
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, request, session

from geo.config import Settings

#: Name of the hidden form field that carries the CSRF token.
CSRF_FIELD = "csrf_token"
_CSRF_KEY = "csrf"
#: Methods that change state and so must come from this site.
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Percent-encodings a normal path never carries: ".", "/", "\\", "%", and control characters.
_ENCODED = re.compile(r"%(2e|2f|5c|25|[01][0-9a-f]|7f)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: Headers every response gets besides the CSP (and HSTS behind HTTPS).
STATIC_HEADERS: dict[str, str] = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form POSTs,
    # which the same-origin check must refuse
    "Referrer-Policy": "same-origin",
    # the inspection page asks for the device position; photos come through a file input, not the camera API
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"

_NOT_FOUND = ("<!doctype html><meta charset=\"utf-8\"><title>404</title>"
              "<p>页面不存在 / Not found</p><p><a href=\"/\">返回首页 / Home</a></p>")
_FOREIGN = "请求不是来自本站，已拒绝 / the request did not come from this site and was refused"
_CSRF_FAILED = ("表单已过期或不是来自本站，未执行任何操作；请重新打开登录页 / the form has expired or did not come "
                "from this site, so nothing was done; please open the sign-in page again")


def safe_next(url: str | None) -> str:
    r"""Return ``url`` when it is a path on this site, else ``"/"`` (no open redirects after sign-in).

    Parameters
    ----------
    url : str or None
        The ``next`` value of the sign-in form or query.

    Returns
    -------
    str
        ``url`` unchanged, or ``"/"``.

    Notes
    -----
    Browsers drop tabs and line breaks inside a URL and read ``\`` as ``/``, so ``/<TAB>/evil.example``
    and ``/\evil.example`` both mean ``//evil.example``, another host. A path is accepted only if it starts
    with one ``/`` and has no control character, space, backslash, scheme or host.

    Examples
    --------
    >>> safe_next("/district/530181?tab=basic"), safe_next("/\t/evil.example"), safe_next("https:evil.example")
    ('/district/530181?tab=basic', '/', '/')
    """
    if not url or len(url) > 2000 or not url.startswith("/") or url.startswith("//"):
        return "/"
    if "\\" in url or _CONTROL.search(url) or any(ch.isspace() for ch in url):
        return "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return "/"
    return url


def _raw_path() -> str:
    """The request's path as the client sent it (before any decoding), without the query."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO") or "/"
    if not isinstance(raw, str):
        raw = str(raw)
    if "://" in raw.split("?", 1)[0]:  # absolute-form request target
        raw = urlsplit(raw).path or "/"
    return raw.split("?", 1)[0].split("#", 1)[0]


def path_is_normal(raw: str, decoded: str) -> bool:
    r"""Return whether a request path is already in normal form (raw as sent and decoded by the server).

    Parameters
    ----------
    raw : str
        The path as the client sent it (``RAW_URI``), without the query.
    decoded : str
        The decoded path the application routes on (``request.path``).

    Returns
    -------
    bool
        False for dot segments, empty segments, backslashes, control characters and encoded
        ``.``/``/``/``\``/``%``/control characters.
    """
    if _ENCODED.search(raw):
        return False
    for path in (raw, decoded):
        if not path.startswith("/") or "\\" in path or "//" in path or _CONTROL.search(path):
            return False
        if any(segment in (".", "..") for segment in path.split("/")):
            return False
    return True


def _same_origin() -> bool:
    """Whether a state-changing request came from a page of this site (or from no browser at all)."""
    if request.headers.get("Sec-Fetch-Site", "").lower() in ("cross-site", "same-site"):
        return False
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if source is None:
        return True  # not a browser (or one that says nothing): SameSite cookies still apply
    if source.strip().lower() == "null":
        return False
    return urlsplit(source).netloc.lower() == request.host.lower()


def csrf_token() -> str:
    """Return the session's CSRF token, creating it (in the signed session) when there is none yet."""
    token = session.get(_CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[_CSRF_KEY] = token
    return token


def check_csrf() -> None:
    """Stop the request with 400 unless its form carries the session's CSRF token (constant-time compare).

    Called first by the sign-in POST and by sign-out, so a forged or stale form does nothing: no
    sign-in attempt (nothing counts toward a lockout), no sign-out.
    """
    expected = session.get(_CSRF_KEY)
    sent = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not expected or \
            not hmac.compare_digest(expected.encode("utf-8"), sent.encode("utf-8")):
        page = (f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>400</title>"
                f"<link rel=\"stylesheet\" href=\"/assets/style.css\"><body class=\"login-body\">"
                f"<div class=\"login-box\"><p class=\"error\" id=\"csrf-refused\">{html.escape(_CSRF_FAILED)}</p>"
                f"<p><a href=\"/login\">登录 / Sign in</a></p></div></body></html>")
        abort(Response(page, status=400, mimetype="text/html"))


def _source(url: str | None) -> str | None:
    """The CSP source of a tile URL template (``https://{s}.tile.example/{z}/…`` → ``https://*.tile.example``)."""
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "sub"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.split("@")[-1]
    if url.split("//", 1)[-1].startswith("{s}."):
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def content_security_policy(script_hashes: Sequence[str], basemap_url: str | None = None) -> str:
    """Return the Content-Security-Policy the dashboard runs under.

    Parameters
    ----------
    script_hashes : sequence of str
        CSP hashes of Dash's inline scripts (``dash.Dash.csp_hashes()``: the renderer start-up and the
        clientside callbacks).
    basemap_url : str, optional
        ``RISKMAP_BASEMAP_URL``: its host may serve map tiles (images).

    Returns
    -------
    str
        The header value.

    Notes
    -----
    ``style-src`` needs ``'unsafe-inline'``: React writes ``style`` attributes (every Dash ``style=``),
    Plotly and Leaflet add ``<style>`` elements and inline positions at run time. Scripts stay strict:
    only this site's files and the hashed inline scripts run, no ``eval``.
    """
    tiles = _source(basemap_url)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *([tiles] if tiles else [])],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def install_web_security(server: Flask, settings: Settings,
                         script_hashes: Callable[[], Sequence[str]] | Sequence[str] = (),
                         basemap_url: str | None = None) -> None:
    """Install path normalisation, the same-origin check, CSRF upkeep and security headers on ``server``.

    Parameters
    ----------
    server : Flask
        The Flask server behind Dash; call before the sign-in gate is installed.
    settings : Settings
        Resolved settings (kept for deployment options read here in future; none needed today).
    script_hashes : callable or sequence of str
        CSP hashes of the inline scripts, or a function giving them (called once, at the first
        response, after every callback is registered: ``app.csp_hashes``).
    basemap_url : str, optional
        Tile URL template whose host may serve images.
    """
    del settings  # every value used here is per request or passed in
    policy: list[str] = []

    def csp() -> str:
        if not policy:
            hashes = script_hashes() if callable(script_hashes) else script_hashes
            policy.append(content_security_policy(list(hashes), basemap_url))
        return policy[0]

    @server.before_request
    def normal_path() -> Any:
        if not path_is_normal(_raw_path(), request.path):
            return Response(_NOT_FOUND, status=404, mimetype="text/html")
        return None

    @server.before_request
    def same_origin() -> Any:
        if request.method in _UNSAFE and not _same_origin():
            return Response(_FOREIGN, status=403, mimetype="text/plain")
        return None

    @server.after_request
    def headers(response: Response) -> Response:
        # a signed-in session has its sign-out token from its first response on (the sign-in redirect),
        # so concurrent callbacks never race to create different ones
        if session and not session.get(_CSRF_KEY):
            csrf_token()
        response.headers.setdefault("Content-Security-Policy", csp())
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        if server.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
