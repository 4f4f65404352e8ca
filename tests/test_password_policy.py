"""Accounts that are hard to guess and names that cannot mislead; the operator named by the system; demo accounts."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from geo import store
from identity.accounts import add_user
from identity.password_policy import MIN_LENGTH, PasswordRejected, common_passwords, password_problems, require_password
from identity.usernames import check_display_name, check_username
from riskmap.admin_cli import demo_account_warning
from riskmap.cli import main

ROOT = Path(__file__).resolve().parents[1]
OS_ACCOUNT = pwd.getpwuid(os.geteuid()).pw_name
STRONG = "Kv7-mountain-lake"


# ------------------------------------------------------------------------------------ the policy
@pytest.mark.parametrize(("password", "names", "why"), [
    ("aaaaaaaaaa", {}, "at least 12"),
    ("aaaaaaaaaaaa", {}, "repeated"),
    ("abcabcabcabc", {}, "repeated"),
    ("123456789012", {}, "digits only"),
    ("password1234", {}, "common password"),
    ("P@ssw0rd2026!", {}, "common password"),
    ("Sunshine2026!", {}, "common password"),
    ("woaini1314520", {}, "common password"),
    ("qwertyuiop12", {}, "common password"),
    ("1234567890ab", {}, "keyboard or digit runs"),
    ("Adm1n!2026abc", {}, "keyboard or digit runs"),
    ("riskmap2026!!", {}, "common password"),
    ("Kunming@2026#", {}, "common password"),
    ("RiskMap-Xishan-1", {}, "product's or city's names"),
    ("alice-in-the-garden", {"username": "alice"}, "user name"),
    ("A1ice-in-the-garden", {"username": "alice"}, "user name"),
    ("安宁应急局-garden-88", {"display_name": "安宁应急局"}, "display name"),
    ("x" * 73, {}, "at most 72 bytes"),
])
def test_weak_passwords_are_refused_with_the_reason(password: str, names: dict[str, str], why: str) -> None:
    problems = password_problems(password, **names)
    assert problems and any(why in en for _zh, en in problems), problems
    assert all(zh and not zh.isascii() for zh, _en in problems)  # Chinese first, English beside it
    with pytest.raises(PasswordRejected) as err:
        require_password(password, **names)
    assert why in str(err.value) and isinstance(err.value, ValueError)


@pytest.mark.parametrize("password", ["correct horse battery staple", "Tr0ub4dor&3xyz", "7x9!Qm2#Lp4$",
                                      "blue-lake-sunrise-9", "安宁市应急局的密码很长很长", STRONG,
                                      "planner-on-duty-2026"])
def test_strong_passwords_pass(password: str) -> None:
    assert password_problems(password, username="anning", display_name="安宁市应急管理局") == []


def test_common_list_is_shipped_data_with_its_source() -> None:
    words = common_passwords()
    assert len(words) >= 500 and {"123456", "password", "woaini", "qwerty", "riskmap", "kunming"} <= words
    head = (ROOT / "identity" / "common_passwords.txt").read_text(encoding="utf-8").splitlines()[:12]
    assert any("Source" in line for line in head)
    assert MIN_LENGTH == 12


# ------------------------------------------------------------------------------------ names
@pytest.mark.parametrize("name", ["anning", "ent-530181", "zhang.san_01", "张三丰", "安宁-officer", "abc"])
def test_good_user_names(name: str) -> None:
    assert check_username(name) == name


@pytest.mark.parametrize(("name", "why"), [
    ("admin ", "spaces"), (" admin", "spaces"), ("ab", "3 to 32"), ("a" * 33, "3 to 32"),
    ("<b>x</b>", "only letters"), ("a b c", "only letters"), ("-admin", "starts with"), ("ａｄｍｉｎ", "only letters"),
    ("x\u200bz1", "only letters"), ("bob'--", "only letters"),
])
def test_bad_user_names(name: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_username(name)


@pytest.mark.parametrize(("name", "ok"), [("安宁市应急管理局(演示)", True), ("Zhang San", True),
                                          ("<script>x</script>", False), ("a&b", False), (" 张三", False),
                                          ("x\ny", False), ("长" * 61, False)])
def test_display_names(name: str, ok: bool) -> None:
    if ok:
        assert check_display_name(name) == name
    else:
        with pytest.raises(ValueError, match="display name"):
            check_display_name(name)


# ------------------------------------------------------------------------------------ in the store
@pytest.mark.postgis
def test_add_user_applies_the_policy_and_names(engine: Engine) -> None:
    for name, password, why in (("anning", "aaaaaaaaaaaa", "repeated"), ("anning ", STRONG, "spaces"),
                                ("<i>x</i>", STRONG, "only letters"), ("anning", "anning-2026-xyz!", "user name")):
        with pytest.raises(ValueError, match=why):
            add_user(engine, name, password, role="district_officer", adcode="530181")
    with pytest.raises(ValueError, match="markup"):
        add_user(engine, "anning", STRONG, role="district_officer", adcode="530181", display_name="<b>安宁</b>")
    assert store.find_user(engine, "anning") is None
    add_user(engine, "anning", STRONG, role="district_officer", adcode="530181", must_change=True)
    add_user(engine, "leader", "leader-demo-2026", role="leader", actor="demo", demo=True)  # published, demo only
    with engine.connect() as conn:
        found = conn.execute(text("SELECT username, must_change_password, demo FROM users")).all()
    rows = {r[0]: (r[1], r[2]) for r in found}
    assert rows == {"anning": (True, False), "leader": (False, True)}
    assert store.must_change_password(engine, "anning") and not store.must_change_password(engine, "leader")


# ------------------------------------------------------------------------------------ command line
def _env(engine: Engine) -> dict[str, str]:
    return {"RISKMAP_DATABASE_URL": engine.url.render_as_string(hide_password=False)}


def _audit(engine: Engine, action: str) -> list[tuple[str, str | None, dict]]:
    with engine.connect() as conn:
        return [(r[0], r[1], r[2]) for r in conn.execute(text(
            "SELECT actor, target, details FROM audit_log WHERE action = :a ORDER BY id"), {"a": action})]


@pytest.mark.postgis
def test_cli_user_add_reads_the_password_from_a_prompt_twice_or_stdin(engine: Engine) -> None:
    runner = CliRunner()
    env = {**_env(engine), "SUDO_USER": ""}
    weak = runner.invoke(main, ["user", "add", "bob1", "--role", "viewer", "--password-stdin"], env=env,
                         input="aaaaaaaaaaaa\n")
    assert weak.exit_code != 0 and "repeated" in weak.output and store.find_user(engine, "bob1") is None
    typo = runner.invoke(main, ["user", "add", "bob1", "--role", "viewer"], env=env,
                         input=f"{STRONG}\n{STRONG}x\n{STRONG}\n{STRONG}\n")
    assert typo.exit_code == 0, typo.output
    assert "repeat" in typo.output and STRONG not in typo.output  # asked again after the mismatch; hidden
    piped = runner.invoke(main, ["user", "add", "carol", "--role", "viewer", "--password-stdin"], env=env,
                          input="another Strong-pass 9\n")
    assert piped.exit_code == 0 and "first sign-in" in piped.output, piped.output
    assert store.must_change_password(engine, "bob1") and store.must_change_password(engine, "carol")
    assert [(a, t) for a, t, _d in _audit(engine, "user_add")] == [(OS_ACCOUNT, "bob1"), (OS_ACCOUNT, "carol")]


@pytest.mark.postgis
def test_cli_user_password_resets_and_requires_a_change(engine: Engine) -> None:
    add_user(engine, "anning", STRONG, role="district_officer", adcode="530181")
    runner = CliRunner()
    env = {**_env(engine), "SUDO_USER": "alice"}
    weak = runner.invoke(main, ["user", "password", "anning", "--password-stdin"], env=env, input="anning-123456\n")
    assert weak.exit_code != 0 and "user name" in weak.output
    assert not store.must_change_password(engine, "anning")
    missing = runner.invoke(main, ["user", "password", "nobody", "--password-stdin"], env=env, input=f"{STRONG}\n")
    assert missing.exit_code != 0 and "no user" in missing.output
    ok = runner.invoke(main, ["user", "password", "anning", "--password-stdin"], env=env, input="new Lake-view 42\n")
    assert ok.exit_code == 0, ok.output
    assert store.must_change_password(engine, "anning")
    expected = OS_ACCOUNT if OS_ACCOUNT == "alice" else f"{OS_ACCOUNT} (sudo: alice)"
    assert [a for a, _t, _d in _audit(engine, "user_password")] == [expected]
    assert [a for a, _t, _d in _audit(engine, "user_must_change_password")] == [expected]


@pytest.mark.postgis
def test_operator_actor_comes_from_the_system_not_from_typed_text(engine: Engine) -> None:
    runner = CliRunner()
    env = {**_env(engine), "SUDO_USER": "", "USER": "somebody-else"}
    add_user(engine, "anning", STRONG, role="district_officer", adcode="530181")
    assert runner.invoke(main, ["user", "disable", "anning"], env=env).exit_code == 0
    assert [a for a, _t, _d in _audit(engine, "user_disable")] == [OS_ACCOUNT]


# ------------------------------------------------------------------------------------ demo accounts
@pytest.mark.postgis
def test_demo_accounts_are_marked_warned_about_and_retired(demo_copy: dict[str, str]) -> None:
    engine = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    try:
        enabled = store.enabled_demo_accounts(engine)
        assert {"admin", "leader", "planner", "anning"} <= set(enabled)
        warning = demo_account_warning(engine)
        assert warning is not None and "演示账号" in warning and "WARNING" in warning and "admin" in warning
        runner = CliRunner()
        done = runner.invoke(main, ["user", "demo-off"], env={**demo_copy, "SUDO_USER": ""})
        assert done.exit_code == 0 and "demo account disabled: admin" in done.output
        assert store.enabled_demo_accounts(engine) == [] and demo_account_warning(engine) is None
        retired = [(a, t, d) for a, t, d in _audit(engine, "user_disable") if d.get("demo")]
        assert sorted(str(t) for _a, t, _d in retired) == enabled and {a for a, _t, _d in retired} == {OS_ACCOUNT}
        again = runner.invoke(main, ["user", "demo-off"], env=demo_copy)
        assert again.exit_code == 0 and "no demo account enabled" in again.output
        assert store.verify_audit_chain(engine).ok
    finally:
        engine.dispose()


@pytest.mark.postgis
def test_an_operator_import_of_real_data_retires_the_demo_accounts(demo_copy: dict[str, str], tmp_path: Path) -> None:
    import pandas as pd

    from tests.test_import import credit_code

    row = {"企业名称": "安宁真实数据化工有限公司", "统一社会信用代码": credit_code(7), "行政区划代码": "530181",
           "行业": "危险化学品生产", "风险等级": "较大风险", "经度": 102.47, "纬度": 24.93}
    path = tmp_path / "企业.csv"
    pd.DataFrame([row]).to_csv(path, index=False, encoding="utf-8-sig")
    engine = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    try:
        enabled = store.enabled_demo_accounts(engine)
        assert enabled
        done = CliRunner().invoke(main, ["import", "enterprises", str(path)], env={**demo_copy, "SUDO_USER": ""})
        assert done.exit_code == 0, done.output
        assert "demo account disabled: leader" in done.output
        assert store.enabled_demo_accounts(engine) == []
        reasons = {d.get("reason") for _a, _t, d in _audit(engine, "user_disable") if d.get("demo")}
        assert reasons == {"real data imported: enterprises"}
    finally:
        engine.dispose()
