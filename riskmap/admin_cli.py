"""``riskmap user`` and ``riskmap rules``: accounts and local rule values (administrators)."""

from __future__ import annotations

import os
import subprocess
import sys

import click
from sqlalchemy import Engine

from geo import store
from geo.errors import AccessDenied
from identity.accounts import ROLES
from riskmap.session import actor_name, admin_engine, cli_settings, engine_for, operator_only


@click.group()
def user() -> None:
    """Manage accounts (administrators)."""


def _new_password(from_stdin: bool) -> str:
    """Read a new password from standard input (scripts) or a hidden prompt typed twice; never from argv."""
    if from_stdin:
        line = str(sys.stdin.readline())
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise click.ClickException("标准输入中没有密码 / no password on standard input")
        return password
    return str(click.prompt("新密码 / new password", hide_input=True, err=True,
                            confirmation_prompt="再次输入新密码 / repeat the new password"))


_STDIN_HELP = ("Read the password from the first line of standard input (scripts); otherwise it is prompted "
               "twice. It is never taken from the command line, where process lists show it.")


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True)
@click.option("--district", help="adcode, required for district_officer")
@click.option("--credit-code", help="统一社会信用代码, required for an enterprise account (its district follows)")
@click.option("--name", "display_name", help="Display name")
@click.option("--password-stdin", is_flag=True, help=_STDIN_HELP)
def user_add(username: str, role: str, district: str | None, credit_code: str | None, display_name: str | None,
             password_stdin: bool) -> None:
    """Create an account; it changes its password at its first sign-in (at least 12 characters, not common)."""
    from identity.accounts import add_user

    engine = admin_engine()
    password = _new_password(password_stdin)
    try:
        add_user(engine, username, password, role=role, display_name=display_name, adcode=district,
                 credit_code=credit_code, actor=actor_name(), must_change=True)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {username} ({role}{', ' + district if district else ''}); "
               "首次登录须修改密码 / the password must be changed at the first sign-in")


