"""按行业: every measure broken down by the 18 行业领域, with each field's lead departments.

The measures are those of :func:`layers.measures.grouped_measures` (the one definition per district is
the same code); only the grouping differs. A row's 行业领域 comes from ``campaign/reference.yaml``: an
enterprise's from its industry code; a tailings pond's, an HCA's and a pipeline's from its layer; a risk
point's from its 类别; a hazard's and a finding's from the enterprise (or layer) it concerns. What maps
to none counts under :data:`OTHER`, so the industries add up to the city.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd

from campaign.reference import load_reference
from geo.checks.bundle import Bundle
from layers.campaign_measures import CAMPAIGN_MEASURES, campaign_measures
from layers.measures import grouped_measures

__all__ = ["OTHER", "industry_index", "industry_measures", "industry_of_rows"]

#: Group of whatever no 行业领域 claims.
OTHER = "other"


def industry_index() -> pd.Index:
    """Return the 行业领域 codes in the order of ``reference.yaml``, then :data:`OTHER`.

    Examples
    --------
    >>> list(industry_index()[:2]), industry_index()[-1], len(industry_index())
    (['coal', 'non_coal_mining'], 'other', 19)
    """
    return pd.Index([*load_reference().industries, OTHER], name="industry")


def _enterprise_industry(bundle: Bundle) -> dict[str, str]:
    """Map enterprise key and credit code to 行业领域."""
    ref, ents = load_reference(), bundle["enterprises"]
    out: dict[str, str] = {}
    if not len(ents):
        return out
    for key, code, industry in zip(ents["key"], ents.get("credit_code", pd.Series(None, index=ents.index)),
                                   ents["industry"], strict=True):
        field = ref.industry_of(None if industry is None else str(industry)) or OTHER
        out[str(key)] = field
        if isinstance(code, str) and code:
            out[code] = field
    return out


def industry_of_rows(bundle: Bundle, what: str, frame: pd.DataFrame) -> pd.Series:
    """Return the 行业领域 of each row of ``frame``.

    Parameters
    ----------
    bundle : Bundle
        Layers (its enterprises and plant parts resolve the rows that concern an enterprise).
    what : str
        ``"sources"`` (:func:`layers.measures.counted_sources`), ``"risk_points"``, ``"hidden_hazards"`` or
        ``"findings"``.
    frame : DataFrame
        The rows.

    Returns
    -------
    Series
        Industry codes (:func:`industry_index`), aligned with ``frame``.
    """
    ref, by_enterprise = load_reference(), _enterprise_industry(bundle)
    if not len(frame):
        return pd.Series(dtype=object, index=frame.index)

    def column(name: str) -> pd.Series:
        return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)

    if what == "sources":
        layer = {"enterprise": "enterprises", "tailings_dam": "tailings_dams", "hca": "hcas"}
        points = bundle["risk_points"]
        category = dict(zip(points["key"], points["category"], strict=True)) if len(points) else {}
        out = [by_enterprise.get(str(key)) if kind == "enterprise" else
               ref.risk_point_industries.get(str(category.get(key))) if kind == "risk_point" else
               ref.layer_industries.get(layer.get(str(kind), ""))
               for kind, key in zip(column("source_type"), column("key"), strict=True)]
    elif what == "risk_points":
        out = [ref.risk_point_industries.get(str(c)) for c in column("category")]
    elif what == "hidden_hazards":
        out = [by_enterprise.get(str(c)) for c in column("credit_code")]
    elif what == "findings":
        parts = bundle["installations"]
        owner = dict(zip(parts["key"], parts["enterprise_credit_code"], strict=True)) if len(parts) else {}
        out = [by_enterprise.get(str(key)) if kind == "enterprises" else
               by_enterprise.get(str(owner.get(key))) if kind == "installations" else
               ref.layer_industries.get(str(kind))
               for kind, key in zip(column("subject_type"), column("subject_key"), strict=True)]
    else:
        raise ValueError(f"what must be sources, risk_points, hidden_hazards or findings, not {what!r}")
    return pd.Series([code or OTHER for code in out], index=frame.index, dtype=object)


def industry_measures(bundle: Bundle, sources: gpd.GeoDataFrame, findings: pd.DataFrame,
                      as_of: dt.date) -> pd.DataFrame:
    """Every measure per 行业领域, with its name and lead departments.

    Parameters
    ----------
    bundle : Bundle
        Layers as for :func:`layers.measures.district_measures`.
    sources : GeoDataFrame
        Output of :func:`layers.measures.counted_sources`.
    findings : DataFrame
        Stored findings.
    as_of : date
        The day overdue is judged on.

    Returns
    -------
    DataFrame
        Indexed by industry code (:func:`industry_index`): ``name``, ``lead`` (departments joined by 、),
        the count columns of :func:`layers.measures.district_measures`, ``rectification_rate`` and the
        campaign measures (:data:`layers.campaign_measures.CAMPAIGN_MEASURES`).
    """
    ref, index = load_reference(), industry_index()
    out = grouped_measures(bundle, sources, findings, as_of, index=index,
                           group_of=lambda what, frame: industry_of_rows(bundle, what, frame))
    hazards = pd.DataFrame(bundle["hidden_hazards"]).drop(columns="geometry", errors="ignore")
    ents = bundle["enterprises"]
    raw = dict(zip(ents["credit_code"], ents["industry"], strict=True)) if len(ents) else {}
    hazards["enterprise_industry"] = [raw.get(c) for c in hazards.get("credit_code", pd.Series(dtype=object))]
    campaign = campaign_measures(hazards, by="industry", today=as_of) if len(hazards) else pd.DataFrame()
    codes = [m.code for m in CAMPAIGN_MEASURES]
    out = out.join(campaign.reindex(index)[codes] if len(campaign) else pd.DataFrame(index=index, columns=codes))
    total = out["hazards_total"].astype(float)
    out["rectification_rate"] = (out["hazards_done"] / total.where(total > 0)).round(4)
    out.insert(0, "lead", ["、".join(ref.industries[c].lead) if c in ref.industries else "" for c in index])
    out.insert(0, "name", [ref.industries[c].label.zh if c in ref.industries else "其他" for c in index])
    return out
