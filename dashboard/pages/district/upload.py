"""The district workspace's import card: choose a file, preview what it would change, confirm, see the report."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import dash
from dash import Input, Output, State, dash_table, dcc, html
from werkzeug.exceptions import BadRequest

from dashboard import ids
from dashboard.auth import actor_name
from dashboard.context import AppContext
from dashboard.i18n import t
from dashboard.pages.district.page_ids import (
    DISTRICT_IMPORT_CONFIRM,
    DISTRICT_IMPORT_CRS,
    DISTRICT_IMPORT_EPSG,
    DISTRICT_IMPORT_LAYER,
    DISTRICT_IMPORT_PREVIEWED,
    DISTRICT_IMPORT_REPORT,
    DISTRICT_IMPORT_SKIP,
    DISTRICT_ISSUES,
    DISTRICT_PREVIEW,
    DISTRICT_REJECTS,
    DISTRICT_REJECTS_BTN,
    DISTRICT_REJECTS_DOWNLOAD,
    DISTRICT_TEMPLATE_BTN,
    DISTRICT_TEMPLATE_DOWNLOAD,
    DISTRICT_UPLOAD,
    DISTRICT_UPLOAD_BOX,
    DISTRICT_UPLOAD_PAYLOAD,
    DISTRICT_VERSION,
)
from dashboard.pages.district.tables import (
    CELL,
    FAILED,
    HEADER,
    HIDDEN,
    _filter_options,
)
from dashboard.pages.district.text import (
    _layer_name,
)
from dashboard.permissions import DENIED, can
from geo.crs import parse_source_crs
from geo.errors import ImportValidationError, ReadError
from geo.importer import ImportPreview, ImportReport, import_file, preview_file
from geo.layer_detect import wrong_layer_message
from geo.layer_specs import LAYERS, layer_spec
from geo.readers import UPLOAD_SUFFIXES
from geo.validate import FILE_LEVEL_ROWS
from layers.palette import FOUR_COLOUR, RiskLevel
from layers.templates import write_template

#: Largest upload accepted (bytes); checked in the browser before sending and again on the server.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: File types the import accepts from the browser (the readers' list; a Shapefile comes zipped with its sidecars).
UPLOAD_TYPES = UPLOAD_SUFFIXES
#: Layers a district officer imports (the district outlines are the city's).
IMPORT_LAYERS = tuple(name for name in LAYERS if name != "districts")
CRS_CHOICES = ("file", "wgs84", "cgcs2000", "gcj02", "bd09", "epsg")


def _upload(lang: str) -> dcc.Upload:
    return dcc.Upload(
        html.Div([html.Div(t("drop", lang), className="district-drop-main"),
                  html.Div(t("types", lang), className="district-drop-sub")]),
        id=DISTRICT_UPLOAD, multiple=False, accept=",".join(UPLOAD_TYPES), className="district-upload",
        className_active="district-upload district-upload--active")


def _import_panel(lang: str) -> html.Div:
    crs_options = [{"label": t(f"crs_{c}", lang), "value": c} for c in CRS_CHOICES]
    return html.Div([
        html.H3(t("import", lang)),
        html.Div([
            html.Label([t("layer", lang), dcc.Dropdown(
                id=DISTRICT_IMPORT_LAYER, value="risk_points", clearable=False,
                options=[{"label": f"{_layer_name(n, lang)}（{n}）" if lang == "zh" else f"{_layer_name(n, lang)}",
                          "value": n} for n in IMPORT_LAYERS])], className="district-field"),
            html.Label([t("crs", lang), dcc.Dropdown(id=DISTRICT_IMPORT_CRS, value="file", clearable=False,
                                                      options=crs_options)], className="district-field"),
            html.Label(["EPSG", dcc.Input(id=DISTRICT_IMPORT_EPSG, type="text", disabled=True, debounce=True,
                                          placeholder=t("epsg_placeholder", lang), className="district-epsg")],
                       className="district-field district-field--narrow"),
        ], className="district-form-row"),
        html.Div([
            dcc.Checklist(id=DISTRICT_IMPORT_SKIP, options=[{"label": t("skip", lang), "value": "skip"}], value=[],
                          className="district-skip"),
            html.Button(t("template", lang), id=DISTRICT_TEMPLATE_BTN, n_clicks=0, className="btn btn-light"),
        ], className="district-form-row"),
        html.Div(_upload(lang), id=DISTRICT_UPLOAD_BOX),
        # shown (and enabled) only by a preview whose rows can be imported
        html.Button(t("confirm", lang), id=DISTRICT_IMPORT_CONFIRM, n_clicks=0, disabled=True, style=HIDDEN,
                    className="btn district-confirm"),
        dcc.Loading(html.Div(id=DISTRICT_IMPORT_REPORT, className="district-report"), type="dot"),
        dcc.Store(id=DISTRICT_UPLOAD_PAYLOAD),
        dcc.Store(id=DISTRICT_IMPORT_PREVIEWED),
        dcc.Store(id=DISTRICT_REJECTS),
        dcc.Download(id=DISTRICT_REJECTS_DOWNLOAD),
        dcc.Download(id=DISTRICT_TEMPLATE_DOWNLOAD),
    ], className="district-card district-import")


def _side(label: str, lang: str) -> str:
    """The ``lang`` half of a bilingual label such as ``"第3行 / row 3"``."""
    zh, sep, en = str(label).partition(" / ")
    return (en if lang == "en" else zh) if sep else str(label)


def _issue_table(issues: list[Any], lang: str) -> Any:
    rows = [{"file": i.file, "row": _side(i.row, lang), "field": i.field,
             "severity": t(f"issue_{i.severity if i.severity in ('error', 'warning') else 'error'}", lang),
             "message": i.en if lang == "en" else i.zh} for i in issues]
    cols = [("file", "col_file"), ("row", "col_row"), ("field", "col_field"), ("severity", "issue_severity"),
            ("message", "col_message")]
    err = FOUR_COLOUR[RiskLevel.MAJOR].hex
    return dash_table.DataTable(  # type: ignore[attr-defined]
        id=DISTRICT_ISSUES, data=rows, columns=[{"name": t(k, lang), "id": c} for c, k in cols],
        page_size=15, sort_action="native", filter_action="native", filter_options=_filter_options(lang),
        style_table={"overflowX": "auto"},
        style_cell={**CELL, "maxWidth": "520px"}, style_header=HEADER,
        style_data_conditional=[{"if": {"filter_query": f'{{severity}} = "{t("issue_error", lang)}"',
                                        "column_id": "severity"}, "color": err, "fontWeight": "bold"}],
    )


def _short(message: str, folder: str) -> str:
    """A message without the temporary folder the upload was saved in."""
    return message.replace(folder.rstrip("/") + "/", "").replace(folder, "")


def _failure(message: str, issues: list[Any], lang: str) -> list[Any]:
    out: list[Any] = [html.Div([html.Strong(t("failed", lang)), html.Span(" · "), html.Span(t("nothing", lang))],
                               className="district-report-head district-report-head--failed", style=FAILED),
                      html.P(message, className="district-report-msg")]
    if issues:
        out += [html.Div(t("n_issues", lang, n=len(issues)), className="district-count"), _issue_table(issues, lang)]
    return out


def _success(report: ImportReport, lang: str, has_rejects: bool) -> list[Any]:
    out: list[Any] = [html.Div([html.Strong(t("ok", lang)), html.Span(" · "),
                                html.Span(replace(report, reject_file=None).summary(lang))],
                               className="district-report-head district-report-head--ok")]
    if report.notes:
        out.append(html.Ul([html.Li(n) for n in report.notes], className="district-notes"))
    if report.issues:
        out += [html.Div(f"{t('issues_ok', lang)} · {t('n_issues', lang, n=len(report.issues))}",
                         className="district-count"), _issue_table(report.issues, lang)]
    if has_rejects:
        out += [html.Button(t("rejects", lang), id=DISTRICT_REJECTS_BTN, n_clicks=0, className="btn"),
                html.Span(t("rejects_note", lang), className="hint district-rejects-note")]
    out.append(html.P(t("refresh_note", lang), className="hint"))
    return out


def _decode(payload: dict[str, Any]) -> bytes:
    contents = str(payload.get("contents") or "")
    _, _, data = contents.partition(",")
    return base64.b64decode(data, validate=False)


def _crs_value(choice: str | None, epsg: str | None) -> str | None:
    if choice in (None, "", "file"):
        return None
    if choice == "epsg":
        code = (epsg or "").strip()
        return code or None
    return choice


def _checked_upload(payload: dict[str, Any], crs_choice: str | None, epsg: str | None,
                    lang: str) -> tuple[list[Any] | None, str, str | None, bytes]:
    """Check an upload (permission first, before its contents are decoded), then decode it.

    Returns the failure to show (or None), the file name, the source CRS and the file's bytes.
    """
    name = Path(str(payload.get("filename") or "upload")).name
    if not can("import"):
        return _failure(DENIED.get(lang, DENIED["zh"]), [], lang), name, None, b""
    size = float(payload.get("size") or 0)
    if payload.get("too_large") or size > MAX_UPLOAD_BYTES:
        return [html.Div(t("too_large", lang, name=name, size=size / 1024 / 1024),
                         className="district-report-head district-report-head--failed", style=FAILED)], name, None, b""
    ext = Path(name).suffix.lower()
    if ext not in UPLOAD_TYPES:
        return _failure(t("bad_type", lang, ext=ext or name, types=t("types", lang)), [], lang), name, None, b""
    try:
        crs = _crs_value(crs_choice, epsg)
        parse_source_crs(crs)
    except ValueError as exc:
        return _failure(t("bad_crs", lang, msg=str(exc)), [], lang), name, None, b""
    try:
        raw = _decode(payload)
    except (binascii.Error, ValueError) as exc:
        return _failure(str(exc), [], lang), name, None, b""
    if len(raw) > MAX_UPLOAD_BYTES:
        return [html.Div(t("too_large", lang, name=name, size=len(raw) / 1024 / 1024),
                         className="district-report-head district-report-head--failed", style=FAILED)], name, None, b""
    return None, name, crs, raw


def _preview(preview: ImportPreview, lang: str, skip: bool) -> list[Any]:
    """The preview of an import: counts, the detected layer and the issues (the page shows 确认导入 beside it)."""
    head = html.Div([html.Strong(t("preview", lang)), html.Span(" · "), html.Span(t("preview_note", lang))],
                    className="district-report-head district-report-head--preview")
    counts = t("preview_counts", lang, file=preview.file, layer=_layer_name(preview.layer, lang),
                rows=preview.rows_total, valid=preview.rows_valid, bad=preview.rows_rejected,
                ins=preview.inserts, upd=preview.updates, crs=preview.source_crs or "—")
    out: list[Any] = [head, html.P(counts, className="district-report-msg", id=DISTRICT_PREVIEW)]
    likely = preview.likely_layer
    if likely is not None and likely != preview.layer:
        zh, en = wrong_layer_message(preview.layer, likely)
        out.append(html.P(en if lang == "en" else zh, className="district-error district-layer-hint", style=FAILED))
    else:
        out.append(html.P(t("detected", lang, layer=_layer_name(likely, lang)) if likely else t("undetected", lang),
                          className="hint district-layer-hint"))
    if preview.notes:
        out.append(html.Ul([html.Li(n) for n in preview.notes], className="district-notes"))
    ok = preview.importable(skip)
    if not ok:
        whole = any(i.row in FILE_LEVEL_ROWS for i in preview.errors) or not preview.rows_valid
        out.append(html.P(t("blocked_file" if whole else "blocked", lang), className="district-error"))
    if preview.issues:
        out += [html.Div(t("n_issues", lang, n=len(preview.issues)), className="district-count"),
                _issue_table(preview.issues, lang)]
    return out


def run_preview(ctx: AppContext, payload: dict[str, Any], layer: str, crs_choice: str | None, epsg: str | None,
                skip: bool, lang: str) -> tuple[list[Any], bool]:
    """Save the uploaded file, check it without writing and describe what an import would do.

    Returns the preview and whether confirming it would import rows.
    """
    failure, name, crs, raw = _checked_upload(payload, crs_choice, epsg, lang)
    if failure is not None:
        return failure, False
    with TemporaryDirectory(prefix="riskmap-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        try:
            preview = preview_file(ctx.engine, layer, path, crs=crs)
        except (ReadError, ValueError) as exc:
            return _failure(_side(_short(str(exc), folder), lang), [], lang), False
    return _preview(preview, lang, skip), preview.importable(skip)


def run_import(ctx: AppContext, payload: dict[str, Any], layer: str, crs_choice: str | None, epsg: str | None,
               skip: bool, lang: str) -> tuple[list[Any], dict[str, Any] | None, bool]:
    """Save the uploaded file, import it and describe the result (report, reject file, success)."""
    failure, name, crs, raw = _checked_upload(payload, crs_choice, epsg, lang)
    if failure is not None:
        return failure, None, False
    with TemporaryDirectory(prefix="riskmap-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        try:
            report = import_file(ctx.engine, layer, path, crs=crs, skip_invalid=skip, actor=actor_name())
        except ImportValidationError as exc:
            return _failure(_side(_short(str(exc), folder), lang), list(exc.issues), lang), None, False
        except (ReadError, ValueError) as exc:
            return _failure(_side(_short(str(exc), folder), lang), [], lang), None, False
        rejects = None
        if report.reject_file is not None and Path(report.reject_file).exists():
            rejects = {"filename": Path(report.reject_file).name, "base64": True,
                       "content": base64.b64encode(Path(report.reject_file).read_bytes()).decode("ascii")}
    return _success(report, lang, rejects is not None), rejects, True


_UPLOAD_CHECK = """
function(contents, filename) {
    if (!contents) { return window.dash_clientside.no_update; }
    var comma = contents.indexOf(",");
    var b64 = comma >= 0 ? contents.length - comma - 1 : contents.length;
    var size = Math.floor(b64 * 3 / 4);
    var out = {filename: filename, size: size, at: Date.now()};
    if (size > MAX_BYTES) { out.too_large = true; } else { out.contents = contents; }
    return out;
}
""".replace("MAX_BYTES", str(MAX_UPLOAD_BYTES))


def _known_layer(layer: str) -> str:
    """Return ``layer`` when it is an importable layer; otherwise answer HTTP 400 (a forged request)."""
    if layer not in IMPORT_LAYERS:
        raise BadRequest(f"{t('unknown_layer', 'zh')} / {t('unknown_layer', 'en')}: {str(layer)[:60]!r}")
    return layer


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Callbacks of the import card: EPSG box, template, the size check in the browser, preview and import."""

    @app.callback(Output(DISTRICT_IMPORT_EPSG, "disabled"), Input(DISTRICT_IMPORT_CRS, "value"))
    def epsg_box(choice: str | None) -> bool:
        return choice != "epsg"

    @app.callback(Output(DISTRICT_TEMPLATE_DOWNLOAD, "data"), Input(DISTRICT_TEMPLATE_BTN, "n_clicks"),
                  State(DISTRICT_IMPORT_LAYER, "value"), prevent_initial_call=True)
    def template(n: int | None, layer: str | None) -> Any:
        if not n or not layer:
            return dash.no_update
        spec = layer_spec(_known_layer(layer))
        with TemporaryDirectory(prefix="riskmap-template-") as folder:
            path = write_template(spec, Path(folder) / re.sub(r"[/\\]", "_", f"{spec.name}_{spec.zh}.xlsx"))
            return dcc.send_file(str(path))

    app.clientside_callback(_UPLOAD_CHECK, Output(DISTRICT_UPLOAD_PAYLOAD, "data"),
                            Input(DISTRICT_UPLOAD, "contents"), State(DISTRICT_UPLOAD, "filename"),
                            prevent_initial_call=True)

    @app.callback(Output(DISTRICT_IMPORT_REPORT, "children"), Output(DISTRICT_REJECTS, "data"),
                  Output(DISTRICT_VERSION, "data"), Output(DISTRICT_UPLOAD_BOX, "children"),
                  Output(DISTRICT_IMPORT_PREVIEWED, "data"), Output(DISTRICT_IMPORT_CONFIRM, "disabled"),
                  Output(DISTRICT_IMPORT_CONFIRM, "style"),
                  Input(DISTRICT_UPLOAD_PAYLOAD, "data"), Input(DISTRICT_IMPORT_LAYER, "value"),
                  Input(DISTRICT_IMPORT_CRS, "value"), Input(DISTRICT_IMPORT_EPSG, "value"),
                  Input(DISTRICT_IMPORT_SKIP, "value"), Input(DISTRICT_IMPORT_CONFIRM, "n_clicks"),
                  State(DISTRICT_IMPORT_PREVIEWED, "data"), State(ids.LANG, "value"), prevent_initial_call=True)
    def do_import(payload: dict[str, Any] | None, layer: str | None, crs: str | None, epsg: str | None,
                  skip: list[str] | None, confirm: int | None, previewed: dict[str, Any] | None,
                  lang: str) -> tuple[Any, ...]:
        """Choosing a file (or changing layer, CRS or skip) previews it; only the confirm button imports."""
        none = dash.no_update
        if not payload or not layer:
            return none, none, none, none, none, none, none
        if not can("import"):  # before the layer, the file's name or its contents are looked at
            return _failure(DENIED.get(lang, DENIED["zh"]), [], lang), None, none, _upload(lang), None, True, HIDDEN
        _known_layer(layer)
        skip_invalid = "skip" in (skip or [])
        shown = {"at": payload.get("at"), "file": payload.get("filename"), "layer": layer, "crs": crs,
                 "epsg": epsg, "skip": skip_invalid}
        if dash.ctx.triggered_id == DISTRICT_IMPORT_CONFIRM:
            if not confirm:
                return none, none, none, none, none, none, none
            if previewed == shown:  # import exactly what the preview showed
                report, rejects, ok = run_import(ctx, payload, layer, crs, epsg, skip_invalid, lang)
                # a fresh Upload, so that the same file can be chosen again (e.g. after picking another layer)
                return report, rejects, (payload.get("at") if ok else none), _upload(lang), None, True, HIDDEN
        preview, importable = run_preview(ctx, payload, layer, crs, epsg, skip_invalid, lang)
        return preview, None, none, _upload(lang), shown, not importable, ({} if importable else HIDDEN)

    @app.callback(Output(DISTRICT_REJECTS_DOWNLOAD, "data"), Input(DISTRICT_REJECTS_BTN, "n_clicks"),
                  State(DISTRICT_REJECTS, "data"), prevent_initial_call=True)
    def rejects(n: int | None, data: dict[str, Any] | None) -> Any:
        return data if n and data else dash.no_update
