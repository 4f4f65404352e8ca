"""How complete and how current a district's data is: missing optional values, stale rows, last updates.

The district officer keeps the layers of one district current (product.md: "keeps the district's
risk data current"). :func:`completeness` measures, per district-owned layer of a
:class:`~geo.checks.bundle.Bundle`:

Missing values
    Every field of the layer's spec in :mod:`geo.layer_specs` that is *not* required counts as
    an optional field that should be filled (required fields cannot be blank: the importer
    refuses such rows). Excluded are ``lon``/``lat`` (they only carry the geometry on import)
    and the fields of :data:`NOT_APPLICABLE`, whose blank is a valid value by the data
    dictionary (``mhs_grade``: "blank when none") or which only apply to some rows
    (``closed_on`` of a hidden hazard that is not closed). A value is missing when it is null,
    NaN/NaT or blank text. Fields with a database default (e.g. ``installation_status``) are
    always filled once stored.
Stale rows
    Rows whose ``updated_at`` (the stored modification time present in frames read from the
    store) lies more than ``stale_days`` days before ``as_of`` (in China Standard Time).
Overdue reviews
    Risk points whose ``reviewed_on`` (更新日期) lies more than :data:`REVIEW_DAYS` days before
    ``as_of``, or is missing: the 4张清单 are updated quarterly (standards.md §9, Beijing's
    rule "原则上应每季度完成1次风险动态更新", [C]). A missing date is counted both as a
    missing value and as an overdue review.
Last update
    The latest ``updated_at`` of the layer's rows in the district.

The function is pure (frames in, frame out) and runs no SQL.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo.checks.bundle import Bundle
from geo.constants import LOCAL_TIMEZONE
from geo.layer_specs import LAYERS

__all__ = ["DISTRICT_LAYERS", "GEOMETRY_FIELDS", "NOT_APPLICABLE", "REVIEWED", "REVIEW_DAYS", "TIMEZONE",
           "completeness", "optional_fields"]

#: Layers whose rows belong to one district (``adcode``), in the order they are reported.
DISTRICT_LAYERS = ("enterprises", "installations", "protection_targets", "buildings", "tailings_dams",
                   "infrastructure", "risk_points", "hidden_hazards", "risk_contours", "hcas")
#: Spec fields that only carry the geometry on import (not stored as columns).
GEOMETRY_FIELDS = frozenset({"lon", "lat"})
#: Optional fields that are not a gap when blank: ``None`` means "never counted"; ``(column, value)``
#: means the field counts only on rows where ``column`` equals ``value``.
NOT_APPLICABLE: dict[str, dict[str, tuple[str, str] | None]] = {
    "enterprises": {"mhs_grade": None},  # blank = no major hazard installation (GB 18218)
    "hidden_hazards": {"closed_on": ("status", "closed")},  # a closing date only once closed
    # goods items and stock are those of a class A warehouse (GB 50016 Table 3.5.1)
    "installations": {"goods_items": ("part_type", "class_a_warehouse"), "stock_t": ("part_type", "class_a_warehouse"),
                      "substances": None},  # blank = no hazardous chemicals held (a flare, a control room)
}
#: Days after which a risk point's review date is overdue (quarterly update: 92 days covers any quarter).
REVIEW_DAYS = 92
#: Layer and date field of the periodic review that :func:`completeness` checks.
REVIEWED = {"risk_points": "reviewed_on"}
#: Time zone in which timestamps are turned into days (the one declaration is in :mod:`geo.constants`).
TIMEZONE = LOCAL_TIMEZONE

_COLUMNS = ("layer", "rows", "fields", "values", "missing", "missing_by_field", "stale", "review_overdue",
            "last_update", "completeness_score")


def optional_fields(layer: str) -> list[str]:
    """List the optional fields of ``layer`` that :func:`completeness` expects to be filled.

    Parameters
    ----------
    layer : str
        A layer of :data:`geo.layer_specs.LAYERS`.

    Returns
    -------
    list of str
        Field names in spec order: the non-required fields, without ``lon``/``lat`` and
        without the fields :data:`NOT_APPLICABLE` never counts.

    Examples
    --------
    >>> optional_fields("enterprises")
    ['address', 'township', 'external_distance_m', 'installation_status', 'has_explosives', 'principal', 'phone']
    >>> optional_fields("risk_contours")
    []
    """
    skip = {name for name, when in NOT_APPLICABLE.get(layer, {}).items() if when is None}
    return [f.name for f in LAYERS[layer].fields
            if not f.required and f.name not in GEOMETRY_FIELDS and f.name not in skip]


def _missing(values: pd.Series) -> np.ndarray:
    """Flag values that are null, NaN/NaT or blank text."""
    na = values.isna().to_numpy(dtype=bool)
    blank = values.astype(object).map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    return na | blank


def _local_times(values: pd.Series) -> pd.Series:
    """Timestamps or dates as naive China Standard Time timestamps (naive input is taken as local)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values

    def one(value: object) -> pd.Timestamp:
        if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
            return pd.NaT  # type: ignore[return-value]
        try:
            stamp = pd.Timestamp(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return pd.NaT  # type: ignore[return-value]
        return stamp.tz_convert(TIMEZONE).tz_localize(None) if stamp.tzinfo is not None else stamp

    return pd.Series([one(v) for v in values.astype(object)], index=values.index, dtype="datetime64[us]")


def _older_than(values: pd.Series, as_of: dt.date, days: int) -> np.ndarray:
    """Flag dates more than ``days`` days before ``as_of`` (missing dates are not flagged)."""
    age = (pd.Timestamp(as_of) - _local_times(values).dt.normalize()).dt.days
    return (age > days).fillna(False).to_numpy(dtype=bool)


def _layer_row(layer: str, frame: pd.DataFrame, as_of: dt.date, stale_days: int, review_days: int) -> dict[str, object]:
    n = len(frame)
    counts: dict[str, int] = {}
    applicable = 0
    conditional = NOT_APPLICABLE.get(layer, {})
    fields = optional_fields(layer)
    for name in fields:
        rule = conditional.get(name)
        applies = np.ones(n, dtype=bool)
        if rule is not None:
            column, value = rule
            applies = (frame[column].astype(object) == value).to_numpy(dtype=bool) if column in frame.columns \
                else np.zeros(n, dtype=bool)
        missing = _missing(frame[name]) if name in frame.columns else np.ones(n, dtype=bool)
        applicable += int(applies.sum())
        counts[name] = int((missing & applies).sum())
    total = sum(counts.values())
    by_field = dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], fields.index(kv[0]))))

    stale: object = pd.NA
    last: object = pd.NaT
    if "updated_at" in frame.columns:
        stale = int(_older_than(frame["updated_at"], as_of, stale_days).sum())
        if n:
            last = _local_times(frame["updated_at"]).max()
    overdue: object = pd.NA
    if layer in REVIEWED:
        name = REVIEWED[layer]
        if name in frame.columns:
            late = _older_than(frame[name], as_of, review_days) | _missing(frame[name])
        else:
            late = np.ones(n, dtype=bool)
        overdue = int(late.sum())
    return {"layer": layer, "rows": n, "fields": len(fields), "values": applicable, "missing": total,
            "missing_by_field": by_field, "stale": stale, "review_overdue": overdue, "last_update": last,
            "completeness_score": (1.0 - total / applicable) if applicable else float("nan")}


