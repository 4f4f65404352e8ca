"""Hidden hazards (隐患排查治理): the inbox, the register with its map, the 台账 download and the enterprise's report.

Rows of the register can be selected (several at once) for a bulk action: a step ``lifecycle.yaml`` marks
bulk-safe for the account's role (campaign/bulk.py: each hazard done or refused on its own, same checks,
optimistic locking and audit), 催办 with a short message to the party of each one's next step (district officers
and city supervisors; campaign/reminders.py), or an export of the selected hazards. Downloads are the 台账 with
each hazard's photos and PDFs in one ZIP (campaign/ledger.py), built in a temporary file; its size is shown before.

Every account sees the hazards PostgreSQL lets it see: an enterprise its own, a district officer their
district's, city roles all. The services below (``campaign``) do the work; callbacks only check the
role, parse the form and draw.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dash
import dash_leaflet as dl
import pandas as pd
from dash import Input, Output, State, dash_table, dcc, html

from campaign.bulk import MAX_BULK, bulk_actions, take_bulk_step
from campaign.inbox import BUCKETS, inbox
from campaign.ledger import hazard_files, ledger_frame, ledger_pack, pack_size
from campaign.lifecycle import Label, Refused, load_lifecycle
from campaign.reference import load_reference
from campaign.reminders import MAX_MESSAGE, may_remind, send_reminders
from campaign.service import Actor
from campaign.submissions import submit_self_report
from dashboard import ids
from dashboard.auth import current_user
from dashboard.context import AppContext
from dashboard.i18n import dropdown_labels, register_text, t, table_filter_options
from dashboard.pages.campaign_map import campaign_map
from dashboard.pages.campaign_text import page_lang, refusal
from dashboard.permissions import DENIED, can
from dashboard.routing import Page
from geo import store
from geo.constants import LOCAL_ZONE
from layers.export import record_export

PATH = "/hazards"
# --- component ids (prefix "hz-") ---------------------------------------------------------------------------
HZ_INBOX = "hz-inbox"
HZ_DISTRICT = "hz-filter-district"
HZ_SEVERITY = "hz-filter-severity"
HZ_SOURCE = "hz-filter-source"
HZ_STATE = "hz-filter-state"
HZ_INDUSTRY = "hz-filter-industry"
HZ_FLAGS = "hz-filter-flags"
HZ_TABLE = "hz-table"
HZ_COUNT = "hz-count"
HZ_MAP = "hz-map"
HZ_POINTS = "hz-points"
HZ_DOWNLOAD_BUTTON = "hz-download-button"
HZ_DOWNLOAD = "hz-download"
HZ_SIZE = "hz-size"
HZ_BULK_ACTION = "hz-bulk-action"
HZ_BULK_APPLY = "hz-bulk-apply"
HZ_BULK_NOTE = "hz-bulk-note"
HZ_BULK_RESULT = "hz-bulk-result"
HZ_BULK_DOWNLOAD = "hz-bulk-download"
HZ_REMIND_MESSAGE = "hz-remind-message"
#: The bulk action that sends 催办 about the selected hazards.
REMIND_SELECTED = "remind"
#: The bulk action that exports the selected hazards (the others are lifecycle actions).
EXPORT_SELECTED = "export"
SR_MONTH = "sr-month"
SR_SIGNED = "sr-signed"
SR_SUBMIT = "sr-submit"
SR_MESSAGE = "sr-message"
SR_HISTORY = "sr-history"
OVERDUE_RING = "#E60012"
#: Inbox lines shown per bucket before the rest fold away.
INBOX_SHOWN = 8

TEXT: dict[str, dict[str, str]] = {
    "hz_download_zip": {"zh": "下载隐患台账(含附件 ZIP)", "en": "Download the register with files (ZIP)"},
    "hz_size": {"zh": "当前 {n} 条隐患，附件 {files} 个，约 {mb} MB",
                "en": "{n} hazards, {files} files, about {mb} MB"},
    "hz_bulk": {"zh": "批量操作", "en": "Bulk action"},
    "hz_bulk_apply": {"zh": "对所选隐患执行", "en": "Apply to the selected hazards"},
    "hz_bulk_export": {"zh": "导出所选(台账+附件 ZIP)", "en": "Export the selected (register and files, ZIP)"},
    "hz_bulk_selected": {"zh": "已选 {n} 条，附件 {files} 个，约 {mb} MB",
                         "en": "{n} selected, {files} files, about {mb} MB"},
    "hz_bulk_none": {"zh": "请先在表格中勾选隐患", "en": "Select hazards in the table first"},
    "hz_bulk_too_many": {"zh": "一次最多 {n} 条", "en": "At most {n} at once"},
    "hz_bulk_done": {"zh": "{done} 条完成，{refused} 条被拒绝（刷新列表查看最新状态）",
                     "en": "{done} done, {refused} refused (reload the list to see the new states)"},
    "hz_bulk_ok": {"zh": "完成", "en": "done"},
    "hz_bulk_refused": {"zh": "拒绝", "en": "refused"},
    "hz_bulk_exported": {"zh": "已导出 {n} 条隐患、{files} 个附件", "en": "Exported {n} hazards and {files} files"},
    "hz_remind": {"zh": "催办", "en": "Send a reminder (催办)"},
    "hz_remind_message": {"zh": "催办内容（催办时填写）", "en": "Reminder message (for 催办)"},
    "hz_remind_done": {"zh": "{done} 条已催办，{refused} 条被拒绝", "en": "{done} reminded, {refused} refused"},
    "hz_remind_to": {"zh": "已催办 → {to}", "en": "reminded → {to}"},
    "hz_bulk_hint": {"zh": "批量核定只适用于一般隐患；延期、退回、销号等须逐条办理",
                     "en": "Bulk verification is for general hazards only; extensions, send-backs and strike-offs "
                           "are taken one by one"},
}
register_text(TEXT)



def _actor() -> Actor | None:
    user = current_user()
    return Actor.of(user) if user else None


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_ZONE).date()


def _options(table: Mapping[str, Label], lang: str) -> list[dict[str, str]]:
    return [{"label": label.get(lang), "value": code} for code, label in table.items()]


def _filtered(ctx: AppContext, district: Any, severity: Any, source: Any, states: Any, industry: Any,
              flags: Any) -> pd.DataFrame:
    """The hazards the session sees, filtered by the form's values (unknown values simply match nothing)."""
    frame = store.list_hazards(ctx.engine, adcode=district if isinstance(district, str) else None,
                               severity=severity if isinstance(severity, str) else None,
                               states=[s for s in states if isinstance(s, str)] if isinstance(states, list) else None)
    return _narrowed(frame, source, industry, flags)


