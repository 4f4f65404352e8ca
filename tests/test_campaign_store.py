"""The hazard closed loop in PostgreSQL: service steps, history, scope per role, and the database's own guards."""

from __future__ import annotations

import datetime as dt
import itertools
import threading

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from campaign.attachments import Upload
from campaign.lifecycle import Refused, StaleHazard, TransitionRefused, load_lifecycle
from campaign.service import report_hazard, take_step
from geo import store
from geo.store import scoped
from identity.accounts import scope_for
from tests.campaign_helpers import ANNING, ENT_A, ENT_B, ENT_X, FIVE, JPEG, REPORT, XISHAN, report, signed_in, step

pytestmark = pytest.mark.postgis


def _report(engine, app, username: str = "ent_a", **kw) -> int:
    return report(engine, app, username, **kw)


def _step(engine, app, username: str, hid: int, action: str, **kw):
    return step(engine, app, username, hid, action, **kw)


def _as(engine, username: str):
    return signed_in(engine, username)


def test_a_major_hazard_through_its_whole_life_in_the_database(engine, campaign_app) -> None:
    app = campaign_app
    hid = _report(engine, campaign_app)
    _step(engine, app, "anning", hid, "verify")
    _step(engine, app, "ent_a", hid, "start", values=FIVE)
    _step(engine, app, "sup", hid, "supervise", values={"supervising_unit": "昆明市安委办", "supervision": "city",
                                                         "supervision_deadline": dt.date(2099, 4, 30)})
    _step(engine, app, "ent_a", hid, "report_progress", values={"progress": "完成60%"})
    _step(engine, app, "ent_a", hid, "apply_review", comment="已完成", uploads=[Upload("完工.jpg", JPEG + b"1")])
    _step(engine, app, "anning", hid, "send_back", comment="排水未完成")
    _step(engine, app, "ent_a", hid, "apply_review", comment="补做排水", uploads=[Upload("排水.pdf", b"%PDF-1.7 x")])
    _step(engine, app, "anning", hid, "pass_review", values={"assessment": "第三方评估：隐患已消除"})
    with pytest.raises(TransitionRefused, match="督办层级"):
        _step(engine, app, "anning", hid, "strike_off")
    row = _step(engine, app, "sup", hid, "strike_off")
    assert (row["state"], row["status"], row["version"]) == ("closed", "closed", 10)
    assert row["closed_on"] is not None and row["funds_wan"] == 35.5 and row["supervision"] == "city"
    steps = store.hazard_steps(engine, hid)
    assert [s["action"] for s in steps] == ["create", "verify", "start", "supervise", "report_progress",
                                            "apply_review", "send_back", "apply_review", "pass_review", "strike_off"]
    assert [s["version"] for s in steps] == list(range(1, 11))
    assert all(a["to_state"] == b["from_state"] for a, b in itertools.pairwise(steps))
    assert steps[2]["changes"]["funds_wan"] == [None, 35.5]
    assert len(steps[5]["attachments"]) == 1 and steps[0]["attachments"]
    with engine.connect() as conn:
        audited = conn.execute(text("SELECT count(*) FROM audit_log WHERE action IN ('hazard_report', 'hazard_step') "
                                    "AND target = (SELECT code FROM hidden_hazards WHERE id = :id)"), {"id": hid})
        assert audited.scalar_one() == 10
        assert conn.execute(text("SELECT count(*) FROM attachments WHERE hazard_id = :id"), {"id": hid}).scalar() == 3


