"""Helpers for browser tests: serve the app with gunicorn and drive Debian's headless Chromium."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_app(database_url: str, *, workers: int = 1, auth: bool = False,
               extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Run the dashboard under gunicorn on a free loopback port; yield its base URL.

    Sign-in is off unless ``auth`` (tests/test_auth.py covers it); page tests exercise the pages.
    """
    port = free_port()
    env = dict(os.environ, RISKMAP_DATABASE_URL=database_url, RISKMAP_AUTH="on" if auth else "off",
               **(extra_env or {}))
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", "120", "dashboard.wsgi:server"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not come up:\n" + Path(log.name).read_text(errors="replace"))
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        Path(log.name).unlink(missing_ok=True)


@contextmanager
def served_signed_in_copy(cluster: Any, demo_db: str, home: Path) -> Iterator[tuple[str, Any]]:
    """Serve the app with sign-in on over a private copy of the demo database, as ``riskmap_app``.

    Yields the base URL and an owner engine of the copy (log-ins and actions write to it).
    """
    from sqlalchemy.engine import make_url

    from geo import embedded
    from tests.clients import app_url
    from tests.conftest import _fresh

    name, owner = _fresh(cluster, make_url(demo_db).database)
    env = {"RISKMAP_APP_DATABASE_URL": app_url(owner.url),
           "RISKMAP_SECRET_KEY": "browser-test-secret", "RISKMAP_HOME": str(home)}
    try:
        with served_app(cluster.url(name), auth=True, extra_env=env) as url:
            yield url, owner
    finally:
        owner.dispose()
        embedded.drop_database(cluster, name)


def sign_in_form(opener: urllib.request.OpenerDirector, base: str, account: str, password: str | None = None) -> bytes:
    """The body of a sign-in POST for a demo ``account``, with the CSRF token the sign-in page gives ``opener``.

    ``opener`` must keep cookies (the token lives in the session): load benchmarks sign in through it.
    """
    import re
    from urllib.parse import urlencode

    with opener.open(base + "/login", timeout=30) as resp:
        found = re.search(r'name="csrf_token" value="([^"]+)"', resp.read().decode("utf-8", errors="replace"))
    return urlencode({"username": account, "password": password or f"{account}-demo-2026", "next": "/",
                      "csrf_token": found.group(1) if found else ""}).encode()


def sign_in(driver: webdriver.Chrome, base: str, user: str, path: str = "/", password: str | None = None) -> None:
    """Fill in the log-in form as a demo ``user`` (password ``<user>-demo-2026`` unless given)."""
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/login?next={path}")
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password or f"{user}-demo-2026")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def text_at(driver: webdriver.Chrome, selector: str, missing: str | None = "", *, trim: bool = False) -> str | None:
    """``innerText`` of the first element matching ``selector``, or ``missing`` when there is none.

    Read in one script: callbacks re-render parts of the page, so element handles can go stale.
    """
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "return e ? (arguments[2] ? e.innerText.trim() : e.innerText) : arguments[1];", selector, missing, trim)
    return None if found is None else str(found)


def column_texts(driver: webdriver.Chrome, table_id: str, column: str) -> list[str]:
    """The trimmed texts of the cells of ``column`` in the Dash DataTable ``table_id`` (the current page)."""
    return list(driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim());",
        f"#{table_id} td[data-dash-column='{column}']"))


def choose_option(driver: webdriver.Chrome, dropdown_id: str, label: str) -> None:
    """Pick an option of a dcc.Dropdown by its visible label (the dropdown itself loads asynchronously)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 20).until(ec.element_to_be_clickable((By.ID, dropdown_id))).click()
    option = WebDriverWait(driver, 10).until(lambda d: next(
        (o for o in d.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
         if (o.get_attribute("textContent") or "").strip() == label), None))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", option)
    option.click()


def chromium(width: int = 1600, height: int = 1000) -> webdriver.Chrome:
    """Headless Debian Chromium with logging of console messages and network requests."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        raise RuntimeError("chromium and chromium-driver are required (./run.sh installs them)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--lang=zh-CN",
                f"--window-size={width},{height}", f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))


def requested_urls(driver: webdriver.Chrome) -> list[str]:
    """URLs the page requested so far (from the DevTools performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def foreign_requests(urls: list[str]) -> list[str]:
    """Requests that would leave the machine (anything but loopback, data: and blob:)."""
    out = []
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about", "chrome", "chrome-extension"):
            continue
        if parsed.hostname not in LOCAL_HOSTS:
            out.append(url)
    return out


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """Console messages of level SEVERE."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def assert_clean_page(driver: webdriver.Chrome) -> None:
    """The page logged no console error and requested nothing beyond this machine."""
    assert console_errors(driver) == []
    assert not foreign_requests(requested_urls(driver)), "page requested a non-local host"


def route_payload(path: str = "/", lang: str = "zh") -> dict[str, object]:
    """Body of the Dash callback that renders a page (what the browser posts on navigation)."""
    outputs = [("page-content", "children"), ("page-title", "children"), ("nav", "children"),
               ("demo-note", "children")]
    return {"output": "".join(f"..{i}.{p}.." for i, p in outputs).replace("....", "..."),
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [{"id": "url", "property": "pathname", "value": path},
                       {"id": "lang-switch", "property": "value", "value": lang}],
            "changedPropIds": ["url.pathname"], "state": []}


#: Stacked map features under the pixel of a location, top-most first: [fill colour, pane name].
_STACK_AT = """
const map = (window.riskmapMaps || {})[arguments[0]];
if (!map) { return null; }
const box = map.getContainer().getBoundingClientRect();
const at = map.latLngToContainerPoint([arguments[1], arguments[2]]);
const x = box.left + at.x, y = box.top + at.y;
if (x < box.left || x > box.right || y < box.top || y > box.bottom) { return null; }
return document.elementsFromPoint(x, y)
  .filter(e => e.matches('path.leaflet-interactive') && map.getContainer().contains(e))
  .map(e => {
    const pane = Array.from(e.closest('.leaflet-pane:not(.leaflet-map-pane)').classList)
      .find(c => c !== 'leaflet-pane' && c.startsWith('leaflet-') && c.endsWith('-pane')) || '';
    return [(e.getAttribute('fill') || '').toUpperCase(), pane.slice(8, -5)];
  });
"""


def stack_at(driver: webdriver.Chrome, map_id: str, lat: float, lon: float) -> list[list[str]] | None:
    """Map features drawn at a location of map ``map_id``, top-most first, as ``[fill, pane]``.

    Uses the documented test handle ``window.riskmapMaps`` (assets/riskmap_map.js) to project the
    location to a pixel and ``document.elementsFromPoint`` to read what is drawn there; None when the
    map is missing or the location is outside its view.
    """
    return driver.execute_script(_STACK_AT, map_id, lat, lon)  # type: ignore[no-any-return]


def sideways_overflow(driver: webdriver.Chrome) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scroll)."""
    return int(driver.execute_script(
        "const d = document.documentElement; return Math.max(0, d.scrollWidth - d.clientWidth);"))


def ui_text(driver: webdriver.Chrome) -> str:
    """Everything a user reads or hears on the page: visible text, placeholders, tooltips, ARIA labels."""
    return str(driver.execute_script(
        "const parts = [document.body.innerText];"
        "document.querySelectorAll('[placeholder],[title],[aria-label]').forEach(e => {"
        "  for (const a of ['placeholder', 'title', 'aria-label']) {"
        "    if (e.getAttribute(a)) { parts.push(e.getAttribute(a)); } } });"
        "return parts.join('\\n');"))