def _narrowed(frame: pd.DataFrame, source: Any, industry: Any, flags: Any) -> pd.DataFrame:
    """``frame`` narrowed by source, 行业领域 and flags, with the ``overdue`` column."""
    life, ref = load_lifecycle(), load_reference()
    if isinstance(source, str) and source:
        frame = frame.loc[frame["source"] == source]
    if isinstance(industry, str) and industry in ref.industries:
        members = set(ref.industries[industry].enterprise_industries)
        frame = frame.loc[frame["enterprise_industry"].isin(members)]
    flags = flags if isinstance(flags, list) else []
    today = _today()
    overdue = [life.is_overdue(life.hazard(r), today) for r in frame.to_dict("records")]
    frame = frame.assign(overdue=overdue)
    if "overdue" in flags:
        frame = frame.loc[frame["overdue"]]
    if "supervised" in flags:
        frame = frame.loc[frame["supervision"].isin(list(life.supervision_levels))]
    return frame


def _shown(frame: pd.DataFrame, lang: str) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """The table rows, the map points and the count line of ``frame``."""
    return (_rows(frame, lang), _points(frame, lang),
            t("hz_count", lang, n=len(frame), overdue=int(frame["overdue"].sum()) if len(frame) else 0))


def _rows(frame: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    life, ref = load_lifecycle(), load_reference()
    out = []
    for r in frame.to_dict("records"):
        level = life.supervision_levels.get(str(r.get("supervision")))
        out.append({
            "id": int(r["id"]), "version": int(r["version"]),
            "code": f"[{r['code']}]({PATH}/{int(r['id'])})", "description": r["description"],
            "enterprise": r.get("enterprise_name") or "",
            "severity": life.severities[r["severity"]].get(lang) if r["severity"] in life.severities else "",
            "source": ref.sources[r["source"]].get(lang) if r.get("source") in ref.sources else "",
            "state": life.states[r["state"]].get(lang) if r.get("state") in life.states else "",
            "deadline": r["deadline"].isoformat() if isinstance(r.get("deadline"), dt.date) else "",
            "overdue": t("yes", lang) if r["overdue"] else "",
            "supervision": level[0].get(lang) if level else "",
        })
    return out


def _points(frame: pd.DataFrame, lang: str) -> dict[str, Any]:
    life = load_lifecycle()
    features = []
    for r in frame.to_dict("records"):
        if r.get("lon") is None or r.get("lat") is None:
            continue
        state = str(r.get("state"))
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                         "properties": {"colour": life.state_colour.get(state, "#888"), "radius": 7,
                                        "stroke": OVERDUE_RING if r["overdue"] else "#222",
                                        "tooltip": f"{r['code']} {r['description']} · "
                                                   f"{life.states[state].get(lang) if state in life.states else ''}"}})
    return {"type": "FeatureCollection", "features": features}


