"""The one definition of every measure RiskMap shows: cockpit tiles, explanations, district page, lists, exports.

Every view that prints a count reads it from here, so a figure for a district is the same wherever it
appears, and each tile or column can say what it counts (:data:`MEASURES`, :func:`measure_label`,
:func:`measure_definition`).

Risk sources (风险源)
    The 四色 register: enterprises, tailings ponds, pipeline high-consequence-area (HCA) segments and the
    risk points of the 4张清单. A risk point that *describes* one of those facilities is merged into it
    (:func:`counted_sources`), so the facility is counted once, at the higher of the two levels (就高):

    - a 尾矿库 risk point (category ``tailings``) describes the nearest tailings pond of its district
      within :data:`LINK_RADIUS_M` (one with the same credit code preferred);
    - a 油气管道 risk point (``pipeline``) describes the nearest counted HCA segment of its district
      within :data:`LINK_RADIUS_M`;
    - any other risk point describes the enterprise with the same unified social credit code in the same
      district.

    HCA segments counted are, per pipeline and district, the ones identified by the checks when there
    are any, else the declared ones (:func:`chosen_hcas`; the HCA-length indicators use the same set).
Findings (检查发现)
    违规 (``violations``): verdict ``violation`` and status open or in remediation. 未闭环
    (``open_findings``): every verdict (违规, 需许可, 需核实, 清单, 高后果区, 逾期) with status open or in
    remediation. Closed, resolved and accepted findings are history, not the present.
Hidden hazards (隐患)
    Open: status 未整改 or 整改中. Open major: open and severity 重大. Overdue: not struck off (销号)
    and the deadline is before ``as_of`` (workflows.md §2; the lifecycle's inbox agrees).
    Rectification rate: (rectified + closed) / all hidden hazards (no period limit: the whole
    register as of ``as_of``). A report judged not to be a hazard (不予核定, status ``withdrawn``)
    counts nowhere. The workflow keeps ``status`` in step with each hazard's lifecycle state
    (``campaign/lifecycle.yaml``), so these counts follow the campaign.

Nothing here imports Dash; distances are measured in the bundle's Gauss-Krüger zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.checks.bundle import Bundle
from geo.constants import (
    CLOSED_HAZARD_STATUSES,
    DONE_HAZARD_STATUSES,
    NOT_HAZARD_STATUSES,
    OPEN_FINDING_STATUSES,
    OPEN_HAZARD_STATUSES,
    STORAGE_SRID,
)
from layers.palette import RiskLevel, level_colour, level_label
from layers.sources import SOURCE_COLUMNS, risk_sources
from layers.values import present, text_or_none

__all__ = [
    "CLOSED_HAZARD_STATUSES",
    "DONE_HAZARD_STATUSES",
    "LINK_RADIUS_M",
    "MEASURES",
    "NOT_HAZARD_STATUSES",
    "OPEN_FINDING_STATUSES",
    "OPEN_HAZARD_STATUSES",
    "VIOLATION_VERDICTS",
    "Measure",
    "chosen_hcas",
    "counted_sources",
    "district_measures",
    "grouped_measures",
    "hazard_masks",
    "is_open_finding",
    "is_violation",
    "measure_definition",
    "measure_label",
]

#: Largest distance (m) at which a 尾矿库/油气管道 risk point is taken to describe a pond/HCA segment.
LINK_RADIUS_M = 500.0
#: Verdicts that count as 违规.
VIOLATION_VERDICTS: tuple[str, ...] = ("violation",)
# Which statuses count where (enumerated once in geo.constants):
# OPEN_FINDING_STATUSES count as not yet closed (the present); OPEN_HAZARD_STATUSES as not yet rectified;
# DONE_HAZARD_STATUSES as rectified; only CLOSED_HAZARD_STATUSES (销号) end being overdue (workflows.md §2:
# overdue = past the deadline and not 销号, so one rectified but not yet accepted is still overdue);
# NOT_HAZARD_STATUSES (不予核定) are counted nowhere.

_LEVELS = tuple(level.value for level in RiskLevel)  # highest first


@dataclass(frozen=True)
class Measure:
    """A measure: its code, labels and a one-line definition (for tooltips) in Chinese and English."""

    code: str
    zh: str
    en: str
    definition_zh: str
    definition_en: str

    def label(self, lang: str = "zh") -> str:
        """Short label in ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en

    def definition(self, lang: str = "zh") -> str:
        """One-line definition in ``lang``."""
        return self.definition_zh if lang == "zh" else self.definition_en


