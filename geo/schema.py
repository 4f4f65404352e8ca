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
            secure_scope_policies(conn)


_SCOPE_CALL = re.compile(r"(?<!SELECT )(riskmap_(?:scope_all|adcode|credit_code|role|actor|scope_adcode))\(\)")
_RAW_ADCODE = re.compile(r"NULLIF\(current_setting\('riskmap\.adcode'::text, true\), ''::text\)")


def _wrapped(expr: str | None) -> str | None:
    """``expr`` with each scope function called as a scalar subquery (an InitPlan: once per query)."""
    if expr is None:
        return None
    return _SCOPE_CALL.sub(r"(SELECT \1())", _RAW_ADCODE.sub("(SELECT riskmap_scope_adcode())", expr))


def secure_scope_policies(conn: Connection) -> list[str]:
    """Hold every row-level-security table to the rule of migration 0015, whichever migration made it.

    Each policy applies to every role and calls the scope functions as scalar subqueries; each table has
    the ``owner_unscoped`` policy and FORCE ROW LEVEL SECURITY (docs/decisions.md, sessions and scope).
    A table added by a later migration with a policy ``TO riskmap_app`` is brought in line here.

    Parameters
    ----------
    conn : Connection
        An owner's connection in a transaction, at a revision of 0015 or later.

    Returns
    -------
    list of str
        ``table.policy`` or ``table`` names changed (empty when everything already held).
    """
    if conn.execute(text("SELECT to_regprocedure('riskmap_unscoped()')")).scalar() is None:
        return []  # before revision 0015
    changed: list[str] = []
    policies = conn.execute(text(
        "SELECT tablename, policyname, roles::text[], qual, with_check FROM pg_policies "
        "WHERE schemaname = 'public' AND policyname <> 'owner_unscoped' ORDER BY tablename, policyname")).all()
    for table, name, roles, qual, check in policies:
        if list(roles) == ["public"] and _wrapped(qual) == qual and _wrapped(check) == check:
            continue
        parts = [f'ALTER POLICY "{name}" ON public."{table}" TO PUBLIC']
        parts += [f"USING ({_wrapped(qual)})"] if qual is not None else []
        parts += [f"WITH CHECK ({_wrapped(check)})"] if check is not None else []
        conn.execute(text(" ".join(parts)))
        changed.append(f"{table}.{name}")
    loose = conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
        "AND c.relkind = 'r' AND c.relrowsecurity AND NOT c.relforcerowsecurity ORDER BY c.relname")).scalars().all()
    for table in loose:
        conn.execute(text(f'DROP POLICY IF EXISTS owner_unscoped ON public."{table}"'))
        conn.execute(text(f'CREATE POLICY owner_unscoped ON public."{table}" TO CURRENT_USER '
                          "USING ((SELECT riskmap_unscoped())) WITH CHECK ((SELECT riskmap_unscoped()))"))
        conn.execute(text(f'ALTER TABLE public."{table}" FORCE ROW LEVEL SECURITY'))
        changed.append(table)
    return changed


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
