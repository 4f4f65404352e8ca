"""SQLAlchemy 2 / GeoAlchemy2 models of the RiskMap store (models only, no queries).

Geometry is stored in CGCS2000 (EPSG:4490) with GiST indexes. Every table whose
rows belong to a district carries ``adcode`` (GB/T 2260), so that access can be
scoped per district with row-level security later. Pipelines cross districts and
carry the list ``adcodes`` instead.

Importable layers share :class:`LayerRow`: a natural ``key`` (credit code, code
or a content hash) that makes re-imports update rows instead of duplicating them,
the source CRS the coordinates arrived in, and the import batch.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from geo.constants import STORAGE_SRID

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with naming conventions and timezone-aware timestamps."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dt.datetime: DateTime(timezone=True),
        str: Text,
        dict[str, Any]: JSONB,
    }


def _geom(kind: str) -> Any:
    return mapped_column(Geometry(geometry_type=kind, srid=STORAGE_SRID, spatial_index=True), nullable=False)


class Timestamps:
    """Creation and update times set by the database."""

    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class LayerRow(Timestamps):
    """Columns shared by every importable layer."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    source_crs: Mapped[str | None] = mapped_column(String(40))

    @declared_attr
    def batch_id(cls) -> Mapped[int | None]:
        """Import batch that last wrote the row."""
        return mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"), index=True)


class DistrictRow(LayerRow):
    """A layer row owned by one district."""

    @declared_attr
    def adcode(cls) -> Mapped[str]:
        """GB/T 2260 code of the owning district."""
        return mapped_column(ForeignKey("districts.adcode"), index=True)


class District(Timestamps, Base):
    """Administrative division (市 or 区县) with its boundary."""

    __tablename__ = "districts"
    adcode: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str]
    level: Mapped[str] = mapped_column(String(20))  # province / city / county
    parent_adcode: Mapped[str | None] = mapped_column(String(6))
    source_crs: Mapped[str | None] = mapped_column(String(40))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"))
    geom: Mapped[Any] = _geom("MULTIPOLYGON")
    __table_args__ = (CheckConstraint("adcode ~ '^[0-9]{6}$'", name="adcode_digits"),)


