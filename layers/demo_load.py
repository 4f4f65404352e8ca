"""Load the Kunming demo into a store: real district boundaries, then generated demo layers.

Everything goes through the importer, so the demo meets the same validation as
users' files. See ``data/README.md`` for what is real and what is generated.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
from sqlalchemy import Engine

from geo import store
from geo.checks.runner import run_checks
from geo.checks.sources import bundle_from_store
from geo.constants import LOCAL_ZONE
from geo.importer import import_file, import_frame
from geo.rule_admin import effective_ruleset

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DISTRICTS_FILE = DATA_DIR / "kunming_districts.geojson"

#: Import order: districts first (others validate against them), then the layers.
DEMO_LAYERS = ("enterprises", "risk_contours", "protection_targets", "buildings", "pipelines", "hcas",
               "tailings_dams", "infrastructure", "installations", "risk_points", "hidden_hazards", "parks")


def load_demo(engine: Engine, *, reset: bool = False, run_checks_after: bool = True,
              progress: Callable[[str], object] | None = None) -> Iterator[str]:
    """Import the demo districts and layers; yield one summary line per layer.

    Parameters
    ----------
    engine : Engine
        Target store (migrated).
    reset : bool
        Delete all layer rows first.
    run_checks_after : bool
        Run every check with the rule set in force (the rule file plus the store's local values)
        and store the findings, so the register and cockpit have content.
    progress : callable, optional
        Called with a message before each step (long steps show progress).

    Yields
    ------
    str
        Summary of each import.
    """
    from geo.demo import generate_demo

    say = progress or (lambda _msg: None)
    if reset:
        store.clear_layers(engine)
    say("导入行政区划 / importing districts …")
    yield import_file(engine, "districts", DISTRICTS_FILE, actor="demo").summary()
    districts = store.read_districts(engine)
    t0 = time.perf_counter()
    say("生成演示数据 / generating demo layers …")
    layers = generate_demo(districts[["adcode", "name", "geometry"]])
    say(f"  {time.perf_counter() - t0:.1f} s")
    for i, name in enumerate(DEMO_LAYERS, 1):
        gdf: gpd.GeoDataFrame = layers[name]
        say(f"[{i}/{len(DEMO_LAYERS)}] {name}: {len(gdf)} …")
        yield import_frame(engine, name, gdf, source_name=f"demo_{name}.gpkg").summary()
    yield from demo_accounts(engine)
    say("演示隐患排查整治 / demo campaign work …")
    from campaign.demo import load_campaign_demo

    yield from load_campaign_demo(engine, progress=say)
    if run_checks_after:
        say("运行检查 / running the checks …")
        result = run_checks(bundle_from_store(engine), effective_ruleset(engine), progress=say)
        run_id = store.save_check_run(engine, findings=result.findings, hca_segments=result.hca_segments,
                                      rule_set_version=result.rule_set_version, rules_run=result.rules_run,
                                      scope_adcode=None, actor="demo")
        yield f"check run {run_id}: {len(result.findings)} findings (rule set {result.rule_set_version})"
    # the demo is written in one go; date its history so that last month's figures, trends and the
    # change list have a past: records from 13 months ago, each hazard version from its step
    first = (dt.date.today().replace(day=1) - dt.timedelta(days=380)).replace(day=1)
    with engine.begin() as conn:
        dated = store.date_demo_history(conn, dt.datetime.combine(first, dt.time(), tzinfo=LOCAL_ZONE))
    yield f"history dated from {first}: {dated} versions"
    # and the month-end figures a scheduler would have stored (trends and 晾晒 read them)
    from layers.snapshots import month_ends, take_snapshot

    ends = month_ends(dt.date.today(), 12)
    say(f"月末统计快照 / month-end snapshots {ends[0]} … {ends[-1]} …")
    for end in ends:
        take_snapshot(engine, end, kind="month_end", taken_by="demo")
    yield f"month-end snapshots: {len(ends)} ({ends[0]} … {ends[-1]})"
    # the city's 五色 ratings, which district sessions read (they cannot compute the city's themselves)
    from layers.city import publish_city

    snap = publish_city(engine)
    yield f"city ratings published: {len(snap.ratings)} districts (data version {snap.version})"


#: Demo accounts, one per role (printed by ``riskmap demo``; disable them in a real deployment).
DEMO_ACCOUNTS = (("leader", "leader", None, "市领导(演示)"), ("admin", "admin", None, "管理员(演示)"),
                 ("planner", "planner", None, "规划审查(演示)"),
                 ("anning", "district_officer", "530181", "安宁市应急管理局(演示)"),
                 ("viewer", "viewer", None, "只读(演示)"))


def demo_accounts(engine: Engine) -> Iterator[str]:
    """Create the demo accounts that do not exist yet; yield one line per account with its password.

    Parameters
    ----------
    engine : Engine
        Target store.

    Yields
    ------
    str
    """
    from identity.accounts import add_user

    for username, role, adcode, name in DEMO_ACCOUNTS:
        password = f"{username}-demo-2026"
        if store.find_user(engine, username) is None:
            add_user(engine, username, password, role=role, adcode=adcode, display_name=name, actor="demo",
                     demo=True)
        yield f"demo account: {username} / {password} ({role}{' ' + adcode if adcode else ''})"
