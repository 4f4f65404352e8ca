"""Checks and derived columns of whole records: natural keys, duplicates, computed values."""

from __future__ import annotations

import hashlib
from typing import Any

import geopandas as gpd
import shapely

from geo.constants import STORAGE_SRID
from geo.crs import geodesic_length, gk_zone_epsg
from geo.layer_specs import LayerSpec
from geo.rules import protection_target_class, tailings_design_grade
from geo.validate.issues import RowIssues

#: Half-width of the corridor stored with an HCA segment (GB 32167-2015 Table 1: 200 m each side).
HCA_CORRIDOR_M = 200.0


def record_key(spec: LayerSpec, record: dict[str, Any]) -> str | None:
    """Natural key of a record (None when a key field is missing)."""
    if len(spec.key_fields) == 1:  # the usual case, without the list and the join
        part = record.get(spec.key_fields[0])
        return None if part is None else f"{part:g}" if isinstance(part, float) else str(part)
    parts = [record.get(f) for f in spec.key_fields]
    if any(p is None for p in parts):
        return None
    return ":".join(f"{p:g}" if isinstance(p, float) else str(p) for p in parts)


def check_duplicates(records: list[dict[str, Any]], rows: list[RowIssues], spec: LayerSpec,
                     keys: list[str | None] | None = None) -> None:
    """Refuse every row whose natural key repeats an earlier row's.

    Parameters
    ----------
    records : list of dict
        The converted rows.
    rows : list of RowIssues
        One per row; the repeats receive an error naming the first row.
    spec : LayerSpec
        The layer, for its key fields.
    keys : list of str or None, optional
        Each record's :func:`record_key`, when already known.
    """
    seen: dict[str, int] = {}
    names = "+".join(spec.field(f).zh for f in spec.key_fields)
    for i, rec in enumerate(records):
        key = record_key(spec, rec) if keys is None else keys[i]
        if key is None:
            continue
        if key in seen:
            first = rows[seen[key]].label
            rows[i].error(names, f"键值“{key}”重复(与{first}相同)", f"duplicate key {key!r} (same as {first})")
        else:
            seen[key] = i


def derive_columns(rec: dict[str, Any], spec: LayerSpec, geom: shapely.Geometry, districts: gpd.GeoDataFrame,
                   key: str | None = None) -> None:
    """Fill derived columns: key, GB 36894 class, tailings grade, pipeline districts and length (``key``: if known)."""
    if spec.name == "districts" and rec.get("level") is None:
        code = str(rec["adcode"])
        rec["level"] = "province" if code.endswith("0000") else "city" if code.endswith("00") else "county"
    if spec.name != "districts":
        key = key if key is not None else record_key(spec, rec)
        rec["key"] = key if key else hashlib.sha1(shapely.to_wkb(geom)).hexdigest()
    if spec.name == "protection_targets":
        rec["gb36894_class"] = protection_target_class(rec["target_type"], rec.get("households"),
                                                       rec.get("population"))
    elif spec.name == "hcas":
        rec["grade"] = int(rec["grade"])
        epsg = gk_zone_epsg(geom.centroid.x)
        metric = gpd.GeoSeries([geom], crs=STORAGE_SRID).to_crs(epsg)
        corridor = metric.buffer(HCA_CORRIDOR_M).to_crs(STORAGE_SRID).iloc[0]
        rec["corridor"] = corridor if corridor.geom_type == "MultiPolygon" else shapely.MultiPolygon([corridor])
    elif spec.name == "tailings_dams":
        rec["design_grade"] = tailings_design_grade(rec["total_storage_10k_m3"], rec["dam_height_m"])
    elif spec.name == "pipelines":
        rec["length_m"] = geodesic_length(geom)  # on the ellipsoid, as every mileage (geo.crs)
        hits = districts[districts.intersects(geom)] if len(districts) else districts
        rec["adcodes"] = sorted(hits["adcode"]) if len(hits) else []
        rec.setdefault("start_mileage_m", None)
        if rec["start_mileage_m"] is None:
            rec["start_mileage_m"] = 0.0
    for name, default in _DEFAULTS.get(spec.name, {}).items():
        if rec.get(name) is None:
            rec[name] = default


#: Values used when an optional column is blank (they match the columns' server defaults).
_DEFAULTS: dict[str, dict[str, Any]] = {
    "enterprises": {"installation_status": "in_service", "has_explosives": False},
    "pipelines": {"laying": "buried"},
    "buildings": {"households": 0, "floors": 1},
}
