"""Exception family raised by RiskMap's data layer."""

from __future__ import annotations

from typing import Any


class RiskMapError(Exception):
    """Base class for errors that RiskMap reports to users."""


class ConfigError(RiskMapError):
    """The environment or settings are unusable (missing binary, bad URL...)."""


class EmbeddedDatabaseError(RiskMapError):
    """The private PostgreSQL/PostGIS cluster could not be created or started."""


class ImportValidationError(RiskMapError, ValueError):
    """An import file failed validation; nothing was written.

    Parameters
    ----------
    message : str
        Summary line.
    issues : list
        The :class:`geo.validate.Issue` objects found.
    """

    def __init__(self, message: str, issues: list[Any] | None = None) -> None:
        super().__init__(message)
        self.issues = issues or []


class ReadError(RiskMapError, ValueError):
    """A file could not be read as the layer it was said to be."""


class AccessDenied(RiskMapError, PermissionError):
    """The signed-in user's role or district does not allow what was asked."""
