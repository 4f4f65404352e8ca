"""The dashboard's pages: each module declares ``PAGES`` (see :class:`dashboard.routing.Page`) and ``register``.

Adding a page is one new module here (with its text entries) and one line in :data:`MODULES`.

Every server callback a module registers belongs to that module's pages (``dashboard/app.py`` records it
with :func:`dashboard.routing.register_owned`): a user who may open none of them gets 403 for a direct POST
(:func:`may_call`). A module may declare ``CALLBACK_ACTIONS = {output_id: action}`` for callbacks that need
more than opening the page: an action, or a function of the user for a condition no action names.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from dashboard.pages import (
    audit,
    cockpit,
    dispatch,
    district,
    enterprise_info,
    hazard,
    hazards,
    inspect,
    parks,
    planner,
    ranking,
    reports,
    rules,
)
from dashboard.permissions import can
from dashboard.routing import CallbackOwner, Page

#: Page modules, each with ``PAGES`` and ``register(app, ctx)``.
MODULES: tuple[ModuleType, ...] = (cockpit, planner, district, audit, rules, hazards, hazard, inspect, dispatch,
                                   ranking, reports, enterprise_info, parks)
#: Every page, in the order URLs are matched.
PAGES: tuple[Page, ...] = tuple(page for module in MODULES for page in module.PAGES)
#: A role's home page when it opens "/" (an enterprise works on its own hazards).
ROLE_HOME = {"enterprise": hazards.PATH}


def may_open(page: Page, user: dict[str, Any] | None) -> bool:
    """Whether ``user`` (None: sign-in off) may open ``page`` at its own URL.

    The page's action, its ``allow`` check of the parameters the URL would get by default (e.g. an
    officer's own district), and the role's home page: a role whose "/" is another page never opens "/".
    """
    role = None if user is None else str(user.get("role"))
    if page.path == "/" and role in ROLE_HOME:
        return False
    if page.action and not can(page.action, user):
        return False
    if page.allow is not None:
        return bool(page.allow(page.params({}) if page.params else {}))
    return True


def may_call(owners: dict[str, CallbackOwner], key: Any, user: dict[str, Any] | None) -> bool:
    """Whether ``user`` may call server callback ``key``: it is owned, and the user may open one of its pages.

    A callback no module registered through :func:`dashboard.routing.register_owned` is refused to
    everyone (a callback without an owner is a mistake, not a public one).
    """
    owner = owners.get(key) if isinstance(key, str) else None
    if owner is None:
        return False
    if isinstance(owner.action, str) and not can(owner.action, user):
        return False
    if callable(owner.action) and not owner.action(user):
        return False
    return not owner.pages or any(may_open(page, user) for page in owner.pages)
