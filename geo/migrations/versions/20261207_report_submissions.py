"""report submissions: every periodic report a district submits; administrators' report definition overrides (#14)

``report_submissions`` keeps each generated report a district sends to the city, as sent: the document
(bytes, sha256, size), the figures it was built from, who and when. It is append-only for every role (a
resubmission is a new revision). A district session sees and inserts only its own district's rows (and
only under its own name); city-wide sessions read all and insert none. The application role gets SELECT
and INSERT only.

``report_definition_overrides`` keeps local values of report definition fields (name, due day/month,
recipient, sections) with who, when, why and the value replaced. Everyone reads them; only a city-wide
administrator session inserts, and an update may only take a row out of force (active true → false).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 08:30:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

APP_ROLE = "riskmap_app"


def upgrade() -> None:
    op.create_table(
        "report_submissions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("adcode", sa.String(6), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("submitted_by", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("figures", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["adcode"], ["districts.adcode"], name=op.f("fk_report_submissions_adcode_districts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_submissions")),
        sa.UniqueConstraint("kind", "adcode", "period", "revision", name=op.f("uq_report_submissions_kind")),
        sa.CheckConstraint(r"period ~ '^[0-9]{4}(-(0[1-9]|1[0-2]))?$'",
                           name=op.f("ck_report_submissions_period_format")),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_report_submissions_sha256_hex")),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_report_submissions_size_positive")),
    )
    op.create_index(op.f("ix_report_submissions_adcode"), "report_submissions", ["adcode"])
    op.create_table(
        "report_definition_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_code", sa.String(30), nullable=False),
        sa.Column("field", sa.String(30), nullable=False),
        sa.Column("value", postgresql.JSONB(), nullable=False),
        sa.Column("previous", postgresql.JSONB(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_definition_overrides")),
    )
    op.create_index("uq_report_definition_overrides_active", "report_definition_overrides",
                    ["report_code", "field"], unique=True, postgresql_where=sa.text("active"))
    _guards()
    _security()


def _guards() -> None:
    # riskmap_append_only() is migration 0009's: submissions are never changed or removed, by anyone.
    op.execute("""
    CREATE TRIGGER report_submissions_append_only BEFORE UPDATE OR DELETE ON report_submissions
      FOR EACH ROW EXECUTE FUNCTION riskmap_append_only()""")
    op.execute("""
    CREATE OR REPLACE FUNCTION riskmap_override_retire_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' OR NOT OLD.active OR NEW.active
         OR (to_jsonb(NEW) - 'active') IS DISTINCT FROM (to_jsonb(OLD) - 'active') THEN
        RAISE EXCEPTION '%: a local value is kept as history; only taking it out of force is allowed', TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$""")
    op.execute("""
    CREATE TRIGGER report_definition_overrides_history BEFORE UPDATE OR DELETE ON report_definition_overrides
      FOR EACH ROW EXECUTE FUNCTION riskmap_override_retire_only()""")


def _security() -> None:
    op.execute(f"GRANT SELECT, INSERT ON report_submissions TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON report_definition_overrides TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE report_submissions_id_seq TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE report_definition_overrides_id_seq TO {APP_ROLE}")
    op.execute("ALTER TABLE report_submissions ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY submission_read ON report_submissions FOR SELECT TO {APP_ROLE} "
               "USING (riskmap_scope_all() OR adcode = riskmap_adcode())")
    op.execute(f"CREATE POLICY submission_insert ON report_submissions FOR INSERT TO {APP_ROLE} "
               "WITH CHECK (adcode = riskmap_adcode() AND submitted_by = riskmap_actor())")
    op.execute("ALTER TABLE report_definition_overrides ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY definition_read ON report_definition_overrides FOR SELECT TO {APP_ROLE} "
               "USING (true)")
    admin = "riskmap_scope_all() AND riskmap_role() = 'admin'"
    op.execute(f"CREATE POLICY definition_insert ON report_definition_overrides FOR INSERT TO {APP_ROLE} "
               f"WITH CHECK ({admin} AND actor = riskmap_actor())")
    op.execute(f"CREATE POLICY definition_update ON report_definition_overrides FOR UPDATE TO {APP_ROLE} "
               f"USING ({admin}) WITH CHECK ({admin})")


def downgrade() -> None:
    op.drop_table("report_definition_overrides")
    op.drop_table("report_submissions")
    op.execute("DROP FUNCTION IF EXISTS riskmap_override_retire_only()")
