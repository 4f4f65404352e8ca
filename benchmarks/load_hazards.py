"""Load on the campaign pages: concurrent people working hazards (list, open, take a step) on the served app.

Run:  .venv/bin/python -m benchmarks.load_hazards [--sessions 20] [--seconds 30]

Needs the demo in the store (``riskmap demo``). Each session signs in — the 安宁 officer or the city
supervisor, in turn — and repeats what a browser does on the hazard pages: the register page with its
inbox, the register's table callback, one hazard's page, and a step on it (批准延期: the deadline one day
later, with a comment), posted as the page's own Dash callback. Each session works its own hazard
(rectifying ones, picked by the owner beforehand), so steps rarely collide; a step refused because
someone else moved the hazard first is counted apart from errors. Everything runs as ``riskmap_app``
under row-level security, against 127.0.0.1 only. Prints p50/p95 latency and errors per request kind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import json
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from campaign.lifecycle import load_lifecycle
from dashboard.pages import hazard as hazard_page
from dashboard.pages import hazards as hazards_page
from geo import store
from geo.config import load_settings
from tests.browser import route_payload, served_app, sign_in_form

ACCOUNTS = ("anning", "supervisor")


@dataclass
class Tally:
    """Latencies, errors and refused steps per request kind."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    stale: int = 0
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            self.errors[kind] = self.errors.get(kind, 0) + (0 if ok else 1)


def _post(opener: urllib.request.OpenerDirector, url: str, body: dict[str, Any] | None) -> tuple[bool, str]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with opener.open(req, timeout=30) as resp:
            payload = resp.read().decode("utf-8", errors="replace")
            return 200 <= resp.status < 300 and "/login" not in resp.geturl(), payload
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return False, ""


def _callback(outputs: list[tuple[str, str]], inputs: list[tuple[str, str, Any]],
              state: list[tuple[str, str, Any]]) -> dict[str, Any]:
    return {"output": "".join(f"..{i}.{p}.." for i, p in outputs).replace("....", "...") if len(outputs) > 1
            else f"{outputs[0][0]}.{outputs[0][1]}",
            "outputs": [{"id": i, "property": p} for i, p in outputs] if len(outputs) > 1
            else {"id": outputs[0][0], "property": outputs[0][1]},
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
            "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
            "changedPropIds": [f"{inputs[0][0]}.{inputs[0][1]}"]}


def _table_body() -> dict[str, Any]:
    filters = [(hazards_page.HZ_DISTRICT, "value", None), (hazards_page.HZ_SEVERITY, "value", None),
               (hazards_page.HZ_SOURCE, "value", None), (hazards_page.HZ_STATE, "value", ["rectifying"]),
               (hazards_page.HZ_INDUSTRY, "value", None), (hazards_page.HZ_FLAGS, "value", [])]
    return _callback([(hazards_page.HZ_TABLE, "data"), (hazards_page.HZ_POINTS, "data"),
                      (hazards_page.HZ_COUNT, "children")], filters, [("lang-switch", "value", "zh")])


def _step_body(hazard_id: int, version: int, deadline: dt.date) -> dict[str, Any]:
    fields = [(hazard_page.field_id(n), "value", deadline.isoformat() if n == "deadline" else None)
              for n in load_lifecycle().fields]
    state = [(hazard_page.HD_ACTION, "value", "extend"), (hazard_page.HD_ID, "data", hazard_id),
             (hazard_page.HD_VERSION, "data", version), *fields,
             (hazard_page.HD_COMMENT, "value", "压力测试：批准延期"), (hazard_page.HD_FILES, "contents", None),
             (hazard_page.HD_FILES, "filename", None), ("lang-switch", "value", "zh")]
    return _callback([(hazard_page.HD_MESSAGE, "children"), (hazard_page.HD_BODY, "children")],
                     [(hazard_page.HD_SUBMIT, "n_clicks", 1)], state)


def _session(base: str, deadline: float, tally: Tally, account: str, work: dict[str, Any]) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    t0 = time.perf_counter()
    try:
        form = sign_in_form(opener, base, account)  # the sign-in page first: its form carries the CSRF token
        with opener.open(urllib.request.Request(base + "/login", data=form), timeout=30) as resp:
            resp.read()
            ok = "/login" not in resp.geturl()
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        ok = False
    tally.add("sign-in", time.perf_counter() - t0, ok)
    version, due = int(work["version"]), max(work["deadline"], dt.date.today())  # an extension ends in the future
    while time.monotonic() < deadline:
        for kind, body in (("register page", route_payload(hazards_page.PATH)), ("register table", _table_body()),
                           ("hazard page", route_payload(f"{hazards_page.PATH}/{work['id']}"))):
            t0 = time.perf_counter()
            ok, _ = _post(opener, base + "/_dash-update-component", body)
            tally.add(kind, time.perf_counter() - t0, ok)
        due = due + dt.timedelta(days=1)
        t0 = time.perf_counter()
        ok, payload = _post(opener, base + "/_dash-update-component", _step_body(int(work["id"]), version, due))
        took = time.perf_counter() - t0
        if ok:
            payload = json.dumps(json.loads(payload), ensure_ascii=False)  # Dash escapes non-ASCII
        if ok and "hd-done" in payload:
            version += 1
            tally.add("step (延期)", took, True)
        elif ok and "已被他人修改" in payload:
            with tally.lock:
                tally.stale += 1
            tally.add("step (延期)", took, True)
        else:
            tally.add("step (延期)", took, False)
            with tally.lock:
                tally.samples.append(payload[:400])


def _work(url: str, sessions: int) -> list[dict[str, Any]]:
    """One rectifying hazard per session: 安宁's for the officer's sessions, any district's for the supervisor's."""
    engine = store.make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, version, deadline, adcode FROM hidden_hazards WHERE state = 'rectifying' "
            "AND deadline IS NOT NULL ORDER BY adcode = '530181' DESC, id")).mappings().all()
    engine.dispose()
    anning = [dict(r) for r in rows if r["adcode"] == "530181"]
    others = [dict(r) for r in rows if r["adcode"] != "530181"]
    out = []
    for i in range(sessions):
        pool = anning if ACCOUNTS[i % 2] == "anning" else others
        if not pool:
            raise SystemExit("the demo has too few rectifying hazards for this many sessions")
        out.append(pool[(i // 2) % len(pool)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    settings = load_settings()
    url = store.engine_url(settings)
    env = {"RISKMAP_APP_DATABASE_URL": make_url(url).set(username="riskmap_app").render_as_string(
        hide_password=False)}
    work = _work(url, args.sessions)
    tally = Tally()
    with served_app(url, workers=2, auth=True, extra_env=env) as base:
        stop = time.monotonic() + args.seconds
        threads = [threading.Thread(target=_session, daemon=True,
                                    args=(base, stop, tally, ACCOUNTS[i % 2], dict(work[i])))
                   for i in range(args.sessions)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    print(f"{args.sessions} sessions for {args.seconds:.0f} s (2 gunicorn workers; signed in as "
          f"{' and '.join(ACCOUNTS)} in turn, as riskmap_app under row-level security)")
    print(f"{'request':<16}{'count':>8}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for name, values in tally.latencies.items():
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(f"{name:<16}{len(values):>8}{tally.errors[name]:>8}{statistics.median(values) * 1000:>9.0f}"
              f"{p95 * 1000:>9.0f}")
    print(f"steps refused because another session moved the hazard first: {tally.stale}")
    for sample in tally.samples[:3]:
        print("failed step, answer:", sample)


if __name__ == "__main__":
    main()