_SOURCES_ZH = "企业、尾矿库、管道高后果区段和4张清单风险点；描述同一企业或设施的风险点与其合并，只计一次(取较高等级)"
_SOURCES_EN = ("enterprises, tailings ponds, pipeline HCA segments and risk points of the four lists; a risk point "
               "describing an enterprise or facility is merged with it and counted once (at the higher level)")

#: Every measure shown anywhere, by code.
MEASURES: dict[str, Measure] = {m.code: m for m in (
    Measure("major_risks", "重大风险源", "Major risk sources",
            f"重大风险等级的风险源数：{_SOURCES_ZH}。", f"Risk sources at level major: {_SOURCES_EN}."),
    Measure("significant_risks", "较大风险源", "Significant risk sources",
            f"较大风险等级的风险源数：{_SOURCES_ZH}。", f"Risk sources at level significant: {_SOURCES_EN}."),
    Measure("general_risks", "一般风险源", "General risk sources",
            f"一般风险等级的风险源数：{_SOURCES_ZH}。", f"Risk sources at level general: {_SOURCES_EN}."),
    Measure("low_risks", "低风险源", "Low risk sources",
            f"低风险等级的风险源数：{_SOURCES_ZH}。", f"Risk sources at level low: {_SOURCES_EN}."),
    Measure("risk_sources", "风险源", "Risk sources", f"风险源数：{_SOURCES_ZH}。", f"Risk sources: {_SOURCES_EN}."),
    Measure("risk_points", "清单风险点", "Listed risk points",
            "4张清单登记的风险点数(每个风险点一行，未与企业或设施合并)。",
            "Risk points registered in the four lists (one row each, not merged with facilities)."),
    Measure("open_major_hazards", "未整改重大隐患", "Open major hidden hazards",
            "隐患级别为重大、整改状态为未整改或整改中的隐患数。",
            "Hidden hazards of severity major whose status is open or being rectified."),
    Measure("open_hazards", "未整改隐患", "Open hidden hazards",
            "整改状态为未整改或整改中的隐患数(不论级别)。",
            "Hidden hazards whose status is open or being rectified (any severity)."),
    Measure("overdue_hazards", "逾期未整改隐患", "Overdue hidden hazards",
            "整改期限早于数据日期、且尚未销号的隐患数。",
            "Hidden hazards past their deadline on the data date and not struck off (销号)."),
    Measure("hazards_total", "隐患总数", "Hidden hazards", "隐患台账中的全部隐患(含已整改、已销号)。",
            "All hidden hazards in the register (including rectified and closed ones)."),
    Measure("rectification_rate", "隐患整改率", "Hidden-hazard rectification rate",
            "已整改和已销号的隐患占全部隐患的比例(无隐患时为空)。",
            "Rectified plus closed hidden hazards as a share of all hidden hazards (blank when none)."),
    Measure("violations", "违规发现(未闭环)", "Open violations",
            "结论为“违规”、整改状态为未整改或整改中的检查发现数。",
            "Check findings with verdict violation whose status is open or in remediation."),
    Measure("open_findings", "未闭环检查发现", "Open check findings",
            "整改状态为未整改或整改中的全部检查发现(含违规、需许可、需核实等各类结论)；"
            "检查结果登记簿还列出已闭环的记录。",
            "All check findings whose status is open or in remediation (violations, permits, reviews and "
            "other verdicts); the findings register also lists closed ones."),
    Measure("hca_km", "高后果区长度", "HCA length",
            "管道高后果区长度(km)：按管道取识别结果(无识别结果时取申报台账)，重叠路段只计一次。",
            "Length of pipeline high-consequence areas (km): identified segments per pipeline when it has any, "
            "declared ones otherwise, overlaps counted once."),
    Measure("overhead_tailings", "头顶库数量", "Overhead tailings ponds",
            "有未闭环“头顶库”检查发现的尾矿库座数(计入尾矿库所在区县)。",
            "Tailings ponds with an open overhead-pond finding, counted in the pond's district."),
)}

#: The four level measures, highest first, by level code.
LEVEL_MEASURES: dict[str, str] = {"major": "major_risks", "significant": "significant_risks",
                                  "general": "general_risks", "low": "low_risks"}


