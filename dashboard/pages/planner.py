"""Planner workspace (规划审查): the violations register and the site pre-check on one map.

The register lists every stored finding (all statuses, filtered by rule, district and status);
a row zooms the map to the finding and shows its detail, where the planner can change its
remediation status. The pre-check takes a site from a map click, a drawn polygon, an uploaded
file or typed coordinates, runs the rules for an intended use and shows the verdict with every
reason, draws the reasons and a ring at each required distance, and offers the reasons as a PDF.
"""

from __future__ import annotations

import base64
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import dash
import dash_leaflet as dl
import geopandas as gpd
import shapely
from dash import Input, Output, State, dash_table, dcc, html

from dashboard import ids
from dashboard.auth import actor_name
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, t
from dashboard.mapview import DISTRICT_STYLE, EMPTY, geojson_layer, legend, on_top, to_geojson
from dashboard.permissions import DENIED, can
from geo import store
from geo.checks.precheck_log import record_precheck
from geo.checks.site import ADVISE_AGAINST, SiteVerdict, precheck_site
from geo.checks.sources import bundle_near
from geo.rule_admin import effective_ruleset
from layers.palette import FOUR_COLOUR, OVERLAY, RiskLevel
from layers.planning import (
    BLOCKING_VERDICTS,
    DEFAULT_STATUSES,
    SETTABLE_STATUSES,
    STATUS_LABELS,
    bilingual,
    class_label,
    read_site_file,
    reason_table,
    register_table,
    site_facts,
    status_label,
    use_label,
    use_options,
    verdict_label,
    zone_rings,
)
from layers.reasons_report import reasons_pdf

# --- component ids ---------------------------------------------------------------------------------
PLANNER = "planner-page"
PLANNER_MAP = "planner-map"
P_DISTRICTS = "planner-districts"
P_PIPELINES = "planner-pipelines"
P_HAZARDS = "planner-hazards"
P_TARGETS = "planner-targets"
P_FINDINGS = "planner-findings"
P_SELECTED_GEOM = "planner-selected-geom"
P_SITE_LAYER = "planner-site"
P_RINGS = "planner-rings"
P_REASONS = "planner-reasons"
P_DRAW = "planner-draw"
P_TABS = "planner-tabs"
# register
P_RULE = "planner-filter-rule"
P_DISTRICT = "planner-filter-district"
P_STATUS = "planner-filter-status"
P_TABLE = "planner-register"
P_COUNT = "planner-register-count"
P_REFRESH = "planner-refresh"
P_SELECTED = "planner-selected-finding"
P_DETAIL = "planner-finding-detail"
P_NEW_STATUS = "planner-new-status"
P_NOTE = "planner-status-note"
P_SAVE = "planner-status-save"
P_SAVE_MSG = "planner-status-msg"
# pre-check
P_SITE = "planner-site-store"
P_SITE_INFO = "planner-site-info"
P_UPLOAD = "planner-upload"
P_UPLOAD_MSG = "planner-upload-msg"
P_LON = "planner-lon"
P_LAT = "planner-lat"
P_GOTO = "planner-goto"
P_USE = "planner-use"
P_POP = "planner-population"
P_HH = "planner-households"
P_CHECK = "planner-check"
P_RESULT = "planner-result"
P_LAST = "planner-last-check"
P_PDF = "planner-pdf"
P_DOWNLOAD = "planner-download"

CITY_CENTER, CITY_ZOOM = [25.05, 102.75], 9
SITE_ZOOM = 15
#: Point style of this page (does not pass clicks on to the map, so clicking a finding never moves the site).
FINDING_POINT = {"variable": "rmPlanner.findingPoint"}
RED, BLUE = FOUR_COLOUR[RiskLevel.MAJOR].hex, FOUR_COLOUR[RiskLevel.LOW].hex
FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif'
UPLOAD_TYPES = ".geojson,.json,.kml,.kmz,.zip,.gpkg,.shp,.csv,.xlsx"
#: A site file is one parcel: anything larger is refused before it is decoded.
MAX_SITE_BYTES = 10 * 1024 * 1024

