"""User rows (password hashing and roles live in :mod:`identity`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, text

from geo.models import Base
from geo.store.audit import audit

USER_COLUMNS = ("id", "username", "display_name", "role", "adcode", "credit_code", "active", "last_login_at",
                "created_at")


def insert_user(engine: Engine, **values: Any) -> int:
    """Insert a user row (password already hashed); return its id."""
    users = Base.metadata.tables["users"]
    with engine.begin() as conn:
        new_id = int(conn.execute(users.insert().returning(users.c.id), values).scalar_one())
        audit(conn, actor=str(values.get("created_by", "cli")), action="user_add", target=values["username"],
              adcode=values.get("adcode"), details={"role": values["role"]})
    return new_id


def find_user(engine: Engine, username: str) -> dict[str, Any] | None:
    """Return a user (including the password hash) by name, or None."""
    users = Base.metadata.tables["users"]
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return dict(row) if row else None


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """All users without their password hashes."""
    users = Base.metadata.tables["users"]
    with engine.connect() as conn:
        rows = conn.execute(select(*(users.c[c] for c in USER_COLUMNS)).order_by(users.c.username)).mappings()
        return [dict(r) for r in rows]


def set_user_active(engine: Engine, username: str, active: bool, *, actor: str) -> bool:
    """Enable or disable a user; return whether the user exists."""
    with engine.begin() as conn:
        n = conn.execute(text("UPDATE users SET active = :a, updated_at = now() WHERE username = :u"),
                         {"a": active, "u": username}).rowcount
        if n:
            audit(conn, actor=actor, action="user_enable" if active else "user_disable", target=username)
    return bool(n)


def touch_login(engine: Engine, user_id: int) -> None:
    """Record a successful log-in."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET last_login_at = now() WHERE id = :i"), {"i": user_id})
