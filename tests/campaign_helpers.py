"""Shared set-up of the campaign tests: three enterprises in two districts, one account per role, scoped calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import shapely
from sqlalchemy import Engine

from campaign.attachments import Upload
from campaign.service import Actor, report_hazard, take_step
from geo import store
from geo.constants import STORAGE_CRS
from geo.credit_code import check_character
from geo.store import scoped
from identity.accounts import add_user, scope_for
from tests.clients import app_engine_of

ANNING, XISHAN = "530181", "530112"
ENT_A = "91530181MA6K5XYW1" + check_character("91530181MA6K5XYW1")
ENT_B = "91530181MA6K5XYW2" + check_character("91530181MA6K5XYW2")
ENT_X = "91530112MA6K5XYW3" + check_character("91530112MA6K5XYW3")
JPEG = b"\xff\xd8\xff\xe0" + b"demo photo" * 10
FIVE = {"measures": "加固围堰", "responsible_unit": "安宁示例矿业", "responsible_person": "张三", "funds_wan": 35.5,
        "deadline": dt.date(2099, 3, 31), "emergency_plan": "尾矿库溃坝专项预案"}
REPORT = {"description": "尾矿库坝体渗漏", "severity": "major", "source": "self_check",
          "found_on": dt.date(2026, 11, 30)}
ACCOUNTS = (("ent_a", "enterprise", {"credit_code": ENT_A}), ("ent_x", "enterprise", {"credit_code": ENT_X}),
            ("anning", "district_officer", {"adcode": ANNING}), ("sup", "city_supervisor", {}),
            ("leader", "leader", {}))


def seed_campaign(engine: Engine) -> None:
    """Add the three enterprises and the accounts of :data:`ACCOUNTS` to a fresh store."""
    rows = [{"key": code, "credit_code": code, "name": name, "industry": "mining", "risk_level": "major",
             "adcode": adcode, "geom": shapely.Point(lon, 24.9), "source_crs": STORAGE_CRS, "batch_id": None}
            for code, name, adcode, lon in ((ENT_A, "安宁示例矿业", ANNING, 102.45),
                                            (ENT_B, "安宁另一企业", ANNING, 102.46),
                                            (ENT_X, "西山示例化工", XISHAN, 102.62))]
    with engine.begin() as conn:
        store.upsert_rows(conn, "enterprises", rows, "key")
    for name, role, kw in ACCOUNTS:
        add_user(engine, name, "campaign-fixture-2026", role=role, **kw)


def signed_in(engine: Engine, username: str) -> tuple[AbstractContextManager[None], Actor]:
    """The scope block and the actor of account ``username`` (use the block once)."""
    user = store.find_user(engine, username)
    assert user is not None
    return scoped(scope_for(user)), Actor.of(user)


def report(engine: Engine, app: Engine, username: str = "ent_a", *, adcode: str = ANNING,
           code: str | None = ENT_A, at: dt.datetime | None = None, **extra: Any) -> int:
    """Report a hazard as ``username`` with one photo; return its id."""
    ctx, actor = signed_in(engine, username)
    with ctx:
        lon = 102.62 if adcode == XISHAN else 102.45
        return report_hazard(app, actor, {**REPORT, **extra}, adcode=adcode, lon=lon, lat=24.9,
                             enterprise_name="安宁示例矿业", credit_code=code, uploads=[Upload("坝体.jpg", JPEG)],
                             at=at)


def step(engine: Engine, app: Engine, username: str, hid: int, action: str, **kw: Any) -> dict[str, Any]:
    """Take ``action`` on hazard ``hid`` as ``username``."""
    ctx, actor = signed_in(engine, username)
    with ctx:
        return take_step(app, hid, action, actor, **kw)


def campaign_app(engine: Engine) -> Iterator[Engine]:
    """Seed the store and yield an application-role engine (the body of the ``campaign_app`` fixture)."""
    seed_campaign(engine)
    app = app_engine_of(engine)
    try:
        yield app
    finally:
        app.dispose()
