"""Account states the operator sets: a password to change at the next sign-in, and the demo's accounts.

Demo accounts (``users.demo``) have passwords printed by ``riskmap demo`` and in the README; they
may exist only while the store holds demo data. :func:`retire_demo_accounts` disables them (audited)
when that data is cleared or replaced; :func:`enabled_demo_accounts` lets ``riskmap serve`` warn.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from geo.store.audit import audit

__all__ = ["enabled_demo_accounts", "must_change_password", "require_password_change", "retire_demo_accounts"]


def require_password_change(engine: Engine, username: str, *, actor: str, required: bool = True) -> bool:
    """Mark whether ``username`` must change their password at the next sign-in; return whether found.

    Parameters
    ----------
    engine : Engine
        The owner's engine.
    username : str
        The account.
    actor : str
        Who set it, for the audit log.
    required : bool
        True after an administrator set the password; False once the user chose their own.

    Returns
    -------
    bool
        False when there is no such user.
    """
    with engine.begin() as conn:
        row = conn.execute(text("UPDATE users SET must_change_password = :r WHERE username = :u RETURNING adcode"),
                           {"r": required, "u": username}).first()
        if row is not None and required:
            audit(conn, actor=actor, action="user_must_change_password", target=username, adcode=row[0])
    return row is not None


def must_change_password(engine: Engine, username: str) -> bool:
    """Return whether ``username`` must change their password before anything else."""
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT must_change_password FROM users WHERE username = :u"),
                                 {"u": username}).scalar())


def enabled_demo_accounts(engine: Engine) -> list[str]:
    """Return the user names of the demo accounts that can still sign in, sorted."""
    with engine.connect() as conn:
        return [str(u) for u in conn.execute(text(
            "SELECT username FROM users WHERE demo AND active ORDER BY username")).scalars()]


def retire_demo_accounts(engine: Engine, *, actor: str, reason: str) -> list[str]:
    """Disable every enabled demo account, one audit entry each; return their user names.

    Parameters
    ----------
    engine : Engine
        The owner's engine.
    actor : str
        Who caused it (the operator running the import or the reset).
    reason : str
        Why, e.g. ``"real data imported"``; kept in the entries' details.

    Returns
    -------
    list of str
        The accounts disabled now (empty when none was enabled).
    """
    with engine.begin() as conn:
        rows = conn.execute(text("UPDATE users SET active = false, updated_at = now() WHERE demo AND active "
                                 "RETURNING username, adcode")).all()
        for username, adcode in rows:
            audit(conn, actor=actor, action="user_disable", target=str(username), adcode=adcode,
                  details={"demo": True, "reason": reason})
    return sorted(str(r[0]) for r in rows)
