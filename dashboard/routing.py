"""Pages and how a URL finds one: the :class:`Page` record each page module contributes, and :func:`resolve`.

A page module declares ``PAGES = (Page(...), ...)`` and ``register(app, ctx)``; ``dashboard/pages/__init__.py``
lists the modules once. Routing, the header links and the permission check all read that one table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

#: ``<int:name>`` (digits) in a path template.
_PARAM = re.compile(r"<(int):([A-Za-z_][A-Za-z0-9_]*)>")


@dataclass(frozen=True)
class Page:
    """One page of the dashboard.

    Attributes
    ----------
    path : str
        URL (``/admin/audit``) or template (``/hazards/<int:hazard_id>``); a trailing "/" is ignored.
    layout : callable
        ``layout(ctx, lang, **params)`` builds the page; ``params`` come from the template.
    nav_key : str, optional
        Text key of the header link; pages without one have no link.
    order : int
        Position of the header link (smaller first).
    action : str, optional
        Action of :data:`identity.permissions.PERMISSIONS` needed to open the page (and to see its link).
    allow : callable, optional
        ``allow(params)``: a further check of the URL's parameters (e.g. the district scope).
    params : callable, optional
        ``params(params)``: fill in parameters the URL left out (e.g. an officer's own district).
    prefix : bool
        Serve every URL that starts with ``path``.
    rest : str, optional
        With ``prefix``: the parameter that gets the rest of the URL (None when there is none).
    nav_hidden_for : frozenset of str
        Roles that do not get the header link although they may open the page.
    """

    path: str
    layout: Callable[..., Any]
    nav_key: str | None = None
    order: int = 100
    action: str | None = None
    allow: Callable[[dict[str, Any]], bool] | None = None
    params: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    prefix: bool = False
    rest: str | None = None
    nav_hidden_for: frozenset[str] = field(default_factory=frozenset)

    @property
    def href(self) -> str:
        """The URL of the header link."""
        return self.path

    def match(self, path: str) -> dict[str, Any] | None:
        """The parameters of ``path`` when this page serves it, else None."""
        if self.path == "/":
            return {} if path in ("/", "") else None
        if self.prefix:
            if not path.startswith(self.path):
                return None
            rest = path.removeprefix(self.path).strip("/") or None
            return {self.rest: rest} if self.rest else {}
        pattern, last = "", 0
        for m in _PARAM.finditer(self.path):
            pattern += re.escape(self.path[last:m.start()]) + rf"(?P<{m.group(2)}>[0-9]+)"
            last = m.end()
        found = re.fullmatch(pattern + re.escape(self.path[last:]), path.rstrip("/"))
        return None if found is None else {k: int(v) for k, v in found.groupdict().items()}


def resolve(pages: Iterable[Page], path: str) -> tuple[Page, dict[str, Any]] | None:
    """The first page (in table order) serving ``path`` and the URL's parameters, or None (404)."""
    for page in pages:
        params = page.match(path)
        if params is not None:
            return page, params
    return None


#: A callback's stricter check: an action name, or a function of the signed-in user (None: sign-in off).
Check = str | Callable[[dict[str, Any] | None], bool]
#: Key of the callback owners in ``server.extensions`` (see :func:`register_owned`).
CALLBACK_OWNERS = "riskmap_callback_owners"


@dataclass(frozen=True)
class CallbackOwner:
    """Who may call one server callback.

    Attributes
    ----------
    pages : tuple of Page
        The pages of the module that registered it: a user who may open none of them is refused.
        Empty for callbacks every page shares (routing, language).
    action : str or callable, optional
        A stricter check the module declared for this callback (``CALLBACK_ACTIONS``): an action of
        :data:`identity.permissions.PERMISSIONS`, or ``check(user)`` for a condition no action names.
    """

    pages: tuple[Page, ...] = ()
    action: Check | None = None


def output_ids(key: str) -> list[str]:
    """The component ids a callback writes, from its ``callback_map`` key (``..a.children...b.data..``)."""
    specs = key.strip(".").split("...") if key.startswith("..") else [key]
    return [spec.rsplit(".", 1)[0] for spec in specs]


def register_owned(app: Any, register: Callable[[], None], owners: dict[str, CallbackOwner],
                   pages: tuple[Page, ...] = (), actions: dict[str, Check] | None = None) -> None:
    """Run ``register()`` and record every server callback it added to ``app`` as owned by ``pages``.

    Parameters
    ----------
    app : dash.Dash
        The app whose ``callback_map`` grows.
    register : callable
        Registers callbacks (a page module's ``register(app, ctx)`` bound to its arguments).
    owners : dict
        Callback key → :class:`CallbackOwner`; filled in place.
    pages : tuple of Page
        The module's pages (empty: shared by every page).
    actions : dict, optional
        Output component id → stricter check, for callbacks that need more than opening a page.
    """
    before = set(app.callback_map)
    register()
    for key in set(app.callback_map) - before:
        if "callback" not in app.callback_map[key]:
            continue  # clientside: runs in the browser, never posted to the server
        stricter = {check if isinstance(check, str) else id(check): check
                    for out, check in (actions or {}).items() if out in output_ids(key)}
        if len(stricter) > 1:
            raise ValueError(f"callback {key} writes outputs with different checks")
        owners[key] = CallbackOwner(pages, next(iter(stricter.values()), None))
