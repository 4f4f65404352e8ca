"""Reference tables of the campaign read from ``reference.yaml``: hazard sources, the 18 行业领域, spot-check items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from campaign.lifecycle import Label

REFERENCE_FILE = Path(__file__).with_name("reference.yaml")


@dataclass(frozen=True)
class Industry:
    """One 行业领域 with its lead departments and the enterprise industry codes that belong to it."""

    code: str
    label: Label
    lead: tuple[str, ...]
    enterprise_industries: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    """Hazard sources, industries and spot-check items, each with Chinese and English labels."""

    version: str
    sources: Mapping[str, Label]
    self_sources: frozenset[str]
    industries: Mapping[str, Industry]
    spot_check_items: Mapping[str, Label]
    #: 行业领域 of the risk sources and findings of a layer that is not the enterprises.
    layer_industries: Mapping[str, str]
    #: 行业领域 of a risk point by its 类别 (``risk_points.category``).
    risk_point_industries: Mapping[str, str]

    def industry_of(self, enterprise_industry: str | None) -> str | None:
        """Return the 行业领域 code of an enterprise's industry code (None when it maps to none).

        Examples
        --------
        >>> load_reference().industry_of("gas_station"), load_reference().industry_of("other")
        ('hazchem', None)
        """
        for industry in self.industries.values():
            if enterprise_industry in industry.enterprise_industries:
                return industry.code
        return None


@cache
def load_reference(path: Path = REFERENCE_FILE) -> Reference:
    """Read and check the reference tables.

    Parameters
    ----------
    path : Path
        The YAML file; the one shipped with RiskMap by default.

    Returns
    -------
    Reference

    Raises
    ------
    ValueError
        When an enterprise industry code is claimed by two 行业领域.
    """
    with open(path, encoding="utf-8") as fh:
        doc: Mapping[str, Any] = yaml.safe_load(fh)
    sources = {k: Label(v["zh"], v["en"]) for k, v in doc["sources"].items()}
    industries = {
        k: Industry(code=k, label=Label(v["zh"], v["en"]), lead=tuple(v["lead"]),
                    enterprise_industries=tuple(v.get("enterprise_industries", ())))
        for k, v in doc["industries"].items()
    }
    claimed: dict[str, str] = {}
    for ind in industries.values():
        for code in ind.enterprise_industries:
            if code in claimed:
                raise ValueError(f"reference.yaml: industry {code} is in both {claimed[code]} and {ind.code}")
            claimed[code] = ind.code
    return Reference(
        version=str(doc["version"]), sources=sources,
        self_sources=frozenset(k for k, v in doc["sources"].items() if v.get("self")),
        industries=industries,
        spot_check_items={k: Label(v["zh"], v["en"]) for k, v in doc["spot_check_items"].items()},
        layer_industries=_industry_map(doc, "layer_industries", industries),
        risk_point_industries=_industry_map(doc, "risk_point_industries", industries),
    )


def _industry_map(doc: Mapping[str, Any], name: str, industries: Mapping[str, Industry]) -> dict[str, str]:
    found = {str(k): str(v) for k, v in (doc.get(name) or {}).items()}
    unknown = sorted(v for v in found.values() if v not in industries)
    if unknown:
        raise ValueError(f"reference.yaml: {name} names unknown 行业领域 {unknown}")
    return found