def _legend(lang: str) -> html.Div:
    life = load_lifecycle()
    items = [html.Span([html.Span(className="legend-key legend-dot", style={"background": life.state_colour[s]}),
                        life.states[s].get(lang)], className="legend-item") for s in life.states]
    items.append(html.Span([html.Span(className="legend-key legend-dot",
                                      style={"background": "#fff", "border": f"2px solid {OVERDUE_RING}"}),
                            t("hz_legend_overdue", lang)], className="legend-item"))
    return html.Div([html.Span(t("hz_legend", lang), className="legend-title"), *items],
                    className="map-legend hz-legend")


def _inbox_panel(ctx: AppContext, lang: str, districts: Mapping[str, str], hazards: pd.DataFrame) -> html.Div:
    actor = _actor()
    if actor is None:
        return html.Div(id=HZ_INBOX)
    box = inbox(ctx.engine, actor, today=_today(), districts=sorted(districts), hazards=hazards)
    cards = []
    for bucket, label in BUCKETS.items():
        items = box.bucket(bucket)
        if not items:
            continue
        links = [html.Li(dcc.Link(i.text.get(lang), href=f"{PATH}/{i.hazard_id}") if i.hazard_id else
                         i.text.get(lang)) for i in items]
        more = [html.Details([html.Summary(f"+{len(items) - INBOX_SHOWN}"), html.Ul(links[INBOX_SHOWN:])])
                ] if len(items) > INBOX_SHOWN else []
        cards.append(html.Div([html.H4(f"{label.get(lang)} {len(items)}"), html.Ul(links[:INBOX_SHOWN]), *more],
                              className=f"inbox-card inbox-{bucket}", id=f"inbox-{bucket}"))
    body: list[Any] = cards or [html.P(t("hz_inbox_empty", lang), className="hint")]
    return html.Div([html.H3(t("hz_inbox", lang)), html.Div(body, className="inbox-cards")], id=HZ_INBOX,
                    className="inbox")


