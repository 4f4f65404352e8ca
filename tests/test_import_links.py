"""One district's import must not change what another district sees.

1. A plant part (layer ``installations``) may be linked only to an enterprise of its own district:
   the importer refuses a link to another district's enterprise (for every account), warns about an
   enterprise not in the store, and the MHS check ignores such a part for that enterprise anyway.
2. A district officer may not re-import (change) a stored pipeline that crosses other districts too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point
from sqlalchemy import Engine

from geo import store
from geo.checks.mhs import mhs_table, mhs_units
from geo.checks.ruleset import load_ruleset
from geo.errors import ImportValidationError
from geo.importer import check_file, import_file
from geo.store import Scope, scoped
from tests.clients import session_for
from tests.import_files import credit_code, write_xlsx
from tests.test_checks_mhs import AMMONIA_30, ENT, enterprise, tank, target, unit
from tests.test_checks_mhs import bundle as mhs_bundle
from tests.test_import_concurrency import ANNING, OFFICER, officer_row, query

XISHAN = "530112"
XISHAN_POINT = (102.66, 24.98)  # 西山区
#: 安宁市 → 西山区
SHARED_ROUTE = [(102.45, 24.92), (102.66, 24.98)]
ANNING_ROUTE = [(102.44, 24.91), (102.47, 24.92)]


@pytest.fixture
def app(engine: Engine, app_engine: Engine) -> Engine:
    """An engine connecting as the application role, applying the thread's scope (row-level security).

    The accounts and sessions of the tests' scopes are made first, so that row counts taken before an
    import are not changed by them.
    """
    for scope in (OFFICER, Scope(all_districts=True, actor="leader")):
        session_for(engine, scope)
    return app_engine


# --------------------------------------------------------------------------- 1. installations


def part_row(i: int, owner: str, adcode: str = ANNING) -> dict[str, Any]:
    """An installation row with Chinese headers (the link column is "统一社会信用代码")."""
    return {"编号": f"INS-{i}", "名称": f"{i}号罐组", "统一社会信用代码": owner, "行政区划代码": adcode,
            "装置类别": "液化烃罐组", "经度": 102.44 + i * 0.003, "纬度": 24.915}


@pytest.fixture
def enterprises(engine: Engine, tmp_path: Path) -> dict[str, str]:
    """One enterprise in 安宁市 and one in 西山区, imported by the database owner."""
    path = write_xlsx(tmp_path / "企业.xlsx", [officer_row(0), officer_row(1, XISHAN, XISHAN_POINT)])
    import_file(engine, "enterprises", path)
    return {ANNING: credit_code(500, ANNING), XISHAN: credit_code(501, XISHAN)}


@pytest.mark.postgis
def test_a_part_linked_to_another_districts_enterprise_is_refused(engine, app, enterprises, tmp_path) -> None:
    path = write_xlsx(tmp_path / "装置.xlsx", [part_row(0, enterprises[ANNING]), part_row(1, enterprises[XISHAN])])
    before = store.row_counts(engine)
    for scope, eng in ((OFFICER, app), (None, engine), (Scope(all_districts=True, actor="leader"), app)):
        with scoped(scope), pytest.raises(ImportValidationError) as info:
            import_file(eng, "installations", path, actor="anning")
        assert store.row_counts(engine) == before, scope
        errors = [i for i in info.value.issues if i.severity == "error"]
        assert [(i.file, i.row, i.field) for i in errors] == [("装置.xlsx", "第3行 / row 3", "统一社会信用代码")]
        code = enterprises[XISHAN]
        assert errors[0].zh == f"所属企业“{code}”属于 530112 西山区，与本行的 530181 安宁市不同"
        assert errors[0].en == (f"the enterprise {code} belongs to 530112 西山区, "
                                "not to this row's district 530181 安宁市")

    with scoped(OFFICER):  # the preview shows it; skip_invalid imports the good row only
        _, _, result = check_file(app, "installations", path)
        assert result.record_rows == [0] and sorted(result.rejected_rows) == [1]
        report = import_file(app, "installations", path, skip_invalid=True, actor="anning")
    assert (report.rows_imported, report.rows_rejected) == (1, 1)
    assert query(engine, "SELECT key, enterprise_credit_code FROM installations") == [
        {"key": "INS-0", "enterprise_credit_code": enterprises[ANNING]}]


@pytest.mark.postgis
def test_an_officer_importing_another_districts_credit_code_gets_a_clear_refusal(engine, app, enterprises,
                                                                                 tmp_path) -> None:
    code = enterprises[XISHAN]  # stored in 西山区; the officer's file claims it for 安宁市
    path = write_xlsx(tmp_path / "企业.xlsx", [officer_row(5), officer_row(6, **{"统一社会信用代码*": code})])
    before = store.row_counts(engine)
    with scoped(OFFICER), pytest.raises(ImportValidationError) as info:
        import_file(app, "enterprises", path, actor="anning")
    assert store.row_counts(engine) == before
    errors = [i for i in info.value.issues if i.severity == "error"]
    assert [(i.file, i.row, i.field) for i in errors] == [("企业.xlsx", "第3行 / row 3", "统一社会信用代码*")]
    assert errors[0].zh == f"统一社会信用代码“{code}”的企业不属于本区县，只能由其所属区县或市级账号修改"
    assert "row-level security" not in str(info.value) and "policy" not in str(info.value)


@pytest.mark.postgis
def test_same_district_link_imports_and_an_unknown_enterprise_only_warns(engine, app, enterprises, tmp_path) -> None:
    unknown = credit_code(999, ANNING)
    path = write_xlsx(tmp_path / "装置.xlsx", [part_row(0, enterprises[ANNING]), part_row(1, unknown)])
    with scoped(OFFICER):
        report = import_file(app, "installations", path, actor="anning")
    assert (report.rows_imported, report.rows_rejected) == (2, 0)
    warnings = [(i.row, i.field, i.zh) for i in report.issues if i.field == "统一社会信用代码"]
    assert warnings == [("第3行 / row 3", "统一社会信用代码", f"企业图层中没有统一社会信用代码为“{unknown}”的企业")]
    assert all(i.severity == "warning" for i in report.issues)
    assert {r["key"] for r in query(engine, "SELECT key FROM installations")} == {"INS-0", "INS-1"}


def test_mhs_ignores_a_part_of_another_district() -> None:
    """A part in 西山区 linked to the 安宁市 enterprise ENT is not one of its units (nor widens its boundary)."""
    rules = load_ruleset()
    x, y = 500000.0, 2760000.0
    own = unit("U1", tank(x, y), AMMONIA_30)
    foreign = unit("U2", tank(x + 2000.0, y), AMMONIA_30) | {"adcode": XISHAN}  # same owner code, other district
    village = target("V", Point(x + 2300.0, y), 120)  # only near the foreign part
    alone = mhs_bundle(enterprises=[enterprise(x - 100.0, y, None)], installations=[own],
                       protection_targets=[village])
    linked = mhs_bundle(enterprises=[enterprise(x - 100.0, y, None)], installations=[own, foreign],
                        protection_targets=[village])
    assert mhs_table(linked, rules).equals(mhs_table(alone, rules))
    units = mhs_units(linked, rules)
    assert units["unit_key"].tolist() == ["U1"]
    # the same part in the enterprise's own district does count (and brings the village within 500 m)
    same = mhs_bundle(enterprises=[enterprise(x - 100.0, y, None)],
                      installations=[own, unit("U2", tank(x + 2000.0, y), AMMONIA_30)], protection_targets=[village])
    assert sorted(mhs_units(same, rules)["unit_key"]) == ["U1", "U2"]
    assert row_people(same) > row_people(linked) == 0


def row_people(b: Any) -> int:
    return int(mhs_table(b, load_ruleset()).set_index("credit_code").loc[ENT, "people"])


# --------------------------------------------------------------------------- 2. shared pipelines


def pipeline_file(path: Path, rows: list[tuple[str, list[tuple[float, float]], float]]) -> Path:
    common = {"medium": "gas", "maop_mpa": 6.3, "operator": "测试管道公司"}
    gdf = gpd.GeoDataFrame([{"code": code, "name": f"{code}线", "outside_diameter_mm": od} | common
                            for code, _, od in rows],
                           geometry=[shapely.LineString(route) for _, route, _ in rows], crs=4490)
    gdf.to_file(path, driver="GeoJSON")
    return path


def stored_pipelines(engine: Engine) -> list[dict[str, Any]]:
    return query(engine, "SELECT key, outside_diameter_mm, adcodes, batch_id FROM pipelines ORDER BY key")


@pytest.mark.postgis
def test_officer_cannot_change_a_shared_pipeline(engine, app, tmp_path) -> None:
    import_file(engine, "pipelines", pipeline_file(tmp_path / "全市.geojson", [("P-SH", SHARED_ROUTE, 508.0),
                                                                              ("P-AN", ANNING_ROUTE, 508.0)]))
    before, rows = store.row_counts(engine), stored_pipelines(engine)
    assert [r["adcodes"] for r in rows] == [[ANNING], [XISHAN, ANNING]]

    changed = pipeline_file(tmp_path / "改管径.geojson", [("P-SH", SHARED_ROUTE, 610.0)])
    with scoped(OFFICER), pytest.raises(ImportValidationError) as info:
        import_file(app, "pipelines", changed, actor="anning")
    assert store.row_counts(engine) == before and stored_pipelines(engine) == rows
    errors = [i for i in info.value.issues if i.severity == "error"]
    assert [(i.row, i.field) for i in errors] == [("要素1 / feature 1", "几何(geometry)")]
    assert errors[0].zh == "该管道经过多个区县(530112 西山区、530181 安宁市)，只能由市级账号修改"
    assert errors[0].en == ("this pipeline crosses several districts (530112 西山区, 530181 安宁市); "
                            "only a city-wide account may change it")

    own = pipeline_file(tmp_path / "本辖区.geojson", [("P-AN", ANNING_ROUTE, 610.0)])
    with scoped(OFFICER):
        report = import_file(app, "pipelines", own, actor="anning")
    assert report.rows_imported == 1
    after = {r["key"]: r["outside_diameter_mm"] for r in stored_pipelines(engine)}
    assert after == {"P-AN": 610.0, "P-SH": 508.0}

    with scoped(Scope(all_districts=True, actor="leader")):  # a city-wide account may change it
        import_file(app, "pipelines", changed, actor="leader")
    assert {r["key"]: r["outside_diameter_mm"] for r in stored_pipelines(engine)}["P-SH"] == 610.0
