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
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.cell_values import column_values, number_column, number_or_none, text_column, text_or_none
from geo.checks.bundle import Bundle
from geo.checks.findings import Bilingual, finding_columns, findings_from_columns, hits
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
    found = []
    if "ESD_DECLARED" in rules.rules:
        found += _declared(bundle, rules["ESD_DECLARED"])
    if "ESD_IR" in rules.rules:
        found += _individual_risk(bundle, rules["ESD_IR"])
    return findings_from_columns(found)


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


def _target_columns(rule: Rule, ents: gpd.GeoDataFrame, ent_pos: np.ndarray, targets: gpd.GeoDataFrame,
                    target_pos: np.ndarray, **rest: Any) -> dict[str, list[Any]]:
    """Return findings of ``rule``: enterprises (rows ``ent_pos`` of ``ents``) and targets (rows ``target_pos``).

    Cells are read once per column, for the rows found only.
    """
    return finding_columns(
        rule, len(ent_pos), subject_type="enterprises", subject_key=column_values(ents, "key", ent_pos),
        subject_name=text_column(ents, "name", ent_pos), object_type="protection_targets",
        object_key=column_values(targets, "key", target_pos), object_name=text_column(targets, "name", target_pos),
        adcode=text_column(targets, "adcode", target_pos), verdict="violation", **rest)


# ---------------------------------------------------------------------------
# ESD_DECLARED
# ---------------------------------------------------------------------------

