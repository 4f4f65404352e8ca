"""Checks and conversions of one cell value: numbers with units, dates, choices, codes, text."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import String

from geo.cells import FORMULA_PREFIXES, starts_like_formula
from geo.credit_code import credit_code_problem
from geo.layer_specs import FieldSpec, LayerSpec
from geo.models import LAYER_MODELS
from geo.substances import parse_substances
from geo.validate.issues import RowIssues

_UNIT_FACTORS = {"m": {"m": 1.0, "米": 1.0, "km": 1000.0, "公里": 1000.0, "千米": 1000.0},
                 "mm": {"mm": 1.0, "毫米": 1.0}, "MPa": {"mpa": 1.0, "兆帕": 1.0, "kpa": 0.001},
                 "万m³": {"万m³": 1.0, "万m3": 1.0, "万立方米": 1.0}}


def is_blank(value: object) -> bool:
    """Whether a cell counts as empty: None, NaN, NaT, NA or white space only.

    Parameters
    ----------
    value : object
        A cell as read.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_blank("  "), is_blank(float("nan")), is_blank(0)
    (True, True, False)
    """
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, str) and not value.strip()


def field_header(spec: FieldSpec) -> str:
    """Return the label of a field in issues: its Chinese name and its column name, e.g. ``名称(name)``."""
    return f"{spec.zh}({spec.name})"


def _to_number(value: object, fs: FieldSpec, row: RowIssues) -> float | None:
    if isinstance(value, bool):
        row.error(field_header(fs), f"应为数值，实为“{value}”", f"expected a number, got {value!r}")
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value).strip().replace(",", "").replace("，", "")
    match = re.fullmatch(r"([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*(\S*)", text)
    if not match:
        unit = f"(单位 {fs.unit})" if fs.unit else ""
        row.error(field_header(fs), f"应为数值{unit}，实为“{text}”",
                  f"expected a number{' in ' + fs.unit if fs.unit else ''}, got {text!r}")
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit:
        factors = _UNIT_FACTORS.get(fs.unit or "", {})
        factor = factors.get(unit.lower(), factors.get(unit))
        if factor is None:
            row.error(field_header(fs), f"单位“{unit}”不可识别，应为 {fs.unit or '无单位'}",
                      f"unit {unit!r} not accepted; expected {fs.unit or 'a plain number'}")
            return None
        number *= factor
    return number


def convert_value(value: object, fs: FieldSpec, row: RowIssues) -> Any:
    """Convert a non-blank cell to the type of its field, or record why it cannot be.

    Parameters
    ----------
    value : object
        A non-blank cell as read.
    fs : FieldSpec
        The field.
    row : RowIssues
        Receives an error when the value cannot be converted.

    Returns
    -------
    Any
        The typed value (str, int, float, date, enum code, bool, credit code, adcode), or None
        after an error.
    """
    if fs.type in ("str",):
        return str(value).strip()
    if fs.type in ("int", "float"):
        number = _to_number(value, fs, row)
        if number is None:
            return None
        if not math.isfinite(number):
            row.error(field_header(fs), "数值无效", "not a finite number")
            return None
        if (fs.minimum is not None and number < fs.minimum) or (fs.maximum is not None and number > fs.maximum):
            rng = f"[{fs.minimum}, {fs.maximum}] {fs.unit or ''}".strip()
            row.error(field_header(fs), f"数值 {number:g} 超出范围 {rng}", f"value {number:g} outside {rng}")
            return None
        if fs.type == "int":
            if number != int(number):
                row.error(field_header(fs), f"应为整数，实为 {number:g}", f"expected an integer, got {number:g}")
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
            row.error(field_header(fs), f"统一社会信用代码“{code}”无效：{zh}", f"invalid credit code {code!r}: {en}")
            return None
        return code
    if fs.type == "adcode":
        text = str(value).strip()
        if text.endswith(".0"):
            text = text[:-2]
        if not re.fullmatch(r"[0-9]{6}", text):
            row.error(field_header(fs), f"行政区划代码应为6位数字，实为“{text}”",
                      f"district code must be 6 digits, got {text!r}")
            return None
        return text
    raise AssertionError(fs.type)  # pragma: no cover - exhaustive over FieldType


def _to_date(value: object, fs: FieldSpec, row: RowIssues) -> dt.date | None:
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
    row.error(field_header(fs), f"日期格式应为 YYYY-MM-DD，实为“{text}”", f"date must be YYYY-MM-DD, got {text!r}")
    return None


def _to_choice(value: object, fs: FieldSpec, row: RowIssues) -> Any:
    assert fs.choices is not None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    for code, labels in fs.choices.items():
        if text == code or text in labels or text.lower() in (code.lower(), *(lb.lower() for lb in labels)):
            return code == "true" if fs.type == "bool" else code
    allowed = "、".join(labels[0] for labels in fs.choices.values())
    row.error(field_header(fs), f"取值“{text}”不在允许值内：{allowed}",
              f"value {text!r} not allowed; use one of {', '.join(fs.choices)} or {allowed}")
    return None


#: Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069): they reorder what a reader sees.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: Zero-width characters (U+200B–U+200D, U+FEFF): two keys that look the same would differ.
_ZERO_WIDTH = re.compile("[\u200b-\u200d\ufeff]")
#: C0 and C1 control characters, CR, LF and tab included.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: Any character :func:`check_text` looks for (the three classes above).
_SUSPECT = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200d\ufeff\x00-\x1f\x7f-\x9f]")


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


def check_text(text: str, fs: FieldSpec, spec: LayerSpec, row: RowIssues) -> None:
    """Formula-like, control and invisible characters in a text value.

    Keys, codes and names are refused when they hold any of them (such a key could be made to look like
    another, or run as a formula in a spreadsheet). Free text (addresses, notes, …) is refused only for
    bidirectional overrides; a formula-like start, control or zero-width characters there are kept as text
    with a warning (every export writes such values as text). ``text`` is the value with its surrounding
    white space stripped, as it would be stored.
    """
    header = field_header(fs)
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


def _check_substances(value: Any, fs: FieldSpec, row: RowIssues) -> None:
    """Every entry of a unit's inventory must parse (:mod:`geo.substances`); entries it cannot count warn."""
    for problem in parse_substances(str(value)).problems:
        report = row.error if problem.severity == "error" else row.warn
        report(field_header(fs), problem.zh, problem.en)


