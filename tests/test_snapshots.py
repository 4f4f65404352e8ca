"""Period snapshots reproduce the past: figures taken later from history equal those seen at the time."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from campaign.service import Actor, take_step
from geo import store
from geo.checks.sources import bundle_from_store
from geo.constants import LOCAL_ZONE
from layers.rating import load_rubric
from layers.snapshots import CITY, figures_of, month_ends, period_figures, take_snapshot

pytestmark = pytest.mark.postgis
ANNING = "530181"
#: Simulated months after the demo was loaded (its history starts on the day it was generated).
MONTHS = (dt.date(2027, 1, 31), dt.date(2027, 2, 28), dt.date(2027, 3, 31))


def _dated(url: str, day: dt.date):
    """An owner engine whose every change is dated ``day`` at noon (only owners may date a change)."""
    at = dt.datetime.combine(day, dt.time(12), tzinfo=LOCAL_ZONE).isoformat()
    return create_engine(url, connect_args={"options": f"-c riskmap.valid_from={at}"})


def _live(engine, day: dt.date) -> pd.DataFrame:
    """The figures computed from the tables as they are now (what a leader saw that day)."""
    bundle = bundle_from_store(engine)
    hcas = store.read_layer(engine, "hcas")
    identified = hcas[hcas["origin"] == "identified"]
    return figures_of(bundle, store.read_findings(engine), day,
                      identified_hcas=identified if len(identified) else None)


def _edit(engine, month: int) -> None:
    """One month's changes: a level raised, a point removed, a finding closed, a hazard dismissed."""
    with engine.begin() as conn:
        key = conn.execute(text("SELECT key FROM enterprises WHERE adcode = :a AND risk_level <> 'major' "
                                "ORDER BY key OFFSET :n LIMIT 1"), {"a": ANNING, "n": month}).scalar_one()
        conn.execute(text("UPDATE enterprises SET risk_level = 'major' WHERE key = :k"), {"k": key})
        conn.execute(text("DELETE FROM risk_points WHERE key = (SELECT key FROM risk_points WHERE adcode = :a "
                          "ORDER BY key LIMIT 1)"), {"a": ANNING})
        finding = conn.execute(text("SELECT id FROM check_findings WHERE status = 'open' AND adcode = :a "
                                    "ORDER BY id LIMIT 1"), {"a": ANNING}).scalar_one()
        hazard, adcode = conn.execute(text("SELECT id, adcode FROM hidden_hazards WHERE state = 'reported' "
                                           "ORDER BY id LIMIT 1")).one()
    store.set_finding_status(engine, finding, "closed", actor="test", note="整改完成")
    take_step(engine, hazard, "dismiss", Actor("officer", "district_officer", adcode), comment="经核实不是隐患",
              at=dt.datetime.combine(MONTHS[month] - dt.timedelta(days=10), dt.time(12), tzinfo=LOCAL_ZONE))


@pytest.fixture(scope="module")
def history(demo_db, pg_cluster):
    """A copy of the demo edited over three simulated months, with the figures seen at each month end."""
    from sqlalchemy.engine import make_url

    from geo import embedded

    name = "rm_history"
    embedded.drop_database(pg_cluster, name)
    embedded.create_database(pg_cluster, name, template=make_url(demo_db).database)
    url = pg_cluster.url(name)
    seen = {}
    for month, end in enumerate(MONTHS):
        dated = _dated(url, end - dt.timedelta(days=10))
        _edit(dated, month)
        dated.dispose()
        engine = store.make_engine(url)
        seen[end] = _live(engine, end)
        engine.dispose()
    engine = store.make_engine(url)
    yield engine, seen
    engine.dispose()
    embedded.drop_database(pg_cluster, name)


def test_month_end_figures_from_history_equal_those_seen_at_the_time(history) -> None:
    engine, seen = history
    for end in MONTHS:
        pd.testing.assert_frame_equal(period_figures(engine, end), seen[end], check_dtype=False)
    # the months differ: the edits show up where they were made
    first, last = seen[MONTHS[0]].loc[ANNING], seen[MONTHS[-1]].loc[ANNING]
    assert last["major_risks"] > first["major_risks"] and last["risk_points"] < first["risk_points"]
    assert seen[MONTHS[-1]].loc[CITY, "hazards_total"] == seen[MONTHS[0]].loc[CITY, "hazards_total"] - 2


