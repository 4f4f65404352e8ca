"""``riskmap db``: start, stop and inspect the database (host operator only)."""

from __future__ import annotations

import sys

import click

from geo import embedded, schema, store
from riskmap.session import cli_settings, engine_for, operator_only


#: Exit code of ``riskmap db status`` when the embedded server is stopped (as ``pg_ctl status``).
@click.group()
def db() -> None:
    """Manage the database (the private embedded PostGIS unless RISKMAP_DATABASE_URL is set)."""
    operator_only("db")


@db.command("start")
def db_start() -> None:
    """Create (first time) and start the embedded PostGIS, and migrate the schema."""
    settings = cli_settings()
    engine = engine_for(settings)
    click.echo(f"{store.postgis_version(engine)} — schema {schema.current_revision(engine)}")
    if not settings.database_url:
        click.echo(f"embedded cluster: {settings.home / 'pgdata'}")


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded PostGIS server."""
    settings = cli_settings()
    if settings.database_url:
        raise click.ClickException("RISKMAP_DATABASE_URL is set: the external database is not ours to stop")
    cluster = embedded.cluster_for(settings.home, settings.pg_os_user)
    click.echo("stopped" if embedded.stop(cluster) else "not running")


EXIT_STOPPED = 3


@db.command("status")
def db_status() -> None:
    """Report the PostGIS version, schema revision and row counts per table; start nothing.

    A stopped (or never created) embedded database is reported as such, with exit code 3.
    """
    settings = cli_settings()
    if not settings.database_url:
        cluster = embedded.cluster_for(settings.home, settings.pg_os_user)
        if not embedded.is_running(cluster):
            state = "stopped" if embedded.is_initialised(cluster) else "not created"
            click.echo(f"embedded database: {state} ({cluster.datadir}); "
                       "未运行，`riskmap db start` 启动 / not running: `riskmap db start` starts it")
            sys.exit(EXIT_STOPPED)
    engine = store.make_engine(store.engine_url(settings, start=False))
    revision = schema.current_revision(engine)
    if revision is None:  # status changes nothing, so it does not create PostGIS or the tables either
        click.echo(f"schema revision: None (head {schema.head_revision()})")
        click.echo("数据库在运行，表尚未创建，`riskmap db start` 创建 / the database is running but has no tables yet: "
                   "`riskmap db start` creates them")
        return
    click.echo(store.postgis_version(engine))
    click.echo(f"schema revision: {revision} (head {schema.head_revision()})")
    counts = store.row_counts(engine)
    width = max(map(len, counts))
    click.echo(f"{'table'.ljust(width)}  rows")
    for name, n in counts.items():
        click.echo(f"{name.ljust(width)}  {n:>6}")


@db.command("url")
def db_url() -> None:
    """Print the SQLAlchemy URL of the database in use."""
    click.echo(store.engine_url(cli_settings()))


