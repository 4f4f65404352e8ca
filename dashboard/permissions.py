"""What each role may do in the dashboard (the data itself is scoped by PostgreSQL's row-level security).

| role | pages | actions |
|---|---|---|
| leader, viewer | all pages, read only | export |
| planner | all pages | pre-check, change finding status, export |
| district_officer | cockpit and their own district page | import, export (their district) |
| admin | everything | everything |

With sign-in off (tests, benchmarks) there is no user and everything is allowed.
"""

from __future__ import annotations

from typing import Any

from dashboard.auth import current_user

ACTIONS: dict[str, set[str]] = {
    "planner_page": {"admin", "planner", "leader", "viewer"},
    "edit_findings": {"admin", "planner"},
    "precheck": {"admin", "planner", "leader"},
    "import": {"admin", "district_officer"},
    "export": {"admin", "planner", "leader", "viewer", "district_officer"},
}
DENIED = {"zh": "当前账号无此权限", "en": "Your account may not do this"}


def can(action: str, user: dict[str, Any] | None = None) -> bool:
    """Whether the signed-in ``user`` (default: the request's) may do ``action``."""
    user = user if user is not None else current_user()
    if user is None:
        return True
    return user.get("role") in ACTIONS[action]


def district_allowed(adcode: str | None, user: dict[str, Any] | None = None) -> bool:
    """Whether the user may open the district workspace of ``adcode``."""
    user = user if user is not None else current_user()
    if user is None or user.get("role") != "district_officer":
        return True
    return adcode is None or adcode == user.get("adcode")
