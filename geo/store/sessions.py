"""Sign-in and server-side sessions, held by the database (migration 0015).

The application role cannot read password hashes or sessions: it calls SECURITY DEFINER functions
(``riskmap_sign_in``, ``riskmap_session_user``, ``riskmap_sign_out``). Its district scope then
comes only from the session token set per transaction (see :class:`geo.store.engine.Scope`).
Passwords are hashed in the database (bcrypt through pgcrypto); the owner sets them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from geo.store.audit import audit

#: Columns of a signed-in user handed back to the caller (never the password hash).
SESSION_USER_COLUMNS = ("id", "username", "display_name", "role", "adcode", "credit_code", "must_change_password")
#: Outcomes of a sign-in: the user is told only "wrong user name or password" for ``failed``.
OUTCOMES = ("ok", "failed", "locked", "disabled")
_HASH = "crypt(:pw, gen_salt('bf', (SELECT bcrypt_cost FROM security_settings)))"


@dataclass(frozen=True)
class SignIn:
    """What a sign-in came to: ``outcome`` (one of :data:`OUTCOMES`), the session token and user when ok.

    ``failures`` counts the account's failures in the current window (0 on success). ``second_factor``
    is set when the password was right but the session is pending (migration 0019): ``second_factor``
    (the account gives a code next) or ``enrol`` (its role requires a second factor it has not set).
    """

    outcome: str
    token: str | None = None
    user: dict[str, Any] | None = None
    failures: int = 0
    second_factor: str | None = None

    @property
    def pending(self) -> bool:
        """Whether the session still owes a second factor (``second_factor``: a code; ``enrol``: enrolment)."""
        return self.ok and self.second_factor is not None

    @property
    def ok(self) -> bool:
        """Whether the user signed in."""
        return self.outcome == "ok"


def sign_in(engine: Engine, username: str, password: str, *, address: str | None, via: str,
            idle_minutes: int = 30, session_minutes: int = 480) -> SignIn:
    """Return the outcome of signing in ``username`` with ``password`` (throttled and audited in the database).

    Parameters
    ----------
    engine : Engine
        Any engine (the application role's is meant); no scope is needed.
    username, password : str
        As typed.
    address : str or None
        The client's address (throttled per address too), None for the command line.
    via : str
        ``web``, ``cli`` or ``test``.
    idle_minutes, session_minutes : int
        Idle and absolute timeouts of the new session (capped by the database at 12 h and 24 h).

    Returns
    -------
    SignIn
        The outcome; a token and the user (without hash) only when ``ok``.
    """
    with engine.begin() as conn:
        row = conn.execute(text(
            "SELECT * FROM riskmap_sign_in(:u, :p, :a, :v, :idle, :life)"),
            {"u": username, "p": password, "a": address, "v": via, "idle": int(idle_minutes),
             "life": int(session_minutes)}).mappings().one()
    if row["outcome"] != "ok":
        return SignIn(str(row["outcome"]), failures=int(row["failures"] or 0))
    user = {"id": row["user_id"], "username": row["username"], "display_name": row["display_name"],
            "role": row["role"], "adcode": row["adcode"], "credit_code": row["credit_code"],
            "must_change_password": bool(row["must_change_password"]), "active": True}
    return SignIn("ok", token=str(row["token"]), user=user, second_factor=row["second_factor"])


def session_user(engine: Engine, token: str | None) -> dict[str, Any] | None:
    """Return the user of the live session ``token``, or None (ended, expired, disabled, password changed).

    Parameters
    ----------
    engine : Engine
        Any engine; the lookup marks the session as seen (at most every 30 s).
    token : str or None
        The session token.

    Returns
    -------
    dict or None
        The user (no hash) with ``session_id`` and ``via``.
    """
    if not token:
        return None
    with engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM riskmap_session_user(:t)"), {"t": token}).mappings().first()
    if row is None:
        return None
    found = dict(row)
    found["id"] = found.pop("user_id")
    found["active"] = True
    return found


def sign_out(engine: Engine, token: str | None) -> bool:
    """End the session ``token`` (audited as ``logout``); return whether it was live.

    Parameters
    ----------
    engine : Engine
        Any engine.
    token : str or None
        The session token.

    Returns
    -------
    bool
        False when there was no such live session.
    """
    if not token:
        return False
    with engine.begin() as conn:
        return bool(conn.execute(text("SELECT riskmap_sign_out(:t)"), {"t": token}).scalar())


def change_own_password(engine: Engine, token: str, current: str, new: str, *, address: str | None) -> str:
    """Change the password of the account of session ``token``, proving its current password.

    Runs ``riskmap_change_password`` (migration 0018): a wrong current password counts as a failed
    sign-in and is audited; a right one stores the new bcrypt hash, clears ``must_change_password``
    and ends every session of the account, this one included. The policy is the caller's to check.

    Parameters
    ----------
    engine : Engine
        Any engine (the application role may call it).
    token : str
        The live session's token: it names the account, so no other account can be changed.
    current, new : str
        The current and the new password.
    address : str or None
        The client's address, for the audit log and throttling.

    Returns
    -------
    str
        ``"ok"``, ``"wrong"`` (current password), ``"locked"`` (too many failures) or ``"no_session"``.
    """
    with engine.begin() as conn:
        return str(conn.execute(text("SELECT riskmap_change_password(:t, :c, :n, :a)"),
                                {"t": token, "c": current, "n": new, "a": address}).scalar_one())


def end_sessions(engine: Engine, username: str, *, reason: str) -> int:
    """End every live session of ``username`` (the owner's engine); return how many ended.

    Parameters
    ----------
    engine : Engine
        The owner's engine.
    username : str
        The account.
    reason : str
        Recorded with each ended session.

    Returns
    -------
    int
        Number of sessions ended.
    """
    with engine.begin() as conn:
        return int(conn.execute(text(
            "UPDATE user_sessions SET ended_at = now(), ended_reason = :r WHERE ended_at IS NULL "
            "AND user_id = (SELECT id FROM users WHERE username = :u)"), {"u": username, "r": reason}).rowcount)


def issue_session(engine: Engine, username: str, *, via: str = "test", minutes: int = 480) -> str:
    """Return the token of a new session of ``username``, opened by the owner without a password.

    For tests and for owner-side work done as an account; the application role may not call it.

    Parameters
    ----------
    engine : Engine
        The owner's engine.
    username : str
        An active account.
    via : str
        ``test`` or ``cli``.
    minutes : int
        Idle and absolute lifetime.

    Returns
    -------
    str
        The token.
    """
    with engine.begin() as conn:
        return str(conn.execute(text("SELECT riskmap_issue_session(:u, :v, :m)"),
                                {"u": username, "v": via, "m": int(minutes)}).scalar_one())


def set_password(engine: Engine, username: str, password: str, *, actor: str) -> bool:
    """Set the password of ``username`` (bcrypt in the database) and end their sessions; return whether found.

    Parameters
    ----------
    engine : Engine
        The owner's engine.
    username : str
        The account.
    password : str
        The new password (policy checked by the caller).
    actor : str
        Who changed it, for the audit log.

    Returns
    -------
    bool
        False when there is no such user.
    """
    with engine.begin() as conn:
        row = conn.execute(text(f"UPDATE users SET password_hash = {_HASH}, updated_at = now() "
                                "WHERE username = :u RETURNING adcode"), {"u": username, "pw": password}).first()
        if row is not None:
            audit(conn, actor=actor, action="user_password", target=username, adcode=row[0])
    return row is not None


def password_hash_sql() -> str:
    """Return the SQL expression that hashes the bound parameter ``:pw`` (bcrypt, the stored cost)."""
    return _HASH


@dataclass(frozen=True)
class CodeOutcome:
    """What a second-factor code came to: ``outcome`` and, when a pending session became full, its new token."""

    outcome: str
    token: str | None = None


def session_state(engine: Engine, token: str | None) -> dict[str, Any] | None:
    """Return what the second-factor pages need of the live session ``token``, pending or not, or None.

    Parameters
    ----------
    engine : Engine
        Any engine (the application role's is meant).
    token : str or None
        The session token.

    Returns
    -------
    dict or None
        ``username``, ``display_name``, ``role``, ``pending`` (None, ``second_factor`` or ``enrol``),
        ``has_second_factor`` and ``second_factor_required``; None when the session is not live.
    """
    if not token:
        return None
    with engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM riskmap_session_state(:t)"), {"t": token}).mappings().first()
    return dict(row) if row else None


def verify_second_factor(engine: Engine, token: str, code: str, *, address: str | None) -> CodeOutcome:
    """Return the outcome of the code ``code`` given for the pending session ``token`` (checked in SQL).

    Runs ``riskmap_verify_second_factor`` (migration 0019): TOTP of RFC 6238 with one step either side,
    a code accepted once; a wrong code counts as a failed sign-in (the same lockout) and is audited
    ``second_factor_failed``; a right one makes the session full under a new token.

    Parameters
    ----------
    engine : Engine
        Any engine (the application role may call it).
    token : str
        The pending session's token.
    code : str
        The six digits typed.
    address : str or None
        The client's address.

    Returns
    -------
    CodeOutcome
        ``ok`` with the new token, ``wrong``, ``locked`` or ``no_session``.
    """
    with engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM riskmap_verify_second_factor(:t, :c, :a)"),
                           {"t": token, "c": code.strip(), "a": address}).one()
    return CodeOutcome(str(row[0]), row[1])


def enrol_second_factor(engine: Engine, token: str, secret: str, code: str, *, address: str | None) -> CodeOutcome:
    """Store ``secret`` as the second factor of the account of session ``token`` once ``code`` proves it.

    Runs ``riskmap_enrol_second_factor`` (migration 0019): nothing is stored unless ``code`` is right for
    ``secret`` now; a session sent to enrolment by the policy then becomes full under a new token.

    Parameters
    ----------
    engine : Engine
        Any engine (the application role may call it).
    token : str
        A live session, or one pending enrolment.
    secret : str
        Base32 secret of at least 128 bits (``pyotp.random_base32()`` gives 160).
    code : str
        The code the authenticator shows for it.
    address : str or None
        The client's address.

    Returns
    -------
    CodeOutcome
        ``ok`` (with a new token when the session was pending), ``wrong`` or ``no_session``.
    """
    with engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM riskmap_enrol_second_factor(:t, :s, :c, :a)"),
                           {"t": token, "s": secret, "c": code.strip(), "a": address}).one()
    return CodeOutcome(str(row[0]), row[1])


def reset_second_factor(engine: Engine, username: str, *, actor: str) -> bool:
    """Remove the second factor of ``username`` (the owner's engine), audited; return whether there was one.

    Sessions still waiting for a code end; the account enrols again (when its role requires it, right
    after its next password).

    Parameters
    ----------
    engine : Engine
        The owner's engine.
    username : str
        The account.
    actor : str
        Who reset it, for the audit log.

    Returns
    -------
    bool
        False when the account had no second factor (nothing is audited then).
    """
    with engine.begin() as conn:
        row = conn.execute(text(
            "DELETE FROM user_second_factors f USING users u WHERE f.user_id = u.id AND u.username = :u "
            "RETURNING u.id, u.adcode"), {"u": username}).first()
        if row is None:
            return False
        conn.execute(text("UPDATE user_sessions SET ended_at = now(), ended_reason = 'second_factor_reset' "
                          "WHERE user_id = :id AND ended_at IS NULL AND pending IS NOT NULL"), {"id": row[0]})
        audit(conn, actor=actor, action="second_factor_reset", target=username, adcode=row[1])
    return True


def second_factor_roles(engine: Engine) -> list[str]:
    """Return the roles that must have a second factor (the settings row; empty: optional for all)."""
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT second_factor_roles FROM security_settings")).scalar_one())


def set_second_factor_roles(engine: Engine, roles: list[str], *, actor: str) -> None:
    """Require a second factor of ``roles`` (the owner's engine; roles checked by the caller), audited.

    Parameters
    ----------
    engine : Engine
        The owner's engine.
    roles : list of str
        The roles; an empty list makes it optional for all.
    actor : str
        Who changed the policy, for the audit log.
    """
    with engine.begin() as conn:
        before = list(conn.execute(text("SELECT second_factor_roles FROM security_settings FOR UPDATE")).scalar_one())
        conn.execute(text("UPDATE security_settings SET second_factor_roles = :r"), {"r": sorted(set(roles))})
        audit(conn, actor=actor, action="second_factor_policy", target="second_factor_roles",
              details={"before": before, "after": sorted(set(roles))})
