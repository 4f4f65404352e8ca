"""Rule tables kept as data (YAML beside this file), with loaders and the lookups they drive.

Values marked unconfirmed in standards.md live here, editable without code
changes; each table carries its version, source clause and confidence.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).parent


@cache
def load_table(name: str) -> dict[str, Any]:
    """Load rule table ``name`` (file ``<name>.yaml`` in this folder).

    Parameters
    ----------
    name : str
        Table name without extension.

    Returns
    -------
    dict
        The parsed table; treat as read-only.
    """
    with (RULES_DIR / f"{name}.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict) or "version" not in data or "source" not in data:
        raise ValueError(f"rule table {name}: needs 'version' and 'source'")
    return data


def _present(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def protection_target_class(target_type: str, households: object = None, population: object = None) -> str:
    """Derive the GB 36894 class of a protection target from its type and occupancy.

    Parameters
    ----------
    target_type : str
        Code from :data:`geo.layer_specs.PT_TYPES`.
    households, population : number, optional
        Occupancy; missing values never satisfy a threshold.

    Returns
    -------
    str
        One of high_sensitivity, important, general_1, general_2, general_3.

    Examples
    --------
    >>> protection_target_class("school")
    'high_sensitivity'
    >>> protection_target_class("residential", households=12)
    'general_2'
    >>> protection_target_class("office", population=20)
    'general_3'
    """
    table = load_table("protection_target_classes")
    if target_type in table["by_type"]:
        return str(table["by_type"][target_type])
    tiers = table["general_tiers"].get(target_type, table["general_tiers"]["default"])
    hh, pop = _present(households), _present(population)
    for tier in tiers:
        need_hh, need_pop = tier.get("min_households"), tier.get("min_population")
        if (need_hh is not None and hh is not None and hh >= need_hh) or (
            need_pop is not None and pop is not None and pop >= need_pop
        ):
            return str(tier["class"])
    return str(tiers[-1]["class"])


def _grade_by(value: float, key: str) -> int:
    for row in load_table("tailings_grades")["grades"]:
        if value >= row[key]:
            return int(row["grade"])
    return 5


def tailings_design_grade(storage_10k_m3: float, dam_height_m: float) -> int:
    """Design grade (1 = 一等 … 5 = 五等) from total storage and dam height.

    Grades by storage and by height are combined per GB 50863-2013 3.3.1: if
    they differ by one, take the higher (smaller number); if by more, take the
    higher lowered by one.

    Parameters
    ----------
    storage_10k_m3 : float
        全库容 in 万m³.
    dam_height_m : float
        坝高 in m.

    Returns
    -------
    int

    Examples
    --------
    >>> tailings_design_grade(3000, 70)     # 三等 by both
    3
    >>> tailings_design_grade(3000, 45)     # 三 vs 四: take 三
    3
    >>> tailings_design_grade(12000, 45)    # 二 vs 四: 二 lowered by one
    3
    """
    g_v, g_h = _grade_by(storage_10k_m3, "min_storage_10k_m3"), _grade_by(dam_height_m, "min_height_m")
    best = min(g_v, g_h)
    return best if abs(g_v - g_h) <= 1 else best + 1
