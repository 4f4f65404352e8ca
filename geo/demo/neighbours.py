"""What the pipeline permit and spacing rules look for, added after every other layer."""

from __future__ import annotations

import numpy as np
from shapely.geometry import LineString, Point

from geo.demo.context import DemoContext
from geo.demo.enterprises import add_enterprise
from geo.demo.geometry import frame_at
from geo.demo.infrastructure import add_infrastructure
from geo.demo.targets import add_target


def make_pipeline_neighbours(ctx: DemoContext) -> None:
    """Add what the pipeline permit and spacing rules look for (管道保护法 Art. 31, 35(2), 35(3)).

    A market 3.5 m from PRD-01 (spacing below the 5 m minimum), a buried cable running
    30 m beside OIL-01 without crossing it (5-50 m permit band) and a quarry 150 m from
    PRD-01 (200 m blasting/mining permit zone).
    """
    p, _t, n = frame_at(ctx.pipes["PRD-01"], 52000.0)
    x, y = p + n * 3.5
    home = ctx.locate(x, y)
    market = None if home is None else add_target(
        ctx, "commercial", x, y, polygon=False, name=f"{ctx.districts[home].short}演示集贸市场")
    if market is None:
        raise RuntimeError("planned market fell outside the districts")
    market["code"] = f"PT-{market['adcode']}-{ctx.next_no('pt:' + market['adcode']):04d}"
    line, s = ctx.pipes["OIL-01"], 12000.0
    cable = LineString([tuple(frame_at(line, s + ds)[0] + frame_at(line, s + ds)[2] * 30.0)
                        for ds in np.linspace(-400.0, 400.0, 17)])
    rec = add_infrastructure(ctx, "other", "埋地电缆", "安宁演示10kV埋地电缆", cable)
    rec["code"] = f"INF-{len(ctx.infra):04d}"
    p, _t, n = frame_at(ctx.pipes["PRD-01"], 66000.0)
    x, y = p - n * 150.0
    adcode = ctx.locate(x, y)
    if adcode is None:
        raise RuntimeError("planned quarry fell outside the districts")
    township = ctx.township(adcode)
    add_enterprise(ctx, adcode, f"{ctx.districts[adcode].short}演示采石场有限公司", "mining", Point(x, y),
                   township=township, stem="采石场", risk_level="general", has_explosives=True)
