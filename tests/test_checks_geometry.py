"""Geometry at and around thresholds: multi-part lines, shared corridors, crossing angles, geodesic mileage.

A small catalogue of scenes is built in code, in metres in the CGCS2000 Gauss-Krüger zone of Kunming
(EPSG:4543, central meridian 102°E), inside real Kunming districts. Every scene is checked twice —
from a GeoPackage (file mode, :func:`bundle_from_file`, what ``riskmap check --input`` reads) and after
importing the same layers into PostGIS (database mode, :func:`bundle_from_store`) — and both modes must
give identical findings before the scene's own assertions run.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box

from geo.checks.bundle import Bundle
from geo.checks.hca import location_classes
from geo.checks.mileage import Chainage
from geo.checks.ruleset import load_ruleset
from geo.checks.runner import run_checks
from geo.checks.sources import bundle_from_file, bundle_from_store
from geo.crs import geodesic_length
from geo.importer import import_frame

pytestmark = pytest.mark.postgis

EPSG = 4543
AS_OF = dt.date(2026, 11, 1)
DISTRICTS = Path(__file__).resolve().parent.parent / "data" / "kunming_districts.geojson"
#: 安宁市, about 47 km east of the central meridian.
ANNING = Transformer.from_crs(4490, EPSG, always_xy=True).transform(102.47, 24.92)
STAKE = re.compile(r"里程 K(\d+)\+(\d{3})")
ANGLE = re.compile(r"交角 ([0-9.]+)°")
FAMILIES = ["pipeline", "hca"]


def stake_m(detail: str) -> int:
    km, m = STAKE.search(detail).groups()
    return int(km) * 1000 + int(m)


class Scene:
    """Layers in metres relative to an origin in EPSG:4543; each row's district is found from its geometry."""

    def __init__(self, origin: tuple[float, float] = ANNING) -> None:
        self.x0, self.y0 = origin
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.districts = gpd.read_file(DISTRICTS).to_crs(4490)

    def _adcode(self, geom_4490: Any) -> str:
        hits = self.districts[self.districts.intersects(geom_4490.representative_point())]
        return str(hits["adcode"].iloc[0])

    def add(self, layer: str, geom: Any, **attrs: Any) -> str:
        moved = shapely.affinity.translate(geom, self.x0, self.y0)
        geom_4490 = gpd.GeoSeries([moved], crs=EPSG).to_crs(4490).iloc[0]
        row = {**attrs, "geometry": geom_4490}
        if layer != "pipelines":
            row.setdefault("adcode", self._adcode(geom_4490))
        self.rows.setdefault(layer, []).append(row)
        return str(attrs["code"])

    def pipe(self, code: str, parts: list[list[tuple[float, float]]], *, medium: str = "gas",
             start: float = 0.0) -> str:
        return self.add("pipelines", MultiLineString(parts), code=code, name=f"测试管道{code}", medium=medium,
                        outside_diameter_mm=508.0, maop_mpa=6.3, operator="测试公司", start_mileage_m=start)

    def frames(self) -> dict[str, gpd.GeoDataFrame]:
        out = {}
        for layer, rows in self.rows.items():
            attrs = pd.DataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in rows])
            out[layer] = gpd.GeoDataFrame(attrs, geometry=[r["geometry"] for r in rows], crs=4490)
        return out


def _file_bundle(scene: Scene, path: Path) -> Bundle:
    path.unlink(missing_ok=True)
    gpd.read_file(DISTRICTS).to_crs(4490).to_file(path, layer="districts", driver="GPKG")
    for layer, frame in scene.frames().items():
        frame.to_file(path, layer=layer, driver="GPKG")
    return bundle_from_file(path)


def _db_bundle(scene: Scene, engine: Any) -> Bundle:
    for layer, frame in scene.frames().items():
        report = import_frame(engine, layer, frame, source_name=f"{layer}.gpkg")
        assert report.rows_imported == len(frame), [i.text("both") for i in report.issues]
    return bundle_from_store(engine)


def _rows(findings: pd.DataFrame) -> list[tuple[Any, ...]]:
    out = []
    for r in findings.itertuples(index=False):
        m = None if r.measured_m is None or r.measured_m != r.measured_m else round(float(r.measured_m), 2)
        out.append((r.rule_code, r.subject_key, r.object_type, r.object_key, r.verdict, m, str(r.detail)))
    return sorted(out, key=lambda t: tuple(str(v) for v in t))


def both_modes(scene: Scene, engine: Any, tmp_path: Path) -> tuple[Bundle, gpd.GeoDataFrame]:
    """Run the pipeline and HCA families in file mode and database mode; assert identical findings."""
    file_bundle = _file_bundle(scene, tmp_path / "scene.gpkg")
    db_bundle = _db_bundle(scene, engine)
    assert file_bundle.metric_epsg == db_bundle.metric_epsg == EPSG
    in_file = run_checks(file_bundle, families=FAMILIES, as_of=AS_OF).findings
    in_db = run_checks(db_bundle, families=FAMILIES, as_of=AS_OF).findings
    assert _rows(in_file) == _rows(in_db)
    assert len(in_file) > 0
    return db_bundle, in_db