TEXT: dict[str, dict[str, str]] = {
    "intro": {"zh": "违规台账：点击一行在地图上定位并查看详情、变更整改状态。"
                    "场地预审：在地图上点选位置、绘制地块或上传文件，选择拟建用途后点「审查」。",
              "en": "Register: click a row to locate the finding on the map, see its detail and change its status. "
                    "Pre-check: click the map, draw a parcel or upload a file, choose the intended use, press Check."},
    "tab_precheck": {"zh": "场地预审", "en": "Site pre-check"},
    "tab_finding": {"zh": "发现详情", "en": "Finding detail"},
    "register": {"zh": "违规台账", "en": "Violations register"},
    "count": {"zh": "共 {n} 条", "en": "{n} findings"},
    "f_rule": {"zh": "全部规则", "en": "All rules"},
    "f_district": {"zh": "全部区县", "en": "All districts"},
    "f_status": {"zh": "整改状态", "en": "Status"},
    "c_rule_code": {"zh": "规则", "en": "Rule"},
    "c_rule": {"zh": "规则名称", "en": "Rule name"},
    "c_clause": {"zh": "条款", "en": "Clause"},
    "c_district": {"zh": "区县", "en": "District"},
    "c_pair": {"zh": "风险源 → 对象", "en": "Subject → object"},
    "c_measured": {"zh": "实测(m)", "en": "Measured (m)"},
    "c_required": {"zh": "要求(m)", "en": "Required (m)"},
    "c_verdict": {"zh": "结论", "en": "Verdict"},
    "c_status": {"zh": "整改状态", "en": "Status"},
    "c_first": {"zh": "首次发现", "en": "First found"},
    "c_last": {"zh": "最近发现", "en": "Last found"},
    "c_source": {"zh": "来源 / 距离", "en": "Source / distance"},
    "c_detail": {"zh": "说明", "en": "Detail"},
    "pick_finding": {"zh": "在下方台账中点击一行，或点击地图上的黑色发现点。",
                     "en": "Click a row of the register below, or a black finding dot on the map."},
    "subject": {"zh": "风险源", "en": "Subject"},
    "object": {"zh": "对象", "en": "Object"},
    "measured": {"zh": "实测距离", "en": "Measured"},
    "required": {"zh": "要求距离", "en": "Required"},
    "clause": {"zh": "依据条款", "en": "Clause"},
    "rule_version": {"zh": "规则集版本", "en": "Rule set"},
    "found": {"zh": "首次 / 最近发现", "en": "First / last found"},
    "status_now": {"zh": "当前状态", "en": "Current status"},
    "new_status": {"zh": "变更为", "en": "Change to"},
    "note": {"zh": "备注(可选)", "en": "Note (optional)"},
    "save": {"zh": "保存状态", "en": "Save status"},
    "saved": {"zh": "已将第 {id} 号发现的状态改为「{status}」。", "en": "Finding {id} is now “{status}”."},
    "site_how": {"zh": "选择场地：点击地图(点)、用左上角工具绘制地块，或上传文件(GeoJSON、KML、压缩的 Shapefile)。",
                 "en": "Choose the site: click the map (point), draw a parcel with the tool at the top left, "
                       "or upload a file (GeoJSON, KML, zipped Shapefile)."},
    "no_site": {"zh": "尚未选择场地。", "en": "No site chosen yet."},
    "site": {"zh": "场地", "en": "Site"},
    "from_click": {"zh": "地图点选", "en": "map click"},
    "from_draw": {"zh": "绘制地块", "en": "drawn parcel"},
    "from_upload": {"zh": "上传文件", "en": "uploaded file"},
    "from_coords": {"zh": "输入坐标", "en": "typed coordinates"},
    "upload": {"zh": "拖入或点击上传地块文件", "en": "Drop or click to upload a parcel file"},
    "uploaded": {"zh": "已读取 {name}", "en": "Read {name}"},
    "upload_error": {"zh": "无法使用该文件：", "en": "Cannot use this file: "},
    "lon": {"zh": "经度", "en": "Longitude"},
    "lat": {"zh": "纬度", "en": "Latitude"},
    "goto": {"zh": "使用坐标", "en": "Use coordinates"},
    "bad_coords": {"zh": "请输入昆明范围内的经纬度(如 102.35, 24.91)。",
                   "en": "Enter a longitude and latitude (e.g. 102.35, 24.91)."},
    "use": {"zh": "拟建用途", "en": "Intended use"},
    "population": {"zh": "人数(可选)", "en": "Population (optional)"},
    "households": {"zh": "户数(可选)", "en": "Households (optional)"},
    "check": {"zh": "审查", "en": "Check"},
    "need_site": {"zh": "请先选择场地。", "en": "Choose a site first."},
    "gb_class": {"zh": "GB 36894 防护目标类别", "en": "GB 36894 target class"},
    "reasons": {"zh": "理由({n} 项)", "en": "Reasons ({n})"},
    "no_reasons": {"zh": "未发现任何规则限制。", "en": "No rule restricts this site."},
    "notes": {"zh": "备注", "en": "Notes"},
    "unconfirmed": {"zh": "※ 阈值尚未确认，使用前须以标准原文核实。",
                    "en": "※ threshold unconfirmed: verify against the standard before use."},
    "pdf": {"zh": "下载预审意见(PDF)", "en": "Download reasons (PDF)"},
    "pdf_name": {"zh": "场地预审意见", "en": "site-precheck"},
    "rings": {"zh": "虚线圈：各理由的要求距离；红色为构成限制的理由。",
              "en": "Dashed rings: each reason's required distance; red ones restrict the site."},
    "error": {"zh": "预审失败：", "en": "Pre-check failed: "},
}


