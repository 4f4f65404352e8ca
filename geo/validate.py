"""Validate a :class:`~geo.readers.RawTable` against its layer spec before anything is written.

Every problem becomes an :class:`Issue` naming file, row and field, in Chinese
with English. Valid rows come back as typed records in CGCS2000; invalid rows
are listed so the importer can refuse the file or write them to a reject file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import String

from geo.cells import starts_like_formula
from geo.constants import STORAGE_SRID
from geo.credit_code import credit_code_problem
from geo.crs import SourceCRS, geodesic_length, gk_zone_epsg, undo_offset
from geo.layer_specs import FieldSpec, LayerSpec
from geo.models import LAYER_MODELS
from geo.readers import RawTable
from geo.rules import protection_target_class, tailings_design_grade
from geo.substances import parse_substances

#: Half-width of the corridor stored with an HCA segment (GB 32167-2015 Table 1: 200 m each side).
HCA_CORRIDOR_M = 200.0
#: Rough extent of China including the South China Sea islands (lon/lat).
CHINA_BOUNDS = (73.0, 3.3, 135.2, 53.6)
_GEOM_TYPES = {
    "point": ("Point",),
    "line": ("LineString", "MultiLineString"),
    "polygon": ("Polygon", "MultiPolygon"),
    "any": ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"),
}
#: Row label of file-level issues found in the header (missing or unknown columns).
HEADER_ROW = "表头 / header"
#: Row label of file-level issues about the file as a whole (e.g. a layer the account may not change).
FILE_ROW = "整个文件 / whole file"
#: Row labels of issues that concern the whole file: such an error refuses the file even with skip_invalid.
FILE_LEVEL_ROWS = (HEADER_ROW, FILE_ROW)
#: Field label of issues about a row's geometry.
GEOMETRY_FIELD = "几何(geometry)"
_UNIT_FACTORS = {"m": {"m": 1.0, "米": 1.0, "km": 1000.0, "公里": 1000.0, "千米": 1000.0},
                 "mm": {"mm": 1.0, "毫米": 1.0}, "MPa": {"mpa": 1.0, "兆帕": 1.0, "kpa": 0.001},
                 "万m³": {"万m³": 1.0, "万m3": 1.0, "万立方米": 1.0}}


@dataclass(frozen=True)
class Issue:
    """One problem found in an import file."""

    file: str
    row: str
    field: str
    zh: str
    en: str
    severity: Literal["error", "warning"] = "error"

    def text(self, lang: str = "zh") -> str:
        """Format as one line in ``lang`` ("zh", "en" or "both")."""
        msg = {"zh": self.zh, "en": self.en}.get(lang, f"{self.zh} / {self.en}")
        tag = {"error": "错误", "warning": "提示"}[self.severity] if lang != "en" else self.severity
        return f"{self.file}: {self.row}: {self.field}: {tag}: {msg}"


@dataclass
class Validated:
    """Result of validating one file."""

    records: list[dict[str, Any]]
    record_rows: list[int]
    rejected_rows: dict[int, list[Issue]]
    issues: list[Issue] = field(default_factory=list)
    source_crs: SourceCRS | None = None

    @property
    def errors(self) -> list[Issue]:
        """Issues that block a row."""
        return [i for i in self.issues if i.severity == "error"]


class _Row:
    """Collects issues for one row."""

    def __init__(self, file: str, label: str) -> None:
        self.file, self.label = file, label
        self.issues: list[Issue] = []

    def error(self, fld: str, zh: str, en: str) -> None:
        self.issues.append(Issue(self.file, self.label, fld, zh, en))

    def warn(self, fld: str, zh: str, en: str) -> None:
        self.issues.append(Issue(self.file, self.label, fld, zh, en, "warning"))

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, str) and not value.strip()


def _header(spec: FieldSpec) -> str:
    return f"{spec.zh}({spec.name})"


def _to_number(value: object, fs: FieldSpec, row: _Row) -> float | None:
    if isinstance(value, bool):
        row.error(_header(fs), f"应为数值，实为“{value}”", f"expected a number, got {value!r}")
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value).strip().replace(",", "").replace("，", "")
    match = re.fullmatch(r"([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*(\S*)", text)
    if not match:
        unit = f"(单位 {fs.unit})" if fs.unit else ""
        row.error(_header(fs), f"应为数值{unit}，实为“{text}”",
                  f"expected a number{' in ' + fs.unit if fs.unit else ''}, got {text!r}")
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit:
        factors = _UNIT_FACTORS.get(fs.unit or "", {})
        factor = factors.get(unit.lower(), factors.get(unit))
        if factor is None:
            row.error(_header(fs), f"单位“{unit}”不可识别，应为 {fs.unit or '无单位'}",
                      f"unit {unit!r} not accepted; expected {fs.unit or 'a plain number'}")
            return None
        number *= factor
    return number


def _convert(value: object, fs: FieldSpec, row: _Row) -> Any:
    if fs.type in ("str",):
        return str(value).strip()
    if fs.type in ("int", "float"):
        number = _to_number(value, fs, row)
        if number is None:
            return None
        if not math.isfinite(number):
            row.error(_header(fs), "数值无效", "not a finite number")
            return None
        if (fs.minimum is not None and number < fs.minimum) or (fs.maximum is not None and number > fs.maximum):
            rng = f"[{fs.minimum}, {fs.maximum}] {fs.unit or ''}".strip()
            row.error(_header(fs), f"数值 {number:g} 超出范围 {rng}", f"value {number:g} outside {rng}")
            return None
        if fs.type == "int":
            if number != int(number):
                row.error(_header(fs), f"应为整数，实为 {number:g}", f"expected an integer, got {number:g}")
                return None
            return int(number)
        return number
    if fs.type == "date":
        return _to_date(value, fs, row)
    if fs.type in ("enum", "bool"):
        return _to_choice(value, fs, row)
    if fs.type == "credit_code":
        code = str(value).strip().upper().replace(" ", "")
        problem = credit_code_problem(code)
        if problem:
            zh, _, en = problem.partition(" / ")
            row.error(_header(fs), f"统一社会信用代码“{code}”无效：{zh}", f"invalid credit code {code!r}: {en}")
            return None
        return code
    if fs.type == "adcode":
        text = str(value).strip()
        if text.endswith(".0"):
            text = text[:-2]
        if not re.fullmatch(r"[0-9]{6}", text):
            row.error(_header(fs), f"行政区划代码应为6位数字，实为“{text}”",
                      f"district code must be 6 digits, got {text!r}")
            return None
        return text
    raise AssertionError(fs.type)  # pragma: no cover - exhaustive over FieldType


def _to_date(value: object, fs: FieldSpec, row: _Row) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    row.error(_header(fs), f"日期格式应为 YYYY-MM-DD，实为“{text}”", f"date must be YYYY-MM-DD, got {text!r}")
    return None


def _to_choice(value: object, fs: FieldSpec, row: _Row) -> Any:
    assert fs.choices is not None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    for code, labels in fs.choices.items():
        if text == code or text in labels or text.lower() in (code.lower(), *(lb.lower() for lb in labels)):
            return code == "true" if fs.type == "bool" else code
    allowed = "、".join(labels[0] for labels in fs.choices.values())
    row.error(_header(fs), f"取值“{text}”不在允许值内：{allowed}",
              f"value {text!r} not allowed; use one of {', '.join(fs.choices)} or {allowed}")
    return None


def _geom_problem(geom: Any, spec: LayerSpec) -> tuple[str, str] | None:
    if geom is None or not isinstance(geom, shapely.Geometry):
        return ("缺少几何或坐标", "geometry or coordinates missing")
    if geom.is_empty:
        return ("几何为空", "geometry is empty")
    allowed = spec.geometry_types or _GEOM_TYPES[spec.geometry]
    if geom.geom_type not in allowed:
        return (f"几何类型应为 {'/'.join(allowed)}，实为 {geom.geom_type}",
                f"geometry must be {'/'.join(allowed)}, got {geom.geom_type}")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        return ("坐标含无效数值", "coordinates contain NaN or infinity")
    return None


def repair_geometry(geom: shapely.Geometry) -> tuple[shapely.Geometry | None, str]:
    """Repair an invalid geometry only when the repair is unambiguous.

    Two independent repairs (``make_valid`` and a zero-width buffer) must agree
    and keep the geometry's dimension and area; otherwise the geometry is refused.

    Parameters
    ----------
    geom : shapely.Geometry
        An invalid geometry.

    Returns
    -------
    repaired : shapely.Geometry or None
        The repaired geometry, or None when no unambiguous repair exists.
    reason : str
        GEOS's explanation of the invalidity.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    >>> repair_geometry(bowtie)[0] is None
    True
    """
    reason = shapely.is_valid_reason(geom)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        fixed = shapely.make_valid(geom)
        same = fixed.geom_type == geom.geom_type and shapely.equals(fixed, geom)
        return (fixed if same else None), reason
    a = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    b = geom.buffer(0)
    if a.is_empty or b.is_empty or a.geom_type not in ("Polygon", "MultiPolygon"):
        return None, reason
    tol = max(a.area, b.area) * 1e-9
    if a.symmetric_difference(b).area > tol:
        return None, reason
    return shapely.normalize(a), reason


def _to_storage(geoms: np.ndarray, crs: SourceCRS) -> np.ndarray:
    if crs.offset:
        return undo_offset(geoms, crs.offset)
    if crs.epsg in (4326, STORAGE_SRID):
        return geoms  # WGS84 and CGCS2000 differ by centimetres to decimetres (standards.md §10.1)
    out = gpd.GeoSeries(geoms, crs=crs.epsg).to_crs(STORAGE_SRID)
    return np.asarray(out.array, dtype=object)


def _looks_geographic(coords: np.ndarray) -> bool:
    return bool(len(coords)) and bool((np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all())


def _resolve_crs(raw: RawTable, user: SourceCRS | None) -> SourceCRS:
    if user is None and raw.declared_crs:
        raise ValueError(
            f"{raw.path}: 文件坐标系 {raw.declared_crs} 不受支持，请转换为 CGCS2000/WGS84 经纬度或高斯-克吕格投影，"
            f"或用 --crs 指定 / unsupported CRS {raw.declared_crs}: use EPSG:{STORAGE_SRID}, EPSG:4326 or "
            "EPSG:4491–4554, or pass --crs"
        )
    crs = user or raw.file_crs
    valid = [g for g in raw.geometry if isinstance(g, shapely.Geometry) and not g.is_empty]
    coords = shapely.get_coordinates(np.asarray(valid, dtype=object)) if valid else np.empty((0, 2))
    if crs is None:
        if raw.frame is not None and _looks_geographic(coords):
            return SourceCRS(epsg=4326)
        raise ValueError(
            f"{raw.path}: 文件未声明坐标系且坐标不是经纬度，请用 --crs 指定(如 EPSG:4543) / "
            "no CRS declared and coordinates are not lon/lat; pass --crs (e.g. EPSG:4543)"
        )
    geographic = crs.offset is not None or crs.epsg in (4326, STORAGE_SRID)
    if geographic and len(coords) and not _looks_geographic(coords):
        raise ValueError(
            f"{raw.path}: 坐标像是投影坐标(米)而不是经纬度，请用 --crs 指定高斯-克吕格投影带 / "
            f"coordinates look projected (metres), not {crs.label} lon/lat; pass --crs EPSG:45xx"
        )
    if not geographic and len(coords) and _looks_geographic(coords):
        raise ValueError(
            f"{raw.path}: 声明为 {crs.label} 但坐标像是经纬度 / declared {crs.label} but the "
            f"coordinates look like lon/lat; pass --crs EPSG:{STORAGE_SRID} or EPSG:4326"
        )
    return crs


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
    crs = _resolve_crs(raw, source_crs)
    n = len(raw.frame)
    rows = [_Row(file, raw.row_labels[i]) for i in range(n)]
    file_issues: list[Issue] = []
    columns = set(raw.frame.columns)
    missing = [f for f in spec.fields if f.required and f.name not in columns]
    if missing:
        for f in missing:
            file_issues.append(Issue(file, HEADER_ROW, _header(f),
                                     f"缺少必填列“{f.zh}”", f"required column {f.en!r} ({f.name}) is missing"))
        return Validated([], [], {}, file_issues, crs)
    for col in raw.unknown_columns:
        file_issues.append(Issue(file, HEADER_ROW, str(col), "无法识别的列，已忽略",
                                 "unrecognised column, ignored", "warning"))

    records: list[dict[str, Any]] = [{} for _ in range(n)]
    values = raw.frame.to_dict(orient="records")
    limits = _text_limits(spec)
    for i, src in enumerate(values):
        for fs in spec.fields:
            if fs.name in ("lon", "lat"):
                continue
            value = src.get(fs.name)
            if _blank(value):
                if fs.required:
                    rows[i].error(_header(fs), "必填项为空", "required value is empty")
                records[i][fs.name] = None
                continue
            records[i][fs.name] = _convert(value, fs, rows[i])
            if fs.type == "str" and records[i][fs.name] is not None:
                _check_text(records[i][fs.name], fs, spec, rows[i])
            text, limit = records[i][fs.name], limits.get(fs.name)
            if limit is not None and isinstance(text, str) and len(text) > limit:
                rows[i].error(_header(fs), f"文本过长：{len(text)} 个字符，最多 {limit} 个",
                              f"text too long: {len(text)} characters, at most {limit}")
            content_check = _FIELD_CHECKS.get((spec.name, fs.name))
            if content_check is not None and records[i][fs.name] is not None:
                content_check(records[i][fs.name], fs, rows[i])

    geoms = _check_geometries(raw, spec, rows)
    stored = np.empty(n, dtype=object)
    ok_geom = [i for i in range(n) if geoms[i] is not None]
    if ok_geom:
        stored[ok_geom] = _to_storage(np.asarray([geoms[i] for i in ok_geom], dtype=object), crs)
    _check_location(stored, records, rows, spec, districts, tolerance_m)
    _check_duplicates(records, rows, spec)

    valid, valid_rows, rejected = [], [], {}
    for i in range(n):
        if rows[i].ok:
            rec = {k: v for k, v in records[i].items() if k not in ("lon", "lat")}
            rec["geom"] = stored[i]
            _derive(rec, spec, stored[i], districts)
            valid.append(rec)
            valid_rows.append(i)
        else:
            rejected[i] = [x for x in rows[i].issues if x.severity == "error"]
    issues = file_issues + [x for r in rows for x in r.issues]
    return Validated(valid, valid_rows, rejected, issues, crs)


#: Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069): they reorder what a reader sees.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: Zero-width characters (U+200B–U+200D, U+FEFF): two keys that look the same would differ.
_ZERO_WIDTH = re.compile("[\u200b-\u200d\ufeff]")
#: C0 and C1 control characters, CR, LF and tab included.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def is_identifier(spec: LayerSpec, fs: FieldSpec) -> bool:
    """Whether ``fs`` names or identifies a row (a key, a code, a name), not free text.

    Parameters
    ----------
    spec : LayerSpec
        The layer.
    fs : FieldSpec
        One of its text fields.

    Returns
    -------
    bool
        True for key fields, codes (``code``, ``*_code``, ``*_key``) and names (``name``, ``*_name``).
    """
    name = fs.name
    return (name in spec.key_fields or name in ("code", "name") or name.endswith(("_code", "_key", "_name")))


def _check_text(text: str, fs: FieldSpec, spec: LayerSpec, row: _Row) -> None:
    """Formula-like, control and invisible characters in a text value.

    Keys, codes and names are refused when they hold any of them (such a key could be made to look like
    another, or run as a formula in a spreadsheet). Free text (addresses, notes, …) is refused only for
    bidirectional overrides; a formula-like start, control or zero-width characters there are kept as text
    with a warning (every export writes such values as text). ``text`` is the value with its surrounding
    white space stripped, as it would be stored.
    """
    header = _header(fs)
    ident = is_identifier(spec, fs)
    if starts_like_formula(text):
        zh = f"以“{text[:1]!s}”开头，表格软件会当作公式执行"
        en = f"starts with {text[:1]!r}: a spreadsheet would run it as a formula"
        if ident:
            row.error(header, f"{zh}；编号和名称中不允许", f"{en}; not allowed in keys, codes and names")
        else:
            row.warn(header, f"{zh}；已按文本保存，导出时也写作文本", f"{en}; stored as text and exported as text")
    bidi = sorted({f"U+{ord(c):04X}" for c in _BIDI.findall(text)})
    if bidi:
        row.error(header, f"含双向文字控制符 {'、'.join(bidi)}(可使显示的顺序与实际不同)",
                  f"contains bidirectional control characters {', '.join(bidi)} (they reorder what is shown)")
    invisible = sorted({f"U+{ord(c):04X}" for c in _ZERO_WIDTH.findall(text)})
    control = sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(text)})
    if ident and (invisible or control):
        found = "、".join(invisible + control)
        row.error(header, f"含不可见字符或控制字符(含回车换行) {found}；编号和名称中不允许",
                  f"contains invisible or control characters (incl. CR/LF) {', '.join(invisible + control)}; "
                  "not allowed in keys, codes and names")
    elif invisible:
        row.warn(header, f"含零宽字符 {'、'.join(invisible)}", f"contains zero-width characters {', '.join(invisible)}")


def _check_substances(value: Any, fs: FieldSpec, row: _Row) -> None:
    """Every entry of a unit's inventory must parse (:mod:`geo.substances`); entries it cannot count warn."""
    for problem in parse_substances(str(value)).problems:
        report = row.error if problem.severity == "error" else row.warn
        report(_header(fs), problem.zh, problem.en)


