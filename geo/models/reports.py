"""Tables of the periodic reports: every report a district submits, and local values of report definitions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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

from geo.models.base import Base


class ReportSubmission(Base):
    """A district's generated report of one kind and period as sent to the city (append-only, migration 0016).

    A resubmission is a new row with the next ``revision``; the latest counts. ``figures`` are the measures
    the report was built from, as sent; ``content`` the document itself (its ``sha256`` and ``size_bytes``).
    """

    __tablename__ = "report_submissions"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30))
    adcode: Mapped[str] = mapped_column(ForeignKey("districts.adcode"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    submitted_by: Mapped[str]
    submitted_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    filename: Mapped[str]
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    note: Mapped[str | None]
    __table_args__ = (
        UniqueConstraint("kind", "adcode", "period", "revision"),
        CheckConstraint(r"period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$'", name="period_format"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )


class ReportDefinitionOverride(Base):
    """A local value of one field of a report definition (``layers/reporting/definitions.yaml``).

    A change deactivates the active row of (report, field) and inserts a new one with the value it replaced
    in ``previous``; a reset only deactivates it. Rows are never deleted: the history stays.
    """

    __tablename__ = "report_definition_overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_code: Mapped[str] = mapped_column(String(30))
    field: Mapped[str] = mapped_column(String(30))
    value: Mapped[Any] = mapped_column(JSONB)
    previous: Mapped[Any] = mapped_column(JSONB)
    reason: Mapped[str]
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    __table_args__ = (
        Index("uq_report_definition_overrides_active", "report_code", "field", unique=True,
              postgresql_where=text("active")),
    )
