"""``riskmap enterprise …``: an enterprise asks to change its basic information; its district decides."""

from __future__ import annotations

import click

from riskmap.session import account, field_pairs, refusal

LANG = click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="zh", show_default=True)


@click.group("enterprise")
def enterprise() -> None:
    """Enterprise information changes: request (enterprise accounts), list, decide (district officers)."""


@enterprise.command("request")
@click.option("--set", "values", multiple=True, required=True, help="field=value (name, address, principal, "
              "phone, industry).")
@click.option("--reason", required=True, help="Why, e.g. 营业执照变更.")
@LANG
def request_cmd(values: tuple[str, ...], reason: str, lang: str) -> None:
    """Ask the district to change the account's enterprise."""
    from campaign.enterprise_changes import request_change
    from campaign.lifecycle import Refused

    engine, actor = account("request_info_change")
    try:
        change_id = request_change(engine, actor, dict(field_pairs(values)), reason=reason)
    except Refused as exc:
        raise refusal(exc, lang) from exc
    click.echo(f"变更申请 {change_id} 已提交，等待区县审批 / request {change_id} filed, waiting for the district")


@enterprise.command("changes")
@click.option("--state", type=click.Choice(["pending", "approved", "rejected"]))
def changes_cmd(state: str | None) -> None:
    """List the change requests the account sees (newest first)."""
    from campaign.enterprise_changes import list_changes

    engine, _ = account("hazards_page")
    for r in list_changes(engine, state=state).to_dict("records"):
        fields = "；".join(f"{k}: {r['previous'].get(k)} → {v}" for k, v in r["proposed"].items())
        click.echo(f"{r['id']:>5} {r['state']:<9} {r['credit_code']} {r['requested_by']:<12} {fields}  ({r['reason']})")


@enterprise.command("decide")
@click.argument("change_id", type=int)
@click.option("--approve/--reject", required=True)
@click.option("--note", help="The decision's note (required to reject).")
@LANG
def decide_cmd(change_id: int, approve: bool, note: str | None, lang: str) -> None:
    """Approve (and apply) or reject a pending request of the district."""
    from campaign.enterprise_changes import decide_change
    from campaign.lifecycle import Refused

    engine, actor = account("decide_info_change")
    try:
        state = decide_change(engine, actor, change_id, approve=approve, note=note)
    except Refused as exc:
        raise refusal(exc, lang) from exc
    click.echo(f"变更申请 {change_id}: {state}")
