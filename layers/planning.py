"""What the planner workspace shows, without Dash: the violations register and the site pre-check.

The register is the stored findings (``check_findings``, every status) with readable labels:
the Chinese or English rule name from the rule set, the district name, ``subject → object``,
verdict and remediation status. The pre-check service (:func:`run_precheck`) checks a site against
the rules in force and records it; the helpers describe the site
(centre, area), draw rings at each reason's required distance (buffered in metres in the site's
CGCS2000 Gauss-Krüger zone) and lay the reasons out as a table; :mod:`layers.reasons_report`
prints the same table as a PDF.

Labels for verdicts and statuses are RiskMap's own wording (no standard fixes them).
"""

from __future__ import annotations

import math
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Engine

from geo.checks.findings import Bilingual
from geo.checks.precheck_log import record_precheck
from geo.checks.ruleset import RuleSet, load_ruleset
from geo.checks.site import HAZARD_USES, SITE_KEY, SiteVerdict, precheck_site
from geo.checks.sources import bundle_near
from geo.constants import STORAGE_SRID
from geo.crs import gk_zone_epsg
from geo.layer_specs import PT_TYPES
from geo.rule_admin import effective_ruleset
from geo.rules import load_table
from layers.palette import FOUR_COLOUR, RiskLevel
from layers.site_file import read_site_file

__all__ = [
    "BLOCKING_VERDICTS", "DEFAULT_STATUSES", "MAP_SOURCE_TYPES", "SETTABLE_STATUSES", "STATUS_LABELS",
    "VERDICT_LABELS", "PrecheckResult", "SiteFacts", "bilingual", "class_label", "map_sources", "read_site_file",
    "reason_table", "recent_precheck", "register_table", "run_precheck", "site_facts", "status_label", "use_label",
    "use_options", "verdict_label", "zone_rings",
]

#: Remediation statuses, in the order offered, with (Chinese, English) labels.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "open": ("待整改", "Open"),
    "in_remediation": ("整改中", "In remediation"),
    "accepted": ("已认可(保留)", "Accepted"),
    "closed": ("已销号", "Closed"),
    "resolved": ("已消除(复查未再发现)", "Resolved (not found again)"),
}
#: Statuses a planner may set (``resolved`` is set only by a check run).
SETTABLE_STATUSES = ("open", "in_remediation", "accepted", "closed")
#: Statuses the register shows by default.
DEFAULT_STATUSES = ("open", "in_remediation")
#: Verdicts of findings and pre-check reasons, with (Chinese, English) labels.
VERDICT_LABELS: dict[str, tuple[str, str]] = {
    "violation": ("违规", "Violation"),
    "screen": ("筛查", "Screen"),
    "hca": ("高后果区", "HCA"),
    "permit": ("须经许可", "Permit needed"),
    "overdue": ("逾期", "Overdue"),
    "inventory": ("登记", "Inventory"),
}
#: Reason verdicts that make a pre-check advise against the site (as in :func:`geo.checks.site.precheck_site`).
BLOCKING_VERDICTS = ("violation", "screen", "hca")
#: Pre-check results kept for their PDF (newest last); a download reads them instead of checking again.
RECENT_PRECHECKS = 64


def _pick(labels: tuple[str, str], lang: str) -> str:
    return labels[0] if lang == "zh" else labels[1]


def status_label(status: str, lang: str = "zh") -> str:
    """Label of a remediation status code (unknown codes are returned as they are).

    Examples
    --------
    >>> status_label("in_remediation"), status_label("closed", "en")
    ('整改中', 'Closed')
    """
    return _pick(STATUS_LABELS[status], lang) if status in STATUS_LABELS else status


def verdict_label(verdict: str, lang: str = "zh") -> str:
    """Label of a finding verdict code (unknown codes are returned as they are).

    Examples
    --------
    >>> verdict_label("violation"), verdict_label("hca", "en")
    ('违规', 'HCA')
    """
    return _pick(VERDICT_LABELS[verdict], lang) if verdict in VERDICT_LABELS else verdict


