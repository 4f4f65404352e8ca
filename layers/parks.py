"""Parks (化工园区 and other industrial parks): what lies in each, and its measures (一园一策).

A record belongs to a park when the park's boundary contains it — PostGIS ``ST_Contains`` semantics
(a point on the boundary is outside, a line or polygon must lie wholly inside), computed on read, so an
edited boundary is at once true everywhere and enterprises carry no park column (docs/decisions.md,
"Parks: containment on read"). Parks may overlap (a 化工园区 inside a wider 工业园区): a record then
counts in each. Containment is topological and needs no distance, so it is tested in EPSG:4490 as
stored; nothing here measures in degrees.

Every count comes from :func:`layers.measures.grouped_measures` over
:func:`layers.measures.counted_sources`, so a park's 重大风险源 or 逾期隐患 means exactly what it
means for a district.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.checks.bundle import Bundle
from geo.layer_specs import PARKS
from layers.measures import LEVEL_MEASURES, MEASURES, grouped_measures
from layers.palette import level_label
from layers.sources import LEVEL_ORDER

__all__ = ["PARK_COLUMNS", "PARK_LIST_COLUMNS", "contained", "park_enterprises", "park_measures", "park_sources",
           "write_park_list"]

#: Columns of :func:`park_measures` before the count measures of :func:`layers.measures.grouped_measures`.
PARK_COLUMNS: tuple[str, ...] = ("name", "adcode", "park_type", "park_type_zh", "level", "level_zh",
                                 "enterprises", "highest_level", "highest_level_zh")


def _label(field: str, code: object) -> str | None:
    choices = PARKS.field(field).choices or {}
    return choices[str(code)][0] if str(code) in choices else None


def contained(parks: gpd.GeoDataFrame, frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Tell which rows of ``frame`` each park contains.

    Parameters
    ----------
    parks : GeoDataFrame
        The ``parks`` layer (``code`` and geometry, EPSG:4490).
    frame : GeoDataFrame
        Any layer or list in EPSG:4490 (rows without geometry are in no park).

    Returns
    -------
    DataFrame
        Booleans, one row per row of ``frame`` (same index), one column per park code:
        ``ST_Contains(park, row)``.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> parks = gpd.GeoDataFrame({"code": ["P1"]}, geometry=[box(0, 0, 1, 1)], crs=4490)
    >>> pts = gpd.GeoDataFrame(geometry=[Point(0.5, 0.5), Point(1, 0.5), Point(2, 2)], crs=4490)
    >>> contained(parks, pts)["P1"].tolist()
    [True, False, False]
    """
    geoms = np.asarray(frame.geometry.array) if len(frame) else np.array([], dtype=object)
    present = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    out: dict[str, np.ndarray] = {}
    for code, boundary in zip(parks["code"].astype(str), parks.geometry, strict=True):
        hit = np.zeros(len(frame), dtype=bool)
        if boundary is not None and present.any():
            shapely.prepare(boundary)
            hit[present] = shapely.contains(boundary, geoms[present])
        out[code] = hit
    return pd.DataFrame(out, index=frame.index, columns=[str(c) for c in parks["code"]], dtype=bool)


def park_sources(parks: gpd.GeoDataFrame, sources: gpd.GeoDataFrame, code: str) -> gpd.GeoDataFrame:
    """Return the counted risk sources inside one park: its 四色 view.

    Parameters
    ----------
    parks : GeoDataFrame
        The ``parks`` layer.
    sources : GeoDataFrame
        Output of :func:`layers.measures.counted_sources`.
    code : str
        The park's code.

    Returns
    -------
    GeoDataFrame
        The rows of ``sources`` the park contains, in their order.
    """
    return sources[contained(parks[parks["code"].astype(str) == code], sources)[code].to_numpy()]


def _finding_places(bundle: Bundle, findings: pd.DataFrame) -> gpd.GeoSeries:
    """Where each finding is: its subject record's geometry when that is a layer of the bundle, else its own."""
    own = findings.geometry if isinstance(findings, gpd.GeoDataFrame) and "geometry" in findings else None
    places: list[object] = []
    for i, (kind, key) in enumerate(zip(findings.get("subject_type", pd.Series([None] * len(findings))),
                                        findings.get("subject_key", pd.Series([None] * len(findings))),
                                        strict=True)):
        subject = None
        if isinstance(kind, str) and kind in bundle.frames and "key" in bundle[kind].columns:
            layer = bundle[kind]
            match = layer.geometry[layer["key"].astype(str) == str(key)]
            subject = match.iloc[0] if len(match) else None
        places.append(subject if subject is not None else (own.iloc[i] if own is not None else None))
    return gpd.GeoSeries(places, index=findings.index, crs=4490)