@user.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help=_STDIN_HELP)
def user_password(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME (administrators): their sessions end; they change it at the next sign-in."""
    from identity.password_policy import PasswordRejected, require_password

    engine = admin_engine()
    found = store.find_user(engine, username)
    if found is None:
        raise click.ClickException(f"没有用户 / no user {username!r}")
    password = _new_password(password_stdin)
    try:
        require_password(password, username=username, display_name=found.get("display_name"))
    except PasswordRejected as exc:
        raise click.ClickException(str(exc)) from exc
    actor = actor_name()
    store.set_password(engine, username, password, actor=actor)
    store.require_password_change(engine, username, actor=actor)
    click.echo(f"已重置 {username} 的密码，下次登录须修改 / password of {username} reset; "
               "it must be changed at the next sign-in")


@user.command("list")
def user_list() -> None:
    """List accounts."""
    for u in store.list_users(admin_engine()):
        state = "active" if u["active"] else "disabled"
        click.echo(f"{u['username']:<16} {u['role']:<17} {u['adcode'] or '-':<7} {state:<8} {u['display_name']}")


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Disable an account (it can no longer sign in)."""
    if not store.set_user_active(admin_engine(), username, False, actor=actor_name()):
        raise click.ClickException(f"no user {username!r}")
    click.echo(f"disabled {username}")


@user.command("second-factor-reset")
@click.argument("username")
def user_second_factor_reset(username: str) -> None:
    """Remove the second factor of USERNAME (a lost phone), audited: the account enrols again."""
    engine = admin_engine()
    if store.find_user(engine, username) is None:
        raise click.ClickException(f"没有用户 / no user {username!r}")
    if not store.reset_second_factor(engine, username, actor=actor_name()):
        raise click.ClickException(f"{username} 没有第二因素 / {username!r} has no second factor")
    click.echo(f"已清除 {username} 的第二因素，须重新绑定 / second factor of {username} removed; it enrols again")


@user.command("second-factor-roles")
@click.argument("roles", nargs=-1)
@click.option("--none", "optional", is_flag=True, help="Make the second factor optional for every role.")
def user_second_factor_roles(roles: tuple[str, ...], optional: bool) -> None:
    """Show, or set, the roles that must have a second factor (e.g. `admin city_supervisor`), audited."""
    engine = admin_engine()
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise click.ClickException(f"未知角色 / unknown role {', '.join(unknown)}; roles: {', '.join(ROLES)}")
    if roles or optional:
        store.set_second_factor_roles(engine, list(roles), actor=actor_name())
    now = store.second_factor_roles(engine)
    click.echo(f"须第二因素的角色 / roles that must have a second factor: {', '.join(now) or '无 / none'}")


@user.command("demo-off")
def user_demo_off() -> None:
    """Disable every demo account (published passwords), audited; `riskmap import` does it for real data."""
    names = store.retire_demo_accounts(admin_engine(), actor=actor_name(), reason="riskmap user demo-off")
    click.echo("\n".join(f"已停用演示账号 / demo account disabled: {n}" for n in names)
               or "没有启用的演示账号 / no demo account enabled")


@click.group("rules")
def rules_group() -> None:
    """Check-rule values: list them; change one locally with a reason (audited), or reset it to the file's."""


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return "-" if value is None else str(value)


@rules_group.command("list")
@click.option("--changed", is_flag=True, help="Only the values changed locally.")
def rules_list(changed: bool) -> None:
    """List every editable value: rule, path, file value, value in force, confidence, and who changed it, when, why."""
    from geo.constants import LOCAL_ZONE
    from geo.rule_admin import value_states

    local, states = value_states(engine_for(action="rules_page"))
    base = "" if local.version == local.base_version else f" (文件 / file {local.base_version})"
    click.echo(f"规则版本 / rule set version: {local.version}{base}")
    for note in local.skipped:
        click.echo(f"警告 / warning: {note}", err=True)
    rows = [s for s in states if s.changed or not changed]
    if not rows:
        click.echo("没有本地修改 / no local changes" if changed else "没有可编辑的值 / no editable values")
        return
    table = [("code", "path", "file", "current", "confidence", "changed")]
    for s in rows:
        note = ""
        if s.changed and s.changed_at is not None:
            when = s.changed_at.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")
            note = f"{s.actor} {when}: {s.reason}"
        table.append((s.item.code, s.item.path, _show(s.item.value), _show(s.current), s.item.confidence, note))
    widths = [max(len(r[i]) for r in table) for i in range(5)]
    for r in table:
        click.echo("  ".join([*(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)), r[5]]).rstrip())


def _note(engine: Engine, note: str | None, target: str) -> None:
    """Keep a typed ``--actor`` as a note of its own in the audit log (the actor is who ran the command)."""
    if note:
        with engine.begin() as conn:
            store.audit(conn, actor=actor_name(), action="operator_note", target=target,
                        details={"given_actor": note[:200]})


@rules_group.command("set")
@click.argument("code")
@click.argument("path")
@click.argument("value")
@click.option("--reason", required=True, help="Why (at least 4 characters), e.g. the local regulation and clause.")
@click.option("--actor", "note", help="A note of who asked for it, kept in the audit details; the audit names the "
              "signed-in account or the operating-system account, never this text.")
def rules_set(code: str, path: str, value: str, reason: str, note: str | None) -> None:
    """Put VALUE in force for PATH of rule CODE, e.g. `riskmap rules set PIPE_OCCUPY threshold_m 8 --reason …`."""
    from geo.rule_admin import set_rule_value

    engine = engine_for(action="manage_rules")
    try:
        version = set_rule_value(engine, code, path, value, reason=reason, actor=actor_name())
    except (ValueError, AccessDenied) as exc:
        raise click.ClickException(str(exc)) from exc
    _note(engine, note, f"{code}.{path}")
    click.echo(f"{code} {path} = {value}; 规则版本 / rule set version: {version}")


@rules_group.command("reset")
@click.argument("code")
@click.argument("path")
@click.option("--reason", required=True, help="Why (at least 4 characters).")
@click.option("--actor", "note", help="A note of who asked for it, kept in the audit details; the audit names the "
              "signed-in account or the operating-system account, never this text.")
