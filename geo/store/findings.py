"""Check runs and their findings: storing a run, reading findings, changing a finding's status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
from geoalchemy2.shape import from_shape
from sqlalchemy import Connection, Engine, func, text
from sqlalchemy.dialects.postgresql import insert

from geo.constants import FINDING_STATUSES, STORAGE_CRS, STORAGE_SRID
from geo.models import Base
from geo.store.audit import audit
from geo.store.layers import _read_gdf, upsert_rows


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
                       geom=None if geom is None else from_shape(geom, srid=STORAGE_SRID))
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
            "source_crs": STORAGE_CRS, "batch_id": None,
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


def read_finding(engine: Engine | Connection, finding_id: int) -> gpd.GeoDataFrame:
    """Read one stored finding by id (the same columns as :func:`read_findings`).

    Row-level security applies as in :func:`read_findings`: a finding outside the session's
    scope is not returned.

    Parameters
    ----------
    engine : Engine or Connection
        The store.
    finding_id : int
        Id of the finding.

    Returns
    -------
    GeoDataFrame
        One row, or no rows when there is no such finding or the session may not see it.
    """
    tbl = Base.metadata.tables["check_findings"]
    cols = ", ".join(f'"{c.name}"' for c in tbl.columns)
    return _read_gdf(engine, f"SELECT {cols} FROM check_findings WHERE id = :id", {"id": int(finding_id)})


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