def _declared(bundle: Bundle, rule: Rule) -> list[dict[str, list[Any]]]:
    """Targets inside the declared external safety distance of an enterprise."""
    ents = bundle.metric("enterprises")
    targets = bundle.metric("protection_targets")
    if ents.empty or targets.empty or "external_distance_m" not in ents.columns:
        return []
    declared = pd.to_numeric(ents["external_distance_m"], errors="coerce")
    keep = (declared.notna() & (declared > 0)).to_numpy() & ents.geometry.notna().to_numpy()
    if not keep.any():
        return []
    ents = ents[keep]
    dist_arr = declared.to_numpy(dtype=float)[keep]
    ent_geoms = ents.geometry.to_numpy()
    ei, ti = targets.sindex.query(ent_geoms, predicate="dwithin", distance=dist_arr + _SLACK, sort=True)
    tgt_geoms = targets.geometry.to_numpy()
    d = shapely.distance(ent_geoms[ei], tgt_geoms[ti])  # unrounded: round only for display
    hit = hits(rule, d, dist_arr[ei])
    ei, ti, d = ei[hit], ti[hit], d[hit]
    lines = to_storage(list(shapely.shortest_line(ent_geoms[ei], tgt_geoms[ti])), bundle.metric_epsg)
    ext = dist_arr[ei]
    details = [Bilingual(f"防护目标距企业{dist}米，小于企业申报的外部安全防护距离{lim}米",
                         f"target {dist} m from the enterprise, inside its declared external safety"
                         f" distance of {lim} m")
               for dist, lim in zip([f"{x:.1f}" for x in d.tolist()], [f"{x:g}" for x in ext.tolist()], strict=True)]
    return [_target_columns(rule, ents, ei, targets, ti, measured_m=d, required_m=ext, geometry=lines,
                            detail=details)]


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
    the boundary or has no direction (target at the origin). One ray of :func:`_reaches_along_rays`.
    """
    return float(_reaches_along_rays(np.array([origin]), np.array([towards]), np.array([contour]))[0])


def _group_max(values: np.ndarray, group: np.ndarray, count: int) -> np.ndarray:
    """Largest of ``values`` per group ``0..count-1`` (``group`` ascending); NaN for a group without values."""
    out = np.full(count, np.nan)
    if len(values):
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        out[group[starts]] = np.maximum.reduceat(values, starts)
    return out


def _reaches_along_rays(origins: np.ndarray, towards: np.ndarray, contours: np.ndarray) -> np.ndarray:
    """:func:`_reach_along_ray` of many (origin point, towards point, contour) at once, the same numbers.

    Per ray: the largest distance ``far`` of the contour's boundary vertices from the origin; the
    ray from the origin towards the point, ``far·1.01 + 1`` long; the distance to its farthest
    crossing with the boundary, or ``far`` when it has none or no direction; 0 without a boundary.
    """
    n = len(origins)
    boundaries = shapely.boundary(contours)
    coords, owner = shapely.get_coordinates(boundaries, return_index=True)
    o = shapely.get_coordinates(origins)
    t = shapely.get_coordinates(towards)
    far = _group_max(np.hypot(coords[:, 0] - o[owner, 0], coords[:, 1] - o[owner, 1]), owner, n)
    dx, dy = t[:, 0] - o[:, 0], t[:, 1] - o[:, 1]
    norm = np.array([math.hypot(a, b) for a, b in zip(dx.tolist(), dy.tolist(), strict=True)], dtype=float)
    aimed = ~np.isnan(far) & (norm >= 1e-9)
    out = np.where(np.isnan(far), 0.0, far)
    if aimed.any():
        i = np.flatnonzero(aimed)
        length = far[i] * 1.01 + 1.0
        ends = np.column_stack([o[i, 0] + dx[i] / norm[i] * length, o[i, 1] + dy[i] / norm[i] * length])
        rays = shapely.linestrings(np.stack([o[i], ends], axis=1))
        crossing, which = shapely.get_coordinates(shapely.intersection(rays, boundaries[i]), return_index=True)
        reach = _group_max(np.hypot(crossing[:, 0] - o[i[which], 0], crossing[:, 1] - o[i[which], 1]), which, len(i))
        out[i] = np.where(np.isnan(reach), far[i], reach)
    return out


def _individual_risk(bundle: Bundle, rule: Rule) -> list[dict[str, list[Any]]]:
    """Targets inside a contour whose individual risk reaches their GB 36894 criterion."""
    contours = bundle.metric("risk_contours")
    ents = bundle.metric("enterprises")
    targets = bundle.metric("protection_targets")
    if contours.empty or ents.empty or targets.empty:
        return []
    criteria: dict[str, Any] = rule.params.get("criteria", {})
    e_key = column_values(ents, "key")
    ent_by_key = {str(k): i for i, k in enumerate(e_key)}
    contours = contours[contours.geometry.notna().to_numpy()]
    ci, ti = targets.sindex.query(contours.geometry.to_numpy(), predicate="intersects", sort=True)
    if len(ci) == 0:
        return []
    # Most severe contour per (enterprise, target): highest individual risk at/above the criterion.
    worst: dict[tuple[int, int], tuple[float, float]] = {}
    # cells read once per layer and per contour, class and status (a lookup per pair costs more than the search)
    c_ent = [ent_by_key.get(str(k)) for k in column_values(contours, "enterprise_key")]
    c_risk = number_column(contours, "individual_risk")
    rows = np.unique(ti)
    t_class = dict(zip(rows.tolist(), column_values(targets, "gb36894_class", rows), strict=True))
    t_class_text = {t: text_or_none(v) for t, v in t_class.items()}
    e_status = column_values(ents, "installation_status")
    e_status_text = text_column(ents, "installation_status")
    crits: dict[tuple[str | None, str | None], float | None] = {}
    for c, t in zip(ci.tolist(), ti.tolist(), strict=True):
        e, ir = c_ent[c], c_risk[c]
        if e is None or ir is None:
            continue  # contour of an enterprise outside the bundle: its status is unknown
        pair = (t_class_text[t], e_status_text[e])
        if pair not in crits:
            crits[pair] = _criterion(criteria, *pair)
        crit = crits[pair]
        if crit is None or ir < crit * (1 - _IR_RTOL):
            continue
        key = (e, t)
        if key not in worst or ir > worst[key][0]:
            worst[key] = (ir, crit)
    if not worst:
        return []
    labels = _class_labels()
    keys = sorted(worst)
    e_pos = np.array([e for e, _ in keys], dtype=np.intp)
    t_pos = np.array([t for _, t in keys], dtype=np.intp)
    ent_geoms, tgt_geoms = ents.geometry.to_numpy()[e_pos], targets.geometry.to_numpy()[t_pos]
    lines = shapely.shortest_line(ent_geoms, tgt_geoms)
    dists = shapely.distance(ent_geoms, tgt_geoms)
    ent_contours = contours.groupby(contours["enterprise_key"].astype(str)).indices
    risk_all = pd.to_numeric(contours["individual_risk"], errors="coerce").to_numpy(dtype=float)
    contour_geoms = contours.geometry.to_numpy()
    binding_of: dict[tuple[int, float], BaseGeometry] = {}
    binding = np.empty(len(keys), dtype=object)
    for k, key in enumerate(keys):
        # The criterion contour: the outermost (lowest-risk) contour still at/above the criterion.
        e, crit = key[0], worst[key][1]
        if (e, crit) not in binding_of:
            own = ent_contours[str(e_key[e])]
            eligible = own[risk_all[own] >= crit * (1 - _IR_RTOL)]
            binding_of[(e, crit)] = contour_geoms[eligible[int(np.argmin(risk_all[eligible]))]]
        binding[k] = binding_of[(e, crit)]
    towards = shapely.get_point(lines, -1)
    at_origin = shapely.equals(towards, ent_geoms)
    towards[at_origin] = shapely.centroid(tgt_geoms[at_origin])
    reaches = [round(r, _DECIMALS) for r in _reaches_along_rays(ent_geoms, towards, binding).tolist()]
    details = []
    for key, reach in zip(keys, reaches, strict=True):
        ir, crit = worst[key]
        cls = str(t_class[key[1]])
        status = str(e_status[key[0]])
        details.append(Bilingual(
            f"个人风险{_sci(ir)}/年 ≥ 基准{_sci(crit)}/年（{labels.get(cls, cls)}，"
            f"{_STATUS_ZH.get(status, status)}）；基准等值线沿该方向距企业{reach:.1f}米",
            f"individual risk {ir:.1e}/yr ≥ criterion {crit:.1e}/yr (class {cls},"
            f" {_STATUS_EN.get(status, status)}); the criterion contour reaches {reach:.1f} m"
            " from the enterprise in this direction"))
    return [_target_columns(rule, ents, e_pos, targets, t_pos, measured_m=dists, required_m=reaches,
                            geometry=to_storage(list(lines), bundle.metric_epsg), detail=details)]
