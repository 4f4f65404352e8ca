"""``riskmap`` command line: database, imports, templates, demo data and the dashboard server."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import Engine

from geo import embedded, schema, store
from geo.checks.families import family_names
from geo.config import Settings, load_settings
from geo.errors import AccessDenied, ImportValidationError, RiskMapError
from identity.accounts import ROLES
from layers.export import CRS_CHOICES, EXPORT_FORMATS, SHP_ENCODINGS
from riskmap.hazard_cli import hazard

if TYPE_CHECKING:
    from geo.checks.ruleset import RuleSet


def _settings() -> Settings:
    return load_settings()


@dataclass
class CliSession:
    """Who runs the command: the host operator (no ``--user``) or a signed-in account."""

    username: str | None = None
    user: dict[str, Any] | None = None
    app_engine: Engine | None = None


def _session() -> CliSession:
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(CliSession) if ctx is not None else None
    return found if found is not None else CliSession()


def _owner_engine(settings: Settings | None = None) -> Engine:
    settings = settings or _settings()
    engine = store.make_engine(store.engine_url(settings))
    schema.upgrade(engine)
    return engine


def _sign_in(session: CliSession, settings: Settings) -> Engine:
    """Authenticate ``--user`` once and return an engine of the application role under their scope."""
    if session.app_engine is not None:
        return session.app_engine
    from identity.accounts import authenticate, scope_for
    from identity.permissions import app_database_url

    owner = _owner_engine(settings)
    owner.dispose()
    app = store.make_engine(app_database_url(settings), scoped=True)
    if store.bypasses_row_security(app):
        raise click.ClickException(
            "应用数据库角色不受行级安全约束，无法以用户身份限定范围；请设置 RISKMAP_APP_DATABASE_URL / "
            "the application role bypasses row-level security: set RISKMAP_APP_DATABASE_URL to a plain role")
    password = os.environ.get("RISKMAP_PASSWORD")
    if password is None:
        password = click.prompt(f"{session.username} 的密码 / password", hide_input=True, err=True)
    user = authenticate(app, str(session.username), password)
    if user is None:
        raise click.ClickException("用户名或密码错误，或账号已停用 / wrong user name or password, or account disabled")
    scope = scope_for(user)
    token = store.set_scope(scope)  # for the rest of this command (one process, one user)
    root = click.get_current_context().find_root()
    root.call_on_close(app.dispose)
    root.call_on_close(lambda: store.reset_scope(token))
    with app.begin() as conn:
        store.audit(conn, actor=scope.actor, action="login", adcode=user["adcode"], details={"via": "cli"})
    session.user, session.app_engine = user, app
    return app


def _engine(settings: Settings | None = None, action: str | None = None) -> Engine:
    """Return the owner's engine, or the signed-in user's scoped one once ``action`` is allowed."""
    settings = settings or _settings()
    session = _session()
    if session.username is None:
        return _owner_engine(settings)
    engine = _sign_in(session, settings)
    if action is not None:
        from identity.permissions import require

        try:
            require(session.user, action)
        except AccessDenied as exc:
            raise click.ClickException(str(exc)) from exc
    return engine


def _actor(given: str) -> str:
    """Who the audit log names: the signed-in account, else ``--actor``."""
    session = _session()
    return str(session.username) if session.username is not None else given


def _operator_only(command: str) -> None:
    if _session().username is not None:
        raise click.ClickException(f"riskmap {command} 是主机运维命令，不能与 --user 一起使用 / "
                                   f"riskmap {command} is a host-operator command and does not take --user")


@click.group()
@click.version_option(package_name="riskmap")
@click.option("--user", "username", envvar="RISKMAP_USER",
              help="Act as this account: its role and district apply (password from RISKMAP_PASSWORD or prompted). "
                   "Without it the command runs as the host operator, the database owner.")
@click.pass_context
def main(ctx: click.Context, username: str | None) -> None:
    """RiskMap 安全风险一张图 — work-safety risk map on PostGIS."""
    ctx.obj = CliSession(username=username)


@main.group()
def db() -> None:
    """Manage the database (the private embedded PostGIS unless RISKMAP_DATABASE_URL is set)."""
    _operator_only("db")


@db.command("start")
def db_start() -> None:
    """Create (first time) and start the embedded PostGIS, and migrate the schema."""
    settings = _settings()
    engine = _engine(settings)
    click.echo(f"{store.postgis_version(engine)} — schema {schema.current_revision(engine)}")
    if not settings.database_url:
        click.echo(f"embedded cluster: {settings.home / 'pgdata'}")


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded PostGIS server."""
    settings = _settings()
    if settings.database_url:
        raise click.ClickException("RISKMAP_DATABASE_URL is set: the external database is not ours to stop")
    cluster = embedded.cluster_for(settings.home, settings.pg_os_user)
    click.echo("stopped" if embedded.stop(cluster) else "not running")


