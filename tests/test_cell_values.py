"""One reading of table cells for every module (geo.cell_values; layers.values re-exports it)."""

from __future__ import annotations

import decimal
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from geo import cell_values
from geo.cell_values import column_values, number_column, number_or_none, present, text_column, text_or_none
from layers import values

MISSING: list[Any] = [None, float("nan"), np.nan, pd.NA, pd.NaT, "", " ", "  ", "\t\n", "\u3000"]


@pytest.mark.parametrize("cell", MISSING)
def test_missing_cells_are_none_as_text_and_as_number(cell: Any) -> None:
    assert not present(cell)
    assert text_or_none(cell) is None
    assert number_or_none(cell) is None


@pytest.mark.parametrize(("cell", "text"), [
    ("安宁市", "安宁市"), ("  安宁市 ", "安宁市"), ("昆明 安宁", "昆明 安宁"), (12, "12"), (1.5, "1.5"),
    (0, "0"), ("0", "0"), (False, "False"), ("inf", "inf"),
])
def test_present_cells_are_stripped_text(cell: Any, text: str) -> None:
    assert present(cell)
    assert text_or_none(cell) == text


@pytest.mark.parametrize(("cell", "number"), [
    (12, 12.0), (-3, -3.0), (0, 0.0), (1.5, 1.5), (np.int64(7), 7.0), (np.float32(0.5), 0.5),
    (decimal.Decimal("2.25"), 2.25), ("12", 12.0), (" 12 ", 12.0), ("1e3", 1000.0), ("-0.5", -0.5),
    ("3.0e-6", 3e-6),
])
def test_numbers_and_numeric_text_are_finite_floats(cell: Any, number: float) -> None:
    got = number_or_none(cell)
    assert isinstance(got, float) and got == number


@pytest.mark.parametrize("cell", [
    float("inf"), -math.inf, "inf", "-inf", "Infinity", "nan", "NaN", 1e400, True, False, np.bool_(True),
    "12 m", "十二", "高层", "1,200", [1], {"a": 1}, object(),
])
def test_infinite_boolean_and_other_cells_are_not_numbers(cell: Any) -> None:
    assert number_or_none(cell) is None


def test_columns_read_every_row_and_absent_columns_are_all_none() -> None:
    frame = pd.DataFrame({"name": [" 安宁 ", "", None, 5], "floors": [3, "4", "高层", float("inf")]})
    assert text_column(frame, "name") == ["安宁", None, None, "5"]
    assert number_column(frame, "floors") == [3.0, 4.0, None, None]
    assert column_values(frame, "name")[0] == " 安宁 "
    assert text_column(frame, "absent") == number_column(frame, "absent") == [None] * 4


def test_layers_values_is_the_same_reading() -> None:
    assert values.present is cell_values.present
    assert values.text_or_none is cell_values.text_or_none
    assert values.number_or_none is cell_values.number_or_none


def test_check_modules_keep_no_cell_readers_of_their_own() -> None:
    from pathlib import Path

    checks = Path(cell_values.__file__).parent / "checks"
    for path in checks.glob("**/*.py"):
        text = path.read_text(encoding="utf-8")
        for name in ("def _text(", "def _number(", "def _to_storage(", "def _to_4490(", "\n_PIECE_VERTICES"):
            assert name not in text, f"{path.name} defines {name}"