def _rule(found: pd.DataFrame, code: str) -> pd.DataFrame:
    return found[found["rule_code"] == code].reset_index(drop=True)


def _metric(geom_4490: Any) -> Any:
    return gpd.GeoSeries([geom_4490], crs=4490).to_crs(EPSG).iloc[0]


# --------------------------------------------------------------------------- multi-part line with a gap


def test_multipart_line_with_a_7_km_gap(engine, tmp_path) -> None:
    scene = Scene()
    # 5 km of pipe, a 7 km gap (no pipe), 8 km of pipe: 13 km of pipe in all
    scene.pipe("GAP", [[(0.0, 0.0), (5000.0, 0.0)], [(12000.0, 0.0), (20000.0, 0.0)]])
    scene.add("buildings", Polygon([(15000.0, 3.0), (15010.0, 13.0), (14990.0, 13.0)]), code="B-AFTER",
              use="residential")  # its nearest point is 3 m off part 2 at x = 15,000
    scene.add("buildings", box(8500.0, 2.0, 8510.0, 12.0), code="B-CHORD", use="residential")  # 2 m off the chord
    scene.add("infrastructure", LineString([(8700.0, -300.0), (8700.0, 300.0)]), code="R-CHORD", kind="road")
    # a village of 120 households 60 m from part 2 at x = 13,000 (pipe mileage 6,000): class 3
    for i in range(12):
        scene.add("buildings", box(12800.0 + 40 * i, 60.0, 12820.0 + 40 * i, 80.0), code=f"V-{i}",
                  use="residential", households=10, floors=2)
    bundle, found = both_modes(scene, engine, tmp_path)

    occupy = _rule(found, "PIPE_OCCUPY")
    assert occupy["object_key"].tolist() == ["B-AFTER"]
    # mileage after the gap: 5,000 m of part 1 + 3,000 m along part 2 (not 15,000, not 8,000 + 7,000)
    assert abs(stake_m(occupy["detail"].iloc[0]) - 8000) <= 1
    assert "不计段间空隙" in occupy["detail"].iloc[0]
    # the chord is not pipe: nothing is reported against the building or the road on it
    assert not found["object_key"].isin(["B-CHORD", "R-CHORD"]).any()

    chord_mid = Point(ANNING[0] + 8500.0, ANNING[1])
    lc = location_classes(bundle, load_ruleset())
    assert lc["to_m"].max() == pytest.approx(13000.0, abs=1.0)  # the line is 13 km of pipe
    three = lc[lc["loc_class"] == "3"]
    assert len(three) == 1 and three["from_m"].iloc[0] < 6000.0 < three["to_m"].iloc[0]
    assert three["from_m"].iloc[0] < 5000.0  # the class-3 stretch runs on over the gap, onto part 1 …
    for geom in [*three.geometry, *_rule(found, "LOC_CLASS").geometry, *_rule(found, "HCA_GAS").geometry]:
        assert _metric(geom).distance(chord_mid) > 3000.0  # … but never along the chord
        assert len(shapely.get_parts(geom)) == 2
    loc = _rule(found, "LOC_CLASS")
    assert len(loc) == 1 and "里程 K" in loc["detail"].iloc[0] and "不计段间空隙" in loc["detail"].iloc[0]


# --------------------------------------------------------------------------- shared corridor


def _corridor_vertices(jitter: float) -> list[tuple[float, float]]:
    return [(x, jitter * (1 if i % 2 else -1) if 0 < x < 10000 else 0.0)
            for i, x in enumerate(range(0, 10001, 250))]


