"""Run the check families over a bundle and summarise the findings (no I/O here)."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from geo.checks.bundle import Bundle
from geo.checks.families import FAMILIES as FAMILY_TABLE
from geo.checks.families import FamilyRun, family_names
from geo.checks.findings import findings_frame
from geo.checks.ruleset import RuleSet, load_ruleset
from geo.constants import STORAGE_SRID

#: Families in the order they run (the keys of :data:`geo.checks.families.FAMILIES`).
FAMILIES = family_names()
#: Most threads a run uses (one per core, up to this): the geometry work of a family runs in GEOS and
#: PROJ without Python's lock, the rest of it holds the lock, so more threads than this gain nothing.
MAX_THREADS = 4


def default_threads() -> int:
    """Return how many threads a run uses by default: the cores of this machine, at most :data:`MAX_THREADS`.

    Examples
    --------
    >>> 1 <= default_threads() <= MAX_THREADS
    True
    """
    return max(1, min(os.cpu_count() or 1, MAX_THREADS))


@dataclass
class CheckResult:
    """Findings of one run, identified HCA segments, the rule-set version and timings."""

    findings: gpd.GeoDataFrame
    hca_segments: gpd.GeoDataFrame | None
    rule_set_version: str
    rules_run: list[str]
    timings: dict[str, float] = field(default_factory=dict)


def _family(name: str, bundle: Bundle, rules: RuleSet, as_of: dt.date,
            dem: object | None) -> FamilyRun:
    if name not in FAMILY_TABLE:
        raise ValueError(f"unknown check family {name!r}; known: {', '.join(FAMILIES)}")
    return FAMILY_TABLE[name].run(bundle, rules, as_of, dem)  # type: ignore[arg-type]


def run_checks(
    bundle: Bundle,
    rules: RuleSet | None = None,
    *,
    families: Sequence[str] | None = None,
    rule_codes: Sequence[str] | None = None,
    as_of: dt.date | None = None,
    dem: object | None = None,
    progress: Callable[[str], object] | None = None,
    threads: int | None = None,
) -> CheckResult:
    """Run check families over ``bundle``.

    Parameters
    ----------
    bundle : Bundle
        Input layers.
    rules : RuleSet, optional
        Rule set (default: ``geo/rules/checks.yaml``).
    families : sequence of str, optional
        Families to run (default: all of :data:`FAMILIES`).
    rule_codes : sequence of str, optional
        Keep only findings of these rules (their families are run).
    as_of : date, optional
        Reference date for date rules (default: today).
    dem : DemGrid, optional
        Elevation grid for the 头顶库 flow path.
    progress : callable, optional
        Called with a message as each family starts and ends (from the family's thread).
    threads : int, optional
        Families run side by side in this many threads (default :func:`default_threads`; 1 runs them
        one after the other). The heaviest start first (``Family.cost``); the findings are the same
        and in the same order either way, and ``timings`` holds each family's own wall time.

    Returns
    -------
    CheckResult
    """
    rules = rules or load_ruleset()
    strays = [f"rule {r.code}: unknown family {r.family!r}" for r in rules.rules.values()
              if r.family not in FAMILY_TABLE]
    if strays:  # a rule of a family outside the table would never run
        raise ValueError(f"{'; '.join(strays)}; known: {', '.join(FAMILIES)}")
    say = progress or (lambda _m: None)
    wanted = list(families or FAMILIES)
    if rule_codes:
        unknown = [c for c in rule_codes if c not in rules.rules]
        if unknown:
            raise ValueError(f"unknown rule codes {unknown}; known: {', '.join(rules.rules)}")
        wanted = [f for f in FAMILIES if any(rules[c].family == f for c in rule_codes)]
    when = as_of or dt.date.today()
    timings: dict[str, float] = {}

    def one(i: int, name: str) -> FamilyRun:
        say(f"[{i}/{len(wanted)}] {name} …")
        t0 = time.perf_counter()
        run = _family(name, bundle, rules, when, dem)
        timings[name] = time.perf_counter() - t0
        say(f"[{i}/{len(wanted)}] {name}: {len(run[0])} findings, {timings[name]:.2f} s")
        return run

    workers = min(len(wanted), threads or default_threads())
    if workers > 1:
        heaviest = sorted(range(len(wanted)), key=lambda k: -FAMILY_TABLE[wanted[k]].cost)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="riskmap-check")
        try:
            futures = {k: pool.submit(one, k + 1, wanted[k]) for k in heaviest}
            wait(futures.values(), return_when=FIRST_EXCEPTION)   # the first failure ends the wait
            failed = [k for k in range(len(wanted)) if futures[k].done() and futures[k].exception() is not None]
            if failed:
                futures[failed[0]].result()   # raises it
            runs = [futures[k].result() for k in range(len(wanted))]
        except BaseException:  # a family failed or the user interrupted: start no other family
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    else:
        runs = [one(i, name) for i, name in enumerate(wanted, 1)]
    parts = [found for found, _segs in runs]
    segments = next((segs for _found, segs in reversed(runs) if segs is not None), None)
    timings = {name: timings[name] for name in wanted}
    nonempty = [p for p in parts if len(p)]
    findings = (gpd.GeoDataFrame(pd.concat(nonempty, ignore_index=True), crs=STORAGE_SRID) if nonempty
                else findings_frame([]))
    run_rules = [r.code for f in wanted for r in rules.family(f)]
    if rule_codes:
        findings = findings[findings["rule_code"].isin(rule_codes)].reset_index(drop=True)
        run_rules = list(rule_codes)
    return CheckResult(findings, segments, rules.version, run_rules, timings)


def summary_table(findings: pd.DataFrame, rules: RuleSet | None = None) -> pd.DataFrame:
    """Count findings per rule and verdict, with the rule's clause and name.

    Parameters
    ----------
    findings : DataFrame
        Findings (as returned by :func:`run_checks`).
    rules : RuleSet, optional
        For names of rules without findings (they get a zero row).

    Returns
    -------
    DataFrame
        Columns rule_code, name, clause, verdict, count.
    """
    rules = rules or load_ruleset()
    rows = []
    counts = findings.groupby(["rule_code", "verdict"]).size() if len(findings) else pd.Series(dtype=int)
    for code, rule in rules.rules.items():
        verdicts = counts[code] if len(counts) and code in counts.index.get_level_values(0) else None
        if verdicts is None:
            rows.append({"rule_code": code, "name": rule.zh, "clause": rule.clause, "verdict": "-", "count": 0})
            continue
        for verdict, n in pd.Series(verdicts).items():
            rows.append({"rule_code": code, "name": rule.zh, "clause": rule.clause, "verdict": verdict,
                         "count": int(n)})
    return pd.DataFrame(rows, columns=["rule_code", "name", "clause", "verdict", "count"])


def _metres(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return f"{float(value):.1f} m"  # type: ignore[arg-type]


def finding_lines(findings: pd.DataFrame) -> list[str]:
    """One line per finding: rule | clause | subject → object | measured / required | verdict | detail.

    Parameters
    ----------
    findings : DataFrame
        Findings frame.

    Returns
    -------
    list of str
    """
    lines = []
    for r in findings.to_dict("records"):
        subject = r["subject_name"] or r["subject_key"]
        obj = r["object_name"] or r["object_key"]
        lines.append(
            f"{r['rule_code']} | {r['clause']} | {r['subject_type']}:{subject} → {r['object_type']}:{obj} | "
            f"{_metres(r['measured_m'])} / {_metres(r['required_m'])} | {r['verdict']} | {r['detail']}"
        )
    return lines
