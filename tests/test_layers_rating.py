"""Tests of the 五色 district rating (``layers/rating.py``, rubric ``layers/rubric.yaml``).

Scores of the hand-made tables are computed by hand in the comments and pinned to 1e-9.
Geometries of the in-code bundle are built in metres in the CGCS2000 Gauss-Krüger zone of
CM 102°E (EPSG:4543, Kunming) and stored in EPSG:4490, like the store does.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from geo.checks.bundle import Bundle
from geo.checks.findings import finding, findings_frame
from geo.checks.ruleset import load_ruleset
from layers.palette import FIVE_COLOUR, DistrictClass
from layers.rating import (
    INDICATOR_CODES,
    RubricError,
    classify_score,
    close_hazard,
    district_indicators,
    explain,
    explain_text,
    load_rubric,
    method_note,
    rate_districts,
    what_if,
)
from tests.catalogue import KUNMING_GK as EPSG
from tests.catalogue import layer

AS_OF = dt.date(2026, 11, 1)
TINY_RUBRIC = """
version: "test-1"
source: "test rubric"
data_date_note: "hand-made"
method_zh: "测试"
method_en: "test"
indicators:
  - {code: open_major_hazards, zh: 未整改重大隐患, en: Open major hazards, unit: 项, weight: 0.5,
     direction: higher_is_worse, normalisation: {method: minmax_city}}
  - {code: major_per_100km2, zh: 重大风险源密度, en: Density, unit: 个/100km², weight: 0.3,
     direction: higher_is_worse, normalisation: {method: cap, cap: 10}}
  - {code: rectification_rate, zh: 隐患整改率, en: Rectification rate, unit: "0–1", weight: 0.2,
     direction: higher_is_better, normalisation: {method: minmax_city}}
classes:
  - {code: c1, min_score: 60}
  - {code: c2, min_score: 45}
  - {code: c3, min_score: 30}
  - {code: c4, min_score: 15}
  - {code: c5, min_score: 0}
