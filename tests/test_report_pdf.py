"""Reports as PDF: the city bulletin from a demo copy, and a long table, read back with poppler."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from geo import store
from layers.measures import measure_label
from layers.reporting.document import Report, Section, Table
from layers.reporting.pdf_writer import write_pdf
from layers.snapshots import CITY, take_snapshot

#: The current month: the demo's history begins the day it is loaded, so past months are empty.
TODAY = dt.date.today()
PERIOD = f"{TODAY:%Y-%m}"
MONTH_END = (TODAY.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _text(pdf: Path, page: int | None = None) -> str:
    """Text of the PDF (or of one page) in content order, so a table cell's lines stay together."""
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    return subprocess.run(["pdftotext", "-raw", *pages, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def _flat(text: str) -> str:
    return "".join(text.split())


def _info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())}


def _render(pdf: Path, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(folder / "page")], check=True,
                   capture_output=True)
    return sorted(folder.glob("page*.png"))


@pytest.mark.postgis
def test_the_city_bulletin_as_pdf_carries_the_stored_figures_every_table_and_the_maps(
        demo_copy: dict[str, str], tmp_path: Path, artifacts: Path) -> None:
    from layers.reporting.build import build_report

    engine = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    try:
        figures = take_snapshot(engine, MONTH_END, taken_by="scheduler")
        report = build_report(engine, "bulletin", scope=CITY, period=PERIOD, issued_on=dt.date(2027, 1, 8))
    finally:
        engine.dispose()
    path = tmp_path / "bulletin.pdf"
    data = write_pdf(report, path)
    assert data.startswith(b"%PDF") and path.read_bytes() == data

    info = _info(path)
    assert info["Title"] == report.title and "统计快照" in info["Subject"] and info["Subject"] == report.data_note
    assert info["Page size"].startswith("595 x 842")  # A4 portrait
    text = _text(path)
    flat = _flat(text)
    assert _flat(report.title) in flat and report.issuer in text and "2027年1月8日" in text
    assert f"一、{report.sections[0].heading}" in text and f"二、{report.sections[1].heading}" in text
    assert report.sections[0].heading == "全市主要指标"
    headline: dict[str, list[str]] = {}
    for line in text.splitlines():  # the first line naming each measure: its row of the headline table
        if line.split():
            headline.setdefault(line.split()[0], line.split()[1:])
    city = figures.loc[CITY].to_dict()
    assert headline[measure_label("major_risks")][0] == str(int(city["major_risks"]))
    assert headline[measure_label("hazards_total")][0] == str(int(city["hazards_total"]))
    assert headline[measure_label("overdue_hazards")][0] == str(int(city["overdue_hazards"]))
    tables = [t for s in report.sections for t in s.tables]
    assert len(tables) >= 4  # the headline and the three rankings at least
    for table in tables:
        assert _flat(" ".join(table.columns)) in flat, table.columns
        assert table.note is None or _flat(table.note) in flat
    ranking = next(t for t in tables if "五色评分" in t.columns)
    lines = {" ".join(line.split()) for line in text.splitlines()}
    for row in ranking.rows:  # every district's row: rank, name, score
        assert any(line.startswith(f"{row[0]} {row[1]} {row[2]} ") for line in lines), row
    captions = [f.caption for s in report.sections for f in s.figures]
    assert len(captions) == 2 and all(_flat(c) in flat for c in captions)

    pages = _render(path, tmp_path / "png")
    assert int(info["Pages"]) > 1 and len(pages) == int(info["Pages"])
    assert all(p.stat().st_size > 3_000 for p in pages)
    maps = [i for i in range(1, len(pages) + 1) if "四色分布图" in _text(path, i)]
    assert maps and pages[maps[0] - 1].stat().st_size > 20_000  # the map drawn, not only its caption
    (artifacts / "bulletin_pdf_p1.png").write_bytes(pages[0].read_bytes())
    (artifacts / "bulletin_pdf_map.png").write_bytes(pages[maps[0] - 1].read_bytes())
    for number in range(1, len(pages) + 1):
        assert re.search(rf"—\s*{number}\s*—", _text(path, number)), number  # the page number in the footer


def test_a_long_table_continues_on_the_next_pages_under_its_header(tmp_path: Path) -> None:
    columns = ("序号", "企业名称", "风险等级", "说明")
    rows = tuple((i, f"测试企业{i:03d}号有限公司", "重大" if i % 3 == 0 else "一般",
                  "说明" * (1 + i % 25)) for i in range(1, 121))
    report = Report(code="test", title="长表测试", scope=CITY, scope_name="全市", period="2027年1月",
                    period_end=dt.date(2027, 1, 31), issued_on=dt.date(2027, 2, 1), issuer="测试办公室",
                    recipient="各单位", number="〔2027〕  号", data_note="数据截至 2027-01-31",
                    sections=[Section("long", "企业明细", paragraphs=["下表列出全部企业。"],
                                      tables=[Table(columns, rows, note="共 120 家企业。")])])
    path = tmp_path / "long.pdf"
    write_pdf(report, path)
    n_pages = int(_info(path)["Pages"])
    assert n_pages >= 3
    seen: list[int] = []
    for page in range(1, n_pages + 1):
        text = _text(path, page)
        assert re.search(rf"—\s*{page}\s*—", text), page  # the page number in the footer
        pairs = re.findall(r"^(\d+) 测试企业(\d{3})号", text, flags=re.M)
        assert all(int(serial) == int(name) for serial, name in pairs)  # cells stay in their row
        listed = [int(serial) for serial, _ in pairs]
        if listed:  # every page with rows has the header row above them, and 续表 after the first
            assert " ".join(columns) in text, page
            assert ("续表" in text) == (page > 1), page
        seen += listed
    assert seen == list(range(1, 121))  # every row once, in order, none lost at a page break
    whole = _flat(_text(path))
    assert whole.index("120测试企业120号") < whole.index("共120家企业。")  # the note under the table's end
    assert len(_render(path, tmp_path / "png")) == n_pages