def rules_reset(code: str, path: str, reason: str, note: str | None) -> None:
    """Take the local value of PATH of rule CODE out of force: the rule file's value applies again."""
    from geo.rule_admin import effective_ruleset, reset_rule_value

    engine = engine_for(action="manage_rules")
    try:
        done = reset_rule_value(engine, code, path, reason=reason, actor=actor_name())
    except (ValueError, AccessDenied) as exc:
        raise click.ClickException(str(exc)) from exc
    _note(engine, note, f"{code}.{path}")
    what = ("已恢复规则文件的值 / the rule file's value applies again" if done
            else "没有本地值，规则文件的值已在使用 / no local value: the rule file's value already applies")
    click.echo(f"{code} {path}: {what}; 规则版本 / rule set version: {effective_ruleset(engine).version}")


@click.group("audit")
def audit_group() -> None:
    """Check the audit log (host operator)."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain: OK with the count and last hash, or the first broken entry."""
    operator_only("audit verify")
    report = store.verify_audit_chain(admin_engine())
    if report.ok:
        click.echo(f"OK: {report.count} 条记录，链完整 / entries, chain intact; "
                   f"最后哈希 / last hash {report.last_hash or '-'}")
        return
    when = report.broken_at.isoformat() if report.broken_at is not None else "-"
    click.echo(f"审计日志被改动 / the audit log was altered: 记录 / entry id {report.broken_id} ({when}): "
               f"{report.reason}; {report.count} 条记录完好 / entries verified before it", err=True)
    raise SystemExit(1)


def demo_account_warning(engine: Engine) -> str | None:
    """Return the loud warning ``riskmap serve`` prints while demo accounts can sign in, else None."""
    names = store.enabled_demo_accounts(engine)
    if not names:
        return None
    bar = "!" * 78
    return (f"{bar}\n警告：演示账号已启用，其密码是公开的：{', '.join(names)}\n"
            "WARNING: demo accounts with published passwords are enabled: anyone can sign in as them.\n"
            "正式使用前请停用 / before real use run: riskmap user demo-off   (riskmap import of real data does it)\n"
            f"{bar}")


def can_run_as(uid: int, gid: int, executable: str = sys.executable) -> bool:
    """Return whether the system user ``uid`` can start ``executable`` and import the web server's packages."""
    try:
        proc = subprocess.run([executable, "-c", "import dash, gunicorn, riskmap"], capture_output=True, cwd="/",
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/"}, user=uid,
                              group=gid, extra_groups=[], timeout=120, check=False)
    except OSError:
        return False
    return proc.returncode == 0


def web_server_user() -> tuple[list[str], str | None]:
    """Return gunicorn's ``--user``/``--group`` for the web server's own system user when run as root, and a warning.

    As root, the system user ``riskmap-web`` is created if missing (it may connect to the database only as
    the application role) and given the secret key file it reads; the request-handling workers run as it.
    When it cannot run this Python (a virtualenv on an interpreter under ``/root``), the workers stay root
    and the returned warning says so.
    """
    if os.geteuid() != 0:
        return [], None
    from dashboard.auth import secret_key
    from geo.embedded import WEB_OS_USER, ensure_web_user

    uid, gid = ensure_web_user()
    if not can_run_as(uid, gid):
        return [], (f"警告：系统用户 {WEB_OS_USER} 无法运行 {sys.executable}（解释器在其不可读的目录中），"
                    "网页服务仍以 root 运行；请在系统 Python 上建立虚拟环境。\n"
                    f"WARNING: the system user {WEB_OS_USER} cannot run "
                    f"{sys.executable} (the interpreter lies in a folder it cannot read, e.g. /root): the web server "
                    "runs as root. Build the virtualenv on a system Python (/usr/bin/python3).")
    if not os.environ.get("RISKMAP_SECRET_KEY"):
        home = cli_settings().home
        secret_key(home)  # made now by root (mode 0600), then handed to the web user
        os.chown(home / "secret_key", uid, gid)
    return ["--user", WEB_OS_USER, "--group", WEB_OS_USER], None
