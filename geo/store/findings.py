"""Check runs and their findings: storing a run, reading findings, changing a finding's status."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import shapely
from sqlalchemy import Connection, Engine, text

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
    ``resolved``, never deleted. Everything happens in one transaction, and the findings are
    written set-based: copied into a staging table and merged by one statement, so the history
    triggers run once per run (30,000 findings in seconds).

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
    with engine.begin() as conn:
        run_id = int(conn.execute(
            runs.insert().returning(runs.c.id),
            {"rule_set_version": rule_set_version, "scope_adcode": scope_adcode, "actor": actor},
        ).scalar_one())
        stored = _upsert_findings(conn, findings, run_id, rule_set_version)
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
              details={"run": run_id, "rule_set_version": rule_set_version, "findings": stored,
                       "resolved": resolved, "rules": list(rules_run)})
    return run_id


#: Columns a finding found again keeps: its identity, when it was first found and its remediation state
#: (``status`` is reopened only from ``resolved``/``closed``; ``resolved_at`` is cleared).
_KEPT = ("id", "created_at", "first_found_at", "status", "resolved_at")
_IDENTITY = ("rule_code", "subject_type", "subject_key", "object_type", "object_key")
_STAGE = "riskmap_run_findings"


def _upsert_findings(conn: Connection, findings: gpd.GeoDataFrame, run_id: int, rule_set_version: str) -> int:
    """Upsert a run's findings in one statement; return how many rows were written.

    The rows are copied (``COPY``) into a temporary table and merged with one ``INSERT … ON CONFLICT``,
    so the history triggers fire once for the run, not once per finding. New findings get their ids in
    the frame's order; a key given twice keeps its last row, as when each row was upserted in turn.
    """
    found = Base.metadata.tables["check_findings"]
    given = [c for c in findings.columns if c != findings.geometry.name]
    unknown = [c for c in given if c not in found.columns or c in ("id", "run_id", "rule_set_version", "geom")]
    if unknown:
        raise ValueError(f"findings: unknown columns {unknown} (check_findings has {list(found.columns.keys())})")
    if not len(findings):
        return 0
    cols = [*given, "run_id", "rule_set_version", "geom"]
    values = findings[given].astype(object)
    values = values.where(values.notna(), None)
    geoms = findings.geometry.to_numpy()
    hex_wkb = shapely.to_wkb(shapely.set_srid(geoms, STORAGE_SRID), hex=True, include_srid=True)
    names = ", ".join(f'"{c}"' for c in cols)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {_STAGE} ON COMMIT DROP AS SELECT {names} FROM check_findings WITH NO DATA")
        cur.execute(f"ALTER TABLE {_STAGE} ADD COLUMN ord integer")
        with cur.copy(f"COPY {_STAGE} ({names}, ord) FROM STDIN") as copy:
            for i, (row, geom) in enumerate(zip(values.itertuples(index=False, name=None), hex_wkb, strict=True)):
                copy.write_row((*row, run_id, rule_set_version, geom, i))
    update = {c.name: f'EXCLUDED."{c.name}"' for c in found.columns if c.name not in _KEPT}
    update.update(last_found_at="now()", updated_at="now()", resolved_at="NULL", status=(
        "CASE WHEN check_findings.status IN ('resolved', 'closed') THEN 'open' ELSE check_findings.status END"))
    key = ", ".join(_IDENTITY)
    conn.execute(text(
        f"INSERT INTO check_findings ({names}) SELECT {names} FROM ("
        f"SELECT DISTINCT ON ({key}) * FROM {_STAGE} ORDER BY {key}, ord DESC) last ORDER BY ord "
        "ON CONFLICT ON CONSTRAINT uq_check_findings_identity DO UPDATE SET "
        + ", ".join(f'"{c}" = {v}' for c, v in update.items())))
    conn.execute(text(f"DROP TABLE {_STAGE}"))
    return len(findings)


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
