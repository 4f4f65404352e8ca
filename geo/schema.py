"""Schema migrations (Alembic) driven from code; no alembic.ini needed."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from geo.constants import ROLES
from geo.models.records import role_check

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """Build the Alembic configuration for RiskMap's migrations folder.

    Parameters
    ----------
    engine : Engine, optional
        Engine whose connection the migrations run on.

    Returns
    -------
    Config
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(slug)s")
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create PostGIS and bring the schema to ``revision`` (default: the newest).

    Parameters
    ----------
    engine : Engine
        Target database.
    revision : str
        Alembic revision to upgrade to.
    """
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        if revision == "head":
            sync_roles(conn)


def sync_roles(conn: Connection) -> bool:
    """Make ``users.role``'s check constraint accept exactly :data:`geo.constants.ROLES`.

    A new role is a row of that table (and of the permissions); no migration is needed for the
    database to accept it. A role still held by a user cannot be dropped: the constraint refuses.

    Parameters
    ----------
    conn : Connection
        An owner's connection in a transaction.

    Returns
    -------
    bool
        Whether the constraint was changed.
    """
    found = conn.execute(text("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                              "WHERE conname = 'ck_users_role_values'")).scalar()
    if set(re.findall(r"'([a-z_]+)'", found or "")) == set(ROLES):
        return False
    conn.execute(text("ALTER TABLE users DROP CONSTRAINT IF EXISTS ck_users_role_values"))
    conn.execute(text(f"ALTER TABLE users ADD CONSTRAINT ck_users_role_values CHECK ({role_check()})"))
    return True


def current_revision(engine: Engine) -> str | None:
    """Return the database's Alembic revision, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """Return the newest revision in the migrations folder."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
