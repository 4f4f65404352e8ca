"""The hazard closed loop in PostgreSQL: service steps, history, scope per role, and the database's own guards."""

from __future__ import annotations

import datetime as dt
import itertools
import threading

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from campaign.attachments import Upload
from campaign.lifecycle import StaleHazard, TransitionRefused, load_lifecycle
from campaign.service import Actor, report_hazard, take_step
from geo import hazard_store, store
from geo.accounts import add_user, scope_for
from geo.credit_code import check_character
from geo.store import scoped

pytestmark = pytest.mark.postgis
ANNING, XISHAN = "530181", "530112"
ENT_A = "91530181MA6K5XYW1" + check_character("91530181MA6K5XYW1")
ENT_B = "91530181MA6K5XYW2" + check_character("91530181MA6K5XYW2")
ENT_X = "91530112MA6K5XYW3" + check_character("91530112MA6K5XYW3")
JPEG = b"\xff\xd8\xff\xe0" + b"demo photo" * 10
FIVE = {"measures": "加固围堰", "responsible_unit": "安宁示例矿业", "responsible_person": "张三", "funds_wan": 35.5,
        "deadline": dt.date(2099, 3, 31), "emergency_plan": "尾矿库溃坝专项预案"}
REPORT = {"description": "尾矿库坝体渗漏", "severity": "major", "source": "self_check",
          "found_on": dt.date(2026, 11, 30)}


def _enterprises(engine) -> None:
    rows = [{"key": code, "credit_code": code, "name": name, "industry": "mining", "risk_level": "major",
             "adcode": adcode, "geom": shapely.Point(lon, 24.9), "source_crs": "EPSG:4490", "batch_id": None}
            for code, name, adcode, lon in ((ENT_A, "安宁示例矿业", ANNING, 102.45),
                                            (ENT_B, "安宁另一企业", ANNING, 102.46),
                                            (ENT_X, "西山示例化工", XISHAN, 102.62))]
    with engine.begin() as conn:
        store.upsert_rows(conn, "enterprises", rows, "key")


@pytest.fixture
def app(engine):
    _enterprises(engine)
    for name, role, kw in (("ent_a", "enterprise", {"credit_code": ENT_A}),
                           ("ent_x", "enterprise", {"credit_code": ENT_X}),
                           ("anning", "district_officer", {"adcode": ANNING}),
                           ("sup", "city_supervisor", {}), ("leader", "leader", {})):
        add_user(engine, name, f"{name}-password-2026", role=role, **kw)
    url = make_url(engine.url.render_as_string(hide_password=False)).set(username="riskmap_app")
    eng = store.make_engine(url.render_as_string(hide_password=False), scoped=True)
    yield eng
    eng.dispose()


def _as(engine, username: str):
    user = store.find_user(engine, username)
    assert user is not None
    return scoped(scope_for(user)), Actor.of(user)


def _report(engine, app, username: str = "ent_a", *, adcode: str = ANNING, code: str | None = ENT_A, **extra) -> int:
    ctx, actor = _as(engine, username)
    with ctx:
        return report_hazard(app, actor, {**REPORT, **extra}, adcode=adcode, lon=102.45, lat=24.9,
                             enterprise_name="安宁示例矿业", credit_code=code, uploads=[Upload("坝体.jpg", JPEG)])


def _step(engine, app, username: str, hid: int, action: str, **kw):
    ctx, actor = _as(engine, username)
    with ctx:
        return take_step(app, hid, action, actor, **kw)


def test_a_major_hazard_through_its_whole_life_in_the_database(engine, app) -> None:
    hid = _report(engine, app)
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
    steps = hazard_store.hazard_steps(engine, hid)
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


def test_each_role_sees_only_its_own(engine, app) -> None:
    mine = _report(engine, app)
    _report(engine, app, "anning", code=ENT_B)
    _report(engine, app, "ent_x", adcode=XISHAN, code=ENT_X)
    for username, expected in (("ent_a", {ENT_A}), ("ent_x", {ENT_X}), ("anning", {ENT_A, ENT_B}),
                               ("sup", {ENT_A, ENT_B, ENT_X})):
        ctx, _ = _as(engine, username)
        with ctx:
            seen = hazard_store.list_hazards(app)
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


def test_the_database_refuses_illegal_steps_sent_directly(engine, app) -> None:
    hid = _report(engine, app)
    user = store.find_user(engine, "ent_a")
    with scoped(scope_for(user)):
        # an enterprise cannot verify its own hazard, even writing the step row itself
        with pytest.raises(DBAPIError, match="not allowed"), app.begin() as conn:
            hazard_store.insert_step(conn, hazard_id=hid, version=2, action="verify", from_state="reported",
                                     to_state="verified", severity="major", supervised=False, role="enterprise",
                                     actor="ent_a")
        # nor claim another role
        with pytest.raises(DBAPIError, match="signed-in account"), app.begin() as conn:
            hazard_store.insert_step(conn, hazard_id=hid, version=2, action="verify", from_state="reported",
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


def test_imports_enter_at_their_state_and_never_overwrite_the_workflow(engine, app) -> None:
    row = {"key": "H-IMP-1", "code": "H-IMP-1", "adcode": ANNING, "description": "储罐区报警器失效",
           "severity": "major",
           "found_on": dt.date(2026, 10, 1), "deadline": dt.date(2099, 1, 1), "status": "rectifying",
           "supervision": "none", "geom": shapely.Point(102.45, 24.9), "source_crs": None, "batch_id": None}
    with engine.begin() as conn:
        store.upsert_rows(conn, "hidden_hazards", [row], "key")
        assert hazard_store.record_import_steps(conn, actor="import", role=None, batch_id=None) == 1
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
    assert [s["action"] for s in hazard_store.hazard_steps(engine, hid)] == ["import", "extend"]


def test_two_people_at_once_one_wins(engine, app) -> None:
    hid = _report(engine, app)
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
    assert len(hazard_store.hazard_steps(engine, hid)) == 3


def test_bad_input_is_refused_and_nothing_is_written(engine, app) -> None:
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM hidden_hazards")).scalar_one()
    with pytest.raises(TransitionRefused, match="不是 JPEG、PNG 或 PDF"):
        ctx, actor = _as(engine, "ent_a")
        with ctx:
            report_hazard(app, actor, REPORT, adcode=ANNING, lon=102.45, lat=24.9, credit_code=ENT_A,
                          uploads=[Upload("evil.jpg", b"MZ\x90\x00 not a photo")])
    with pytest.raises(TransitionRefused, match="缺少隐患描述"):
        _report(engine, app, description="  ")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hidden_hazards")).scalar_one() == before
        assert conn.execute(text("SELECT count(*) FROM attachments")).scalar_one() == 0
    hid = _report(engine, app)
    _step(engine, app, "anning", hid, "verify")
    with pytest.raises(TransitionRefused, match="早于今天"):
        _step(engine, app, "ent_a", hid, "start", values={**FIVE, "deadline": dt.date(2020, 1, 1)})
    with engine.connect() as conn:
        assert hazard_store.lifecycle_version(conn) == load_lifecycle().version
