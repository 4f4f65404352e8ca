"""Deterministic demo data set for Kunming (昆明市, adcode 530100).

.. warning::

   **Everything this module produces is generated demo data (演示数据), not real
   enterprises, facilities or people.** Only the district boundaries passed in
   are real. Enterprise, tailings-pond, pipeline, building, protection-target,
   risk-point and hidden-hazard records are synthetic: names carry "演示", phone
   numbers are non-dialable (``0871-0000xxxx``), townships and roads are
   fictitious, and the credit codes are merely check-digit-valid strings.

The pipelines follow hand-chosen waypoints that only *roughly* imitate the
corridors of real trunk lines (a gas trunk west→east across 安宁/西山/晋宁/呈贡/
宜良, a crude line ending at a refinery area in 安宁 and a products line towards
嵩明/寻甸); no third-party pipeline data is used. A rough hand-drawn outline of
滇池 only keeps generated points out of the lake.

The data are built to exercise the rules in ``standards.md`` §4-7: buildings
over or within 5 m of a pipeline centreline (管道占压), 2 km windows of every
GB 50251 location class, a cluster of ≥4-storey blocks, declared high-consequence
areas (one older than 18 months), roads crossing at shallow angles, water
sources and fuel stations near lines, tailings ponds of grades 二-五 with people
within 1 km downstream, and protection targets inside individual-risk contours.

All distance work happens in metres in the CGCS2000 3-degree Gauss-Krüger CM
102°E projection (EPSG:4543); results are returned in CGCS2000 (EPSG:4490).
The same seed and districts always give identical output.

HCA ``start_m``/``end_m`` are metres along the pipeline geometry from its first
vertex; the one pipeline with a non-zero ``start_mileage_m`` (PRD-01) carries no
declared HCA, so the two readings of "mileage" cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.ops import nearest_points, substring

from geo.layer_specs import LAYERS

#: Real river lines shipped with the demo (see data/README.md).
RIVERS_FILE = Path(__file__).resolve().parents[1] / "data" / "rivers_kunming.geojson"

__all__ = ["DEMO_AS_OF", "DEMO_SEED", "LAYER_NAMES", "generate_demo"]

#: Default seed of the demo generator.
DEMO_SEED = 20261124
#: Reference date of the demo ("today" for deadlines and 18-month re-identification).
DEMO_AS_OF = dt.date(2026, 11, 1)
#: Layers returned by :func:`generate_demo`, in dependency order.
LAYER_NAMES = (
    "enterprises", "risk_contours", "protection_targets", "buildings", "pipelines", "hcas",
    "tailings_dams", "infrastructure", "installations", "risk_points", "hidden_hazards",
)

GEO_CRS = 4490
WORK_CRS = 4543
_MARGIN_M = 25.0  # generated features keep this far inside their district
_LAKE_BUFFER_M = 300.0

# ---------------------------------------------------------------------------
# GB 32100-2015 unified social credit code and GB 11714 organisation code
# ---------------------------------------------------------------------------

_CC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _credit_code_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character of a unified social credit code.

    Parameters
    ----------
    first17 : str
        The first 17 characters of the code.

    Returns
    -------
    str
        The 18th (check) character.

    Raises
    ------
    ValueError
        If ``first17`` is not 17 characters from the GB 32100 character set.
    """
    if len(first17) != 17:
        raise ValueError(f"need 17 characters, got {len(first17)}")
    total = 0
    for ch, weight in zip(first17, _CC_WEIGHTS, strict=True):
        if ch not in _CC_CHARSET:
            raise ValueError(f"character {ch!r} not allowed in a credit code")
        total += _CC_CHARSET.index(ch) * weight
    return _CC_CHARSET[(31 - total % 31) % 31]


