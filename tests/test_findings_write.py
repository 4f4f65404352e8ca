"""The bulk findings write (issue #16) stores exactly what the row-by-row write stored.

``save_check_run`` copies a run's findings into a staging table and merges them in one statement;
the history trigger of migration 0020 builds each version's JSON without the geometry and plans each
statement for the rows it touched. The reference here is the write as it was before: one upsert per
finding through SQLAlchemy, under the trigger function of revision 0010. Both run the same runs (a
first run, a re-run, a run where findings vanish and come back) on two copies of one database; every
column of ``check_findings``, every ``row_versions`` row of the findings and the audit entries must be
the same, with each timestamp replaced by the run whose transaction wrote it.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import Engine, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from geo import embedded, store
from geo.checks.findings import finding, findings_frame
from geo.checks.ruleset import load_ruleset
from geo.constants import STORAGE_SRID
from geo.models import Base
from geo.store.audit import audit

pytestmark = pytest.mark.postgis
RULES = load_ruleset()
VERSIONS = Path(__file__).parents[1] / "geo" / "migrations" / "versions"


def _revision_0010_function() -> str:
    spec = importlib.util.spec_from_file_location("revision_0010", VERSIONS / "20261206_record_history.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module._FUNCTION)


@pytest.fixture
def reference(pg_cluster: embedded.Cluster, template_db: str) -> Iterator[Engine]:
    """A second copy of the template database whose history trigger is revision 0010's."""
    name = "t_findings_reference"
    embedded.drop_database(pg_cluster, name)
    embedded.create_database(pg_cluster, name, template=template_db)
    eng = store.make_engine(pg_cluster.url(name))
    with eng.begin() as conn:
        conn.execute(text(_revision_0010_function()))
    try:
        yield eng
    finally:
        eng.dispose()
        embedded.drop_database(pg_cluster, name)


