"""The 4张清单 of major safety risks: 基础清单, 防控清单, 责任清单 and 应急清单.

No national document fixing the four lists' fields was found (standards.md §9, [U]); the field
sets follow the design proposal in standards.md §9, built on 安委办〔2016〕11号 ("重大安全风险应
填写清单、汇总造册") and the Anhui 安全风险点清单 template. Every list has one row per risk point
(layer ``risk_points``), keeps the point geometry (EPSG:4490) and is sorted by risk level
(重大 first) then code. Headers are Chinese with units (``lang="zh"``), English (``"en"``) or the
canonical field names (``"raw"``); see :data:`LISTS`. Colours come from :mod:`layers.palette`.

Adaptations to RiskMap's data model
-----------------------------------
All lists
    ``risk_id`` is the risk point ``code`` and ``district_code`` its ``adcode`` (GB/T 2260); the
    district name (``district``) and the risk level are repeated in every list so each list
    reads on its own.
基础清单 (basic)
    The township is the stored name (``township``), not a township code. Coordinates are the
    point's longitude/latitude (the Anhui template asks for the centre point). ``colour`` is
    the palette colour of the level. Key check attributes are joined from other layers:
    ``mhs_grade`` (GB 18218 grade 1–4, as declared) and ``external_distance_m`` (declared GB/T 37243
    distance) from the enterprise with the same unified social credit code, and the grade and R
    computed from its units' inventories (``mhs_computed_grade``, ``mhs_r``;
    :func:`geo.checks.mhs.mhs_table`, empty when no unit reaches S ≥ 1); for 尾矿库 points
    the design grade (等别) and 安全度 of the nearest tailings pond within
    :data:`LINK_RADIUS_M` (one with the same credit code preferred); for 油气管道 points the
    grade of the nearest HCA segment within :data:`LINK_RADIUS_M`.
防控清单 (control)
    Hidden hazards (layer ``hidden_hazards``) are linked by ``risk_point_code`` = the risk point
    ``code`` (from every district of the bundle, since a hazard may be recorded just across a
    boundary). A hazard is *open* while its status is 未整改 or 整改中. The list shows counts
    (all, open, open major, open and past the deadline on ``as_of``), the open items with their
    status and deadline, and the nearest (earliest) deadline of an open major hazard.
责任清单 (responsibility)
    挂牌 status is ``listed``; the responsible unit (``entity_name``) is added.
应急清单 (emergency)
    The stored text of plan, rescue team, depot, shelter, medical point and alarm targets is
    listed as recorded; distances/ETAs of the nearest rescue teams and evacuation routes are not
    modelled (no resources layer yet).

Dates are ISO strings (``YYYY-MM-DD``). With ``lang="zh"`` coded values (levels, category,
responsibility level, 安全度, HCA grade) are shown with their Chinese labels; ``"en"`` shows
levels in English and other codes as stored; ``"raw"`` keeps every code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.checks.bundle import Bundle
from geo.checks.mhs import mhs_table
from geo.checks.ruleset import RuleSet, load_ruleset
from geo.constants import CLOSED_HAZARD_STATUSES, NOT_HAZARD_STATUSES, OPEN_HAZARD_STATUSES, STORAGE_SRID
from geo.layer_specs import HIDDEN_HAZARDS, RISK_POINTS, TAILINGS
from layers.measures import LINK_RADIUS_M
from layers.palette import RiskLevel, level_colour, level_label
from layers.values import present, text_or_none

__all__ = ["LANGS", "LINK_RADIUS_M", "LISTS", "ListSpec", "four_lists", "list_titles"]

#: Header languages: Chinese headers with units, English headers, canonical field names.
LANGS = ("zh", "en", "raw")
_LEVELS = tuple(level.value for level in RiskLevel)  # highest first
_ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ"}


@dataclass(frozen=True)
class ListSpec:
    """One of the four lists: its key, titles and columns.

    ``columns`` maps each canonical field name to its Chinese header (unit in brackets, e.g.
    ``"evacuation_radius_m"`` → ``"疏散半径(m)"``), in list order; ``columns_en`` gives the
    English headers.
    """

    key: str
    zh: str
    en: str
    columns: dict[str, str]
    columns_en: dict[str, str]

    def title(self, lang: str = "zh") -> str:
        """Title of the list in ``lang`` ("zh", "en" or "raw" for the key)."""
        _check_lang(lang)
        return {"zh": self.zh, "en": self.en}.get(lang, self.key)

    def headers(self, lang: str = "zh") -> dict[str, str]:
        """Field name → header in ``lang`` ("raw" maps every field to itself).

        Examples
        --------
        >>> LISTS["emergency"].headers("zh")["evacuation_radius_m"]
        '疏散半径(m)'
        >>> LISTS["emergency"].headers("en")["evacuation_radius_m"]
        'Evacuation radius (m)'
        """
        _check_lang(lang)
        if lang == "zh":
            return dict(self.columns)
        if lang == "en":
            return dict(self.columns_en)
        return {name: name for name in self.columns}


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")


#: English spelling of units used in Chinese headers (None: no unit in the English header).
_UNIT_EN: dict[str, str | None] = {"人": "persons", "项": None}


def _headers(zh: str, en: str, unit: str | None) -> tuple[str, str]:
    unit_en = _UNIT_EN.get(unit, unit) if unit else None
    return (f"{zh}({unit})" if unit else zh, f"{en} ({unit_en})" if unit_en else en)


def _rp(name: str, zh: str | None = None, en: str | None = None) -> tuple[str, str, str]:
    """Column taken from the ``risk_points`` spec (headers and unit from the data dictionary)."""
    f = RISK_POINTS.field(name)
    return (name, *_headers(zh or f.zh, en or f.en, f.unit))


def _col(name: str, zh: str, en: str, unit: str | None = None) -> tuple[str, str, str]:
    """Describe a derived column."""
    return (name, *_headers(zh, en, unit))


_COMMON = (
    _rp("code", "风险点编号", "Risk point code"),
    _rp("name", "风险点名称", "Risk point name"),
    _rp("adcode"),
    _col("district", "区县", "District"),
)
_LEVEL = _rp("risk_level")


def _spec(key: str, zh: str, en: str, cols: tuple[tuple[str, str, str], ...]) -> ListSpec:
    return ListSpec(key, zh, en, {c[0]: c[1] for c in cols}, {c[0]: c[2] for c in cols})


#: The four lists, in the order they are shown.
LISTS: dict[str, ListSpec] = {
    s.key: s
    for s in (
        _spec("basic", "基础清单", "Basic list", (
            *_COMMON,
            _rp("category"), _rp("subcategory"), _rp("entity_name"), _rp("credit_code"), _rp("address"),
            _rp("township"), _col("lon", "经度", "Longitude", "°"), _col("lat", "纬度", "Latitude", "°"),
            _rp("hazard"), _rp("trigger"), _rp("consequence"), _LEVEL,
            _col("colour", "颜色标识", "Colour"),
            _rp("assessment_method"), _rp("assessed_on"), _rp("population_exposed"),
            _col("mhs_grade", "重大危险源等级", "Major hazard installation grade"),
            _col("mhs_computed_grade", "重大危险源计算等级", "Major hazard installation grade (computed)"),
            _col("mhs_r", "重大危险源R值", "Major hazard installation R"),
            _col("external_distance_m", "外部安全防护距离", "External safety distance", "m"),
            _col("tailings_design_grade", "尾矿库等别", "Tailings pond design grade"),
            _col("tailings_safety_degree", "尾矿库安全度", "Tailings pond safety degree"),
            _col("hca_grade", "高后果区等级", "HCA grade"),
        )),
        _spec("control", "防控清单", "Prevention and control list", (
            *_COMMON, _LEVEL,
            _rp("engineering_controls"), _rp("management_controls"), _rp("monitoring"),
            _rp("inspection_frequency"),
            _col("hazards_total", "隐患总数", "Hidden hazards, total", "项"),
            _col("hazards_open", "未整改隐患", "Hidden hazards, open", "项"),
            _col("hazards_major_open", "未整改重大隐患", "Major hidden hazards, open", "项"),
            _col("hazards_overdue", "逾期未整改隐患", "Hidden hazards, overdue", "项"),
            _col("open_hazards", "未整改隐患事项(整改状态,期限)", "Open hidden-hazard items (status, deadline)"),
            _col("next_major_deadline", "最近重大隐患整改期限", "Nearest major-hazard deadline"),
            _rp("reviewed_on"), _rp("residual_level"),
        )),
        _spec("responsibility", "责任清单", "Responsibility list", (
            *_COMMON, _LEVEL,
            _rp("entity_name", "责任单位", "Responsible unit"), _rp("principal"), _rp("principal_phone"),
            _rp("liaison"), _rp("supervising_dept"), _rp("township"), _rp("grid_officer"),
            _rp("responsibility_level"), _rp("listed"),
        )),
        _spec("emergency", "应急清单", "Emergency list", (
            *_COMMON, _LEVEL,
            _rp("plan_name"), _rp("plan_level"), _rp("plan_date"), _rp("last_drill_on"), _rp("rescue_team"),
            _rp("supplies_depot"), _rp("shelter"), _rp("medical_point"), _rp("alarm_targets"),
            _rp("evacuation_radius_m"),
        )),
    )
}

_DATE_FIELDS = ("assessed_on", "reviewed_on", "plan_date", "last_drill_on")
_INT_FIELDS = ("population_exposed", "mhs_grade", "mhs_computed_grade", "tailings_design_grade", "hazards_total",
               "hazards_open", "hazards_major_open", "hazards_overdue")
_FLOAT_FIELDS = ("lon", "lat", "external_distance_m", "evacuation_radius_m", "mhs_r")


def list_titles(lang: str = "zh") -> dict[str, str]:
    """Titles of the four lists, keyed ``basic``, ``control``, ``responsibility``, ``emergency``.

    Parameters
    ----------
    lang : {"zh", "en", "raw"}
        Chinese titles, English titles, or the keys themselves.

    Returns
    -------
    dict

    Examples
    --------
    >>> list_titles()
    {'basic': '基础清单', 'control': '防控清单', 'responsibility': '责任清单', 'emergency': '应急清单'}
    """
    _check_lang(lang)
    return {key: spec.title(lang) for key, spec in LISTS.items()}


# ---------------------------------------------------------------------------------------------
# value helpers
# ---------------------------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    """ISO date string of a date, timestamp or date text (None when missing)."""
    if not present(value):
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return pd.Timestamp(str(value)).date().isoformat()
    except ValueError:
        return str(value).strip()  # not a date: shown as recorded


def _date(value: Any) -> dt.date | None:
    iso = _iso(value)
    try:
        return None if iso is None else dt.date.fromisoformat(iso)
    except ValueError:
        return None


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return list(frame[name]) if name in frame.columns else [None] * len(frame)


# ---------------------------------------------------------------------------------------------
# joins
# ---------------------------------------------------------------------------------------------
def _nearest(points: gpd.GeoSeries, credit: list[str | None], targets: gpd.GeoDataFrame,
             radius: float) -> list[int | None]:
    """Position in ``targets`` of the feature nearest each point within ``radius`` (metric CRS).

    A target with the same credit code as the point wins over a nearer one without it.
    """
    out: list[int | None] = [None] * len(points)
    if not len(points) or not len(targets):
        return out
    geoms = targets.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    src, dst = tree.query(points.to_numpy(), predicate="dwithin", distance=radius)
    if not len(src):
        return out
    dist = shapely.distance(points.to_numpy()[src], geoms[dst])
    tcredit = np.array([text_or_none(v) for v in _column(targets, "credit_code")], dtype=object)
    pcredit = np.array(credit, dtype=object)
    mismatch = ~((pcredit[src] == tcredit[dst]) & np.array([c is not None for c in pcredit[src]]))
    pairs = pd.DataFrame({"src": src, "dst": dst, "mismatch": mismatch, "dist": dist})
    best = pairs.sort_values(["src", "mismatch", "dist", "dst"]).drop_duplicates("src")
    for s, d in zip(best["src"], best["dst"], strict=True):
        out[int(s)] = int(d)
    return out


def _basic_attrs(bundle: Bundle, rps: gpd.GeoDataFrame, rps_m: gpd.GeoDataFrame, lang: str,
                 rules: RuleSet) -> dict[str, list[Any]]:
    """Key check attributes joined from enterprises (declared and computed MHS grade), tailings ponds and HCAs."""
    ents = bundle["enterprises"]
    by_credit = {str(c): i for i, c in enumerate(_column(ents, "credit_code")) if present(c)}
    credit = [text_or_none(c) for c in _column(rps, "credit_code")]
    ent_pos = [by_credit.get(c) if c else None for c in credit]
    mhs = _column(ents, "mhs_grade")
    ext = _column(ents, "external_distance_m")
    linked = {c for c, i in zip(credit, ent_pos, strict=True) if c is not None and i is not None}
    computed = mhs_table(bundle, rules, credit_codes=linked).set_index("credit_code") if linked else None

    def of(code: str | None, column: str) -> Any:
        if computed is None or code is None or code not in computed.index:
            return None
        value = computed.at[code, column]
        return value if present(value) else None

    out: dict[str, list[Any]] = {
        "mhs_grade": [int(mhs[i]) if i is not None and present(mhs[i]) else None for i in ent_pos],
        "mhs_computed_grade": [of(c, "computed_grade") for c in credit],
        "mhs_r": [None if (r := of(c, "r")) is None else round(float(r), 3) for c in credit],
        "external_distance_m": [float(ext[i]) if i is not None and present(ext[i]) else None for i in ent_pos],
    }
    category = [text_or_none(c) for c in _column(rps, "category")]
    n = len(rps)

    ponds = bundle.metric("tailings_dams")
    is_td = np.array([c == "tailings" for c in category], dtype=bool)
    td_pos: list[int | None] = [None] * n
    for k, pos in zip(np.flatnonzero(is_td), _nearest(rps_m.geometry[is_td], list(np.array(credit, dtype=object)[
            is_td]), ponds, LINK_RADIUS_M), strict=True):
        td_pos[int(k)] = pos
    grade = _column(ponds, "design_grade")
    degree = _column(ponds, "safety_degree")
    degree_choices = TAILINGS.field("safety_degree").choices or {}
    out["tailings_design_grade"] = [int(grade[i]) if i is not None and present(grade[i]) else None for i in td_pos]
    out["tailings_safety_degree"] = [
        None if i is None or not present(degree[i])
        else (degree_choices.get(str(degree[i]), (str(degree[i]),))[0] if lang == "zh" else str(degree[i]))
        for i in td_pos]

    hcas = bundle.metric("hcas")
    is_pipe = np.array([c == "pipeline" for c in category], dtype=bool)
    hca_pos: list[int | None] = [None] * n
    for k, pos in zip(np.flatnonzero(is_pipe), _nearest(rps_m.geometry[is_pipe], [None] * int(is_pipe.sum()), hcas,
                                                        LINK_RADIUS_M), strict=True):
        hca_pos[int(k)] = pos
    hgrade = _column(hcas, "grade")
    out["hca_grade"] = [
        None if i is None or not present(hgrade[i])
        else (f"{_ROMAN.get(int(hgrade[i]), hgrade[i])}级" if lang == "zh" else int(hgrade[i]))
        for i in hca_pos]
    return out


def _hazard_attrs(bundle: Bundle, codes: list[str], lang: str, as_of: dt.date) -> dict[str, list[Any]]:
    """Hidden-hazard counts and open items per risk point code."""
    hh = bundle["hidden_hazards"]
    status_choices = HIDDEN_HAZARDS.field("status").choices or {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for rec in hh.drop(columns="geometry").to_dict("records") if len(hh) else []:
        code = text_or_none(rec.get("risk_point_code"))
        if code:
            groups.setdefault(code, []).append(rec)
    out: dict[str, list[Any]] = {k: [] for k in ("hazards_total", "hazards_open", "hazards_major_open",
                                                 "hazards_overdue", "open_hazards", "next_major_deadline")}
    for code in codes:
        recs = groups.get(code, [])
        open_recs = sorted((r for r in recs if text_or_none(r.get("status")) in OPEN_HAZARD_STATUSES),
                           key=lambda r: (_iso(r.get("deadline")) or "9999", str(r.get("code"))))
        major_deadlines = sorted(d for r in open_recs if text_or_none(r.get("severity")) == "major"
                                 and (d := _iso(r.get("deadline"))) is not None)
        overdue = [r for r in recs if text_or_none(r.get("status")) not in (*CLOSED_HAZARD_STATUSES,
                                                                              *NOT_HAZARD_STATUSES)
                   and (day := _date(r.get("deadline"))) is not None and day < as_of]
        items = []
        for r in open_recs:
            status = text_or_none(r.get("status")) or ""
            deadline = _iso(r.get("deadline")) or ("无期限" if lang == "zh" else "no deadline")
            desc = f"{text_or_none(r.get('code')) or ''} {text_or_none(r.get('description')) or ''}".strip()
            if lang == "zh":
                label = status_choices.get(status, (status,))[0]
                major = "[重大]" if text_or_none(r.get("severity")) == "major" else ""
                items.append(f"{major}{desc}（{label}，期限{deadline}）")
            else:
                major = "[major] " if text_or_none(r.get("severity")) == "major" else ""
                items.append(f"{major}{desc} ({status}, due {deadline})")
        out["hazards_total"].append(sum(text_or_none(r.get("status")) not in NOT_HAZARD_STATUSES for r in recs))
        out["hazards_open"].append(len(open_recs))
        out["hazards_major_open"].append(sum(text_or_none(r.get("severity")) == "major" for r in open_recs))
        out["hazards_overdue"].append(len(overdue))
        out["open_hazards"].append("；".join(items) if items else None)
        out["next_major_deadline"].append(major_deadlines[0] if major_deadlines else None)
    return out


def _series(values: list[Any], field: str) -> pd.Series:
    """Make a list column: Python scalars, None when missing (typed numbers when none is missing)."""
    if field in _INT_FIELDS:
        values = [int(v) if present(v) else None for v in values]
    elif field in _FLOAT_FIELDS:
        values = [float(v) if present(v) else None for v in values]
    else:
        values = [v if present(v) else None for v in values]
    if values and all(v is not None for v in values):
        return pd.Series(values)
    return pd.Series(values, dtype=object)


def _display(values: list[Any], field: str, lang: str) -> list[Any]:
    """Coded values shown in ``lang`` (levels and choices; codes kept for "raw")."""
    if lang == "raw":
        return values
    if field in ("risk_level", "residual_level"):
        return [level_label(v, lang) if text_or_none(v) in _LEVELS else text_or_none(v) for v in values]
    if lang == "zh" and field in ("category", "responsibility_level"):
        choices = RISK_POINTS.field(field).choices or {}
        return [choices.get(str(v), (str(v),))[0] if present(v) else None for v in values]
    return values


# ---------------------------------------------------------------------------------------------
# the lists
# ---------------------------------------------------------------------------------------------
def _empty(spec: ListSpec, lang: str) -> gpd.GeoDataFrame:
    cols = {h: pd.Series(dtype=object) for h in spec.headers(lang).values()}
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=STORAGE_SRID), crs=STORAGE_SRID)


def four_lists(bundle: Bundle, adcode: str | None = None, *, lang: str = "zh",
               as_of: dt.date | None = None, rules: RuleSet | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Build the 4张清单 for one district or the whole bundle.

    Parameters
    ----------
    bundle : Bundle
        Needs ``risk_points``; ``hidden_hazards`` (防控清单), ``enterprises``,
        ``tailings_dams`` and ``hcas`` (基础清单 key attributes) and ``districts`` (names)
        are used when present.
    adcode : str, optional
        Only the risk points of this district (GB/T 2260 code); all when omitted.
    lang : {"zh", "en", "raw"}
        Headers (and coded values) in Chinese with units, in English, or canonical.
    as_of : datetime.date, optional
        Day against which hidden-hazard deadlines count as overdue; today when omitted.
    rules : RuleSet, optional
        Rules for the computed MHS grade and R (α, grades, persons per household); the rule file's
        values when omitted (pass :func:`geo.rule_admin.effective_ruleset` for the local values).

    Returns
    -------
    dict of str to GeoDataFrame
        Keys ``basic``, ``control``, ``responsibility``, ``emergency`` (titles from
        :func:`list_titles`). Each frame has one row per risk point, the columns of
        :data:`LISTS` in order, renamed per ``lang``, and the point ``geometry`` (EPSG:4490);
        rows are sorted by risk level (重大 first) then code. Dates are ISO strings.

    Raises
    ------
    ValueError
        For an unknown ``lang``, or an ``adcode`` that is not among the bundle's districts.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> rp = gpd.GeoDataFrame({"key": ["RP-1"], "code": ["RP-1"], "name": ["示例罐区"], "adcode": ["530181"],
    ...                        "category": ["hazchem"], "risk_level": ["major"], "evacuation_radius_m": [800.0]},
    ...                       geometry=[Point(102.48, 24.92)], crs=4490)
    >>> lists = four_lists(Bundle({"risk_points": rp}))
    >>> lists["basic"].loc[0, ["风险等级", "颜色标识", "类别"]].tolist()
    ['重大风险', '#E60012', '危险化学品']
    >>> float(lists["emergency"].loc[0, "疏散半径(m)"])
    800.0
    """
    _check_lang(lang)
    as_of = as_of or dt.date.today()
    districts = bundle["districts"]
    names = {str(a): text_or_none(n)
             for a, n in zip(_column(districts, "adcode"), _column(districts, "name"), strict=True)}
    if adcode is not None and names and str(adcode) not in names:
        raise ValueError(f"unknown district {adcode!r}; known: {', '.join(sorted(names))}")
    rps = bundle["risk_points"]
    rps_m = bundle.metric("risk_points")
    if adcode is not None and len(rps):
        mask = (rps["adcode"].astype(object) == str(adcode)).to_numpy()
        rps, rps_m = rps[mask], rps_m[mask]
    if not len(rps):
        return {key: _empty(spec, lang) for key, spec in LISTS.items()}

    codes = [str(c) if present(c) else str(k) for c, k in zip(_column(rps, "code"), _column(rps, "key"),
                                                                strict=True)]
    levels = [text_or_none(v) for v in _column(rps, "risk_level")]
    rank = [_LEVELS.index(v) if v in _LEVELS else len(_LEVELS) for v in levels]
    order = sorted(range(len(rps)), key=lambda i: (rank[i], codes[i]))
    rps = rps.iloc[order].reset_index(drop=True)
    rps_m = rps_m.iloc[order].reset_index(drop=True)
    codes = [codes[i] for i in order]
    levels = [levels[i] for i in order]

    values: dict[str, list[Any]] = {name: _column(rps, name) for spec in LISTS.values() for name in spec.columns
                                    if name in rps.columns}
    values["code"] = codes
    values["adcode"] = [text_or_none(a) for a in _column(rps, "adcode")]
    values["district"] = [names.get(a) if a else None for a in values["adcode"]]
    pts = rps.geometry
    values["lon"] = [round(float(g.x), 6) if g is not None and not g.is_empty else None for g in pts]
    values["lat"] = [round(float(g.y), 6) if g is not None and not g.is_empty else None for g in pts]
    values["colour"] = [level_colour(v) if v in _LEVELS else None for v in levels]
    values.update(_basic_attrs(bundle, rps, rps_m, lang, rules or load_ruleset()))
    values.update(_hazard_attrs(bundle, codes, lang, as_of))
    for name in _DATE_FIELDS:
        values[name] = [_iso(v) for v in values.get(name, [None] * len(rps))]

    out: dict[str, gpd.GeoDataFrame] = {}
    for key, spec in LISTS.items():
        data: dict[str, Any] = {}
        for name in spec.columns:
            data[name] = _series(_display(values.get(name, [None] * len(rps)), name, lang), name)
        frame = pd.DataFrame(data).rename(columns=spec.headers(lang))
        out[key] = gpd.GeoDataFrame(frame, geometry=rps.geometry.to_crs(STORAGE_SRID).to_numpy(), crs=STORAGE_SRID)
    return out