def _org_code_check_char(first8: str) -> str:
    """Return the GB 11714 check character of a 9-character organisation code.

    Parameters
    ----------
    first8 : str
        The first 8 characters (digits or capital letters).

    Returns
    -------
    str
        ``0``-``9`` or ``X``.
    """
    total = sum(int(ch, 36) * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


# ---------------------------------------------------------------------------
# Hand-chosen geography (lon/lat, CGCS2000 ≈ WGS84)
# ---------------------------------------------------------------------------

#: Very rough outline of 滇池; only used to keep generated points off the lake.
_DIANCHI = (
    (102.655, 25.02), (102.685, 25.01), (102.70, 24.975), (102.735, 24.955), (102.765, 24.905),
    (102.765, 24.84), (102.735, 24.77), (102.69, 24.71), (102.645, 24.675), (102.615, 24.69),
    (102.60, 24.74), (102.605, 24.80), (102.625, 24.86), (102.64, 24.93), (102.645, 24.98),
)

#: Approximate county seats, used to cluster urban features.
_SEATS: dict[str, tuple[float, float]] = {
    "530102": (102.700, 25.060), "530103": (102.735, 25.075), "530111": (102.770, 25.010),
    "530112": (102.640, 25.030), "530113": (103.185, 26.085), "530114": (102.830, 24.890),
    "530115": (102.590, 24.660), "530124": (102.500, 25.220), "530125": (103.140, 24.920),
    "530126": (103.275, 24.770), "530127": (103.040, 25.340), "530128": (102.470, 25.550),
    "530129": (103.255, 25.560), "530181": (102.470, 24.920),
}

_AN_NING, _XI_SHAN, _GUAN_DU, _DONG_CHUAN = "530181", "530112", "530111", "530113"
_REFINERY = (102.392, 24.975)


@dataclass(frozen=True)
class _PipeDef:
    code: str
    name: str
    medium: str
    od_mm: float
    maop_mpa: float
    operator: str
    start_mileage_m: float
    waypoints: tuple[tuple[float, float], ...]
    wiggle_m: float


_PIPEDEFS = (
    _PipeDef("GAS-01", "西南演示输气干线昆明段", "gas", 1016.0, 10.0,
             "国家管网集团西南管道有限责任公司(演示)", 0.0,
             ((102.212, 24.948), (102.25, 24.945), (102.36, 24.905), (102.45, 24.86),
              (102.53, 24.80), (102.575, 24.765), (102.585, 24.695), (102.66, 24.640),
              (102.73, 24.69), (102.80, 24.765), (102.88, 24.83), (102.95, 24.91),
              (103.02, 24.932), (103.12, 24.905), (103.26, 24.86)), 90.0),
    _PipeDef("OIL-01", "西南演示原油管道安宁段", "crude", 813.0, 10.0,
             "国家管网集团西南管道有限责任公司(演示)", 0.0,
             ((102.225, 24.974), (102.26, 24.978), (102.32, 24.985), (102.40, 24.97)), 60.0),
    # Starts at the refinery fence: the first 1.2 km run inside the plant, which the
    # pipeline-protection law (Art. 2) does not cover, hence the non-zero mileage.
    _PipeDef("PRD-01", "演示成品油管道安宁—寻甸段", "products", 508.0, 8.0,
             "国家管网集团西南管道有限责任公司(演示)", 1200.0,
             ((102.41, 24.978), (102.47, 25.03), (102.56, 25.10), (102.68, 25.16),
              (102.82, 25.22), (102.95, 25.28), (103.05, 25.35), (103.12, 25.44)), 90.0),
    # Branch off GAS-01 (first vertex is snapped onto the trunk).
    _PipeDef("GAS-02", "呈贡演示输气支线", "gas", 219.0, 1.5, "昆明演示燃气有限公司", 0.0,
             ((102.80, 24.765), (102.83, 24.82), (102.84, 24.87)), 40.0),
)

# Anchors (lon/lat) that are projected onto pipelines to place planned features.
_ANCHOR_TOWN = ("GAS-01", (102.36, 24.905))          # class-3 suburban town, 安宁
_ANCHOR_TOWERS = ("GAS-01", (102.555, 24.785))       # ≥4-storey cluster, 西山
_ANCHOR_SCHOOL = ("GAS-01", (102.99, 24.924))        # school inside r = 318 m
_ANCHOR_FUEL = ("GAS-01", (103.075, 24.918))         # fuel stations, low density
_ANCHOR_WATER = ("OIL-01", (102.30, 24.983))         # water source within 200 m
_ANCHOR_KINDER = ("GAS-02", (102.834, 24.845))       # kindergarten inside r = 27 m
_ANCHOR_RESERVE = ("PRD-01", (102.97, 25.30))        # nature reserve near PRD-01
_ANCHOR_SUBSTATION = ("PRD-01", (102.62, 25.13))

# (adcode, industry, stem, mhs_grade, risk_level, flags)
#   flags: c = individual-risk contours, n = new installation, x = explosives,
#          t = operates tailings ponds, p = chemical park of 安宁
_ENTERPRISES: tuple[tuple[str, str, str, int | None, str, str], ...] = (
    ("530181", "refinery", "石化", 1, "major", "c"),
    ("530181", "hazchem_production", "磷化工", 2, "major", "cp"),
    ("530181", "hazchem_production", "氯碱化工", 1, "major", "cnp"),
    ("530181", "hazchem_storage", "液化气储配", 3, "significant", "p"),
    ("530181", "hazchem_storage", "化工仓储", 4, "general", "p"),
    ("530181", "hazchem_production", "精细化工", 3, "significant", "np"),
    ("530181", "metallurgy", "钢铁", None, "significant", ""),
    ("530181", "mining", "铁矿", None, "significant", "t"),
    ("530181", "gas_station", "", None, "low", ""),
    ("530181", "gas_station", "", None, "low", ""),
    ("530181", "other", "物流", None, "low", ""),
    ("530112", "hazchem_production", "磷化工", 2, "significant", "c"),
    ("530112", "mining", "磷矿", None, "significant", ""),
    ("530112", "hazchem_storage", "危化品仓储", 3, "general", ""),
    ("530112", "metallurgy", "冶金", None, "general", ""),
    ("530112", "gas_station", "", None, "low", ""),
    ("530112", "other", "建材", None, "low", ""),
    ("530111", "hazchem_storage", "液化石油气储配", 2, "major", "c"),
    ("530111", "hazchem_storage", "油库", 3, "significant", ""),
    ("530111", "hazchem_production", "医药化工", 4, "general", ""),
    ("530111", "gas_station", "", None, "low", ""),
    ("530111", "gas_station", "", None, "general", ""),
    ("530111", "other", "冷链物流", None, "low", ""),
    ("530113", "mining", "铜矿", None, "major", "t"),
    ("530113", "mining", "铜业矿山", None, "significant", "t"),
    ("530113", "mining", "铁矿", None, "significant", "t"),
    ("530113", "mining", "多金属矿", None, "general", ""),
    ("530113", "metallurgy", "冶炼", None, "significant", ""),
    ("530113", "hazchem_storage", "民爆器材", 2, "major", "x"),
    ("530113", "gas_station", "", None, "low", ""),
    ("530102", "gas_station", "", None, "low", ""),
    ("530102", "hazchem_storage", "气体充装", 4, "general", ""),
    ("530102", "other", "印务", None, "low", ""),
    ("530103", "gas_station", "", None, "low", ""),
    ("530103", "hazchem_storage", "危化品经营", None, "general", ""),
    ("530103", "mining", "建材矿山", None, "low", ""),
    ("530114", "gas_station", "", None, "low", ""),
    ("530114", "hazchem_storage", "燃气储配", 3, "significant", ""),
    ("530114", "other", "食品", None, "low", ""),
    ("530115", "hazchem_production", "磷化工", 2, "significant", "c"),
    ("530115", "mining", "磷矿", None, "general", ""),
    ("530115", "gas_station", "", None, "low", ""),
    ("530124", "mining", "铅锌矿", None, "significant", "t"),
    ("530124", "metallurgy", "钛业", None, "general", ""),
    ("530124", "gas_station", "", None, "low", ""),
    ("530125", "fireworks", "烟花爆竹", None, "significant", "x"),
    ("530125", "hazchem_production", "化工", 3, "significant", "cn"),
    ("530125", "gas_station", "", None, "low", ""),
    ("530126", "hazchem_storage", "危化品仓储", 4, "general", ""),
    ("530126", "mining", "石材", None, "low", ""),
    ("530126", "gas_station", "", None, "low", ""),
    ("530127", "hazchem_production", "生物化工", 4, "general", ""),
    ("530127", "metallurgy", "铸造", None, "general", ""),
    ("530127", "gas_station", "", None, "low", ""),
    ("530128", "mining", "钛矿", None, "significant", "t"),
    ("530128", "mining", "铜矿", None, "general", ""),
    ("530128", "gas_station", "", None, "low", ""),
    ("530129", "mining", "磷矿", None, "significant", "t"),
    ("530129", "hazchem_production", "磷化工", 3, "significant", "c"),
    ("530129", "gas_station", "", None, "low", ""),
)

_HAZCHEM = ("hazchem_production", "hazchem_storage", "refinery")

# Plant parts (GB 50160 4.1.9 / GB 50016 3.5.1) by enterprise: (part_type, name, fire class, width m, depth m);
# a depth of 0 makes a point (a flare stack). Picked by industry, then by the enterprise stem.
_PartPlan = tuple[str, str, str | None, float, float]
_PARTS_REFINERY: tuple[_PartPlan, ...] = (
    ("lpg_tank_group", "液化烃球罐组", "甲", 70.0, 55.0),
    ("flammable_liquid_tank_group", "原油罐组", "甲", 110.0, 80.0),
    ("process_unit", "常减压蒸馏装置", "甲", 90.0, 50.0), ("process_unit", "沥青成型装置", "丙", 50.0, 30.0),
    ("flare", "高架火炬", None, 0.0, 0.0), ("important_facility", "中心控制室", None, 36.0, 24.0),
)
_PARTS_LPG: tuple[_PartPlan, ...] = (
    ("lpg_tank_group", "液化石油气储罐组", "甲", 45.0, 32.0), ("important_facility", "消防泵房", None, 18.0, 12.0),
)
_PARTS_OIL_DEPOT: tuple[_PartPlan, ...] = (
    ("flammable_liquid_tank_group", "汽油储罐组", "甲", 70.0, 50.0),
    ("flammable_liquid_tank_group", "柴油储罐组", "丙", 60.0, 45.0),
)
_PARTS_WAREHOUSE: tuple[_PartPlan, ...] = (
    ("class_a_warehouse", "甲类仓库", "甲", 36.0, 18.0), ("class_b_warehouse", "乙类仓库", "乙", 42.0, 20.0),
)
_PARTS_PRODUCTION: tuple[_PartPlan, ...] = (
    ("process_unit", "合成装置", "甲", 60.0, 40.0), ("flammable_liquid_tank_group", "中间罐组", "乙", 40.0, 30.0),
    ("class_ab_factory", "甲类厂房", "甲", 48.0, 20.0), ("class_a_warehouse", "甲类仓库", "甲", 30.0, 15.0),
)
_FLARE: _PartPlan = ("flare", "高架火炬", None, 0.0, 0.0)
# Hazardous chemicals of the parts (column substances, GB 18218): the first row whose stem keyword is in the
# enterprise stem ("" = any), whose part type matches and whose fire class matches (None = any) gives the
# entries: (text with {} for the tonnes, lowest, highest). 丙类 process units hold none. The 气体充装 and
# 医药化工 plants (declared 四级) compute as 三级 and the 危化品经营 trader (no grade declared) holds fuming
# nitric acid above its critical quantity, so that MHS_GRADE_LOW and MHS_UNDECLARED have findings.
_Stock = tuple[str, float, float]
_INVENTORIES: tuple[tuple[str, str, str | None, tuple[_Stock, ...]], ...] = (
    ("石化", "lpg_tank_group", None, (("液化石油气:68476-85-7:{}", 600.0, 1200.0),)),
    ("石化", "flammable_liquid_tank_group", None, (("原油:8002-05-9:易燃液体类别2:{}", 20000.0, 30000.0),)),
    ("石化", "process_unit", "甲", (("汽油:86290-81-5:{}", 80.0, 150.0), ("液化石油气:{}", 20.0, 40.0),
                                   ("氢:{}", 1.0, 3.0))),
    ("氯碱", "process_unit", None, (("氯:{}", 40.0, 80.0), ("氢:{}", 2.0, 5.0), ("氯化氢(无水):{}", 20.0, 40.0))),
    ("氯碱", "flammable_liquid_tank_group", None, (("液氯:7782-50-5:{}", 50.0, 150.0),)),
    ("磷化工", "process_unit", None, (("白磷:{}", 60.0, 150.0), ("磷化氢:{}", 0.2, 0.5))),
    ("磷化工", "flammable_liquid_tank_group", None, (("白磷:12185-10-3:{}", 100.0, 300.0),)),
    ("精细化工", "process_unit", None, (("甲苯:{}", 100.0, 200.0), ("甲醇:{}", 100.0, 300.0))),
    ("精细化工", "flammable_liquid_tank_group", None, (("甲醇:{}", 300.0, 600.0), ("乙酸乙酯:{}", 200.0, 400.0))),
    ("医药化工", "process_unit", None, (("环氧乙烷:75-21-8:{}", 90.0, 120.0), ("一甲胺:{}", 5.0, 10.0))),
    ("医药化工", "flammable_liquid_tank_group", None, (("丙酮:{}", 200.0, 400.0), ("乙醇:{}", 200.0, 400.0))),
    ("生物化工", "process_unit", None, (("乙醇:{}", 300.0, 600.0),)),
    ("生物化工", "flammable_liquid_tank_group", None, (("乙醇:64-17-5:{}", 600.0, 1200.0),)),
    ("液化石油气", "lpg_tank_group", None, (("液化石油气:68476-85-7:{}", 900.0, 1200.0),)),
    ("液化", "lpg_tank_group", None, (("液化石油气:{}", 300.0, 500.0),)),
    ("燃气", "lpg_tank_group", None, (("液化石油气:{}", 200.0, 400.0), ("天然气:{}", 50.0, 100.0))),
    ("气体", "lpg_tank_group", None, (("液化石油气:{}", 400.0, 500.0), ("氧(压缩或液化):{}", 50.0, 100.0),
                                     ("乙炔:74-86-2:{}", 6.0, 9.0))),
    ("油库", "flammable_liquid_tank_group", "甲", (("汽油:86290-81-5:{}", 1500.0, 3000.0),)),
    ("油库", "flammable_liquid_tank_group", "丙", (("柴油:易燃液体类别3:{}", 2000.0, 5000.0),)),
    ("危化品经营", "class_b_warehouse", None, (("发烟硝酸:{}", 25.0, 40.0),)),
    ("", "process_unit", None, (("苯:{}", 20.0, 60.0), ("丙烯腈:{}", 10.0, 30.0))),
    ("", "flammable_liquid_tank_group", None, (("苯乙烯:{}", 200.0, 500.0),)),
    ("", "class_b_warehouse", None, (("硝酸(>70%):{}", 20.0, 60.0), ("氧(压缩或液化):{}", 5.0, 20.0))),
    ("", "class_ab_factory", None, (("甲苯:{}", 5.0, 20.0),)),
)
#: A class A warehouse holds its stock (stock_t) split between these, by stored goods items (GB 50016 3.1.3).
_WAREHOUSE_GOODS: dict[str, tuple[tuple[str, float], ...]] = {
    "1,2,5,6": (("乙醚:60-29-7:{}", 0.6), ("氯酸钠:{}", 0.4)),
    "3,4": (("白磷:{}", 0.8), ("烷基铝:{}", 0.2)),
}
# Parts of storage enterprises placed on purpose near people (GB 50160 and GB 50016 findings):
# part type -> (target types measured to, gap range in metres).
_NEAR_PEOPLE: dict[str, tuple[tuple[str, ...], tuple[float, float]]] = {
    "lpg_tank_group": (("residential", "school", "kindergarten", "hospital", "commercial", "office", "hotel"),
                       (95.0, 135.0)),
    "class_a_warehouse": (("residential", "school", "kindergarten", "commercial", "office", "hotel"), (18.0, 35.0)),
}
_IR_LEVELS = (3e-5, 1e-5, 3e-6, 1e-6, 3e-7)
_IR_RADII_M = (80.0, 180.0, 320.0, 520.0, 900.0)
_MHS_SCALE = {1: (1.05, 1.2), 2: (0.85, 1.0), 3: (0.7, 0.85), 4: (0.55, 0.7)}

# (adcode, storage 万m³, dam height m, safety degree, status, risk level, people downstream)
_TAILINGS: tuple[tuple[str, float, float, str | None, str, str, bool], ...] = (
    ("530113", 20000.0, 120.0, "normal", "operating", "major", False),
    ("530113", 3000.0, 70.0, "sick", "operating", "significant", True),
    ("530113", 600.0, 105.0, "risk", "stopped", "major", True),
    ("530113", 50.0, 20.0, "normal", "closed", "low", False),
    ("530128", 1500.0, 45.0, "normal", "operating", "significant", False),
    ("530128", 80.0, 35.0, "sick", "stopped", "general", False),
    ("530181", 500.0, 40.0, "normal", "operating", "general", True),
    ("530181", 12000.0, 85.0, "danger", "stopped", "major", True),
    ("530124", 3000.0, 70.0, "normal", "operating", "significant", False),
    ("530124", 30.0, 15.0, "normal", "closed", "low", False),
    ("530129", 800.0, 55.0, "sick", "operating", "general", False),
    ("530129", 200.0, 28.0, None, "building", "low", False),
)

_PT_COUNTS = {
    "school": 16, "kindergarten": 12, "hospital": 9, "elderly_home": 5, "prison": 2,
    "cultural": 5, "heritage": 5, "museum": 4, "religious": 4, "rail_transit": 4, "military": 2,
    "residential": 40, "office": 9, "commercial": 11, "hotel": 7, "stadium": 3,
    "transport_hub": 4, "factory": 12, "other": 4,
}
_URBAN = ("530102", "530103", "530111", "530112", "530114")

_SURNAMES = ("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
             "袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢钟谭陆范金石廖夏韦方白孟熊秦邱江尹段雷侯龙史陶贺顾毛")
_GIVEN = ("伟芳娜英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志红文斌宇浩"
          "凯鑫辉丹玲萍燕云海波林春晓东亮俊峰琼梅荣庆祥福顺")
_VILLAGES = ("新庄", "大营", "小营", "李家营", "王家营", "河湾", "小坝", "松林", "石门", "龙潭",
             "马街", "杨柳", "青龙", "白塔", "清水", "沙沟", "柳树", "桃园", "梨园", "麦地")
_CN_NUM = "一二三四五六七八九十"


# ---------------------------------------------------------------------------
# Text pools for the four lists (基础/防控/责任/应急) and hidden hazards
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Small geometry helpers (all in EPSG:4543 metres)
# ---------------------------------------------------------------------------


def _rect(cx: float, cy: float, w: float, h: float, angle: float) -> Polygon:
    """Return a ``w`` × ``h`` rectangle centred on (cx, cy), rotated by ``angle`` radians."""
    c, s = math.cos(angle), math.sin(angle)
    corners = ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))
    return Polygon([(cx + x * c - y * s, cy + x * s + y * c) for x, y in corners])


