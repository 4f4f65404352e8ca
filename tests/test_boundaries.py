"""Architecture rules that must hold: layering by imports, no SQL in the UI, generated docs current."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("package", ["geo", "layers"])
def test_geo_and_layers_never_import_dash(package: str) -> None:
    offenders = [p for p in (ROOT / package).rglob("*.py") if {"dash", "plotly", "dashboard"} & _imports(p)]
    assert offenders == []


def test_geo_does_not_depend_on_layers_or_dashboard() -> None:
    offenders = [p for p in (ROOT / "geo").rglob("*.py")
                 if {"layers", "campaign", "dashboard"} & _imports(p) and "versions" not in p.parts]
    assert offenders == []


def test_campaign_sits_between_geo_and_the_dashboard() -> None:
    # the campaign's services use geo; layers and the dashboard use the campaign, never the other way
    offenders = [p for p in (ROOT / "campaign").rglob("*.py") if {"layers", "dashboard", "dash"} & _imports(p)]
    assert offenders == []


def test_dashboard_builds_no_sql() -> None:
    sql = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b\s+[\w\"*]|\btext\(|\bselect\(|psycopg|create_engine")
    offenders = []
    for path in (ROOT / "dashboard").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if sql.search(source):
            offenders.append(path.name)
    assert offenders == []


def test_only_store_and_migrations_touch_the_database() -> None:
    # the database boundary is the package geo/store/, plus the schema and the migrations
    store = ROOT / "geo" / "store"
    allowed = {ROOT / "geo" / "schema.py", ROOT / "geo" / "migrations" / "env.py"}
    pattern = re.compile(r"\.execute\(|create_engine|read_postgis|pd\.read_sql")
    offenders = [
        str(p.relative_to(ROOT)) for pkg in ("geo", "identity", "layers", "campaign", "dashboard", "riskmap")
        for p in (ROOT / pkg).rglob("*.py")
        if p not in allowed and store not in p.parents and "versions" not in p.parts
        and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert (store / "__init__.py").is_file() and not (ROOT / "geo" / "store.py").exists()


def test_no_work_at_import_time() -> None:
    # RISKMAP_HOME points nowhere: any import that tried to start or reach a database would fail.
    code = ("import geo.store, geo.importer, identity.accounts, identity.permissions, layers.templates, "
            "layers.demo_load, dashboard.app, riskmap.cli")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", "RISKMAP_HOME": "/nonexistent/riskmap"}, check=False)
    assert out.returncode == 0, out.stderr


def test_data_dictionary_is_current() -> None:
    from layers.dictionary import render_dictionary

    assert (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8") == render_dictionary()
