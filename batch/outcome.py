"""What happened to one scan of a batch: the record that workers return and reports read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from core.models import CANONICAL_FIELDS, Document

Status = Literal["archived", "duplicate", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("archived", "duplicate", "failed", "skipped")


@dataclass
class FileOutcome:
    path: str
    sha256: str
    status: Status
    doc_id: str = ""
    error: str = ""
    pages: int = 0
    seconds: float = 0.0
    needs_review: bool = False
    doubtful: list[str] = field(default_factory=list)  # fields below the review threshold
    present: list[str] = field(default_factory=list)  # canonical fields that have a value
    worker: str = ""
    max_rss_kb: int = 0  # peak resident memory of the worker process so far
    transient: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FileOutcome:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


def review_summary(doc: Document, review_threshold: float) -> tuple[list[str], list[str]]:
    """(doubtful, present): fields below the review threshold (as `woa review` counts them), fields with a value."""
    present = [name for name in CANONICAL_FIELDS if (fv := doc.fields.get(name)) is not None and fv.value]
    doubtful = [name for name, fv in doc.fields.items() if fv.confidence < review_threshold]
    return doubtful, present
