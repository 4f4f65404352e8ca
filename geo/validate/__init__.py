"""Validate a :class:`~geo.readers.RawTable` against its layer spec before anything is written.

Every problem becomes an :class:`Issue` naming file, row and field, in Chinese
with English. Valid rows come back as typed records in CGCS2000; invalid rows
are listed so the importer can refuse the file or write them to a reject file.

The work is split by concern: :mod:`~geo.validate.issues` (what is reported),
:mod:`~geo.validate.values` (one cell: numbers with units, dates, choices, codes, text),
:mod:`~geo.validate.geometry` (shapes, position, the file's CRS) and
:mod:`~geo.validate.records` (keys, duplicates, derived columns). :func:`validate` runs them
in order; the names callers use are importable from here.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np

from geo.crs import SourceCRS
from geo.layer_specs import LayerSpec
from geo.readers import RawTable
from geo.validate.geometry import (
    CHINA_BOUNDS,
    check_geometries,
    check_location,
    geometry_problem,
    repair_geometry,
    resolve_crs,
    to_storage,
)
from geo.validate.issues import FILE_LEVEL_ROWS, FILE_ROW, GEOMETRY_FIELD, HEADER_ROW, Issue, RowIssues, Validated
from geo.validate.records import HCA_CORRIDOR_M, check_duplicates, derive_columns, record_key
from geo.validate.values import check_column, field_header, text_limits

__all__ = [
    "CHINA_BOUNDS", "FILE_LEVEL_ROWS", "FILE_ROW", "GEOMETRY_FIELD", "HCA_CORRIDOR_M", "HEADER_ROW", "Issue",
    "Validated", "geometry_problem", "record_key", "repair_geometry", "validate",
]

#: Former private name of :func:`~geo.validate.geometry.geometry_problem` (tests/test_import_explained.py).
_geom_problem = geometry_problem


def validate(
    raw: RawTable,
    spec: LayerSpec,
    *,
    districts: gpd.GeoDataFrame,
    source_crs: SourceCRS | None = None,
    tolerance_m: float = 200.0,
) -> Validated:
    """Check and convert every row of ``raw`` for layer ``spec``.

    Parameters
    ----------
    raw : RawTable
        Rows as read.
    spec : LayerSpec
        Target layer.
    districts : GeoDataFrame
        District boundaries in EPSG:4490 (``adcode`` column), for the
        "adcode exists" and "inside its district" checks.
    source_crs : SourceCRS, optional
        Overrides the CRS declared by the file.
    tolerance_m : float
        How far outside its stated district a feature may lie.

    Returns
    -------
    Validated

    Raises
    ------
    ValueError
        When the file's CRS cannot be determined or contradicts its coordinates.
    """
    file = raw.path.name
    crs = resolve_crs(raw, source_crs)
    n = len(raw.frame)
    rows = [RowIssues(file, raw.row_labels[i]) for i in range(n)]
    file_issues: list[Issue] = []
    columns = set(raw.frame.columns)
    missing = [f for f in spec.fields if f.required and f.name not in columns]
    if missing:
        for f in missing:
            file_issues.append(Issue(file, HEADER_ROW, field_header(f),
                                     f"缺少必填列“{f.zh}”", f"required column {f.en!r} ({f.name}) is missing"))
        return Validated([], [], {}, file_issues, crs)
    for col in raw.unknown_columns:
        file_issues.append(Issue(file, HEADER_ROW, str(col), "无法识别的列，已忽略",
                                 "unrecognised column, ignored", "warning"))

    names = [fs.name for fs in spec.fields if fs.name not in ("lon", "lat")]
    limits = text_limits(spec)
    cells: list[list[Any]] = []
    for fs in spec.fields:  # column by column; a row's issues still come in the order of its fields
        if fs.name in ("lon", "lat"):
            continue
        values, problems = check_column(raw.frame[fs.name].tolist() if fs.name in columns else [None] * n,
                                        fs, spec, limits.get(fs.name))
        cells.append(values)
        for i, found in problems.items():
            row = rows[i]
            row.issues.extend(Issue(row.file, row.label, fld, zh, en, sev)  # type: ignore[arg-type]
                              for sev, fld, zh, en in found)
    records: list[dict[str, Any]] = ([dict(zip(names, values, strict=True)) for values in zip(*cells, strict=True)]
                                     if cells else [{} for _ in range(n)])

    geoms = check_geometries(raw, spec, rows)
    stored = np.empty(n, dtype=object)
    ok_geom = [i for i in range(n) if geoms[i] is not None]
    if ok_geom:
        stored[ok_geom] = to_storage(np.asarray([geoms[i] for i in ok_geom], dtype=object), crs)
    check_location(stored, records, rows, spec, districts, tolerance_m)
    keys = [record_key(spec, rec) for rec in records]
    check_duplicates(records, rows, spec, keys)

    valid, valid_rows, rejected = [], [], {}
    for i in range(n):
        if not rows[i].issues or rows[i].ok:
            rec = records[i]  # (no lon/lat: they are not among the names)
            rec["geom"] = stored[i]
            derive_columns(rec, spec, stored[i], districts, keys[i])
            valid.append(rec)
            valid_rows.append(i)
        else:
            rejected[i] = [x for x in rows[i].issues if x.severity == "error"]
    issues = file_issues + [x for r in rows for x in r.issues]
    return Validated(valid, valid_rows, rejected, issues, crs)

