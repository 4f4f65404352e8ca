"""The cockpit's 五色 what-if (模拟) and hexagon density panel.

A leader changes a district's indicators and sees the simulated score, class and rank beside the current
ones; a map shows the simulated 五色 and, on demand, the risk sources per hexagon.

The simulation is :func:`layers.rating.what_if` over the snapshot's indicators (the same indicators, from
:mod:`layers.measures` through :func:`layers.rating.district_indicators`, as the 五色 layer) and is never stored.
The 五色 score is relative to the city, so a district account, which sees only its own district's indicators,
gets a note instead of a simulation. The grid is :func:`layers.sources.density_grid` over the snapshot's
sources; its cell sizes are data (``cockpit_whatif.yaml``). The cockpit's layout includes :func:`panel` and its
``register`` calls :func:`register`, so the cockpit owns these callbacks.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import dash
import dash_leaflet as dl
import geopandas as gpd
import pandas as pd
import yaml
from dash import Input, Output, State, dcc, html

from dashboard import ids
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, t
from dashboard.mapview import EMPTY, district_collection, geojson_layer, legend
from dashboard.pages import parks_text as _text  # noqa: F401  (registers the panel's text)
from layers.city import CitySnapshot
from layers.palette import level_colour
from layers.rating import close_hazard, load_rubric, what_if
from layers.sources import LEVEL_ORDER, density_grid

SETTINGS_PATH = Path(__file__).with_suffix(".yaml")
WI_DISTRICT = "wi-district"
WI_IND = "wi-ind-{}"
WI_CLOSE_N = "wi-close-n"
WI_CLOSE = "wi-close"
WI_RESET = "wi-reset"
WI_NOTE = "wi-note"
WI_RESULT = "wi-result"
WI_MAP = "wi-map"
WI_DISTRICTS = "wi-districts"
WI_HEX = "wi-hex"
WI_HEX_ON = "wi-hex-on"
WI_HEX_SIZE = "wi-hex-size"
WI_LEGEND = "wi-legend"
CITY_CENTER, CITY_ZOOM = [25.25, 102.85], 8
#: Decimal places of the indicator boxes (km, people per 100 km², a rate 0–1: a thousandth is enough).
DECIMALS = 3


def grid_settings(path: Path = SETTINGS_PATH) -> tuple[tuple[float, ...], float]:
    """The density grid's cell sizes (m) and the default one, from ``cockpit_whatif.yaml``.

    Raises ``ValueError`` naming the file and field when a size is not a positive number or the default
    is not one of them.
    """
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    grid = raw.get("density_grid") or {}
    sizes = grid.get("cell_m")
    if not isinstance(sizes, list) or not sizes or not all(
            isinstance(s, int | float) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"{path}: density_grid.cell_m must be a list of positive numbers (metres), got {sizes!r}")
    default: Any = grid.get("default_m")
    if default not in sizes:
        raise ValueError(f"{path}: density_grid.default_m must be one of density_grid.cell_m, got {default!r}")
    return tuple(float(s) for s in sizes), float(default)


def _names(snap: CitySnapshot) -> dict[str, str]:
    return {str(k): str(v) for k, v in snap.bundle["districts"].set_index("adcode")["name"].items()}


def simulates(snap: CitySnapshot) -> bool:
    """Whether the session sees the whole city's indicators (a what-if needs every district's)."""
    return len(snap.indicators) > 1


def current_values(snap: CitySnapshot, adcode: str) -> dict[str, float]:
    """The district's current indicator values, by rubric indicator code."""
    row: Any = snap.indicators.loc[adcode]
    return {code: float(row[code]) for code in snap.rubric.codes}


def shown(value: float) -> float:
    """An indicator value as the form shows it: rounded to :data:`DECIMALS` places."""
    return round(float(value), DECIMALS)


