"""One geometry type per GIS layer: split a layer that mixes points, lines and polygons.

ArcGIS (and many other readers) handle a layer of one geometry type only; a GeoPackage layer
that mixes points and lines is declared "Unknown (any)" and reads badly. Every GIS file RiskMap
writes (GeoPackage, Shapefile and GeoJSON exports, the file-mode check output) follows one
convention:

* A layer whose features are all of one family — points, lines, polygons or geometry
  collections; single and multi parts count as one family and are written as multi parts when
  both occur — keeps its name.
* A layer that mixes families is written as one layer per family, in the order point, line,
  polygon, collection, named ``<layer>_点``, ``<layer>_线``, ``<layer>_面``, ``<layer>_集合`` when the
  layer name is Chinese (not ASCII) and ``<layer>_pt``, ``<layer>_ln``, ``<layer>_pg``,
  ``<layer>_gc`` when it is ASCII (so Shapefile and GeoJSON file stems are ``<stem>_pt`` …).
* Features without geometry go with the first family present.
"""

from __future__ import annotations

import geopandas as gpd

#: Geometry type -> family.
FAMILY_OF: dict[str, str] = {
    "Point": "point", "MultiPoint": "point",
    "LineString": "line", "MultiLineString": "line", "LinearRing": "line",
    "Polygon": "polygon", "MultiPolygon": "polygon",
    "GeometryCollection": "collection",
}
#: Family -> (suffix for Chinese layer names, suffix for ASCII names), in writing order.
FAMILY_SUFFIX: dict[str, tuple[str, str]] = {
    "point": ("点", "pt"), "line": ("线", "ln"), "polygon": ("面", "pg"), "collection": ("集合", "gc"),
}


def family_layer_name(name: str, family: str) -> str:
    """Name of the ``family`` part of layer ``name`` (see the module docstring).

    Parameters
    ----------
    name : str
        Layer name or ASCII file stem.
    family : {"point", "line", "polygon", "collection"}
        The family.

    Returns
    -------
    str

    Examples
    --------
    >>> family_layer_name("检查发现", "line"), family_layer_name("findings", "point")
    ('检查发现_线', 'findings_pt')
    """
    zh, ascii_suffix = FAMILY_SUFFIX[family]
    return f"{name}_{ascii_suffix if name.isascii() else zh}"


def split_by_family(gdf: gpd.GeoDataFrame, name: str) -> list[tuple[str, gpd.GeoDataFrame]]:
    """Split a layer into one layer per geometry family (unchanged when it has one family).

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer.
    name : str
        Its name (or file stem); parts are named by :func:`family_layer_name`.

    Returns
    -------
    list of (str, GeoDataFrame)
        ``[(name, gdf)]`` for a one-family layer, else one ``(part name, rows)`` per family
        present, in the order of :data:`FAMILY_SUFFIX`.

    Raises
    ------
    ValueError
        For geometry types outside :data:`FAMILY_OF` (named in the message).
    """
    types = gdf.geom_type
    bad = sorted(set(types.dropna()) - set(FAMILY_OF))
    if bad:
        raise ValueError(f"图层 {name!r} 含不支持的几何类型 {bad} / "
                         f"layer {name!r} has unsupported geometry types {bad}")
    family = types.map(FAMILY_OF)
    present = [f for f in FAMILY_SUFFIX if (family == f).any()]
    if len(present) <= 1:
        return [(name, gdf)]
    family = family.fillna(present[0])
    return [(family_layer_name(name, f), gdf[(family == f).to_numpy()]) for f in present]


def needs_multi(gdf: gpd.GeoDataFrame) -> bool:
    """Whether a one-family layer mixes single and multi parts (then it is written as multi parts).

    Parameters
    ----------
    gdf : GeoDataFrame
        One family's features.

    Returns
    -------
    bool
    """
    multi = gdf.geom_type.dropna().str.startswith("Multi")
    return bool(multi.any() and not multi.all())
