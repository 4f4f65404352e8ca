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
from geo.validate.values import FIELD_CHECKS, check_text, convert_value, field_header, is_blank, text_limits

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

    records: list[dict[str, Any]] = [{} for _ in range(n)]
    values = raw.frame.to_dict(orient="records")
    limits = text_limits(spec)
    for i, src in enumerate(values):
        for fs in spec.fields:
            if fs.name in ("lon", "lat"):
                continue
            value = src.get(fs.name)
            if is_blank(value):
                if fs.required:
                    rows[i].error(field_header(fs), "必填项为空", "required value is empty")
                records[i][fs.name] = None
                continue
            records[i][fs.name] = convert_value(value, fs, rows[i])
            if fs.type == "str" and records[i][fs.name] is not None:
                check_text(records[i][fs.name], fs, spec, rows[i])
            text, limit = records[i][fs.name], limits.get(fs.name)
            if limit is not None and isinstance(text, str) and len(text) > limit:
                rows[i].error(field_header(fs), f"文本过长：{len(text)} 个字符，最多 {limit} 个",
                              f"text too long: {len(text)} characters, at most {limit}")
            content_check = FIELD_CHECKS.get((spec.name, fs.name))
            if content_check is not None and records[i][fs.name] is not None:
                content_check(records[i][fs.name], fs, rows[i])

    geoms = check_geometries(raw, spec, rows)
    stored = np.empty(n, dtype=object)
    ok_geom = [i for i in range(n) if geoms[i] is not None]
    if ok_geom:
        stored[ok_geom] = to_storage(np.asarray([geoms[i] for i in ok_geom], dtype=object), crs)
    check_location(stored, records, rows, spec, districts, tolerance_m)
    check_duplicates(records, rows, spec)

    valid, valid_rows, rejected = [], [], {}
    for i in range(n):
        if rows[i].ok:
            rec = {k: v for k, v in records[i].items() if k not in ("lon", "lat")}
            rec["geom"] = stored[i]
            derive_columns(rec, spec, stored[i], districts)
            valid.append(rec)
            valid_rows.append(i)
        else:
            rejected[i] = [x for x in rows[i].issues if x.severity == "error"]
    issues = file_issues + [x for r in rows for x in r.issues]
    return Validated(valid, valid_rows, rejected, issues, crs)

