"""``riskmap data to-parquet``: write the check layers as GeoParquet for the Dask engine on shared storage."""

from __future__ import annotations

from pathlib import Path

import click

from geo.errors import ImportValidationError, RiskMapError
from riskmap.session import current_session, engine_for


@click.group("data")
def data_group() -> None:
    """Move check data between the store, GeoPackages and GeoParquet."""


@click.command("to-parquet")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--input", "input_path", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="A GeoPackage of layers (validated as for check --input); default: the database.")
@click.option("--district", help="Only what concerns this district (adcode), from the database.")
@click.option("--rows-per-file", type=click.IntRange(min=100), default=50_000, show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="zh", show_default=True)
def to_parquet_cmd(out: Path, input_path: Path | None, district: str | None, rows_per_file: int, lang: str) -> None:
    """Write every check layer to OUT/<layer>/part_NNNN.parquet (GeoParquet 1.1, EPSG:4490, bbox column).

    OUT is what ``riskmap check --engine dask --input OUT`` reads; put it on storage every worker reads.
    """
    from geo.checks.parquet_source import write_parquet_layers
    from geo.checks.sources import bundle_from_file, bundle_from_store

    try:
        if input_path is not None:
            if current_session().username is not None:
                engine_for(action="export")
            bundle = bundle_from_file(input_path)
        else:
            bundle = bundle_from_store(engine_for(action="export"), district)
        written = write_parquet_layers(bundle.frames, out, rows_per_file=rows_per_file)
    except ImportValidationError as exc:
        for issue in exc.issues:
            click.echo(issue.text(lang), err=True)
        raise click.ClickException(str(exc)) from exc
    except RiskMapError as exc:
        raise click.ClickException(str(exc)) from exc
    for layer, paths in written.items():
        click.echo(f"{layer}: {len(paths)} files, {out / layer}")


data_group.add_command(to_parquet_cmd)
