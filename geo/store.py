"""The database boundary: engines, and every query RiskMap runs against PostGIS.

Other modules receive and return GeoDataFrames or plain values; only this module
(and the migrations) builds SQL. User values are always bound parameters;
identifiers come only from the models' metadata.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
from geoalchemy2.shape import from_shape
from sqlalchemy import ColumnElement, Connection, Engine, Table, create_engine, event, func, select, text
from sqlalchemy.dialects.postgresql import insert

from geo import embedded
from geo.config import Settings
from geo.models import LAYER_MODELS, SRID, AuditLog, Base, District, ImportBatch


def engine_url(settings: Settings, *, start: bool = True) -> str:
    """Return the database URL, starting the embedded cluster when none is configured.

    Parameters
    ----------
    settings : Settings
        Resolved settings.
    start : bool
        Start the embedded server if it is not running.

    Returns
    -------
    str
        SQLAlchemy URL.
    """
    if settings.database_url:
        return settings.database_url
    cluster = embedded.cluster_for(settings.home, settings.pg_os_user)
    if start:
        embedded.start(cluster)
    return cluster.url()


def make_engine(url: str, *, scoped: bool = False) -> Engine:
    """Create an engine with pre-ping, so a restarted server is reconnected to.

    Parameters
    ----------
    url : str
        SQLAlchemy URL.
    scoped : bool
        Apply the current :class:`Scope` at the start of every transaction (for the
        application role, whose row-level-security policies read it). With no scope
        set, district-owned rows are invisible.
    """
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    if scoped:
        event.listen(engine, "begin", _apply_scope)
    return engine


@dataclass(frozen=True)
class Scope:
    """Which districts the current user may see: all of them, or one ``adcode``.

    ``role`` and ``credit_code`` identify the account to the database as well: an enterprise
    account (``credit_code`` set) sees only its own enterprise's rows, and workflow steps are
    accepted only under the session's own role and actor name.
    """

    all_districts: bool
    adcode: str | None = None
    actor: str = "system"
    role: str | None = None
    credit_code: str | None = None


_SCOPE: ContextVar[Scope | None] = ContextVar("riskmap_scope", default=None)


@contextmanager
def scoped(scope: Scope | None) -> Iterator[None]:
    """Run the enclosed database work under ``scope`` (per thread/task, never global)."""
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def set_scope(scope: Scope | None) -> Token[Scope | None]:
    """Set the scope for the rest of the current request; undo with :func:`reset_scope`."""
    return _SCOPE.set(scope)


def reset_scope(token: Token[Scope | None]) -> None:
    """Undo :func:`set_scope`."""
    _SCOPE.reset(token)


def current_scope() -> Scope | None:
    """Return the scope set by the innermost :func:`scoped` block, if any."""
    return _SCOPE.get()


def _apply_scope(conn: Connection) -> None:
    scope = _SCOPE.get()
    conn.exec_driver_sql(
        "SELECT set_config('riskmap.scope', %(scope)s, true), set_config('riskmap.adcode', %(adcode)s, true), "
        "set_config('riskmap.role', %(role)s, true), set_config('riskmap.actor', %(actor)s, true), "
        "set_config('riskmap.credit_code', %(credit_code)s, true)",
        {"scope": "all" if scope is not None and scope.all_districts else "",
         "adcode": scope.adcode if scope is not None and scope.adcode else "",
         "role": scope.role or "" if scope is not None else "",
         "actor": scope.actor if scope is not None else "",
         "credit_code": scope.credit_code or "" if scope is not None else ""},
    )


def table(layer: str) -> Table:
    """Return the table of an importable ``layer`` name."""
    return LAYER_MODELS[layer].__table__  # type: ignore[return-value]


def postgis_version(engine: Engine) -> str:
    """Return PostgreSQL and PostGIS versions as one line."""
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar_one()
        pgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    return f"PostgreSQL {pg}, PostGIS {pgis}"


def row_counts(engine: Engine) -> dict[str, int]:
    """Return the number of rows of every RiskMap table, by table name."""
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for name, tbl in sorted(Base.metadata.tables.items()):
            counts[name] = conn.execute(select(func.count()).select_from(tbl)).scalar_one()
    return counts


def district_codes(conn: Connection | Engine) -> dict[str, str]:
    """Return ``{adcode: name}`` of all districts in the store."""
    stmt = select(District.adcode, District.name)
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return dict(c.execute(stmt).tuples().all())
    return dict(conn.execute(stmt).tuples().all())


def read_districts(engine: Engine | Connection, adcodes: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Read district boundaries as a GeoDataFrame in EPSG:4490.

    Parameters
    ----------
    engine : Engine or Connection
        Database to read.
    adcodes : sequence of str, optional
        Only these districts.

    Returns
    -------
    GeoDataFrame
        Columns adcode, name, level, parent_adcode, geometry.
    """
    sql = "SELECT adcode, name, level, parent_adcode, geom FROM districts"
    params: dict[str, Any] = {}
    if adcodes is not None:
        sql += " WHERE adcode = ANY(:codes)"
        params["codes"] = list(adcodes)
    return _read_gdf(engine, sql + " ORDER BY adcode", params)


