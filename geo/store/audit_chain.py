"""The audit log's hash chain: recompute it and name the first entry that does not fit.

Migration 0014 gives each entry ``prev_hash`` (the previous entry's ``row_hash``) and ``row_hash`` =
sha256(prev_hash || canonical text of the entry), set by a trigger on insert, and keeps the chain's
head (last id and hash) in ``audit_chain_head``. :func:`verify_audit_chain` reads every entry once, in
id order, and recomputes the hashes here in Python: an entry edited, inserted or deleted behind the
triggers' back (a superuser with triggers disabled) breaks the chain at that entry, and a deleted
last entry no longer matches the head.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine, text

__all__ = ["CANONICAL", "ChainReport", "verify_audit_chain"]

#: Canonical text of an entry, as migration 0014's ``audit_row_hash`` builds it (jsonb text is canonical:
#: keys sorted, one spelling per value; the time in UTC to the microsecond).
CANONICAL = ("jsonb_build_array(id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
             "actor, action, target, adcode, details)::text")


@dataclass(frozen=True)
class ChainReport:
    """Outcome of one verification of the audit chain."""

    count: int
    last_hash: str | None  # hex of the last entry's row_hash
    broken_id: int | None = None
    broken_at: dt.datetime | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every entry fits the chain and the head."""
        return self.reason is None


def verify_audit_chain(engine: Engine) -> ChainReport:
    """Return the outcome of recomputing the audit chain in one pass over the log.

    Run it as the database owner (it must see every district's entries).

    Parameters
    ----------
    engine : Engine
        The store, connected as its owner.

    Returns
    -------
    ChainReport
        ``ok`` with the number of entries and the last hash, or the first entry that does not fit
        (``broken_id``, ``broken_at``) and why.
    """
    count = 0
    prev: bytes | None = None
    last_id: int | None = None
    with engine.connect() as conn:
        head = conn.execute(text("SELECT last_id, last_hash FROM audit_chain_head")).first()
        rows = conn.execution_options(stream_results=True, yield_per=2000).execute(
            text(f"SELECT id, at, prev_hash, row_hash, {CANONICAL} AS canon FROM audit_log ORDER BY id"))
        for entry_id, at, prev_hash, row_hash, canon in rows:
            stored_prev = bytes(prev_hash) if prev_hash is not None else None
            stored_row = bytes(row_hash) if row_hash is not None else None
            expected = hashlib.sha256((prev or b"") + str(canon).encode("utf-8")).digest()
            reason = None
            if stored_prev != prev:
                reason = ("上一条记录缺失或被改动 / the previous entry was removed or altered "
                          "(prev_hash does not match)")
            elif stored_row != expected:
                reason = "本条记录被改动 / this entry was altered (row_hash does not match its content)"
            if reason is not None:
                return ChainReport(count, prev.hex() if prev else None, int(entry_id), at, reason)
            prev, last_id, count = expected, int(entry_id), count + 1
    if head is None or head[0] != last_id or (bytes(head[1]) if head[1] is not None else None) != prev:
        return ChainReport(count, prev.hex() if prev else None, last_id, None,
                           "链尾与链头记录不符，最后的记录可能被删除 / the last entry does not match the chain "
                           "head: entries after it were removed")
    return ChainReport(count, prev.hex() if prev else None)
