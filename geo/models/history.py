"""History and period figures: every version of a tracked row, and stored measure snapshots."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.constants import STORAGE_SRID
from geo.models.base import Base


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
