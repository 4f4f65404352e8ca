"""Site pre-check: "may we put a school here?" — the planner's question, answered with every reason.

The proposed site is added to a small bundle of nearby layers as if it already
existed (as a protection target of its intended use and as a building), then the
ordinary rule families run; every finding that involves the site is a reason.
So the pre-check applies exactly the rules, thresholds and clauses of the
register, like the UK HSE's PADHI does with its zones, under Chinese rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.checks.bundle import LAYERS, Bundle
from geo.checks.code_separation import site_reach_m
from geo.checks.families import FAMILIES, precheck_families, site_ruleset
from geo.checks.findings import Bilingual, finding, findings_frame
from geo.checks.metric_frame import to_metric, to_storage
from geo.checks.mileage import format_mileage_range
from geo.checks.ruleset import Rule, RuleSet, load_ruleset
from geo.checks.runner import run_checks
from geo.constants import STORAGE_SRID
from geo.layer_specs import PT_TYPES
from geo.rules import protection_target_class

SITE_KEY = "SITE"
#: Name of the proposed site in the layers it joins (stored as "拟建场地 / proposed site").
SITE_NAME = Bilingual("拟建场地", "proposed site")
#: How far around the site hazards are gathered (m); enterprises declaring a larger external
#: safety distance are gathered up to that distance.
REACH_M = 5000.0
#: How far around the site other buildings and targets are gathered: they matter only for the
#: location class of the 2 km windows the site falls in (GB 50251 4.2.2).
CONTEXT_M = 2500.0
#: Building use recorded for the site, by intended use.
_BUILDING_USE = {"residential": "residential", "commercial": "commercial", "hotel": "commercial",
                 "office": "commercial", "factory": "industrial"}
ADVISE_AGAINST, NO_OBJECTION = "advise_against", "no_objection"


@dataclass
class SiteVerdict:
    """Result of a site pre-check."""

    verdict: str
    use: str
    gb36894_class: str
    reasons: gpd.GeoDataFrame
    #: Non-blocking reasons and remarks, each Chinese and English (:class:`Bilingual`).
    notes: list[Bilingual] = field(default_factory=list)
    #: The rules the verdict was reached with (the file's, or with a city's local values).
    rules: RuleSet | None = None

    @property
    def label_zh(self) -> str:
        """Chinese verdict label."""
        return "不建议(存在限制)" if self.verdict == ADVISE_AGAINST else "无异议"

    @property
    def label_en(self) -> str:
        """English verdict label."""
        return "Advise against" if self.verdict == ADVISE_AGAINST else "No objection"


#: Intended uses that are hazards themselves: the site is checked as a new pond or project, not as a target.
HAZARD_USES: dict[str, tuple[str, ...]] = {
    "tailings_pond": ("尾矿库(新建、改建、扩建)", "尾矿库", "新建尾矿库"),
    "chemical_project": ("化工项目(新建、改建、扩建)", "化工项目", "化工园区", "危险化学品项目"),
}


def site_use(use: str) -> str:
    """Normalise an intended use (code or Chinese label, e.g. ``"学校"``) to its code.

    Protection-target types (school, housing…) and the hazard uses of :data:`HAZARD_USES`.

    Examples
    --------
    >>> site_use("学校")
    'school'
    >>> site_use("hospital")
    'hospital'
    >>> site_use("尾矿库")
    'tailings_pond'
    """
    for code, labels in (*PT_TYPES.items(), *HAZARD_USES.items()):
        if use == code or use in labels:
            return code
    raise ValueError(f"未知用途 / unknown use {use!r}; use one of: {', '.join([*PT_TYPES, *HAZARD_USES])}")


def site_bundle(base: Bundle, site: shapely.Geometry, use: str, *, population: int | None = None,
                households: int | None = None) -> Bundle:
    """Bundle of ``base`` layers near ``site`` plus the site as a protection target and a building.

    Parameters
    ----------
    base : Bundle
        Layers to draw from (EPSG:4490).
    site : shapely.Geometry
        Point or polygon of the proposed development (EPSG:4490).
    use : str
        Protection-target type code.
    population, households : int, optional
        Expected occupancy (drives the GB 36894 class of general targets).

    Returns
    -------
    Bundle
    """
    epsg = base.metric_epsg
    site_m = to_metric(site, epsg)
    ents = base["enterprises"]
    declared = ents["external_distance_m"].max() if len(ents) and "external_distance_m" in ents else None
    reach = max(REACH_M, float(declared) if declared == declared and declared is not None else 0.0)
    windows = {r: to_storage([site_m.buffer(r)], epsg)[0] for r in (reach, CONTEXT_M)}
    frames = _near(base, lambda layer: windows[CONTEXT_M if layer in ("buildings", "protection_targets") else reach])
    adcode = _district_of(base["districts"], site)
    pt_class = protection_target_class(use, households, population)
    target = {"key": SITE_KEY, "name": SITE_NAME, "target_type": use,
              "gb36894_class": pt_class, "population": population, "households": households,
              "adcode": adcode}
    building = {"key": SITE_KEY, "name": SITE_NAME, "use": _BUILDING_USE.get(use, "public"),
                "households": households or 0, "floors": 1, "adcode": adcode}
    frames["protection_targets"] = _append(frames["protection_targets"], target, site)
    frames["buildings"] = _append(frames["buildings"], building, site)
    return Bundle(frames, metric_epsg=epsg)


def _near(base: Bundle, window_of: Callable[[str], shapely.Geometry]) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of ``base`` cut to the rows meeting its window (districts whole)."""
    frames: dict[str, gpd.GeoDataFrame] = {}
    for layer in LAYERS:
        frame = base[layer]
        if layer == "districts" or not len(frame):
            frames[layer] = frame
            continue
        window = window_of(layer)
        shapely.prepare(window)
        meets = shapely.intersects(np.asarray(frame.geometry.values, dtype=object), window)
        frames[layer] = frame if meets.all() else frame[meets]  # a window read has cut most layers already
    return frames


