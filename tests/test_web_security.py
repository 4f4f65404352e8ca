"""The served app's web defences (issue 15 items 1, 7, 9): headers and CSP, CSRF, sign-out by POST, paths, redirects.

Flask-client tests run the app with sign-in on over a private copy of the demo (tests/clients.py); the
path and CSP tests go through the live gunicorn server (``secured``) and headless Chromium, because a
test client and a browser both normalise paths before sending them, which is exactly what an attacker
does not do.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import text

from dashboard.web_security import content_security_policy, path_is_normal, safe_next
from geo import embedded
from tests.browser import route_payload, sign_in
from tests.clients import DemoApp, demo_app, form_token, log_in, log_out, post_callback, route

pytestmark = pytest.mark.postgis
COMMON = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
          "Cross-Origin-Opener-Policy": "same-origin"}
#: Paths that are not in normal form, each of which once reached a gated route through a public prefix.
CROOKED = ("/login/../_dash-layout", "/assets/../_dash-layout", "//_dash-layout", "/login%2f..%2f_dash-layout",
           "/login/%2e%2e/_dash-layout", "/login/..%2F_dash-layout", "/login\\..\\_dash-layout", "/login/..",
           "/./_dash-layout", "/assets/%2e%2e/_dash-layout", "/login/%2E%2E/%2E%2E/_dash-dependencies",
           "/_dash-component-suites/../_dash-layout", "/login/%252e%252e/_dash-layout", "/login/%09/../_dash-layout")
#: ``next`` values of issue 15 item 1 that browsers read as another host (raw query strings).
EVIL_NEXT = ("/%09/evil.example", "/\\t/evil.example", "%09/evil.example", "/%5Cevil.example", "https:evil.example",
             "//evil.example/", "/%0A/evil.example", "%2F%2Fevil.example", "/%20/evil.example",
             "http://evil.example/", "/\\evil.example")


@pytest.fixture
def demo(pg_cluster: embedded.Cluster, demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoApp]:
    with demo_app(pg_cluster, demo_db, monkeypatch, secret="web-secret") as app:
        yield app


def _policy(resp: Any) -> dict[str, list[str]]:
    """The response's CSP as directive → sources."""
    value = resp.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in value.split(";") if part.strip()}


def _assert_headers(resp: Any, what: str, *, hsts: bool = False) -> None:
    for name, value in COMMON.items():
        assert resp.headers.get(name) == value, (what, name, resp.headers.get(name))
    assert "geolocation=(self)" in resp.headers.get("Permissions-Policy", ""), what
    csp = _policy(resp)
    assert csp.get("default-src") == ["'self'"] and csp.get("frame-ancestors") == ["'none'"], (what, csp)
    assert csp.get("object-src") == ["'none'"] and csp.get("base-uri") == ["'self'"], what
    assert csp.get("form-action") == ["'self'"], what
    scripts = csp.get("script-src", [])
    assert scripts[0] == "'self'" and all(s.startswith("'sha256-") for s in scripts[1:]), (what, scripts)
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, what
    assert ("Strict-Transport-Security" in resp.headers) is hsts, what


def _audit_rows(owner: Any) -> int:
    with owner.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


def test_headers_on_pages_callbacks_assets_and_the_sign_in_page(demo: DemoApp) -> None:
    client = demo.client
    _assert_headers(client.get("/login"), "sign-in page")
    _assert_headers(client.get("/assets/style.css"), "asset")
    _assert_headers(client.get("/"), "redirect to sign-in")
    _assert_headers(post_callback(client, route_payload("/")), "refused callback")
    log_in(client, "leader")
    _assert_headers(client.get("/"), "page shell")
    resp = post_callback(client, route_payload("/"))
    assert resp.status_code == 200
    _assert_headers(resp, "callback")
    _assert_headers(client.get("/no/such/page/../x"), "refused path")
    # every inline script of the page shell is one the policy names by its hash, and no other runs
    shell = re.sub(r"<!--.*?-->", "", client.get("/").get_data(as_text=True), flags=re.DOTALL)
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", shell, re.DOTALL)
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'" for body in inline}
    assert len(inline) >= 2 and hashes == set(_policy(client.get("/"))["script-src"][1:])


