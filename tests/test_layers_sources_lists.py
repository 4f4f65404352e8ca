"""Tests of layers.sources (四色图 layers) and layers.four_lists (4张清单)."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString, Point, box

from geo.checks.bundle import Bundle
from layers.four_lists import LISTS, four_lists, list_titles
from layers.palette import FOUR_COLOUR, NO_DATA, level_colour
from layers.sources import (
    HCA_GRADE_LEVEL,
    LEVEL_WEIGHT,
    density_grid,
    district_summary,
    district_summary_layer,
    hca_level,
    risk_sources,
)
from tests.catalogue import KUNMING_GK as EPSG
from tests.catalogue import X0, Y0, stored
from tests.catalogue import at as _pt
from tests.catalogue import layer as _gdf

A, B, C = "530181", "530102", "530103"  # two districts with data, one empty
AS_OF = dt.date(2026, 6, 1)
CREDIT_E1 = "91530181MA0WB1RD7R"
CREDIT_T1 = "91530113MAPADYHL5Y"


def _rp(code: str, adcode: str, level: str, category: str, where: Point, **kw: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "key": code, "code": code, "name": f"风险点{code}", "adcode": adcode, "category": category,
        "subcategory": "测试", "entity_name": f"单位{code}", "credit_code": None, "address": "测试路1号",
        "township": "测试街道", "risk_level": level, "hazard": "泄漏", "trigger": "腐蚀", "consequence": "中毒",
        "assessment_method": "LEC", "assessed_on": dt.date(2025, 5, 11), "population_exposed": 100,
        "engineering_controls": "紧急切断", "management_controls": "巡检", "monitoring": "在线监测",
        "inspection_frequency": "每日", "reviewed_on": dt.date(2026, 2, 15), "residual_level": "low",
        "principal": "张三", "principal_phone": "13800000000", "liaison": "李四", "supervising_dept": "应急管理局",
        "grid_officer": "王五", "responsibility_level": "county", "listed": "未挂牌", "plan_name": "专项预案",
        "plan_level": "企业级", "plan_date": dt.date(2025, 1, 19), "last_drill_on": dt.date(2026, 3, 11),
        "rescue_team": "消防救援大队", "supplies_depot": "物资库", "shelter": "避难场所", "medical_point": "人民医院",
        "alarm_targets": "周边村庄", "evacuation_radius_m": 500.0, "geometry": where,
    }
    rec.update(kw)
    return rec


def _hh(code: str, rp: str | None, severity: str, status: str, deadline: dt.date | None,
        adcode: str = A) -> dict[str, Any]:
    return {"key": code, "code": code, "description": f"隐患{code}", "risk_point_code": rp,
            "enterprise_name": "单位", "severity": severity, "found_on": dt.date(2025, 12, 1),
            "deadline": deadline, "status": status, "supervision": "none", "closed_on": None, "adcode": adcode,
            "geometry": _pt(1000, 1000) if adcode == A else _pt(15000, 5000)}


def _bundle() -> Bundle:
    districts = _gdf([
        {"adcode": A, "name": "甲区", "geometry": box(X0, Y0, X0 + 10000, Y0 + 10000)},
        {"adcode": B, "name": "乙区", "geometry": box(X0 + 10000, Y0, X0 + 20000, Y0 + 10000)},
        {"adcode": C, "name": "丙区", "geometry": box(X0 + 20000, Y0, X0 + 30000, Y0 + 10000)},
    ])
    enterprises = _gdf([
        {"key": CREDIT_E1, "credit_code": CREDIT_E1, "name": "甲化工", "adcode": A,
         "industry": "hazchem_production", "mhs_grade": 2, "risk_level": "major", "external_distance_m": 300.0,
         "geometry": _pt(1000, 1000)},
        {"key": "E2", "credit_code": "E2", "name": "甲加油站", "adcode": A, "industry": "gas_station",
         "mhs_grade": None, "risk_level": "low", "external_distance_m": None, "geometry": _pt(3000, 1000)},
        {"key": "E3", "credit_code": "E3", "name": "乙仓储", "adcode": B, "industry": "hazchem_storage",
         "mhs_grade": None, "risk_level": "significant", "external_distance_m": 150.0,
         "geometry": _pt(12000, 2000)},
    ])
    tailings = _gdf([
        {"key": "TD-1", "code": "TD-1", "name": "甲尾矿库", "adcode": A, "operator": "甲矿业", "credit_code": CREDIT_T1,
         "total_storage_10k_m3": 850.0, "dam_height_m": 45.0, "design_grade": 3, "safety_degree": "sick",
         "status": "operating", "risk_level": "general", "geometry": _pt(5000, 5000)},
    ])
    pipelines = _gdf([{"key": "GAS-01", "code": "GAS-01", "name": "测试输气管道",
                       "geometry": MultiLineString([LineString([(X0, Y0 + 8000), (X0 + 20000, Y0 + 8000)])])}])
    hcas = _gdf([
        {"key": "HCA-1", "pipeline_key": "GAS-01", "grade": 3, "start_m": 12000.0, "end_m": 16000.0,
         "reason": "四级地区", "origin": "declared", "adcode": B,
         "geometry": MultiLineString([LineString([(X0 + 12000, Y0 + 8000), (X0 + 16000, Y0 + 8000)])])},
        {"key": "auto:GAS-01:2000-4000", "pipeline_key": "GAS-01", "grade": 1, "start_m": 2000.0, "end_m": 4000.0,
         "reason": "学校", "origin": "identified", "adcode": A,
         "geometry": MultiLineString([LineString([(X0 + 2000, Y0 + 8000), (X0 + 4000, Y0 + 8000)])])},
    ])
    risk_points = _gdf([
        _rp("RP-A-002", A, "general", "tailings", _pt(5050, 5000), credit_code=CREDIT_T1),
        _rp("RP-A-001", A, "major", "hazchem", _pt(1000, 1000), credit_code=CREDIT_E1),
        _rp("RP-B-002", B, "low", "crowded", _pt(18000, 3000), plan_date=None),
        _rp("RP-B-001", B, "significant", "pipeline", _pt(14000, 8100)),
    ])
    hazards = _gdf([
        _hh("HH1", "RP-A-001", "major", "open", dt.date(2026, 12, 1)),
        _hh("HH2", "RP-A-001", "general", "rectifying", dt.date(2026, 1, 1)),  # overdue on AS_OF
        _hh("HH3", "RP-A-001", "major", "closed", dt.date(2026, 3, 1)),
        _hh("HH4", "RP-B-002", "general", "rectified", dt.date(2026, 3, 1), adcode=B),
        _hh("HH5", None, "major", "open", dt.date(2026, 7, 1)),
        _hh("HH6", "RP-A-001", "major", "open", dt.date(2026, 9, 1), adcode=B),  # recorded across the border
    ])
    return Bundle({"districts": districts, "enterprises": enterprises, "tailings_dams": tailings,
                   "pipelines": pipelines, "hcas": hcas, "risk_points": risk_points, "hidden_hazards": hazards},
                  metric_epsg=EPSG)


@pytest.fixture
def bundle() -> Bundle:
    return _bundle()


# ------------------------------------------------------------------------------------------------
# risk sources
# ------------------------------------------------------------------------------------------------
def test_every_source_gets_its_palette_colour(bundle: Bundle) -> None:
    src = risk_sources(bundle)
    assert src.crs.to_epsg() == 4490
    assert src["source_type"].value_counts().to_dict() == {"enterprise": 3, "tailings_dam": 1, "hca": 2,
                                                           "risk_point": 4}
    assert src["source_id"].is_unique
    assert list(src["colour"]) == [level_colour(v) for v in src["risk_level"]]
    assert set(src["colour"]) <= {s.hex for s in FOUR_COLOUR.values()}
    low = src[src["risk_level"] == "low"]
    assert len(low) == 2 and set(low["colour"]) == {"#0070C0"} and set(low["level_zh"]) == {"低风险"}
    for colour in src["colour"]:  # never green
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert not (g > r and g > b), colour
    assert src["detail"].str.len().min() > 0
    e1 = src.set_index("key").loc[CREDIT_E1]
    assert "二级重大危险源" in e1["detail"] and "300m" in e1["detail"]


def test_hca_grade_mapping(bundle: Bundle) -> None:
    assert {g: lvl.value for g, lvl in HCA_GRADE_LEVEL.items()} == {3: "major", 2: "significant", 1: "general"}
    assert hca_level("2").value == "significant"
    with pytest.raises(ValueError, match="grade"):
        hca_level(4)
    hca = risk_sources(bundle).query("source_type == 'hca'").set_index("key")
    assert hca.loc["HCA-1", "risk_level"] == "major" and hca.loc["HCA-1", "colour"] == "#E60012"
    assert hca.loc["auto:GAS-01:2000-4000", "risk_level"] == "general"  # identified segments are shown too
    assert "识别" in hca.loc["auto:GAS-01:2000-4000", "detail"]
    assert "测试输气管道" in hca.loc["HCA-1", "name"]
    assert set(hca.geom_type) == {"MultiLineString"}


def test_hcas_argument_replaces_the_bundle_layer(bundle: Bundle) -> None:
    only = bundle["hcas"].iloc[[0]].assign(grade=2)
    hca = risk_sources(bundle, hcas=only).query("source_type == 'hca'")
    assert list(hca["key"]) == ["HCA-1"] and list(hca["risk_level"]) == ["significant"]


def test_unknown_level_is_an_error(bundle: Bundle) -> None:
    bundle.frames["enterprises"].loc[0, "risk_level"] = "large"
    with pytest.raises(ValueError, match="unknown risk level"):
        risk_sources(bundle)


def test_empty_bundle_gives_empty_layers() -> None:
    b = Bundle({})
    src = risk_sources(b)
    assert len(src) == 0 and "colour" in src.columns
    assert len(density_grid(src, b)) == 0
    assert len(district_summary(b, src)) == 0


# ------------------------------------------------------------------------------------------------
# district summary
# ------------------------------------------------------------------------------------------------
def test_district_summary_counts_and_highest_level(bundle: Bundle) -> None:
    s = district_summary(bundle)
    assert type(s) is pd.DataFrame and list(s.index) == [A, B, C]
    # 甲区: E1 major, E2 low, TD-1 general, identified grade-Ⅰ HCA general, RP-A-001 major, RP-A-002 general
    a = s.loc[A]
    assert (a["n_major"], a["n_significant"], a["n_general"], a["n_low"]) == (2, 0, 3, 1)
    assert a["highest_level"] == "major" and a["highest_colour"] == "#E60012" and a["name"] == "甲区"
    assert a["per_100km2"] == pytest.approx(2.0, abs=0.01)
    # 乙区: E3 significant, grade-Ⅲ HCA major, RP-B-001 significant, RP-B-002 low
    b = s.loc[B]
    assert (b["n_major"], b["n_significant"], b["n_general"], b["n_low"]) == (1, 2, 0, 1)
    assert b["highest_level"] == "major"
    c = s.loc[C]
    assert c["highest_level"] is None and c["highest_colour"] == NO_DATA.hex and c["n_sources"] == 0


def test_district_area_in_metric_crs(bundle: Bundle) -> None:
    s = district_summary(bundle)
    for adcode in (A, B, C):
        assert s.loc[adcode, "area_km2"] == pytest.approx(100.0, abs=0.1)


def test_district_summary_layer_for_mapping(bundle: Bundle) -> None:
    layer = district_summary_layer(bundle)
    assert isinstance(layer, gpd.GeoDataFrame) and layer.crs.to_epsg() == 4490
    assert layer.loc[A, "colour"] == "#E60012"
    assert layer.loc[C, "colour"] == NO_DATA.hex and layer.loc[C, "highest_level"] is None
    assert layer.loc[C, "highest_level_zh"] == NO_DATA.zh
    assert layer.to_crs(EPSG).area.loc[A] == pytest.approx(1e8, rel=1e-6)


# ------------------------------------------------------------------------------------------------
# density grid
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["hex", "square"])
@pytest.mark.parametrize("cell_m", [700.0, 2000.0, 5000.0])
def test_grid_counts_every_point_source_once(bundle: Bundle, shape: str, cell_m: float) -> None:
    src = risk_sources(bundle)
    points = src[src.geom_type == "Point"].to_crs(EPSG)
    points = points.set_geometry(points.translate(0.3, 0.7)).to_crs(4490)  # off the cell edges of the test
    outside = _gdf([{"source_type": "risk_point", "key": "X", "risk_level": "major",
                     "geometry": _pt(-5000, -5000)}])
    grid = density_grid(pd.concat([points, outside], ignore_index=True), bundle, cell_m=cell_m, shape=shape)
    assert grid.crs.to_epsg() == 4490 and (grid["n_sources"] > 0).all()
    assert grid["n_sources"].sum() == len(points)  # the source outside the city is left out
    for code in ("major", "significant", "general", "low"):
        assert grid[f"n_{code}"].sum() == (points["risk_level"] == code).sum()
    assert list(grid["score"]) == [sum(row[f"n_{lvl.value}"] * w for lvl, w in LEVEL_WEIGHT.items())
                                   for _, row in grid.iterrows()]
    joined = gpd.sjoin(points.to_crs(EPSG), grid.to_crs(EPSG), predicate="within")
    assert joined.index.is_unique and len(joined) == len(points)  # each point lies in the cell that counts it
    per_cell = joined.groupby("cell_id").size().sort_index()
    assert (per_cell == grid.set_index("cell_id")["n_sources"].sort_index()).all()
    expected = math.sqrt(3) / 2 * cell_m**2 if shape == "hex" else cell_m**2
    assert grid.to_crs(EPSG).area.to_numpy() == pytest.approx(expected, rel=1e-6)


def test_grid_counts_a_line_once_at_its_middle(bundle: Bundle) -> None:
    src = risk_sources(bundle)
    grid = density_grid(src, bundle, cell_m=1000.0)
    assert grid["n_sources"].sum() == len(src)
    hca_mid = stored(_pt(14000, 8000))
    cell = grid[grid.contains(hca_mid)]
    assert len(cell) == 1 and cell["n_major"].iloc[0] >= 1


def test_grid_rejects_bad_arguments(bundle: Bundle) -> None:
    src = risk_sources(bundle)
    with pytest.raises(ValueError, match="shape"):
        density_grid(src, bundle, shape="triangle")
    with pytest.raises(ValueError, match="cell_m"):
        density_grid(src, bundle, cell_m=0)


# ------------------------------------------------------------------------------------------------
# 4张清单
# ------------------------------------------------------------------------------------------------
def test_list_titles_and_headers() -> None:
    assert list_titles("zh") == {"basic": "基础清单", "control": "防控清单", "responsibility": "责任清单",
                                 "emergency": "应急清单"}
    assert list(list_titles("raw")) == list(LISTS)
    assert LISTS["emergency"].columns["evacuation_radius_m"] == "疏散半径(m)"
    assert LISTS["basic"].columns["external_distance_m"] == "外部安全防护距离(m)"
    assert LISTS["basic"].columns["population_exposed"] == "影响人口(人)"
    for spec in LISTS.values():
        for lang in ("zh", "en", "raw"):
            headers = list(spec.headers(lang).values())
            assert len(set(headers)) == len(headers), (spec.key, lang)
    with pytest.raises(ValueError, match="lang"):
        list_titles("fr")


def test_four_lists_chinese_headers_and_rows(bundle: Bundle) -> None:
    lists = four_lists(bundle, as_of=AS_OF)
    assert list(lists) == ["basic", "control", "responsibility", "emergency"]
    common = ["风险点编号", "风险点名称", "行政区划代码", "区县", "风险等级"]
    expected = {
        "basic": [*common[:4], "类别", "分类名称", "单位名称", "统一社会信用代码", "详细地址", "乡镇(街道)",
                  "经度(°)", "纬度(°)", "风险特征", "产生条件", "可能导致的后果", "风险等级", "颜色标识", "评估方法",
                  "评估日期", "影响人口(人)", "重大危险源等级", "重大危险源计算等级", "重大危险源R值",
                  "外部安全防护距离(m)", "尾矿库等别", "尾矿库安全度", "高后果区等级"],
        "control": [*common, "工程技术措施", "管理措施", "监测预警手段", "检查频次", "隐患总数(项)", "未整改隐患(项)",
                    "未整改重大隐患(项)", "逾期未整改隐患(项)", "未整改隐患事项(整改状态,期限)", "最近重大隐患整改期限",
                    "更新日期", "剩余风险等级"],
        "responsibility": [*common, "责任单位", "企业主要负责人", "负责人电话", "包保责任人", "监管部门", "乡镇(街道)",
                           "网格员", "管控层级", "挂牌督办"],
        "emergency": [*common, "应急预案", "预案级别", "预案日期", "最近演练日期", "救援队伍", "物资储备点", "避难场所",
                      "医疗救治点", "预警通知对象", "疏散半径(m)"],
    }
    for key, frame in lists.items():
        assert list(frame.columns) == [*expected[key], "geometry"], key
        assert frame.crs.to_epsg() == 4490 and set(frame.geom_type) == {"Point"}
        # one row per risk point, 重大 first then by code
        assert list(frame["风险点编号"]) == ["RP-A-001", "RP-B-001", "RP-A-002", "RP-B-002"]
        assert list(frame["风险等级"]) == ["重大风险", "较大风险", "一般风险", "低风险"]
    basic = lists["basic"].set_index("风险点编号")
    assert list(basic["颜色标识"]) == ["#E60012", "#FF7F00", "#FFD700", "#0070C0"]
    assert basic.loc["RP-A-001", "类别"] == "危险化学品" and basic.loc["RP-A-001", "区县"] == "甲区"
    assert basic.loc["RP-A-001", "评估日期"] == "2025-05-11"  # dates as ISO strings
    assert lists["emergency"].set_index("风险点编号").loc["RP-B-002", "预案日期"] is None
    assert lists["responsibility"]["管控层级"].iloc[0] == "区县级"
    assert lists["emergency"]["疏散半径(m)"].iloc[0] == 500.0


def test_basic_list_key_check_attributes(bundle: Bundle) -> None:
    basic = four_lists(bundle, lang="raw", as_of=AS_OF)["basic"].set_index("code")
    assert basic.loc["RP-A-001", "mhs_grade"] == 2 and basic.loc["RP-A-001", "external_distance_m"] == 300.0
    assert basic.loc["RP-A-002", "tailings_design_grade"] == 3
    assert basic.loc["RP-A-002", "tailings_safety_degree"] == "sick"
    assert basic.loc["RP-B-001", "hca_grade"] == 3
    assert basic.loc["RP-B-002", ["mhs_grade", "tailings_design_grade", "hca_grade"]].isna().all()
    zh = four_lists(bundle, as_of=AS_OF)["basic"].set_index("风险点编号")
    assert zh.loc["RP-A-002", "尾矿库安全度"] == "病库" and zh.loc["RP-B-001", "高后果区等级"] == "Ⅲ级"
    assert zh.loc["RP-A-001", "经度(°)"] == pytest.approx(bundle["risk_points"].geometry.iloc[1].x, abs=1e-6)


def test_hidden_hazards_linked_by_risk_point_code(bundle: Bundle) -> None:
    control = four_lists(bundle, lang="raw", as_of=AS_OF)["control"].set_index("code")
    a1 = control.loc["RP-A-001"]
    assert (a1["hazards_total"], a1["hazards_open"], a1["hazards_major_open"], a1["hazards_overdue"]) == (4, 3, 2, 1)
    assert a1["next_major_deadline"] == "2026-09-01"  # HH6, recorded in the neighbouring district
    assert a1["open_hazards"].startswith("HH2")  # earliest deadline first
    b2 = control.loc["RP-B-002"]
    assert (b2["hazards_total"], b2["hazards_open"]) == (1, 0) and b2["open_hazards"] is None
    assert control["hazards_total"].sum() == 5  # HH5 belongs to no risk point
    zh = four_lists(bundle, as_of=AS_OF)["control"].set_index("风险点编号")
    assert "整改中，期限2026-01-01" in zh.loc["RP-A-001", "未整改隐患事项(整改状态,期限)"]


def test_adcode_filter(bundle: Bundle) -> None:
    lists = four_lists(bundle, B, as_of=AS_OF)
    for frame in lists.values():
        assert list(frame["风险点编号"]) == ["RP-B-001", "RP-B-002"]
        assert set(frame["行政区划代码"]) == {B}
    a = four_lists(bundle, A, as_of=AS_OF)["control"]
    assert list(a["隐患总数(项)"]) == [4, 0]
    empty = four_lists(bundle, C)
    assert all(len(f) == 0 for f in empty.values())
    assert list(empty["emergency"].columns) == [*LISTS["emergency"].columns.values(), "geometry"]
    with pytest.raises(ValueError, match="unknown district"):
        four_lists(bundle, "999999")


def test_english_and_raw_headers(bundle: Bundle) -> None:
    en = four_lists(bundle, lang="en", as_of=AS_OF)
    assert "Evacuation radius (m)" in en["emergency"].columns
    assert "Population exposed (persons)" in en["basic"].columns
    assert en["basic"]["Risk level"].iloc[0] == "Major risk"
    raw = four_lists(bundle, lang="raw", as_of=AS_OF)
    for key, frame in raw.items():
        assert list(frame.columns) == [*LISTS[key].columns, "geometry"]
    assert raw["basic"]["risk_level"].iloc[0] == "major" and raw["basic"]["category"].iloc[0] == "hazchem"


def test_layers_package_never_imports_dash_or_plotly() -> None:
    code = ("import sys, layers.sources, layers.four_lists, layers.palette; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dash', 'plotly')); "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------------------
# demo database
# ------------------------------------------------------------------------------------------------
@pytest.mark.postgis
def test_demo_sources_and_lists(demo_bundle: Bundle) -> None:
    b = demo_bundle
    src = risk_sources(b)
    assert set(src["risk_level"]) == {"major", "significant", "general", "low"}
    assert set(src["source_type"]) == {"enterprise", "tailings_dam", "hca", "risk_point"}
    assert list(src["colour"]) == [level_colour(v) for v in src["risk_level"]]
    summary = district_summary(b, src)
    assert len(summary) == 14 and summary["highest_level"].notna().all()
    assert summary["n_sources"].sum() == len(src)
    grid = density_grid(src, b)
    assert grid["n_sources"].sum() == len(src)

    adcodes = list(b["districts"]["adcode"])
    assert len(adcodes) == 14
    for adcode in adcodes:
        lists = four_lists(b, adcode)
        for key, frame in lists.items():
            assert len(frame) >= 2, (adcode, key)
    city = four_lists(b)
    n_points = len(b["risk_points"])
    for key, frame in city.items():
        assert len(frame) == n_points
        empty = [c for c in frame.columns if frame[c].isna().all()]
        assert not empty, (key, empty)
