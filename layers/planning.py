"""What the planner workspace shows, without Dash: the violations register and the site pre-check.

The register is the stored findings (``check_findings``, every status) with readable labels:
the Chinese or English rule name from the rule set, the district name, ``subject → object``,
verdict and remediation status. The pre-check helpers read a proposed parcel from a file
(GeoJSON, KML, zipped Shapefile, GeoPackage…) into one EPSG:4490 geometry, describe the site
(centre, area), draw rings at each reason's required distance (buffered in metres in the site's
CGCS2000 Gauss-Krüger zone) and lay the reasons out as a table; :mod:`layers.reasons_report`
prints the same table as a PDF.

Labels for verdicts and statuses are RiskMap's own wording (no standard fixes them).
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.checks.findings import Bilingual
from geo.checks.ruleset import RuleSet, load_ruleset
from geo.checks.site import HAZARD_USES, SITE_KEY, SiteVerdict
from geo.crs import SourceCRS, crs_to_source, gk_zone_epsg, undo_offset
from geo.errors import ReadError
from geo.layer_specs import PT_TYPES, layer_spec
from geo.readers import TABULAR, read_any
from geo.rules import load_table
from geo.validate import repair_geometry

__all__ = [
    "BLOCKING_VERDICTS", "DEFAULT_STATUSES", "SETTABLE_STATUSES", "STATUS_LABELS", "VERDICT_LABELS",
    "SiteFacts", "bilingual", "class_label", "read_site_file", "reason_table", "register_table",
    "site_facts", "status_label", "use_label", "use_options", "verdict_label", "zone_rings",
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
#: Geometry types accepted as a site.
_SITE_TYPES = ("Point", "Polygon", "MultiPolygon")


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
    area = float(gpd.GeoSeries([site], crs=4490).to_crs(epsg).area.iloc[0]) if site.geom_type != "Point" else 0.0
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
    empty = gpd.GeoDataFrame({"required_m": [], "rules": [], "blocking": []}, geometry=[], crs=4490)
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
    site_m = gpd.GeoSeries([site], crs=4490).to_crs(epsg).iloc[0]
    rings = [site_m.buffer(float(r), quad_segs=32).boundary for r in grouped.index]
    geoms = gpd.GeoSeries(rings, crs=epsg).to_crs(4490).values
    return gpd.GeoDataFrame({"required_m": [float(r) for r in grouped.index], "rules": list(grouped["rules"]),
                             "blocking": [bool(b) for b in grouped["blocking"]]}, geometry=geoms, crs=4490)


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


def _geometry_only(path: Path) -> tuple[list[Any], SourceCRS | None, str | None]:
    """Geometries and CRS of the first spatial layer of a vector file (zip/kmz unpacked), no attributes."""
    with TemporaryDirectory(prefix="riskmap-site-") as tmp:
        target = path
        if path.suffix.lower() in (".zip", ".kmz"):
            with zipfile.ZipFile(path) as zf:
                zf.extractall(tmp)
            inner = sorted(Path(tmp).rglob("*.shp")) + sorted(Path(tmp).rglob("*.kml"))
            if not inner:
                raise ReadError(f"{path}: 压缩包内没有 .shp 或 .kml / no .shp or .kml inside")
            target = inner[0]
        spatial = [str(n) for n, g in pyogrio.list_layers(target) if g]
        if not spatial:
            raise ReadError(f"{path}: 文件中没有几何 / no geometry in the file")
        gdf = pyogrio.read_dataframe(target, layer=spatial[0], columns=[])
        crs = crs_to_source(gdf.crs)
        declared = None
        if gdf.crs is not None and crs is None:
            declared = str(gdf.crs.name)
        return list(gdf.geometry.array), crs, declared


def read_site_file(path: Path) -> shapely.Geometry:
    """Read a proposed site (point or parcel) from a file: the first feature's geometry in EPSG:4490.

    Parameters
    ----------
    path : Path
        GeoJSON, KML/KMZ, zipped Shapefile, Shapefile or GeoPackage (also XLSX/CSV with
        经度/纬度). Coordinates may be CGCS2000 or WGS84 lon/lat, a CGCS2000 Gauss-Krüger zone
        declared by the file, or GCJ-02/BD-09 as declared by the reader.

    Returns
    -------
    shapely.Geometry
        A valid 2-D point or (multi)polygon in EPSG:4490.

    Raises
    ------
    ValueError
        With a Chinese and English message naming the file only (not its folder): unreadable,
        empty or non-spatial files, unsupported coordinate systems, projected coordinates
        without a declared CRS, lines, and polygons that cannot be repaired unambiguously.
    """
    path = Path(path)
    name = path.name
    try:
        try:
            raw = read_any(path, layer_spec("protection_targets"))
        except ReadError as exc:
            if "several layers" in str(exc):
                spatial = [str(n) for n, g in pyogrio.list_layers(path) if g]
                raw = read_any(path, layer_spec("protection_targets"), layer_name=spatial[0])
            elif "no data rows" in str(exc) and path.suffix.lower() not in TABULAR:
                raw = None  # features without attributes: read the geometry alone
            else:
                raise
        geometry, crs, declared = (_geometry_only(path) if raw is None
                                   else (list(raw.geometry), raw.file_crs, raw.declared_crs))
    except ReadError as exc:
        raise ValueError(str(exc).replace(str(path), name)) from exc
    geoms = [g for g in geometry if isinstance(g, shapely.Geometry) and not g.is_empty]
    if not geoms:
        raise ValueError(f"{name}: 文件中没有几何 / no geometry in the file")
    geom = shapely.force_2d(geoms[0])
    if geom.geom_type not in _SITE_TYPES:
        raise ValueError(f"{name}: 场地须为点或面，而不是 {geom.geom_type} / the site must be a point or a polygon, "
                         f"not a {geom.geom_type}")
    if declared:
        raise ValueError(f"{name}: 文件坐标系 {declared} 不受支持，请使用 CGCS2000/WGS84 经纬度或"
                         f"CGCS2000 高斯-克吕格投影 / unsupported CRS {declared}: use EPSG:4490, "
                         "EPSG:4326 or EPSG:4491–4554")
    coords = shapely.get_coordinates(geom)
    geographic = bool((np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all())
    if crs is None and not geographic:
        raise ValueError(f"{name}: 文件未声明坐标系且坐标不是经纬度 / no CRS declared and the coordinates are "
                         "not lon/lat")
    if crs is not None and crs.offset:
        geom = undo_offset(np.array([geom], dtype=object), crs.offset)[0]
    elif crs is not None and crs.epsg not in (4326, 4490):
        geom = gpd.GeoSeries([geom], crs=crs.epsg).to_crs(4490).iloc[0]
    elif not geographic:
        raise ValueError(f"{name}: 坐标像是投影坐标(米)而不是经纬度 / the coordinates look projected (metres), "
                         "not lon/lat")
    if not geom.is_valid:
        fixed, reason = repair_geometry(geom)
        if fixed is None:
            raise ValueError(f"{name}: 几何无效且无法自动修复({reason}) / invalid geometry that cannot be repaired "
                             f"unambiguously ({reason})")
        geom = fixed
    lon, lat = geom.representative_point().coords[0]
    if not (73 <= lon <= 136 and 3 <= lat <= 54):
        raise ValueError(f"{name}: 场地不在中国境内({lon:.4f}, {lat:.4f}) / the site is outside China")
    return geom
