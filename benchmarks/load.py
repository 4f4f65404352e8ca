"""Load and fault test: concurrent sessions against the served app on localhost, optionally restarting PostgreSQL.

Run:  .venv/bin/python -m benchmarks.load [--sessions 20] [--seconds 30] [--restart-db]

Each session signs in as one of the demo accounts (leader, planner, viewer, admin, and the
安宁 district officer; sign-in can be turned off with --no-auth) and then repeats what a browser
does on the cockpit: the page, the layout, and the Dash callbacks that render the page and drill
into a district (its own, for the officer). With sign-in on the app connects as ``riskmap_app``,
so every request runs under row-level security as in production. The run is bounded in time and
only talks to 127.0.0.1. With --restart-db the embedded PostgreSQL is stopped for a few seconds in the
middle of the run: requests may fail cleanly (HTTP 5xx) while it is down and must succeed again
afterwards, without restarting the app. Prints p50/p95 latency and error counts per phase.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
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
from tests.browser import route_payload, served_app, sign_in_form

ROUTE = route_payload("/")
DRILL = {"output": "..kpi-strip.children...district-explain.children...level-chart.figure...source-table.data..",
         "outputs": [{"id": "kpi-strip", "property": "children"}, {"id": "district-explain", "property": "children"},
                     {"id": "level-chart", "property": "figure"}, {"id": "source-table", "property": "data"}],
         "inputs": [{"id": "selected-district", "property": "data", "value": "530181"}],
         "changedPropIds": ["selected-district.data"],
         "state": [{"id": "lang-switch", "property": "value", "value": "zh"}]}


@dataclass
class Tally:
    """Latencies and errors, per phase."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, phase: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault(phase, []).append(seconds)
            self.errors[phase] = self.errors.get(phase, 0) + (0 if ok else 1)


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
    while time.monotonic() < deadline:
        for path, body in (("/", None), ("/_dash-layout", None), ("/_dash-update-component", ROUTE),
                           ("/_dash-update-component", DRILL)):
            t0 = time.perf_counter()
            ok = _request(opener, base + path, body)
            tally.add(phase[0], time.perf_counter() - t0, ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--restart-db", action="store_true", help="stop the embedded PostgreSQL mid-run")
    parser.add_argument("--auth", action=argparse.BooleanOptionalAction, default=True,
                        help="sign in as demo accounts (default) or run with sign-in off")
    args = parser.parse_args()
    settings = load_settings()
    url = store.engine_url(settings)
    env = {}
    if args.auth:
        env["RISKMAP_APP_DATABASE_URL"] = make_url(url).set(username="riskmap_app").render_as_string(
            hide_password=False)
    tally, phase = Tally(), ["before"]
    with served_app(url, workers=2, auth=args.auth, extra_env=env) as base:
        deadline = time.monotonic() + args.seconds
        threads = [threading.Thread(target=_session, daemon=True, args=(
            base, deadline, tally, phase, ACCOUNTS[i % len(ACCOUNTS)] if args.auth else None))
            for i in range(args.sessions)]
        for th in threads:
            th.start()
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
    print(f"{'phase':<16}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for name, values in tally.latencies.items():
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(f"{name:<16}{len(values):>10}{tally.errors[name]:>8}{statistics.median(values) * 1000:>9.0f}"
              f"{p95 * 1000:>9.0f}")
    if args.restart_db and tally.errors.get("after restart", 0):
        raise SystemExit("requests still failed after PostgreSQL came back")


if __name__ == "__main__":
    main()
