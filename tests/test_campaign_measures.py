"""Campaign measures (整改率 by source and 督办, overdue, days to close) by district and by industry, against SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from campaign.reference import load_reference
from geo import store
from layers.campaign_measures import CAMPAIGN_MEASURES, campaign_measures

pytestmark = pytest.mark.postgis
DONE = "('awaiting_acceptance', 'closed')"


@pytest.fixture(scope="module")
def demo(demo_db):
    eng = store.make_engine(demo_db)
    yield eng
    eng.dispose()


def _sql(demo, today: dt.date, group: str) -> dict[str, dict[str, object]]:
    ref = load_reference()
    industry = "CASE " + " ".join(
        f"WHEN e.industry IN ({', '.join(repr(c) for c in i.enterprise_industries)}) THEN '{code}'"
        for code, i in ref.industries.items() if i.enterprise_industries) + " ELSE 'other' END"
    key = "h.adcode" if group == "adcode" else industry
    sql = f"""
    SELECT {key} AS g,
           count(*) FILTER (WHERE h.severity = 'major') AS major_found,
           count(*) FILTER (WHERE h.severity = 'major' AND h.state IN {DONE}) AS major_rectified,
           count(*) FILTER (WHERE h.severity = 'major' AND h.source = 'self_check') AS self_n,
           count(*) FILTER (WHERE h.severity = 'major' AND h.source = 'self_check' AND h.state IN {DONE}) AS self_d,
           count(*) FILTER (WHERE h.severity = 'major' AND h.source <> 'self_check') AS insp_n,
           count(*) FILTER (WHERE h.severity = 'major' AND h.source <> 'self_check' AND h.state IN {DONE}) AS insp_d,
           count(*) FILTER (WHERE h.severity = 'major' AND coalesce(h.supervision, 'none') <> 'none') AS sup_n,
           count(*) FILTER (WHERE h.severity = 'major' AND coalesce(h.supervision, 'none') <> 'none'
                            AND h.state IN {DONE}) AS sup_d,
           count(*) FILTER (WHERE h.deadline < :today AND h.state NOT IN ('closed', 'withdrawn')) AS overdue,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY h.closed_on - h.found_on)
               FILTER (WHERE h.state = 'closed' AND h.closed_on IS NOT NULL) AS median_days
      FROM hidden_hazards h LEFT JOIN enterprises e ON e.credit_code = h.credit_code
     WHERE h.state <> 'withdrawn' GROUP BY 1"""
    with demo.connect() as conn:
        rows = conn.execute(text(sql), {"today": today}).mappings().all()

    def rate(d: int, n: int) -> float | None:
        return round(d / n, 4) if n else None

    return {str(r["g"]): {
        "major_found": r["major_found"], "major_rectified": r["major_rectified"],
        "rate_all": rate(r["major_rectified"], r["major_found"]), "rate_self": rate(r["self_d"], r["self_n"]),
        "rate_inspection": rate(r["insp_d"], r["insp_n"]), "rate_supervised": rate(r["sup_d"], r["sup_n"]),
        "overdue": r["overdue"], "median_days": None if r["median_days"] is None else float(r["median_days"]),
    } for r in rows}


@pytest.mark.parametrize("group", ["adcode", "industry"])
def test_campaign_measures_equal_sql(demo, group: str) -> None:
    today = dt.date.today()
    got = campaign_measures(store.list_hazards(demo), by=group, today=today)
    expected = _sql(demo, today, group)
    assert set(got.index) == set(expected)
    codes = [m.code for m in CAMPAIGN_MEASURES]
    for key, row in got.iterrows():
        values = {c: (None if row[c] is None or row[c] != row[c] else row[c]) for c in codes}
        assert values == expected[str(key)], key
    if group == "adcode":
        assert got["major_found"].sum() > 50 and got["rate_supervised"].notna().any()
        assert (got["overdue"] > 0).sum() >= 14