def test_each_role_sees_only_its_own(engine, campaign_app) -> None:
    app = campaign_app
    mine = _report(engine, campaign_app)
    _report(engine, app, "anning", code=ENT_B)
    _report(engine, app, "ent_x", adcode=XISHAN, code=ENT_X)
    for username, expected in (("ent_a", {ENT_A}), ("ent_x", {ENT_X}), ("anning", {ENT_A, ENT_B}),
                               ("sup", {ENT_A, ENT_B, ENT_X})):
        ctx, _ = _as(engine, username)
        with ctx:
            seen = store.list_hazards(app)
            assert set(seen["credit_code"]) == expected, username
            with app.connect() as conn:
                ents = {r[0] for r in conn.execute(text("SELECT credit_code FROM enterprises"))}
                steps = {r[0] for r in conn.execute(text("SELECT credit_code FROM hazard_steps"))}
                photos = {r[0] for r in conn.execute(text("SELECT credit_code FROM attachments"))}
            assert steps == photos == expected, username
            if username.startswith("ent_"):
                assert ents == expected and store.read_layer(app, "buildings").empty
    ctx, actor = _as(engine, "ent_x")
    with ctx, pytest.raises(LookupError):
        take_step(app, mine, "apply_review", actor, comment="x", uploads=[Upload("a.jpg", JPEG)])
    ctx, actor = _as(engine, "ent_x")
    with ctx, pytest.raises(TransitionRefused, match="只能上报本企业"):
        report_hazard(app, actor, REPORT, adcode=ANNING, lon=102.45, lat=24.9, credit_code=ENT_A)


def test_the_database_refuses_illegal_steps_sent_directly(engine, campaign_app) -> None:
    app = campaign_app
    hid = _report(engine, campaign_app)
    user = store.find_user(engine, "ent_a")
    with scoped(scope_for(user)):
        # an enterprise cannot verify its own hazard, even writing the step row itself
        with pytest.raises(DBAPIError, match="not allowed"), app.begin() as conn:
            store.insert_step(conn, hazard_id=hid, version=2, action="verify", from_state="reported",
                                     to_state="verified", severity="major", supervised=False, role="enterprise",
                                     actor="ent_a")
        # nor claim another role
        with pytest.raises(DBAPIError, match="signed-in account"), app.begin() as conn:
            store.insert_step(conn, hazard_id=hid, version=2, action="verify", from_state="reported",
                                     to_state="verified", severity="major", supervised=False,
                                     role="district_officer", actor="ent_a")
        # nor move the state without a step
        with app.begin() as conn:
            conn.execute(text("UPDATE hidden_hazards SET state = 'closed', status = 'closed' WHERE id = :id"),
                         {"id": hid})
        with pytest.raises(DBAPIError, match="no matching step"), app.begin() as conn:
            conn.execute(text("UPDATE hidden_hazards SET state = 'closed', version = 5 WHERE id = :id"), {"id": hid})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT state, status, version FROM hidden_hazards WHERE id = :id"),
                            {"id": hid}).one() == ("reported", "open", 1)
    # history is append-only, for the owner too
    for sql in ("UPDATE hazard_steps SET comment = 'x'", "DELETE FROM hazard_steps"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))


def test_imports_enter_at_their_state_and_never_overwrite_the_workflow(engine, campaign_app) -> None:
    app = campaign_app
    row = {"key": "H-IMP-1", "code": "H-IMP-1", "adcode": ANNING, "description": "储罐区报警器失效",
           "severity": "major",
           "found_on": dt.date(2026, 10, 1), "deadline": dt.date(2099, 1, 1), "status": "rectifying",
           "supervision": "none", "geom": shapely.Point(102.45, 24.9), "source_crs": None, "batch_id": None}
    with engine.begin() as conn:
        store.upsert_rows(conn, "hidden_hazards", [row], "key")
        assert store.record_import_steps(conn, actor="import", role=None, batch_id=None) == 1
    with engine.connect() as conn:
        hid, state = conn.execute(text("SELECT id, state FROM hidden_hazards WHERE key = 'H-IMP-1'")).one()
    assert state == "rectifying"
    _step(engine, app, "anning", hid, "extend", values={"deadline": dt.date(2099, 6, 30)}, comment="雨季")
    with engine.begin() as conn:  # the 台账 re-imported with an older status and deadline
        again = {**row, "status": "open", "description": "储罐区可燃气体报警器失效"}
        store.upsert_rows(conn, "hidden_hazards", [again], "key")
    with engine.connect() as conn:
        got = conn.execute(text("SELECT state, status, deadline, description, version FROM hidden_hazards "
                                "WHERE id = :id"), {"id": hid}).one()
    assert got == ("rectifying", "rectifying", dt.date(2099, 6, 30), "储罐区可燃气体报警器失效", 2)
    assert [s["action"] for s in store.hazard_steps(engine, hid)] == ["import", "extend"]


