"""Engines and the district scope every transaction of the application role runs under."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text

from geo import embedded
from geo.config import Settings


def engine_url(settings: Settings, *, start: bool = True) -> str:
    """Return the database URL, starting the embedded cluster when none is configured.

    Parameters
    ----------
    settings : Settings
        Resolved settings.
    start : bool
        Start the embedded server if it is not running.

    Returns
    -------
    str
        SQLAlchemy URL.
    """
    if settings.database_url:
        return settings.database_url
    cluster = embedded.cluster_for(settings.home, settings.pg_os_user)
    if start:
        embedded.start(cluster)
    return cluster.url()


def make_engine(url: str, *, scoped: bool = False) -> Engine:
    """Create an engine with pre-ping, so a restarted server is reconnected to.

    Parameters
    ----------
    url : str
        SQLAlchemy URL.
    scoped : bool
        Apply the current :class:`Scope` at the start of every transaction (for the
        application role, whose row-level-security policies read it). With no scope
        set, district-owned rows are invisible.
    """
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    if scoped:
        event.listen(engine, "begin", _apply_scope)
    return engine


@dataclass(frozen=True)
class Scope:
    """Which districts the current user may see: all of them, or one ``adcode``.

    ``role`` and ``credit_code`` identify the account to the database as well: an enterprise
    account (``credit_code`` set) sees only its own enterprise's rows, and workflow steps are
    accepted only under the session's own role and actor name.

    For the application role the database takes the scope **only** from ``session_token`` (a live
    session of ``user_sessions``, see :mod:`geo.store.sessions`): its transactions are given only the
    token, and the session's account names the row versions they make; the other fields are set only
    on the owner's connections, for its own scoped work, and serve Python-side checks.
    """

    all_districts: bool
    adcode: str | None = None
    actor: str = "system"
    role: str | None = None
    credit_code: str | None = None
    session_token: str | None = None


_SCOPE: ContextVar[Scope | None] = ContextVar("riskmap_scope", default=None)


@contextmanager
def scoped(scope: Scope | None) -> Iterator[None]:
    """Run the enclosed database work under ``scope`` (per thread/task, never global)."""
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def set_scope(scope: Scope | None) -> Token[Scope | None]:
    """Set the scope for the rest of the current request; undo with :func:`reset_scope`."""
    return _SCOPE.set(scope)


def reset_scope(token: Token[Scope | None]) -> None:
    """Undo :func:`set_scope`."""
    _SCOPE.reset(token)


def current_scope() -> Scope | None:
    """Return the scope set by the innermost :func:`scoped` block, if any."""
    return _SCOPE.get()


#: Whether a connection's login role is the owner's (asked once per database connection): only the owner's
#: scoped work reads riskmap.scope/adcode/role/credit_code; another role's scope comes from its session alone.
_TRUSTS_SETTINGS = (
    "SELECT coalesce(pg_catalog.pg_has_role(session_user, (SELECT c.relowner FROM pg_catalog.pg_class c "
    "WHERE c.oid = pg_catalog.to_regclass('public.users')), 'MEMBER'), true)")


def _apply_scope(conn: Connection) -> None:
    scope = _SCOPE.get()
    info = conn.connection.info
    if "riskmap_owner" not in info:
        info["riskmap_owner"] = bool(conn.exec_driver_sql(_TRUSTS_SETTINGS).scalar())
    if not info["riskmap_owner"]:
        # The application role: the scope functions (riskmap_actor too, which names who made each row
        # version) read only the account of the live session named by riskmap.session (migration 0015)
        conn.exec_driver_sql("SELECT set_config('riskmap.session', %(session)s, true)",
                             {"session": scope.session_token or "" if scope is not None else ""})
        return
    conn.exec_driver_sql(
        "SELECT set_config('riskmap.session', %(session)s, true), "
        "set_config('riskmap.scope', %(scope)s, true), set_config('riskmap.adcode', %(adcode)s, true), "
        "set_config('riskmap.role', %(role)s, true), set_config('riskmap.actor', %(actor)s, true), "
        "set_config('riskmap.credit_code', %(credit_code)s, true)",
        {"session": scope.session_token or "" if scope is not None else "",
         # 'district' marks a scoped owner transaction; '' (no scope) lets the owner see everything
         "scope": "" if scope is None else "all" if scope.all_districts else "district",
         "adcode": scope.adcode if scope is not None and scope.adcode else "",
         "role": scope.role or "" if scope is not None else "",
         "actor": scope.actor if scope is not None else "",
         "credit_code": scope.credit_code or "" if scope is not None else ""},
    )


def postgis_version(engine: Engine) -> str:
    """Return PostgreSQL and PostGIS versions as one line."""
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
        pgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    return f"PostgreSQL {pg}, PostGIS {pgis}"


def bypasses_row_security(engine: Engine) -> bool:
    """Whether the engine's role escapes row-level security (superuser, BYPASSRLS or table owner).

    Parameters
    ----------
    engine : Engine
        Connection to check.

    Returns
    -------
    bool
        True when district policies would not apply to this connection.
    """
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT r.rolsuper OR r.rolbypassrls OR pg_get_userbyid(c.relowner) = current_user "
            "FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = 'enterprises'::regclass"
        )).scalar_one())


_P = ParamSpec("_P")
_R = TypeVar("_R")


def on_connection(
    read: Callable[Concatenate[Connection, _P], _R],
) -> Callable[Concatenate[Connection | Engine, _P], _R]:
    """Let a read that runs on a connection be given an engine too (it then runs on a connection of its own).

    Parameters
    ----------
    read : callable
        A function whose first argument is a :class:`~sqlalchemy.Connection`.

    Returns
    -------
    callable
        The same function, taking a connection (used as is, inside its transaction) or an engine.
    """

    @functools.wraps(read)
    def wrapper(conn: Connection | Engine, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        if isinstance(conn, Engine):
            with conn.connect() as own:
                return read(own, *args, **kwargs)
        return read(conn, *args, **kwargs)

    return wrapper
