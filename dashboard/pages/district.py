"""Stub of the district workspace; replaced by the real page."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard.context import AppContext
from dashboard.pages import placeholder


def layout(ctx: AppContext, lang: str, **params: Any) -> html.Div:
    return placeholder.layout(ctx, lang, "nav_district")


def register(app: dash.Dash, ctx: AppContext) -> None:
    return None
