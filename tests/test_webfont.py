"""The Chinese web font is built from the machine's Noto CJK and holds the requested glyphs."""

from __future__ import annotations

from fontTools.ttLib import TTFont

from dashboard.webfont import build_web_font, gb2312_characters


def test_subset_font_has_the_glyphs(tmp_path) -> None:
    text = "昆明市安全风险一张图重大较大一般低"
    path = build_web_font(tmp_path / "f.woff2", text=text)
    assert path is not None and path.stat().st_size < 200_000
    font = TTFont(path)
    assert font.flavor == "woff2"
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in text)
    assert ord("蓝") not in cmap  # only what was asked for


def test_gb2312_set_covers_district_names() -> None:
    chars = set(gb2312_characters())
    names = ("五华区盘龙区官渡区西山区东川区呈贡区晋宁区富民县宜良县石林彝族自治县嵩明县"
             "禄劝彝族苗族自治县寻甸回族彝族自治县安宁市")
    assert set(names) <= chars
    assert len(chars) > 6800