def measure_label(code: str, lang: str = "zh") -> str:
    """Short label of measure ``code`` in ``lang``.

    Parameters
    ----------
    code : str
        A key of :data:`MEASURES`.
    lang : str
        "zh" or "en".

    Returns
    -------
    str

    Examples
    --------
    >>> measure_label("violations"), measure_label("violations", "en")
    ('违规发现(未闭环)', 'Open violations')
    """
    return MEASURES[code].label(lang)


def measure_definition(code: str, lang: str = "zh") -> str:
    """One-line definition of measure ``code`` (for a tooltip) in ``lang``.

    Parameters
    ----------
    code : str
        A key of :data:`MEASURES`.
    lang : str
        "zh" or "en".

    Returns
    -------
    str
    """
    return MEASURES[code].definition(lang)


# ---------------------------------------------------------------------------------------------
# findings and hidden hazards
# ---------------------------------------------------------------------------------------------
def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _finding_status(findings: pd.DataFrame) -> pd.Series:
    """Status of each finding; a fresh run's findings (no status column) are open."""
    if "status" in findings.columns:
        return findings["status"].astype(object).fillna("open")
    return pd.Series("open", index=findings.index, dtype=object)


def is_open_finding(findings: pd.DataFrame) -> pd.Series:
    """Tell which findings are 未闭环: status open or in remediation (a run without statuses: all).

    Parameters
    ----------
    findings : DataFrame
        Findings as stored (:func:`geo.store.read_findings`) or of a check run.

    Returns
    -------
    Series of bool
        Aligned with ``findings``.
    """
    return _finding_status(findings).isin(OPEN_FINDING_STATUSES)


def is_violation(findings: pd.DataFrame) -> pd.Series:
    """Tell which findings are 违规发现: open (:func:`is_open_finding`) with a verdict in :data:`VIOLATION_VERDICTS`.

    Parameters
    ----------
    findings : DataFrame
        Findings with ``verdict`` (and ``status`` when stored).

    Returns
    -------
    Series of bool
    """
    return _col(findings, "verdict").astype(object).isin(VIOLATION_VERDICTS) & is_open_finding(findings)


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None if pd.isna(value) else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def hazard_masks(hazards: pd.DataFrame, as_of: dt.date) -> dict[str, pd.Series]:
    """Classify hidden hazards: open, open major, overdue and done.

    Parameters
    ----------
    hazards : DataFrame
        The ``hidden_hazards`` layer (``status``, ``severity``, ``deadline``).
    as_of : date
        Reference day: a hazard is overdue when its deadline is before this day and it is not
        struck off (a rectified hazard still waiting for acceptance is overdue too).

    Returns
    -------
    dict of str to Series of bool
        Keys ``counted`` (a hazard at all: not 不予核定), ``open``, ``open_major``, ``overdue`` and ``done``,
        aligned with ``hazards``.

    Examples
    --------
    >>> hz = pd.DataFrame({"status": ["open", "rectified", "rectifying"], "severity": ["major", "major", "general"],
    ...                    "deadline": ["2026-01-01", "2026-01-01", None]})
    >>> {k: v.tolist() for k, v in hazard_masks(hz, dt.date(2026, 6, 1)).items()}["overdue"]
    [True, True, False]
    """
    status = _col(hazards, "status").astype(object)
    counted = ~status.isin(NOT_HAZARD_STATUSES)
    done = status.isin(DONE_HAZARD_STATUSES)
    is_open = status.isin(OPEN_HAZARD_STATUSES)
    deadlines = [_as_date(v) for v in _col(hazards, "deadline")]
    late = pd.Series([d is not None and d < as_of for d in deadlines], index=hazards.index, dtype=bool)
    return {"counted": counted, "open": is_open,
            "open_major": is_open & (_col(hazards, "severity").astype(object) == "major"),
            "overdue": late & ~status.isin(CLOSED_HAZARD_STATUSES) & counted, "done": done}


