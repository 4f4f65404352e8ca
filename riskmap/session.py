"""Who runs a ``riskmap`` command, and the database engine that follows from it.

Without ``--user`` a command runs as the host operator (the database owner). With it, the account
signs in once per process; its role is checked per command and its district scope applies to every
query (row-level security in PostgreSQL). Every command module reads these helpers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import click
from sqlalchemy import Engine

from geo import schema, store
from geo.config import Settings, load_settings
from geo.errors import AccessDenied

__all__ = [
    "CliSession",
    "actor_name",
    "admin_engine",
    "cli_settings",
    "current_session",
    "engine_for",
    "known_layer",
    "operator_only",
    "owner_engine",
]


def cli_settings() -> Settings:
    """Return the settings of this process (environment and defaults)."""
    return load_settings()


@dataclass
class CliSession:
    """Who runs the command: the host operator (no ``--user``) or a signed-in account."""

    username: str | None = None
    user: dict[str, Any] | None = None
    app_engine: Engine | None = None


def current_session() -> CliSession:
    """Return the session of the running command (the operator's when there is none)."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(CliSession) if ctx is not None else None
    return found if found is not None else CliSession()


def owner_engine(settings: Settings | None = None) -> Engine:
    """Return the database owner's engine, the schema migrated to the head."""
    settings = settings or cli_settings()
    engine = store.make_engine(store.engine_url(settings))
    schema.upgrade(engine)
    return engine


def _sign_in(session: CliSession, settings: Settings) -> Engine:
    """Authenticate ``--user`` once and return an engine of the application role under their scope."""
    if session.app_engine is not None:
        return session.app_engine
    from identity.accounts import authenticate, scope_for
    from identity.permissions import app_database_url

    owner = owner_engine(settings)
    owner.dispose()
    app = store.make_engine(app_database_url(settings), scoped=True)
    if store.bypasses_row_security(app):
        raise click.ClickException(
            "应用数据库角色不受行级安全约束，无法以用户身份限定范围；请设置 RISKMAP_APP_DATABASE_URL / "
            "the application role bypasses row-level security: set RISKMAP_APP_DATABASE_URL to a plain role")
    password = os.environ.get("RISKMAP_PASSWORD")
    if password is None:
        password = click.prompt(f"{session.username} 的密码 / password", hide_input=True, err=True)
    result = authenticate(app, str(session.username), password, via="cli", settings=settings)
    if result.outcome == "locked":
        raise click.ClickException("尝试次数过多，账号已暂时锁定，请稍后再试 / too many attempts: the account is "
                                   "locked for a while, try again later")
    if not result.ok or result.user is None:
        raise click.ClickException("用户名或密码错误，或账号已停用 / wrong user name or password, or account disabled")
    user, session_token = result.user, _second_factor(app, session, result)
    scope = scope_for(user, session_token)  # the database scopes every query by this session's token alone
    token = store.set_scope(scope)  # for the rest of this command (one process, one user)
    root = click.get_current_context().find_root()
    root.call_on_close(app.dispose)
    root.call_on_close(lambda: store.reset_scope(token))
    root.call_on_close(lambda: store.sign_out(app, session_token))  # the session ends with the command
    session.user, session.app_engine = user, app
    return app


def _second_factor(app: Engine, session: CliSession, result: Any) -> str:
    """Return the session token once the account's second factor is given (prompt or RISKMAP_TOTP_CODE).

    An account whose role requires a second factor it has not set enrols on the web page first.
    """
    if result.second_factor is None:
        return str(result.token)
    if result.second_factor == "enrol":
        store.sign_out(app, result.token)
        raise click.ClickException("此账号须先在网页 /second-factor 设置双因素认证 / this account must first set up "
                                   "its second factor on the web page /second-factor")
    code = os.environ.get("RISKMAP_TOTP_CODE")
    if code is None:
        code = click.prompt(f"{session.username} 的动态验证码 / one-time code", hide_input=False, err=True)
    outcome = store.verify_second_factor(app, str(result.token), str(code), address=None)
    if outcome.outcome == "locked":
        raise click.ClickException("尝试次数过多，账号已暂时锁定，请稍后再试 / too many attempts: the account is "
                                   "locked for a while, try again later")
    if outcome.outcome != "ok" or outcome.token is None:
        store.sign_out(app, result.token)
        raise click.ClickException("动态验证码错误 / wrong one-time code")
    return outcome.token


def engine_for(settings: Settings | None = None, action: str | None = None) -> Engine:
    """Return the owner's engine, or the signed-in user's scoped one once ``action`` is allowed."""
    settings = settings or cli_settings()
    session = current_session()
    if session.username is None:
        return owner_engine(settings)
    engine = _sign_in(session, settings)
    if action is not None:
        from identity.permissions import require

        try:
            require(session.user, action)
        except AccessDenied as exc:
            raise click.ClickException(str(exc)) from exc
    return engine


def actor_name(given: str | None = None) -> str:
    """Who the audit log names: the signed-in account, else the operating-system account running the command.

    A typed ``--actor`` (``given``) is never the actor: commands may keep it as a note in the details.
    Run through sudo, the actor is ``"root (sudo: alice)"`` (SUDO_USER is set by sudo; a root shell can
    set it too, so it names who sudo said, and the account is always the effective one).
    """
    session = current_session()
    if session.username is not None:
        return str(session.username)
    import pwd

    try:
        name = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid without a passwd entry (containers)
        name = f"uid {os.geteuid()}"
    sudo = os.environ.get("SUDO_USER")
    return (f"{name} (sudo: {sudo})" if sudo and sudo != name else name)[:80]


def operator_only(command: str) -> None:
    """Refuse ``command`` when it is run with ``--user``: it belongs to the host operator."""
    if current_session().username is not None:
        raise click.ClickException(f"riskmap {command} 是主机运维命令，不能与 --user 一起使用 / "
                                   f"riskmap {command} is a host-operator command and does not take --user")


def admin_engine() -> Engine:
    """Return the owner's engine for account changes once a ``--user`` is shown to be an administrator."""
    if current_session().username is not None:
        engine_for(action="manage_users").dispose()
    return owner_engine()



def known_layer(name: str) -> None:
    """Stop with exit code 2 and the list of layers when ``name`` is none of them."""
    from geo.layer_specs import UnknownLayerError, layer_spec

    try:
        layer_spec(name)
    except UnknownLayerError as exc:
        raise click.BadParameter(str(exc), param_hint="LAYER") from None





def account(action: str) -> tuple[Engine, Any]:
    """Return the signed-in account's engine and campaign actor once ``action`` is allowed.

    Work of the campaign is done as an account, never as the bare host operator: without ``--user`` the
    command stops with a clear message.
    """
    from campaign.service import Actor

    session = current_session()
    if session.username is None:
        raise click.ClickException("须以账号身份办理，请使用 --user / this is done as an account: "
                                   "use riskmap --user NAME …")
    engine = engine_for(action=action)
    assert session.user is not None  # set by signing in
    return engine, Actor.of(session.user)


def field_pairs(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """Split ``--set field=value`` options, refusing one without ``=``."""
    out = []
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"应为 字段=值 / expected field=value: {item!r}", param_hint="--set")
        name, value = item.split("=", 1)
        out.append((name.strip(), value))
    return out


def refusal(exc: Exception, lang: str) -> click.ClickException:
    """Turn a refusal with ``(zh, en)`` reasons into a click error in ``lang`` (zh, en or both)."""
    reasons = getattr(exc, "reasons", None) or [(str(exc), str(exc))]
    lines = [zh if lang == "zh" else en if lang == "en" else f"{zh} / {en}" for zh, en in reasons]
    return click.ClickException("\n".join(lines))
