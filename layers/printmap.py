"""Print map of a district's risk sources (A4 landscape PDF or PNG) drawn with matplotlib.

The map is drawn in the district's CGCS2000 3-degree Gauss-Krüger CM zone (metres, so
the scale bar is true; never Web Mercator) with the national 四色 colours from
:mod:`layers.palette`, a legend that always lists all four levels (with counts), a scale
bar in kilometres, a north arrow, and the data date and source in the footer.

Chinese text needs a CJK font: Noto Sans CJK SC (Debian/Ubuntu ``fonts-noto-cjk``) or
another Simplified-Chinese font matplotlib can find. Without one :func:`cjk_font` raises
instead of printing boxes. PDF text is embedded as Type 3 subsets (``pdf.fonttype`` 3),
which keeps the Chinese glyphs and stays searchable.

Only the object-oriented matplotlib API is used (no ``pyplot``), so no global figure
state or GUI backend is involved.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager, patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.path import Path as MplPath

from geo.constants import STORAGE_CRS, STORAGE_SRID
from geo.crs import local_metric_epsg
from layers.palette import FOUR_COLOUR, FOUR_COLOUR_SOURCE, NO_DATA, RiskLevel, level_colour, level_label
from layers.text_width import clip_text, display_width

#: A4 landscape in inches.
A4_LANDSCAPE = (11.69, 8.27)
#: Resolution of PNG output.
PNG_DPI = 150
#: ``Axes.get_label()`` of the map frame and of the side panel holding the legend.
MAP_AXES_LABEL = "map"
LEGEND_AXES_LABEL = "legend"

#: Simplified-Chinese font families tried in order, then any family with "CJK" in its name.
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC")
#: Font files registered with matplotlib when no CJK family is known to it yet.
CJK_FILES = (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
             Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
             Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
             Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"))

_TEXT = {
    "zh": {"legend": "图例", "district": "区县界", "context": "相邻区县", "count": "{label}（{n} 处）",
           "date": "数据日期：", "source": "数据来源：", "colours": "四色标准：",
           "crs": "坐标系：CGCS2000 3度带高斯-克吕格投影\n中央经线 {cm}°E（EPSG:{epsg}）", "title": "安全风险分布图",
           "credit": "RiskMap 安全风险一张图"},
    "en": {"legend": "Legend", "district": "District boundary", "context": "Neighbouring districts",
           "count": "{label} ({n})", "date": "Data date: ", "source": "Source: ", "colours": "Colours: ",
           "crs": "CRS: CGCS2000 3-degree Gauss-Krüger\nCM {cm}°E (EPSG:{epsg})", "title": "Risk sources",
           "credit": "RiskMap"},
}
_INK = "#262626"
#: Footer length in display cells (about three printed lines); longer source notes are cut.
_FOOTER_WIDTH = 330
_DISTRICT_FILL = "#FFFDF4"
_CONTEXT_FILL, _CONTEXT_EDGE = "#EDEDED", "#B5B5B5"
#: Thin dark outline under line symbols so yellow stays visible on the pale district fill.
_CASING = (patheffects.Stroke(linewidth=4.8, foreground=_INK), patheffects.Normal())


@functools.lru_cache(maxsize=1)
def cjk_font() -> str:
    """Family name of an installed Simplified-Chinese font known to matplotlib.

    Returns
    -------
    str
        E.g. ``"Noto Sans CJK SC"``.

    Raises
    ------
    RuntimeError
        When no CJK font is installed (printing would show boxes instead of Chinese).
    """
    for attempt in range(2):
        names = {f.name for f in font_manager.fontManager.ttflist}
        for family in CJK_FAMILIES:
            if family in names:
                return family
        cjk = sorted(n for n in names if "CJK" in n and "Mono" not in n)
        if cjk:
            return next((n for n in cjk if n.endswith(" SC")), cjk[0])
        if attempt == 0:
            for file in CJK_FILES:
                if file.exists():
                    font_manager.fontManager.addfont(str(file))
    raise RuntimeError("未找到中文字体 / no CJK font found for the print map: install fonts-noto-cjk "
                       f"(Noto Sans CJK SC) or one of {', '.join(CJK_FAMILIES)}")


def build_figure(*, district_outline: gpd.GeoDataFrame, sources: gpd.GeoDataFrame, title: str, data_date: str,
                 source_note: str, lang: str = "zh", context: gpd.GeoDataFrame | None = None) -> Figure:
    """Draw the print map and return the figure (used by :func:`print_map`; handy for tests).

    The map axes has the label :data:`MAP_AXES_LABEL`; the side panel with the legend has
    :data:`LEGEND_AXES_LABEL` (``panel.get_legend()`` is the legend).

    Parameters
    ----------
    district_outline : GeoDataFrame
        The district polygon(s), any CRS (normally EPSG:4490).
    sources : GeoDataFrame
        Risk sources: ``risk_level`` (major, significant, general, low; empty for unrated)
        and point, line or polygon geometry. A ``colour`` column is ignored: the palette
        decides.
    title : str
        Map title (a default when empty).
    data_date : str
        Date the data refer to.
    source_note : str
        Where the data come from.
    lang : {"zh", "en"}
        Language of legend and footer labels.
    context : GeoDataFrame, optional
        Neighbouring district outlines, drawn in light grey.

    Returns
    -------
    matplotlib.figure.Figure
        A4 landscape.

    Raises
    ------
    ValueError
        For an empty outline, an unknown ``lang`` or unknown risk levels.
    RuntimeError
        When no CJK font is installed.
    """
    if lang not in _TEXT:
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    if len(district_outline) == 0 or district_outline.geometry.isna().all():
        raise ValueError("区县边界为空 / district_outline is empty: nothing to map")
    if "risk_level" not in sources.columns:
        raise ValueError("sources need a 'risk_level' column (major, significant, general, low)")
    text = _TEXT[lang]
    font = cjk_font()
    outline_ll = _require_crs(district_outline, "district_outline").to_crs(STORAGE_SRID)
    epsg = local_metric_epsg(outline_ll.geometry.dropna().to_numpy())
    outline = outline_ll.to_crs(epsg)
    src = _require_crs(sources, "sources").to_crs(epsg) if len(sources) else sources
    levels = _levels(src)
    neighbours = _require_crs(context, "context").to_crs(epsg) if context is not None and len(context) else None

    with matplotlib.rc_context(_rc(font)):
        fig = Figure(figsize=A4_LANDSCAPE)
        ax = fig.add_axes((0.035, 0.115, 0.70, 0.78), label=MAP_AXES_LABEL)
        panel = fig.add_axes((0.76, 0.115, 0.205, 0.78), label=LEGEND_AXES_LABEL)
        panel.set_axis_off()
        xlim, ylim = _extent(outline, ax, fig)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor("white")
        for spine in ax.spines.values():
            spine.set_linewidth(0.9)
            spine.set_color(_INK)

        if neighbours is not None:
            _draw_polygons(ax, neighbours.geometry, facecolor=_CONTEXT_FILL, edgecolor=_CONTEXT_EDGE,
                           linewidth=0.6, zorder=1)
        _draw_polygons(ax, outline.geometry, facecolor=_DISTRICT_FILL, edgecolor=_INK, linewidth=1.6, zorder=2)
        counts = _draw_sources(ax, src, levels)
        _scale_bar(ax, xlim, ylim)
        _north_arrow(ax)

        handles: list[Any] = []
        labels: list[str] = []
        for level in RiskLevel:
            handles.append(_level_handle(level_colour(level)))
            labels.append(text["count"].format(label=level_label(level, lang), n=counts.get(level.value, 0)))
        if counts.get("", 0):
            handles.append(_level_handle(NO_DATA.hex))
            labels.append(text["count"].format(label=NO_DATA.zh if lang == "zh" else NO_DATA.en, n=counts[""]))
        handles.append(Patch(facecolor=_DISTRICT_FILL, edgecolor=_INK, linewidth=1.4))
        labels.append(text["district"])
        if neighbours is not None:
            handles.append(Patch(facecolor=_CONTEXT_FILL, edgecolor=_CONTEXT_EDGE, linewidth=0.8))
            labels.append(text["context"])
        legend = panel.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.0, 1.0), title=text["legend"],
                              fontsize=11, title_fontsize=12, handlelength=2.8, handleheight=1.2,
                              labelspacing=0.9, borderpad=0.9, frameon=True, alignment="left")
        legend.get_frame().set_edgecolor("#8C8C8C")
        legend.get_frame().set_linewidth(0.8)

        cm = _central_meridian(epsg)
        panel.text(0.0, 0.0, f"{text['colours']}{FOUR_COLOUR_SOURCE}\n{text['crs'].format(cm=cm, epsg=epsg)}\n"
                   f"{text['credit']}", transform=panel.transAxes, ha="left", va="bottom", fontsize=8,
                   color="#4D4D4D", linespacing=1.6)

        heading = title or text["title"]
        fig.text(0.5, 0.945, heading, ha="center", va="center", fontsize=20 if display_width(heading) <= 70 else 15,
                 fontweight="bold", color=_INK)
        footer = clip_text(f"{text['date']}{data_date or '—'}　　{text['source']}{source_note or '—'}", _FOOTER_WIDTH)
        fig.text(0.035, 0.085, footer, ha="left", va="top", fontsize=9, color="#333333", wrap=True)
    return fig


def print_map(path: Path, *, district_outline: gpd.GeoDataFrame, sources: gpd.GeoDataFrame, title: str,
              data_date: str, source_note: str, lang: str = "zh", context: gpd.GeoDataFrame | None = None) -> Path:
    """Write the A4-landscape print map of a district's risk sources.

    Parameters
    ----------
    path : Path
        Output file; ``.pdf`` (vector, Chinese glyphs embedded) or ``.png`` (150 dpi).
    district_outline, sources, title, data_date, source_note, lang, context
        See :func:`build_figure`.

    Returns
    -------
    Path
        ``path``, the map written.

    Raises
    ------
    ValueError
        For another suffix, or invalid inputs (see :func:`build_figure`).
    RuntimeError
        When no CJK font is installed.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png"):
        raise ValueError(f"print map must be .pdf or .png, not {path.name!r}")
    fig = build_figure(district_outline=district_outline, sources=sources, title=title, data_date=data_date,
                       source_note=source_note, lang=lang, context=context)
    heading = title or _TEXT.get(lang, _TEXT["zh"])["title"]
    metadata: dict[str, Any] = ({"Title": heading, "Creator": "RiskMap", "Subject": source_note}
                                if fmt == "pdf" else {"Title": heading, "Software": "RiskMap"})
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(_rc(cjk_font())):
        fig.savefig(path, format=fmt, dpi=PNG_DPI, metadata=metadata, facecolor="white")
    return path