#: Parameters of the HCA family's rules that say how far from a pipeline's centreline it looks
#: (the others, ``window_m``, ``step_m`` and ``extend_m``, run along the line).
_HCA_LATERAL = {"LOC_CLASS": ("corridor_m",), "HCA_OIL": ("corridor_m", "near_m"),
                "HCA_GAS": ("corridor_m", "other_m", "flammable_m")}
_HCA_ALONG = ("window_m", "step_m", "extend_m")
#: Added to that lateral reach when choosing what may matter to the HCA family near a site (m):
#: a polygon buffered in metres and sent in lon/lat differs from the exact one by far less.
NEAR_MARGIN_M = 100.0


def hca_lateral_m(rules: RuleSet, pipes: gpd.GeoDataFrame) -> float | None:
    """Return how far from a pipeline the HCA family looks (m), or None when a rule has a distance not known here.

    The largest lateral distance of the HCA family's rules (corridor, near, other and flammable
    distances) and the gas impact radius (GB 32167 式(1)) of every line of ``pipes``; a building or
    target farther than that from every pipeline changes no location class and triggers no HCA.

    Parameters
    ----------
    rules : RuleSet
        The rules of the pre-check.
    pipes : GeoDataFrame
        Pipelines (``outside_diameter_mm``, ``maop_mpa``).

    Returns
    -------
    float or None
        Metres; None when a rule of the family has a distance parameter this function does not know
        (then nothing may be left out).
    """
    reach = 0.0
    for rule in rules.rules.values():
        if rule.family != "hca":
            continue
        lateral = _HCA_LATERAL.get(rule.code, ())
        for key in rule.params:
            if str(key).endswith("_m") and key not in lateral and key not in _HCA_ALONG:
                return None
        reach = max([reach, *(float(rule.params[k]) for k in lateral if k in rule.params)])
    gas = rules.rules.get("HCA_GAS")
    if gas is not None and len(pipes) and {"outside_diameter_mm", "maop_mpa"} <= set(pipes.columns):
        d = pd.to_numeric(pipes["outside_diameter_mm"], errors="coerce").to_numpy(dtype=float)
        p = pd.to_numeric(pipes["maop_mpa"], errors="coerce").to_numpy(dtype=float)
        radius = float(gas.params.get("radius_coeff", 0.0)) * d * np.sqrt(np.clip(p, 0.0, None))
        reach = max(reach, float(np.nan_to_num(radius, nan=np.inf).max(initial=0.0)))
    return reach if np.isfinite(reach) else None


