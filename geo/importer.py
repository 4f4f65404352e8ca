"""Import a file into a layer: read, validate everything, then write in one transaction.

A file with errors writes nothing (the database stays exactly as it was) unless
``skip_invalid`` is set; then the good rows are imported and the rejected ones
are written, with their reasons, to a reject file beside the input. Rows are
upserted on their natural key, so importing the same file twice adds nothing.

A district officer (see :func:`geo.store.current_scope`) may import only rows of
their own district: other districts' rows are invalid rows like any other
(:mod:`geo.import_scope`). Imports into the same layer are serialized by a
transaction-scoped lock, so two at once never interleave their writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from geo import store
from geo.cells import csv_text
from geo.crs import SourceCRS, parse_source_crs
from geo.errors import ImportValidationError, ReadError
from geo.import_scope import refuse_foreign_enterprises, refuse_foreign_links, restrict_to_scope
from geo.layer_detect import file_headers, likely_layer, wrong_layer_message
from geo.layer_specs import LayerSpec, layer_spec
from geo.readers import RawTable, read_any
from geo.validate import FILE_LEVEL_ROWS, HEADER_ROW, Issue, Validated, validate


@dataclass
class ImportReport:
    """What an import did (or would have done)."""

    layer: str
    file: str
    rows_total: int
    rows_imported: int
    rows_rejected: int
    source_crs: str | None
    issues: list[Issue] = field(default_factory=list)
    batch_id: int | None = None
    reject_file: Path | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self, lang: str = "zh") -> str:
        """One-paragraph human summary."""
        if lang == "en":
            head = (f"{self.file} → {self.layer}: {self.rows_imported} of {self.rows_total} rows imported, "
                    f"{self.rows_rejected} rejected (source CRS {self.source_crs})")
        else:
            head = (f"{self.file} → {self.layer}: 共 {self.rows_total} 行，导入 {self.rows_imported} 行，"
                    f"拒绝 {self.rows_rejected} 行(源坐标系 {self.source_crs})")
        if self.reject_file:
            head += f"; reject file: {self.reject_file}"
        return head


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file (for the batch record and audit log)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(engine: Engine, layer: str, path: Path, *, crs: str | None = None,
               layer_name: str | None = None, tolerance_m: float = 200.0) -> tuple[LayerSpec, RawTable, Validated]:
    """Read and validate a file without writing anything.

    Rows outside the district of the current scope (:func:`geo.store.current_scope`),
    a district officer's change of a pipeline stored in other districts too, and plant parts
    linked to another district's enterprise are refused here, so that a preview shows what
    the import would refuse.

    Parameters
    ----------
    engine : Engine
        Store to read district boundaries from.
    layer : str
        Target layer name (English or Chinese).
    path : Path
        File to check.
    crs : str, optional
        Source CRS override (``EPSG:4543``, ``gcj02``, ...).
    layer_name : str, optional
        Layer inside a multi-layer file.
    tolerance_m : float
        Tolerance of the "inside its district" check.

    Returns
    -------
    tuple
        The layer spec, the raw table and the validation result.
    """
    spec = layer_spec(layer)
    source: SourceCRS | None = parse_source_crs(crs)
    raw = read_any(path, spec, layer_name=layer_name)
    districts = store.read_districts(engine)
    try:
        result = validate(raw, spec, districts=districts, source_crs=source, tolerance_m=tolerance_m)
    except ValueError as exc:
        raise ReadError(str(exc)) from exc
    names = {str(c): str(n) for c, n in zip(districts["adcode"], districts["name"], strict=True)}
    scope = store.current_scope()
    stored_pipelines = None
    if spec.name == "pipelines" and scope is not None and not scope.all_districts:
        stored_pipelines = store.pipeline_districts(engine, [str(r["key"]) for r in result.records])
    result = restrict_to_scope(raw, spec, result, scope, names, stored_pipelines)
    if spec.name == "enterprises" and scope is not None and not scope.all_districts:
        stored = store.enterprise_districts(engine, [str(r["credit_code"]) for r in result.records
                                                     if r.get("credit_code")])
        result = refuse_foreign_enterprises(raw, spec, result, stored, names)
    if spec.name == "installations":
        linked = store.enterprise_districts(engine, [str(r["enterprise_credit_code"]) for r in result.records
                                                     if r.get("enterprise_credit_code")])
        result = refuse_foreign_links(raw, spec, result, linked, names)
    if any(i.row == HEADER_ROW and i.severity == "error" for i in result.issues):
        likely = likely_layer(file_headers(raw))
        if likely is not None and likely != spec.name:  # name the layer the file seems to hold
            zh, en = wrong_layer_message(spec.name, likely)
            result.issues.insert(0, Issue(path.name, HEADER_ROW, LAYER_FIELD, zh, en))
    return spec, raw, result


#: Field label of the issue naming the layer a file seems to hold.
LAYER_FIELD = "图层(layer)"


@dataclass
class ImportPreview:
    """What importing a file would do, worked out without writing anything."""

    layer: str
    file: str
    rows_total: int
    rows_valid: int
    rows_rejected: int
    inserts: int
    updates: int
    likely_layer: str | None
    source_crs: str | None
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        """Issues that block a row or the file."""
        return [i for i in self.issues if i.severity == "error"]

    def importable(self, skip_invalid: bool) -> bool:
        """Whether confirming would write rows (all rows valid, or ``skip_invalid`` and some valid)."""
        if not self.rows_valid or any(i.row in FILE_LEVEL_ROWS for i in self.errors):
            return False
        return skip_invalid or not self.errors


def preview_file(engine: Engine, layer: str, path: Path, *, crs: str | None = None,
                 layer_name: str | None = None, tolerance_m: float = 200.0) -> ImportPreview:
    """Check a file and count the rows an import would insert and update, writing nothing.

    Parameters
    ----------
    engine : Engine
        Store (under the current scope).
    layer : str
        Target layer name.
    path : Path
        File to check.
    crs : str, optional
        Source CRS override.
    layer_name : str, optional
        Layer inside a multi-layer file.
    tolerance_m : float
        Tolerance of the "inside its district" check.

    Returns
    -------
    ImportPreview

    Raises
    ------
    ReadError
        The file cannot be read as this layer.
    """
    spec, raw, result = check_file(engine, layer, path, crs=crs, layer_name=layer_name, tolerance_m=tolerance_m)
    key = "adcode" if spec.name == "districts" else "key"
    keys = {str(r[key]) for r in result.records if r.get(key) is not None}
    stored = store.read_layer(engine, spec.name) if keys else None
    existing = set(stored[key].astype(str)) if stored is not None and key in stored.columns else set()
    updates = len(keys & existing)
    return ImportPreview(
        layer=spec.name, file=path.name, rows_total=len(raw.frame), rows_valid=len(result.records),
        rows_rejected=len(result.rejected_rows), inserts=len(result.records) - updates, updates=updates,
        likely_layer=likely_layer(file_headers(raw)),
        source_crs=result.source_crs.label if result.source_crs else None,
        issues=list(result.issues), notes=list(raw.notes))


def import_file(
    engine: Engine,
    layer: str,
    path: Path | str,
    *,
    crs: str | None = None,
    skip_invalid: bool = False,
    reject_path: Path | None = None,
    layer_name: str | None = None,
    actor: str = "cli",
    tolerance_m: float = 200.0,
) -> ImportReport:
    """Import ``path`` into ``layer``.

    Parameters
    ----------
    engine : Engine
        Target store.
    layer : str
        Layer name, e.g. ``"enterprises"`` or ``"企业"``.
    path : Path or str
        XLSX, CSV, GeoPackage, Shapefile (or zipped), GeoJSON or KML file.
    crs : str, optional
        Source CRS when the file does not declare it or declares it wrongly;
        ``gcj02``/``bd09`` for coordinates taken from 高德/腾讯/百度 maps.
    skip_invalid : bool
        Import the valid rows and write rejected rows to a reject file.
    reject_path : Path, optional
        Where to write rejected rows (default ``<file>.rejected.csv``).
    layer_name : str, optional
        Layer inside a multi-layer GeoPackage.
    actor : str
        Who imports (recorded in the batch and audit log).
    tolerance_m : float
        How far outside its stated district a feature may lie.

    Returns
    -------
    ImportReport

    Raises
    ------
    ReadError
        The file cannot be read as this layer.
    ImportValidationError
        Rows are invalid (including rows outside the importing officer's district) and
        ``skip_invalid`` is False, the file as a whole is refused, or the database refused the
        rows; nothing was written.
    """
    path = Path(path)
    spec, raw, result = check_file(engine, layer, path, crs=crs, layer_name=layer_name,
                                   tolerance_m=tolerance_m)
    file_errors = [i for i in result.errors if i.row in FILE_LEVEL_ROWS]
    report = ImportReport(
        layer=spec.name, file=path.name, rows_total=len(raw.frame), rows_imported=0,
        rows_rejected=len(result.rejected_rows), source_crs=result.source_crs.label if result.source_crs else None,
        issues=result.issues, notes=list(raw.notes),
    )
    if file_errors or (result.errors and not skip_invalid):
        report.rows_rejected = len(raw.frame) if file_errors else report.rows_rejected
        n = len(result.errors)
        raise ImportValidationError(
            f"{path.name}: 发现 {n} 处错误，未写入任何数据 / {n} error{'s' if n != 1 else ''} found, "
            "nothing was written", result.errors)
    if not result.records:
        raise ImportValidationError(f"{path.name}: 没有有效行 / no valid rows", result.errors)
    if result.rejected_rows:
        report.reject_file = write_rejects(raw, result, reject_path or path.with_name(path.name + ".rejected.csv"))
    try:
        batch_id = _write(engine, spec, path, report, result, actor)
    except DBAPIError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ImportValidationError(
            f"{path.name}: 数据库拒绝写入，未写入任何数据 / the database rejected the rows, nothing was written: "
            f"{detail}",
            [Issue(path.name, "-", "-", f"数据库拒绝写入：{detail}", f"database rejected the rows: {detail}")],
        ) from exc
    report.batch_id = batch_id
    return report


def _write(engine: Engine, spec: LayerSpec, path: Path, report: ImportReport, result: Validated,
           actor: str) -> int:
    sha256 = sha256_of(path)
    key = "adcode" if spec.name == "districts" else "key"
    with engine.begin() as conn:
        # One import of a layer at a time: a second one waits here until the first commits or
        # rolls back, so their upserts never interleave (nor deadlock on each other's keys).
        store.lock_layer(conn, spec.name)
        batch_id = store.record_batch(
            conn, layer=spec.name, file_name=path.name, file_sha256=sha256,
            source_crs=report.source_crs, rows_total=report.rows_total, rows_imported=len(result.records),
            rows_rejected=report.rows_rejected, reject_file=str(report.reject_file) if report.reject_file else None,
            actor=actor,
        )
        # A key field without a column of its own (``code`` of buildings, tailings...) is stored as ``key``.
        columns = set(store.table(spec.name).columns.keys())
        extra = {"batch_id": batch_id, "source_crs": report.source_crs}
        records = [{k: v for k, v in r.items() if k in columns} | extra for r in result.records]
        records.sort(key=lambda r: str(r[key]))  # rows locked in one order by every writer
        report.rows_imported = store.upsert_rows(conn, spec.name, records, key)
        if spec.name == "hidden_hazards":
            _hazard_histories(conn, records, report, actor=actor, batch_id=batch_id)
        adcodes = sorted({str(r["adcode"]) for r in records if r.get("adcode")})
        store.audit(conn, actor=actor, action="import", target=spec.name,
                    adcode=adcodes[0] if len(adcodes) == 1 else None,
                    details={"file": path.name, "sha256": sha256, "batch": batch_id,
                             "rows_total": report.rows_total, "imported": report.rows_imported,
                             "rejected": report.rows_rejected, "adcodes": adcodes,
                             "source_crs": report.source_crs})
    return batch_id


def _hazard_histories(conn: Connection, records: list[dict[str, Any]], report: ImportReport, *, actor: str,
                      batch_id: int) -> None:
    """Start the history of newly imported hazards and say which rows' workflow state was kept.

    A hazard already in the store keeps its state, deadline and supervision whatever the file says
    (only a workflow step changes them); the report names how many rows differed.
    """
    scope = store.current_scope()
    store.record_import_steps(conn, actor=scope.actor if scope else actor, role=scope.role if scope else None,
                                     batch_id=batch_id)
    kept = store.status_differs(conn, {str(r["key"]): str(r["status"]) for r in records if r.get("status")})
    if kept:
        report.notes.append(f"{len(kept)} 条隐患已在整改流程中，保留其流程状态，"
                            f"未按文件中的整改状态修改（如 {kept[0]}） / "
                            f"{len(kept)} hazards are in the workflow: their state was kept, not set from the file "
                            f"(e.g. {kept[0]})")


def write_rejects(raw: RawTable, result: Validated, target: Path) -> Path:
    """Write rejected rows (original values, geometry as WKT, reasons) to a UTF-8 CSV.

    Parameters
    ----------
    raw : RawTable
        The rows as read.
    result : Validated
        Validation result naming the rejected rows.
    target : Path
        CSV file to write (Excel-friendly UTF-8 with BOM).

    Returns
    -------
    Path
        ``target``.
    """
    rows = sorted(result.rejected_rows)
    frame = raw.frame.iloc[rows].rename(columns=raw.headers)  # the file's own headers
    frame.insert(0, "行号 row", [raw.row_labels[i] for i in rows])
    frame["几何WKT geometry"] = [
        shapely.to_wkt(g) if isinstance(g, shapely.Geometry) else "" for g in raw.geometry[rows]
    ]
    frame["错误原因 reasons"] = [
        "; ".join(f"{x.field}: {x.zh} / {x.en}" for x in result.rejected_rows[i]) for i in rows
    ]
    frame = frame.map(csv_text)  # a formula-like value must not run when the reject file is opened
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL)
    return target


def import_frame(engine: Engine, layer: str, gdf: gpd.GeoDataFrame, *, source_name: str,
                 actor: str = "demo") -> ImportReport:
    """Import an in-memory GeoDataFrame (canonical columns) through the same validation.

    The frame is written to a temporary GeoPackage and imported like a file, so
    generated data meets exactly the checks that users' files meet.

    Parameters
    ----------
    engine : Engine
        Target store.
    layer : str
        Layer name.
    gdf : GeoDataFrame
        Rows with canonical column names, CRS EPSG:4490 or 4326.
    source_name : str
        File name recorded for the batch.
    actor : str
        Who imports.

    Returns
    -------
    ImportReport
    """
    from tempfile import TemporaryDirectory

    frame = gdf.copy()
    for col in frame.columns:
        if col != frame.geometry.name and frame[col].dtype == object:
            frame[col] = frame[col].map(_plain)
    with TemporaryDirectory() as tmp:
        target = Path(tmp) / source_name
        frame.to_file(target, layer=layer_spec(layer).name, driver="GPKG")
        return import_file(engine, layer, target, actor=actor)


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple | np.ndarray):
        return ",".join(map(str, value))
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
