"""One hazard (隐患详情): its facts, 五落实 and supervision, its history, its attachments, and what the account may do.

Also the report form (``/hazards/new``) and the attachment route, which serves a file only when the
session may see the hazard or inspection it belongs to (row-level security, as for every read).
Forms are built from the lifecycle table: each action shows the fields it needs.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import dash
import dash_leaflet as dl
from dash import Input, Output, State, dcc, html
from flask import Response, abort

from campaign.attachments import Upload
from campaign.field_values import parse_field_values
from campaign.lifecycle import Lifecycle, Refused, load_lifecycle
from campaign.reference import load_reference
from campaign.reminders import reminder_label
from campaign.service import Actor, report_hazard, take_step
from dashboard import ids
from dashboard.auth import current_user
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, t
from dashboard.pages.campaign_map import campaign_map
from dashboard.pages.campaign_text import page_lang, refusal
from dashboard.permissions import DENIED, can
from dashboard.routing import Page
from geo import store
from geo.constants import LOCAL_ZONE

PATH = "/hazards"
HD_ID = "hd-hazard-id"
HD_VERSION = "hd-version"
HD_ACTION = "hd-action"
HD_FORM = "hd-form"
HD_FIELD = "hd-f-"  # + a lifecycle field code: one fixed id per field
HD_COMMENT = "hd-comment"
HD_FILES = "hd-files"
HD_FILES_NAMES = "hd-files-names"
HD_SUBMIT = "hd-submit"
HD_MESSAGE = "hd-message"
HD_BODY = "hd-body"
NEW_MAP = "hn-map"
NEW_POSITION = "hn-position"
NEW_POSITION_TEXT = "hn-position-text"
NEW_ENTERPRISE = "hn-enterprise"
NEW_SUBMIT = "hn-submit"
NEW_MESSAGE = "hn-message"
#: Largest upload the page decodes (the service checks each file's own limit of 10 MB).
MAX_UPLOAD_CHARS = 60 * 1024 * 1024



def _actor() -> Actor | None:
    user = current_user()
    return Actor.of(user) if user else None


def _label(table: Any, code: Any, lang: str) -> str:
    item = table.get(code) if code is not None else None
    return item.get(lang) if item is not None else ("" if code is None else str(code))


def _local(at: Any) -> str:
    return at.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M") if isinstance(at, dt.datetime) else str(at)


def field_id(name: str) -> str:
    """The component id of lifecycle field ``name`` in the forms."""
    return f"{HD_FIELD}{name}"


def _field_input(life: Lifecycle, name: str, lang: str, value: Any) -> html.Label:
    fdef = life.fields[name]
    key = field_id(name)
    if fdef.kind == "severity":
        control: Any = dcc.Dropdown(id=key, options=[{"label": v.get(lang), "value": k}
                                                     for k, v in life.severities.items()],
                                    value=value, labels=dropdown_labels(lang))
    elif fdef.kind == "supervision":
        control = dcc.Dropdown(id=key, options=[{"label": v[0].get(lang), "value": k}
                                                for k, v in life.supervision_levels.items()],
                               value=value if value in life.supervision_levels else None, labels=dropdown_labels(lang))
    elif fdef.kind in ("date", "future_date"):
        control = dcc.Input(id=key, type="text", placeholder="YYYY-MM-DD", inputMode="numeric",
                            value=value.isoformat() if isinstance(value, dt.date) else None)
    elif fdef.kind == "amount":
        control = dcc.Input(id=key, type="number", min=0, step=0.01, value=value)
    elif name in ("measures", "emergency_plan", "assessment", "progress", "description"):
        control = dcc.Textarea(id=key, value=value or "", rows=3)
    else:
        control = dcc.Input(id=key, type="text", value=value or "", maxLength=200)
    return html.Label([fdef.label.get(lang), control], className="field")


def parse_fields(life: Lifecycle, names: list[str], values: list[Any], lang: str) -> dict[str, Any]:
    """Turn the form's raw values into typed field values (see :func:`campaign.field_values.parse_field_values`)."""
    del lang  # messages carry both languages
    return parse_field_values(life, zip(names, values, strict=True))


