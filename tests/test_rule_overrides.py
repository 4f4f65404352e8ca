"""Local values of the check rules (geo/rule_admin.py): validation, the rule set in force, history, access, CLI.

The rule file ``geo/rules/checks.yaml`` stays as shipped; a change is a ``rule_overrides`` row with its
reason, audited, and every later run names the ``<file version>+local.<hash>`` version it used.
"""

from __future__ import annotations

import logging
import math
import os
import pwd
import re
from typing import Any

import pytest
import shapely
from click.testing import CliRunner, Result
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, box
from shapely.ops import transform
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from geo import store
from geo.checks.ruleset import load_ruleset
from geo.errors import AccessDenied
from geo.rule_admin import (
    apply_overrides,
    editable_values,
    effective_ruleset,
    reset_rule_value,
    set_rule_value,
    validate_change,
    value_states,
)
from geo.store import Scope, scoped
from identity.accounts import add_user
from riskmap.cli import main
from tests.clients import app_url

BASE = load_ruleset()
LOCAL = re.compile(rf"^{re.escape(BASE.version)}\+local\.[0-9a-f]{{8}}$")
ANNING, WUHUA = "530181", "530102"
REASON = "昆明市地方规定更严 / stricter local regulation"


def _row(code: str, path: str, value: Any) -> dict[str, Any]:
    return {"rule_code": code, "path": path, "value": value}


# --------------------------------------------------------------------------- units, no database


def test_editable_values_are_thresholds_inclusivity_and_numeric_lookups() -> None:
    values = {(v.code, v.path): v for v in editable_values(BASE)}
    occupy = values["PIPE_OCCUPY", "threshold_m"]
    assert occupy.value == 5.0 and occupy.clause.startswith("石油天然气管道保护法") and occupy.confidence == "confirmed"
    assert values["PIPE_OCCUPY", "inclusive"].value is True
    assert values["PIPE_SPACING", "params.required_m.gas.crowded"].value == 5.0
    assert values["PIPE_SPACING", "params.required_m.lpg.flammable"].confidence == "unconfirmed"
    assert values["ESD_IR", "params.criteria.general_2.new"].value == 3.0e-6
    assert values["LOC_CLASS", "params.class_2_min_households"].value == 16
    assert ("ESD_DECLARED", "threshold_m") not in values  # no threshold in the file: nothing to change
    assert ("HCA_OIL", "params.railway") not in values  # booleans inside params are not numbers
    assert not any(p.endswith(("infrastructure_kinds", "measure_from", "degrees")) for _c, p in values)
    for v in values.values():
        assert isinstance(v.value, bool) == (v.path == "inclusive"), v
        assert v.zh and v.en and v.clause
    assert {c for c, _p in values} == set(BASE.rules)  # every rule has at least `inclusive`


def test_validate_change_types_and_bounds() -> None:
    assert validate_change(BASE, "PIPE_OCCUPY", "threshold_m", "8") == 8.0
    assert isinstance(validate_change(BASE, "PIPE_OCCUPY", "threshold_m", 8), float)
    assert validate_change(BASE, "PIPE_OCCUPY", "threshold_m", 99_999.5) == 99_999.5
    assert validate_change(BASE, "PIPE_OCCUPY", "inclusive", "false") is False
    assert validate_change(BASE, "PIPE_OCCUPY", "inclusive", True) is True
    months = validate_change(BASE, "HCA_REVIEW", "params.max_months", "12")
    assert months == 12 and isinstance(months, int)
    assert validate_change(BASE, "HCA_GAS", "params.radius_coeff", 250_000) == 250_000.0  # not metres: no cap
    assert validate_change(BASE, "ESD_IR", "params.criteria.general_2.new", 1e-6) == 1e-6

    with pytest.raises(ValueError) as err:
        validate_change(BASE, "PIPE_OCCUPY", "params.x", 1)
    assert str(err.value).startswith("规则 PIPE_OCCUPY 没有可编辑的值 params.x / "
                                     "rule PIPE_OCCUPY has no editable value params.x")
    assert "threshold_m" in str(err.value) and "inclusive" in str(err.value)
    with pytest.raises(ValueError, match=r"没有规则 NOPE / no rule NOPE.*PIPE_OCCUPY"):
        validate_change(BASE, "NOPE", "threshold_m", 1)
    with pytest.raises(ValueError, match="ESD_DECLARED has no editable value threshold_m"):
        validate_change(BASE, "ESD_DECLARED", "threshold_m", 100)
    with pytest.raises(ValueError, match=r"params\.infrastructure_kinds"):
        validate_change(BASE, "PIPE_OCCUPY", "params.infrastructure_kinds", 1)
    bad = [
        ("threshold_m", True, "must be a number"), ("threshold_m", "abc", "must be a number"),
        ("threshold_m", -1, ">= 0"), ("threshold_m", math.nan, "finite"), ("threshold_m", "inf", "finite"),
        ("threshold_m", 100_000, "metres"), ("inclusive", 1, "true or false"), ("inclusive", "maybe", "true or false"),
    ]
    for path, value, message in bad:
        with pytest.raises(ValueError, match=message):
            validate_change(BASE, "PIPE_OCCUPY", path, value)
    with pytest.raises(ValueError, match="metres"):  # a metre lookup deep inside params
        validate_change(BASE, "PIPE_SPACING", "params.required_m.gas.crowded", 1e6)
    with pytest.raises(ValueError, match="whole number"):
        validate_change(BASE, "LOC_CLASS", "params.class_2_min_households", 15.5)
    with pytest.raises(ValueError, match="须为"):  # Chinese first, then English
        validate_change(BASE, "PIPE_OCCUPY", "threshold_m", -1)


