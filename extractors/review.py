"""Review corrections: a clerk's value wins over extraction and is kept in the sidecar's history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from core.models import CANONICAL_FIELDS, Document, FieldValue
from extractors.fields import PARSERS

DEFAULT_THRESHOLD = 0.8


class ReviewError(ValueError):
    pass


def normalise_correction(fld: str, value: str, today: date | None = None) -> tuple[str, bool, str]:
    """(value to store, whether it passed the field's validation, note)."""
    if fld not in CANONICAL_FIELDS:
        raise ReviewError(f"unknown field {fld!r}; fields: {', '.join(CANONICAL_FIELDS)}")
    value = value.strip()
    if not value:
        raise ReviewError("empty value")
    parsed = PARSERS[fld](value, today or date.today())
    if parsed is not None and parsed.valid:
        return parsed.value, True, "corrected in review"
    why = parsed.note if parsed is not None and parsed.note else "does not pass the field's validation"
    return value, False, f"corrected in review; {why}"


def corrected_field(fld: str, value: str, previous: FieldValue | None) -> FieldValue:
    stored, valid, note = normalise_correction(fld, value)
    return FieldValue(
        value=stored,
        confidence=1.0,
        page=previous.page if previous else None,
        box=previous.box if previous else None,
        raw=value,
        valid=valid,
        note=note,
        source="review",
    )


def review_state(doc: Document, threshold: float = DEFAULT_THRESHOLD) -> None:
    """Recompute ``doc.confidence`` (lowest field) and ``doc.needs_review``."""
    confs = [fv.confidence for fv in doc.fields.values()]
    doc.confidence = min(confs) if confs else 0.0
    doc.needs_review = not confs or any(c < threshold for c in confs)


def doubtful_fields(doc: Document, threshold: float = DEFAULT_THRESHOLD) -> dict[str, FieldValue]:
    return {k: v for k, v in doc.fields.items() if v.confidence < threshold}


def set_field(doc: Document, fld: str, value: str, user: str, threshold: float = DEFAULT_THRESHOLD,
              now: datetime | None = None) -> dict[str, Any]:
    """Correct one field, record it in the history, recompute the review state; returns the entry."""
    old = doc.fields.get(fld)
    new = corrected_field(fld, value, old)
    entry = {
        "field": fld,
        "old": old.value if old else None,
        "new": new.value,
        "at": (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "user": user,
    }
    doc.history.append(entry)
    doc.fields[fld] = new
    review_state(doc, threshold)
    return entry


def apply_corrections(doc: Document, threshold: float = DEFAULT_THRESHOLD) -> None:
    """Re-apply the latest review correction of every field (after extraction or reprocessing)."""
    latest: dict[str, Any] = {}
    for entry in doc.history:
        if entry.get("field") in CANONICAL_FIELDS and entry.get("new") is not None:
            latest[entry["field"]] = entry["new"]
    for fld, value in latest.items():
        try:
            doc.fields[fld] = corrected_field(fld, str(value), doc.fields.get(fld))
        except ReviewError:
            continue
    review_state(doc, threshold)