# ---------------------------------------------------------------------------------------------
# risk sources
# ---------------------------------------------------------------------------------------------
def chosen_hcas(declared: gpd.GeoDataFrame | None, identified: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """HCA segments that count: per pipeline and district the identified ones when there are any, else the declared.

    Grouping by district too (check runs identify HCAs district by district) keeps a district's figures
    the same whether they are computed for the whole city or in that district's own session.

    Parameters
    ----------
    declared : GeoDataFrame or None
        Declared HCAs (``bundle["hcas"]``); rows with ``origin == "identified"`` count as identified.
    identified : GeoDataFrame or None
        Segments identified by check runs (``origin`` is set to ``identified``).

    Returns
    -------
    GeoDataFrame
        EPSG:4490, every column of the inputs plus ``origin`` and ``group`` (the pipeline key, else the
        HCA key, with ``@`` and the district code), rows with a grade of 1–3 and a geometry only.
    """
    parts = []
    if declared is not None and len(declared):
        origin = _col(declared, "origin").astype(object).fillna("declared")
        parts.append(declared.to_crs(STORAGE_SRID).assign(origin=origin))
    if identified is not None and len(identified):
        segs = identified if identified.crs is not None else identified.set_crs(STORAGE_SRID)
        parts.append(segs.to_crs(STORAGE_SRID).assign(origin="identified"))
    if not parts:
        return gpd.GeoDataFrame({"key": [], "pipeline_key": [], "grade": [], "origin": [], "adcode": [],
                                 "group": []}, geometry=[], crs=STORAGE_SRID)
    hcas = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=STORAGE_SRID)
    for name in ("key", "pipeline_key", "adcode"):
        if name not in hcas.columns:
            hcas[name] = None
    own = pd.Series([f"#{i}" for i in range(len(hcas))], index=hcas.index, dtype=object)
    pipe = hcas["pipeline_key"].astype(object).fillna(hcas["key"].astype(object)).fillna(own).astype(str)
    hcas["group"] = pipe + "@" + hcas["adcode"].astype(object).fillna("").astype(str)
    hcas["grade"] = pd.to_numeric(hcas["grade"], errors="coerce")
    hcas = hcas[hcas["grade"].isin([1, 2, 3]) & hcas.geometry.notna() & ~hcas.geometry.is_empty]
    identified_rows = hcas["origin"] == "identified"
    with_identified = set(hcas.loc[identified_rows, "group"])
    keep = identified_rows == hcas["group"].isin(with_identified)
    return gpd.GeoDataFrame(hcas[keep].reset_index(drop=True), geometry="geometry", crs=STORAGE_SRID)


def _nearest(points: np.ndarray, credit: list[str | None], targets: gpd.GeoDataFrame,
             radius: float) -> list[int | None]:
    """Position in ``targets`` of the feature nearest each point within ``radius`` (metric CRS).

    A target with the same credit code as the point wins over a nearer one without it.
    """
    out: list[int | None] = [None] * len(points)
    if not len(points) or not len(targets):
        return out
    geoms = targets.geometry.to_numpy()
    src, dst = shapely.STRtree(geoms).query(points, predicate="dwithin", distance=radius)
    if not len(src):
        return out
    dist = shapely.distance(points[src], geoms[dst])
    tcredit = np.array([text_or_none(v) for v in _col(targets, "credit_code")], dtype=object)
    pcredit = np.array(credit, dtype=object)
    mismatch = ~((pcredit[src] == tcredit[dst]) & np.array([c is not None for c in pcredit[src]], dtype=bool))
    pairs = pd.DataFrame({"src": src, "dst": dst, "mismatch": mismatch, "dist": dist})
    for s, d in pairs.sort_values(["src", "mismatch", "dist", "dst"]).drop_duplicates("src")[["src", "dst"]].values:
        out[int(s)] = int(d)
    return out


