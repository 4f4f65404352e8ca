"""The declarative base, the naming convention and the columns every layer shares."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    MetaData,
    String,
    Text,
    func,
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


def geometry_column(kind: str) -> Any:
    """Return a required geometry column of ``kind`` in the storage SRID, with a GiST index."""
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
