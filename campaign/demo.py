"""Demo campaign work for the Kunming demo: accounts, hazards at every state with histories, inspections, reports.

Everything is made through the same services people use (the lifecycle, inspections, submissions), replayed
at past times as the store's owner, so each history is one the rules allow. Dates count back from the day
the demo is loaded, so "overdue" and "due within 7 days" stay true whenever it is loaded. Photos are
generated pictures labelled 演示 (demo). Names and people are fictitious.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine

from campaign.attachments import Upload
from campaign.inspections import InspectionRecord, hazard_from_inspection, record_inspection
from campaign.reference import load_reference
from campaign.service import Actor, report_hazard, take_step
from campaign.submissions import submit_dispatch, submit_self_report
from geo import store
from geo.constants import LOCAL_ZONE

SUPERVISOR = ("supervisor", "city_supervisor", "市安委办督办(演示)")


@dataclass(frozen=True)
class DemoEnterprise:
    """An enterprise of the demo with its district and position."""

    credit_code: str
    name: str
    adcode: str
    lon: float
    lat: float


def enterprise_account(adcode: str) -> str:
    """Return the user name of a district's demo enterprise account."""
    return f"ent-{adcode}"


def demo_photo(seed: int) -> bytes:
    """Draw a small PNG marked DEMO (a generated stand-in for a site photo)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    rng = np.random.default_rng(seed)
    fig = Figure(figsize=(3.2, 2.4), dpi=80)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    for _ in range(6):
        x, y, w, h = rng.uniform(0, 0.8, 4)
        ax.add_patch(Rectangle((x, y), w * 0.5, h * 0.5, color=rng.uniform(0.45, 0.85, 3)))
    ax.text(0.5, 0.5, "DEMO", ha="center", va="center", fontsize=36, color="white", weight="bold", alpha=0.85)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _enterprises(engine: Engine) -> dict[str, list[DemoEnterprise]]:
    out: dict[str, list[DemoEnterprise]] = {}
    for r in store.enterprise_points(engine):
        out.setdefault(str(r["adcode"]), []).append(
            DemoEnterprise(str(r["credit_code"]), str(r["name"]), str(r["adcode"]), float(r["lon"]), float(r["lat"])))
    return out


def _accounts(engine: Engine, firsts: dict[str, DemoEnterprise]) -> Iterator[str]:
    from identity.accounts import add_user

    username, role, name = SUPERVISOR
    if store.find_user(engine, username) is None:
        add_user(engine, username, f"{username}-demo-2026", role=role, display_name=name, actor="demo",
                 demo=True)
    yield f"demo account: {username} / {username}-demo-2026 ({role})"
    for adcode, ent in sorted(firsts.items()):
        username = enterprise_account(adcode)
        if store.find_user(engine, username) is None:
            add_user(engine, username, f"{username}-demo-2026", role="enterprise", credit_code=ent.credit_code,
                     display_name=f"{ent.name}(演示)", actor="demo", demo=True)
        yield f"demo account: {username} / {username}-demo-2026 (enterprise {ent.name})"


class _Story:
    """One district's demo hazards, told through the services at past times."""

    def __init__(self, engine: Engine, adcode: str, name: str, ents: list[DemoEnterprise], today: dt.date,
                 photo: Callable[[str], bytes]) -> None:
        self.engine, self.adcode, self.name, self.ents = engine, adcode, name, ents
        self.today, self.photo = today, photo
        self.rng = np.random.default_rng(int(adcode))
        self.officer = Actor("anning" if adcode == "530181" else f"officer-{adcode}", "district_officer", adcode)
        first = ents[0]
        self.ent = Actor(enterprise_account(adcode), "enterprise", adcode, first.credit_code)
        self.sup = Actor(SUPERVISOR[0], SUPERVISOR[1])

    def at(self, days_ago: float, hour: int = 10) -> dt.datetime:
        day = self.today - dt.timedelta(days=int(days_ago))
        return dt.datetime.combine(day, dt.time(hour), tzinfo=LOCAL_ZONE)

    def five(self, deadline_in: int, ent: DemoEnterprise) -> dict[str, object]:
        return {"measures": "制定专项整改方案，落实隔离、监测和加固措施", "responsible_unit": ent.name,
                "responsible_person": "演示负责人", "funds_wan": float(self.rng.integers(5, 120)),
                "deadline": self.today + dt.timedelta(days=deadline_in),
                "emergency_plan": "现场处置方案（演示）"}

    def supervision(self, unit: str, level: str, days: int) -> dict[str, object]:
        return {"supervising_unit": unit, "supervision": level,
                "supervision_deadline": self.today + dt.timedelta(days=days)}

    def new(self, actor: Actor, ent: DemoEnterprise, days_ago: int, severity: str, source: str,
            description: str) -> int:
        found = self.at(days_ago)
        return report_hazard(self.engine, actor, {"description": description, "severity": severity,
                                                  "source": source, "found_on": found.date()},
                             adcode=self.adcode, lon=ent.lon + 0.0004, lat=ent.lat + 0.0003,
                             enterprise_name=ent.name, credit_code=ent.credit_code,
                             uploads=[Upload("演示照片.png", self.photo(description))], at=found)

    def step(self, hid: int, action: str, actor: Actor, days_ago: float, **kw: object) -> None:
        take_step(self.engine, hid, action, actor, at=self.at(days_ago), **kw)  # type: ignore[arg-type]

    def evidence(self, caption: str) -> list[Upload]:
        return [Upload("整改照片.png", self.photo(caption))]

    def tell(self) -> int:
        """Make the district's hazards; return how many."""
        own = self.ents[0]
        other = self.ents[1] if len(self.ents) > 1 else own
        n = 0
        # 1. a major self-found hazard, sent back once, accepted and struck off
        h = self.new(self.ent, own, 120, "major", "self_check", "储罐区可燃气体检测报警装置失效")
        self.step(h, "verify", self.officer, 118)
        self.step(h, "start", self.ent, 117, values=self.five(-60, own))  # deadline set then, in the past now
        self.step(h, "apply_review", self.ent, 80, comment="已更换报警探头并联调",
                  uploads=self.evidence("报警探头更换"))
        self.step(h, "send_back", self.officer, 78, comment="联锁未接入DCS，退回继续整改")
        self.step(h, "apply_review", self.ent, 70, comment="联锁已接入DCS", uploads=self.evidence("DCS联锁"))
        self.step(h, "pass_review", self.officer, 66, values={"assessment": "第三方评估：整改合格，隐患消除"})
        self.step(h, "strike_off", self.officer, 60)
        n += 1
        # 2. found by a department inspection, under county supervision, progressing monthly
        rec = InspectionRecord(kind="inspection", adcode=self.adcode, unit="区县应急管理局", inspector="演示检查员",
                               inspected_at=self.at(75), major_found=True, place=other.name, lon=other.lon,
                               lat=other.lat, credit_code=other.credit_code,
                               description="装置区安全间距不足，堆放易燃物", disposal="责令限期整改",
                               remarks="演示记录")
        iid = record_inspection(self.engine, self.officer, rec, uploads=[Upload("现场.png", self.photo("现场检查"))],
                                now=self.at(75, 12))
        h = hazard_from_inspection(self.engine, self.officer, iid,
                                   {"description": "装置区安全间距不足，堆放易燃物", "severity": "major",
                                    "found_on": self.at(75).date()}, lon=other.lon + 0.0003, lat=other.lat,
                                   enterprise_name=other.name, at=self.at(75, 11))
        self.step(h, "verify", self.officer, 74)
        self.step(h, "start", self.officer, 72, values=self.five(45, other))
        self.step(h, "supervise", self.officer, 71, values=self.supervision("区县安委办", "county", 50))
        for ago in (40, 10):
            self.step(h, "report_progress", Actor("demo-enterprise", "enterprise", self.adcode, other.credit_code),
                      ago, values={"progress": f"已完成约{100 - ago}%（演示）"})
        n += 1
        # 3. a major hazard past its deadline (overdue)
        h = self.new(self.ent, own, 95, "major", "self_check", "尾矿库排洪设施淤堵")
        self.step(h, "verify", self.officer, 93)
        self.step(h, "start", self.ent, 92, values=self.five(-8, own))
        n += 1
        # 4. general, fixed on the spot
        h = self.new(self.officer, other, 30, "general", "department", "消防通道堆放杂物")
        self.step(h, "fix_now", self.officer, 30, values={"measures": "当场清理", "responsible_person": "演示负责人"},
                  comment="当场整改完毕", uploads=self.evidence("通道清理"))
        n += 1
        # 5. waiting for re-inspection; deadline within a week
        h = self.new(self.ent, own, 50, "major", "self_check", "反应釜安全阀未定期校验")
        self.step(h, "verify", self.officer, 49)
        self.step(h, "start", self.ent, 48, values=self.five(4, own))
        self.step(h, "apply_review", self.ent, 2, comment="已送检并更换", uploads=self.evidence("安全阀校验报告"))
        n += 1
        # 6. just reported: waiting for the officer's verification
        self.new(self.ent, own, 1, "major", "self_check", "液氨管道法兰渗漏")
        n += 1
        # 7. public report, dismissed after checking
        h = self.new(self.officer, other, 20, "major", "public", "群众举报：夜间违规动火")
        self.step(h, "dismiss", self.officer, 18, comment="现场核实为正常检修，已办理动火审批")
        n += 1
        # 8. city-level supervision in a third of the districts, waiting for acceptance
        if int(self.adcode) % 3 == 0:
            h = self.new(self.officer, other, 150, "major", "expert", "专家暗访：重大危险源监控系统未运行")
            self.step(h, "verify", self.officer, 149)
            self.step(h, "start", self.officer, 148, values=self.five(20, other))
            self.step(h, "supervise", self.sup, 147, values=self.supervision("昆明市安委办", "city", 25))
            self.step(h, "apply_review", Actor("demo-enterprise", "enterprise", self.adcode, other.credit_code),
                      12, comment="监控系统已恢复并联网", uploads=self.evidence("监控系统"))
            self.step(h, "pass_review", self.sup, 5, values={"assessment": "评估合格"})
            n += 1
        # spot checks of self-checks in the last two months
        items = list(load_reference().spot_check_items)
        for k, ent in enumerate(self.ents[:3]):
            flagged = [items[int(i)] for i in self.rng.choice(len(items), size=k, replace=False)]
            record_inspection(self.engine, self.officer, InspectionRecord(
                kind="spot_check", adcode=self.adcode, unit="区县应急管理局", inspector="演示检查员",
                inspected_at=self.at(20 + 15 * k), major_found=False, place=ent.name, lon=ent.lon, lat=ent.lat,
                credit_code=ent.credit_code, spot_items=dict.fromkeys(flagged, True), remarks="演示抽查"),
                now=self.at(0))
        return n

    def reports(self, months: list[str]) -> None:
        """Monthly self-reports and 调度表 of past months; some districts send late or not at all."""
        for i, period in enumerate(months):
            first = dt.datetime.strptime(period, "%Y-%m").date()
            nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            late = int(self.adcode) % 5 == i
            submit_self_report(self.engine, self.ent, period=period, signed_by="演示法人",
                               today=self.today, at=dt.datetime.combine(nxt + dt.timedelta(days=6 if late else 2),
                                                                         dt.time(9), tzinfo=LOCAL_ZONE))
            if int(self.adcode) % 7 != i:
                submit_dispatch(self.engine, self.officer, adcode=self.adcode, unit=self.name, period=period,
                                at=dt.datetime.combine(first.replace(day=29 if late else 25), dt.time(16),
                                                       tzinfo=LOCAL_ZONE))


