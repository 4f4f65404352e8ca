"""User accounts: roles, creating accounts, authentication and the district scope they imply."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from geo import store
from geo.config import Settings
from geo.constants import CITY_WIDE_ROLES, ROLES
from geo.store import Scope, SignIn
from identity.password_policy import require_password
from identity.passwords import MAX_PASSWORD_BYTES, MIN_PASSWORD
from identity.usernames import check_display_name, check_username

#: Roles whose scope is the whole city (declared in :mod:`geo.constants`; what they may change is decided
#: by :mod:`identity.permissions`). ``ROLES`` is :data:`geo.constants.ROLES`, re-exported.
CITY_WIDE = CITY_WIDE_ROLES
__all__ = ["CITY_WIDE", "ROLES", "SignIn", "add_user", "authenticate", "scope_for"]


def add_user(engine: Engine, username: str, password: str, *, role: str, display_name: str | None = None,
             adcode: str | None = None, credit_code: str | None = None, actor: str = "cli", demo: bool = False,
             must_change: bool = False) -> int:
    """Create a user after checking role, district, enterprise, names and the password policy.

    ``demo`` marks a demo account whose password is published (the strength rules of
    :mod:`identity.password_policy` do not apply; it exists only while the store holds demo data);
    ``must_change`` makes the account change its password at its first sign-in.

    Raises
    ------
    ValueError
        For an unknown role, a district officer without a known district, an enterprise account
        without an enterprise of the store (its district is the enterprise's), a short password or a
        taken user name.
    """
    if role not in ROLES:
        raise ValueError(f"未知角色 / unknown role {role!r}; roles: {', '.join(ROLES)}")
    if role == "district_officer" and (not adcode or adcode not in store.district_codes(engine)):
        raise ValueError(f"区县工作人员须指定已存在的区县 / a district officer needs a known district: {adcode!r}")
    if role == "enterprise":
        found = store.enterprise_district(engine, credit_code) if credit_code else None
        if found is None:
            raise ValueError(f"企业账号须指定已导入企业的统一社会信用代码 / an enterprise account needs the credit "
                             f"code of an imported enterprise: {credit_code!r}")
        adcode = found
    if not demo:
        require_password(password, username=username, display_name=display_name)
    check_username(username)
    if display_name is not None:
        check_display_name(display_name)
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"密码至少 {MIN_PASSWORD} 位 / password must have at least {MIN_PASSWORD} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"密码至多 {MAX_PASSWORD_BYTES} 字节 / password must have at most {MAX_PASSWORD_BYTES} bytes")
    if store.find_user(engine, username) is not None:
        raise ValueError(f"用户名已存在 / user {username!r} exists")
    return store.insert_user(engine, username=username, display_name=display_name or username,
                             password=password, role=role,
                             adcode=adcode if role in ("district_officer", "enterprise") else None,
                             credit_code=credit_code if role == "enterprise" else None, created_by=actor,
                             must_change_password=must_change, demo=demo)


def authenticate(engine: Engine, username: str, password: str, *, address: str | None = None, via: str = "web",
                 settings: Settings | None = None) -> SignIn:
    """Sign in through the database: the outcome, and the session token and user (no hash) when ok.

    Throttling, lockout, the audit of every attempt and the equal cost of unknown and known names
    are the database's (``riskmap_sign_in``, migration 0015). No extra delay is added here: after
    10 failures the account is locked (the settings row), and each attempt costs one bcrypt hash.
    The timeouts of the session come from ``settings`` (``RISKMAP_IDLE_MINUTES``, ``RISKMAP_SESSION_HOURS``).
    """
    idle, hours = (settings.idle_minutes, settings.session_hours) if settings is not None else (30, 8.0)
    return store.sign_in(engine, username, password, address=address, via=via, idle_minutes=idle,
                         session_minutes=round(hours * 60))


def scope_for(user: dict[str, Any], token: str | None = None) -> Scope:
    """Return the data scope of a user (the whole city, or their district) carrying their session token.

    For the application role the database reads the scope from ``token`` only; the other fields
    scope the owner's own work and Python-side checks.
    """
    role = str(user["role"])
    actor = str(user["username"])
    if role in CITY_WIDE:
        return Scope(all_districts=True, actor=actor, role=role, session_token=token)
    if role == "enterprise":
        code = user.get("credit_code")
        # an enterprise session without its credit code sees nothing rather than its whole district
        return Scope(all_districts=False, adcode=user.get("adcode") if code else None, actor=actor,
                     role=role, credit_code=code or None, session_token=token)
    return Scope(all_districts=False, adcode=user.get("adcode"), actor=actor, role=role, session_token=token)
