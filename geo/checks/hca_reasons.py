"""The reasons of the GB 32167-2015 Table 1 rows, as :mod:`geo.checks.hca` writes them into HCA segments."""

from __future__ import annotations

from geo.checks.ruleset import RuleSet

__all__ = ["criterion_reasons"]


def criterion_reasons(oil: bool, rules: RuleSet, r: float) -> dict[str, str]:
    """Return the Chinese reason of each GB 32167-2015 Table 1 row (``"a"`` … ``"f"``), thresholds filled in.

    Parameters
    ----------
    oil : bool
        The oil table (crude, products, LPG) rather than the gas table.
    rules : RuleSet
        ``LOC_CLASS`` and ``HCA_OIL`` or ``HCA_GAS`` params.
    r : float
        Potential impact radius (m) of a gas line (rows c and d).

    Returns
    -------
    dict of str to str
    """
    lp = rules["LOC_CLASS"].params
    if oil:
        p = rules["HCA_OIL"].params
        c, near = f"{float(p['corridor_m']):g}", f"{float(p['near_m']):g}"
        roads = "、".join(p.get("road_subkinds", []))
        return {"a": f"两侧各{c}m内四层及以上楼房集中(四级地区)",
                "b": f"2km单元两侧各{c}m内户数≥{float(lp['class_3_min_households']):g}(三级地区)",
                "c": f"两侧各{c}m内有{float(p['village_min_households']):g}户以上的村庄、乡镇",
                "d": f"两侧各{near}m内有{roads}、铁路或易燃易爆场所",
                "e": f"两侧各{c}m内有自然保护区等",
                "f": f"两侧各{c}m内有水源、河流、大中型水库"}
    p = rules["HCA_GAS"].params
    big = f"D>{float(p['large_d_mm']):g}mm且MAOP>{float(p['large_p_mpa']):g}MPa"
    small = f"D<{float(p['small_d_mm']):g}mm且MAOP<{float(p['small_p_mpa']):g}MPa"
    return {"a": "管道经过四级地区", "b": "管道经过三级地区",
            "c": f"{big}，潜在影响半径{r:.0f}m内有特定场所",
            "d": f"{small}，潜在影响半径{r:.0f}m内有特定场所",
            "e": f"其他管道两侧各{float(p['other_m']):g}m内有特定场所",
            "f": f"三、四级地区以外，两侧各{float(p['flammable_m']):g}m内有加油站等易燃易爆场所"}