#: Checks of a field's content beyond its type, by (layer, field).
FIELD_CHECKS: dict[tuple[str, str], Callable[[Any, FieldSpec, RowIssues], None]] = {
    ("installations", "substances"): _check_substances,
}


def text_limits(spec: LayerSpec) -> dict[str, int]:
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


#: Types whose equal values always give the same outcome (shared between the cells of a column).
_SHARED = (str, int, bool)
#: One problem of a cell before it is given its row: severity, field label, Chinese, English.
CellIssue = tuple[str, str, str, str]


def check_cell(value: object, fs: FieldSpec, spec: LayerSpec, limit: int | None) -> tuple[Any, list[CellIssue]]:
    """Convert one cell and check it (blank, type, text, length, content); return the value and its problems.

    The outcome depends on the value and the field only, so equal cells of a column share it.

    Parameters
    ----------
    value : object
        The cell as read.
    fs : FieldSpec
        Its field.
    spec : LayerSpec
        The layer.
    limit : int or None
        Maximum text length of the field (:func:`text_limits`).

    Returns
    -------
    value : Any
        The typed value, or None when blank or refused.
    problems : list of CellIssue
        In the order they are reported.
    """
    row = RowIssues("", "")
    converted: Any = None
    if is_blank(value):
        if fs.required:
            row.error(field_header(fs), "必填项为空", "required value is empty")
    else:
        converted = convert_value(value, fs, row)
        if fs.type == "str" and converted is not None and (converted.startswith(FORMULA_PREFIXES)
                                                           or _SUSPECT.search(converted)):
            check_text(converted, fs, spec, row)  # (text with none of these raises nothing there)
        if limit is not None and isinstance(converted, str) and len(converted) > limit:
            row.error(field_header(fs), f"文本过长：{len(converted)} 个字符，最多 {limit} 个",
                      f"text too long: {len(converted)} characters, at most {limit}")
        content_check = FIELD_CHECKS.get((spec.name, fs.name))
        if content_check is not None and converted is not None:
            content_check(converted, fs, row)
    return converted, [(i.severity, i.field, i.zh, i.en) for i in row.issues]


def check_column(values: list[Any], fs: FieldSpec, spec: LayerSpec, limit: int | None,
                 ) -> tuple[list[Any], dict[int, list[CellIssue]]]:
    """Run :func:`check_cell` over a column, once per distinct value.

    Parameters
    ----------
    values : list
        The column's cells, in row order.
    fs : FieldSpec
        Its field.
    spec : LayerSpec
        The layer.
    limit : int or None
        Maximum text length of the field.

    Returns
    -------
    values : list
        The typed values, in row order.
    problems : dict of int to list of CellIssue
        The problems of the rows that have any, by row position.
    """
    if fs.type == "str" and (spec.name, fs.name) not in FIELD_CHECKS:
        return _text_column(values, fs, spec, limit)
    out: list[Any] = [None] * len(values)
    problems: dict[int, list[CellIssue]] = {}
    blank = check_cell(None, fs, spec, limit)
    memo: dict[tuple[type, Any, float], tuple[Any, list[CellIssue]]] = {}
    for i, value in enumerate(values):
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
            found = blank
        elif type(value) in _SHARED or type(value) is float:
            key = (type(value), value, math.copysign(1.0, value) if type(value) is float else 0)  # -0.0 apart
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = check_cell(value, fs, spec, limit)
            found = hit
        else:  # time stamps (equal instants in other zones have other dates) and the rest: on their own
            found = check_cell(value, fs, spec, limit)
        out[i] = found[0]
        if found[1]:
            problems[i] = found[1]
    return out, problems


def _text_column(values: list[Any], fs: FieldSpec, spec: LayerSpec, limit: int | None,
                 ) -> tuple[list[Any], dict[int, list[CellIssue]]]:
    """:func:`check_column` of a text field: plain text that needs no check is kept stripped, the rest checked."""
    out: list[Any] = [None] * len(values)
    problems: dict[int, list[CellIssue]] = {}
    for i, value in enumerate(values):
        if type(value) is str:
            text = value.strip()
            if text and (limit is None or len(text) <= limit) and not text.startswith(FORMULA_PREFIXES) \
                    and not _SUSPECT.search(text):
                out[i] = text  # what check_cell gives such text, with no problem
                continue
        out[i], found = check_cell(value, fs, spec, limit)
        if found:
            problems[i] = found
    return out, problems
