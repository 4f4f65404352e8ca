"""Inspection record (排查表, workflows.md §4) on a phone: unit, time, place and position, photos, what was found.

Fits a phone screen (one column, large controls). The position comes from the phone's location
("使用当前位置", the browser's geolocation) or a tap on the map; photos from the camera or files. A
spot check of an enterprise's self-check ticks the items of workflows.md §5. A record that found a
major hazard can be reported as a hazard in one step (source 部门排查).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
import dash_leaflet as dl
from dash import Input, Output, State, dcc, html

from campaign.inspections import KINDS, InspectionRecord, hazard_from_inspection, record_inspection
from campaign.lifecycle import Refused
from campaign.reference import load_reference
from campaign.service import Actor
from dashboard import ids
from dashboard.auth import current_user
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, t
from dashboard.pages.campaign_map import campaign_map
from dashboard.pages.campaign_text import page_lang, refusal
from dashboard.pages.hazard import uploads_of
from dashboard.permissions import DENIED, can
from dashboard.routing import Page
from geo import store
from geo.constants import LOCAL_ZONE

PATH = "/inspect"
IN_KIND = "in-kind"
IN_ENTERPRISE = "in-enterprise"
IN_UNIT = "in-unit"
IN_INSPECTOR = "in-inspector"
IN_TIME = "in-time"
IN_PLACE = "in-place"
IN_MAP = "in-map"
IN_MARKER = "in-marker"
IN_POSITION = "in-position"
IN_POSITION_TEXT = "in-position-text"
IN_LOCATE = "in-locate"
IN_MAJOR = "in-major"
IN_DESCRIPTION = "in-description"
IN_DISPOSAL = "in-disposal"
IN_REMARKS = "in-remarks"
IN_ITEMS = "in-items"
IN_PHOTOS = "in-photos"
IN_PHOTO_NAMES = "in-photo-names"
IN_SAVE = "in-save"
IN_MESSAGE = "in-message"
IN_SAVED = "in-saved"
IN_TO_HAZARD = "in-to-hazard"



def layout(ctx: AppContext, lang: str) -> html.Div:
    """The inspection form in ``lang``."""
    lang = page_lang(lang)
    user = current_user()
    if not can("inspect"):
        return html.Div(html.H2(DENIED[lang]), id="access-denied", className="denied")
    ents = store.read_layer(ctx.engine, "enterprises")
    options = [{"label": f"{r['name']}", "value": r["credit_code"]}
               for r in ents.sort_values("name").to_dict("records") if r.get("credit_code")]
    items = load_reference().spot_check_items
    now = dt.datetime.now(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")
    recent = store.list_inspections(ctx.engine).head(10)
    return html.Div([
        dcc.Link(t("hz_back", lang), href="/hazards", className="back-link"),
        html.H2(t("in_title", lang)),
        dcc.RadioItems(id=IN_KIND, options=[{"label": v[0] if lang == "zh" else v[1], "value": k}
                                            for k, v in KINDS.items()], value="inspection", inline=True),
        html.Label([t("hz_enterprise", lang), dcc.Dropdown(id=IN_ENTERPRISE, options=options,
                                                             labels=dropdown_labels(lang))], className="field"),
        html.Label([t("in_unit", lang), dcc.Input(id=IN_UNIT, type="text", maxLength=100,
                                                    value=str(user.get("name") or "") if user else "")],
                   className="field"),
        html.Label([t("in_inspector", lang), dcc.Input(id=IN_INSPECTOR, type="text", maxLength=60,
                                                         value=str(user["username"]) if user else "")],
                   className="field"),
        html.Label([t("in_time", lang), dcc.Input(id=IN_TIME, type="text", value=now, maxLength=16)],
                   className="field"),
        html.Label([t("in_place", lang), dcc.Input(id=IN_PLACE, type="text", maxLength=200)], className="field"),
        html.P(t("hz_position", lang)),
        html.Button(t("hz_locate", lang), id=IN_LOCATE, n_clicks=0, className="button"),
        campaign_map(ctx, IN_MAP, [dl.LayerGroup(id=IN_MARKER)], height="260px"),
        dcc.Store(id=IN_POSITION), html.Div(id=IN_POSITION_TEXT, className="hint"),
        dcc.Checklist(id=IN_MAJOR, options=[{"label": t("in_major", lang), "value": "major"}], value=[]),
        html.Label([t("in_description", lang), dcc.Textarea(id=IN_DESCRIPTION, rows=3)], className="field"),
        html.Label([t("in_disposal", lang), dcc.Textarea(id=IN_DISPOSAL, rows=2)], className="field"),
        html.Fieldset([html.Legend(t("in_spot_items", lang)),
                       dcc.Checklist(id=IN_ITEMS, options=[{"label": v.get(lang), "value": k}
                                                           for k, v in items.items()], value=[])],
                      className="spot-items"),
        html.Label([t("in_remarks", lang), dcc.Textarea(id=IN_REMARKS, rows=2)], className="field"),
        dcc.Upload(id=IN_PHOTOS, children=html.Div(t("in_photos", lang)), multiple=True,
                   accept="image/*,application/pdf", className="upload"),
        html.Div(id=IN_PHOTO_NAMES, className="hint"),
        html.Button(t("in_save", lang), id=IN_SAVE, n_clicks=0, className="button-primary"),
        dcc.Store(id=IN_SAVED),
        html.Div(id=IN_MESSAGE, role="status"),
        html.H3(t("in_recent", lang)),
        html.Ul([html.Li(f"{r['inspected_at'].astimezone(LOCAL_ZONE):%Y-%m-%d %H:%M} · {r['unit']} · {r['place'] or ''}"
                         f"{' · ⚠' if r['major_found'] else ''}") for r in recent.to_dict("records")],
                id="in-recent"),
    ], className="inspect-page form-page", id="inspect-page")


def _parse_time(text: Any) -> dt.datetime:
    try:
        return dt.datetime.strptime(str(text or "").strip(), "%Y-%m-%d %H:%M").replace(tzinfo=LOCAL_ZONE)
    except ValueError:
        raise Refused([(t("in_bad_time", "zh", value=str(text)[:20]),
                        t("in_bad_time", "en", value=str(text)[:20]))]) from None


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Register the page's callbacks on ``app``."""
    # The phone's position: the browser asks the person, then fills the same store a map tap fills.
    app.clientside_callback(
        """function (n) {
            if (!n || !navigator.geolocation) { return window.dash_clientside.no_update; }
            return new Promise(function (resolve) {
                navigator.geolocation.getCurrentPosition(
                    function (p) { resolve({lon: p.coords.longitude, lat: p.coords.latitude}); },
                    function () { resolve(window.dash_clientside.no_update); },
                    {enableHighAccuracy: true, timeout: 15000});
            });
        }""",
        Output(IN_POSITION, "data", allow_duplicate=True), Input(IN_LOCATE, "n_clicks"), prevent_initial_call=True)

    @app.callback(Output(IN_POSITION, "data"), Input(IN_MAP, "clickData"), prevent_initial_call=True)
    def tapped(click: Any) -> Any:
        latlng = (click or {}).get("latlng") if isinstance(click, dict) else None
        if not isinstance(latlng, dict):
            return dash.no_update
        return {"lon": float(latlng.get("lng", 0)), "lat": float(latlng.get("lat", 0))}

    @app.callback(Output(IN_MARKER, "children"), Output(IN_POSITION_TEXT, "children"), Input(IN_POSITION, "data"),
                  State(ids.LANG, "value"))
    def show_position(pos: Any, lang: Any) -> Any:
        if not isinstance(pos, dict) or "lon" not in pos:
            return [], ""
        lon, lat = float(pos["lon"]), float(pos["lat"])
        return ([dl.CircleMarker(center=[lat, lon], radius=8, color="#E60012")],
                t("hz_position_value", page_lang(lang), lon=lon, lat=lat))

    @app.callback(Output(IN_PHOTO_NAMES, "children"), Input(IN_PHOTOS, "filename"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def chosen(names: Any, lang: Any) -> Any:
        names = names if isinstance(names, list) else [names] if names else []
        return t("hz_files_chosen", page_lang(lang), names="、".join(str(n) for n in names)) if names else ""

    @app.callback(Output(IN_MESSAGE, "children"), Output(IN_SAVED, "data"), Input(IN_SAVE, "n_clicks"),
                  State(IN_KIND, "value"), State(IN_ENTERPRISE, "value"), State(IN_UNIT, "value"),
                  State(IN_INSPECTOR, "value"), State(IN_TIME, "value"), State(IN_PLACE, "value"),
                  State(IN_POSITION, "data"), State(IN_MAJOR, "value"), State(IN_DESCRIPTION, "value"),
                  State(IN_DISPOSAL, "value"), State(IN_REMARKS, "value"), State(IN_ITEMS, "value"),
                  State(IN_PHOTOS, "contents"), State(IN_PHOTOS, "filename"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def save(n: Any, kind: Any, credit_code: Any, unit: Any, inspector: Any, when: Any, place: Any, pos: Any,
             major: Any, description: Any, disposal: Any, remarks: Any, items: Any, contents: Any, filenames: Any,
             lang: Any) -> Any:
        lang = page_lang(lang)
        user = current_user()
        if not n or user is None or not can("inspect"):
            return DENIED[lang], dash.no_update
        actor = Actor.of(user)
        try:
            lon = float(pos["lon"]) if isinstance(pos, dict) and "lon" in pos else None
            lat = float(pos["lat"]) if isinstance(pos, dict) and "lat" in pos else None
            code = credit_code if isinstance(credit_code, str) and credit_code else None
            ent = store.enterprise_of(ctx.engine, code) if code else None
            adcode = actor.adcode or (ent or {}).get("adcode") or (
                store.district_at(ctx.engine, lon, lat) if lon is not None and lat is not None else None)
            if adcode is None:
                raise Refused([("请选择企业或在地图上选择位置", "choose the enterprise or a position on the map")])
            rec = InspectionRecord(
                kind=str(kind), adcode=adcode, unit=str(unit or ""), inspector=str(inspector or ""),
                inspected_at=_parse_time(when), major_found="major" in (major or []), place=place or None,
                lon=lon, lat=lat, credit_code=code, description=description or None, disposal=disposal or None,
                remarks=remarks or None, spot_items=dict.fromkeys(items or [], True))
            iid = record_inspection(ctx.engine, actor, rec, uploads=uploads_of(contents, filenames))
        except Refused as exc:
            return refusal(exc.reasons, lang), dash.no_update
        parts: list[Any] = [html.P(t("in_saved", lang, id=iid), className="ok", id="in-done")]
        if rec.major_found and can("report_hazard") and lon is not None and lat is not None:
            parts.append(html.Button(t("in_to_hazard", lang), id=IN_TO_HAZARD, n_clicks=0, className="button"))
        return parts, {"id": iid, "lon": lon, "lat": lat, "description": rec.description,
                       "enterprise": (ent or {}).get("name"), "day": rec.inspected_at.date().isoformat()}

    @app.callback(Output(IN_MESSAGE, "children", allow_duplicate=True), Input(IN_TO_HAZARD, "n_clicks"),
                  State(IN_SAVED, "data"), State(ids.LANG, "value"), prevent_initial_call=True)
    def to_hazard(n: Any, saved: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        user = current_user()
        if not n or user is None or not can("report_hazard") or not isinstance(saved, dict):
            return dash.no_update
        try:
            hid = hazard_from_inspection(
                ctx.engine, Actor.of(user), int(saved["id"]),
                {"description": saved.get("description") or "", "severity": "major",
                 "found_on": dt.date.fromisoformat(str(saved["day"]))},
                lon=float(saved["lon"]), lat=float(saved["lat"]), enterprise_name=saved.get("enterprise"))
        except (Refused, LookupError, KeyError, ValueError) as exc:
            reasons = exc.reasons if isinstance(exc, Refused) else [(str(exc), str(exc))]
            return refusal(reasons, lang)
        return html.P([t("hz_reported", lang, code=hid), " ",
                       dcc.Link("→", href=f"/hazards/{hid}", id="in-hazard-link")], className="ok")


PAGES = (Page(PATH, layout, nav_key="nav_inspect", order=50, action="inspect"),)