def changes_of(snap: CitySnapshot, adcode: str, values: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The what-if changes of ``values`` (code → number) that differ from the district's current ones.

    Blank values, and the current value as the form shows it (:func:`shown`), keep the current one.
    Raises ``ValueError`` naming the indicator for a value that is not a finite number, or a negative one.
    """
    now = current_values(snap, adcode)
    changed: dict[str, float] = {}
    for code, value in values.items():
        if code not in now or value is None or value == "":
            continue
        ind = next(i for i in snap.rubric.indicators if i.code == code)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{ind.zh}: {value!r}") from None
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{ind.zh}: {value!r}")
        if not math.isclose(number, shown(now[code]), abs_tol=1e-12):
            changed[code] = number
    return {adcode: changed} if changed else {}


def _badge(score: float, cls_colour: str, label: str, rank: int, n: int, lang: str, ident: str) -> html.Div:
    return html.Div([html.Span(f"{score:.1f}", className="wi-score", id=f"{ident}-score"),
                     html.Span(label, className="sel-class", style={"backgroundColor": cls_colour},
                               id=f"{ident}-class"),
                     html.Span(t("wi_rank_of", lang, rank=rank, n=n), id=f"{ident}-rank")], className="wi-badge")


def _result(snap: CitySnapshot, adcode: str, after: pd.DataFrame, lang: str) -> list[Any]:
    before = snap.ratings
    cls = "class_zh" if lang == "zh" else "class_en"
    now: Any = before.loc[adcode]
    sim: Any = after.loc[adcode]
    n = len(after)
    names = _names(snap)
    moved = [names.get(str(a), str(a)) for a in after.index
             if a != adcode and after.loc[a, "class_code"] != after.loc[a, "old_class_code"]]
    delta = float(sim["score"]) - float(now["score"])
    return [
        html.Div([html.Span(t("wi_current", lang), className="wi-head"),
                  _badge(float(now["score"]), str(now["colour"]), str(now[cls]), int(now["rank"]), n, lang,
                         "wi-now")], className="wi-row"),
        html.Div([html.Span(t("wi_simulated", lang), className="wi-head wi-sim-label"),
                  _badge(float(sim["score"]), str(sim["colour"]), str(sim[cls]), int(sim["rank"]), n, lang,
                         "wi-sim"),
                  html.Span(f"{delta:+.1f}", className="wi-delta", id="wi-delta")], className="wi-row wi-sim"),
        html.P(t("wi_moved", lang, names="、".join(moved) if lang == "zh" else ", ".join(moved)), id="wi-moved",
               className="hint") if moved else None,
    ]


def hex_cells(snap: CitySnapshot, cell_m: float) -> gpd.GeoDataFrame:
    """Risk sources per hexagon of ``cell_m`` metres over the session's sources (:func:`density_grid`)."""
    return density_grid(snap.sources, snap.bundle, cell_m=cell_m, shape="hex")


def _hex_data(snap: CitySnapshot, cell_m: float, lang: str) -> dict[str, Any]:
    cells = hex_cells(snap, cell_m)
    if not len(cells):
        return EMPTY
    features = []
    for row, geom in zip(cells.drop(columns="geometry").to_dict("records"), cells.geometry, strict=True):
        top = next(code for code in LEVEL_ORDER if row[f"n_{code}"] > 0)
        features.append({"type": "Feature", "geometry": geom.__geo_interface__, "properties": {
            "cell_id": row["cell_id"], "n_sources": int(row["n_sources"]), "colour": level_colour(top),
            "weight": 1, "tooltip": t("wi_hex_tip", lang, n=int(row["n_sources"]),
                                      **{code: int(row[f"n_{code}"]) for code in LEVEL_ORDER})}})
    return {"type": "FeatureCollection", "features": features}


def _legend(on: bool, lang: str) -> html.Div:
    return legend(lang, levels=on, classes=True, title={"zh": t("wi_hex_legend", "zh"), "en": t("wi_hex_legend", "en")}
                  if on else None)


def _size(value: Any) -> float:
    sizes, default = grid_settings()
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value in sizes \
        else default


def panel(snap: CitySnapshot, lang: str) -> html.Div:
    """The what-if and density panel of the cockpit (clearly labelled 模拟: nothing here is stored)."""
    names = _names(snap)
    options = [{"label": names.get(str(a), str(a)), "value": str(a)} for a in snap.indicators.index]
    inputs = [html.Label([f"{ind.label(lang)}（{ind.unit}）", dcc.Input(
        id=WI_IND.format(ind.code), type="number", min=0, debounce=True, className="wi-input")])
        for ind in snap.rubric.indicators]
    sizes, default = grid_settings()
    districts = district_collection(snap.bundle["districts"], snap.summary, snap.ratings, lang)
    return html.Div([
        html.H3(t("wi_title", lang)),
        html.P(t("wi_hint", lang) if simulates(snap) else t("wi_city_only", lang), className="hint", id=WI_NOTE),
        html.Div([
            html.Div([
                html.Label([t("wi_district", lang), dcc.Dropdown(id=WI_DISTRICT, options=options,
                                                                 labels=dropdown_labels(lang))]),
                html.Div([html.Label([t("wi_close_n", lang), dcc.Input(id=WI_CLOSE_N, type="number", min=0,
                                                                        step=1, value=10)]),
                          html.Button(t("wi_close", lang), id=WI_CLOSE, n_clicks=0, className="btn"),
                          html.Button(t("wi_reset", lang), id=WI_RESET, n_clicks=0, className="btn")],
                         className="actions-row"),
                html.Div(inputs, className="wi-inputs form-stack"),
            ], className="wi-form"),
            html.Div([
                html.Div(id=WI_RESULT, className="wi-result", role="status"),
                html.Div([dl.Map([geojson_layer(WI_DISTRICTS, districts, kind="district",
                                                hideout={"mode": "five", "selected": None}),
                                  geojson_layer(WI_HEX, EMPTY, kind="line")],
                                 id=WI_MAP, center=CITY_CENTER, zoom=CITY_ZOOM, className="leaflet-map wi-map",
                                 attributionControl=False),
                          html.Div(_legend(False, lang), id=WI_LEGEND, className="map-legend-box")],
                         className="map-panel"),
                html.Div([dcc.Checklist(id=WI_HEX_ON, value=[], inline=True,
                                        options=[{"label": t("wi_hex_on", lang), "value": "on"}]),
                          html.Label([t("wi_hex_size", lang), dcc.Dropdown(
                              id=WI_HEX_SIZE, value=default, clearable=False, labels=dropdown_labels(lang),
                              options=[{"label": t("wi_hex_km", lang, km=s / 1000), "value": s} for s in sizes])])],
                         className="filters"),
            ], className="wi-view"),
        ], className="main-row"),
    ], className="wi-panel panel", id="wi-panel")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """The panel's callbacks (they read the cached snapshot; no SQL, nothing stored)."""
    codes = tuple(load_rubric().codes)  # the snapshot's rubric (layers.city reads the same file)
    boxes = [Output(WI_IND.format(code), "value") for code in codes]

    @app.callback(*boxes, Output(WI_NOTE, "children"), Input(WI_DISTRICT, "value"), Input(WI_RESET, "n_clicks"),
                  Input(WI_CLOSE, "n_clicks"), State(WI_CLOSE_N, "value"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def fill(adcode: Any, _reset: Any, _close: Any, n: Any, lang: Any) -> Any:
        lang = lang if lang in ("zh", "en") else "zh"
        snap = ctx.snapshot()
        keep = [dash.no_update] * len(codes)
        if not simulates(snap):
            return *keep, t("wi_city_only", lang)
        if not isinstance(adcode, str) or adcode not in snap.indicators.index:
            return *[None] * len(codes), t("wi_hint", lang)
        values = current_values(snap, adcode)
        if dash.ctx.triggered_id == WI_CLOSE:
            try:
                count = int(n) if isinstance(n, int | float) and not isinstance(n, bool) else -1
                values.update(close_hazard(snap.indicators, adcode, count).get(adcode, {}))
            except (ValueError, OverflowError) as exc:
                return *keep, html.Span(t("wi_close_refused", lang, error=str(exc)), className="error")
        return *[shown(values[c]) for c in codes], t("wi_hint", lang)

    @app.callback(Output(WI_RESULT, "children"), Output(WI_DISTRICTS, "data"), Input(WI_DISTRICT, "value"),
                  *(Input(WI_IND.format(code), "value") for code in codes), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def simulate(adcode: Any, *rest: Any) -> Any:
        *values, lang = rest
        lang = lang if lang in ("zh", "en") else "zh"
        snap = ctx.snapshot()
        if not simulates(snap):
            return html.P(t("wi_city_only", lang), className="hint"), dash.no_update
        if not isinstance(adcode, str) or adcode not in snap.indicators.index:
            return html.P(t("wi_pick", lang), className="hint"), dash.no_update
        try:
            changes = changes_of(snap, adcode, dict(zip(codes, values, strict=True)))
        except ValueError as exc:
            return html.P(t("wi_bad", lang, error=str(exc)), className="error", role="alert"), dash.no_update
        after = what_if(snap.indicators, changes, snap.rubric)
        shown = district_collection(snap.bundle["districts"], snap.summary, after, lang)
        return _result(snap, adcode, after, lang), shown

    @app.callback(Output(WI_HEX, "data"), Output(WI_LEGEND, "children"), Input(WI_HEX_ON, "value"),
                  Input(WI_HEX_SIZE, "value"), State(ids.LANG, "value"), prevent_initial_call=True)
    def hexes(on: Any, size: Any, lang: Any) -> Any:
        lang = lang if lang in ("zh", "en") else "zh"
        shown = isinstance(on, list) and "on" in on
        data = _hex_data(ctx.snapshot(), _size(size), lang) if shown else EMPTY
        return data, _legend(shown, lang)
