"""The PostGIS floor: the distance rules as SQL on GiST indexes, on a private embedded cluster.

:func:`private_cluster` starts a PostgreSQL/PostGIS cluster of its own in a temporary folder (as
the tests do) and removes it afterwards; nothing assumes a running server. :func:`load` copies the
subjects (with their distance), the subjects' lines cut into single segments and the object layers
into tables in the metric CRS, builds GiST indexes and analyses them — the load, timed apart.
:func:`query` then runs, per rule and object layer, one ``ST_DWithin`` join of the pieces (or the
subjects, for points) with the objects and the exact ``ST_Distance`` of the whole subject, and
returns the same pairs as :mod:`benchmarks.baselines`.

SQL here is benchmark code, not RiskMap's store: it measures how fast the database itself answers.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Engine, text

from benchmarks.baselines import DistanceRule, Pair, Target, cut_segments
from geo import embedded, store
from geo.checks.bundle import Bundle
from geo.checks.ruleset import FLOAT_NOISE


@contextmanager
def private_cluster(prefix: str = "rmbench-") -> Iterator[embedded.Cluster]:
    """Start a private PostGIS cluster in a temporary folder; stop and remove it afterwards."""
    home = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    home.chmod(0o755)
    cluster = embedded.cluster_for(home / "pg")
    embedded.start(cluster)
    try:
        yield cluster
    finally:
        embedded.stop(cluster)
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def floor_database(cluster: embedded.Cluster, name: str = "floor") -> Iterator[Engine]:
    """A fresh database with PostGIS on ``cluster``, dropped afterwards."""
    embedded.drop_database(cluster, name)
    embedded.create_database(cluster, name)
    engine = store.make_engine(cluster.url(name))
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    try:
        yield engine
    finally:
        engine.dispose()
        embedded.drop_database(cluster, name)


def _table(target: Target) -> str:
    return f"o_{target.layer}" + (f"_{target.column}" if target.column else "")


def _copy(engine: Engine, table: str, columns: str, rows: Iterable[tuple[object, ...]], epsg: int) -> None:
    """Create ``table`` (text key columns, a geometry ``geom``) and COPY ``rows`` (last value: WKB hex)."""
    cols = [c.strip() for c in columns.split(",")]
    decl = ", ".join(f"{c} {'double precision' if c == 'd' else 'integer' if c == 'sid' else 'text'}"
                     for c in cols)
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join(str(v) for v in row) + "\n")
    buf.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(f"CREATE UNLOGGED TABLE {table} ({decl}, geom geometry(Geometry, {epsg}))")
            with cur.copy(f"COPY {table} ({columns}, geom) FROM STDIN") as copy:
                while chunk := buf.read(1 << 20):
                    copy.write(chunk)
            cur.execute(f"CREATE INDEX ON {table} USING gist (geom)")
            cur.execute(f"ANALYZE {table}")
        raw.commit()
    finally:
        raw.close()


def load(engine: Engine, bundle: Bundle, rules: Iterable[DistanceRule], epsg: int) -> None:
    """Copy the subjects, their cut pieces and the object layers into indexed tables in EPSG ``epsg``."""
    done: set[str] = set()
    for rule in rules:
        subj, dist = rule.subjects(bundle[rule.subject].to_crs(epsg))
        geoms = subj.geometry.to_numpy()
        keys = subj["key"].astype(str).to_numpy()
        _copy(engine, f"s_{rule.code.lower()}", "sid, key, d",
              zip(range(len(keys)), keys, dist, shapely.to_wkb(geoms, hex=True), strict=True), epsg)
        if len(geoms) and shapely.get_type_id(geoms[0]) in (1, 5):
            segs, owner = cut_segments(geoms)
            _copy(engine, f"p_{rule.code.lower()}", "sid", zip(owner, shapely.to_wkb(segs, hex=True), strict=True),
                  epsg)
        for target in rule.objects:
            name = _table(target)
            if name in done:
                continue
            objs = target.rows(bundle[target.layer].to_crs(epsg))
            _copy(engine, name, "key", zip(objs["key"].astype(str), shapely.to_wkb(objs.geometry.to_numpy(), hex=True),
                                           strict=True), epsg)
            done.add(name)


def query(engine: Engine, rules: Iterable[DistanceRule]) -> set[Pair]:
    """Run the distance rules as SQL; return their pairs."""
    out: set[Pair] = set()
    with engine.connect() as conn:
        for rule in rules:
            s = f"s_{rule.code.lower()}"
            pieces = conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": f"p_{rule.code.lower()}"}).scalar()
            op = "<=" if rule.inclusive else "<"
            noise = FLOAT_NOISE if rule.inclusive else -FLOAT_NOISE
            for target in rule.objects:
                o = _table(target)
                near = (f"SELECT DISTINCT p.sid, o.key FROM p_{rule.code.lower()} p JOIN {s} s USING (sid) "
                        f"JOIN {o} o ON ST_DWithin(p.geom, o.geom, s.d + {FLOAT_NOISE})" if pieces else
                        f"SELECT s.sid, o.key FROM {s} s JOIN {o} o ON ST_DWithin(s.geom, o.geom, s.d + {FLOAT_NOISE})")
                sql = (f"SELECT s.key, o.key FROM ({near}) c JOIN {s} s USING (sid) JOIN {o} o ON o.key = c.key "
                       f"WHERE ST_Distance(s.geom, o.geom) {op} s.d + {noise}")
                rows = np.asarray(conn.execute(text(sql)).all(), dtype=object).reshape(-1, 2)
                out |= {(rule.code, str(a), target.layer, str(b)) for a, b in rows}
    return out
