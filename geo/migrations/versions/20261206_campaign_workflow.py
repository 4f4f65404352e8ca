"""campaign workflow: hazard lifecycle, history, attachments, inspections, reports, enterprise accounts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

The hazard's life (campaign/lifecycle.yaml) is enforced here as well as in Python: a step is a row of
hazard_steps, accepted only when its (action, from, to, role) is a row of hazard_rules, its version
follows the hazard's, and - for the application role - its role and actor are the session's own.
hidden_hazards' workflow columns change only together with such a step; an import that updates a
hazard leaves them as they are. Steps are append-only for every role, the owner included.

Enterprise accounts (role enterprise, bound to one credit code) see only their own enterprise and its
hazards: riskmap_adcode() is NULL in their sessions, so every district policy is closed to them, and
policies of their own open their rows.
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"
WORKFLOW_COLUMNS = (
    ("state", sa.String(24)), ("source", sa.String(20)), ("credit_code", sa.String(18)),
    ("measures", sa.Text()), ("responsible_unit", sa.Text()), ("responsible_person", sa.Text()),
    ("funds_wan", sa.Numeric(12, 2)), ("emergency_plan", sa.Text()), ("assessment", sa.Text()),
    ("supervising_unit", sa.Text()), ("supervision_deadline", sa.Date()), ("progress", sa.Text()),
    ("progress_on", sa.Date()),
)
#: Columns only a workflow step may change once the hazard exists.
PROTECTED = ("state", "version", "status", "deadline", "supervision", "closed_on", "severity", "source",
             "credit_code") + tuple(c for c, _ in WORKFLOW_COLUMNS if c not in ("state", "source", "credit_code"))
ROLES = ("leader", "admin", "planner", "district_officer", "viewer", "enterprise", "city_supervisor")


def _fk(table: str, column: str, target: str, target_column: str, ondelete: str | None = None):
    return sa.ForeignKeyConstraint([column], [f"{target}.{target_column}"], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    # --- accounts: enterprise accounts and city supervisors -------------------------------------------------
    op.add_column("users", sa.Column("credit_code", sa.String(18), nullable=True))
    op.drop_constraint(op.f("ck_users_role_values"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role_values"), "users", "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")")
    op.create_check_constraint(op.f("ck_users_enterprise_has_code"), "users",
                               "role <> 'enterprise' OR (credit_code IS NOT NULL AND adcode IS NOT NULL)")

    # --- hidden hazards: workflow columns --------------------------------------------------------------------
    for name, type_ in WORKFLOW_COLUMNS:
        op.add_column("hidden_hazards", sa.Column(name, type_, nullable=True))
    op.add_column("hidden_hazards", sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    op.create_index(op.f("ix_hidden_hazards_credit_code"), "hidden_hazards", ["credit_code"])
    op.create_index(op.f("ix_hidden_hazards_state"), "hidden_hazards", ["state"])

    # --- the lifecycle table as the database sees it (synced from campaign/lifecycle.yaml) ----------------
    op.create_table(
        "hazard_states",
        sa.Column("state", sa.String(24), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("imported_from", postgresql.ARRAY(sa.String(20)), nullable=False, server_default="{}"),
    )
    op.create_table(
        "hazard_rules",
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_state", sa.String(24), nullable=True),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("lifecycle_version", sa.String(40), nullable=False),
        sa.UniqueConstraint("action", "from_state", "to_state", "role", name="uq_hazard_rules_row"),
    )

    # --- history: one row per accepted step, never changed ---------------------------------------------------
    op.create_table(
        "hazard_steps",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("hazard_id", sa.BigInteger(), nullable=False),
        sa.Column("adcode", sa.String(6), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_state", sa.String(24), nullable=True),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("changes", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("attachments", postgresql.ARRAY(sa.String(64)), server_default="{}", nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        _fk("hazard_steps", "hazard_id", "hidden_hazards", "id", "CASCADE"),
        _fk("hazard_steps", "adcode", "districts", "adcode"),
        _fk("hazard_steps", "batch_id", "import_batches", "id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_steps")),
        sa.UniqueConstraint("hazard_id", "version", name=op.f("uq_hazard_steps_hazard_id")),
    )
    op.create_index(op.f("ix_hazard_steps_adcode"), "hazard_steps", ["adcode"])
    op.create_index(op.f("ix_hazard_steps_at"), "hazard_steps", ["at"])

    # --- inspections (排查表) and spot checks of self-checks --------------------------------------------------
    op.create_geospatial_table(
        "inspections",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("adcode", sa.String(6), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("inspector", sa.Text(), nullable=False),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("geom", geoalchemy2.Geometry(geometry_type="POINT", srid=4490, dimension=2, spatial_index=False,
                                               from_text="ST_GeomFromEWKT", name="geometry"), nullable=True),
        sa.Column("major_found", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("disposal", sa.Text(), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("spot_items", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("hazard_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        _fk("inspections", "adcode", "districts", "adcode"),
        _fk("inspections", "hazard_id", "hidden_hazards", "id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
        sa.CheckConstraint("kind IN ('inspection', 'spot_check')", name=op.f("ck_inspections_kind_values")),
    )
    op.create_geospatial_index("idx_inspections_geom", "inspections", ["geom"], unique=False,
                               postgresql_using="gist", postgresql_ops={})
    op.create_index(op.f("ix_inspections_adcode"), "inspections", ["adcode"])
    op.create_index(op.f("ix_inspections_inspected_at"), "inspections", ["inspected_at"])

    # --- attachments: photos and PDFs, by content hash ----------------------------------------------------
    op.create_table(
        "attachments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("hazard_id", sa.BigInteger(), nullable=True),
        sa.Column("inspection_id", sa.BigInteger(), nullable=True),
        sa.Column("adcode", sa.String(6), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(60), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        _fk("attachments", "hazard_id", "hidden_hazards", "id", "CASCADE"),
        _fk("attachments", "inspection_id", "inspections", "id", "CASCADE"),
        _fk("attachments", "adcode", "districts", "adcode"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.CheckConstraint("(hazard_id IS NULL) <> (inspection_id IS NULL)", name=op.f("ck_attachments_one_owner")),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_attachments_sha256_hex")),
    )
    for col in ("sha256", "hazard_id", "inspection_id", "adcode"):
        op.create_index(op.f(f"ix_attachments_{col}"), "attachments", [col])

    # --- periodic submissions: enterprise monthly self-reports, district 调度表 -------------------------
    for name, owner in (("self_reports", "credit_code"), ("dispatch_submissions", "adcode")):
        op.create_table(
            name,
            sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
            sa.Column("adcode", sa.String(6), nullable=False),
            sa.Column("credit_code", sa.String(18), nullable=name == "dispatch_submissions"),
            sa.Column("period", sa.String(7), nullable=False),
            sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
            sa.Column("signed_by", sa.Text(), nullable=True),
            sa.Column("submitted_by", sa.Text(), nullable=False),
            sa.Column("submitted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
            sa.Column("figures", postgresql.JSONB(), server_default="{}", nullable=False),
            sa.Column("note", sa.Text(), nullable=True),
            _fk(name, "adcode", "districts", "adcode"),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
            sa.UniqueConstraint(owner, "period", "revision", name=op.f(f"uq_{name}_{owner}")),
            sa.CheckConstraint(r"period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name=op.f(f"ck_{name}_period_format")),
        )
        op.create_index(op.f(f"ix_{name}_adcode"), name, ["adcode"])

    _seed_lifecycle()
    _functions_and_triggers()
    _security()


def _seed_lifecycle() -> None:
    """Copy the lifecycle table in force into the database and start the history of existing hazards.

    A later change of campaign/lifecycle.yaml ships with a migration that re-seeds hazard_states and
    hazard_rules the same way (the service refuses to work while the versions differ).
    """
    from campaign.lifecycle import load_lifecycle, rule_rows, state_rows

    life = load_lifecycle()
    meta = sa.MetaData()
    states = sa.Table("hazard_states", meta, autoload_with=op.get_bind())
    rules = sa.Table("hazard_rules", meta, autoload_with=op.get_bind())
    op.bulk_insert(states, state_rows(life))
    op.bulk_insert(rules, rule_rows(life))
    # Existing rows of the imported 隐患台账 enter at their status's state, with the import as step 1.
    op.execute("""
    UPDATE hidden_hazards h SET state = s.state, version = 1, source = 'department'
      FROM hazard_states s WHERE h.status = ANY(s.imported_from)""")
    op.execute("""
    INSERT INTO hazard_steps (hazard_id, adcode, credit_code, version, action, from_state, to_state, severity,
                              supervised, role, actor, at, batch_id)
    SELECT id, adcode, credit_code, 1, 'import', NULL, state, severity,
           coalesce(supervision, 'none') <> 'none', NULL, 'import', coalesce(updated_at, now()), batch_id
      FROM hidden_hazards""")


def _functions_and_triggers() -> None:
    # An enterprise session (riskmap.credit_code set) has no district: every district policy is closed to it.
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_credit_code() RETURNS text LANGUAGE sql STABLE AS
      $$ SELECT nullif(current_setting('riskmap.credit_code', true), '') $$""")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_adcode() RETURNS text LANGUAGE sql STABLE AS
      $$ SELECT CASE WHEN nullif(current_setting('riskmap.credit_code', true), '') IS NULL
                     THEN nullif(current_setting('riskmap.adcode', true), '') END $$""")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_role() RETURNS text LANGUAGE sql STABLE AS
      $$ SELECT nullif(current_setting('riskmap.role', true), '') $$""")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_actor() RETURNS text LANGUAGE sql STABLE AS
      $$ SELECT nullif(current_setting('riskmap.actor', true), '') $$""")

    # New hazards enter at the state their imported status maps to (or 已上报 when created in the app).
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_hazard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.state IS NULL THEN
        SELECT s.state INTO NEW.state FROM hazard_states s WHERE NEW.status = ANY(s.imported_from);
        IF NEW.state IS NULL THEN
          RAISE EXCEPTION 'hazard %: status % maps to no lifecycle state', NEW.code, NEW.status
            USING ERRCODE = 'check_violation';
        END IF;
      END IF;
      NEW.version := 0;
      NEW.source := coalesce(NEW.source, 'department');
      RETURN NEW;
    END $$""")
    op.execute("""
    CREATE TRIGGER hazard_insert BEFORE INSERT ON hidden_hazards
      FOR EACH ROW EXECUTE FUNCTION riskmap_hazard_insert()""")

    # Workflow columns move only with a step of the same version; otherwise (an import) they stay.
    keep = "\n".join(f"        NEW.{c} := OLD.{c};" for c in PROTECTED)
    op.execute(f"""
    CREATE OR REPLACE FUNCTION riskmap_hazard_update() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE step hazard_steps%ROWTYPE;
    BEGIN
      IF NEW.version = OLD.version THEN
{keep}
        RETURN NEW;
      END IF;
      SELECT * INTO step FROM hazard_steps WHERE hazard_id = OLD.id AND version = NEW.version;
      IF NOT FOUND OR NEW.version <> OLD.version + 1 OR step.to_state <> NEW.state THEN
        RAISE EXCEPTION 'hazard %: version % -> % has no matching step', OLD.code, OLD.version, NEW.version
          USING ERRCODE = 'check_violation';
      END IF;
      SELECT s.status INTO NEW.status FROM hazard_states s WHERE s.state = NEW.state;
      NEW.closed_on := CASE WHEN NEW.state = 'closed'
                            THEN coalesce(OLD.closed_on, (step.at AT TIME ZONE 'Asia/Shanghai')::date) END;
      RETURN NEW;
    END $$""")
    op.execute("""
    CREATE TRIGGER hazard_update BEFORE UPDATE ON hidden_hazards
      FOR EACH ROW EXECUTE FUNCTION riskmap_hazard_update()""")

    # A step is legal only as a row of hazard_rules, from the hazard's current state and version.
    op.execute(f"""
    CREATE OR REPLACE FUNCTION riskmap_step_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE h hidden_hazards%ROWTYPE;
    BEGIN
      SELECT * INTO h FROM hidden_hazards WHERE id = NEW.hazard_id FOR UPDATE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'no hazard %', NEW.hazard_id USING ERRCODE = 'foreign_key_violation';
      END IF;
      IF NEW.version <> h.version + 1 THEN
        RAISE EXCEPTION 'hazard %: version % is stale (now %)', h.code, NEW.version - 1, h.version
          USING ERRCODE = 'serialization_failure';
      END IF;
      IF NEW.action = 'import' THEN
        IF h.version <> 0 OR NEW.from_state IS NOT NULL OR NEW.to_state <> h.state THEN
          RAISE EXCEPTION 'hazard %: an import step only starts a history', h.code USING ERRCODE = 'check_violation';
        END IF;
      ELSE
        IF NEW.from_state IS DISTINCT FROM (CASE WHEN h.version = 0 THEN NULL ELSE h.state END) THEN
          RAISE EXCEPTION 'hazard %: step from % but the hazard is %', h.code, NEW.from_state, h.state
            USING ERRCODE = 'check_violation';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM hazard_rules r WHERE r.action = NEW.action
                         AND r.from_state IS NOT DISTINCT FROM NEW.from_state
                         AND r.to_state = NEW.to_state AND r.role = NEW.role) THEN
          RAISE EXCEPTION 'hazard %: % by % from % to % is not allowed', h.code, NEW.action, NEW.role,
            NEW.from_state, NEW.to_state USING ERRCODE = 'insufficient_privilege';
        END IF;
      END IF;
      IF current_user = '{APP_ROLE}' THEN
        IF NEW.role IS DISTINCT FROM riskmap_role()
           OR NEW.actor IS DISTINCT FROM riskmap_actor() THEN
          RAISE EXCEPTION 'hazard %: a step must be taken as the signed-in account', h.code
            USING ERRCODE = 'insufficient_privilege';
        END IF;
      END IF;
      NEW.adcode := h.adcode;
      NEW.credit_code := h.credit_code;
      IF current_user = '{APP_ROLE}' OR NEW.at IS NULL THEN
        NEW.at := now();  -- the application's steps carry the server's time; the owner may replay history
      END IF;
      RETURN NEW;
    END $$""")
    op.execute("""
    CREATE TRIGGER step_insert BEFORE INSERT ON hazard_steps
      FOR EACH ROW EXECUTE FUNCTION riskmap_step_insert()""")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$""")
    for table in ("hazard_steps", "self_reports", "dispatch_submissions"):
        op.execute(f"""
        CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
          FOR EACH ROW EXECUTE FUNCTION riskmap_append_only()""")


def _security() -> None:
    grants = {
        "hazard_states": "SELECT", "hazard_rules": "SELECT",
        "hazard_steps": "SELECT, INSERT", "attachments": "SELECT, INSERT",
        "inspections": "SELECT, INSERT, UPDATE", "self_reports": "SELECT, INSERT",
        "dispatch_submissions": "SELECT, INSERT",
    }
    for table, privileges in grants.items():
        op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    district = "riskmap_scope_all() OR adcode = riskmap_adcode()"
    own = "credit_code = riskmap_credit_code() AND adcode = nullif(current_setting('riskmap.adcode', true), '')"
    for table in ("hazard_steps", "attachments", "inspections", "self_reports", "dispatch_submissions"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY district_scope ON {table} TO {APP_ROLE} USING ({district}) WITH CHECK ({district})")
    for table in ("hazard_steps", "attachments", "self_reports", "hidden_hazards"):
        op.execute(f"CREATE POLICY enterprise_own ON {table} TO {APP_ROLE} USING ({own}) WITH CHECK ({own})")
    # An enterprise reads its own basic information; changes go to the district for approval.
    op.execute(f"CREATE POLICY enterprise_own ON enterprises FOR SELECT TO {APP_ROLE} USING ({own})")


def downgrade() -> None:
    for table in ("hazard_steps", "attachments", "self_reports", "hidden_hazards", "enterprises"):
        op.execute(f"DROP POLICY IF EXISTS enterprise_own ON {table}")
    op.execute("DROP TRIGGER IF EXISTS hazard_update ON hidden_hazards")
    op.execute("DROP TRIGGER IF EXISTS hazard_insert ON hidden_hazards")
    for table in ("dispatch_submissions", "self_reports", "attachments", "inspections", "hazard_steps",
                  "hazard_rules", "hazard_states"):
        op.drop_table(table)
    for fn in ("riskmap_hazard_update()", "riskmap_hazard_insert()", "riskmap_step_insert()",
               "riskmap_append_only()", "riskmap_role()", "riskmap_actor()", "riskmap_credit_code()"):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_adcode() RETURNS text LANGUAGE sql STABLE AS
      $$ SELECT nullif(current_setting('riskmap.adcode', true), '') $$""")
    op.drop_index(op.f("ix_hidden_hazards_state"), "hidden_hazards")
    op.drop_index(op.f("ix_hidden_hazards_credit_code"), "hidden_hazards")
    op.drop_column("hidden_hazards", "version")
    for name, _ in WORKFLOW_COLUMNS:
        op.drop_column("hidden_hazards", name)
    op.drop_constraint(op.f("ck_users_enterprise_has_code"), "users", type_="check")
    op.drop_constraint(op.f("ck_users_role_values"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role_values"), "users",
                               "role IN ('leader', 'admin', 'planner', 'district_officer', 'viewer')")
    op.drop_column("users", "credit_code")
