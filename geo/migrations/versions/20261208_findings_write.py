"""bulk findings write (#16): the history trigger costs the same per row for one row or 30,000

``riskmap_keep_versions`` (revision 0010) keeps every version of a tracked row. Two things made it
slow on a check run that writes tens of thousands of findings in one statement:

- its statements were planned once and the plan reused: planned for a statement that touched one row,
  the join of the old and new rows of an update stayed a nested loop, so a run that updated n findings
  compared n × n pairs (minutes at 30,000);
- ``to_jsonb(row) - 'geom'`` turned each geometry into GeoJSON, parsed it into JSON and then dropped it:
  about 95 % of the trigger's time.

The function is the same in what it writes (the same ``row_versions`` rows, ``data`` byte for byte
the same JSON: every column but ``geom``, the other columns converted as ``to_jsonb`` converts them),
but it builds the JSON of a row from the table's columns without ``geom`` (``jsonb_build_object``,
read from the catalogue for the table that fired) and runs its statements with ``EXECUTE``, so each
is planned for the number of rows the statement touched (a hash join for many rows, the index for
few). An update builds and compares a row's JSON only when a plain comparison of its columns finds
a difference (equal columns, equal JSON), and the rows changed are joined to ``row_versions`` by their
key alone. ``downgrade`` restores the
function of revision 0010.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 09:10:00.000000
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_COLUMNS = "table_name, row_key, adcode, adcodes, credit_code, valid_from, data, geom, changed_by, change"
_VALUES = """$1, j ->> $2, j ->> 'adcode',
               CASE WHEN j ? 'adcodes' THEN ARRAY(SELECT jsonb_array_elements_text(j -> 'adcodes')) END,
               j ->> 'credit_code', $3, j, g, $4"""

# SQL expression (for rows aliased ``x``) of the JSON of a row of table ``rel`` without ``geom`` and the
# ``skip`` columns: jsonb_build_object takes at most 100 arguments, so groups of 50 columns are joined by ||.
_ROW_JSON = """
CREATE OR REPLACE FUNCTION riskmap_row_json_sql(rel oid, skip text[]) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT coalesce(string_agg(part, ' || ' ORDER BY grp), '''{}''::jsonb')
    FROM (SELECT grp, 'jsonb_build_object(' || string_agg(format('%L, x.%I', attname, attname), ', '
                                                          ORDER BY attnum) || ')' AS part
          FROM (SELECT attname, attnum, (row_number() OVER (ORDER BY attnum) - 1) / 50 AS grp
                FROM pg_attribute
                WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped
                  AND attname <> 'geom' AND attname <> ALL (skip)) a
          GROUP BY grp) g
$$
"""

# SQL that is true when row ``x`` differs from row ``o`` in a column of table ``rel`` but ``geom`` and ``skip``:
# a plain comparison (no JSON, no text) that only lets through rows whose JSON may differ. Types without
# an equality (json, xml, geometric types) are compared as text, geometry as EWKB.
_ROW_DIFFERS = """
CREATE OR REPLACE FUNCTION riskmap_row_differs_sql(rel oid, skip text[]) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT coalesce(string_agg(
        CASE WHEN t.typname IN ('geometry', 'geography')
                 THEN format('public.ST_AsEWKB(x.%1$I::public.geometry) IS DISTINCT FROM '
                             'public.ST_AsEWKB(o.%1$I::public.geometry)', a.attname)
             WHEN t.typname IN ('json', 'xml', 'point', 'line', 'lseg', 'box', 'path', 'polygon', 'circle')
                 THEN format('x.%1$I::text IS DISTINCT FROM o.%1$I::text', a.attname)
             ELSE format('x.%1$I IS DISTINCT FROM o.%1$I', a.attname) END, ' OR ' ORDER BY a.attnum), 'false')
    FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'geom'
      AND a.attname <> ALL (skip)
$$
"""

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION riskmap_keep_versions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    key_col text := TG_ARGV[0];
    ignored text[] := TG_ARGV[1:];
    at timestamptz := now();
    who text := coalesce(riskmap_actor(), session_user);  -- the live session's account for the app role
    whole text := riskmap_row_json_sql(TG_RELID, '{{}}');
    changed text;
BEGIN
    IF session_user <> 'riskmap_app' AND nullif(current_setting('riskmap.valid_from', true), '') IS NOT NULL THEN
        at := current_setting('riskmap.valid_from')::timestamptz;
    ELSIF TG_OP <> 'INSERT' THEN
        -- now() is when this transaction began: one that waited (e.g. on the import lock) for another which
        -- versioned the same rows later must not end those versions before they began
        EXECUTE format($q$SELECT greatest($3, max(v.valid_from)) FROM row_versions v
                          JOIN (SELECT to_jsonb(x.%I) #>> '{{}}' AS k FROM old_rows x) o ON v.row_key = o.k
                          WHERE v.table_name = $1 AND v.valid_to IS NULL$q$, key_col)
        INTO at USING TG_TABLE_NAME, key_col, at;
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format($q$INSERT INTO row_versions ({_COLUMNS}) SELECT {_VALUES}, 'insert'
                          FROM (SELECT %s AS j, x.geom AS g FROM new_rows x) s$q$, whole)
        USING TG_TABLE_NAME, key_col, at, who;
    ELSIF TG_OP = 'UPDATE' THEN
        -- rows whose content changed (bookkeeping columns aside), as (j, g, k): JSON, geometry, key
        changed := format($q$SELECT %1$s AS j, x.geom AS g, to_jsonb(x.%2$I) #>> '{{}}' AS k
            FROM new_rows x JOIN old_rows o ON to_jsonb(x.%2$I) #>> '{{}}' = to_jsonb(o.%2$I) #>> '{{}}'
            WHERE ST_AsEWKB(x.geom) IS DISTINCT FROM ST_AsEWKB(o.geom)
               OR ((%3$s) AND (%1$s) - $5 IS DISTINCT FROM (SELECT %4$s FROM (SELECT o.*) x))$q$,
            whole, key_col, riskmap_row_differs_sql(TG_RELID, ignored), riskmap_row_json_sql(TG_RELID, ignored));
        EXECUTE format($q$WITH c AS MATERIALIZED (%s) UPDATE row_versions v SET valid_to = $3 FROM c
                          WHERE v.table_name = $1 AND v.valid_to IS NULL AND v.row_key = c.k$q$, changed)
        USING TG_TABLE_NAME, key_col, at, who, ignored;
        EXECUTE format($q$INSERT INTO row_versions ({_COLUMNS}) SELECT {_VALUES}, 'update' FROM (%s) s$q$, changed)
        USING TG_TABLE_NAME, key_col, at, who, ignored;
    ELSE
        EXECUTE format($q$UPDATE row_versions v SET valid_to = $3
                          FROM (SELECT to_jsonb(x.%I) #>> '{{}}' AS k FROM old_rows x) d
                          WHERE v.table_name = $1 AND v.valid_to IS NULL AND v.row_key = d.k$q$, key_col)
        USING TG_TABLE_NAME, key_col, at;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute(_ROW_JSON)
    op.execute("REVOKE ALL ON FUNCTION riskmap_row_json_sql(oid, text[]) FROM PUBLIC")
    op.execute(_ROW_DIFFERS)
    op.execute("REVOKE ALL ON FUNCTION riskmap_row_differs_sql(oid, text[]) FROM PUBLIC")
    op.execute(_FUNCTION)


def downgrade() -> None:
    source = Path(__file__).with_name("20261206_record_history.py")
    spec = importlib.util.spec_from_file_location("revision_0010", source)
    assert spec is not None and spec.loader is not None
    previous = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(previous)
    op.execute(previous._FUNCTION)  # the function of revision 0010, as it was
    op.execute("DROP FUNCTION IF EXISTS riskmap_row_json_sql(oid, text[])")
    op.execute("DROP FUNCTION IF EXISTS riskmap_row_differs_sql(oid, text[])")
