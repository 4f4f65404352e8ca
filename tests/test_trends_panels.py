"""Trends and "what changed since the last report": the series reproduce the stored month ends, and the
cockpit and the district page show them (trend charts with their traces, a change list whose lines open records).
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from geo import store
from layers.rating import load_rubric
from layers.snapshots import CITY, take_snapshot
from layers.trends import TREND_MEASURES, trend_series
from tests.test_snapshots import ANNING, MONTHS, _dated, _edit, _live

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def months(demo_db, pg_cluster):
    """A copy of the demo edited over three simulated months, with the figures seen at each month end."""
    from sqlalchemy.engine import make_url

    from geo import embedded

    name = "rm_trends"
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
    # the scheduler stored January and March; February was missed
    for end in (MONTHS[0], MONTHS[2]):
        take_snapshot(engine, end, taken_by="scheduler")
    yield engine, seen
    engine.dispose()
    embedded.drop_database(pg_cluster, name)


def _same(a: float, b: object) -> bool:
    b = float("nan") if b is None or b is pd.NA else float(b)  # type: ignore[arg-type]
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


def test_the_city_series_is_the_stored_month_ends_and_fills_a_missed_month_from_history(months) -> None:
    engine, seen = months
    series = trend_series(engine, CITY, dt.date(2027, 4, 5), months=4)
    assert [d.isoformat() for d in series.index] == ["2026-12-31", "2027-01-31", "2027-02-28", "2027-03-31"]
    assert list(series["source"]) == ["computed", "snapshot", "computed", "snapshot"]
    stored = store.read_snapshots(engine, kind="month_end").set_index(["period_end", "scope"])
    for end in (MONTHS[0], MONTHS[2]):
        row = stored.loc[(end, CITY)]
        for code in TREND_MEASURES:
            expected = row["score"] if code == "score" else row["measures"][code]
            assert _same(series.loc[end, code], expected), (end, code)
    for end in MONTHS:  # stored or recomputed, each month is what was seen at the time
        for code in TREND_MEASURES:
            assert _same(series.loc[end, code], seen[end].loc[CITY, code]), (end, code)
    # the edits show in the series: a major risk source more each month
    assert list(series["major_risks"].iloc[1:].diff().dropna()) == [1.0, 1.0]
    # without filling, the missed month is a gap
    plain = trend_series(engine, CITY, dt.date(2027, 4, 5), months=4, fill=False)
    assert list(plain["source"]) == [None, "snapshot", None, "snapshot"]
    assert plain.loc[MONTHS[1], list(TREND_MEASURES)].isna().all()
    # before the history begins there is nothing to recompute: gaps even for the city
    early = trend_series(engine, CITY, dt.date(2020, 3, 1), months=2)
    assert list(early["source"]) == [None, None] and early[list(TREND_MEASURES)].isna().all().all()


def test_a_district_session_reads_its_stored_rows_and_leaves_missed_months_as_gaps(months) -> None:
    engine, seen = months
    with store.scoped(store.Scope(all_districts=False, adcode=ANNING, actor="anning", role="district_officer")):
        series = trend_series(engine, ANNING, dt.date(2027, 4, 5), months=3)
    assert list(series["source"]) == ["snapshot", None, "snapshot"]
    for end in (MONTHS[0], MONTHS[2]):
        for code in TREND_MEASURES:
            assert _same(series.loc[end, code], seen[end].loc[ANNING, code]), (end, code)
    assert series.loc[MONTHS[2], "major_risks"] == series.loc[MONTHS[0], "major_risks"] + 2
    assert not math.isnan(series.loc[MONTHS[2], "score"])
    assert series.loc[MONTHS[1], list(TREND_MEASURES)].isna().all()



def _texts(component) -> list[str]:
    """Every string in a Dash component tree, depth first."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, (list, tuple)):
        return [s for c in component for s in _texts(c)]
    children = getattr(component, "children", None)
    return _texts(children) if children is not None else []


