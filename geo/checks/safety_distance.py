"""External safety distance of hazardous-chemical enterprises (GB/T 37243-2019, GB 36894-2018).

Two rules (``geo/rules/checks.yaml``, family ``safety_distance``; standards.md §1–§2 and
Rules-table rows 1–2):

``ESD_DECLARED``
    A protection target whose nearest part lies closer to the enterprise point than the
    enterprise's declared ``external_distance_m``. The distance is a minimum, so a target exactly
    at it is compliant (``inclusive: false``). Enterprises without a declared distance are skipped.
``ESD_IR``
    A protection target intersecting an individual-risk contour of an enterprise whose value is at
    or above the GB 36894 表1 criterion for the target's class and the enterprise's installation
    status (``params.criteria[class][status]``). Only the most severe contour per
    (enterprise, target) is reported. ``required_m`` is how far the criterion contour (the
    outermost contour whose risk is still ≥ the criterion) reaches from the enterprise point along
    the ray towards the target.

Distances are metres in the bundle's Gauss-Krüger zone, compared at millimetre resolution so
that the storage round trip (EPSG:4490 ↔ metric) cannot move a feature that sits exactly on a
threshold across it.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from geo.cell_values import column_values, number_or_none, text_column, text_or_none
from geo.checks.bundle import Bundle
from geo.checks.findings import Bilingual, finding, findings_frame
from geo.checks.metric_frame import to_storage
from geo.checks.ruleset import Rule, RuleSet
from geo.rules import load_table

__all__ = ["check_safety_distances"]

#: Distances are compared after rounding to this many decimals of a metre (1 mm).
_DECIMALS = 3
_SLACK = 10.0 ** -_DECIMALS
#: Relative tolerance when comparing an individual-risk value with its criterion.
_IR_RTOL = 1e-9
_STATUS_ZH = {"new": "新建、改建、扩建装置", "in_service": "在役装置"}
_STATUS_EN = {"new": "new installation", "in_service": "in-service installation"}
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def check_safety_distances(bundle: Bundle, rules: RuleSet) -> gpd.GeoDataFrame:
    """Check protection targets against enterprises' external safety distances and risk contours.

    Parameters
    ----------
    bundle : Bundle
        Needs ``enterprises``, ``protection_targets`` and (for ``ESD_IR``) ``risk_contours``.
    rules : RuleSet
        Supplies ``ESD_DECLARED`` and ``ESD_IR``.

    Returns
    -------
    GeoDataFrame
        Findings (see :mod:`geo.checks.findings`), geometry = shortest line from the enterprise
        point to the target, in EPSG:4490.

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> len(check_safety_distances(Bundle({}), load_ruleset()))
    0
    """
    records = [*_declared(bundle, rules["ESD_DECLARED"]), *_individual_risk(bundle, rules["ESD_IR"])]
    return findings_frame(records)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _sci(value: float) -> str:
    """Format a per-year risk like ``3×10⁻⁶``."""
    mantissa, exponent = f"{value:.1e}".split("e")
    mant = mantissa.removesuffix(".0")
    return f"{mant}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def _class_labels() -> dict[str, str]:
    """Chinese labels of the GB 36894 classes (from ``protection_target_classes.yaml``)."""
    classes = load_table("protection_target_classes").get("classes", {})
    return {code: str(info.get("zh", code)) for code, info in classes.items()}


# ---------------------------------------------------------------------------
# ESD_DECLARED
# ---------------------------------------------------------------------------

def _declared(bundle: Bundle, rule: Rule) -> list[dict[str, Any]]:
    """Targets inside the declared external safety distance of an enterprise."""
    ents = bundle.metric("enterprises")
    targets = bundle.metric("protection_targets")
    if ents.empty or targets.empty or "external_distance_m" not in ents.columns:
        return []
    declared = pd.to_numeric(ents["external_distance_m"], errors="coerce")
    keep = declared.notna() & (declared > 0) & ents.geometry.notna().to_numpy()
    ents = ents[keep.to_numpy()]
    declared = declared[keep]
    if ents.empty:
        return []
    ent_geoms = ents.geometry.to_numpy()
    dist_arr = declared.to_numpy(dtype=float)
    ei, ti = targets.sindex.query(ent_geoms, predicate="dwithin", distance=dist_arr + _SLACK)
    if len(ei) == 0:
        return []
    tgt_geoms = targets.geometry.to_numpy()
    d = shapely.distance(ent_geoms[ei], tgt_geoms[ti])  # unrounded: round only for display
    hit = np.array([rule.hit(float(x), float(lim)) for x, lim in zip(d, dist_arr[ei], strict=True)], dtype=bool)
    ei, ti, d = ei[hit], ti[hit], d[hit]
    lines = to_storage(list(shapely.shortest_line(ent_geoms[ei], tgt_geoms[ti])), bundle.metric_epsg)
    # cells read once per layer (a row lookup per finding costs more than the search)
    e_key, e_name = column_values(ents, "key"), text_column(ents, "name")
    t_key, t_name, t_code = column_values(targets, "key"), text_column(targets, "name"), text_column(targets, "adcode")
    out: list[dict[str, Any]] = []
    for e, t, dist, line in zip(ei.tolist(), ti.tolist(), d, lines, strict=True):
        ext = float(dist_arr[e])
        out.append(finding(
            rule, subject_type="enterprises", subject_key=str(e_key[e]), subject_name=e_name[e],
            object_type="protection_targets", object_key=str(t_key[t]), object_name=t_name[t],
            measured_m=float(dist), required_m=ext, verdict="violation", adcode=t_code[t],
            geometry=line,
            detail=Bilingual(f"防护目标距企业{dist:.1f}米，小于企业申报的外部安全防护距离{ext:g}米",
                             f"target {dist:.1f} m from the enterprise, inside its declared external safety"
                             f" distance of {ext:g} m"),
        ))
    return out


# ---------------------------------------------------------------------------
# ESD_IR
# ---------------------------------------------------------------------------

def _criterion(criteria: dict[str, Any], cls: str | None, status: str | None) -> float | None:
    """GB 36894 表1 criterion for a target class and installation status, if defined."""
    if cls is None or status is None:
        return None
    row = criteria.get(cls)
    if not isinstance(row, dict) or status not in row:
        return None
    return number_or_none(row[status])


def _reach_along_ray(origin: Point, towards: Point, contour: BaseGeometry) -> float:
    """Distance from ``origin`` to the farthest crossing of ``contour``'s boundary on the ray to ``towards``.

    Falls back to the largest distance of the boundary from ``origin`` when the ray misses
    the boundary or has no direction (target at the origin).
    """
    boundary = contour.boundary
    coords = shapely.get_coordinates(boundary)
    if len(coords) == 0:
        return 0.0
    far = float(np.hypot(coords[:, 0] - origin.x, coords[:, 1] - origin.y).max())
    dx, dy = towards.x - origin.x, towards.y - origin.y
    norm = math.hypot(dx, dy)
    if norm < 1e-9:
        return far
    length = far * 1.01 + 1.0
    ray = LineString([(origin.x, origin.y), (origin.x + dx / norm * length, origin.y + dy / norm * length)])
    crossing = shapely.get_coordinates(ray.intersection(boundary))
    if len(crossing) == 0:
        return far
    return float(np.hypot(crossing[:, 0] - origin.x, crossing[:, 1] - origin.y).max())


def _individual_risk(bundle: Bundle, rule: Rule) -> list[dict[str, Any]]:
    """Targets inside a contour whose individual risk reaches their GB 36894 criterion."""
    contours = bundle.metric("risk_contours")
    ents = bundle.metric("enterprises")
    targets = bundle.metric("protection_targets")
    if contours.empty or ents.empty or targets.empty:
        return []
    criteria: dict[str, Any] = rule.params.get("criteria", {})
    ent_by_key = {str(k): i for i, k in enumerate(ents["key"])}
    contours = contours[contours.geometry.notna().to_numpy()]
    ci, ti = targets.sindex.query(contours.geometry.to_numpy(), predicate="intersects")
    if len(ci) == 0:
        return []
    # Most severe contour per (enterprise, target): highest individual risk at/above the criterion.
    worst: dict[tuple[int, int], tuple[float, float]] = {}
    # cells read once per layer (a row lookup per pair costs more than the search)
    c_ent, c_risk = column_values(contours, "enterprise_key"), column_values(contours, "individual_risk")
    t_class, e_status = column_values(targets, "gb36894_class"), column_values(ents, "installation_status")
    for c, t in zip(ci.tolist(), ti.tolist(), strict=True):
        e = ent_by_key.get(str(c_ent[c]))
        ir = number_or_none(c_risk[c])
        if e is None or ir is None:
            continue  # contour of an enterprise outside the bundle: its status is unknown
        crit = _criterion(criteria, text_or_none(t_class[t]), text_or_none(e_status[e]))
        if crit is None or ir < crit * (1 - _IR_RTOL):
            continue
        key = (e, int(t))
        if key not in worst or ir > worst[key][0]:
            worst[key] = (ir, crit)
    if not worst:
        return []
    labels = _class_labels()
    keys = sorted(worst)
    ent_geoms = ents.geometry.to_numpy()[[e for e, _ in keys]]
    tgt_geoms = targets.geometry.to_numpy()[[t for _, t in keys]]
    lines = list(shapely.shortest_line(ent_geoms, tgt_geoms))
    dists = shapely.distance(ent_geoms, tgt_geoms)
    storage_lines = to_storage(lines, bundle.metric_epsg)
    ent_contours = contours.groupby(contours["enterprise_key"].astype(str)).indices
    risk_all = pd.to_numeric(contours["individual_risk"], errors="coerce").to_numpy(dtype=float)
    contour_geoms = contours.geometry.to_numpy()
    ent_all, tgt_all = ents.geometry.to_numpy(), targets.geometry.to_numpy()
    e_key, e_name = column_values(ents, "key"), text_column(ents, "name")
    t_key, t_name, t_code = column_values(targets, "key"), text_column(targets, "name"), text_column(targets, "adcode")
    out: list[dict[str, Any]] = []
    for (e, t), line, dist, shown in zip(keys, lines, dists, storage_lines, strict=True):
        ir, crit = worst[(e, t)]
        # The criterion contour: the outermost (lowest-risk) contour still at/above the criterion.
        own = ent_contours[str(e_key[e])]
        eligible = own[risk_all[own] >= crit * (1 - _IR_RTOL)]
        binding = contour_geoms[eligible[int(np.argmin(risk_all[eligible]))]]
        origin = ent_all[e]
        towards = Point(line.coords[-1])
        if towards.equals(origin):
            towards = tgt_all[t].centroid
        reach = round(_reach_along_ray(origin, towards, binding), _DECIMALS)
        cls = str(t_class[t])
        status = str(e_status[e])
        out.append(finding(
            rule, subject_type="enterprises", subject_key=str(e_key[e]), subject_name=e_name[e],
            object_type="protection_targets", object_key=str(t_key[t]), object_name=t_name[t],
            measured_m=float(dist), required_m=reach, verdict="violation", adcode=t_code[t],
            geometry=shown,
            detail=Bilingual(f"个人风险{_sci(ir)}/年 ≥ 基准{_sci(crit)}/年（{labels.get(cls, cls)}，"
                             f"{_STATUS_ZH.get(status, status)}）；基准等值线沿该方向距企业{reach:.1f}米",
                             f"individual risk {ir:.1e}/yr ≥ criterion {crit:.1e}/yr (class {cls},"
                             f" {_STATUS_EN.get(status, status)}); the criterion contour reaches {reach:.1f} m"
                             " from the enterprise in this direction"),
        ))
    return out
