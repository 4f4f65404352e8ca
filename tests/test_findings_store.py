"""Findings register: history across runs, remediation status, scoped resolution."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import text

from geo import store
from geo.checks.findings import finding, findings_frame
from geo.checks.ruleset import load_ruleset

pytestmark = pytest.mark.postgis
RULES = load_ruleset()


def _f(obj: str, adcode: str = "530181", measured: float = 3.0):
    return finding(RULES["PIPE_OCCUPY"], subject_type="pipelines", subject_key="GAS-01", subject_name="管道",
                   object_type="buildings", object_key=obj, object_name=obj, measured_m=measured,
                   required_m=5.0, verdict="violation", adcode=adcode,
                   geometry=shapely.LineString([(102.40, 24.90), (102.40001, 24.90001)]))


def _save(engine, records, scope=None):
    return store.save_check_run(engine, findings=findings_frame(records), hca_segments=None,
                                rule_set_version=RULES.version, rules_run=["PIPE_OCCUPY"],
                                scope_adcode=scope, actor="test")


def _state(engine):
    df = store.read_findings(engine)
    return {r.object_key: r for r in df.itertuples()}


def test_history_survives_reruns(engine) -> None:
    run1 = _save(engine, [_f("A"), _f("B")])
    s1 = _state(engine)
    assert {k: v.status for k, v in s1.items()} == {"A": "open", "B": "open"}
    assert s1["A"].run_id == run1 and s1["A"].clause.startswith("石油天然气管道保护法")
    store.set_finding_status(engine, int(s1["A"].id), "in_remediation", actor="planner", note="已约谈")

    run2 = _save(engine, [_f("A", measured=2.5)])
    s2 = _state(engine)
    assert s2["A"].id == s1["A"].id and s2["A"].first_found_at == s1["A"].first_found_at
    assert s2["A"].status == "in_remediation" and s2["A"].measured_m == 2.5 and s2["A"].run_id == run2
    assert s2["B"].status == "resolved" and s2["B"].resolved_at is not None  # not deleted

    _save(engine, [_f("A"), _f("B")])
    s3 = _state(engine)
    assert s3["B"].id == s1["B"].id and s3["B"].status == "open" and s3["B"].resolved_at is None
    assert len(store.read_findings(engine)) == 2
    with engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit_log ORDER BY id"))]
    assert actions.count("check_run") == 3 and "finding_status" in actions


def test_scoped_run_resolves_only_its_district(engine) -> None:
    _save(engine, [_f("A", "530181"), _f("C", "530112")])
    _save(engine, [], scope="530181")
    s = _state(engine)
    assert s["A"].status == "resolved"
    assert s["C"].status == "open"


def test_bad_status_rejected(engine) -> None:
    _save(engine, [_f("A")])
    fid = int(store.read_findings(engine).iloc[0]["id"])
    with pytest.raises(ValueError, match="status must be one of"):
        store.set_finding_status(engine, fid, "fixed", actor="x")
    with pytest.raises(ValueError, match="no finding"):
        store.set_finding_status(engine, 999999, "closed", actor="x")
