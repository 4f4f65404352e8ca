"""The database boundary: engines, the district scope, and every query RiskMap runs against PostGIS.

Other packages receive and return GeoDataFrames or plain values; only this package (and the
schema, the models and the migrations) builds SQL. User values are always bound parameters;
identifiers come only from the models' metadata. One module per concern:

- :mod:`~geo.store.engine` — engines, :class:`Scope` and the scope of each transaction;
- :mod:`~geo.store.layers` — layer and district tables, upserts, import locks, the data version;
- :mod:`~geo.store.findings` — check runs and their findings;
- :mod:`~geo.store.partitions` — extent, reach and features near lines, for the partitioned check engine;
- :mod:`~geo.store.audit` — the audit log;
- :mod:`~geo.store.audit_chain` — verifying the audit log's hash chain;
- :mod:`~geo.store.account_state` — passwords to change at the next sign-in, the demo's accounts;
- :mod:`~geo.store.users` — user rows (roles are :mod:`identity`'s);
- :mod:`~geo.store.sessions` — sign-in, server-side sessions and password hashes, in the database;
- :mod:`~geo.store.rules` — local values of the check rules;
- :mod:`~geo.store.ratings` — published 五色 ratings;
- :mod:`~geo.store.hazards` — hidden hazards and their steps;
- :mod:`~geo.store.reminders` — reminders (催办) about hazards;
- :mod:`~geo.store.campaign_records` — attachments, inspections, monthly submissions;
- :mod:`~geo.store.lookups` — narrow lookups by key or position;
- :mod:`~geo.store.history` — every version of the risk data, read as of a moment;
- :mod:`~geo.store.snapshots` — stored period figures;
- :mod:`~geo.store.reports` — districts' submitted reports and local values of report definitions;
- :mod:`~geo.store.enterprise_changes` — enterprises' requests to change their basic information.

The public names of every module are re-exported here, so ``from geo import store`` and
``store.read_layer(...)`` reach all of them.
"""

from __future__ import annotations

from geo.store.account_state import (
    enabled_demo_accounts,
    must_change_password,
    require_password_change,
    retire_demo_accounts,
)
from geo.store.audit import AUDIT_COLUMNS, audit, audit_actions, read_audit
from geo.store.audit_chain import ChainReport, verify_audit_chain
from geo.store.campaign_records import (
    ATTACHMENT_INDEX_COLUMNS,
    SUBMISSION_TABLES,
    add_attachment,
    attachment_content,
    hazard_attachments,
    insert_inspection,
    insert_submission,
    link_inspection,
    list_inspections,
    list_submissions,
    read_attachment,
    read_inspection,
)
from geo.store.engine import (
    Scope,
    bypasses_row_security,
    current_scope,
    engine_url,
    make_engine,
    postgis_version,
    reset_scope,
    scoped,
    set_scope,
)
from geo.store.enterprise_changes import (
    CHANGE_COLUMNS,
    CHANGEABLE_FIELDS,
    decide_change,
    enterprise_fields,
    insert_change,
    list_changes,
    read_change,
    update_enterprise_fields,
)
from geo.store.findings import read_finding, read_findings, save_check_run, set_finding_status
from geo.store.hazards import (
    HAZARD_COLUMNS,
    WORKFLOW_WRITABLE,
    hazard_steps,
    insert_hazard,
    insert_step,
    lifecycle_version,
    list_hazards,
    read_hazard,
    record_import_steps,
    status_differs,
    steps_frame,
    update_hazard,
)
from geo.store.history import (
    HISTORY_KEYS,
    VERSION_COLUMNS,
    date_demo_history,
    read_layer_as_of,
    record_versions,
    versions_between,
)
from geo.store.layers import (
    READ_ONLY_ACTIONS,
    clear_layers,
    data_version,
    district_codes,
    lock_layer,
    read_districts,
    read_layer,
    read_layer_near,
    read_layer_window,
    record_batch,
    row_counts,
    table,
    upsert_rows,
)
from geo.store.lookups import (
    district_at,
    enterprise_district,
    enterprise_districts,
    enterprise_of,
    enterprise_points,
    pipeline_districts,
    point_in_district,
)
from geo.store.partitions import data_distances, layers_extent, read_layer_near_lines, widest_span_deg
from geo.store.ratings import PUBLISHED_RATING_COLUMNS, publish_ratings, read_published_ratings
from geo.store.reminders import (
    REMINDER_COLUMNS,
    hazard_reminders,
    insert_reminder,
    open_reminders,
    read_hazard_shared,
)
from geo.store.reports import (
    DEFINITION_OVERRIDE_COLUMNS,
    REPORT_SUBMISSION_COLUMNS,
    insert_report_submission,
    list_report_submissions,
    read_definition_overrides,
    read_report_submission,
    replace_definition_override,
    retire_definition_override,
)
from geo.store.rules import RULE_OVERRIDE_COLUMNS, deactivate_rule_override, read_rule_overrides, replace_rule_override
from geo.store.sessions import (
    SESSION_USER_COLUMNS,
    CodeOutcome,
    SignIn,
    change_own_password,
    end_sessions,
    enrol_second_factor,
    issue_session,
    reset_second_factor,
    second_factor_roles,
    session_state,
    session_user,
    set_password,
    set_second_factor_roles,
    sign_in,
    sign_out,
    verify_second_factor,
)
from geo.store.snapshots import SNAPSHOT_COLUMNS, insert_snapshots, read_snapshots
from geo.store.users import USER_COLUMNS, find_user, insert_user, list_users, set_user_active

