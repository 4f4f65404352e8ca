"""Accounts: Argon2 hashes, roles, district officers, authentication and the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from geo import store
from identity.accounts import add_user, authenticate, scope_for
from identity.passwords import hash_password, verify_password

pytestmark = pytest.mark.postgis


def test_hash_is_argon2id_and_verifies() -> None:
    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$") and "correct" not in h
    assert verify_password(h, "correct horse battery")
    assert not verify_password(h, "wrong password!!")
    assert not verify_password("not-a-hash", "x")


def test_add_and_authenticate(engine) -> None:
    add_user(engine, "anning", "安宁密码-2026-abc", role="district_officer", adcode="530181",
             display_name="安宁市应急局")
    user = authenticate(engine, "anning", "安宁密码-2026-abc")
    assert user is not None and user["adcode"] == "530181" and "password_hash" not in user
    scope = scope_for(user)
    assert not scope.all_districts and scope.adcode == "530181"
    assert authenticate(engine, "anning", "wrong-password") is None
    assert authenticate(engine, "nobody", "安宁密码-2026-abc") is None
    assert store.set_user_active(engine, "anning", False, actor="admin")
    assert authenticate(engine, "anning", "安宁密码-2026-abc") is None  # disabled


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"role": "god"}, "unknown role"),
    ({"role": "district_officer"}, "known district"),
    ({"role": "district_officer", "adcode": "530199"}, "known district"),
    ({"role": "planner", "password": "short"}, "at least 12"),
])
def test_add_user_rejects(engine, kwargs, message) -> None:
    password = kwargs.pop("password", "long enough pw")
    with pytest.raises(ValueError, match=message):
        add_user(engine, "x", password, **kwargs)


def test_cli_user_commands(engine, monkeypatch) -> None:
    from riskmap.cli import main

    monkeypatch.setenv("RISKMAP_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    argv = runner.invoke(main, ["user", "add", "leader1", "--role", "leader", "--password", "Kv7-mountain-lake"])
    assert argv.exit_code != 0 and "No such option" in argv.output  # never on the command line
    ok = runner.invoke(main, ["user", "add", "leader1", "--role", "leader", "--password-stdin"],
                       input="Kv7-mountain-lake\n")
    assert ok.exit_code == 0, ok.output
    dup = runner.invoke(main, ["user", "add", "leader1", "--role", "leader", "--password-stdin"],
                        input="Kv7-mountain-lake\n")
    assert dup.exit_code != 0 and "exists" in dup.output
    listed = runner.invoke(main, ["user", "list"])
    assert "leader1" in listed.output and "leader" in listed.output and "argon2" not in listed.output
    assert runner.invoke(main, ["user", "disable", "leader1"]).exit_code == 0
    assert "disabled" in runner.invoke(main, ["user", "list"]).output
