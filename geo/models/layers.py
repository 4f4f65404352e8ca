"""The importable layers: districts, enterprises, plant parts, pipelines, HCAs, tailings, risk points, hazards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from geo.constants import STORAGE_SRID
from geo.models.base import Base, DistrictRow, LayerRow, Timestamps, geometry_column


class District(Timestamps, Base):
    """Administrative division (市 or 区县) with its boundary."""

    __tablename__ = "districts"
    adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str]
    level: Mapped[str] = mapped_column(String(20))  # province / city / county
    parent_adcode: Mapped[str | None] = mapped_column(String(6))
    source_crs: Mapped[str | None] = mapped_column(String(40))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"))
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON")
    __table_args__ = (CheckConstraint("adcode ~ '^[0-9]{6}$'", name="adcode_digits"),)




class Enterprise(DistrictRow, Base):
    """Hazardous-chemical (or other) enterprise with its declared external safety distance."""

    __tablename__ = "enterprises"
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str]
    industry: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None]
    township: Mapped[str | None]  # 乡镇(街道): the street whose 调度表 counts its hazards
    mhs_grade: Mapped[int | None]  # 重大危险源等级 1..4 (GB 18218), null when none
    risk_level: Mapped[str] = mapped_column(String(20))  # major / large / general / low
    external_distance_m: Mapped[float | None] = mapped_column(Float)
    installation_status: Mapped[str] = mapped_column(String(20), server_default="in_service")
    has_explosives: Mapped[bool] = mapped_column(Boolean, server_default="false")
    principal: Mapped[str | None]
    phone: Mapped[str | None] = mapped_column(String(40))
    geom: Mapped[Any] = geometry_column("POINT")
    __table_args__ = (
        CheckConstraint("mhs_grade IS NULL OR mhs_grade BETWEEN 1 AND 4", name="mhs_grade_range"),
        CheckConstraint("external_distance_m IS NULL OR external_distance_m >= 0", name="distance_pos"),
    )


class RiskContour(DistrictRow, Base):
    """Individual-risk iso-contour of an enterprise from its QRA (GB 36894)."""

    __tablename__ = "risk_contours"
    enterprise_key: Mapped[str] = mapped_column(String(80), index=True)
    individual_risk: Mapped[float] = mapped_column(Float)  # per year, e.g. 3e-7
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON")
    __table_args__ = (CheckConstraint("individual_risk > 0 AND individual_risk < 1", name="ir_range"),)


class ProtectionTarget(DistrictRow, Base):
    """Off-site place where casualties could occur (GB 36894 防护目标)."""

    __tablename__ = "protection_targets"
    name: Mapped[str]
    target_type: Mapped[str] = mapped_column(String(30))
    gb36894_class: Mapped[str] = mapped_column(String(20))  # derived on import
    population: Mapped[int | None]
    households: Mapped[int | None]
    floor_area_m2: Mapped[float | None] = mapped_column(Float)
    beds: Mapped[int | None]
    seats: Mapped[int | None]
    geom: Mapped[Any] = geometry_column("GEOMETRY")


class Building(DistrictRow, Base):
    """Building or structure footprint (for encroachment and location class)."""

    __tablename__ = "buildings"
    name: Mapped[str | None]
    use: Mapped[str] = mapped_column(String(20))
    households: Mapped[int] = mapped_column(server_default="0")
    floors: Mapped[int] = mapped_column(server_default="1")
    geom: Mapped[Any] = geometry_column("GEOMETRY")


class Pipeline(LayerRow, Base):
    """Long-distance oil or gas pipeline centreline; may cross several districts."""

    __tablename__ = "pipelines"
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str]
    medium: Mapped[str] = mapped_column(String(20))  # gas / crude / products / lpg
    outside_diameter_mm: Mapped[float] = mapped_column(Float)
    maop_mpa: Mapped[float] = mapped_column(Float)
    operator: Mapped[str]
    laying: Mapped[str] = mapped_column(String(12), server_default="buried")
    start_mileage_m: Mapped[float] = mapped_column(Float, server_default="0")
    length_m: Mapped[float | None] = mapped_column(Float)
    adcodes: Mapped[list[str]] = mapped_column(ARRAY(String(6)), server_default="{}")
    geom: Mapped[Any] = geometry_column("MULTILINESTRING")
    __table_args__ = (
        CheckConstraint("outside_diameter_mm > 0", name="od_pos"),
        CheckConstraint("maop_mpa > 0", name="maop_pos"),
    )


class HighConsequenceArea(DistrictRow, Base):
    """Pipeline high-consequence-area segment (GB 32167), graded Ⅰ/Ⅱ/Ⅲ."""

    __tablename__ = "hcas"
    pipeline_key: Mapped[str] = mapped_column(String(80), index=True)
    grade: Mapped[int]  # 1..3, Ⅲ most severe
    start_m: Mapped[float] = mapped_column(Float)
    end_m: Mapped[float] = mapped_column(Float)
    criterion: Mapped[str | None] = mapped_column(String(20))  # GB 32167 Table 1 row
    reason: Mapped[str | None]
    identified_on: Mapped[dt.date | None] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(20), server_default="declared")  # declared / identified
    run_id: Mapped[int | None] = mapped_column(ForeignKey("check_runs.id", ondelete="SET NULL"))
    impact_radius_m: Mapped[float | None] = mapped_column(Float)
    trigger_keys: Mapped[str | None]
    geom: Mapped[Any] = geometry_column("MULTILINESTRING")
    corridor: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=True))
    __table_args__ = (
        CheckConstraint("grade BETWEEN 1 AND 3", name="grade_range"),
        CheckConstraint("end_m >= start_m", name="mileage_order"),
    )


class TailingsDam(DistrictRow, Base):
    """Tailings pond, located by the toe of its starter dam."""

    __tablename__ = "tailings_dams"
    name: Mapped[str]
    operator: Mapped[str | None]
    credit_code: Mapped[str | None] = mapped_column(String(18))
    total_storage_10k_m3: Mapped[float] = mapped_column(Float)  # 全库容, 万m³
    dam_height_m: Mapped[float] = mapped_column(Float)
    design_grade: Mapped[int | None]  # 等别 1..5
    safety_degree: Mapped[str | None] = mapped_column(String(20))  # danger/risk/sick/normal
    status: Mapped[str] = mapped_column(String(12))  # operating / stopped / closed
    risk_level: Mapped[str] = mapped_column(String(20))
    geom: Mapped[Any] = geometry_column("POINT")


class Infrastructure(DistrictRow, Base):
    """Roads, railways, rivers, water sources, stations and similar features."""

    __tablename__ = "infrastructure"
    kind: Mapped[str] = mapped_column(String(20), index=True)
    subkind: Mapped[str | None] = mapped_column(String(30))
    name: Mapped[str | None]
    geom: Mapped[Any] = geometry_column("GEOMETRY")


class Installation(DistrictRow, Base):
    """A part of an enterprise: tank group, process unit, flare, important facility, warehouse or factory.

    Parts are what the code separations of GB 50160 Table 4.1.9 and GB 50016 are measured from
    (tank shells, unit outlines, building footprints; a flare from its stack centre), so each is
    stored as its own polygon (a point for a flare stack) and linked to its enterprise by the
    enterprise's 统一社会信用代码.
    """

    __tablename__ = "installations"
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str]
    enterprise_credit_code: Mapped[str] = mapped_column(String(18), index=True)
    part_type: Mapped[str] = mapped_column(String(40))
    fire_class: Mapped[str | None] = mapped_column(String(4))  # 甲 / 乙 / 丙 (GB 50160 火灾危险性)
    goods_items: Mapped[str | None] = mapped_column(String(12))  # 甲类仓库 储存物品项: "3,4" / "1,2,5,6"
    stock_t: Mapped[float | None] = mapped_column(Float)  # 储量, t
    substances: Mapped[str | None]  # 主要危险化学品及最大存量 "名称[:CAS]:吨; …" (GB 18218, geo/substances.py)
    geom: Mapped[Any] = geometry_column("GEOMETRY")
    __table_args__ = (CheckConstraint("stock_t IS NULL OR stock_t >= 0", name="stock_pos"),)


class RiskPoint(DistrictRow, Base):
    """Major-risk point with the fields of the 4张清单 (standards.md §9)."""

    __tablename__ = "risk_points"
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str]
    category: Mapped[str] = mapped_column(String(20))
    subcategory: Mapped[str | None]
    entity_name: Mapped[str | None]
    credit_code: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str | None]
    township: Mapped[str | None]
    risk_level: Mapped[str] = mapped_column(String(20))
    hazard: Mapped[str | None]
    trigger: Mapped[str | None]
    consequence: Mapped[str | None]
    assessment_method: Mapped[str | None]
    assessed_on: Mapped[dt.date | None] = mapped_column(Date)
    population_exposed: Mapped[int | None]
    # 防控清单
    engineering_controls: Mapped[str | None]
    management_controls: Mapped[str | None]
    monitoring: Mapped[str | None]
    inspection_frequency: Mapped[str | None]
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    residual_level: Mapped[str | None] = mapped_column(String(20))
    # 责任清单
    principal: Mapped[str | None]
    principal_phone: Mapped[str | None] = mapped_column(String(40))
    liaison: Mapped[str | None]
    supervising_dept: Mapped[str | None]
    grid_officer: Mapped[str | None]
    responsibility_level: Mapped[str | None] = mapped_column(String(20))
    listed: Mapped[str | None] = mapped_column(String(20))
    # 应急清单
    plan_name: Mapped[str | None]
    plan_level: Mapped[str | None] = mapped_column(String(20))
    plan_date: Mapped[dt.date | None] = mapped_column(Date)
    last_drill_on: Mapped[dt.date | None] = mapped_column(Date)
    rescue_team: Mapped[str | None]
    supplies_depot: Mapped[str | None]
    shelter: Mapped[str | None]
    medical_point: Mapped[str | None]
    alarm_targets: Mapped[str | None]
    evacuation_radius_m: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[Any] = geometry_column("POINT")


class HiddenHazard(DistrictRow, Base):
    """Hidden hazard (隐患) with its rectification state and 挂牌督办 level."""

    __tablename__ = "hidden_hazards"
    code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str]
    risk_point_code: Mapped[str | None] = mapped_column(String(40))
    enterprise_name: Mapped[str | None]
    severity: Mapped[str] = mapped_column(String(20))  # major / general
    found_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # open / rectifying / rectified / closed
    supervision: Mapped[str | None] = mapped_column(String(20))  # 挂牌督办 level
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    geom: Mapped[Any] = geometry_column("POINT")
    # The closed loop (campaign/lifecycle.yaml): columns a workflow step changes, never an import.
    state: Mapped[str | None] = mapped_column(String(24), index=True)
    version: Mapped[int] = mapped_column(Integer, server_default="0")
    source: Mapped[str | None] = mapped_column(String(20))
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    measures: Mapped[str | None]
    responsible_unit: Mapped[str | None]
    responsible_person: Mapped[str | None]
    funds_wan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    emergency_plan: Mapped[str | None]
    assessment: Mapped[str | None]
    supervising_unit: Mapped[str | None]
    supervision_deadline: Mapped[dt.date | None] = mapped_column(Date)
    progress: Mapped[str | None]
    progress_on: Mapped[dt.date | None] = mapped_column(Date)




class Park(DistrictRow, Base):
    """A chemical or other industrial park (化工园区/工业园区) with its boundary.

    Enterprises and risk sources belong to a park by containment, computed on read (docs/decisions.md,
    "Parks: containment on read"), so nothing links them here and an edited boundary is at once true everywhere.
    """

    __tablename__ = "parks"
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str]
    park_type: Mapped[str] = mapped_column(String(20))  # chemical / industrial / logistics / other
    level: Mapped[str] = mapped_column(String(20))  # national / provincial / city / county
    managing_body: Mapped[str | None]
    geom: Mapped[Any] = geometry_column("MULTIPOLYGON")


#: Importable layer name -> model class.
LAYER_MODELS: dict[str, type[Base]] = {
    "districts": District,
    "enterprises": Enterprise,
    "risk_contours": RiskContour,
    "protection_targets": ProtectionTarget,
    "buildings": Building,
    "pipelines": Pipeline,
    "hcas": HighConsequenceArea,
    "tailings_dams": TailingsDam,
    "infrastructure": Infrastructure,
    "installations": Installation,
    "risk_points": RiskPoint,
    "hidden_hazards": HiddenHazard,
    "parks": Park,
}