def uploads_of(contents: Any, names: Any) -> list[Upload]:
    """Decode dcc.Upload contents (data URLs) into :class:`Upload` objects."""
    if not contents:
        return []
    contents = contents if isinstance(contents, list) else [contents]
    names = names if isinstance(names, list) else [names] * len(contents)
    out = []
    for content, name in zip(contents, names, strict=False):
        if not isinstance(content, str) or len(content) > MAX_UPLOAD_CHARS or "," not in content:
            raise Refused([("附件过大或无法读取", "an attachment is too large or unreadable")])
        out.append(Upload(str(name or "附件"), base64.b64decode(content.split(",", 1)[1])))
    return out


def _timeline(steps: list[dict[str, Any]], hazard_id: int, lang: str, life: Lifecycle,
              reminders: Sequence[dict[str, Any]] = ()) -> html.Ol:
    """The history: each step, and after it the 催办 sent while the hazard stood at that step's version."""
    items = []
    for s in steps:
        to = _label(life.states, s["to_state"], lang)
        if s["action"] == "import":
            line = t("hz_import_line", lang, at=_local(s["at"]), to=to)
        else:
            action = life.create.label if s["action"] == "create" else life.actions[s["action"]].label
            line = t("hz_step_line", lang, at=_local(s["at"]), actor=s["actor"],
                      role=_label(life.roles, s["role"], lang), action=action.get(lang),
                      from_=_label(life.states, s["from_state"], lang) or "—", to=to)
        parts: list[Any] = [html.Span(line, className="step-line")]
        if s.get("comment"):
            parts.append(html.Blockquote(s["comment"]))
        changes = s.get("changes") or {}
        if changes:
            parts.append(html.Ul([html.Li(f"{life.fields[k].label.get(lang) if k in life.fields else k}"
                                          f"：{v[0] if v[0] is not None else '—'} → {v[1]}")
                                  for k, v in changes.items()], className="changes"))
        for sha in s.get("attachments") or []:
            parts.append(html.A(f"📎 {sha[:10]}…", href=f"/attachments/{hazard_id}/{sha}", target="_blank"))
        items.append(html.Li(parts, className=f"step step-{s['action']}"))
        items += [html.Li(html.Span(reminder_label(r, lang), className="step-line"), className="step step-remind",
                          id=f"hd-remind-{r['id']}") for r in reminders if r["hazard_version"] == s["version"]]
    return html.Ol(items, className="timeline", id="hd-timeline")


def _facts(row: dict[str, Any], lang: str, life: Lifecycle, today: dt.date) -> html.Table:
    ref = load_reference()
    names = ("enterprise_name", "credit_code", "found_on", "deadline", "measures", "responsible_unit",
             "responsible_person", "funds_wan", "emergency_plan", "assessment", "supervision", "supervising_unit",
             "supervision_deadline", "progress", "closed_on")
    zh = {"enterprise_name": ("所属企业", "Enterprise"), "credit_code": ("统一社会信用代码", "Credit code"),
          "closed_on": ("销号日期", "Struck off on")}
    rows = [html.Tr([html.Th(t("col_source", lang)), html.Td(_label(ref.sources, row.get("source"), lang))])]
    for name in names:
        value = row.get(name)
        if name == "supervision":
            value = _label({k: v[0] for k, v in life.supervision_levels.items()}, value, lang) if value else ""
        label = life.fields[name].label.get(lang) if name in life.fields else zh[name][0 if lang == "zh" else 1]
        rows.append(html.Tr([html.Th(label), html.Td("" if value is None else str(value))]))
    return html.Table(rows, className="facts", id="hd-facts")


def detail_layout(ctx: AppContext, lang: str, hazard_id: int) -> html.Div:
    """The hazard page in ``lang`` (or a not-found message when the session does not see it).

    The message area stays outside the body, which a step redraws.
    """
    return html.Div([html.Div(id=HD_MESSAGE, role="status"),
                     html.Div(detail_body(ctx, lang, hazard_id), id=HD_BODY)], className="hazard-page")