def _self_report_panel(ctx: AppContext, lang: str) -> html.Div:
    today = _today()
    months = []
    first = today.replace(day=1)
    for _ in range(6):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        months.append(first.strftime("%Y-%m"))
    sent = store.list_submissions(ctx.engine, "self_report")
    history = [html.Li(f"{r['period']} · {t('sr_signed', lang)}: {r['signed_by']} · "
                       f"{pd.Timestamp(r['submitted_at']).tz_convert(LOCAL_ZONE):%Y-%m-%d %H:%M} · #{r['revision']}")
               for r in sent.to_dict("records")]
    return html.Div([
        html.H3(t("sr_title", lang)),
        html.Div([
            html.Label([t("sr_month", lang), dcc.Dropdown(id=SR_MONTH, options=months, value=months[0],
                                                           clearable=False, labels=dropdown_labels(lang))]),
            html.Label([t("sr_signed", lang), dcc.Input(id=SR_SIGNED, type="text", maxLength=40)]),
            html.Button(t("sr_submit", lang), id=SR_SUBMIT, n_clicks=0, className="button-primary"),
        ], className="form-row"),
        html.Div(id=SR_MESSAGE, role="status"),
        html.H4(t("sr_history", lang)), html.Ul(history, id=SR_HISTORY),
    ], className="panel self-report")


def _bulk_panel(role: str | None, lang: str) -> html.Div:
    """Bulk actions on the selected rows: the bulk-safe steps of the account's role, and export."""
    options = [{"label": label.get(lang), "value": code} for code, label in bulk_actions(role or "")]
    remind = may_remind(role)
    if remind:
        options.append({"label": t("hz_remind", lang), "value": REMIND_SELECTED})
    options.append({"label": t("hz_bulk_export", lang), "value": EXPORT_SELECTED})
    return html.Div([
        html.Label([t("hz_bulk", lang), dcc.Dropdown(id=HZ_BULK_ACTION, options=options, value=EXPORT_SELECTED,
                                                      clearable=False, labels=dropdown_labels(lang))]),
        html.Label([t("hz_remind_message", lang), dcc.Textarea(id=HZ_REMIND_MESSAGE, maxLength=MAX_MESSAGE, rows=2)],
                   style={} if remind else {"display": "none"}),
        html.Button(t("hz_bulk_apply", lang), id=HZ_BULK_APPLY, n_clicks=0, className="button-primary"),
        html.Span(t("hz_bulk_none", lang), id=HZ_BULK_NOTE, className="hint"),
        html.P(t("hz_bulk_hint", lang), className="hint"),
        dcc.Loading(html.Div(id=HZ_BULK_RESULT, role="status"), type="dot"), dcc.Download(id=HZ_BULK_DOWNLOAD),
    ], className="form-row hz-bulk", id="hz-bulk")


def _ids(values: Any) -> list[int]:
    """The hazard ids among what the browser sent (anything else is dropped; row-level security does the rest)."""
    if not isinstance(values, list):
        return []
    return list(dict.fromkeys(v for v in values if isinstance(v, int) and not isinstance(v, bool)))[:MAX_BULK + 1]


def _megabytes(size: int) -> str:
    return f"{size / 1048576:.1f}"


def _size_note(ctx: AppContext, ids: list[int], key: str, lang: str) -> str:
    """The number of hazards and files of ``ids`` and their size, read as the session sees them."""
    frame = pd.DataFrame({"id": ids, "code": [str(i) for i in ids]})
    manifest, _ = hazard_files(ctx.engine, frame)
    files, size = pack_size(manifest)
    return t(key, lang, n=len(ids), files=files, mb=_megabytes(size))


def _ledger_download(ctx: AppContext, frame: pd.DataFrame, lang: str, *, target: str) -> tuple[Any, int]:
    """The 台账 of ``frame`` with its files as a ZIP download (built in a temporary file); audited."""
    today = _today()
    manifest, fetch = hazard_files(ctx.engine, frame)
    title = t("hz_ledger_title", lang, date=today.isoformat())
    name = f"隐患台账_{today:%Y%m%d}.zip"
    with tempfile.TemporaryDirectory(prefix="riskmap-ledger-") as folder:
        path = ledger_pack(ledger_frame(frame, today=today, manifest=manifest), manifest, fetch,
                           Path(folder) / "ledger.zip", title=title)
        data = dcc.send_file(str(path), filename=name)
    files, size = pack_size(manifest)
    user = current_user()
    with ctx.engine.begin() as conn:
        record_export(conn, actor=str(user["username"]) if user else "dashboard", target=target,
                      adcode=user.get("adcode") if user else None,
                      details={"rows": len(frame), "format": "zip", "files": files, "bytes": size})
    return data, files


