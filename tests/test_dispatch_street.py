"""The 调度表 of a street (街道/乡镇): counted by hand from the demo's rows and compared with the generated XLSX.

A hazard belongs to the street of its enterprise (``enterprises.township``); a street's table counts only
those hazards and the spot checks of those enterprises, cumulative to the end of the previous month.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import Engine, text

from campaign.dispatch import district_streets, load_dispatch
from campaign.dispatch_sheet import dispatch_xlsx
from campaign.reference import load_reference
from campaign.submissions import dispatch_from_store
from dashboard.pages import dispatch as page
from geo import store
from tests.clients import callback_body, demo_app, post_callback

pytestmark = pytest.mark.postgis
LOCAL = ZoneInfo("Asia/Shanghai")
ITEMS = list(load_reference().spot_check_items)
PART1 = ("self_found", "self_rectified", "inspection_found", "inspection_rectified", "supervised_found",
         "supervised_rectified")


def _periods() -> list[str]:
    first = dt.date.today().replace(day=1)
    before = (first - dt.timedelta(days=1)).replace(day=1)
    return [first.strftime("%Y-%m"), before.strftime("%Y-%m")]


def _by_hand(owner: Engine, adcode: str, street: str, period: str) -> dict[str, int]:
    """The street's figures from the raw rows with plain loops (independently of campaign.dispatch)."""
    end = dt.datetime.strptime(period + "-01", "%Y-%m-%d").replace(tzinfo=LOCAL)
    with owner.connect() as conn:
        members = {r[0] for r in conn.execute(text(
            "SELECT credit_code FROM enterprises WHERE adcode = :a AND township = :s"), {"a": adcode, "s": street})}
        hazards = {r[0]: r[1] for r in conn.execute(text(
            "SELECT id, coalesce(source, 'department') FROM hidden_hazards "
            "WHERE adcode = :a AND credit_code = ANY(:m)"),
            {"a": adcode, "m": list(members)})}
        steps = conn.execute(text("SELECT hazard_id, at, version, to_state, severity, supervised FROM hazard_steps "
                                  "WHERE hazard_id = ANY(:h) ORDER BY hazard_id, at, version"),
                             {"h": list(hazards)}).all()
        spots = conn.execute(text("SELECT credit_code, inspected_at, spot_items FROM inspections "
                                  "WHERE kind = 'spot_check' AND adcode = :a"), {"a": adcode}).all()
    last: dict[int, tuple[str, str, bool]] = {}
    for hid, at, _, state, severity, supervised in steps:
        if at < end:
            last[hid] = (state, severity, bool(supervised))
    self_sources = load_reference().self_sources
    out = dict.fromkeys(PART1, 0)
    for hid, (state, severity, supervised) in last.items():
        if severity != "major" or state == "withdrawn":
            continue
        kind = "self" if hazards[hid] in self_sources else "inspection"
        done = state in ("awaiting_acceptance", "closed")
        out[f"{kind}_found"] += 1
        out[f"{kind}_rectified"] += int(done)
        out["supervised_found"] += int(supervised)
        out["supervised_rectified"] += int(supervised and done)
    seen: dict[str, set[str]] = {"spot_total": set(), **{k: set() for k in ITEMS}}
    for credit, at, items in spots:
        if credit in members and at.astimezone(LOCAL).date() < end.date():
            seen["spot_total"].add(credit)
            for k in ITEMS:
                if (items or {}).get(k):
                    seen[k].add(credit)
    out.update({k: len(v) for k, v in seen.items()})
    return out


def _busiest_street(owner: Engine) -> tuple[str, str]:
    """The demo street with the most hazards (a district of several streets)."""
    with owner.connect() as conn:
        row = conn.execute(text(
            "SELECT e.adcode, e.township, count(*) AS n FROM hidden_hazards h JOIN enterprises e "
            "ON e.credit_code = h.credit_code WHERE e.township IS NOT NULL AND e.adcode IN (SELECT adcode FROM "
            "enterprises GROUP BY adcode HAVING count(DISTINCT township) >= 2) GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 "
            "LIMIT 1")).one()
    return str(row[0]), str(row[1])


