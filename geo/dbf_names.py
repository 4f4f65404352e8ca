r"""Read Shapefile (DBF) field names that GDAL cannot: Chinese names in UTF-8 or cut by the 10-byte limit.

A DBF field name holds at most 10 bytes. ``行政区划代码`` is 18 bytes in UTF-8 and 12 in GBK, so
desktop GIS writes ``行政区\xe5`` (a character cut in the middle, which no decoder accepts) or
``行政区划代``. This module reads the names from the DBF header itself, gives GDAL a copy of the
Shapefile whose names are ASCII stand-ins, and matches a cut name to the one field whose header,
encoded the same way, starts with the stored bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from geo.layer_specs import LayerSpec

#: Bytes a DBF field name may hold.
DBF_NAME_BYTES = 10
_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
_PREFIX = "rmdbf"


def dbf_field_names(dbf: Path) -> list[bytes]:
    """Return the raw field names of a DBF file, in order.

    Parameters
    ----------
    dbf : Path
        The ``.dbf`` file.

    Returns
    -------
    list of bytes
        Each name without its NUL padding.
    """
    data = dbf.read_bytes()
    header_len = int.from_bytes(data[8:10], "little") if len(data) >= 32 else 0
    names: list[bytes] = []
    for start in range(32, min(header_len, len(data)) - 31, 32):
        if data[start] == 0x0D:
            break
        names.append(data[start:start + 11].split(b"\x00", 1)[0])
    return names


def decode_name(raw: bytes, encoding: str) -> str:
    """Decode a field name, dropping a character the 10-byte limit cut in the middle.

    Examples
    --------
    >>> decode_name("行政区划代码".encode()[:10], "utf-8")
    '行政区'
    """
    return raw.decode(encoding, errors="ignore")


def decodes(raw: bytes, encoding: str) -> bool:
    """Whether ``raw`` decodes in ``encoding``, allowing a last character cut by the 10-byte limit."""
    for cut in range(4 if len(raw) >= DBF_NAME_BYTES - 3 else 1):
        try:
            raw[:len(raw) - cut].decode(encoding)
            return True
        except (UnicodeDecodeError, LookupError):
            continue
    return False


def ascii_copy(shp: Path, folder: Path, names: list[bytes]) -> Path:
    """Copy a Shapefile into ``folder`` with its field names replaced by ASCII stand-ins.

    Parameters
    ----------
    shp : Path
        The ``.shp`` file (its sidecar files are copied too).
    folder : Path
        Where to write the copy.
    names : list of bytes
        The field names as in :func:`dbf_field_names`; field ``i`` becomes :func:`stand_in` ``(i)``.

    Returns
    -------
    Path
        The copied ``.shp``.
    """
    for sibling in shp.parent.glob(shp.stem + ".*"):
        if sibling.suffix.lower() in _SIDECARS:
            shutil.copyfile(sibling, folder / (shp.stem + sibling.suffix.lower()))
    dbf = folder / (shp.stem + ".dbf")
    data = bytearray(dbf.read_bytes())
    for i in range(len(names)):
        start = 32 + 32 * i
        data[start:start + 11] = stand_in(i).encode("ascii").ljust(11, b"\x00")
    dbf.write_bytes(bytes(data))
    return folder / (shp.stem + ".shp")


def stand_in(index: int) -> str:
    """Return the ASCII name given to field ``index`` in :func:`ascii_copy`."""
    return f"{_PREFIX}{index:03d}"


def match_cut_name(raw: bytes, encoding: str, spec: LayerSpec) -> str | None:
    """Match a field name cut by the 10-byte limit to the one field of ``spec`` it can be.

    A name is taken as cut when it fills (nearly) all 10 bytes; it matches a field when one of the
    field's headers, encoded in ``encoding``, starts with the stored bytes and is longer. A prefix
    shared by several fields matches none.

    Parameters
    ----------
    raw : bytes
        The stored name.
    encoding : str
        The Shapefile's encoding.
    spec : LayerSpec
        Target layer.

    Returns
    -------
    str or None
        The field name, or None when the name is not cut or the match is not unique.

    Examples
    --------
    >>> from geo.layer_specs import ENTERPRISES
    >>> match_cut_name("行政区划代码".encode("gbk")[:10], "gbk", ENTERPRISES)
    'adcode'
    >>> match_cut_name("行政区划代码".encode("utf-8")[:10], "utf-8", ENTERPRISES)
    'adcode'
    """
    if len(raw) < DBF_NAME_BYTES - 2:
        return None
    hits: set[str] = set()
    for f in spec.fields:
        for header in f.headers:
            try:
                encoded = header.encode(encoding)
            except (UnicodeEncodeError, LookupError):
                continue
            if len(encoded) > len(raw) and encoded.startswith(raw):
                hits.add(f.name)
    return hits.pop() if len(hits) == 1 else None
