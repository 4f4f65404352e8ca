"""User rows (roles live in :mod:`identity`; passwords are hashed by the database, see :mod:`geo.store.sessions`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, text

from geo.models import Base
from geo.store.audit import audit
from geo.store.sessions import password_hash_sql

USER_COLUMNS = ("id", "username", "display_name", "role", "adcode", "credit_code", "active", "last_login_at",
                "created_at")
_INSERTABLE = ("username", "display_name", "role", "adcode", "credit_code", "active", "must_change_password",
               "demo")


def insert_user(engine: Engine, *, password: str, **values: Any) -> int:
    """Insert a user row, its password hashed by the database (bcrypt); return its id (the owner's engine)."""
    row = {k: v for k, v in values.items() if k in _INSERTABLE}
    names = ", ".join(row)
    params = ", ".join(f":{k}" for k in row)
    with engine.begin() as conn:
        new_id = int(conn.execute(text(f"INSERT INTO users ({names}, password_hash) "
                                       f"VALUES ({params}, {password_hash_sql()}) RETURNING id"),
                                  {**row, "pw": password}).scalar_one())
        audit(conn, actor=str(values.get("created_by", "cli")), action="user_add", target=values["username"],
              adcode=values.get("adcode"), details={"role": values["role"]})
    return new_id


def find_user(engine: Engine, username: str) -> dict[str, Any] | None:
    """Return a user (never the password hash, which the application role cannot read) by name, or None."""
    users = Base.metadata.tables["users"]
    with engine.connect() as conn:
        row = conn.execute(select(*(users.c[c] for c in USER_COLUMNS)).where(users.c.username == username)
                           ).mappings().first()
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

