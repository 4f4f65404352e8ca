"""The check benchmark's table: one row per task with RiskMap's time, the baselines, ratios and the target."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Issue #16's targets, by row kind.
TARGETS = {
    "full": "full run < 8 s",
    "distance": "≥ 1.5× best straightforward; ≥ 10× QGIS",
    "db": "DB end-to-end < 30 s",
    "precheck": "cold pre-check < 0.2 s",
}


@dataclass
class Row:
    """One measured task (seconds are medians of ``runs`` runs)."""

    task: str
    ours_s: float | None
    findings: int | None = None
    naive_s: float | None = None
    best_s: float | None = None
    postgis_s: float | None = None
    qgis_s: float | None = None
    runs: int = 0
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def ratios(self) -> dict[str, float | None]:
        """Baseline time over RiskMap's time (above 1: RiskMap is faster)."""
        def r(v: float | None) -> float | None:
            return None if v is None or not self.ours_s else v / self.ours_s
        return {"naive/ours": r(self.naive_s), "best/ours": r(self.best_s), "postgis/ours": r(self.postgis_s),
                "qgis/ours": r(self.qgis_s)}


def fitted_exponent(sizes: list[float], seconds: list[float]) -> float:
    """Return ``k`` of ``seconds ≈ c·sizes^k`` (least squares on logs)."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def _f(v: float | None, spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


def render(rows: list[Row]) -> str:
    """Return the table as text."""
    head = (f"{'task':<66}{'ours s':>9}{'naive':>9}{'best':>9}{'PostGIS':>9}{'QGIS':>7}"
            f"{'n/o':>6}{'b/o':>6}{'p/o':>6}{'q/o':>6}{'found':>8}  target / note")
    lines = [head, "-" * len(head)]
    for row in rows:
        ra = row.ratios()
        met = "" if row.met is None else (" [met]" if row.met else " [NOT met]")
        lines.append(
            f"{row.task:<66}{_f(row.ours_s):>9}{_f(row.naive_s):>9}{_f(row.best_s):>9}{_f(row.postgis_s):>9}"
            f"{_f(row.qgis_s, '.1f'):>7}{_f(ra['naive/ours'], '.2f'):>6}{_f(ra['best/ours'], '.2f'):>6}"
            f"{_f(ra['postgis/ours'], '.2f'):>6}{_f(ra['qgis/ours'], '.1f'):>6}"
            f"{'-' if row.findings is None else row.findings:>8}  "
            + "; ".join(p for p in (f"{row.target}{met}", row.note) if p))
    return "\n".join(lines)


def write_json(path: Path, rows: list[Row], meta: dict[str, Any]) -> None:
    """Write the rows (with their ratios) and ``meta`` as JSON."""
    data = {"meta": meta, "rows": [{**asdict(r), "ratios": r.ratios()} for r in rows]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def markdown(paths: list[Path]) -> str:
    """Return the rows of one or more JSON files written by ``--json`` as one Markdown table."""
    out = ["| task | RiskMap s | naive s | best s | PostGIS s | QGIS s | naive/ours | best/ours | PostGIS/ours | "
           "QGIS/ours | found | target / note |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for path in paths:
        for row in json.loads(path.read_text(encoding="utf-8"))["rows"]:
            met = "" if row["met"] is None else (" **met**" if row["met"] else " **not met**")
            ra = row["ratios"]
            note = "; ".join(p for p in (f"{row['target']}{met}".strip(), row["note"]) if p)
            cells = [row["task"].strip(), *(_f(row[k], ".2f") for k in ("ours_s", "naive_s", "best_s", "postgis_s")),
                     _f(row["qgis_s"], ".1f"), *(_f(ra[k], ".2f") for k in ("naive/ours", "best/ours", "postgis/ours")),
                     _f(ra["qgis/ours"], ".1f"), "-" if row["findings"] is None else str(row["findings"]), note]
            out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    import sys

    print(markdown([Path(p) for p in sys.argv[1:]]))
