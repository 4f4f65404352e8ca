"""Whole columns read at once give what the per-cell readers give (geo.cell_values, issue #16).

:func:`~geo.cell_values.text_column` and :func:`~geo.cell_values.number_column` convert a column once
and read plain text, ``None`` and plain floats without a per-cell call. Here they are compared with
:func:`~geo.cell_values.text_or_none` / :func:`~geo.cell_values.number_or_none` applied cell by cell,
on the awkward cells and on every column type the layers arrive in (object, NumPy, pandas' string
types, Arrow strings, nullable integers, categories), whole and by row positions.
"""

from __future__ import annotations

import decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from geo.cell_values import column_values, number_column, number_or_none, text_column, text_or_none
from geo.checks.findings import Bilingual

SEED = 20261206

#: Awkward cells of an object column: every kind of missing, blank and whitespace text (Python's
#: whitespace, which Arrow's trim does not all share), numbers and numeric text, str subclasses,
#: NumPy scalars and containers.
TRICKY: list[Any] = [
    None, float("nan"), np.nan, pd.NA, pd.NaT, np.datetime64("NaT"), decimal.Decimal("NaN"), "", " ", "  ",
    "\t\n", "\u3000", "\x1c\x1f", "\u2028安宁\u2029", " 安宁市 ", "昆明 / Kunming", "0", " 12 ", "1e3", "inf",
    "nan", 0, 12, -3, 1.5, float("inf"), -0.0, 1e400, True, False, np.bool_(True), np.int64(7),
    np.float32(0.5), np.float64("nan"), np.str_("  np  "), decimal.Decimal("2.25"), Bilingual(" 中 ", "en "),
    Bilingual("  "), [1], [], (), {"a": 1}, np.array([np.nan]), np.array([1.0, 2.0]), b" bytes ",
    pd.Timestamp("2026-12-06"),
]

STRINGS: list[Any] = [" 安宁 ", "", "  ", None, "\u3000", "昆明", "\x1c", "a b ", "12", " 1e3 ", "nan"]


def _frames() -> list[tuple[str, pd.DataFrame]]:
    """One single-column frame per column type a layer may come in."""
    out = [("object tricky", pd.DataFrame({"v": pd.Series(TRICKY, dtype=object)}))]
    for dtype in ("object", "string[python]", "string[pyarrow]", pd.ArrowDtype(pa.string()),
                  pd.ArrowDtype(pa.large_string()), "str"):
        out.append((f"strings {dtype}", pd.DataFrame({"v": pd.Series(STRINGS, dtype=dtype)})))
    out.append(("pyarrow chunked", pd.DataFrame({"v": pd.Series(pd.arrays.ArrowExtensionArray(
        pa.chunked_array([[" a ", None], ["", "b"]])))})))
    out.append(("float64", pd.DataFrame({"v": [1.5, np.nan, np.inf, -np.inf, 0.0, -0.0, 1e308, 3e-6]})))
    out.append(("int64", pd.DataFrame({"v": np.array([0, -1, 2**62], dtype=np.int64)})))
    out.append(("Int64", pd.DataFrame({"v": pd.array([1, None, 3], dtype="Int64")})))
    out.append(("Float64", pd.DataFrame({"v": pd.array([1.5, None, np.nan], dtype="Float64")})))
    out.append(("boolean", pd.DataFrame({"v": pd.array([True, None, False], dtype="boolean")})))
    out.append(("category", pd.DataFrame({"v": pd.Categorical([" a ", None, "b", " a "])})))
    out.append(("arrow double", pd.DataFrame({"v": pd.Series([1.0, None, float("inf")],
                                                             dtype=pd.ArrowDtype(pa.float64()))})))
    out.append(("empty", pd.DataFrame({"v": pd.Series([], dtype="str")})))
    return out


FRAMES = _frames()


