"""The officer sees the city's 五色 rating of their district, and still reads no other district's rows.

Row-level security once made an officer's rating a rating of one district against itself (89.6, 第 1/1 名
against the leader's 85.3, 第 1/14 名). Ratings computed at city scope are published to
``published_ratings``; a district session reads its own row only. A district session cannot widen its
scope to compute them (#15): it shows the latest published rating, marked stale when the data changed
since, and none (never a rating against itself) before the first is published.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, exc, text
from sqlalchemy.engine import make_url

from geo import embedded, store
from layers.city import city_snapshot
from layers.rating import explain
from tests.clients import app_engine_of
from tests.conftest import _fresh

pytestmark = pytest.mark.postgis
ANNING, DONGCHUAN = "530181", "530113"
AS_OF = dt.date(2026, 11, 1)
LEADER = store.Scope(all_districts=True, actor="leader")
OFFICER = store.Scope(all_districts=False, adcode=ANNING, actor="anning")


@pytest.fixture
def engines(pg_cluster: embedded.Cluster, demo_db: str) -> Iterator[tuple[Engine, Engine]]:
    """The owner and the application role (row-level security on) over a private copy of the demo."""
    name, owner = _fresh(pg_cluster, make_url(demo_db).database)
    app = app_engine_of(owner)
    try:
        with owner.begin() as conn:  # nothing published yet: the officer comes first
            conn.execute(text("DELETE FROM published_ratings"))
        yield owner, app
    finally:
        app.dispose()
        owner.dispose()
        embedded.drop_database(pg_cluster, name)


def test_officer_reads_the_leaders_rating_and_no_other_rows(engines: tuple[Engine, Engine]) -> None:
    owner, app = engines
    assert not store.bypasses_row_security(app)
    with store.scoped(OFFICER):
        first = city_snapshot(app, as_of=AS_OF)  # nothing published: no rating, never one against itself
        assert first.ratings.empty and list(first.indicators.index) == [ANNING]
        with pytest.raises(exc.DBAPIError, match="row-level security"):  # nor may it widen itself to publish
            store.publish_ratings(app, [{"adcode": ANNING, "score": 0.0, "class_code": "c5", "rank": 14,
                                         "n_districts": 14, "contributions": {}}],
                                  data_version=1, as_of=AS_OF, rubric_version="x")
    with store.scoped(LEADER):
        leader = city_snapshot(app, as_of=AS_OF)  # a city-wide session publishes the city's ratings
        everything = store.read_published_ratings(app)
    with store.scoped(OFFICER):
        officer = city_snapshot(app, as_of=AS_OF)
        published = store.read_published_ratings(app)
        enterprises = store.read_layer(app, "enterprises")
        with app.connect() as conn:
            foreign = conn.execute(text("SELECT count(*) FROM enterprises WHERE adcode = :a"),
                                   {"a": DONGCHUAN}).scalar_one()
    assert not bool(officer.ratings.loc[ANNING, "rating_stale"])
    assert int(officer.ratings.loc[ANNING, "rating_version"]) == leader.version

    # the officer's rating is the city's: same score, class, rank of 14 and contributions
    mine, theirs = officer.ratings.loc[ANNING], leader.ratings.loc[ANNING]
    assert list(officer.ratings.index) == [ANNING]
    assert float(mine["score"]) == pytest.approx(float(theirs["score"]), abs=1e-9)
    assert (mine["class_code"], int(mine["rank"]), int(mine["n_districts"])) == (
        theirs["class_code"], int(theirs["rank"]), 14)
    assert mine["class_zh"] == theirs["class_zh"] and mine["colour"] == theirs["colour"]
    ours = explain(officer.ratings, ANNING, officer.rubric).set_index("code")
    city = explain(leader.ratings, ANNING, leader.rubric).set_index("code")
    assert ours["contribution"].to_dict() == pytest.approx(city["contribution"].to_dict(), abs=1e-9)
    assert ours["raw"].to_dict() == pytest.approx(city["raw"].to_dict(), abs=1e-9)
    # a rating of the district against itself would be 第 1/1 名 with other contributions
    assert leader.ratings["score"].nunique() > 1
    assert officer.kpis(ANNING) == leader.kpis(ANNING)  # every tile of the district, as the leader reads it

    # ... read from its own published row only, and no other district's rows
    assert list(published.index) == [ANNING]
    assert len(everything) == 14 and set(everything["n_districts"]) == {14}
    assert set(enterprises["adcode"]) == {ANNING} and foreign == 0
    with owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM enterprises WHERE adcode = :a"),
                            {"a": DONGCHUAN}).scalar_one() > 0  # (there are rows to hide)


def test_only_a_city_wide_session_publishes(engines: tuple[Engine, Engine]) -> None:
    owner, app = engines
    row = {"adcode": ANNING, "score": 0.0, "class_code": "c5", "rank": 14, "n_districts": 14, "contributions": {}}
    with store.scoped(OFFICER), pytest.raises(exc.DBAPIError, match="row-level security"):
        store.publish_ratings(app, [row], data_version=1, as_of=AS_OF, rubric_version="x")
    with store.scoped(LEADER):
        city_snapshot(app, as_of=AS_OF)
    with owner.connect() as conn:
        published = dict(conn.execute(text("SELECT adcode, score FROM published_ratings")).all())
    assert len(published) == 14 and published[ANNING] > 0  # the officer's forged 0 was refused


def test_a_change_marks_the_rating_stale_until_a_city_session_republishes(engines: tuple[Engine, Engine]) -> None:
    owner, app = engines
    with store.scoped(LEADER):
        before = city_snapshot(app, as_of=AS_OF)
        fid = int(before.findings[(before.findings["adcode"] == ANNING)
                                  & (before.findings["verdict"] == "violation")].iloc[0]["id"])
        store.set_finding_status(app, fid, "closed", actor="leader")
    with store.scoped(OFFICER):
        stale = city_snapshot(app, as_of=AS_OF)  # a new data version: the published rating predates it
    assert bool(stale.ratings.loc[ANNING, "rating_stale"]) and stale.version != before.version
    assert int(stale.ratings.loc[ANNING, "rating_version"]) == before.version
    with store.scoped(LEADER):
        city_snapshot(app, as_of=AS_OF)  # the city's ratings are recomputed and published
    with store.scoped(OFFICER):
        after = city_snapshot(app, as_of=AS_OF)
    with owner.connect() as conn:
        version = conn.execute(text("SELECT DISTINCT data_version FROM published_ratings")).scalars().all()
    assert version == [store.data_version(owner)] and version[0] != before.version
    assert not bool(after.ratings.loc[ANNING, "rating_stale"])

    def violations(snap: Any) -> float:
        return float(explain(snap.ratings, ANNING, snap.rubric).set_index("code").loc["open_violations", "raw"])

    assert violations(after) == violations(before) - 1
    assert violations(stale) == violations(before)  # the stale rating is the one published, as labelled