def tt(key: str, lang: str) -> str:
    """Page string ``key`` in ``lang`` (falls back to Chinese)."""
    entry = TEXT[key]
    return entry.get(lang, entry["zh"])


# --- helpers ---------------------------------------------------------------------------------------


def _fmt_m(value: Any) -> str:
    return "—" if value is None or value != value else f"{float(value):,.1f}"


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def _with_m(value: Any) -> str:
    text = _fmt_m(value)
    return text if text == "—" else f"{text} m"


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


def _bounds_view(geoms: gpd.GeoSeries, *, pad_deg: float = 0.006) -> dict[str, Any]:
    minx, miny, maxx, maxy = (float(v) for v in geoms.total_bounds)
    pad = max(pad_deg, 0.15 * max(maxx - minx, maxy - miny))
    return {"bounds": [[miny - pad, minx - pad], [maxy + pad, maxx + pad]], "transition": "fitBounds"}


def _run_precheck(ctx: AppContext, last: dict[str, Any]) -> tuple[shapely.Geometry, SiteVerdict]:
    site = shapely.geometry.shape(last["geometry"])
    verdict = precheck_site(bundle_near(ctx.engine, site), site, last["use"], rules=effective_ruleset(ctx.engine),
                            population=last.get("population"), households=last.get("households"))
    return site, verdict


def _findings(ctx: AppContext, rule: str | None, adcode: str | None, statuses: list[str] | None) -> gpd.GeoDataFrame:
    statuses = list(statuses or [])
    one = statuses[0] if len(statuses) == 1 else None
    frame = store.read_findings(ctx.engine, adcode=adcode or None, rule_code=rule or None, status=one)
    if one is None:
        frame = frame[frame["status"].isin(statuses)]
    return frame


def _district_outlines(ctx: AppContext) -> dict[str, Any]:
    districts = ctx.snapshot().bundle["districts"]
    return to_geojson(districts, {"adcode": "adcode", "name": "name", "tooltip": "name"}, simplify=0.0003)


def _hazards(ctx: AppContext, lang: str) -> dict[str, Any]:
    src = ctx.snapshot().sources
    src = src[src["source_type"].isin(["enterprise", "tailings_dam"])]
    label = "level_zh" if lang == "zh" else "risk_level"
    return to_geojson(src, {"colour": "colour", "radius": lambda r: 5,
                            "tooltip": lambda r: f"{r['name']} · {r[label]}"})


def _targets(ctx: AppContext) -> dict[str, Any]:
    pts = ctx.snapshot().bundle["protection_targets"]
    if not len(pts):
        return EMPTY
    pts = pts.set_geometry(pts.geometry.representative_point())
    return to_geojson(pts, {"colour": lambda r: OVERLAY["protection_target"].hex, "radius": lambda r: 3,
                            "tooltip": "name"})


def _pipelines(ctx: AppContext) -> dict[str, Any]:
    pipes = ctx.snapshot().bundle["pipelines"]
    return to_geojson(pipes, {"colour": lambda r: OVERLAY["pipeline"].hex, "weight": lambda r: 3,
                              "dash": lambda r: "6 4", "tooltip": lambda r: f"{r['name']}（{r['code']}）"})


def _dropdown_labels(lang: str) -> Any:
    return dropdown_labels(lang)


def _legend(lang: str) -> html.Div:
    """Legend under the map: 四色 of enterprises and tailings ponds, then the page's other layers."""
    return legend(lang, overlays=("selected", "ring", "finding", "pipeline", "protection_target"), below=True,
                  legend_id="planner-legend")