def completeness(bundle: Bundle, adcode: str, *, as_of: dt.date, stale_days: int = 90,
                 review_days: int = REVIEW_DAYS) -> pd.DataFrame:
    """Measure missing values, stale rows, overdue reviews and last updates of one district.

    Parameters
    ----------
    bundle : Bundle
        Layers in canonical columns, e.g. the cockpit snapshot's bundle or
        :func:`geo.checks.sources.bundle_from_store`. ``updated_at`` is used where present.
    adcode : str
        District (GB/T 2260 code); only rows with this ``adcode`` are measured.
    as_of : datetime.date
        Reference day for stale rows and overdue reviews.
    stale_days : int
        A row last updated more than this many days before ``as_of`` is stale.
    review_days : int
        A risk point reviewed more than this many days before ``as_of`` (or never) is overdue.

    Returns
    -------
    DataFrame
        One row per layer of :data:`DISTRICT_LAYERS`, in that order, with columns

        ``layer``
            Layer name (see :data:`geo.layer_specs.LAYERS` for its Chinese and English names).
        ``rows``
            Rows of the layer in the district.
        ``fields``
            Number of optional fields measured (:func:`optional_fields`).
        ``values``
            Optional values that should be filled (rows × fields, less values that do not apply).
        ``missing``
            Missing optional values.
        ``missing_by_field``
            ``{field: count}`` of the fields with missing values, most missing first.
        ``stale``
            Rows updated more than ``stale_days`` days ago (``<NA>`` without ``updated_at``).
        ``review_overdue``
            Risk points whose review is overdue or missing (``<NA>`` for other layers).
        ``last_update``
            Latest ``updated_at`` of the rows, naive China Standard Time (``NaT`` when none).
        ``completeness_score``
            Share of filled optional values, 0–1 (NaN when there is nothing to fill).

    Raises
    ------
    ValueError
        When the bundle has districts and ``adcode`` is not one of them.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> ents = gpd.GeoDataFrame(
    ...     {"key": ["A", "B"], "adcode": ["530181", "530181"], "name": ["甲厂", "乙厂"],
    ...      "principal": ["张三", None], "external_distance_m": [300.0, None],
    ...      "updated_at": pd.to_datetime(["2026-11-01", "2026-01-05"]).tz_localize("Asia/Shanghai")},
    ...     geometry=[Point(102.4, 24.9), Point(102.5, 24.9)], crs=4490)
    >>> out = completeness(Bundle({"enterprises": ents}), "530181", as_of=dt.date(2026, 11, 24))
    >>> row = out.set_index("layer").loc["enterprises"]
    >>> int(row["rows"]), int(row["values"]), int(row["missing"]), int(row["stale"])
    (2, 14, 12, 1)
    >>> row["missing_by_field"] == {'address': 2, 'township': 2, 'installation_status': 2, 'has_explosives': 2,
    ...                             'phone': 2, 'external_distance_m': 1, 'principal': 1}  # absent: all missing
    True
    >>> str(row["last_update"])
    '2026-11-01 00:00:00'
    """
    districts = bundle["districts"]
    known = {str(a) for a in districts["adcode"]} if "adcode" in districts.columns else set()
    if known and str(adcode) not in known:
        raise ValueError(f"unknown district {adcode!r}; known: {', '.join(sorted(known))}")
    rows = []
    for layer in DISTRICT_LAYERS:
        frame = bundle[layer]
        if "adcode" in frame.columns and len(frame):
            frame = frame[(frame["adcode"].astype(object) == str(adcode)).to_numpy()]
        else:
            frame = frame.iloc[0:0]
        rows.append(_layer_row(layer, pd.DataFrame(frame), as_of, stale_days, review_days))
    out = pd.DataFrame(rows, columns=list(_COLUMNS))
    for col in ("rows", "fields", "values", "missing"):
        out[col] = out[col].astype("int64")
    for col in ("stale", "review_overdue"):
        out[col] = out[col].astype("Int64")
    out["last_update"] = pd.to_datetime(out["last_update"])
    out["completeness_score"] = out["completeness_score"].astype("float64")
    return out