def bilingual(text: Any, lang: str = "zh") -> str:
    """Pick the ``lang`` half of a ``"中文 / English"`` text (the whole text when it has no such split).

    A :class:`~geo.checks.findings.Bilingual` text (what the checks produce) gives its half from its
    structure, so a name containing " / " inside it is never cut. Plain stored text is split at the
    first " / " outside quotes and brackets (:meth:`Bilingual.parse`).

    Examples
    --------
    >>> bilingual("学校距管道 3 m / school 3 m from the pipeline", "en")
    'school 3 m from the pipeline'
    >>> bilingual("只有中文")
    '只有中文'
    >>> bilingual("距学校“甲 / 乙”3 m / 3 m from the school")
    '距学校“甲 / 乙”3 m'
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    if isinstance(text, Bilingual):
        return text.pick(lang)
    value = str(text)
    if " / " not in value:
        return value
    return Bilingual.parse(value).pick(lang)  # stored text: a " / " inside “a quoted name” is not the split


def use_label(code: str, lang: str = "zh") -> str:
    """Label of a protection-target type (intended use), e.g. ``"学校"`` or ``"School"``.

    Examples
    --------
    >>> use_label("elderly_home"), use_label("elderly_home", "en")
    ('养老院', 'Elderly home')
    """
    if lang == "zh":
        if code in HAZARD_USES:
            return HAZARD_USES[code][1]
        return PT_TYPES[code][0] if code in PT_TYPES else code
    return code.replace("_", " ").capitalize()


def use_options(lang: str = "zh") -> list[tuple[str, str]]:
    """``(code, label)`` of every intended use, in the data dictionary's order.

    Chinese labels list the synonyms too (``"学校(中小学、大学)"``).
    """
    out = []
    for code, labels in PT_TYPES.items():
        if lang == "zh":
            label = labels[0] + (f"({'、'.join(labels[1:])})" if len(labels) > 1 else "")
        else:
            label = use_label(code, "en")
        out.append((code, label))
    for code, labels in HAZARD_USES.items():  # the site as a new hazard: siting bans
        out.append((code, labels[0] if lang == "zh" else f"{use_label(code, 'en')} (new, rebuilt or expanded)"))
    return out


def class_label(cls: str, lang: str = "zh") -> str:
    """Label of a GB 36894 protection-target class code, e.g. ``high_sensitivity``.

    Examples
    --------
    >>> class_label("high_sensitivity")
    '高敏感防护目标'
    """
    classes = load_table("protection_target_classes")["classes"]
    return str(classes[cls][lang if lang in ("zh", "en") else "zh"]) if cls in classes else cls


#: Risk sources the planner map draws (points of enterprises and tailings ponds; HCAs and risk points are not).
MAP_SOURCE_TYPES = ("enterprise", "tailings_dam")


def map_sources(sources: gpd.GeoDataFrame, levels: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Return the risk sources the planner map draws, of the 四色 levels chosen.

    Parameters
    ----------
    sources : GeoDataFrame
        Risk sources as :func:`layers.sources.risk_sources` gives them (``source_type``, ``risk_level``).
    levels : iterable of str, optional
        Codes of :data:`layers.palette.FOUR_COLOUR` (``major``, ``significant``, ``general``, ``low``);
        None: all four. An empty choice shows none.

    Returns
    -------
    GeoDataFrame
        The enterprises and tailings ponds (:data:`MAP_SOURCE_TYPES`) of those levels, in the order given.

    Raises
    ------
    ValueError
        A code that is not a 四色 level.
    """
    chosen = {str(level) for level in (FOUR_COLOUR if levels is None else levels)}
    unknown = sorted(chosen - {level.value for level in RiskLevel})
    if unknown:
        raise ValueError(f"不是四色等级：{unknown} / not 四色 levels: {unknown}; known: "
                         f"{', '.join(level.value for level in RiskLevel)}")
    kept = sources["source_type"].isin(MAP_SOURCE_TYPES) & sources["risk_level"].isin(chosen)
    return sources[kept]