def test_apply_overrides_returns_a_new_versioned_rule_set() -> None:
    same = apply_overrides(BASE, [])
    assert same.version == BASE.version and same.rules == BASE.rules and same.applied == ()

    local = apply_overrides(BASE, [_row("PIPE_OCCUPY", "threshold_m", 8),
                                   _row("PIPE_SPACING", "params.required_m.gas.crowded", 12.5),
                                   _row("PIPE_OCCUPY", "inclusive", False)])
    assert LOCAL.match(local.version) and len(local.version) <= 40  # check_runs.rule_set_version is String(40)
    assert local["PIPE_OCCUPY"].threshold_m == 8.0 and local["PIPE_OCCUPY"].inclusive is False
    assert local["PIPE_SPACING"].params["required_m"]["gas"] == {"crowded": 12.5, "flammable": 5.0}
    assert local["ESD_IR"] is BASE["ESD_IR"]  # untouched rules are shared
    assert local.base_version == BASE.version
    # the file's rule set (and the cached table behind it) is unchanged
    fresh = load_ruleset()
    assert BASE["PIPE_OCCUPY"].threshold_m == fresh["PIPE_OCCUPY"].threshold_m == 5.0
    assert BASE["PIPE_SPACING"].params["required_m"]["gas"]["crowded"] == 5.0
    assert fresh["PIPE_SPACING"].params["required_m"]["gas"]["crowded"] == 5.0
    assert local["PIPE_OCCUPY"].hit(7.9) and not local["PIPE_OCCUPY"].hit(8.0)  # 8 m, now exclusive

    # the version depends on the values only: stable across order and 8 / 8.0 / "8", different for another value
    a = apply_overrides(BASE, [_row("PIPE_OCCUPY", "threshold_m", 8), _row("HCA_REVIEW", "params.max_months", 12)])
    b = apply_overrides(BASE, [_row("HCA_REVIEW", "params.max_months", 12.0), _row("PIPE_OCCUPY", "threshold_m", "8")])
    c = apply_overrides(BASE, [_row("PIPE_OCCUPY", "threshold_m", 9), _row("HCA_REVIEW", "params.max_months", 12)])
    assert a.version == b.version != c.version
    assert a.version == apply_overrides(load_ruleset(), [_row("HCA_REVIEW", "params.max_months", 12),
                                                         _row("PIPE_OCCUPY", "threshold_m", 8.0)]).version
    assert apply_overrides(BASE, [_row("PIPE_OCCUPY", "threshold_m", 8)]).version != a.version


def test_unknown_or_mistyped_overrides_are_skipped_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    rows = [_row("GONE_RULE", "threshold_m", 3), _row("PIPE_OCCUPY", "params.gone", 1),
            _row("PIPE_OCCUPY", "inclusive", 5), _row("PIPE_OCCUPY", "threshold_m", 8)]
    with caplog.at_level(logging.WARNING, logger="geo.rule_admin"):
        local = apply_overrides(BASE, rows)
    assert local["PIPE_OCCUPY"].threshold_m == 8.0 and local["PIPE_OCCUPY"].inclusive is True
    assert local.version == apply_overrides(BASE, [rows[-1]]).version  # skipped rows do not enter the version
    assert len(local.skipped) == 3
    assert any("GONE_RULE" in s for s in local.skipped) and any("params.gone" in s for s in local.skipped)
    assert len([r for r in caplog.records if "not applied" in r.getMessage()]) == 3


