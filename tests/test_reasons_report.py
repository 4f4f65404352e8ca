"""The pre-check reasons sheet (PDF, checked with poppler) and the planner helpers of layers.planning."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.checks.bundle import Bundle
from geo.checks.ruleset import load_ruleset
from geo.checks.site import ADVISE_AGAINST, NO_OBJECTION, SiteVerdict, precheck_site
from layers.planning import bilingual, read_site_file, reason_table, register_table, site_facts, zone_rings
from layers.reasons_report import _COLS, MARGIN, reasons_pdf, wrap_text
from tests.catalogue import KUNMING_GK as EPSG
from tests.catalogue import X0 as X
from tests.catalogue import Y0 as Y
from tests.catalogue import pipeline_and_plant
from tests.catalogue import stored as _site


@pytest.fixture
def bundle() -> Bundle:
    return pipeline_and_plant(250)


def _pdf_text(pdf: Path, column: int | None = None) -> str:
    """Text of the PDF, or of one column of the reasons table (cropped, so cells never interleave)."""
    crop: list[str] = []
    if column is not None:
        x = MARGIN + sum(_COLS[:column])
        crop = ["-x", str(int(x)), "-y", "0", "-W", str(int(_COLS[column])), "-H", "842"]
    return subprocess.run(["pdftotext", *crop, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _flat(text: str) -> str:
    return "".join(text.split())


def test_reasons_pdf_of_a_school_on_a_pipeline(bundle, tmp_path, artifacts) -> None:
    site = _site(shapely.Point(X, Y - 3))  # 3 m from the pipeline, 253 m from the plant
    verdict = precheck_site(bundle, site, "学校")
    assert verdict.verdict == ADVISE_AGAINST
    assert {"PIPE_OCCUPY", "ESD_DECLARED", "HCA_GAS"} <= set(verdict.reasons["rule_code"])
    pdf = reasons_pdf(tmp_path / "sheet" / "reasons.pdf", verdict=verdict, site=site, use_label="学校")
    assert pdf.read_bytes().startswith(b"%PDF")

    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"NotoSansCJK\S*\s.*\byes\b", fonts), fonts  # a CJK font, embedded
    text = _pdf_text(pdf)
    rules = load_ruleset()
    assert "场地预审意见" in text and "不建议" in text and "高敏感防护目标" in text and "学校" in text
    clauses = _flat(_pdf_text(pdf, column=2))
    for code in ("PIPE_OCCUPY", "ESD_DECLARED", "HCA_GAS"):
        assert code in text
        assert _flat(rules[code].clause) in clauses  # the clause column, however the cell wrapped it
    assert "测试输气管道" in _flat(text) and "测试化工" in _flat(text)
    assert f"规则集版本{rules.version}" in _flat(text) and "※" in text  # footer: version, unconfirmed marks
    assert "EPSG:4543" in text

    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    page = next(tmp_path.glob("page*.png"))
    assert page.stat().st_size > 10_000
    (artifacts / "reasons_report_p1.png").write_bytes(page.read_bytes())


def test_no_objection_sheet_in_english(bundle, tmp_path) -> None:
    site = _site(shapely.box(X - 30, Y - 1430, X + 30, Y - 1370))  # a parcel 1.4 km south: nothing reaches
    verdict = precheck_site(bundle, site, "hospital")
    assert verdict.verdict == NO_OBJECTION and not len(verdict.reasons)
    pdf = reasons_pdf(tmp_path / "en.pdf", verdict=verdict, site=site, use_label="Hospital", lang="en")
    text = _pdf_text(pdf)
    assert "Site pre-check" in text and "No objection" in text and "No rule restricts this site" in text
    assert "area 3,600 m²" in text or "3,600" in text
    assert "Rule set version" in text


def test_long_reason_lists_continue_on_more_pages(bundle, tmp_path) -> None:
    site = _site(shapely.Point(X, Y - 3))
    verdict = precheck_site(bundle, site, "幼儿园")
    many = pd.concat([verdict.reasons] * 12, ignore_index=True)
    long = SiteVerdict(verdict.verdict, verdict.use, verdict.gb36894_class,
                       gpd.GeoDataFrame(many, geometry="geometry", crs=4490),
                       notes=["PIPE_PERMIT_50: 须经管道企业同意 / needs the operator's consent"] * 3)
    pdf = reasons_pdf(tmp_path / "long.pdf", verdict=long, site=site, use_label="幼儿园")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2
    text = _pdf_text(pdf)
    assert f"第{pages}/{pages}页" in _flat(text) and text.count("规则集版本") == pages
    assert text.count("PIPE_OCCUPY") == 12 and "须经管道企业同意" in text


def test_wrap_text_respects_display_width() -> None:
    text = "学校距天然气管道中心线 0.00 m，小于要求的 5 m，里程 K13+231 / school 0.00 m from the gas pipeline"
    lines = wrap_text(text, 20)
    from layers.text_width import display_width

    assert all(display_width(line) <= 20 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_clip_text_counts_wide_characters_twice() -> None:
    from layers.text_width import clip_text, display_width

    assert display_width("安宁ab") == 6
    assert clip_text("安宁市应急管理局", 8) == "安宁市…" and display_width(clip_text("安宁市应急管理局", 8)) <= 8
    assert clip_text("安宁 ab", 7) == "安宁 ab" and clip_text("abcdef", 4) == "abc…"


# --- layers.planning ---------------------------------------------------------------------------------


def test_reason_table_and_rings(bundle) -> None:
    site = _site(shapely.Point(X, Y - 3))
    verdict = precheck_site(bundle, site, "学校")
    table = reason_table(verdict)
    assert list(table.columns[:4]) == ["rule_code", "rule", "clause", "source"]
    assert table["blocking"].iloc[0]  # blocking reasons first
    occupy = table[table["rule_code"] == "PIPE_OCCUPY"].iloc[0]
    assert occupy["source"] == "测试输气管道" and occupy["required_m"] == 5.0 and occupy["verdict"] == "违规"
    assert occupy["rule"] == load_ruleset()["PIPE_OCCUPY"].zh and not occupy["unconfirmed"]
    assert table[table["rule_code"] == "HCA_GAS"]["unconfirmed"].all()
    esd = table[table["rule_code"] == "ESD_DECLARED"].iloc[0]
    assert esd["source"] == "测试化工" and esd["measured_m"] == pytest.approx(253.0, abs=0.5)

    rings = zone_rings(site, verdict.reasons)
    assert list(rings["required_m"]) == sorted(rings["required_m"], reverse=True)
    assert {5.0, 300.0} <= set(rings["required_m"])
    site_m = gpd.GeoSeries([site], crs=4490).to_crs(EPSG).iloc[0]
    for ring in rings.itertuples():
        ring_m = gpd.GeoSeries([ring.geometry], crs=4490).to_crs(EPSG).iloc[0]
        assert ring.geometry.geom_type in ("LineString", "MultiLineString")
        assert ring_m.hausdorff_distance(site_m) == pytest.approx(ring.required_m, rel=0.01)
    assert rings.set_index("required_m").loc[300.0, "rules"] == "ESD_DECLARED"
    assert rings["blocking"].all()
    assert not len(zone_rings(site, verdict.reasons.iloc[0:0]))


def test_site_facts() -> None:
    parcel = _site(shapely.box(X, Y, X + 100, Y + 50))
    facts = site_facts(parcel)
    assert facts.kind == "polygon" and facts.epsg == 4543 and facts.area_m2 == pytest.approx(5000, rel=0.001)
    assert "面积 5,000 m²" in facts.describe() and "area 5,000 m²" in facts.describe("en")
    assert site_facts(shapely.Point(102.5, 24.9)).area_m2 == 0.0


def test_register_table_labels() -> None:
    findings = gpd.GeoDataFrame(
        [{"id": 7, "adcode": "530181", "rule_code": "PIPE_OCCUPY", "clause": "石油天然气管道保护法 第30条(三)",
          "subject_name": "西南输气管道", "subject_key": "GAS-01", "object_name": "拟建场地 / proposed site",
          "object_key": "B1", "measured_m": 2.345, "required_m": 5.0, "verdict": "violation",
          "status": "in_remediation", "first_found_at": pd.Timestamp("2026-11-24 22:44", tz="UTC"),
          "last_found_at": pd.Timestamp("2026-11-30 01:00", tz="UTC")}],
        geometry=[shapely.Point(102.3, 24.9)], crs=4490)
    zh = register_table(findings, {"530181": "安宁市"}).iloc[0]
    assert zh["rule"] == load_ruleset()["PIPE_OCCUPY"].zh and zh["district"] == "安宁市"
    assert zh["pair"] == "西南输气管道 → 拟建场地" and zh["measured_m"] == 2.3 and zh["verdict"] == "违规"
    assert zh["status"] == "整改中" and zh["status_code"] == "in_remediation"
    assert zh["first_found"] == "2026-11-25"  # Beijing time
    en = register_table(findings, {"530181": "安宁市"}, lang="en").iloc[0]
    assert en["status"] == "In remediation" and en["pair"].endswith("→ proposed site")
    assert list(register_table(findings.iloc[0:0], {}).columns) == list(zh.index)


# --- reading a site from a file ----------------------------------------------------------------------


def _geojson(path: Path, geom: shapely.Geometry, crs: str | None = None) -> Path:
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": {"名称": "拟建学校"}, "geometry": geom.__geo_interface__}]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_read_site_from_geojson_kml_and_zipped_shapefile(tmp_path) -> None:
    parcel = shapely.box(102.35, 24.91, 102.352, 24.912)
    got = read_site_file(_geojson(tmp_path / "parcel.geojson", parcel))
    assert got.geom_type == "Polygon" and got.equals_exact(parcel, 1e-9)

    kml = tmp_path / "parcel.kml"
    gpd.GeoDataFrame({"Name": ["地块"]}, geometry=[parcel], crs=4326).to_file(kml, driver="KML")
    assert read_site_file(kml).equals_exact(parcel, 1e-7)

    # a zipped Shapefile in the CGCS2000 Gauss-Krüger zone comes back in lon/lat
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    gpd.GeoDataFrame({"name": ["地块"]}, geometry=[parcel], crs=4490).to_crs(EPSG).to_file(
        shp_dir / "parcel.shp", encoding="UTF-8")
    archive = tmp_path / "parcel.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp_dir.iterdir():
            zf.write(part, part.name)
    back = read_site_file(archive)
    assert back.geom_type == "Polygon" and back.symmetric_difference(parcel).area < parcel.area * 1e-6

    point = read_site_file(_geojson(tmp_path / "p.geojson", shapely.Point(102.35, 24.91, 1900.0)))
    assert point.geom_type == "Point" and not point.has_z


def test_read_site_without_attributes(tmp_path) -> None:
    # parcels drawn in a GIS often carry no attributes at all: the geometry is all a site needs
    parcel = shapely.box(102.35, 24.91, 102.352, 24.912)
    bare = tmp_path / "bare.geojson"
    bare.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": parcel.__geo_interface__}]}), encoding="utf-8")
    assert read_site_file(bare).equals_exact(parcel, 1e-9)
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    gpd.GeoDataFrame(geometry=[parcel], crs=4490).to_crs(EPSG).to_file(shp_dir / "bare.shp")
    archive = tmp_path / "bare.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in shp_dir.iterdir():
            zf.write(part, f"folder/{part.name}")
    assert read_site_file(archive).symmetric_difference(parcel).area < parcel.area * 1e-6


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.geojson", "", "文件为空"),
    ("notes.docx", "hello", "不支持的文件类型"),
    ("table.csv", "名称,备注\n学校,无坐标\n", "非空间数据"),
    ("broken.zip", "not a zip", "不是有效的 zip"),
    ("road.geojson", shapely.LineString([(102.3, 24.9), (102.4, 24.9)]), "场地须为点或面"),
    ("metres.geojson", shapely.box(500_000, 2_760_000, 500_100, 2_760_100), "投影坐标"),
    ("paris.geojson", shapely.Point(2.35, 48.85), "不在中国境内"),
])
def test_bad_site_files_say_why(tmp_path, name, content, message) -> None:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        _geojson(path, content)
    with pytest.raises(ValueError, match=message) as info:
        read_site_file(path)
    assert str(tmp_path) not in str(info.value) and name in str(info.value)  # names the file, not the folder


# --- reasons keep their whole text (issue 11, item 4) ------------------------------------------------

_CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_reason_is_not_cut_where_a_name_holds_a_slash(tmp_path) -> None:
    from tests.test_checks_code_separation import X as CX
    from tests.test_checks_code_separation import Y as CY
    from tests.test_checks_code_separation import _site_bundle

    site = gpd.GeoSeries([shapely.box(CX + 100.0, CY - 50.0, CX + 180.0, CY + 50.0)], crs=EPSG).to_crs(4490).iloc[0]
    verdict = precheck_site(_site_bundle(), site, "学校")
    zh = reason_table(verdict).set_index("rule_code").loc["CODE_50160"]
    en = reason_table(verdict, lang="en").set_index("rule_code").loc["CODE_50160"]
    # the site's own name is "拟建场地 / proposed site": the reason goes on past it, to the distances
    assert "“拟建场地”100.0米，小于" in zh["detail"] and zh["detail"].endswith("150米")
    assert "proposed site" not in zh["detail"]
    assert en["detail"].startswith("lpg_tank_group LPG-1 is 100.0 m") and "less than the 150 m" in en["detail"]
    assert not _CJK.search(en["detail"].split(" of GB")[0])  # English up to the clause, which is cited as written
    pdf = reasons_pdf(tmp_path / "slash.pdf", verdict=verdict, site=site, use_label="学校")
    assert _flat(zh["detail"]) in _flat(_pdf_text(pdf, column=5))
    # as stored in the register (one text), the halves are still found: the " / " in “the name” is skipped
    detail = verdict.reasons.set_index("rule_code").loc["CODE_50160", "detail"]
    stored = "".join(str(detail))
    assert type(stored) is str and "“拟建场地 / proposed site”" in stored
    assert bilingual(stored, "zh") == detail.zh and bilingual(stored, "en") == detail.en


def test_gas_hca_reason_has_the_measured_distance_and_a_labelled_mileage(tmp_path) -> None:
    bundle = pipeline_and_plant(2500)
    bundle.frames["pipelines"]["name"] = "西气东输 / 二线"  # a hazard whose name holds " / "
    site = _site(shapely.Point(X + 1200, Y - 65))  # a school 65 m from the gas line (impact radius 318 m)
    verdict = precheck_site(bundle, site, "学校")
    assert verdict.verdict == ADVISE_AGAINST
    table = reason_table(verdict)
    hca = table[table["rule_code"] == "HCA_GAS"].iloc[0]
    assert hca["measured_m"] == pytest.approx(65.0, abs=0.1)  # 实测距离, not "—"
    assert hca["source"] == "西气东输 / 二线"  # the whole name
    # mileage ranges carry a label and the stake format: 里程 K5+882–K6+518 (x = 1,200 m along from K5+000)
    stakes = re.search(r"里程 K(\d+)\+(\d{3})–K(\d+)\+(\d{3})", hca["detail"])
    assert stakes, hca["detail"]
    lo = int(stakes.group(1)) * 1000 + int(stakes.group(2))
    hi = int(stakes.group(3)) * 1000 + int(stakes.group(4))
    assert lo < 6200 < hi and "场地距管道中心线 65.0 m" in hca["detail"]
    en = reason_table(verdict, lang="en")
    assert "chainage K" in en[en["rule_code"] == "HCA_GAS"].iloc[0]["detail"]
    pdf = reasons_pdf(tmp_path / "hca.pdf", verdict=verdict, site=site, use_label="学校")
    measured = _flat(_pdf_text(pdf, column=4))
    assert "65.0" in measured