#: Checks of a field's content beyond its type, by (layer, field).
_FIELD_CHECKS: dict[tuple[str, str], Callable[[Any, FieldSpec, _Row], None]] = {
    ("installations", "substances"): _check_substances,
}


def _text_limits(spec: LayerSpec) -> dict[str, int]:
    """Maximum lengths of the free-text fields of ``spec`` (from the table's column types)."""
    model = LAYER_MODELS.get(spec.name)
    if model is None:
        return {}
    columns = model.__table__.columns
    limits: dict[str, int] = {}
    for fs in spec.fields:
        column = columns.get(fs.name)
        if column is None and fs.name in spec.key_fields and len(spec.key_fields) == 1:
            column = columns.get("key")  # stored only as the row key
        if fs.type == "str" and column is not None and isinstance(column.type, String) and column.type.length:
            limits[fs.name] = int(column.type.length)
    return limits


def _check_geometries(raw: RawTable, spec: LayerSpec, rows: list[_Row]) -> list[shapely.Geometry | None]:
    out: list[shapely.Geometry | None] = []
    for i, geom in enumerate(raw.geometry):
        problem = _geom_problem(geom, spec)
        if problem:
            rows[i].error(GEOMETRY_FIELD, *problem)
            out.append(None)
            continue
        if shapely.has_z(geom):
            geom = shapely.force_2d(geom)  # KML and survey files carry altitudes; storage is 2D
        if spec.geometry == "polygon" and geom.geom_type == "Polygon":
            geom = shapely.MultiPolygon([geom])
        if spec.geometry == "line" and geom.geom_type == "LineString":
            geom = shapely.MultiLineString([geom])
        if not geom.is_valid:
            fixed, reason = repair_geometry(geom)
            if fixed is None:
                rows[i].error(GEOMETRY_FIELD, f"几何无效且无法无歧义地修复：{reason}",
                              f"invalid geometry with no unambiguous repair: {reason}")
                out.append(None)
                continue
            if spec.geometry == "polygon" and fixed.geom_type == "Polygon":
                fixed = shapely.MultiPolygon([fixed])
            rows[i].warn(GEOMETRY_FIELD, f"几何无效({reason})，已自动修复(结果唯一)",
                         f"invalid geometry ({reason}) repaired; the repair is unambiguous")
            geom = fixed
        out.append(geom)
    return out


