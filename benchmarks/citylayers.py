"""The layers that make the synthetic city *rich*: every check family gets work.

:func:`benchmarks.citygen.generate_city` builds the base city (districts, pipelines, buildings,
enterprises, contours, protection targets, tailings ponds, roads, fuel stations, water sources);
:func:`add_rich_layers` then adds, from its own random stream (so the base layers stay what they
were for a seed):

- plant parts (``installations``) of the hazardous-chemical enterprises with substance
  inventories (GB 18218 S = Σq/Q above and below 1, declared grades above and below the computed
  one), so ``mhs`` and ``code_separation`` fire;
- declared high-consequence areas on the pipelines (some identified more than 18 months ago);
- protection targets of every type of the data dictionary;
- rivers named as the Yangtze main stem and an important tributary, with tailings ponds under
  construction and new chemical enterprises near them (``siting``), railways, pipeline stations,
  power lines and reservoirs (``pipeline`` spacing and crossings);
- risk points and hidden hazards (read by no check, but loaded, validated and written in the
  end-to-end rows).

:func:`city_dem` is a synthetic elevation grid over the square for the 头顶库 flow path.
Everything is in metres in EPSG:4543 and returned in EPSG:4490, deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.checks.tailings import DemGrid
from geo.layer_specs import PT_TYPES

#: Parts of a hazardous-chemical plant: (part_type, fire class, width m, depth m, substance entries).
#: Substance entries are (name with CAS or category, lowest t, highest t); tonnes are drawn between.
PARTS: tuple[tuple[str, str | None, float, float, tuple[tuple[str, float, float], ...]], ...] = (
    ("lpg_tank_group", "甲", 50.0, 40.0, (("液化石油气:68476-85-7", 20.0, 900.0),)),
    ("flammable_liquid_tank_group", "甲", 70.0, 50.0, (("汽油:86290-81-5", 100.0, 3000.0),)),
    ("flammable_liquid_tank_group", "丙", 60.0, 45.0, (("柴油:易燃液体类别3", 500.0, 5000.0),)),
    ("process_unit", "甲", 60.0, 40.0, (("甲苯", 20.0, 200.0), ("甲醇", 50.0, 300.0))),
    ("process_unit", "乙", 50.0, 30.0, (("氯", 2.0, 80.0),)),
    ("class_a_warehouse", "甲", 30.0, 15.0, (("白磷", 5.0, 60.0),)),
    ("class_b_warehouse", "乙", 40.0, 20.0, (("硝酸(>70%)", 10.0, 60.0),)),
    ("class_ab_factory", "甲", 48.0, 20.0, (("甲苯", 5.0, 20.0),)),
    ("important_facility", None, 30.0, 20.0, ()),
    ("flare", None, 0.0, 0.0, ()),
)
RIVER_SUBKINDS = ("金沙江(长江干流)", "长江重要支流")


def _walk(rng: np.random.Generator, start: np.ndarray, length_m: float, step: float,
          lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    n = int(length_m / step) + 1
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.1, n))
    pts = start + np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]) * step, axis=0)
    return np.clip(np.vstack([start, pts]), lo, hi)


def _substring(line: shapely.LineString, start: float, end: float) -> shapely.MultiLineString:
    pts = [line.interpolate(s) for s in np.linspace(start, end, max(2, int((end - start) / 100.0) + 2))]
    return shapely.MultiLineString([shapely.LineString(pts)])


def add_rich_layers(frames: dict[str, gpd.GeoDataFrame], *, seed: int, scale: float, epsg: int,
                    box: tuple[float, float, float, float], locate: Callable[[np.ndarray], np.ndarray],
                    points: Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]],
                    to_frame: Callable[[dict[str, object], np.ndarray], gpd.GeoDataFrame]) -> None:
    """Add the rich layers to ``frames`` (EPSG:4490 frames of the base city), in place.

    Parameters
    ----------
    frames : dict of GeoDataFrame
        The base city's layers; ``infrastructure``, ``protection_targets``, ``tailings_dams`` and
        ``enterprises`` are extended, ``installations``, ``hcas``, ``risk_points`` and
        ``hidden_hazards`` are added.
    seed : int
        Seed of the city (this stream is ``seed + 1``).
    scale : float
        Size of the city (1 is the full city).
    epsg : int
        Metric CRS of the generator.
    box : tuple of float
        ``(x0, y0, x1, y1)`` of the square in metres.
    locate, points, to_frame : callable
        The base generator's district lookup, point sampler and frame builder.
    """
    rng = np.random.default_rng(seed + 1)
    lo, hi = np.array(box[:2]), np.array(box[2:])
    n_of = lambda n: max(1, round(n * scale))  # noqa: E731
    ents_m = frames["enterprises"].to_crs(epsg)
    # --- rivers (Yangtze main stem and an important tributary), railways, stations, power lines, reservoirs
    infra_m = frames["infrastructure"].to_crs(epsg)
    new_geoms: list[object] = []
    new_kind: list[str] = []
    new_sub: list[str | None] = []
    for i in range(n_of(8)):
        start = rng.uniform(lo + 5000, hi - 5000)
        new_geoms.append(shapely.LineString(_walk(rng, start, 40_000.0, 400.0, lo, hi)))
        new_kind.append("river")
        new_sub.append(RIVER_SUBKINDS[i % 2])
    for _ in range(n_of(20)):
        new_geoms.append(shapely.LineString(_walk(rng, rng.uniform(lo + 5000, hi - 5000), 25_000.0, 800.0, lo, hi)))
        new_kind.append("railway")
        new_sub.append("国家铁路")
    for _ in range(n_of(20)):
        new_geoms.append(shapely.LineString(_walk(rng, rng.uniform(lo + 5000, hi - 5000), 15_000.0, 500.0, lo, hi)))
        new_kind.append("power_line")
        new_sub.append(None)
    pipes_m = frames["pipelines"].to_crs(epsg)
    lines = [shapely.get_geometry(g, 0) for g in pipes_m.geometry]
    for _ in range(n_of(60)):  # stations on the lines
        line = lines[int(rng.integers(len(lines)))]
        p = line.interpolate(rng.uniform(0, line.length))
        new_geoms.append(shapely.Point(p.x + rng.normal(0, 30), p.y + rng.normal(0, 30)).buffer(25, quad_segs=2))
        new_kind.append("station")
        new_sub.append(None)
    res_xy, _ = points(rng, n_of(15))
    for xy in res_xy:
        new_geoms.append(shapely.Point(xy).buffer(rng.uniform(200, 800)))
        new_kind.append("reservoir")
        new_sub.append(None)
    geoms = np.array(new_geoms, dtype=object)
    codes = locate(geoms)
    keep = codes != ""
    base_n = len(infra_m)
    kinds = np.array(new_kind)[keep]
    infra_new = to_frame({
        "key": [f"I{base_n + i:05d}" for i in range(len(kinds))],
        "code": [f"I{base_n + i:05d}" for i in range(len(kinds))], "kind": kinds,
        "subkind": np.array(new_sub, dtype=object)[keep], "name": [f"设施{base_n + i}" for i in range(len(kinds))],
        "adcode": codes[keep]}, geoms[keep])
    frames["infrastructure"] = pd.concat([frames["infrastructure"], infra_new], ignore_index=True)
    rivers = [g for g, k in zip(geoms[keep], kinds, strict=True) if k == "river"]
    # --- new chemical enterprises and tailings ponds under construction near the rivers (siting)
    near_xy = []
    for r in rivers:
        for f in rng.uniform(0, 1, 3):
            p = r.interpolate(f, normalized=True)
            near_xy.append((p.x + rng.uniform(-1500, 1500), p.y + rng.uniform(-1500, 1500)))
    near = np.array(near_xy).reshape(-1, 2)
    near_codes = locate(shapely.points(near)) if len(near) else np.empty(0, dtype=object)
    near, near_codes = near[near_codes != ""], near_codes[near_codes != ""]
    half = len(near) // 2
    ents = frames["enterprises"].copy()
    new_ent = np.zeros(len(ents), dtype=bool)
    if half:  # move the first few chemical enterprises next to a river and make them new projects
        chem = np.flatnonzero(ents["industry"].isin(["hazchem_production", "hazchem_storage"]).to_numpy())[:half]
        moved = gpd.GeoSeries(shapely.points(near[: len(chem)]), crs=epsg).to_crs(4490).values
        ents.loc[ents.index[chem], "geometry"] = moved
        ents.loc[ents.index[chem], "adcode"] = near_codes[: len(chem)]
        ents.loc[ents.index[chem], "installation_status"] = "new"
        new_ent[chem] = True
    undeclared = ents.index[ents["industry"].isin(["hazchem_production", "hazchem_storage"]).to_numpy()][::5]
    ents["mhs_grade"] = ents["mhs_grade"].astype("Int64")
    ents.loc[undeclared, "mhs_grade"] = pd.NA  # a fifth declares no MHS grade (MHS_UNDECLARED)
    frames["enterprises"] = ents
    ents_m = ents.to_crs(epsg)
    tails = frames["tailings_dams"].copy()
    k = min(len(near) - half, len(tails) // 4)
    if k > 0:
        tails.loc[tails.index[:k], "geometry"] = gpd.GeoSeries(shapely.points(near[half:half + k]),
                                                             crs=epsg).to_crs(4490).values
        tails.loc[tails.index[:k], "adcode"] = near_codes[half:half + k]
        tails.loc[tails.index[:k], "status"] = "building"
    frames["tailings_dams"] = tails
    # --- plant parts with inventories: every hazardous-chemical enterprise gets 2-5 parts around its point
    chem_rows = np.flatnonzero(ents_m["industry"].isin(["hazchem_production", "hazchem_storage"]).to_numpy())
    recs: list[dict[str, object]] = []
    part_geoms: list[object] = []
    for ei in chem_rows:
        e = ents_m.iloc[int(ei)]
        for n, j in enumerate(rng.choice(len(PARTS), int(rng.integers(2, 6)), replace=False)):
            ptype, fclass, w, d, stock = PARTS[j]
            ang = rng.uniform(0, 2 * np.pi)
            r = rng.uniform(40, 160)
            cx, cy = e.geometry.x + r * np.cos(ang), e.geometry.y + r * np.sin(ang)
            geom = shapely.Point(cx, cy) if w == 0 else shapely.box(cx - w / 2, cy - d / 2, cx + w / 2, cy + d / 2)
            subs = "; ".join(f"{name}:{rng.uniform(a, b):.1f}" for name, a, b in stock) or None
            recs.append({"key": f"INS{ei:05d}-{n}", "code": f"INS{ei:05d}-{n}", "name": f"{e['name']}{n + 1}号{ptype}",
                         "enterprise_credit_code": e["credit_code"], "adcode": e["adcode"], "part_type": ptype,
                         "fire_class": fclass, "goods_items": "3,4" if ptype == "class_a_warehouse" else None,
                         "stock_t": float(rng.uniform(1, 20)) if ptype == "class_a_warehouse" else None,
                         "substances": subs})
            part_geoms.append(geom)
    parts_geoms = np.array(part_geoms, dtype=object)
    if recs:
        parts = to_frame({c: [r[c] for r in recs] for c in recs[0]}, parts_geoms)
        parts_codes = locate(parts_geoms)
        frames["installations"] = parts[(parts_codes == parts["adcode"].to_numpy())].reset_index(drop=True)
    # --- declared HCAs: 1-3 stretches per pipeline, a third identified more than 18 months ago
    hca_rows: list[dict[str, object]] = []
    hca_geoms: list[object] = []
    for p, line in zip(pipes_m.itertuples(), lines, strict=True):
        for n in range(int(rng.integers(2, 5))):
            length = rng.uniform(300, 3000)
            if line.length <= length + 10:
                continue
            s = rng.uniform(0, line.length - length)
            geom = _substring(line, s, s + length)
            code = locate(np.array([geom.interpolate(0.5, normalized=True)], dtype=object))[0]
            if code == "":
                continue
            months = int(rng.choice([3, 9, 24]))
            hca_rows.append({"key": f"HCA-{p.key}-{n}", "code": f"HCA-{p.key}-{n}", "adcode": code,
                             "pipeline_key": p.key, "grade": str(rng.integers(1, 4)),
                             "start_m": round(float(s), 1), "end_m": round(float(s + length), 1),
                             "criterion": "b", "reason": "合成", "identified_on":
                                 dt.date(2026, 12, 1) - dt.timedelta(days=int(months * 30.5))})
            hca_geoms.append(geom)
    if hca_rows:
        frames["hcas"] = to_frame({c: [r[c] for r in hca_rows] for c in hca_rows[0]},
                                  np.array(hca_geoms, dtype=object))
    # --- protection targets of every type (a few of each, round parcels for a third of them)
    types = np.array(list(PT_TYPES))
    n_t = n_of(40) * len(types)
    t_xy, t_codes = points(rng, n_t)
    # a few near enterprises, inside or just outside their declared distance (ESD_DECLARED has work)
    k = min(len(ents_m), max(4, n_of(100)))
    ang = rng.uniform(0, 2 * np.pi, k)
    reach = ents_m["external_distance_m"].to_numpy(dtype=float)[:k] * rng.uniform(0.5, 1.2, k)
    ent_xy = shapely.get_coordinates(ents_m.geometry.to_numpy()[:k])
    t_xy[:k] = ent_xy + np.column_stack([np.cos(ang), np.sin(ang)]) * reach[:, None]
    t_codes[:k] = locate(shapely.points(t_xy[:k]))
    t_types = types[np.arange(n_t) % len(types)]
    t_geoms = np.array([shapely.Point(xy).buffer(40, quad_segs=4) if i % 3 == 0 else shapely.Point(xy)
                        for i, xy in enumerate(t_xy)], dtype=object)
    inside = (locate(t_geoms) == t_codes) & (t_codes != "")
    base_t = len(frames["protection_targets"])
    keys = [f"T{base_t + i:06d}" for i in range(n_t)]
    extra = to_frame({"key": keys, "code": keys, "name": [f"目标{base_t + i}" for i in range(n_t)],
                      "target_type": t_types, "population": rng.integers(5, 800, n_t),
                      "households": rng.integers(0, 100, n_t), "adcode": t_codes}, t_geoms)[inside]
    extra["gb36894_class"] = np.where(extra["target_type"].isin(["school", "hospital", "kindergarten",
                                                                 "elderly_home", "prison"]),
                                      "high_sensitivity", "general_2")
    frames["protection_targets"] = pd.concat([frames["protection_targets"], extra], ignore_index=True)
    # --- risk points and hidden hazards (loaded and written; no check reads them)
    n_rp = n_of(1500)
    rp_xy, rp_codes = points(rng, n_rp)
    rp_keys = [f"RP{i:06d}" for i in range(n_rp)]
    frames["risk_points"] = to_frame({
        "key": rp_keys, "code": rp_keys, "name": [f"风险点{i}" for i in range(n_rp)], "adcode": rp_codes,
        "category": rng.choice(["hazchem", "tailings", "pipeline", "mining", "gas", "crowded"], n_rp),
        "risk_level": rng.choice(["major", "significant", "general", "low"], n_rp),
        "population_exposed": rng.integers(0, 2000, n_rp)}, shapely.points(rp_xy))
    n_hh = n_of(4000)
    hh_at = rng.integers(0, n_rp, n_hh)
    hh_xy = rp_xy[hh_at] + rng.normal(0, 20, (n_hh, 2))
    hh_codes = locate(shapely.points(hh_xy))
    ok = hh_codes != ""
    hh_keys = [f"YH{i:07d}" for i in range(int(ok.sum()))]
    found = [dt.date(2026, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 300, int(ok.sum()))]
    frames["hidden_hazards"] = to_frame({
        "key": hh_keys, "code": hh_keys, "adcode": hh_codes[ok], "description": "合成隐患",
        "risk_point_code": np.array(rp_keys, dtype=object)[hh_at[ok]],
        "severity": rng.choice(["major", "general", "general", "general"], int(ok.sum())),
        "found_on": found, "status": rng.choice(["open", "rectifying", "rectified", "closed"], int(ok.sum())),
        "supervision": "none"}, shapely.points(hh_xy[ok]))


def city_dem(box: tuple[float, float, float, float], epsg: int, *, seed: int = 7, cell_m: float = 50.0) -> DemGrid:
    """Return a synthetic elevation grid over the square: a tilted plane with hills and valleys.

    Parameters
    ----------
    box : tuple of float
        ``(x0, y0, x1, y1)`` of the square in metres.
    epsg : int
        Metric CRS of ``box``.
    seed : int
        Seed of the hills.
    cell_m : float
        Cell size in metres.

    Returns
    -------
    DemGrid
    """
    rng = np.random.default_rng(seed + 2)
    cols = int(np.ceil((box[2] - box[0]) / cell_m))
    rows = int(np.ceil((box[3] - box[1]) / cell_m))
    y = np.linspace(0.0, 1.0, rows)[:, None]
    x = np.linspace(0.0, 1.0, cols)[None, :]
    z = 2400.0 - 600.0 * x - 300.0 * (1 - y)
    for _ in range(12):
        fx, fy, ph = rng.uniform(2, 9), rng.uniform(2, 9), rng.uniform(0, 2 * np.pi)
        z = z + rng.uniform(20, 80) * np.sin(2 * np.pi * fx * x + ph) * np.cos(2 * np.pi * fy * y + ph)
    return DemGrid(z.astype(np.float64), box[0], box[3], cell_m, epsg)
