"""Bookkeeping tables: import batches, the audit log, check runs and findings, users, rule overrides, ratings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.constants import ROLES, STORAGE_SRID
from geo.models.base import Base, Timestamps


def role_check() -> str:
    """Return the SQL condition that ``users.role`` is one of :data:`geo.constants.ROLES`.

    Examples
    --------
    >>> role_check().startswith("role IN ('leader', 'admin'")
    True
    """
    return "role IN (" + ", ".join(f"'{role}'" for role in ROLES) + ")"

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
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary)  # hash chain (migration 0014, store.audit_chain)
    row_hash: Mapped[bytes | None] = mapped_column(LargeBinary)




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
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default="false")
    demo: Mapped[bool] = mapped_column(Boolean, server_default="false")  # published password: demo data only
    password_changed_at: Mapped[dt.datetime | None]  # sessions begun before it are ended (migration 0015)
    __table_args__ = (
        CheckConstraint(role_check(), name="role_values"),
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