def _links(bundle: Bundle, hcas: gpd.GeoDataFrame, sources: gpd.GeoDataFrame) -> dict[str, str]:
    """Map the source id of each risk point that describes a facility to the facility's source id."""
    rps = bundle["risk_points"]
    if not len(rps):
        return {}
    epsg = bundle.metric_epsg
    rps_m = rps.to_crs(epsg)
    keys = [str(k if present(k) else c) for k, c in zip(_col(rps, "key"), _col(rps, "code"), strict=True)]
    category = [text_or_none(c) for c in _col(rps, "category")]
    credit = [text_or_none(c) for c in _col(rps, "credit_code")]
    adcode = [text_or_none(a) for a in _col(rps, "adcode")]
    out: dict[str, str] = {}

    ents = bundle["enterprises"]
    ent_ids = {(text_or_none(c), text_or_none(a)): f"enterprise:{k if present(k) else c}"
               for k, c, a in zip(_col(ents, "key"), _col(ents, "credit_code"), _col(ents, "adcode"), strict=True)
               if present(c)}
    for i in range(len(rps)):
        if category[i] not in ("tailings", "pipeline") and credit[i] is not None:
            target = ent_ids.get((credit[i], adcode[i]))
            if target is not None:
                out[f"risk_point:{keys[i]}"] = target

    ponds = bundle.metric("tailings_dams")
    pond_ids = [f"tailings_dam:{k if present(k) else c}" for k, c in zip(_col(ponds, "key"), _col(ponds, "code"),
                                                                          strict=True)]
    hca_rows = sources[sources["source_type"] == "hca"]
    hca_m = hca_rows.to_crs(epsg) if len(hca_rows) else hca_rows
    points = rps_m.geometry.to_numpy()
    for cat, targets, ids in (("tailings", ponds, pond_ids), ("pipeline", hca_m, list(_col(hca_m, "source_id")))):
        homes = np.array([text_or_none(a) for a in _col(targets, "adcode")], dtype=object)
        for code in sorted({a for a, c in zip(adcode, category, strict=True) if c == cat and a is not None}):
            rows = np.array([c == cat and a == code for c, a in zip(category, adcode, strict=True)], dtype=bool)
            near = np.flatnonzero(homes == code)  # a risk point describes a facility of its own district only
            if not len(near):
                continue
            found = _nearest(points[rows], [credit[i] for i in np.flatnonzero(rows)], targets.iloc[near],
                             LINK_RADIUS_M)
            for k, pos in zip(np.flatnonzero(rows), found, strict=True):
                if pos is not None:
                    out[f"risk_point:{keys[int(k)]}"] = str(ids[int(near[pos])])
    return out