def test_snapshots_are_stored_and_a_new_rubric_is_stored_beside_the_old(history) -> None:
    engine, seen = history
    for end in MONTHS:
        take_snapshot(engine, end, taken_by="scheduler")
    stored = store.read_snapshots(engine, kind="month_end")
    old_rubric = load_rubric()
    for end in MONTHS:
        rows = stored[(stored["period_end"] == end) & (stored["rubric_version"] == old_rubric.version)]
        assert set(rows["scope"]) == {*seen[end].index}
        anning = rows.set_index("scope").loc[ANNING]
        assert anning["measures"]["major_risks"] == seen[end].loc[ANNING, "major_risks"]
        assert anning["score"] == pytest.approx(seen[end].loc[ANNING, "score"])
        assert rows.set_index("scope").loc[CITY, "measures"]["hazards_total"] == seen[end].loc[CITY, "hazards_total"]
    # a rubric change: recomputed side by side, labelled, the first stays as it was
    weights = {c: (1.0 if i == 0 else 0.0) for i, c in enumerate(old_rubric.codes)}
    new_rubric = dataclasses.replace(old_rubric, version=f"{old_rubric.version}-test",
                                     indicators=tuple(dataclasses.replace(ind, weight=weights[ind.code])
                                                      for ind in old_rubric.indicators))
    take_snapshot(engine, MONTHS[0], taken_by="leader", rubric=new_rubric)
    both = store.read_snapshots(engine, since=MONTHS[0], until=MONTHS[0], kind="month_end")
    by_rubric = {v: rows.set_index("scope") for v, rows in both.groupby("rubric_version")}
    assert set(by_rubric) == {old_rubric.version, new_rubric.version}
    assert by_rubric[old_rubric.version].loc[ANNING, "score"] == pytest.approx(seen[MONTHS[0]].loc[ANNING, "score"])
    assert (by_rubric[new_rubric.version]["measures"].map(lambda m: m["major_risks"]).to_dict()
            == by_rubric[old_rubric.version]["measures"].map(lambda m: m["major_risks"]).to_dict())
    # the stored rows cannot be edited
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE measure_snapshots SET score = 0"))


def test_month_ends_and_refusals() -> None:
    assert month_ends(dt.date(2027, 1, 15), 2) == [dt.date(2026, 11, 30), dt.date(2026, 12, 31)]
    with pytest.raises(ValueError, match="not a month end"):
        take_snapshot(None, dt.date(2027, 1, 15), taken_by="x")  # type: ignore[arg-type]


def test_the_change_list_names_what_appeared_changed_closed_or_went(history) -> None:
    from layers.changes import changes_between

    engine, _ = history
    lines = changes_between(engine, MONTHS[0], MONTHS[-1])
    mine = lines[lines["adcode"] == ANNING]
    raised = mine[(mine["layer"] == "enterprises") & (mine["field"] == "risk_level")]
    assert len(raised) == 2 and set(raised["after"]) == {"major"} and set(raised["kind"]) == {"changed"}
    assert len(mine[(mine["layer"] == "risk_points") & (mine["kind"] == "removed")]) == 2
    closed = mine[(mine["layer"] == "check_findings") & (mine["kind"] == "closed")]
    assert len(closed) == 2 and set(closed["after"]) == {"closed"} and set(closed["link"]) == {"/planner"}
    dismissed = lines[(lines["layer"] == "hidden_hazards") & (lines["field"] == "state")]
    assert len(dismissed) == 2 and set(dismissed["after"]) == {"withdrawn"}
    assert all(re.fullmatch(r"/hazards/[0-9]+", link) for link in dismissed["link"])
    # nothing else moved in those months
    assert len(lines) == len(raised) + 2 + len(closed) + len(dismissed)
    # a district sees only its own lines; an empty period lists nothing
    assert set(changes_between(engine, MONTHS[0], MONTHS[-1], adcode=ANNING)["adcode"]) == {ANNING}
    assert changes_between(engine, MONTHS[-1], MONTHS[-1]).empty


def test_the_ranking_of_a_month_reads_the_stored_figures_and_shows_the_change(history) -> None:
    from layers.ranking import CRITERIA, figures_from_snapshots, rank_districts

    engine, seen = history
    for end in MONTHS[1:]:
        take_snapshot(engine, end, kind="month_end", taken_by="scheduler")
    stored = store.read_snapshots(engine, kind="month_end", rubric_version=load_rubric().version)
    feb, mar = (figures_from_snapshots(stored[stored["period_end"] == end]) for end in MONTHS[1:])
    for code, spec in CRITERIA.items():
        ranked = rank_districts(mar, feb, code)
        assert len(ranked) == 14 and CITY not in ranked.index
        values = ranked["value"].dropna()
        assert list(values) == sorted(values, reverse=spec.higher_is_better)  # best first
        expected = pd.to_numeric(seen[MONTHS[-1]].drop(index=CITY)[code], errors="coerce")
        assert ranked["value"].to_dict() == pytest.approx(expected.reindex(ranked.index).to_dict(), nan_ok=True)
    majors = rank_districts(mar, feb, "major_risks")
    # Anning gained a major risk source in March: worse (↓), by one
    assert majors.loc[ANNING, "delta"] == 1 and majors.loc[ANNING, "trend"] == "↓"
    assert set(majors.drop(index=ANNING)["trend"]) == {"→"}
    assert set(rank_districts(mar, None, "score")["trend"]) == {""}