# --------------------------------------------------------------------------- store: a building 6 m from a pipeline

GK = 4543  # CGCS2000 3-degree Gauss-Krüger CM 102°E (Kunming)
ORIGIN = (102.71, 25.04)


def _to_4490(geom: Any) -> Any:
    to_gk = Transformer.from_crs(4490, GK, always_xy=True)
    x0, y0 = to_gk.transform(*ORIGIN)
    back = Transformer.from_crs(GK, 4490, always_xy=True)
    return transform(lambda x, y, z=None: back.transform(x + x0, y + y0),
                     geom)


def _seed_pipe_and_building(engine: Engine) -> None:
    """A gas pipeline along the x axis and a 10 m × 10 m building whose nearest edge is 6 m from it."""
    pipe = {"key": "P-T", "code": "P-T", "name": "测试管道", "medium": "gas", "outside_diameter_mm": 508.0,
            "maop_mpa": 6.3, "operator": "测试", "laying": "buried", "start_mileage_m": 0.0, "length_m": 1000.0,
            "adcodes": [WUHUA], "geom": _to_4490(MultiLineString([LineString([(-500, 0), (500, 0)])])),
            "source_crs": "EPSG:4490", "batch_id": None}
    building = {"key": "B-6M", "adcode": WUHUA, "name": "六米楼", "use": "warehouse", "households": 0, "floors": 1,
                "geom": _to_4490(box(-5, 6, 5, 16)), "source_crs": "EPSG:4490", "batch_id": None}
    with engine.begin() as conn:
        store.upsert_rows(conn, "pipelines", [pipe], "key")
        store.upsert_rows(conn, "buildings", [building], "key")


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _cli(env: dict[str, str], *args: str, user: str | None = None, password: str | None = None) -> Result:
    full = dict(env)
    if user is not None:
        full["RISKMAP_PASSWORD"] = password or "override-fixture-2026"
    argv = (["--user", user] if user else []) + list(args)
    return CliRunner().invoke(main, argv, env=full, catch_exceptions=False)


def _occupy(engine: Engine) -> list[tuple[str, str, float, float, str]]:
    found = store.read_findings(engine, rule_code="PIPE_OCCUPY", status="open")
    return [(r.subject_key, r.object_key, round(float(r.measured_m), 1), float(r.required_m), r.rule_set_version)
            for r in found.itertuples()]