def _remind(ctx: AppContext, chosen: list[int], actor: Actor, message: Any, lang: str) -> Any:
    """Send 催办 about the chosen hazards; one line per hazard (reminded, to whom, or refused and why)."""
    try:
        outcomes = send_reminders(ctx.engine, chosen, actor, message if isinstance(message, str) else None)
    except Refused as exc:
        return refusal(exc.reasons, lang)
    roles = load_lifecycle().roles
    items = []
    for o in outcomes:
        to = roles[o.recipient].get(lang) if o.recipient in roles else o.recipient
        text = t("hz_remind_to", lang, to=to) if o.done else f"{t('hz_bulk_refused', lang)}: {o.reason(lang)}"
        items.append(html.Li([dcc.Link(o.code or str(o.hazard_id), href=f"{PATH}/{o.hazard_id}"), " ", text],
                             className="ok" if o.done else "error", id=f"hz-bulk-{o.hazard_id}"))
    refused = sum(not o.done for o in outcomes)
    return html.Div([html.P(t("hz_remind_done", lang, done=len(outcomes) - refused, refused=refused)),
                     html.Ul(items)], id="hz-bulk-outcome")


def layout(ctx: AppContext, lang: str) -> html.Div:
    """The register page in ``lang``."""
    lang = page_lang(lang)
    life, ref = load_lifecycle(), load_reference()
    actor = _actor()
    role = actor.role if actor else None
    city_wide = role not in ("district_officer", "enterprise")
    links = []
    if can("report_hazard"):
        links.append(dcc.Link(t("hz_report_new", lang), href=f"{PATH}/new", className="button", id="hz-new-link"))
    if can("inspect"):
        links.append(dcc.Link(t("hz_inspect", lang), href="/inspect", className="button", id="hz-inspect-link"))
    if role != "enterprise":
        links.append(dcc.Link(t("hz_dispatch", lang), href="/dispatch", className="button", id="hz-dispatch-link"))
    districts = store.district_codes(ctx.engine)
    # the hazards are read once per page: the inbox and the first table, map and count all come from them
    hazards = store.list_hazards(ctx.engine)
    rows, points, count = _shown(_narrowed(hazards, None, None, []), lang)
    filters = html.Div([
        html.Label([t("hz_filter_district", lang),
                    dcc.Dropdown(id=HZ_DISTRICT, labels=dropdown_labels(lang),
                                 options=[{"label": n, "value": c} for c, n in sorted(districts.items())])],
                   style={} if city_wide else {"display": "none"}),
        html.Label([t("hz_filter_severity", lang),
                    dcc.Dropdown(id=HZ_SEVERITY, options=_options(life.severities, lang),
                                 labels=dropdown_labels(lang))]),
        html.Label([t("hz_filter_source", lang), dcc.Dropdown(id=HZ_SOURCE, options=_options(ref.sources, lang),
                                                               labels=dropdown_labels(lang))]),
        html.Label([t("hz_filter_state", lang), dcc.Dropdown(id=HZ_STATE, options=_options(life.states, lang),
                                                              multi=True, labels=dropdown_labels(lang))]),
        html.Label([t("hz_filter_industry", lang),
                    dcc.Dropdown(id=HZ_INDUSTRY, options=[{"label": i.label.get(lang), "value": c}
                                                          for c, i in ref.industries.items()],
                                 labels=dropdown_labels(lang))]),
        dcc.Checklist(id=HZ_FLAGS, options=[{"label": t("hz_overdue", lang), "value": "overdue"},
                                            {"label": t("hz_supervised", lang), "value": "supervised"}],
                      value=[], inline=True, className="flags"),
    ], className="filters hz-filters")
    columns = [{"name": t(f"col_{c}", lang), "id": c, **({"presentation": "markdown"} if c == "code" else {})}
               for c in ("code", "description", "enterprise", "severity", "source", "state", "deadline", "overdue",
                         "supervision")]
    table = dash_table.DataTable(  # type: ignore[attr-defined]
        id=HZ_TABLE, columns=columns, data=rows, page_size=15, sort_action="native", filter_action="native",
        row_selectable="multi", selected_row_ids=[],
        filter_options=table_filter_options(lang), markdown_options={"link_target": "_self"},
        style_table={"overflowX": "auto"}, style_cell={"textAlign": "left", "whiteSpace": "normal", "height": "auto",
                                                       "fontFamily": '"RiskMap Sans", "Noto Sans CJK SC", sans-serif'},
        style_data_conditional=[{"if": {"filter_query": "{overdue} != ''"}, "color": OVERDUE_RING}],
    )
    the_map = campaign_map(ctx, HZ_MAP, [dl.GeoJSON(id=HZ_POINTS, data=points,
                                                     pointToLayer={"variable": "riskmap.pointStyle"})],
                           height="420px")
    panels: list[Any] = [
        html.H2(t("hz_title", lang)), _inbox_panel(ctx, lang, districts, hazards),
        html.Div(links, className="actions-row"), filters,
        html.Div(count, id=HZ_COUNT, className="hint"),
        html.Div([html.Div([the_map, _legend(lang)], className="hz-map"), html.Div(table, className="hz-table")],
                 className="hz-body"),
        _bulk_panel(role, lang),
        html.Div([html.Button(t("hz_download_zip", lang), id=HZ_DOWNLOAD_BUTTON, n_clicks=0),
                  html.Span(id=HZ_SIZE, className="hint")], className="actions-row"),
        dcc.Download(id=HZ_DOWNLOAD),
    ]
    if actor is not None and role == "enterprise":
        panels.append(_self_report_panel(ctx, lang))
    return html.Div(panels, className="hazards-page", id="hazards-page")


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Register the page's callbacks on ``app``."""

    @app.callback(Output(HZ_TABLE, "data"), Output(HZ_POINTS, "data"), Output(HZ_COUNT, "children"),
                  Input(HZ_DISTRICT, "value"), Input(HZ_SEVERITY, "value"), Input(HZ_SOURCE, "value"),
                  Input(HZ_STATE, "value"), Input(HZ_INDUSTRY, "value"), Input(HZ_FLAGS, "value"),
                  State(ids.LANG, "value"), prevent_initial_call=True)
    def show(district: Any, severity: Any, source: Any, states: Any, industry: Any, flags: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        if not can("hazards_page"):
            return [], {"type": "FeatureCollection", "features": []}, DENIED[lang]
        return _shown(_filtered(ctx, district, severity, source, states, industry, flags), lang)

    @app.callback(Output(HZ_DOWNLOAD, "data"), Input(HZ_DOWNLOAD_BUTTON, "n_clicks"),
                  State(HZ_DISTRICT, "value"), State(HZ_SEVERITY, "value"), State(HZ_SOURCE, "value"),
                  State(HZ_STATE, "value"), State(HZ_INDUSTRY, "value"), State(HZ_FLAGS, "value"),
                  State(ids.LANG, "value"), prevent_initial_call=True)
    def download(n: Any, district: Any, severity: Any, source: Any, states: Any, industry: Any, flags: Any,
                 lang: Any) -> Any:
        if not n or not can("hazards_page"):
            return dash.no_update
        frame = _filtered(ctx, district, severity, source, states, industry, flags)
        return _ledger_download(ctx, frame, page_lang(lang), target="hazard_ledger")[0]

    @app.callback(Output(HZ_SIZE, "children"), Output(HZ_BULK_NOTE, "children"), Input(HZ_TABLE, "data"),
                  Input(HZ_TABLE, "selected_row_ids"), State(ids.LANG, "value"))
    def sizes(rows: Any, selected: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        if not can("hazards_page"):
            return "", ""
        shown = _ids([r.get("id") for r in rows if isinstance(r, dict)] if isinstance(rows, list) else [])
        chosen = _ids(selected)
        return (_size_note(ctx, shown, "hz_size", lang),
                _size_note(ctx, chosen, "hz_bulk_selected", lang) if chosen else t("hz_bulk_none", lang))

    @app.callback(Output(HZ_BULK_RESULT, "children"), Output(HZ_BULK_DOWNLOAD, "data"),
                  Input(HZ_BULK_APPLY, "n_clicks"), State(HZ_TABLE, "selected_row_ids"), State(HZ_TABLE, "data"),
                  State(HZ_BULK_ACTION, "value"), State(HZ_REMIND_MESSAGE, "value"), State(ids.LANG, "value"),
                  prevent_initial_call=True)
    def bulk(n: Any, selected: Any, rows: Any, action: Any, message: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        actor = _actor()
        if not n or actor is None or not can("hazards_page"):
            return DENIED[lang], dash.no_update
        chosen = _ids(selected)
        if not chosen:
            return html.P(t("hz_bulk_none", lang), className="error"), dash.no_update
        if len(chosen) > MAX_BULK:
            return html.P(t("hz_bulk_too_many", lang, n=MAX_BULK), className="error"), dash.no_update
        if action == EXPORT_SELECTED:
            frame = store.list_hazards(ctx.engine)
            frame = frame.loc[frame["id"].isin(chosen)]
            data, files = _ledger_download(ctx, frame, lang, target="hazard_ledger_selected")
            return html.P(t("hz_bulk_exported", lang, n=len(frame), files=files), className="ok"), data
        if action == REMIND_SELECTED:
            return _remind(ctx, chosen, actor, message, lang), dash.no_update
        seen = {r.get("id"): r.get("version") for r in rows if isinstance(r, dict)} if isinstance(rows, list) else {}
        versions = {h: v for h, v in seen.items() if h in chosen and isinstance(v, int)}
        try:
            outcomes = take_bulk_step(ctx.engine, chosen, str(action), actor, expected_versions=versions)
        except Refused as exc:
            return refusal(exc.reasons, lang), dash.no_update
        life = load_lifecycle()
        items = []
        for o in outcomes:
            state = life.states[o.state].get(lang) if o.state in life.states else o.state
            text = (f"{t('hz_bulk_ok', lang)} → {state} (v{o.version})" if o.done
                    else f"{t('hz_bulk_refused', lang)}: {o.reason(lang)}")
            items.append(html.Li([dcc.Link(o.code or str(o.hazard_id), href=f"{PATH}/{o.hazard_id}"), " ", text],
                                 className="ok" if o.done else "error", id=f"hz-bulk-{o.hazard_id}"))
        refused = sum(not o.done for o in outcomes)
        return html.Div([html.P(t("hz_bulk_done", lang, done=len(outcomes) - refused, refused=refused)),
                         html.Ul(items)], id="hz-bulk-outcome"), dash.no_update

    @app.callback(Output(SR_MESSAGE, "children"), Input(SR_SUBMIT, "n_clicks"), State(SR_MONTH, "value"),
                  State(SR_SIGNED, "value"), State(ids.LANG, "value"), prevent_initial_call=True)
    def self_report(n: Any, month: Any, signed: Any, lang: Any) -> Any:
        lang = page_lang(lang)
        actor = _actor()
        if not n or actor is None or not can("self_report"):
            return DENIED[lang] if n else dash.no_update
        try:
            rev, figures = submit_self_report(ctx.engine, actor, period=str(month or ""), signed_by=str(signed or ""),
                                              today=_today())
        except Refused as exc:
            return refusal(exc.reasons, lang)
        text = ", ".join(f"{k}={v}" for k, v in figures.items())
        return html.P(t("sr_done", lang, period=month, rev=rev, figures=text), className="ok")


PAGES = (Page(PATH, layout, nav_key="nav_hazards", order=40, action="hazards_page"),)
#: The monthly self-report is the enterprise's alone (dashboard/pages/__init__.py: stricter than the page).
CALLBACK_ACTIONS = {SR_MESSAGE: "self_report"}