def _reference_save(engine: Engine, findings: Any, rules_run: list[str], scope: str | None) -> int:
    """The write before #16: one upsert per finding, in batches of 2,000 (kept here as the oracle)."""
    runs = Base.metadata.tables["check_runs"]
    found = Base.metadata.tables["check_findings"]
    with engine.begin() as conn:
        run_id = int(conn.execute(runs.insert().returning(runs.c.id), {
            "rule_set_version": RULES.version, "scope_adcode": scope, "actor": "test"}).scalar_one())
        rows = []
        for rec in findings.to_dict("records"):
            geom = rec.pop("geometry")
            rec = {k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
            rec.update(run_id=run_id, rule_set_version=RULES.version,
                       geom=None if geom is None else from_shape(geom, srid=STORAGE_SRID))
            rows.append(rec)
        if rows:
            stmt = insert(found)
            keep = ("id", "created_at", "first_found_at", "status", "resolved_at")
            update: dict[str, Any] = {c.name: stmt.excluded[c.name] for c in found.columns if c.name not in keep}
            update.update(last_found_at=func.now(), updated_at=func.now(), resolved_at=None, status=text(
                "CASE WHEN check_findings.status IN ('resolved', 'closed') THEN 'open' ELSE check_findings.status END"))
            stmt = stmt.on_conflict_do_update(constraint="uq_check_findings_identity", set_=update)
            for start in range(0, len(rows), 2000):
                conn.execute(stmt, rows[start: start + 2000])
        resolved = conn.execute(text(
            "UPDATE check_findings SET status = 'resolved', resolved_at = now(), updated_at = now() "
            "WHERE rule_code = ANY(:rules) AND run_id IS DISTINCT FROM :run AND status <> 'resolved' "
            "AND (CAST(:scope AS text) IS NULL OR adcode = :scope)"),
            {"rules": rules_run, "run": run_id, "scope": scope}).rowcount
        conn.execute(text("UPDATE check_runs SET finished_at = now() WHERE id = :id"), {"id": run_id})
        audit(conn, actor="test", action="check_run", target="check_findings", adcode=scope,
              details={"run": run_id, "rule_set_version": RULES.version, "findings": len(rows),
                       "resolved": resolved, "rules": rules_run})
    return run_id


def _bulk_save(engine: Engine, findings: Any, rules_run: list[str], scope: str | None) -> int:
    return store.save_check_run(engine, findings=findings, hca_segments=None, rule_set_version=RULES.version,
                                rules_run=rules_run, scope_adcode=scope, actor="test")


def _f(rule: str, obj: str, *, adcode: str = "530181", measured: float | None = 3.0, name: str | None = "楼",
       detail: str = "", x: float = 102.40) -> dict[str, Any]:
    return finding(RULES[rule], subject_type="pipelines", subject_key="GAS-01", subject_name="管道, \"一号\"",
                   object_type="buildings", object_key=obj, object_name=name, measured_m=measured,
                   required_m=5.0, verdict="violation", adcode=adcode, detail=detail,
                   geometry=shapely.LineString([(x, 24.90), (x + 0.00001, 24.90001)]))


RUNS: list[tuple[list[dict[str, Any]], list[str], str | None]] = [
    # a first run: text with commas, quotes, tabs and new lines; a missing distance and name
    ([_f("PIPE_OCCUPY", "A"), _f("PIPE_OCCUPY", "B", measured=None, name=None),
      _f("PIPE_OCCUPY", "C", detail="第一行\n第二行\t\\ 末"), _f("PIPE_OCCUPY", "D", adcode="530112"),
      _f("PIPE_PERMIT_50", "A", measured=30.0)], ["PIPE_OCCUPY", "PIPE_PERMIT_50"], None),
    # the same run again: only bookkeeping changes
    ([_f("PIPE_OCCUPY", "A"), _f("PIPE_OCCUPY", "B", measured=None, name=None),
      _f("PIPE_OCCUPY", "C", detail="第一行\n第二行\t\\ 末"), _f("PIPE_OCCUPY", "D", adcode="530112"),
      _f("PIPE_PERMIT_50", "A", measured=30.0)], ["PIPE_OCCUPY", "PIPE_PERMIT_50"], None),
    # B and the permit vanish, A is measured again and moved, E is new, C's closure is reopened
    ([_f("PIPE_OCCUPY", "E"), _f("PIPE_OCCUPY", "A", measured=2.5, x=102.41),
      _f("PIPE_OCCUPY", "C", detail="第一行\n第二行\t\\ 末"), _f("PIPE_OCCUPY", "D", adcode="530112")],
     ["PIPE_OCCUPY", "PIPE_PERMIT_50"], None),
    # a district's run: resolves only its district's findings (D, in 530112, stays)
    ([_f("PIPE_OCCUPY", "A", measured=2.5, x=102.41)], ["PIPE_OCCUPY"], "530181"),
    # everything back
    ([_f("PIPE_OCCUPY", "A"), _f("PIPE_OCCUPY", "B", measured=None, name=None), _f("PIPE_OCCUPY", "E"),
      _f("PIPE_PERMIT_50", "A", measured=30.0)], ["PIPE_OCCUPY", "PIPE_PERMIT_50"], None),
]


def _play(engine: Engine, save: Any) -> None:
    for i, (records, rules_run, scope) in enumerate(RUNS):
        save(engine, findings_frame(records), rules_run, scope)
        if i == 0:  # reviewed findings stay reviewed; a closed one reopens when found again
            ids = dict(store.read_findings(engine)[["object_key", "id"]].drop_duplicates("object_key")
                       .itertuples(index=False, name=None))
            store.set_finding_status(engine, int(ids["A"]), "in_remediation", actor="planner")
            store.set_finding_status(engine, int(ids["C"]), "closed", actor="planner")


def _snapshot(engine: Engine) -> dict[str, Any]:
    """Findings, their versions and the run audit entries, each time replaced by the run that wrote it."""
    with engine.connect() as conn:
        starts = [r[0] for r in conn.execute(text("SELECT started_at FROM check_runs ORDER BY id"))]

        def when(value: Any) -> Any:
            if value is None:
                return None
            t = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
            return f"run {starts.index(t) + 1}" if t in starts else "between runs"

        def plain(row: dict[str, Any]) -> dict[str, Any]:
            out = {}
            for key, value in row.items():
                if key.endswith("_at") or key in ("valid_from", "valid_to"):
                    value = when(value)
                elif isinstance(value, float) and math.isnan(value):
                    value = "NaN"
                elif isinstance(value, dict):
                    value = plain(value)
                out[key] = value
            return out

        findings = [plain(dict(r._mapping)) for r in conn.execute(text(
            "SELECT *, ST_AsEWKB(geom) AS geom FROM check_findings ORDER BY id"))]
        versions = [plain(dict(r._mapping)) for r in conn.execute(text(
            "SELECT row_key, adcode, adcodes, credit_code, valid_from, valid_to, data, ST_AsEWKB(geom) AS geom, "
            "changed_by, change FROM row_versions WHERE table_name = 'check_findings' "
            "ORDER BY row_key::bigint, valid_from, change"))]
        audits = [r[0] for r in conn.execute(text(
            "SELECT details FROM audit_log WHERE action IN ('check_run', 'finding_status') ORDER BY id"))]
    return {"findings": findings, "versions": versions, "audit": audits, "runs": len(starts)}


def test_bulk_write_stores_what_the_row_by_row_write_stored(engine: Engine, reference: Engine) -> None:
    _play(reference, _reference_save)
    _play(engine, _bulk_save)
    ours, theirs = _snapshot(engine), _snapshot(reference)
    assert ours["runs"] == theirs["runs"] == len(RUNS)
    assert len(ours["findings"]) == 6 and len(ours["versions"]) > len(ours["findings"])
    for name in ("findings", "versions", "audit"):
        assert ours[name] == theirs[name], name
    status = {(f["rule_code"], f["object_key"]): f["status"] for f in ours["findings"]}
    assert status[("PIPE_OCCUPY", "A")] == "in_remediation" and status[("PIPE_OCCUPY", "C")] == "resolved"
    assert status[("PIPE_OCCUPY", "D")] == "resolved" and status[("PIPE_OCCUPY", "E")] == "open"
    assert {f["detail"] for f in ours["findings"]} >= {"第一行\n第二行\t\\ 末"}


def test_a_key_given_twice_keeps_its_last_row_and_ids_follow_the_frame(engine: Engine) -> None:
    _bulk_save(engine, findings_frame([_f("PIPE_OCCUPY", "Z"), _f("PIPE_OCCUPY", "Y", measured=1.0),
                                       _f("PIPE_OCCUPY", "Y", measured=2.0)]), ["PIPE_OCCUPY"], None)
    stored = store.read_findings(engine)
    assert list(stored["object_key"]) == ["Z", "Y"] and list(stored["measured_m"]) == [3.0, 2.0]


def test_a_failed_write_leaves_nothing(engine: Engine) -> None:
    _bulk_save(engine, findings_frame([_f("PIPE_OCCUPY", "A")]), ["PIPE_OCCUPY"], None)
    before = _snapshot(engine)
    bad = findings_frame([_f("PIPE_OCCUPY", "B"), _f("PIPE_OCCUPY", "C", adcode="999999")])  # no such district
    with pytest.raises(IntegrityError, match="fk_check_findings_adcode_districts"):
        _bulk_save(engine, bad, ["PIPE_OCCUPY"], None)
    assert _snapshot(engine) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM check_runs")).scalar_one() == 1


def test_unknown_columns_are_refused_by_name(engine: Engine) -> None:
    frame = findings_frame([_f("PIPE_OCCUPY", "A")])
    frame["pairs"] = 1
    with pytest.raises(ValueError, match="pairs"):
        _bulk_save(engine, frame, ["PIPE_OCCUPY"], None)
