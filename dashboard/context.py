"""What pages need from the server side: the store engine, settings and the cached snapshot."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Engine

from geo.config import Settings
from layers.city import CitySnapshot, city_snapshot


@dataclass(frozen=True)
class AppContext:
    """Shared, read-only server context (no per-user state lives here)."""

    engine: Engine
    settings: Settings

    def snapshot(self) -> CitySnapshot:
        """The cockpit snapshot for the store's current data version (cached)."""
        return city_snapshot(self.engine)

    @property
    def basemap_url(self) -> str | None:
        """XYZ tile URL template from ``RISKMAP_BASEMAP_URL`` (none by default: offline)."""
        return os.environ.get("RISKMAP_BASEMAP_URL") or None
