"""The site pre-check reasons sheet (场地预审意见) as an A4 portrait PDF, drawn with matplotlib.

One sheet says what was asked and what the rules answer: the title, the date, where the site is
(centre and area), the intended use and its GB 36894 class, the verdict in large type (不建议 in
the 重大 red, 无异议 in the 低 blue of :mod:`layers.palette`), a sketch of the site with a ring at
each reason's required distance, then a table with one row per reason (rule, verdict, clause,
source, measured and required metres, detail; long text wraps inside its cell), the notes, and a
footer with the rule-set version and the warning that thresholds marked ※ (rules whose
confidence is not ``confirmed``) must be verified against the standard. Long tables continue on
further pages, each with the footer and a page number.

Chinese text uses the CJK font found by :func:`layers.printmap.cjk_font`, embedded as Type 3
subsets so the PDF stays searchable (``pdftotext``) and prints anywhere. Only the object-oriented
matplotlib API is used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib
import shapely
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from geo.checks.ruleset import RuleSet, load_ruleset
from geo.checks.site import ADVISE_AGAINST, SiteVerdict
from geo.constants import STORAGE_SRID
from layers.palette import FOUR_COLOUR, OVERLAY, RiskLevel
from layers.planning import bilingual, class_label, reason_table, site_facts, zone_rings
from layers.printmap import cjk_font
from layers.text_width import display_width

__all__ = ["A4_PORTRAIT", "reasons_pdf", "wrap_text"]

#: A4 portrait in points (the drawing unit of this module) and inches.
PAGE_W, PAGE_H = 595.0, 842.0
A4_PORTRAIT = (PAGE_W / 72.0, PAGE_H / 72.0)
MARGIN = 42.0
_INK = "#262626"
_MUTED = "#555555"
_RULE = "#B5B5B5"
_HEADER_FILL = "#EEF1F4"
#: Table font size and line height (pt); one display cell (half a CJK glyph) is about 0.56 em wide.
_FONT, _LINE = 8.5, 11.0
_CELL = _FONT * 0.56
_FOOTER_TOP = PAGE_H - MARGIN - 34.0

_TEXT: dict[str, dict[str, str]] = {
    "zh": {"title": "场地预审意见", "subtitle": "RiskMap 安全风险一张图 · 规划审查", "date": "日期", "site": "场地",
           "crs": "坐标系",
           "crs_value": "CGCS2000 经纬度；距离按 3 度带高斯-克吕格投影 EPSG:{epsg} 量算",
           "use": "拟建用途", "class": "GB 36894 防护目标类别", "verdict": "预审结论", "reasons": "理由（{n} 项）",
           "no_reasons": "未发现任何规则限制。", "notes": "备注", "blocking": "其中 {n} 项构成限制",
           "footer": "规则集版本 {version}。标注 ※ 的阈值尚未确认（置信度 unconfirmed），使用前须以现行标准原文核实。"
                     "本意见依据库中现有数据自动生成，供规划预审参考，不代替法定审批。",
           "page": "第 {i} / {n} 页", "sketch": "示意：场地与各要求距离圈", "ring": "圈半径 {r}",
           "legend_site": "拟建场地", "legend_ring": "要求距离圈", "legend_reason": "最近距离 / 高后果区段"},
    "en": {"title": "Site pre-check", "subtitle": "RiskMap work-safety risk map · planning review", "date": "Date",
           "site": "Site", "crs": "CRS",
           "crs_value": "CGCS2000 lon/lat; distances in the 3-degree Gauss-Krüger zone EPSG:{epsg}",
           "use": "Intended use", "class": "GB 36894 target class", "verdict": "Verdict",
           "reasons": "Reasons ({n})", "no_reasons": "No rule restricts this site.", "notes": "Notes",
           "blocking": "{n} of them restrict the site",
           "footer": "Rule set version {version}. Thresholds marked ※ are unconfirmed and must be verified against "
                     "the current standard before use. Generated from the data in the store as planning advice; "
                     "it does not replace a statutory approval.",
           "page": "Page {i} of {n}", "sketch": "Sketch: site and required-distance rings", "ring": "radius {r}",
           "legend_site": "Proposed site", "legend_ring": "Required distance", "legend_reason": "Shortest line / HCA"},
}
_COL_HEADS: dict[str, tuple[str, ...]] = {
    "zh": ("规则", "结论", "条款", "来源", "实测 / 要求 (m)", "说明"),
    "en": ("Rule", "Verdict", "Clause", "Source", "Measured / required (m)", "Detail"),
}
#: Column widths of the reasons table (pt); they add up to the text width.
_COLS = (104.0, 50.0, 94.0, 78.0, 58.0, PAGE_W - 2 * MARGIN - 104.0 - 50.0 - 94.0 - 78.0 - 58.0)
#: Width of the labels of the information block (pt).
_KEY_W = 112.0


def wrap_text(text: str, width: int) -> list[str]:
    """Break ``text`` into lines at most ``width`` display cells wide (CJK glyphs count 2).

    Latin words and numbers move whole to the next line when they are short enough; CJK text
    breaks anywhere; explicit newlines are kept.

    Examples
    --------
    >>> wrap_text("石油天然气管道保护法 第30条", 12)
    ['石油天然气管', '道保护法 第', '30条']
    >>> wrap_text("the site would create a grade 1 HCA", 16)
    ['the site would', 'create a grade 1', 'HCA']
    """
    width = max(width, 2)
    out: list[str] = []
    for para in str(text).split("\n"):
        line = ""
        for ch in para:
            if display_width(line + ch) <= width:
                line += ch
                continue
            # keep a short Latin word or number whole: move it to the next line
            start = len(line)
            while start > 0 and line[start - 1].isascii() and not line[start - 1].isspace():
                start -= 1
            run = line[start:]
            if ch.isascii() and not ch.isspace() and start > 0 and display_width(run) <= width // 2:
                out.append(line[:start].rstrip())
                line = run + ch
            else:
                out.append(line.rstrip())
                line = "" if ch == " " else ch
        out.append(line.rstrip())
    return out or [""]


@dataclass
class _Sheet:
    """Pages being drawn, with a cursor ``y`` in points from the top of the current page."""

    lang: str
    version: str
    pages: list[Figure] = field(default_factory=list)
    y: float = MARGIN

    @property
    def fig(self) -> Figure:
        return self.pages[-1]

    def new_page(self) -> None:
        self.pages.append(Figure(figsize=A4_PORTRAIT))
        self.y = MARGIN

    def text(self, x: float, y: float, s: str, **kw: Any) -> None:
        kw.setdefault("color", _INK)
        kw.setdefault("va", "top")
        self.fig.text(x / PAGE_W, 1 - y / PAGE_H, s, **kw)

    def hline(self, y: float, x0: float = MARGIN, x1: float = PAGE_W - MARGIN, **kw: Any) -> None:
        kw.setdefault("color", _RULE)
        kw.setdefault("linewidth", 0.6)
        self.fig.add_artist(Line2D([x0 / PAGE_W, x1 / PAGE_W], [1 - y / PAGE_H, 1 - y / PAGE_H],
                                   transform=self.fig.transFigure, **kw))

    def box(self, x: float, y: float, w: float, h: float, **kw: Any) -> None:
        self.fig.add_artist(Rectangle((x / PAGE_W, 1 - (y + h) / PAGE_H), w / PAGE_W, h / PAGE_H,
                                      transform=self.fig.transFigure, **kw))

    def room(self, height: float) -> bool:
        return self.y + height <= _FOOTER_TOP - 6

    def footers(self) -> None:
        text = _TEXT[self.lang]
        lines = wrap_text(text["footer"].format(version=self.version), int((PAGE_W - 2 * MARGIN) / (7.5 * 0.56)))
        for i, fig in enumerate(self.pages, start=1):
            y = _FOOTER_TOP
            fig.add_artist(Line2D([MARGIN / PAGE_W, 1 - MARGIN / PAGE_W], [1 - y / PAGE_H] * 2,
                                  transform=fig.transFigure, color=_RULE, linewidth=0.6))
            fig.text(MARGIN / PAGE_W, 1 - (y + 5) / PAGE_H, "\n".join(lines), va="top", ha="left", fontsize=7.5,
                     color=_MUTED, linespacing=1.35)
            fig.text(1 - MARGIN / PAGE_W, 1 - (PAGE_H - MARGIN + 8) / PAGE_H,
                     text["page"].format(i=i, n=len(self.pages)), va="top", ha="right", fontsize=7.5, color=_MUTED)


def _fmt_m(value: Any) -> str:
    return "—" if value is None or value != value else f"{float(value):,.1f}"


def _table_row(sheet: _Sheet, cells: list[list[str]], *, header: bool = False, colour: str | None = None) -> None:
    height = max(len(c) for c in cells) * _LINE + 6
    if not sheet.room(height):
        sheet.new_page()
        _table_header(sheet)
    if header:
        sheet.box(MARGIN, sheet.y, PAGE_W - 2 * MARGIN, height, facecolor=_HEADER_FILL, edgecolor="none")
    x = MARGIN
    for i, (lines, width) in enumerate(zip(cells, _COLS, strict=True)):
        weight = "bold" if header or (i == 1 and colour) else "normal"
        sheet.text(x + 3, sheet.y + 3.5, "\n".join(lines), ha="left", fontsize=_FONT, linespacing=1.2,
                   fontweight=weight, color=colour if (i == 1 and colour) else _INK)
        x += width
    sheet.y += height
    sheet.hline(sheet.y)


def _table_header(sheet: _Sheet) -> None:
    cols = _COL_HEADS[sheet.lang]
    _table_row(sheet, [wrap_text(c, int(w / _CELL) - 1) for c, w in zip(cols, _COLS, strict=True)], header=True)


def _sketch(ax: Axes, site: shapely.Geometry, verdict: SiteVerdict, lang: str) -> None:
    """Site, rings and reason geometries in the site's Gauss-Krüger zone (metres)."""
    text = _TEXT[lang]
    epsg = site_facts(site).epsg
    rings = zone_rings(site, verdict.reasons)
    red, blue, teal = FOUR_COLOUR[RiskLevel.MAJOR].hex, FOUR_COLOUR[RiskLevel.LOW].hex, OVERLAY["selected"].hex
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color(_RULE)
    site_m = gpd.GeoSeries([site], crs=STORAGE_SRID).to_crs(epsg).iloc[0]
    extent = max([float(r) for r in rings["required_m"]] + [50.0]) * 1.15
    cx, cy = site_m.centroid.x, site_m.centroid.y
    for geom, blocking in zip(gpd.GeoSeries(rings.geometry.values, crs=STORAGE_SRID).to_crs(epsg), rings["blocking"],
                              strict=True):
        for part in getattr(geom, "geoms", [geom]):
            xs, ys = part.xy
            ax.plot(xs, ys, color=red if blocking else blue, linewidth=0.9, linestyle=(0, (4, 2)))
    reasons = verdict.reasons
    if reasons is not None and len(reasons):
        for geom in gpd.GeoSeries(reasons.geometry.values, crs=STORAGE_SRID).to_crs(epsg):
            if geom is None or geom.is_empty:
                continue
            clipped = geom.intersection(shapely.box(cx - extent, cy - extent, cx + extent, cy + extent))
            for part in getattr(clipped, "geoms", [clipped]):
                if part.geom_type == "LineString" and not part.is_empty:
                    xs, ys = part.xy
                    ax.plot(xs, ys, color=red, linewidth=1.6)
    if site_m.geom_type == "Point":
        ax.plot([cx], [cy], marker="o", markersize=6, color=teal, markeredgecolor=_INK, markeredgewidth=0.6)
    else:
        for poly in getattr(site_m, "geoms", [site_m]):
            xs, ys = poly.exterior.xy
            ax.fill(xs, ys, facecolor=teal, edgecolor=_INK, linewidth=0.6, alpha=0.8)
    ax.set_xlim(cx - extent, cx + extent)
    ax.set_ylim(cy - extent, cy + extent)
    radius = f"{extent / 1.15:,.0f} m"
    ax.set_title(text["sketch"], fontsize=8, color=_MUTED, pad=4)
    ax.text(0.03, 0.03, text["ring"].format(r=radius), transform=ax.transAxes, fontsize=7, color=_MUTED)
    ax.text(0.97, 0.97, "N ↑", transform=ax.transAxes, fontsize=8, color=_MUTED, ha="right", va="top")
    handles = [Line2D([], [], marker="o", linestyle="none", color=teal, markeredgecolor=_INK),
               Line2D([], [], color=red, linestyle=(0, (4, 2))), Line2D([], [], color=red, linewidth=1.6)]
    ax.legend(handles, [text["legend_site"], text["legend_ring"], text["legend_reason"]], loc="lower right",
              fontsize=6.5, frameon=True, framealpha=0.85, borderpad=0.5, handlelength=2.0)