def _check_location(stored: np.ndarray, records: list[dict[str, Any]], rows: list[_Row], spec: LayerSpec,
                    districts: gpd.GeoDataFrame, tolerance_m: float) -> None:
    minx, miny, maxx, maxy = CHINA_BOUNDS
    known = set(districts["adcode"]) if len(districts) else set()
    by_code = districts.set_index("adcode").geometry if len(districts) else None
    for i, geom in enumerate(stored):
        if geom is None:
            continue
        bx0, by0, bx1, by1 = geom.bounds
        if bx0 < minx or bx1 > maxx or by0 < miny or by1 > maxy:
            rows[i].error(GEOMETRY_FIELD, f"位置({bx0:.5f}, {by0:.5f})不在中国境内",
                          f"location ({bx0:.5f}, {by0:.5f}) is outside China")
            continue
        code = records[i].get("adcode")
        if spec.name == "districts" or not code or "adcode" not in {f.name for f in spec.fields}:
            continue
        if code not in known:
            rows[i].error("行政区划代码(adcode)", f"行政区划代码 {code} 不存在(请先导入行政区划)",
                          f"district {code} does not exist (import districts first)")
            continue
        assert by_code is not None
        boundary = by_code[code]
        if geom.intersects(boundary):
            continue
        epsg = gk_zone_epsg(geom.centroid.x)
        pair = gpd.GeoSeries([geom, boundary], crs=STORAGE_SRID).to_crs(epsg)
        dist = float(pair.iloc[0].distance(pair.iloc[1]))
        if dist > tolerance_m:
            name = districts.loc[districts["adcode"] == code, "name"].iloc[0]
            rows[i].error(GEOMETRY_FIELD, f"位于所填区县 {name}({code}) 之外 {dist:.0f} 米(容差 {tolerance_m:g} 米)",
                          f"lies {dist:.0f} m outside its stated district {code} (tolerance {tolerance_m:g} m)")
        else:
            rows[i].warn(GEOMETRY_FIELD, f"位于区县边界外 {dist:.0f} 米，在容差内",
                         f"{dist:.0f} m outside the district boundary, within tolerance")


