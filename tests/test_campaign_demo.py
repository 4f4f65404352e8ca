"""The demo campaign: hazards at every state with valid histories, overdue and supervised ones, photos, reports."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import text

from campaign.lifecycle import Hazard, load_lifecycle, rule_rows
from geo import store

pytestmark = pytest.mark.postgis


@pytest.fixture(scope="module")
def demo(demo_db):
    eng = store.make_engine(demo_db)
    yield eng
    eng.dispose()


def test_every_state_has_hazards_and_every_history_is_one_the_table_allows(demo) -> None:
    life = load_lifecycle()
    allowed = {(r["action"], r["from_state"], r["to_state"], r["role"]) for r in rule_rows(life)}
    with demo.connect() as conn:
        states = dict(conn.execute(text("SELECT state, count(*) FROM hidden_hazards GROUP BY state")).all())
        steps = conn.execute(text("SELECT hazard_id, version, action, from_state, to_state, role FROM hazard_steps "
                                  "ORDER BY hazard_id, version")).all()
        versions = dict(conn.execute(text("SELECT id, version FROM hidden_hazards")).all())
    assert set(states) == set(life.states), states
    by_hazard: dict[int, list] = {}
    for row in steps:
        by_hazard.setdefault(row.hazard_id, []).append(row)
    assert set(by_hazard) == set(versions)
    for hid, rows in by_hazard.items():
        assert [r.version for r in rows] == list(range(1, versions[hid] + 1))
        assert rows[0].action in ("import", "create") and rows[0].from_state is None
        for prev, cur in itertools.pairwise(rows):
            assert cur.from_state == prev.to_state
            assert (cur.action, cur.from_state, cur.to_state, cur.role) in allowed, (hid, cur)


def test_overdue_supervised_photos_accounts_and_reports(demo) -> None:
    life = load_lifecycle()
    today = dt.date.today()
    hazards = store.list_hazards(demo)
    made = hazards.loc[hazards["code"].str.match(r"^YH-\d{6}-\d{8}-")]
    overdue = [r for r in made.to_dict("records")
               if life.is_overdue(Hazard(r["state"], r["severity"], {"deadline": r["deadline"]}), today)]
    assert len(overdue) >= 14  # one per district at least
    assert set(made.loc[made["supervision"].isin(["city", "county"]), "supervision"]) == {"city", "county"}
    with demo.connect() as conn:
        photos = conn.execute(text("SELECT count(*), count(DISTINCT media_type) FROM attachments "
                                   "WHERE media_type = 'image/png'")).one()
        inspections = dict(conn.execute(text("SELECT kind, count(*) FROM inspections GROUP BY kind")).all())
        ents = conn.execute(text("SELECT count(*) FROM users WHERE role = 'enterprise'")).scalar_one()
        dispatch = conn.execute(text("SELECT count(DISTINCT adcode), count(DISTINCT period) "
                                     "FROM dispatch_submissions")).one()
        self_reports = conn.execute(text("SELECT count(*) FROM self_reports WHERE signed_by IS NOT NULL")).scalar()
    assert photos[0] > 100 and inspections["inspection"] >= 14 and inspections["spot_check"] >= 28
    assert ents == 14 and dispatch == (14, 3) and self_reports == 42