# --- helpers -----------------------------------------------------------------------------------


def _rc(font: str) -> dict[Any, Any]:
    return {"font.family": [font, "DejaVu Sans"], "axes.unicode_minus": False, "pdf.fonttype": 3,
            "svg.fonttype": "path"}


def _level_handle(colour: str) -> tuple[Line2D, Line2D]:
    """Legend symbol of a level: a cased line with a marker on it (the tuple is drawn overlaid)."""
    line = Line2D([], [], color=colour, linewidth=3.2, solid_capstyle="round", path_effects=_CASING)
    marker = Line2D([], [], linestyle="none", marker="o", markersize=9, markerfacecolor=colour,
                    markeredgecolor=_INK, markeredgewidth=0.8)
    return line, marker


def _require_crs(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise ValueError(f"{what} has no CRS (expected {STORAGE_CRS})")
    return gdf


def _central_meridian(epsg: int) -> int:
    return 75 + 3 * (epsg - 4534)


def _levels(sources: gpd.GeoDataFrame) -> np.ndarray:
    """Risk level code per source ("" for unrated); unknown codes are an error."""
    raw = sources["risk_level"] if len(sources) else []
    values = np.array(["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in raw],
                      dtype=object)
    unknown = sorted(set(values) - {lv.value for lv in RiskLevel} - {""})
    if unknown:
        raise ValueError(f"unknown risk_level values {unknown}; expected {[lv.value for lv in RiskLevel]}")
    return values


def _extent(outline: gpd.GeoDataFrame, ax: Axes, fig: Figure) -> tuple[tuple[float, float], tuple[float, float]]:
    """Outline bounds with a margin, widened to the axes' shape so one metre is one metre both ways."""
    minx, miny, maxx, maxy = outline.total_bounds
    width, height = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    width, height = width * 1.08, height * 1.12  # room for the scale bar and north arrow
    box = ax.get_position()
    box_ratio = (box.width * fig.get_figwidth()) / (box.height * fig.get_figheight())
    if width / height > box_ratio:
        height = width / box_ratio
    else:
        width = height * box_ratio
    return (cx - width / 2, cx + width / 2), (cy - height / 2, cy + height / 2)


def _polygon_paths(geoms: Any) -> list[MplPath]:
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    polys = shapely.orient_polygons(parts[shapely.get_type_id(parts) == 3])
    paths = []
    for poly in polys:
        vertices, codes = [], []
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            vertices.append(xy)
            codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY]
        paths.append(MplPath(np.concatenate(vertices), codes))
    return paths


def _line_coords(geoms: Any) -> list[np.ndarray]:
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    lines = parts[np.isin(shapely.get_type_id(parts), (1, 2))]
    return [np.asarray(line.coords)[:, :2] for line in lines]


def _point_coords(geoms: Any) -> np.ndarray:
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    points = parts[shapely.get_type_id(parts) == 0]
    return shapely.get_coordinates(points) if len(points) else np.empty((0, 2))


def _draw_polygons(ax: Axes, geoms: Any, **style: Any) -> None:
    paths = _polygon_paths(geoms)
    if paths:
        ax.add_collection(PathCollection(paths, **style))


def _draw_sources(ax: Axes, sources: gpd.GeoDataFrame, levels: np.ndarray) -> dict[str, int]:
    """Draw sources, lowest level first so major ones end on top; return counts per level."""
    counts: dict[str, int] = {}
    if not len(sources):
        return counts
    geoms = np.asarray(sources.geometry.values, dtype=object)
    for rank, level in enumerate(_draw_order()):
        mask = levels == level
        counts[level] = int(mask.sum())
        if not mask.any():
            continue
        colour = level_colour(level) if level else NO_DATA.hex
        chosen = geoms[mask]
        chosen = chosen[~shapely.is_missing(chosen)]
        base = 10 + 3 * rank
        paths = _polygon_paths(chosen)
        if paths:
            ax.add_collection(PathCollection(paths, facecolor=colour, edgecolor=colour, alpha=0.45,
                                             linewidth=1.2, zorder=base))
        lines = _line_coords(chosen)
        if lines:
            ax.add_collection(LineCollection(lines, colors=colour, linewidths=3.2, capstyle="round",
                                             joinstyle="round", zorder=base + 1, path_effects=_CASING))
        xy = _point_coords(chosen)
        if len(xy):
            ax.scatter(xy[:, 0], xy[:, 1], s=64, c=colour, edgecolors=_INK, linewidths=0.8, zorder=base + 2)
    return counts


def _draw_order() -> Iterator[str]:
    yield ""
    yield from (level.value for level in reversed(list(FOUR_COLOUR)))


def nice_length(target: float) -> float:
    """Largest 1-2-5 × 10^k not above ``target`` (for scale bars).

    Examples
    --------
    >>> nice_length(7300.0)
    5000.0
    >>> nice_length(0.8)
    0.5
    """
    if target <= 0:
        raise ValueError("target must be positive")
    power = 10.0 ** math.floor(math.log10(target))
    return max(step * power for step in (1.0, 2.0, 5.0) if step * power <= target)


def _scale_bar(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    width, height = xlim[1] - xlim[0], ylim[1] - ylim[0]
    length = nice_length(width / 5.0)
    km = length / 1000.0
    x0, y0 = xlim[0] + 0.035 * width, ylim[0] + 0.035 * height
    bar_h = 0.011 * height
    ax.add_patch(Rectangle((x0 - 0.015 * width, y0 - 0.02 * height), length + 0.075 * width, 0.085 * height,
                           facecolor="white", edgecolor="#8C8C8C", linewidth=0.6, alpha=0.9, zorder=30))
    for i in range(4):
        ax.add_patch(Rectangle((x0 + i * length / 4, y0), length / 4, bar_h, facecolor=_INK if i % 2 == 0 else "white",
                               edgecolor=_INK, linewidth=0.8, zorder=31))
    for frac, label in ((0.0, "0"), (0.5, f"{km / 2:g}"), (1.0, f"{km:g}")):
        ax.text(x0 + frac * length, y0 + bar_h + 0.012 * height, label, ha="center", va="bottom", fontsize=8.5,
                color=_INK, zorder=32)
    ax.text(x0 + length + 0.012 * width, y0 + bar_h / 2, "km", ha="left", va="center", fontsize=8.5, color=_INK,
            zorder=32)


def _north_arrow(ax: Axes) -> None:
    inset = ax.inset_axes((0.915, 0.83, 0.06, 0.15))
    inset.set_axis_off()
    inset.set_xlim(-0.3, 1.3)
    inset.set_ylim(-0.15, 1.65)
    inset.set_aspect("equal", adjustable="box")
    inset.add_patch(Polygon([(0.0, 0.0), (0.5, 1.0), (0.5, 0.3)], closed=True, facecolor=_INK, edgecolor=_INK,
                            linewidth=0.8))
    inset.add_patch(Polygon([(1.0, 0.0), (0.5, 1.0), (0.5, 0.3)], closed=True, facecolor="white", edgecolor=_INK,
                            linewidth=0.8))
    inset.text(0.5, 1.12, "N", ha="center", va="bottom", fontsize=12, fontweight="bold", color=_INK)


def legend_labels(fig: Figure) -> list[str]:
    """Texts of the print map's legend entries, in order.

    Parameters
    ----------
    fig : Figure
        A figure from :func:`build_figure`.

    Returns
    -------
    list of str
    """
    for axes in fig.axes:
        if axes.get_label() == LEGEND_AXES_LABEL:
            legend: Legend | None = axes.get_legend()
            if legend is not None:
                return [t.get_text() for t in legend.get_texts()]
    raise ValueError("figure has no print-map legend")