def _metres(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else round(number, 1)


def _date(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("Asia/Shanghai")
    return stamp.strftime("%Y-%m-%d")


def register_table(findings: gpd.GeoDataFrame, district_names: Mapping[str, str], *, lang: str = "zh",
                   rules: RuleSet | None = None) -> pd.DataFrame:
    """Lay out the violations register as display rows, one per stored finding.

    Parameters
    ----------
    findings : GeoDataFrame
        Rows of :func:`geo.store.read_findings`.
    district_names : mapping
        ``{adcode: name}``.
    lang : {"zh", "en"}
        Language of the labels.
    rules : RuleSet, optional
        Rule set for the rule names (default: the current one).

    Returns
    -------
    DataFrame
        Columns ``id``, ``rule_code``, ``rule`` (name), ``clause``, ``adcode``, ``district``,
        ``pair`` (subject → object), ``measured_m``, ``required_m``, ``verdict`` (label),
        ``status_code``, ``status`` (label), ``first_found``, ``last_found`` (dates), ``confidence``;
        in the order of ``findings``.
    """
    rules = rules or load_ruleset()
    columns = ["id", "rule_code", "rule", "clause", "adcode", "district", "pair", "measured_m", "required_m",
               "verdict", "status_code", "status", "first_found", "last_found", "confidence"]
    if findings is None or not len(findings):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    rows = []
    for rec in findings.drop(columns=findings.geometry.name).to_dict("records"):
        code = str(rec["rule_code"])
        rule = rules.rules.get(code)
        subject = rec.get("subject_name") or rec.get("subject_key") or ""
        obj = rec.get("object_name") or rec.get("object_key") or ""
        rows.append({
            "id": int(rec["id"]), "rule_code": code,
            "rule": (rule.zh if lang == "zh" else rule.en) if rule else code,
            "clause": str(rec.get("clause") or (rule.clause if rule else "")),
            "adcode": str(rec.get("adcode") or ""),
            "district": district_names.get(str(rec.get("adcode")), str(rec.get("adcode") or "")),
            "pair": f"{bilingual(subject, lang)} → {bilingual(obj, lang)}",
            "measured_m": _metres(rec.get("measured_m")), "required_m": _metres(rec.get("required_m")),
            "verdict": verdict_label(str(rec.get("verdict")), lang),
            "status_code": str(rec.get("status")), "status": status_label(str(rec.get("status")), lang),
            "first_found": _date(rec.get("first_found_at")), "last_found": _date(rec.get("last_found_at")),
            "confidence": rule.confidence if rule else "",
        })
    return pd.DataFrame(rows, columns=columns)


# --- site pre-check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteFacts:
    """Where a proposed site is and how big.

    ``lon``/``lat`` are a point inside the site (EPSG:4490); ``area_m2`` is 0 for a point;
    ``epsg`` is the Gauss-Krüger zone used for metres.
    """

    kind: str
    lon: float
    lat: float
    area_m2: float
    epsg: int

    def describe(self, lang: str = "zh") -> str:
        """One line such as ``"点 102.33639°E, 24.91395°N"`` or ``"地块 … 面积 12,345 m²"``.

        Examples
        --------
        >>> SiteFacts("point", 102.5, 24.9, 0.0, 4543).describe()
        '点 102.50000°E, 24.90000°N'
        """
        where = f"{self.lon:.5f}°E, {self.lat:.5f}°N"
        if self.kind == "point":
            return f"点 {where}" if lang == "zh" else f"Point {where}"
        if lang == "zh":
            return f"地块 中心 {where}，面积 {self.area_m2:,.0f} m²"
        return f"Parcel centred at {where}, area {self.area_m2:,.0f} m²"


def site_facts(site: shapely.Geometry) -> SiteFacts:
    """Centre (a point inside the site), area in m² and Gauss-Krüger zone of a site in EPSG:4490.

    Parameters
    ----------
    site : shapely.Geometry
        Point or polygon in EPSG:4490.

    Returns
    -------
    SiteFacts
    """
    inside = site.representative_point() if site.geom_type != "Point" else site
    epsg = gk_zone_epsg(inside.x)
    area = (float(gpd.GeoSeries([site], crs=STORAGE_SRID).to_crs(epsg).area.iloc[0])
            if site.geom_type != "Point" else 0.0)
    return SiteFacts("point" if site.geom_type == "Point" else "polygon", float(inside.x), float(inside.y),
                     area, epsg)


def zone_rings(site: shapely.Geometry, reasons: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rings around ``site`` at each distinct required distance of the reasons.

    A hazard inside a ring breaks the rule of that ring. Rings are the outlines of the site
    buffered by the required distance in metres in the site's CGCS2000 Gauss-Krüger zone,
    returned in EPSG:4490 as lines (so they do not hide what lies inside), largest first.

    Parameters
    ----------
    site : shapely.Geometry
        Site in EPSG:4490.
    reasons : GeoDataFrame
        ``SiteVerdict.reasons`` (``rule_code``, ``required_m``, ``verdict``).

    Returns
    -------
    GeoDataFrame
        Columns ``required_m``, ``rules`` (codes joined by ", "), ``blocking`` (bool), geometry.
    """
    empty = gpd.GeoDataFrame({"required_m": [], "rules": [], "blocking": []}, geometry=[], crs=STORAGE_SRID)
    if reasons is None or not len(reasons):
        return empty
    frame = pd.DataFrame({"rule_code": reasons["rule_code"].astype(str),
                          "required_m": pd.to_numeric(reasons["required_m"], errors="coerce"),
                          "blocking": reasons["verdict"].isin(BLOCKING_VERDICTS)})
    frame = frame[frame["required_m"].notna() & (frame["required_m"] > 0)]
    if not len(frame):
        return empty
    frame["required_m"] = frame["required_m"].round(1)
    grouped = frame.groupby("required_m").agg(
        rules=("rule_code", lambda s: ", ".join(dict.fromkeys(s))), blocking=("blocking", "any"))
    grouped = grouped.sort_index(ascending=False)
    epsg = site_facts(site).epsg
    site_m = gpd.GeoSeries([site], crs=STORAGE_SRID).to_crs(epsg).iloc[0]
    rings = [site_m.buffer(float(r), quad_segs=32).boundary for r in grouped.index]
    geoms = gpd.GeoSeries(rings, crs=epsg).to_crs(STORAGE_SRID).values
    return gpd.GeoDataFrame({"required_m": [float(r) for r in grouped.index], "rules": list(grouped["rules"]),
                             "blocking": [bool(b) for b in grouped["blocking"]]}, geometry=geoms, crs=STORAGE_SRID)


def reason_table(verdict: SiteVerdict, *, lang: str = "zh", rules: RuleSet | None = None) -> pd.DataFrame:
    """Lay out the reasons of a pre-check as display rows, blocking reasons first.

    Parameters
    ----------
    verdict : SiteVerdict
        Result of :func:`geo.checks.site.precheck_site`.
    lang : {"zh", "en"}
        Language of names, labels and details.
    rules : RuleSet, optional
        Rule set for names and confidence (default: the current one).

    Returns
    -------
    DataFrame
        Columns ``rule_code``, ``rule`` (name), ``clause``, ``source`` (the hazard: pipeline,
        enterprise, tailings pond…), ``measured_m``, ``required_m``, ``verdict`` (label),
        ``blocking`` (bool), ``unconfirmed`` (the rule's threshold is marked unconfirmed) and
        ``detail``.
    """
    rules = rules or verdict.rules or load_ruleset()
    columns = ["rule_code", "rule", "clause", "source", "measured_m", "required_m", "verdict", "blocking",
               "unconfirmed", "detail"]
    reasons = verdict.reasons
    if reasons is None or not len(reasons):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    rows = []
    for rec in reasons.drop(columns=reasons.geometry.name).to_dict("records"):
        code = str(rec["rule_code"])
        rule = rules.rules.get(code)
        site_is_subject = str(rec.get("subject_key")) == SITE_KEY
        source = rec.get("object_name") if site_is_subject else rec.get("subject_name")
        # the reason's text in the language, from its structure (never cut at " / ": names may hold it)
        detail = rec.get(f"detail_{lang}") if f"detail_{lang}" in rec else bilingual(rec.get("detail"), lang)
        rows.append({
            "rule_code": code, "rule": (rule.zh if lang == "zh" else rule.en) if rule else code,
            "clause": str(rec.get("clause") or (rule.clause if rule else "")),
            "source": source.pick(lang) if isinstance(source, Bilingual) else str(source or ""),
            "measured_m": _metres(rec.get("measured_m")),
            "required_m": _metres(rec.get("required_m")), "verdict": verdict_label(str(rec.get("verdict")), lang),
            "blocking": str(rec.get("verdict")) in BLOCKING_VERDICTS,
            "unconfirmed": bool(rule and rule.confidence != "confirmed"),
            "detail": str(detail or ""),
        })
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("blocking", ascending=False, kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class PrecheckResult:
    """One recorded site pre-check: what was asked, the verdict, and the key to find it again.

    Attributes
    ----------
    key : str
        Opaque key of :func:`recent_precheck` (kept by the page, e.g. in a ``dcc.Store``).
    site : shapely.Geometry
        The checked site, EPSG:4490.
    verdict : SiteVerdict
        The result, with every reason.
    actor : str
        Who asked (only they get the result back).
    """

    key: str
    site: shapely.Geometry
    verdict: SiteVerdict
    actor: str


_recent: OrderedDict[str, PrecheckResult] = OrderedDict()
_recent_lock = threading.Lock()


def run_precheck(engine: Engine, site: shapely.Geometry | Mapping[str, Any], use: str, *,
                 population: float | None = None, households: float | None = None, actor: str,
                 via: str = "dashboard", record: bool = True) -> PrecheckResult:
    """Check ``site`` for ``use`` against the rules in force, record it in the audit log and keep the result.

    Parameters
    ----------
    engine : Engine
        The store (features near the site and the city's local rule values are read from it).
    site : shapely.Geometry or mapping
        Point or parcel in EPSG:4490, or its GeoJSON geometry.
    use : str
        Intended use (code or label, see :func:`geo.checks.site.site_use`).
    population, households : float, optional
        People and households of the planned site (whole numbers are used).
    actor : str
        Who asked (written to the audit log).
    via : str
        ``"dashboard"`` or ``"cli"``.
    record : bool
        Write the audit entry (False only to rebuild a result already recorded).

    Returns
    -------
    PrecheckResult

    Raises
    ------
    ValueError
        The rules cannot judge the site (e.g. an unknown use).
    """
    geom = site if isinstance(site, shapely.Geometry) else shapely.geometry.shape(site)
    verdict = precheck_site(bundle_near(engine, geom), geom, use, rules=effective_ruleset(engine),
                            population=None if population is None else int(population),
                            households=None if households is None else int(households))
    if record:
        record_precheck(engine, geom, verdict, actor=actor, via=via)
    result = PrecheckResult(key=uuid.uuid4().hex, site=geom, verdict=verdict, actor=actor)
    with _recent_lock:
        _recent[result.key] = result
        while len(_recent) > RECENT_PRECHECKS:
            _recent.popitem(last=False)
    return result


def recent_precheck(key: str | None, *, actor: str) -> PrecheckResult | None:
    """Return the result :func:`run_precheck` gave ``actor`` under ``key``, or None when it is not kept (any more).

    Parameters
    ----------
    key : str or None
        :attr:`PrecheckResult.key`.
    actor : str
        Who asks; another person's result is not handed out.

    Returns
    -------
    PrecheckResult or None
    """
    with _recent_lock:
        found = _recent.get(str(key)) if key else None
    return found if found is not None and found.actor == actor else None