__all__ = [
    "ATTACHMENT_INDEX_COLUMNS",
    "AUDIT_COLUMNS",
    "CHANGEABLE_FIELDS",
    "CHANGE_COLUMNS",
    "DEFINITION_OVERRIDE_COLUMNS",
    "HAZARD_COLUMNS",
    "HISTORY_KEYS",
    "PUBLISHED_RATING_COLUMNS",
    "READ_ONLY_ACTIONS",
    "REMINDER_COLUMNS",
    "REPORT_SUBMISSION_COLUMNS",
    "RULE_OVERRIDE_COLUMNS",
    "SESSION_USER_COLUMNS",
    "SNAPSHOT_COLUMNS",
    "SUBMISSION_TABLES",
    "USER_COLUMNS",
    "VERSION_COLUMNS",
    "WORKFLOW_WRITABLE",
    "ChainReport",
    "CodeOutcome",
    "Scope",
    "SignIn",
    "add_attachment",
    "attachment_content",
    "audit",
    "audit_actions",
    "bypasses_row_security",
    "change_own_password",
    "clear_layers",
    "current_scope",
    "data_distances",
    "data_version",
    "date_demo_history",
    "deactivate_rule_override",
    "decide_change",
    "district_at",
    "district_codes",
    "enabled_demo_accounts",
    "end_sessions",
    "engine_url",
    "enrol_second_factor",
    "enterprise_district",
    "enterprise_districts",
    "enterprise_fields",
    "enterprise_of",
    "enterprise_points",
    "find_user",
    "hazard_attachments",
    "hazard_reminders",
    "hazard_steps",
    "insert_change",
    "insert_hazard",
    "insert_inspection",
    "insert_reminder",
    "insert_report_submission",
    "insert_snapshots",
    "insert_step",
    "insert_submission",
    "insert_user",
    "issue_session",
    "layers_extent",
    "lifecycle_version",
    "link_inspection",
    "list_changes",
    "list_hazards",
    "list_inspections",
    "list_report_submissions",
    "list_submissions",
    "list_users",
    "lock_layer",
    "make_engine",
    "must_change_password",
    "open_reminders",
    "pipeline_districts",
    "point_in_district",
    "postgis_version",
    "publish_ratings",
    "read_attachment",
    "read_audit",
    "read_change",
    "read_definition_overrides",
    "read_districts",
    "read_finding",
    "read_findings",
    "read_hazard",
    "read_hazard_shared",
    "read_inspection",
    "read_layer",
    "read_layer_as_of",
    "read_layer_near",
    "read_layer_near_lines",
    "read_layer_window",
    "read_published_ratings",
    "read_report_submission",
    "read_rule_overrides",
    "read_snapshots",
    "record_batch",
    "record_import_steps",
    "record_versions",
    "replace_definition_override",
    "replace_rule_override",
    "require_password_change",
    "reset_scope",
    "reset_second_factor",
    "retire_definition_override",
    "retire_demo_accounts",
    "row_counts",
    "save_check_run",
    "scoped",
    "second_factor_roles",
    "session_state",
    "session_user",
    "set_finding_status",
    "set_password",
    "set_scope",
    "set_second_factor_roles",
    "set_user_active",
    "sign_in",
    "sign_out",
    "status_differs",
    "steps_frame",
    "table",
    "update_enterprise_fields",
    "update_hazard",
    "upsert_rows",
    "verify_audit_chain",
    "verify_second_factor",
    "versions_between",
    "widest_span_deg",
]
