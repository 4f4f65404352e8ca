"""Periodic submissions of every district report: on time, late, resubmitted, the status matrix, row-level security.

Submissions go through :func:`layers.reporting.service.submit_report` (permission, validation, one audit entry)
into the append-only ``report_submissions``; :func:`layers.reporting.status.submission_status` judges them against
the due date of the definition in force and presents the 调度表's own submissions in the same matrix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from geo import store
from geo.store import Scope, scoped
from layers.reporting.definitions import due_date, load_reports
from layers.reporting.service import Refusal, generate_report, record_snapshot, submit_report
from layers.reporting.status import load_states, submission_status
from tests.test_report_future import ready_year

pytestmark = pytest.mark.postgis
ANNING, XISHAN, DONGCHUAN = "530181", "530112", "530113"
KM = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.7\n% a district's report\n"
FIGURES = {"major_risks": 3, "rectification_rate": 0.5, "score": 81.5}


def _officer(adcode: str, name: str) -> dict[str, Any]:
    return {"username": name, "role": "district_officer", "adcode": adcode}


def _at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=KM)


def _submit(engine: Engine, adcode: str, name: str, day: str, *, kind: str = "four_lists", period: str = "2026",
            content: bytes = PDF, filename: str = "report.pdf", hour: int = 10) -> int:
    return submit_report(engine, kind, adcode=adcode, period=period, filename=filename, content=content,
                         figures=FIGURES, user=_officer(adcode, name), actor="test", via="test", at=_at(day, hour))


def _audits(engine: Engine, action: str) -> list[tuple[str, str | None, dict[str, Any]]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, adcode, details FROM audit_log WHERE action = :a ORDER BY id"),
                            {"a": action}).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _cell(table: Any, adcode: str, kind: str) -> dict[str, Any]:
    rows = table[(table["adcode"] == adcode) & (table["kind"] == kind)].to_dict("records")
    assert len(rows) == 1
    return dict(rows[0])


def test_on_time_late_resubmitted_and_missing(engine: Engine) -> None:
    four = load_reports()["four_lists"]
    due = due_date(four, "2026")
    assert due == dt.date(2026, 6, 20)
    assert _submit(engine, ANNING, "anning", "2026-06-20", hour=23) == 1  # the due day itself, local time: on time
    assert _submit(engine, XISHAN, "xishan", "2026-06-25") == 1
    table = submission_status(engine, "2026-06", today=dt.date(2026, 6, 30))
    assert _cell(table, ANNING, "four_lists")["state"] == "on_time"
    late = _cell(table, XISHAN, "four_lists")
    assert (late["state"], late["days"], late["revision"], late["submitted_by"]) == ("late", 5, 1, "xishan")
    missing = _cell(table, DONGCHUAN, "four_lists")
    assert (missing["state"], missing["days"], missing["due"]) == ("overdue", 10, due)
    early = _cell(submission_status(engine, "2026-06", today=dt.date(2026, 6, 12)), DONGCHUAN, "four_lists")
    assert (early["state"], early["days"]) == ("pending", 8)
    # a resubmission is a new row that corrects the document: the latest revision is shown, but lateness is
    # judged on when the first arrived (on time), and the first stays as sent
    assert _submit(engine, ANNING, "anning", "2026-06-22", content=PDF + b"v2") == 2
    again = _cell(submission_status(engine, "2026-06", today=dt.date(2026, 6, 30)), ANNING, "four_lists")
    assert (again["state"], again["days"], again["revision"]) == ("on_time", 0, 2)
    assert again["first_submitted_at"] == _at("2026-06-20", 23) and again["submitted_at"] == _at("2026-06-22")
    assert again["data_date"] == dt.date(2026, 5, 31)
    sent = store.list_report_submissions(engine, kind="four_lists", adcode=ANNING)
    assert sorted(sent["revision"]) == [1, 2]
    first = store.read_report_submission(engine, int(sent.loc[sent["revision"] == 1, "id"].iloc[0]))
    assert first is not None and first["content"] == PDF and first["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert first["size_bytes"] == len(PDF) and first["figures"] == FIGURES and first["media_type"] == "application/pdf"
    # every district × every district-issued report, the city's bulletin not among them
    kinds = {c for c, d in load_reports().items() if d.issuer == "district"}
    assert set(table["kind"]) == kinds and len(table) == 14 * len(kinds) and "bulletin" not in kinds
    # one audit entry per submission, naming the revision and the document's hash
    entries = _audits(engine, "report_submit")
    assert [(a, d, e["revision"]) for a, d, e in entries] == [("anning", ANNING, 1), ("xishan", XISHAN, 1),
                                                               ("anning", ANNING, 2)]
    assert entries[-1][2]["sha256"] == hashlib.sha256(PDF + b"v2").hexdigest()
    assert set(load_states()) == {"on_time", "late", "not_due", "pending", "overdue"}
    assert all(s.colour.lower() not in ("#00ff00", "#008000", "green") for s in load_states().values())


def test_the_dispatch_table_keeps_its_own_submissions_and_shows_in_the_same_matrix(engine: Engine) -> None:
    with engine.begin() as conn:
        store.insert_submission(conn, "dispatch", adcode=ANNING, credit_code=None, period="2026-11",
                                submitted_by="anning", figures={"spot_total": 1}, at=_at("2026-11-29"))
        store.insert_submission(conn, "dispatch", adcode=XISHAN, credit_code=None, period="2026-11",
                                submitted_by="xishan", figures={"spot_total": 2}, at=_at("2026-12-02"))
    table = submission_status(engine, "2026-11", today=dt.date(2026, 12, 6))
    assert _cell(table, ANNING, "dispatch")["state"] == "on_time"
    assert (_cell(table, XISHAN, "dispatch")["state"], _cell(table, XISHAN, "dispatch")["days"]) == ("late", 2)
    assert _cell(table, DONGCHUAN, "dispatch")["state"] == "overdue"
    with pytest.raises(Refusal, match="调度表"):  # one way to send the 调度表: with its figures, from the campaign
        _submit(engine, ANNING, "anning", "2026-11-29", kind="dispatch", period="2026-11")


def test_refused_submissions_write_nothing(engine: Engine) -> None:
    cases = [
        ({"user": _officer(ANNING, "anning"), "adcode": XISHAN}, "530112"),  # another district
        ({"user": {"username": "leader", "role": "leader", "adcode": None}, "adcode": ANNING}, "报送定期报告"),
        ({"kind": "bulletin"}, "市级发出"),  # issued by the city, not submitted
        ({"kind": "nothing"}, "nothing"),
        ({"period": "2026-06"}, "YYYY"),
        ({"filename": "report.txt", "content": b"plain text"}, "DOCX"),
        ({"filename": "report.docx", "content": PDF}, "DOCX"),  # a PDF under a .docx name
    ]
    for change, expected in cases:
        args: dict[str, Any] = {"kind": "four_lists", "adcode": ANNING, "period": "2026", "filename": "r.pdf",
                                "content": PDF, "user": _officer(ANNING, "anning"), **change}
        kind = args.pop("kind")
        with pytest.raises(Refusal) as refused:
            submit_report(engine, kind, figures=FIGURES, actor="test", via="test", **args)
        assert expected in str(refused.value) and " / " in str(refused.value), change
    assert store.list_report_submissions(engine).empty and _audits(engine, "report_submit") == []


def test_row_level_security_keeps_each_district_to_its_own(engine: Engine, app_engine: Engine) -> None:
    _submit(engine, XISHAN, "xishan", "2026-06-10")
    anning = Scope(all_districts=False, adcode=ANNING, actor="anning", role="district_officer")
    with scoped(anning):
        assert _submit(app_engine, ANNING, "anning", "2026-06-11") == 1
        seen = store.list_report_submissions(app_engine)
        assert list(seen["adcode"]) == [ANNING]
        xishan_id = int(store.list_report_submissions(engine, adcode=XISHAN)["id"].iloc[0])
        assert store.read_report_submission(app_engine, xishan_id) is None
        table = submission_status(app_engine, "2026-06", today=dt.date(2026, 6, 12))
        assert set(table["adcode"]) == {ANNING}
        with pytest.raises(DBAPIError, match="row-level security"), app_engine.begin() as conn:
            store.insert_report_submission(conn, kind="four_lists", adcode=XISHAN, period="2026",
                                           submitted_by="anning", filename="x.pdf", media_type="application/pdf",
                                           sha256=hashlib.sha256(PDF).hexdigest(), content=PDF, figures={})
        with pytest.raises(DBAPIError, match="row-level security"), app_engine.begin() as conn:
            store.insert_report_submission(conn, kind="four_lists", adcode=ANNING, period="2026",
                                           submitted_by="someone-else", filename="x.pdf",
                                           media_type="application/pdf", sha256=hashlib.sha256(PDF).hexdigest(),
                                           content=PDF, figures={})
        for sql in ("UPDATE report_submissions SET note = 'x'", "DELETE FROM report_submissions"):
            with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
                conn.execute(text(sql))
    with scoped(Scope(all_districts=True, actor="leader", role="leader")):
        assert set(store.list_report_submissions(app_engine)["adcode"]) == {ANNING, XISHAN}
        with pytest.raises(DBAPIError, match="row-level security"), app_engine.begin() as conn:
            store.insert_report_submission(conn, kind="four_lists", adcode=ANNING, period="2026",
                                           submitted_by="leader", filename="x.pdf", media_type="application/pdf",
                                           sha256=hashlib.sha256(PDF).hexdigest(), content=PDF, figures={})
    for sql in ("UPDATE report_submissions SET note = 'x'", "DELETE FROM report_submissions"):  # not even the owner
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    assert len(store.list_report_submissions(engine)) == 2


def test_the_service_audits_each_snapshot_report_and_submission_once(demo_copy: dict[str, str]) -> None:
    owner = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    try:
        year = ready_year("four_lists")  # a period whose data date has passed
        made = generate_report(owner, "four_lists", scope=ANNING, period=year, formats=["docx", "pdf"], user=None,
                               actor="scheduler", via="test")
        assert set(made.files) == {"docx", "pdf"} and made.files["pdf"].startswith(b"%PDF")
        assert [(a, d, e["formats"]) for a, d, e in _audits(owner, "report")] == [
            ("scheduler", ANNING, ["docx", "pdf"])]
        doc = Document(io.BytesIO(made.files["docx"]))
        assert any(p.text == f"（报送时限：{year}年6月20日）" for p in doc.paragraphs)
        assert made.report.figures["major_risks"] == int(made.report.figures["major_risks"])
        revision = submit_report(owner, "four_lists", adcode=ANNING, period=year, filename="四张清单.docx",
                                 content=made.files["docx"], figures=made.report.figures,
                                 user=_officer(ANNING, "anning"), actor="x", via="test")
        row = store.list_report_submissions(owner, kind="four_lists").to_dict("records")[0]
        assert revision == 1 and row["figures"] == made.report.figures and row["filename"] == "四张清单.docx"
        assert len(_audits(owner, "report_submit")) == 1 and len(_audits(owner, "report")) == 1
        end = dt.date.today().replace(day=1) - dt.timedelta(days=1)
        figures = record_snapshot(owner, end, kind="month_end", user={"username": "leader", "role": "leader"},
                                  actor="x", via="test")
        assert [(a, e["scopes"], e["via"]) for a, _, e in _audits(owner, "snapshot")] == [("leader", len(figures),
                                                                                           "test")]
        with pytest.raises(Exception, match="保存统计快照"):
            record_snapshot(owner, end, kind="month_end", user=_officer(ANNING, "anning"), actor="x", via="test")
        assert len(_audits(owner, "snapshot")) == 1
    finally:
        owner.dispose()
