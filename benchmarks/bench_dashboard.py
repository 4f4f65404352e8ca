"""Time the leader cockpit in headless Chromium: city view load, bytes sent, district switch.

Run:  .venv/bin/python -m benchmarks.bench_dashboard [--repeat 5]
Uses RISKMAP_DATABASE_URL or the embedded store (load the demo first: ``riskmap demo``).

Baseline in the same run: the snapshot rebuilt on every request (no data-version cache),
which is what each page load and district switch would cost without it.
Targets (issue #5): city view < 2 s and < 3 MB; district switch < 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
from selenium.webdriver.common.by import By

from geo import store
from geo.config import load_settings
from layers.city import build_snapshot, city_snapshot
from tests.browser import chromium, served_app

READY_JS = """
const table = document.getElementById('district-table');
const paths = document.querySelectorAll('#risk-map path.leaflet-interactive').length;
return !!(table && table.textContent.includes('安宁市') && paths >= 14);
"""
BYTES_JS = """
const entries = performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'));
return entries.reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0);
"""
KPI_JS = "const e = document.querySelector('#kpi-kpi_major .kpi-value'); return e ? e.textContent : null;"


def _wait(driver, predicate, timeout: float = 30.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if predicate():
            return time.perf_counter() - start
        time.sleep(0.005)
    raise TimeoutError("page did not reach the expected state")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = store.engine_url(load_settings())
    engine = store.make_engine(url)
    snap = city_snapshot(engine)
    district_major = {a: str(snap.kpis(a)["major_risks"]) for a in ("530181", "530113", "530102")}
    loads, sizes, switches = [], [], []
    with served_app(url, workers=2) as base:
        driver = chromium()
        try:
            t0 = time.perf_counter()
            driver.get(base + "/")
            _wait(driver, lambda: driver.execute_script(READY_JS))
            first = time.perf_counter() - t0  # includes worker start-up and the first snapshot
            for _ in range(args.repeat):
                driver.execute_cdp_cmd("Network.clearBrowserCache", {})
                t0 = time.perf_counter()
                driver.get(base + "/")
                _wait(driver, lambda: driver.execute_script(READY_JS))
                loads.append(time.perf_counter() - t0)
                sizes.append(driver.execute_script(BYTES_JS) / 1e6)
                for adcode, name in (("530181", "安宁市"), ("530113", "东川区"), ("530102", "五华区")):
                    cell = next(c for c in driver.find_elements(By.CSS_SELECTOR, "#district-table td")
                                if c.text == name)
                    before = driver.execute_script(KPI_JS)
                    t1 = time.perf_counter()
                    cell.click()
                    expected = district_major[adcode]
                    if expected == before:  # the number may not change; wait for the explanation instead
                        _wait(driver, lambda n=name: n in driver.find_element(By.ID, "district-explain").text)
                    else:
                        _wait(driver, lambda e=expected: driver.execute_script(KPI_JS) == e)
                    switches.append(time.perf_counter() - t1)
                    driver.find_element(By.ID, "back-to-city").click()
                    time.sleep(0.3)
        finally:
            driver.quit()
    cold, warm = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        build_snapshot(engine, version=store.data_version(engine), as_of=snap.as_of)
        cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        city_snapshot(engine)
        warm.append(time.perf_counter() - t0)
    rows = [
        ("first load after server start (s)", first, first, None),
        ("city view load (s), browser cache cleared", statistics.median(loads), max(loads), 2.0),
        ("city view transfer (MB)", statistics.median(sizes), max(sizes), 3.0),
        ("district switch (s)", statistics.median(switches), max(switches), 0.3),
        ("snapshot per request, rebuilt (s) [baseline]", statistics.median(cold), max(cold), None),
        ("snapshot per request, cached (s)", statistics.median(warm), max(warm), None),
    ]
    table = pd.DataFrame(rows, columns=["measure", "median", "max", "target"])
    pd.set_option("display.width", 140)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"cache ratio (rebuilt / cached): {statistics.median(cold) / statistics.median(warm):.0f}x "
          f"over {args.repeat} runs; {len(switches)} district switches")


if __name__ == "__main__":
    main()
