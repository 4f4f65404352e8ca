"""The command line acting as a signed-in account (``riskmap --user``): role and district apply."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from geo import store
from riskmap.cli import main

pytestmark = pytest.mark.postgis
ANNING, WUHUA = "530181", "530102"


def _run(env: dict[str, str], user: str | None, *args: str, password: str | None = None) -> Result:
    full = dict(env)
    if user is not None:
        full["RISKMAP_PASSWORD"] = password if password is not None else f"{user}-demo-2026"
    argv = (["--user", user] if user else []) + list(args)
    return CliRunner().invoke(main, argv, env=full, catch_exceptions=False)


def _audit(env: dict[str, str], action: str) -> list[tuple[str, str | None, dict]]:
    engine = store.make_engine(env["RISKMAP_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT actor, adcode, details FROM audit_log WHERE action = :a ORDER BY id"),
                                {"a": action}).all()
        return [(r[0], r[1], r[2]) for r in rows]
    finally:
        engine.dispose()


def test_officer_exports_own_district_and_is_refused_others(demo_copy: dict[str, str], tmp_path: Path) -> None:
    own = _run(demo_copy, "anning", "export", "--district", ANNING, "--formats", "xlsx", "--out", str(tmp_path / "a"))
    assert own.exit_code == 0, own.output
    assert list((tmp_path / "a").glob("*.xlsx"))
    other = _run(demo_copy, "anning", "export", "--district", WUHUA, "--formats", "xlsx",
                 "--out", str(tmp_path / "b"))
    assert other.exit_code != 0
    assert f"无权访问 {WUHUA}" in other.output and "refused" in other.output
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
    city = _run(demo_copy, "anning", "export", "--city", "--formats", "xlsx", "--out", str(tmp_path / "c"))
    assert city.exit_code != 0 and "全市" in city.output
    exports = _audit(demo_copy, "export")
    assert [(a, c) for a, c, _ in exports] == [("anning", ANNING)]  # the refused ones wrote nothing
    logins = [a for a, _, d in _audit(demo_copy, "login") if d.get("via") == "cli"]
    assert logins == ["anning"] * 3


def test_roles_are_enforced(demo_copy: dict[str, str], tmp_path: Path) -> None:
    refused = {
        ("anning", "check"): ["check", "--summary-only"],
        ("viewer", "precheck"): ["precheck", "--lon", "102.45", "--lat", "24.9", "--use", "学校"],
        ("planner", "user list"): ["user", "list"],
        ("leader", "import"): ["import", "buildings", str(tmp_path / "none.csv")],
        ("viewer", "rules list"): ["rules", "list"],
    }
    for (who, what), argv in refused.items():
        result = _run(demo_copy, who, *argv)
        assert result.exit_code != 0, (who, what, result.output)
        assert "无权" in result.output and "may not" in result.output, (who, what, result.output)
    admin = _run(demo_copy, "admin", "user", "list")
    assert admin.exit_code == 0 and "anning" in admin.output


def test_precheck_as_planner_is_audited_under_their_name(demo_copy: dict[str, str]) -> None:
    before = len(_audit(demo_copy, "precheck"))  # (other tests' pre-checks may be in the shared demo)
    result = _run(demo_copy, "planner", "precheck", "--lon", "102.46", "--lat", "24.9", "--use", "医院")
    assert result.exit_code == 0, result.output
    entries = _audit(demo_copy, "precheck")
    assert len(entries) == before + 1
    actor, _, details = entries[-1]
    assert actor == "planner" and details["via"] == "cli" and details["use"] == "hospital"
    assert details["rule_set_version"]


def test_wrong_password_and_operator_commands(demo_copy: dict[str, str]) -> None:
    bad = _run(demo_copy, "anning", "export", "--district", ANNING, "--out", "/tmp/x", password="not-the-one-123")
    assert bad.exit_code != 0 and "密码错误" in bad.output
    demo = _run(demo_copy, "admin", "demo")
    assert demo.exit_code != 0 and "--user" in demo.output


def test_user_refused_when_the_app_role_would_bypass_row_security(demo_copy: dict[str, str]) -> None:
    owner_as_app = dict(demo_copy, RISKMAP_APP_DATABASE_URL=demo_copy["RISKMAP_DATABASE_URL"])
    result = _run(owner_as_app, "anning", "export", "--district", ANNING, "--out", "/tmp/x")
    assert result.exit_code != 0 and "row-level security" in result.output


def test_scope_does_not_outlive_the_command(demo_copy: dict[str, str], tmp_path: Path) -> None:
    _run(demo_copy, "anning", "export", "--district", ANNING, "--formats", "xlsx", "--out", str(tmp_path))
    assert store.current_scope() is None
