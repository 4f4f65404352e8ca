"""Hidden hazards, most linked to risk points; some overdue."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from shapely.geometry import Point

from geo.demo.context import DEMO_AS_OF, DemoContext, random_date

_HH_TEXT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # category: (general hazards, major hazards)
    "hazchem": (("储罐区可燃气体检测报警器未按期检定", "防火堤内积存油污未清理", "特殊作业票证填写不规范",
                 "安全阀未按期校验", "静电接地线松动", "应急器材柜防化服缺失"),
                ("涉及重点监管危险化工工艺的装置未实现自动化控制", "一级重大危险源未设置独立安全仪表系统",
                 "液化烃储罐未按规定设置紧急切断装置", "外部安全防护距离不符合要求")),
    "tailings": (("排洪沟局部淤堵", "坝面局部冲沟未修复", "浸润线观测孔部分损坏", "位移监测数据未按期分析"),
                 ("干滩长度小于设计最小干滩长度", "浸润线埋深小于控制浸润线埋深", "排洪系统部分堵塞，排洪能力不足")),
    "pipeline": (("管道标志桩缺失、损坏", "阴极保护电位不达标", "巡线记录不完整", "中心线5m内种植深根植物"),
                 ("管道中心线两侧各5m范围内建有建(构)筑物", "高后果区管段未按期复核识别",
                  "第三方未经许可在管道两侧50m内开挖")),
    "mining": (("局部通风机未挂牌管理", "采空区未及时封闭", "边坡台阶宽度不足", "爆破器材领退记录不全"),
               ("地下矿山未按规定建立安全避险系统", "露天采场边坡出现滑坡迹象未处理", "超层越界开采")),
    "gas": (("调压箱未设置防撞设施", "燃气泄漏报警器未联动切断", "巡检记录缺失"),
            ("燃气管道被建筑物占压", "液化石油气储罐超量充装")),
    "crowded": (("疏散通道堆放杂物", "安全出口指示灯损坏", "消防设施未定期维护保养", "电动自行车室内充电"),
                ("安全出口数量不足且被封堵", "自动喷水灭火系统瘫痪")),
    "construction": (("临边防护缺失", "塔吊限位装置失效", "脚手架连墙件不足", "临时用电未执行三级配电"),
                     ("危大工程未编制专项施工方案", "基坑变形超过预警值未停工处置")),
    "transport": (("弯道警示标志缺失", "护栏局部损坏", "避险车道维护不到位"),
                  ("急弯陡坡路段缺少防护设施且事故多发",)),
    "other": (("CO报警器失效", "防雷检测过期", "粉尘清扫记录缺失", "仓库温湿度计损坏"),
              ("危险品生产区内设置员工宿舍", "煤气区域未设置固定式CO检测报警")),
}


def make_hazards(ctx: DemoContext) -> None:
    """Generate 80 hidden hazards, most linked to risk points; some overdue."""
    rng = ctx.rng
    weights = np.array([{"major": 4.0, "significant": 3.0, "general": 2.0, "low": 1.0}[r["risk_level"]]
                        for r in ctx.risk_points])
    picks = [int(i) for i in rng.choice(len(ctx.risk_points), size=68, p=weights / weights.sum())]
    sources: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        (ctx.risk_points[i], None) for i in picks]
    plain = [e for e in ctx.enterprises if e["industry"] in ("gas_station", "other")]
    sources += [(None, plain[int(i)]) for i in rng.choice(len(plain), size=12, replace=False)]
    for rp, ent in sources:
        if rp is not None:
            category, g = str(rp["category"]), rp["geometry"]
            entity = rp["entity_name"]
        else:
            assert ent is not None
            category, g, entity = "other", ent["geometry"], ent["name"]
        major = rng.random() < (0.25 if rp is not None and rp["risk_level"] == "major" else 0.1)
        pool = _HH_TEXT[category][1 if major else 0]
        found = DEMO_AS_OF - dt.timedelta(days=2 + int(rng.random() ** 1.5 * 660))
        deadline = found + dt.timedelta(days=int(rng.integers(60, 181) if major else rng.integers(7, 61)))
        u = rng.random()
        if deadline < DEMO_AS_OF:  # mostly closed; a few left overdue
            recent = (DEMO_AS_OF - deadline).days < 60
            if u < 0.82 or (u < 0.9 and not recent):
                status = "closed"
            elif u < 0.9:
                status = "rectified"
            else:
                status = "rectifying" if u < 0.96 else "open"
        else:
            status = ("closed", "rectified", "rectifying", "open")[
                int(np.searchsorted([0.1, 0.3, 0.75], u, side="right"))]
        closed_on = None
        if status == "closed":
            last = min(deadline + dt.timedelta(days=20), DEMO_AS_OF - dt.timedelta(days=1))
            closed_on = random_date(rng, min(found + dt.timedelta(days=3), last), last)
        if major:
            supervision = ("province", "city", "city", "county")[int(rng.integers(4))]
        else:
            supervision = "county" if rng.random() < 0.15 else "none"
        x, y = g.x + rng.uniform(-60, 60), g.y + rng.uniform(-60, 60)
        adcode = ctx.locate(x, y)
        if adcode is None or not ctx.on_land(x, y):
            x, y = g.x, g.y
            adcode = ctx.locate(x, y)
        assert adcode is not None
        ctx.hazards.append({
            "adcode": adcode, "description": pool[int(rng.integers(len(pool)))],
            "risk_point_code": rp["code"] if rp is not None else None, "enterprise_name": entity,
            "severity": "major" if major else "general", "found_on": found, "deadline": deadline,
            "status": status, "supervision": supervision, "closed_on": closed_on,
            "geometry": Point(x, y),
        })
    ctx.hazards.sort(key=lambda h: (h["adcode"], h["found_on"]))
    for h in ctx.hazards:
        h["code"] = f"YH-{h['adcode']}-{ctx.next_no('yh:' + h['adcode']):04d}"
