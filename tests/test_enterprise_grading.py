"""Enterprise grading (分级分类监管): demo inputs against plain SQL, rubric edits, refused rubrics."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from sqlalchemy import text

from geo import store
from geo.checks.bundle import Bundle
from geo.checks.sources import bundle_from_store
from layers.grading import (
    GRADING_RUBRIC_PATH,
    GradingRubricError,
    explain_grade,
    grade_enterprises,
    load_grading_rubric,
    parse_grading_rubric,
)

pytestmark = pytest.mark.postgis
AS_OF = dt.date(2026, 12, 6)
#: The demo's bundle, its stored findings and the SQL counts per enterprise.
Demo = tuple[Bundle, pd.DataFrame, pd.DataFrame]

#: Per enterprise, counted straight from the tables: the hazard's owner by credit code, else by its
#: risk point's credit code, else by a unique enterprise name; violations on the enterprise or its plant parts.
_SQL = """
WITH owned AS (
  SELECT h.status, h.severity, h.deadline,
         COALESCE(e1.key, e2.key, CASE WHEN h.credit_code IS NULL AND r.credit_code IS NULL THEN e3.key END) AS ekey
  FROM hidden_hazards h
  LEFT JOIN enterprises e1 ON e1.credit_code = h.credit_code
  LEFT JOIN risk_points r ON h.credit_code IS NULL AND r.code = h.risk_point_code
  LEFT JOIN enterprises e2 ON e2.credit_code = r.credit_code
  LEFT JOIN enterprises e3 ON e3.name = h.enterprise_name
       AND (SELECT count(*) FROM enterprises x WHERE x.name = h.enterprise_name) = 1
), hz AS (
  SELECT ekey,
         count(*) FILTER (WHERE status IN ('open', 'rectifying') AND severity = 'major') AS open_major,
         count(*) FILTER (WHERE deadline < :as_of AND status NOT IN ('closed', 'withdrawn')) AS overdue,
         count(*) FILTER (WHERE status <> 'withdrawn') AS total,
         count(*) FILTER (WHERE status IN ('rectified', 'closed')) AS done
  FROM owned WHERE ekey IS NOT NULL GROUP BY ekey
), vio AS (
  SELECT COALESCE(e.key, f.subject_key) AS ekey, count(*) AS n
  FROM check_findings f
  LEFT JOIN installations i ON f.subject_type = 'installations' AND i.key = f.subject_key
  LEFT JOIN enterprises e ON e.credit_code = i.enterprise_credit_code
  WHERE f.verdict = 'violation' AND f.status IN ('open', 'in_remediation')
    AND (f.subject_type = 'enterprises' OR e.key IS NOT NULL)
  GROUP BY 1
)
SELECT e.key, e.risk_level, e.mhs_grade, COALESCE(hz.open_major, 0) AS open_major_hazards,
       COALESCE(hz.overdue, 0) AS overdue_hazards, COALESCE(hz.total, 0) AS hazards_total,
       COALESCE(hz.done, 0) AS hazards_done, COALESCE(vio.n, 0) AS open_violations
FROM enterprises e LEFT JOIN hz ON hz.ekey = e.key LEFT JOIN vio ON vio.ekey = e.key
ORDER BY e.key
"""


@pytest.fixture(scope="module")
def demo(demo_db: str) -> Demo:
    """The demo's bundle and findings, and the independent per-enterprise counts in SQL."""
    engine = store.make_engine(demo_db)
    try:
        with engine.connect() as conn:
            expected = pd.read_sql(text(_SQL), conn, params={"as_of": AS_OF}).set_index("key")
        return bundle_from_store(engine), store.read_findings(engine), expected
    finally:
        engine.dispose()


