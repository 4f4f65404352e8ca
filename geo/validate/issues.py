"""What validation reports: one :class:`Issue` per problem, and the labels of file-level rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from geo.crs import SourceCRS

#: Row label of file-level issues found in the header (missing or unknown columns).
HEADER_ROW = "表头 / header"
#: Row label of file-level issues about the file as a whole (e.g. a layer the account may not change).
FILE_ROW = "整个文件 / whole file"
#: Row labels of issues that concern the whole file: such an error refuses the file even with skip_invalid.
FILE_LEVEL_ROWS = (HEADER_ROW, FILE_ROW)
#: Field label of issues about a row's geometry.
GEOMETRY_FIELD = "几何(geometry)"


@dataclass(frozen=True)
class Issue:
    """One problem found in an import file."""

    file: str
    row: str
    field: str
    zh: str
    en: str
    severity: Literal["error", "warning"] = "error"

    def text(self, lang: str = "zh") -> str:
        """Format as one line in ``lang`` ("zh", "en" or "both")."""
        msg = {"zh": self.zh, "en": self.en}.get(lang, f"{self.zh} / {self.en}")
        tag = {"error": "错误", "warning": "提示"}[self.severity] if lang != "en" else self.severity
        return f"{self.file}: {self.row}: {self.field}: {tag}: {msg}"


@dataclass
class Validated:
    """Result of validating one file."""

    records: list[dict[str, Any]]
    record_rows: list[int]
    rejected_rows: dict[int, list[Issue]]
    issues: list[Issue] = field(default_factory=list)
    source_crs: SourceCRS | None = None

    @property
    def errors(self) -> list[Issue]:
        """Issues that block a row."""
        return [i for i in self.issues if i.severity == "error"]


class RowIssues:
    """Collects the issues of one row (``label`` as shown to the user, e.g. "第 3 行")."""

    def __init__(self, file: str, label: str) -> None:
        self.file, self.label = file, label
        self.issues: list[Issue] = []

    def error(self, fld: str, zh: str, en: str) -> None:
        """Record an error (the row is refused) about field ``fld``, in Chinese and English."""
        self.issues.append(Issue(self.file, self.label, fld, zh, en))

    def warn(self, fld: str, zh: str, en: str) -> None:
        """Record a warning (the row is kept) about field ``fld``, in Chinese and English."""
        self.issues.append(Issue(self.file, self.label, fld, zh, en, "warning"))

    @property
    def ok(self) -> bool:
        """Whether the row has no error so far."""
        return not any(i.severity == "error" for i in self.issues)