def detail_body(ctx: AppContext, lang: str, hazard_id: int) -> list[Any]:
    """The hazard's facts, history and actions."""
    lang = page_lang(lang)
    life = load_lifecycle()
    with ctx.engine.connect() as conn:
        row = store.read_hazard(conn, hazard_id)
        steps = store.hazard_steps(conn, hazard_id) if row else []
        reminders = store.hazard_reminders(conn, hazard_id) if row else []
    back = dcc.Link(t("hz_back", lang), href=PATH, className="back-link")
    if row is None:
        return [back, html.H2(t("hz_not_found", lang), id="hd-not-found")]
    today = dt.datetime.now(LOCAL_ZONE).date()
    h = life.hazard(row)
    badges = [html.Span(_label(life.states, row["state"], lang), className="badge state",
                        style={"background": life.state_colour.get(str(row["state"]), "#888")}, id="hd-state"),
              html.Span(_label(life.severities, row["severity"], lang), className="badge severity")]
    if life.is_overdue(h, today):
        badges.append(html.Span(t("hz_overdue_badge", lang, days=(today - row["deadline"]).days),
                                className="badge overdue", id="hd-overdue"))
    actor = _actor()
    available = life.available(h, actor.role) if actor else []
    actions: Any
    if available:
        actions = html.Div([
            html.H3(t("hz_actions", lang)),
            dcc.RadioItems(id=HD_ACTION, options=[{"label": a.label.get(lang), "value": a.code} for a in available],
                           value=None, className="action-choice"),
            html.Div(id=HD_FORM),
        ], className="panel actions", id="hd-actions")
    else:
        actions = html.Div([html.P(t("hz_no_actions", lang), className="hint")], id="hd-actions")
    return [
        back,
        dcc.Store(id=HD_ID, data=hazard_id), dcc.Store(id=HD_VERSION, data=int(row["version"])),
        html.H2([f"{row['code']} ", html.Span(row["description"], className="hazard-name")], id="hd-title"),
        html.Div(badges, className="badges"),
        html.Div([
            html.Div([html.H3(t("hz_facts", lang)), _facts(row, lang, life, today)], className="panel"),
            html.Div([html.H3(t("hz_timeline", lang)), _timeline(steps, hazard_id, lang, life, reminders)],
                     className="panel"),
        ], className="hd-columns"),
        actions,
    ]


def action_form(life: Lifecycle, action: str, row: dict[str, Any], lang: str) -> list[Any]:
    """The inputs an action needs: its fields (prefilled), a comment, and an upload when evidence is needed."""
    act = life.actions[action]
    names = list(life.expand(act.requires))
    if row.get("severity") == "major" or "severity" in act.sets:
        names += [n for n in life.expand(act.requires_major) if n not in names]
    names += [n for n in life.expand(act.sets) if n not in names]
    # every field is in the form (the submit callback reads them all); those the action does not take are hidden
    parts: list[Any] = [_field_input(life, n, lang, row.get(n)) for n in names]
    parts.append(html.Div([_field_input(life, n, lang, None) for n in life.fields if n not in names],
                          style={"display": "none"}))
    parts.append(html.Label([t("hz_comment", lang), dcc.Textarea(id=HD_COMMENT, rows=2)], className="field"))
    parts.append(dcc.Upload(id=HD_FILES, children=html.Div(t("hz_files", lang)), multiple=True,
                            accept="image/jpeg,image/png,application/pdf",
                            className="upload required" if act.attachment_required else "upload"))
    parts.append(html.Div(id=HD_FILES_NAMES, className="hint"))
    parts.append(html.Button(t("hz_submit", lang), id=HD_SUBMIT, n_clicks=0, className="button-primary"))
    return parts


