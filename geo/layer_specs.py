"""What each importable layer holds: fields, Chinese and English headers, types, units, codes.

One description drives the importer (header mapping and validation), the XLSX
templates and ``docs/data-dictionary.md``, so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from geo.errors import RiskMapError

FieldType = Literal["str", "int", "float", "date", "enum", "credit_code", "adcode", "bool"]
GeometryKind = Literal["point", "line", "polygon", "any"]

RISK_LEVELS: dict[str, tuple[str, ...]] = {
    "major": ("重大风险", "重大", "红", "红色"),
    "significant": ("较大风险", "较大", "橙", "橙色"),
    "general": ("一般风险", "一般", "黄", "黄色"),
    "low": ("低风险", "低", "蓝", "蓝色"),
}
YES_NO: dict[str, tuple[str, ...]] = {"true": ("是", "有", "yes", "y", "1"), "false": ("否", "无", "no", "n", "0")}


@dataclass(frozen=True)
class FieldSpec:
    """One attribute of a layer.

    ``choices`` maps each stored code to its accepted labels (the first label is
    the Chinese display name). ``aliases`` are further accepted headers.
    """

    name: str
    zh: str
    en: str
    type: FieldType = "str"
    required: bool = False
    unit: str | None = None
    choices: dict[str, tuple[str, ...]] | None = None
    aliases: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    note: str = ""
    source: str = ""
    example: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header accepted for this field, lower-cased where ASCII."""
        return (self.name, self.zh, self.en, *self.aliases)


