"""The maps of a report as PNG figures: the 四色 map of risk sources and the 五色 map of districts.

Both show the data as they were at the period end. The 四色 map is the print map of
:mod:`layers.printmap`; the 五色 map colours each district by its class in the period's figures, with
the palette of :mod:`layers.palette` and the district names written on it.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch
from sqlalchemy import Engine

from geo.checks.bundle import Bundle
from layers.measures import counted_sources
from layers.palette import FIVE_COLOUR, NO_DATA, DistrictClass
from layers.printmap import cjk_font, print_map
from layers.reporting.document import Figure
from layers.snapshots import CITY, layers_as_of, period_moment

__all__ = ["five_colour_map", "four_colour_map"]

#: Resolution of the 五色 map (the 四色 map uses the print map's).
DPI = 150


def four_colour_map(engine: Engine, scope: str, period_end: dt.date, scope_name: str) -> Figure:
    """Draw the 四色 map of the scope's risk sources as they were at ``period_end``.

    Parameters
    ----------
    engine : Engine
        The store.
    scope : str
        A district code or :data:`layers.snapshots.CITY`.
    period_end : date
        The day the data refer to.
    scope_name : str
        Name for the title.

    Returns
    -------
    Figure
    """
    bundle, identified, _ = layers_as_of(engine, period_moment(period_end))
    sources = counted_sources(bundle, identified_hcas=identified)
    districts = bundle["districts"]
    if scope != CITY:
        sources = sources[sources["adcode"] == scope]
        districts = districts[districts["adcode"] == scope]
    title = f"{scope_name}安全风险四色分布图"
    with tempfile.TemporaryDirectory() as tmp:
        path = print_map(Path(tmp) / "map.png", district_outline=districts.dissolve(), sources=sources, title=title,
                         data_date=period_end.isoformat(), source_note="RiskMap 风险源台账(历史版本)")
        return Figure(path.read_bytes(), f"{title}(数据截至 {period_end})")


def five_colour_map(engine: Engine, figures: pd.DataFrame, period_end: dt.date) -> Figure:
    """Draw the districts coloured by their 五色 class in ``figures``.

    Parameters
    ----------
    engine : Engine
        The store (district outlines as they were at ``period_end``).
    figures : DataFrame
        The period's figures (``class_code`` per district).
    period_end : date
        The day the figures refer to.

    Returns
    -------
    Figure
    """
    bundle: Bundle = layers_as_of(engine, period_moment(period_end))[0]
    districts = bundle["districts"].to_crs(bundle.metric_epsg)
    classes = figures["class_code"].reindex(districts["adcode"].astype(str)).to_numpy()
    colours = [FIVE_COLOUR[DistrictClass(c)].hex if isinstance(c, str) else NO_DATA.hex for c in classes]
    buffer = io.BytesIO()
    with matplotlib.rc_context({"font.family": [cjk_font()], "axes.unicode_minus": False}):
        fig = MplFigure(figsize=(8, 8))
        ax = fig.add_subplot()
        districts.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.8)
        for (_, row), point in zip(districts.iterrows(), districts.representative_point(), strict=True):
            ax.annotate(str(row["name"]), (point.x, point.y), ha="center", va="center", fontsize=8)
        ax.set_axis_off()
        ax.set_title(f"各县(市、区)安全风险五色评级图(截至 {period_end})")
        ax.legend(handles=[Patch(color=s.hex, label=s.zh) for s in FIVE_COLOUR.values()], loc="upper left",
                  frameon=False, fontsize=8)
        fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return Figure(buffer.getvalue(), f"各县(市、区)安全风险五色评级图(数据截至 {period_end})")