def park_measures(bundle_or_frames: Bundle | Mapping[str, gpd.GeoDataFrame], sources: gpd.GeoDataFrame,
                  findings: pd.DataFrame, hazards: pd.DataFrame | None, as_of: dt.date) -> pd.DataFrame:
    """Return every measure per park: 四色 counts, hazards, violations, enterprises and the highest level.

    Parameters
    ----------
    bundle_or_frames : Bundle or mapping of str to GeoDataFrame
        Layers in EPSG:4490: ``parks``, ``enterprises``, ``risk_points`` (and ``hidden_hazards`` when
        ``hazards`` is None; the subjects of findings are looked up in any layer given).
    sources : GeoDataFrame
        Output of :func:`layers.measures.counted_sources` (a risk source belongs to a park when the park
        contains it).
    findings : DataFrame
        Stored findings (any status) or a run's findings; a finding belongs to the park that contains its
        subject record (its own geometry when the subject is not in the bundle).
    hazards : DataFrame or None
        The ``hidden_hazards`` layer (with geometry), or None to take it from ``bundle_or_frames``.
    as_of : date
        Reference day for overdue hazards.

    Returns
    -------
    DataFrame
        Indexed by park ``code`` (in the order of the parks layer): :data:`PARK_COLUMNS` then the count
        columns of :func:`layers.measures.district_measures` (``major_risks`` … ``open_findings``).
        ``highest_level`` is the highest 四色 level of the sources inside (None when there are none).

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> parks = gpd.GeoDataFrame({"code": ["P1"], "name": ["示例园区"], "adcode": ["530181"],
    ...                           "park_type": ["chemical"], "level": ["provincial"]},
    ...                          geometry=[box(102, 24, 103, 25)], crs=4490)
    >>> src = gpd.GeoDataFrame({"risk_level": ["major", "general"]},
    ...                        geometry=[Point(102.5, 24.5), Point(104, 24.5)], crs=4490)
    >>> out = park_measures({"parks": parks}, src, pd.DataFrame(), None, dt.date(2026, 12, 1))
    >>> print(*out.loc["P1", ["major_risks", "general_risks", "highest_level_zh", "park_type_zh"]])
    1 0 重大风险 化工园区
    """
    frames = dict(bundle_or_frames.frames if isinstance(bundle_or_frames, Bundle) else bundle_or_frames)
    if hazards is not None:
        frames["hidden_hazards"] = gpd.GeoDataFrame(hazards)
    bundle = Bundle(frames)
    parks = bundle.frames.get("parks")
    if parks is None:
        parks = gpd.GeoDataFrame({"code": pd.Series(dtype=str)}, geometry=[], crs=4490)
    found = findings if len(findings) else pd.DataFrame({"adcode": [], "verdict": [], "status": []})
    places = {"sources": sources, "risk_points": bundle["risk_points"], "hidden_hazards": bundle["hidden_hazards"],
              "findings": gpd.GeoDataFrame(found, geometry=_finding_places(bundle, found), crs=4490)}
    inside = {what: contained(parks, frame) for what, frame in places.items()}
    in_enterprises = contained(parks, bundle["enterprises"])
    rows = []
    columns = list(PARK_COLUMNS)
    for _, park in parks.iterrows():
        code = str(park["code"])

        def group_of(what: str, frame: pd.DataFrame, code: str = code) -> pd.Series:
            groups: list[str | None] = [code if hit else None for hit in inside[what][code].to_numpy()]
            return pd.Series(groups, index=frame.index).astype(object)

        counts = grouped_measures(bundle, sources, found, as_of, index=pd.Index([code]), group_of=group_of)
        figures: dict[str, int] = {str(k): int(v) for k, v in counts.iloc[0].to_dict().items()}
        highest = next((level for level in LEVEL_ORDER if figures[LEVEL_MEASURES[level]] > 0), None)
        head = {"name": park.get("name"), "adcode": park.get("adcode"), "park_type": park.get("park_type"),
                "park_type_zh": _label("park_type", park.get("park_type")), "level": park.get("level"),
                "level_zh": _label("level", park.get("level")),
                "enterprises": int(in_enterprises[code].sum()), "highest_level": highest,
                "highest_level_zh": level_label(highest) if highest else None}
        rows.append({**head, **figures})
        columns = [*PARK_COLUMNS, *counts.columns]
    return pd.DataFrame(rows, index=pd.Index([str(c) for c in parks["code"]], name="code"), columns=columns)


#: Columns of the park's enterprise list (:func:`write_park_list`): column → (Chinese, English) heading.
PARK_LIST_COLUMNS: dict[str, tuple[str, str]] = {
    "name": ("企业名称", "Enterprise"), "credit_code": ("统一社会信用代码", "Credit code"),
    "adcode": ("行政区划代码", "District code"), "risk_level": ("风险等级", "Risk level"),
    "grade": ("分级", "Grade"), "total": ("分数", "Points"),
    "inspections_per_year": ("年检查次数", "Inspections a year"), "explanation": ("分级说明", "Why this grade"),
}


