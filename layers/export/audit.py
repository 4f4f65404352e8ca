"""The audit entry of an export: every export path records itself through :func:`record_export`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from geo import store

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: ``action`` of an export's entry in the audit log.
EXPORT_ACTION = "export"


def record_export(conn: Connection, *, actor: str, target: str, adcode: str | None = None,
                  details: dict[str, Any] | None = None) -> None:
    """Append one ``export`` entry to the audit log, in the caller's transaction.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Open transaction the export belongs to.
    actor : str
        Who exports.
    target : str
        What was exported: the format codes joined by ``,`` for a layer export
        (:func:`layers.export.export_layers`), or the name of a report (``"hazard_ledger"``).
    adcode : str, optional
        District the export covers; None for the whole city.
    details : dict, optional
        Facts worth keeping (CRS, row counts, file names), stored as JSON.
    """
    store.audit(conn, actor=actor, action=EXPORT_ACTION, target=target, adcode=adcode, details=details)