class ImportBatch(Base):
    """One import run: what file, how many rows, and what happened."""

    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    layer: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str]
    file_sha256: Mapped[str] = mapped_column(String(64))
    source_crs: Mapped[str | None] = mapped_column(String(40))
    rows_total: Mapped[int]
    rows_imported: Mapped[int]
    rows_rejected: Mapped[int]
    reject_file: Mapped[str | None]
    actor: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class AuditLog(Base):
    """Append-only record of who did what and when."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None]
    adcode: Mapped[str | None] = mapped_column(String(6), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(server_default="{}")


class Enterprise(DistrictRow, Base):
    """Hazardous-chemical (or other) enterprise with its declared external safety distance."""

    __tablename__ = "enterprises"
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    name: Mapped[str]
    industry: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None]
    mhs_grade: Mapped[int | None]  # 重大危险源等级 1..4 (GB 18218), null when none
    risk_level: Mapped[str] = mapped_column(String(20))  # major / large / general / low
    external_distance_m: Mapped[float | None] = mapped_column(Float)
    installation_status: Mapped[str] = mapped_column(String(20), server_default="in_service")
    has_explosives: Mapped[bool] = mapped_column(Boolean, server_default="false")
    principal: Mapped[str | None]
    phone: Mapped[str | None] = mapped_column(String(40))
    geom: Mapped[Any] = _geom("POINT")
    __table_args__ = (
        CheckConstraint("mhs_grade IS NULL OR mhs_grade BETWEEN 1 AND 4", name="mhs_grade_range"),
        CheckConstraint("external_distance_m IS NULL OR external_distance_m >= 0", name="distance_pos"),
    )


class RiskContour(DistrictRow, Base):
    """Individual-risk iso-contour of an enterprise from its QRA (GB 36894)."""

    __tablename__ = "risk_contours"
    enterprise_key: Mapped[str] = mapped_column(String(80), index=True)
    individual_risk: Mapped[float] = mapped_column(Float)  # per year, e.g. 3e-7
    geom: Mapped[Any] = _geom("MULTIPOLYGON")
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
    geom: Mapped[Any] = _geom("GEOMETRY")


class Building(DistrictRow, Base):
    """Building or structure footprint (for encroachment and location class)."""

    __tablename__ = "buildings"
    name: Mapped[str | None]
    use: Mapped[str] = mapped_column(String(20))
    households: Mapped[int] = mapped_column(server_default="0")
    floors: Mapped[int] = mapped_column(server_default="1")
    geom: Mapped[Any] = _geom("GEOMETRY")


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
    geom: Mapped[Any] = _geom("MULTILINESTRING")
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
    geom: Mapped[Any] = _geom("MULTILINESTRING")
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
    geom: Mapped[Any] = _geom("POINT")


class Infrastructure(DistrictRow, Base):
    """Roads, railways, rivers, water sources, stations and similar features."""

    __tablename__ = "infrastructure"
    kind: Mapped[str] = mapped_column(String(20), index=True)
    subkind: Mapped[str | None] = mapped_column(String(30))
    name: Mapped[str | None]
    geom: Mapped[Any] = _geom("GEOMETRY")


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
    geom: Mapped[Any] = _geom("GEOMETRY")
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
    geom: Mapped[Any] = _geom("POINT")


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
    geom: Mapped[Any] = _geom("POINT")
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


class CheckRun(Base):
    """One run of the geoprocessing checks and the rule-set version it used."""

    __tablename__ = "check_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[dt.datetime | None]
    rule_set_version: Mapped[str] = mapped_column(String(40))
    scope_adcode: Mapped[str | None] = mapped_column(String(6))
    actor: Mapped[str] = mapped_column(String(80))


class CheckFinding(Timestamps, Base):
    """A rule violation (or screen) found by a check run, with its remediation state."""

    __tablename__ = "check_findings"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    adcode: Mapped[str] = mapped_column(ForeignKey("districts.adcode"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("check_runs.id", ondelete="SET NULL"))
    rule_code: Mapped[str] = mapped_column(String(40), index=True)
    clause: Mapped[str]
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_key: Mapped[str] = mapped_column(String(80))
    subject_name: Mapped[str | None]
    object_type: Mapped[str] = mapped_column(String(30))
    object_key: Mapped[str] = mapped_column(String(80))
    object_name: Mapped[str | None]
    measured_m: Mapped[float | None] = mapped_column(Float)
    required_m: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None]
    rule_set_version: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), server_default="open")
    first_found_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_found_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    resolved_at: Mapped[dt.datetime | None]
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=STORAGE_SRID, spatial_index=True))
    __table_args__ = (
        # one row per (rule, subject, object): re-runs update it, so its history survives
        UniqueConstraint("rule_code", "subject_type", "subject_key", "object_type", "object_key",
                         name="uq_check_findings_identity"),
        CheckConstraint(
            "status IN ('open', 'in_remediation', 'accepted', 'closed', 'resolved')", name="status_values"
        ),
    )


class User(Timestamps, Base):
    """A person who signs in; ``adcode`` scopes district officers to their district."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str]
    password_hash: Mapped[str]
    role: Mapped[str] = mapped_column(String(20))
    adcode: Mapped[str | None] = mapped_column(ForeignKey("districts.adcode"))
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    last_login_at: Mapped[dt.datetime | None]
    credit_code: Mapped[str | None] = mapped_column(String(18))  # enterprise accounts: their enterprise
    __table_args__ = (
        CheckConstraint("role IN ('leader', 'admin', 'planner', 'district_officer', 'viewer', 'enterprise', "
                        "'city_supervisor')", name="role_values"),
        CheckConstraint("role <> 'district_officer' OR adcode IS NOT NULL", name="officer_has_district"),
        CheckConstraint("role <> 'enterprise' OR (credit_code IS NOT NULL AND adcode IS NOT NULL)",
                        name="enterprise_has_code"),
    )


class RuleOverride(Base):
    """A local value replacing one value of the shipped rule table ``geo/rules/checks.yaml``.

    ``path`` names the value inside the rule (``threshold_m``, ``inclusive`` or a
    ``params.…`` lookup). A change deactivates the active row and inserts a new one;
    a reset only deactivates it: rows are never deleted, so the history stays.
    At most one row per (rule, path) is active.
    """

    __tablename__ = "rule_overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_code: Mapped[str] = mapped_column(String(40))
    path: Mapped[str]
    value: Mapped[Any] = mapped_column(JSONB)  # a number or a boolean
    reason: Mapped[str]
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    __table_args__ = (
        Index("uq_rule_overrides_active", "rule_code", "path", unique=True, postgresql_where=text("active")),
    )


class PublishedRating(Base):
    """One district's 五色 rating as computed over the whole city, published for district sessions.

    Written (all rows at once) whenever the ratings are computed at city scope; a district officer's
    session reads only its own row (row-level security), so it sees the city's score, class and rank
    of ``n_districts`` without reading any other district's rows. ``contributions`` holds per indicator
    ``{"raw", "norm", "contrib"}`` — aggregates only, never rows.
    """

    __tablename__ = "published_ratings"
    adcode: Mapped[str] = mapped_column(ForeignKey("districts.adcode", ondelete="CASCADE"), primary_key=True)
    data_version: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[dt.date] = mapped_column(Date)
    rubric_version: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    class_code: Mapped[str] = mapped_column(String(4))
    rank: Mapped[int] = mapped_column(Integer)
    n_districts: Mapped[int] = mapped_column(Integer)
    contributions: Mapped[Any] = mapped_column(JSONB)
    published_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class HazardStep(Base):
    """One accepted step in a hidden hazard's life (append-only; see migration 0009 for the guards)."""

    __tablename__ = "hazard_steps"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    hazard_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("hidden_hazards.id", ondelete="CASCADE"))
    adcode: Mapped[str] = mapped_column(ForeignKey("districts.adcode"), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(20))
    supervised: Mapped[bool] = mapped_column(Boolean)
    role: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str]
    at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)
    comment: Mapped[str | None]
    changes: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    attachments: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"))
    __table_args__ = (UniqueConstraint("hazard_id", "version"),)


