"""Who may do what: role permissions, the district-scope guard and the application role's URL.

PostgreSQL's row-level security decides which rows a session sees (see
:mod:`geo.store`); this module gives the clear, early refusal a person should get
when they ask for something outside their role or district, before any work is done.

| role | actions |
|---|---|
| leader | read all, export, pre-check, take snapshots of the figures, reports |
| viewer | read all, export |
| planner | read all, run checks, pre-check, change finding status, export, read the rule values |
| district_officer | own district: read, import, export; hazards: verify, review, accept; inspect; 调度表; changes |
| city_supervisor | read all; hazards: 挂牌督办, review, strike off; inspect |
| enterprise | own enterprise only: report and rectify its hazards, monthly self-report, ask for info changes |
| admin | everything, and accounts, the audit log and changing rule values |

Reports (``generate_report``) are open to every role but the enterprise; a district session builds its
own district's reports from the city's stored snapshots. A district officer submits its district's reports
(``submit_report``); only the administrator changes report definitions (``manage_reports``).

Which role may take which step of a hazard's life is the lifecycle table's business
(``campaign/lifecycle.yaml``); this table says who may open the campaign's pages and forms.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy.engine import make_url

from geo import store
from geo.config import Settings
from geo.errors import AccessDenied

#: Roles allowed each action (shared by the dashboard and the command line).
PERMISSIONS: dict[str, frozenset[str]] = {
    "planner_page": frozenset({"admin", "planner", "leader", "viewer"}),
    "edit_findings": frozenset({"admin", "planner"}),
    "run_checks": frozenset({"admin", "planner"}),
    "precheck": frozenset({"admin", "planner", "leader"}),
    "import": frozenset({"admin", "district_officer"}),
    "export": frozenset({"admin", "planner", "leader", "viewer", "district_officer"}),
    "manage_users": frozenset({"admin"}),
    "audit_page": frozenset({"admin"}),
    "manage_rules": frozenset({"admin"}),
    "rules_page": frozenset({"admin", "planner"}),
    "hazards_page": frozenset({"admin", "planner", "leader", "viewer", "district_officer", "city_supervisor",
                               "enterprise"}),
    "report_hazard": frozenset({"district_officer", "city_supervisor", "enterprise"}),
    "inspect": frozenset({"district_officer", "city_supervisor"}),
    "self_report": frozenset({"enterprise"}),
    "submit_dispatch": frozenset({"district_officer"}),
    "take_snapshot": frozenset({"admin", "leader"}),
    "request_info_change": frozenset({"enterprise"}),
    "decide_info_change": frozenset({"district_officer"}),
    "generate_report": frozenset({"admin", "leader", "viewer", "planner", "district_officer", "city_supervisor"}),
    "submit_report": frozenset({"district_officer"}),
    "manage_reports": frozenset({"admin"}),
}
ACTION_NAMES = {
    "planner_page": ("规划审查页", "the planner page"), "edit_findings": ("变更违规状态", "changing findings"),
    "run_checks": ("运行检查", "running checks"), "precheck": ("选址预审", "site pre-checks"),
    "import": ("导入数据", "importing data"), "export": ("导出数据", "exporting data"),
    "manage_users": ("管理账号", "managing accounts"), "audit_page": ("查看审计日志", "reading the audit log"),
    "manage_rules": ("修改检查规则", "changing check rules"),
    "rules_page": ("查看检查规则", "reading the check rules"),
    "hazards_page": ("查看隐患台账", "reading the hazard register"),
    "report_hazard": ("上报隐患", "reporting hazards"), "inspect": ("录入排查记录", "recording inspections"),
    "self_report": ("提交企业月度自查报告", "submitting the monthly self-report"),
    "submit_dispatch": ("报送调度表", "sending the dispatch table"),
    "take_snapshot": ("保存统计快照", "taking snapshots of the figures"),
    "request_info_change": ("申请变更企业基础信息", "asking to change the enterprise's information"),
    "decide_info_change": ("审批企业信息变更", "deciding on enterprise information changes"),
    "generate_report": ("生成报告", "generating reports"),
    "submit_report": ("报送定期报告", "submitting periodic reports"),
    "manage_reports": ("修改报告定义", "changing report definitions"),
}


def allowed(role: str | None, action: str) -> bool:
    """Whether ``role`` may do ``action``.

    Parameters
    ----------
    role : str or None
        Role name; None means no signed-in user (trusted host operator, tests).
    action : str
        A key of :data:`PERMISSIONS`.

    Returns
    -------
    bool

    Examples
    --------
    >>> allowed("district_officer", "import"), allowed("viewer", "import"), allowed(None, "import")
    (True, False, True)
    """
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}")
    return role is None or role in PERMISSIONS[action]


def require(user: dict[str, Any] | None, action: str) -> None:
    """Raise :class:`AccessDenied` unless ``user`` (None: host operator) may do ``action``.

    Parameters
    ----------
    user : dict or None
        Signed-in user with ``username`` and ``role``.
    action : str
        A key of :data:`PERMISSIONS`.
    """
    role = None if user is None else str(user.get("role"))
    if not allowed(role, action):
        zh, en = ACTION_NAMES[action]
        raise AccessDenied(f"账号 {user['username']}({role})无权{zh} / "  # type: ignore[index]
                           f"account {user['username']} ({role}) may not do {en}")  # type: ignore[index]


def require_district(adcode: str | None) -> None:
    """Raise :class:`AccessDenied` unless the current scope covers ``adcode``.

    Parameters
    ----------
    adcode : str or None
        A district code, or None for work that needs the whole city (city outputs).

    Notes
    -----
    With no scope set (the host operator's command line, tests) nothing is refused here;
    the application role's row-level security still applies to its own connections.
    """
    scope = store.current_scope()
    if scope is None or scope.all_districts:
        return
    if adcode is None:
        raise AccessDenied(f"账号 {scope.actor} 仅限本区县 {scope.adcode}，不能使用全市数据 / "
                           f"account {scope.actor} is limited to district {scope.adcode}; city-wide data is refused")
    if str(adcode) != scope.adcode:
        raise AccessDenied(f"账号 {scope.actor} 仅限本区县 {scope.adcode}，无权访问 {adcode} / "
                           f"account {scope.actor} is limited to district {scope.adcode}; {adcode} is refused")


def app_database_url(settings: Settings) -> str:
    """URL for the application role, whose access row-level security limits.

    ``RISKMAP_APP_DATABASE_URL`` when set; otherwise the store's URL with the user
    ``riskmap_app`` (on the embedded cluster's socket, peer authentication lets the server's system user,
    root and ``riskmap-web`` connect as it). An external database
    without ``RISKMAP_APP_DATABASE_URL`` falls back to its own URL, where the policies apply
    only if that role is not a superuser or table owner.

    Parameters
    ----------
    settings : Settings
        Resolved settings.

    Returns
    -------
    str
        SQLAlchemy URL.
    """
    if os.environ.get("RISKMAP_APP_DATABASE_URL"):
        return os.environ["RISKMAP_APP_DATABASE_URL"]
    url = store.engine_url(settings, start=False)
    if settings.database_url:
        return url
    return make_url(url).set(username="riskmap_app").render_as_string(hide_password=False)
