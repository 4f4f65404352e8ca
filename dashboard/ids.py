"""Component ids, defined once and shared by layouts, callbacks and browser tests."""

LANG = "lang-switch"
CONTENT = "page-content"
MAP = "risk-map"
KPI = "kpi-strip"
DISTRICT_TABLE = "district-table"
TITLE = "page-title"
