"""Values every package shares: the storage reference system, the local calendar, record statuses, roles.

Each value is declared here once and imported wherever it is used; a literal ``4490`` or
``"Asia/Shanghai"`` elsewhere in the code is a second definition waiting to drift. Migrations are
history and keep the literals they were written with.

The status tuples name the values stored in the ``status`` columns of ``findings`` and
``hidden_hazards``. Which statuses *count* in a measure (open, overdue, 整改率) is decided in
:mod:`layers.measures`, from these enumerations.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

#: EPSG code of CGCS2000 geographic coordinates, the reference system of every stored geometry.
STORAGE_SRID: int = 4490
#: The same, as a CRS string for GeoPandas and pyproj.
STORAGE_CRS: str = f"EPSG:{STORAGE_SRID}"

#: IANA name of the local calendar (China Standard Time); days, months and deadlines are counted in it.
LOCAL_TIMEZONE: str = "Asia/Shanghai"
#: The same, as a ``tzinfo``.
LOCAL_ZONE: ZoneInfo = ZoneInfo(LOCAL_TIMEZONE)

#: Every status a finding (违规/未闭环 record of a check run) can have, in the order of its life.
FINDING_STATUSES: tuple[str, ...] = ("open", "in_remediation", "accepted", "closed", "resolved")
#: Finding statuses that still need work.
OPEN_FINDING_STATUSES: tuple[str, ...] = ("open", "in_remediation")
#: Finding statuses of a finding that is gone (closed by a person or no longer found by a run).
GONE_FINDING_STATUSES: tuple[str, ...] = ("closed", "resolved")

#: Hidden-hazard statuses (the ``status`` column; the workflow state maps onto one of these).
HAZARD_STATUSES: tuple[str, ...] = ("open", "rectifying", "rectified", "closed", "withdrawn")
#: Hazard statuses of a hazard not yet rectified.
OPEN_HAZARD_STATUSES: tuple[str, ...] = ("open", "rectifying")
#: Hazard statuses of a rectified hazard (整改完成, whether or not struck off yet).
DONE_HAZARD_STATUSES: tuple[str, ...] = ("rectified", "closed")
#: Hazard statuses of a hazard struck off (销号).
CLOSED_HAZARD_STATUSES: tuple[str, ...] = ("closed",)
#: Hazard statuses of a report judged not to be a hazard (不予核定); it counts in no measure.
NOT_HAZARD_STATUSES: tuple[str, ...] = ("withdrawn",)

#: Account roles with what each may do in a line (the permissions table is :mod:`identity.permissions`).
#: The database accepts exactly these (``users.role``'s check constraint follows this table on every
#: schema upgrade, :func:`geo.schema.upgrade`).
ROLES: dict[str, str] = {
    "leader": "市/区县领导(只读全部)",
    "admin": "管理员(用户、规则、设置)",
    "planner": "规划审查(全部只读，检查与预审，违规台账)",
    "district_officer": "区县工作人员(仅本区县：读、导入、导出、编辑)",
    "viewer": "只读(全部)",
    "city_supervisor": "市级督办(全部：挂牌督办、复查、验收销号)",
    "enterprise": "企业(仅本企业：上报隐患、整改、月度自查报告)",
}
#: Roles whose data scope is the whole city (the others see one district, or one enterprise).
CITY_WIDE_ROLES: frozenset[str] = frozenset({"leader", "admin", "planner", "viewer", "city_supervisor"})