def _shape_factor(rng: np.random.Generator, irregularity: float) -> Callable[[np.ndarray], np.ndarray]:
    """Return a random smooth radial factor f(θ) ≈ 1 ± ``irregularity`` (always > 0.5)."""
    amps = rng.uniform(0.3, 1.0, 3) * irregularity / 2.3
    phases = rng.uniform(0.0, 2 * math.pi, 3)

    def f(theta: np.ndarray) -> np.ndarray:
        out = np.ones_like(theta)
        for k, (a, p) in enumerate(zip(amps, phases, strict=True)):
            out += a * np.cos((k + 2) * theta + p)
        return out

    return f


def _blob(cx: float, cy: float, rx: float, ry: float, angle: float,
          f: Callable[[np.ndarray], np.ndarray], n: int = 64) -> Polygon:
    """Return an irregular ellipse: semi-axes ``rx``/``ry`` rotated by ``angle``, radius scaled by ``f``."""
    th = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    k = f(th)
    x, y = rx * np.cos(th) * k, ry * np.sin(th) * k
    c, s = math.cos(angle), math.sin(angle)
    return Polygon(np.column_stack([cx + x * c - y * s, cy + x * s + y * c]))


def _frame(line: LineString, s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the point, unit tangent and unit left normal of ``line`` at chainage ``s``."""
    s = min(max(s, 0.0), line.length)
    a = np.asarray(line.interpolate(max(s - 15.0, 0.0)).coords[0])
    b = np.asarray(line.interpolate(min(s + 15.0, line.length)).coords[0])
    p = np.asarray(line.interpolate(s).coords[0])
    t = (b - a) / np.hypot(*(b - a))
    return p, t, np.array([-t[1], t[0]])


def _wiggle(line: LineString, rng: np.random.Generator, amp: float, step: float = 100.0) -> LineString:
    """Densify ``line`` to ``step`` metres and offset it sideways by smooth noise of ``amp`` m."""
    xy = shapely.get_coordinates(shapely.segmentize(line, step))
    d = np.diff(xy, axis=0)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(d[:, 0], d[:, 1]))])
    tan = np.empty_like(xy)
    tan[1:-1] = xy[2:] - xy[:-2]
    tan[0], tan[-1] = xy[1] - xy[0], xy[-1] - xy[-2]
    tan /= np.hypot(tan[:, 0], tan[:, 1])[:, None]
    nrm = np.column_stack([-tan[:, 1], tan[:, 0]])
    off = np.zeros(len(s))
    for wavelength, weight in ((9000.0, 0.5), (4000.0, 0.3), (1700.0, 0.2)):
        off += weight * np.sin(2 * math.pi * s / wavelength + rng.uniform(0, 2 * math.pi))
    off *= amp * np.clip(np.minimum(s, s[-1] - s) / 800.0, 0.0, 1.0)
    return LineString(xy + nrm * off[:, None])


def _place_at_distance(line: LineString, s: float, side: float, target: float,
                       w: float, h: float) -> Polygon:
    """Return a rectangle beside ``line`` at chainage ``s`` whose edge is ``target`` m from it."""
    p, t, n = _frame(line, s)
    angle = math.atan2(t[1], t[0])
    if target <= 0.0:
        return _rect(p[0], p[1], w, h, angle)
    c = p + n * side * (target + h / 2)
    poly = _rect(c[0], c[1], w, h, angle)
    for _ in range(8):
        gap = target - poly.distance(line)
        if abs(gap) < 0.005:
            break
        c = c + n * side * gap
        poly = _rect(c[0], c[1], w, h, angle)
    return poly


def _date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    """Return a uniform random date in [start, end]."""
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


# ---------------------------------------------------------------------------
# Generator state
# ---------------------------------------------------------------------------


@dataclass
class _District:
    adcode: str
    name: str
    short: str
    geom: Any  # EPSG:4543
    inner: Any  # geom shrunk by _MARGIN_M, prepared


class _Footprints:
    """Spatial hash of placed footprints, to keep buildings from overlapping."""

    def __init__(self, cell: float = 60.0) -> None:
        self.cell = cell
        self.cells: dict[tuple[int, int], list[Any]] = {}

    def _keys(self, geom: Any, pad: float) -> list[tuple[int, int]]:
        x0, y0, x1, y1 = geom.bounds
        c = self.cell
        return [(i, j) for i in range(math.floor((x0 - pad) / c), math.floor((x1 + pad) / c) + 1)
                for j in range(math.floor((y0 - pad) / c), math.floor((y1 + pad) / c) + 1)]

    def free(self, geom: Any, gap: float = 3.0) -> bool:
        """Tell whether ``geom`` keeps ``gap`` metres from every stored footprint."""
        return not any(shapely.dwithin(other, geom, gap)
                       for key in self._keys(geom, gap) for other in self.cells.get(key, ()))

    def add(self, geom: Any) -> None:
        """Store ``geom``."""
        for key in self._keys(geom, 0.0):
            self.cells.setdefault(key, []).append(geom)


class _Gen:
    """Holds the random generator, districts and everything generated so far."""

    def __init__(self, districts: gpd.GeoDataFrame, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        #: Plant parts draw from their own stream, so adding them left every other layer unchanged.
        self.inst_rng = np.random.default_rng([seed, 50160])
        #: The parts' hazardous-chemical inventories draw from another, so the parts stayed as they were.
        self.substance_rng = np.random.default_rng([seed, 18218])
        src = districts if districts.crs is not None else districts.set_crs(GEO_CRS)
        work = src.to_crs(WORK_CRS).sort_values("adcode").reset_index(drop=True)
        missing = [a for a in _SEATS if a not in set(work["adcode"].astype(str))]
        if missing:
            raise ValueError(f"the Kunming demo needs districts {missing}")
        self.to_m = Transformer.from_crs(GEO_CRS, WORK_CRS, always_xy=True)
        self.districts: dict[str, _District] = {}
        for adcode, name, geom in zip(work["adcode"].astype(str), work["name"].astype(str),
                                      work.geometry, strict=True):
            if adcode not in _SEATS:
                continue
            inner = geom.buffer(-_MARGIN_M)
            shapely.prepare(inner)
            shapely.prepare(geom)
            short = name[:2] if "自治" in name else name[:-1]
            self.districts[adcode] = _District(adcode, name, short, geom, inner)
        lake = Polygon([self.xy(lon, lat) for lon, lat in _DIANCHI]).buffer(_LAKE_BUFFER_M)
        shapely.prepare(lake)
        self.lake = lake
        whole = shapely.union_all([d.geom for d in self.districts.values()])
        self.land = whole.buffer(-_MARGIN_M).difference(lake)
        shapely.prepare(self.land)
        self.used_codes: set[str] = set()
        self.counters: dict[str, int] = {}
        self.footprints = _Footprints()
        self.pipes: dict[str, LineString] = {}
        self.pipe_defs = {p.code: p for p in _PIPEDEFS}
        self.enterprises: list[dict[str, Any]] = []
        self.contours: list[dict[str, Any]] = []
        self.tailings: list[dict[str, Any]] = []
        self.buildings: list[dict[str, Any]] = []
        self.targets: list[dict[str, Any]] = []
        self.infra: list[dict[str, Any]] = []
        self.hcas: list[dict[str, Any]] = []
        self.risk_points: list[dict[str, Any]] = []
        self.hazards: list[dict[str, Any]] = []
        self.installations: list[dict[str, Any]] = []
        self._people = shapely.STRtree([])
        self.marks: dict[str, Any] = {}  # planned features the HCAs refer to
        self._bld_xy: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0), np.zeros(0))

    # -- basic helpers ---------------------------------------------------
    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Project a lon/lat pair to EPSG:4543 metres."""
        x, y = self.to_m.transform(lon, lat)
        return float(x), float(y)

    def next_no(self, key: str) -> int:
        """Return the next serial number for ``key`` (starting at 1)."""
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    def locate(self, x: float, y: float) -> str | None:
        """Return the adcode of the district containing (x, y), or None."""
        for d in self.districts.values():
            if shapely.contains_xy(d.geom, x, y):
                return d.adcode
        return None

    def on_land(self, x: float, y: float, adcode: str | None = None) -> bool:
        """Tell whether (x, y) is inside a district (``adcode`` if given), clear of edges and the lake."""
        if shapely.contains_xy(self.lake, x, y):
            return False
        if adcode is not None:
            return bool(shapely.contains_xy(self.districts[adcode].inner, x, y))
        return bool(shapely.contains_xy(self.land, x, y))

    def sample(self, adcode: str, center: tuple[float, float] | None = None,
               r_min: float = 0.0, r_max: float = 0.0) -> tuple[float, float]:
        """Return a random point in district ``adcode`` (optionally in an annulus around ``center``)."""
        d = self.districts[adcode]
        for _ in range(400):
            if center is not None:
                r = math.sqrt(self.rng.uniform(r_min**2, r_max**2))
                a = self.rng.uniform(0, 2 * math.pi)
                x, y = center[0] + r * math.cos(a), center[1] + r * math.sin(a)
            else:
                x0, y0, x1, y1 = d.inner.bounds
                x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
            if self.on_land(x, y, adcode):
                return x, y
        if center is not None:  # annulus missed the district: fall back to anywhere in it
            return self.sample(adcode)
        raise RuntimeError(f"could not sample a point in {adcode}")

    def seat(self, adcode: str) -> tuple[float, float]:
        """Return the approximate county seat of ``adcode`` in metres."""
        return self.xy(*_SEATS[adcode])

    def near_seat(self, adcode: str, r_max: float = 6000.0) -> tuple[float, float]:
        """Return a random point within ``r_max`` of the county seat, inside the district."""
        return self.sample(adcode, self.seat(adcode), 0.0, r_max)

    def person(self) -> str:
        """Return a fictitious personal name."""
        n = int(self.rng.integers(1, 3))
        return (_SURNAMES[int(self.rng.integers(len(_SURNAMES)))]
                + "".join(_GIVEN[int(i)] for i in self.rng.integers(0, len(_GIVEN), n)))

    def phone(self) -> str:
        """Return a non-dialable demo phone number."""
        return f"0871-0000{int(self.rng.integers(0, 10000)):04d}"

    def township(self, adcode: str) -> str:
        """Return a fictitious township (街道/镇/乡) of ``adcode``."""
        short = self.districts[adcode].short
        return f"{short}演示{('街道', '镇', '乡')[int(self.rng.integers(3))]}"

    def address(self, adcode: str, township: str) -> str:
        """Return a fictitious street address in ``township``."""
        road = ("兴业路", "工业大道", "园区路", "东环路", "新村路", "矿区路")[int(self.rng.integers(6))]
        return f"{self.districts[adcode].name}{township}演示{road}{int(self.rng.integers(1, 300))}号"

    def credit_code(self, adcode: str, prefix: str = "91") -> str:
        """Return a new, unique, check-digit-valid credit code registered in ``adcode``."""
        while True:
            if prefix == "91":
                body8 = "MA" + "".join(_CC_CHARSET[int(i)] for i in self.rng.integers(0, 31, 6))
            else:
                body8 = "".join(str(int(i)) for i in self.rng.integers(0, 10, 8))
            first17 = prefix + adcode + body8 + _org_code_check_char(body8)
            code = first17 + _credit_code_check_char(first17)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def pipe_s(self, anchor: tuple[str, tuple[float, float]]) -> tuple[LineString, float]:
        """Return the pipeline and chainage nearest to an anchor ``(code, (lon, lat))``."""
        line = self.pipes[anchor[0]]
        return line, float(line.project(Point(self.xy(*anchor[1]))))

    def pipe_distance(self, geom: Any) -> float:
        """Return the distance from ``geom`` to the nearest pipeline centreline."""
        return float(min(geom.distance(line) for line in self.pipes.values()))

    # -- layers ------------------------------------------------------------
    def make_pipelines(self) -> None:
        """Build the four pipelines from waypoints, densified and gently wiggled."""
        for p in _PIPEDEFS:
            pts = [self.xy(lon, lat) for lon, lat in p.waypoints]
            if p.code == "GAS-02":  # branch starts on the trunk
                trunk = self.pipes["GAS-01"]
                q = trunk.interpolate(trunk.project(Point(pts[0])))
                pts[0] = (q.x, q.y)
            self.pipes[p.code] = _wiggle(LineString(pts), self.rng, p.wiggle_m)

    def make_enterprises(self) -> None:
        """Generate about 60 fictitious enterprises, denser in 安宁/西山/官渡/东川."""
        park = self.xy(102.43, 24.95)
        gas_no: dict[str, int] = {}
        for adcode, industry, stem, mhs, risk, flags in _ENTERPRISES:
            d = self.districts[adcode]
            if industry == "refinery":
                x, y = self.xy(*_REFINERY)
                if self.locate(x, y) != adcode:
                    raise RuntimeError("refinery anchor is outside 安宁市")
            else:
                for _ in range(100):  # keep plants clear of the pipelines
                    if "p" in flags:
                        x, y = self.sample(adcode, park, 1500.0, 9000.0)
                    elif industry in ("gas_station", "other", "hazchem_storage"):
                        x, y = self.near_seat(adcode, 9000.0)
                    else:
                        x, y = self.sample(adcode)
                    if self.pipe_distance(Point(x, y)) >= 400.0:
                        break
            if industry == "gas_station":
                gas_no[adcode] = gas_no.get(adcode, 0) + 1
                name = f"{d.short}演示能源有限公司第{_CN_NUM[gas_no[adcode] - 1]}加油站"
            else:
                name = f"{d.short}演示{stem}有限公司"
            township = self.township(adcode)
            hazchem = industry in _HAZCHEM
            ext = float(round(self.rng.uniform(100, 600), -1)) if hazchem else None
            self.enterprises.append({
                "credit_code": self.credit_code(adcode), "name": name, "adcode": adcode,
                "industry": industry, "address": self.address(adcode, township),
                "mhs_grade": mhs, "risk_level": risk, "external_distance_m": ext,
                "installation_status": "new" if "n" in flags else "in_service",
                "has_explosives": "x" in flags or industry == "fireworks",
                "principal": self.person(), "phone": self.phone(),
                "geometry": Point(x, y), "_township": township, "_flags": flags, "_stem": stem,
            })

    def make_contours(self) -> None:
        """Build nested individual-risk contours for the enterprises flagged ``c``."""
        for e in self.enterprises:
            if "c" not in e["_flags"]:
                continue
            lo, hi = _MHS_SCALE[int(e["mhs_grade"])]
            scale = self.rng.uniform(lo, hi)
            ecc = self.rng.uniform(0.08, 0.22)
            wind = self.rng.uniform(0, math.pi)
            bumps = _shape_factor(self.rng, 0.12)

            def shape(th: np.ndarray, ecc: float = ecc, wind: float = wind,
                      bumps: Callable[[np.ndarray], np.ndarray] = bumps) -> np.ndarray:
                return bumps(th) + ecc * np.cos(2 * (th - wind))

            c = e["geometry"]
            radii = [r * scale for r in _IR_RADII_M]
            e["_radii"] = radii
            e["_shape"] = shape
            for ir, r in zip(_IR_LEVELS, radii, strict=True):
                poly = _blob(c.x, c.y, r, r, 0.0, shape, n=72)
                self.contours.append({"enterprise_key": e["credit_code"], "adcode": e["adcode"],
                                      "individual_risk": ir, "geometry": MultiPolygon([poly])})
            # GB/T 37243: the declared distance is the contour that binds high-sensitivity
            # targets, 3e-7 for new installations and 3e-6 for in-service ones.
            k = 4 if e["installation_status"] == "new" else 2
            th = np.linspace(0, 2 * math.pi, 72, endpoint=False)
            e["external_distance_m"] = float(math.ceil(radii[k] * float(shape(th).max()) / 10) * 10)

    def make_tailings(self) -> None:
        """Generate 12 tailings ponds operated by the mining enterprises flagged ``t``."""
        owners = [e for e in self.enterprises if "t" in e["_flags"]]
        per: dict[str, int] = {}
        for adcode, storage, height, safety, status, risk, downstream in _TAILINGS:
            owner = next(e for e in owners if e["adcode"] == adcode)
            ex = owner["geometry"]
            x, y = self.sample(adcode, (ex.x, ex.y), 1500.0, 6000.0)
            per[adcode] = per.get(adcode, 0) + 1
            k = per[adcode]
            self.tailings.append({
                "code": f"TD-{adcode}-{k:02d}",
                "name": f"{self.districts[adcode].short}演示{owner['_stem']}{_CN_NUM[k - 1]}号尾矿库",
                "adcode": adcode, "operator": owner["name"], "credit_code": owner["credit_code"],
                "total_storage_10k_m3": storage, "dam_height_m": height, "safety_degree": safety,
                "status": status, "risk_level": risk, "geometry": Point(x, y),
                "_downstream": downstream, "_owner": owner,
            })

    # -- buildings -------------------------------------------------------------
    def _building(self, poly: Polygon, use: str, households: int, floors: int, name: str,
                  *, check_pipes: bool = True, max_pipe: float | None = None,
                  near: LineString | None = None) -> bool:
        c = poly.centroid
        adcode = self.locate(c.x, c.y)
        if adcode is None or not self.on_land(c.x, c.y):
            return False
        if check_pipes and self.pipe_distance(poly) < 15.0:
            return False
        if near is not None and max_pipe is not None and poly.distance(near) > max_pipe:
            return False
        if not self.footprints.free(poly):
            return False
        self.footprints.add(poly)
        self.buildings.append({"adcode": adcode, "name": name, "use": use,
                               "households": households, "floors": floors, "geometry": poly})
        return True

    def _house(self) -> tuple[str, int, int, str, tuple[float, float]]:
        """Draw use, households, floors, name and footprint size of a village building."""
        u = self.rng.random()
        w, h = self.rng.uniform(8, 16), self.rng.uniform(8, 14)
        if u < 0.84:
            hh = int(self.rng.choice([1, 2, 3, 4, 5, 6], p=[0.3, 0.3, 0.2, 0.1, 0.06, 0.04]))
            return "residential", hh, int(self.rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2])), "村民住宅", (w, h)
        if u < 0.90:
            return "agricultural", 0, 1, ("蔬菜大棚", "畜禽舍")[int(self.rng.integers(2))], (
                self.rng.uniform(10, 20), self.rng.uniform(8, 12))
        if u < 0.94:
            return "warehouse", 0, 1, "仓库", (w, h)
        if u < 0.98:
            return "commercial", 0, int(self.rng.integers(1, 3)), "商铺", (w, h)
        return "public", 0, 2, ("村委会", "卫生室", "活动室")[int(self.rng.integers(3))], (w, h)

    def _village(self, center: np.ndarray, t: np.ndarray, n: int, along: float, across: float,
                 *, kind: str = "village", near: LineString | None = None,
                 max_pipe: float | None = None) -> list[Polygon]:
        """Place a grid-based cluster of ``n`` buildings around ``center`` oriented along ``t``."""
        nrm = np.array([-t[1], t[0]])
        spacing = 45.0 if kind == "towers" else 27.0
        us = np.arange(-along, along + 1e-6, spacing)
        vs = np.arange(-across, across + 1e-6, spacing)
        cand = [(u, v) for u in us for v in vs if (u / along) ** 2 + (v / across) ** 2 <= 1.0]
        order = self.rng.permutation(len(cand))
        base = math.atan2(t[1], t[0])
        placed: list[Polygon] = []
        for idx in order:
            if len(placed) >= n:
                break
            u, v = cand[int(idx)]
            pos = center + t * (u + self.rng.uniform(-2, 2)) + nrm * (v + self.rng.uniform(-2, 2))
            angle = base + self.rng.uniform(-0.15, 0.15)
            if kind == "towers":
                if self.rng.random() < 0.75:
                    w, h = self.rng.uniform(16, 20), self.rng.uniform(12, 18)
                    use, hh, fl = "residential", int(self.rng.integers(20, 61)), int(self.rng.integers(6, 19))
                    name = f"演示小区{len(placed) + 1}栋"
                else:
                    w, h = self.rng.uniform(12, 20), self.rng.uniform(10, 16)
                    use, hh, fl, name = "commercial", 0, int(self.rng.integers(2, 5)), "沿街商铺"
            else:
                use, hh, fl, name, (w, h) = self._house()
            poly = _rect(float(pos[0]), float(pos[1]), w, h, angle)
            if self._building(poly, use, hh, fl, name, near=near, max_pipe=max_pipe):
                placed.append(poly)
        return placed

    def _pipe_village(self, code: str, s: float, offset: float, n: int, along: float,
                      across: float, kind: str = "village") -> list[Polygon]:
        line = self.pipes[code]
        p, t, nrm = _frame(line, s)
        return self._village(p + nrm * offset, t, n, along, across, kind=kind, near=line,
                             max_pipe=400.0)

    def make_buildings(self) -> None:
        """Generate about 1500 footprints: encroachments, a town, a tower cluster and villages."""
        rng = self.rng
        # 1. Encroachments first so that nothing else takes their place.
        plan = (("GAS-01", 0.0), ("PRD-01", 0.0), ("GAS-01", 2.4), ("GAS-01", 3.6), ("OIL-01", 4.1),
                ("PRD-01", 2.9), ("GAS-02", 4.7), ("GAS-01", 5.6), ("GAS-01", 7.2), ("GAS-01", 9.4),
                ("OIL-01", 6.3), ("PRD-01", 5.3), ("PRD-01", 8.1), ("PRD-01", 9.8), ("GAS-02", 6.8))
        encroach: list[tuple[str, float]] = []
        for code, target in plan:
            line = self.pipes[code]
            for _ in range(200):
                s = rng.uniform(2500.0, line.length - 2500.0)
                side = 1.0 if rng.random() < 0.5 else -1.0
                if target == 0.0:
                    use, hh, fl, name = "agricultural", 0, 1, "蔬菜大棚"
                    w, h = rng.uniform(14, 20), rng.uniform(8, 12)
                else:
                    use, hh, fl, name, (w, h) = self._house()
                poly = _place_at_distance(line, s, side, target, w, h)
                others = [ln for c2, ln in self.pipes.items() if c2 != code]
                if min(poly.distance(o) for o in others) < 200.0:
                    continue
                if self._building(poly, use, hh, fl, name, check_pipes=False):
                    encroach.append((code, s))
                    # the squatter's neighbours
                    p, t, nrm = _frame(line, s)
                    self._village(p + nrm * side * 70.0, t, int(rng.integers(4, 10)), 120.0, 50.0,
                                  near=line, max_pipe=400.0)
                    break
        self.marks["encroach"] = encroach
        # 2. Class-3 suburban town straddling GAS-01 in 安宁.
        line, s = self.pipe_s(_ANCHOR_TOWN)
        town = self._pipe_village("GAS-01", s, 0.0, 110, 750.0, 190.0)
        self.marks["town"] = town
        # 3. Class-4 cluster of 6-18 storey blocks by GAS-01 in 西山.
        line, s = self.pipe_s(_ANCHOR_TOWERS)
        towers = self._pipe_village("GAS-01", s, 105.0, 40, 550.0, 90.0, kind="towers")
        towers += self._pipe_village("GAS-01", s + 150.0, -110.0, 12, 350.0, 80.0, kind="towers")
        self.marks["towers"] = towers
        # 4. Villages and hamlets along every pipeline, keeping the fuel-station stretch empty.
        reserved = [self.pipe_s(a) for a in (_ANCHOR_FUEL, _ANCHOR_TOWN, _ANCHOR_TOWERS)]
        plan_v = {"GAS-01": (15, 10), "OIL-01": (3, 3), "PRD-01": (11, 8), "GAS-02": (3, 2)}
        for code, (n_village, n_hamlet) in plan_v.items():
            line = self.pipes[code]
            made = 0
            tries = 0
            while made < n_village + n_hamlet and tries < 400:
                tries += 1
                s = rng.uniform(1500.0, line.length - 1500.0)
                if any(ln is line and abs(s - s0) < 2500.0 for ln, s0 in reserved):
                    continue
                hamlet = made >= n_village
                offset = rng.uniform(40.0, 330.0) * (1 if rng.random() < 0.5 else -1)
                if hamlet:
                    got = self._pipe_village(code, s, offset, int(rng.integers(3, 9)), 90.0, 60.0)
                else:
                    got = self._pipe_village(code, s, offset, int(rng.integers(15, 46)),
                                             rng.uniform(200, 380), rng.uniform(70, 120))
                if got:
                    made += 1
        # 5. A few villages away from the pipelines (near county seats).
        for adcode in ("530102", "530127", "530129", "530126", "530115", "530124", "530128"):
            x, y = self.near_seat(adcode, 7000.0)
            a = rng.uniform(0, math.pi)
            self._village(np.array([x, y]), np.array([math.cos(a), math.sin(a)]),
                          int(rng.integers(15, 35)), 250.0, 120.0)

    # -- protection targets ------------------------------------------------------
    def _pt_attrs(self, ttype: str, households: int | None = None) -> dict[str, Any]:
        rng = self.rng
        u = rng.uniform
        out: dict[str, Any] = {"population": None, "households": None, "floor_area_m2": None,
                               "beds": None, "seats": None}
        if ttype == "residential":
            if households is None:
                bucket = int(rng.integers(3))
                households = int(rng.integers(*((3, 10), (10, 30), (30, 400))[bucket]))
            out["households"] = households
            out["population"] = round(households * u(2.6, 3.4))
            out["floor_area_m2"] = round(households * u(80, 130), -1)
        elif ttype in ("hospital", "elderly_home", "hotel"):
            lo, hi, per = {"hospital": (30, 1200, 2.5), "elderly_home": (30, 300, 1.25),
                           "hotel": (50, 600, 1.5)}[ttype]
            out["beds"] = int(rng.integers(lo, hi))
            out["population"] = round(out["beds"] * per * u(0.8, 1.2))
            out["floor_area_m2"] = round(out["beds"] * u(40, 110), -1)
        elif ttype in ("stadium", "cultural"):
            out["seats"] = int(rng.integers(2000, 40000) if ttype == "stadium" else rng.integers(200, 1500))
            out["population"] = round(out["seats"] * u(0.6, 1.0))
            out["floor_area_m2"] = round(out["seats"] * u(2.0, 4.0), -1)
        else:
            lo, hi = {"school": (400, 3000), "kindergarten": (60, 400), "prison": (300, 2500),
                      "heritage": (5, 200), "museum": (100, 1500), "religious": (20, 300),
                      "rail_transit": (300, 5000), "military": (50, 800), "office": (50, 2000),
                      "commercial": (100, 5000), "transport_hub": (500, 8000), "factory": (20, 800),
                      "other": (10, 200)}[ttype]
            out["population"] = int(rng.integers(lo, hi))
            out["floor_area_m2"] = round(out["population"] * u(6, 25), -1)
        return out

    def _pt_name(self, ttype: str, adcode: str) -> str:
        short = self.districts[adcode].short
        k = self.next_no(f"name:{adcode}:{ttype}")
        village = _VILLAGES[int(self.rng.integers(len(_VILLAGES)))]
        names = {
            "school": f"{short}演示第{k}中学" if k % 2 else f"{short}演示{village}小学",
            "kindergarten": f"{short}演示第{k}幼儿园", "hospital": f"{short}演示第{k}人民医院",
            "elderly_home": f"{short}演示养老院{k}", "prison": f"{short}演示看守所",
            "cultural": f"{short}演示青少年活动中心{k}", "heritage": f"{short}演示古建筑群{k}",
            "museum": f"{short}演示博物馆{k}", "religious": f"{short}演示{village}寺",
            "rail_transit": f"演示轨道交通{k}号线{short}站", "military": f"{short}演示军事管理区{k}",
            "residential": f"{short}演示{village}村", "office": f"{short}演示办公楼{k}",
            "commercial": f"{short}演示农贸市场{k}" if k % 2 else f"{short}演示购物中心{k}",
            "hotel": f"{short}演示酒店{k}", "stadium": f"{short}演示体育馆{k}",
            "transport_hub": f"{short}演示客运站{k}", "factory": f"{short}演示食品厂{k}",
            "other": f"{short}演示仓储物流园{k}",
        }
        return names[ttype]

    def _target(self, ttype: str, x: float, y: float, *, households: int | None = None,
                polygon: bool | None = None, name: str | None = None) -> dict[str, Any] | None:
        """Add a protection target at (x, y); large types may get a polygon footprint."""
        adcode = self.locate(x, y)
        if adcode is None or not self.on_land(x, y):
            return None
        attrs = self._pt_attrs(ttype, households)
        big = ttype in ("school", "hospital", "prison", "military", "stadium", "heritage") or (
            ttype == "residential" and (attrs["households"] or 0) >= 30)
        if polygon is None:
            polygon = big and self.rng.random() < 0.7
        geom: Any = Point(x, y)
        if polygon:
            side = {"prison": 220.0, "military": 260.0, "stadium": 180.0}.get(ttype, 110.0)
            poly = _rect(x, y, side * self.rng.uniform(0.8, 1.2), side * self.rng.uniform(0.5, 0.8),
                         self.rng.uniform(0, math.pi))
            if shapely.contains(self.land, poly) and self.locate(poly.centroid.x, poly.centroid.y) == adcode:
                geom = poly
        rec = {"name": name or self._pt_name(ttype, adcode), "adcode": adcode,
               "target_type": ttype, **attrs, "geometry": geom}
        self.targets.append(rec)
        return rec

    def make_targets(self) -> None:
        """Generate about 200 protection targets: some near hazards on purpose, most spread out."""
        rng = self.rng
        # 1. Inside the risk contours (violations for the checks to find).
        bands = ((0, 1, "residential", 6), (1, 2, "residential", 45), (2, 3, "kindergarten", None),
                 (3, 4, "school", None))
        for e in self.enterprises:
            if "_radii" not in e:
                continue
            c, radii, shape = e["geometry"], e["_radii"], e["_shape"]
            for inner, outer, ttype, hh in bands:
                for _ in range(50):
                    a = rng.uniform(0, 2 * math.pi)
                    f = float(shape(np.array([a]))[0])
                    r = f * rng.uniform(radii[inner] * 1.1, radii[outer] * 0.9)
                    if self._target(ttype, c.x + r * math.cos(a), c.y + r * math.sin(a),
                                    households=hh, polygon=False):
                        break
        # 2. Within the declared external distance of other hazchem enterprises.
        for e in self.enterprises:
            if e["industry"] in _HAZCHEM and "_radii" not in e and e["external_distance_m"]:
                c, ext = e["geometry"], float(e["external_distance_m"])
                for _ in range(50):
                    a, r = rng.uniform(0, 2 * math.pi), rng.uniform(0.4, 0.9) * ext
                    ttype = ("residential", "factory", "commercial")[int(rng.integers(3))]
                    if self._target(ttype, c.x + r * math.cos(a), c.y + r * math.sin(a), polygon=False):
                        break
        # 3. People downstream of tailings ponds (头顶库), 300-900 m from the dam toe.
        for td in self.tailings:
            if not td["_downstream"]:
                continue
            c = td["geometry"]
            for _ in range(100):
                a, r = rng.uniform(0, 2 * math.pi), rng.uniform(350.0, 850.0)
                x, y = c.x + r * math.cos(a), c.y + r * math.sin(a)
                rec = self._target("residential", x, y, households=int(rng.integers(12, 60)), polygon=False)
                if rec:
                    td["_village"] = rec
                    self._village(np.array([x, y]), np.array([math.cos(a), math.sin(a)]),
                                  int(rng.integers(6, 14)), 110.0, 70.0)
                    break
        # 4. Special sites by the pipelines (GB 32167 rows c and d).
        line, s = self.pipe_s(_ANCHOR_SCHOOL)
        p, _t, n = _frame(line, s)
        school = self._target("school", *(p + n * 240.0), polygon=False)
        line2, s2 = self.pipe_s(_ANCHOR_KINDER)
        p2, _t2, n2 = _frame(line2, s2)
        kinder = self._target("kindergarten", *(p2 - n2 * 20.0), polygon=False)
        if school is None or kinder is None:
            raise RuntimeError("planned special sites fell outside the districts")
        self.marks["school"], self.marks["kinder"] = school, kinder
        hosp_line, hs = self.pipe_s(_ANCHOR_TOWN)
        hp, _ht, hn = _frame(hosp_line, hs + 300.0)
        self._target("hospital", *(hp + hn * 230.0), polygon=False)
        mp, _mt, mn = _frame(self.pipes["PRD-01"], 30000.0)
        self._target("commercial", *(mp + mn * 140.0), polygon=False)
        # 5. Everything else, spread over the city with an urban bias.
        codes = list(self.districts)
        weights = np.array([3.0 if a in _URBAN else 1.0 for a in codes])
        for ttype, count in _PT_COUNTS.items():
            for _ in range(count):
                adcode = codes[int(rng.choice(len(codes), p=weights / weights.sum()))]
                x, y = self.near_seat(adcode, 5000.0 if adcode in _URBAN else 8000.0)
                self._target(ttype, x, y)
        for i, rec in enumerate(self.targets):
            rec["code"] = f"PT-{rec['adcode']}-{self.next_no('pt:' + rec['adcode']):04d}"
            rec["_i"] = i

    # -- infrastructure --------------------------------------------------------
    def _infra(self, kind: str, subkind: str | None, name: str, geom: Any) -> dict[str, Any]:
        rp = geom.representative_point()
        adcode = self.locate(rp.x, rp.y)
        if adcode is None:
            raise RuntimeError(f"infrastructure {name} lies outside the districts")
        rec = {"kind": kind, "subkind": subkind, "name": name, "adcode": adcode, "geometry": geom}
        self.infra.append(rec)
        return rec

    def _crossing(self, code: str, lonlat: tuple[float, float], angle_deg: float,
                  half: float, bend: float) -> Any:
        """Return a line crossing pipeline ``code`` near ``lonlat`` at ``angle_deg`` to its local axis."""
        line, s = self.pipe_s((code, lonlat))
        p, t, _n = _frame(line, s)
        a = math.atan2(t[1], t[0]) + math.radians(angle_deg)
        d = np.array([math.cos(a), math.sin(a)])
        e = np.array([-d[1], d[0]])
        ts = np.linspace(-half, half, 61)
        bend_off = bend * np.sign(ts) * np.clip(np.abs(ts) - 800.0, 0.0, None) ** 2 / half
        pts = p + np.outer(ts, d) + np.outer(bend_off, e)
        road = LineString(pts).intersection(self.land)
        parts = list(getattr(road, "geoms", [road]))
        crossing = [g for g in parts if g.intersects(line)]
        if not crossing:
            raise RuntimeError(f"crossing of {code} near {lonlat} was clipped away")
        return crossing[0]

    def make_rivers(self) -> None:
        """Add the real rivers of ``data/rivers_kunming.geojson`` (GSHHG), one row per district they touch.

        The Jinsha (金沙江, the Yangtze main stem's upper reach) runs along the northern border; the
        tributaries are labelled as important tributaries for the demo only. No random draws.
        """
        rivers = gpd.read_file(RIVERS_FILE).to_crs(WORK_CRS)
        for river in rivers.itertuples():
            for d in self.districts.values():
                piece = river.geometry.intersection(d.geom.buffer(2000.0))
                if piece.is_empty or piece.length < 1000.0 or not piece.intersects(d.geom):
                    continue
                self.infra.append({"kind": "river", "subkind": river.subkind, "name": river.name,
                                   "adcode": d.adcode, "geometry": piece, "code": f"{river.code}-{d.adcode}"})

    def make_infrastructure(self) -> None:
        """Add roads, railways, a river, water sources, stations, fuel stations, a substation, a reserve."""
        rng = self.rng
        roads = (("road", "高速公路", "演示高速公路A线", "GAS-01", (102.42, 24.875), 90.0, 9000.0, 0.10),
                 ("road", "国道", "演示国道B线", "GAS-01", (102.58, 24.72), 60.0, 7000.0, -0.08),
                 ("road", "省道", "演示省道C线", "GAS-01", (102.86, 24.815), 20.0, 6000.0, 0.04),
                 ("road", "其他公路", "演示乡道D线", "GAS-01", (103.18, 24.89), 45.0, 4000.0, 0.1),
                 ("road", "高速公路", "演示高速公路E线", "PRD-01", (102.75, 25.19), 50.0, 9000.0, -0.06),
                 ("road", "国道", "演示国道F线", "OIL-01", (102.35, 24.98), 75.0, 6000.0, 0.05),
                 ("road", "省道", "演示省道G线", "PRD-01", (103.0, 25.315), 85.0, 6000.0, 0.08),
                 ("railway", "国家铁路", "演示铁路H线", "GAS-01", (102.92, 24.87), 80.0, 9000.0, 0.03),
                 ("railway", "国家铁路", "演示铁路I线", "PRD-01", (102.52, 25.07), 30.0, 8000.0, -0.03))
        for kind, sub, name, code, lonlat, angle, half, bend in roads:
            self._infra(kind, sub, name, self._crossing(code, lonlat, angle, half, bend))
        # A meandering river crossing GAS-01 and PRD-01 in 安宁 (flows north).
        river = LineString([self.xy(102.47, 24.80), self.xy(102.475, 24.90), self.xy(102.46, 24.98),
                            self.xy(102.49, 25.07)])
        river = _wiggle(river, rng, 350.0, 80.0).intersection(self.land)
        parts = [g for g in getattr(river, "geoms", [river]) if g.intersects(self.pipes["GAS-01"])]
        self._infra("river", "河流", "演示河(示意)", parts[0])
        # Water sources near OIL-01: one within 200 m (HCA row f), one ~700 m away.
        line, s = self.pipe_s(_ANCHOR_WATER)
        for k, (gap, side, rx, ry) in enumerate(((150.0, 1.0, 900.0, 450.0), (700.0, -1.0, 600.0, 350.0))):
            p, t, n = _frame(line, s + k * 3500.0)
            ang = math.atan2(t[1], t[0])
            shape = _shape_factor(rng, 0.15)
            c = p + n * side * (gap + ry)
            poly = _blob(float(c[0]), float(c[1]), rx, ry, ang, shape)
            for _ in range(8):
                c = c + n * side * (gap - poly.distance(line))
                poly = _blob(float(c[0]), float(c[1]), rx, ry, ang, shape)
            rec = self._infra("water_source", ("饮用水水源一级保护区", "饮用水水源二级保护区")[k],
                              f"安宁演示水库饮用水水源保护区{_CN_NUM[k]}", poly)
            if k == 0:
                self.marks["water"] = rec
                self._infra("reservoir", "小(一)型水库", "安宁演示水库",
                            _blob(float(c[0]), float(c[1]), rx * 0.45, ry * 0.45, ang, shape))
        # Stations on the lines.
        stations = (("GAS-01", 9000.0, "分输站"), ("GAS-01", 35000.0, "阀室"), ("GAS-01", 62000.0, "阀室"),
                    ("GAS-01", 95000.0, "阀室"), ("GAS-01", 122000.0, "阀室"), ("OIL-01", 8000.0, "阀室"),
                    ("OIL-01", -1.0, "末站"), ("PRD-01", 0.0, "首站"), ("PRD-01", 30000.0, "阀室"),
                    ("PRD-01", 62000.0, "分输站"), ("GAS-02", 0.0, "分输站"), ("GAS-02", -1.0, "末站(门站)"))
        for code, s, sub in stations:
            line = self.pipes[code]
            pt = line.interpolate(line.length if s < 0 else min(s, line.length))
            if self.locate(pt.x, pt.y) is None:
                continue
            self._infra("station", sub, f"{code}演示{sub}{self.next_no('st:' + code)}", pt)
        # Fuel stations within 200 m of GAS-01 in an empty stretch (HCA row f for gas).
        line, s = self.pipe_s(_ANCHOR_FUEL)
        fuel: list[dict[str, Any]] = []
        for ds, off, sub in ((-500.0, 60.0, "加油站"), (400.0, -150.0, "加油加气站")):
            p, _t, n = _frame(line, s + ds)
            fuel.append(self._infra("fuel_station", sub, f"宜良演示{sub}{len(fuel) + 1}", Point(*(p + n * off))))
        self.marks["fuel"] = fuel
        # Substation by PRD-01.
        line, s = self.pipe_s(_ANCHOR_SUBSTATION)
        substation = self._infra("substation", "110kV变电站", "演示110kV变电站",
                                 _place_at_distance(line, s, 1.0, 60.0, 80.0, 60.0))
        self.footprints.add(substation["geometry"])
        # Nature reserve about 150 m from PRD-01 in 嵩明.
        line, s = self.pipe_s(_ANCHOR_RESERVE)
        p, t, n = _frame(line, s)
        shape = _shape_factor(rng, 0.2)
        c = p - n * (150.0 + 1100.0)
        reserve = _blob(float(c[0]), float(c[1]), 2000.0, 1100.0, math.atan2(t[1], t[0]), shape)
        self._infra("nature_reserve", "湿地自然保护区", "演示湿地自然保护区", reserve.intersection(self.land))
        for i, rec in enumerate(self.infra, start=1):
            rec["code"] = f"INF-{i:04d}"

    # -- HCAs --------------------------------------------------------------------
    def _hca(self, code: str, start: float, end: float, grade: str, criterion: str, reason: str,
             identified: dt.date) -> dict[str, Any]:
        line = self.pipes[code]
        start, end = max(0.0, round(start, 1)), min(round(line.length, 1), round(end, 1))
        geom = substring(line, start, end)
        mid = line.interpolate((start + end) / 2)
        adcode = self.locate(mid.x, mid.y)
        if adcode is None:
            raise RuntimeError(f"HCA on {code} has its midpoint outside the districts")
        rec = {"code": f"HCA-{code}-{self.next_no('hca:' + code):02d}", "adcode": adcode,
               "pipeline_key": code, "grade": grade, "start_m": start, "end_m": end,
               "criterion": criterion, "reason": reason, "identified_on": identified,
               "geometry": MultiLineString([geom]), "_mid": mid}
        self.hcas.append(rec)
        return rec

    def make_hcas(self) -> None:
        """Declare HCAs over the planned features (one identified more than 18 months ago)."""
        def span(code: str, geoms: Sequence[Any], pad: float) -> tuple[float, float]:
            line = self.pipes[code]
            ss = [line.project(g.centroid) for g in geoms]
            return min(ss) - pad, max(ss) + pad

        def within(code: str, geom: Any, radius: float) -> tuple[float, float]:
            part = self.pipes[code].intersection(geom.buffer(radius))
            ends = [Point(c) for g in getattr(part, "geoms", [part]) for c in (g.coords[0], g.coords[-1])]
            ss = [self.pipes[code].project(p) for p in ends]
            return min(ss), max(ss)

        r_gas01 = 0.099 * 1016.0 * math.sqrt(10.0)
        r_gas02 = 0.099 * 219.0 * math.sqrt(1.5)
        a, b = span("GAS-01", self.marks["towers"], 200.0)
        self._hca("GAS-01", a, b, "3", "a", "两侧各200m内四层及以上楼房集中，四级地区",
                  dt.date(2026, 3, 15))
        a, b = span("GAS-01", self.marks["town"], 200.0)
        self._hca("GAS-01", a, b, "2", "b", "2km地区等级划分单元内户数≥100，三级地区",
                  dt.date(2024, 9, 20))
        a, b = within("GAS-01", self.marks["school"]["geometry"], r_gas01)
        self._hca("GAS-01", a, b, "1", "c",
                  f"D>762mm且MAOP>6.9MPa，潜在影响半径{r_gas01:.0f}m内有学校(特定场所Ⅰ)",
                  dt.date(2025, 11, 10))
        fuel = shapely.union_all([f["geometry"] for f in self.marks["fuel"]])
        a, b = within("GAS-01", fuel, 200.0)
        self._hca("GAS-01", a, b, "2", "f", "三、四级地区以外，两侧200m内有加油加气站等易燃易爆场所",
                  dt.date(2026, 3, 15))
        a, b = within("OIL-01", self.marks["water"]["geometry"], 200.0)
        self._hca("OIL-01", a, b, "3", "f", "两侧200m内有饮用水水源保护区", dt.date(2025, 8, 1))
        a, b = within("GAS-02", self.marks["kinder"]["geometry"], r_gas02)
        self._hca("GAS-02", a, b, "1", "d",
                  f"D<273mm且MAOP<1.6MPa，潜在影响半径{r_gas02:.0f}m内有幼儿园(特定场所Ⅰ)",
                  dt.date(2026, 6, 1))

    # -- risk points and hidden hazards ---------------------------------------------
    def _exposed(self, x: float, y: float, radius: float) -> int:
        """Count people within ``radius``: protection-target population plus 3 per household."""
        pop = 0
        for rec in self.targets:
            if rec["geometry"].distance(Point(x, y)) <= radius:
                pop += int(rec["population"] or 0)
        cx, cy, hh = self._bld_xy
        near = np.hypot(cx - x, cy - y) <= radius
        return pop + int(hh[near].sum() * 3)

    def _risk_point(self, adcode: str, category: str, name: str, entity: str, credit: str,
                    risk: str, x: float, y: float, radius: float, *, township: str | None = None,
                    address: str | None = None, sub: str | None = None, workers: int = 0,
                    principal: str | None = None, phone: str | None = None) -> dict[str, Any]:
        rng = self.rng
        text = _RP_TEXT[category]
        d = self.districts[adcode]

        def pick(key: str) -> str:
            pool = text[key]
            return pool[int(rng.integers(len(pool)))]

        township = township or self.township(adcode)
        assessed = _date(rng, dt.date(2025, 3, 1), dt.date(2026, 8, 31))
        plan_date = _date(rng, dt.date(2024, 5, 1), dt.date(2026, 6, 30))
        order = ("low", "general", "significant", "major")
        lvl = order.index(risk)
        residual = order[max(0, lvl - 1)] if rng.random() < 0.7 else risk
        dept = {"gas": "住房和城乡建设局", "construction": "住房和城乡建设局", "transport": "交通运输局",
                "crowded": "商务局", "pipeline": "发展和改革局"}.get(category, "应急管理局")
        rec = {
            "code": f"RP-{adcode}-{self.next_no('rp:' + adcode):03d}", "name": name, "adcode": adcode,
            "category": category, "subcategory": sub or pick("sub"), "entity_name": entity,
            "credit_code": credit, "address": address or self.address(adcode, township),
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
            "residual_level": residual, "principal": principal or self.person(),
            "principal_phone": phone or self.phone(), "liaison": self.person(),
            "supervising_dept": f"{d.name}{dept}", "grid_officer": self.person(),
            "responsibility_level": ("township", "county", "county", "city")[lvl],
            "listed": ("未挂牌", "未挂牌", ("未挂牌", "区县级挂牌")[int(rng.integers(2))],
                       ("市级挂牌", "省级挂牌")[int(rng.random() < 0.25)])[lvl],
            "plan_name": f"{entity}{pick('plan')}",
            "plan_level": "企业级" if category in ("hazchem", "tailings", "mining", "other", "gas",
                                                    "pipeline") else "区县级",
            "plan_date": plan_date,
            "last_drill_on": _date(rng, min(plan_date + dt.timedelta(days=30), dt.date(2026, 10, 31)),
                                   dt.date(2026, 10, 31)),
            "rescue_team": f"{d.name}消防救援大队、{d.short}演示{pick('team')}",
            "supplies_depot": f"{township}演示应急物资储备点", "shelter": f"{township}演示应急避难场所",
            "medical_point": f"{d.name}人民医院(演示)",
            "alarm_targets": f"周边{int(rng.integers(1, 9))}个村(社区)及相邻单位",
            "evacuation_radius_m": float(round(radius)), "geometry": Point(x, y),
        }
        self.risk_points.append(rec)
        return rec

    def make_risk_points(self) -> None:
        """Generate about 50 risk points (≥2 per district), many linked to enterprises or ponds."""
        self._bld_xy = (np.array([b["geometry"].centroid.x for b in self.buildings]),
                        np.array([b["geometry"].centroid.y for b in self.buildings]),
                        np.array([b["households"] for b in self.buildings]))
        quota = dict.fromkeys(self.districts, 3)
        quota.update({_AN_NING: 7, _XI_SHAN: 4, _GUAN_DU: 4, _DONG_CHUAN: 5, "530128": 2})
        severity = {"major": 0, "significant": 1, "general": 2, "low": 3}
        operator_code = self.credit_code("510100")
        gas_co = self.credit_code("530114")
        for adcode, n in quota.items():
            cands: list[tuple[int, int, Callable[[], Any]]] = []
            for td in self.tailings:
                if td["adcode"] == adcode and td["risk_level"] != "low":
                    cands.append((severity[td["risk_level"]], len(cands), self._rp_from_tailings(td)))
            for e in self.enterprises:
                if e["adcode"] == adcode and e["industry"] not in ("gas_station", "other") and (
                        e["risk_level"] != "low"):
                    cands.append((severity[e["risk_level"]], len(cands), self._rp_from_enterprise(e)))
            for h in self.hcas:
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
                sub = f"{_CN_NUM[int(e['mhs_grade']) - 1]}级重大危险源"
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
                                    workers=int(self.rng.integers(30, 400)),
                                    principal=e["principal"], phone=e["phone"])
        return make

    def _rp_from_tailings(self, td: dict[str, Any]) -> Callable[[], Any]:
        def make() -> Any:
            g = td["geometry"]
            owner = td["_owner"]
            sub = "头顶库" if td["_downstream"] else "尾矿库"
            return self._risk_point(td["adcode"], "tailings", td["name"], td["operator"], td["credit_code"],
                                    td["risk_level"], g.x, g.y, 1000.0, sub=sub,
                                    workers=int(self.rng.integers(5, 40)), principal=owner["principal"],
                                    phone=owner["phone"])
        return make

    def _rp_from_hca(self, h: dict[str, Any], operator_code: str, gas_co: str) -> Callable[[], Any]:
        def make() -> Any:
            p = self.pipe_defs[h["pipeline_key"]]
            radius = 0.099 * p.od_mm * math.sqrt(p.maop_mpa) if p.medium == "gas" else 200.0
            mid = h["_mid"]
            credit = gas_co if p.code == "GAS-02" else operator_code
            level = {"3": "major", "2": "significant", "1": "general"}[h["grade"]]
            return self._risk_point(h["adcode"], "pipeline", f"{p.name}{h['code']}高后果区段",
                                    p.operator, credit, level, mid.x, mid.y, radius,
                                    sub=f"{'ⅠⅡⅢ'[int(h['grade']) - 1]}级高后果区")
        return make

    def _rp_generic(self, adcode: str, category: str) -> None:
        rng = self.rng
        d = self.districts[adcode]
        risk = ("significant", "general", "low")[int(rng.choice(3, p=[0.2, 0.45, 0.35]))]
        if category == "crowded":
            pts = [t for t in self.targets if t["adcode"] == adcode
                   and t["target_type"] in ("commercial", "stadium", "transport_hub", "hotel")]
            if pts:
                t = pts[int(rng.integers(len(pts)))]
                g = t["geometry"].centroid
                self._risk_point(adcode, "crowded", t["name"], f"{t['name']}运营管理有限公司",
                                 self.credit_code(adcode), risk, g.x, g.y, 150.0,
                                 workers=int(t["population"] or 0))
                return
            category = "construction"
        x, y = self.near_seat(adcode, 7000.0)
        if category == "construction":
            entity = f"{d.short}演示建设工程有限公司"
            name = f"{d.short}演示综合体项目{('深基坑', '高支模', '塔吊群')[int(rng.integers(3))]}"
            credit, radius = self.credit_code(adcode), 100.0
        elif category == "transport":
            entity = f"{d.short}演示公路养护管理段"
            name = f"{d.short}演示县道连续下坡路段"
            credit, radius = self.credit_code(adcode, "12"), 200.0
        else:
            entity = f"{d.short}演示燃气有限公司"
            name = f"{d.short}演示燃气调压站"
            credit, radius = self.credit_code(adcode), 300.0
        self._risk_point(adcode, category, name, entity, credit, risk, x, y, radius,
                         workers=int(rng.integers(10, 200)))

    def make_hazards(self) -> None:
        """Generate 80 hidden hazards, most linked to risk points; some overdue."""
        rng = self.rng
        weights = np.array([{"major": 4.0, "significant": 3.0, "general": 2.0, "low": 1.0}[r["risk_level"]]
                            for r in self.risk_points])
        picks = [int(i) for i in rng.choice(len(self.risk_points), size=68, p=weights / weights.sum())]
        sources: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
            (self.risk_points[i], None) for i in picks]
        plain = [e for e in self.enterprises if e["industry"] in ("gas_station", "other")]
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
                closed_on = _date(rng, min(found + dt.timedelta(days=3), last), last)
            if major:
                supervision = ("province", "city", "city", "county")[int(rng.integers(4))]
            else:
                supervision = "county" if rng.random() < 0.15 else "none"
            x, y = g.x + rng.uniform(-60, 60), g.y + rng.uniform(-60, 60)
            adcode = self.locate(x, y)
            if adcode is None or not self.on_land(x, y):
                x, y = g.x, g.y
                adcode = self.locate(x, y)
            assert adcode is not None
            self.hazards.append({
                "adcode": adcode, "description": pool[int(rng.integers(len(pool)))],
                "risk_point_code": rp["code"] if rp is not None else None, "enterprise_name": entity,
                "severity": "major" if major else "general", "found_on": found, "deadline": deadline,
                "status": status, "supervision": supervision, "closed_on": closed_on,
                "geometry": Point(x, y),
            })
        self.hazards.sort(key=lambda h: (h["adcode"], h["found_on"]))
        for h in self.hazards:
            h["code"] = f"YH-{h['adcode']}-{self.next_no('yh:' + h['adcode']):04d}"

    # -- pipeline neighbours (after everything else, so earlier layers keep their random draws) ----
    def make_pipeline_neighbours(self) -> None:
        """Add what the pipeline permit and spacing rules look for (管道保护法 Art. 31, 35(2), 35(3)).

        A market 3.5 m from PRD-01 (spacing below the 5 m minimum), a buried cable running
        30 m beside OIL-01 without crossing it (5-50 m permit band) and a quarry 150 m from
        PRD-01 (200 m blasting/mining permit zone).
        """
        p, _t, n = _frame(self.pipes["PRD-01"], 52000.0)
        x, y = p + n * 3.5
        home = self.locate(x, y)
        market = None if home is None else self._target(
            "commercial", x, y, polygon=False, name=f"{self.districts[home].short}演示集贸市场")
        if market is None:
            raise RuntimeError("planned market fell outside the districts")
        market["code"] = f"PT-{market['adcode']}-{self.next_no('pt:' + market['adcode']):04d}"
        line, s = self.pipes["OIL-01"], 12000.0
        cable = LineString([tuple(_frame(line, s + ds)[0] + _frame(line, s + ds)[2] * 30.0)
                            for ds in np.linspace(-400.0, 400.0, 17)])
        rec = self._infra("other", "埋地电缆", "安宁演示10kV埋地电缆", cable)
        rec["code"] = f"INF-{len(self.infra):04d}"
        p, _t, n = _frame(self.pipes["PRD-01"], 66000.0)
        x, y = p - n * 150.0
        adcode = self.locate(x, y)
        if adcode is None:
            raise RuntimeError("planned quarry fell outside the districts")
        township = self.township(adcode)
        self.enterprises.append({
            "credit_code": self.credit_code(adcode), "name": f"{self.districts[adcode].short}演示采石场有限公司",
            "adcode": adcode, "industry": "mining", "address": self.address(adcode, township),
            "mhs_grade": None, "risk_level": "general", "external_distance_m": None,
            "installation_status": "in_service", "has_explosives": True,
            "principal": self.person(), "phone": self.phone(), "geometry": Point(x, y),
            "_township": township, "_flags": "", "_stem": "采石场",
        })

    # -- plant parts ---------------------------------------------------------------
    def _part_plan(self, e: dict[str, Any]) -> tuple[_PartPlan, ...]:
        """Parts of a hazardous-chemical enterprise by industry and stem (none for explosives stores)."""
        stem = str(e["_stem"])
        if e["industry"] == "refinery":
            return _PARTS_REFINERY
        if e["industry"] == "hazchem_production":
            parts = _PARTS_PRODUCTION[: 2 + int(self.inst_rng.integers(0, 3))]
            # the fine-chemicals plant declares 100 m but runs a flare: below the code (ESD_BELOW_CODE)
            return (*parts, _FLARE) if stem == "精细化工" else parts
        if e["has_explosives"]:
            return ()  # 民爆器材: GB 50089, not these tables
        if any(w in stem for w in ("液化", "燃气", "气体")):
            return _PARTS_LPG
        if "油库" in stem:
            return _PARTS_OIL_DEPOT
        return _PARTS_WAREHOUSE

    def _part_fits(self, geom: Any, adcode: str, placed: list[Any]) -> bool:
        """Tell whether a part lies inside its district, off the lake, clear of buildings and other parts."""
        if not shapely.contains(self.districts[adcode].inner, geom) or shapely.intersects(self.lake, geom):
            return False
        if any(shapely.dwithin(geom, other, 12.0) for other in placed):
            return False
        if len(self._people.query(geom, predicate="dwithin", distance=10.0)):
            return False  # not on top of a village, school or other protection target
        return self.footprints.free(geom, gap=5.0)

    def _part_record(self, e: dict[str, Any], plan: _PartPlan, geom: Any, no: int) -> dict[str, Any]:
        part_type, label, fire_class, _w, _h = plan
        rng = self.inst_rng
        rec: dict[str, Any] = {
            "code": f"INS-{e['adcode']}-{self.next_no('ins:' + e['adcode']):03d}",
            "name": f"{e['name'].removesuffix('有限公司')}{no}号{label}",
            "enterprise_credit_code": e["credit_code"], "adcode": e["adcode"], "part_type": part_type,
            "fire_class": fire_class, "goods_items": None, "stock_t": None, "geometry": geom,
        }
        if part_type == "class_a_warehouse":
            rec["goods_items"] = ("3,4", "1,2,5,6")[int(rng.integers(2))]
            rec["stock_t"] = float(round(rng.uniform(1.0, 20.0), 1))
        return rec

    def _near_people(self, e: dict[str, Any], within: float, types: tuple[str, ...]) -> dict[str, Any] | None:
        """Return the nearest target of ``types`` within ``within`` metres of the enterprise point."""
        c = e["geometry"]
        best: tuple[float, dict[str, Any]] | None = None
        for t in self.targets:
            if t["target_type"] not in types:
                continue
            d = float(c.distance(t["geometry"]))
            if d <= within and (best is None or d < best[0]):
                best = (d, t)
        return None if best is None else best[1]

    def _part_towards(self, e: dict[str, Any], target: dict[str, Any], gap: float, w: float,
                      h: float) -> Polygon | None:
        """Return a ``w`` × ``h`` part on the line from the enterprise to ``target``, ``gap`` metres from it."""
        c, tg = e["geometry"], target["geometry"]
        near = nearest_points(tg, c)[0]
        d = np.array([c.x - near.x, c.y - near.y])
        norm = float(np.hypot(*d))
        if norm < gap + max(w, h):
            return None
        u = d / norm
        angle = math.atan2(u[1], u[0])
        pos = np.array([near.x, near.y]) + u * (gap + w / 2)
        poly = _rect(float(pos[0]), float(pos[1]), w, h, angle)
        for _ in range(8):
            miss = gap - poly.distance(tg)
            if abs(miss) < 0.005:
                break
            pos = pos + u * miss
            poly = _rect(float(pos[0]), float(pos[1]), w, h, angle)
        return poly

    def make_installations(self) -> None:
        """Place the parts of the hazardous-chemical enterprises (tank groups, units, flares, warehouses).

        Small rectangles (a point for a flare) 40-240 m around the enterprise point, clear of buildings.
        Storage depots get some parts on purpose near the nearest people within 700 m: LPG tank groups
        95-135 m away (GB 50160 Table 4.1.9 asks 150 m), class A warehouses 18-35 m away (GB 50016
        Table 3.5.1 asks 25-50 m), so that the code-separation rules have findings; the fine-chemicals
        plant gets a flare. A separate random stream keeps every other layer as it was.
        """
        rng = self.inst_rng
        self._people = shapely.STRtree([t["geometry"] for t in self.targets])
        for e in self.enterprises:
            if e["industry"] not in _HAZCHEM:
                continue
            plan = self._part_plan(e)
            c = e["geometry"]
            placed: list[Any] = []
            for no, part in enumerate(plan, 1):
                part_type, _label, _fc, w, h = part
                geom: Any = None
                if part_type in _NEAR_PEOPLE and e["industry"] == "hazchem_storage":
                    types, (lo, hi) = _NEAR_PEOPLE[part_type]
                    near = self._near_people(e, 700.0, types)
                    if near is not None:
                        geom = self._part_towards(e, near, float(rng.uniform(lo, hi)), w, h)
                        if geom is not None and not self._part_fits(geom, e["adcode"], placed):
                            geom = None
                for _ in range(80):
                    if geom is not None:
                        break
                    a, r = rng.uniform(0, 2 * math.pi), rng.uniform(40.0, 240.0)
                    x, y = c.x + r * math.cos(a), c.y + r * math.sin(a)
                    cand: Any = Point(x, y) if h == 0.0 else _rect(x, y, w, h, rng.uniform(0, math.pi))
                    if self._part_fits(cand, e["adcode"], placed):
                        geom = cand
                if geom is None:
                    continue
                placed.append(geom)
                self.installations.append(self._part_record(e, part, geom, no))
        self._fill_substances()

    def _fill_substances(self) -> None:
        """Give the parts their hazardous chemicals and maximum quantities (GB 18218) from ``_INVENTORIES``."""
        rng = self.substance_rng
        stems = {e["credit_code"]: str(e["_stem"]) for e in self.enterprises}
        for rec in self.installations:
            stem, part_type, fire = stems[rec["enterprise_credit_code"]], rec["part_type"], rec["fire_class"]
            entries: list[str] = []
            if part_type == "class_a_warehouse" and rec["goods_items"] in _WAREHOUSE_GOODS:
                stock = float(rec["stock_t"])
                entries = [text.format(f"{round(stock * share, 1):g}")
                           for text, share in _WAREHOUSE_GOODS[rec["goods_items"]]]
            elif fire != "丙" or part_type != "process_unit":
                for keyword, ptype, fire_class, stocks in _INVENTORIES:
                    if keyword in stem and ptype == part_type and fire_class in (None, fire):
                        for text, lo, hi in stocks:
                            q = float(rng.uniform(lo, hi))
                            entries.append(text.format(f"{round(q, 1) if q < 10 else round(q):g}"))
                        break
            rec["substances"] = "; ".join(entries) if entries else None

    # -- output --------------------------------------------------------------------
    def pipeline_rows(self) -> list[dict[str, Any]]:
        """Return the pipeline records (no adcode: pipelines cross districts)."""
        return [{"code": p.code, "name": p.name, "medium": p.medium, "outside_diameter_mm": p.od_mm,
                 "maop_mpa": p.maop_mpa, "operator": p.operator, "laying": "buried",
                 "start_mileage_m": p.start_mileage_m,
                 "geometry": MultiLineString([self.pipes[p.code]])} for p in _PIPEDEFS]


