"""``riskmap snapshot`` and ``riskmap report``: period figures and periodic reports, for schedulers and people.

Both act as the operator or as an account (``--user``) like every command, and both are audited.
A cron job takes the month-end snapshot on the 1st (``riskmap --user leader snapshot``) and generates
the city's bulletin when it is due.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from geo import store
from layers.reporting.build import build_report
from layers.reporting.definitions import due_date, load_reports, period_of
from layers.reporting.docx_writer import write_docx
from layers.reporting.pdf_writer import write_pdf
from layers.snapshots import CITY, SNAPSHOT_KINDS, month_ends, take_snapshot
from riskmap.session import actor_name, engine_for

#: Report file formats and their writers.
REPORT_WRITERS = {"docx": write_docx, "pdf": write_pdf}


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
    who = actor_name(actor)
    try:
        figures = take_snapshot(engine, day, kind=kind, taken_by=who)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    with engine.begin() as conn:
        store.audit(conn, actor=who, action="snapshot", target=day.isoformat(),
                    details={"kind": kind, "scopes": len(figures)})
        names = store.district_codes(conn)
    click.echo(f"{'范围 / scope':<14}{'重大风险源':>8}{'隐患':>6}{'逾期':>6}{'整改率':>8}{'评分':>7}")
    for scope, row in figures.iterrows():
        rate = "—" if row["rectification_rate"] != row["rectification_rate"] else f"{row['rectification_rate']:.0%}"
        score = "" if scope == CITY else f"{float(row['score']):.1f}"
        click.echo(f"{names.get(str(scope), '全市'):<14}{int(row['major_risks']):>8}{int(row['hazards_total']):>6}"
                   f"{int(row['overdue_hazards']):>6}{rate:>8}{score:>7}")
    click.echo(f"{kind} snapshot of {day}: {len(figures)} rows stored", err=True)


@click.group("report")
def report() -> None:
    """Periodic reports: list them with their due dates, generate one as DOCX and/or PDF."""


@report.command("list")
def report_list() -> None:
    """List the report definitions, the period due next and its due date."""
    today = dt.date.today()
    for code, definition in load_reports().items():
        period = period_of(definition, today)
        click.echo(f"{code:<14}{definition.zh}  {period}  截止 / due {due_date(definition, period)}  "
                   f"({'区县报市' if definition.issuer == 'district' else '市发区县'})")


@report.command("generate")
@click.argument("code")
@click.option("--district", help="District code (adcode).")
@click.option("--city", is_flag=True, help="The whole city.")
@click.option("--period", help="YYYY-MM or YYYY; default: the period the report is normally about today.")
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
    definitions = load_reports()
    if code not in definitions:
        raise click.BadParameter(f"unknown report {code!r}; known: {', '.join(definitions)}", param_hint="CODE")
    period = period or period_of(definitions[code], dt.date.today())
    engine = engine_for(action="generate_report")
    scope = CITY if city else str(district)
    try:
        built = build_report(engine, code, scope=scope, period=period)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt in wanted:
        path = out_dir / f"{code}-{scope}-{period}.{fmt}"
        REPORT_WRITERS[fmt](built, path)
        click.echo(str(path))
    with engine.begin() as conn:
        store.audit(conn, actor=actor_name(actor), action="report", target=code,
                    adcode=None if city else scope, details={"period": period, "formats": wanted})
