"""Load and fault test: concurrent sessions against the served app on localhost, optionally restarting PostgreSQL.

Run:  .venv/bin/python -m benchmarks.load [--sessions 20] [--seconds 30] [--warm-up 0] [--restart-db]

Each session signs in as one of the demo accounts (leader, planner, viewer, admin, and the
安宁 district officer; sign-in can be turned off with --no-auth) and then repeats what a browser
does on the cockpit: the page, the layout, the Dash callback that renders the page, the callbacks
its panels fire when they appear (map overlays, 12-month trends, changes since the last month end;
the trends and changes of the officer's own district) and a drill into a district (its own, for
the officer). With sign-in on the app connects as ``riskmap_app``,
so every request runs under row-level security as in production. The run is bounded in time and
only talks to 127.0.0.1. With --restart-db the embedded PostgreSQL is stopped for a few seconds in the
middle of the run: requests may fail cleanly (HTTP 5xx) while it is down and must succeed again
afterwards, without restarting the app. Prints p50/p95 latency and error counts per phase.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

from geo import embedded, store
from geo.config import load_settings
from geo.constants import LOCAL_ZONE
from layers.snapshots import CITY, month_ends
from tests.browser import route_payload, served_app, sign_in_form

ROUTE = route_payload("/")
DRILL: dict[str, object] = {
    "output": "..kpi-strip.children...district-explain.children...level-chart.figure...source-table.data..",
    "outputs": [{"id": "kpi-strip", "property": "children"}, {"id": "district-explain", "property": "children"},
                {"id": "level-chart", "property": "figure"}, {"id": "source-table", "property": "data"}],
    "inputs": [{"id": "selected-district", "property": "data", "value": "530181"}],
    "changedPropIds": ["selected-district.data"],
    "state": [{"id": "lang-switch", "property": "value", "value": "zh"}]}


#: Map overlays of the cockpit and the ones it shows at first (dashboard/pages/cockpit.py).
OVERLAYS = ("enterprises", "tailings_dams", "pipelines", "hcas", "risk_points", "protection_targets", "findings")
SHOWN = ["enterprises", "tailings_dams", "pipelines", "hcas"]
LANG = {"id": "lang-switch", "property": "value", "value": "zh"}


def _outputs(pairs: list[tuple[str, str]]) -> dict[str, object]:
    """The ``output``/``outputs`` fields of a callback body with several outputs."""
    return {"output": ".." + "...".join(f"{i}.{p}" for i, p in pairs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in pairs]}


OVERLAY_DATA = {**_outputs([(f"overlay-{n}", "data") for n in OVERLAYS]),
                "inputs": [{"id": "map-layers", "property": "value", "value": SHOWN},
                           {"id": "selected-district", "property": "data", "value": None}],
                "changedPropIds": [], "state": [LANG]}


def panel_bodies(scope: str, since: str) -> list[dict[str, object]]:
    """The callbacks of the cockpit's trend and change panels for ``scope`` (the city or a district)."""
    store_ = {"id": "cockpit-trend-scope", "property": "data", "value": scope}
    return [{"output": "cockpit-trends.children", "outputs": {"id": "cockpit-trends", "property": "children"},
             "inputs": [store_], "changedPropIds": [], "state": [LANG]},
            {"output": "cockpit-changes.children", "outputs": {"id": "cockpit-changes", "property": "children"},
             "inputs": [{"id": "cockpit-changes-since", "property": "date", "value": since}],
             "changedPropIds": [], "state": [store_, LANG]}]


def requests_of(scope: str, since: str) -> list[tuple[str, str, dict[str, object] | None]]:
    """The requests of one round of a session whose trends scope is ``scope``."""
    trends_body, changes_body = panel_bodies(scope, since)
    return [("page", "/", None), ("layout", "/_dash-layout", None), ("route", "/_dash-update-component", ROUTE),
            ("overlays", "/_dash-update-component", OVERLAY_DATA), ("trends", "/_dash-update-component", trends_body),
            ("changes", "/_dash-update-component", changes_body), ("drill", "/_dash-update-component", DRILL)]


#: The district of a demo district officer (their cockpit shows its trends).
OFFICER_DISTRICT = {"anning": "530181"}


