"""Risk points with their four lists (基础/防控/责任/应急)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from shapely.geometry import Point

from geo.demo.context import CN_NUM, DemoContext, random_date
from geo.demo.pipelines import PIPEDEFS

_AN_NING, _XI_SHAN, _GUAN_DU, _DONG_CHUAN = "530181", "530112", "530111", "530113"
_PIPES_BY_CODE = {p.code: p for p in PIPEDEFS}


# Text pools for the four lists (基础/防控/责任/应急).
_RP_TEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "hazchem": {
        "sub": ("重大危险源", "重点监管危险化工工艺", "危险化学品储罐区"),
        "hazard": ("易燃液体泄漏引发火灾爆炸", "液氨泄漏中毒", "液化烃泄漏蒸气云爆炸", "氯气泄漏中毒"),
        "trigger": ("储罐或管道腐蚀穿孔", "法兰密封失效泄漏", "违章动火作业", "联锁失效导致超温超压"),
        "consequence": ("群死群伤及周边人员中毒", "火灾爆炸波及周边企业和居民", "重大财产损失和环境污染"),
        "eng": ("紧急切断阀、SIS安全仪表系统、储罐围堰", "可燃有毒气体检测报警、泡沫消防系统",
                "DCS自动化控制、安全联锁、防火堤"),
        "mgmt": ("双重预防机制、特殊作业票证管理", "重大危险源包保责任制、每日巡检", "变更管理、承包商管理"),
        "monitor": ("重大危险源在线监测预警系统、视频监控", "液位温度压力实时监测、气体报警联网"),
        "freq": ("每日", "每班"),
        "plan": ("危险化学品泄漏专项应急预案", "火灾爆炸事故专项应急预案"),
        "team": ("危化品专业救援队",),
    },
    "tailings": {
        "sub": ("头顶库", "尾矿库", "停用尾矿库"),
        "hazard": ("溃坝", "洪水漫顶", "坝体滑坡"),
        "trigger": ("强降雨导致库水位超限", "排洪设施堵塞", "浸润线抬高、坝坡渗透破坏"),
        "consequence": ("下游村庄被淹、群死群伤", "尾砂下泄污染河道和农田"),
        "eng": ("排洪系统疏通加固、坝体排渗设施", "截洪沟、坝面护坡及排水沟"),
        "mgmt": ("汛期24小时值守、库区巡查制度", "坝体定期检测与安全现状评价"),
        "monitor": ("在线监测(库水位、干滩、浸润线、位移)、视频监控", "雨量监测与预警广播"),
        "freq": ("每日", "汛期每班"),
        "plan": ("尾矿库溃坝专项应急预案", "防汛专项应急预案"),
        "team": ("矿山救护队",),
    },
    "pipeline": {
        "sub": ("高后果区", "穿跨越段", "人口密集段"),
        "hazard": ("天然气泄漏燃烧爆炸", "原油泄漏火灾及环境污染", "成品油泄漏火灾爆炸"),
        "trigger": ("第三方施工挖穿管道", "管道腐蚀穿孔", "地质灾害导致管道断裂"),
        "consequence": ("潜在影响半径内人员伤亡", "周边建筑受损、环境污染"),
        "eng": ("线路截断阀远程关断、加密标志桩", "增加壁厚、盖板保护、阴极保护"),
        "mgmt": ("高后果区专人巡护、第三方施工报备", "管道保护宣传、巡线GPS考核"),
        "monitor": ("光纤预警系统、视频监控", "阴极保护智能桩、无人机巡检"),
        "freq": ("每日", "每周两次"),
        "plan": ("管道泄漏事故专项应急预案", "高后果区现场处置方案"),
        "team": ("管道抢维修队",),
    },
    "mining": {
        "sub": ("地下矿山", "露天矿山", "排土场"),
        "hazard": ("冒顶片帮", "边坡坍塌", "透水", "炮烟中毒"),
        "trigger": ("采空区未及时处理", "边坡角超过设计值", "爆破作业违章"),
        "consequence": ("井下人员伤亡", "边坡失稳造成人员伤亡和设备损毁"),
        "eng": ("安全避险六大系统、采空区充填", "边坡台阶分层开采、截排水沟"),
        "mgmt": ("顶板分级管理、爆破作业审批", "边坡巡查和出入井管理"),
        "monitor": ("井下人员定位、边坡雷达监测", "地压在线监测、视频监控"),
        "freq": ("每班", "每日"),
        "plan": ("矿山事故专项应急预案", "边坡坍塌现场处置方案"),
        "team": ("矿山救护队",),
    },
    "gas": {
        "sub": ("燃气场站", "液化石油气储配站", "燃气管网"),
        "hazard": ("燃气泄漏爆炸", "液化石油气泄漏燃烧"),
        "trigger": ("调压设施故障超压", "第三方施工破坏管线", "阀门密封失效"),
        "consequence": ("周边建筑受损、人员伤亡",),
        "eng": ("紧急切断、燃气泄漏报警联动", "防撞护栏、阴极保护"),
        "mgmt": ("用户安检、巡检巡线制度", "第三方施工监护"),
        "monitor": ("SCADA远程监控、泄漏报警", "视频监控"),
        "freq": ("每日", "每周"),
        "plan": ("燃气泄漏事故专项应急预案",),
        "team": ("燃气抢险队",),
    },
    "crowded": {
        "sub": ("大型商业综合体", "人员密集场所", "交通枢纽"),
        "hazard": ("火灾", "拥挤踩踏"),
        "trigger": ("电气线路故障", "疏散通道被占用", "大型活动人员超限"),
        "consequence": ("群死群伤",),
        "eng": ("自动喷水灭火系统、防排烟系统", "应急照明和疏散指示"),
        "mgmt": ("消防安全管理人制度、限流管控", "每日防火巡查"),
        "monitor": ("消防物联网监测、客流监测", "视频监控"),
        "freq": ("每日", "每2小时"),
        "plan": ("火灾事故专项应急预案", "大客流应急疏散预案"),
        "team": ("微型消防站",),
    },
    "construction": {
        "sub": ("深基坑", "高支模", "起重机械"),
        "hazard": ("基坑坍塌", "模板支撑体系坍塌", "起重机械倾覆"),
        "trigger": ("降雨导致土体失稳", "违规拆除支撑", "超载作业"),
        "consequence": ("作业人员伤亡、周边建筑和管线受损",),
        "eng": ("基坑支护、降排水", "支撑体系验算及验收"),
        "mgmt": ("危大工程专项方案和论证", "安全员旁站监督"),
        "monitor": ("基坑变形自动化监测", "塔吊安全监控系统"),
        "freq": ("每日",),
        "plan": ("坍塌事故专项应急预案",),
        "team": ("建筑施工抢险队",),
    },
    "transport": {
        "sub": ("长下坡路段", "临水临崖路段", "危化品运输通道"),
        "hazard": ("车辆失控翻坠", "危化品运输车辆泄漏"),
        "trigger": ("制动失效", "雨雾天气视线不良", "超速超载"),
        "consequence": ("群死群伤交通事故", "危化品泄漏污染"),
        "eng": ("避险车道、防撞护栏", "限速标志、减速带"),
        "mgmt": ("重点时段路面管控", "危化品车辆通行管理"),
        "monitor": ("区间测速、视频监控", "气象预警"),
        "freq": ("每日",),
        "plan": ("道路交通事故应急预案",),
        "team": ("交通事故救援队",),
    },
    "other": {
        "sub": ("冶金煤气区域", "烟花爆竹储存", "粉尘涉爆"),
        "hazard": ("煤气中毒", "爆炸", "高温熔融金属喷溅"),
        "trigger": ("煤气管道泄漏", "违规超量储存", "设备故障"),
        "consequence": ("作业人员伤亡", "爆炸波及周边"),
        "eng": ("CO固定式检测报警、防爆设施", "防雷防静电设施"),
        "mgmt": ("危险作业审批、定置管理", "限量储存制度"),
        "monitor": ("有毒气体报警联网、视频监控",),
        "freq": ("每日",),
        "plan": ("煤气中毒事故专项应急预案", "爆炸事故专项应急预案"),
        "team": ("企业专职救援队",),
    },
}


def make_risk_points(ctx: DemoContext) -> None:
    """Generate about 50 risk points (≥2 per district), many linked to enterprises or ponds."""
    _RiskPoints(ctx).make()


class _RiskPoints:
    """Writes the risk points of one demo, counting the people exposed around each."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self._bld_xy = (np.array([b["geometry"].centroid.x for b in ctx.buildings]),
                        np.array([b["geometry"].centroid.y for b in ctx.buildings]),
                        np.array([b["households"] for b in ctx.buildings]))

    def _exposed(self, x: float, y: float, radius: float) -> int:
        """Count people within ``radius``: protection-target population plus 3 per household."""
        pop = 0
        for rec in self.ctx.targets:
            if rec["geometry"].distance(Point(x, y)) <= radius:
                pop += int(rec["population"] or 0)
        cx, cy, hh = self._bld_xy
        near = np.hypot(cx - x, cy - y) <= radius
        return pop + int(hh[near].sum() * 3)

    def _risk_point(self, adcode: str, category: str, name: str, entity: str, credit: str,
                    risk: str, x: float, y: float, radius: float, *, township: str | None = None,
                    address: str | None = None, sub: str | None = None, workers: int = 0,
                    principal: str | None = None, phone: str | None = None) -> dict[str, Any]:
        rng = self.ctx.rng
        text = _RP_TEXT[category]
        d = self.ctx.districts[adcode]

        def pick(key: str) -> str:
            pool = text[key]
            return pool[int(rng.integers(len(pool)))]

        township = township or self.ctx.township(adcode)
        assessed = random_date(rng, dt.date(2025, 3, 1), dt.date(2026, 8, 31))
        plan_date = random_date(rng, dt.date(2024, 5, 1), dt.date(2026, 6, 30))
        order = ("low", "general", "significant", "major")
        lvl = order.index(risk)
        residual = order[max(0, lvl - 1)] if rng.random() < 0.7 else risk
        dept = {"gas": "住房和城乡建设局", "construction": "住房和城乡建设局", "transport": "交通运输局",
                "crowded": "商务局", "pipeline": "发展和改革局"}.get(category, "应急管理局")
        rec = {
            "code": f"RP-{adcode}-{self.ctx.next_no('rp:' + adcode):03d}", "name": name, "adcode": adcode,
            "category": category, "subcategory": sub or pick("sub"), "entity_name": entity,
            "credit_code": credit, "address": address or self.ctx.address(adcode, township),
            "township": township, "risk_level": risk, "hazard": pick("hazard"),
            "trigger": pick("trigger"), "consequence": pick("consequence"),
            "assessment_method": ("LEC", "风险矩阵法(LS)", "定量风险评价(QRA)", "HAZOP", "安全检查表(SCL)")[
                int(rng.integers(5))] if category != "hazchem" else ("定量风险评价(QRA)", "HAZOP")[
                int(rng.integers(2))],
            "assessed_on": assessed, "population_exposed": self._exposed(x, y, radius) + workers,
            "engineering_controls": pick("eng"), "management_controls": pick("mgmt"),
            "monitoring": pick("monitor"), "inspection_frequency": pick("freq"),
            "reviewed_on": min(assessed + dt.timedelta(days=int(rng.integers(60, 400))),
                               dt.date(2026, 10, 31)),
            "residual_level": residual, "principal": principal or self.ctx.person(),
            "principal_phone": phone or self.ctx.phone(), "liaison": self.ctx.person(),
            "supervising_dept": f"{d.name}{dept}", "grid_officer": self.ctx.person(),
            "responsibility_level": ("township", "county", "county", "city")[lvl],
            "listed": ("未挂牌", "未挂牌", ("未挂牌", "区县级挂牌")[int(rng.integers(2))],
                       ("市级挂牌", "省级挂牌")[int(rng.random() < 0.25)])[lvl],
            "plan_name": f"{entity}{pick('plan')}",
            "plan_level": "企业级" if category in ("hazchem", "tailings", "mining", "other", "gas",
                                                    "pipeline") else "区县级",
            "plan_date": plan_date,
            "last_drill_on": random_date(rng, min(plan_date + dt.timedelta(days=30), dt.date(2026, 10, 31)),
                                         dt.date(2026, 10, 31)),
            "rescue_team": f"{d.name}消防救援大队、{d.short}演示{pick('team')}",
            "supplies_depot": f"{township}演示应急物资储备点", "shelter": f"{township}演示应急避难场所",
            "medical_point": f"{d.name}人民医院(演示)",
            "alarm_targets": f"周边{int(rng.integers(1, 9))}个村(社区)及相邻单位",
            "evacuation_radius_m": float(round(radius)), "geometry": Point(x, y),
        }
        self.ctx.risk_points.append(rec)
        return rec

    def make(self) -> None:
        """Add the risk points: the gravest linked hazards of each district first, then generic ones."""
        quota = dict.fromkeys(self.ctx.districts, 3)
        quota.update({_AN_NING: 7, _XI_SHAN: 4, _GUAN_DU: 4, _DONG_CHUAN: 5, "530128": 2})
        severity = {"major": 0, "significant": 1, "general": 2, "low": 3}
        operator_code = self.ctx.credit_code("510100")
        gas_co = self.ctx.credit_code("530114")
        for adcode, n in quota.items():
            cands: list[tuple[int, int, Callable[[], Any]]] = []
            for td in self.ctx.tailings:
                if td["adcode"] == adcode and td["risk_level"] != "low":
                    cands.append((severity[td["risk_level"]], len(cands), self._rp_from_tailings(td)))
            for e in self.ctx.enterprises:
                if e["adcode"] == adcode and e["industry"] not in ("gas_station", "other") and (
                        e["risk_level"] != "low"):
                    cands.append((severity[e["risk_level"]], len(cands), self._rp_from_enterprise(e)))
            for h in self.ctx.hcas:
                if h["adcode"] == adcode:
                    cands.append((3 - int(h["grade"]), len(cands), self._rp_from_hca(h, operator_code, gas_co)))
            cands.sort(key=lambda c: (c[0], c[1]))
            linked = cands[: n - 1] if len(cands) >= n else cands
            for _sev, _i, make in linked:
                make()
            generic = ("crowded", "construction", "transport", "gas", "crowded")
            for k in range(n - len(linked)):
                self._rp_generic(adcode, generic[(k + int(adcode[-2:])) % len(generic)])

    def _rp_from_enterprise(self, e: dict[str, Any]) -> Callable[[], Any]:
        def make() -> Any:
            cat = {"mining": "mining", "metallurgy": "other", "fireworks": "other"}.get(e["industry"], "hazchem")
            sub = None
            if cat == "hazchem" and e["mhs_grade"]:
                sub = f"{CN_NUM[int(e['mhs_grade']) - 1]}级重大危险源"
            elif e["industry"] == "fireworks":
                sub = "烟花爆竹储存"
            elif e["industry"] == "metallurgy":
                sub = "冶金煤气区域"
            radius = float(e["external_distance_m"] or {"mining": 300.0, "other": 300.0}.get(cat, 500.0))
            if e["industry"] == "fireworks":
                radius = 500.0
            part = ("生产装置及罐区" if cat == "hazchem" else "采场及井下" if cat == "mining" else "重点区域")
            g = e["geometry"]
            return self._risk_point(e["adcode"], cat, f"{e['name']}{part}", e["name"], e["credit_code"],
                                    e["risk_level"], g.x, g.y, radius, township=e["_township"],
                                    address=e["address"], sub=sub,
                                    workers=int(self.ctx.rng.integers(30, 400)),
                                    principal=e["principal"], phone=e["phone"])
        return make

    def _rp_from_tailings(self, td: dict[str, Any]) -> Callable[[], Any]:
        def make() -> Any:
            g = td["geometry"]
            owner = td["_owner"]
            sub = "头顶库" if td["_downstream"] else "尾矿库"
            return self._risk_point(td["adcode"], "tailings", td["name"], td["operator"], td["credit_code"],
                                    td["risk_level"], g.x, g.y, 1000.0, sub=sub,
                                    workers=int(self.ctx.rng.integers(5, 40)), principal=owner["principal"],
                                    phone=owner["phone"])
        return make

    def _rp_from_hca(self, h: dict[str, Any], operator_code: str, gas_co: str) -> Callable[[], Any]:
        def make() -> Any:
            p = _PIPES_BY_CODE[h["pipeline_key"]]
            radius = 0.099 * p.od_mm * math.sqrt(p.maop_mpa) if p.medium == "gas" else 200.0
            mid = h["_mid"]
            credit = gas_co if p.code == "GAS-02" else operator_code
            level = {"3": "major", "2": "significant", "1": "general"}[h["grade"]]
            return self._risk_point(h["adcode"], "pipeline", f"{p.name}{h['code']}高后果区段",
                                    p.operator, credit, level, mid.x, mid.y, radius,
                                    sub=f"{'ⅠⅡⅢ'[int(h['grade']) - 1]}级高后果区")
        return make

    def _rp_generic(self, adcode: str, category: str) -> None:
        rng = self.ctx.rng
        d = self.ctx.districts[adcode]
        risk = ("significant", "general", "low")[int(rng.choice(3, p=[0.2, 0.45, 0.35]))]
        if category == "crowded":
            pts = [t for t in self.ctx.targets if t["adcode"] == adcode
                   and t["target_type"] in ("commercial", "stadium", "transport_hub", "hotel")]
            if pts:
                t = pts[int(rng.integers(len(pts)))]
                g = t["geometry"].centroid
                self._risk_point(adcode, "crowded", t["name"], f"{t['name']}运营管理有限公司",
                                 self.ctx.credit_code(adcode), risk, g.x, g.y, 150.0,
                                 workers=int(t["population"] or 0))
                return
            category = "construction"
        x, y = self.ctx.near_seat(adcode, 7000.0)
        if category == "construction":
            entity = f"{d.short}演示建设工程有限公司"
            name = f"{d.short}演示综合体项目{('深基坑', '高支模', '塔吊群')[int(rng.integers(3))]}"
            credit, radius = self.ctx.credit_code(adcode), 100.0
        elif category == "transport":
            entity = f"{d.short}演示公路养护管理段"
            name = f"{d.short}演示县道连续下坡路段"
            credit, radius = self.ctx.credit_code(adcode, "12"), 200.0
        else:
            entity = f"{d.short}演示燃气有限公司"
            name = f"{d.short}演示燃气调压站"
            credit, radius = self.ctx.credit_code(adcode), 300.0
        self._risk_point(adcode, category, name, entity, credit, risk, x, y, radius,
                         workers=int(rng.integers(10, 200)))