@dataclass(frozen=True)
class LayerSpec:
    """An importable layer: its table, geometry kind, natural key and fields."""

    name: str
    zh: str
    en: str
    geometry: GeometryKind
    key_fields: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    district_owned: bool = True
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    #: Narrows an ``"any"`` layer to these geometry types (empty: every type of ``geometry``).
    geometry_types: tuple[str, ...] = ()

    def field(self, name: str) -> FieldSpec:
        """Return the field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def F(name: str, zh: str, en: str, type: FieldType = "str", **kw: object) -> FieldSpec:
    """Shorthand constructor used by the tables below."""
    return FieldSpec(name, zh, en, type, **kw)  # type: ignore[arg-type]


def _lon_lat(lon_example: str, lat_example: str, *, lon_aliases: tuple[str, ...] = ("x",),
             lat_aliases: tuple[str, ...] = ("y",)) -> tuple[FieldSpec, FieldSpec]:
    """Return the longitude and latitude columns of a layer (the alternative to a geometry column)."""
    return (F("lon", "经度", "Longitude", "float", unit="°", aliases=lon_aliases, example=lon_example),
            F("lat", "纬度", "Latitude", "float", unit="°", aliases=lat_aliases, example=lat_example))


ADCODE = F("adcode", "行政区划代码", "District code", "adcode", required=True,
           aliases=("区县代码", "区划代码"), source="GB/T 2260", example="530181",
           note="6 位数字；须已在 districts 中 / 6 digits, must exist in districts")
CODE = F("code", "编号", "Code", required=True, aliases=("编码", "ID"), example="RP-530181-001",
         note="在本图层内唯一，重复导入时据此更新 / unique in the layer; re-imports update by it")
NAME = F("name", "名称", "Name", required=True, example="示例")
RISK_LEVEL = F("risk_level", "风险等级", "Risk level", "enum", required=True, choices=RISK_LEVELS,
               source="安委办〔2016〕11号", example="较大风险")

DISTRICTS = LayerSpec(
    "districts", "行政区划", "Districts", "polygon", ("adcode",), district_owned=False,
    fields=(
        F("adcode", "行政区划代码", "District code", "adcode", required=True, source="GB/T 2260",
          example="530181"),
        F("name", "名称", "Name", required=True, example="安宁市"),
        F("level", "级别", "Level", "enum",
          choices={"province": ("省级", "省"), "city": ("地级", "市"), "county": ("县级", "区县", "县", "区")},
          example="县级", note="空则由代码推导 / derived from the code when blank"),
        F("parent_adcode", "上级区划代码", "Parent code", aliases=("parent",), example="530100"),
    ),
)

ENTERPRISES = LayerSpec(
    "enterprises", "企业", "Enterprises", "point", ("credit_code",),
    fields=(
        F("credit_code", "统一社会信用代码", "Unified social credit code", "credit_code", required=True,
          aliases=("信用代码",), source="GB 32100-2015", example="91530181MA6K5XYW1W",
          note="18 位，含校验位 / 18 characters incl. check character"),
        F("name", "企业名称", "Enterprise name", required=True, aliases=("名称",), example="安宁示例化工有限公司"),
        ADCODE,
        F("industry", "行业", "Industry", "enum", required=True, example="危险化学品生产",
          choices={
              "hazchem_production": ("危险化学品生产", "危化品生产"),
              "hazchem_storage": ("危险化学品储存", "危化品储存", "危险化学品经营(带储存)"),
              "refinery": ("炼油化工", "石油化工"),
              "gas_station": ("加油加气站", "加油站"),
              "mining": ("非煤矿山", "矿山"),
              "metallurgy": ("冶金", "工贸冶金"),
              "fireworks": ("烟花爆竹",),
              "other": ("其他",),
          }),
        F("address", "详细地址", "Address", aliases=("地址",), example="安宁市草铺街道"),
        F("township", "乡镇(街道)", "Township", aliases=("街道", "乡镇", "所属街道"), example="草铺街道",
          note="街道/乡镇调度表按此统计 / the street whose monthly dispatch table counts the enterprise"),
        F("mhs_grade", "重大危险源等级", "Major hazard installation grade", "int", minimum=1, maximum=4,
          source="GB 18218-2018; 原安监总局令第40号 附件1", example="2",
          note="1=一级 … 4=四级；无则留空 / blank when none"),
        RISK_LEVEL,
        F("external_distance_m", "外部安全防护距离", "External safety distance", "float", unit="m",
          minimum=0, maximum=20000, source="GB/T 37243-2019", example="300"),
        F("installation_status", "装置状态", "Installation status", "enum", example="在役",
          choices={"in_service": ("在役", "现有"), "new": ("新建", "改建", "扩建", "新建改建扩建")},
          source="GB 36894-2018 表1"),
        F("has_explosives", "涉及爆炸物", "Involves explosives", "bool", choices=YES_NO,
          source="GB/T 37243-2019 第4章", example="否"),
        F("principal", "主要负责人", "Principal", example="张三"),
        F("phone", "联系电话", "Phone", example="0871-00000000"),
        *_lon_lat("102.4776", "24.9190", lon_aliases=("x", "lng", "longitude"), lat_aliases=("y", "latitude")),
    ),
)

RISK_CONTOURS = LayerSpec(
    "risk_contours", "个人风险等值线", "Individual-risk contours", "polygon",
    ("enterprise_key", "individual_risk"),
    fields=(
        F("enterprise_key", "企业统一社会信用代码", "Enterprise credit code", "credit_code", required=True,
          aliases=("credit_code", "统一社会信用代码"), example="91530181MA6K5XYW1W"),
        ADCODE,
        F("individual_risk", "个人风险值", "Individual risk", "float", required=True, unit="/年",
          minimum=1e-9, maximum=1e-2, source="GB 36894-2018 表1", example="3e-6"),
    ),
)

PT_TYPES: dict[str, tuple[str, ...]] = {
    "school": ("学校", "中小学", "大学"), "kindergarten": ("幼儿园", "托儿所"),
    "hospital": ("医院", "卫生院", "医疗卫生"), "elderly_home": ("养老院", "福利院", "社会福利设施"),
    "prison": ("监狱", "看守所"), "cultural": ("文化设施", "青少年宫"),
    "heritage": ("文物保护单位", "文保单位"), "museum": ("博物馆", "图书馆", "档案馆", "展览馆"),
    "religious": ("宗教场所",), "rail_transit": ("城市轨道交通",), "military": ("军事设施",),
    "residential": ("住宅", "居住区", "村庄"), "office": ("办公",), "commercial": ("商业", "商场", "市场"),
    "hotel": ("酒店", "宾馆"), "stadium": ("体育场馆",), "transport_hub": ("交通枢纽", "车站"),
    "factory": ("工厂", "非危险品厂房"), "other": ("其他",),
}

PROTECTION_TARGETS = LayerSpec(
    "protection_targets", "防护目标", "Protection targets", "any", ("code",),
    geometry_types=("Point", "MultiPoint", "Polygon", "MultiPolygon"),
    note="GB 36894 类别由类型与人数/户数推导，不手填 / class derived from type and occupancy",
    fields=(
        CODE, NAME, ADCODE,
        F("target_type", "类型", "Type", "enum", required=True, choices=PT_TYPES,
          source="GB 36894-2018 附录A", example="学校"),
        F("population", "人数", "Population", "int", unit="人", minimum=0, example="1200"),
        F("households", "户数", "Households", "int", unit="户", minimum=0, example="0"),
        F("floor_area_m2", "建筑面积", "Floor area", "float", unit="m²", minimum=0, example="8000"),
        F("beds", "床位数", "Beds", "int", unit="张", minimum=0, example="0"),
        F("seats", "座位数", "Seats", "int", unit="座", minimum=0, example="0"),
        *_lon_lat("102.47", "24.92", lon_aliases=("x", "lng")),
    ),
)

BUILDINGS = LayerSpec(
    "buildings", "建(构)筑物", "Buildings", "polygon", ("code",),
    note="按外墙轮廓绘制面 / footprints (polygons) drawn at the outer walls",
    fields=(
        CODE, ADCODE,
        F("name", "名称", "Name", example="村民住宅"),
        F("use", "用途", "Use", "enum", required=True, example="住宅",
          choices={"residential": ("住宅", "居住"), "public": ("公共建筑", "公建"),
                   "commercial": ("商业",), "industrial": ("工业", "厂房"),
                   "warehouse": ("仓储", "仓库"), "agricultural": ("农业", "大棚", "畜禽舍"),
                   "other": ("其他",)}),
        F("households", "户数", "Households", "int", unit="户", minimum=0, example="2",
          source="GB 50251-2015 4.2.2"),
        F("floors", "层数", "Floors", "int", unit="层", minimum=1, maximum=200, example="3"),
        *_lon_lat("102.47", "24.92"),
    ),
)

PIPELINES = LayerSpec(
    "pipelines", "长输管道", "Long-distance pipelines", "line", ("code",), district_owned=False,
    note="跨区县；所经区县由几何自动求得 / districts crossed are derived from geometry",
    fields=(
        CODE, NAME,
        F("medium", "介质", "Medium", "enum", required=True, example="天然气",
          choices={"gas": ("天然气", "输气"), "crude": ("原油",), "products": ("成品油",),
                   "lpg": ("液化石油气", "液化烃")}),
        F("outside_diameter_mm", "管径", "Outside diameter", "float", required=True, unit="mm",
          minimum=20, maximum=2000, aliases=("外径",), source="GB 32167-2015 式(1)", example="1016"),
        F("maop_mpa", "最大允许操作压力", "MAOP", "float", required=True, unit="MPa",
          minimum=0.01, maximum=30, aliases=("设计压力", "压力"), source="GB 32167-2015 式(1)",
          example="10"),
        F("operator", "运营单位", "Operator", required=True, example="国家管网集团西南管道有限责任公司"),
        F("laying", "敷设方式", "Laying", "enum", choices={"buried": ("埋地",), "above": ("地上", "架空")},
          example="埋地"),
        F("start_mileage_m", "起点里程", "Start mileage", "float", unit="m", minimum=0, example="0"),
    ),
)

HCAS = LayerSpec(
    "hcas", "高后果区", "High-consequence areas", "line", ("code",),
    fields=(
        CODE, ADCODE,
        F("pipeline_key", "管道编号", "Pipeline code", required=True, example="GAS-01"),
        F("grade", "高后果区等级", "HCA grade", "enum", required=True, source="GB 32167-2015 表1",
          choices={"1": ("Ⅰ级", "Ⅰ", "I"), "2": ("Ⅱ级", "Ⅱ", "II"), "3": ("Ⅲ级", "Ⅲ", "III")},
          example="Ⅱ级"),
        F("start_m", "起始里程", "Start mileage", "float", required=True, unit="m", minimum=0, example="1200"),
        F("end_m", "终止里程", "End mileage", "float", required=True, unit="m", minimum=0, example="3400"),
        F("criterion", "识别准则", "Criterion row", example="b"),
        F("reason", "识别描述", "Reason", example="三级地区"),
        F("identified_on", "识别日期", "Identified on", "date", example="2026-03-01",
          note="GB 32167 要求不超过18个月复核 / re-identify within 18 months (U)"),
    ),
)

TAILINGS = LayerSpec(
    "tailings_dams", "尾矿库", "Tailings ponds", "point", ("code",),
    note="位置为初期坝坡脚 / location is the starter-dam toe (应急〔2020〕15号)",
    fields=(
        CODE, F("name", "名称", "Name", required=True, aliases=("尾矿库名称",), example="示例尾矿库"), ADCODE,
        F("operator", "企业名称", "Operator", example="示例矿业有限公司"),
        F("credit_code", "统一社会信用代码", "Credit code", "credit_code", example="91530181MA6K5XYW1W"),
        F("total_storage_10k_m3", "全库容", "Total storage", "float", required=True, unit="万m³",
          minimum=0, maximum=500000, source="GB 50863-2013 3.3.1", example="850"),
        F("dam_height_m", "坝高", "Dam height", "float", required=True, unit="m", minimum=0,
          maximum=400, source="GB 50863-2013 3.3.1", example="45"),
        F("safety_degree", "安全度", "Safety degree", "enum", source="AQ 2006-2005 §8", example="正常库",
          choices={"danger": ("危库",), "risk": ("险库",), "sick": ("病库",), "normal": ("正常库",)}),
        F("status", "状态", "Status", "enum", required=True, aliases=("运行状态",), example="运行",
          choices={"operating": ("运行", "在用"), "stopped": ("停用",), "closed": ("闭库", "已闭库"),
                   "building": ("在建",)}),
        RISK_LEVEL,
        *_lon_lat("102.40", "24.95"),
    ),
)

INFRA = LayerSpec(
    "infrastructure", "基础设施", "Infrastructure", "any", ("code",),
    fields=(
        CODE, ADCODE,
        F("kind", "类别", "Kind", "enum", required=True, example="道路",
          choices={"road": ("道路", "公路"), "railway": ("铁路",), "river": ("河流", "水系"),
                   "water_source": ("水源地", "饮用水水源保护区"), "station": ("场站", "管道站场", "阀室"),
                   "fuel_station": ("加油加气站", "加油站"), "substation": ("变电站",),
                   "reservoir": ("水库",), "nature_reserve": ("自然保护区",),
                   "power_line": ("架空电力线路", "电力线路", "输电线路"),
                   "telecom_line": ("架空通信线路", "通信线路"), "jetty": ("码头", "装卸油品码头"),
                   "other": ("其他",)}),
        F("subkind", "等级/子类", "Subkind", example="高速公路",
          note=("道路：高速公路/一级公路/二级公路…；铁路：国家铁路/企业铁路/编组站；河流：通航河流；"
                "通信线路：Ⅰ级/Ⅱ级。未注明时防火间距按较严格者计 / road class, railway kind, navigability, "
                "telecom grade: when blank the stricter separation of GB 50160 4.1.9 applies")),
        F("name", "名称", "Name", example="G56杭瑞高速"),
        *_lon_lat("", ""),
    ),
)

#: Parts of an enterprise and the column of GB 50160 Table 4.1.9 (A–E) or the GB 50016 table they fall under.
PART_TYPES: dict[str, tuple[str, ...]] = {
    "lpg_tank_group": ("液化烃罐组", "液化石油气罐组", "A"),
    "flammable_liquid_tank_group": ("甲乙类液体罐组", "甲、乙类液体罐组", "可燃液体罐组", "B"),
    "flare": ("可能携带可燃液体的高架火炬", "高架火炬", "火炬", "C"),
    "process_unit": ("甲乙类工艺装置或设施", "甲、乙类工艺装置或设施", "工艺装置", "D"),
    "important_facility": ("全厂性或区域性重要设施", "全厂性重要设施", "区域性重要设施", "E"),
    "class_a_warehouse": ("甲类仓库",),
    "class_ab_factory": ("甲乙类厂房", "甲、乙类厂房"),
    "class_b_warehouse": ("乙类仓库",),
}

INSTALLATIONS = LayerSpec(
    "installations", "企业装置与储存设施", "Plant installations", "any", ("code",),
    geometry_types=("Point", "Polygon", "MultiPolygon"),
    note=("罐组按罐壁、装置按最外侧设备或建筑轴线、仓库与厂房按外墙绘制面；火炬可为点(筒中心) / "
          "tank groups drawn at the shells, units at the outermost equipment, buildings at the walls; "
          "a flare may be a point at its stack centre (GB 50160 4.1.9, GB 50016 3.5.1)"),
    fields=(
        F("code", "编号", "Code", required=True, aliases=("编码", "装置编号"), example="INS-530181-001",
          note="在本图层内唯一，重复导入时据此更新 / unique in the layer; re-imports update by it"),
        F("name", "名称", "Name", required=True, aliases=("装置名称", "设施名称"), example="1号液化烃球罐组"),
        F("enterprise_credit_code", "企业统一社会信用代码", "Enterprise credit code", "credit_code", required=True,
          aliases=("统一社会信用代码", "credit_code", "信用代码"), source="GB 32100-2015",
          example="91530181MA6K5XYW1W",
          note="所属企业(企业图层)的信用代码 / credit code of the owning enterprise (enterprises layer)"),
        ADCODE,
        F("part_type", "装置类别", "Part type", "enum", required=True, choices=PART_TYPES,
          source="GB 50160-2008(2018年版) 表4.1.9; GB 50016-2014 3.4、3.5", example="液化烃罐组",
          note="A 液化烃罐组 B 甲乙类液体罐组 C 高架火炬 D 甲乙类工艺装置 E 全厂性重要设施 / columns A–E"),
        F("fire_class", "火灾危险性类别", "Fire hazard class", "enum", example="甲",
          choices={"甲": ("甲类", "甲A", "甲B"), "乙": ("乙类", "乙A", "乙B"), "丙": ("丙类", "丙A", "丙B")},
          source="GB 50160-2008 3.0; 表4.1.9 注",
          note="丙类罐组及装置按表注折减间距 / 丙类 tank groups and units get the table note's reduction"),
        F("goods_items", "储存物品项", "Stored goods items", "enum", example="",
          choices={"3,4": ("第3、4项", "3、4项", "3,4", "3、4", "34"),
                   "1,2,5,6": ("第1、2、5、6项", "1、2、5、6项", "1,2,5,6", "1、2、5、6", "1256")},
          source="GB 50016-2014 表3.5.1", note="仅甲类仓库 / class A warehouses only"),
        F("stock_t", "储量", "Stock", "float", unit="t", minimum=0, maximum=1_000_000,
          source="GB 50016-2014 表3.5.1", example="", note="甲类仓库的储存量 / stock of a class A warehouse"),
        F("substances", "主要危险化学品及最大存量", "Hazardous chemicals and maximum quantity",
          aliases=("危险化学品及最大存量", "危险化学品", "substance inventory"),
          source="GB 18218-2018 表1、表2; 原安监总局令第40号 附件1", example="液化石油气:74-98-6:120; 氨:10",
          note=("每种一项：名称[:CAS号][:危险类别]:最大存量(吨)，以 ; ； ， 或换行分隔；不在表1中的物质须注明 CAS号 或"
                "表2危险类别(如 某中间体:易燃液体类别1:20)。用于重大危险源辨识与分级 / one entry per substance: "
                "name[:CAS][:hazard category]:maximum tonnes, separated by ; ； ， or line breaks; a substance "
                "not in Table 1 needs its CAS number or Table 2 category. Drives the major hazard "
                "installation check (S = Σq/Q, R = α·Σβq/Q)")),
        *_lon_lat("102.47", "24.92"),
    ),
)

RISK_POINTS = LayerSpec(
    "risk_points", "重大风险点(4张清单)", "Risk points (four lists)", "point", ("code",),
    note="字段见 standards.md §9；为项目设计 / fields per standards.md §9 (project design)",
    fields=(
        CODE, NAME, ADCODE,
        F("category", "类别", "Category", "enum", required=True, example="危险化学品",
          choices={"hazchem": ("危险化学品", "危化"), "tailings": ("尾矿库",), "pipeline": ("油气管道",),
                   "mining": ("非煤矿山",), "gas": ("城镇燃气",), "crowded": ("人员密集场所",),
                   "construction": ("建设施工",), "transport": ("道路交通",), "other": ("其他",)}),
        F("subcategory", "分类名称", "Subcategory", example="重大危险源"),
        F("entity_name", "单位名称", "Entity", example="安宁示例化工有限公司"),
        F("credit_code", "统一社会信用代码", "Credit code", "credit_code", example="91530181MA6K5XYW1W"),
        F("address", "详细地址", "Address", example="安宁市草铺街道"),
        F("township", "乡镇(街道)", "Township", example="草铺街道"),
        RISK_LEVEL,
        F("hazard", "风险特征", "Hazard", example="液氨泄漏中毒"),
        F("trigger", "产生条件", "Triggering conditions", example="储罐腐蚀穿孔"),
        F("consequence", "可能导致的后果", "Possible consequences", example="群死群伤"),
        F("assessment_method", "评估方法", "Assessment method", example="LEC"),
        F("assessed_on", "评估日期", "Assessed on", "date", example="2026-06-30"),
        F("population_exposed", "影响人口", "Population exposed", "int", unit="人", minimum=0, example="500"),
        F("engineering_controls", "工程技术措施", "Engineering controls", example="紧急切断、围堰"),
        F("management_controls", "管理措施", "Management controls", example="双人巡检"),
        F("monitoring", "监测预警手段", "Monitoring", example="在线监测、视频监控"),
        F("inspection_frequency", "检查频次", "Inspection frequency", example="每日"),
        F("reviewed_on", "更新日期", "Reviewed on", "date", example="2026-09-30"),
        F("residual_level", "剩余风险等级", "Residual risk level", "enum", choices=RISK_LEVELS, example="一般风险"),
        F("principal", "企业主要负责人", "Principal", example="张三"),
        F("principal_phone", "负责人电话", "Principal phone", example="13800000000"),
        F("liaison", "包保责任人", "Government liaison", example="李四"),
        F("supervising_dept", "监管部门", "Supervising department", example="安宁市应急管理局"),
        F("grid_officer", "网格员", "Grid officer", example="王五"),
        F("responsibility_level", "管控层级", "Responsibility level", "enum", example="区县",
          choices={"city": ("市级", "市"), "county": ("区县级", "区县"), "township": ("乡镇级", "乡镇")}),
        F("listed", "挂牌督办", "Listed for supervision", example="市级挂牌"),
        F("plan_name", "应急预案", "Emergency plan", example="液氨泄漏专项预案"),
        F("plan_level", "预案级别", "Plan level", example="企业级"),
        F("plan_date", "预案日期", "Plan date", "date", example="2025-12-01"),
        F("last_drill_on", "最近演练日期", "Last drill", "date", example="2026-05-12"),
        F("rescue_team", "救援队伍", "Rescue team", example="安宁市消防救援大队"),
        F("supplies_depot", "物资储备点", "Supplies depot", example="草铺应急物资库"),
        F("shelter", "避难场所", "Shelter", example="草铺中学操场"),
        F("medical_point", "医疗救治点", "Medical point", example="安宁市第一人民医院"),
        F("alarm_targets", "预警通知对象", "Alarm targets", example="周边3个村委会"),
        F("evacuation_radius_m", "疏散半径", "Evacuation radius", "float", unit="m", minimum=0,
          example="800"),
        *_lon_lat("102.47", "24.92"),
    ),
)

HIDDEN_HAZARDS = LayerSpec(
    "hidden_hazards", "隐患", "Hidden hazards", "point", ("code",),
    fields=(
        CODE, ADCODE,
        F("description", "隐患描述", "Description", required=True, example="储罐区可燃气体报警器失效"),
        F("risk_point_code", "风险点编号", "Risk point code", example="RP-530181-001"),
        F("enterprise_name", "单位名称", "Enterprise", example="安宁示例化工有限公司"),
        F("severity", "隐患级别", "Severity", "enum", required=True, example="重大",
          choices={"major": ("重大隐患", "重大"), "general": ("一般隐患", "一般")}),
        F("found_on", "发现日期", "Found on", "date", required=True, example="2026-08-01"),
        F("deadline", "整改期限", "Deadline", "date", example="2026-10-31"),
        F("status", "整改状态", "Status", "enum", required=True, example="整改中",
          choices={"open": ("未整改", "待整改"), "rectifying": ("整改中",), "rectified": ("已整改",),
                   "closed": ("已销号", "销号"), "withdrawn": ("不予核定", "不是隐患")}),
        F("supervision", "挂牌督办", "Listed supervision", "enum", example="市级",
          choices={"none": ("无", "否"), "county": ("区县级",), "city": ("市级",), "province": ("省级",)}),
        F("closed_on", "销号日期", "Closed on", "date", example=""),
        *_lon_lat("102.47", "24.92"),
    ),
)

#: Kinds of park (园区类型).
PARK_TYPES: dict[str, tuple[str, ...]] = {
    "chemical": ("化工园区", "化工集中区"), "industrial": ("工业园区", "产业园区", "开发区"),
    "logistics": ("物流园区",), "other": ("其他园区", "其他"),
}
#: Levels of park (园区级别), highest first.
PARK_LEVELS: dict[str, tuple[str, ...]] = {
    "national": ("国家级", "国家"), "provincial": ("省级", "省"), "city": ("市级", "地级"),
    "county": ("县级", "区县级", "县"),
}

PARKS = LayerSpec(
    "parks", "园区", "Parks", "polygon", ("code",),
    note=("化工园区及其他工业园区的认定范围(面)；园区内企业与风险源由空间包含关系求得，不另填 / "
          "boundary of a chemical or other industrial park; enterprises and risk sources inside are found "
          "by containment, not declared (一园一策)"),
    fields=(
        F("code", "园区编号", "Park code", required=True, aliases=("编号", "编码"), example="PK-530181-01",
          note="在本图层内唯一，重复导入时据此更新 / unique in the layer; re-imports update by it"),
        F("name", "园区名称", "Park name", required=True, aliases=("名称",), example="安宁工业园区"),
        ADCODE,
        F("park_type", "园区类型", "Park type", "enum", required=True, choices=PARK_TYPES, aliases=("类型",),
          example="化工园区", source="GB/T 39218-2020; 工信部联原〔2021〕220号 化工园区认定"),
        F("level", "园区级别", "Park level", "enum", required=True, choices=PARK_LEVELS, aliases=("级别",),
          example="省级"),
        F("managing_body", "管理机构", "Managing body", aliases=("管委会", "管理单位"),
          example="安宁工业园区管理委员会"),
    ),
)

LAYERS: dict[str, LayerSpec] = {
    s.name: s
    for s in (DISTRICTS, ENTERPRISES, RISK_CONTOURS, PROTECTION_TARGETS, BUILDINGS, PIPELINES, HCAS,
              TAILINGS, INFRA, INSTALLATIONS, RISK_POINTS, HIDDEN_HAZARDS, PARKS)
}


def layer_spec(name: str) -> LayerSpec:
    """Return the spec of layer ``name``, accepting its Chinese name too.

    Parameters
    ----------
    name : str
        Layer name such as ``"enterprises"`` or ``"企业"``.

    Returns
    -------
    LayerSpec

    Raises
    ------
    UnknownLayerError
        With the list of known layers (a :class:`KeyError` too).
    """
    for spec in LAYERS.values():
        if name in (spec.name, spec.zh, spec.en):
            return spec
    raise UnknownLayerError(name)


class UnknownLayerError(RiskMapError, KeyError):
    """A layer name that is none of :data:`LAYERS` (by English, Chinese or display name)."""

    def __init__(self, name: object) -> None:
        super().__init__(name)
        self.name = str(name)

    def __str__(self) -> str:
        known = "、".join(f"{s.name}({s.zh})" for s in LAYERS.values())
        return f"未知图层“{self.name}”；可用图层 / unknown layer {self.name!r}; known layers: {known}"
