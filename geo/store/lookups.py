"""Narrow lookups by key or position: districts of enterprises and pipelines, the enterprise of a code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo.constants import STORAGE_SRID
from geo.store.engine import on_connection


def _read_city_wide(engine: Engine, sql: str, params: dict[str, Any]) -> list[Any]:
    """Rows of a narrow lookup that answers across districts, through a SECURITY DEFINER function.

    Only for the importer's cross-district consistency checks, which must see a district code
    stored outside the importing officer's district to refuse a row that would change another
    district's data. The database functions (``riskmap_enterprise_districts``,
    ``riskmap_pipeline_districts``) return nothing but the keys asked for and their districts; the
    application role cannot widen its own scope to read them.
    """
    with engine.connect() as conn:
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
    rows = _read_city_wide(engine, "SELECT credit_code, adcode FROM "
                                   "riskmap_enterprise_districts(CAST(:codes AS text[]))", {"codes": codes})
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
    rows = _read_city_wide(engine, "SELECT key, adcodes FROM riskmap_pipeline_districts(CAST(:keys AS text[]))",
                           {"keys": wanted})
    return {str(key): sorted(str(c) for c in adcodes or []) for key, adcodes in rows}


@on_connection
def enterprise_of(conn: Connection, credit_code: str) -> dict[str, Any] | None:
    """Return the enterprise (name, adcode, credit_code) with ``credit_code`` that the session sees, or None."""
    row = conn.execute(text("SELECT name, adcode, credit_code FROM enterprises WHERE credit_code = :c"),
                       {"c": credit_code}).mappings().first()
    return None if row is None else dict(row)


def enterprise_district(conn: Connection | Engine, credit_code: str) -> str | None:
    """Return the district of the enterprise with ``credit_code`` that the session sees (None otherwise)."""
    found = enterprise_of(conn, credit_code)
    return None if found is None else str(found["adcode"])


def enterprise_points(engine: Engine) -> list[dict[str, Any]]:
    """Enterprises the session sees with a credit code: code, name, district and position, by district and code."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT credit_code, name, adcode, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                                 "FROM enterprises WHERE credit_code IS NOT NULL ORDER BY adcode, credit_code"))
        return [dict(r) for r in rows.mappings()]


def district_at(engine: Engine, lon: float, lat: float) -> str | None:
    """Return the district containing (lon, lat), or None."""
    with engine.connect() as conn:
        return conn.execute(text(
            f"SELECT adcode FROM districts WHERE level <> 'city' AND ST_Intersects(geom, "
            f"ST_SetSRID(ST_MakePoint(:lon, :lat), {STORAGE_SRID})) ORDER BY adcode LIMIT 1"),
            {"lon": lon, "lat": lat}).scalar_one_or_none()


def point_in_district(conn: Connection, adcode: str, lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies in district ``adcode`` (its boundary included)."""
    return bool(conn.execute(text(
        f"SELECT ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), {STORAGE_SRID})) FROM districts "
        "WHERE adcode = :a"), {"lon": lon, "lat": lat, "a": adcode}).scalar())
