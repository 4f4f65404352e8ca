"""Settings read from the environment, in one place.

``RISKMAP_DATABASE_URL``
    SQLAlchemy URL of an existing PostGIS database. When unset, RiskMap uses
    its private embedded cluster under ``RISKMAP_HOME``.
``RISKMAP_HOME``
    Folder for the embedded cluster, logs and exports. Default:
    ``/var/lib/riskmap`` when running as root (the PostgreSQL server runs as
    the ``postgres`` system user, which must be able to reach it), otherwise
    ``~/.local/share/riskmap``.
``RISKMAP_PG_OS_USER``
    System user that runs the embedded server when RiskMap runs as root.
    Default ``postgres``.
``RISKMAP_IDLE_MINUTES`` / ``RISKMAP_SESSION_HOURS``
    Idle and absolute timeouts of a signed-in session (default 30 minutes and 8 hours; the
    database caps them at 12 and 24 hours).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _default_home() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/riskmap")
    return Path.home() / ".local" / "share" / "riskmap"


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with :func:`load_settings`."""

    home: Path
    database_url: str | None
    pg_os_user: str
    district_tolerance_m: float = 200.0
    idle_minutes: int = 30
    session_hours: float = 8.0


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from ``env`` (default: ``os.environ``).

    Parameters
    ----------
    env : dict, optional
        Mapping to read instead of the process environment.

    Returns
    -------
    Settings
        The resolved settings.
    """
    env = dict(os.environ if env is None else env)
    home = Path(env["RISKMAP_HOME"]) if env.get("RISKMAP_HOME") else _default_home()
    return Settings(
        home=home,
        database_url=env.get("RISKMAP_DATABASE_URL") or None,
        pg_os_user=env.get("RISKMAP_PG_OS_USER", "postgres"),
        district_tolerance_m=float(env.get("RISKMAP_DISTRICT_TOLERANCE_M", "200")),
        idle_minutes=int(env.get("RISKMAP_IDLE_MINUTES", "30")),
        session_hours=float(env.get("RISKMAP_SESSION_HOURS", "8")),
    )
