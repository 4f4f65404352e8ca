"""One truth: every count the cockpit, the district page, the export pack and the 4张清单 show agrees.

Each measure of :mod:`layers.measures` is computed here independently, with plain SQL against the demo
database (risk sources merged with the risk points that describe them, 违规 and 未闭环 findings, open,
open-major and overdue hidden hazards), and compared with what every view reports — for each of the 14
demo districts and for the city.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from dashboard.pages import cockpit, district
from geo import embedded
from layers.city import CitySnapshot, city_snapshot
from layers.four_lists import four_lists
from layers.measures import LINK_RADIUS_M
from layers.pack import export_district
from layers.palette import FOUR_COLOUR, RiskLevel
from layers.rating import explain
from tests.conftest import _fresh

pytestmark = pytest.mark.postgis
AS_OF = dt.date(2026, 11, 1)
LEVELS = ("major", "significant", "general", "low")
LABEL_LEVEL = {sw.zh: lv.value for lv, sw in FOUR_COLOUR.items()}

#: Risk sources, computed in SQL: enterprises, tailings ponds, the HCA segments that count (per pipeline and
#: district the identified ones when there are any, else the declared ones) and the risk points; a risk point
#: describing a facility of its district (same credit code for a plant; the nearest pond / HCA segment within
#: the link radius, same credit code first, for a 尾矿库 / 油气管道 point) is merged into it at the higher level.
LINKS_SQL = """
WITH hca_pick AS (
  SELECT h.*, coalesce(h.pipeline_key, h.key) || '@' || coalesce(h.adcode, '') AS grp FROM hcas h
  WHERE h.grade BETWEEN 1 AND 3
), hca AS (
  SELECT * FROM hca_pick p
  WHERE (p.origin = 'identified') = EXISTS (SELECT 1 FROM hca_pick q WHERE q.grp = p.grp AND q.origin = 'identified')
), facility AS (
  SELECT 'enterprise:' || e.key AS sid, e.adcode, e.risk_level AS level, e.credit_code, e.geom, 'plant' AS kind
  FROM enterprises e
  UNION ALL
  SELECT 'tailings_dam:' || t.key, t.adcode, t.risk_level, t.credit_code, t.geom, 'pond' FROM tailings_dams t
  UNION ALL
  SELECT 'hca:' || h.key, h.adcode,
         CASE h.grade WHEN 3 THEN 'major' WHEN 2 THEN 'significant' ELSE 'general' END, NULL, h.geom, 'hca'
  FROM hca h
), link AS (
  SELECT r.key AS rp, r.risk_level AS level,
         CASE WHEN r.category IN ('tailings', 'pipeline') THEN (
                SELECT f.sid FROM facility f
                WHERE f.kind = CASE r.category WHEN 'tailings' THEN 'pond' ELSE 'hca' END AND f.adcode = r.adcode
                  AND ST_DWithin(f.geom::geography, r.geom::geography, :radius)
                ORDER BY (f.credit_code IS NOT DISTINCT FROM r.credit_code AND r.credit_code IS NOT NULL) DESC,
                         ST_Distance(f.geom::geography, r.geom::geography), f.sid
                LIMIT 1)
              ELSE (SELECT f.sid FROM facility f WHERE f.kind = 'plant' AND f.adcode = r.adcode
                      AND f.credit_code = r.credit_code LIMIT 1)
         END AS sid
  FROM risk_points r
), rank AS (
  SELECT * FROM (VALUES ('major', 0), ('significant', 1), ('general', 2), ('low', 3)) v(level, r)
)
"""
SOURCES_SQL = LINKS_SQL + """
SELECT f.adcode, (SELECT level FROM rank WHERE r = least(
          (SELECT r FROM rank WHERE rank.level = f.level),
          coalesce((SELECT min(k.r) FROM link l JOIN rank k ON k.level = l.level WHERE l.sid = f.sid), 9))) AS level
