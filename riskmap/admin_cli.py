"""``riskmap user`` and ``riskmap rules``: accounts and local rule values (administrators)."""

from __future__ import annotations

import os

import click

from geo import store
from geo.errors import AccessDenied
from identity.accounts import ROLES
from riskmap.session import actor_name, admin_engine, engine_for, operator_only


@click.group()
def user() -> None:
    """Manage accounts (administrators)."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True)
@click.option("--district", help="adcode, required for district_officer")
@click.option("--credit-code", help="统一社会信用代码, required for an enterprise account (its district follows)")
@click.option("--name", "display_name", help="Display name")
@click.password_option(help="Password (prompted when omitted; at least 10 characters)")
def user_add(username: str, role: str, district: str | None, credit_code: str | None, display_name: str | None,
             password: str) -> None:
    """Create an account."""
    from identity.accounts import add_user

    try:
        add_user(admin_engine(), username, password, role=role, display_name=display_name, adcode=district,
                 credit_code=credit_code, actor=actor_name(os.environ.get("USER", "cli")))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {username} ({role}{', ' + district if district else ''})")


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
    if not store.set_user_active(admin_engine(), username, False, actor=actor_name(os.environ.get("USER", "cli"))):
        raise click.ClickException(f"no user {username!r}")
    click.echo(f"disabled {username}")



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


@rules_group.command("set")
@click.argument("code")
@click.argument("path")
@click.argument("value")
@click.option("--reason", required=True, help="Why (at least 4 characters), e.g. the local regulation and clause.")
@click.option("--actor", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
def rules_set(code: str, path: str, value: str, reason: str, actor: str) -> None:
    """Put VALUE in force for PATH of rule CODE, e.g. `riskmap rules set PIPE_OCCUPY threshold_m 8 --reason …`."""
    from geo.rule_admin import set_rule_value

    engine = engine_for(action="manage_rules")
    try:
        version = set_rule_value(engine, code, path, value, reason=reason, actor=actor_name(actor))
    except (ValueError, AccessDenied) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{code} {path} = {value}; 规则版本 / rule set version: {version}")


@rules_group.command("reset")
@click.argument("code")
@click.argument("path")
@click.option("--reason", required=True, help="Why (at least 4 characters).")
@click.option("--actor", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
def rules_reset(code: str, path: str, reason: str, actor: str) -> None:
    """Take the local value of PATH of rule CODE out of force: the rule file's value applies again."""
    from geo.rule_admin import effective_ruleset, reset_rule_value

    engine = engine_for(action="manage_rules")
    try:
        done = reset_rule_value(engine, code, path, reason=reason, actor=actor_name(actor))
    except (ValueError, AccessDenied) as exc:
        raise click.ClickException(str(exc)) from exc
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