def test_every_demo_district_has_streets(demo_db: str) -> None:
    owner = store.make_engine(demo_db)
    with owner.connect() as conn:
        counts = dict(conn.execute(text("SELECT adcode, count(DISTINCT township) FROM enterprises "
                                        "GROUP BY adcode")).all())
        blank = conn.execute(text("SELECT count(*) FROM enterprises WHERE township IS NULL")).scalar_one()
        anning = sorted(r[0] for r in conn.execute(text("SELECT DISTINCT township FROM enterprises "
                                                        "WHERE adcode = '530181'")))
    assert len(counts) == 14 and min(counts.values()) >= 1 and blank == 0
    assert sum(n >= 2 for n in counts.values()) >= 7  # most districts have several streets
    assert district_streets(owner, "530181") == anning and len(anning) >= 2


@pytest.mark.parametrize("which", [0, 1])
def test_the_street_table_equals_the_rows_counted_by_hand(demo_db: str, which: int) -> None:
    owner = store.make_engine(demo_db)
    adcode, street = _busiest_street(owner)
    period = _periods()[which]
    table = dispatch_from_store(owner, adcode=adcode, street=street, unit=f"演示{street}", period=period)
    expected = _by_hand(owner, adcode, street, period)
    assert table.figures() == expected
    if which == 0:
        assert expected["self_found"] + expected["inspection_found"] > 0  # the demo street has major hazards
    wb = openpyxl.load_workbook(io.BytesIO(dispatch_xlsx(table, issued_on=dt.date.today())))
    ws = wb["调度表"]
    assert ws["A2"].value == f"填报单位：演示{street}"
    rows = load_dispatch().hazard_rows
    assert [ws[f"C{r}"].value for r in range(5, 11)] == [expected[row.code] for row in rows]
    labels = [ws[f"B{r}"].value for r in range(1, ws.max_row + 1)]
    start = labels.index(load_dispatch().spot_check_total.zh) + 1
    assert ws[f"C{start}"].value == expected["spot_total"]
    for offset, code in enumerate(ITEMS, start=1):
        assert ws[f"C{start + offset}"].value == expected[code]


def test_the_streets_add_up_to_at_most_the_district(demo_db: str) -> None:
    owner = store.make_engine(demo_db)
    adcode, _ = _busiest_street(owner)
    period = _periods()[0]
    district = dispatch_from_store(owner, adcode=adcode, unit="x", period=period).figures()
    total = dict.fromkeys(PART1, 0)
    for street in district_streets(owner, adcode):
        figures = dispatch_from_store(owner, adcode=adcode, street=street, unit=street, period=period).figures()
        for k in PART1:
            total[k] += figures[k]
    with owner.connect() as conn:  # hazards without an enterprise belong to no street
        loose = conn.execute(text("SELECT count(*) FROM hidden_hazards WHERE adcode = :a AND credit_code IS NULL"),
                             {"a": adcode}).scalar_one()
    for k in PART1:
        assert total[k] <= district[k]
    if loose == 0:
        assert total == {k: district[k] for k in PART1}
    with pytest.raises(ValueError, match="没有企业属于"):
        dispatch_from_store(owner, adcode=adcode, street="不存在街道", unit="x", period=period)


def test_the_page_offers_the_officers_streets_and_never_another_districts(pg_cluster, demo_db, monkeypatch) -> None:
    with demo_app(pg_cluster, demo_db, monkeypatch, user="anning") as app:
        own = district_streets(app.owner, "530181")
        other = next(s for s in district_streets(app.owner, "530112") if s not in own)
        key = next(k for k in app.app.callback_map if f"{page.DP_STREET}.options" in k)
        resp = post_callback(app.client, callback_body(app.app, key, {f"{page.DP_UNIT}.value": "530112"},
                                                       f"{page.DP_UNIT}.value"))
        options = resp.get_json()["response"][page.DP_STREET]["options"]
        assert [o["value"] for o in options] == own  # the officer's own district, whatever was asked
        show = next(k for k in app.app.callback_map if f"{page.DP_TABLE}.data" in k)
        period = _periods()[0]
        values = {f"{page.DP_PERIOD}.value": period, f"{page.DP_UNIT}.value": "530181",
                  f"{page.DP_STREET}.value": own[0], "lang-switch.value": "zh"}
        body = post_callback(app.client, callback_body(app.app, show, values, f"{page.DP_STREET}.value")).get_json()
        rows = body["response"][page.DP_TABLE]["data"]
        expected = dispatch_from_store(app.owner, adcode="530181", street=own[0], unit="x", period=period).figures()
        assert [r["value"] for r in rows[:6]] == [expected[c] for c in PART1]
        values[f"{page.DP_STREET}.value"] = other
        body = post_callback(app.client, callback_body(app.app, show, values, f"{page.DP_STREET}.value")).get_json()
        assert json.dumps(body["response"][page.DP_TABLE]["data"]) == "[]"
