"""Hazardous-chemical inventories of plant units (column ``installations.substances``) and GB 18218 lookups.

A unit's inventory is text, one entry per substance::

    名称[:CAS][:危险类别]:最大存量(吨)      e.g.  液化石油气:74-98-6:120; 氨:10; 某中间体:易燃液体类别1:20

Entries are separated by ``;``, ``；``, ``，`` or a line break (not by an ASCII comma, which occurs in
names such as ``1,3-丁二烯``); fields by ``:`` or ``：``. The quantity is in tonnes (``t``/``吨`` may
follow it; ``kg``/``千克``/``公斤`` are converted). Each entry is resolved against
``geo/rules/mhs_substances.yaml``: by CAS number or name in GB 18218-2018 表1 first, else by the hazard
category of 表2 written in place of (or after) the CAS. What cannot be resolved is a problem:

- an error when the entry is malformed (no name, no quantity, a quantity that is not a number or is
  negative, a CAS number with a wrong check digit, an unknown category), when the name is not in 表1
  and the entry gives neither a CAS number nor a category, or when the name and the CAS number name
  two different substances of 表1;
- a warning when a CAS number not in 表1 comes without a category: the entry is kept but does not
  count towards S and R.

This module only parses and looks up; S, R and the grade are computed by :mod:`geo.checks.mhs`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from geo.rules import load_table

__all__ = ["Entry", "Hazard", "Inventory", "Problem", "SubstanceTable", "cas_valid", "parse_substances",
           "substance_table"]

#: Separators between entries (checked before full-width characters are folded).
_ENTRY_SEPARATORS = re.compile(r"[;；，\r\n]+")
_CAS = re.compile(r"(\d{2,7})-(\d{2})-(\d)")
_QUANTITY = re.compile(r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*(t|吨|kg|千克|公斤)?")
_TONNES = {None: 1.0, "t": 1.0, "吨": 1.0, "kg": 0.001, "千克": 0.001, "公斤": 0.001}


def _fold(text: str) -> str:
    """Full-width forms to ASCII (NFKC), spaces removed, lower case: the form names are matched in."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def cas_valid(cas: str) -> bool:
    """Tell whether ``cas`` is a CAS registry number with a correct check digit.

    Examples
    --------
    >>> cas_valid("7664-41-7"), cas_valid("7664-41-8"), cas_valid("氨")
    (True, False, False)
    """
    match = _CAS.fullmatch(cas)
    if not match:
        return False
    digits = match.group(1) + match.group(2)
    total = sum(int(d) * (i + 1) for i, d in enumerate(reversed(digits)))
    return total % 10 == int(match.group(3))


@dataclass(frozen=True)
class Hazard:
    """A row of GB 18218-2018 表1 (a named substance) or 表2 (a hazard category).

    Attributes
    ----------
    key : str
        The 表1 name or the 表2 category id.
    name : str
        Chinese name as in the standard.
    table : str
        ``"表1"`` or ``"表2"``.
    category : str
        toxic_gas, flammable_gas, explosive, flammable_liquid, oxidizer or other.
    q_t : float
        Critical quantity Q in tonnes.
    beta : float
        Correction factor β (standards.md §8.3).
    confidence : str
        Confidence of ``q_t`` (``unconfirmed`` until checked against the official text).
    cas : str or None
        CAS number (表1 only).
    """

    key: str
    name: str
    table: str
    category: str
    q_t: float
    beta: float
    confidence: str
    cas: str | None = None


@dataclass(frozen=True)
class Entry:
    """One parsed entry of an inventory.

    ``hazard`` is the 表1 or 表2 row it resolved to, ``None`` when it cannot be evaluated (a
    CAS number not in 表1 without a category): such an entry does not count towards S and R.
    """

    text: str
    name: str
    cas: str | None
    category: str | None
    tonnes: float
    hazard: Hazard | None

    @property
    def ratio(self) -> float:
        """Return q/Q (0 when the entry could not be resolved)."""
        return self.tonnes / self.hazard.q_t if self.hazard is not None else 0.0


@dataclass(frozen=True)
class Problem:
    """A problem with one entry, in Chinese and English."""

    entry: str
    zh: str
    en: str
    severity: Literal["error", "warning"] = "error"


