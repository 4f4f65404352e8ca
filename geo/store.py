"""The database boundary: engines, and every query RiskMap runs against PostGIS.

Other modules receive and return GeoDataFrames or plain values; only this module
(and the migrations) builds SQL. User values are always bound parameters;
identifiers come only from the models' metadata.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
from geoalchemy2.shape import from_shape
from sqlalchemy import Connection, Engine, Table, create_engine, func, select, text
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


def make_engine(url: str) -> Engine:
    """Create an engine with pre-ping, so a restarted server is reconnected to."""
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


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
    """Append one entry to the audit log."""
    conn.execute(
        AuditLog.__table__.insert(),  # type: ignore[attr-defined]
        {"actor": actor, "action": action, "target": target, "adcode": adcode,
         "details": json.loads(json.dumps(details or {}, default=str))},
    )


def layer_summary(engine: Engine) -> pd.DataFrame:
    """Return per-district counts of the main layers (for the dashboard and status)."""
    parts = []
    for layer in ("enterprises", "protection_targets", "buildings", "tailings_dams",
                  "risk_points", "hidden_hazards"):
        parts.append(f"SELECT '{layer}' AS layer, adcode, count(*) AS n FROM {table(layer).name} GROUP BY adcode")
    with engine.connect() as conn:
        df = pd.read_sql(text(" UNION ALL ".join(parts)), conn)
    if df.empty:
        return pd.DataFrame()
    return df.pivot_table(index="adcode", columns="layer", values="n", fill_value=0).astype(int)


def clear_layers(engine: Engine) -> None:
    """Delete every row of every RiskMap table (demo reset); the schema stays."""
    names = ", ".join(Base.metadata.tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def districts_geojson(engine: Engine, *, simplify_deg: float = 0.0005) -> dict[str, Any]:
    """District outlines as a GeoJSON FeatureCollection for display (lightly simplified).

    The simplification (default about 50 m) is for drawing only; checks always use
    the stored geometry.
    """
    sql = text(
        "SELECT adcode, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, :tol), 6) AS g "
        "FROM districts ORDER BY adcode"
    )
    with engine.connect() as conn:
        rows = conn.execute(sql, {"tol": simplify_deg}).all()
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": a, "properties": {"adcode": a, "name": n}, "geometry": json.loads(g)}
            for a, n, g in rows
        ],
    }


def point_layer(engine: Engine, layer: str, columns: Sequence[str], adcode: str | None = None) -> pd.DataFrame:
    """Read selected columns of a point layer plus ``lon``/``lat`` (for maps and lists).

    Parameters
    ----------
    engine : Engine
        Store.
    layer : str
        A point layer (enterprises, tailings_dams, risk_points, hidden_hazards).
    columns : sequence of str
        Column names of that table.
    adcode : str, optional
        Only this district.
    """
    tbl = table(layer)
    unknown = [c for c in columns if c not in tbl.columns]
    if unknown:
        raise KeyError(f"{layer} has no columns {unknown}")
    cols = ", ".join(f'"{c}"' for c in columns)
    sql = f"SELECT {cols}, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM {tbl.name}"
    params: dict[str, Any] = {}
    if adcode:
        sql += " WHERE adcode = :adcode"
        params["adcode"] = adcode
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn, params=params)