def _links(component) -> list[str]:
    """Every ``href`` in a Dash component tree, depth first."""
    if isinstance(component, (list, tuple)):
        return [h for c in component for h in _links(c)]
    if component is None or isinstance(component, str):
        return []
    found = [component.href] if getattr(component, "href", None) else []
    return found + _links(getattr(component, "children", None))


def test_the_change_list_groups_counts_and_names_each_change_in_chinese(months) -> None:
    from dashboard.pages.trends import SHOWN, _change_list
    from layers.changes import changes_between

    engine, _ = months
    lines = changes_between(engine, MONTHS[0], MONTHS[-1])
    body = _change_list(lines, "zh")
    text = "\n".join(_texts(body))
    counts = lines["kind"].value_counts()
    assert f"共 {len(lines)} 条变化：变化 {counts['changed']}、销号/关闭 {counts['closed']}、移除 {counts['removed']}" \
        in text
    assert "风险等级：一般风险 → 重大风险" in text or "风险等级：较大风险 → 重大风险" in text
    assert "隐患状态：已上报 → 不予核定" in text and "状态：待整改 → " in text
    assert not any(word in text for word in ("withdrawn", "reported", "major", "risk_level"))  # no codes shown
    assert sorted(_links(body)) == sorted(lines["link"])  # each line links to its record
    english = "\n".join(_texts(_change_list(lines, "en")))
    assert "Risk level: " in english.replace("：", ": ") and "Changed" in english
    assert _texts(_change_list(lines.iloc[0:0], "zh")) == ["此日以来没有变化。"]
    many = pd.concat([lines[lines["kind"] == "removed"]] * (SHOWN + 3), ignore_index=True)
    assert f"另有 {len(many) - SHOWN} 条未列出" in "\n".join(_texts(_change_list(many, "zh")))


# --- the panels in the browser ---------------------------------------------------------------------------------

_TRACES = """
const g = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return g && g.data ? g.data.map(d => ({name: d.name, x: d.x, y: d.y, colour: d.line && d.line.color})) : null;
"""


def stored_month_ends(owner, ends: list[dt.date]) -> dict[dt.date, pd.DataFrame]:
    """Store month-end snapshots of ``ends`` (the scheduler's rows), from today's figures, one more major risk
    source in Anning and the city each month; return what was stored."""
    from layers.snapshots import _plain, period_figures

    now = period_figures(owner, dt.date.today())
    stored = {}
    for i, end in enumerate(ends):
        figures = now.copy()
        figures.loc[[ANNING, CITY], "major_risks"] += i
        rows = [{"scope": scope, "measures": {c: _plain(r[c]) for c in figures.columns
                                               if c not in ("score", "class_code", "rank", "n_districts")},
                 "score": _plain(r["score"]), "class_code": _plain(r["class_code"]), "rank": _plain(r["rank"]),
                 "n_districts": int(r["n_districts"])} for scope, r in figures.iterrows()]
        store.insert_snapshots(owner, rows, period_end=end, kind="month_end", rubric_version=load_rubric().version,
                               taken_by="scheduler")  # later than the demo's own snapshot of the month: it wins
        stored[end] = figures
    return stored


@pytest.fixture(scope="module")
def served(secured):
    """The app (sign-in on) over a demo copy with the last two month ends stored."""
    from dashboard.pages.trends import today
    from layers.snapshots import month_ends

    base, owner = secured
    ends = month_ends(today(), 12)
    return base, owner, ends, stored_month_ends(owner, ends[-2:])


def _wait_traces(driver, graph_id: str) -> list[dict]:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 90).until(lambda d: d.execute_script(_TRACES, graph_id))


