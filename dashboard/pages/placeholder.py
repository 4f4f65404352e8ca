"""A page that is not built yet says so plainly."""

from __future__ import annotations

from dash import html

from dashboard.context import AppContext
from dashboard.i18n import t


def layout(ctx: AppContext, lang: str, title_key: str) -> html.Div:
    """A heading and a short note."""
    return html.Div([html.H2(t(title_key, lang)), html.P(t("coming", lang))], className="placeholder")
