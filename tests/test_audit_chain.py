"""The audit log is append-only for every role and chained by hashes; ``riskmap audit verify`` proves it."""

from __future__ import annotations

import hashlib
import threading

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from geo import schema, store
from geo.store import Scope, scoped
from geo.store.audit_chain import CANONICAL
from riskmap.cli import main

pytestmark = pytest.mark.postgis
ANNING, XISHAN = "530181", "530112"


def _append(engine: Engine, n: int, actor: str = "tester", adcode: str | None = ANNING) -> None:
    with engine.begin() as conn:
        for i in range(n):
            store.audit(conn, actor=actor, action="export", target=f"t{i}", adcode=adcode,
                        details={"i": i, "名称": "安宁", "nested": {"b": 1, "a": [1.5, None]}})


def _ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [int(i) for i in conn.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars()]


def _behind_the_triggers(engine: Engine, sql: str, **params: object) -> None:
    """Change the log as a superuser with triggers off (what the chain must reveal)."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(sql), params)


def _verify(engine: Engine) -> Result:
    return CliRunner().invoke(main, ["audit", "verify"], env={"RISKMAP_DATABASE_URL": str(
        engine.url.render_as_string(hide_password=False))}, catch_exceptions=False)


def test_appended_entries_form_a_chain(engine: Engine, app_engine: Engine) -> None:
    before = store.verify_audit_chain(engine)
    assert before.ok and before.count >= 1  # the template's district import (and the fixtures' accounts)
    _append(engine, 3)
    with scoped(Scope(all_districts=False, adcode=ANNING, actor="anning")):
        _append(app_engine, 2, actor="anning")  # the app role appends without reading other districts
        with app_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_log WHERE adcode = :a"), {"a": XISHAN}).scalar() == 0
    _append(engine, 1, adcode=XISHAN)
    report = store.verify_audit_chain(engine)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
        mine = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'export'")).scalar_one()
    assert report.ok and report.count == total and mine == 6 and total >= before.count + 6
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, prev_hash, row_hash FROM audit_log ORDER BY id")).all()
        head = conn.execute(text("SELECT last_id, last_hash FROM audit_chain_head")).one()
    assert rows[0][1] is None and all(bytes(rows[i][1]) == bytes(rows[i - 1][2]) for i in range(1, len(rows)))
    assert (head[0], bytes(head[1]).hex()) == (rows[-1][0], report.last_hash)
    result = _verify(engine)
    assert result.exit_code == 0 and f"OK: {report.count} " in result.output and str(report.last_hash) in result.output


def test_row_hash_is_sha256_of_previous_hash_and_canonical_text(engine: Engine) -> None:
    _append(engine, 1)
    with engine.connect() as conn:
        prev, row, canon = conn.execute(text(
            f"SELECT prev_hash, row_hash, {CANONICAL} FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    assert bytes(row) == hashlib.sha256(bytes(prev) + canon.encode()).digest()
    assert '"名称": "安宁"' in canon and canon.startswith("[") and "Z\"" in canon


@pytest.mark.parametrize("sql", ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log",
                                 "TRUNCATE audit_log", "UPDATE audit_chain_head SET last_id = 0",
                                 "DELETE FROM audit_chain_head"])
def test_owner_cannot_change_the_log(engine: Engine, sql: str) -> None:
    _append(engine, 2)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(sql))
    assert store.verify_audit_chain(engine).count == 3


def test_app_role_has_no_update_delete_or_truncate(engine: Engine, app_engine: Engine) -> None:
    with scoped(Scope(all_districts=True, actor="leader")):
        for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                    "SELECT * FROM audit_chain_head"):
            with pytest.raises(DBAPIError, match="permission denied"), app_engine.begin() as conn:
                conn.execute(text(sql))
    with engine.connect() as conn:
        grants = conn.execute(text(
            "SELECT privilege_type FROM information_schema.role_table_grants "
            "WHERE table_name = 'audit_log' AND grantee IN ('riskmap_app', 'PUBLIC')")).scalars().all()
    assert sorted(grants) == ["INSERT", "SELECT"]


def test_an_edited_entry_is_named(engine: Engine) -> None:
    _append(engine, 4)
    ids = _ids(engine)
    _behind_the_triggers(engine, "UPDATE audit_log SET details = details || '{\"i\": 99}' WHERE id = :id", id=ids[2])
    report = store.verify_audit_chain(engine)
    assert not report.ok and report.broken_id == ids[2] and report.count == 2 and "altered" in str(report.reason)
    result = _verify(engine)
    assert result.exit_code == 1 and f"entry id {ids[2]}" in result.output


def test_a_changed_time_is_named(engine: Engine) -> None:
    _append(engine, 2)
    ids = _ids(engine)
    _behind_the_triggers(engine, "UPDATE audit_log SET at = at - interval '1 microsecond' WHERE id = :id", id=ids[1])
    assert store.verify_audit_chain(engine).broken_id == ids[1]


def test_a_deleted_entry_is_detected(engine: Engine) -> None:
    _append(engine, 4)
    ids = _ids(engine)
    _behind_the_triggers(engine, "DELETE FROM audit_log WHERE id = :id", id=ids[2])
    report = store.verify_audit_chain(engine)
    assert not report.ok and report.broken_id == ids[3] and "removed" in str(report.reason)


def test_a_deleted_last_entry_is_detected(engine: Engine) -> None:
    _append(engine, 3)
    ids = _ids(engine)
    _behind_the_triggers(engine, "DELETE FROM audit_log WHERE id = :id", id=ids[-1])
    report = store.verify_audit_chain(engine)
    assert not report.ok and report.count == len(ids) - 1 and "chain head" in str(report.reason)
    assert _verify(engine).exit_code == 1


def test_a_forged_entry_recomputed_without_its_successor_is_detected(engine: Engine) -> None:
    _append(engine, 3)
    ids = _ids(engine)
    # a forger who recomputes the edited entry's own hash still breaks the next entry's link
    _behind_the_triggers(engine, "UPDATE audit_log SET actor = 'forger' WHERE id = :id", id=ids[1])
    _behind_the_triggers(engine, f"UPDATE audit_log SET row_hash = sha256(coalesce(prev_hash, ''::bytea) || "
                                 f"convert_to({CANONICAL}, 'UTF8')) WHERE id = :id", id=ids[1])
    report = store.verify_audit_chain(engine)
    assert report.broken_id == ids[2] and "previous entry" in str(report.reason)


def test_concurrent_appends_keep_one_chain(engine: Engine) -> None:
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for _ in range(5):
                _append(engine, 2, actor=f"w{k}")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = store.verify_audit_chain(engine)
    assert report.ok and report.count == 1 + 4 * 5 * 2


def test_existing_entries_are_chained_by_the_migration(empty_engine: Engine) -> None:
    schema.upgrade(empty_engine, "0013")
    with empty_engine.begin() as conn:
        for i in range(3):
            conn.execute(text("INSERT INTO audit_log (actor, action, details) VALUES ('old', 'import', "
                              "CAST(:d AS jsonb))"), {"d": f'{{"n": {i}}}'})
    schema.upgrade(empty_engine)
    report = store.verify_audit_chain(empty_engine)
    assert report.ok and report.count == 3
    _append(empty_engine, 1, adcode=None)
    assert store.verify_audit_chain(empty_engine).count == 4


def test_verify_is_for_the_host_operator(demo_copy: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["--user", "admin", "audit", "verify"],
                                env={**demo_copy, "RISKMAP_PASSWORD": "admin-demo-2026"})
    assert result.exit_code != 0 and "host-operator" in result.output
    result = CliRunner().invoke(main, ["audit", "verify"], env=demo_copy)
    assert result.exit_code == 0 and result.output.startswith("OK:")
