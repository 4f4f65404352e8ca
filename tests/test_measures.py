"""layers.measures on hand-built layers: merging risk points into the facilities they describe, and the counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from geo.checks.bundle import Bundle
from layers.measures import (
    LINK_RADIUS_M,
    MEASURES,
    chosen_hcas,
    counted_sources,
    district_measures,
    hazard_masks,
    is_open_finding,
    is_violation,
    measure_definition,
    measure_label,
)
from layers.rating import load_rubric
from tests.catalogue import layer

EPSG = 4543  # CGCS2000 3° Gauss-Krüger zone CM 102°E
A, B = "530181", "530102"
CREDIT = "91530181MA6K5XYW1W"
OTHER_CREDIT = "91530181MA6K5XYW2U"


def pt(x: float, y: float) -> Point:
    return Point(490000 + x, 2750000 + y)


def rp(key: str, adcode: str, category: str, level: str, where: Point, credit: str | None = None) -> dict[str, Any]:
    return {"key": key, "code": key, "name": f"风险点{key}", "adcode": adcode, "category": category,
            "risk_level": level, "credit_code": credit, "geometry": where}


def bundle() -> Bundle:
    return Bundle({
        "districts": layer([
            {"key": A, "adcode": A, "name": "甲区", "geometry": box(490000, 2750000, 500000, 2760000)},
            {"key": B, "adcode": B, "name": "乙区", "geometry": box(500000, 2750000, 510000, 2760000)}]),
        "enterprises": layer([
            {"key": "E1", "credit_code": CREDIT, "name": "甲化工", "adcode": A, "risk_level": "significant",
             "geometry": pt(1000, 1000)},
        ]),
        "tailings_dams": layer([
            {"key": "T1", "code": "T1", "name": "甲尾矿库", "adcode": A, "credit_code": OTHER_CREDIT,
             "risk_level": "major", "geometry": pt(5000, 5000)},
            {"key": "T2", "code": "T2", "name": "乙尾矿库", "adcode": B, "credit_code": None,
             "risk_level": "general", "geometry": pt(10100, 5000)},  # 100 m into B
        ]),
        "hcas": layer([
            {"key": "H1", "pipeline_key": "P1", "grade": 2, "adcode": A, "origin": "declared",
             "geometry": LineString([pt(2000, 8000), pt(4000, 8000)])},
        ]),
        "risk_points": layer([
            rp("R1", A, "hazchem", "major", pt(1000, 1000), CREDIT),          # describes E1 → E1 becomes major
            rp("R2", A, "tailings", "general", pt(5000, 5000 + LINK_RADIUS_M - 1), OTHER_CREDIT),  # T1, just inside
            rp("R3", A, "tailings", "low", pt(9950, 5000)),                    # T2 is nearer but in B: not linked
            rp("R4", A, "pipeline", "significant", pt(3000, 8010)),            # on H1
            rp("R5", A, "crowded", "low", pt(7000, 7000)),                     # describes nothing
            rp("R6", A, "tailings", "low", pt(5000, 5000 + LINK_RADIUS_M + 5)),  # beyond the radius of T1
        ]),
    })


def test_risk_points_describing_facilities_are_merged_once_at_the_higher_level() -> None:
    src = counted_sources(bundle()).set_index("source_id")
    assert sorted(src.index) == ["enterprise:E1", "hca:H1", "risk_point:R3", "risk_point:R5", "risk_point:R6",
                                 "tailings_dam:T1", "tailings_dam:T2"]
    assert src.loc["enterprise:E1", ["risk_level", "level_zh", "linked_points"]].tolist() == ["major", "重大风险", "R1"]
    assert src.loc["enterprise:E1", "colour"] == "#E60012" and "R1" in src.loc["enterprise:E1", "detail"]
    assert src.loc["tailings_dam:T1", ["risk_level", "linked_points"]].tolist() == ["major", "R2"]  # already higher
    assert src.loc["hca:H1", ["risk_level", "linked_points"]].tolist() == ["significant", "R4"]
    assert src["linked_points"].isna().sum() == 4


def test_per_district_counts() -> None:
    b = bundle()
    src = counted_sources(b)
    hz = layer([
        {"key": "Z1", "adcode": A, "severity": "major", "status": "open", "deadline": "2026-10-01",
         "geometry": pt(1, 1)},
        {"key": "Z2", "adcode": A, "severity": "major", "status": "rectified", "deadline": "2026-01-01",
         "geometry": pt(1, 1)},
        {"key": "Z3", "adcode": B, "severity": "general", "status": "rectifying", "deadline": "2026-11-01",
         "geometry": pt(1, 1)},
    ])
    b.frames["hidden_hazards"] = hz
    found = pd.DataFrame({"adcode": [A, A, A, B], "verdict": ["violation", "violation", "screen", "violation"],
                          "status": ["open", "closed", "in_remediation", "accepted"]})
    m = district_measures(b, src, found, dt.date(2026, 11, 1))
    a, bb = m.loc[A], m.loc[B]
    assert (a["major_risks"], a["significant_risks"], a["low_risks"], a["risk_sources"]) == (2, 1, 3, 6)
    assert (bb["general_risks"], bb["risk_sources"]) == (1, 1)
    assert a["risk_points"] == 6  # the 4张清单 rows, unmerged
    # Z2 is rectified but not struck off after its deadline: overdue (workflows.md §2: not 销号)
    assert (a["hazards_total"], a["open_hazards"], a["open_major_hazards"], a["overdue_hazards"],
            a["hazards_done"]) == (2, 1, 1, 2, 1)
    assert (bb["open_hazards"], bb["overdue_hazards"]) == (1, 0)  # due on the day: not overdue
    assert (a["violations"], a["open_findings"], bb["violations"], bb["open_findings"]) == (1, 2, 0, 0)


def test_findings_and_hazard_masks() -> None:
    found = pd.DataFrame({"verdict": ["violation", "violation", "permit"], "status": ["in_remediation", "resolved",
                                                                                       "open"]})
    assert is_violation(found).tolist() == [True, False, False]
    assert is_open_finding(found).tolist() == [True, False, True]
    assert is_open_finding(found.drop(columns="status")).all()  # a fresh run's findings are open
    masks = hazard_masks(pd.DataFrame({"status": ["closed"], "severity": ["major"], "deadline": ["2020-01-01"]}),
                         dt.date(2026, 1, 1))
    assert not masks["overdue"].any() and masks["done"].all()


def test_identified_segments_replace_declared_ones_per_pipeline_and_district() -> None:
    declared = layer([
        {"key": "D1", "pipeline_key": "P", "grade": 1, "adcode": A, "geometry": LineString([pt(0, 0), pt(10, 0)])},
        {"key": "D2", "pipeline_key": "P", "grade": 1, "adcode": B, "geometry": LineString([pt(0, 0), pt(10, 0)])},
    ])
    identified = layer([
        {"key": "auto:P:0-5", "pipeline_key": "P", "grade": 3, "adcode": A,
         "geometry": LineString([pt(0, 0), pt(5, 0)])},
    ])
    chosen = chosen_hcas(declared, identified)
    assert sorted(chosen["key"]) == ["D2", "auto:P:0-5"]  # B was not re-identified: its declaration stands


def test_every_measure_is_labelled_and_the_rubric_uses_the_same_names() -> None:
    for code, m in MEASURES.items():
        assert m.zh and m.en and m.definition_zh.endswith("。") and m.definition_en.endswith(".")
        assert measure_label(code, "en") == m.en and measure_definition(code) == m.definition_zh
    rubric = load_rubric()
    same = {"major_risks": "major_risks", "significant_risks": "significant_risks",
            "open_major_hazards": "open_major_hazards", "overdue_hazards": "overdue_hazards",
            "open_violations": "violations", "rectification_rate": "rectification_rate",
            "overhead_tailings": "overhead_tailings"}
    for indicator, measure in same.items():
        assert rubric.indicator(indicator).zh == measure_label(measure, "zh")
        assert rubric.indicator(indicator).en == measure_label(measure, "en")
    with pytest.raises(KeyError):
        measure_label("no_such_measure")
