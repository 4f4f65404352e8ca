"""The page registry (one table for routing, header links and permissions) and the one text lookup ``t()``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dashboard.pages  # noqa: F401  (importing the pages registers their text tables)
from dashboard.app import _nav_pages, _open_pages
from dashboard.i18n import TEXT, has_text, register_text, t
from dashboard.pages import MODULES, PAGES
from dashboard.routing import Page, resolve

ROOT = Path(__file__).resolve().parents[1]


def _literal_keys() -> dict[str, set[str]]:
    """Every string literal passed as the first argument of ``t(...)`` in the dashboard, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(str(path.relative_to(ROOT)), set()).add(node.args[0].value)
    return found


def test_every_key_a_page_uses_exists_in_both_languages() -> None:
    used = _literal_keys()
    assert sum(len(keys) for keys in used.values()) > 200  # the scan sees the pages' calls
    missing = {f: sorted(k for k in keys if not has_text(k)) for f, keys in used.items()}
    assert {f: keys for f, keys in missing.items() if keys} == {}
    one_language = sorted(k for keys in used.values() for k in keys if set(TEXT[k]) != {"zh", "en"})
    assert one_language == []


def test_every_string_has_chinese_and_english() -> None:
    assert sorted(k for k, v in TEXT.items() if not (v.get("zh") and v.get("en"))) == []


def test_t_formats_and_falls_back_to_chinese() -> None:
    assert t("hz_count", "en", n=3, overdue=1) == "3 hazards (1 overdue)"
    assert t("hz_count", n=3, overdue=1) == "共 3 项隐患（1 项逾期）"
    assert t("title", "fr") == t("title", "zh")
    assert t("audit_count", "en", n=5, page=1, pages=1) == "5 entries · page 1 of 1"


def test_a_key_cannot_mean_two_things() -> None:
    register_text({"title": dict(TEXT["title"])})  # the same string again is harmless
    with pytest.raises(ValueError, match="title"):
        register_text({"title": {"zh": "别的", "en": "Something else"}})


def test_routes_of_every_current_url() -> None:
    cases = {
        "/": ("/", {}), "": ("/", {}), "/planner": ("/planner", {}), "/planner/anything": ("/planner", {}),
        "/district": ("/district", {"adcode": None}), "/district/530113/": ("/district", {"adcode": "530113"}),
        "/hazards": ("/hazards", {}), "/hazards/": ("/hazards", {}), "/hazards/new": ("/hazards/new", {}),
        "/hazards/42": ("/hazards/<int:hazard_id>", {"hazard_id": 42}),
        "/inspect": ("/inspect", {}), "/dispatch/": ("/dispatch", {}),
        "/admin/audit": ("/admin/audit", {}), "/admin/rules/": ("/admin/rules", {}),
    }
    for url, (path, params) in cases.items():
        found = resolve(PAGES, url)
        assert found is not None, url
        assert (found[0].path, found[1]) == (path, params), url
    for url in ("/nowhere", "/hazards/abc", "/hazards/12/x", "/admin", "/admin/users"):
        assert resolve(PAGES, url) is None, url


def test_header_links_follow_the_table_order_and_the_roles() -> None:
    def hrefs(role: str) -> list[str]:
        return [p.href for p in _nav_pages({"role": role, "username": "x"})]

    reports = ["/ranking", "/reports", "/parks"]  # every role but the enterprise (generate_report)
    reports += ["/enterprise-info"]  # every role (企业信息: requests, decisions or grades by role)
    assert hrefs("admin") == ["/", "/planner", "/district", "/hazards", *reports, "/admin/audit", "/admin/rules"]
    assert hrefs("planner") == ["/", "/planner", "/district", "/hazards", *reports, "/admin/rules"]
    assert hrefs("viewer") == ["/", "/planner", "/district", "/hazards", *reports]
    assert hrefs("district_officer") == ["/", "/district", "/hazards", *reports, "/inspect"]
    assert hrefs("city_supervisor") == ["/", "/district", "/hazards", *reports, "/inspect"]
    assert hrefs("enterprise") == ["/hazards", "/enterprise-info"]
    assert [p.href for p in _open_pages()] == ["/", "/district"]  # before anyone is known


def test_each_page_module_declares_its_pages_and_callbacks() -> None:
    for module in MODULES:
        assert module.PAGES and all(isinstance(p, Page) for p in module.PAGES), module.__name__
        assert callable(module.register), module.__name__
    paths = [p.path for p in PAGES]
    assert len(paths) == len(set(paths))
