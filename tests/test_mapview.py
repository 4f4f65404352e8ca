"""Map layers and legends (dashboard/mapview.py) from the one palette (layers/palette.py)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pytest
import shapely

from dashboard.mapview import legend, on_top, to_geojson
from layers.palette import (
    DRAW_ORDER,
    FIVE_COLOUR,
    FOUR_COLOUR,
    OVERLAY,
    TOP_PANE,
    TOP_PANE_Z,
    RiskLevel,
    draw_rank,
    level_pane,
)


def _text(component: Any) -> str:
    """All text of a Dash component tree."""
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if not isinstance(children, list | tuple):
        children = [children]
    return " ".join(_text(c) for c in children)


def _styles(component: Any) -> list[dict[str, str]]:
    out = [component.style] if getattr(component, "style", None) else []
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str):
            out += _styles(child)
    return out


def test_draw_order_puts_major_last_and_each_level_in_a_higher_pane() -> None:
    assert DRAW_ORDER[-1] is RiskLevel.MAJOR and DRAW_ORDER[0] is RiskLevel.LOW
    assert set(DRAW_ORDER) == set(RiskLevel)
    zs = [level_pane(level.value)[1] for level in DRAW_ORDER]
    assert zs == sorted(zs) and len(set(zs)) == 4
    assert max(zs) < TOP_PANE_Z
    assert len({level_pane(level.value)[0] for level in RiskLevel}) == 4
    assert draw_rank(None) == -1 and draw_rank("green") == -1
    with pytest.raises(ValueError):
        level_pane("green")


def test_features_come_least_severe_first_with_their_level_pane() -> None:
    levels = ["major", "low", "significant", "general", "major", "low"]
    gdf = gpd.GeoDataFrame({"name": [f"s{i}" for i in range(len(levels))], "risk_level": levels},
                           geometry=[shapely.Point(102.7, 25.0)] * len(levels), crs=4490)
    fc = to_geojson(gdf, {"name": "name", "colour": lambda r: FOUR_COLOUR[RiskLevel(r["risk_level"])].hex})
    got = [f["properties"] for f in fc["features"]]
    assert [draw_rank(levels[int(p["name"][1:])]) for p in got] == sorted(draw_rank(v) for v in levels)
    assert [p["name"] for p in got] == ["s1", "s5", "s3", "s2", "s0", "s4"]  # stable within a level
    for p in got:
        level = levels[int(p["name"][1:])]
        assert (p["pane"], p["paneZ"]) == level_pane(level)
    assert got[-1]["colour"] == FOUR_COLOUR[RiskLevel.MAJOR].hex


def test_features_without_a_level_keep_their_order_and_the_default_pane() -> None:
    gdf = gpd.GeoDataFrame({"name": ["b", "a"]}, geometry=[shapely.Point(0, 0), shapely.Point(1, 1)], crs=4490)
    got = [f["properties"] for f in to_geojson(gdf, {"name": "name"})["features"]]
    assert got == [{"name": "b"}, {"name": "a"}]
    top = on_top(to_geojson(gdf, {"name": "name"}))
    assert all((f["properties"]["pane"], f["properties"]["paneZ"]) == (TOP_PANE, TOP_PANE_Z) for f in top["features"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_legend_is_built_from_the_palette_in_the_page_language(lang: str) -> None:
    def label(sw: Any) -> str:
        return str(sw.zh if lang == "zh" else sw.en)

    four = _text(legend(lang))
    assert all(label(sw) in four for sw in FOUR_COLOUR.values())
    positions = [four.index(label(FOUR_COLOUR[lv])) for lv in reversed(DRAW_ORDER)]
    assert positions == sorted(positions)  # most severe first, as a reader expects
    assert ("区县五色" if lang == "zh" else "District classes") not in four  # 五色 only where shown
    both = legend(lang, classes=True, overlays=("pipeline", "finding"), legend_id="x")
    text = _text(both)
    assert ("区县五色" if lang == "zh" else "District classes") in text
    assert all(label(sw) in text for sw in FIVE_COLOUR.values())
    assert label(OVERLAY["pipeline"]) in text and label(OVERLAY["finding"]) in text
    assert label(OVERLAY["protection_target"]) not in text
    keys = {s["--key"] for s in _styles(both)}
    assert {sw.hex for sw in FOUR_COLOUR.values()} | {sw.hex for sw in FIVE_COLOUR.values()} <= keys
    assert both.id == "x"
    other = "重大" if lang == "en" else "Major"
    assert other not in text


def test_legend_refuses_an_unknown_shape() -> None:
    from dashboard.mapview import legend_item

    with pytest.raises(ValueError):
        legend_item(OVERLAY["pipeline"], "zh", "zigzag")