@dataclass(frozen=True)
class Inventory:
    """The parsed inventory of one unit: entries that parsed, and the problems found."""

    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        """Problems that make the text invalid."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def s(self) -> float:
        """S = Σ qᵢ/Qᵢ over the resolved entries (GB 18218-2018: S ≥ 1 is a major hazard installation)."""
        return math.fsum(e.ratio for e in self.entries)

    @property
    def weighted(self) -> float:
        """Σ βᵢ·qᵢ/Qᵢ over the resolved entries (R = α times this)."""
        return math.fsum(e.hazard.beta * e.ratio for e in self.entries if e.hazard is not None)

    @property
    def unresolved(self) -> list[Entry]:
        """Entries that do not count (a CAS number not in 表1 without a category)."""
        return [e for e in self.entries if e.hazard is None]


class SubstanceTable:
    """Lookups of GB 18218 表1 (by name, alias and CAS number) and 表2 (by category name).

    Parameters
    ----------
    table : dict
        The parsed ``mhs_substances`` rule table.
    """

    def __init__(self, table: dict[str, Any]) -> None:
        self.version = str(table["version"])
        betas = {str(k): float(v) for k, v in table["beta_by_category"].items()}
        self.by_name: dict[str, Hazard] = {}
        self.by_cas: dict[str, Hazard] = {}
        self.by_category: dict[str, Hazard] = {}
        for raw in table["substances"]:
            hazard = self._hazard(raw, str(raw["name"]), "表1", betas)
            for name in (raw["name"], *raw.get("aliases", ())):
                self._add(self.by_name, _fold(str(name)), hazard)
            for cas in (raw.get("cas"), *raw.get("other_cas", ())):
                if cas:
                    if not cas_valid(str(cas)):
                        raise ValueError(f"mhs_substances: bad CAS number {cas} of {raw['name']}")
                    self._add(self.by_cas, str(cas), hazard)
        for raw in table["categories"]:
            hazard = self._hazard(raw, str(raw["id"]), "表2", betas)
            for name in (raw["name"], *raw.get("aliases", ())):
                self._add(self.by_category, _fold(str(name)), hazard)

    @staticmethod
    def _hazard(raw: dict[str, Any], key: str, which: str, betas: dict[str, float]) -> Hazard:
        category = str(raw["category"])
        q_t = float(raw["q_t"])
        if not q_t > 0:
            raise ValueError(f"mhs_substances: Q of {key} must be positive")
        beta = float(raw["beta"]) if raw.get("beta") is not None else betas[category]
        return Hazard(key, str(raw["name"]), which, category, q_t, beta, str(raw.get("confidence", "unconfirmed")),
                      str(raw["cas"]) if raw.get("cas") else None)

    @staticmethod
    def _add(index: dict[str, Hazard], key: str, hazard: Hazard) -> None:
        if key in index and index[key] is not hazard:
            raise ValueError(f"mhs_substances: {key!r} names both {index[key].key} and {hazard.key}")
        index[key] = hazard

    def substance(self, name: str) -> Hazard | None:
        """Return the 表1 row named ``name`` (or an alias of it), ``None`` when there is none."""
        return self.by_name.get(_fold(name))

    def category(self, label: str) -> Hazard | None:
        """Return the 表2 row of category ``label`` (e.g. ``易燃液体类别1``), ``None`` when there is none."""
        return self.by_category.get(_fold(label))


@cache
def substance_table(name: str = "mhs_substances") -> SubstanceTable:
    """Return the substance table of ``geo/rules/<name>.yaml`` (cached).

    Examples
    --------
    >>> t = substance_table()
    >>> t.substance("液氯").name, t.substance("液氯").q_t, t.substance("液氯").beta
    ('氯', 5.0, 4.0)
    >>> t.by_cas["68476-85-7"].name, t.category("易燃液体类别1").q_t
    ('液化石油气', 10.0)
    """
    return SubstanceTable(load_table(name))


def _quantity(text: str) -> float | None:
    match = _QUANTITY.fullmatch(text.lower())
    if not match:
        return None
    return float(match.group(1)) * _TONNES[match.group(2)]


def _parse_entry(raw: str, table: SubstanceTable) -> tuple[Entry | None, list[Problem]]:
    """Parse one entry (already stripped, not empty)."""
    def problem(zh: str, en: str, severity: Literal["error", "warning"] = "error") -> Problem:
        return Problem(raw, f"条目“{raw}”：{zh}", f"entry {raw!r}: {en}", severity)

    fields = [f.strip() for f in unicodedata.normalize("NFKC", raw).split(":")]
    if len(fields) < 2 or not fields[-1]:
        return None, [problem("缺少最大存量(吨)，格式为 名称[:CAS]:吨",
                              "maximum quantity (t) missing; write name[:CAS]:tonnes")]
    name, middle, amount = fields[0], fields[1:-1], fields[-1]
    if not name:
        return None, [problem("缺少危险化学品名称", "substance name missing")]
    problems: list[Problem] = []
    cas: str | None = None
    label: str | None = None
    category: Hazard | None = None
    if len(middle) > 2:
        problems.append(problem("字段过多，格式为 名称[:CAS][:危险类别]:吨",
                                "too many fields; write name[:CAS][:category]:tonnes"))
    for part in middle[:2]:
        if _CAS.fullmatch(part):
            if not cas_valid(part):
                problems.append(problem(f"CAS号“{part}”校验位错误", f"CAS number {part} has a wrong check digit"))
            cas = part
        elif (found := table.category(part)) is not None:
            label, category = part, found
        else:
            problems.append(problem(
                f"“{part}”既不是CAS号(如 7664-41-7)也不是 GB 18218 表2 的危险类别(如 易燃液体类别1)",
                f"{part!r} is neither a CAS number (e.g. 7664-41-7) nor a GB 18218 Table 2 hazard category "
                "(e.g. 易燃液体类别1)"))
    tonnes = _quantity(amount)
    if tonnes is None or not math.isfinite(tonnes):
        problems.append(problem(f"最大存量应为数值(吨)，实为“{amount}”",
                                f"maximum quantity must be a number of tonnes, got {amount!r}"))
    elif tonnes < 0:
        problems.append(problem(f"最大存量不能为负数({amount})", f"maximum quantity cannot be negative ({amount})"))
    if problems:
        return None, problems
    assert tonnes is not None
    by_cas = table.by_cas.get(cas) if cas else None
    by_name = table.substance(name)
    if by_cas is not None and by_name is not None and by_cas is not by_name:
        return None, [problem(f"名称“{name}”(表1 {by_name.name})与 CAS号 {cas}(表1 {by_cas.name})不一致",
                              f"name {name!r} (Table 1 {by_name.name}) and CAS {cas} (Table 1 {by_cas.name}) "
                              "name different substances")]
    hazard = by_cas or by_name or category or table.category(name)
    if hazard is None:
        if cas is None:
            return None, [problem(f"“{name}”不在 GB 18218 表1 中，请注明 CAS号 或危险类别(如 易燃液体类别1)",
                                  f"{name!r} is not in GB 18218 Table 1: give its CAS number or hazard category "
                                  "(e.g. 易燃液体类别1)")]
        problems.append(problem(f"CAS号 {cas} 不在 GB 18218 表1 中且未注明危险类别(表2)，不计入 S、R",
                                f"CAS {cas} is not in GB 18218 Table 1 and no Table 2 category is given: "
                                "not counted in S and R", "warning"))
    return Entry(raw, name, cas, label, tonnes, hazard), problems


def parse_substances(text: str | None, table: SubstanceTable | None = None) -> Inventory:
    """Parse the ``substances`` text of a unit.

    Parameters
    ----------
    text : str or None
        ``名称[:CAS][:危险类别]:吨`` entries separated by ``;``/``；``/``，`` or line breaks.
    table : SubstanceTable, optional
        Lookups (default: :func:`substance_table`).

    Returns
    -------
    Inventory
        The entries that parsed (with their 表1/表2 row) and the problems (errors and warnings),
        each naming its entry. Blank text is an empty inventory.

    Examples
    --------
    >>> inv = parse_substances("液化石油气:74-98-6:120； 氨：10")
    >>> [(e.hazard.name, e.tonnes, e.hazard.q_t) for e in inv.entries], inv.problems
    ([('液化石油气', 120.0, 50.0), ('氨', 10.0, 10.0)], ())
    >>> round(inv.s, 6), round(inv.weighted, 6)          # 120/50 + 10/10; 1.5·2.4 + 2·1
    (3.4, 5.6)
    >>> inv = parse_substances("液氯:12; 液氨:30")          # 12/5 + 30/10; 4·2.4 + 2·3
    >>> round(inv.s, 6), round(inv.weighted, 6)
    (5.4, 15.6)
    >>> parse_substances("某中间体:易燃液体类别1:20").entries[0].hazard.q_t
    10.0
    >>> [p.en for p in parse_substances("氨; 苯:-2; 某物:3").errors]  # doctest: +NORMALIZE_WHITESPACE
    ["entry '氨': maximum quantity (t) missing; write name[:CAS]:tonnes",
     "entry '苯:-2': maximum quantity cannot be negative (-2)",
     "entry '某物:3': '某物' is not in GB 18218 Table 1: give its CAS number or hazard category (e.g. 易燃液体类别1)"]
    """
    table = table or substance_table()
    entries: list[Entry] = []
    problems: list[Problem] = []
    for raw in _ENTRY_SEPARATORS.split(text or ""):
        raw = raw.strip()
        if not raw:
            continue
        entry, found = _parse_entry(raw, table)
        problems.extend(found)
        if entry is not None:
            entries.append(entry)
    return Inventory(tuple(entries), tuple(problems))