def _register_columns(lang: str) -> list[dict[str, Any]]:
    cols = [("rule_code", "c_rule_code"), ("rule", "c_rule"), ("clause", "c_clause"), ("district", "c_district"),
            ("pair", "c_pair"), ("measured_m", "c_measured"), ("required_m", "c_required"),
            ("verdict", "c_verdict"), ("status", "c_status"), ("first_found", "c_first"), ("last_found", "c_last")]
    metres = {"type": "numeric", "format": {"locale": {}, "nully": "—", "prefix": None, "specifier": ".1f"}}
    return [{"name": tt(key, lang), "id": col, **(metres if col.endswith("_m") else {})} for col, key in cols]


def _register_table(lang: str) -> Any:
    status_styles = [{"if": {"filter_query": f'{{status_code}} = "{code}"', "column_id": "status"},
                      "color": colour, "fontWeight": "bold"}
                     for code, colour in (("open", RED), ("in_remediation", FOUR_COLOUR[RiskLevel.SIGNIFICANT].hex),
                                          ("closed", BLUE), ("resolved", BLUE))]
    return dash_table.DataTable(  # type: ignore[attr-defined]
        id=P_TABLE, data=[], columns=_register_columns(lang), page_size=12, sort_action="native",
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": FONT, "padding": "4px 8px", "textAlign": "left", "fontSize": 14,
                    "whiteSpace": "normal", "height": "auto", "maxWidth": 280, "minWidth": 60},
        style_cell_conditional=[{"if": {"column_id": c}, "textAlign": "right"} for c in ("measured_m", "required_m")],
        style_data_conditional=[*status_styles, {"if": {"state": "active"}, "backgroundColor": "#E3ECF5",
                                                 "border": "1px solid #1F2933"}],
        style_header={"fontWeight": "bold", "backgroundColor": "#EEF1F4"},
    )


def _detail(ctx: AppContext, found: gpd.GeoDataFrame | None, lang: str) -> list[Any]:
    """Detail of the one finding in ``found`` (rows of read_findings), or a hint when there is none."""
    if found is None or not len(found):
        return [html.P(tt("pick_finding", lang), className="hint")]
    finding_id = int(found.iloc[0]["id"])
    names = store.district_codes(ctx.engine)
    row = register_table(found, names, lang=lang).iloc[0]
    rec = found.iloc[0]
    facts = [("subject", bilingual(rec["subject_name"] or rec["subject_key"], lang)),
             ("object", bilingual(rec["object_name"] or rec["object_key"], lang)),
             ("measured", _with_m(rec["measured_m"])), ("required", _with_m(rec["required_m"])),
             ("clause", str(rec["clause"])), ("found", f"{row['first_found']} / {row['last_found']}"),
             ("rule_version", str(rec["rule_set_version"] or "—")),
             ("status_now", str(row["status"]))]
    return [
        html.Div([html.Span(f"#{finding_id}", className="planner-id"), html.Span(str(row["rule_code"]),
                                                                                 className="planner-code"),
                  html.Span(str(row["verdict"]), className="planner-tag",
                            style={"backgroundColor": RED if rec["verdict"] in BLOCKING_VERDICTS else BLUE})],
                 className="sel-head"),
        html.H4(str(row["rule"]), className="planner-rule-name"),
        html.P(f"{row['district']} · {row['pair']}", className="planner-pair"),
        html.Table(html.Tbody([html.Tr([html.Th(tt(k, lang)), html.Td(v)]) for k, v in facts]),
                   className="planner-facts"),
        html.P(bilingual(rec["detail"], lang), className="planner-detail-text", id="planner-detail-text"),
    ]


def _status_control(lang: str) -> html.Div:
    return html.Div([
        html.Label(tt("new_status", lang)),
        dcc.Dropdown(id=P_NEW_STATUS, options=[{"label": status_label(s, lang), "value": s} for s in SETTABLE_STATUSES],
                     value=None, clearable=False, className="planner-status-dd", labels=_dropdown_labels(lang)),
        dcc.Input(id=P_NOTE, type="text", placeholder=tt("note", lang), debounce=False, className="planner-note"),
        html.Button(tt("save", lang), id=P_SAVE, n_clicks=0, className="btn"),
        html.Div(id=P_SAVE_MSG, className="planner-msg"),
    ], className="planner-status-row")


