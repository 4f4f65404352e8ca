"""The monthly 调度表 (workflows.md §5): definition read from ``dispatch.yaml``, figures from hazard histories.

Every figure is cumulative to the end of the month before the report month (the cut-off) and is read
from the hazards' history, so a table for a past month comes out the same however the hazards moved
on since: each hazard counts with the state, level and supervision its last step before the cut-off
gave it.

A street (街道) or town (乡镇) has its own table, sent to its district (workflows.md §5): it counts the
hazards and spot checks of the enterprises whose ``township`` is that street
(``campaign.submissions.dispatch_from_store(..., street=...)``); a hazard without an enterprise, or of
an enterprise without a street, is counted only by its district.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import yaml
from sqlalchemy import Connection, Engine

from campaign.lifecycle import Label
from campaign.reference import Reference, load_reference
from geo import store
from geo.constants import LOCAL_TIMEZONE

DISPATCH_FILE = Path(__file__).with_name("dispatch.yaml")


@dataclass(frozen=True)
class HazardRow:
    """One counted row of part 1: which major hazards it counts."""

    no: int
    code: str
    label: Label
    sources: str | None  # "self", "others" or None (any source)
    supervised: bool
    rectified: bool


@dataclass(frozen=True)
class DispatchDefinition:
    """The 调度表 as published: title, rows, what counts as rectified and due day."""

    version: str
    source: str
    title: Label
    due_day: int
    rectified_states: frozenset[str]
    excluded_states: frozenset[str]
    hazard_rows: tuple[HazardRow, ...]
    spot_check_total: Label


@dataclass(frozen=True)
class DispatchTable:
    """The figures of one unit's 调度表 for one report month."""

    unit: str
    period: str
    cutoff: dt.date
    hazards: tuple[tuple[HazardRow, int], ...]
    spot_checked: int
    spot_items: tuple[tuple[str, Label, int], ...]

    def figures(self) -> dict[str, int]:
        """Return every figure by code (part 1 row codes, ``spot_total`` and the spot-check item codes)."""
        out = {row.code: n for row, n in self.hazards}
        out["spot_total"] = self.spot_checked
        out.update({code: n for code, _, n in self.spot_items})
        return out


@cache
def load_dispatch(path: Path = DISPATCH_FILE) -> DispatchDefinition:
    """Read the 调度表 definition.

    Parameters
    ----------
    path : Path
        The YAML file; the one shipped with RiskMap by default.

    Returns
    -------
    DispatchDefinition
    """
    with open(path, encoding="utf-8") as fh:
        doc: Mapping[str, Any] = yaml.safe_load(fh)
    rows = tuple(
        HazardRow(no=int(r["row"]), code=str(r["code"]), label=Label(r["zh"], r["en"]), sources=r.get("sources"),
                  supervised=bool(r.get("supervised")), rectified=bool(r.get("rectified")))
        for r in doc["hazard_rows"]
    )
    bad = [r.code for r in rows if r.sources not in (None, "self", "others")]
    if bad:
        raise ValueError(f"dispatch.yaml: rows {bad} have sources other than self/others")
    return DispatchDefinition(
        version=str(doc["version"]), source=str(doc["source"]), title=Label(**doc["title"]),
        due_day=int(doc["due_day"]),
        rectified_states=frozenset(doc["rectified_states"]), excluded_states=frozenset(doc["excluded_states"]),
        hazard_rows=rows, spot_check_total=Label(**doc["spot_check_total"]),
    )


def cutoff_of(period: str) -> dt.date:
    """Return the last day counted in the table of report month ``period`` (``YYYY-MM``).

    Examples
    --------
    >>> cutoff_of("2026-12"), cutoff_of("2027-01")
    (datetime.date(2026, 11, 30), datetime.date(2026, 12, 31))
    """
    try:
        first = dt.datetime.strptime(period, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"报表月份应为 YYYY-MM：{period!r} / report month must be YYYY-MM: {period!r}") from None
    return first - dt.timedelta(days=1)


def as_of(steps: pd.DataFrame, cutoff: dt.date, timezone: str = LOCAL_TIMEZONE) -> pd.DataFrame:
    """Each hazard as its last step on or before ``cutoff`` (local calendar day) left it.

    Parameters
    ----------
    steps : DataFrame
        History steps: ``hazard`` (code), ``at`` (timezone-aware), ``to_state``, ``severity``,
        ``supervised`` (bool, after the step).
    cutoff : date
        Last local day counted.
    timezone : str
        IANA zone of the local calendar (default :data:`geo.constants.LOCAL_TIMEZONE`).

    Returns
    -------
    DataFrame
        One row per hazard that existed by the cut-off, indexed by hazard code.
    """
    end = pd.Timestamp(dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone)))
    if steps.empty:
        return steps.set_index("hazard")
    at = pd.to_datetime(steps["at"], utc=True)
    before = steps.loc[at < end].assign(_at=at[at < end])
    before = before.sort_values(["hazard", "_at"], kind="stable")
    return before.groupby("hazard", sort=True).tail(1).drop(columns="_at").set_index("hazard")