def _runs(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [str(v) for v in conn.execute(text("SELECT rule_set_version FROM check_runs ORDER BY id")).scalars()]


def _rule_changes(engine: Engine) -> list[tuple[str, str | None, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, target, details FROM audit_log WHERE action = 'rule_change' "
                                 "ORDER BY id")).all()
    return [(r[0], r[1], r[2]) for r in rows]


def test_a_changed_threshold_changes_the_findings_of_the_next_run(engine: Engine, tmp_path) -> None:
    _seed_pipe_and_building(engine)
    env = {"RISKMAP_DATABASE_URL": _url(engine)}
    before = _cli(env, "check", "--rules", "PIPE_OCCUPY", "--as-of", "2026-11-01")
    assert before.exit_code == 0, before.output
    assert _occupy(engine) == [] and _runs(engine) == [BASE.version]

    version = set_rule_value(engine, "PIPE_OCCUPY", "threshold_m", 8, reason=REASON, actor="tester")
    assert LOCAL.match(version)
    rules = effective_ruleset(engine)
    assert rules.version == version and rules["PIPE_OCCUPY"].threshold_m == 8.0
    assert load_ruleset()["PIPE_OCCUPY"].threshold_m == 5.0  # the installed file is untouched

    after = _cli(env, "check", "--rules", "PIPE_OCCUPY", "--as-of", "2026-11-01")
    assert after.exit_code == 0, after.output
    assert f"rule set {version}" in after.output
    assert _occupy(engine) == [("P-T", "B-6M", 6.0, 8.0, version)]
    assert _runs(engine) == [BASE.version, version]
    [(actor, target, details)] = _rule_changes(engine)
    assert (actor, target) == ("tester", "PIPE_OCCUPY.threshold_m")
    assert details == {"old": 5.0, "new": 8.0, "reason": REASON, "rule_set_version": version}

    # file mode keeps the rule file's values, whatever the store holds
    from geo.checks.sources import bundle_from_store, bundle_to_file

    gpkg = bundle_to_file(bundle_from_store(engine), tmp_path / "bundle.gpkg")
    on_file = _cli(env, "check", "--input", str(gpkg), "--rules", "PIPE_OCCUPY", "--as-of", "2026-11-01")
    assert on_file.exit_code == 0, on_file.output
    assert "total findings: 0" in on_file.output

    # back to the file's value: the building is no longer a finding, and the run says so
    assert reset_rule_value(engine, "PIPE_OCCUPY", "threshold_m", reason="地方规定已废止", actor="tester")
    again = _cli(env, "check", "--rules", "PIPE_OCCUPY", "--as-of", "2026-11-01")
    assert again.exit_code == 0, again.output
    assert _occupy(engine) == [] and _runs(engine)[-1] == BASE.version


def test_precheck_uses_the_rules_in_force(engine: Engine) -> None:
    _seed_pipe_and_building(engine)
    env = {"RISKMAP_DATABASE_URL": _url(engine)}
    site = _to_4490(box(20, 6, 30, 16))  # another parcel 6 m from the pipeline
    argv = ("precheck", "--wkt", shapely.to_wkt(site), "--use", "factory")
    before = _cli(env, *argv)
    assert before.exit_code == 0, before.output
    assert "PIPE_OCCUPY" not in before.output
    set_rule_value(engine, "PIPE_OCCUPY", "threshold_m", 8, reason=REASON, actor="tester")
    result = _cli(env, *argv)
    assert result.exit_code == 0, result.output
    assert "PIPE_OCCUPY" in result.output and "6.0 m / 8.0 m" in result.output


def test_demo_load_runs_the_rules_in_force(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import geopandas as gpd

    import layers.demo_load as demo_load

    class _Report:
        def summary(self) -> str:
            return "stub"

    # the demo layers themselves are not the point: keep the seeded pipeline and building only
    monkeypatch.setattr("geo.demo.generate_demo", lambda _d: {n: gpd.GeoDataFrame() for n in demo_load.DEMO_LAYERS})
    monkeypatch.setattr(demo_load, "import_frame", lambda *_a, **_k: _Report())
    _seed_pipe_and_building(engine)
    version = set_rule_value(engine, "PIPE_OCCUPY", "threshold_m", 8, reason=REASON, actor="tester")
    lines = list(demo_load.load_demo(engine))
    assert next(line for line in lines if line.startswith("check run")).endswith(f"(rule set {version})")
    assert _occupy(engine) == [("P-T", "B-6M", 6.0, 8.0, version)]


def test_history_is_kept_and_every_change_is_audited(engine: Engine) -> None:
    v1 = set_rule_value(engine, "PIPE_SPACING", "params.required_m.gas.crowded", 10, reason="第一次修改", actor="a1")
    v2 = set_rule_value(engine, "PIPE_SPACING", "params.required_m.gas.crowded", "12.5", reason="第二次修改",
                        actor="a2")
    assert LOCAL.match(v1) and LOCAL.match(v2) and v1 != v2
    with pytest.raises(ValueError, match=r"already 12\.5"):
        set_rule_value(engine, "PIPE_SPACING", "params.required_m.gas.crowded", 12.5, reason="重复修改", actor="a2")
    assert reset_rule_value(engine, "PIPE_SPACING", "params.required_m.gas.crowded", reason="恢复国家标准",
                            actor="a3")
    assert not reset_rule_value(engine, "PIPE_SPACING", "params.required_m.gas.crowded", reason="再次恢复",
                                actor="a3")  # nothing in force: nothing written

    changes = _rule_changes(engine)
    assert [(a, t) for a, t, _d in changes] == [("a1", "PIPE_SPACING.params.required_m.gas.crowded")] * 1 + [
        ("a2", "PIPE_SPACING.params.required_m.gas.crowded"), ("a3", "PIPE_SPACING.params.required_m.gas.crowded")]
    assert [d for _a, _t, d in changes] == [
        {"old": 5.0, "new": 10.0, "reason": "第一次修改", "rule_set_version": v1},
        {"old": 10.0, "new": 12.5, "reason": "第二次修改", "rule_set_version": v2},
        {"old": 12.5, "new": 5.0, "reason": "恢复国家标准", "reset": True, "rule_set_version": BASE.version},
    ]
    history = store.read_rule_overrides(engine, active_only=False)
    assert [(r["value"], r["reason"], r["actor"], r["active"]) for r in history] == [
        (10.0, "第一次修改", "a1", False), (12.5, "第二次修改", "a2", False)]
    assert store.read_rule_overrides(engine) == []
    assert effective_ruleset(engine).version == BASE.version

    # a reason is required; a bad value writes nothing
    for reason in ("", "   ", "abc "):
        with pytest.raises(ValueError, match="reason"):
            set_rule_value(engine, "PIPE_OCCUPY", "threshold_m", 8, reason=reason, actor="a1")
    with pytest.raises(ValueError, match="no editable value"):
        set_rule_value(engine, "PIPE_OCCUPY", "params.x", 8, reason=REASON, actor="a1")
    with pytest.raises(ValueError, match="no editable value"):
        reset_rule_value(engine, "PIPE_OCCUPY", "params.x", reason=REASON, actor="a1")
    assert len(_rule_changes(engine)) == 3 and len(store.read_rule_overrides(engine, active_only=False)) == 2


def test_one_active_value_per_rule_path_and_stale_rows_can_be_reset(engine: Engine) -> None:
    with engine.connect() as conn:
        indexdef = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_rule_overrides_active'"))
        definition = str(indexdef.scalar_one())
    assert "UNIQUE" in definition and "WHERE active" in definition
    set_rule_value(engine, "PIPE_OCCUPY", "threshold_m", 8, reason=REASON, actor="a1")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO rule_overrides (rule_code, path, value, reason, actor) "
                          "VALUES ('PIPE_OCCUPY', 'threshold_m', '9', 'x', 'x')"))
    # a value the rule file no longer has (written by an older version) is skipped in runs, and can be reset
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO rule_overrides (rule_code, path, value, reason, actor) "
                          "VALUES ('PIPE_OCCUPY', 'params.removed_m', '3', 'old file', 'x')"))
    local, states = value_states(engine)
    assert len(local.skipped) == 1 and "params.removed_m" in local.skipped[0]
    assert [(s.item.path, s.current, s.actor) for s in states if s.changed] == [("threshold_m", 8.0, "a1")]
    assert reset_rule_value(engine, "PIPE_OCCUPY", "params.removed_m", reason="规则文件已删除此值", actor="a1")
    assert effective_ruleset(engine).skipped == ()


