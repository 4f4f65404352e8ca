"""The 四色图 layers: risk sources coloured by level, district summaries and a density grid.

A *risk source* is anything the map colours by the four national levels (重大/较大/一般/低 =
红/橙/黄/蓝, 安委办〔2016〕11号, standards.md §8.1): enterprises, tailings ponds, pipeline
high-consequence-area (HCA) segments and the registered risk points of the 4张清单. Colours and
labels come only from :mod:`layers.palette`.

Every function works on a :class:`~geo.checks.bundle.Bundle` (frames in EPSG:4490); areas and
cell sizes are measured in the bundle's CGCS2000 Gauss-Krüger zone (``bundle.metric_epsg``),
never in degrees. Results are returned in EPSG:4490.

Notes
-----
- :func:`risk_sources` lists every feature as stored. The sources that are *counted* (cockpit,
  district page, exports) are :func:`layers.measures.counted_sources`: the same rows with each risk
  point that describes a facility merged into it, and only the HCA segments that count.
- HCAs carry a GB 32167 *grade* (Ⅰ/Ⅱ/Ⅲ), not a 四色 level; :data:`HCA_GRADE_LEVEL` is the
  project's mapping.
- :func:`~geo.checks.sources.bundle_from_store` keeps declared HCAs only (identified ones are
  check outputs). Pass ``hcas=store.read_layer(engine, "hcas")`` to :func:`risk_sources` to
  show identified segments as well.
- A bundle limited to one district holds complete data for that district only; summaries of
  the other districts in it are partial.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.checks.bundle import Bundle
from geo.constants import STORAGE_SRID
from geo.layer_specs import ENTERPRISES, RISK_POINTS, TAILINGS
from layers.palette import NO_DATA, RiskLevel, level_colour, level_label
from layers.values import present, text_or_none

__all__ = [
    "HCA_GRADE_LEVEL",
    "LEVEL_ORDER",
    "LEVEL_WEIGHT",
    "SOURCE_COLUMNS",
    "SOURCE_TYPES",
    "SUMMARY_COLUMNS",
    "density_grid",
    "district_summary",
    "district_summary_layer",
    "hca_level",
    "risk_sources",
]

#: Source types, in the order they are listed, with their Chinese names.
SOURCE_TYPES: dict[str, str] = {
    "enterprise": "企业",
    "tailings_dam": "尾矿库",
    "hca": "管道高后果区",
    "risk_point": "重大风险点",
}

#: HCA grade (GB 32167-2015 表1, Ⅲ most severe) -> 四色 level. This is RiskMap's own choice:
#: GB 32167 grades the *severity* of a high-consequence area, it assigns no 四色 risk level, and
#: no standard found maps one onto the other (standards.md §8.1). Ⅲ→重大, Ⅱ→较大, Ⅰ→一般.
HCA_GRADE_LEVEL: dict[int, RiskLevel] = {
    3: RiskLevel.MAJOR,
    2: RiskLevel.SIGNIFICANT,
    1: RiskLevel.GENERAL,
}

#: Weight of each level in the density-grid score (RiskMap's choice: 重大 4, 较大 3, 一般 2, 低 1).
LEVEL_WEIGHT: dict[RiskLevel, int] = {
    RiskLevel.MAJOR: 4,
    RiskLevel.SIGNIFICANT: 3,
    RiskLevel.GENERAL: 2,
    RiskLevel.LOW: 1,
}

#: Level codes, highest first.
LEVEL_ORDER: tuple[str, ...] = tuple(level.value for level in RiskLevel)

#: Columns of :func:`risk_sources` (plus ``geometry``).
SOURCE_COLUMNS: tuple[str, ...] = ("source_id", "source_type", "key", "name", "adcode", "risk_level",
                                   "level_zh", "colour", "detail")

_COUNT_COLUMNS = tuple(f"n_{code}" for code in LEVEL_ORDER)
#: Columns of :func:`district_summary` (indexed by ``adcode``).
SUMMARY_COLUMNS: tuple[str, ...] = ("name", "area_km2", "highest_level", "highest_level_zh", "highest_colour",
                                    *_COUNT_COLUMNS, "n_sources", "per_100km2")

_ROMAN = {1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ"}
_LEVEL_RANK = {code: i for i, code in enumerate(LEVEL_ORDER)}


def hca_level(grade: int | str) -> RiskLevel:
    """四色 level of an HCA grade (see :data:`HCA_GRADE_LEVEL`).

    Parameters
    ----------
    grade : int or str
        GB 32167 grade 1, 2 or 3 (Ⅰ/Ⅱ/Ⅲ), as stored.

    Returns
    -------
    RiskLevel

    Raises
    ------
    ValueError
        For a grade other than 1, 2 or 3.

    Examples
    --------
    >>> hca_level(3).value, hca_level("1").value
    ('major', 'general')
    """
    try:
        return HCA_GRADE_LEVEL[int(grade)]
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"HCA grade must be 1, 2 or 3, got {grade!r}") from None


# ---------------------------------------------------------------------------------------------
# small value helpers
# ---------------------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    if not present(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _choice_zh(choices: dict[str, tuple[str, ...]] | None, code: Any) -> str | None:
    text = text_or_none(code)
    if text is None:
        return None
    if choices and text in choices:
        return choices[text][0]
    return text


def _level_code(value: Any, where: str) -> str:
    """Return the level code of a stored value, raising ValueError on unknown codes."""
    try:
        return RiskLevel(text_or_none(value) or "").value
    except ValueError:
        raise ValueError(f"{where}: unknown risk level {value!r}; expected one of {LEVEL_ORDER}") from None


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` of ``frame``, or a column of None when absent."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


# ---------------------------------------------------------------------------------------------
# risk sources
# ---------------------------------------------------------------------------------------------
def _enterprise_detail(row: dict[str, Any]) -> str:
    parts = [_choice_zh(ENTERPRISES.field("industry").choices, row.get("industry")) or "企业"]
    grade = _num(row.get("mhs_grade"))
    if grade is not None:
        parts.append(f"{'一二三四'[int(grade) - 1]}级重大危险源" if 1 <= grade <= 4 else f"重大危险源{grade:g}级")
    dist = _num(row.get("external_distance_m"))
    if dist is not None:
        parts.append(f"外部安全防护距离{dist:.0f}m")
    return "；".join(parts)


def _tailings_detail(row: dict[str, Any]) -> str:
    parts = ["尾矿库"]
    storage, height = _num(row.get("total_storage_10k_m3")), _num(row.get("dam_height_m"))
    if storage is not None:
        parts.append(f"全库容{storage:g}万m³")
    if height is not None:
        parts.append(f"坝高{height:g}m")
    grade = _num(row.get("design_grade"))
    if grade is not None:
        parts.append(f"{'一二三四五'[int(grade) - 1] if 1 <= grade <= 5 else int(grade)}等库")
    for name in ("safety_degree", "status"):
        label = _choice_zh(TAILINGS.field(name).choices, row.get(name))
        if label:
            parts.append(label)
    return "；".join(parts)


def _hca_detail(row: dict[str, Any], grade: int, pipe_name: str) -> str:
    start, end = _num(row.get("start_m")), _num(row.get("end_m"))
    span = f"里程{start / 1000:.2f}–{end / 1000:.2f}km" if start is not None and end is not None else ""
    origin = "识别" if text_or_none(row.get("origin")) == "identified" else "申报"
    parts = [f"{pipe_name}{_ROMAN[grade]}级高后果区", span, origin, text_or_none(row.get("reason")) or ""]
    return "；".join(p for p in parts if p)


def _risk_point_detail(row: dict[str, Any]) -> str:
    head = _choice_zh(RISK_POINTS.field("category").choices, row.get("category")) or "风险点"
    sub = text_or_none(row.get("subcategory"))
    parts = [f"{head}·{sub}" if sub else head]
    for name in ("entity_name", "hazard"):
        text = text_or_none(row.get(name))
        if text:
            parts.append(text)
    return "；".join(parts)


def _hca_key(row: dict[str, Any]) -> str:
    key = text_or_none(row.get("key"))
    if key:
        return key
    start, end = _num(row.get("start_m")) or 0.0, _num(row.get("end_m")) or 0.0
    return f"auto:{row.get('pipeline_key')}:{start:.0f}-{end:.0f}"  # as the store keys identified HCAs


def _rows(bundle: Bundle, hcas: gpd.GeoDataFrame | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(source_type: str, key: str, name: str, adcode: Any, level: str, detail: str, geom: Any) -> None:
        out.append({"source_type": source_type, "key": key, "name": name, "adcode": text_or_none(adcode),
                    "risk_level": level, "detail": detail, "geometry": geom})

    for row in bundle["enterprises"].to_dict("records"):
        key = str(row.get("key") or row.get("credit_code"))
        add("enterprise", key, text_or_none(row.get("name")) or key, row.get("adcode"),
            _level_code(row.get("risk_level"), f"enterprises {key}"), _enterprise_detail(row), row["geometry"])
    for row in bundle["tailings_dams"].to_dict("records"):
        key = str(row.get("key") or row.get("code"))
        add("tailings_dam", key, text_or_none(row.get("name")) or key, row.get("adcode"),
            _level_code(row.get("risk_level"), f"tailings_dams {key}"), _tailings_detail(row), row["geometry"])
    pipelines = bundle["pipelines"]
    pipe_names = dict(zip(_column(pipelines, "key").astype(object), _column(pipelines, "name"), strict=True))
    hca_frame = bundle["hcas"] if hcas is None else hcas.to_crs(STORAGE_SRID)
    for row in hca_frame.to_dict("records"):
        key = _hca_key(row)
        level = hca_level(row.get("grade"))
        grade = int(row["grade"])
        pipe_key = text_or_none(row.get("pipeline_key")) or ""
        pipe_name = text_or_none(row.get("pipeline_name")) or text_or_none(pipe_names.get(pipe_key)) or pipe_key
        add("hca", key, f"{pipe_name}{_ROMAN[grade]}级高后果区({key})", row.get("adcode"), level.value,
            _hca_detail(row, grade, pipe_name), row["geometry"])
    for row in bundle["risk_points"].to_dict("records"):
        key = str(row.get("key") or row.get("code"))
        add("risk_point", key, text_or_none(row.get("name")) or key, row.get("adcode"),
            _level_code(row.get("risk_level"), f"risk_points {key}"), _risk_point_detail(row), row["geometry"])
    return out


def risk_sources(bundle: Bundle, *, hcas: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """One row per risk source, coloured by its 四色 level.

    Parameters
    ----------
    bundle : Bundle
        Layers ``enterprises``, ``tailings_dams``, ``hcas`` (with ``pipelines`` for their
        names) and ``risk_points``; missing layers contribute nothing.
    hcas : GeoDataFrame, optional
        HCA segments to use instead of ``bundle["hcas"]``, e.g. ``store.read_layer(engine,
        "hcas")``, which also holds the segments identified by check runs (``origin`` =
        ``identified``) that :func:`~geo.checks.sources.bundle_from_store` leaves out. Every
        segment is shown, declared or identified.

    Returns
    -------
    GeoDataFrame
        EPSG:4490; columns :data:`SOURCE_COLUMNS` and ``geometry``: ``source_id``
        (``"<source_type>:<key>"``, unique), ``source_type`` (enterprise, tailings_dam, hca,
        risk_point), ``key``, ``name``, ``adcode``, ``risk_level`` (major, significant,
        general, low), ``level_zh`` and ``colour`` (from :mod:`layers.palette`) and a short
        Chinese ``detail``. HCAs keep their lines and get their level from
        :data:`HCA_GRADE_LEVEL`. Rows are ordered by source type, level (重大 first) and key.

    Raises
    ------
    ValueError
        When a stored risk level or HCA grade is not a known code.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> ent = gpd.GeoDataFrame({"key": ["E1"], "name": ["示例化工"], "adcode": ["530181"],
    ...                         "industry": ["hazchem_production"], "risk_level": ["low"]},
    ...                        geometry=[Point(102.48, 24.92)], crs=4490)
    >>> src = risk_sources(Bundle({"enterprises": ent}))
    >>> src.loc[0, ["source_type", "level_zh", "colour", "detail"]].tolist()
    ['enterprise', '低风险', '#0070C0', '危险化学品生产']
    """
    rows = _rows(bundle, hcas)
    if not rows:
        empty = {c: pd.Series(dtype=object) for c in SOURCE_COLUMNS}
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=STORAGE_SRID), crs=STORAGE_SRID)
    df = pd.DataFrame(rows)
    df["level_zh"] = [level_label(v, "zh") for v in df["risk_level"]]
    df["colour"] = [level_colour(v) for v in df["risk_level"]]
    df["source_id"] = df["source_type"] + ":" + df["key"]
    type_rank = {t: i for i, t in enumerate(SOURCE_TYPES)}
    sort_keys = list(zip(df["source_type"], df["risk_level"], df["key"], strict=True))
    order = sorted(range(len(df)), key=lambda i: (type_rank[str(sort_keys[i][0])],
                                                  _LEVEL_RANK[str(sort_keys[i][1])], str(sort_keys[i][2])))
    df = df.iloc[order].reset_index(drop=True)
    return gpd.GeoDataFrame(df[list(SOURCE_COLUMNS)], geometry=df["geometry"].tolist(), crs=STORAGE_SRID)


# ---------------------------------------------------------------------------------------------
# district summary
# ---------------------------------------------------------------------------------------------


def _summary(bundle: Bundle, sources: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if sources is None:
        sources = risk_sources(bundle)
    districts = bundle["districts"]
    metric = bundle.metric("districts")
    adcodes = [str(a) for a in _column(districts, "adcode")]
    counts = Counter(zip(_column(sources, "adcode").astype(object), sources["risk_level"].astype(object),
                         strict=True))
    records = []
    for i, adcode in enumerate(adcodes):
        n = {code: counts[(adcode, code)] for code in LEVEL_ORDER}
        highest = next((code for code in LEVEL_ORDER if n[code] > 0), None)
        area = float(metric.geometry.iloc[i].area) / 1e6
        records.append({
            "adcode": adcode,
            "name": text_or_none(districts["name"].iloc[i]) if "name" in districts.columns else None,
            "area_km2": area,
            "highest_level": highest,
            "highest_level_zh": level_label(highest, "zh") if highest else NO_DATA.zh,
            "highest_colour": level_colour(highest) if highest else NO_DATA.hex,
            **{f"n_{code}": n[code] for code in LEVEL_ORDER},
            "n_sources": sum(n.values()),
            "per_100km2": (n["major"] + n["significant"]) / area * 100.0 if area > 0 else math.nan,
        })
    frame = pd.DataFrame(records, columns=["adcode", *SUMMARY_COLUMNS])
    frame["highest_level"] = pd.Series([r["highest_level"] for r in records], index=frame.index, dtype=object)
    frame["area_km2"] = frame["area_km2"].astype(float)
    frame["per_100km2"] = frame["per_100km2"].astype(float)
    for col in (*_COUNT_COLUMNS, "n_sources"):
        frame[col] = frame[col].astype("int64")
    gdf = gpd.GeoDataFrame(frame, geometry=districts.geometry.to_crs(STORAGE_SRID).tolist(), crs=STORAGE_SRID)
    return gdf.set_index("adcode")


def district_summary(bundle: Bundle, sources: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Count risk sources by level per district.

    Sources are assigned to districts by their ``adcode`` attribute (an HCA segment belongs to
    the district that declared it), so every source is counted once.

    Parameters
    ----------
    bundle : Bundle
        Needs ``districts`` (adcode, name, polygons); other layers only when ``sources`` is None.
    sources : GeoDataFrame, optional
        Output of :func:`risk_sources`; computed from ``bundle`` when omitted.

    Returns
    -------
    DataFrame
        Indexed by ``adcode``, one row per district, columns :data:`SUMMARY_COLUMNS`: ``name``,
        ``area_km2`` (in the bundle's Gauss-Krüger zone), ``highest_level`` (level code or None
        when the district has no source), ``highest_level_zh``, ``highest_colour`` (palette colour,
        :data:`layers.palette.NO_DATA` when none), ``n_major``, ``n_significant``,
        ``n_general``, ``n_low``, ``n_sources`` and ``per_100km2`` — 重大 plus 较大 sources per
        100 km².

    Examples
    --------
    >>> from shapely.geometry import box
    >>> d = gpd.GeoDataFrame({"adcode": ["530181"], "name": ["测试区"]},
    ...                      geometry=[box(500000, 2760000, 510000, 2770000)], crs=4543).to_crs(4490)
    >>> s = district_summary(Bundle({"districts": d}))
    >>> round(float(s.loc["530181", "area_km2"]), 1), s.loc["530181", "highest_level"]
    (100.0, None)
    """
    return pd.DataFrame(_summary(bundle, sources).drop(columns="geometry"))