class Inspection(Base):
    """An inspection record (排查表) or a spot check of an enterprise's self-check."""

    __tablename__ = "inspections"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    adcode: Mapped[str] = mapped_column(ForeignKey("districts.adcode"), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    kind: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str]
    inspector: Mapped[str]
    inspected_at: Mapped[dt.datetime] = mapped_column(index=True)
    place: Mapped[str | None]
    geom: Mapped[Any] = mapped_column(Geometry(geometry_type="POINT", srid=STORAGE_SRID, spatial_index=True),
                                      nullable=True)
    major_found: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str | None]
    disposal: Mapped[str | None]
    remarks: Mapped[str | None]
    spot_items: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    hazard_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("hidden_hazards.id", ondelete="SET NULL"))
    created_by: Mapped[str]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    __table_args__ = (CheckConstraint("kind IN ('inspection', 'spot_check')", name="kind_values"),)


class Attachment(Base):
    """A photo or PDF attached to a hazard step or an inspection, kept with its sha256."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    hazard_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("hidden_hazards.id", ondelete="CASCADE"),
                                                  index=True)
    inspection_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("inspections.id", ondelete="CASCADE"),
                                                      index=True)
    adcode: Mapped[str] = mapped_column(ForeignKey("districts.adcode"), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    filename: Mapped[str]
    media_type: Mapped[str] = mapped_column(String(60))
    size_bytes: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    __table_args__ = (
        CheckConstraint("(hazard_id IS NULL) <> (inspection_id IS NULL)", name="one_owner"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
    )


class _Submission:
    """Columns shared by periodic submissions: who sent which period's figures, as sent (append-only)."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7))
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    signed_by: Mapped[str | None]
    submitted_by: Mapped[str]
    submitted_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    figures: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    note: Mapped[str | None]

    @declared_attr
    def adcode(cls) -> Mapped[str]:
        """GB/T 2260 code of the submitting district."""
        return mapped_column(ForeignKey("districts.adcode"), index=True)


class SelfReport(_Submission, Base):
    """An enterprise's monthly self-report, signed by its legal representative (due before the 5th)."""

    __tablename__ = "self_reports"
    credit_code: Mapped[str] = mapped_column(String(18))
    __table_args__ = (
        UniqueConstraint("credit_code", "period", "revision"),
        CheckConstraint(r"period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name="period_format"),
    )


class DispatchSubmission(_Submission, Base):
    """A district's monthly 调度表 as sent to the city (figures as sent)."""

    __tablename__ = "dispatch_submissions"
    credit_code: Mapped[str | None] = mapped_column(String(18))
    __table_args__ = (
        UniqueConstraint("adcode", "period", "revision"),
        CheckConstraint(r"period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name="period_format"),
    )



class RowVersion(Base):
    """One version of a row of a tracked table, kept by database triggers (migration 0010).

    ``data`` is the row as JSON without its geometry, ``geom`` the geometry as stored; the version was
    the row's content from ``valid_from`` until ``valid_to`` (NULL while current). Written only by the
    trigger function ``riskmap_keep_versions``; the application role reads versions of its scope.
    """

    __tablename__ = "row_versions"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(40))
    row_key: Mapped[str] = mapped_column(Text)
    adcode: Mapped[str | None] = mapped_column(String(6))
    adcodes: Mapped[list[str] | None] = mapped_column(ARRAY(String(6)))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    data: Mapped[Any] = mapped_column(JSONB)
    geom: Mapped[Any] = mapped_column(Geometry(srid=STORAGE_SRID, spatial_index=True), nullable=True)
    changed_by: Mapped[str] = mapped_column(Text)
    change: Mapped[str] = mapped_column(String(10))
    __table_args__ = (
        Index("ix_row_versions_lookup", "table_name", "row_key", "valid_from"),
        Index("ix_row_versions_current", "table_name", "row_key", unique=True,
              postgresql_where=text("valid_to IS NULL")),
        CheckConstraint("change IN ('insert', 'update')", name="change_kind"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_span"),
    )


class MeasureSnapshot(Base):
    """The period figures of one district (or ``scope = 'city'``) at a period end, as computed then.

    Append-only: a retake or a recomputation under a new rubric is a new row (migration 0011).
    """

    __tablename__ = "measure_snapshots"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    period_end: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    scope: Mapped[str] = mapped_column(String(6))
    rubric_version: Mapped[str] = mapped_column(String(40))
    measures: Mapped[Any] = mapped_column(JSONB)
    score: Mapped[float | None] = mapped_column(Float)
    class_code: Mapped[str | None] = mapped_column(String(4))
    rank: Mapped[int | None] = mapped_column(Integer)
    n_districts: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    taken_by: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        Index("ix_measure_snapshots_period", "period_end", "scope"),
        CheckConstraint("kind IN ('month_end', 'on_demand')", name="kind_values"),
        CheckConstraint("scope = 'city' OR scope ~ '^[0-9]{6}$'", name="scope_code"),
    )

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
}