FROM facility f
UNION ALL
SELECT r.adcode, r.risk_level FROM risk_points r JOIN link l ON l.rp = r.key WHERE l.sid IS NULL
"""


def _by_district(engine: Engine, sql: str, **params: Any) -> Counter[str]:
    with engine.connect() as conn:
        return Counter({str(a): int(n) for a, n in conn.execute(text(sql), params).all()})


@pytest.fixture(scope="module")
def truth(pg_cluster: embedded.Cluster, demo_db: str) -> Iterator[tuple[Engine, CitySnapshot, dict[str, Any]]]:
    name, engine = _fresh(pg_cluster, make_url(demo_db).database)  # a copy: exports append to the audit log
    try:
        with engine.connect() as conn:
            sources = Counter((str(a), str(lv)) for a, lv in conn.execute(text(SOURCES_SQL),
                                                                            {"radius": LINK_RADIUS_M}).all())
            codes = [str(a) for a in conn.execute(text("SELECT adcode FROM districts ORDER BY adcode")).scalars()]
            rp_codes = {str(a): {str(c) for c in cs} for a, cs in conn.execute(text(
                "SELECT adcode, array_agg(code) FROM risk_points GROUP BY adcode")).all()}
        facts: dict[str, Any] = {
            "codes": codes, "sources": sources,
            "risk_points": {lv: _by_district(engine, "SELECT adcode, count(*) FROM risk_points WHERE risk_level = :l "
                                                     "GROUP BY adcode", l=lv) for lv in LEVELS},
            "rp_codes": rp_codes,
            "violations": _by_district(engine, "SELECT adcode, count(*) FROM check_findings WHERE verdict = "
                                               "'violation' AND status IN ('open', 'in_remediation') GROUP BY adcode"),
            "open_findings": _by_district(engine, "SELECT adcode, count(*) FROM check_findings WHERE status IN "
                                                  "('open', 'in_remediation') GROUP BY adcode"),
            "hazards_total": _by_district(engine, "SELECT adcode, count(*) FROM hidden_hazards "
                                                  "WHERE status <> 'withdrawn' GROUP BY adcode"),
            "open_hazards": _by_district(engine, "SELECT adcode, count(*) FROM hidden_hazards WHERE status IN "
                                                 "('open', 'rectifying') GROUP BY adcode"),
            "open_major_hazards": _by_district(engine, "SELECT adcode, count(*) FROM hidden_hazards WHERE status IN "
                                                       "('open', 'rectifying') AND severity = 'major' GROUP BY adcode"),
            "overdue_hazards": _by_district(engine, "SELECT adcode, count(*) FROM hidden_hazards WHERE deadline < :d "
                                                    "AND status NOT IN ('closed', 'withdrawn') "
                                                    "GROUP BY adcode",
                                            d=AS_OF),
            "hazards_done": _by_district(engine, "SELECT adcode, count(*) FROM hidden_hazards WHERE status IN "
                                                 "('rectified', 'closed') GROUP BY adcode"),
        }
        snap = city_snapshot(engine, as_of=AS_OF)
        yield engine, snap, facts
    finally:
        engine.dispose()
        embedded.drop_database(pg_cluster, name)


def _expected(facts: dict[str, Any], adcode: str | None) -> dict[str, int]:
    codes = facts["codes"] if adcode is None else [adcode]

    def total(key: str) -> int:
        return sum(facts[key][a] for a in codes)

    out = {f"{lv}_sources": sum(facts["sources"][(a, lv)] for a in codes) for lv in LEVELS}
    out.update({k: total(k) for k in ("violations", "open_findings", "hazards_total", "open_hazards",
                                      "open_major_hazards", "overdue_hazards", "hazards_done")})
    out["risk_points"] = sum(facts["risk_points"][lv][a] for lv in LEVELS for a in codes)
    return out


def test_the_sql_truth_is_not_trivial(truth: tuple[Engine, CitySnapshot, dict[str, Any]]) -> None:
    engine, snap, facts = truth
    city = _expected(facts, None)
    assert len(facts["codes"]) == 14
    assert city["major_sources"] > 0 and city["violations"] > 0 and city["overdue_hazards"] > 0
    assert city["open_findings"] > city["violations"]  # two measures, and they differ
    with engine.connect() as conn:
        merged = conn.execute(text(LINKS_SQL + "SELECT count(*) FROM link WHERE sid IS NOT NULL"),
                              {"radius": LINK_RADIUS_M}).scalar_one()
    # the demo's risk points describe plants, ponds and HCA segments: they are merged, not counted twice
    assert merged > 10
    assert int(snap.sources["linked_points"].notna().sum()) > 0
    assert snap.sources["linked_points"].dropna().str.split(",").map(len).sum() == merged
    assert not set(snap.sources["source_id"]) & {f"risk_point:{k}" for k in
                                                 ",".join(snap.sources["linked_points"].dropna()).split(",")}


@pytest.mark.parametrize("scope", ["city", "530181", "530102", "530103", "530111", "530112", "530113", "530114",
                                   "530115", "530124", "530125", "530126", "530127", "530128", "530129"])
def test_cockpit_district_page_lists_and_pack_agree(truth: tuple[Engine, CitySnapshot, dict[str, Any]],
                                                   scope: str, tmp_path: Path) -> None:
    engine, snap, facts = truth
    adcode = None if scope == "city" else scope
    if adcode is not None and adcode not in facts["codes"]:
        pytest.fail(f"demo district {adcode} missing from the database: {facts['codes']}")
    want = _expected(facts, adcode)

    # the cockpit: KPI tiles, the district table, the source list and "why this colour"
    kpis = snap.kpis(adcode)
    assert kpis["major_risks"] == want["major_sources"]
    assert kpis["significant_risks"] == want["significant_sources"]
    assert kpis["open_major_hazards"] == want["open_major_hazards"]
    assert kpis["violations"] == want["violations"]
    assert kpis["open_findings"] == want["open_findings"]
    rate = kpis["rectification_rate"]
    assert (rate is None) == (want["hazards_total"] == 0)
    if rate is not None:
        assert rate == pytest.approx(want["hazards_done"] / want["hazards_total"], abs=1e-12)
    listed = Counter(r["colour"] for r in cockpit._source_rows(snap, adcode, "zh"))
    for lv in LEVELS:
        assert listed[FOUR_COLOUR[RiskLevel(lv)].hex] == want[f"{lv}_sources"], lv
    table = {row["adcode"]: row for row in cockpit._table(snap, "zh").data}
    codes = facts["codes"] if adcode is None else [adcode]
    assert sum(int(table[a]["n_major"]) for a in codes) == want["major_sources"]
    assert sum(int(table[a]["n_significant"]) for a in codes) == want["significant_sources"]
    for a in codes:  # the explanation's indicators are the same measures
        why = explain(snap.ratings, a, snap.rubric).set_index("code")["raw"]
        assert why["major_risks"] == _expected(facts, a)["major_sources"]
        assert why["open_major_hazards"] == _expected(facts, a)["open_major_hazards"]
        assert why["overdue_hazards"] == _expected(facts, a)["overdue_hazards"]
        assert why["open_violations"] == _expected(facts, a)["violations"]
    if adcode is None:
        return

    # the district page: the facts line and the risk-point chips
    line = district._facts(snap, adcode, "zh")
    numbers = re.search(r"风险源 (\d+) 个\(重大 (\d+)、较大 (\d+)\).*隐患 (\d+) 项\(未整改 (\d+)\) · "
                        r"未闭环检查发现 (\d+) 条\(其中违规 (\d+) 条\)", line)
    assert numbers, line
    assert [int(g) for g in numbers.groups()] == [
        sum(want[f"{lv}_sources"] for lv in LEVELS), want["major_sources"], want["significant_sources"],
        want["hazards_total"], want["open_hazards"], want["open_findings"], want["violations"]]
    assert "风险源" in district._facts_title("zh") and "违规" in district._facts_title("zh")
    chips = Counter(district._listed_points(snap, adcode)["risk_level"])  # 清单风险点, a measure of its own
    assert {lv: chips[lv] for lv in LEVELS} == {lv: facts["risk_points"][lv][adcode] for lv in LEVELS}

    # the 4张清单: one row per registered risk point, hazard counts per point
    lists = four_lists(snap.bundle, adcode, lang="raw", as_of=AS_OF, rules=snap.rules)
    basic = lists["basic"]
    assert Counter(basic["risk_level"]) == Counter({lv: facts["risk_points"][lv][adcode] for lv in LEVELS
                                                     if facts["risk_points"][lv][adcode]})
    with engine.connect() as conn:
        linked = conn.execute(text(
            "SELECT count(*) FILTER (WHERE status IN ('open', 'rectifying')), "
            "count(*) FILTER (WHERE status IN ('open', 'rectifying') AND severity = 'major'), "
            "count(*) FILTER (WHERE deadline < :d AND status NOT IN ('closed', 'withdrawn')) "
            "FROM hidden_hazards WHERE risk_point_code = ANY(:codes)"),
            {"d": AS_OF, "codes": sorted(facts["rp_codes"].get(adcode, set()))}).one()
    control = lists["control"]
    assert [int(control[c].fillna(0).sum()) for c in ("hazards_open", "hazards_major_open", "hazards_overdue")] \
        == [int(v) for v in linked]

    # the export pack, read back from the XLSX
    written = export_district(engine, adcode, tmp_path, formats=("xlsx",), as_of=AS_OF, actor="test")
    wb = openpyxl.load_workbook(written["xlsx"][0], read_only=True)
    sheets = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    src = _records(sheets.get("四色风险源", []))
    levels = Counter(r.get("风险等级代码") or LABEL_LEVEL[str(r["风险等级"])] for r in src)
    assert {lv: levels[lv] for lv in LEVELS} == {lv: want[f"{lv}_sources"] for lv in LEVELS}
    found = _records(sheets.get("检查发现", []))
    assert len(found) == want["open_findings"]
    assert sum(1 for r in found if (r.get("结论代码") or r["结论"]) in ("violation", "违规")) == want["violations"]
    assert len(_records(sheets.get("基础清单", []))) == want["risk_points"]


def _records(rows: list[list[Any]]) -> list[dict[str, Any]]:
    if not rows:
        return []
    head = [str(h) for h in rows[0]]
    return [dict(zip(head, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]
