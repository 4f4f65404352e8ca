"""Load and fault test: concurrent sessions against the served app on localhost, optionally restarting PostgreSQL.

Run:  .venv/bin/python -m benchmarks.load [--sessions 20] [--seconds 30] [--restart-db]

Each session repeats what a browser does on the cockpit: the page, the layout, and the Dash
callbacks that render the page and drill into a district. The run is bounded in time and only
talks to 127.0.0.1. With --restart-db the embedded PostgreSQL is stopped for a few seconds in the
middle of the run: requests may fail cleanly (HTTP 5xx) while it is down and must succeed again
afterwards, without restarting the app. Prints p50/p95 latency and error counts per phase.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from geo import embedded, store
from geo.config import load_settings
from tests.browser import route_payload, served_app

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


def _request(url: str, body: dict | None = None) -> bool:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()
            return 200 <= resp.status < 300
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return False


def _session(base: str, deadline: float, tally: Tally, phase: list[str]) -> None:
    while time.monotonic() < deadline:
        for path, body in (("/", None), ("/_dash-layout", None), ("/_dash-update-component", ROUTE),
                           ("/_dash-update-component", DRILL)):
            t0 = time.perf_counter()
            ok = _request(base + path, body)
            tally.add(phase[0], time.perf_counter() - t0, ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--restart-db", action="store_true", help="stop the embedded PostgreSQL mid-run")
    args = parser.parse_args()
    settings = load_settings()
    url = store.engine_url(settings)
    tally, phase = Tally(), ["before"]
    with served_app(url, workers=2) as base:
        deadline = time.monotonic() + args.seconds
        threads = [threading.Thread(target=_session, args=(base, deadline, tally, phase), daemon=True)
                   for _ in range(args.sessions)]
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
    print(f"{args.sessions} sessions for {args.seconds:.0f} s against {base} (2 gunicorn workers)")
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
