"""The 隐患台账 with its photos and PDFs as part of an export pack (format ``hazards`` of EXPORT_FORMATS).

The pack gets ``<stem>_hazards.xlsx`` (the 台账 in the conventional column order, with 附件数, 附件路径 and the
附件清单 sheet) and, beside it, ``attachments/manifest.csv`` and ``attachments/<hazard id>/<sha256 prefix>-<name>``
(:mod:`campaign.ledger`). What is in it is what the exporting account may see: row-level security reads the
hazards and their files under that account's scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from campaign.ledger import Fetch, hazard_files, ledger_frame, ledger_xlsx, write_attachments
from geo import store


@dataclass(frozen=True)
class HazardPack:
    """The hazards of an export, their files and how to read them.

    Parameters
    ----------
    hazards : DataFrame
        Rows of :func:`geo.store.list_hazards`.
    manifest : DataFrame
        Their files (:func:`campaign.ledger.attachment_manifest`).
    fetch : callable
        Reads one file's bytes by attachment id.
    title : str
        The 台账's first row.
    today : date
        The day overdue is judged on.
    """

    hazards: pd.DataFrame
    manifest: pd.DataFrame
    fetch: Fetch
    title: str
    today: dt.date


def district_hazard_pack(engine: Engine, adcode: str, *, title: str, today: dt.date) -> HazardPack:
    """Return the hazards of district ``adcode`` the session sees, with their files.

    Parameters
    ----------
    engine : Engine
        A store engine under the exporting account's scope.
    adcode : str
        The district.
    title : str
        The 台账's first row.
    today : date
        The day overdue is judged on.

    Returns
    -------
    HazardPack
    """
    hazards = store.list_hazards(engine, adcode=adcode)
    manifest, fetch = hazard_files(engine, hazards)
    return HazardPack(hazards=hazards, manifest=manifest, fetch=fetch, title=title, today=today)


def write_hazard_pack(pack: HazardPack, target: Path) -> list[Path]:
    """Write the 台账 to ``target`` and the files under ``target.parent / "attachments"``.

    Parameters
    ----------
    pack : HazardPack
        What to write.
    target : Path
        The 台账 workbook (``<stem>_hazards.xlsx``).

    Returns
    -------
    list of Path
        The workbook, the manifest CSV and each file.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = ledger_frame(pack.hazards, today=pack.today, manifest=pack.manifest)
    files = write_attachments(pack.manifest, pack.fetch, target.parent)
    target.write_bytes(ledger_xlsx(frame, title=pack.title, manifest=pack.manifest))
    return [target, *files]
