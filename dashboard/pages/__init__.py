"""The dashboard's pages: each module declares ``PAGES`` (see :class:`dashboard.routing.Page`) and ``register``.

Adding a page is one new module here (with its text entries) and one line in :data:`MODULES`.
"""

from __future__ import annotations

from types import ModuleType

from dashboard.pages import (
    audit,
    cockpit,
    dispatch,
    district,
    enterprise_info,
    hazard,
    hazards,
    inspect,
    planner,
    ranking,
    reports,
    rules,
)
from dashboard.routing import Page

#: Page modules, each with ``PAGES`` and ``register(app, ctx)``.
MODULES: tuple[ModuleType, ...] = (cockpit, planner, district, audit, rules, hazards, hazard, inspect, dispatch,
                                   ranking, reports, enterprise_info)
#: Every page, in the order URLs are matched.
PAGES: tuple[Page, ...] = tuple(page for module in MODULES for page in module.PAGES)
#: A role's home page when it opens "/" (an enterprise works on its own hazards).
ROLE_HOME = {"enterprise": hazards.PATH}