def dispatch_table(
    hazards: pd.DataFrame,
    steps: pd.DataFrame,
    spot_checks: pd.DataFrame,
    *,
    unit: str,
    period: str,
    definition: DispatchDefinition | None = None,
    reference: Reference | None = None,
    street: str | None = None,
) -> DispatchTable:
    """Compute one unit's 调度表 for report month ``period``.

    Parameters
    ----------
    hazards : DataFrame
        The unit's hazards: ``code`` and ``source`` (a source code of ``reference.yaml``).
    steps : DataFrame
        Their history steps (see :func:`as_of`).
    spot_checks : DataFrame
        Spot checks of enterprises' self-checks: ``enterprise`` (credit code), ``checked_on`` (date)
        and one boolean column per spot-check item code.
    unit : str
        The reporting unit's name (district, street or city).
    period : str
        Report month ``YYYY-MM``; figures run to the end of the month before.
    definition, reference : optional
        The tables in force; the shipped ones by default.
    street : str, optional
        A street (街道/乡镇): only hazards and spot checks whose ``township`` column (the enterprise's
        street; both frames must carry it) is this street are counted.

    Returns
    -------
    DispatchTable
    """
    definition = definition or load_dispatch()
    reference = reference or load_reference()
    cutoff = cutoff_of(period)
    if street is not None:
        missing = [name for name, frame in (("hazards", hazards), ("spot_checks", spot_checks))
                   if "township" not in frame.columns]
        if missing:
            raise ValueError(f"街道调度表需要 township 列：{missing} / a street's table needs a township column")
        hazards = hazards.loc[hazards["township"] == street]
        spot_checks = spot_checks.loc[spot_checks["township"] == street]
    state = as_of(steps, cutoff)
    facts = hazards.set_index("code")[["source"]].join(state, how="inner")
    unknown = sorted(set(facts["source"]) - set(reference.sources))
    if unknown:
        raise ValueError(f"未知的隐患来源 {unknown} / unknown hazard sources {unknown}")
    facts = facts.loc[(facts["severity"] == "major") & ~facts["to_state"].isin(definition.excluded_states)]
    is_self = facts["source"].isin(reference.self_sources)
    rectified = facts["to_state"].isin(definition.rectified_states)
    supervised = facts["supervised"].astype(bool)
    counted: list[tuple[HazardRow, int]] = []
    for row in definition.hazard_rows:
        mask = pd.Series(True, index=facts.index)
        if row.sources == "self":
            mask &= is_self
        elif row.sources == "others":
            mask &= ~is_self
        if row.supervised:
            mask &= supervised
        if row.rectified:
            mask &= rectified
        counted.append((row, int(mask.sum())))
    checks = spot_checks.loc[pd.to_datetime(spot_checks["checked_on"]).dt.date <= cutoff] if len(spot_checks) \
        else spot_checks
    items = []
    for code, label in reference.spot_check_items.items():
        flagged = checks.loc[checks[code].astype(bool), "enterprise"] if len(checks) else pd.Series(dtype=str)
        items.append((code, label, int(flagged.nunique())))
    total = int(checks["enterprise"].nunique()) if len(checks) else 0
    return DispatchTable(unit=unit, period=period, cutoff=cutoff, hazards=tuple(counted), spot_checked=total,
                         spot_items=tuple(items))


def enterprise_streets(conn: Connection, adcode: str) -> dict[str, str]:
    """Credit code -> street of the district's enterprises that name one (as the session sees them)."""
    ents = store.read_layer(conn, "enterprises", adcode)
    named = ents.loc[ents["credit_code"].notna() & ents["township"].notna() & (ents["township"] != "")]
    return dict(zip(named["credit_code"].astype(str), named["township"].astype(str), strict=True))


def district_streets(engine: Engine | Connection, adcode: str) -> list[str]:
    """Return the streets (街道/乡镇) named by the district's enterprises, sorted.

    Parameters
    ----------
    engine : Engine or Connection
        A store engine under the caller's scope.
    adcode : str
        The district.

    Returns
    -------
    list of str
    """
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return sorted(set(enterprise_streets(conn, adcode).values()))
    return sorted(set(enterprise_streets(engine, adcode).values()))