def test_two_people_at_once_one_wins(engine, campaign_app) -> None:
    app = campaign_app
    hid = _report(engine, campaign_app)
    _step(engine, app, "anning", hid, "verify")
    results: list[object] = []
    barrier = threading.Barrier(2)

    def act(username: str, comment: str) -> None:
        barrier.wait()
        try:
            _step(engine, app, username, hid, "extend" if username == "anning" else "start",
                  values={"deadline": dt.date(2099, 5, 1)} if username == "anning" else FIVE,
                  comment=comment, expected_version=2)
            results.append("ok")
        except TransitionRefused as exc:
            results.append(exc)

    threads = [threading.Thread(target=act, args=a) for a in (("anning", "延期"), ("ent_a", "开始"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1
    loser = next(r for r in results if r != "ok")
    assert isinstance(loser, StaleHazard | TransitionRefused)
    assert len(store.hazard_steps(engine, hid)) == 3


def test_bad_input_is_refused_and_nothing_is_written(engine, campaign_app) -> None:
    app = campaign_app
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM hidden_hazards")).scalar_one()
    with pytest.raises(Refused, match="不是 JPEG、PNG 或 PDF"):
        ctx, actor = _as(engine, "ent_a")
        with ctx:
            report_hazard(app, actor, REPORT, adcode=ANNING, lon=102.45, lat=24.9, credit_code=ENT_A,
                          uploads=[Upload("evil.jpg", b"MZ\x90\x00 not a photo")])
    with pytest.raises(TransitionRefused, match="缺少隐患描述"):
        _report(engine, app, description="  ")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hidden_hazards")).scalar_one() == before
        assert conn.execute(text("SELECT count(*) FROM attachments")).scalar_one() == 0
    hid = _report(engine, campaign_app)
    _step(engine, app, "anning", hid, "verify")
    with pytest.raises(TransitionRefused, match="早于今天"):
        _step(engine, app, "ent_a", hid, "start", values={**FIVE, "deadline": dt.date(2020, 1, 1)})
    with engine.connect() as conn:
        assert store.lifecycle_version(conn) == load_lifecycle().version


def test_a_register_imported_as_a_file_starts_histories_and_keeps_the_workflow(engine, campaign_app,
                                                                               tmp_path) -> None:
    import geopandas as gpd

    from geo.importer import import_file

    rows = gpd.GeoDataFrame({
        "编号": ["H-F-1", "H-F-2"], "行政区划代码": [ANNING, ANNING], "隐患描述": ["罐区报警器失效", "消防通道堵塞"],
        "隐患级别": ["重大", "一般"], "发现日期": ["2026-10-01", "2026-10-02"],
        "整改期限": ["2099-01-01", "2099-01-02"],
        "整改状态": ["整改中", "待整改"], "挂牌督办": ["无", "无"]},
        geometry=gpd.points_from_xy([102.45, 102.46], [24.92, 24.92]), crs=4490)
    path = tmp_path / "台账.gpkg"
    rows.to_file(path, driver="GPKG")
    report = import_file(engine, "hidden_hazards", path, actor="import-test")
    assert report.rows_imported == 2 and not report.notes
    with engine.connect() as conn:
        hid = conn.execute(text("SELECT id FROM hidden_hazards WHERE key = 'H-F-1'")).scalar_one()
        assert [s["action"] for s in store.hazard_steps(conn, hid)] == ["import"]
    _step(engine, campaign_app, "anning", hid, "extend", values={"deadline": dt.date(2099, 6, 30)}, comment="雨季")
    rows.loc[0, "整改状态"] = "已销号"
    rows.to_file(path, driver="GPKG")
    again = import_file(engine, "hidden_hazards", path, actor="import-test")
    assert len(again.notes) == 1 and "H-F-1" in again.notes[0] and "保留其流程状态" in again.notes[0]
    with engine.connect() as conn:
        state, deadline = conn.execute(text("SELECT state, deadline FROM hidden_hazards WHERE id = :i"),
                                       {"i": hid}).one()
        assert (state, deadline) == ("rectifying", dt.date(2099, 6, 30))
        assert [s["action"] for s in store.hazard_steps(conn, hid)] == ["import", "extend"]