def _open_first_hazard(driver, owner, base: str, panel: str) -> int:
    """Click the first hazard line of ``panel``'s change list; the hazard's page opens. Return its id."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    link = WebDriverWait(driver, 90).until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, f"#{panel} a.change-link[href^='/hazards/']")))
    href = link.get_attribute("href")
    hid = int(href.rsplit("/", 1)[1])
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.ID, "hd-state")))
    assert driver.current_url == f"{base}/hazards/{hid}"
    from sqlalchemy import text

    with owner.connect() as conn:
        code = conn.execute(text("SELECT code FROM hidden_hazards WHERE id = :i"), {"i": hid}).scalar_one()
    assert code in driver.find_element(By.CSS_SELECTOR, ".hazard-page").text
    return hid


def _expected(lines: pd.DataFrame) -> str:
    """What the change list's first line says for ``lines`` (of :func:`layers.changes.changes_between`)."""
    from layers.changes import CHANGE_KINDS

    if not len(lines):
        return "此日以来没有变化。"
    counts = lines["kind"].value_counts()
    return f"共 {len(lines)} 条变化：" + "、".join(f"{zh} {counts[k]}" for k, (zh, _) in CHANGE_KINDS.items()
                                                if k in counts)


def _wait_changes(driver, panel: str, expected: str) -> None:
    """Wait until the change list of ``panel`` opens with ``expected`` (it redraws after a new date)."""
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser import text_at

    def shown(d) -> str | None:
        return text_at(d, f"#{panel} .change-summary", None) or text_at(d, f"#{panel} .change-none", None)

    WebDriverWait(driver, 120).until(lambda d: shown(d) == expected, f"{panel}: {shown(driver)!r} != {expected!r}")


def _choose_since(driver, prefix: str, day: dt.date) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.ID, f"{prefix}-changes-since")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(day.isoformat(), Keys.ENTER)


def _gaps_as_shown(series: pd.DataFrame) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in series["major_risks"]]


@pytest.mark.browser
def test_the_cockpit_shows_the_city_trends_and_a_change_list_whose_lines_open_records(served, driver,
                                                                                       artifacts) -> None:
    from selenium.webdriver.common.by import By
    from sqlalchemy import text

    from dashboard.pages.trends import today
    from layers.changes import changes_between
    from tests.browser import assert_clean_page, sign_in, text_at

    base, owner, ends, stored = served
    sign_in(driver, base, "leader", "/")
    levels = _wait_traces(driver, "cockpit-trend-levels")
    assert [tr["name"] for tr in levels] == ["重大风险", "较大风险", "一般风险", "低风险"]
    assert [tr["colour"] for tr in levels] == ["#E60012", "#FF7F00", "#FFD700", "#0070C0"]  # 四色, no green
    assert levels[0]["x"] == [d.isoformat() for d in ends]
    majors = levels[0]["y"]
    assert majors[-2:] == [stored[e].loc[CITY, "major_risks"] for e in ends[-2:]]
    assert majors[-1] == majors[-2] + 1
    # the other months: recomputed from the history where it reaches back, else gaps marked 无快照
    series = trend_series(owner, CITY, today())
    assert majors[:-2] == _gaps_as_shown(series)[:-2]
    gaps = [d.isoformat() for d, s in series["source"].items() if s is None]
    assert (text_at(driver, "#cockpit-trends .trend-gaps", None) or "") == (
        f"无快照的月份(留空)：{'、'.join(gaps)}" if gaps else "")
    rate = _wait_traces(driver, "cockpit-trend-rate")[0]["y"][-1]
    assert rate == pytest.approx(stored[ends[-1]].loc[CITY, "rectification_rate"] * 100, abs=0.01)
    overdue = _wait_traces(driver, "cockpit-trend-overdue")[0]["y"][-1]
    assert overdue == stored[ends[-1]].loc[CITY, "overdue_hazards"]
    assert driver.find_elements(By.ID, "cockpit-trend-score") == []  # the city has no 五色 score
    # the change list: since the last month end by default
    assert driver.find_element(By.ID, "cockpit-changes-since").get_attribute("value") == ends[-1].isoformat()
    _wait_changes(driver, "cockpit-changes", _expected(changes_between(owner, ends[-1], today())))
    driver.execute_script("document.querySelector('.trend-row').scrollIntoView()")
    driver.save_screenshot(str(artifacts / "trends-cockpit.png"))
    assert_clean_page(driver)
    # nothing changed after the end of today; since long ago, every record appeared
    _choose_since(driver, "cockpit", today())
    _wait_changes(driver, "cockpit-changes", "此日以来没有变化。")
    _choose_since(driver, "cockpit", dt.date(2020, 1, 1))
    lines = changes_between(owner, dt.date(2020, 1, 1), today())
    _wait_changes(driver, "cockpit-changes", _expected(lines))
    with owner.connect() as conn:
        hazards = conn.execute(text("SELECT count(*) FROM hidden_hazards")).scalar_one()
    assert set(lines["kind"]) == {"appeared"} and f"隐患 {hazards}" in text_at(driver, "#cockpit-changes")
    _open_first_hazard(driver, owner, base, "cockpit-changes")