def test_the_city_bulletin_as_docx_carries_the_stored_figures_the_ranking_and_the_maps(history, artifacts) -> None:
    from docx import Document

    from layers.measures import measure_label
    from layers.reporting.build import build_report
    from layers.reporting.docx_writer import write_docx

    engine, seen = history
    take_snapshot(engine, MONTHS[-1], taken_by="scheduler")
    report = build_report(engine, "bulletin", scope=CITY, period="2027-03", issued_on=dt.date(2027, 4, 8))
    path = artifacts / "bulletin-2027-03.docx"
    write_docx(report, path)
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "全市2027年3月月度安全风险形势通报" in text and "2027年4月8日" in text and "保存的统计快照" in text
    assert doc.core_properties.identifier == "〔2027〕  号"
    headline = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows[1:]}
    city = seen[MONTHS[-1]].loc[CITY]
    assert headline[measure_label("major_risks")] == str(int(city["major_risks"]))
    assert headline[measure_label("hazards_total")] == str(int(city["hazards_total"]))
    ranking = next(t for t in doc.tables if t.rows[0].cells[2].text == "五色评分")
    assert len(ranking.rows) == 15
    best = ranking.rows[1].cells
    scores = seen[MONTHS[-1]].drop(index=CITY)["score"].astype(float)
    assert float(best[2].text) == pytest.approx(scores.min(), abs=0.05) and best[0].text == "1"
    assert len(doc.inline_shapes) == 2  # the 四色 and 五色 maps
    assert ("与2027-02-28相比" in text) and ("五色评分好转的有" in text)


def test_a_district_year_report_lists_its_changes_and_refuses_bad_requests(history) -> None:
    from docx import Document

    from layers.reporting.build import build_report
    from layers.reporting.docx_writer import write_docx

    engine, _ = history
    report = build_report(engine, "stage_report", scope=ANNING, period="2027")
    doc = Document(__import__("io").BytesIO(write_docx(report)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "安宁市2027年专项排查整治阶段性工作报告" in text and "2026-12-31以来的变化" in text
    changes = next(t for t in doc.tables if t.rows[0].cells[0].text == "类别")
    kinds = {row.cells[1].text for row in changes.rows[1:]}
    assert {"变化", "移除", "销号/关闭"} <= kinds
    with pytest.raises(ValueError, match="unknown report"):
        build_report(engine, "weekly", scope=CITY, period="2027-03")
    with pytest.raises(ValueError, match="is not YYYY-MM"):
        build_report(engine, "bulletin", scope=CITY, period="2027")
    with pytest.raises(ValueError, match="no figures"):
        build_report(engine, "bulletin", scope="999999", period="2027-03")


def test_the_city_snapshot_carries_each_industry_and_industries_rank_like_districts(history) -> None:
    from layers.ranking import figures_from_snapshots, industry_figures, rank_districts

    engine, seen = history
    take_snapshot(engine, MONTHS[-1], taken_by="scheduler")
    stored = store.read_snapshots(engine, since=MONTHS[-1], until=MONTHS[-1], kind="month_end",
                                  rubric_version=load_rubric().version)
    industries = industry_figures(figures_from_snapshots(stored))
    assert len(industries) == 19 and industries.loc["hazchem", "name"] == "危险化学品"
    city = seen[MONTHS[-1]].loc[CITY]
    for column in ("major_risks", "hazards_total", "overdue_hazards", "violations", "open_findings"):
        assert industries[column].sum() == city[column], column
    ranked = rank_districts(industries, None, "overdue_hazards", dict(industries["name"]))
    assert ranked.iloc[0]["value"] == industries["overdue_hazards"].min()
    assert ranked.iloc[-1]["name"] in set(industries["name"])


def test_a_line_without_a_field_says_none_not_nan(history) -> None:
    from layers.changes import changes_between

    engine, _ = history
    lines = changes_between(engine, dt.date(2026, 12, 31), MONTHS[-1])
    plain = lines[lines["kind"].isin(["appeared", "removed"])]
    assert len(plain) and all(v is None for v in plain["field"]) and all(v is None for v in plain["before"])
