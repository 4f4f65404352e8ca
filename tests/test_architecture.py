"""The house rules of docs/architecture.md, checked on the source tree.

* Packages are layered: each may import only the packages below it (``geo`` at the bottom, the command
  line at the top). Migrations are history and may read the data a migration seeds.
* No import cycles between first-party modules, counting imports inside functions too.
* Modules stay small (about 500 lines; migrations excepted) and none is called ``utils``.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Packages from the bottom up; a package may import those at its own rank or below.
LAYERS: dict[str, int] = {"geo": 0, "identity": 1, "campaign": 2, "layers": 3, "dashboard": 4, "riskmap": 5}
#: Libraries only the dashboard may use.
WEB_LIBRARIES = {"dash", "dash_leaflet", "plotly", "flask"}
#: About 500 lines: the limit a module may reach before it is split by concern.
MAX_LINES = 550


def _sources() -> Iterator[tuple[str, Path]]:
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield package, path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(path: Path) -> set[str]:
    """Absolute module names ``path`` imports anywhere in its body (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _first_party(names: set[str], modules: set[str]) -> set[str]:
    return {name for name in names if name in modules}


def test_each_package_imports_only_the_packages_below_it() -> None:
    offenders = []
    for package, path in _sources():
        if "versions" in path.parts:  # migrations seed tables from the data they describe
            continue
        for name in _imported(path):
            top = name.split(".")[0]
            if top in LAYERS and LAYERS[top] > LAYERS[package]:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
            if top in WEB_LIBRARIES and package != "dashboard":
                offenders.append(f"{path.relative_to(ROOT)} imports the web library {name}")
    assert offenders == []


def test_no_import_cycles() -> None:
    paths = {_module_name(p): p for _, p in _sources()}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        # a module importing its own package (``from geo import store`` inside geo/store/) is not a cycle
        graph[name] = {t for t in _first_party(_imported(path), set(paths))
                       if t != name and not name.startswith(f"{t}.")}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as err:
        pytest.fail(f"import cycle: {' -> '.join(err.args[1])}")


@pytest.mark.parametrize("package", list(LAYERS))
def test_modules_stay_small(package: str) -> None:
    large = {str(p.relative_to(ROOT)): n for p in (ROOT / package).rglob("*.py")
             if "versions" not in p.parts and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert large == {}


def test_no_grab_bag_modules() -> None:
    grab_bags = {"utils", "util", "helpers", "misc", "common"}
    assert [str(p.relative_to(ROOT)) for _, p in _sources() if p.stem in grab_bags] == []