def _raw() -> dict[str, Any]:
    return yaml.safe_load(GRADING_RUBRIC_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "grading.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_inputs_match_plain_sql_counts_for_every_demo_enterprise(demo: Demo) -> None:
    bundle, findings, expected = demo
    graded = grade_enterprises(bundle, findings, AS_OF, load_grading_rubric()).set_index("key")
    assert sorted(graded.index) == sorted(expected.index) and len(graded) == 61
    for col in ("open_major_hazards", "overdue_hazards", "hazards_total", "hazards_done", "open_violations"):
        assert graded[col].astype(int).to_dict() == expected[col].astype(int).to_dict(), col
    assert graded["risk_level"].to_dict() == expected["risk_level"].to_dict()
    assert graded["mhs_grade"].astype("Int64").to_dict() == expected["mhs_grade"].astype("Int64").to_dict()
    rated = expected[expected["hazards_total"] > 0]
    assert (graded.loc[rated.index, "rectification_rate"]
            == (rated["hazards_done"] / rated["hazards_total"]).round(4)).all()
    assert graded.loc[expected["hazards_total"] == 0, "rectification_rate"].isna().all()
    # the demo exercises every link: hazards, violations on enterprises and on plant parts
    assert (expected["open_major_hazards"] > 0).sum() >= 10 and (expected["open_violations"] > 0).sum() >= 10


def test_a_few_enterprises_by_hand(demo: Demo) -> None:
    """Three enterprises checked field by field against the published rubric's arithmetic."""
    bundle, findings, expected = demo
    rubric = load_grading_rubric()
    graded = grade_enterprises(bundle, findings, AS_OF, rubric).set_index("key")
    worst = expected.sort_values(["open_major_hazards", "open_violations"], ascending=False).index[0]
    quiet = expected[(expected["hazards_total"] == 0) & (expected["open_violations"] == 0)
                     & (expected["risk_level"] == "low") & expected["mhs_grade"].isna()].index[0]
    for key in (worst, quiet):
        e, g = expected.loc[key], graded.loc[key]
        risk = {"major": 35, "significant": 20, "general": 8, "low": 0}[e["risk_level"]]
        mhs = 0 if pd.isna(e["mhs_grade"]) else {1: 20, 2: 15, 3: 10, 4: 5}[int(e["mhs_grade"])]
        rate = 10 * (1 - e["hazards_done"] / e["hazards_total"]) if e["hazards_total"] else 0
        total = (risk + mhs + min(15 * e["open_major_hazards"], 30) + min(8 * e["overdue_hazards"], 24) + rate
                 + min(6 * e["open_violations"], 18))
        assert g["total"] == pytest.approx(total, abs=0.01)
        lines = {"A": 0, "B": 15, "C": 35, "D": 60}
        by_points = max((c for c in lines if total >= lines[c]), key=lines.__getitem__)
        assert g["points_grade"] == by_points
        assert g["inspections_per_year"] == {"A": 1, "B": 2, "C": 4, "D": 12}[g["grade"]]
    assert graded.loc[quiet, "grade"] == "A" and graded.loc[quiet, "explanation"] == "A级（0分）：无计分项"
    assert graded.loc[worst, "grade"] == "D" and "未整改重大隐患" in graded.loc[worst, "explanation"]
    # output order: worst grade first
    ranks = graded["grade"].map("ABCD".index).tolist()
    assert ranks == sorted(ranks, reverse=True)


def test_totals_grades_and_frequencies_are_consistent(demo: Demo) -> None:
    bundle, findings, _ = demo
    rubric = load_grading_rubric()
    graded = grade_enterprises(bundle, findings, AS_OF, rubric)
    points = graded[[f"points_{c}" for c in rubric.codes]]
    assert (points.sum(axis=1).round(2) == graded["total"]).all()
    assert (graded["points_grade"] == graded["total"].map(rubric.grade_of)).all()
    assert set(graded["grade"]) <= {"A", "B", "C", "D"} and len(set(graded["grade"])) >= 3
    for row in graded.to_dict("records"):
        grade = str(row["grade"])
        assert row["frequency"] == rubric.grade(grade).frequency_zh
        assert str(row["explanation"]).startswith(f"{grade}级（")
        assert "ABCD".index(grade) >= "ABCD".index(str(row["points_grade"]))


def test_rubric_edits_change_grades(demo: Demo, tmp_path: Path) -> None:
    bundle, findings, expected = demo
    base = grade_enterprises(bundle, findings, AS_OF, load_grading_rubric()).set_index("key").sort_index()
    # violations weigh nothing: each total drops by exactly its violation points
    data = _raw()
    vio = next(i for i in data["inputs"] if i["code"] == "open_violations")
    vio["per_item"] = 0
    edited = grade_enterprises(bundle, findings, AS_OF, load_grading_rubric(_write(tmp_path, data)))
    edited = edited.set_index("key").sort_index()
    assert (edited["points_open_violations"] == 0).all()
    assert ((base["total"] - edited["total"]).round(2) == base["points_open_violations"]).all()
    assert (edited["grade"].map("ABCD".index) <= base["grade"].map("ABCD".index)).all()
    assert (edited["grade"] != base["grade"]).any()
    # D only from 1000 points: nobody is D any more
    data = _raw()
    data["grades"][3]["min_points"] = 1000
    edited = grade_enterprises(bundle, findings, AS_OF, load_grading_rubric(_write(tmp_path, data)))
    assert "D" not in set(edited["grade"]) and (base["grade"] == "D").any()
    # everything scores nothing but the floors: major-risk enterprises are C, the overdue ones B, the rest A
    data = _raw()
    for item in data["inputs"]:
        for k in ("per_item", "max_points"):
            if k in item:
                item[k] = 0
        if "points" in item:
            item["points"] = dict.fromkeys(item["points"], 0)
    edited = grade_enterprises(bundle, findings, AS_OF, load_grading_rubric(_write(tmp_path, data))).set_index("key")
    want = pd.Series("A", index=expected.index)
    want[expected["overdue_hazards"] > 0] = "B"
    want[expected["risk_level"] == "major"] = "C"
    assert edited["grade"].to_dict() == want.to_dict()
    major = expected.index[expected["risk_level"] == "major"][0]
    assert edited.loc[major, "floor"] == "重大风险企业至少为C级"
    assert edited.loc[major, "explanation"] == "C级（0分）：无计分项；重大风险企业至少为C级"
    assert "按分数为A级" in explain_grade(edited.loc[major], load_grading_rubric(_write(tmp_path, data)))


def test_overdue_depends_on_the_day(demo: Demo) -> None:
    bundle, findings, _ = demo
    early = grade_enterprises(bundle, findings, dt.date(2000, 1, 1), load_grading_rubric())
    assert (early["overdue_hazards"] == 0).all()


def test_explain_grade_lists_every_input_in_both_languages(demo: Demo) -> None:
    bundle, findings, _ = demo
    rubric = load_grading_rubric()
    row = grade_enterprises(bundle, findings, AS_OF, rubric).iloc[0]
    zh = explain_grade(row, rubric).splitlines()
    assert zh[0] == f"{row['name']}：{rubric.grade(row['grade']).zh}（{row['total']:g}分）"
    for item in rubric.inputs:
        assert any(line.startswith(f"· {item.zh}：") for line in zh), item.code
    assert zh[-2] == f"检查频次：{rubric.grade(row['grade']).frequency_zh}"
    en = explain_grade(row, rubric, "en")
    assert f"grade {row['grade']}" in en and "Open violations:" in en and "Inspections:" in en


_BAD: list[tuple[str, Any, str]] = [
    ("unknown input", lambda d: d["inputs"][0].update(code="accidents"), "input 'accidents': unknown input"),
    ("negative points", lambda d: d["inputs"][2].update(per_item=-1), "input 'open_major_hazards' per_item"),
    ("missing cap key", lambda d: d["inputs"][4].pop("max_points"),
     "input 'rectification_rate': missing 'max_points'"),
    ("wrong kind", lambda d: d["inputs"][0].update(kind="count"), "input 'risk_level': kind 'count' must be"),
    ("repeated input", lambda d: d["inputs"].append(copy.deepcopy(d["inputs"][0])), "inputs repeat: risk_level"),
    ("lines out of order", lambda d: d["grades"][2].update(min_points=10), "min_points must rise strictly"),
    ("best not at 0", lambda d: d["grades"][0].update(min_points=5), "must start at min_points 0"),
    ("worse inspected less", lambda d: d["grades"][3].update(inspections_per_year=2),
     "grade 'D' inspections_per_year"),
    ("floor grade", lambda d: d["floors"][0].update(grade="E"), "floors[0] grade: 'E' is not a grade"),
    ("floor input", lambda d: d["floors"][1].update(input="accidents"), "floors[1] input: 'accidents'"),
    ("no source", lambda d: d.pop("source"), "missing 'source'"),
    ("grade without frequency", lambda d: d["grades"][1].pop("frequency_zh"), "grade 'B': missing 'frequency_zh'"),
]


@pytest.mark.parametrize(("label", "edit", "message"), _BAD, ids=[b[0] for b in _BAD])
def test_bad_rubric_is_refused_naming_the_field(tmp_path: Path, label: str, edit: Any, message: str) -> None:
    data = _raw()
    edit(data)
    path = _write(tmp_path, data)
    with pytest.raises(GradingRubricError) as err:
        load_grading_rubric(path)
    assert message in str(err.value) and str(path) in str(err.value), label


def test_unreadable_rubric_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs: [unclosed\n", encoding="utf-8")
    with pytest.raises(GradingRubricError, match="not valid YAML"):
        load_grading_rubric(bad)
    with pytest.raises(GradingRubricError, match="cannot read grading rubric"):
        load_grading_rubric(tmp_path / "missing.yaml")
    with pytest.raises(GradingRubricError, match="expected a mapping"):
        parse_grading_rubric(["not", "a", "mapping"])


def test_published_rubric_states_its_source_and_marks_its_own_values() -> None:
    rubric = load_grading_rubric()
    assert "项目自定" in rubric.source and rubric.method_zh and rubric.method_en
    assert [g.code for g in rubric.grades] == ["A", "B", "C", "D"]
    assert "项目自定" in GRADING_RUBRIC_PATH.read_text(encoding="utf-8").split("version:")[0]