def test_hsts_and_basemap_follow_the_settings(pg_cluster: embedded.Cluster, demo_db: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKMAP_SECURE_COOKIES", "1")
    monkeypatch.setenv("RISKMAP_BASEMAP_URL", "https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    with demo_app(pg_cluster, demo_db, monkeypatch) as demo:
        resp = demo.client.get("/login")
        _assert_headers(resp, "sign-in page behind HTTPS", hsts=True)
        assert "max-age=" in resp.headers["Strict-Transport-Security"]
        assert _policy(resp)["img-src"] == ["'self'", "data:", "blob:", "https://*.tiles.example.org"]
    policy = content_security_policy([], "http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob: http://127.0.0.1:8081;" in policy
    assert "img-src 'self' data: blob:;" in content_security_policy([], "javascript:alert(1)")


def test_sign_in_needs_the_forms_token(demo: DemoApp) -> None:
    client, before = demo.client, _audit_rows(demo.owner)
    form = {"username": "leader", "password": "leader-demo-2026", "next": "/"}
    for token in (None, "", "forged-token"):
        client.get("/login")  # the session has a token; the post does not carry it
        resp = client.post("/login", data=form if token is None else {**form, "csrf_token": token})
        assert resp.status_code == 400, token
        body = resp.get_data(as_text=True)
        assert "表单已过期" in body and "the form has expired" in body
        assert client.get("/_dash-layout").status_code == 401  # not signed in
    fresh = demo.app.server.test_client()  # a token from another session does not do either
    resp = fresh.post("/login", data={**form, "csrf_token": form_token(client)})
    assert resp.status_code == 400
    # no sign-in was attempted: nothing audited (no failure, no success), so nothing counts toward a lockout
    assert _audit_rows(demo.owner) == before
    resp = client.post("/login", data={**form, "csrf_token": form_token(client)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/_dash-layout").status_code == 200
    assert _audit_rows(demo.owner) > before


def test_sign_out_is_a_post_with_the_token(demo: DemoApp) -> None:
    client = demo.client
    log_in(client, "planner")
    client.get("/logout")  # a link or an <img> cannot sign anyone out (GET serves the page shell at most)
    assert route(client, "/")[0] == 200
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert route(client, "/")[0] == 200
    # the header's sign-out form carries the session's token on its button
    _, page = route(client, "/")
    button = re.search(r'\{[^{}]*"id": "nav-logout"[^{}]*\}', page)
    assert button and '"type": "submit"' in button.group(0)
    token = re.search(r'"value": "([^"]+)"', button.group(0))
    assert token
    assert '"action": "/logout"' in page and '"method": "POST"' in page
    resp = client.post("/logout", data={"csrf_token": token.group(1)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert route(client, "/")[0] == 401
    log_in(client, "planner")
    assert log_out(client).status_code == 302 and route(client, "/")[0] == 401


def test_next_never_leaves_the_site(demo: DemoApp) -> None:
    client = demo.client
    for value in EVIL_NEXT:
        page = client.get(f"/login?next={value}").get_data(as_text=True)
        kept = re.search(r'name="next" value="([^"]*)"', page)
        assert kept and kept.group(1) == "/", value
        token = form_token(client)
        resp = client.post(f"/login?next={value}", data={"username": "viewer", "password": "viewer-demo-2026",
                                                          "csrf_token": token})
        assert resp.status_code == 302, value
        where = resp.headers["Location"]
        parts = urlsplit(where)
        assert where == "/" and not parts.netloc and not parts.scheme, (value, where)
        log_out(client)
    resp = client.post("/login?next=/district/530181%3Ftab%3Dbasic",
                       data={"username": "viewer", "password": "viewer-demo-2026", "csrf_token": form_token(client)})
    assert resp.headers["Location"] == "/district/530181?tab=basic"  # a local path is kept


def test_safe_next_and_normal_paths() -> None:
    for value in ("/\t/evil.example", "/\\evil.example", "\t/evil.example", "https:evil.example", "//x", "/ /x",
                  "/\n/evil.example", "", None, "evil.example", "/" + "a" * 3000):
        assert safe_next(value) == "/", value
    for value in ("/", "/planner", "/district/530181?tab=basic", "/hazards/12"):
        assert safe_next(value) == value
    for path in CROOKED:
        decoded = path.replace("%2f", "/").replace("%2F", "/").replace("%2e", ".").replace("%2E", ".")
        assert not path_is_normal(path, decoded), path
    assert path_is_normal("/_dash-component-suites/dash/dcc/async-graph.js", "/_dash-component-suites/dash/dcc/"
                          "async-graph.js")
    assert path_is_normal("/district/530181/", "/district/530181/")


def test_crooked_paths_reach_nothing_on_the_served_app(secured: tuple[str, Any]) -> None:
    base, _ = secured
    host = urlsplit(base)
    for path in (*CROOKED, "/_dash-layout", "/login"):
        conn = http.client.HTTPConnection(str(host.hostname), host.port, timeout=30)
        try:
            conn.putrequest("GET", path, skip_accept_encoding=True)  # sent exactly as written
            conn.endheaders()
            resp = conn.getresponse()
            body = resp.read().decode("utf-8", errors="replace")
            headers = dict(resp.getheaders())
        finally:
            conn.close()
        if path == "/_dash-layout":
            assert resp.status == 401  # the gate, unchanged
        elif path == "/login":
            assert resp.status == 200 and 'name="csrf_token"' in body
        else:
            assert resp.status in (400, 404), (path, resp.status)
            assert "_dash-config" not in body and "DashRenderer" not in body and "page-content" not in body, path
        assert headers.get("X-Frame-Options") == "DENY" or resp.status == 400, path


def test_posts_from_other_sites_are_refused(demo: DemoApp) -> None:
    client = demo.client
    log_in(client, "admin")
    body = route_payload("/")
    good = {"Origin": "http://localhost"}
    assert post_callback(client, body).status_code == 200  # no Origin: not a browser; SameSite cookies apply
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Referer": "https://evil.example/x"},
                    {"Origin": "http://localhost.evil.example"}, {**good, "Sec-Fetch-Site": "cross-site"}):
        resp = client.post("/_dash-update-component", json=body, headers=headers)
        assert resp.status_code == 403, headers
        assert "不是来自本站" in resp.get_data(as_text=True)
    assert client.post("/_dash-update-component", json=body, headers=good).status_code == 200
    referer = {"Referer": "http://localhost/planner", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/_dash-update-component", json=body, headers=referer).status_code == 200
    # the plain forms too: a foreign page cannot post the sign-out form even with a stolen token
    with client.session_transaction() as sess:
        token = sess["csrf"]
    assert client.post("/logout", data={"csrf_token": token}, headers={"Origin": "http://evil.example"}
                       ).status_code == 403
    assert route(client, "/")[0] == 200


#: Page, the role that opens it, and an element that shows it rendered (scripts ran under the CSP).
CSP_PAGES = (("/", "admin", "#district-table td"), ("/planner", "admin", "#planner-register"),
             ("/district/530181", "admin", "#district-lists"), ("/hazards", "admin", "#hz-table td"),
             ("/inspect", "supervisor", "#in-kind"))


def _until(driver: Any, selector: str) -> None:
    """Wait for ``selector``; on time-out fail with what the browser logged (a CSP refusal shows there)."""
    try:
        WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))
    except TimeoutException:
        pytest.fail(f"{selector} never appeared at {driver.current_url}: {driver.get_log('browser')[:5]}")


def test_csp_holds_in_chromium(secured: tuple[str, Any], driver: Any) -> None:
    base, _ = secured
    signed_in_as = None
    for path, user, ready in CSP_PAGES:
        if user != signed_in_as:
            driver.delete_all_cookies()
            sign_in(driver, base, user, path)
            signed_in_as = user
            _until(driver, "#nav-logout")
        driver.get(base + path)
        _until(driver, ready)
        time.sleep(1.0)  # late callbacks and map tiles
        logs = driver.get_log("browser")
        violations = [e["message"] for e in logs if "Content Security Policy" in e["message"]
                      or "Refused to" in e["message"]]
        assert violations == [], (path, violations[:3])
        assert [e["message"] for e in logs if e["level"] == "SEVERE"] == [], path
    # sign-out through the header's form (a POST carrying the token) ends the session
    driver.find_element(By.ID, "nav-logout").click()
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.NAME, "username")))
    driver.get(base + "/planner")
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.NAME, "username")))
    assert "/login" in driver.current_url
