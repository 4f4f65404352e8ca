"""What each role may do in the dashboard (the data itself is scoped by PostgreSQL's row-level security).

The table of roles and actions is :data:`identity.permissions.PERMISSIONS`, shared with the command line.

| role | pages | actions |
|---|---|---|
| leader, viewer | cockpit, planner and district pages, read only | export (leader: also pre-check) |
| planner | the same, and the rule values (``/admin/rules``, read only) | pre-check, change finding status, export |
| district_officer | cockpit and their own district page | import, export (their district) |
| admin | everything, incl. the audit log (``/admin/audit``) | everything, incl. changing rule values |
| city_supervisor | cockpit, district pages, hazards, inspections, every 调度表 | 挂牌督办, review, strike off |
| enterprise | its own hazards (its home page) and the monthly self-report | report and rectify its hazards |

With sign-in off (tests, benchmarks) there is no user and everything is allowed.
"""

from __future__ import annotations

from typing import Any

from dashboard.auth import current_user
from identity.permissions import allowed

DENIED = {"zh": "当前账号无此权限", "en": "Your account may not do this"}


def can(action: str, user: dict[str, Any] | None = None) -> bool:
    """Whether the signed-in ``user`` (default: the request's) may do ``action``."""
    user = user if user is not None else current_user()
    return allowed(None if user is None else str(user.get("role")), action)


def district_allowed(adcode: str | None, user: dict[str, Any] | None = None) -> bool:
    """Whether the user may open the district workspace of ``adcode``."""
    user = user if user is not None else current_user()
    if user is not None and user.get("role") == "enterprise":
        return False  # an enterprise works on its own hazards, not on a district's lists
    if user is None or user.get("role") != "district_officer":
        return True
    return adcode is None or adcode == user.get("adcode")