def _precheck_panel(lang: str) -> html.Div:
    return html.Div([
        html.P(tt("site_how", lang), className="hint"),
        html.Div(tt("no_site", lang), id=P_SITE_INFO, className="planner-site-info"),
        html.Div([
            dcc.Upload(html.Div(tt("upload", lang)), id=P_UPLOAD, accept=UPLOAD_TYPES, multiple=False,
                       className="planner-upload"),
            html.Div([
                dcc.Input(id=P_LON, type="text", placeholder=tt("lon", lang), className="planner-coord"),
                dcc.Input(id=P_LAT, type="text", placeholder=tt("lat", lang), className="planner-coord"),
                html.Button(tt("goto", lang), id=P_GOTO, n_clicks=0, className="btn btn-light"),
            ], className="planner-coords"),
        ], className="planner-row"),
        html.Div(id=P_UPLOAD_MSG, className="planner-msg"),
        html.Div([
            html.Div([html.Label(tt("use", lang)),
                      dcc.Dropdown(id=P_USE, options=[{"label": label, "value": code}
                                                      for code, label in use_options(lang)],
                                   value="school", clearable=False, labels=_dropdown_labels(lang))],
                     className="planner-use"),
            html.Div([html.Label(tt("population", lang)),
                      dcc.Input(id=P_POP, type="number", min=0, step=1, className="planner-num")]),
            html.Div([html.Label(tt("households", lang)),
                      dcc.Input(id=P_HH, type="number", min=0, step=1, className="planner-num")]),
            html.Button(tt("check", lang), id=P_CHECK, n_clicks=0, className="btn planner-check"),
        ], className="planner-row"),
        dcc.Loading(html.Div(id=P_RESULT, className="planner-result"), type="dot"),
        html.Button(tt("pdf", lang), id=P_PDF, n_clicks=0, className="btn", disabled=True),
        dcc.Download(id=P_DOWNLOAD),
    ])


def _result(verdict: SiteVerdict, site: shapely.Geometry, lang: str) -> list[Any]:
    table = reason_table(verdict, lang=lang)
    against = verdict.verdict == ADVISE_AGAINST
    label = verdict.label_zh if lang == "zh" else verdict.label_en
    rows = [html.Tr([html.Th(tt(k, lang)) for k in ("c_rule_code", "c_clause", "c_source", "c_detail")])]
    for r in table.itertuples():
        rows.append(html.Tr([
            html.Td([html.Span(str(r.verdict), className="planner-tag",
                               style={"backgroundColor": RED if r.blocking else BLUE}), " ",
                     html.B(str(r.rule_code)), " ※" if r.unconfirmed else "", html.Br(),
                     html.Span(str(r.rule), className="planner-small")]),
            html.Td(str(r.clause)),
            html.Td([str(r.source), html.Br(),
                     html.Span(f"{tt('measured', lang)} {_with_m(r.measured_m)} / {tt('required', lang)} "
                               f"{_with_m(r.required_m)}", className="planner-small num")]),
            html.Td(str(r.detail)),
        ], className="blocking" if r.blocking else "note"))
    gb_class: list[Any] = [html.B(tt("gb_class", lang) + _colon(lang)), class_label(verdict.gb36894_class, lang), "　"]
    out: list[Any] = [
        html.Div(label, id="planner-verdict", className="planner-verdict",
                 style={"backgroundColor": RED if against else BLUE}),
        html.P([*(gb_class if verdict.gb36894_class else []),
                html.B(tt("use", lang) + _colon(lang)), use_label(verdict.use, lang), "　",
                site_facts(site).describe(lang)],
               className="planner-verdict-facts"),
        html.H4(tt("reasons", lang).format(n=len(table))),
    ]
    if len(table):
        out.append(html.Table(html.Tbody(rows), className="planner-reasons", id="planner-reasons-table"))
        if bool(table["unconfirmed"].any()):
            out.append(html.P(tt("unconfirmed", lang), className="hint"))
        out.append(html.P(tt("rings", lang), className="hint"))
    else:
        out.append(html.P(tt("no_reasons", lang)))
    if verdict.notes:
        out += [html.H4(tt("notes", lang)), html.Ul([html.Li(bilingual(n, lang)) for n in verdict.notes])]
    return out