"""


# ---------------------------------------------------------------------------
# hand-made indicator table and rubric
# ---------------------------------------------------------------------------

@pytest.fixture
def rubric_file(tmp_path: Path) -> Path:
    path = tmp_path / "rubric.yaml"
    path.write_text(TINY_RUBRIC, encoding="utf-8")
    return path


@pytest.fixture
def tiny(rubric_file: Path) -> Any:
    return load_rubric(rubric_file)


@pytest.fixture
def table() -> pd.DataFrame:
    # open_major_hazards: minmax over {4, 2, 0} → A 1, B 0.5, C 0
    # major_per_100km2:   cap 10 → A 5/10 = 0.5, B 12/10 clipped to 1, C 0
    # rectification_rate: higher is better, minmax over {0.5, 1.0, 0.75} → (1.0 − v) / 0.5 → A 1, B 0, C 0.5
    return pd.DataFrame(
        {"name": ["甲区", "乙区", "丙区"], "open_major_hazards": [4, 2, 0], "major_per_100km2": [5.0, 12.0, 0.0],
         "rectification_rate": [0.5, 1.0, 0.75]},
        index=pd.Index(["A", "B", "C"], name="adcode"))


def test_hand_computed_scores_and_classes(table: pd.DataFrame, tiny: Any) -> None:
    r = rate_districts(table, tiny)
    # contributions = weight × normalised × 100
    # A: 0.5·1·100 = 50  + 0.3·0.5·100 = 15 + 0.2·1·100 = 20  → 85   (≥ 60: c1)
    # B: 0.5·0.5·100 = 25 + 0.3·1·100 = 30  + 0.2·0·100 = 0   → 55   (≥ 45: c2)
    # C: 0               + 0               + 0.2·0.5·100 = 10 → 10   (< 15: c5)
    assert r.loc["A", "contrib_open_major_hazards"] == pytest.approx(50.0, abs=1e-9)
    assert r.loc["A", "contrib_major_per_100km2"] == pytest.approx(15.0, abs=1e-9)
    assert r.loc["A", "contrib_rectification_rate"] == pytest.approx(20.0, abs=1e-9)
    assert r.loc["B", "norm_major_per_100km2"] == pytest.approx(1.0, abs=1e-9)
    assert r.loc["C", "norm_rectification_rate"] == pytest.approx(0.5, abs=1e-9)
    assert r["score"].to_list() == pytest.approx([85.0, 55.0, 10.0], abs=1e-9)
    assert r["class_code"].to_list() == ["c1", "c2", "c5"]
    assert r["rank"].to_list() == [1, 2, 3]
    assert r.loc["B", "class_zh"] == FIVE_COLOUR[DistrictClass.C2].zh
    assert r.loc["B", "class_en"] == FIVE_COLOUR[DistrictClass.C2].en
    assert r["colour"].to_list() == [FIVE_COLOUR[DistrictClass(c)].hex for c in ("c1", "c2", "c5")]
    assert r.loc["A", "raw_open_major_hazards"] == 4
    assert r["name"].to_list() == ["甲区", "乙区", "丙区"]


def test_contributions_add_up_to_the_score(table: pd.DataFrame, tiny: Any) -> None:
    r = rate_districts(table, tiny)
    contrib = r[[f"contrib_{c}" for c in tiny.codes]].sum(axis=1)
    assert (contrib - r["score"]).abs().max() == pytest.approx(0.0, abs=1e-9)
    assert r["score"].between(0, 100).all()


@pytest.mark.parametrize(("score", "expected"), [
    (100.0, "c1"), (60.0, "c1"), (60.0 - 1e-12, "c1"), (59.999, "c2"), (45.0, "c2"), (44.99, "c3"),
    (30.0, "c3"), (29.99, "c4"), (15.0, "c4"), (14.99, "c5"), (0.0, "c5"),
])
def test_class_thresholds_at_and_around_boundaries(tiny: Any, score: float, expected: str) -> None:
    assert classify_score(score, tiny) == expected


def test_a_score_exactly_on_a_threshold_takes_the_worse_class(tiny: Any) -> None:
    # A is the only district with open major hazards (50) and has 10/100 km² (cap: 0.3·1·100 = 30):
    # 50 + 30 + 0 (equal rates: max == min → 0) = 80; B: 0 + 0.3·(5/10)·100 = 15 → exactly c4.
    ind = pd.DataFrame({"open_major_hazards": [1.0, 0.0], "major_per_100km2": [10.0, 5.0],
                        "rectification_rate": [1.0, 1.0]}, index=["A", "B"])
    r = rate_districts(ind, tiny)
    assert r["score"].to_list() == pytest.approx([80.0, 15.0], abs=1e-9)
    assert r["class_code"].to_list() == ["c1", "c4"]
    assert r["norm_rectification_rate"].to_list() == [0.0, 0.0]


def test_higher_is_better_and_cap_normalisation(tmp_path: Path) -> None:
    text = TINY_RUBRIC.replace("{method: minmax_city}}\nclasses", "{method: cap, cap: 1}}\nclasses")
    path = tmp_path / "cap.yaml"
    path.write_text(text, encoding="utf-8")
    rubric = load_rubric(path)
    assert rubric.indicator("rectification_rate").method == "cap"
    ind = pd.DataFrame({"open_major_hazards": [0, 0, 0], "major_per_100km2": [-2.0, 2.5, 30.0],
                        "rectification_rate": [0.25, 1.0, 1.4]}, index=["A", "B", "C"])
    r = rate_districts(ind, rubric)
    # density cap 10: −2 → clipped 0; 2.5 → 0.25; 30 → 1
    assert r["norm_major_per_100km2"].to_list() == pytest.approx([0.0, 0.25, 1.0], abs=1e-9)
    # rate cap 1, higher is better: 1 − min(v, 1) → 0.75, 0, 0
    assert r["norm_rectification_rate"].to_list() == pytest.approx([0.75, 0.0, 0.0], abs=1e-9)
    # hazards all 0 → 0. Scores: A 0 + 0 + 0.2·0.75·100 = 15; B 0.3·0.25·100 = 7.5; C 30
    assert r["score"].to_list() == pytest.approx([15.0, 7.5, 30.0], abs=1e-9)
    assert r["class_code"].to_list() == ["c4", "c5", "c3"]


def test_what_if_closing_a_hazard(table: pd.DataFrame, tiny: Any) -> None:
    before = table.copy(deep=True)
    changes = close_hazard(table, "B")
    assert changes == {"B": {"open_major_hazards": 1.0}}
    r = what_if(table, changes, tiny)
    # B: hazards 2 → 1, minmax over {4, 1, 0} → 0.25 → 0.5·0.25·100 = 12.5 (was 25)
    # score 12.5 + 30 + 0 = 42.5 (was 55): −12.5, class c2 → c3. A and C keep theirs (min 0 and max 4 unchanged).
    assert r.loc["B", "score"] == pytest.approx(42.5, abs=1e-9)
    assert r.loc["B", "score_delta"] == pytest.approx(-12.5, abs=1e-9)
    assert r.loc["B", "old_score"] == pytest.approx(55.0, abs=1e-9)
    assert (r.loc["B", "old_class_code"], r.loc["B", "class_code"]) == ("c2", "c3")
    assert r["score"].to_list() == pytest.approx([85.0, 42.5, 10.0], abs=1e-9)
    assert r["changed"].to_list() == [False, True, False]
    pd.testing.assert_frame_equal(table, before)


def test_what_if_rerates_every_district(table: pd.DataFrame, tiny: Any) -> None:
    # A's hazards 4 → 3: A stays the max (50), but B's normalised value rises to 2/3:
    # B = 0.5·(2/3)·100 + 30 = 63.333… → c1, although B did nothing.
    r = what_if(table, {"A": {"open_major_hazards": 3}}, tiny)
    assert r.loc["A", "score"] == pytest.approx(85.0, abs=1e-9)
    assert r.loc["B", "score"] == pytest.approx(30.0 + 100.0 / 3.0, abs=1e-9)
    assert r.loc["B", "class_code"] == "c1"
    assert not r.loc["B", "changed"]


def test_what_if_rejects_unknown_district_or_column(table: pd.DataFrame, tiny: Any) -> None:
    with pytest.raises(ValueError, match="district 'Z'"):
        what_if(table, {"Z": {"open_major_hazards": 1}}, tiny)
    with pytest.raises(ValueError, match="'nope' is not an indicator column"):
        what_if(table, {"A": {"nope": 1}}, tiny)
    with pytest.raises(ValueError, match="cannot close 3"):
        close_hazard(table, "B", 3)


def test_close_hazard_updates_rate_and_overdue() -> None:
    ind = pd.DataFrame({"open_major_hazards": [2.0], "overdue_hazards": [1.0], "rectification_rate": [0.5],
                        "hazards_total": [4.0]}, index=["A"])
    # one of four hazards more is closed: 0.5 + 1/4 = 0.75
    assert close_hazard(ind, "A", 1, overdue=1) == {
        "A": {"open_major_hazards": 1.0, "overdue_hazards": 0.0, "rectification_rate": 0.75}}


def test_explain_sorted_with_shares(table: pd.DataFrame, tiny: Any) -> None:
    r = rate_districts(table, tiny)
    e = explain(r, "A", tiny)
    # A: 50 (hazards), 20 (rate), 15 (density) of 85
    assert e["code"].to_list() == ["open_major_hazards", "rectification_rate", "major_per_100km2"]
    assert e["contribution"].to_list() == pytest.approx([50.0, 20.0, 15.0], abs=1e-9)
    assert e["share"].to_list() == pytest.approx([50 / 85, 20 / 85, 15 / 85], abs=1e-9)
    assert e["share"].sum() == pytest.approx(1.0, abs=1e-9)
    assert e.loc[0, "raw"] == 4 and e.loc[0, "weight"] == 0.5 and e.loc[0, "indicator"] == "未整改重大隐患"
    assert explain(r, "A", tiny, lang="en").loc[0, "indicator"] == "Open major hazards"
    with pytest.raises(ValueError, match="not in the ratings"):
        explain(r, "Z", tiny)


def test_explain_text_names_drivers_and_distance(table: pd.DataFrame, tiny: Any) -> None:
    r = rate_districts(table, tiny)
    text = explain_text(r, "B", tiny)
    # B: 55 → c2 (较高风险); drivers density 30 (55%), hazards 25 (45%); must fall below 45, i.e. by more than 10
    assert text.startswith("乙区得分 55.0，评为“较高风险”。")  # written for a leader: no codes
    assert "重大风险源密度 12个/100km²(贡献 30.0 分，占 55%)、未整改重大隐患 2项(贡献 25.0 分，占 45%)。" in text
    assert "隐患整改率" not in text  # contributes nothing
    assert text.endswith("得分需降至 45 分以下(降低超过 10.0 分)方可降为“中等风险”。")
    assert not re.search(r"\bc[1-5]\b|\(B\)", text + explain_text(r, "B", tiny, lang="en"))
    assert explain_text(r, "C", tiny).endswith("已处于最低风险等级。")
    assert "Main drivers: Open major hazards 4" in explain_text(r, "A", tiny, lang="en")


def test_rate_districts_rejects_bad_tables(table: pd.DataFrame, tiny: Any) -> None:
    with pytest.raises(ValueError, match="lacks rubric indicators: rectification_rate"):
        rate_districts(table.drop(columns="rectification_rate"), tiny)
    holes = table.astype({"major_per_100km2": float})
    holes.loc["C", "major_per_100km2"] = float("nan")
    with pytest.raises(ValueError, match="no value for district"):
        rate_districts(holes, tiny)


# ---------------------------------------------------------------------------
# rubric validation
# ---------------------------------------------------------------------------

def test_published_rubric() -> None:
    r = load_rubric()
    assert "§8.2" in r.source and "项目自定" in r.source
    assert r.method_zh and r.method_en and r.data_date_note
    # the method note on the pages is written for a leader: no developer text, Chinese and English
    for lang in ("zh", "en"):
        note = method_note(r, lang)
        for token in ("standards.md", "§", "minmax", "origin=", "(c1)", "c1", "cap:", "_"):
            assert token not in note, (lang, token)
        assert str(r.classes[0].min_score).rstrip("0").rstrip(".") in note
    assert "高风险" in method_note(r, "zh") and "重大风险源 12%" in method_note(r, "zh")
    assert "Major risk sources 12%" in method_note(r, "en")
    assert sum(i.weight for i in r.indicators) == pytest.approx(1.0, abs=1e-9)
    assert set(r.codes) == set(INDICATOR_CODES)
    assert [c.code for c in r.classes] == ["c1", "c2", "c3", "c4", "c5"]
    assert [c.min_score for c in r.classes] == [60, 45, 30, 15, 0]
    assert r.parameter("persons_per_household") == 3.0
    assert r.parameter("contour_min_individual_risk") == 1e-6
    assert r.indicator("rectification_rate").direction == "higher_is_better"


@pytest.mark.parametrize(("old", "new", "message"), [
    ("weight: 0.2,", "weight: 0.25,", r"weights sum to 1\.05, not 1"),
    ("weight: 0.2,", "weight: 0.1,", r"weights sum to 0\.9, not 1"),
    ("{code: c3, min_score: 30}", "{code: c3, min_score: 50}", "strictly descending"),
    ("{code: c5, min_score: 0}", "{code: c5, min_score: 5}", "must start at 0"),
    ("{code: c2, min_score: 45}\n  - {code: c3", "{code: c3, min_score: 45}\n  - {code: c2", "worst first"),
    ("{code: c5, min_score: 0}", "{code: c9, min_score: 0}", "not a palette class"),
    ("code: major_per_100km2", "code: open_major_hazards", "codes repeat: open_major_hazards"),
    ("direction: higher_is_better", "direction: up", "direction 'up'"),
    ("{method: cap, cap: 10}", "{method: cap}", "missing 'cap'"),
    ("{method: cap, cap: 10}", "{method: zscore}", "method 'zscore'"),
    ('version: "test-1"\n', "", "missing 'version'"),
])
def test_rubric_validation_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in TINY_RUBRIC
    path = tmp_path / "bad.yaml"
    path.write_text(TINY_RUBRIC.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RubricError, match=message):
        load_rubric(path)


def test_rubric_file_errors(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match="cannot read rubric"):
        load_rubric(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed", encoding="utf-8")
    with pytest.raises(RubricError, match="not valid YAML"):
        load_rubric(bad)


def test_layers_rating_imports_no_dash() -> None:
    code = ("import sys, layers.rating; bad = [m for m in sys.modules if m.split('.')[0] in ('dash', 'plotly')];"
            "sys.exit(str(bad) if bad else 0)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


# ---------------------------------------------------------------------------
# district_indicators on a tiny bundle
# ---------------------------------------------------------------------------

def pt(x: float, y: float) -> Point:
    return Point(490000 + x, 2750000 + y)


def sq(x0: float, y0: float, x1: float, y1: float) -> Any:
    return box(490000 + x0, 2750000 + y0, 490000 + x1, 2750000 + y1)


def hline(x0: float, x1: float, y: float) -> LineString:
    return LineString([(490000 + x0, 2750000 + y), (490000 + x1, 2750000 + y)])


def tiny_layers() -> dict[str, gpd.GeoDataFrame]:
    # Two 10 km × 10 km districts side by side: A = 530181 (x 0–10 km), B = 530102 (x 10–20 km).
    a, b = "530181", "530102"
    return {
        "districts": layer([{"key": a, "adcode": a, "name": "甲区", "geometry": sq(0, 0, 10000, 10000)},
                            {"key": b, "adcode": b, "name": "乙区", "geometry": sq(10000, 0, 20000, 10000)}]),
        # A: major E1 E2, significant E3; B: major E4, low E5
        "enterprises": layer([
            {"key": "E1", "adcode": a, "risk_level": "major", "geometry": pt(1500, 1500)},
            {"key": "E2", "adcode": a, "risk_level": "major", "geometry": pt(3000, 3000)},
            {"key": "E3", "adcode": a, "risk_level": "significant", "geometry": pt(4000, 3000)},
            {"key": "E4", "adcode": b, "risk_level": "major", "geometry": pt(12000, 3000)},
            {"key": "E5", "adcode": b, "risk_level": "low", "geometry": pt(13000, 3000)},
        ]),
        # A: T1 major + danger; B: T2 significant + normal, T3 low + sick
        "tailings_dams": layer([
            {"key": "T1", "adcode": a, "risk_level": "major", "safety_degree": "danger", "geometry": pt(8000, 8000)},
            {"key": "T2", "adcode": b, "risk_level": "significant", "safety_degree": "normal",
             "geometry": pt(15000, 8000)},
            {"key": "T3", "adcode": b, "risk_level": "low", "safety_degree": "sick", "geometry": pt(16000, 8000)},
        ]),
        # A: significant R1; B: major R2, general R3
        "risk_points": layer([
            {"key": "R1", "adcode": a, "risk_level": "significant", "geometry": pt(5000, 5000)},
            {"key": "R2", "adcode": b, "risk_level": "major", "geometry": pt(15000, 5000)},
            {"key": "R3", "adcode": b, "risk_level": "general", "geometry": pt(16000, 5000)},
        ]),
        "hidden_hazards": layer([
            # A: H1 major open, overdue; H2 major rectifying, not yet due; H3 rectified but not struck off after its
            # deadline (overdue: workflows.md §2, overdue = past the deadline and not 销号); H4 closed
            {"key": "H1", "adcode": a, "severity": "major", "status": "open", "deadline": dt.date(2026, 10, 1),
             "geometry": pt(100, 100)},
            {"key": "H2", "adcode": a, "severity": "major", "status": "rectifying",
             "deadline": dt.date(2026, 12, 1), "geometry": pt(200, 100)},
            {"key": "H3", "adcode": a, "severity": "general", "status": "rectified",
             "deadline": dt.date(2026, 1, 1), "geometry": pt(300, 100)},
            {"key": "H4", "adcode": a, "severity": "major", "status": "closed", "deadline": dt.date(2026, 1, 1),
             "geometry": pt(400, 100)},
            # B: H5 due on the rating day (not overdue); H6 major open without deadline; H7 a day late
            {"key": "H5", "adcode": b, "severity": "general", "status": "open", "deadline": "2026-11-01",
             "geometry": pt(10100, 100)},
            {"key": "H6", "adcode": b, "severity": "major", "status": "open", "deadline": None,
             "geometry": pt(10200, 100)},
            {"key": "H7", "adcode": b, "severity": "general", "status": "open", "deadline": dt.date(2026, 10, 31),
             "geometry": pt(10300, 100)},
        ]),
        "hcas": layer([
            # P1 in A: grade Ⅲ 2000–3500 m (the known 1.5 km line) and a grade Ⅱ 2500–4000 m overlapping it
            {"key": "HCA-1", "adcode": a, "pipeline_key": "P1", "grade": 3, "start_m": 0, "end_m": 1500,
             "origin": "declared", "geometry": hline(2000, 3500, 5000)},
            {"key": "HCA-2", "adcode": a, "pipeline_key": "P1", "grade": 2, "start_m": 500, "end_m": 2000,
             "origin": "declared", "geometry": hline(2500, 4000, 5000)},
            # P2 crosses the boundary: grade Ⅱ 9000–11000 m, 1 km in each district
            {"key": "HCA-3", "adcode": a, "pipeline_key": "P2", "grade": 2, "start_m": 0, "end_m": 2000,
             "origin": "declared", "geometry": hline(9000, 11000, 2000)},
            # P3 in B: declared grade Ⅰ (2 km) but identified grade Ⅱ (1 km): the identified one counts
            {"key": "HCA-4", "adcode": b, "pipeline_key": "P3", "grade": 1, "start_m": 0, "end_m": 2000,
             "origin": "declared", "geometry": hline(13000, 15000, 8000)},
            {"key": "auto:P3:0-1000", "adcode": b, "pipeline_key": "P3", "grade": 2, "start_m": 0, "end_m": 1000,
             "origin": "identified", "geometry": hline(13000, 14000, 8000)},
        ]),
        "risk_contours": layer([
            {"key": "E1:1e-05", "enterprise_key": "E1", "adcode": a, "individual_risk": 1e-5,
             "geometry": sq(1000, 1000, 2000, 2000)},
            {"key": "E1:3e-07", "enterprise_key": "E1", "adcode": a, "individual_risk": 3e-7,
             "geometry": sq(500, 500, 5000, 3000)},
            {"key": "E4:1e-06", "enterprise_key": "E4", "adcode": b, "individual_risk": 1e-6,
             "geometry": sq(16000, 6000, 17000, 7000)},
        ]),
        "protection_targets": layer([
            {"key": "PT1", "adcode": a, "population": 100, "households": 30, "geometry": pt(1500, 1600)},
            {"key": "PT2", "adcode": a, "population": 50, "households": 15, "geometry": pt(4000, 2000)},
            {"key": "PT3", "adcode": b, "population": 20, "households": None, "geometry": sq(16900, 6900, 17100, 7100)},
            {"key": "PT4", "adcode": a, "population": None, "households": 2, "geometry": pt(1200, 1200)},
        ]),
        "buildings": layer([
            {"key": "B1", "adcode": a, "households": 4, "geometry": sq(1100, 1100, 1120, 1120)},
            {"key": "B2", "adcode": a, "households": 2, "geometry": sq(1990, 1500, 2010, 1520)},
            {"key": "B3", "adcode": a, "households": 10, "geometry": sq(4000, 2500, 4020, 2520)},
            {"key": "B4", "adcode": b, "households": None, "geometry": sq(16500, 6500, 16520, 6520)},
        ]),
    }


def tiny_findings() -> pd.DataFrame:
    rules = load_ruleset()
    a, b = "530181", "530102"

    def f(code: str, verdict: str, adcode: str, subject: str, obj: str) -> dict[str, Any]:
        return finding(rules[code], subject_type="x", subject_key=subject, subject_name=None, object_type="y",
                       object_key=obj, object_name=None, measured_m=1.0, required_m=2.0, verdict=verdict,
                       adcode=adcode, geometry=pt(0, 0))

    frame = findings_frame([
        f("ESD_IR", "violation", a, "E1", "PT1"),            # open → counts
        f("ESD_DECLARED", "violation", a, "E2", "PT2"),      # in_remediation → counts
        f("ESD_DECLARED", "violation", a, "E1", "PT2"),      # accepted → not open
        f("PIPE_OCCUPY", "violation", b, "P2", "B9"),        # closed → not open
        f("PIPE_PERMIT_50", "permit", b, "P2", "B8"),        # not a violation
        f("PIPE_OCCUPY", "violation", b, "P2", "B7"),        # open → counts
        f("TAIL_OVERHEAD", "screen", b, "T1", "PT3"),        # T1 (in A) reaches into B
        f("TAIL_OVERHEAD", "screen", b, "T1", "B4"),         # same pond again
        f("TAIL_OVERHEAD", "screen", b, "T3", "PT3"),        # resolved → gone
    ])
    frame["status"] = ["open", "in_remediation", "accepted", "closed", "open", "open", "open", "open", "resolved"]
    return frame


def test_district_indicators_on_a_tiny_bundle() -> None:
    bundle = Bundle(tiny_layers())
    assert bundle.metric_epsg == EPSG
    ind = district_indicators(bundle, tiny_findings(), as_of=AS_OF)
    assert ind.index.to_list() == ["530181", "530102"]
    assert ind.index.name == "adcode"
    assert ind["name"].to_list() == ["甲区", "乙区"]
    assert list(ind.columns[:len(INDICATOR_CODES) + 1]) == ["name", *INDICATOR_CODES]
    a, b = ind.loc["530181"], ind.loc["530102"]
    # risk sources as layers.measures counts them (HCA segments included, Ⅲ→重大, Ⅱ→较大; per pipeline and
    # district the identified segments replace the declared ones):
    # 重大: A = E1 E2 T1 HCA-1 = 4, B = E4 R2 = 2; 较大: A = E3 R1 HCA-2 HCA-3 = 4, B = T2 auto:P3 = 2
    assert (a["major_risks"], b["major_risks"]) == (4, 2)
    assert (a["significant_risks"], b["significant_risks"]) == (4, 2)
    # 100 km² each
    assert a["area_km2"] == pytest.approx(100.0, rel=1e-9)
    assert (a["major_per_100km2"], b["major_per_100km2"]) == (pytest.approx(4.0, rel=1e-9), pytest.approx(2.0))
    # hazards: A open major H1 H2, overdue H1 H3, rate 2/4; B open major H6, overdue H7 only, rate 0/3
    assert (a["open_major_hazards"], b["open_major_hazards"]) == (2, 1)
    assert (a["overdue_hazards"], b["overdue_hazards"]) == (2, 1)
    assert (a["rectification_rate"], b["rectification_rate"]) == (0.5, 0.0)
    assert (a["hazards_total"], b["hazards_total"]) == (4, 3)
    # findings: violations open or in remediation A 2, B 1; overhead ponds: T1 once, in its own district A
    assert (a["open_violations"], b["open_violations"]) == (2, 1)
    assert (a["overhead_tailings"], b["overhead_tailings"]) == (1, 0)
    assert (a["dangerous_tailings"], b["dangerous_tailings"]) == (1, 1)
    # HCA: A Ⅲ = the 1.5 km line; A Ⅱ = the non-overlapping 0.5 km of HCA-2 less the 0.5 m overlap tolerance
    # (0.4995 km) + 1 km of P2; B Ⅱ = 1 km of P2 + 1 km identified on P3 (its declared Ⅰ is replaced)
    assert a["hca_km_grade3"] == pytest.approx(1.5, abs=1e-6)
    assert a["hca_km_grade2"] == pytest.approx(0.4995 + 1.0, abs=1e-6)
    assert b["hca_km_grade2"] == pytest.approx(2.0, abs=1e-6)
    assert (a["hca_km_grade1"], b["hca_km_grade1"], b["hca_km_grade3"]) == (0, 0, 0)
    # population: contour ≥ 1e-6 of E1 (1e-5) holds PT1 (100), PT4 (no population: 0), B1 (4 hh) and B2
    # (2 hh, on its edge) → 100 + (4 + 2) × 3 = 118; PT2 and B3 lie only in the 3e-7 contour.
    # B: contour exactly 1e-6 touches PT3 (20); B4 has no households → 20.
    assert a["population_in_contours"] == pytest.approx(118.0)
    assert b["population_in_contours"] == pytest.approx(20.0)


def test_identified_segments_of_a_run_replace_declared_ones() -> None:
    bundle = Bundle(tiny_layers())
    segments = layer([{"pipeline_key": "P1", "grade": 3, "start_m": 0, "end_m": 800, "adcode": "530181",
                       "geometry": hline(2000, 2800, 5000)}])
    ind = district_indicators(bundle, tiny_findings(), as_of=AS_OF, hca_segments=segments)
    # P1 now only has its identified 0.8 km of grade Ⅲ; A's grade Ⅱ is P2's 1 km
    assert ind.loc["530181", "hca_km_grade3"] == pytest.approx(0.8, abs=1e-6)
    assert ind.loc["530181", "hca_km_grade2"] == pytest.approx(1.0, abs=1e-6)


def test_district_indicators_without_findings_or_features() -> None:
    layers = tiny_layers()
    bundle = Bundle({"districts": layers["districts"]})
    ind = district_indicators(bundle, None, as_of=AS_OF)
    assert len(ind) == 2
    assert (ind[[c for c in INDICATOR_CODES if c != "rectification_rate"]] == 0).all().all()
    assert (ind["rectification_rate"] == 1.0).all()  # nothing to rectify
    # without a status column (a fresh run) findings count as open
    found = tiny_findings().drop(columns="status")
    assert district_indicators(Bundle(layers), found, as_of=AS_OF)["open_violations"].to_list() == [3, 2]
    with pytest.raises(ValueError, match="no districts"):
        district_indicators(Bundle({}), None, as_of=AS_OF)


def test_tiny_bundle_rates_with_the_published_rubric() -> None:
    rubric = load_rubric()
    ind = district_indicators(Bundle(tiny_layers()), tiny_findings(), as_of=AS_OF)
    r = rate_districts(ind, rubric)
    contrib = r[[f"contrib_{c}" for c in rubric.codes]].sum(axis=1)
    assert (contrib - r["score"]).abs().max() < 1e-9
    assert r.loc["530181", "score"] > r.loc["530102", "score"]
    assert explain_text(r, "530181", rubric).startswith("甲区得分")


# ---------------------------------------------------------------------------
# demo database
# ---------------------------------------------------------------------------

@pytest.mark.postgis
def test_demo_rating(demo_bundle: Bundle) -> None:
    from geo.checks.runner import run_checks

    bundle = demo_bundle
    as_of = dt.date(2026, 11, 1)
    result = run_checks(bundle, as_of=as_of)
    findings = result.findings.copy()
    findings["status"] = "open"
    rubric = load_rubric()
    ind = district_indicators(bundle, findings, as_of=as_of, hca_segments=result.hca_segments)
    ratings = rate_districts(ind, rubric)
    assert len(ratings) == 14
    assert ratings["score"].between(0, 100).all()
    assert ratings["class_code"].nunique() >= 3
    contrib = ratings[[f"contrib_{c}" for c in rubric.codes]].sum(axis=1)
    assert (contrib - ratings["score"]).abs().max() < 1e-9
    assert ind["major_risks"].sum() > 0 and ind["open_violations"].sum() > 0
    worst = str(ratings["score"].idxmax())
    assert str(ratings.loc[worst, "name"]) in explain_text(ratings, worst, rubric)
