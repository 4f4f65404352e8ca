"""Pure figure builders (data in, ``go.Figure`` out); no Dash, no database."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from layers.palette import FOUR_COLOUR, RiskLevel


def risk_map(districts: dict[str, Any], enterprises: pd.DataFrame, lang: str = "zh") -> go.Figure:
    """District outlines (no basemap tiles) with enterprises coloured by 四色 level."""
    fig = go.Figure()
    fig.add_trace(go.Choroplethmap(
        geojson=districts, locations=[f["id"] for f in districts["features"]],
        z=[1] * len(districts["features"]), featureidkey="id",
        colorscale=[[0, "#F4F6F8"], [1, "#F4F6F8"]], showscale=False,
        marker={"line": {"color": "#5B6770", "width": 1.2}},
        text=[f["properties"]["name"] for f in districts["features"]],
        hovertemplate="%{text} (%{location})<extra></extra>", name="districts",
    ))
    for level in RiskLevel:
        sub = enterprises[enterprises["risk_level"] == level.value] if len(enterprises) else enterprises
        swatch = FOUR_COLOUR[level]
        fig.add_trace(go.Scattermap(
            lon=sub.get("lon", []), lat=sub.get("lat", []), mode="markers",
            marker={"size": 10, "color": swatch.hex},
            text=sub.get("name", []), hovertemplate="%{text}<extra></extra>",
            name=swatch.zh if lang == "zh" else swatch.en,
        ))
    center = {"lon": 102.83, "lat": 25.3}
    fig.update_layout(
        map={"style": "white-bg", "center": center, "zoom": 7.2},
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=620,
        legend={"x": 0.01, "y": 0.99, "bgcolor": "rgba(255,255,255,0.85)"},
        uirevision="map",
    )
    return fig