def _result_layers(verdict: SiteVerdict, site: shapely.Geometry, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    rings = zone_rings(site, verdict.reasons)
    ring_data = to_geojson(rings, {
        "colour": lambda r: RED if r["blocking"] else BLUE, "weight": lambda r: 2, "dash": lambda r: "8 6",
        "tooltip": lambda r: f"{r['rules']}: {r['required_m']:,.1f} m"})
    reasons = verdict.reasons
    if not len(reasons):
        return ring_data, EMPTY
    frame = gpd.GeoDataFrame(reasons.drop(columns=reasons.geometry.name), geometry=reasons.geometry.values, crs=4490)
    reason_data = to_geojson(frame, {
        "colour": lambda r: RED if r["verdict"] in BLOCKING_VERDICTS else BLUE, "weight": lambda r: 5,
        "tooltip": lambda r: f"{r['rule_code']} · {verdict_label(str(r['verdict']), lang)} · "
                             f"{_fmt_m(r['measured_m'])} / {_fmt_m(r['required_m'])} m"})
    return ring_data, reason_data


def layout(ctx: AppContext, lang: str, **params: Any) -> html.Div:
    """The planner page."""
    snap = ctx.snapshot()
    if not len(snap.bundle["districts"]):
        return html.Div([html.H2(t("nav_planner", lang)), html.P(t("empty", lang), className="empty")])
    rules = effective_ruleset(ctx.engine)
    names = snap.bundle["districts"].set_index("adcode")["name"]
    base = [dl.TileLayer(url=ctx.basemap_url)] if ctx.basemap_url else []
    the_map = dl.Map([
        *base,
        dl.GeoJSON(id=P_DISTRICTS, data=_district_outlines(ctx), style=DISTRICT_STYLE, hideout={"mode": "four"}),
        geojson_layer(P_PIPELINES, _pipelines(ctx), kind="line"),
        geojson_layer(P_TARGETS, _targets(ctx), kind="point"),
        geojson_layer(P_HAZARDS, _hazards(ctx, lang), kind="point"),
        dl.GeoJSON(id=P_FINDINGS, data=EMPTY, pointToLayer=FINDING_POINT, style={"variable": "riskmap.lineStyle"}),
        geojson_layer(P_RINGS, EMPTY, kind="point"),
        geojson_layer(P_REASONS, EMPTY, kind="point"),
        geojson_layer(P_SELECTED_GEOM, EMPTY, kind="point"),
        geojson_layer(P_SITE_LAYER, EMPTY, kind="point"),
        dl.FeatureGroup([dl.EditControl(
            id=P_DRAW, position="topleft",
            draw={"polygon": True, "rectangle": True, "polyline": False, "circle": False, "circlemarker": False,
                  "marker": False},
            edit={"edit": False, "remove": True})]),
    ], id=PLANNER_MAP, center=CITY_CENTER, zoom=CITY_ZOOM, className="leaflet-map", attributionControl=False)
    return html.Div([
        dcc.Store(id=P_REFRESH, data=0), dcc.Store(id=P_SELECTED, data=None), dcc.Store(id=P_SITE, data=None),
        dcc.Store(id=P_LAST, data=None),
        html.Div([html.H2(t("nav_planner", lang)), html.P(tt("intro", lang), className="hint")],
                 className="planner-head"),
        html.Div([
            html.Div([the_map, _legend(lang)], className="map-panel"),
            html.Div(dcc.Tabs(id=P_TABS, value="precheck", className="planner-tabs", children=[
                dcc.Tab(label=tt("tab_precheck", lang), value="precheck", children=_precheck_panel(lang)),
                dcc.Tab(label=tt("tab_finding", lang), value="finding", children=html.Div([
                    html.Div(_detail(ctx, None, lang), id=P_DETAIL), _status_control(lang)])),
            ]), className="side-panel planner-side"),
        ], className="main-row"),
        html.Div([
            html.Div([html.H3(tt("register", lang)), html.Span(id=P_COUNT, className="planner-count")],
                     className="planner-register-head"),
            html.Div([
                dcc.Dropdown(id=P_RULE, placeholder=tt("f_rule", lang), clearable=True, className="planner-filter",
                             labels=_dropdown_labels(lang),
                             options=[{"label": f"{code} · {rule.zh if lang == 'zh' else rule.en}", "value": code}
                                      for code, rule in rules.rules.items()]),
                dcc.Dropdown(id=P_DISTRICT, placeholder=tt("f_district", lang), clearable=True,
                             className="planner-filter", labels=_dropdown_labels(lang),
                             options=[{"label": str(name), "value": str(code)} for code, name in names.items()]),
                html.Div([html.Span(tt("f_status", lang), className="planner-filter-label"),
                          dcc.Checklist(id=P_STATUS, value=list(DEFAULT_STATUSES), inline=True,
                                        options=[{"label": status_label(s, lang), "value": s} for s in STATUS_LABELS])],
                         className="planner-status-filter"),
            ], className="planner-filters"),
            _register_table(lang),
        ], className="planner-register"),
    ], className="planner", id=PLANNER)


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Planner callbacks (no SQL: they call geo.store, geo.checks and layers)."""

    @app.callback(Output(P_TABLE, "data"), Output(P_COUNT, "children"), Output(P_FINDINGS, "data"),
                  Input(P_RULE, "value"), Input(P_DISTRICT, "value"), Input(P_STATUS, "value"),
                  Input(P_REFRESH, "data"), State(ids.LANG, "value"))
    def register_rows(rule: str | None, adcode: str | None, statuses: list[str] | None, _refresh: int,
                      lang: str) -> tuple[list[dict[Any, Any]], str, dict[str, Any]]:
        lang = lang or "zh"
        found = _findings(ctx, rule, adcode, statuses)
        rows = register_table(found, store.district_codes(ctx.engine), lang=lang)
        points = found.set_geometry(found.geometry.representative_point()) if len(found) else found
        dots = to_geojson(points, {"id": "id", "colour": lambda r: OVERLAY["finding"].hex, "radius": lambda r: 4,
                                   "tooltip": lambda r: f"#{r['id']} {r['rule_code']} · "
                                                        f"{bilingual(r['object_name'] or '', lang)}"})
        return rows.to_dict("records"), tt("count", lang).format(n=len(rows)), dots

    @app.callback(Output(P_SELECTED, "data"), Output(P_TABS, "value"),
                  Input(P_TABLE, "active_cell"), Input(P_FINDINGS, "clickData"),
                  State(P_TABLE, "derived_viewport_data"), prevent_initial_call=True)
    def select_finding(cell: dict[str, Any] | None, click: dict[str, Any] | None,
               rows: list[dict[str, Any]] | None) -> tuple[Any, Any]:
        trigger = dash.ctx.triggered_id
        if trigger == P_TABLE and cell and rows and cell["row"] < len(rows):
            return int(rows[cell["row"]]["id"]), "finding"
        if trigger == P_FINDINGS and click:
            return int(click["properties"]["id"]), "finding"
        return dash.no_update, dash.no_update

    @app.callback(Output(P_DETAIL, "children"), Output(P_SELECTED_GEOM, "data"),
                  Output(PLANNER_MAP, "viewport"), Output(P_NEW_STATUS, "value"),
                  Input(P_SELECTED, "data"), Input(P_REFRESH, "data"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def show_finding(finding_id: int | None, _refresh: int, lang: str) -> tuple[Any, Any, Any, Any]:
        lang = lang or "zh"
        if finding_id is None:
            return _detail(ctx, None, lang), EMPTY, dash.no_update, None
        found = store.read_findings(ctx.engine)
        found = found[found["id"] == finding_id]
        if not len(found):
            return _detail(ctx, None, lang), EMPTY, dash.no_update, None
        geom = on_top(to_geojson(found, {"colour": lambda r: OVERLAY["finding"].hex, "weight": lambda r: 6,
                                         "radius": lambda r: 8, "tooltip": lambda r: f"#{r['id']} {r['rule_code']}"}))
        view = _bounds_view(found.geometry) if dash.ctx.triggered_id == P_SELECTED else dash.no_update
        status = str(found.iloc[0]["status"])
        return _detail(ctx, found, lang), geom, view, status if status in SETTABLE_STATUSES else None

    @app.callback(Output(P_REFRESH, "data"), Output(P_SAVE_MSG, "children"),
                  Input(P_SAVE, "n_clicks"), State(P_SELECTED, "data"), State(P_NEW_STATUS, "value"),
                  State(P_NOTE, "value"), State(P_REFRESH, "data"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def save_status(_n: int, finding_id: int | None, status: str | None, note: str | None, refresh: int,
                    lang: str) -> tuple[Any, Any]:
        lang = lang or "zh"
        if finding_id is None or not status:
            return dash.no_update, tt("pick_finding", lang)
        if not can("edit_findings"):
            return dash.no_update, html.Span(DENIED.get(lang, DENIED["zh"]), className="planner-error")
        try:
            store.set_finding_status(ctx.engine, int(finding_id), status, actor=actor_name(), note=note or "")
        except ValueError as exc:
            return dash.no_update, html.Span(str(exc), className="planner-error")
        return (refresh or 0) + 1, tt("saved", lang).format(id=finding_id, status=status_label(status, lang))

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
                geom = _read_upload(contents, name)
            except ValueError as exc:
                return dash.no_update, html.Span(f"{tt('upload_error', lang)}{exc}", className="planner-error")
            return ({"geometry": shapely.geometry.mapping(geom), "source": "upload", "name": name},
                    tt("uploaded", lang).format(name=name))
        if trigger == P_GOTO:
            point = _point(lon, lat)
            if point is None:
                return dash.no_update, html.Span(tt("bad_coords", lang), className="planner-error")
            return {"geometry": shapely.geometry.mapping(point), "source": "coords"}, ""
        return dash.no_update, dash.no_update

    @app.callback(Output(P_SITE_LAYER, "data"), Output(P_SITE_INFO, "children"), Output(P_RINGS, "data"),
                  Output(P_REASONS, "data"), Output(P_RESULT, "children"), Output(P_LAST, "data"),
                  Output(P_PDF, "disabled"), Output(PLANNER_MAP, "viewport", allow_duplicate=True),
                  Input(P_SITE, "data"), Input(P_CHECK, "n_clicks"), State(P_USE, "value"), State(P_POP, "value"),
                  State(P_HH, "value"), State(ids.LANG, "value"), prevent_initial_call=True)
    def precheck(site: dict[str, Any] | None, _n: int, use: str, population: float | None,
                 households: float | None, lang: str) -> tuple[Any, ...]:
        lang = lang or "zh"
        if not can("precheck"):
            denied = html.P(DENIED.get(lang, DENIED["zh"]), className="planner-error")
            return EMPTY, "", EMPTY, EMPTY, denied, None, True, dash.no_update
        geom = _site_geom(site)
        if geom is None:
            need = html.P(tt("need_site", lang), className="planner-error") if dash.ctx.triggered_id == P_CHECK else ""
            return EMPTY, tt("no_site", lang), EMPTY, EMPTY, need, None, True, dash.no_update
        how = tt(f"from_{site['source']}", lang) if site and f"from_{site['source']}" in TEXT else ""
        info = [html.B(tt("site", lang) + _colon(lang)), site_facts(geom).describe(lang),
                f"（{how}）" if lang == "zh" else f" ({how})"]
        if dash.ctx.triggered_id == P_SITE:
            moved = site is not None and site.get("source") in ("upload", "coords")
            view: Any = (_bounds_view(gpd.GeoSeries([geom], crs=4490), pad_deg=0.01)
                         if moved else dash.no_update)
            return _site_layer(geom, lang), info, EMPTY, EMPTY, "", None, True, view
        last = {"geometry": shapely.geometry.mapping(geom), "use": use or "school",
                "population": int(population) if population is not None else None,
                "households": int(households) if households is not None else None}
        try:
            _, verdict = _run_precheck(ctx, last)
        except ValueError as exc:
            return (_site_layer(geom, lang), info, EMPTY, EMPTY,
                    html.P(f"{tt('error', lang)}{exc}", className="planner-error"), None, True, dash.no_update)
        record_precheck(ctx.engine, geom, verdict, actor=actor_name(), via="dashboard")
        rings, reasons = _result_layers(verdict, geom, lang)
        zone = zone_rings(geom, verdict.reasons)
        view = _bounds_view(zone.geometry, pad_deg=0.002) if len(zone) else dash.no_update
        return _site_layer(geom, lang), info, rings, reasons, _result(verdict, geom, lang), last, False, view

    @app.callback(Output(P_DOWNLOAD, "data"), Input(P_PDF, "n_clicks"), State(P_LAST, "data"),
                  State(ids.LANG, "value"), prevent_initial_call=True)
    def download(_n: int, last: dict[str, Any] | None, lang: str) -> Any:
        lang = lang or "zh"
        if not last or not can("precheck"):
            return dash.no_update
        site, verdict = _run_precheck(ctx, last)
        with tempfile.TemporaryDirectory(prefix="riskmap-precheck-") as tmp:
            path = reasons_pdf(Path(tmp) / "reasons.pdf", verdict=verdict, site=site,
                               use_label=use_label(verdict.use, lang), lang=lang)
            data = path.read_bytes()
        name = f"{tt('pdf_name', lang)}-{dt.date.today():%Y%m%d}.pdf"
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


def _read_upload(contents: str, name: str) -> shapely.Geometry:
    """Decode a ``dcc.Upload`` data URL into a temporary file named ``name`` and read the site from it."""
    if Path(name).suffix.lower() not in UPLOAD_TYPES.split(","):
        raise ValueError(f"{name}: 不支持的文件类型 / unsupported file type; {UPLOAD_TYPES}")
    if len(contents) > MAX_SITE_BYTES * 4 // 3 + 1024:
        mb = MAX_SITE_BYTES // 2**20
        raise ValueError(f"{name}: 文件超过 {mb} MB / file larger than {mb} MB")
    try:
        payload = base64.b64decode(contents.split(",", 1)[1], validate=False)
    except (IndexError, ValueError) as exc:
        raise ValueError(f"{name}: 无法解码上传内容 / cannot decode the upload") from exc
    with tempfile.TemporaryDirectory(prefix="riskmap-site-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(payload)
        return read_site_file(path)
