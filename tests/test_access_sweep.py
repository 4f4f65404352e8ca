"""A district officer tries every route the dashboard exposes against another district: all refused.

Signed in as the demo officer of 安宁市 (530181), the test posts every server callback the app
registers directly (as a forged request would), once per input as the trigger, with values that
point at 东川区 (530113) — its adcode, a finding of it, a site in it, a file of its enterprises —
and fetches every URL rule of the Flask server. No response may contain any name or credit code
of a row owned by another district, no callback may crash, and the database must not change.
A callback added later without hostile values here fails the test until someone adds them.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from typing import Any

import dash
import pytest
from sqlalchemy import Engine, text

from geo.credit_code import check_character
from layers.rating import load_rubric
from tests.clients import DemoApp as Officer
from tests.clients import callback_body, demo_app_fixture, post_callback

pytestmark = pytest.mark.postgis
ANNING, DONGCHUAN = "530181", "530113"
DONGCHUAN_POINT = {"type": "Point", "coordinates": [103.19, 26.09]}
IDENTIFYING = {
    "enterprises": ("name", "credit_code", "key", "address", "principal", "phone"),
    "protection_targets": ("name", "key"), "tailings_dams": ("name", "operator", "credit_code", "key"),
    "infrastructure": ("name", "key"), "buildings": ("name", "key"), "hcas": ("key",),
    "risk_points": ("code", "name", "entity_name", "address", "principal", "principal_phone", "grid_officer"),
    "hidden_hazards": ("code", "description", "enterprise_name"), "check_findings": ("subject_name",),
    "parks": ("name", "code", "managing_body"),
}
NAMED_TABLES = (*IDENTIFYING, "risk_contours")


#: A Flask test client signed in as the 安宁 officer, with the app and an owner engine.
officer = demo_app_fixture(secret="sweep-secret", user="anning")


def _forbidden(owner: Engine) -> set[str]:
    """Identifying values (names, codes, keys, people) of rows owned by other districts, not also used in 安宁."""
    found: dict[bool, set[str]] = {True: set(), False: set()}
    with owner.connect() as conn:
        for table, columns in IDENTIFYING.items():
            for column in columns:
                rows = conn.execute(text(f"SELECT adcode = :a, {column} FROM {table} WHERE {column} IS NOT NULL"),
                                    {"a": ANNING})
                for mine, value in rows:
                    found[bool(mine)].add(str(value))
        # pipelines belong to every district they cross: those through 安宁 are the officer's to see
        for mine, value in conn.execute(text("SELECT :a = ANY(adcodes), name FROM pipelines"), {"a": ANNING}):
            found[bool(mine)].add(str(value))
    return {s for s in found[False] - found[True] if len(s) >= 4}


def _state(owner: Engine) -> dict[str, Any]:
    """What must not change: row counts per district table and of the rule values, the other district's findings.

    (The audit log may grow: the officer's refused attempts are not written, but log-ins are.)
    """
    with owner.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in (*NAMED_TABLES, "rule_overrides", "users", "report_submissions",
                            "report_definition_overrides", "hazard_reminders")}
        findings = conn.execute(text("SELECT id, status FROM check_findings WHERE adcode = :d ORDER BY id"),
                                {"d": DONGCHUAN}).all()
    return {"counts": counts, "findings": [tuple(r) for r in findings]}


def _dongchuan_csv() -> str:
    body = f"91{DONGCHUAN}MA7Q00001"
    code = body + check_character(body)
    buf = io.StringIO()
    buf.write("统一社会信用代码,企业名称,行政区划代码,行业,风险等级,经度,纬度\n")
    buf.write(f"{code},东川越权测试化工有限公司,{DONGCHUAN},危险化学品储存,一般风险,103.19,26.09\n")
    return "data:text/csv;base64," + base64.b64encode(buf.getvalue().encode("utf-8-sig")).decode("ascii")


def _hostile(owner: Engine) -> dict[str, Any]:
    with owner.connect() as conn:
        finding = int(conn.execute(text("SELECT min(id) FROM check_findings WHERE adcode = :d"),
                                   {"d": DONGCHUAN}).scalar_one())
    upload = _dongchuan_csv()
    with owner.connect() as conn:
        hazard, version = conn.execute(text("SELECT id, version FROM hidden_hazards WHERE adcode = :d ORDER BY id "
                                            "LIMIT 1"), {"d": DONGCHUAN}).one()
        inspection = conn.execute(text("SELECT min(id) FROM inspections WHERE adcode = :d"),
                                  {"d": DONGCHUAN}).scalar_one()
        enterprise = conn.execute(text("SELECT min(credit_code) FROM enterprises WHERE adcode = :d"),
                                  {"d": DONGCHUAN}).scalar_one()
    photo = "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff\xe0 sweep").decode("ascii")
    where = {"lon": 103.19, "lat": 26.09}
    month = dt.date.today().strftime("%Y-%m")
    campaign = {
        # hazards: filters at 东川, a step on one of its hazards, a report and an inspection placed there
        "hz-filter-district.value": DONGCHUAN, "hz-filter-severity.value": "major",
        "hz-filter-source.value": "department", "hz-filter-state.value": ["verified", "rectifying"],
        "hz-filter-industry.value": "hazchem", "hz-filter-flags.value": ["overdue", "supervised"],
        "hz-download-button.n_clicks": 1, "sr-submit.n_clicks": 1, "sr-month.value": "2026-11",
        # bulk actions: 东川's hazard selected (and forged into the table) for a bulk 核定 and an export
        "hz-table.data": [{"id": hazard, "version": version}], "hz-table.selected_row_ids": [hazard, "1; DROP", True],
        "hz-bulk-action.value": "verify", "hz-bulk-apply.n_clicks": 1, "hz-remind-message.value": "越权催办",
        "sr-signed.value": "越权", "hd-hazard-id.data": hazard, "hd-version.data": version,
        "hd-action.value": "verify", "hd-submit.n_clicks": 1, "hd-comment.value": "越权测试",
        "hd-files.contents": [photo], "hd-files.filename": ["sweep.jpg"],
        **{f"hd-f-{name}.value": value for name, value in (
            ("description", "越权测试"), ("severity", "major"), ("source", "department"), ("found_on", "2026-12-01"),
            ("measures", "越权"), ("responsible_unit", "越权"), ("responsible_person", "越权"), ("funds_wan", 1),
            ("deadline", "2099-01-01"), ("emergency_plan", "越权"), ("assessment", "越权"),
            ("supervising_unit", "越权"), ("supervision", "city"), ("supervision_deadline", "2099-01-01"),
            ("progress", "越权"))},
        "hn-enterprise.value": enterprise, "hn-position.data": where, "hn-submit.n_clicks": 1,
        "hn-map.clickData": {"latlng": {"lat": 26.09, "lng": 103.19}},
        "in-kind.value": "spot_check", "in-enterprise.value": enterprise, "in-unit.value": "越权",
        "in-inspector.value": "越权", "in-time.value": "2026-12-01 10:00", "in-place.value": "东川",
        "in-position.data": where, "in-major.value": ["major"], "in-description.value": "越权",
        "in-disposal.value": "越权", "in-remarks.value": "越权", "in-items.value": ["no_leader_check"],
        "in-photos.contents": [photo], "in-photos.filename": ["sweep.jpg"], "in-save.n_clicks": 1,
        "in-saved.data": {"id": inspection, "day": "2026-12-01", "description": "越权", **where},
        "in-to-hazard.n_clicks": 1, "in-map.clickData": {"latlng": {"lat": 26.09, "lng": 103.19}},
        "dp-period.value": month, "dp-unit.value": DONGCHUAN, "dp-download-button.n_clicks": 1,
        "dp-street.value": "东川演示街道",
        "dp-submit.n_clicks": 1,
        # 晾晒 and reports: the officer forges a snapshot and asks for 东川's bulletin
        "rk-month.value": (dt.date.today().replace(day=1) - dt.timedelta(days=1)).isoformat(),
        "rk-criterion.value": "score", "rk-take.n_clicks": 1,
        "rp-report.value": "bulletin", "rp-scope.value": DONGCHUAN, "rp-period.value": month, "rp-format.value": "docx",
        "rp-generate.n_clicks": 1,
        # reports: submit 东川's report, read another month's matrix and a document by id, change a definition
        "rp-submit.n_clicks": 1, "rp-note.value": "越权报送", "rp-refresh.data": 1, "rp-status-month.value": month,
        "rp-sent.value": 1, "rp-sent-get.n_clicks": 1, "rp-def-report.value": "four_lists",
        "rp-def-field.value": "due_day", "rp-def-value.value": "25", "rp-def-reason.value": "越权修改测试",
        "rp-def-save.n_clicks": 1, "rp-def-reset.n_clicks": 1,
        # 企业信息: the officer files a change of a 东川 enterprise's record, decides a request and reads the grades
        "ei-submit.n_clicks": 1, "ei-f-name.value": "越权测试有限公司", "ei-f-address.value": "东川",
        "ei-f-principal.value": "越权", "ei-f-phone.value": "0871-00000000", "ei-f-industry.value": "other",
        "ei-reason.value": "越权修改测试", "ei-approve.n_clicks": 1, "ei-reject.n_clicks": 1, "ei-pick.value": 1,
        "ei-note.value": "越权测试", "ei-grade.value": ["A", "B", "C", "D"], "ei-district.value": DONGCHUAN,
        # parks: another district's park (西山's: 东川 has none), its list exported; the cockpit's what-if of 东川
        "pk-park.value": "PK-530112-01", "pk-grade.value": ["A", "B", "C", "D"], "pk-export.n_clicks": 1,
        "wi-district.value": DONGCHUAN, "wi-close.n_clicks": 1, "wi-close-n.value": 1, "wi-reset.n_clicks": 1,
        "wi-hex-on.value": ["on"], "wi-hex-size.value": 1000,
        **{f"wi-ind-{code}.value": 0 for code in load_rubric().codes},
    }
    return {
        **campaign,
        "url.pathname": f"/district/{DONGCHUAN}",
        "lang-switch.value": "zh",
        # cockpit
        "districts-layer.clickData": {"properties": {"adcode": DONGCHUAN}},
        "district-table.active_cell": {"row": 0, "column": 0, "column_id": "name"},
        "district-table.derived_viewport_data": [{"adcode": DONGCHUAN}],
        "back-to-city.n_clicks": 1,
        "map-mode.value": "five",
        "selected-district.data": DONGCHUAN,
        "map-layers.value": ["enterprises", "tailings_dams", "pipelines", "hcas", "protection_targets",
                             "risk_points", "hidden_hazards", "findings", "hexes"],
        # trends and changes (cockpit: the whole city, which the officer's scope narrows; district: 东川's)
        "cockpit-trend-scope.data": "city", "cockpit-changes-since.date": "2000-01-01",
        "district-trend-scope.data": DONGCHUAN, "district-changes-since.date": "2000-01-01",
        # planner
        "planner-filter-rule.value": None,
        "planner-filter-district.value": DONGCHUAN,
        "planner-filter-level.value": ["major", "low; DROP TABLE", 1],
        "planner-filter-status.value": ["open", "confirmed", "rectifying", "resolved", "dismissed"],
        "planner-refresh.data": 1,
        "planner-register.active_cell": {"row": 0, "column": 0, "column_id": "id"},
        "planner-register.derived_viewport_data": [{"id": finding}],
        "planner-findings.clickData": {"properties": {"id": finding}},
        "planner-selected-finding.data": finding,
        "planner-status-save.n_clicks": 1,
        "planner-new-status.value": "dismissed",
        "planner-status-note.value": "越权测试",
        "planner-map.clickData": {"latlng": {"lat": 26.09, "lng": 103.19}},
        "planner-draw.geojson": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": DONGCHUAN_POINT}]},
        "planner-upload.contents": upload,
        "planner-upload.filename": "site.csv",
        "planner-goto.n_clicks": 1,
        "planner-tabs.value": "precheck",
        "planner-lon.value": 103.19,
        "planner-lat.value": 26.09,
        "planner-site-store.data": {"geometry": DONGCHUAN_POINT, "source": "coords"},
        "planner-check.n_clicks": 1,
        "planner-use.value": "school",
        "planner-population.value": 500,
        "planner-households.value": None,
        "planner-pdf.n_clicks": 1,
        "planner-last-check.data": {"geometry": DONGCHUAN_POINT, "use": "school", "population": 500,
                                    "households": None},
        # district workspace
        "district-chooser.value": DONGCHUAN,
        "district-adcode.data": DONGCHUAN,
        "district-import-crs.value": "file",
        "district-import-epsg.value": None,
        "district-import-layer.value": "enterprises",
        "district-import-skip.value": [],
        "district-template-btn.n_clicks": 1,
        "district-upload-payload.data": {"filename": "dongchuan.csv", "contents": upload, "size": 300, "at": 1},
        # the confirm of exactly the previewed file, so that the confirm trigger reaches the import itself
        "district-import-confirm.n_clicks": 1,
        "district-import-previewed.data": {"at": 1, "file": "dongchuan.csv", "layer": "enterprises", "crs": "file",
                                           "epsg": None, "skip": False},
        "district-rejects-btn.n_clicks": 1,
        "district-rejects.data": None,
        "district-version.data": 2,
        "district-tabs.value": "basic",
        "district-export-btn.n_clicks": 1,
        "district-export-formats.value": ["xlsx", "geojson"],
        "district-export-crs.value": "cgcs2000",
        "district-export-encoding.value": "UTF-8",
        **{f"district-list-{k}.{p}": [{"adcode": DONGCHUAN}] for k in ("basic", "control", "responsibility",
                                                                        "emergency")
           for p in ("derived_virtual_data", "data")},
        # audit log (administrators only)
        "audit-filter-actor.value": "", "audit-filter-action.value": None,
        "audit-filter-district.value": DONGCHUAN, "audit-filter-dates.start_date": "2020-01-01",
        "audit-filter-dates.end_date": "2100-01-01", "audit-table.page_current": 0, "audit-csv.n_clicks": 1,
        # check rules (administrators change, planners read): the officer forges a change of PIPE_OCCUPY
        "rules-filter-family.value": "pipeline", "rules-filter-only.value": ["unconfirmed", "changed"],
        "rules-refresh.data": 1,
        "rules-table.active_cell": {"row": 0, "column": 0, "column_id": "code", "row_id": "PIPE_OCCUPY|threshold_m"},
        "rules-table.derived_viewport_data": [{"id": "PIPE_OCCUPY|threshold_m", "code": "PIPE_OCCUPY"}],
        "rules-selected.data": {"code": "PIPE_OCCUPY", "path": "threshold_m"},
        "rules-value.value": 1000, "rules-bool.value": "false",
        "rules-reason.value": "越权修改测试 / forged rule change", "rules-save.n_clicks": 1, "rules-reset.n_clicks": 1,
    }


def _callbacks(app: dash.Dash) -> list[tuple[str, dict[str, Any]]]:
    return [(k, cb) for k, cb in app.callback_map.items() if "callback" in cb]  # server-side only


def _spec(item: dict[str, Any]) -> str:
    return f"{item['id']}.{item['property']}"


def test_every_callback_input_has_hostile_values(officer: Officer) -> None:
    hostile = _hostile(officer.owner)
    needed = {_spec(i) for _, cb in _callbacks(officer.app) for i in (*cb["inputs"], *cb["state"])}
    assert needed - hostile.keys() == set()


def test_officer_cannot_reach_another_district(officer: Officer) -> None:
    forbidden = _forbidden(officer.owner)
    assert len(forbidden) > 50  # the demo has plenty of other districts' rows to leak
    hostile = _hostile(officer.owner)
    before = _state(officer.owner)
    calls, refused = 0, set()
    for key, cb in _callbacks(officer.app):
        for trigger in cb["inputs"]:
            resp = post_callback(officer.client, callback_body(officer.app, key, hostile, _spec(trigger)))
            if resp.status_code == 403:  # the role check: a page the officer cannot open (tests/test_callback_roles.py)
                assert "无此权限" in resp.get_data(as_text=True), key
                refused.add(key)
                continue
            calls += 1
            assert resp.status_code in (200, 204), (key, _spec(trigger), resp.status_code,
                                                    resp.get_data(as_text=True)[:500])
            decoded = resp.get_data(as_text=True)
            if resp.status_code == 200:
                decoded = json.dumps(json.loads(decoded), ensure_ascii=False)  # Dash escapes non-ASCII
                decoded += _download_text(json.loads(resp.get_data(as_text=True)))
            leaked = sorted(s for s in forbidden if s in decoded)
            assert not leaked, (key, _spec(trigger), leaked[:5])
    assert calls >= 40
    # the planner's, the audit log's and the rule values' callbacks are refused before they run; the
    # officer's own pages' are not
    other_pages = {k for k, _ in _callbacks(officer.app) if k.strip(".").startswith(("planner-", "audit-", "rules-"))}
    assert len(other_pages) >= 10 and other_pages <= refused
    assert not {k for k in refused if k.strip(".").startswith(("district-", "in-", "dp-", "hz-table"))}
    assert _state(officer.owner) == before


def test_officer_cannot_remind_another_districts_hazard(officer: Officer) -> None:
    """The hostile run again with the bulk action 催办: every callback reading it reaches the reminder path."""
    forbidden = _forbidden(officer.owner)
    hostile = {**_hostile(officer.owner), "hz-bulk-action.value": "remind"}
    before = _state(officer.owner)
    reached = 0
    for key, cb in _callbacks(officer.app):
        if "hz-bulk-action.value" not in {_spec(i) for i in (*cb["inputs"], *cb["state"])}:
            continue
        for trigger in cb["inputs"]:
            resp = post_callback(officer.client, callback_body(officer.app, key, hostile, _spec(trigger)))
            assert resp.status_code in (200, 204), (key, _spec(trigger), resp.status_code)
            decoded = json.dumps(resp.get_json(), ensure_ascii=False) if resp.status_code == 200 else ""
            assert not sorted(s for s in forbidden if s in decoded), (key, _spec(trigger))
            # 东川's hazard is refused as not found (row-level security), the forged ids as not hazards
            reached += "不存在或不在本账号范围内" in decoded and "条已催办" in decoded
    assert reached >= 1
    assert _state(officer.owner) == before


def _download_text(payload: Any) -> str:
    """Decoded text of any dcc.Download content in a response (zip members are listed, not opened)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "content" in node and "filename" in node and node.get("base64"):
                raw = base64.b64decode(node["content"])
                out.append(raw.decode("utf-8", errors="ignore"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payload)
    return "\n".join(out)


def test_every_url_rule_is_gated_or_harmless(officer: Officer) -> None:
    forbidden = _forbidden(officer.owner)
    paths = ["/", f"/district/{DONGCHUAN}", "/planner", "/admin/audit", "/_dash-layout", "/_dash-dependencies",
             "/_reload-hash", "/_favicon.ico", "/assets/style.css", "/static/none",
             "/hazards", "/inspect", "/dispatch", "/hazards/new", "/ranking", "/reports",
             "/enterprise-info", "/password", "/parks", "/second-factor", "/second-factor/verify"]
    rules = {r.rule for r in officer.app.server.url_map.iter_rules()}
    assert rules <= {"/static/<path:filename>", "/assets/<path:filename>", "/_dash-update-component",
                     "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>", "/_dash-layout",
                     "/_dash-dependencies", "/_reload-hash", "/_favicon.ico", "/", "/<path:path>", "/login",
                     "/logout", "/attachments/<int:hazard_id>/<sha>", "/password", "/second-factor",
                     "/second-factor/verify"}, \
        "a new URL rule needs a case in this test"
    with officer.owner.connect() as conn:  # a photo of a 东川 hazard, asked for by its own hazard and by a mine
        hid, sha = conn.execute(text("SELECT hazard_id, sha256 FROM attachments WHERE adcode = :d AND hazard_id "
                                     "IS NOT NULL LIMIT 1"), {"d": DONGCHUAN}).one()
        mine = conn.execute(text("SELECT min(id) FROM hidden_hazards WHERE adcode = :a"), {"a": ANNING}).scalar()
    paths += [f"/attachments/{hid}/{sha}", f"/attachments/{mine}/{sha}", "/attachments/1/../../etc/passwd"]
    for path in paths:
        resp = officer.client.get(path)
        body = resp.get_data().decode("utf-8", errors="ignore")
        assert resp.status_code in (200, 204, 302, 404), (path, resp.status_code)
        assert not [s for s in forbidden if s in body], path
        if sha in path:
            assert resp.status_code == 404, path  # another district's photo is not served, by any route
        assert "root:x:0:0" not in body, path


def test_nothing_but_log_in_and_static_files_without_signing_in(officer: Officer) -> None:
    anonymous = officer.app.server.test_client()
    hostile = _hostile(officer.owner)
    for key, cb in _callbacks(officer.app):
        resp = post_callback(anonymous, callback_body(officer.app, key, hostile, _spec(cb["inputs"][0])))
        assert resp.status_code == 401, key
    for path in ("/", f"/district/{ANNING}", "/planner", "/admin/audit", "/_dash-layout", "/_dash-dependencies",
                 "/_reload-hash", "/logout", "/anything"):
        resp = anonymous.get(path)
        assert resp.status_code in (302, 401), (path, resp.status_code)
        if resp.status_code == 302:
            assert resp.headers["Location"].startswith("/login"), path
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/assets/style.css").status_code == 200


def test_oversized_requests_are_refused_before_reading(officer: Officer) -> None:
    from dashboard.app import MAX_REQUEST_BYTES

    body = b'{"output": "x", "padding": "' + b"A" * (MAX_REQUEST_BYTES + 10) + b'"}'
    resp = officer.client.post("/_dash-update-component", data=body, content_type="application/json")
    assert resp.status_code == 413
