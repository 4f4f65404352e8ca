"""``riskmap snapshot`` and ``riskmap report`` as a scheduler and people use them, audited and scoped."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from docx import Document

from geo import store
from layers.reporting.definitions import due_date, load_reports, period_of
from layers.snapshots import month_ends
from tests.test_cli_as_user import _audit, _run
from tests.test_ranking_page import backdate_history
from tests.test_report_future import ready_year

pytestmark = pytest.mark.postgis
ANNING = "530181"
#: Last month: this month's bulletin is as of its last day, which has not passed (no report of a future date).
PERIOD = f"{month_ends(dt.date.today(), 1)[0]:%Y-%m}"


def test_leader_snapshots_then_an_officer_reports_on_the_own_district_only(demo_copy: dict[str, str],
                                                                           tmp_path: Path) -> None:
    end = month_ends(dt.date.today(), 1)[0]
    owner = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    backdate_history(owner)  # the demo's history begins the day it is loaded: give last month its data
    owner.dispose()
    refused = _run(demo_copy, "anning", "snapshot", "--as-of", end.isoformat())
    assert refused.exit_code != 0 and "保存统计快照" in refused.output
    early = _run(demo_copy, "anning", "report", "generate", "bulletin", "--district", ANNING, "--period", PERIOD,
                 "--out", str(tmp_path))
    assert early.exit_code != 0 and "尚未保存" in early.output  # no city snapshot yet: no half-true report
    taken = _run(demo_copy, "leader", "snapshot", "--as-of", end.isoformat())
    assert taken.exit_code == 0, taken.output
    assert "安宁市" in taken.output and "全市" in taken.output
    engine = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    stored = store.read_snapshots(engine, since=end, until=end)
    engine.dispose()
    assert len(stored) == 15 and set(stored["kind"]) == {"month_end"} and set(stored["taken_by"]) == {"leader"}
    assert [(actor, details["kind"]) for actor, _, details in _audit(demo_copy, "snapshot")] == [("leader",
                                                                                                 "month_end")]
    own = _run(demo_copy, "anning", "report", "generate", "bulletin", "--district", ANNING, "--period", PERIOD,
               "--format", "docx,pdf", "--out", str(tmp_path))
    assert own.exit_code == 0, own.output
    assert (tmp_path / f"bulletin-{ANNING}-{PERIOD}.pdf").read_bytes().startswith(b"%PDF")  # both formats written
    doc = Document(str(tmp_path / f"bulletin-{ANNING}-{PERIOD}.docx"))
    assert any(p.text.startswith("安宁市") and "月度安全风险形势通报" in p.text for p in doc.paragraphs)
    other = _run(demo_copy, "anning", "report", "generate", "bulletin", "--district", "530112", "--period", PERIOD,
                 "--out", str(tmp_path / "x"))
    assert other.exit_code != 0 and "not in your scope" in other.output
    assert not (tmp_path / "x").exists()
    assert [(actor, adcode) for actor, adcode, _ in _audit(demo_copy, "report")] == [("anning", ANNING)]


def test_report_list_and_bad_requests(demo_copy: dict[str, str], tmp_path: Path) -> None:
    listed = _run(demo_copy, "viewer", "report", "list")
    assert listed.exit_code == 0
    today = dt.date.today()
    for code, definition in load_reports().items():
        assert f"{due_date(definition, period_of(definition, today))}" in listed.output and code in listed.output
    both = _run(demo_copy, "leader", "report", "generate", "bulletin", "--city", "--district", ANNING,
                "--out", str(tmp_path))
    assert both.exit_code == 2 and "exactly one" in both.output
    fmt = _run(demo_copy, "leader", "report", "generate", "bulletin", "--city", "--format", "odt",
               "--out", str(tmp_path))
    assert fmt.exit_code == 2 and "odt" in fmt.output
    period = _run(demo_copy, "leader", "report", "generate", "summary", "--city", "--period", "2026-13",
                  "--out", str(tmp_path))
    assert period.exit_code == 2 and "is not YYYY" in period.output and "--period" in period.output
    ent = _run(demo_copy, "ent-530181", "report", "generate", "bulletin", "--district", ANNING, "--out",
               str(tmp_path))
    assert ent.exit_code != 0 and "生成报告" in ent.output


def test_submit_status_set_and_reset_round_trip(demo_copy: dict[str, str], tmp_path: Path) -> None:
    year = ready_year("four_lists")  # this year's once its data date (05-31) has passed, else last year's
    current = period_of(load_reports()["four_lists"], dt.date.today())  # what `report set` and `list` show
    changed = _run(demo_copy, "admin", "report", "set", "four_lists", "due_day", "25", "--reason", "市安委办通知延期")
    assert changed.exit_code == 0, changed.output
    assert f"{current}-06-25" in changed.output
    refused = _run(demo_copy, "leader", "report", "set", "four_lists", "due_day", "26", "--reason", "越权修改测试")
    assert refused.exit_code != 0 and "修改报告定义" in refused.output
    bad = _run(demo_copy, "admin", "report", "set", "four_lists", "due_day", "31", "--reason", "六月三十一日")
    assert bad.exit_code != 0 and "6 月没有 31 日" in bad.output and "due_day" in bad.output
    listed = _run(demo_copy, "viewer", "report", "list")
    assert f"{current}-06-25" in listed.output
    made = _run(demo_copy, None, "report", "generate", "four_lists", "--district", ANNING, "--period", year,
                "--out", str(tmp_path))
    assert made.exit_code == 0, made.output
    docx = tmp_path / f"four_lists-{ANNING}-{year}.docx"
    assert any(p.text == f"（报送时限：{year}年6月25日）" for p in Document(str(docx)).paragraphs)
    sent = _run(demo_copy, "anning", "report", "submit", "four_lists", str(docx), "--district", ANNING,
                "--period", year, "--note", "第一次报送")
    assert sent.exit_code == 0 and "revision 1" in sent.output, sent.output
    again = _run(demo_copy, "anning", "report", "submit", "four_lists", str(docx), "--district", ANNING,
                 "--period", year)
    assert again.exit_code == 0 and "revision 2" in again.output
    other = _run(demo_copy, "anning", "report", "submit", "four_lists", str(docx), "--district", "530112",
                 "--period", year)
    assert other.exit_code != 0 and "530112" in other.output
    engine = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    try:
        rows = store.list_report_submissions(engine)
        assert sorted(rows["revision"]) == [1, 2] and set(rows["adcode"]) == {ANNING}
        assert set(rows["sha256"]) == {hashlib.sha256(docx.read_bytes()).hexdigest()}
    finally:
        engine.dispose()
    assert [(a, d) for a, d, _ in _audit(demo_copy, "report_submit")] == [("anning", ANNING)] * 2
    city = _run(demo_copy, "leader", "report", "status", "--period", f"{year}-06")
    assert city.exit_code == 0, city.output
    lines = [line for line in city.output.splitlines() if "four_lists" in line]
    assert len(lines) == 14
    today = dt.date.today()
    due = dt.date(int(year), 6, 25)
    anning = next(line for line in lines if line.startswith(ANNING))
    state = "迟报" if today > due else "已报送"
    assert state in anning and "anning r2" in anning and f"截止 {due}" in anning
    assert all(("逾期未报" if today > due else "未报送") in line for line in lines if not line.startswith(ANNING))
    own = _run(demo_copy, "anning", "report", "status", "--period", f"{year}-06")
    assert {line.split()[0] for line in own.stdout.splitlines() if line.strip()} == {ANNING}  # progress: stderr
    reset = _run(demo_copy, "admin", "report", "reset", "four_lists", "due_day", "--reason", "恢复默认时限")
    assert reset.exit_code == 0 and "reset" in reset.output
    again_made = _run(demo_copy, None, "report", "generate", "four_lists", "--district", ANNING, "--period", year,
                      "--out", str(tmp_path / "after"))
    assert again_made.exit_code == 0
    after = Document(str(tmp_path / "after" / f"four_lists-{ANNING}-{year}.docx"))
    assert any(p.text == f"（报送时限：{year}年6月20日）" for p in after.paragraphs)
    assert [d["new"] for _, _, d in _audit(demo_copy, "report_definition_change")] == [25, 20]