# --------------------------------------------------------------------------- access


def test_a_district_session_cannot_change_rules(engine: Engine, app_engine: Engine) -> None:
    set_rule_value(engine, "PIPE_OCCUPY", "threshold_m", 8, reason=REASON, actor="operator")
    officer = Scope(all_districts=False, adcode=ANNING, actor="anning")
    with scoped(officer):
        assert effective_ruleset(app_engine)["PIPE_OCCUPY"].threshold_m == 8.0  # everyone reads the rules in force
        with pytest.raises(AccessDenied, match="无权修改检查规则"):
            set_rule_value(app_engine, "PIPE_OCCUPY", "threshold_m", 3, reason=REASON, actor="anning")
        with pytest.raises(AccessDenied):
            reset_rule_value(app_engine, "PIPE_OCCUPY", "threshold_m", reason=REASON, actor="anning")
        # past the application check, PostgreSQL refuses on its own
        with pytest.raises(DBAPIError, match="row-level security"), app_engine.begin() as conn:
            conn.execute(text("INSERT INTO rule_overrides (rule_code, path, value, reason, actor) "
                              "VALUES ('PIPE_OCCUPY', 'inclusive', 'false', 'sneaky', 'anning')"))
        with app_engine.begin() as conn:
            changed = conn.execute(text("UPDATE rule_overrides SET active = false")).rowcount
        assert changed == 0
        with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
            conn.execute(text("DELETE FROM rule_overrides"))
    assert [r["value"] for r in store.read_rule_overrides(engine)] == [8.0]
    assert len(_rule_changes(engine)) == 1

    # a city-wide session of the application role may (grants, sequence and policies allow it)
    with scoped(Scope(all_districts=True, actor="admin")):
        version = set_rule_value(app_engine, "PIPE_OCCUPY", "threshold_m", 9, reason=REASON, actor="admin")
        assert effective_ruleset(app_engine).version == version
        with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
            conn.execute(text("DELETE FROM rule_overrides"))  # history is never deleted
    assert [(r["value"], r["actor"]) for r in store.read_rule_overrides(engine)] == [(9.0, "admin")]


