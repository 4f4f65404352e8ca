"""晾晒: districts ranked by a period's figures, with the change since the previous period.

The city ranks its districts every month by the rectification rate, overdue hazards and the 五色 score
(workflows.md §5). The figures are those of :mod:`layers.snapshots` (stored, so a ranking printed for a
bulletin is the same when printed again); each criterion says which way is better, and a district's
change is judged that way (↑ better, ↓ worse, → the same).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from layers.snapshots import BY_INDUSTRY, CITY

__all__ = ["CRITERIA", "Criterion", "figures_from_snapshots", "industry_figures", "rank_districts"]


@dataclass(frozen=True)
class Criterion:
    """A ranking criterion: the figure, its labels and whether more is better."""

    code: str
    zh: str
    en: str
    higher_is_better: bool
    percent: bool = False


#: Ranking criteria, in the order a bulletin prints them.
CRITERIA: dict[str, Criterion] = {c.code: c for c in (
    Criterion("rate_all", "重大隐患整改率", "Major-hazard rectification rate", True, percent=True),
    Criterion("overdue_hazards", "逾期未整改隐患", "Overdue hazards", False),
    Criterion("score", "五色评分", "Five-colour score", False),
    Criterion("major_risks", "重大风险源", "Major risk sources", False),
)}


def figures_from_snapshots(rows: pd.DataFrame) -> pd.DataFrame:
    """Turn stored snapshot rows of one period into the frame :func:`layers.snapshots.period_figures` returns.

    Parameters
    ----------
    rows : DataFrame
        Rows of :func:`geo.store.read_snapshots` for one period end, kind and rubric.

    Returns
    -------
    DataFrame
        Indexed by scope; one column per stored measure plus ``score``, ``class_code``, ``rank``,
        ``n_districts``.
    """
    if rows[["period_end", "kind", "rubric_version"]].drop_duplicates().shape[0] > 1:
        raise ValueError("rows of more than one period, kind or rubric")
    records = {str(r["scope"]): {**dict(r["measures"]), "score": r["score"], "class_code": r["class_code"],
                                  "rank": r["rank"], "n_districts": r["n_districts"]}
               for r in rows.to_dict("records")}
    return pd.DataFrame.from_dict(records, orient="index")


def industry_figures(figures: pd.DataFrame) -> pd.DataFrame:
    """Return the figures per 行业领域 that the city row of stored figures carries (按行业).

    Parameters
    ----------
    figures : DataFrame
        Output of :func:`figures_from_snapshots` (its city row holds them).

    Returns
    -------
    DataFrame
        Indexed by industry code, with ``name``, ``lead`` and the measures; empty when the snapshot
        predates the breakdown.
    """
    if CITY not in figures.index or BY_INDUSTRY not in figures.columns:
        return pd.DataFrame()
    held = figures.at[CITY, BY_INDUSTRY]
    return pd.DataFrame.from_dict(held, orient="index") if isinstance(held, dict) else pd.DataFrame()


def rank_districts(current: pd.DataFrame, previous: pd.DataFrame | None, criterion: str,
                   names: dict[str, str] | None = None) -> pd.DataFrame:
    """Rank the districts (or 行业领域) of ``current`` by one criterion, best first, with the change.

    Parameters
    ----------
    current, previous : DataFrame
        Figures of this and the previous period (:func:`layers.snapshots.period_figures` or
        :func:`figures_from_snapshots`); the city row is left out. ``previous`` may be None.
    criterion : str
        A key of :data:`CRITERIA`.
    names : dict, optional
        District names by code.

    Returns
    -------
    DataFrame
        Indexed by adcode, best first: ``name``, ``value``, ``rank`` (1 = best; equal values share a
        rank), ``previous``, ``previous_rank``, ``delta`` (value change), ``trend`` (``↑`` better,
        ``↓`` worse, ``→`` the same, empty when there is no previous figure). Districts without a
        value (e.g. no major hazard, so no rate) come last with no rank.
    """
    spec = CRITERIA[criterion]
    now = _values(current, criterion)
    out = pd.DataFrame({"value": now})
    out["rank"] = now.rank(ascending=not spec.higher_is_better, method="min").astype("Int64")
    before = _values(previous, criterion).reindex(out.index) if previous is not None else pd.Series(
        np.nan, index=out.index)
    out["previous"] = before
    out["previous_rank"] = (before.rank(ascending=not spec.higher_is_better, method="min").astype("Int64")
                            if before.notna().any() else pd.Series(pd.NA, index=out.index, dtype="Int64"))
    out["delta"] = now - before
    sign = np.sign(out["delta"]) * (1 if spec.higher_is_better else -1)
    out["trend"] = np.select([out["delta"].isna(), sign > 0, sign < 0], ["", "↑", "↓"], default="→")
    out.insert(0, "name", [(names or {}).get(code, code) for code in out.index])
    order = out["rank"].astype("Float64").fillna(np.inf)
    return out.assign(_o=order).sort_values(["_o", "name"], kind="stable").drop(columns="_o")


def _values(figures: pd.DataFrame | None, column: str) -> pd.Series:
    if figures is None or column not in figures:
        return pd.Series(dtype=float)
    districts = figures.drop(index=CITY, errors="ignore")
    return pd.to_numeric(districts[column], errors="coerce").astype(float)
