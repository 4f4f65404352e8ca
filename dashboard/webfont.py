"""Build the Chinese web font served from the app's assets (a subset of Noto Sans CJK SC).

Browsers that have a CJK font use it (``local()`` first in the CSS); others download this
subset from the app itself — never from the web. It is built from the machine's
``fonts-noto-cjk`` at serve time, so no font binary lives in the repository.
"""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"
TARGET = ASSETS / "fonts" / "riskmap-sans-sc.woff2"
SOURCES = (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
           Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.otf"))
#: Index of the Simplified Chinese face inside NotoSansCJK-Regular.ttc (JP, KR, SC, TC, HK order).
SC_FACE = 2


def gb2312_characters() -> str:
    """All characters of GB 2312 (6,763 hanzi and symbols), ASCII and common full-width punctuation."""
    chars = {chr(c) for c in range(0x20, 0x7F)}
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    chars.update("，。、；：？！“”‘’（）《》【】—…·％℃㎡³²⁻⁰¹⁴⁵⁶⁷⁸⁹×±≥≤→Ⅰ Ⅱ Ⅲ")
    return "".join(sorted(chars))


def build_web_font(target: Path = TARGET, *, text: str | None = None) -> Path | None:
    """Write the WOFF2 subset (once); return its path, or None when no Noto CJK font is installed.

    ``text`` limits the subset to those characters (tests); default: GB 2312 and punctuation.
    """
    if target.exists():
        return target
    source = next((p for p in SOURCES if p.exists()), None)
    if source is None:
        return None
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=SC_FACE if source.suffix == ".ttc" else -1, lazy=False)
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    sub = subset.Subsetter(options)
    sub.populate(text=gb2312_characters() if text is None else text)
    sub.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    font.flavor = "woff2"
    font.save(tmp)
    tmp.replace(target)
    return target
