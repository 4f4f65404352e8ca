"""The district workspace's 4张清单 (one tab and table each) and its data-completeness table."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dash_table, dcc, html
from dash.dash_table import FormatTemplate
from dash.dash_table.Format import Format

from dashboard.i18n import t
from dashboard.pages.district.page_ids import (
    DISTRICT_COMPLETENESS_TABLE,
    DISTRICT_COUNT_PREFIX,
    DISTRICT_TABLE_PREFIX,
    DISTRICT_TABS,
)
from dashboard.pages.district.tables import (
    CELL,
    GAP_BAD,
    GAP_WARN,
    HEADER,
    WIDE_COLUMNS,
    _filter_options,
    _level_styles,
    _numeric,
    _records,
    _tint,
)
from dashboard.pages.district.text import (
    _field_name,
    _layer_name,
)
from layers.city import CitySnapshot
from layers.completeness import completeness
from layers.four_lists import LISTS, four_lists, list_titles
from layers.palette import FOUR_COLOUR, RiskLevel


def _list_table(key: str, frame: pd.DataFrame, lang: str) -> list[Any]:
    headers = LISTS[key].headers(lang)
    fields = {h: name for name, h in headers.items()}
    data = pd.DataFrame(frame.drop(columns=frame.geometry.name)).rename(columns=fields)
    columns = []
    for name in data.columns:
        col: dict[str, Any] = {"name": headers.get(name, name), "id": name}
        if _numeric(data[name]):
            col["type"] = "numeric"
        columns.append(col)
    table = dash_table.DataTable(  # type: ignore[attr-defined]
        id=f"{DISTRICT_TABLE_PREFIX}{key}", data=_records(data), columns=columns,
        sort_action="native", filter_action="native", page_action="native", page_size=12,
        filter_options=_filter_options(lang),
        style_table={"overflowX": "auto"}, style_data_conditional=_level_styles(list(data.columns), lang),
        style_cell={**CELL, "minWidth": "80px", "maxWidth": "280px"}, style_header=HEADER,
        style_cell_conditional=[{"if": {"column_id": c}, "minWidth": "150px"} for c in WIDE_COLUMNS if c in data],
        style_filter={"backgroundColor": "#FFFDF2"},
    )
    count = html.Div(t("rows_shown", lang, shown=len(data), total=len(data)), id=f"{DISTRICT_COUNT_PREFIX}{key}",
                     className="district-count")
    return [count, table]


def _lists(snap: CitySnapshot, adcode: str, lang: str, active: str = "basic") -> list[Any]:
    lists = four_lists(snap.bundle, adcode, lang=lang, as_of=snap.as_of, rules=snap.rules)
    titles = list_titles(lang)
    tabs = [dcc.Tab(label=f"{titles[key]} ({len(frame)})", value=key, id=f"district-tab-{key}",
                    className="district-tab", selected_className="district-tab--selected",
                    children=html.Div(_list_table(key, frame, lang), className="district-tab-body"))
            for key, frame in lists.items()]
    body: list[Any] = [html.H3(t("lists", lang)), html.P(t("list_hint", lang), className="hint")]
    if not len(lists["basic"]):
        body.append(html.P(t("no_points", lang), className="hint"))
    body.append(dcc.Tabs(tabs, id=DISTRICT_TABS, value=active if active in lists else "basic",
                         className="district-tabs"))
    return body


def _completeness(snap: CitySnapshot, adcode: str, lang: str) -> list[Any]:
    frame = completeness(snap.bundle, adcode, as_of=snap.as_of)
    sep = "、" if lang == "zh" else ", "
    rows = []
    for rec in frame.to_dict("records"):
        layer = rec["layer"]
        top = list(rec["missing_by_field"].items())[:4]
        last = rec["last_update"]
        rows.append({
            "layer": _layer_name(layer, lang), "rows": int(rec["rows"]), "missing": int(rec["missing"]),
            "fields": sep.join(f"{_field_name(layer, f, lang)} {n}" for f, n in top)
            + (" …" if len(rec["missing_by_field"]) > 4 else ""),
            "stale": None if pd.isna(rec["stale"]) else int(rec["stale"]),
            "review": None if pd.isna(rec["review_overdue"]) else int(rec["review_overdue"]),
            "last": "" if pd.isna(last) else pd.Timestamp(last).strftime("%Y-%m-%d %H:%M"),
            "score": None if pd.isna(rec["completeness_score"]) else round(float(rec["completeness_score"]), 4),
        })
    rows.sort(key=lambda r: (r["score"] is None, r["score"] if r["score"] is not None else 0))
    values, missing = int(frame["values"].sum()), int(frame["missing"].sum())
    pct = f"{(1 - missing / values) * 100:.1f}%" if values else "—"
    stale = int(frame["stale"].fillna(0).sum())
    overdue = int(frame["review_overdue"].fillna(0).sum())
    bad, warn = FOUR_COLOUR[RiskLevel.MAJOR].hex, FOUR_COLOUR[RiskLevel.SIGNIFICANT].hex
    styles = [
        {"if": {"filter_query": f"{{score}} is num && {{score}} < {GAP_BAD}", "column_id": ["layer", "score"]},
         "backgroundColor": _tint(bad), "fontWeight": "bold"},
        {"if": {"filter_query": f"{{score}} is num && {{score}} >= {GAP_BAD} && {{score}} < {GAP_WARN}",
                "column_id": ["layer", "score"]}, "backgroundColor": _tint(warn)},
        {"if": {"filter_query": f"{{score}} is num && {{score}} < {GAP_BAD}", "column_id": "fields"},
         "backgroundColor": _tint(bad)},
        {"if": {"filter_query": "{stale} > 0", "column_id": "stale"}, "backgroundColor": _tint(warn),
         "fontWeight": "bold"},
        {"if": {"filter_query": "{review} > 0", "column_id": "review"}, "backgroundColor": _tint(warn),
         "fontWeight": "bold"},
    ]
    cols = [("layer", "c_layer", None), ("rows", "c_rows", "numeric"), ("score", "c_score", "numeric"),
            ("missing", "c_missing", "numeric"), ("fields", "c_fields", None), ("stale", "c_stale", "numeric"),
            ("review", "c_review", "numeric"), ("last", "c_last_update", None)]
    columns: list[dict[str, Any]] = []
    for cid, key, kind in cols:
        col: dict[str, Any] = {"name": t(key, lang), "id": cid}
        if kind:
            col["type"] = kind
        if cid == "score":
            col["format"] = FormatTemplate.percentage(1).nully("—")
        elif kind == "numeric":
            col["format"] = Format(nully="—")
        columns.append(col)
    return [
        html.H3(t("completeness", lang)),
        html.P(t("overall", lang, pct=pct, values=values, missing=missing, stale=stale, overdue=overdue),
               className="district-overall", id="district-overall"),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=DISTRICT_COMPLETENESS_TABLE, data=rows, columns=columns, sort_action="native",
            style_data_conditional=styles, style_table={"overflowX": "auto"},
            style_cell={**CELL, "maxWidth": "420px"}, style_header=HEADER,
        ),
        html.P(t("c_note", lang), className="hint"),
    ]
