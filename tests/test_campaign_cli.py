"""``riskmap --user … hazard``: the same rules and audit as the pages, for scripts and bulk work."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import text

from geo import store
from tests.test_cli_as_user import _audit, _run

pytestmark = pytest.mark.postgis
ANNING = "530181"


def _owner(env: dict[str, str]):
    return store.make_engine(env["RISKMAP_DATABASE_URL"])


def test_report_and_walk_a_hazard_from_the_command_line(demo_copy: dict[str, str], tmp_path: Path) -> None:
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 cli photo")
    with _owner(demo_copy).connect() as conn:
        code = conn.execute(text("SELECT credit_code FROM users WHERE username = 'ent-530181'")).scalar_one()
    rep = _run(demo_copy, "ent-530181", "hazard", "report", "--district", ANNING, "--lon", "102.45", "--lat", "24.9",
               "--credit-code", code, "--set", "description=命令行上报：罐区防火堤裂缝", "--set", "severity=major",
               "--set", "source=self_check", "--set", f"found_on={dt.date.today()}", "--attach", str(photo))
    assert rep.exit_code == 0, rep.output
    hid = int(rep.output.split()[0])
    shown = _run(demo_copy, "anning", "hazard", "show", str(hid))
    assert shown.exit_code == 0 and "may take now: verify" in shown.output
    # the enterprise cannot verify its own hazard: refused with the reason, nothing written
    refused = _run(demo_copy, "ent-530181", "hazard", "transition", str(hid), "verify")
    assert refused.exit_code == 1 and "企业无权核定" in refused.output
    ok = _run(demo_copy, "anning", "hazard", "transition", str(hid), "verify", "--expected-version", "1")
    assert ok.exit_code == 0 and "→ verified (v2)" in ok.output
    stale = _run(demo_copy, "anning", "hazard", "transition", str(hid), "dismiss", "--comment", "x",
                 "--expected-version", "1")
    assert stale.exit_code == 1 and "已被他人修改" in stale.output
    missing = _run(demo_copy, "ent-530181", "hazard", "transition", str(hid), "start", "--set", "measures=修复",
                   "--set", "deadline=2020-01-01", "--lang", "en")
    assert missing.exit_code == 1 and "in the past" in missing.output and "funds" in missing.output
    started = _run(demo_copy, "ent-530181", "hazard", "transition", str(hid), "start",
                   "--set", "measures=修复防火堤", "--set", "responsible_unit=安宁演示石化",
                   "--set", "responsible_person=王工",
                   "--set", "funds_wan=20", "--set", "deadline=2099-01-01", "--set", "emergency_plan=罐区预案")
    assert started.exit_code == 0, started.output
    listed = _run(demo_copy, "anning", "hazard", "list", "--state", "rectifying", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert str(hid) in {r["id"] for r in rows} and {r["state"] for r in rows} == {"rectifying"}
    steps = _audit(demo_copy, "hazard_step")
    assert [(actor, details["action"]) for actor, _, details in steps[-2:]] == [("anning", "verify"),
                                                                                ("ent-530181", "start")]
    # without an account the workflow is not run at all
    bare = _run(demo_copy, None, "hazard", "list")
    assert bare.exit_code != 0 and "--user" in bare.output


def test_an_enterprise_lists_only_its_own(demo_copy: dict[str, str]) -> None:
    with _owner(demo_copy).connect() as conn:
        code = conn.execute(text("SELECT credit_code FROM users WHERE username = 'ent-530181'")).scalar_one()
        own = {str(r[0]) for r in conn.execute(text("SELECT id FROM hidden_hazards WHERE credit_code = :c"),
                                               {"c": code})}
    listed = _run(demo_copy, "ent-530181", "hazard", "list", "--format", "csv")
    assert listed.exit_code == 0
    assert {r["id"] for r in csv.DictReader(io.StringIO(listed.stdout))} == own and own


def test_an_empty_csv_list_still_names_every_column(demo_copy: dict[str, str]) -> None:
    from riskmap.hazard_cli import HAZARD_LIST_COLUMNS

    listed = _run(demo_copy, "anning", "hazard", "list", "--state", "no_such_state", "--format", "csv")
    assert listed.exit_code == 0, listed.output
    reader = csv.DictReader(io.StringIO(listed.stdout))
    assert tuple(reader.fieldnames or ()) == HAZARD_LIST_COLUMNS and list(reader) == []
