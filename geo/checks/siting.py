"""Siting bans along the Yangtze: 长江保护法 (2020) Art. 26 (standards.md §7, Rules-table row 22).

``YANGTZE_SITING`` (family ``siting``) flags a *new* tailings pond (status in
``params.tailings_statuses``) within ``params.tailings_m`` of a Yangtze main-stem or important-tributary
shoreline, and a *new* chemical project (enterprise industry in ``params.chemical_industries`` with
installation status in ``params.chemical_statuses``) within ``params.chemical_m``, measured from the
nearest of its point and its plant parts (``installations``). Existing, operating
sites are not subjects: the article bans building, rebuilding and expanding.

The rivers are infrastructure rows of kind ``river`` whose subkind contains one of
``params.reach_words`` (``main``: 长江干流/金沙江…, ``tributary``: 长江重要支流…). A river stored as
an area is measured to its edge; one stored as a centreline is measured to the centreline less
``params.centreline_to_shore_m`` for the reach (the shore is that far out), never below zero. Distances
are metres in the bundle's Gauss-Krüger zone, compared at millimetre resolution.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo.checks.bundle import Bundle
from geo.checks.findings import Bilingual, finding, findings_frame
from geo.checks.metric_frame import to_storage
from geo.checks.ruleset import Rule, RuleSet

REACHES = ("main", "tributary")
_REACH_ZH = {"main": "长江干流", "tributary": "长江重要支流"}


def yangtze_reaches(infrastructure: gpd.GeoDataFrame, rule: Rule) -> gpd.GeoDataFrame:
    """River rows that are Yangtze main stem or important tributary, with a ``reach`` column.

    Parameters
    ----------
    infrastructure : GeoDataFrame
        Infrastructure layer (any CRS).
    rule : Rule
        ``YANGTZE_SITING`` (its ``params.reach_words``).

    Returns
    -------
    GeoDataFrame
        The matching rows (same CRS) plus ``reach`` (``main`` or ``tributary``; main wins).

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> rule = load_ruleset()["YANGTZE_SITING"]
    >>> rivers = gpd.GeoDataFrame({"kind": ["river", "river", "road"],
    ...                            "subkind": ["长江干流(金沙江)", "通航河流", "长江干流"]},
    ...                           geometry=[shapely.Point(0, 0)] * 3)
    >>> list(yangtze_reaches(rivers, rule)["reach"])
    ['main']
    """
    if not len(infrastructure) or "kind" not in infrastructure:
        return infrastructure.iloc[0:0].assign(reach=pd.Series(dtype=str))
    words: dict[str, list[str]] = rule.params["reach_words"]
    subkind = infrastructure.get("subkind", pd.Series("", index=infrastructure.index)).fillna("").astype(str)
    name = infrastructure.get("name", pd.Series("", index=infrastructure.index)).fillna("").astype(str)
    text = subkind + " " + name

    def reach_of(value: str) -> str | None:
        for reach in REACHES:
            if any(w in value for w in words.get(reach, [])):
                return reach
        return None

    reach = text.map(reach_of)
    keep = (infrastructure["kind"] == "river") & reach.notna()
    return infrastructure[keep].assign(reach=reach[keep])


def _subjects(bundle: Bundle, rule: Rule) -> list[tuple[str, str, gpd.GeoDataFrame]]:
    """``(layer, kind, rows)`` of new tailings ponds and new chemical projects, in metres."""
    p = rule.params
    out = []
    dams = bundle.metric("tailings_dams")
    if len(dams) and "status" in dams:
        out.append(("tailings_dams", "tailings", dams[dams["status"].isin(p["tailings_statuses"])]))
    ents = bundle.metric("enterprises")
    if len(ents) and {"industry", "installation_status"} <= set(ents.columns):
        new = ents["industry"].isin(p["chemical_industries"]) & ents["installation_status"].isin(
            p["chemical_statuses"])
        out.append(("enterprises", "chemical", _with_parts(ents[new], bundle.metric("installations"))))
    return out


def _with_parts(enterprises: gpd.GeoDataFrame, parts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Enterprises whose geometry is their point together with their plant parts (same credit code and district).

    A project is as close to the river as its nearest tank or unit, not as its office point.
    """
    if not len(enterprises) or not len(parts) or "credit_code" not in enterprises or \
            "enterprise_credit_code" not in parts:
        return enterprises
    # parts grouped once by (credit code, district), in order (a mask over all parts per enterprise
    # costs a full scan each); missing cells match nothing, as in a comparison
    p_code = parts["enterprise_credit_code"].tolist()
    p_adcode = parts["adcode"].tolist() if "adcode" in parts else None
    p_geoms = parts.geometry.to_numpy()
    groups: dict[tuple[Any, Any], list[int]] = {}
    for i, code in enumerate(p_code):
        adcode = None if p_adcode is None else p_adcode[i]
        if pd.isna(code) or (p_adcode is not None and pd.isna(adcode)):
            continue
        groups.setdefault((code, adcode), []).append(i)
    out = enterprises.copy()
    e_geoms = enterprises.geometry.to_numpy()
    e_adcode = enterprises["adcode"].tolist() if "adcode" in enterprises else [None] * len(enterprises)
    e_code = enterprises["credit_code"].tolist()
    for pos, idx in enumerate(enterprises.index):
        code = e_code[pos]
        if not code:
            continue
        adcode = e_adcode[pos]
        if p_adcode is not None and pd.isna(adcode):
            continue
        mine = groups.get((code, None if p_adcode is None else adcode), [])
        if mine:
            out.at[idx, out.geometry.name] = shapely.union_all([e_geoms[pos], *p_geoms[mine]])
    return out