def _near_pipelines(bundle: Bundle, site_m: shapely.Geometry, rules: RuleSet) -> Bundle:
    """Return ``bundle`` with only the pipelines the site (``site_m``, metric) may make an HCA on (each line alone)."""
    pipes = bundle["pipelines"]
    lateral = hca_lateral_m(rules, pipes)
    if lateral is None or not len(pipes):
        return bundle
    near = shapely.dwithin(np.asarray(bundle.metric("pipelines").geometry.values, dtype=object), site_m,
                           lateral + NEAR_MARGIN_M)
    frames = dict(bundle.frames)
    frames["pipelines"] = pipes[near]
    return Bundle(frames, metric_epsg=bundle.metric_epsg)


def _largest_m(rules: list[Rule]) -> float:
    """Return the largest distance of ``rules``: thresholds and every number under a parameter named ``*_m``."""
    def numbers(node: Any) -> list[float]:
        if isinstance(node, dict):
            return [v for item in node.values() for v in numbers(item)]
        return [float(node)] if isinstance(node, int | float) and not isinstance(node, bool) else []

    found = [float(r.threshold_m) for r in rules if r.threshold_m is not None]
    found += [v for r in rules for k, node in r.params.items() if str(k).endswith("_m") for v in numbers(node)]
    return max(found, default=0.0)


def _near_site(bundle: Bundle, layer: str, site_m: shapely.Geometry, reach_m: float) -> gpd.GeoDataFrame:
    """Return the rows of ``layer`` within ``reach_m`` (+ :data:`NEAR_MARGIN_M`) of ``site_m`` (metric), in metres."""
    frame = bundle[layer]
    if not len(frame):
        return frame
    geoms = np.asarray(frame.geometry.values, dtype=object)
    near = shapely.dwithin(np.asarray(bundle.metric(layer).geometry.values, dtype=object), site_m,
                           reach_m + NEAR_MARGIN_M) & ~shapely.is_missing(geoms)
    return frame[near]


def _precheck_hazard(base: Bundle, site: shapely.Geometry, code: str, rules: RuleSet, *,
                     as_of: dt.date | None) -> SiteVerdict:
    """Pre-check a proposed tailings pond or chemical project: the site enters as the new hazard."""
    epsg = base.metric_epsg
    site_m = to_metric(site, epsg)
    reach = REACH_M
    if "YANGTZE_SITING" in rules.rules:  # the limits are editable: the window follows them
        p = rules["YANGTZE_SITING"].params
        reach = max(reach, *(float(v) + 1000.0 for lim in (p["tailings_m"], p["chemical_m"]) for v in lim.values()))
    window = to_storage([site_m.buffer(reach)], epsg)[0]
    frames = _near(base, lambda _layer: window)
    adcode = _district_of(base["districts"], site)
    name = SITE_NAME
    if code == "tailings_pond":
        dams = frames["tailings_dams"]
        frames["tailings_dams"] = _append(dams.iloc[0:0] if len(dams) else dams, {
            "key": SITE_KEY, "name": name, "status": "building", "adcode": adcode}, site)
    else:
        ents = frames["enterprises"]
        frames["enterprises"] = _append(ents.iloc[0:0] if len(ents) else ents, {
            "key": SITE_KEY, "name": name, "industry": "hazchem_production", "installation_status": "new",
            "adcode": adcode}, site)
    result = run_checks(Bundle(frames, metric_epsg=epsg), rules, families=["siting"], as_of=as_of)
    found = result.findings
    involved = found[found["subject_key"] == SITE_KEY]
    blocking = involved["verdict"].isin(["violation", "screen", "hca"])
    notes = [Bilingual("只检查选址禁限(长江保护法第26条)；安全距离、头顶库与环评另行评估", "only the siting bans "
                       "are checked here; safety distances, downstream receptors and the EIA are assessed separately")]
    reasons = _with_halves(gpd.GeoDataFrame(involved.reset_index(drop=True), geometry="geometry", crs=STORAGE_SRID))
    return SiteVerdict(ADVISE_AGAINST if bool(blocking.any()) else NO_OBJECTION, code, "", reasons, notes,
                       rules=rules)


def _append(frame: gpd.GeoDataFrame, row: dict[str, Any], geom: shapely.Geometry) -> gpd.GeoDataFrame:
    if not len(frame):  # the layer's other columns stay, empty, as beside rows read
        extra = gpd.GeoDataFrame([row], geometry=[geom], crs=STORAGE_SRID)
        for col in frame.columns:
            if col not in extra.columns:
                extra[col] = float("nan")
        return extra
    name = frame.geometry.name  # (concatenated as plain frames: the same columns and dtypes, made faster)
    extra = pd.DataFrame([row])
    extra[name] = [geom]
    return gpd.GeoDataFrame(pd.concat([pd.DataFrame(frame), extra], ignore_index=True), geometry=name,
                            crs=STORAGE_SRID)


