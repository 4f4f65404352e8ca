"""``riskmap hazard …``: the hazard closed loop from the command line, as an account (``--user``).

The same services, rules and audit as the pages: a step not allowed for the account's role or the
hazard's state, a missing 五落实 value, a deadline in the past or a wrong attachment is refused with
every reason and nothing is written (exit code 1). Scripts read ``list`` as CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from geo.errors import AccessDenied
from riskmap.session import account, field_pairs, refusal


def _uploads(paths: tuple[Path, ...]) -> list[Any]:
    from campaign.attachments import Upload

    return [Upload(p.name, p.read_bytes()) for p in paths]


LANG = click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="zh", show_default=True)


@click.group("hazard")
def hazard() -> None:
    """Hidden hazards: list, show, report and take steps (as an account, with --user)."""


#: Columns of ``hazard list --format csv``, written even when no hazard matches.
HAZARD_LIST_COLUMNS = ("id", "code", "adcode", "severity", "state", "version", "deadline", "overdue", "supervision",
                       "enterprise", "description")


@hazard.command("list")
@click.option("--district", help="Only this district (adcode).")
@click.option("--state", "states", multiple=True, help="Only these states (reported, verified, rectifying, …).")
@click.option("--overdue", is_flag=True, help="Only hazards past their deadline and not finished.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
def list_cmd(district: str | None, states: tuple[str, ...], overdue: bool, fmt: str) -> None:
    """List the hazards the account sees."""
    from campaign.lifecycle import load_lifecycle
    from geo import store

    engine, _ = account("hazards_page")
    life = load_lifecycle()
    today = dt.date.today()
    frame = store.list_hazards(engine, adcode=district, states=list(states) or None)
    rows: list[dict[str, Any]] = []
    for r in frame.to_dict("records"):
        late = life.is_overdue(life.hazard(r), today)
        if overdue and not late:
            continue
        rows.append({"id": r["id"], "code": r["code"], "adcode": r["adcode"], "severity": r["severity"],
                     "state": r["state"], "version": r["version"], "deadline": r["deadline"] or "",
                     "overdue": "yes" if late else "", "supervision": r["supervision"] or "",
                     "enterprise": r["enterprise_name"] or "", "description": r["description"]})
    if fmt == "csv":
        from geo.cells import csv_row

        writer = csv.writer(sys.stdout)
        writer.writerow(csv_row(HAZARD_LIST_COLUMNS))
        for row in rows:
            writer.writerow(csv_row(row[c] for c in HAZARD_LIST_COLUMNS))
        return
    for row in rows:
        state = life.states[row["state"]].zh if row["state"] in life.states else row["state"]
        click.echo(f"{row['id']:>6} {row['code']:<28} {state:<5} v{row['version']:<3} {row['deadline']!s:<10} "
                   f"{'逾期' if row['overdue'] else '    '} {row['description']}")
    click.echo(f"{len(rows)} hazards", err=True)


@hazard.command("show")
@click.argument("hazard_id", type=int)
@LANG
def show_cmd(hazard_id: int, lang: str) -> None:
    """Show one hazard: its facts, its history, and the steps the account may take now."""
    from campaign.lifecycle import load_lifecycle
    from geo import store

    engine, actor = account("hazards_page")
    life = load_lifecycle()
    with engine.connect() as conn:
        row = store.read_hazard(conn, hazard_id)
        steps = store.hazard_steps(conn, hazard_id) if row else []
        reminders = store.hazard_reminders(conn, hazard_id) if row else []
    if row is None:
        raise click.ClickException(f"隐患 {hazard_id} 不存在或不在本账号范围内 / no hazard {hazard_id} in your scope")
    pick = 1 if lang == "en" else 0
    for name in ("code", "description", "enterprise_name", "severity", "state", "version", "source", "found_on",
                 *life.five_in_place, "supervision", "supervising_unit", "supervision_deadline", "assessment",
                 "progress", "closed_on"):
        click.echo(f"{name:<22} {row.get(name) if row.get(name) is not None else ''}")
    click.echo("history:")
    for s in steps:
        click.echo(f"  v{s['version']} {s['at']:%Y-%m-%d %H:%M} {s['actor']} ({s['role'] or '-'}) {s['action']}: "
                   f"{s['from_state'] or '-'} → {s['to_state']}" + (f" — {s['comment']}" if s["comment"] else ""))
    if reminders:
        from campaign.reminders import reminder_label

        click.echo("reminders (催办):")
        for r in reminders:
            click.echo("  " + reminder_label(r, "en" if lang == "en" else "zh"))
    h = life.hazard(row)
    offered = [f"{a.code} ({(a.label.zh, a.label.en)[pick]})" for a in life.available(h, actor.role)]
    click.echo("may take now: " + (", ".join(offered) or "-"))


@hazard.command("transition")
@click.argument("hazard_ids", nargs=-1, type=int)
@click.argument("action")
@click.option("--from-file", "id_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Hazard ids, one or more per line ('#' starts a comment): a bulk step.")
@click.option("--set", "values", multiple=True, help="field=value, e.g. --set deadline=2027-03-31 (repeatable).")
@click.option("--comment")
@click.option("--attach", "attachments", multiple=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="A photo or PDF (repeatable; one hazard only).")
@click.option("--expected-version", type=int, help="Refuse if the hazard moved on from this version (one hazard).")
@LANG
def transition_cmd(hazard_ids: tuple[int, ...], action: str, id_file: Path | None, values: tuple[str, ...],
                   comment: str | None, attachments: tuple[Path, ...], expected_version: int | None,
                   lang: str) -> None:
    """Take ACTION (verify, start, apply_review, send_back, pass_review, strike_off, extend, supervise, …).

    With several HAZARD_IDS or --from-file it is a bulk step: only actions lifecycle.yaml marks bulk-safe for
    the account's role; each hazard is done or refused on its own (one line each; exit code 1 if any refused).
    """
    from campaign.bulk import take_bulk_step
    from campaign.field_values import parse_field_values
    from campaign.lifecycle import Refused, load_lifecycle
    from campaign.service import take_step

    ids = _hazard_ids(hazard_ids, id_file)
    engine, actor = account("hazards_page")
    try:
        fields = parse_field_values(load_lifecycle(), field_pairs(values))
        if len(ids) == 1 and id_file is None:
            row = take_step(engine, ids[0], action, actor, values=fields, comment=comment,
                            uploads=_uploads(attachments), expected_version=expected_version)
            click.echo(f"{row['code']}: {action} → {row['state']} (v{row['version']})")
            return
        if attachments or expected_version is not None:
            raise Refused([("批量操作不能附加附件或指定版本", "a bulk step takes no attachments or expected version")])
        outcomes = take_bulk_step(engine, ids, action, actor, values=fields, comment=comment)
    except (Refused, LookupError, AccessDenied) as exc:
        raise refusal(exc, lang) from exc
    _report(outcomes, lang, lambda o: f"{action} → {o.state} (v{o.version})")


def _report(outcomes: Sequence[Any], lang: str, done: Callable[[Any], str]) -> None:
    """Print a line per hazard of a bulk step or 催办 (``done`` words one done) and the counts; exit 1 on a refusal."""
    for o in outcomes:
        if o.done:
            click.echo(f"{o.hazard_id} {o.code}: {done(o)}")
        else:
            text = o.reason("zh") if lang == "zh" else o.reason("en") if lang == "en" else \
                f"{o.reason('zh')} / {o.reason('en')}"
            click.echo(f"{o.hazard_id} {o.code or '-'}: 拒绝 refused — {text}")
    refused = sum(not o.done for o in outcomes)
    click.echo(f"{len(outcomes) - refused} done, {refused} refused", err=True)
    if refused:
        sys.exit(1)


def _hazard_ids(hazard_ids: tuple[int, ...], id_file: Path | None) -> list[int]:
    """Return the hazard ids of the arguments and of ``--from-file`` (one or more per line, '#' starts a comment)."""
    from campaign.bulk import parse_ids

    ids = list(hazard_ids)
    if id_file is not None:
        try:
            ids += parse_ids(id_file.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"{id_file}: {exc}", param_hint="--from-file") from exc
    if not ids:
        raise click.UsageError("须给出隐患编号或 --from-file / give hazard ids or --from-file")
    return ids


@hazard.command("remind")
@click.argument("hazard_ids", nargs=-1, type=int)
@click.option("--message", required=True, help="The 催办 text (at most 500 characters).")
@click.option("--from-file", "id_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Hazard ids, one or more per line ('#' starts a comment).")
@LANG
def remind_cmd(hazard_ids: tuple[int, ...], message: str, id_file: Path | None, lang: str) -> None:
    """Send 催办 about HAZARD_IDS to the party of each one's next step (lifecycle.yaml remind).

    Each hazard is reminded or refused on its own (one line each; exit code 1 if any refused): one reminder row
    and one audit entry per hazard reminded; finished hazards and hazards outside the account's scope are refused.
    """
    from campaign.lifecycle import Refused, load_lifecycle
    from campaign.reminders import send_reminders

    ids = _hazard_ids(hazard_ids, id_file)
    engine, actor = account("hazards_page")
    try:
        outcomes = send_reminders(engine, ids, actor, message)
    except (Refused, AccessDenied) as exc:
        raise refusal(exc, lang) from exc
    roles = load_lifecycle().roles

    def reminded(o: Any) -> str:
        to = roles.get(o.recipient)
        name = o.recipient if to is None else to.zh if lang == "zh" else to.en if lang == "en" else \
            f"{to.zh} / {to.en}"
        return f"催办 reminded → {name}"

    _report(outcomes, lang, reminded)

@hazard.command("report")
@click.option("--district", "adcode", required=True, help="District (adcode) of the hazard.")
@click.option("--lon", type=float, required=True)
@click.option("--lat", type=float, required=True)
@click.option("--credit-code", help="The enterprise's 统一社会信用代码.")
@click.option("--enterprise", "enterprise_name", help="The enterprise's name.")
@click.option("--set", "values", multiple=True,
              help="description=…, severity=major|general, source=self_check|department|…, found_on=YYYY-MM-DD.")
@click.option("--attach", "attachments", multiple=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@LANG
def report_cmd(adcode: str, lon: float, lat: float, credit_code: str | None, enterprise_name: str | None,
               values: tuple[str, ...], attachments: tuple[Path, ...], lang: str) -> None:
    """Report a new hazard (已上报) with its first history step; print its id and code."""
    from campaign.field_values import parse_field_values
    from campaign.lifecycle import Refused, load_lifecycle
    from campaign.service import report_hazard
    from geo import store

    engine, actor = account("hazards_page")
    try:
        fields = parse_field_values(load_lifecycle(), field_pairs(values))
        hid = report_hazard(engine, actor, fields, adcode=adcode, lon=lon, lat=lat, credit_code=credit_code,
                            enterprise_name=enterprise_name, uploads=_uploads(attachments))
    except (Refused, LookupError, AccessDenied) as exc:
        raise refusal(exc, lang) from exc
    with engine.connect() as conn:
        row = store.read_hazard(conn, hid)
    click.echo(f"{hid} {row['code'] if row else ''}")