def _frame_for(layer: str, rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Build a GeoDataFrame in EPSG:4490 with exactly the canonical columns of ``layer`` (no lon/lat)."""
    spec = LAYERS[layer]
    data: dict[str, Any] = {}
    for f in spec.fields:
        if f.name in ("lon", "lat"):
            continue
        vals = [r.get(f.name) for r in rows]
        if f.type == "int":
            data[f.name] = pd.array([None if v is None else int(v) for v in vals], dtype="Int64")
        elif f.type == "float":
            data[f.name] = np.array([np.nan if v is None else float(v) for v in vals], dtype="float64")
        elif f.type == "bool":
            data[f.name] = np.array([bool(v) for v in vals], dtype=bool)
        elif f.type == "date":
            data[f.name] = pd.Series(vals, dtype=object)
        else:
            data[f.name] = pd.Series(vals, dtype="str")
    geoms = gpd.GeoSeries([r["geometry"] for r in rows], crs=WORK_CRS).to_crs(GEO_CRS)
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=geoms.values, crs=GEO_CRS)


def generate_demo(districts: gpd.GeoDataFrame, *, seed: int = DEMO_SEED) -> dict[str, gpd.GeoDataFrame]:
    """Generate the Kunming demo data set inside the given district boundaries.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        The 14 county-level districts of 昆明市 with columns ``adcode``, ``name`` and
        ``geometry`` (EPSG:4490; a frame without CRS is taken to be EPSG:4490).
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`; the same seed and districts always
        give identical output.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        One frame per layer in :data:`LAYER_NAMES`, in EPSG:4490, whose columns are
        the canonical field names of :mod:`geo.layer_specs` (without ``lon``/``lat``)
        plus ``geometry``. Enum fields hold the stored codes, dates are
        :class:`datetime.date`, integers use the nullable ``Int64`` dtype.

    Raises
    ------
    ValueError
        If one of the 14 Kunming districts is missing.

    Notes
    -----
    The output is fictitious demo data; only the district boundaries are real.
    """
    gen = _Gen(districts, seed)
    gen.make_pipelines()
    gen.make_enterprises()
    gen.make_contours()
    gen.make_tailings()
    gen.make_infrastructure()
    gen.make_buildings()
    gen.make_targets()
    gen.make_hcas()
    gen.make_risk_points()
    gen.make_hazards()
    gen.make_pipeline_neighbours()
    gen.make_installations()
    gen.make_rivers()
    rows = {
        "enterprises": gen.enterprises, "risk_contours": gen.contours,
        "protection_targets": gen.targets, "buildings": gen.buildings,
        "pipelines": gen.pipeline_rows(), "hcas": gen.hcas, "tailings_dams": gen.tailings,
        "infrastructure": gen.infra, "installations": gen.installations, "risk_points": gen.risk_points,
        "hidden_hazards": gen.hazards,
    }
    for b in gen.buildings:
        b["code"] = f"B-{b['adcode']}-{gen.next_no('b:' + b['adcode']):05d}"
        b["geometry"] = MultiPolygon([b["geometry"]])  # footprints: the layer holds polygons, stored as multi
    return {name: _frame_for(name, rows[name]) for name in LAYER_NAMES}