def read_layer(engine: Engine | Connection, layer: str, adcode: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer (all columns) as a GeoDataFrame, optionally for one district.

    Parameters
    ----------
    engine : Engine or Connection
        Database to read.
    layer : str
        Importable layer name, e.g. ``"enterprises"``.
    adcode : str, optional
        Only rows of this district (pipelines: those crossing it).

    Returns
    -------
    GeoDataFrame
    """
    tbl = table(layer)
    cols = ", ".join(f'"{c.name}"' for c in tbl.columns)
    sql = f"SELECT {cols} FROM {tbl.name}"
    params: dict[str, Any] = {}
    if adcode is not None:
        if "adcodes" in tbl.columns:
            sql += " WHERE :adcode = ANY(adcodes)"
        else:
            sql += " WHERE adcode = :adcode"
        params["adcode"] = adcode
    return _read_gdf(engine, sql, params)


def _read_gdf(engine: Engine | Connection, sql: str, params: dict[str, Any]) -> gpd.GeoDataFrame:
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return _read_gdf(conn, sql, params)
    gdf = gpd.read_postgis(text(sql), engine, geom_col="geom", params=params)
    return gdf.rename_geometry("geometry").set_crs(SRID, allow_override=True)


def upsert_rows(conn: Connection, layer: str, records: Iterable[dict[str, Any]], key: str) -> int:
    """Insert rows, updating those whose ``key`` already exists; return the count.

    Geometry values may be Shapely objects (EPSG:4490); they are bound as WKB.
    """
    tbl = table(layer)
    rows = [_bind_geometry(tbl, r) for r in records]
    if not rows:
        return 0
    stmt = insert(tbl)
    update_cols: dict[str, Any] = {
        c: stmt.excluded[c] for c in rows[0] if c not in (key, "id", "created_at")
    }
    if "updated_at" in tbl.columns:
        update_cols["updated_at"] = func.now()
    stmt = stmt.on_conflict_do_update(index_elements=[key], set_=update_cols)
    for start in range(0, len(rows), 2000):
        conn.execute(stmt, rows[start : start + 2000])
    return len(rows)


def _bind_geometry(tbl: Table, record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for col in ("geom", "corridor"):
        if col in out and out[col] is not None and col in tbl.columns:
            out[col] = from_shape(out[col], srid=SRID)
    return out


def record_batch(conn: Connection, **values: Any) -> int:
    """Insert an import-batch row and return its id."""
    result = conn.execute(ImportBatch.__table__.insert().returning(ImportBatch.id), values)  # type: ignore[attr-defined]
    return int(result.scalar_one())


def audit(conn: Connection, *, actor: str, action: str, target: str | None = None,
          adcode: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Append one entry to the audit log.

    A plain INSERT without RETURNING: the application role may append entries it cannot read
    back (a district officer's entry about no single district).
    """
    conn.execute(
        text("INSERT INTO audit_log (actor, action, target, adcode, details) "
             "VALUES (:actor, :action, :target, :adcode, CAST(:details AS jsonb))"),
        {"actor": actor, "action": action, "target": target, "adcode": adcode,
         "details": json.dumps(details or {}, default=str, ensure_ascii=False)},
    )


def clear_layers(engine: Engine) -> None:
    """Delete every row of every RiskMap table (demo reset); the schema stays."""
    names = ", ".join(Base.metadata.tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def read_layer_near(engine: Engine, layer: str, adcode: str, distance_m: float) -> gpd.GeoDataFrame:
    """Read rows of ``layer`` in district ``adcode`` or within ``distance_m`` of it (geodesic)."""
    tbl = table(layer)
    cols = ", ".join(f't."{c.name}"' for c in tbl.columns)
    sql = (
        f"SELECT {cols} FROM {tbl.name} t JOIN districts d ON d.adcode = :adcode "
        "WHERE t.adcode = :adcode OR ST_DWithin(t.geom::geography, d.geom::geography, :dist)"
    )
    return _read_gdf(engine, sql, {"adcode": adcode, "dist": distance_m})


FINDING_STATUSES = ("open", "in_remediation", "accepted", "closed", "resolved")


def save_check_run(
    engine: Engine,
    *,
    findings: gpd.GeoDataFrame,
    hca_segments: gpd.GeoDataFrame | None,
    rule_set_version: str,
    rules_run: Sequence[str],
    scope_adcode: str | None,
    actor: str,
) -> int:
    """Store one check run: upsert its findings, resolve those no longer found, replace identified HCAs.

    A finding is identified by (rule, subject, object). Found again, it keeps its id,
    first-found time and remediation status (a ``resolved`` or ``closed`` one reopens);
    a finding of a rule that ran in this scope but was not found again is marked
    ``resolved``, never deleted. Everything happens in one transaction.

    Parameters
    ----------
    engine : Engine
        The store.
    findings : GeoDataFrame
        Findings of the run (EPSG:4490).
    hca_segments : GeoDataFrame or None
        Identified HCA segments; when given, they replace earlier identified ones in scope.
    rule_set_version : str
        Version of the rule set used.
    rules_run : sequence of str
        Codes of the rules that ran (only their findings can be resolved).
    scope_adcode : str or None
        District the run covered, or None for the whole store.
    actor : str
        Who ran it.

    Returns
    -------
    int
        The run id.
    """
    runs = Base.metadata.tables["check_runs"]
    found = Base.metadata.tables["check_findings"]
    with engine.begin() as conn:
        run_id = int(conn.execute(
            runs.insert().returning(runs.c.id),
            {"rule_set_version": rule_set_version, "scope_adcode": scope_adcode, "actor": actor},
        ).scalar_one())
        rows = []
        for rec in findings.to_dict("records"):
            geom = rec.pop("geometry")
            rec = {k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
            rec.update(run_id=run_id, rule_set_version=rule_set_version,
                       geom=None if geom is None else from_shape(geom, srid=SRID))
            rows.append(rec)
        if rows:
            stmt = insert(found)
            keep = ("id", "created_at", "first_found_at", "status", "resolved_at")
            update: dict[str, Any] = {c.name: stmt.excluded[c.name] for c in found.columns if c.name not in keep}
            update["last_found_at"] = func.now()
            update["updated_at"] = func.now()
            update["resolved_at"] = None
            update["status"] = text(
                "CASE WHEN check_findings.status IN ('resolved', 'closed') THEN 'open' "
                "ELSE check_findings.status END"
            )
            stmt = stmt.on_conflict_do_update(constraint="uq_check_findings_identity", set_=update)
            for start in range(0, len(rows), 2000):
                conn.execute(stmt, rows[start : start + 2000])
        resolved = conn.execute(
            text(
                "UPDATE check_findings SET status = 'resolved', resolved_at = now(), updated_at = now() "
                "WHERE rule_code = ANY(:rules) AND run_id IS DISTINCT FROM :run AND status <> 'resolved' "
                "AND (CAST(:scope AS text) IS NULL OR adcode = :scope)"
            ),
            {"rules": list(rules_run), "run": run_id, "scope": scope_adcode},
        ).rowcount
        if hca_segments is not None:
            _replace_identified_hcas(conn, hca_segments, run_id, scope_adcode)
        conn.execute(text("UPDATE check_runs SET finished_at = now() WHERE id = :id"), {"id": run_id})
        audit(conn, actor=actor, action="check_run", target="check_findings", adcode=scope_adcode,
              details={"run": run_id, "rule_set_version": rule_set_version, "findings": len(rows),
                       "resolved": resolved, "rules": list(rules_run)})
    return run_id


def _replace_identified_hcas(conn: Connection, segments: gpd.GeoDataFrame, run_id: int,
                             scope_adcode: str | None) -> None:
    conn.execute(
        text("DELETE FROM hcas WHERE origin = 'identified' AND (CAST(:scope AS text) IS NULL OR adcode = :scope)"),
        {"scope": scope_adcode},
    )
    records = []
    for rec in segments.to_dict("records"):
        if scope_adcode is not None and rec.get("adcode") != scope_adcode:
            continue
        records.append({
            "key": f"auto:{rec['pipeline_key']}:{rec['start_m']:.0f}-{rec['end_m']:.0f}",
            "adcode": rec["adcode"], "pipeline_key": rec["pipeline_key"], "grade": int(rec["grade"]),
            "start_m": float(rec["start_m"]), "end_m": float(rec["end_m"]),
            "criterion": str(rec.get("criteria", rec.get("criterion", "")))[:20],
            "reason": rec.get("reason"), "identified_on": None, "origin": "identified", "run_id": run_id,
            "impact_radius_m": rec.get("potential_impact_radius_m"),
            "trigger_keys": rec.get("trigger_keys"), "geom": rec["geometry"], "corridor": rec["corridor"],
            "source_crs": "EPSG:4490", "batch_id": None,
        })
    if records:
        upsert_rows(conn, "hcas", records, "key")


def read_findings(engine: Engine, *, adcode: str | None = None, rule_code: str | None = None,
                  status: str | None = None) -> gpd.GeoDataFrame:
    """Read stored findings, optionally filtered by district, rule and status."""
    tbl = Base.metadata.tables["check_findings"]
    cols = ", ".join(f'"{c.name}"' for c in tbl.columns)
    sql = (f"SELECT {cols} FROM check_findings WHERE (CAST(:adcode AS text) IS NULL OR adcode = :adcode) "
           "AND (CAST(:rule AS text) IS NULL OR rule_code = :rule) "
           "AND (CAST(:status AS text) IS NULL OR status = :status) ORDER BY id")
    return _read_gdf(engine, sql, {"adcode": adcode, "rule": rule_code, "status": status})


def set_finding_status(engine: Engine, finding_id: int, status: str, *, actor: str, note: str = "") -> None:
    """Change a finding's remediation status (audited).

    Raises
    ------
    ValueError
        For an unknown status or finding.
    """
    if status not in FINDING_STATUSES:
        raise ValueError(f"status must be one of {FINDING_STATUSES}")
    with engine.begin() as conn:
        row = conn.execute(text("UPDATE check_findings SET status = :s, updated_at = now() WHERE id = :id "
                                "RETURNING adcode"), {"s": status, "id": finding_id}).first()
        if row is None:
            raise ValueError(f"no finding {finding_id}")
        audit(conn, actor=actor, action="finding_status", target=f"check_findings:{finding_id}",
              adcode=row[0], details={"status": status, "note": note})


def read_layer_window(engine: Engine | Connection, layer: str,
                      bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """Read rows of ``layer`` whose geometry meets a lon/lat box (EPSG:4490), using the GiST index."""
    tbl = table(layer) if layer != "districts" else Base.metadata.tables["districts"]
    cols = ", ".join(f'"{c.name}"' for c in tbl.columns)
    sql = (f"SELECT {cols} FROM {tbl.name} "
           f"WHERE geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, {SRID})")
    x0, y0, x1, y1 = bbox
    return _read_gdf(engine, sql, {"x0": x0, "y0": y0, "x1": x1, "y1": y1})


#: Audit actions that change no data: they must not invalidate cached views (every log-in would).
READ_ONLY_ACTIONS = ("login", "precheck", "export", "audit_export")


def data_version(engine: Engine) -> int:
    """Return a cheap token that changes whenever data changes.

    Imports, check runs, edits and rule changes append to the audit log; the token is the id of
    the newest such entry (a backward scan of the primary key that stops at the first one), so
    log-ins, pre-checks and exports leave cached views in place. It is read through the
    ``riskmap_data_version`` function (migration 0007), which sees the whole log, so a district
    session notices a city-wide check run or rule change it may not read.

    Parameters
    ----------
    engine : Engine
        The store.

    Returns
    -------
    int
    """
    with engine.connect() as conn:  # (a definer function: district sessions see city-wide changes too)
        found = conn.execute(text("SELECT riskmap_data_version(CAST(:ro AS text[]))"),
                             {"ro": list(READ_ONLY_ACTIONS)}).scalar()
    return int(found or 0)


PUBLISHED_RATING_COLUMNS = ("adcode", "data_version", "as_of", "rubric_version", "score", "class_code", "rank",
                            "n_districts", "contributions", "published_at")


def publish_ratings(engine: Engine, rows: Sequence[dict[str, Any]], *, data_version: int, as_of: dt.date,
                    rubric_version: str) -> None:
    """Replace the published 五色 ratings with ``rows`` (one per district), in one transaction.

    Only a city-wide session may write (row-level security); district sessions read their own row
    with :func:`read_published_ratings`. Nothing is audited: publishing derives from data already
    audited and must not change the data version.

    Parameters
    ----------
    engine : Engine
        The store (the owner, or the application role under a city-wide scope).
    rows : sequence of dict
        Keys ``adcode``, ``score``, ``class_code``, ``rank``, ``n_districts`` and ``contributions``
        (JSON-serialisable mapping).
    data_version : int
        :func:`data_version` the ratings were computed at.
    as_of : date
        Rating date.
    rubric_version : str
        Version of the rubric used.
    """
    params = [{"adcode": r["adcode"], "v": int(data_version), "as_of": as_of, "rubric": rubric_version,
               "score": float(r["score"]), "cls": r["class_code"], "rank": int(r["rank"]),
               "n": int(r["n_districts"]), "c": json.dumps(r["contributions"], ensure_ascii=False)} for r in rows]
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('riskmap.published_ratings'))"))
        conn.execute(text("DELETE FROM published_ratings WHERE NOT (adcode = ANY(:codes))"),
                     {"codes": [p["adcode"] for p in params]})
        if params:
            conn.execute(text(
                "INSERT INTO published_ratings (adcode, data_version, as_of, rubric_version, score, class_code, rank, "
                "n_districts, contributions, published_at) VALUES (:adcode, :v, :as_of, :rubric, :score, :cls, "
                ":rank, :n, CAST(:c AS jsonb), now()) ON CONFLICT (adcode) DO UPDATE SET "
                "data_version = EXCLUDED.data_version, as_of = EXCLUDED.as_of, "
                "rubric_version = EXCLUDED.rubric_version, score = EXCLUDED.score, class_code = EXCLUDED.class_code, "
                "rank = EXCLUDED.rank, n_districts = EXCLUDED.n_districts, contributions = EXCLUDED.contributions, "
                "published_at = now()"), params)


def read_published_ratings(engine: Engine) -> pd.DataFrame:
    """Read the published 五色 ratings the session may see (a district session: its own row only).

    Parameters
    ----------
    engine : Engine
        The store.

    Returns
    -------
    DataFrame
        Indexed by ``adcode``; columns :data:`PUBLISHED_RATING_COLUMNS` but ``adcode``
        (``contributions`` as a dict).
    """
    cols = ", ".join(PUBLISHED_RATING_COLUMNS)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {cols} FROM published_ratings ORDER BY adcode")).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(PUBLISHED_RATING_COLUMNS))
    return frame.set_index("adcode")


USER_COLUMNS = ("id", "username", "display_name", "role", "adcode", "credit_code", "active", "last_login_at",
                "created_at")


def insert_user(engine: Engine, **values: Any) -> int:
    """Insert a user row (password already hashed); return its id."""
    users = Base.metadata.tables["users"]
    with engine.begin() as conn:
        new_id = int(conn.execute(users.insert().returning(users.c.id), values).scalar_one())
        audit(conn, actor=str(values.get("created_by", "cli")), action="user_add", target=values["username"],
              adcode=values.get("adcode"), details={"role": values["role"]})
    return new_id


def find_user(engine: Engine, username: str) -> dict[str, Any] | None:
    """Return a user (including the password hash) by name, or None."""
    users = Base.metadata.tables["users"]
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return dict(row) if row else None


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """All users without their password hashes."""
    users = Base.metadata.tables["users"]
    with engine.connect() as conn:
        rows = conn.execute(select(*(users.c[c] for c in USER_COLUMNS)).order_by(users.c.username)).mappings()
        return [dict(r) for r in rows]


def set_user_active(engine: Engine, username: str, active: bool, *, actor: str) -> bool:
    """Enable or disable a user; return whether the user exists."""
    with engine.begin() as conn:
        n = conn.execute(text("UPDATE users SET active = :a, updated_at = now() WHERE username = :u"),
                         {"a": active, "u": username}).rowcount
        if n:
            audit(conn, actor=actor, action="user_enable" if active else "user_disable", target=username)
    return bool(n)


def touch_login(engine: Engine, user_id: int) -> None:
    """Record a successful log-in."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET last_login_at = now() WHERE id = :i"), {"i": user_id})


def bypasses_row_security(engine: Engine) -> bool:
    """Whether the engine's role escapes row-level security (superuser, BYPASSRLS or table owner).

    Parameters
    ----------
    engine : Engine
        Connection to check.

    Returns
    -------
    bool
        True when district policies would not apply to this connection.
    """
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT r.rolsuper OR r.rolbypassrls OR pg_get_userbyid(c.relowner) = current_user "
            "FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = 'enterprises'::regclass"
        )).scalar_one())


#: Days of the audit-log date filters are calendar days in this time zone (Kunming is on Beijing time).
AUDIT_TIMEZONE = "Asia/Shanghai"
AUDIT_COLUMNS = ("id", "at", "actor", "action", "target", "adcode", "details")


def _day_start(day: dt.date, zone: str) -> dt.datetime:
    """Midnight of ``day`` in ``zone`` (a datetime is kept as the instant it names; naive ones are in ``zone``)."""
    if isinstance(day, dt.datetime):
        return day if day.tzinfo is not None else day.replace(tzinfo=ZoneInfo(zone))
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone))


def _audit_where(*, actor: str | None, action: str | None, adcode: str | None, since: dt.date | None,
                 until: dt.date | None, zone: str) -> list[ColumnElement[bool]]:
    log = AuditLog.__table__
    where: list[ColumnElement[bool]] = []
    if actor:
        literal = actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(log.c.actor.ilike(f"%{literal}%", escape="\\"))
    if action:
        where.append(log.c.action == action)
    if adcode:
        where.append(log.c.adcode == adcode)
    if since is not None:
        where.append(log.c.at >= _day_start(since, zone))
    if until is not None:
        if isinstance(until, dt.datetime):
            where.append(log.c.at <= _day_start(until, zone))
        else:
            where.append(log.c.at < _day_start(until + dt.timedelta(days=1), zone))
    return where


def read_audit(engine: Engine, *, actor: str | None = None, action: str | None = None, adcode: str | None = None,
               since: dt.date | None = None, until: dt.date | None = None, limit: int | None = 50,
               offset: int = 0, zone: str = AUDIT_TIMEZONE) -> tuple[pd.DataFrame, int]:
    """Read one page of the audit log, newest first, with the number of entries matching the filters.

    Row-level security applies: a district-scoped session of the application role sees only the
    entries of its own district.

    Parameters
    ----------
    engine : Engine
        The store.
    actor : str, optional
        Case-insensitive substring of the actor (``%`` and ``_`` match themselves).
    action : str, optional
        Exact action, e.g. ``"import"``.
    adcode : str, optional
        Only entries of this district.
    since, until : datetime.date, optional
        First and last calendar day (both inclusive) in ``zone``. A ``datetime`` is taken as an
        exact instant instead (naive ones in ``zone``).
    limit : int or None
        Page size; None for every matching entry.
    offset : int
        Entries to skip (page number × page size).
    zone : str
        Time zone of the calendar days.

    Returns
    -------
    tuple of (pandas.DataFrame, int)
        The page (columns id, at (UTC, timezone-aware), actor, action, target, adcode, details),
        ordered by time and id descending; and the total number of matching entries.

    Raises
    ------
    ValueError
        For a negative ``limit`` or ``offset``.
    """
    if offset < 0 or (limit is not None and limit < 0):
        raise ValueError("limit and offset must not be negative")
    log = AuditLog.__table__
    where = _audit_where(actor=actor, action=action, adcode=adcode, since=since, until=until, zone=zone)
    page = select(log).where(*where).order_by(log.c.at.desc(), log.c.id.desc()).offset(offset).limit(limit)
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(log).where(*where)).scalar_one())
        rows = [dict(r) for r in conn.execute(page).mappings()]
    frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS), dtype=object)  # missing text stays None, not NaN
    frame["id"] = frame["id"].astype("int64")
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame, total


def audit_actions(engine: Engine) -> list[str]:
    """Return the distinct actions in the audit log (those the session may see), sorted."""
    log = AuditLog.__table__
    with engine.connect() as conn:
        return [str(a) for a in conn.execute(select(log.c.action).distinct().order_by(log.c.action)).scalars()]


def lock_layer(conn: Connection, layer: str) -> None:
    """Take the import lock of ``layer`` for the rest of the transaction on ``conn``.

    A transaction-scoped advisory lock keyed on the layer name: a second import of the
    same layer waits here until the first commits or rolls back, so two imports never
    interleave their writes. Other layers and readers are not blocked. The application
    role may take it (advisory locks need no privilege).
    """
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('riskmap.import.' || CAST(:layer AS text), 0))"),
                 {"layer": layer})


RULE_OVERRIDE_COLUMNS = ("id", "rule_code", "path", "value", "reason", "actor", "created_at", "active")


def read_rule_overrides(engine: Engine | Connection, *, active_only: bool = True) -> list[dict[str, Any]]:
    """Read the local values of the check rules (table ``rule_overrides``), oldest first.

    Parameters
    ----------
    engine : Engine or Connection
        The store (every session may read them).
    active_only : bool
        Only the values in force; False for the whole history, deactivated rows included.

    Returns
    -------
    list of dict
        Rows with id, rule_code, path, value (number or bool), reason, actor, created_at, active.
    """
    tbl = Base.metadata.tables["rule_overrides"]
    stmt = select(*(tbl.c[c] for c in RULE_OVERRIDE_COLUMNS)).order_by(tbl.c.id)
    if active_only:
        stmt = stmt.where(tbl.c.active)
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]
    return [dict(r) for r in engine.execute(stmt).mappings()]


def _lock_rules(conn: Connection) -> None:
    """Serialize rule changes (transaction-scoped), so each audited version sees every earlier change."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('riskmap.rule_overrides', 0))"))


def _deactivate_override(conn: Connection, rule_code: str, path: str) -> list[Any]:
    """Deactivate the active row of (rule, path); return its value in a list (empty when none was active)."""
    rows = conn.execute(
        text("UPDATE rule_overrides SET active = false WHERE rule_code = :code AND path = :path AND active "
             "RETURNING value"),
        {"code": rule_code, "path": path},
    ).all()
    return [r[0] for r in rows]


def replace_rule_override(engine: Engine, *, rule_code: str, path: str, value: Any, reason: str, actor: str,
                          old_value: Any, version_after: Callable[[list[dict[str, Any]]], str]) -> str:
    """Put a local rule value in force, keeping the previous one as history, and audit the change.

    In one transaction (serialized with other rule changes): the active row of (rule, path),
    if any, is deactivated; a new active row is inserted; and a ``rule_change`` entry is
    appended to the audit log with the old and new values, the reason and the rule-set version
    now in force.

    Parameters
    ----------
    engine : Engine
        The store. Under the application role, row-level security refuses the change unless the
        session covers all districts.
    rule_code, path : str
        The value changed, e.g. ``"PIPE_OCCUPY"`` and ``"threshold_m"``.
    value : number or bool
        The new value (already validated).
    reason : str
        Why (kept with the row and in the audit entry).
    actor : str
        Who changes it.
    old_value : number or bool
        The value in force before, when no local value was (the file's value).
    version_after : callable
        Given the active rows after the change, returns the rule-set version they make.

    Returns
    -------
    str
        The rule-set version now in force.
    """
    with engine.begin() as conn:
        _lock_rules(conn)
        previous = _deactivate_override(conn, rule_code, path)
        conn.execute(
            text("INSERT INTO rule_overrides (rule_code, path, value, reason, actor) "
                 "VALUES (:code, :path, CAST(:value AS jsonb), :reason, :actor)"),
            {"code": rule_code, "path": path, "value": json.dumps(value), "reason": reason, "actor": actor},
        )
        version = version_after(read_rule_overrides(conn))
        audit(conn, actor=actor, action="rule_change", target=f"{rule_code}.{path}",
              details={"old": previous[0] if previous else old_value, "new": value, "reason": reason,
                       "rule_set_version": version})
    return version


def deactivate_rule_override(engine: Engine, *, rule_code: str, path: str, reason: str, actor: str,
                             file_value: Any, version_after: Callable[[list[dict[str, Any]]], str]) -> bool:
    """Take a local rule value out of force (the file's value applies again), and audit the reset.

    In one transaction (serialized with other rule changes) the active row of (rule, path) is
    deactivated and a ``rule_change`` entry with ``"reset": true`` is appended to the audit log.
    Nothing is written when no local value was in force.

    Parameters
    ----------
    engine : Engine
        The store (see :func:`replace_rule_override` for row-level security).
    rule_code, path : str
        The value reset.
    reason : str
        Why.
    actor : str
        Who resets it.
    file_value : number or bool
        The rule file's value, in force again afterwards (``new`` in the audit entry).
    version_after : callable
        Given the active rows after the reset, returns the rule-set version they make.

    Returns
    -------
    bool
        Whether a local value was in force (and has been reset).
    """
    with engine.begin() as conn:
        _lock_rules(conn)
        previous = _deactivate_override(conn, rule_code, path)
        if not previous:
            return False
        version = version_after(read_rule_overrides(conn))
        audit(conn, actor=actor, action="rule_change", target=f"{rule_code}.{path}",
              details={"old": previous[0], "new": file_value, "reason": reason, "reset": True,
                       "rule_set_version": version})
    return True


def _read_city_wide(engine: Engine, sql: str, params: dict[str, Any]) -> list[Any]:
    """Rows of a narrow lookup read under a city-wide scope.

    Only for the importer's cross-district consistency checks, which must see a district code
    stored outside the importing officer's district to refuse a row that would change another
    district's data. The callers select nothing but keys and district codes, of keys the caller
    already names. An engine that is not scoped (the database owner) sees everything anyway.
    """
    with scoped(Scope(all_districts=True, actor="import-check")), engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def enterprise_districts(engine: Engine, credit_codes: Iterable[str]) -> dict[str, str]:
    """Return the district (adcode) of each stored enterprise among ``credit_codes``.

    Read in every district (see :func:`_read_city_wide`), so that a district officer's
    import can refuse a plant part linked to another district's enterprise.

    Parameters
    ----------
    engine : Engine
        The store.
    credit_codes : iterable of str
        统一社会信用代码 to look up.

    Returns
    -------
    dict
        adcode by credit code; codes with no stored enterprise are absent.
    """
    codes = sorted({str(c) for c in credit_codes if c})
    if not codes:
        return {}
    rows = _read_city_wide(engine, "SELECT credit_code, adcode FROM enterprises WHERE credit_code = ANY(:codes) "
                                   "ORDER BY id", {"codes": codes})
    return {str(code): str(adcode) for code, adcode in rows}


def pipeline_districts(engine: Engine, keys: Iterable[str]) -> dict[str, list[str]]:
    """Return the stored ``adcodes`` (districts crossed) of each stored pipeline among ``keys``.

    Read in every district (see :func:`_read_city_wide`), so that a district officer cannot
    re-import (change) a pipeline stored in other districts too.

    Parameters
    ----------
    engine : Engine
        The store.
    keys : iterable of str
        Pipeline keys to look up.

    Returns
    -------
    dict
        Sorted district codes by key; keys not stored are absent.
    """
    wanted = sorted({str(k) for k in keys if k})
    if not wanted:
        return {}
    rows = _read_city_wide(engine, "SELECT key, adcodes FROM pipelines WHERE key = ANY(:keys)", {"keys": wanted})
    return {str(key): sorted(str(c) for c in adcodes or []) for key, adcodes in rows}
