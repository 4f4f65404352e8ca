"""``riskmap snapshot`` and ``riskmap report``: period figures, periodic reports and their submission.

Every command acts as the operator or as an account (``--user``) like the other commands; the work and its
audit entry are :mod:`layers.reporting.service`'s (and :mod:`layers.reporting.definition_admin`'s), so
the command line, the 晾晒 page and the reports page are audited alike, once. A cron job takes the
month-end snapshot on the 1st (``riskmap --user leader snapshot``) and generates the city's bulletin when
it is due; districts submit their reports with ``riskmap report submit`` and the city follows them with
``riskmap report status``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from geo import store
from geo.constants import LOCAL_ZONE
from geo.errors import AccessDenied
from layers.reporting.definition_admin import definition_rows, reset_definition, set_definition
from layers.reporting.definitions import (
    EDITABLE_FIELDS,
    check_period,
    check_ready,
    data_date,
    due_date,
    latest_ready,
    period_of,
    ready_on,
    reports_in_force,
)
from layers.reporting.service import WRITERS, Refusal, generate_report, record_snapshot, report_figures, submit_report
from layers.reporting.status import load_states, submission_status
from layers.snapshots import CITY, SNAPSHOT_KINDS, month_ends
from riskmap.session import actor_name, current_session, engine_for

#: Report file formats (the service's writers).
REPORT_WRITERS = WRITERS


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_ZONE).date()


@click.command("snapshot")
@click.option("--as-of", "as_of", help="Period end (YYYY-MM-DD); default: the last month end.")
@click.option("--kind", type=click.Choice(SNAPSHOT_KINDS), default=None,
              help="month_end (default when --as-of is a month end) or on_demand.")
@click.option("--actor", default="scheduler", show_default=True)
def snapshot_cmd(as_of: str | None, kind: str | None, actor: str) -> None:
    """Store every district's and the city's figures at a period end (from the data as it was then)."""
    day = dt.date.fromisoformat(as_of) if as_of else month_ends(dt.date.today(), 1)[0]
    kind = kind or ("month_end" if (day + dt.timedelta(days=1)).day == 1 else "on_demand")
    engine = engine_for(action="take_snapshot")
    try:
        figures = record_snapshot(engine, day, kind=kind, user=current_session().user, actor=actor_name(actor),
                                  via="cli")
    except (ValueError, AccessDenied) as exc:
        raise click.ClickException(str(exc)) from exc
    names = store.district_codes(engine)
    click.echo(f"{'范围 / scope':<14}{'重大风险源':>8}{'隐患':>6}{'逾期':>6}{'整改率':>8}{'评分':>7}")
    for scope, row in figures.iterrows():
        rate = "—" if row["rectification_rate"] != row["rectification_rate"] else f"{row['rectification_rate']:.0%}"
        score = "" if scope == CITY else f"{float(row['score']):.1f}"
        click.echo(f"{names.get(str(scope), '全市'):<14}{int(row['major_risks']):>8}{int(row['hazards_total']):>6}"
                   f"{int(row['overdue_hazards']):>6}{rate:>8}{score:>7}")
    click.echo(f"{kind} snapshot of {day}: {len(figures)} rows stored", err=True)


@click.group("report")
def report() -> None:
    """Periodic reports: list, generate, submit, follow who has submitted, and change their definitions."""


@report.command("list")
def report_list() -> None:
    """List the report definitions in force, the period due next, its data date and its due date."""
    today = _today()
    for code, definition in reports_in_force(engine_for()).items():
        period = period_of(definition, today)
        first = ready_on(definition, period)
        early = f"  未到期，{first} 起可生成 / not yet due, from {first}" if today < first else ""
        click.echo(f"{code:<14}{definition.zh}  {period}  数据截至 / as of {data_date(definition, period)}  "
                   f"截止 / due {due_date(definition, period)}  "
                   f"({'区县报市' if definition.issuer == 'district' else '市发区县'}){early}")


@report.command("generate")
@click.argument("code")
@click.option("--district", help="District code (adcode).")
@click.option("--city", is_flag=True, help="The whole city.")
@click.option("--period", help="YYYY-MM (monthly reports) or YYYY (yearly ones); default: the newest period "
                               "whose data date has passed.")
@click.option("--format", "formats", default="docx", show_default=True, help="Comma-separated: docx, pdf.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--actor", default="cli", show_default=True)
def report_generate(code: str, district: str | None, city: bool, period: str | None, formats: str, out_dir: Path,
                    actor: str) -> None:
    """Generate report CODE (see `riskmap report list`) for a district or the city."""
    if bool(district) == city:
        raise click.UsageError("give exactly one of --district ADCODE or --city")
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in REPORT_WRITERS]
    if unknown or not wanted:
        raise click.BadParameter(f"unknown formats {unknown}; known: {', '.join(REPORT_WRITERS)}",
                                 param_hint="--format")
    engine = engine_for(action="generate_report")
    definitions = reports_in_force(engine)
    if code not in definitions:
        raise click.BadParameter(f"unknown report {code!r}; known: {', '.join(definitions)}", param_hint="CODE")
    definition = definitions[code]
    period = period or latest_ready(definition, _today())
    try:
        check_period(definition, period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    today = _today()
    try:
        check_ready(definition, period, today)  # the service refuses it too; say so before any work
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    scope = CITY if city else str(district)
    as_of = data_date(definition, period)
    click.echo(f"生成 / generating {code} {scope} {period}：数据截至 / data as of {as_of}，"
               f"截止 / due {due_date(definition, period)} …", err=True)
    try:
        made = generate_report(engine, code, scope=scope, period=period, formats=wanted,
                               user=current_session().user, actor=actor_name(actor), via="cli", issued_on=today)
    except (ValueError, AccessDenied) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已生成 / built《{made.report.title}》：{len(made.report.sections)} 节 / sections; "
               f"{made.report.data_note}", err=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt, content in made.files.items():
        path = out_dir / f"{code}-{scope}-{period}.{fmt}"
        path.write_bytes(content)
        click.echo(f"写入 / wrote {fmt} ({len(content):,} bytes)", err=True)
        click.echo(str(path))


@report.command("submit")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--district", required=True, help="The submitting district (adcode).")
@click.option("--period", required=True, help="YYYY-MM (monthly reports) or YYYY (yearly ones).")
@click.option("--note", default=None, help="A remark kept with the submission.")
@click.option("--actor", default="cli", show_default=True)
def report_submit(code: str, file: Path, district: str, period: str, note: str | None, actor: str) -> None:
    """Submit FILE (a generated DOCX or PDF) as the district's report CODE of PERIOD to the city."""
    engine = engine_for(action="submit_report")
    definition = reports_in_force(engine).get(code)
    if definition is not None:  # an unknown kind is the service's refusal
        try:
            check_ready(definition, period, _today())
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    try:
        figures = report_figures(engine, code, adcode=district, period=period)
    except Refusal as exc:  # e.g. a yearly report before its year's snapshot: the document is what counts
        click.echo(f"注意 / note: {exc}; 报送时不附数字 / submitted without figures", err=True)
        figures = {}
    try:
        revision = submit_report(engine, code, adcode=district, period=period, filename=file.name,
                                 content=file.read_bytes(), figures=figures, user=current_session().user,
                                 actor=actor_name(actor), via="cli", note=note)
    except (Refusal, AccessDenied) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已报送 / submitted {code} {district} {period}：第 {revision} 次 / revision {revision}")