#: Exit code of ``riskmap db status`` when the embedded server is stopped (as ``pg_ctl status``).
EXIT_STOPPED = 3


@db.command("status")
def db_status() -> None:
    """Report the PostGIS version, schema revision and row counts per table; start nothing.

    A stopped (or never created) embedded database is reported as such, with exit code 3.
    """
    settings = _settings()
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
    click.echo(store.engine_url(_settings()))


@main.command("import")
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

    _known_layer(layer)
    settings = _settings()
    engine = _engine(settings, "import")
    try:
        report = import_file(engine, layer, path, crs=crs, skip_invalid=skip_invalid, reject_path=reject_file,
                             layer_name=layer_name, actor=_actor(actor), tolerance_m=settings.district_tolerance_m)
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


def _known_layer(name: str) -> None:
    """Stop with exit code 2 and the list of layers when ``name`` is none of them."""
    from geo.layer_specs import UnknownLayerError, layer_spec

    try:
        layer_spec(name)
    except UnknownLayerError as exc:
        raise click.BadParameter(str(exc), param_hint="LAYER") from None


def _effective_rules(engine: Engine) -> RuleSet:
    """Return the rule set in force in the store, warning about local values that could not be applied."""
    from geo.rule_admin import effective_ruleset

    rules = effective_ruleset(engine)
    for note in rules.skipped:
        click.echo(f"警告 / warning: {note}", err=True)
    return rules


@main.command("check")
@click.option("--district", help="Only this district (adcode), e.g. 530181.")
@click.option("--rules", "rule_codes", help="Comma-separated rule codes, e.g. PIPE_OCCUPY,ESD_DECLARED.")
@click.option("--family", "families", multiple=True, type=click.Choice(family_names()),
              help="Check family to run (repeatable; default all).")
