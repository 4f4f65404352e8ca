"""A role is a row of geo.constants.ROLES: the database accepts exactly the roles of that table."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from geo import schema
from geo.constants import CITY_WIDE_ROLES, ROLES
from identity.permissions import PERMISSIONS

pytestmark = pytest.mark.postgis


def _add(conn, role: str) -> None:
    conn.execute(text("INSERT INTO users (username, display_name, password_hash, role, active) "
                      "VALUES (:u, :name, 'x', :r, true)"),
                 {"u": f"u-{role}", "name": f"测试 {role}", "r": role})


def test_a_new_role_needs_no_migration_and_an_unknown_one_is_refused(engine, monkeypatch) -> None:
    with engine.begin() as conn:
        assert schema.sync_roles(conn) is False  # the upgrade already matched the table
    with pytest.raises(IntegrityError, match="ck_users_role_values"), engine.begin() as conn:
        _add(conn, "inspector")
    monkeypatch.setitem(ROLES, "inspector", "安全检查员(测试)")
    schema.upgrade(engine)  # every upgrade brings the constraint in line with the table
    with engine.begin() as conn:
        _add(conn, "inspector")
        assert conn.execute(text("SELECT role FROM users WHERE username = 'u-inspector'")).scalar_one() == "inspector"
    monkeypatch.delitem(ROLES, "inspector")
    with pytest.raises(IntegrityError, match="ck_users_role_values"), engine.begin() as conn:
        schema.sync_roles(conn)  # a role still held cannot be dropped


def test_every_role_has_a_scope_and_every_permission_names_known_roles() -> None:
    assert set(ROLES) >= CITY_WIDE_ROLES
    assert {role for roles in PERMISSIONS.values() for role in roles} <= set(ROLES)