@report.command("status")
@click.option("--period", help="YYYY-MM (yearly reports: its year); default: this month.")
def report_status(period: str | None) -> None:
    """Show, per district and district report, whether it was submitted on time, late, or not yet."""
    month = period or f"{_today():%Y-%m}"
    try:
        dt.datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise click.BadParameter(f"{month!r} is not YYYY-MM", param_hint="--period") from None
    engine = engine_for(action="generate_report")
    click.echo(f"报送情况 / submissions for {month}（年报按 {month[:4]} 年 / yearly reports: {month[:4]}）…", err=True)
    table = submission_status(engine, month, today=_today())
    states = load_states()
    for row in table.to_dict("records"):
        state = states[row["state"]]
        days = {"late": f" {row['days']}天 / days",
                "not_due": f" {row['days']}天后可生成 / can be made in {row['days']} days",
                "pending": f" 剩 {row['days']}天 / due in {row['days']} days",
                "overdue": f" 逾期 {row['days']}天 / {row['days']} days overdue"}.get(row["state"], "")
        sent = f"  {row['submitted_by']} r{row['revision']}" if row["revision"] is not None else ""
        click.echo(f"{row['adcode']} {row['district']:<8}{row['kind']:<14}{row['period']:<9}"
                   f"数据截至 {row['data_date']}  截止 {row['due']}  {state.zh} / {state.en}{days}{sent}")
    click.echo(f"{table['adcode'].nunique()} 个区县 / districts × {table['kind'].nunique()} 种报告 / reports; "
               "迟报按首次报送时间判定 / lateness is judged on the first submission", err=True)


@report.command("set")
@click.argument("code")
@click.argument("field", type=click.Choice(sorted(EDITABLE_FIELDS)))
@click.argument("value")
@click.option("--reason", required=True, help="Why (kept with the value and in the audit log).")
@click.option("--actor", default="cli", show_default=True)
def report_set(code: str, field: str, value: str, reason: str, actor: str) -> None:
    """Change FIELD of report CODE (sections: comma-separated codes); the previous value is kept."""
    engine = engine_for(action="manage_reports")
    try:
        definition = set_definition(engine, code, field, value, reason=reason, user=current_session().user,
                                    actor=actor_name(actor))
    except Refusal as exc:
        raise click.ClickException(str(exc)) from exc
    period = period_of(definition, _today())
    click.echo(f"{code}.{field} 已修改 / changed; {period} 截止 / due {due_date(definition, period)}")


@report.command("reset")
@click.argument("code")
@click.argument("field", type=click.Choice(sorted(EDITABLE_FIELDS)))
@click.option("--reason", required=True, help="Why.")
@click.option("--actor", default="cli", show_default=True)
def report_reset(code: str, field: str, reason: str, actor: str) -> None:
    """Bring back definitions.yaml's value of FIELD of report CODE."""
    engine = engine_for(action="manage_reports")
    try:
        done = reset_definition(engine, code, field, reason=reason, user=current_session().user,
                                actor=actor_name(actor))
    except Refusal as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{code}.{field} 已恢复默认 / reset" if done else f"{code}.{field} 本来就是默认值 / was not changed")


@report.command("definitions")
def report_definitions() -> None:
    """Show every editable field of every report: the file's value, the value in force, who changed it."""
    for row in definition_rows(engine_for()):
        changed = f"  ← {row['actor']}: {row['reason']}" if row["actor"] else ""
        click.echo(f"{row['code']:<14}{row['field']:<14}{row['current']}{changed}")
