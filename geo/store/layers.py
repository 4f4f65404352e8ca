"""Layer tables: reading layers and districts as GeoDataFrames, upserting rows, import locks, data version."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
from geoalchemy2 import Geometry
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format
from sqlalchemy import Connection, Engine, Table, func, select, text
from sqlalchemy.exc import DBAPIError

from geo.constants import STORAGE_SRID
from geo.models import LAYER_MODELS, Base, District, ImportBatch
from geo.store.audit import audit
from geo.store.engine import on_connection


def table(layer: str) -> Table:
    """Return the table of an importable ``layer`` name."""
    return LAYER_MODELS[layer].__table__  # type: ignore[return-value]


def row_counts(engine: Engine) -> dict[str, int]:
    """Return the number of rows of every RiskMap table, by table name."""
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for name, tbl in sorted(Base.metadata.tables.items()):
            counts[name] = conn.execute(select(func.count()).select_from(tbl)).scalar_one()
    return counts


@on_connection
def district_codes(conn: Connection) -> dict[str, str]:
    """Return ``{adcode: name}`` of all districts in the store."""
    return dict(conn.execute(select(District.adcode, District.name)).tuples().all())


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


@on_connection
def _read_gdf(conn: Connection, sql: str, params: dict[str, Any]) -> gpd.GeoDataFrame:
    """Run ``sql`` (with a ``geom`` column) and return its rows as a GeoDataFrame in EPSG:4490.

    The same frame as ``geopandas.read_postgis`` (columns, dtypes, values), built faster: rows come
    over psycopg's binary protocol straight from the cursor (geometry as EWKB bytes), are decoded in
    one vectorised ``shapely.from_wkb`` call, and the other columns go through the same pandas
    conversion as ``pandas.read_sql`` (time stamps with a time zone in UTC).
    """
    stmt = text(sql).compile(dialect=conn.dialect)
    if not conn.in_transaction():
        conn.begin()  # as a first execute would: the engine's begin hook applies the session's scope
    raw = conn.connection.driver_connection
    with raw.cursor(binary=True) as cur:  # type: ignore[union-attr]
        cur.adapters.register_loader("timestamptz", _MicrosLoader)
        cur.execute(str(stmt), stmt.construct_params(params))
        names = [d.name for d in cur.description or ()]
        types = [d.type_code for d in cur.description or ()]
        unknown = [i for i, oid in enumerate(types) if cur.adapters.types.get(oid) is None]
        rows = cur.fetchall()
    at = names.index("geom")
    if unknown != [at]:  # other columns of types psycopg does not know: as text, in their PostGIS text form
        geometry = _geometry_oid(conn)
        if any(types[i] != geometry for i in unknown):
            return gpd.read_postgis(text(sql), conn, geom_col="geom", params=params).rename_geometry(
                "geometry").set_crs(STORAGE_SRID, allow_override=True)
        hexed = [i for i in unknown if i != at]
        rows = [tuple(v.hex().upper() if i in hexed and v is not None else v for i, v in enumerate(r))
                for r in rows]
    geoms = shapely.from_wkb(np.fromiter((r[at] for r in rows), dtype=object, count=len(rows)))
    names[at] = "geometry"  # named as it is returned from the start (renaming afterwards copies the frame)
    frame = pd.DataFrame.from_records(rows, columns=names, coerce_float=True)
    for name, oid in zip(names, types, strict=True):
        if oid == _TIMESTAMPTZ and frame[name].notna().any():
            frame[name] = pd.to_datetime(frame[name], unit="us", origin=_PG_EPOCH, utc=True).astype(_UTC_US)
    frame["geometry"] = geoms
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=STORAGE_SRID)


_TIMESTAMPTZ = 1184  # type oid of timestamptz
_PG_EPOCH = pd.Timestamp("2000-01-01")
_UTC_US = pd.DatetimeTZDtype(unit="us", tz="UTC")
_MICROS = struct.Struct("!q")


class _MicrosLoader(Loader):
    """Load a binary ``timestamptz`` as its microseconds since 2000-01-01 UTC (made a column in one go)."""

    format = Format.BINARY

    def load(self, data: Buffer) -> int:
        return int(_MICROS.unpack(data)[0])


def _geometry_oid(conn: Connection) -> int:
    """Return the type oid of PostGIS ``geometry`` (remembered per database connection)."""
    info = conn.connection.info
    if "riskmap_geometry_oid" not in info:
        info["riskmap_geometry_oid"] = int(conn.exec_driver_sql("SELECT 'geometry'::regtype::oid").scalar_one())
    return int(info["riskmap_geometry_oid"])


def read_layer_near(engine: Engine, layer: str, adcode: str, distance_m: float) -> gpd.GeoDataFrame:
    """Read rows of ``layer`` in district ``adcode`` or within ``distance_m`` of it (geodesic)."""
    tbl = table(layer)
    cols = ", ".join(f't."{c.name}"' for c in tbl.columns)
    sql = (
        f"SELECT {cols} FROM {tbl.name} t JOIN districts d ON d.adcode = :adcode "
        "WHERE t.adcode = :adcode OR ST_DWithin(t.geom::geography, d.geom::geography, :dist)"
    )
    return _read_gdf(engine, sql, {"adcode": adcode, "dist": distance_m})


def read_layer_window(engine: Engine | Connection, layer: str, bbox: tuple[float, float, float, float], *,
                      within: shapely.Geometry | None = None,
                      leave_out: Iterable[str] = ()) -> gpd.GeoDataFrame:
    """Read rows of ``layer`` whose geometry meets a lon/lat box (EPSG:4490), using the GiST index.

    Parameters
    ----------
    engine : Engine or Connection
        Database to read.
    layer : str
        Importable layer name, or ``"districts"``.
    bbox : tuple of float
        ``(min lon, min lat, max lon, max lat)`` in EPSG:4490.
    within : shapely.Geometry, optional
        A shape in EPSG:4490 (inside ``bbox``) the rows must also meet (exactly, ``ST_Intersects``).
    leave_out : iterable of str
        Columns not to read (the geometry is always read).

    Returns
    -------
    GeoDataFrame
        The columns of the table (less ``leave_out``), geometry as ``geometry``.
    """
    tbl = table(layer) if layer != "districts" else Base.metadata.tables["districts"]
    skip = set(leave_out) - {"geom"}
    cols = ", ".join(f'"{c.name}"' for c in tbl.columns if c.name not in skip)
    x0, y0, x1, y1 = bbox
    params: dict[str, Any] = {"x0": x0, "y0": y0, "x1": x1, "y1": y1}
    sql = (f"SELECT {cols} FROM {tbl.name} "
           f"WHERE geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, {STORAGE_SRID})")
    if within is not None:
        sql += f" AND ST_Intersects(geom, ST_GeomFromWKB(:within, {STORAGE_SRID}))"
        params["within"] = shapely.to_wkb(within)
    return _read_gdf(engine, sql, params)


def upsert_rows(conn: Connection, layer: str, records: Iterable[dict[str, Any]], key: str) -> int:
    """Insert rows, updating those whose ``key`` already exists, in one statement; return the count.

    The rows are copied (``COPY``) into a temporary table and merged with one ``INSERT … ON CONFLICT``,
    so the statement-level history trigger (migration 0020) runs once for the whole set, not once per
    row. What is stored is what one statement per row stored (``tests/test_import_bulk.py`` keeps that
    write as its reference): the same rows, ids in the order given, the same ``row_versions`` and
    ``updated_at``; a key given twice keeps its last row (there its history has one version fewer).
    Every row must have the same fields.

    Parameters
    ----------
    conn : Connection
        An open transaction (nothing is committed here).
    layer : str
        Importable layer name.
    records : iterable of dict
        Rows by column name; geometry values are Shapely objects in EPSG:4490 (or None).
    key : str
        The unique column the rows are matched on.

    Returns
    -------
    int
        How many rows were given.

    Raises
    ------
    ValueError
        A field is not a column of the layer, or the rows differ in their fields.
    sqlalchemy.exc.DBAPIError
        The database refused a row (nothing of the set is written; the transaction is aborted).
    """
    tbl = table(layer)
    rows = list(records)
    if not rows:
        return 0
    cols = list(rows[0])
    unknown = [c for c in cols if c not in tbl.columns]
    if unknown or key not in cols:
        raise ValueError(f"{layer}: unknown columns {unknown} or no key {key!r} (table has "
                         f"{list(tbl.columns.keys())})")
    if any(r.keys() != rows[0].keys() for r in rows):
        raise ValueError(f"{layer}: every row must have the same fields ({cols})")
    values = [[r[c] for r in rows] for c in cols]
    for i, c in enumerate(cols):
        if isinstance(tbl.columns[c].type, Geometry):
            geoms = np.array(values[i], dtype=object)
            given = np.array([g is not None for g in geoms], dtype=bool)
            geoms[given] = shapely.to_wkb(shapely.set_srid(geoms[given], STORAGE_SRID), hex=True, include_srid=True)
            values[i] = list(geoms)
    names = ", ".join(f'"{c}"' for c in cols)
    _stage_rows(conn, tbl.name, cols, values)
    update = [f'"{c}" = EXCLUDED."{c}"' for c in cols if c not in (key, "id", "created_at")]
    if "updated_at" in tbl.columns:
        update.append("updated_at = now()")
    conn.execute(text(
        f"INSERT INTO {tbl.name} ({names}) SELECT {names} FROM ("
        f'SELECT DISTINCT ON ("{key}") * FROM {_STAGE} ORDER BY "{key}", riskmap_ord DESC) last '
        f'ORDER BY riskmap_ord ON CONFLICT ("{key}") DO UPDATE SET ' + ", ".join(update)))
    conn.execute(text(f"DROP TABLE {_STAGE}"))
    return len(rows)


_STAGE = "riskmap_import_rows"


def _stage_rows(conn: Connection, name: str, cols: list[str], values: list[list[Any]]) -> None:
    """Copy column-wise ``values`` into a temporary table of the columns' base types (no lengths, no checks).

    The table's own types, lengths and constraints then apply in the merge, where a refusal is a
    ``DBAPIError`` naming the constraint, as when the rows were inserted one by one.
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    quoted = ", ".join(f'"{c}"' for c in cols)
    with raw.cursor() as cur:
        cur.execute("SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                    "WHERE attrelid = CAST(%s AS regclass) AND attname = ANY(%s)", (name, cols))
        types = dict(cur.fetchall())
        columns = ", ".join(f'"{c}" {types[c]}' for c in cols)
        cur.execute(f"CREATE TEMP TABLE {_STAGE} ({columns}, riskmap_ord integer) ON COMMIT DROP")
        try:
            with cur.copy(f"COPY {_STAGE} ({quoted}, riskmap_ord) FROM STDIN") as copy:
                for i, row in enumerate(zip(*values, strict=True)):
                    copy.write_row((*row, i))
        except psycopg.DataError as exc:  # a value the column's type refuses: as the merge would refuse it
            raise DBAPIError(f"COPY {_STAGE}", None, exc) from exc


def record_batch(conn: Connection, **values: Any) -> int:
    """Insert an import-batch row and return its id."""
    result = conn.execute(ImportBatch.__table__.insert().returning(ImportBatch.id), values)  # type: ignore[attr-defined]
    return int(result.scalar_one())


def lock_layer(conn: Connection, layer: str) -> None:
    """Take the import lock of ``layer`` for the rest of the transaction on ``conn``.

    A transaction-scoped advisory lock keyed on the layer name: a second import of the
    same layer waits here until the first commits or rolls back, so two imports never
    interleave their writes. Other layers and readers are not blocked. The application
    role may take it (advisory locks need no privilege).
    """
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('riskmap.import.' || CAST(:layer AS text), 0))"),
                 {"layer": layer})


def clear_layers(engine: Engine, *, actor: str = "demo") -> None:
    """Delete every row of every RiskMap table (demo reset) but the audit log, which records it; the schema stays."""
    names = ", ".join(t for t in Base.metadata.tables if t != "audit_log")  # append-only (migration 0014)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        audit(conn, actor=actor, action="clear", details={"tables": sorted(t for t in Base.metadata.tables
                                                                           if t != "audit_log")})


#: Audit actions that change no data: they must not invalidate cached views (every log-in would).
READ_ONLY_ACTIONS = ("login", "logout", "login_failed", "login_locked", "precheck", "export", "audit_export")


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
