"""``riskmap`` command line: database, imports, checks, exports, accounts, hazards and the dashboard server.

The commands live in one module per concern (:mod:`riskmap.db_cli`, :mod:`riskmap.data_cli`,
:mod:`riskmap.admin_cli`, :mod:`riskmap.hazard_cli`); this module holds the group, the commands that
set up and serve the product, and :func:`run`. A new command module adds one ``main.add_command`` line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from geo import store
from geo.errors import RiskMapError
from riskmap.admin_cli import audit_group, demo_account_warning, rules_group, user, web_server_user
from riskmap.data_cli import check_cmd, export_cmd, import_cmd, precheck_cmd
from riskmap.db_cli import EXIT_STOPPED, db
from riskmap.enterprise_cli import enterprise
from riskmap.hazard_cli import hazard
from riskmap.parquet_cli import data_group
from riskmap.report_cli import report, snapshot_cmd
from riskmap.session import CliSession, engine_for, known_layer, operator_only

__all__ = ["EXIT_STOPPED", "main", "run"]


@click.group()
@click.version_option(package_name="riskmap")
@click.option("--user", "username", envvar="RISKMAP_USER",
              help="Act as this account: its role and district apply (password from RISKMAP_PASSWORD or prompted). "
                   "Without it the command runs as the host operator, the database owner.")
@click.pass_context
def main(ctx: click.Context, username: str | None) -> None:
    """RiskMap 安全风险一张图 — work-safety risk map on PostGIS."""
    ctx.obj = CliSession(username=username)



@main.command("template")
@click.argument("layers", nargs=-1)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("templates"), show_default=True)
def template_cmd(layers: tuple[str, ...], out_dir: Path) -> None:
    """Write XLSX import templates (Chinese headers, units, allowed values, example row)."""
    from layers.templates import write_templates

    for name in layers:
        known_layer(name)
    for path in write_templates(out_dir, list(layers) or None):
        click.echo(str(path))


@main.command("dictionary")
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/data-dictionary.md"), show_default=True)
@click.option("--check", is_flag=True, help="Fail if the file differs from what would be written.")
def dictionary_cmd(out: Path, check: bool) -> None:
    """Write the data dictionary (every layer and field, unit and source clause)."""
    from layers.dictionary import render_dictionary

    text = render_dictionary()
    if check:
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            raise click.ClickException(f"{out} is out of date: run `riskmap dictionary`")
        click.echo(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(str(out))


@main.command("demo")
@click.option("--reset", is_flag=True, help="Delete all layer rows first.")
def demo_cmd(reset: bool) -> None:
    """Load the Kunming demo: real district boundaries plus generated demo layers."""
    from layers.demo_load import load_demo

    operator_only("demo")
    engine = engine_for()
    for line in load_demo(engine, reset=reset, progress=click.echo):
        click.echo(line)


@main.command("serve")
@click.option("--host", default=lambda: os.environ.get("RISKMAP_HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("RISKMAP_PORT", "8050")), show_default="8050")
@click.option("--workers", default=2, show_default=True)
def serve_cmd(host: str, port: int, workers: int) -> None:
    """Serve the dashboard with gunicorn (production WSGI server)."""
    operator_only("serve")
    from dashboard.webfont import TARGET, build_web_font

    if not TARGET.exists():
        click.echo("生成网页中文字体 / building the Chinese web font (once, ~30 s) …")
        if build_web_font() is None:
            click.echo("未找到 Noto CJK 字体，浏览器将使用本机字体 / no Noto CJK font: browsers use their own")
    engine = engine_for()
    warning = demo_account_warning(engine)
    engine.dispose()
    as_user, root_warning = web_server_user()
    for text in (warning, root_warning):
        if text:
            click.secho(text, fg="red", bold=True, err=True)
    args = [
        sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
        "--timeout", "120", "--access-logfile", "-", *as_user, "dashboard.wsgi:server",
    ]
    click.echo(f"RiskMap dashboard: http://{host}:{port}/")
    os.execv(sys.executable, args)


@main.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True)
@click.pass_context
def up_cmd(ctx: click.Context, host: str, port: int) -> None:
    """Run the main job: start PostGIS, load the demo if the store is empty, serve the dashboard."""
    engine = engine_for()
    if store.row_counts(engine)["districts"] == 0:
        ctx.invoke(demo_cmd, reset=False)
    engine.dispose()
    ctx.invoke(serve_cmd, host=host, port=port, workers=2)


def run() -> None:
    """Entry point that turns RiskMap errors into clean messages."""
    try:
        main(standalone_mode=True)
    except RiskMapError as exc:
        click.echo(f"错误 / error: {exc}", err=True)
        sys.exit(2)


for command in (db, import_cmd, check_cmd, precheck_cmd, export_cmd, user, rules_group, hazard, snapshot_cmd,
                report, enterprise, audit_group, data_group):
    main.add_command(command)

if __name__ == "__main__":
    run()

