"""The 隐患台账 (hazard register) as a table and an XLSX workbook, in the conventional column order.

Columns (issue #9 of the campaign, the order districts exchange): 序号, 隐患名称, 所属企业, 统一社会信用代码,
行业, 隐患级别, 来源, 发现日期, 整改措施, 责任单位, 责任人, 整改资金(万元), 整改时限, 应急预案, 状态, 督办级别,
督办单位, 销号日期 — then, kept apart, the codes behind the labels (状态代码 …) and 是否逾期.

Exported with its files (:func:`ledger_pack`, and the district pack through :func:`write_attachments`), each
hazard's photos and PDFs — its own and those of the inspection that found it — go under
``attachments/<hazard id>/<sha256 prefix>-<safe name>``; the 台账 row gets 附件数 and 附件路径, and a manifest
(附件清单 sheet and ``attachments/manifest.csv``) lists hazard, file, type, size, sha256, who and when uploaded.
Every file is checked against its stored sha256 as it is written, one file in memory at a time.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from sqlalchemy import Connection, Engine

from campaign.lifecycle import load_lifecycle
from campaign.reference import load_reference
from geo import store
from geo.cells import append_row, csv_row
from geo.constants import LOCAL_ZONE

#: (column, source) of the 台账 in the conventional order; sources are store.HAZARD_COLUMNS or derived names.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("序号", "_no"), ("隐患名称", "description"), ("所属企业", "enterprise_name"), ("统一社会信用代码", "credit_code"),
    ("行业", "_industry"), ("隐患级别", "_severity"), ("来源", "_source"), ("发现日期", "found_on"),
    ("整改措施", "measures"), ("责任单位", "responsible_unit"), ("责任人", "responsible_person"),
    ("整改资金(万元)", "funds_wan"), ("整改时限", "deadline"), ("应急预案", "emergency_plan"), ("状态", "_state"),
    ("督办级别", "_supervision"), ("督办单位", "supervising_unit"), ("销号日期", "closed_on"),
)
#: Columns after the conventional ones: codes kept in columns of their own, and the derived overdue flag.
EXTRA: tuple[tuple[str, str], ...] = (("隐患编号", "code"), ("区县代码", "adcode"), ("隐患级别代码", "severity"),
                                      ("来源代码", "source"), ("状态代码", "state"), ("督办级别代码", "supervision"),
                                      ("是否逾期", "_overdue"))


#: Folder of the attachments inside a pack, and the manifest file in it.
ATTACHMENT_DIR = "attachments"
MANIFEST_CSV = "manifest.csv"
#: Hex digits of the sha256 that prefix each file's name (unique enough within one hazard's folder).
SHA_PREFIX = 12
#: Columns of the manifest (sheet 附件清单 and ``attachments/manifest.csv``): (header, source column).
MANIFEST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("隐患编号", "code"), ("隐患ID", "hazard_id"), ("文件", "path"), ("原文件名", "filename"), ("归属", "owner"),
    ("类型", "media_type"), ("大小(字节)", "size_bytes"), ("sha256", "sha256"), ("上传人", "uploaded_by"),
    ("上传时间", "uploaded_at"),
)
#: Columns added to the 台账 when it is exported with its files.
FILE_COLUMNS = ("附件数", "附件路径")
#: Reads one attachment's bytes by its id (None when the session may not see it).
Fetch = Callable[[int], bytes | None]


def safe_name(name: str, *, limit: int = 80) -> str:
    """Return ``name`` made safe as one file name inside a ZIP or a folder (letters of any script kept).

    Examples
    --------
    >>> safe_name("../坝体 照片:1.jpg")
    '坝体_照片_1.jpg'
    >>> safe_name("...")
    '附件'
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^\w.\-]+", "_", base).strip("._") or "附件"
    if len(cleaned) > limit:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[: limit - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else cleaned[:limit]
    return cleaned


def attachment_manifest(hazards: pd.DataFrame, index: pd.DataFrame) -> pd.DataFrame:
    """Return the manifest of the hazards' attachments: one row per file with its path in the pack.

    Parameters
    ----------
    hazards : DataFrame
        The exported hazards (``id``, ``code``).
    index : DataFrame
        Their attachments (:func:`geo.store.hazard_attachments`).

    Returns
    -------
    DataFrame
        ``id`` (attachment), ``hazard_id``, ``code``, ``path`` (``attachments/<hazard id>/<sha prefix>-<name>``),
        ``filename``, ``owner`` (隐患 or 排查记录 #n), ``media_type``, ``size_bytes``, ``sha256``, ``uploaded_by``,
        ``uploaded_at`` (local time, text); files with the same path (the same file uploaded twice) once.
    """
    codes = dict(zip(hazards["id"].astype(int), hazards["code"], strict=True))
    rows = []
    for r in index.to_dict("records"):
        hid = int(r["hazard_id"])
        if hid not in codes:
            continue
        at = pd.Timestamp(r["created_at"])
        at = at.tz_convert(LOCAL_ZONE) if at.tzinfo else at
        inspection = r.get("inspection_id")
        rows.append({
            "id": int(r["id"]), "hazard_id": hid, "code": codes[hid],
            "path": f"{ATTACHMENT_DIR}/{hid}/{r['sha256'][:SHA_PREFIX]}-{safe_name(str(r['filename']))}",
            "filename": r["filename"],
            "owner": f"排查记录 #{int(inspection)}" if pd.notna(inspection) else "隐患",
            "media_type": r["media_type"], "size_bytes": int(r["size_bytes"]), "sha256": r["sha256"],
            "uploaded_by": r["uploaded_by"], "uploaded_at": at.strftime("%Y-%m-%d %H:%M:%S"),
        })
    columns = ["id", *(src for _, src in MANIFEST_COLUMNS)]
    return pd.DataFrame(rows, columns=columns).drop_duplicates("path").reset_index(drop=True)


def hazard_files(engine: Engine | Connection, hazards: pd.DataFrame) -> tuple[pd.DataFrame, Fetch]:
    """Return the manifest of the hazards' files and the reader of their bytes, under the session's scope.

    Parameters
    ----------
    engine : Engine or Connection
        A store engine under the exporting account's scope (row-level security decides what is there).
    hazards : DataFrame
        The exported hazards (rows of :func:`geo.store.list_hazards`).

    Returns
    -------
    (DataFrame, callable)
        :func:`attachment_manifest` and a function reading one attachment's bytes by id.
    """
    ids = [int(i) for i in hazards["id"]] if len(hazards) else []
    manifest = attachment_manifest(hazards, store.hazard_attachments(engine, ids))

    def fetch(attachment_id: int) -> bytes | None:
        return store.attachment_content(engine, attachment_id)

    return manifest, fetch


def pack_size(manifest: pd.DataFrame) -> tuple[int, int]:
    """Return (number of files, total bytes) of the attachments a pack will hold (the note before download)."""
    return len(manifest), int(manifest["size_bytes"].sum()) if len(manifest) else 0


def ledger_frame(hazards: pd.DataFrame, *, today: dt.date, manifest: pd.DataFrame | None = None) -> pd.DataFrame:
    """Lay out hazards (rows of :func:`geo.store.list_hazards`) as the 台账.

    Parameters
    ----------
    hazards : DataFrame
        The hazards, in the order wanted.
    today : date
        The day overdue is judged on.
    manifest : DataFrame, optional
        The files exported with the 台账 (:func:`attachment_manifest`): adds :data:`FILE_COLUMNS`.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS` then :data:`EXTRA` (then :data:`FILE_COLUMNS`), Chinese labels for coded values.
    """
    life, ref = load_lifecycle(), load_reference()
    rows = []
    for i, r in enumerate(hazards.to_dict("records"), 1):
        industry = ref.industry_of(r.get("enterprise_industry"))
        level = str(r.get("supervision"))
        derived = {
            "_no": i,
            "_industry": ref.industries[industry].label.zh if industry else "",
            "_severity": life.severities[r["severity"]].zh if r["severity"] in life.severities else r["severity"],
            "_source": ref.sources[r["source"]].zh if r.get("source") in ref.sources else (r.get("source") or ""),
            "_state": life.states[r["state"]].zh if r.get("state") in life.states else (r.get("state") or ""),
            "_supervision": life.supervision_levels[level][0].zh if level in life.supervision_levels else "",
            "_overdue": "是" if life.is_overdue(life.hazard(r), today) else "否",
        }
        rows.append([derived[src] if src.startswith("_") else r.get(src) for _, src in COLUMNS + EXTRA])
    frame = pd.DataFrame(rows, columns=[c for c, _ in COLUMNS + EXTRA])
    if manifest is None:
        return frame
    paths = manifest.groupby("hazard_id")["path"].agg(list).to_dict() if len(manifest) else {}
    files = [paths.get(int(h), []) for h in hazards["id"]] if len(hazards) else []
    frame[FILE_COLUMNS[0]] = [len(f) for f in files]
    frame[FILE_COLUMNS[1]] = ["\n".join(f) for f in files]
    return frame


def ledger_xlsx(frame: pd.DataFrame, *, title: str, manifest: pd.DataFrame | None = None) -> bytes:
    """Write the 台账 as XLSX: a title row, the header, one row per hazard (text never a formula).

    Parameters
    ----------
    frame : DataFrame
        From :func:`ledger_frame`.
    title : str
        The first row (e.g. "安宁市重大事故隐患台账（截至 2026-12-06）").
    manifest : DataFrame, optional
        The files exported with it (:func:`attachment_manifest`): written as a second sheet 附件清单.

    Returns
    -------
    bytes
    """
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "隐患台账"
    append_row(ws, [title])
    append_row(ws, list(frame.columns))
    for values in frame.itertuples(index=False):
        append_row(ws, [None if (not isinstance(v, str) and pd.isna(v)) else v for v in values])
    for col, width in zip("ABCDEFGHIJKLMNOPQR", (6, 30, 24, 22, 12, 12, 12, 12, 30, 20, 10, 12, 12, 20, 10, 10, 16, 12),
                          strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "C3"
    if manifest is not None:
        sheet = wb.create_sheet("附件清单")
        append_row(sheet, [header for header, _ in MANIFEST_COLUMNS])
        for rec in manifest.to_dict("records"):
            append_row(sheet, [rec[src] for _, src in MANIFEST_COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _checked_files(manifest: pd.DataFrame, fetch: Fetch) -> Iterator[tuple[str, bytes]]:
    """Yield (path in the pack, bytes) per file, each checked against its stored sha256."""
    for rec in manifest.to_dict("records"):
        content = fetch(int(rec["id"]))
        if content is None:
            raise LookupError(f"附件 {rec['filename']}（隐患 {rec['code']}）不在本账号范围内或已删除 / "
                              f"attachment {rec['filename']!r} of hazard {rec['code']} is not visible")
        digest = hashlib.sha256(content).hexdigest()
        if digest != rec["sha256"]:
            raise ValueError(f"附件 {rec['path']} 的 sha256 与存储值不符 / sha256 of {rec['path']} differs: "
                             f"{digest} != {rec['sha256']}")
        yield str(rec["path"]), content


def _manifest_csv(manifest: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([header for header, _ in MANIFEST_COLUMNS])
    for rec in manifest.to_dict("records"):
        writer.writerow(csv_row(rec[src] for _, src in MANIFEST_COLUMNS))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def write_attachments(manifest: pd.DataFrame, fetch: Fetch, root: Path) -> list[Path]:
    """Write the files of ``manifest`` and ``attachments/manifest.csv`` under ``root``; return the paths written.

    Parameters
    ----------
    manifest : DataFrame
        From :func:`attachment_manifest`.
    fetch : callable
        Reads one attachment's bytes by id under the exporting account's scope.
    root : Path
        The pack's folder; files go to ``root/attachments/<hazard id>/…``.

    Returns
    -------
    list of Path
        The manifest CSV first, then each file.

    Raises
    ------
    ValueError, LookupError
        A file's bytes do not match its sha256, or it is not visible; the files written so far are removed.
    """
    target = Path(root) / ATTACHMENT_DIR / MANIFEST_CSV
    target.parent.mkdir(parents=True, exist_ok=True)
    written = [target]
    try:
        target.write_bytes(_manifest_csv(manifest))
        for arc, content in _checked_files(manifest, fetch):
            path = Path(root) / arc
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written


def ledger_pack(frame: pd.DataFrame, manifest: pd.DataFrame, fetch: Fetch, target: Path, *, title: str) -> Path:
    """Write the 台账 with its files as one ZIP at ``target``, streamed to disk one file at a time.

    The ZIP holds ``隐患台账.xlsx`` (with the 附件清单 sheet), ``attachments/manifest.csv`` and each file.
    It is written beside ``target`` and renamed when complete, so no half-written pack is left.

    Parameters
    ----------
    frame : DataFrame
        From :func:`ledger_frame` with the same ``manifest``.
    manifest : DataFrame
        From :func:`attachment_manifest`.
    fetch : callable
        Reads one attachment's bytes by id under the exporting account's scope.
    target : Path
        The ZIP to write.
    title : str
        The 台账's first row.

    Returns
    -------
    Path
        ``target``.
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=".ledger-", suffix=".zip", dir=target.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("隐患台账.xlsx", ledger_xlsx(frame, title=title, manifest=manifest))
            zf.writestr(f"{ATTACHMENT_DIR}/{MANIFEST_CSV}", _manifest_csv(manifest))
            for arc, content in _checked_files(manifest, fetch):
                zf.writestr(arc, content, compress_type=zipfile.ZIP_STORED)  # photos and PDFs are compressed
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
