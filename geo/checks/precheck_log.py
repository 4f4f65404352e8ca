"""Record site pre-checks in the audit log (the same entry from the command line and the dashboard)."""

from __future__ import annotations

import shapely
from sqlalchemy import Engine

from geo import store
from geo.checks.site import SiteVerdict


def record_precheck(engine: Engine, site: shapely.Geometry, verdict: SiteVerdict, *, actor: str,
                    via: str) -> None:
    """Append one ``precheck`` entry: the site (WKT, 6 decimals), use, verdict and number of reasons.

    Parameters
    ----------
    engine : Engine
        The store.
    site : shapely.Geometry
        The checked site, EPSG:4490.
    verdict : SiteVerdict
        The result.
    actor : str
        Who asked.
    via : str
        ``"cli"`` or ``"dashboard"``.
    """
    reasons = verdict.reasons
    adcodes = sorted({str(a) for a in reasons["adcode"].dropna()}) if "adcode" in reasons.columns else []
    with engine.begin() as conn:
        store.audit(conn, actor=actor, action="precheck", target=shapely.to_wkt(site, rounding_precision=6),
                    adcode=adcodes[0] if len(adcodes) == 1 else None,
                    details={"use": verdict.use, "verdict": verdict.verdict, "reasons": len(reasons), "via": via,
                             "rule_set_version": verdict.rules.version if verdict.rules else None})