def park_enterprises(parks: gpd.GeoDataFrame, enterprises: gpd.GeoDataFrame, grades: pd.DataFrame,
                     code: str | None = None, grade_codes: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Return graded enterprises with their location, filtered by park and by grade.

    Parameters
    ----------
    parks : GeoDataFrame
        The ``parks`` layer (``code`` and geometry, EPSG:4490).
    enterprises : GeoDataFrame
        The ``enterprises`` layer (``key`` and geometry, EPSG:4490).
    grades : DataFrame
        :func:`layers.grading.grade_enterprises` (``key`` per enterprise, worst first).
    code : str, optional
        Keep the enterprises this park contains (:func:`contained`); None keeps every enterprise.
    grade_codes : iterable of str, optional
        Keep these grades (``A`` … ``D``); None or empty keeps every grade.

    Returns
    -------
    GeoDataFrame
        The rows of ``grades`` kept, in their order, with the enterprise's geometry (EPSG:4490).

    Raises
    ------
    ValueError
        When ``code`` is not a park of ``parks``.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> parks = gpd.GeoDataFrame({"code": ["P1"]}, geometry=[box(0, 0, 1, 1)], crs=4490)
    >>> ents = gpd.GeoDataFrame({"key": ["e1", "e2"]}, geometry=[Point(0.5, 0.5), Point(2, 2)], crs=4490)
    >>> grades = pd.DataFrame({"key": ["e2", "e1"], "grade": ["D", "B"]})
    >>> park_enterprises(parks, ents, grades, "P1")["key"].tolist()
    ['e1']
    >>> park_enterprises(parks, ents, grades, grade_codes=["D"])["key"].tolist()
    ['e2']
    """
    where = pd.DataFrame({"key": enterprises["key"].astype(str).to_numpy(), "geometry": enterprises.geometry.array})
    located = grades.assign(key=grades["key"].astype(str)).merge(where.drop_duplicates("key"), on="key", how="left")
    out = gpd.GeoDataFrame(located, geometry="geometry", crs=4490)
    wanted = [g for g in (grade_codes or []) if isinstance(g, str)]
    if wanted:
        out = out[out["grade"].isin(wanted)]
    if code is not None:
        park = parks[parks["code"].astype(str) == code]
        if not len(park):
            raise ValueError(f"no park with code {code!r}")
        out = out[contained(park, out)[code].to_numpy()]
    return out.reset_index(drop=True)


def write_park_list(park: Mapping[str, object], members: pd.DataFrame, target: Path, lang: str = "zh") -> Path:
    """Write one park's measures and its enterprise list to an XLSX workbook (一园一策清单).

    Parameters
    ----------
    park : mapping
        A row of :func:`park_measures` (with ``code``): the first sheet lists its name, type, level and
        every count measure, labelled as :data:`layers.measures.MEASURES` names them.
    members : DataFrame
        :func:`park_enterprises` of the park: the second sheet, one row per enterprise
        (:data:`PARK_LIST_COLUMNS`).
    target : Path
        The ``.xlsx`` file to write (its folder must exist).
    lang : str
        ``zh`` (default) or ``en`` headings.

    Returns
    -------
    Path
        ``target``.
    """
    from openpyxl import Workbook

    zh = lang == "zh"
    book = Workbook()
    facts = book.active
    facts.title = "园区" if zh else "Park"
    head = [("园区编码", "Code", park.get("code")), ("园区名称", "Name", park.get("name")),
            ("行政区划代码", "District code", park.get("adcode")),
            ("园区类型", "Type", park.get("park_type_zh") if zh else park.get("park_type")),
            ("园区级别", "Level", park.get("level_zh") if zh else park.get("level")),
            ("企业数", "Enterprises", park.get("enterprises")),
            ("最高风险等级", "Highest risk level", park.get("highest_level_zh") if zh else park.get("highest_level"))]
    facts.append(["项目" if zh else "Item", "数值" if zh else "Value"])
    for label_zh, label_en, value in head:
        facts.append([label_zh if zh else label_en, None if value is None else value])
    for code, measure in MEASURES.items():
        if code in park:
            facts.append([measure.label(lang), park[code]])
    sheet = book.create_sheet("企业清单" if zh else "Enterprises")
    columns = [c for c in PARK_LIST_COLUMNS if c in members.columns]
    sheet.append([PARK_LIST_COLUMNS[c][0 if zh else 1] for c in columns])
    for row in members[columns].to_dict("records"):
        if isinstance(row.get("risk_level"), str) and row["risk_level"] in LEVEL_ORDER:
            row["risk_level"] = level_label(row["risk_level"], lang)
        sheet.append([None if isinstance(v, float) and np.isnan(v) else v for v in row.values()])
    for ws in (facts, sheet):
        ws.freeze_panes = "A2"
    book.save(target)
    return target
