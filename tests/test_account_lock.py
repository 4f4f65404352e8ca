"""One lockout rule for signing in and for changing one's own password (``riskmap_account_locked``, 0019).

Wrong passwords, given to the sign-in or as the current password of a change, lock an account for both
paths alike: after the same number of failures (``security_settings.account_failures``), counted over
the same window ending at the latest failure (``failure_window``), for the same time (``lockout``).
The numbers are read from the settings row where they are defined; each case builds a history of real
failed attempts, moves it back in time and asks both paths whether the account is locked. 0018 counted
the change's failures over the window ending now: the case "the window ends at the last failure" is
where the two rules differed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, text

from geo import store
from identity.accounts import add_user, authenticate

pytestmark = pytest.mark.postgis
PASSWORD = "Tq7#vLm2-xPz9!rW"


@dataclass(frozen=True)
class Rule:
    """The lockout settings of the store: failures that lock, their window, how long the lock lasts."""

    failures: int
    window: dt.timedelta
    lockout: dt.timedelta

    @property
    def margin(self) -> dt.timedelta:
        """A tenth of the shorter of window and lockout: how far a case stays from either edge."""
        return min(self.window, self.lockout) / 10


def _rule(owner: Engine) -> Rule:
    with owner.connect() as conn:
        failures, window, lockout = conn.execute(text(
            "SELECT account_failures, failure_window, lockout FROM security_settings")).one()
    return Rule(int(failures), window, lockout)


#: A history: runs of (wrong passwords, then how far all attempts so far move back in time).
History = Callable[[Rule], list[tuple[int, dt.timedelta]]]
CASES: dict[str, tuple[History, bool]] = {
    "one failure short": (lambda r: [(r.failures - 1, dt.timedelta(0))], False),
    "at the threshold": (lambda r: [(r.failures, dt.timedelta(0))], True),
    "the window ends at the last failure": (
        lambda r: [(r.failures - 1, r.window - r.margin), (1, r.lockout / 2)], True),
    "the first failures are older than the window": (
        lambda r: [(r.failures - 1, r.window + r.margin), (1, r.lockout / 2)], False),
    "the lock still holds": (lambda r: [(r.failures, r.lockout - r.margin)], True),
    "the lock is over": (lambda r: [(r.failures, r.lockout + r.margin)], False),
}


def _fail(owner: Engine, app: Engine, name: str, token: str, runs: list[tuple[int, dt.timedelta]]) -> None:
    """Give the runs of wrong passwords, by turns to the sign-in and to the change (``token``'s session)."""
    given = 0
    for count, back in runs:
        for _ in range(count):
            if given % 2:
                assert store.change_own_password(app, token, f"wrong-{given}", PASSWORD, address=None) == "wrong"
            else:
                assert authenticate(app, name, f"wrong-{given}", via="test").outcome == "failed"
            given += 1
        with owner.begin() as conn:
            conn.execute(text("UPDATE sign_in_attempts SET at = at - :back WHERE username = :u"),
                         {"back": back, "u": name})


@pytest.mark.parametrize("case", list(CASES))
def test_sign_in_and_password_change_lock_alike(engine: Engine, app_engine: Engine, case: str) -> None:
    rule = _rule(engine)
    history, locked = CASES[case]
    add_user(engine, "anna", PASSWORD, role="leader")
    token = store.issue_session(engine, "anna")
    _fail(engine, app_engine, "anna", token, history(rule))
    with engine.connect() as conn:
        failed = conn.execute(text("SELECT count(*) FROM sign_in_attempts WHERE username = 'anna' "
                                   "AND outcome = 'failed'")).scalar_one()
        assert failed == sum(n for n, _ in history(rule))  # every wrong password counted, by either path
    # the change first: right or refused, it records no attempt (a right one ends the session and keeps
    # the password: the policy is the caller's); then the sign-in with the right password
    changed = store.change_own_password(app_engine, token, PASSWORD, PASSWORD, address=None)
    signed = authenticate(app_engine, "anna", PASSWORD, via="test").outcome
    assert (changed, signed) == (("locked", "locked") if locked else ("ok", "ok")), case