def reasons_pdf(path: Path, *, verdict: SiteVerdict, site: shapely.Geometry, use_label: str, lang: str = "zh",
                rules: RuleSet | None = None, date: dt.date | None = None) -> Path:
    """Write the pre-check reasons sheet of ``verdict`` as an A4 portrait PDF.

    Parameters
    ----------
    path : Path
        Output ``.pdf``; its folder is created.
    verdict : SiteVerdict
        Result of :func:`geo.checks.site.precheck_site` for ``site``.
    site : shapely.Geometry
        The site checked (point or polygon, EPSG:4490).
    use_label : str
        How to name the intended use (e.g. ``"学校"``).
    lang : {"zh", "en"}
        Language of the sheet.
    rules : RuleSet, optional
        Rule set for names, confidence and version (default: the current one).
    date : date, optional
        Date printed (default: today).

    Returns
    -------
    Path
        ``path``, the report written.

    Raises
    ------
    RuntimeError
        When no CJK font is installed.
    """
    path = Path(path)
    lang = lang if lang in _TEXT else "zh"
    rules = rules or verdict.rules or load_ruleset()
    text = _TEXT[lang]
    facts = site_facts(site)
    table = reason_table(verdict, lang=lang, rules=rules)
    against = verdict.verdict == ADVISE_AGAINST
    colour = FOUR_COLOUR[RiskLevel.MAJOR].hex if against else FOUR_COLOUR[RiskLevel.LOW].hex
    label = verdict.label_zh if lang == "zh" else verdict.label_en
    rc: dict[Any, Any] = {"font.family": [cjk_font(), "DejaVu Sans"], "axes.unicode_minus": False, "pdf.fonttype": 3}
    with matplotlib.rc_context(rc):
        sheet = _Sheet(lang, rules.version)
        sheet.new_page()
        sheet.text(PAGE_W / 2, sheet.y, text["title"], ha="center", fontsize=20, fontweight="bold")
        sheet.text(PAGE_W / 2, sheet.y + 28, text["subtitle"], ha="center", fontsize=9, color=_MUTED)
        sheet.y += 50
        sheet.hline(sheet.y, color=_INK, linewidth=1.0)
        sheet.y += 12
        top = sheet.y
        info = [(text["date"], (date or dt.date.today()).isoformat()),
                (text["site"], facts.describe(lang)),
                (text["crs"], text["crs_value"].format(epsg=facts.epsg)),
                (text["use"], f"{use_label}（{verdict.use}）" if lang == "zh" else f"{use_label} ({verdict.use})"),
                (text["class"], class_label(verdict.gb36894_class, lang) if verdict.gb36894_class else "—")]
        info_w = 300.0 if len(verdict.reasons) else PAGE_W - 2 * MARGIN
        for key, value in info:
            lines = wrap_text(value, int((info_w - _KEY_W) / (10 * 0.56)))
            sheet.text(MARGIN, sheet.y, key, fontsize=10, color=_MUTED)
            sheet.text(MARGIN + _KEY_W, sheet.y, "\n".join(lines), fontsize=10, linespacing=1.3)
            sheet.y += 13.5 * len(lines) + 5
        sheet.y += 6
        sheet.text(MARGIN, sheet.y, text["verdict"], fontsize=10, color=_MUTED)
        sheet.box(MARGIN + _KEY_W, sheet.y - 4, 190, 40, facecolor=colour, edgecolor="none")
        sheet.text(MARGIN + _KEY_W + 95, sheet.y + 16, label, ha="center", va="center", fontsize=20, fontweight="bold",
                   color="#FFFFFF")
        n_block = int(table["blocking"].sum()) if len(table) else 0
        sheet.y += 46
        if n_block:
            sheet.text(MARGIN + _KEY_W, sheet.y, text["blocking"].format(n=n_block), fontsize=9, color=colour)
            sheet.y += 14
        if len(verdict.reasons):
            size = 190.0
            ax = sheet.fig.add_axes(((PAGE_W - MARGIN - size) / PAGE_W, 1 - (top + size + 8) / PAGE_H,
                                     size / PAGE_W, size / PAGE_H))
            _sketch(ax, site, verdict, lang)
            sheet.y = max(sheet.y, top + size + 24)
        sheet.y += 10
        sheet.text(MARGIN, sheet.y, text["reasons"].format(n=len(table)), fontsize=12, fontweight="bold")
        sheet.y += 20
        if not len(table):
            sheet.text(MARGIN, sheet.y, text["no_reasons"], fontsize=10)
            sheet.y += 18
        else:
            sheet.hline(sheet.y, color=_INK, linewidth=0.8)
            _table_header(sheet)
            for row in table.itertuples():
                mark = " ※" if row.unconfirmed else ""
                values = [f"{row.rule_code}{mark}\n{row.rule}", str(row.verdict), str(row.clause), str(row.source),
                          f"{_fmt_m(row.measured_m)} / {_fmt_m(row.required_m)}", str(row.detail)]
                cells = [wrap_text(v, int(w / _CELL) - 1) for v, w in zip(values, _COLS, strict=True)]
                _table_row(sheet, cells, colour=colour if row.blocking else _MUTED)
        if verdict.notes:
            per_line = int((PAGE_W - 2 * MARGIN) / (9 * 0.56))
            notes = [wrap_text(f"• {bilingual(n, lang)}", per_line) for n in verdict.notes]
            need = 22 + sum(len(n) for n in notes[:1]) * 12.5
            if not sheet.room(need):
                sheet.new_page()
            sheet.y += 12
            sheet.text(MARGIN, sheet.y, text["notes"], fontsize=12, fontweight="bold")
            sheet.y += 20
            for lines in notes:
                if not sheet.room(len(lines) * 12.5):
                    sheet.new_page()
                sheet.text(MARGIN, sheet.y, "\n".join(lines), fontsize=9, linespacing=1.3)
                sheet.y += len(lines) * 12.5 + 3
        sheet.footers()
        path.parent.mkdir(parents=True, exist_ok=True)
        metadata = {"Title": text["title"], "Creator": "RiskMap", "Subject": f"{label}; rules {rules.version}"}
        with PdfPages(path, metadata=metadata) as pdf:
            for fig in sheet.pages:
                pdf.savefig(fig, facecolor="white")
    return path
