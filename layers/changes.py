"""What changed since the last report: records that appeared, were removed, changed level or closed.

Leaders ask "what changed since the last meeting?". The answer compares each tracked layer as it was
at the end of the day ``since`` with the layer as it was at the end of ``until`` (history kept by the
database, :mod:`geo.store.history`), record by record, on the fields listed in :data:`WATCHED` — a
table, so a new layer or field to watch is one row. Each line names its record and the page that shows it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from geo import store
from layers.snapshots import period_moment

__all__ = ["CHANGE_COLUMNS", "CHANGE_KINDS", "WATCHED", "Watched", "changes_between"]


@dataclass(frozen=True)
class Watched:
    """A layer whose changes are listed: its label, the fields that matter, the name field, the link."""

    zh: str
    en: str
    fields: tuple[str, ...]
    name: str
    #: Link to the record's page; ``{id}``, ``{key}`` and ``{adcode}`` are filled from the record.
    link: str


#: Layers listed in a change report and what is watched in each.
WATCHED: dict[str, Watched] = {
    "enterprises": Watched("企业", "Enterprise", ("risk_level", "mhs_grade"), "name", "/district/{adcode}"),
    "risk_points": Watched("风险点", "Risk point", ("risk_level",), "name", "/district/{adcode}"),
    "tailings_dams": Watched("尾矿库", "Tailings pond", ("risk_level", "safety_degree", "status"), "name",
                             "/district/{adcode}"),
    "hcas": Watched("高后果区", "High-consequence area", ("grade",), "key", "/district/{adcode}"),
    "hidden_hazards": Watched("隐患", "Hidden hazard", ("severity", "state", "supervision"), "description",
                              "/hazards/{id}"),
    "check_findings": Watched("违规问题", "Finding", ("verdict", "status"), "rule_code", "/planner"),
}
#: Kinds of change line, in report order, with their labels.
CHANGE_KINDS: dict[str, tuple[str, str]] = {
    "appeared": ("新增", "Appeared"),
    "changed": ("变化", "Changed"),
    "closed": ("销号/关闭", "Closed"),
    "removed": ("移除", "Removed"),
}
CHANGE_COLUMNS = ("layer", "layer_zh", "kind", "kind_zh", "key", "name", "adcode", "field", "before", "after",
                  "link")
#: Field values that mean a record is finished (a hazard struck off, a finding closed or resolved).
_CLOSING = {"state": ("closed",), "status": ("closed", "resolved")}


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _line(layer: str, kind: str, record: pd.Series, field: str | None = None, before: object = None,
          after: object = None) -> dict[str, object]:
    spec = WATCHED[layer]
    values = {"id": record.get("id"), "key": record.get("key"), "adcode": record.get("adcode")}
    return {"layer": layer, "layer_zh": spec.zh, "kind": kind, "kind_zh": CHANGE_KINDS[kind][0],
            "key": str(record.get("key", record.get("id"))), "name": _text(record.get(spec.name)),
            "adcode": _text(record.get("adcode")), "field": field, "before": _text(before), "after": _text(after),
            "link": spec.link.format(**values)}


def _keyed(frame: pd.DataFrame, layer: str) -> pd.DataFrame:
    key = store.HISTORY_KEYS[layer]
    return pd.DataFrame(frame.drop(columns="geometry")).assign(_k=frame[key].astype(str)).set_index("_k")


def changes_between(engine: Engine, since: dt.date, until: dt.date | None = None, *,
                    adcode: str | None = None) -> pd.DataFrame:
    """List what appeared, changed a watched field, closed or was removed after ``since`` up to ``until``.

    Parameters
    ----------
    engine : Engine
        The store (read under the caller's scope).
    since : date
        The last report's day (its end is the baseline).
    until : date, optional
        Last day counted (default: today).
    adcode : str, optional
        Only this district.

    Returns
    -------
    DataFrame
        :data:`CHANGE_COLUMNS`, ordered by kind (:data:`CHANGE_KINDS`), layer and key; ``field``,
        ``before`` and ``after`` name the watched field of a change and its values.
    """
    until = until or dt.date.today()
    if until < since:
        raise ValueError(f"until ({until}) is before since ({since})")
    lines: list[dict[str, object]] = []
    for layer, spec in WATCHED.items():
        old = _keyed(store.read_layer_as_of(engine, layer, period_moment(since), adcode), layer)
        new = _keyed(store.read_layer_as_of(engine, layer, period_moment(until), adcode), layer)
        lines += [_line(layer, "appeared", new.loc[k]) for k in new.index.difference(old.index)]
        lines += [_line(layer, "removed", old.loc[k]) for k in old.index.difference(new.index)]
        for k in new.index.intersection(old.index):
            for field in spec.fields:
                before, after = old.at[k, field] if field in old else None, new.at[k, field] if field in new else None
                if _text(before) == _text(after):
                    continue
                kind = "closed" if _text(after) in _CLOSING.get(field, ()) else "changed"
                lines.append(_line(layer, kind, new.loc[k], field, before, after))
    out = pd.DataFrame(lines, columns=list(CHANGE_COLUMNS))
    order = {kind: i for i, kind in enumerate(CHANGE_KINDS)}
    layers = {layer: i for i, layer in enumerate(WATCHED)}
    out = out.sort_values(["kind", "layer", "key"], key=lambda s: s.map(order) if s.name == "kind" else (
        s.map(layers) if s.name == "layer" else s), kind="stable").reset_index(drop=True)
    return out.astype(object).where(out.notna(), None)  # a missing field or value is None, never NaN
