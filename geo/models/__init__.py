"""SQLAlchemy 2 / GeoAlchemy2 models of the RiskMap store (models only, no queries), one module per concern.

Geometry is stored in CGCS2000 (EPSG:4490) with GiST indexes. Every table whose
rows belong to a district carries ``adcode`` (GB/T 2260), so that access can be
scoped per district with row-level security later. Pipelines cross districts and
carry the list ``adcodes`` instead.

Importable layers share :class:`LayerRow`: a natural ``key`` (credit code, code
or a content hash) that makes re-imports update rows instead of duplicating them,
the source CRS the coordinates arrived in, and the import batch.

Modules: :mod:`~geo.models.base` (the base, naming convention, shared columns),
:mod:`~geo.models.layers` (importable layers and :data:`LAYER_MODELS`), :mod:`~geo.models.records`
(batches, audit, runs and findings, users, rule overrides, ratings), :mod:`~geo.models.campaign`
(hazard steps, inspections, attachments, submissions), :mod:`~geo.models.reports` (report submissions and
definition overrides) and :mod:`~geo.models.history` (row versions,
measure snapshots). Every model is re-exported here; importing this package registers all tables on
``Base.metadata`` (migrations compare against it).
"""

from __future__ import annotations

from geo.models.base import NAMING_CONVENTION, Base, DistrictRow, LayerRow, Timestamps, geometry_column
from geo.models.campaign import (
    Attachment,
    DispatchSubmission,
    EnterpriseChange,
    HazardReminder,
    HazardStep,
    Inspection,
    SelfReport,
)
from geo.models.history import MeasureSnapshot, RowVersion
from geo.models.layers import (
    LAYER_MODELS,
    Building,
    District,
    Enterprise,
    HiddenHazard,
    HighConsequenceArea,
    Infrastructure,
    Installation,
    Park,
    Pipeline,
    ProtectionTarget,
    RiskContour,
    RiskPoint,
    TailingsDam,
)
from geo.models.records import AuditLog, CheckFinding, CheckRun, ImportBatch, PublishedRating, RuleOverride, User
from geo.models.reports import ReportDefinitionOverride, ReportSubmission

__all__ = [
    "LAYER_MODELS",
    "NAMING_CONVENTION",
    "Attachment",
    "AuditLog",
    "Base",
    "Building",
    "CheckFinding",
    "CheckRun",
    "DispatchSubmission",
    "District",
    "DistrictRow",
    "Enterprise",
    "EnterpriseChange",
    "HazardReminder",
    "HazardStep",
    "HiddenHazard",
    "HighConsequenceArea",
    "ImportBatch",
    "Infrastructure",
    "Inspection",
    "Installation",
    "LayerRow",
    "MeasureSnapshot",
    "Park",
    "Pipeline",
    "ProtectionTarget",
    "PublishedRating",
    "ReportDefinitionOverride",
    "ReportSubmission",
    "RiskContour",
    "RiskPoint",
    "RowVersion",
    "RuleOverride",
    "SelfReport",
    "TailingsDam",
    "Timestamps",
    "User",
    "geometry_column",
]