def check_siting(bundle: Bundle, rules: RuleSet) -> gpd.GeoDataFrame:
    """Run ``YANGTZE_SITING`` over ``bundle``.

    Parameters
    ----------
    bundle : Bundle
        Layers (needs ``infrastructure``; subjects from ``tailings_dams`` and ``enterprises``).
    rules : RuleSet
        Rule set holding ``YANGTZE_SITING``.

    Returns
    -------
    GeoDataFrame
        Findings (verdict ``violation``), one per subject and river reach, with the shortest line.
    """
    if "YANGTZE_SITING" not in rules.rules:
        return findings_frame([])
    rule = rules["YANGTZE_SITING"]
    p = rule.params
    rivers = yangtze_reaches(bundle.metric("infrastructure"), rule)
    if not len(rivers):
        return findings_frame([])
    shore = {r: float(p["centreline_to_shore_m"].get(r, 0.0)) for r in REACHES}
    limits: dict[str, dict[str, float]] = {"tailings": p["tailings_m"], "chemical": p["chemical_m"]}
    reach_max = max(float(v) for lim in limits.values() for v in lim.values()) + max(shore.values()) + 1.0
    tree = shapely.STRtree(rivers.geometry.values)
    records: list[dict[str, Any]] = []
    for layer, kind, subjects in _subjects(bundle, rule):
        for _idx, subject in subjects.iterrows():
            geom = subject.geometry
            if geom is None or geom.is_empty:
                continue
            for j in tree.query(geom, predicate="dwithin", distance=reach_max):
                river = rivers.iloc[int(j)]
                reach = str(river["reach"])
                limit = float(limits[kind][reach])
                line = river.geometry.geom_type in ("LineString", "MultiLineString")
                raw = float(geom.distance(river.geometry))
                measured = max(0.0, raw - shore[reach]) if line else raw
                if not rule.hit(measured, limit):
                    continue
                link = shapely.shortest_line(geom, river.geometry)
                link_shown = to_storage([link], bundle.metric_epsg)[0]
                subject_zh = "尾矿库" if kind == "tailings" else "化工项目"
                how_zh, how_en = ((f"距中心线 {raw:,.0f} m，岸线按中心线外 {shore[reach]:g} m 计",
                                   f"{raw:,.0f} m from the centreline, shore taken {shore[reach]:g} m out")
                                  if line else ("量至岸线", "to the shore"))
                records.append(finding(
                    rule, subject_type=layer, subject_key=str(subject.get("key", "")),
                    subject_name=subject.get("name"), object_type="infrastructure",
                    object_key=str(river.get("key", "")), object_name=river.get("name"),
                    measured_m=measured, required_m=limit, verdict="violation",
                    adcode=subject.get("adcode"), geometry=link_shown,
                    detail=Bilingual(f"新建/改建/扩建{subject_zh}位于{_REACH_ZH[reach]}岸线 {limit / 1000:g} km "
                                     f"禁建范围内({how_zh})", f"new {kind} site within the {limit / 1000:g} km Yangtze "
                                     f"{'main-stem' if reach == 'main' else 'tributary'} ban zone ({how_en})"),
                ))
    return findings_frame(records)