@dataclass
class Tally:
    """Latencies and errors, per phase."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    #: Latencies of each kind of request over the run after the warm-up.
    kinds: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, phase: str, seconds: float, ok: bool, kind: str | None = None) -> None:
        with self.lock:
            self.latencies.setdefault(phase, []).append(seconds)
            self.errors[phase] = self.errors.get(phase, 0) + (0 if ok else 1)
            if kind is not None and phase != "warm-up":
                self.kinds.setdefault(kind, []).append(seconds)


#: Demo accounts the sessions sign in as, in turn (password ``<name>-demo-2026``).
ACCOUNTS = ("leader", "anning", "planner", "viewer", "admin")


def _request(opener: urllib.request.OpenerDirector, url: str, body: dict | None = None) -> bool:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with opener.open(req, timeout=30) as resp:
            resp.read()
            return 200 <= resp.status < 300 and "/login" not in resp.geturl()
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return False


def _sign_in(opener: urllib.request.OpenerDirector, base: str, account: str) -> bool:
    try:
        form = sign_in_form(opener, base, account)  # the sign-in page first: its form carries the CSRF token
        with opener.open(urllib.request.Request(base + "/login", data=form), timeout=30) as resp:
            resp.read()
            return "/login" not in resp.geturl()
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return False


def _session(base: str, deadline: float, tally: Tally, phase: list[str], account: str | None) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    if account is not None:
        t0 = time.perf_counter()
        signed_in = _sign_in(opener, base, account)
        tally.add("sign-in", time.perf_counter() - t0, signed_in)
    scope = OFFICER_DISTRICT.get(account or "", CITY)
    rounds = requests_of(scope, month_ends(dt.datetime.now(LOCAL_ZONE).date(), 1)[0].isoformat())
    while time.monotonic() < deadline:
        for kind, path, body in rounds:
            t0 = time.perf_counter()
            ok = _request(opener, base + path, body)
            tally.add(phase[0], time.perf_counter() - t0, ok, kind)


def _quantiles(values: list[float]) -> str:
    """p50 and p95 of ``values`` in milliseconds, as the table prints them."""
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    return f"{statistics.median(values) * 1000:>9.0f}{p95 * 1000:>9.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--restart-db", action="store_true", help="stop the embedded PostgreSQL mid-run")
    parser.add_argument("--warm-up", type=float, default=0.0, metavar="SECONDS",
                        help="run this long first and report it apart (phase warm-up: sign-in storm, caches filled)")
    parser.add_argument("--auth", action=argparse.BooleanOptionalAction, default=True,
                        help="sign in as demo accounts (default) or run with sign-in off")
    args = parser.parse_args()
    settings = load_settings()
    url = store.engine_url(settings)
    env = {}
    if args.auth:
        env["RISKMAP_APP_DATABASE_URL"] = make_url(url).set(username="riskmap_app").render_as_string(
            hide_password=False)
    tally, phase = Tally(), ["warm-up" if args.warm_up > 0 else "before"]
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    with served_app(url, workers=2, auth=args.auth, extra_env=env) as base:
        deadline = time.monotonic() + args.warm_up + args.seconds
        threads = [threading.Thread(target=_session, daemon=True, args=(
            base, deadline, tally, phase, ACCOUNTS[i % len(ACCOUNTS)] if args.auth else None))
            for i in range(args.sessions)]
        for th in threads:
            th.start()
        if args.warm_up > 0:
            time.sleep(args.warm_up)
            phase[0] = "before"
        if args.restart_db:
            if settings.database_url:
                raise SystemExit("--restart-db needs the embedded database (RISKMAP_DATABASE_URL is set)")
            cluster = embedded.cluster_for(settings.home, settings.pg_os_user)
            time.sleep(args.seconds / 3)
            phase[0] = "database down"
            embedded.stop(cluster)
            time.sleep(3)
            embedded.start(cluster)
            phase[0] = "after restart"
        for th in threads:
            th.join()
    who = f"signed in as {', '.join(ACCOUNTS)} in turn" if args.auth else "sign-in off"
    print(f"{args.sessions} sessions for {args.seconds:.0f} s against {base} (2 gunicorn workers, {who})")
    print(f"load average before/after: {load_before} / {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'phase':<16}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for name, values in tally.latencies.items():
        print(f"{name:<16}{len(values):>10}{tally.errors[name]:>8}{_quantiles(values)}")
    print(f"{'request':<16}{'requests':>10}{'':>8}{'p50 ms':>9}{'p95 ms':>9}   (after the warm-up)")
    for name, values in tally.kinds.items():
        print(f"{name:<16}{len(values):>10}{'':>8}{_quantiles(values)}")
    if args.restart_db and tally.errors.get("after restart", 0):
        raise SystemExit("requests still failed after PostgreSQL came back")


if __name__ == "__main__":
    main()