@pytest.mark.parametrize("jitter", [0.0, 0.3], ids=["identical", "near-identical"])
def test_shared_corridor_then_one_true_crossing(engine, tmp_path, jitter: float) -> None:
    scene = Scene()
    shared = [(float(x), 0.0) for x in range(0, 10001, 250)]
    # A and B are laid together for 10 km, then part; B crosses A once, properly, at 56.3°
    scene.pipe("A", [[*shared, (12000.0, 1000.0), (16000.0, 1000.0)]])
    scene.pipe("B", [[*_corridor_vertices(jitter), (12000.0, -1000.0), (14000.0, 2000.0)]], medium="crude")
    _bundle, found = both_modes(scene, engine, tmp_path)

    crossings = _rule(found, "PIPE_CROSSING")
    assert len(crossings) == 1, crossings["detail"].tolist()
    cross = crossings.iloc[0]
    assert (cross.subject_key, cross.object_key, cross.verdict) == ("A", "B", "inventory")
    assert float(ANGLE.search(cross.detail).group(1)) == pytest.approx(math.degrees(math.atan2(3000, 2000)), abs=0.1)
    assert _metric(cross.geometry).distance(Point(ANNING[0] + 12000 + 2000 * 2 / 3, ANNING[1] + 1000)) < 0.01

    laid = _rule(found, "PIPE_PARALLEL")
    assert len(laid) == 1
    row = laid.iloc[0]
    assert (row.subject_key, row.object_key, row.verdict) == ("A", "B", "inventory")  # information: no value
    assert row.measured_m == pytest.approx(0.0, abs=0.01)  # minimum spacing
    length = float(re.search(r"长 ([0-9.]+) m", row.detail).group(1))
    assert 10000.0 <= length <= 10060.0
    assert "里程 K0+000–K10+0" in row.detail and "未给出" in row.detail
    rule = load_ruleset()["PIPE_PARALLEL"]
    assert rule.confidence == "unconfirmed" and "GB 50251" in rule.clause and "GB 50253" in rule.clause


# --------------------------------------------------------------------------- crossing angle at 30°


def _road(x: float, angle_deg: float, half: float = 300.0) -> LineString:
    a = math.radians(angle_deg)
    return LineString([(x - half * math.cos(a), -half * math.sin(a)), (x + half * math.cos(a), half * math.sin(a))])


def test_crossing_angle_compared_unrounded(engine, tmp_path) -> None:
    scene = Scene()
    scene.pipe("P", [[(0.0, 0.0), (12000.0, 0.0)]])
    for code, x, angle in (("R-2996", 2000.0, 29.96), ("R-3000", 6000.0, 30.0), ("R-3004", 10000.0, 30.04),
                           ("R-2950", 4000.0, 29.5)):
        scene.add("infrastructure", _road(x, angle), code=code, kind="road")
    _bundle, found = both_modes(scene, engine, tmp_path)
    crossings = _rule(found, "PIPE_CROSSING").set_index("object_key")
    assert sorted(crossings.index) == ["R-2950", "R-2996", "R-3000", "R-3004"]
    # 29.96° is shown as 30.0° but is below 30°: flagged; exactly 30° and 30.04° comply (inclusive: false)
    assert crossings.loc["R-2996", "verdict"] == "violation"
    assert "交角 30.0°(小于 30°)" in crossings.loc["R-2996", "detail"]
    assert crossings.loc["R-2950", "verdict"] == "violation"
    assert crossings.loc["R-3000", "verdict"] == "inventory"
    assert crossings.loc["R-3004", "verdict"] == "inventory" and "交角 30.0°" in crossings.loc["R-3004", "detail"]
    assert load_ruleset()["PIPE_CROSSING"].inclusive is False


# --------------------------------------------------------------------------- geodesic mileage


def test_mileage_far_from_the_central_meridian_is_geodesic(engine, tmp_path) -> None:
    scene = Scene(origin=(650_000.0, 2_723_000.0))  # 石林, 150 km east of 102°E
    scene.pipe("FAR", [[(0.0, 0.0), (0.0, 20000.0)]], start=1000.0)
    scene.add("buildings", Polygon([(3.0, 19985.0), (13.0, 19980.0), (13.0, 19990.0)]), code="B-END",
              use="residential")  # nearest point 3 m off the line at grid y = 19,985
    bundle, found = both_modes(scene, engine, tmp_path)

    line = bundle["pipelines"].geometry.iloc[0]
    lon, lat = shapely.get_coordinates(line).T
    geod = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid (same a and f)
    geodesic = geod.line_length(lon, lat)
    grid = bundle.metric("pipelines").geometry.iloc[0].length
    assert grid - geodesic > 5.0  # the grid length is several metres too long here
    chain = Chainage.of(bundle.metric("pipelines").geometry.iloc[0], bundle.metric_epsg, 1000.0)
    assert abs(chain.length - geodesic) <= 0.5
    assert abs(geodesic_length(line) - geodesic) <= 0.01  # what lengths that are shown should use
    lc = location_classes(bundle, load_ruleset())
    assert abs(lc["to_m"].max() - (1000.0 + geodesic)) <= 0.5

    occupy = _rule(found, "PIPE_OCCUPY").iloc[0]
    foot = Transformer.from_crs(EPSG, 4490, always_xy=True).transform(650_000.0, 2_723_000.0 + 19985.0)
    along = geod.line_length([lon[0], foot[0]], [lat[0], foot[1]])
    assert abs(stake_m(occupy.detail) - (1000.0 + along)) <= 1.0  # a stake is rounded to the metre
    assert abs(stake_m(occupy.detail) - (1000.0 + 19985.0)) > 4.0  # … and it is not the grid distance