def counted_sources(bundle: Bundle, *, identified_hcas: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """List the risk sources that are counted, shown and exported: one row per source, facilities merged.

    Parameters
    ----------
    bundle : Bundle
        ``enterprises``, ``tailings_dams``, ``hcas`` (declared), ``pipelines`` and ``risk_points``.
    identified_hcas : GeoDataFrame, optional
        HCA segments identified by check runs (``store.read_layer(engine, "hcas")`` rows with
        ``origin == "identified"``); see :func:`chosen_hcas`.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, the columns of :func:`layers.sources.risk_sources` plus ``linked_points`` (codes of
        the risk points merged into the row, comma-separated, or None). A facility described by risk
        points takes the highest of its own and their levels (colour and label follow).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> ent = gpd.GeoDataFrame({"key": ["E1"], "credit_code": ["91530181MA6K5XYW1W"], "name": ["示例化工"],
    ...                         "adcode": ["530181"], "risk_level": ["significant"]},
    ...                        geometry=[Point(102.48, 24.92)], crs=4490)
    >>> rp = gpd.GeoDataFrame({"key": ["RP-1"], "code": ["RP-1"], "name": ["示例化工罐区"], "adcode": ["530181"],
    ...                        "category": ["hazchem"], "credit_code": ["91530181MA6K5XYW1W"],
    ...                        "risk_level": ["major"]}, geometry=[Point(102.48, 24.92)], crs=4490)
    >>> src = counted_sources(Bundle({"enterprises": ent, "risk_points": rp}))
    >>> src[["source_id", "risk_level", "linked_points"]].values.tolist()
    [['enterprise:E1', 'major', 'RP-1']]
    """
    hcas = chosen_hcas(bundle["hcas"], identified_hcas)
    every = risk_sources(bundle, hcas=hcas)
    links = _links(bundle, hcas, every)
    if not links:
        return every.assign(linked_points=pd.Series([None] * len(every), index=every.index, dtype=object))
    merged: dict[str, list[str]] = {}
    levels: dict[str, str] = dict(zip(every["source_id"], every["risk_level"], strict=True))
    for point, facility in links.items():
        merged.setdefault(facility, []).append(point.split(":", 1)[1])
    out = every[~every["source_id"].isin(list(links))].copy()
    linked: list[str | None] = []
    new_levels: list[str] = []
    details: list[str] = []
    for sid, level, detail in zip(out["source_id"], out["risk_level"], out["detail"], strict=True):
        points = sorted(merged.get(sid, []))
        ranks = [_LEVELS.index(level), *(_LEVELS.index(levels[f"risk_point:{p}"]) for p in points)]
        new_levels.append(_LEVELS[min(ranks)])
        linked.append(",".join(points) if points else None)
        details.append(f"{detail}；清单风险点 {'、'.join(points)}" if points else detail)
    out["risk_level"] = new_levels
    out["level_zh"] = [level_label(v, "zh") for v in new_levels]
    out["colour"] = [level_colour(v) for v in new_levels]
    out["detail"] = details
    out["linked_points"] = pd.Series(linked, index=out.index, dtype=object)
    return gpd.GeoDataFrame(out[[*SOURCE_COLUMNS, "linked_points"]].reset_index(drop=True),
                            geometry=out.geometry.to_numpy(), crs=STORAGE_SRID)


# ---------------------------------------------------------------------------------------------
# everything per district
# ---------------------------------------------------------------------------------------------
def _count_by(mask: pd.Series, adcodes: pd.Series, index: pd.Index) -> pd.Series:
    keyed = pd.DataFrame({"adcode": adcodes.astype(object).to_numpy(), "v": mask.fillna(False).astype(bool)
                          .to_numpy()})
    keyed = keyed[keyed["adcode"].notna() & keyed["v"]]
    counts = keyed.groupby(keyed["adcode"].astype(str)).size()
    return counts.reindex(index, fill_value=0).astype("int64")


def district_measures(bundle: Bundle, sources: gpd.GeoDataFrame, findings: pd.DataFrame,
                      as_of: dt.date) -> pd.DataFrame:
    """Every count measure per district (index: the bundle's district codes).

    Parameters
    ----------
    bundle : Bundle
        ``districts``, ``risk_points`` and ``hidden_hazards``.
    sources : GeoDataFrame
        Output of :func:`counted_sources`.
    findings : DataFrame
        Stored findings (any status) or a run's findings.
    as_of : date
        Reference day for overdue hazards.

    Returns
    -------
    DataFrame
        Indexed by ``adcode``; integer columns ``major_risks``, ``significant_risks``, ``general_risks``,
        ``low_risks``, ``risk_sources``, ``risk_points``, ``hazards_total``, ``open_hazards``,
        ``open_major_hazards``, ``overdue_hazards``, ``hazards_done``, ``violations`` and
        ``open_findings`` (see :data:`MEASURES`).
    """
    index = pd.Index([str(a) for a in _col(bundle["districts"], "adcode")], name="adcode")
    return grouped_measures(bundle, sources, findings, as_of, index=index,
                            group_of=lambda _what, frame: _col(frame, "adcode"))


def grouped_measures(bundle: Bundle, sources: gpd.GeoDataFrame, findings: pd.DataFrame, as_of: dt.date, *,
                     index: pd.Index, group_of: Callable[[str, pd.DataFrame], pd.Series]) -> pd.DataFrame:
    """Every count measure per group: per district, per 行业领域, per park — the same definitions.

    Parameters
    ----------
    bundle, sources, findings, as_of
        As for :func:`district_measures`.
    index : Index
        The groups, in the order of the result.
    group_of : callable
        ``group_of(what, frame)`` gives each row's group, for ``what`` in ``"sources"``, ``"risk_points"``,
        ``"hidden_hazards"`` and ``"findings"`` (rows of no group: missing).

    Returns
    -------
    DataFrame
        Indexed by ``index``; the columns of :func:`district_measures`.
    """
    out = pd.DataFrame(index=index)
    src_groups = group_of("sources", sources)
    for level, code in LEVEL_MEASURES.items():
        out[code] = _count_by(_col(sources, "risk_level") == level, src_groups, index)
    out["risk_sources"] = _count_by(pd.Series(True, index=sources.index), src_groups, index)
    rps = bundle["risk_points"]
    out["risk_points"] = _count_by(pd.Series(True, index=rps.index), group_of("risk_points", rps), index)
    hz = bundle["hidden_hazards"]
    masks, hz_groups = hazard_masks(hz, as_of), group_of("hidden_hazards", hz)
    for column, mask in (("hazards_total", "counted"), ("open_hazards", "open"), ("open_major_hazards", "open_major"),
                         ("overdue_hazards", "overdue"), ("hazards_done", "done")):
        out[column] = _count_by(masks[mask], hz_groups, index)
    found = findings if len(findings) else pd.DataFrame({"adcode": [], "verdict": [], "status": []})
    found_groups = group_of("findings", found)
    out["violations"] = _count_by(is_violation(found), found_groups, index)
    out["open_findings"] = _count_by(is_open_finding(found), found_groups, index)
    return out
