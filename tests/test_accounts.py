"""Accounts: bcrypt hashes made by the database, roles, district officers, authentication and the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from geo import store
from identity.accounts import add_user, authenticate, scope_for

pytestmark = pytest.mark.postgis


def test_hash_is_bcrypt_made_in_the_database(engine) -> None:
    add_user(engine, "anning", "correct horse battery", role="district_officer", adcode="530181")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE username = 'anning'")).scalar_one()
        cost = conn.execute(text("SELECT bcrypt_cost FROM security_settings")).scalar_one()
        assert conn.execute(text("SELECT crypt('correct horse battery', :h) = :h"), {"h": stored}).scalar_one()
        assert not conn.execute(text("SELECT crypt('wrong password!!', :h) = :h"), {"h": stored}).scalar_one()
    assert stored.startswith(f"$2a${cost:02d}$") and "correct" not in stored


def test_add_and_authenticate(engine) -> None:
    add_user(engine, "anning", "安宁密码-2026-abc", role="district_officer", adcode="530181",
             display_name="安宁市应急局")
    result = authenticate(engine, "anning", "安宁密码-2026-abc", via="test")
    user = result.user
    assert result.ok and user is not None and user["adcode"] == "530181" and "password_hash" not in user
    assert result.token is not None and len(result.token) == 64
    scope = scope_for(user, result.token)
    assert not scope.all_districts and scope.adcode == "530181" and scope.session_token == result.token
    assert authenticate(engine, "anning", "wrong-password", via="test").outcome == "failed"
    assert authenticate(engine, "nobody", "安宁密码-2026-abc", via="test").outcome == "failed"
    assert store.set_user_active(engine, "anning", False, actor="admin")
    assert store.session_user(engine, result.token) is None  # disabling ends the session
    assert authenticate(engine, "anning", "安宁密码-2026-abc", via="test").outcome == "disabled"


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
