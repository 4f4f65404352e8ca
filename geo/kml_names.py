"""Keep KML field names that GDAL's LIBKML driver would launder.

Google Earth, 奥维 and most Chinese tools write attributes as untyped
``<ExtendedData><Data name="企业名称">`` elements. LIBKML replaces every byte of such
a name outside ``[A-Za-z0-9]`` with ``_`` (``企业名称`` → ``____________``), and two
names of the same length then collide into one field, losing values. Before GDAL
reads the file, this module gives every such name an ASCII stand-in in a copy of
the file and returns the map back to the original names.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from geo.errors import ReadError

#: ``name="…"`` of Data, SimpleData and SimpleField elements (any namespace prefix).
_NAME_ATTR = re.compile(r"""(<(?:[\w.-]+:)?(?:Data|SimpleData|SimpleField)\b[^>]*?\bname\s*=\s*)(["'])(.*?)\2""",
                        re.DOTALL)
_PLAIN = re.compile(r"[A-Za-z0-9_]+")
_PREFIX = "rmkml_"


def stand_ins(text: str) -> dict[str, str]:
    """Map each field name that LIBKML would alter to an ASCII stand-in.

    Examples
    --------
    >>> stand_ins('<Data name="code"/><Data name="企业名称"/><SimpleData name="坝高(m)">')
    {'企业名称': 'rmkml_0', '坝高(m)': 'rmkml_1'}
    """
    found: dict[str, str] = {}
    for match in _NAME_ATTR.finditer(text):
        name = html.unescape(match.group(3))
        if not _PLAIN.fullmatch(name) and name not in found:
            found[name] = f"{_PREFIX}{len(found)}"
    return found


def ascii_field_copy(path: Path, folder: Path) -> tuple[Path, dict[str, str]]:
    """Write a copy of ``path`` into ``folder`` with ASCII stand-ins for altered field names.

    Parameters
    ----------
    path : Path
        A ``.kml`` file (UTF-8, as KML requires).
    folder : Path
        Where to write the copy (same file name).

    Returns
    -------
    copy : Path
        The file to give GDAL (``path`` itself when no name needs a stand-in).
    names : dict
        ``{stand-in: original name}`` to rename the columns GDAL returns.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path}: KML 应为 UTF-8 编码 / KML must be UTF-8: {exc}") from exc
    mapping = stand_ins(text)
    if not mapping:
        return path, {}

    def swap(match: re.Match[str]) -> str:
        name = html.unescape(match.group(3))
        return f"{match.group(1)}{match.group(2)}{mapping.get(name, match.group(3))}{match.group(2)}"

    copy = folder / path.name
    copy.write_text(_NAME_ATTR.sub(swap, text), encoding="utf-8")
    return copy, {stand: name for name, stand in mapping.items()}