def _district_of(districts: gpd.GeoDataFrame, geom: shapely.Geometry) -> str | None:
    if not len(districts):
        return None
    hits = districts.sindex.query(geom.representative_point(), predicate="intersects")
    return str(districts.iloc[hits[0]]["adcode"]) if len(hits) else None


def _one_per_subject(found: pd.DataFrame) -> pd.DataFrame:
    """Keep one reason per (rule, hazard): the site enters the rules as a target *and* as a building.

    A plant part, a pipeline or a tailings pond may therefore be too close to the site twice under
    the same rule (e.g. 头顶库 counts both targets and buildings as receptors); the stricter
    requirement is the reason kept.
    """
    if not len(found):
        return found
    ranked = found.sort_values(["required_m", "object_type"], ascending=[False, False], kind="stable",
                               na_position="last")
    kept = ranked.drop_duplicates(["rule_code", "subject_type", "subject_key"])
    return kept.sort_index()


def _with_halves(reasons: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add ``detail_zh`` and ``detail_en``: each reason's text in each language, from its structure.

    Details are :class:`~geo.checks.findings.Bilingual`, so nothing cuts a text at " / " (the site's
    own name, or a hazard's, may contain it); the site's bilingual name is written in the language.
    """
    out = reasons.copy()
    zh, en = [], []
    for text in out["detail"].tolist() if len(out) else []:
        pair = (text.zh, text.en) if isinstance(text, Bilingual) else (str(text or ""), str(text or ""))
        zh.append(pair[0].replace(str(SITE_NAME), SITE_NAME.zh))
        en.append(pair[1].replace(str(SITE_NAME), SITE_NAME.en))
    out["detail_zh"] = pd.Series(zh, index=out.index, dtype=object)
    out["detail_en"] = pd.Series(en, index=out.index, dtype=object)
    return out


def _site_distances(bundle: Bundle, keys: set[str]) -> dict[str, float]:
    """Distance (m, Gauss-Krüger zone) from the site to each pipeline of ``keys``."""
    pipes = bundle.metric("pipelines")
    targets = bundle.metric("protection_targets")
    if not len(pipes) or not len(targets) or "key" not in pipes.columns:
        return {}
    site = targets[targets["key"] == SITE_KEY].geometry
    if not len(site):
        return {}
    mine = pipes[pipes["key"].astype(str).isin(keys)]
    return {str(k): float(g.distance(site.iloc[0])) for k, g in zip(mine["key"], mine.geometry, strict=True)}


def _hca_reasons(segments: gpd.GeoDataFrame | None, rules: RuleSet, bundle: Bundle) -> gpd.GeoDataFrame:
    """HCA segments the site itself would trigger, as findings (the site would create an HCA).

    The measured distance is the site's own distance from the pipeline (not the segment's nearest
    trigger, which may be another building); the mileage range is labelled like every other.
    """
    if segments is None or not len(segments):
        return findings_frame([])
    keys = segments["trigger_keys"].fillna("").astype(str).str.split(",")
    mine = segments[keys.apply(lambda ks: SITE_KEY in ks)]
    distance = _site_distances(bundle, {str(k) for k in mine["pipeline_key"]})
    records = []
    for row in mine.itertuples():
        rule = rules["HCA_GAS" if row.medium == "gas" else "HCA_OIL"]
        grade = "ⅠⅡⅢ"[int(row.grade) - 1]
        rng = format_mileage_range(float(row.start_m), float(row.end_m))
        d = distance.get(str(row.pipeline_key))
        away_zh = "" if d is None else f"，场地距管道中心线 {d:.1f} m"
        away_en = "" if d is None else f"; the site is {d:.1f} m from the centreline"
        records.append(finding(
            rule, subject_type="pipelines", subject_key=row.pipeline_key, subject_name=row.pipeline_name,
            object_type="site", object_key=SITE_KEY, object_name=SITE_NAME.zh, measured_m=d,
            required_m=row.required_m, verdict="hca", adcode=row.adcode, geometry=row.geometry,
            detail=Bilingual(f"拟建场地将使管道形成{grade}级高后果区(准则 {row.criterion}，里程 {rng}){away_zh}",
                             f"the site would create a grade {int(row.grade)} HCA (rows {row.criterion}, "
                             f"chainage {rng}){away_en}"),
        ))
    return findings_frame(records)


def precheck_site(
    base: Bundle,
    site: shapely.Geometry,
    use: str,
    *,
    rules: RuleSet | None = None,
    population: int | None = None,
    households: int | None = None,
    as_of: dt.date | None = None,
) -> SiteVerdict:
    """Check a proposed site against every rule; return the verdict and all reasons.

    Parameters
    ----------
    base : Bundle
        Existing layers (the whole store or a window around the site).
    site : shapely.Geometry
        Point or polygon in EPSG:4490; a polygon straddling several zones counts in each.
    use : str
        Intended use: a protection-target type code or its Chinese label (学校, 医院, 住宅…).
    rules : RuleSet, optional
        Rule set (default: ``geo/rules/checks.yaml``).
    population, households : int, optional
        Expected occupancy.
    as_of : date, optional
        Reference date.

    Returns
    -------
    SiteVerdict
        ``advise_against`` when any rule is broken, the site falls in a screen
        zone or it would create a high-consequence area; otherwise ``no_objection``
        (permit-zone notes may still apply).
    """
    rules = rules or load_ruleset()
    code = site_use(use)
    if site is None or site.is_empty or not site.is_valid:
        raise ValueError("场地几何无效 / the site geometry is empty or invalid")
    if code in HAZARD_USES:
        return _precheck_hazard(base, site, code, rules, as_of=as_of)
    bundle = site_bundle(base, site, code, population=population, households=households)
    # Only the site is exposed in the distance families; the HCA family also needs its neighbours.
    alone = Bundle(dict(bundle.frames), metric_epsg=bundle.metric_epsg)
    for layer in ("protection_targets", "buildings"):
        frame = bundle[layer]
        alone.frames[layer] = frame[frame["key"] == SITE_KEY]
    alone.frames["infrastructure"] = bundle["infrastructure"].iloc[0:0]  # crossings etc. are not about the site
    # plant parts farther from the site than any code separation owe it nothing (parts are compared
    # with the site alone, never with each other, as the rules that judge existing features are left out)
    site_rules = site_ruleset(rules)
    site_m = to_metric(site, bundle.metric_epsg)
    alone.frames["installations"] = _near_site(bundle, "installations", site_m, site_reach_m(site_rules))
    # likewise the pipelines farther from the site than the pipeline rules look (each line is whole)
    alone.frames["pipelines"] = _near_site(bundle, "pipelines", site_m, _largest_m(site_rules.family("pipeline")))
    # one thread: a site's window is small, and threads would cost more than they save
    result = run_checks(alone, site_rules, families=precheck_families("site"), as_of=as_of, threads=1)
    neighbours = _near_pipelines(bundle, site_m, rules)
    for name in precheck_families("neighbours"):  # only the segments the site helps make are reasons
        segments = FAMILIES[name].segments
        if segments is not None:
            result.hca_segments = segments(neighbours, rules)
    f = result.findings
    register_only = {"LOC_CLASS", "HCA_UNDECLARED", "HCA_REVIEW", "HCA_OIL", "HCA_GAS"}
    involved = f[((f["object_key"] == SITE_KEY) | (f["subject_key"] == SITE_KEY))
                 & ~f["rule_code"].isin(register_only)]
    involved = _one_per_subject(involved)
    hca_reasons = _hca_reasons(result.hca_segments, rules, bundle)
    if len(hca_reasons):
        involved = pd.concat([involved, hca_reasons], ignore_index=True)
    blocking = involved["verdict"].isin(["violation", "screen", "hca"])
    reasons = _with_halves(gpd.GeoDataFrame(involved.reset_index(drop=True), geometry="geometry", crs=STORAGE_SRID))
    quiet = ~reasons["verdict"].isin(["violation", "screen", "hca"])
    notes = [Bilingual(f"{r.rule_code}: {r.detail_zh}", f"{r.rule_code}: {r.detail_en}")
             for r in reasons[quiet].itertuples()]
    verdict = ADVISE_AGAINST if bool(blocking.any()) else NO_OBJECTION
    return SiteVerdict(verdict, code, protection_target_class(code, households, population), reasons, notes,
                       rules=rules)
