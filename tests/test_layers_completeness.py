"""Data completeness of a district: missing optional values, stale rows, overdue reviews, last updates."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo import store
from geo.checks.bundle import Bundle
from geo.checks.sources import bundle_from_store
from layers.completeness import DISTRICT_LAYERS, NOT_APPLICABLE, completeness, optional_fields

AS_OF = dt.date(2026, 11, 24)
TZ = "Asia/Shanghai"


def _stamp(day: str) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(TZ)


def _bundle() -> Bundle:
    districts = gpd.GeoDataFrame({"key": ["530181", "530102"], "adcode": ["530181", "530102"],
                                  "name": ["安宁市", "五华区"]},
                                 geometry=[box(102.2, 24.7, 102.6, 25.1), box(102.6, 25.0, 102.8, 25.3)], crs=4490)
    full_ent = {"address": "草铺街道", "external_distance_m": 300.0, "installation_status": "in_service",
                "has_explosives": False, "principal": "张三", "phone": "0871-1", "mhs_grade": None}
    ents = gpd.GeoDataFrame([
        {**full_ent, "key": "E1", "adcode": "530181", "name": "甲", "updated_at": _stamp("2026-11-20 09:00")},
        # three gaps: blank address, no distance, no principal; mhs_grade blank is "no MHS", not a gap
        {**full_ent, "key": "E2", "adcode": "530181", "name": "乙", "address": "  ", "external_distance_m": None,
         "principal": None, "updated_at": _stamp("2026-08-25 23:59")},  # 91 days before AS_OF → stale
        {**full_ent, "key": "E3", "adcode": "530181", "name": "丙", "phone": float("nan"),
         "updated_at": _stamp("2026-08-26 00:00")},  # exactly 90 days → not stale
        {**full_ent, "key": "E4", "adcode": "530102", "name": "外区", "principal": None,
         "updated_at": _stamp("2020-01-01")},  # another district: ignored
    ], geometry=[Point(102.3, 24.9), Point(102.4, 24.9), Point(102.5, 24.9), Point(102.7, 25.1)], crs=4490)
    rp_fields = [f for f in optional_fields("risk_points") if f != "reviewed_on"]
    base = dict.fromkeys(rp_fields, "有") | {"assessed_on": dt.date(2026, 1, 1), "plan_date": dt.date(2026, 1, 1),
                                          "last_drill_on": dt.date(2026, 5, 1), "population_exposed": 10,
                                          "evacuation_radius_m": 500.0}
    rps = gpd.GeoDataFrame([
        {**base, "key": "R1", "code": "R1", "adcode": "530181", "reviewed_on": dt.date(2026, 8, 24),  # 92 days: ok
         "updated_at": _stamp("2026-11-01")},
        {**base, "key": "R2", "code": "R2", "adcode": "530181", "reviewed_on": dt.date(2026, 8, 23),  # 93: overdue
         "plan_name": None, "rescue_team": "", "principal_phone": None, "updated_at": _stamp("2026-11-02 10:30")},
        {**base, "key": "R3", "code": "R3", "adcode": "530181", "reviewed_on": None,  # never reviewed: overdue
         "updated_at": _stamp("2026-11-03")},
    ], geometry=[Point(102.3, 24.8), Point(102.35, 24.8), Point(102.4, 24.8)], crs=4490)
    hh = gpd.GeoDataFrame([
        {"key": "H1", "code": "H1", "adcode": "530181", "risk_point_code": "R1", "enterprise_name": "甲",
         "deadline": dt.date(2026, 12, 1), "supervision": "none", "status": "open", "closed_on": None},
        {"key": "H2", "code": "H2", "adcode": "530181", "risk_point_code": None, "enterprise_name": "甲",
         "deadline": dt.date(2026, 12, 1), "supervision": "none", "status": "closed", "closed_on": None},
    ], geometry=[Point(102.3, 24.85), Point(102.31, 24.85)], crs=4490)  # no updated_at column at all
    return Bundle({"districts": districts, "enterprises": ents, "risk_points": rps, "hidden_hazards": hh})


def test_exact_counts_on_a_tiny_bundle() -> None:
    out = completeness(_bundle(), "530181", as_of=AS_OF).set_index("layer")
    assert list(out.index) == list(DISTRICT_LAYERS)

    ent = out.loc["enterprises"]
    assert "mhs_grade" not in optional_fields("enterprises") and "lon" not in optional_fields("enterprises")
    # 7 optional fields (address, township, …, phone); township is given in no row
    assert (ent["rows"], ent["fields"], ent["values"], ent["missing"]) == (3, 7, 21, 7)
    assert ent["missing_by_field"] == {"address": 1, "township": 3, "external_distance_m": 1, "principal": 1,
                                       "phone": 1}
    assert ent["stale"] == 1
    assert pd.isna(ent["review_overdue"])
    assert ent["last_update"] == pd.Timestamp("2026-11-20 09:00")
    assert ent["completeness_score"] == pytest.approx(14 / 21)

    rp = out.loc["risk_points"]
    n_fields = len(optional_fields("risk_points"))
    assert n_fields == 34
    assert (rp["rows"], rp["values"], rp["missing"]) == (3, 3 * n_fields, 4)
    assert rp["missing_by_field"] == {"plan_name": 1, "rescue_team": 1, "principal_phone": 1, "reviewed_on": 1}
    assert list(rp["missing_by_field"]) == ["reviewed_on", "principal_phone", "plan_name", "rescue_team"]  # spec order
    assert rp["review_overdue"] == 2
    assert rp["stale"] == 0
    assert rp["last_update"] == pd.Timestamp("2026-11-03")

    hh = out.loc["hidden_hazards"]
    # closed_on counts only for the closed hazard; risk_point_code is missing once
    assert (hh["rows"], hh["values"], hh["missing"]) == (2, 2 * 4 + 1, 2)
    assert hh["missing_by_field"] == {"risk_point_code": 1, "closed_on": 1}
    assert pd.isna(hh["stale"]) and pd.isna(hh["last_update"])  # no stored timestamps in this frame

    empty = out.loc["buildings"]
    assert (empty["rows"], empty["values"], empty["missing"]) == (0, 0, 0)
    assert pd.isna(empty["completeness_score"])
    assert pd.isna(out.loc["risk_contours", "completeness_score"])  # nothing optional to fill


def test_thresholds_and_other_district() -> None:
    bundle = _bundle()
    later = completeness(bundle, "530181", as_of=AS_OF + dt.timedelta(days=1)).set_index("layer")
    assert later.loc["enterprises", "stale"] == 2  # the 90-day row turns stale one day later
    assert later.loc["risk_points", "review_overdue"] == 3
    relaxed = completeness(bundle, "530181", as_of=AS_OF, stale_days=365, review_days=400).set_index("layer")
    assert relaxed.loc["enterprises", "stale"] == 0 and relaxed.loc["risk_points", "review_overdue"] == 1
    other = completeness(bundle, "530102", as_of=AS_OF).set_index("layer")
    assert other.loc["enterprises", "rows"] == 1 and other.loc["enterprises", "missing_by_field"] == {"principal": 1,
                                                                                                 "township": 1}
    assert other.loc["enterprises", "stale"] == 1
    with pytest.raises(ValueError, match="unknown district"):
        completeness(bundle, "530199", as_of=AS_OF)


def _missing(values: pd.Series) -> int:
    return int(sum(v is None or (not isinstance(v, str) and pd.isna(v)) or (isinstance(v, str) and not v.strip())
                   for v in values.astype(object)))


@pytest.mark.postgis
def test_demo_district_matches_the_store(demo_db) -> None:
    engine = store.make_engine(demo_db)
    today = dt.date.today()
    out = completeness(bundle_from_store(engine), "530181", as_of=today).set_index("layer")
    for layer in DISTRICT_LAYERS:
        rows = store.read_layer(engine, layer, "530181")
        if layer == "hcas":
            rows = rows[rows["origin"] != "identified"]
        got = out.loc[layer]
        assert got["rows"] == len(rows), layer
        expected = {f: _missing(rows[f]) for f in optional_fields(layer) if f in rows.columns}
        expected = {f: n for f, n in expected.items() if n}
        for f, when in NOT_APPLICABLE.get(layer, {}).items():  # e.g. closed_on only of closed hazards
            if when is not None and f in expected:
                column, value = when
                expected[f] = _missing(rows.loc[rows[column] == value, f])
        expected = {f: n for f, n in expected.items() if n}
        assert got["missing_by_field"] == expected, layer
        assert got["missing"] == sum(expected.values())
        assert got["stale"] == 0  # the demo was loaded moments ago
        last = rows["updated_at"].max().tz_convert("Asia/Shanghai").tz_localize(None)
        assert got["last_update"] == last
    assert out["rows"].sum() > 100 and out.loc["risk_points", "rows"] >= 2
    reviewed = store.read_layer(engine, "risk_points", "530181")["reviewed_on"]
    overdue = sum(d is None or (today - d).days > 92 for d in reviewed)
    assert out.loc["risk_points", "review_overdue"] == overdue
    future = completeness(bundle_from_store(engine), "530181", as_of=today + dt.timedelta(days=120))
    assert (future.set_index("layer")["stale"] == future.set_index("layer")["rows"]).all()
    assert 0 < out.loc["protection_targets", "completeness_score"] <= 1