def _same(got: list[Any], want: list[Any]) -> None:
    """Equal cell by cell, with the same types (NaN is compared as NaN)."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert type(g) is type(w), (g, w)
        assert g == w or (g != g and w != w), (g, w)


@pytest.mark.parametrize(("label", "frame"), FRAMES, ids=[label for label, _ in FRAMES])
def test_text_column_reads_like_text_or_none_cell_by_cell(label: str, frame: pd.DataFrame) -> None:
    cells = frame["v"].tolist()
    want = [text_or_none(v) for v in cells]
    _same(text_column(frame, "v"), want)
    rows = np.array([len(cells) - 1, 0, 0, len(cells) // 2], dtype=np.int64) if cells else np.array([], dtype=int)
    _same(text_column(frame, "v", rows), [want[i] for i in rows])
    _same(text_column(frame, "v", rows.tolist()), [want[i] for i in rows])


@pytest.mark.parametrize(("label", "frame"), FRAMES, ids=[label for label, _ in FRAMES])
def test_number_column_reads_like_number_or_none_cell_by_cell(label: str, frame: pd.DataFrame) -> None:
    cells = frame["v"].tolist()
    want = [number_or_none(v) for v in cells]
    _same(number_column(frame, "v"), want)
    rows = list(range(len(cells)))[::-1]
    _same(number_column(frame, "v", rows), [want[i] for i in rows])


def test_text_column_keeps_the_text_of_str_subclasses_plain() -> None:
    frame = pd.DataFrame({"v": pd.Series([Bilingual(" 中 ", "en"), np.str_(" x ")], dtype=object)})
    got = text_column(frame, "v")
    assert got == ["中  / en", "x"]
    assert [type(v) for v in got] == [str, str]  # str(value).strip(), as text_or_none gives


def test_rows_read_positions_not_labels_and_absent_columns_are_none() -> None:
    frame = pd.DataFrame({"v": pd.Series([" a ", "b", None], dtype=object)}).set_axis([10, 0, 1])
    assert column_values(frame, "v", [1, 2]) == ["b", None]
    assert text_column(frame, "v", np.array([0, 1])) == ["a", "b"]
    assert text_column(frame, "absent", [2, 2, 0]) == [None, None, None]
    assert number_column(frame, "absent") == [None, None, None]
    assert column_values(frame, "v", []) == []


# ---------------------------------------------------------------------------
# findings built from columns equal findings built from records
# ---------------------------------------------------------------------------

def _records_and_columns(rule: Any, count: int, **cells: Any) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """The same findings made one record at a time (:func:`finding`) and as columns (:func:`finding_columns`)."""
    from geo.checks.findings import finding, finding_columns

    def at(value: Any, i: int) -> Any:
        return value[i] if isinstance(value, list | np.ndarray) else value

    records = [finding(rule, **{k: at(v, i) for k, v in cells.items()}) for i in range(count)]
    return records, finding_columns(rule, count, **cells)


def test_findings_from_columns_equal_findings_from_records() -> None:
    import geopandas as gpd
    from geopandas.testing import assert_geodataframe_equal
    from shapely.geometry import LineString, Point

    from geo.checks.findings import findings_frame, findings_from_columns, records_columns
    from geo.checks.ruleset import load_ruleset

    rules = load_ruleset()
    n = 5
    geoms = [Point(102.7, 25.0), LineString([(102.7, 25.0), (102.8, 25.1)]), None, Point(0, 0), Point(1, 1)]
    safety = _records_and_columns(  # measured and required all None, one geometry for all
        rules["TAIL_SAFETY"], 3, subject_type="tailings_dams", subject_key=["T1", "T2", "T3"],
        subject_name=["尾矿库", None, " "], object_type="tailings_dams", object_key=np.array(["T1", "T2", "T3"]),
        object_name=None, measured_m=None, required_m=None, verdict="violation", adcode=[None, "530181", None],
        geometry=Point(102.7, 25.0), detail=Bilingual("危库", "danger"))
    overhead = _records_and_columns(  # numbers, numeric keys, mixed missing names and codes, plain-text details
        rules["TAIL_OVERHEAD"], n, subject_type="tailings_dams", subject_key=[1, 2, 3, 4, 5],
        subject_name=[None] * n, object_type="buildings", object_key=np.arange(n),
        object_name=["楼", None, "", "  ", "x"], measured_m=np.array([0.004, 12.345, 1000.0, 2.675, 1e-9]),
        required_m=1000, verdict="screen", adcode=None, geometry=geoms,
        detail=["只有中文", Bilingual("中", "en"), "", Bilingual("中 / 文", ""), "x"])
    declared = _records_and_columns(  # one finding, measured without and with a value
        rules["ESD_DECLARED"], 2, subject_type="enterprises", subject_key="E1", subject_name="厂",
        object_type="protection_targets", object_key=["P1", "P2"], object_name=["学校", "医院"],
        measured_m=[None, 3.0], required_m=[None, 250.5], verdict="violation", adcode="530102",
        geometry=[None, None])
    cases = [[safety], [overhead], [declared], [safety, overhead], [overhead, safety, declared],
             [declared, safety], [safety, (_records_and_columns(rules["TAIL_SAFETY"], 0, subject_type="x",
                                              subject_key=[], subject_name=None, object_type="y", object_key=[],
                                              object_name=None, measured_m=None, required_m=None,
                                              verdict="violation", adcode=None, geometry=[]))]]
    for parts in cases:
        want = findings_frame([r for records, _ in parts for r in records])
        got = findings_from_columns([cols for _, cols in parts])
        assert_geodataframe_equal(got, want, check_dtype=True, check_index_type=True)
        assert list(got.dtypes.astype(str)) == list(want.dtypes.astype(str))
        assert [type(d) for d in got["detail"]] == [type(d) for d in want["detail"]]
        assert [(d.zh, d.en) for d in got["detail"] if isinstance(d, Bilingual)] == \
            [(d.zh, d.en) for d in want["detail"] if isinstance(d, Bilingual)]
        again = findings_from_columns([records_columns(r for records, _ in parts for r in records)])
        assert_geodataframe_equal(again, want, check_dtype=True)
    assert_geodataframe_equal(findings_from_columns([]), findings_frame([]), check_dtype=True)
    assert isinstance(findings_from_columns([]), gpd.GeoDataFrame)


def test_finding_columns_refuse_a_wrong_length_or_verdict() -> None:
    from geo.checks.findings import finding_columns
    from geo.checks.ruleset import load_ruleset

    rule = load_ruleset()["ESD_DECLARED"]
    cells: dict[str, Any] = {"subject_type": "enterprises", "subject_key": ["E1", "E2"], "subject_name": None,
                             "object_type": "protection_targets", "object_key": ["P1"], "object_name": None,
                             "measured_m": None, "required_m": None, "adcode": None, "geometry": None}
    with pytest.raises(ValueError, match="object_key"):
        finding_columns(rule, 2, verdict="violation", **cells)
    with pytest.raises(ValueError, match="verdict"):
        finding_columns(rule, 1, verdict="maybe", **{**cells, "subject_key": "E1"})


# ---------------------------------------------------------------------------
# the families that build their findings from columns give what one record per finding gave
# ---------------------------------------------------------------------------

def _city(seed: int) -> Any:
    """Enterprises, targets, ponds and buildings in metres around the Kunming base point, with awkward cases.

    Targets exactly at an enterprise's declared distance (exclusive: not found) and a millimetre inside
    it; receptors exactly at the 1 km of a toe (inclusive: found); missing and blank names and codes;
    enterprises without a declared distance; buildings of uses that are and are not receptors.
    """
    from shapely.geometry import Point, box

    from tests.catalogue import X0, Y0, bundle

    rng = np.random.default_rng(seed)
    names = ["名", None, "", "  ", " 安宁 "]
    ents, targets, ponds, buildings, contours = [], [], [], [], []
    for i in range(12):
        x, y = X0 + rng.uniform(-4000, 4000), Y0 + rng.uniform(-4000, 4000)
        ext = [None, 0.0, 150.0, 300.5, 640.0][i % 5]
        ents.append({"key": f"E{i}", "name": names[i % 5], "adcode": "530181", "external_distance_m": ext,
                     "installation_status": ["in_service", "new", None][i % 3], "geometry": Point(x, y)})
        for c, (radius, risk) in enumerate([(90.0, 1e-5), (180.0, 3e-6), (350.0, 3e-7)]):
            contours.append({"key": f"C{i}-{c}", "enterprise_key": f"E{i}", "individual_risk": risk,
                             "geometry": Point(x, y).buffer(radius)})
        for k in range(40):
            r = (ext or 200.0) * rng.choice([0.3, 0.9, 1.0, 1.0 - 1e-6, 1.2]) + rng.choice([0.0, -0.001])
            a = rng.uniform(0, 2 * np.pi)
            px, py = x + r * np.cos(a), y + r * np.sin(a)
            geom = Point(px, py) if k % 3 else box(px, py, px + rng.uniform(2, 30), py + rng.uniform(2, 30))
            targets.append({"key": f"P{i}-{k}", "name": names[k % 5], "adcode": [None, "530102", " "][k % 3],
                            "gb36894_class": ["high_sensitivity", "general_1", "important", "other"][k % 4],
                            "geometry": geom})
    for j in range(4):
        x, y = X0 + rng.uniform(-3000, 3000), Y0 + rng.uniform(-3000, 3000)
        ponds.append({"key": f"T{j}", "name": names[j], "adcode": "530181", "design_grade": 2,
                      "safety_degree": ["danger", "normal", "risk", "sick"][j], "geometry": Point(x, y)})
        for k in range(300):
            r = 1000.0 * rng.choice([0.2, 0.8, 1.0, 1.0 + 1e-7, 1.3]) if k % 5 else 1000.0
            a = rng.uniform(0, 2 * np.pi)
            px, py = x + r * np.cos(a), y + r * np.sin(a)
            w = rng.uniform(5, 25)
            geom = Point(px, py) if k % 7 == 0 else box(px, py, px + w, py + w)
            buildings.append({"key": f"B{j}-{k}", "name": names[k % 5], "adcode": [None, "530181"][k % 2],
                              "use": ["residential", "industrial", "public", "commercial", "storage"][k % 5],
                              "geometry": geom})
    return bundle(enterprises=ents, protection_targets=targets, tailings_dams=ponds, buildings=buildings,
                  risk_contours=contours)


def _one_record_each(b: Any, rules: Any) -> Any:
    """ESD_DECLARED and the TAIL_OVERHEAD radial screen the straightforward way: whole layers, a record per pair."""
    import shapely

    from geo.checks.findings import finding, findings_frame
    from geo.checks.metric_frame import to_storage

    records = []
    esd, tail = rules["ESD_DECLARED"], rules["TAIL_OVERHEAD"]
    ents, targets = b.metric("enterprises"), b.metric("protection_targets")
    for _, e in ents.iterrows():
        ext = number_or_none(e["external_distance_m"])
        if ext is None or ext <= 0:
            continue
        for _, t in targets.iterrows():
            d = float(shapely.distance(e.geometry, t.geometry))
            if esd.hit(d, ext):
                records.append(finding(
                    esd, subject_type="enterprises", subject_key=e["key"], subject_name=text_or_none(e["name"]),
                    object_type="protection_targets", object_key=t["key"], object_name=text_or_none(t["name"]),
                    measured_m=d, required_m=ext, verdict="violation", adcode=text_or_none(t["adcode"]),
                    geometry=to_storage([shapely.shortest_line(e.geometry, t.geometry)], b.metric_epsg)[0],
                    detail=Bilingual(f"防护目标距企业{d:.1f}米，小于企业申报的外部安全防护距离{ext:g}米",
                                     f"target {d:.1f} m from the enterprise, inside its declared external safety"
                                     f" distance of {ext:g} m")))
    limit = float(tail.threshold_m)
    for layer, column, listed in (("protection_targets", "gb36894_class", "receptor_target_classes"),
                                  ("buildings", "use", "receptor_building_uses")):
        for _, p in b.metric("tailings_dams").iterrows():
            for _, r in b.metric(layer).iterrows():
                d = float(shapely.distance(p.geometry, r.geometry))
                if r[column] in tail.params[listed] and tail.hit(d):
                    records.append(finding(
                        tail, subject_type="tailings_dams", subject_key=p["key"],
                        subject_name=text_or_none(p["name"]), object_type=layer, object_key=r["key"],
                        object_name=text_or_none(r["name"]), measured_m=d, required_m=limit, verdict="screen",
                        adcode=text_or_none(r["adcode"]),
                        geometry=to_storage([shapely.shortest_line(p.geometry, r.geometry)], b.metric_epsg)[0],
                        detail=Bilingual(f"距初期坝坡脚直线{d:.1f}米（≤{limit:g}米），径向初筛，非流经路径判定，"
                                         "需按下游流经路径核实",
                                         f"{d:.1f} m straight from the starter-dam toe (≤ {limit:g} m): radial"
                                         " pre-screen, not a flow-path finding; confirm along the downstream flow"
                                         " path")))
    return findings_frame(records)


def _canonical(found: Any) -> Any:
    return found.sort_values(["rule_code", "subject_key", "object_type", "object_key"]).reset_index(drop=True)


def test_families_built_from_columns_equal_one_record_per_finding() -> None:
    from geopandas.testing import assert_geodataframe_equal

    from geo.checks.bundle import Bundle
    from geo.checks.ruleset import RuleSet, load_ruleset
    from geo.checks.safety_distance import check_safety_distances
    from geo.checks.tailings import check_tailings

    rules = load_ruleset()
    b = _city(SEED)
    want = _one_record_each(Bundle(dict(b.frames), metric_epsg=b.metric_epsg), rules)
    esd = check_safety_distances(b, RuleSet(rules.version, {"ESD_DECLARED": rules["ESD_DECLARED"]}))
    tail = check_tailings(b, RuleSet(rules.version, {"TAIL_OVERHEAD": rules["TAIL_OVERHEAD"]}))
    got = pd.concat([esd, tail], ignore_index=True)
    assert set(want["rule_code"]) == {"ESD_DECLARED", "TAIL_OVERHEAD"}
    assert (want["object_type"] == "buildings").sum() > 100 and (want["measured_m"] == 1000.0).any()
    assert_geodataframe_equal(_canonical(got), _canonical(want), check_dtype=True)
    assert [(d.zh, d.en) for d in _canonical(got)["detail"]] == [(d.zh, d.en) for d in _canonical(want)["detail"]]


def test_a_family_runs_only_the_rules_it_is_given() -> None:
    from geopandas.testing import assert_geodataframe_equal

    from geo.checks.ruleset import RuleSet, load_ruleset
    from geo.checks.safety_distance import check_safety_distances
    from geo.checks.tailings import check_tailings

    rules = load_ruleset()
    b = _city(SEED + 1)
    for check, codes in ((check_safety_distances, ("ESD_DECLARED", "ESD_IR")),
                         (check_tailings, ("TAIL_SAFETY", "TAIL_OVERHEAD"))):
        whole = check(b, RuleSet(rules.version, {c: rules[c] for c in codes}))
        for code in codes:
            alone = check(b, RuleSet(rules.version, {code: rules[code]}))
            part = whole[whole["rule_code"] == code].reset_index(drop=True)
            assert len(part) > 0, code
            # a rule without distances alone has no float in measured_m: the frame keeps None (object)
            distances = {"measured_m": float, "required_m": float}
            assert_geodataframe_equal(alone.astype(distances), part.astype(distances), check_dtype=True)
        assert len(check(b, RuleSet(rules.version, {}))) == 0
