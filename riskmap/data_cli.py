"""``riskmap import|check|precheck|export``: the data commands, as the operator or an account."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import Engine

from geo import store
from geo.checks.families import family_names
from geo.errors import AccessDenied, ImportValidationError, RiskMapError
from layers.export import CRS_CHOICES, EXPORT_FORMATS, SHP_ENCODINGS
from riskmap.session import actor_name, cli_settings, current_session, engine_for, known_layer

if TYPE_CHECKING:
    from geo.checks.bundle import Bundle
    from geo.checks.ruleset import RuleSet


@click.command("import")
@click.argument("layer")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--crs", help="Source CRS: EPSG:4326, EPSG:4490, EPSG:4491–4554, gcj02 or bd09.")
@click.option("--skip-invalid", is_flag=True, help="Import valid rows; write rejected rows to a reject file.")
@click.option("--reject-file", type=click.Path(path_type=Path), help="Where to write rejected rows.")
@click.option("--layer-name", help="Layer inside a multi-layer GeoPackage.")
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="zh", show_default=True)
@click.option("--actor", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
def import_cmd(layer: str, path: Path, crs: str | None, skip_invalid: bool, reject_file: Path | None,
               layer_name: str | None, lang: str, actor: str) -> None:
    """Validate PATH and import it into LAYER (e.g. enterprises / 企业)."""
    from geo.importer import import_file

    known_layer(layer)
    settings = cli_settings()
    engine = engine_for(settings, "import")
    try:
        report = import_file(engine, layer, path, crs=crs, skip_invalid=skip_invalid, reject_path=reject_file,
                             layer_name=layer_name, actor=actor_name(actor), tolerance_m=settings.district_tolerance_m)
    except ImportValidationError as exc:
        for issue in exc.issues:
            click.echo(issue.text(lang), err=True)
        raise click.ClickException(str(exc)) from exc
    except RiskMapError as exc:  # unreadable file, bad CRS...
        raise click.ClickException(str(exc)) from exc
    for issue in report.issues:
        if issue.severity == "warning" or skip_invalid:
            click.echo(issue.text(lang), err=True)
    for note in report.notes:
        click.echo(note)
    click.echo(report.summary(lang))
    if current_session().username is None:  # the host operator loads real data: the demo's accounts go
        for name in store.retire_demo_accounts(engine, actor=actor_name(), reason=f"real data imported: {layer}"):
            click.echo(f"已停用演示账号 / demo account disabled: {name}")


def effective_rules(engine: Engine) -> RuleSet:
    """Return the rule set in force in the store, warning about local values that could not be applied."""
    from geo.rule_admin import effective_ruleset

    rules = effective_ruleset(engine)
    for note in rules.skipped:
        click.echo(f"警告 / warning: {note}", err=True)
    return rules


@click.command("check")
@click.option("--district", help="Only this district (adcode), e.g. 530181.")
@click.option("--rules", "rule_codes", help="Comma-separated rule codes, e.g. PIPE_OCCUPY,ESD_DECLARED.")
@click.option("--family", "families", multiple=True, type=click.Choice(family_names()),
              help="Check family to run (repeatable; default all).")
@click.option("--input", "input_path", type=click.Path(path_type=Path, exists=True),
              help="Run on a GeoPackage of layers (named as in the data dictionary), or a directory of GeoParquet "
                   "(DIR/<layer>/*.parquet, read per tile with --engine dask), instead of the database.")
@click.option("--output", type=click.Path(path_type=Path), help="Write findings (and identified HCAs) here.")
@click.option("--as-of", help="Reference date for date rules (YYYY-MM-DD; default today).")
@click.option("--dem", "dem_path", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="DEM GeoTIFF (projected CRS) for the 头顶库 flow path; without it a radial screen is used.")
@click.option("--details/--summary-only", default=True, show_default=True,
              help="Print every finding (rule | clause | subject → object | measured / required | verdict).")
@click.option("--engine", "run_engine", type=click.Choice(["single", "dask"]), default="single", show_default=True,
              help="single: one process; dask: Gauss-Krüger zone tiles on a Dask cluster (geo.checks.dask_engine).")
@click.option("--scheduler", help="Address of a running Dask scheduler (tcp://host:8786); default a LocalCluster.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Workers of the LocalCluster (--engine dask without --scheduler).")
@click.option("--tile-km", type=click.FloatRange(min=0.1), default=20.0, show_default=True,
              help="Tile side in km (--engine dask).")
@click.option("--threads", type=click.IntRange(min=1), default=None, show_default="the cores, at most 4",
              help="Families run side by side in this many threads (--engine single); 1 runs them in turn.")
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="zh", show_default=True,
              help="Language of the input file's validation messages.")
@click.option("--actor", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
def check_cmd(district: str | None, rule_codes: str | None, families: tuple[str, ...], input_path: Path | None,
              output: Path | None, as_of: str | None, dem_path: Path | None, details: bool, run_engine: str,
              scheduler: str | None, workers: int, tile_km: float, threads: int | None, lang: str,
              actor: str) -> None:
    """Run the setback, pipeline, HCA and tailings checks and print counts per rule and verdict."""
    import datetime as dt

    from geo.checks.ruleset import load_ruleset
    from geo.checks.runner import finding_lines, run_checks, summary_table
    from geo.checks.sources import bundle_from_file, bundle_from_store

    codes = [c.strip() for c in rule_codes.split(",")] if rule_codes else None
    when = dt.date.fromisoformat(as_of) if as_of else None
    bundle: Bundle | None
    parquet = input_path is not None and input_path.is_dir()
    if input_path is not None:  # files: the rule file's values (the store's local values are not consulted)
        if current_session().username is not None:
            engine_for(action="run_checks")
        try:
            if parquet:  # the Dask workers validate and read the files themselves; one process reads them here
                from geo.checks.parquet_source import read_parquet_dir

                bundle = None if run_engine == "dask" else read_parquet_dir(input_path)
            else:
                bundle = bundle_from_file(input_path)
        except ImportValidationError as exc:  # every issue with its layer, row and field
            for issue in exc.issues:
                click.echo(issue.text(lang), err=True)
            raise click.ClickException(str(exc)) from exc
        except RiskMapError as exc:
            raise click.ClickException(str(exc)) from exc
        engine = None
        rules = load_ruleset()
    else:
        engine = engine_for(action="run_checks")
        rules = effective_rules(engine)
        # the Dask workers read the operator's store by box queries; a district or an account reads here
        whole = run_engine == "single" or district is not None or current_session().username is not None
        bundle = bundle_from_store(engine, district) if whole else None
    try:
        dem = None
        if dem_path is not None:
            from geo.checks.tailings import read_dem

            dem = read_dem(dem_path)
        if run_engine == "dask":
            from geo.checks.dask_engine import FrameSource, StoreSource, run_partitioned
            from geo.checks.parquet_source import ParquetSource

            source = (ParquetSource(str(input_path.resolve())) if parquet and input_path is not None
                      else StoreSource(engine.url.render_as_string(hide_password=False)) if bundle is None
                      and engine is not None else FrameSource(bundle.frames if bundle is not None else {}))
            result = run_partitioned(source, rules, tile_m=tile_km * 1000.0, families=families or None,
                                     rule_codes=codes, as_of=when, dem=dem, scheduler=scheduler, workers=workers,
                                     progress=lambda m: click.echo(m, err=True)).result
        else:
            assert bundle is not None
            result = run_checks(bundle, rules, families=families or None, rule_codes=codes, as_of=when, dem=dem,
                                progress=lambda m: click.echo(m, err=True), threads=threads)
    except ImportValidationError as exc:  # GeoParquet validated on the workers: every issue, nothing written
        for issue in exc.issues:
            click.echo(issue.text(lang), err=True)
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if engine is not None:
        run_id = store.save_check_run(engine, findings=result.findings, hca_segments=result.hca_segments,
                                      rule_set_version=result.rule_set_version, rules_run=result.rules_run,
                                      scope_adcode=district, actor=actor_name(actor))
        click.echo(f"run {run_id}, rule set {result.rule_set_version}")
    if output is not None:
        from geo.checks.output import write_findings

        write_findings(result, output)
        click.echo(f"written: {output}")
    if details:
        for line in finding_lines(result.findings):
            click.echo(line)
    table = summary_table(result.findings, rules)
    click.echo(table.to_string(index=False))
    click.echo(f"total findings: {len(result.findings)}")


@click.command("precheck")
@click.option("--lon", type=float, help="Longitude of a point site (CGCS2000/WGS84).")
@click.option("--lat", type=float, help="Latitude of a point site.")
@click.option("--wkt", help="Site as WKT (lon/lat), e.g. a parcel polygon.")
@click.option("--use", "use", required=True, help="Intended use: 学校, 医院, 住宅, 幼儿园… or a type code.")
@click.option("--population", type=int)
@click.option("--households", type=int)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--actor", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
def precheck_cmd(lon: float | None, lat: float | None, wkt: str | None, use: str, population: int | None,
                 households: int | None, lang: str, actor: str) -> None:
    """Pre-check a proposed site: advise against / no objection, with every reason and clause."""
    import shapely

    from geo.checks.precheck_log import record_precheck
    from geo.checks.runner import finding_lines
    from geo.checks.site import precheck_site
    from geo.checks.sources import bundle_near

    if wkt:
        try:
            site = shapely.from_wkt(wkt)
        except shapely.errors.GEOSException as exc:
            raise click.ClickException(f"WKT 无效 / invalid WKT: {exc}") from exc
    elif lon is not None and lat is not None:
        site = shapely.Point(lon, lat)
    else:
        raise click.ClickException("请给出 --lon/--lat 或 --wkt / give --lon/--lat or --wkt")
    engine = engine_for(action="precheck")
    rules = effective_rules(engine)
    try:
        verdict = precheck_site(bundle_near(engine, site), site, use, rules=rules, population=population,
                                households=households)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    record_precheck(engine, site, verdict, actor=actor_name(actor), via="cli")
    label = verdict.label_zh if lang == "zh" else verdict.label_en
    click.echo(f"{label} ({verdict.verdict}); use {verdict.use}, GB 36894 class {verdict.gb36894_class}")
    for line in finding_lines(verdict.reasons):
        click.echo(f"- {line}")
    for note in verdict.notes:
        click.echo(f"  note: {note}")


@click.command("export")
@click.option("--district", help="District code (adcode), e.g. 530181.")
@click.option("--city", is_flag=True, help="Whole-city outputs: the 五色 table and the city 四色 map.")
@click.option("--formats", default="gpkg,shp,geojson,xlsx,pdf", show_default=True,
              help=f"Comma-separated: {', '.join(EXPORT_FORMATS)}.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--crs", type=click.Choice(CRS_CHOICES), default="cgcs2000", show_default=True,
              help="CGCS2000 lon/lat or the area's CGCS2000 Gauss-Krüger zone.")
@click.option("--shp-encoding", type=click.Choice(SHP_ENCODINGS), default="UTF-8", show_default=True)
@click.option("--actor", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
def export_cmd(district: str | None, city: bool, formats: str, out_dir: Path, crs: str, shp_encoding: str,
               actor: str) -> None:
    """Write a district export pack (4张清单, 四色 sources, findings) or the city outputs."""
    from layers.pack import export_city, export_district

    wanted = tuple(f.strip().lower() for f in formats.split(",") if f.strip())
    if not city and not district:
        raise click.ClickException("请指定 --district 或 --city / give --district or --city")
    engine = engine_for(action="export")
    try:
        if city:
            written = export_city(engine, out_dir, formats=wanted, actor=actor_name(actor))
        else:
            written = export_district(engine, str(district), out_dir, formats=wanted, crs=crs,
                                      shp_encoding=shp_encoding, actor=actor_name(actor))
    except (ValueError, AccessDenied) as exc:
        raise click.ClickException(str(exc)) from exc
    for fmt, paths in written.items():
        for p in paths:
            click.echo(f"{fmt}: {p}")


