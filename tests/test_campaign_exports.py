"""Photos and PDFs in the exports: the 台账 ZIP and the district pack, read back with zipfile and openpyxl.

Every file in a pack is checked against the sha256 PostgreSQL stored for it; what an account exports is
what row-level security lets it see (a district officer its district, an enterprise its own hazards).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, text

from campaign.attachments import Upload
from campaign.inspections import InspectionRecord, hazard_from_inspection, record_inspection
from campaign.ledger import FILE_COLUMNS, MANIFEST_COLUMNS, hazard_files, ledger_frame, ledger_pack, safe_name
from geo import store
from layers.export import EXPORT_FORMATS
from layers.export.hazard_pack import district_hazard_pack, write_hazard_pack
from tests.campaign_helpers import ANNING, ENT_X, JPEG, XISHAN, report, signed_in

pytestmark = pytest.mark.postgis
CST = dt.timezone(dt.timedelta(hours=8))
PNG = b"\x89PNG\r\n\x1a\n" + b"demo png" * 20
PDF = b"%PDF-1.7\n" + "整改方案".encode() * 30


def _stored(owner: Engine) -> dict[tuple[int, str], dict[str, object]]:
    """Every attachment as the database owner sees it: (hazard id, sha256) -> its facts."""
    with owner.connect() as conn:
        rows = conn.execute(text(
            "SELECT coalesce(a.hazard_id, i.hazard_id) AS hid, a.sha256, a.filename, a.size_bytes, a.uploaded_by, "
            "a.media_type FROM attachments a LEFT JOIN inspections i ON i.id = a.inspection_id")).mappings().all()
    return {(int(r["hid"]), str(r["sha256"])): dict(r) for r in rows if r["hid"] is not None}


@pytest.fixture
def hazards(engine: Engine, campaign_app: Engine) -> dict[str, int]:
    """Three 安宁 hazards (one found by an inspection with its photo, one with a PNG and a PDF), one of 西山."""
    a1 = report(engine, campaign_app)
    a2 = report(engine, campaign_app, description="储罐区防火堤破损")
    ctx, officer = signed_in(engine, "anning")
    with ctx:
        from campaign.service import take_step

        take_step(campaign_app, a2, "verify", officer)
    ctx, ent = signed_in(engine, "ent_a")
    with ctx:
        from campaign.service import report_hazard

        a3 = report_hazard(campaign_app, ent, {"description": "配电室无应急照明", "severity": "general",
                                               "source": "self_check", "found_on": dt.date(2026, 12, 1)},
                           adcode=ANNING, lon=102.451, lat=24.9, credit_code=None,
                           uploads=[Upload("配电室/照片 1.png", PNG), Upload("整改方案.pdf", PDF)])
    ctx, officer = signed_in(engine, "anning")
    with ctx:
        rec = InspectionRecord(kind="inspection", adcode=ANNING, unit="安宁市应急管理局", inspector="王五",
                               inspected_at=dt.datetime(2026, 12, 5, 9, tzinfo=CST), major_found=True,
                               place="草铺街道", lon=102.45, lat=24.92,
                               credit_code=a_code(engine, campaign_app, a1), description="排洪设施堵塞")
        iid = record_inspection(campaign_app, officer, rec, uploads=[Upload("现场.jpg", JPEG + b"scene")],
                                now=dt.datetime(2026, 12, 6, 10, tzinfo=CST))
        a4 = hazard_from_inspection(campaign_app, officer, iid, {"description": "排洪设施堵塞", "severity": "major",
                                                                  "found_on": dt.date(2026, 12, 5)},
                                    lon=102.45, lat=24.92, enterprise_name="安宁示例矿业")
    x1 = report(engine, campaign_app, "ent_x", adcode=XISHAN, code=ENT_X, description="西山储罐泄漏")
    return {"a1": a1, "a2": a2, "a3": a3, "a4": a4, "x1": x1}


def a_code(engine: Engine, app: Engine, hid: int) -> str:
    with engine.connect() as conn:
        row = store.read_hazard(conn, hid)
    assert row is not None
    return str(row["credit_code"])


def _export_zip(engine: Engine, app: Engine, user: str, target: Path) -> tuple[zipfile.ZipFile, list[int]]:
    ctx, _ = signed_in(engine, user)
    with ctx:
        frame = store.list_hazards(app)
        manifest, fetch = hazard_files(app, frame)
        ledger_pack(ledger_frame(frame, today=dt.date(2026, 12, 6), manifest=manifest), manifest, fetch, target,
                    title="安宁市隐患台账")
    return zipfile.ZipFile(target), [int(i) for i in frame["id"]]


def test_the_officers_ledger_zip_holds_every_file_of_the_district_and_no_other(engine, campaign_app, hazards,
                                                                               tmp_path) -> None:
    zf, ids = _export_zip(engine, campaign_app, "anning", tmp_path / "ledger.zip")
    assert sorted(ids) == sorted(hazards[k] for k in ("a1", "a2", "a3", "a4"))
    stored = _stored(engine)
    mine = {k: v for k, v in stored.items() if k[0] in ids}
    assert len(mine) == 5  # a1, a2: one photo each; a3: PNG and PDF; a4: the inspection's photo
    files = [n for n in zf.namelist() if n.startswith("attachments/") and n != "attachments/manifest.csv"]
    assert len(files) == len(mine)
    for name in files:
        _, hid, base = name.split("/")
        content = zf.read(name)
        sha = hashlib.sha256(content).hexdigest()
        assert (int(hid), sha) in mine, name
        assert base == f"{sha[:12]}-{safe_name(str(mine[(int(hid), sha)]['filename']))}"
        assert len(content) == mine[(int(hid), sha)]["size_bytes"]
    assert not [n for n in files if int(n.split("/")[1]) == hazards["x1"]]
    assert "attachments/" + str(hazards["a3"]) + "/" + hashlib.sha256(PNG).hexdigest()[:12] + "-照片_1.png" in files
    # the manifest CSV and the 附件清单 sheet list the same files with who uploaded them
    rows = list(csv.reader(io.StringIO(zf.read("attachments/manifest.csv").decode("utf-8-sig"))))
    assert rows[0] == [h for h, _ in MANIFEST_COLUMNS]
    by_path = {r[2]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert set(by_path) == set(files)
    for path, rec in by_path.items():
        facts = mine[(int(rec["隐患ID"]), rec["sha256"])]
        assert rec["上传人"] == facts["uploaded_by"] and rec["类型"] == facts["media_type"]
        assert int(rec["大小(字节)"]) == facts["size_bytes"] and path.startswith(f"attachments/{rec['隐患ID']}/")
    inspection_photo = [r for r in by_path.values() if r["归属"].startswith("排查记录")]
    assert len(inspection_photo) == 1 and int(inspection_photo[0]["隐患ID"]) == hazards["a4"]
    wb = openpyxl.load_workbook(io.BytesIO(zf.read("隐患台账.xlsx")))
    ws = wb["隐患台账"]
    header = [c.value for c in ws[2]]
    count_col, path_col = header.index(FILE_COLUMNS[0]), header.index(FILE_COLUMNS[1])
    code_col = header.index("隐患编号")
    with engine.connect() as conn:
        code_of = {str(store.read_hazard(conn, h)["code"]): h for h in ids}  # type: ignore[index]
    for row in ws.iter_rows(min_row=3, values_only=True):
        hid = code_of[str(row[code_col])]
        expected = sorted(p for p in files if p.split("/")[1] == str(hid))
        assert row[count_col] == len(expected)
        assert sorted((row[path_col] or "").split("\n")) == sorted(expected) if expected else not row[path_col]
    sheet = wb["附件清单"]
    assert sheet.max_row - 1 == len(files)


def test_an_enterprise_exports_only_its_own(engine, campaign_app, hazards, tmp_path) -> None:
    zf, ids = _export_zip(engine, campaign_app, "ent_x", tmp_path / "x.zip")
    assert ids == [hazards["x1"]]
    files = [n for n in zf.namelist() if n.startswith("attachments/") and n != "attachments/manifest.csv"]
    assert [n.split("/")[1] for n in files] == [str(hazards["x1"])]
    sha = hashlib.sha256(zf.read(files[0])).hexdigest()
    assert (hazards["x1"], sha) in _stored(engine)


def test_a_file_that_no_longer_matches_its_sha256_stops_the_pack(engine, campaign_app, hazards, tmp_path) -> None:
    with engine.begin() as conn:  # the owner corrupts one stored file behind the application's back
        conn.execute(text("UPDATE attachments SET content = :c WHERE hazard_id = :h"),
                     {"c": JPEG + b"tampered", "h": hazards["a1"]})
    target = tmp_path / "bad.zip"
    with pytest.raises(ValueError, match="sha256"):
        _export_zip(engine, campaign_app, "anning", target)
    assert not target.exists() and not list(tmp_path.glob("*.zip"))


def test_the_district_pack_writes_the_ledger_and_files_beside_it(engine, campaign_app, hazards, tmp_path) -> None:
    assert "hazards" in EXPORT_FORMATS
    ctx, _ = signed_in(engine, "anning")
    with ctx:
        pack = district_hazard_pack(campaign_app, ANNING, title="安宁市隐患台账", today=dt.date(2026, 12, 6))
        written = write_hazard_pack(pack, tmp_path / f"riskmap_{ANNING}{EXPORT_FORMATS['hazards'].suffix}")
    assert written[0].name == "riskmap_530181_hazards.xlsx" and written[1] == tmp_path / "attachments" / "manifest.csv"
    stored = _stored(engine)
    for path in written[2:]:
        rel = path.relative_to(tmp_path).as_posix()
        hid = int(rel.split("/")[1])
        assert (hid, hashlib.sha256(path.read_bytes()).hexdigest()) in stored
        assert hid != hazards["x1"]
    assert len(written) - 2 == 5
    ws = openpyxl.load_workbook(written[0])["隐患台账"]
    header = [c.value for c in ws[2]]
    assert sum(int(r[header.index("附件数")]) for r in ws.iter_rows(min_row=3, values_only=True)) == 5


def test_the_officers_district_pack_from_the_command_line_holds_the_demo_photos(demo_copy, tmp_path) -> None:
    from tests.test_cli_as_user import _run

    out = tmp_path / "pack"
    result = _run(demo_copy, "anning", "export", "--district", ANNING, "--formats", "xlsx,hazards", "--out", str(out))
    assert result.exit_code == 0, result.output
    owner = store.make_engine(demo_copy["RISKMAP_DATABASE_URL"])
    try:
        with owner.connect() as conn:
            expected = {(int(h), str(s), str(f)) for h, s, f in conn.execute(text(
                "SELECT h.id, a.sha256, a.filename FROM attachments a LEFT JOIN inspections i "
                "ON i.id = a.inspection_id JOIN hidden_hazards h ON h.id = coalesce(a.hazard_id, i.hazard_id) "
                "WHERE h.adcode = :a"), {"a": ANNING})}
            n_hazards = conn.execute(text("SELECT count(*) FROM hidden_hazards WHERE adcode = :a"),
                                     {"a": ANNING}).scalar_one()
    finally:
        owner.dispose()
    assert len(expected) >= 3  # the demo's hazards and inspections of 安宁 have photos
    files = sorted(p for p in (out / "attachments").rglob("*") if p.is_file() and p.name != "manifest.csv")
    found = set()
    for path in files:
        hid = int(path.parent.name)
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        match = [e for e in expected if e[0] == hid and e[1] == sha and path.name == f"{sha[:12]}-{safe_name(e[2])}"]
        assert len(match) == 1, path  # its stored bytes, under its own name (one file may be uploaded twice)
        found.add(match[0])
    assert found == expected
    ws = openpyxl.load_workbook(out / f"riskmap_{ANNING}_hazards.xlsx")["隐患台账"]
    assert ws.max_row - 2 == n_hazards
    assert (out / f"riskmap_{ANNING}.xlsx").exists()


def test_a_large_pack_is_streamed_to_disk_one_file_at_a_time(tmp_path) -> None:
    import tracemalloc

    import pandas as pd

    size, n = 2 * 1024 * 1024, 40  # 80 MB of photos
    blobs = {i: b"\xff\xd8\xff\xe0" + hashlib.sha256(str(i).encode()).digest() * (size // 32) for i in range(n)}
    hazards = pd.DataFrame({"id": list(range(n)), "code": [f"YH-{i}" for i in range(n)]})
    index = pd.DataFrame([{"id": i, "hazard_id": i, "inspection_id": None, "sha256": hashlib.sha256(b).hexdigest(),
                           "filename": f"照片{i}.jpg", "media_type": "image/jpeg", "size_bytes": len(b),
                           "uploaded_by": "tester", "created_at": dt.datetime(2026, 12, 6, 9, tzinfo=CST)}
                          for i, b in blobs.items()])
    from campaign.ledger import attachment_manifest, pack_size

    manifest = attachment_manifest(hazards, index)
    assert pack_size(manifest) == (n, sum(len(b) for b in blobs.values()))
    frame = pd.DataFrame({"id": [], "code": []})  # the 台账 itself is not what is measured here
    tracemalloc.start()
    try:
        ledger_pack(ledger_frame(frame, today=dt.date(2026, 12, 6)), manifest, blobs.get, tmp_path / "big.zip",
                    title="t")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"pack of {n} × {size >> 20} MB: peak Python memory {peak / 1048576:.1f} MB")
    assert peak < 3 * size, peak  # about one photo at a time, not the 80 MB pack
    with zipfile.ZipFile(tmp_path / "big.zip") as zf:
        assert len([name for name in zf.namelist() if name.endswith(".jpg")]) == n
        assert zf.read(f"attachments/7/{hashlib.sha256(blobs[7]).hexdigest()[:12]}-照片7.jpg") == blobs[7]
