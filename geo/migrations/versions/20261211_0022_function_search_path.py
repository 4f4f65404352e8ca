"""function search path: every owner-run and trigger function searches pg_temp last

PostgreSQL searches the session's temporary schema *first* for table and type names unless ``pg_temp``
is named in the search path. A SECURITY DEFINER function with ``search_path = pg_catalog, public``
therefore reads a caller's ``TEMP TABLE users`` / ``user_sessions`` instead of the real ones: a
connection of the application role could forge a city-wide session for itself (the scope functions read
the session's account through ``riskmap_session_account()``). Trigger functions, which check and fill in
rows for every role, could be fooled the same way (e.g. a temporary ``hidden_hazards`` read by the 催办
insert trigger). This revision sets ``search_path = pg_catalog, public, pg_temp`` on every function of
schema public that is not an extension's and runs as its owner or as a trigger
(``tests/test_function_search_path.py`` checks every such function and the forgery). A function
redefined later must say the same in its ``CREATE OR REPLACE`` (a redefinition drops the setting), and
the test fails until it does.

``downgrade`` keeps the setting: it changes no table, and the previous path was the flaw.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-11 09:00:00.000000
"""
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

#: The search path of every owner-run and trigger function: the catalogue, our schema, the temporary one last.
SEARCH_PATH = "pg_catalog, public, pg_temp"


def upgrade() -> None:
    op.execute(f"""
    DO $$
    DECLARE f regprocedure;
    BEGIN
      FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND (p.prosecdef OR p.prorettype = 'trigger'::regtype)
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                                       AND d.objid = p.oid AND d.deptype = 'e')
      LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = {SEARCH_PATH}', f);
      END LOOP;
    END $$""")


def downgrade() -> None:
    pass  # the safer search path stays (see the module docstring)
