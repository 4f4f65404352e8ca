"""The district workspace's export card: the 成果包 (four lists, sources, findings, outline) as a zip."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from dashboard import ids
from dashboard.auth import actor_name
from dashboard.context import AppContext
from dashboard.i18n import t
from dashboard.pages.district.page_ids import (
    DISTRICT_ADCODE,
    DISTRICT_EXPORT_BTN,
    DISTRICT_EXPORT_CRS,
    DISTRICT_EXPORT_DOWNLOAD,
    DISTRICT_EXPORT_ENCODING,
    DISTRICT_EXPORT_FORMATS,
    DISTRICT_EXPORT_STATUS,
)
from dashboard.permissions import DENIED, can
from geo.errors import AccessDenied
from layers.export import EXPORT_FORMATS
from layers.pack import export_district


def _export_panel(lang: str) -> html.Div:
    return html.Div([
        html.H3(t("export", lang)),
        html.Div(t("formats", lang), className="district-label"),
        dcc.Checklist(id=DISTRICT_EXPORT_FORMATS, value=["gpkg", "xlsx"], inline=True, className="district-checks",
                      options=[{"label": writer.label(lang), "value": f} for f, writer in EXPORT_FORMATS.items()]),
        html.Div(t("export_crs", lang), className="district-label"),
        dcc.RadioItems(id=DISTRICT_EXPORT_CRS, value="cgcs2000", className="district-radios",
                       options=[{"label": t("crs_geo", lang), "value": "cgcs2000"},
                                {"label": t("crs_gk", lang), "value": "gk"}]),
        html.Div(t("encoding", lang), className="district-label"),
        dcc.RadioItems(id=DISTRICT_EXPORT_ENCODING, value="UTF-8", inline=True, className="district-radios",
                       options=[{"label": "UTF-8", "value": "UTF-8"}, {"label": t("enc_gbk", lang), "value": "GBK"}]),
        html.Button(t("export_btn", lang), id=DISTRICT_EXPORT_BTN, n_clicks=0, className="btn district-export-btn"),
        dcc.Loading(html.Div(id=DISTRICT_EXPORT_STATUS, className="district-export-status"), type="dot"),
        html.P(t("export_note", lang), className="hint"),
        dcc.Download(id=DISTRICT_EXPORT_DOWNLOAD),
    ], className="district-card district-export")


def pack_zip(ctx: AppContext, adcode: str, formats: list[str], crs: str, encoding: str) -> tuple[bytes, list[str]]:
    """Build the district's export pack and return it zipped, with the names of the files inside."""
    with TemporaryDirectory(prefix="riskmap-pack-") as folder:
        root = Path(folder)
        written = export_district(ctx.engine, adcode, root, formats=tuple(formats), crs=crs, shp_encoding=encoding,
                                  actor=actor_name())
        buffer = io.BytesIO()
        names: list[str] = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for paths in written.values():
                for path in paths:
                    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
                    for f in files:
                        arc = f.relative_to(root).as_posix()
                        zf.write(f, arc)
                        names.append(arc)
    return buffer.getvalue(), names


def register(app: dash.Dash, ctx: AppContext) -> None:
    """Callback of the export card: build the pack and send it."""

    @app.callback(Output(DISTRICT_EXPORT_DOWNLOAD, "data"), Output(DISTRICT_EXPORT_STATUS, "children"),
                  Input(DISTRICT_EXPORT_BTN, "n_clicks"), State(DISTRICT_ADCODE, "data"),
                  State(DISTRICT_EXPORT_FORMATS, "value"), State(DISTRICT_EXPORT_CRS, "value"),
                  State(DISTRICT_EXPORT_ENCODING, "value"), State(ids.LANG, "value"), prevent_initial_call=True)
    def export(n: int | None, adcode: str | None, formats: list[str] | None, crs: str | None,
               encoding: str | None, lang: str) -> tuple[Any, Any]:
        if not n or not adcode:
            return dash.no_update, dash.no_update
        chosen = [f for f in EXPORT_FORMATS if f in (formats or [])]
        if not chosen:
            return dash.no_update, html.Span(t("no_format", lang), className="district-error")
        if not can("export"):
            return dash.no_update, html.Span(DENIED.get(lang, DENIED["zh"]), className="district-error")
        try:
            data, names = pack_zip(ctx, adcode, chosen, crs or "cgcs2000", encoding or "UTF-8")
        except (ValueError, AccessDenied) as exc:
            return dash.no_update, html.Span(t("export_failed", lang, msg=str(exc)), className="district-error")
        name = f"riskmap_{adcode}_{dt.date.today():%Y%m%d}.zip"
        status = t("export_done", lang, name=name, files=", ".join(names))
        return dcc.send_bytes(data, name), html.Span(status, id="district-export-done")
