"""Tell missing values (None, NaN/NA, blank text) from present ones in mixed-type table cells.

The reading lives in :mod:`geo.cell_values` (the check families use it too); this module keeps
the names the layers import.
"""

from __future__ import annotations

from geo.cell_values import number_or_none, present, text_or_none

__all__ = ["number_or_none", "present", "text_or_none"]
