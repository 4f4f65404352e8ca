"""Inspections (排查表, workflows.md §4) and spot checks of enterprises' self-checks (§5), and hazards found by them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from campaign.attachments import Upload, check_upload
from campaign.lifecycle import Refused
from campaign.reference import load_reference
from campaign.service import Actor, report_hazard
from geo import store
from identity.permissions import allowed

KINDS = {"inspection": ("排查记录", "Inspection"), "spot_check": ("抽查企业自查", "Spot check of a self-check")}


@dataclass(frozen=True)
class InspectionRecord:
    """What an inspector writes on site: the columns of the 排查表, and the spot-check items when one is ticked.

    ``spot_items`` maps item codes of ``campaign/reference.yaml`` to True for each problem found.
    """

    kind: str
    adcode: str
    unit: str
    inspector: str
    inspected_at: dt.datetime
    major_found: bool
    place: str | None = None
    lon: float | None = None
    lat: float | None = None
    credit_code: str | None = None
    description: str | None = None
    disposal: str | None = None
    remarks: str | None = None
    spot_items: Mapping[str, bool] = field(default_factory=dict)


def _blank(value: str | None) -> bool:
    return value is None or not str(value).strip()


def inspection_problems(rec: InspectionRecord, *, now: dt.datetime) -> list[tuple[str, str]]:
    """Every reason an inspection record cannot be saved (empty when it can).

    Parameters
    ----------
    rec : InspectionRecord
        The record as filled in.
    now : datetime
        The current time (an inspection cannot be in the future).

    Returns
    -------
    list of (zh, en)
    """
    out: list[tuple[str, str]] = []
    if rec.kind not in KINDS:
        out.append((f"记录类型“{rec.kind}”无效", f"unknown record kind {rec.kind!r}"))
    for name, zh, en in (("unit", "排查单位", "inspecting unit"), ("inspector", "排查人员", "inspector")):
        if _blank(getattr(rec, name)):
            out.append((f"缺少{zh}", f"{en} is missing"))
    if rec.inspected_at.tzinfo is None:
        out.append(("排查时间缺少时区", "inspection time has no time zone"))
    elif rec.inspected_at > now + dt.timedelta(minutes=5):
        out.append(("排查时间晚于当前时间", "inspection time is in the future"))
    if (rec.lon is None) != (rec.lat is None):
        out.append(("位置应同时有经度和纬度", "a position needs both longitude and latitude"))
    if rec.lon is None and _blank(rec.place):
        out.append(("缺少排查地点（填写地点或定位）", "place is missing (type it or use the position)"))
    if rec.major_found and _blank(rec.description):
        out.append(("发现重大隐患时须描述隐患", "a major hazard found needs its description"))
    if rec.kind == "spot_check":
        if _blank(rec.credit_code):
            out.append(("抽查须指定企业（统一社会信用代码）", "a spot check needs the enterprise's credit code"))
        unknown = sorted(set(rec.spot_items) - set(load_reference().spot_check_items))
        if unknown:
            out.append((f"未知的抽查项 {unknown}", f"unknown spot-check items {unknown}"))
    return out


def record_inspection(engine: Engine, actor: Actor, rec: InspectionRecord, *, uploads: Iterable[Upload] = (),
                      now: dt.datetime | None = None) -> int:
    """Save an inspection record with its photos in one transaction; return its id.

    Parameters
    ----------
    engine : Engine
        A store engine under the actor's scope.
    actor : Actor
        The inspector's account (district officer or city supervisor).
    rec : InspectionRecord
        The record.
    uploads : iterable of Upload
        Photos (JPEG/PNG) or PDFs.
    now : datetime, optional
        The current time.

    Returns
    -------
    int

    Raises
    ------
    Refused
        With every reason; nothing is written.
    """
    now = now or dt.datetime.now(dt.UTC)
    if not allowed(actor.role, "inspect"):
        raise Refused([("该账号无权录入排查记录", f"role {actor.role} may not record inspections")])
    problems = inspection_problems(rec, now=now)
    checked = []
    for up in uploads:
        try:
            checked.append((check_upload(up), up))
        except Refused as exc:
            problems += exc.reasons
    if problems:
        raise Refused(problems)
    values: dict[str, Any] = {
        "adcode": rec.adcode, "credit_code": rec.credit_code, "kind": rec.kind, "unit": rec.unit.strip(),
        "inspector": rec.inspector.strip(), "inspected_at": rec.inspected_at, "place": rec.place,
        "major_found": rec.major_found, "description": rec.description, "disposal": rec.disposal,
        "remarks": rec.remarks, "spot_items": {k: bool(v) for k, v in rec.spot_items.items()},
        "created_by": actor.username,
    }
    with engine.begin() as conn:
        if rec.lon is not None and rec.lat is not None and not store.point_in_district(
                conn, rec.adcode, rec.lon, rec.lat):
            raise Refused([(f"位置（{rec.lon:.5f}, {rec.lat:.5f}）不在区县 {rec.adcode} 内",
                            f"position ({rec.lon:.5f}, {rec.lat:.5f}) is outside district {rec.adcode}")])
        if rec.credit_code and store.enterprise_district(conn, rec.credit_code) != rec.adcode:
            raise Refused([(f"所选企业不在区县 {rec.adcode} 内或不在本账号范围内",
                            f"the enterprise chosen is not in district {rec.adcode} or not visible")])
        iid = store.insert_inspection(conn, values, lon=rec.lon, lat=rec.lat)
        for ok, up in checked:
            store.add_attachment(conn, sha256=ok.sha256, filename=ok.filename, media_type=ok.media_type,
                                        content=up.content, uploaded_by=actor.username, inspection_id=iid,
                                        adcode=rec.adcode, credit_code=rec.credit_code)
        store.audit(conn, actor=actor.username, action="inspection", target=str(iid), adcode=rec.adcode,
                    details={"kind": rec.kind, "major_found": rec.major_found, "photos": len(checked)})
    return iid


def hazard_from_inspection(engine: Engine, actor: Actor, inspection_id: int, values: Mapping[str, Any], *,
                           lon: float, lat: float, enterprise_name: str | None = None,
                           at: dt.datetime | None = None) -> int:
    """Report the hazard an inspection found (source 部门排查) and link it to the record; return its id."""
    with engine.connect() as conn:
        rec = store.read_inspection(conn, inspection_id)
    if rec is None:
        raise LookupError(f"排查记录 {inspection_id} 不存在 / no inspection {inspection_id}")
    hid = report_hazard(engine, actor, {"source": "department", **values}, adcode=str(rec["adcode"]), lon=lon,
                        lat=lat, enterprise_name=enterprise_name, credit_code=rec["credit_code"], at=at)
    with engine.begin() as conn:
        store.link_inspection(conn, inspection_id, hid)
    return hid
