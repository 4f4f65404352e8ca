"""按行业: the measures per 行业领域 add up to the city and agree with plain SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from campaign.reference import load_reference
from geo import store
from geo.checks.sources import bundle_from_store
from layers.industries import OTHER, industry_index, industry_measures
from layers.measures import counted_sources, district_measures

pytestmark = pytest.mark.postgis
TODAY = dt.date(2026, 12, 6)


@pytest.fixture(scope="module")
def demo(demo_db):
    engine = store.make_engine(demo_db)
    bundle = bundle_from_store(engine)
    hcas = store.read_layer(engine, "hcas")
    identified = hcas[hcas["origin"] == "identified"]
    sources = counted_sources(bundle, identified_hcas=identified if len(identified) else None)
    findings = store.read_findings(engine)
    yield engine, bundle, sources, findings
    engine.dispose()


def _sql_in(codes) -> str:
    return "(" + ", ".join(f"'{c}'" for c in codes) + ")"


def test_industries_add_up_to_the_city_and_name_their_lead_departments(demo) -> None:
    _engine, bundle, sources, findings = demo
    by_industry = industry_measures(bundle, sources, findings, TODAY)
    by_district = district_measures(bundle, sources, findings, TODAY)
    assert list(by_industry.index) == list(industry_index())
    for column in by_district.columns:
        assert by_industry[column].sum() == by_district[column].sum(), column
    assert by_industry.loc["hazchem", "name"] == "危险化学品" and by_industry.loc["hazchem", "lead"] == "应急局"
    assert by_industry.loc["road_transport", "lead"] == "交通运输局、农业农村局、公安交警"
    assert by_industry.loc["hazchem", "risk_sources"] > 0 and by_industry.loc["pipelines_energy", "risk_sources"] > 0


def test_hazards_and_violations_per_industry_agree_with_sql(demo) -> None:
    engine, bundle, sources, findings = demo
    by_industry = industry_measures(bundle, sources, findings, TODAY)
    hazchem = load_reference().industries["hazchem"].enterprise_industries
    with engine.connect() as conn:
        hazards = conn.execute(text(f"""
            SELECT count(*) FROM hidden_hazards h JOIN enterprises e ON e.credit_code = h.credit_code
             WHERE e.industry IN {_sql_in(hazchem)} AND h.status <> 'withdrawn'""")).scalar_one()
        overdue = conn.execute(text(f"""
            SELECT count(*) FROM hidden_hazards h JOIN enterprises e ON e.credit_code = h.credit_code
             WHERE e.industry IN {_sql_in(hazchem)} AND h.deadline < :d AND h.status NOT IN ('closed', 'withdrawn')"""),
            {"d": TODAY}).scalar_one()
        pipe = conn.execute(text("""
            SELECT count(*) FROM check_findings WHERE subject_type = 'pipelines' AND verdict = 'violation'
               AND status IN ('open', 'in_remediation')""")).scalar_one()
        tailings = conn.execute(text("SELECT count(*) FROM risk_points WHERE category IN ('tailings', 'mining')")
                                ).scalar_one()
    assert by_industry.loc["hazchem", "hazards_total"] == hazards and hazards > 0
    assert by_industry.loc["hazchem", "overdue_hazards"] == overdue
    assert by_industry.loc["pipelines_energy", "violations"] == pipe and pipe > 0
    assert by_industry.loc["non_coal_mining", "risk_points"] == tailings
    # the campaign's 整改率 by industry is the campaign's own definition, grouped the same way
    assert by_industry.loc["hazchem", "major_found"] <= by_industry.loc["hazchem", "hazards_total"]
    assert OTHER in by_industry.index
