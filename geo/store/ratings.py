"""Published 五色 district ratings."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text

PUBLISHED_RATING_COLUMNS = ("adcode", "data_version", "as_of", "rubric_version", "score", "class_code", "rank",
                            "n_districts", "contributions", "published_at")


def publish_ratings(engine: Engine, rows: Sequence[dict[str, Any]], *, data_version: int, as_of: dt.date,
                    rubric_version: str) -> None:
    """Replace the published 五色 ratings with ``rows`` (one per district), in one transaction.

    Only a city-wide session may write (row-level security); district sessions read their own row
    with :func:`read_published_ratings`. Nothing is audited: publishing derives from data already
    audited and must not change the data version.

    Parameters
    ----------
    engine : Engine
        The store (the owner, or the application role under a city-wide scope).
    rows : sequence of dict
        Keys ``adcode``, ``score``, ``class_code``, ``rank``, ``n_districts`` and ``contributions``
        (JSON-serialisable mapping).
    data_version : int
        :func:`data_version` the ratings were computed at.
    as_of : date
        Rating date.
    rubric_version : str
        Version of the rubric used.
    """
    params = [{"adcode": r["adcode"], "v": int(data_version), "as_of": as_of, "rubric": rubric_version,
               "score": float(r["score"]), "cls": r["class_code"], "rank": int(r["rank"]),
               "n": int(r["n_districts"]), "c": json.dumps(r["contributions"], ensure_ascii=False)} for r in rows]
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('riskmap.published_ratings'))"))
        conn.execute(text("DELETE FROM published_ratings WHERE NOT (adcode = ANY(:codes))"),
                     {"codes": [p["adcode"] for p in params]})
        if params:
            conn.execute(text(
                "INSERT INTO published_ratings (adcode, data_version, as_of, rubric_version, score, class_code, rank, "
                "n_districts, contributions, published_at) VALUES (:adcode, :v, :as_of, :rubric, :score, :cls, "
                ":rank, :n, CAST(:c AS jsonb), now()) ON CONFLICT (adcode) DO UPDATE SET "
                "data_version = EXCLUDED.data_version, as_of = EXCLUDED.as_of, "
                "rubric_version = EXCLUDED.rubric_version, score = EXCLUDED.score, class_code = EXCLUDED.class_code, "
                "rank = EXCLUDED.rank, n_districts = EXCLUDED.n_districts, contributions = EXCLUDED.contributions, "
                "published_at = now()"), params)


def read_published_ratings(engine: Engine) -> pd.DataFrame:
    """Read the published 五色 ratings the session may see (a district session: its own row only).

    Parameters
    ----------
    engine : Engine
        The store.

    Returns
    -------
    DataFrame
        Indexed by ``adcode``; columns :data:`PUBLISHED_RATING_COLUMNS` but ``adcode``
        (``contributions`` as a dict).
    """
    cols = ", ".join(PUBLISHED_RATING_COLUMNS)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {cols} FROM published_ratings ORDER BY adcode")).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(PUBLISHED_RATING_COLUMNS))
    return frame.set_index("adcode")
