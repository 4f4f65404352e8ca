"""The planner's site pre-check: choose a site (click, drawn parcel, file, coordinates), check it, show why.

The check itself is :func:`layers.planning.run_precheck` (rules in force, audited); this module only
turns what the person chose into a site and draws the result: the verdict with every reason, the
reasons and a ring at each required distance on the map, and the reasons as a PDF.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import dash
import geopandas as gpd
import shapely
import shapely.errors
from dash import Input, Output, State, dcc, html

from dashboard import ids
from dashboard.auth import actor_name
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, has_text, t
from dashboard.mapview import EMPTY, on_top, to_geojson
from dashboard.pages.planner.page_ids import (
    P_CHECK,
    P_DOWNLOAD,
    P_DRAW,
    P_GOTO,
    P_HH,
    P_LAST,
    P_LAT,
    P_LON,
    P_PDF,
    P_POP,
    P_REASONS,
    P_RESULT,
    P_RINGS,
    P_SITE,
    P_SITE_INFO,
    P_SITE_LAYER,
    P_TABS,
    P_UPLOAD,
    P_UPLOAD_MSG,
    P_USE,
    PLANNER_MAP,
)
from dashboard.pages.planner.style import (
    BLUE,
    RED,
    bounds_view,
)
from dashboard.pages.planner.text import (
    colon,
    fmt_m,
    with_m,
)
from dashboard.permissions import DENIED, can
from geo.checks.site import ADVISE_AGAINST, SiteVerdict
from geo.constants import STORAGE_SRID
from geo.readers import UPLOAD_SUFFIXES
from layers.palette import OVERLAY
from layers.planning import (
    BLOCKING_VERDICTS,
    bilingual,
    class_label,
    reason_table,
    recent_precheck,
    run_precheck,
    site_facts,
    use_label,
    use_options,
    verdict_label,
    zone_rings,
)
from layers.reasons_report import reasons_pdf
from layers.site_file import read_site_upload

#: File types a site may be uploaded as (the import's list).
UPLOAD_TYPES = ",".join(UPLOAD_SUFFIXES)


def _site_geom(site: dict[str, Any] | None) -> shapely.Geometry | None:
    if not site or not site.get("geometry"):
        return None
    return shapely.geometry.shape(site["geometry"])


def _collection(geom: shapely.Geometry, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": props}]}


def _site_layer(geom: shapely.Geometry, lang: str) -> dict[str, Any]:
    colour = OVERLAY["selected"].hex
    return on_top(_collection(geom, {"colour": colour, "radius": 9, "weight": 3, "stroke": "#111",
                                     "tooltip": OVERLAY["selected"].zh if lang == "zh" else OVERLAY["selected"].en}))


def _error(message: str) -> html.P:
    return html.P(message, className="planner-error")


def _site_info(geom: shapely.Geometry, site: dict[str, Any] | None, lang: str) -> list[Any]:
    """Site: centre and area, and how it was chosen."""
    how = t(f"from_{site['source']}", lang) if site and has_text(f"from_{site.get('source')}") else ""
    return [html.B(t("site", lang) + colon(lang)), site_facts(geom).describe(lang),
            f"（{how}）" if lang == "zh" else f" ({how})"]


def panel(lang: str) -> html.Div:
    """The pre-check tab: how to choose a site, the upload, coordinates, use, numbers, 审查 and the PDF."""
    return html.Div([
        html.P(t("site_how", lang), className="hint"),
        html.Div(t("no_site", lang), id=P_SITE_INFO, className="planner-site-info"),
        html.Div([
            dcc.Upload(html.Div(t("upload", lang)), id=P_UPLOAD, accept=UPLOAD_TYPES, multiple=False,
                       className="planner-upload"),
            html.Div([
                dcc.Input(id=P_LON, type="text", placeholder=t("lon", lang), className="planner-coord"),
                dcc.Input(id=P_LAT, type="text", placeholder=t("lat", lang), className="planner-coord"),
                html.Button(t("goto", lang), id=P_GOTO, n_clicks=0, className="btn btn-light"),
            ], className="planner-coords"),
        ], className="planner-row"),
        html.Div(id=P_UPLOAD_MSG, className="planner-msg"),
        html.Div([
            html.Div([html.Label(t("use", lang)),
                      dcc.Dropdown(id=P_USE, options=[{"label": label, "value": code}
                                                      for code, label in use_options(lang)],
                                   value="school", clearable=False, labels=dropdown_labels(lang))],
                     className="planner-use"),
            html.Div([html.Label(t("population", lang)),
                      dcc.Input(id=P_POP, type="number", min=0, step=1, className="planner-num")]),
            html.Div([html.Label(t("households", lang)),
                      dcc.Input(id=P_HH, type="number", min=0, step=1, className="planner-num")]),
            html.Button(t("check", lang), id=P_CHECK, n_clicks=0, className="btn planner-check"),
        ], className="planner-row"),
        dcc.Loading(html.Div(id=P_RESULT, className="planner-result"), type="dot"),
        html.Button(t("pdf", lang), id=P_PDF, n_clicks=0, className="btn", disabled=True),
        dcc.Download(id=P_DOWNLOAD),
    ])


def _result(verdict: SiteVerdict, site: shapely.Geometry, lang: str) -> list[Any]:
    table = reason_table(verdict, lang=lang)
    against = verdict.verdict == ADVISE_AGAINST
    label = verdict.label_zh if lang == "zh" else verdict.label_en
    rows = [html.Tr([html.Th(t(k, lang)) for k in ("c_rule_code", "c_clause", "c_source", "c_detail")])]
    for r in table.itertuples():
        rows.append(html.Tr([
            html.Td([html.Span(str(r.verdict), className="planner-tag",
                               style={"backgroundColor": RED if r.blocking else BLUE}), " ",
                     html.B(str(r.rule_code)), " ※" if r.unconfirmed else "", html.Br(),
                     html.Span(str(r.rule), className="planner-small")]),
            html.Td(str(r.clause)),
            html.Td([str(r.source), html.Br(),
                     html.Span(f"{t('measured', lang)} {with_m(r.measured_m)} / {t('required', lang)} "
                               f"{with_m(r.required_m)}", className="planner-small num")]),
            html.Td(str(r.detail)),
        ], className="blocking" if r.blocking else "note"))
    gb_class: list[Any] = [html.B(t("gb_class", lang) + colon(lang)), class_label(verdict.gb36894_class, lang), "　"]
    out: list[Any] = [
        html.Div(label, id="planner-verdict", className="planner-verdict",
                 style={"backgroundColor": RED if against else BLUE}),
        html.P([*(gb_class if verdict.gb36894_class else []),
                html.B(t("use", lang) + colon(lang)), use_label(verdict.use, lang), "　",
                site_facts(site).describe(lang)],
               className="planner-verdict-facts"),
        html.H4(t("reasons", lang, n=len(table))),
    ]
    if len(table):
        out.append(html.Table(html.Tbody(rows), className="planner-reasons", id="planner-reasons-table"))
        if bool(table["unconfirmed"].any()):
            out.append(html.P(t("unconfirmed", lang), className="hint"))
        out.append(html.P(t("rings", lang), className="hint"))
    else:
        out.append(html.P(t("no_reasons", lang)))
    if verdict.notes:
        out += [html.H4(t("notes", lang)), html.Ul([html.Li(bilingual(n, lang)) for n in verdict.notes])]
    return out


def _result_layers(verdict: SiteVerdict, site: shapely.Geometry, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    rings = zone_rings(site, verdict.reasons)
    ring_data = to_geojson(rings, {
        "colour": lambda r: RED if r["blocking"] else BLUE, "weight": lambda r: 2, "dash": lambda r: "8 6",
        "tooltip": lambda r: f"{r['rules']}: {r['required_m']:,.1f} m"})
    reasons = verdict.reasons
    if not len(reasons):
        return ring_data, EMPTY
    frame = gpd.GeoDataFrame(reasons.drop(columns=reasons.geometry.name), geometry=reasons.geometry.values,
                             crs=STORAGE_SRID)
    reason_data = to_geojson(frame, {
        "colour": lambda r: RED if r["verdict"] in BLOCKING_VERDICTS else BLUE, "weight": lambda r: 5,
        "tooltip": lambda r: f"{r['rule_code']} · {verdict_label(str(r['verdict']), lang)} · "
                             f"{fmt_m(r['measured_m'])} / {fmt_m(r['required_m'])} m"})
    return ring_data, reason_data


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Callbacks of the pre-check (no SQL: the check is layers.planning.run_precheck)."""

    @app.callback(Output(P_SITE, "data"), Output(P_UPLOAD_MSG, "children"),
                  Input(PLANNER_MAP, "clickData"), Input(P_DRAW, "geojson"), Input(P_UPLOAD, "contents"),
                  Input(P_GOTO, "n_clicks"), State(P_UPLOAD, "filename"), State(P_TABS, "value"),
                  State(P_LON, "value"), State(P_LAT, "value"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def pick_site(click: dict[str, Any] | None, drawn: dict[str, Any] | None, contents: str | None, _goto: int,
                  filename: str | None, tab: str, lon: str | None, lat: str | None,
                  lang: str) -> tuple[Any, Any]:
        lang = lang or "zh"
        if not can("precheck"):  # (uploads are parsed on the server: not for roles without pre-checks)
            return dash.no_update, html.Span(DENIED.get(lang, DENIED["zh"]), className="planner-error")
        trigger = dash.ctx.triggered_id
        if trigger == PLANNER_MAP:
            if tab != "precheck" or not click or "latlng" not in click:
                return dash.no_update, dash.no_update
            lat_, lng_ = _latlng(click["latlng"])
            return {"geometry": shapely.geometry.mapping(shapely.Point(lng_, lat_)), "source": "click"}, ""
        if trigger == P_DRAW:
            polys = [f for f in (drawn or {}).get("features", [])
                     if (f.get("geometry") or {}).get("type") in ("Polygon", "MultiPolygon")]
            if not polys:
                return dash.no_update, dash.no_update
            geom = shapely.geometry.shape(polys[-1]["geometry"])
            return {"geometry": shapely.geometry.mapping(geom), "source": "draw"}, ""
        if trigger == P_UPLOAD and contents:
            name = Path(filename or "upload.geojson").name
            try:
                geom = read_site_upload(contents, name)
            except ValueError as exc:
                return dash.no_update, html.Span(f"{t('upload_error', lang)}{exc}", className="planner-error")
            return ({"geometry": shapely.geometry.mapping(geom), "source": "upload", "name": name},
                    t("uploaded", lang, name=name))
        if trigger == P_GOTO:
            point = _point(lon, lat)
            if point is None:
                return dash.no_update, html.Span(t("bad_coords", lang), className="planner-error")
            return {"geometry": shapely.geometry.mapping(point), "source": "coords"}, ""
        return dash.no_update, dash.no_update

    @app.callback(Output(P_SITE_LAYER, "data"), Output(P_SITE_INFO, "children"),
                  Output(P_RINGS, "data", allow_duplicate=True), Output(P_REASONS, "data", allow_duplicate=True),
                  Output(P_RESULT, "children", allow_duplicate=True), Output(P_LAST, "data", allow_duplicate=True),
                  Output(PLANNER_MAP, "viewport", allow_duplicate=True),
                  Input(P_SITE, "data"), State(ids.LANG, "value"), prevent_initial_call=True)
    def show_site(site: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
        """Draw the chosen site (and fly to a file's or typed site); the previous verdict no longer applies."""
        lang = lang or "zh"
        if not can("precheck"):
            return EMPTY, "", EMPTY, EMPTY, _error(DENIED.get(lang, DENIED["zh"])), None, dash.no_update
        geom = _site_geom(site)
        if geom is None:
            return EMPTY, t("no_site", lang), EMPTY, EMPTY, "", None, dash.no_update
        moved = site is not None and site.get("source") in ("upload", "coords")
        view: Any = bounds_view(gpd.GeoSeries([geom], crs=STORAGE_SRID), pad_deg=0.01) if moved else dash.no_update
        return _site_layer(geom, lang), _site_info(geom, site, lang), EMPTY, EMPTY, "", None, view

    @app.callback(Output(P_RINGS, "data"), Output(P_REASONS, "data"), Output(P_RESULT, "children"),
                  Output(P_LAST, "data"), Output(PLANNER_MAP, "viewport", allow_duplicate=True),
                  Input(P_CHECK, "n_clicks"), State(P_SITE, "data"), State(P_USE, "value"), State(P_POP, "value"),
                  State(P_HH, "value"), State(ids.LANG, "value"), prevent_initial_call=True)
    def check_site(_n: int, site: dict[str, Any] | None, use: str, population: float | None,
                   households: float | None, lang: str) -> tuple[Any, ...]:
        """Check the site (:func:`layers.planning.run_precheck`) and draw the verdict, its reasons and rings."""
        lang = lang or "zh"
        if not can("precheck"):
            return EMPTY, EMPTY, _error(DENIED.get(lang, DENIED["zh"])), None, dash.no_update
        geom = _site_geom(site)
        if geom is None:
            return EMPTY, EMPTY, _error(t("need_site", lang)), None, dash.no_update
        asked = {"geometry": shapely.geometry.mapping(geom), "use": use or "school",
                 "population": population, "households": households}
        try:
            result = run_precheck(ctx.engine, geom, asked["use"], population=population, households=households,
                                  actor=actor_name())
        except ValueError as exc:
            return EMPTY, EMPTY, _error(f"{t('error', lang)}{exc}"), None, dash.no_update
        rings, reasons = _result_layers(result.verdict, geom, lang)
        zone = zone_rings(geom, result.verdict.reasons)
        view = bounds_view(zone.geometry, pad_deg=0.002) if len(zone) else dash.no_update
        return rings, reasons, _result(result.verdict, geom, lang), {**asked, "key": result.key}, view

    # the PDF button follows the kept verdict: enabled while there is one, for the site on the page
    app.clientside_callback("function (last) { return !last; }", Output(P_PDF, "disabled"), Input(P_LAST, "data"))

    @app.callback(Output(P_DOWNLOAD, "data"), Input(P_PDF, "n_clicks"), State(P_LAST, "data"),
                  State(ids.LANG, "value"), prevent_initial_call=True)
    def download(_n: int, last: dict[str, Any] | None, lang: str) -> Any:
        """The reasons of the pre-check on the page as a PDF (the result kept by run_precheck, not a new check)."""
        lang = lang or "zh"
        if not isinstance(last, dict) or not can("precheck"):
            return dash.no_update
        result = recent_precheck(last.get("key"), actor=actor_name())
        if result is None:  # checked by another server process (or before a restart): check the same request
            try:
                result = run_precheck(ctx.engine, shapely.geometry.shape(last["geometry"]), str(last["use"]),
                                      population=last.get("population"), households=last.get("households"),
                                      actor=actor_name(), record=False)
            except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException):
                return dash.no_update
        with tempfile.TemporaryDirectory(prefix="riskmap-precheck-") as tmp:
            path = reasons_pdf(Path(tmp) / "reasons.pdf", verdict=result.verdict, site=result.site,
                               use_label=use_label(result.verdict.use, lang), lang=lang)
            data = path.read_bytes()
        name = f"{t('pdf_name', lang)}-{dt.date.today():%Y%m%d}.pdf"
        return dcc.send_bytes(data, name)


def _point(lon: Any, lat: Any) -> shapely.Point | None:
    """A point from typed coordinates, or None unless both are numbers inside China."""
    try:
        x, y = float(str(lon).strip().rstrip("°E")), float(str(lat).strip().rstrip("°N"))
    except (TypeError, ValueError):
        return None
    return shapely.Point(x, y) if 73 <= x <= 136 and 3 <= y <= 54 else None


def _latlng(value: Any) -> tuple[float, float]:
    if isinstance(value, dict):
        return float(value["lat"]), float(value["lng"])
    return float(value[0]), float(value[1])