@click.option("--input", "input_path", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Run on a GeoPackage of layers (named as in the data dictionary) instead of the database.")
@click.option("--output", type=click.Path(path_type=Path), help="Write findings (and identified HCAs) here.")
@click.option("--as-of", help="Reference date for date rules (YYYY-MM-DD; default today).")
@click.option("--dem", "dem_path", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="DEM GeoTIFF (projected CRS) for the 头顶库 flow path; without it a radial screen is used.")
@click.option("--details/--summary-only", default=True, show_default=True,
              help="Print every finding (rule | clause | subject → object | measured / required | verdict).")
@click.option("--lang", type=click.Choice(["zh", "en", "both"]), default="zh", show_default=True,
              help="Language of the input file's validation messages.")
@click.option("--actor", default=lambda: os.environ.get("USER", "cli"), show_default="$USER")
def check_cmd(district: str | None, rule_codes: str | None, families: tuple[str, ...], input_path: Path | None,
              output: Path | None, as_of: str | None, dem_path: Path | None, details: bool, lang: str,
              actor: str) -> None:
    """Run the setback, pipeline, HCA and tailings checks and print counts per rule and verdict."""
    import datetime as dt

    from geo.checks.ruleset import load_ruleset
    from geo.checks.runner import finding_lines, run_checks, summary_table
    from geo.checks.sources import bundle_from_file, bundle_from_store

    codes = [c.strip() for c in rule_codes.split(",")] if rule_codes else None
    when = dt.date.fromisoformat(as_of) if as_of else None
    if input_path is not None:  # files: the rule file's values (the store's local values are not consulted)
        if _session().username is not None:
            _engine(action="run_checks")
        try:
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
        engine = _engine(action="run_checks")
        rules = _effective_rules(engine)
        bundle = bundle_from_store(engine, district)
    try:
        dem = None
        if dem_path is not None:
            from geo.checks.tailings import read_dem

            dem = read_dem(dem_path)
        result = run_checks(bundle, rules, families=families or None, rule_codes=codes, as_of=when, dem=dem,
                            progress=lambda m: click.echo(m, err=True))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if engine is not None:
        run_id = store.save_check_run(engine, findings=result.findings, hca_segments=result.hca_segments,
                                      rule_set_version=result.rule_set_version, rules_run=result.rules_run,
                                      scope_adcode=district, actor=_actor(actor))
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


@main.command("precheck")
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
    engine = _engine(action="precheck")
    rules = _effective_rules(engine)
    try:
        verdict = precheck_site(bundle_near(engine, site), site, use, rules=rules, population=population,
                                households=households)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    record_precheck(engine, site, verdict, actor=_actor(actor), via="cli")
    label = verdict.label_zh if lang == "zh" else verdict.label_en
    click.echo(f"{label} ({verdict.verdict}); use {verdict.use}, GB 36894 class {verdict.gb36894_class}")
    for line in finding_lines(verdict.reasons):
        click.echo(f"- {line}")
    for note in verdict.notes:
        click.echo(f"  note: {note}")


@main.command("export")
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
    engine = _engine(action="export")
    try:
        if city:
            written = export_city(engine, out_dir, formats=wanted, actor=_actor(actor))
        else:
            written = export_district(engine, str(district), out_dir, formats=wanted, crs=crs,
                                      shp_encoding=shp_encoding, actor=_actor(actor))
    except (ValueError, AccessDenied) as exc:
        raise click.ClickException(str(exc)) from exc
    for fmt, paths in written.items():
        for p in paths:
            click.echo(f"{fmt}: {p}")


@main.group()
def user() -> None:
    """Manage accounts (administrators)."""


def _admin_engine() -> Engine:
    """Return the owner's engine for account changes once a ``--user`` is shown to be an administrator."""
    if _session().username is not None:
        _engine(action="manage_users").dispose()
    return _owner_engine()


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
        add_user(_admin_engine(), username, password, role=role, display_name=display_name, adcode=district,
                 credit_code=credit_code, actor=_actor(os.environ.get("USER", "cli")))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {username} ({role}{', ' + district if district else ''})")


@user.command("list")
def user_list() -> None:
    """List accounts."""
    for u in store.list_users(_admin_engine()):
        state = "active" if u["active"] else "disabled"
        click.echo(f"{u['username']:<16} {u['role']:<17} {u['adcode'] or '-':<7} {state:<8} {u['display_name']}")


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Disable an account (it can no longer sign in)."""
    if not store.set_user_active(_admin_engine(), username, False, actor=_actor(os.environ.get("USER", "cli"))):
        raise click.ClickException(f"no user {username!r}")
    click.echo(f"disabled {username}")


@main.group("rules")
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

    local, states = value_states(_engine(action="rules_page"))
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

    engine = _engine(action="manage_rules")
    try:
        version = set_rule_value(engine, code, path, value, reason=reason, actor=_actor(actor))
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

    engine = _engine(action="manage_rules")
    try:
        done = reset_rule_value(engine, code, path, reason=reason, actor=_actor(actor))
    except (ValueError, AccessDenied) as exc:
        raise click.ClickException(str(exc)) from exc
    what = ("已恢复规则文件的值 / the rule file's value applies again" if done
            else "没有本地值，规则文件的值已在使用 / no local value: the rule file's value already applies")
    click.echo(f"{code} {path}: {what}; 规则版本 / rule set version: {effective_ruleset(engine).version}")


@main.command("template")
@click.argument("layers", nargs=-1)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("templates"), show_default=True)
def template_cmd(layers: tuple[str, ...], out_dir: Path) -> None:
    """Write XLSX import templates (Chinese headers, units, allowed values, example row)."""
    from layers.templates import write_templates

    for name in layers:
        _known_layer(name)
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

    _operator_only("demo")
    engine = _engine()
    for line in load_demo(engine, reset=reset, progress=click.echo):
        click.echo(line)


@main.command("serve")
@click.option("--host", default=lambda: os.environ.get("RISKMAP_HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("RISKMAP_PORT", "8050")), show_default="8050")
@click.option("--workers", default=2, show_default=True)
def serve_cmd(host: str, port: int, workers: int) -> None:
    """Serve the dashboard with gunicorn (production WSGI server)."""
    _operator_only("serve")
    from dashboard.webfont import TARGET, build_web_font

    if not TARGET.exists():
        click.echo("生成网页中文字体 / building the Chinese web font (once, ~30 s) …")
        if build_web_font() is None:
            click.echo("未找到 Noto CJK 字体，浏览器将使用本机字体 / no Noto CJK font: browsers use their own")
    engine = _engine()
    engine.dispose()
    args = [
        sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
        "--timeout", "120", "--access-logfile", "-", "dashboard.wsgi:server",
    ]
    click.echo(f"RiskMap dashboard: http://{host}:{port}/")
    os.execv(sys.executable, args)


@main.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True)
@click.pass_context
def up_cmd(ctx: click.Context, host: str, port: int) -> None:
    """Run the main job: start PostGIS, load the demo if the store is empty, serve the dashboard."""
    engine = _engine()
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


main.add_command(hazard)

if __name__ == "__main__":
    run()
