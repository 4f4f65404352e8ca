"""The shape of check findings: one row per (rule, subject, object), with the rule's clause and distances."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.checks.ruleset import Rule
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
        obj = super().__new__(cls, f"{zh} / {en}" if en else zh)
        obj.zh, obj.en = str(zh), str(en or zh)
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