def district_summary_layer(bundle: Bundle, sources: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """:func:`district_summary` with the district polygons, for a map of the highest level.

    Parameters
    ----------
    bundle : Bundle
        As for :func:`district_summary`.
    sources : GeoDataFrame, optional
        Output of :func:`risk_sources`; computed from ``bundle`` when omitted.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, indexed by ``adcode``: the summary columns plus ``colour`` (colour of the
        highest level, ``NO_DATA`` grey for districts without sources, whose ``highest_level``
        is None) and ``geometry``.
    """
    gdf = _summary(bundle, sources)
    gdf.insert(gdf.columns.get_loc("highest_colour") + 1, "colour", gdf["highest_colour"])
    return gdf


# ---------------------------------------------------------------------------------------------
# density grid
# ---------------------------------------------------------------------------------------------
def _anchor_points(geoms: gpd.GeoSeries) -> np.ndarray:
    """Return one point per source: points as they are, lines at their middle, polygons inside."""
    out: list[shapely.Geometry | None] = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(None)
        elif g.geom_type in ("LineString", "MultiLineString", "LinearRing"):
            out.append(shapely.line_interpolate_point(shapely.line_merge(g) if g.geom_type.startswith("Multi")
                                                      else g, 0.5, normalized=True))
        elif g.geom_type == "Point":
            out.append(g)
        else:
            out.append(g.representative_point())
    return np.array(out, dtype=object)


def _hex_index(x: np.ndarray, y: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Axial (q, r) of pointy-top hexagons of circumradius ``size`` (cube rounding)."""
    qf = (math.sqrt(3) / 3 * x - y / 3) / size
    rf = (2 / 3 * y) / size
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def _hexagon(cx: float, cy: float, size: float) -> shapely.Polygon:
    angles = np.radians(60.0 * np.arange(6) - 30.0)
    return shapely.Polygon(np.column_stack([cx + size * np.cos(angles), cy + size * np.sin(angles)]))


def density_grid(sources: gpd.GeoDataFrame, bundle: Bundle, *, cell_m: float = 2000.0,
                 shape: str = "hex") -> gpd.GeoDataFrame:
    """Count risk sources per grid cell over the city, by level and as a weighted score.

    The grid is laid in the bundle's Gauss-Krüger zone and anchored at the south-west corner
    of the districts' extent, so the same city always gets the same cells. Each source is
    counted once, in the cell holding its anchor: a point source at its location, an HCA line
    at the middle of its length, a polygon at a point inside it. Sources outside every district
    are left out (when the bundle has districts).

    Parameters
    ----------
    sources : GeoDataFrame
        Output of :func:`risk_sources` (needs ``risk_level`` and geometry).
    bundle : Bundle
        Gives the metric CRS and the ``districts`` that bound the grid.
    cell_m : float
        Distance between the centres of neighbouring cells in metres: the width across flats
        of a hexagon, the side of a square.
    shape : {"hex", "square"}
        Cell shape (pointy-top hexagons or squares).

    Returns
    -------
    GeoDataFrame
        EPSG:4490, non-empty cells only: ``cell_id``, ``n_major``, ``n_significant``,
        ``n_general``, ``n_low``, ``n_sources``, ``score`` (Σ :data:`LEVEL_WEIGHT` × count) and
        the cell polygon; ordered by score, highest first.

    Raises
    ------
    ValueError
        For an unknown ``shape`` or a ``cell_m`` that is not positive.
    """
    if shape not in ("hex", "square"):
        raise ValueError(f"shape must be 'hex' or 'square', got {shape!r}")
    if not cell_m > 0:
        raise ValueError(f"cell_m must be positive, got {cell_m!r}")
    columns = ["cell_id", *_COUNT_COLUMNS, "n_sources", "score"]
    empty = gpd.GeoDataFrame({c: pd.Series(dtype="int64" if c != "cell_id" else object) for c in columns},
                             geometry=gpd.GeoSeries([], crs=STORAGE_SRID), crs=STORAGE_SRID)
    if not len(sources):
        return empty
    stored = sources.geometry.to_crs(STORAGE_SRID)
    anchors = gpd.GeoSeries(_anchor_points(stored), crs=STORAGE_SRID).to_crs(bundle.metric_epsg)
    levels = sources["risk_level"].astype(object).to_numpy()
    keep = ~anchors.is_empty.to_numpy() & anchors.notna().to_numpy()
    districts = bundle.metric("districts")
    if len(districts):
        city = shapely.union_all(districts.geometry.to_numpy())
        shapely.prepare(city)
        keep &= shapely.intersects(city, anchors.to_numpy())
        x0, y0 = districts.total_bounds[:2]
    else:
        x0, y0 = anchors[keep].total_bounds[:2] if keep.any() else (0.0, 0.0)
    if not keep.any():
        return empty
    x = anchors.x.to_numpy()[keep] - x0
    y = anchors.y.to_numpy()[keep] - y0
    levels = levels[keep]
    if shape == "hex":
        size = cell_m / math.sqrt(3)  # circumradius of a hexagon cell_m across flats
        i, j = _hex_index(x, y, size)
    else:
        i, j = np.floor(x / cell_m).astype(np.int64), np.floor(y / cell_m).astype(np.int64)
    frame = pd.DataFrame({"i": i, "j": j, "level": levels})
    counts = pd.crosstab([frame["i"], frame["j"]], frame["level"])
    for code in LEVEL_ORDER:
        if code not in counts.columns:
            counts[code] = 0
    counts = counts[list(LEVEL_ORDER)].astype("int64")
    polys = []
    for ci, cj in counts.index:
        if shape == "hex":
            cx = x0 + size * math.sqrt(3) * (ci + cj / 2)
            cy = y0 + size * 1.5 * cj
            polys.append(_hexagon(cx, cy, size))
        else:
            polys.append(shapely.box(x0 + ci * cell_m, y0 + cj * cell_m, x0 + (ci + 1) * cell_m,
                                     y0 + (cj + 1) * cell_m))
    out = pd.DataFrame({
        "cell_id": [f"{shape[0]}{ci}_{cj}" for ci, cj in counts.index],
        **{f"n_{code}": counts[code].to_numpy() for code in LEVEL_ORDER},
    })
    out["n_sources"] = counts.sum(axis=1).to_numpy()
    out["score"] = sum(counts[level.value].to_numpy() * w for level, w in LEVEL_WEIGHT.items())
    gdf = gpd.GeoDataFrame(out, geometry=polys, crs=bundle.metric_epsg).to_crs(STORAGE_SRID)
    return gdf.sort_values(["score", "cell_id"], ascending=[False, True]).reset_index(drop=True)