def new_layout(ctx: AppContext, lang: str) -> html.Div:
    """The report form: the hazard's fields, its enterprise, its position on a map, photos."""
    lang = page_lang(lang)
    life = load_lifecycle()
    actor = _actor()
    if actor is None or not can("report_hazard"):
        return html.Div(html.H2(DENIED[lang]), id="access-denied", className="denied")
    ents = store.read_layer(ctx.engine, "enterprises")
    options = [{"label": f"{r['name']}（{r['credit_code']}）", "value": r["credit_code"]}
               for r in ents.sort_values("name").to_dict("records") if r.get("credit_code")]
    ref = load_reference()
    source = html.Label([life.fields["source"].label.get(lang),  # a choice of the reference table, not free text
                         dcc.Dropdown(id=field_id("source"),
                                      options=[{"label": v.get(lang), "value": k} for k, v in ref.sources.items()],
                                      value="self_check" if actor.role == "enterprise" else "department",
                                      labels=dropdown_labels(lang))], className="field")
    fields = [source if n == "source" else _field_input(life, n, lang, None) for n in life.create.requires]
    default = options[0]["value"] if actor.role == "enterprise" and options else None
    return html.Div([
        dcc.Link(t("hz_back", lang), href=PATH, className="back-link"),
        html.H2(t("hz_new_title", lang)),
        html.Label([t("hz_enterprise", lang), dcc.Dropdown(id=NEW_ENTERPRISE, options=options, value=default,
                                                             disabled=actor.role == "enterprise",
                                                             labels=dropdown_labels(lang))], className="field"),
        *fields,
        html.P(t("hz_position", lang)),
        campaign_map(ctx, NEW_MAP, [dl.LayerGroup(id="hn-marker")], height="300px"),
        dcc.Store(id=NEW_POSITION), html.Div(id=NEW_POSITION_TEXT, className="hint"),
        html.Label([t("hz_comment", lang), dcc.Textarea(id=HD_COMMENT, rows=2)], className="field"),
        dcc.Upload(id=HD_FILES, children=html.Div(t("hz_files", lang)), multiple=True,
                   accept="image/jpeg,image/png,application/pdf", className="upload"),
        html.Div(id=HD_FILES_NAMES, className="hint"),
        html.Button(t("hz_submit", lang), id=NEW_SUBMIT, n_clicks=0, className="button-primary"),
        html.Div(id=NEW_MESSAGE, role="status"),
    ], className="hazard-new form-page", id="hazard-new")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Register the page's callbacks and the attachment route on ``app``."""
    life = load_lifecycle()
    form_fields = tuple(life.fields)  # every field of the action forms, in table order
    new_fields = tuple(life.create.requires)

    @app.server.route("/attachments/<int:hazard_id>/<sha>")
    def attachment(hazard_id: int, sha: str) -> Response:
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            abort(404)
        found = store.read_attachment(ctx.engine, sha, hazard_id=hazard_id)
        if found is None:
            abort(404)
        disposition = "inline" if found["media_type"].startswith("image/") or found["media_type"] == "application/pdf" \
            else "attachment"
        return Response(bytes(found["content"]), mimetype=found["media_type"],
                        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{sha[:12]}",
                                 "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})

    @app.callback(Output(HD_FORM, "children"), Input(HD_ACTION, "value"), State(HD_ID, "data"),
                  State(ids.LANG, "value"), prevent_initial_call=True)
    def choose(action: Any, hazard_id: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        life = load_lifecycle()
        actor = _actor()
        if action not in life.actions or not isinstance(hazard_id, int) or actor is None:
            return []
        with ctx.engine.connect() as conn:
            row = store.read_hazard(conn, hazard_id)
        if row is None:
            return html.P(t("hz_not_found", lang))
        return action_form(life, action, row, lang)

    @app.callback(Output(HD_FILES_NAMES, "children"), Input(HD_FILES, "filename"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def chosen(names: Any, lang: Any) -> Any:
        names = names if isinstance(names, list) else [names] if names else []
        return t("hz_files_chosen", page_lang(lang), names="、".join(str(n) for n in names)) if names else ""

    @app.callback(Output(HD_MESSAGE, "children"), Output(HD_BODY, "children"),
                  Input(HD_SUBMIT, "n_clicks"), State(HD_ACTION, "value"), State(HD_ID, "data"),
                  State(HD_VERSION, "data"), *(State(field_id(n), "value") for n in form_fields),
                  State(HD_COMMENT, "value"),
                  State(HD_FILES, "contents"), State(HD_FILES, "filename"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def submit(n: Any, action: Any, hazard_id: Any, version: Any, *rest: Any) -> Any:
        values, (comment, contents, filenames, lang) = rest[:len(form_fields)], rest[len(form_fields):]
        lang = page_lang(lang)
        life = load_lifecycle()
        actor = _actor()
        if not n or actor is None or not can("hazards_page"):
            return DENIED[lang], dash.no_update
        if action not in life.actions or not isinstance(hazard_id, int) or not isinstance(version, int):
            return dash.no_update, dash.no_update
        try:
            writable = set(life.expand(life.actions[action].writable()))
            fields = parse_fields(life, [n for n in form_fields if n in writable],
                                  [v for n, v in zip(form_fields, values, strict=True) if n in writable], lang)
            uploads = uploads_of(contents, filenames)
            after = take_step(ctx.engine, hazard_id, action, actor, values=fields, comment=comment or None,
                              uploads=uploads, expected_version=version)
        except Refused as exc:
            return refusal(exc.reasons, lang), dash.no_update
        except LookupError:
            return html.P(t("hz_not_found", lang), className="error"), dash.no_update
        done = html.P(t("hz_done", lang, action=life.actions[action].label.get(lang),
                         to=_label(life.states, after["state"], lang)), className="ok", id="hd-done")
        return done, detail_body(ctx, lang, hazard_id)

    @app.callback(Output(NEW_POSITION, "data"), Output("hn-marker", "children"), Output(NEW_POSITION_TEXT, "children"),
                  Input(NEW_MAP, "clickData"), State(ids.LANG, "value"), prevent_initial_call=True)
    def position(click: Any, lang: Any) -> Any:
        latlng = (click or {}).get("latlng") if isinstance(click, dict) else None
        if not isinstance(latlng, dict):
            return dash.no_update, dash.no_update, dash.no_update
        lat, lon = float(latlng.get("lat", 0)), float(latlng.get("lng", 0))
        return ({"lon": lon, "lat": lat}, [dl.CircleMarker(center=[lat, lon], radius=8, color="#E60012")],
                t("hz_position_value", page_lang(lang), lon=lon, lat=lat))

    @app.callback(Output(NEW_MESSAGE, "children"), Input(NEW_SUBMIT, "n_clicks"), State(NEW_ENTERPRISE, "value"),
                  State(NEW_POSITION, "data"), *(State(field_id(n), "value") for n in new_fields),
                  State(HD_FILES, "contents"), State(HD_FILES, "filename"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def report(n: Any, credit_code: Any, pos: Any, *rest: Any) -> Any:
        values, (contents, filenames, lang) = rest[:len(new_fields)], rest[len(new_fields):]
        lang = page_lang(lang)
        life = load_lifecycle()
        actor = _actor()
        if not n or actor is None or not can("report_hazard"):
            return DENIED[lang]
        if not isinstance(pos, dict) or "lon" not in pos:
            return html.P(t("hz_no_position", lang), className="error")
        try:
            fields = parse_fields(life, list(new_fields), list(values), lang)
            uploads = uploads_of(contents, filenames)
            code = actor.credit_code if actor.role == "enterprise" else credit_code
            ent = store.enterprise_of(ctx.engine, code) if code else None
            adcode = actor.adcode or (ent or {}).get("adcode") or store.district_at(ctx.engine, pos["lon"],
                                                                                      pos["lat"])
            if adcode is None:
                raise Refused([("位置不在任何区县内", "the position is in no district")])
            hid = report_hazard(ctx.engine, actor, fields, adcode=adcode, lon=float(pos["lon"]),
                                lat=float(pos["lat"]), enterprise_name=(ent or {}).get("name"), credit_code=code,
                                uploads=uploads)
        except Refused as exc:
            return refusal(exc.reasons, lang)
        with ctx.engine.connect() as conn:
            row = store.read_hazard(conn, hid)
        return html.P([t("hz_reported", lang, code=row["code"] if row else hid), " ",
                       dcc.Link("→", href=f"{PATH}/{hid}", id="hn-open")], className="ok", id="hn-done")


PAGES = (Page(f"{PATH}/new", new_layout, action="report_hazard"),
         Page(f"{PATH}/<int:hazard_id>", detail_layout, action="hazards_page"))
#: The report form's callbacks (and the attachment list of the forms that take files: reporters and the roles
#: that work on hazards) need the report action, not only the register's (dashboard/pages/__init__.py).
CALLBACK_ACTIONS = {NEW_POSITION: "report_hazard", NEW_MESSAGE: "report_hazard", HD_FILES_NAMES: "report_hazard"}