def load_campaign_demo(engine: Engine, *, today: dt.date | None = None,
                       progress: Callable[[str], object] | None = None) -> Iterator[str]:
    """Add the demo campaign to a store that holds the demo layers; yield summary lines.

    Parameters
    ----------
    engine : Engine
        The store, as its owner (the histories are replayed at past times).
    today : date, optional
        The day the demo counts back from (default: today).
    progress : callable, optional
        Called with a message before each district.

    Yields
    ------
    str
    """
    today = today or dt.datetime.now(LOCAL_ZONE).date()
    say = progress or (lambda _msg: None)
    with engine.begin() as conn:
        started = store.record_import_steps(conn, actor="demo", role=None, batch_id=None)
    yield f"hazard histories started for {started} imported hazards"
    ents = {k: v for k, v in _enterprises(engine).items() if v}
    yield from _accounts(engine, {k: v[0] for k, v in ents.items()})
    districts = store.district_codes(engine)
    photos = [demo_photo(seed) for seed in range(8)]

    def photo(caption: str) -> bytes:
        return photos[sum(caption.encode("utf-8")) % len(photos)]

    first = today.replace(day=1)
    months: list[str] = []
    for _ in range(3):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        months.insert(0, first.strftime("%Y-%m"))
    total = 0
    for i, adcode in enumerate(sorted(ents), 1):
        say(f"[{i}/{len(ents)}] {districts.get(adcode, adcode)} …")
        story = _Story(engine, adcode, districts.get(adcode, adcode), ents[adcode], today, photo)
        total += story.tell()
        story.reports(months)
    yield f"campaign demo: {total} hazards with histories in {len(ents)} districts, reports for {', '.join(months)}"
