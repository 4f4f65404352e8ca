"""The shape of check findings: one row per (rule, subject, object), with the rule's clause and distances."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from geo.checks.ruleset import FLOAT_NOISE, Rule
from geo.constants import STORAGE_SRID


class Bilingual(str):
    """A Chinese text with its English translation, kept as a structure.

    The value is ``"中文 / English"`` (how it is stored and written to files), while ``zh`` and ``en``
    keep the halves, so that no view ever has to cut the text at " / " — a name inside the text
    (a site called "A / B") may contain that separator. Views call :meth:`pick`.

    Examples
    --------
    >>> d = Bilingual("拟建场地 / 一期距罐组 40 m", "site 40 m from the tank group")
    >>> d.pick("zh"), d.pick("en")
    ('拟建场地 / 一期距罐组 40 m', 'site 40 m from the tank group')
    >>> str(d)
    '拟建场地 / 一期距罐组 40 m / site 40 m from the tank group'
    """

    zh: str
    en: str

    def __new__(cls, zh: str, en: str = "") -> Bilingual:
        """Make the text from its halves (an empty ``en`` means the Chinese text only)."""
        obj = str.__new__(cls, f"{zh} / {en}" if en else zh)
        halves = obj.__dict__  # filled directly: a third cheaper than two attribute assignments (many findings)
        halves["zh"], halves["en"] = str(zh), str(en or zh)
        return obj

    def __reduce__(self) -> tuple[type[Bilingual], tuple[str, str]]:
        return (Bilingual, (self.zh, self.en))

    @classmethod
    def parse(cls, text: str) -> Bilingual:
        """Recover the halves of a stored ``"中文 / English"`` text (e.g. a finding read from the database).

        The separator is the first " / " outside “quotes” and brackets: the checks quote names in
        their Chinese text, so a name holding " / " does not cut it. Text without one is Chinese only.

        Examples
        --------
        >>> Bilingual.parse("罐组距学校“拟建场地 / proposed site”100米 / tank 100 m from SITE").en
        'tank 100 m from SITE'
        >>> Bilingual.parse("只有中文").en
        '只有中文'
        """
        depth = 0
        for i, ch in enumerate(text):
            if ch in "“（(":
                depth += 1
            elif ch in "”）)":
                depth = max(depth - 1, 0)
            elif depth == 0 and text.startswith(" / ", i):
                return cls(text[:i].strip(), text[i + 3:].strip())
        return cls(text.strip())

    def pick(self, lang: str = "zh") -> str:
        """Return the Chinese (``"zh"``) or the English half."""
        return self.zh if lang == "zh" else self.en


#: Columns of a findings frame (plus ``geometry`` in EPSG:4490).
COLUMNS = ("rule_code", "clause", "subject_type", "subject_key", "subject_name", "object_type", "object_key",
           "object_name", "measured_m", "required_m", "verdict", "adcode", "detail")

#: Verdicts. ``violation``: the rule is broken; ``permit``: works there need a permit;
#: ``screen``: a pre-screen hit to be confirmed (e.g. radial 头顶库 screen); ``inventory``: a recorded
#: fact (e.g. a crossing); ``hca``: an identified high-consequence-area segment; ``overdue``: a date rule.
VERDICTS = ("violation", "permit", "screen", "inventory", "hca", "overdue")


def finding(rule: Rule, *, subject_type: str, subject_key: str, subject_name: str | None,
            object_type: str, object_key: str, object_name: str | None, measured_m: float | None,
            required_m: float | None, verdict: str, adcode: str | None, geometry: Any,
            detail: str = "") -> dict[str, Any]:
    """Build one finding record (geometry in EPSG:4490) citing ``rule``'s clause.

    Parameters
    ----------
    rule : Rule
        The rule found broken; its code and clause are copied.
    subject_type, subject_key, subject_name : str
        The source of the hazard (enterprise, pipeline, tailings pond…), by layer name and key.
    object_type, object_key, object_name : str
        The exposed feature (protection target, building, road…).
    measured_m, required_m : float or None
        Measured and required distance in metres.
    verdict : str
        One of :data:`VERDICTS`.
    adcode : str or None
        District the finding belongs to (normally the object's).
    geometry : shapely geometry
        What shows the finding on a map, e.g. the shortest line.
    detail : Bilingual or str
        Extra explanation: a :class:`Bilingual` (Chinese and English kept apart), or Chinese only.

    Returns
    -------
    dict
    """
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    return {
        "rule_code": rule.code, "clause": rule.clause, "subject_type": subject_type,
        "subject_key": str(subject_key), "subject_name": subject_name, "object_type": object_type,
        "object_key": str(object_key), "object_name": object_name,
        "measured_m": None if measured_m is None else round(float(measured_m), 2),
        "required_m": None if required_m is None else float(required_m),
        "verdict": verdict, "adcode": adcode, "detail": detail, "geometry": geometry,
    }


def findings_frame(records: Iterable[Mapping[str, Any]]) -> gpd.GeoDataFrame:
    """Make a findings GeoDataFrame (EPSG:4490) from finding records; empty input gives an empty frame."""
    rows = list(records)
    if not rows:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in COLUMNS}, geometry=[], crs=STORAGE_SRID)
    df = pd.DataFrame(rows)
    # a detail is a Bilingual (a str subclass): kept as objects, or pandas' string dtype would store
    # plain strings and lose the halves that views read
    df["detail"] = pd.Series([row.get("detail") for row in rows], index=df.index, dtype=object)
    return gpd.GeoDataFrame(df[list(COLUMNS)], geometry=df["geometry"].tolist(), crs=STORAGE_SRID)


def hits(rule: Rule, distances: np.ndarray, limits: np.ndarray | float) -> np.ndarray:
    """Return :meth:`Rule.hit` of every distance against its limit, all at once.

    The same comparison as :func:`geo.checks.ruleset.below` (unrounded, :data:`FLOAT_NOISE`-aware), on
    arrays: which measured pairs become findings.

    Parameters
    ----------
    rule : Rule
        Gives ``inclusive``.
    distances : numpy.ndarray
        Measured distances (m).
    limits : numpy.ndarray or float
        The limit of each distance, or one for all.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> from geo.checks.ruleset import Rule
    >>> r = Rule("X", "f", "", "", "", "confirmed", "2010-10-01", threshold_m=5.0, inclusive=True)
    >>> hits(r, np.array([4.8, 5.0, 5.0000005, 5.0004]), 5.0).tolist()
    [True, True, True, False]
    """
    if rule.inclusive:
        return np.asarray(distances <= limits + FLOAT_NOISE, dtype=bool)
    return np.asarray(distances < limits - FLOAT_NOISE, dtype=bool)


def _cells(name: str, value: Any, count: int) -> list[Any]:
    """One value per finding: a single value repeated, or the sequence ``value`` (of ``count`` items) as a list."""
    if value is None or isinstance(value, str | int | float | BaseGeometry):
        return [value] * count
    cells = value.tolist() if isinstance(value, np.ndarray) else list(value)
    if len(cells) != count:
        raise ValueError(f"finding column {name!r} has {len(cells)} values for {count} findings")
    return cells


def finding_columns(rule: Rule, count: int, *, subject_type: Any, subject_key: Any, subject_name: Any,
                    object_type: Any, object_key: Any, object_name: Any, measured_m: Any, required_m: Any,
                    verdict: str, adcode: Any, geometry: Any, detail: Any = "") -> dict[str, list[Any]]:
    """Return ``count`` findings of ``rule`` as columns, each cell as :func:`finding` makes it.

    The way to build many findings at once: no record per finding, the columns of the frame
    directly (:func:`findings_from_columns` makes the frame).

    Parameters
    ----------
    rule : Rule
        The rule found broken; its code and clause fill their columns.
    count : int
        Number of findings.
    subject_type, subject_key, subject_name, object_type, object_key, object_name : object
        As for :func:`finding`, and so are the next parameters: each either one value for every
        finding (text, a number, None or a geometry) or a sequence (list, array) of ``count``
        values, one per finding. Keys become text.
    measured_m, required_m, adcode, geometry, detail : object
        ``measured_m`` is rounded to centimetres and ``required_m`` made a float, as :func:`finding` does.
    verdict : str
        One of :data:`VERDICTS`, for every finding.

    Returns
    -------
    dict of str to list
        The columns of :data:`COLUMNS` and ``geometry``, ``count`` cells each.

    Raises
    ------
    ValueError
        For an unknown verdict or a sequence whose length is not ``count``.

    Examples
    --------
    >>> from geo.checks.ruleset import load_ruleset
    >>> cols = finding_columns(load_ruleset()["ESD_DECLARED"], 2, subject_type="enterprises",
    ...                        subject_key=["E1", "E2"], subject_name=None, object_type="protection_targets",
    ...                        object_key=[7, 8], object_name=["学校", None], measured_m=[12.345, 3.0],
    ...                        required_m=100, verdict="violation", adcode="530181", geometry=None)
    >>> cols["object_key"], cols["measured_m"], cols["required_m"]
    (['7', '8'], [12.35, 3.0], [100.0, 100.0])
    """
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    measured = _cells("measured_m", measured_m, count)
    required = _cells("required_m", required_m, count)
    return {
        "rule_code": [rule.code] * count, "clause": [rule.clause] * count,
        "subject_type": _cells("subject_type", subject_type, count),
        "subject_key": [str(k) for k in _cells("subject_key", subject_key, count)],
        "subject_name": _cells("subject_name", subject_name, count),
        "object_type": _cells("object_type", object_type, count),
        "object_key": [str(k) for k in _cells("object_key", object_key, count)],
        "object_name": _cells("object_name", object_name, count),
        "measured_m": [None if v is None else round(float(v), 2) for v in measured],
        "required_m": [None if v is None else float(v) for v in required],
        "verdict": [verdict] * count, "adcode": _cells("adcode", adcode, count),
        "detail": _cells("detail", detail, count), "geometry": _cells("geometry", geometry, count),
    }


def records_columns(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Return finding records (of :func:`finding`) as columns, for :func:`findings_from_columns`.

    Parameters
    ----------
    records : iterable of dict
        Findings as :func:`finding` makes them.

    Returns
    -------
    dict of str to list
        The columns of :data:`COLUMNS` and ``geometry``, one cell per record (``None`` where a record
        lacks the key).
    """
    rows = list(records)
    return {c: [row.get(c) for row in rows] for c in (*COLUMNS, "geometry")}


def findings_from_columns(parts: Iterable[Mapping[str, list[Any]]]) -> gpd.GeoDataFrame:
    """Make a findings GeoDataFrame (EPSG:4490) from columns of findings, in order.

    The frame equals :func:`findings_frame` of the same findings as records (the same values and
    column types: ``tests/test_cell_values_vectorised.py`` compares them), without a record per finding.

    Parameters
    ----------
    parts : iterable of dict
        Columns as :func:`finding_columns` or :func:`records_columns` return them; empty parts are
        skipped.

    Returns
    -------
    GeoDataFrame
        One row per finding, parts one after the other; an empty frame for no findings.
    """
    chunks = [part for part in parts if len(part["rule_code"])]
    if not chunks:
        return findings_frame([])
    cols = {c: [v for part in chunks for v in part[c]] if len(chunks) > 1 else list(chunks[0][c])
            for c in (*COLUMNS, "geometry")}
    df = pd.DataFrame({c: cols[c] for c in COLUMNS})
    df["detail"] = pd.Series(cols["detail"], index=df.index, dtype=object)  # Bilingual kept (findings_frame)
    return gpd.GeoDataFrame(df, geometry=cols["geometry"], crs=STORAGE_SRID)
