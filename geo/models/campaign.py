"""Tables of the campaign: hazard steps, inspections, attachments, submissions, enterprise change requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from geo.constants import STORAGE_SRID
from geo.models.base import Base


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


class HazardReminder(Base):
    """A 催办 about a hazard, addressed to the role of its next step (append-only; migration 0021)."""

    __tablename__ = "hazard_reminders"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    hazard_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("hidden_hazards.id", ondelete="CASCADE"),
                                           index=True)
    adcode: Mapped[str] = mapped_column(ForeignKey("districts.adcode"), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    hazard_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(24))
    recipient_role: Mapped[str] = mapped_column(String(20))
    message: Mapped[str]
    sent_by: Mapped[str]
    sender_role: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    __table_args__ = (CheckConstraint("length(btrim(message)) BETWEEN 1 AND 500", name="message_length"),)


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


class EnterpriseChange(Base):
    """An enterprise's request to change its basic information, and its district's decision (migration 0013).

    ``proposed`` maps field to new value, ``previous`` the same fields as they were when asked; a request
    is decided once (approved or rejected) and its proposal never changes.
    """

    __tablename__ = "enterprise_changes"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    adcode: Mapped[str] = mapped_column(ForeignKey("districts.adcode"), index=True)
    proposed: Mapped[dict[str, Any]]
    previous: Mapped[dict[str, Any]]
    reason: Mapped[str]
    requested_by: Mapped[str]
    requested_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    state: Mapped[str] = mapped_column(String(10), server_default="pending")
    decided_by: Mapped[str | None]
    decided_at: Mapped[dt.datetime | None]
    decision_note: Mapped[str | None]
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'approved', 'rejected')", name="state_values"),
        CheckConstraint("(state = 'pending') = (decided_at IS NULL)", name="decided_when_not_pending"),
    )