def record_key(spec: LayerSpec, record: dict[str, Any]) -> str | None:
    """Natural key of a record (None when a key field is missing)."""
    parts = [record.get(f) for f in spec.key_fields]
    if any(p is None for p in parts):
        return None
    return ":".join(f"{p:g}" if isinstance(p, float) else str(p) for p in parts)


def _check_duplicates(records: list[dict[str, Any]], rows: list[_Row], spec: LayerSpec) -> None:
    seen: dict[str, int] = {}
    names = "+".join(spec.field(f).zh for f in spec.key_fields)
    for i, rec in enumerate(records):
        key = record_key(spec, rec)
        if key is None:
            continue
        if key in seen:
            first = rows[seen[key]].label
            rows[i].error(names, f"键值“{key}”重复(与{first}相同)", f"duplicate key {key!r} (same as {first})")
        else:
            seen[key] = i


def _derive(rec: dict[str, Any], spec: LayerSpec, geom: shapely.Geometry, districts: gpd.GeoDataFrame) -> None:
    """Fill derived columns: key, GB 36894 class, tailings grade, pipeline districts and length."""
    if spec.name == "districts" and rec.get("level") is None:
        code = str(rec["adcode"])
        rec["level"] = "province" if code.endswith("0000") else "city" if code.endswith("00") else "county"
    if spec.name != "districts":
        key = record_key(spec, rec)
        rec["key"] = key if key else hashlib.sha1(shapely.to_wkb(geom)).hexdigest()
    if spec.name == "protection_targets":
        rec["gb36894_class"] = protection_target_class(rec["target_type"], rec.get("households"),
                                                       rec.get("population"))
    elif spec.name == "hcas":
        rec["grade"] = int(rec["grade"])
        epsg = gk_zone_epsg(geom.centroid.x)
        corridor = (gpd.GeoSeries([geom], crs=STORAGE_SRID).to_crs(epsg).buffer(HCA_CORRIDOR_M)
                    .to_crs(STORAGE_SRID).iloc[0])
        rec["corridor"] = corridor if corridor.geom_type == "MultiPolygon" else shapely.MultiPolygon([corridor])
    elif spec.name == "tailings_dams":
        rec["design_grade"] = tailings_design_grade(rec["total_storage_10k_m3"], rec["dam_height_m"])
    elif spec.name == "pipelines":
        rec["length_m"] = geodesic_length(geom)  # on the ellipsoid, as every mileage (geo.crs)
        hits = districts[districts.intersects(geom)] if len(districts) else districts
        rec["adcodes"] = sorted(hits["adcode"]) if len(hits) else []
        rec.setdefault("start_mileage_m", None)
        if rec["start_mileage_m"] is None:
            rec["start_mileage_m"] = 0.0
    for name, default in _DEFAULTS.get(spec.name, {}).items():
        if rec.get(name) is None:
            rec[name] = default


#: Values used when an optional column is blank (they match the columns' server defaults).
_DEFAULTS: dict[str, dict[str, Any]] = {
    "enterprises": {"installation_status": "in_service", "has_explosives": False},
    "pipelines": {"laying": "buried"},
    "buildings": {"households": 0, "floors": 1},
}