# --------------------------------------------------------------------------- command line


@pytest.fixture
def accounts(engine: Engine) -> dict[str, str]:
    for name, role, adcode in (("admin", "admin", None), ("planner", "planner", None),
                               ("anning", "district_officer", ANNING)):
        add_user(engine, name, "override-fixture-2026", role=role, adcode=adcode, actor="test")
    url = _url(engine)
    return {"RISKMAP_DATABASE_URL": url,
            "RISKMAP_APP_DATABASE_URL": app_url(url)}


def test_cli_rules_list_set_reset(engine: Engine, accounts: dict[str, str]) -> None:
    listed = _cli(accounts, "rules", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0] == f"规则版本 / rule set version: {BASE.version}"
    assert re.search(r"^PIPE_OCCUPY\s+threshold_m\s+5\s+5\s+confirmed$", listed.output, re.M)
    assert re.search(r"^ESD_IR\s+params\.criteria\.general_2\.new\s+3e-06\s+3e-06\s+unconfirmed$", listed.output, re.M)
    assert len(lines) == 2 + len(editable_values(BASE))
    assert "no local changes" in _cli(accounts, "rules", "list", "--changed").output

    for who in ("planner", "anning"):
        refused = _cli(accounts, "rules", "set", "PIPE_OCCUPY", "threshold_m", "8", "--reason", REASON, user=who)
        assert refused.exit_code != 0
        assert "无权修改检查规则" in refused.output and "may not do changing check rules" in refused.output
    assert _rule_changes(engine) == [] and store.read_rule_overrides(engine) == []

    bad = _cli(accounts, "rules", "set", "PIPE_OCCUPY", "params.x", "8", "--reason", REASON, user="admin")
    assert bad.exit_code != 0 and "没有可编辑的值 params.x" in bad.output
    short = _cli(accounts, "rules", "set", "PIPE_OCCUPY", "threshold_m", "8", "--reason", "ok", user="admin")
    assert short.exit_code != 0 and "reason" in short.output

    done = _cli(accounts, "rules", "set", "PIPE_OCCUPY", "threshold_m", "8", "--reason", REASON, user="admin")
    assert done.exit_code == 0, done.output
    version = effective_ruleset(engine).version
    assert LOCAL.match(version) and version in done.output
    [(actor, target, details)] = _rule_changes(engine)
    assert (actor, target, details["new"], details["reason"]) == ("admin", "PIPE_OCCUPY.threshold_m", 8.0, REASON)

    changed = _cli(accounts, "rules", "list", "--changed", user="planner")  # reading is open to every account
    assert changed.exit_code == 0, changed.output
    lines = changed.output.splitlines()
    assert lines[0] == f"规则版本 / rule set version: {version} (文件 / file {BASE.version})"
    assert len(lines) == 3
    assert re.match(rf"^PIPE_OCCUPY\s+threshold_m\s+5\s+8\s+confirmed\s+admin \d{{4}}-\d\d-\d\d \d\d:\d\d: "
                    rf"{re.escape(REASON)}$", lines[2])

    refused = _cli(accounts, "rules", "reset", "PIPE_OCCUPY", "threshold_m", "--reason", REASON, user="planner")
    assert refused.exit_code != 0 and "无权" in refused.output
    reset = _cli(accounts, "rules", "reset", "PIPE_OCCUPY", "threshold_m", "--reason", "恢复国家规定", user="admin")
    assert reset.exit_code == 0, reset.output
    assert f"rule set version: {BASE.version}" in reset.output
    assert [d.get("reset") for _a, _t, d in _rule_changes(engine)] == [None, True]

    # the host operator (no --user) may change rules too, audited under the OS account; --actor is only a note
    own = _cli(accounts, "rules", "set", "PIPE_OCCUPY", "inclusive", "false", "--reason", REASON, "--actor", "ops")
    assert own.exit_code == 0, own.output
    os_account = pwd.getpwuid(os.geteuid()).pw_name
    assert _rule_changes(engine)[-1][:2] == (os_account, "PIPE_OCCUPY.inclusive")
    with engine.connect() as conn:
        note = conn.execute(text("SELECT actor, details FROM audit_log WHERE action = 'operator_note'")).one()
    assert note[0] == os_account and note[1] == {"given_actor": "ops"}
    assert effective_ruleset(engine)["PIPE_OCCUPY"].inclusive is False