@pytest.mark.browser
def test_the_district_page_shows_its_own_trends_and_changes_to_its_officer(served, driver, artifacts) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from sqlalchemy import text

    from dashboard.pages.trends import today
    from layers.changes import changes_between
    from tests.browser import assert_clean_page, sideways_overflow, sign_in, text_at

    base, owner, ends, stored = served
    sign_in(driver, base, "anning", f"/district/{ANNING}")
    levels = _wait_traces(driver, "district-trend-levels")
    assert levels[0]["y"][-2:] == [stored[e].loc[ANNING, "major_risks"] for e in ends[-2:]]
    # the other months: what is stored (the demo stores each month end); a district session never recomputes
    shown = trend_series(owner, ANNING, today(), fill=False)
    assert levels[0]["y"][:-2] == _gaps_as_shown(shown)[:-2]
    score = _wait_traces(driver, "district-trend-score")[0]["y"]
    assert score[-1] == pytest.approx(stored[ends[-1]].loc[ANNING, "score"], abs=0.01)
    gaps = [d.isoformat() for d, s in shown["source"].items() if s is None]
    assert (text_at(driver, "#district-trends .trend-gaps", None) or "") == (
        "无快照的月份(留空)：" + "、".join(gaps) if gaps else "")
    _wait_changes(driver, "district-changes", _expected(changes_between(owner, ends[-1], today(), adcode=ANNING)))
    _choose_since(driver, "district", dt.date(2020, 1, 1))
    _wait_changes(driver, "district-changes",
                  _expected(changes_between(owner, dt.date(2020, 1, 1), today(), adcode=ANNING)))
    with owner.connect() as conn:
        hazards = conn.execute(text("SELECT count(*) FROM hidden_hazards WHERE adcode = :a"), {"a": ANNING}
                               ).scalar_one()
    assert f"隐患 {hazards}" in text_at(driver, "#district-changes .change-kind-appeared")
    # only 安宁's records: every hazard linked is one of its own
    hrefs = driver.execute_script("return Array.from(document.querySelectorAll('#district-changes a.change-link'))"
                                  ".map(a => a.getAttribute('href'));")
    hazard_ids = [int(h.rsplit("/", 1)[1]) for h in hrefs if h.startswith("/hazards/")]
    with owner.connect() as conn:
        districts = set(conn.execute(text("SELECT adcode FROM hidden_hazards WHERE id = ANY(:i)"),
                                     {"i": hazard_ids}).scalars())
    assert hazard_ids and districts == {ANNING}
    assert {h for h in hrefs if h.startswith("/district/")} == {f"/district/{ANNING}"}
    driver.execute_script("document.querySelector('.district-trends').scrollIntoView()")
    driver.save_screenshot(str(artifacts / "changes-district.png"))
    driver.set_window_size(390, 900)  # a phone: the charts redraw to the narrower column
    WebDriverWait(driver, 15).until(lambda d: sideways_overflow(d) == 0)
    assert_clean_page(driver)
    driver.set_window_size(1600, 1000)
    _open_first_hazard(driver, owner, base, "district-changes")
    assert driver.find_elements(By.ID, "hd-not-found") == []
