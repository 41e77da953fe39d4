"""Operations on archived documents: extract, index, review, reprocess.

Every interface (the CLI, the web app) and every service (watch, batch) changes a document
through these functions, so the order of writes is the same everywhere: load the sidecar under
the document's lock → change it → save the sidecar (the truth; review corrections go into its
``history``) → update the search index (derived: a failure there is logged and repaired by
``woa reindex``, never lost).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import index
from app.evidence import mileages_for_vehicle, vins_for_plate
from app.lifecycle.retention import apply_retention
from app.links import link_invoice
from app.templates import learn_from_document, learned_templates
from core.archive import Archive
from core.models import Document, FieldValue
from core.settings import Settings
from extractors.engine import extract
from extractors.review import ReviewError, apply_corrections, doubtful_fields, set_field

log = logging.getLogger(__name__)

__all__ = [
    "Correction",
    "Reprocessed",
    "ReviewError",
    "correct_field",
    "extract_fields",
    "index_documents",
    "needing_review",
    "reprocess",
    "reprocess_document",
    "review_record",
]


def index_documents(archive: Archive, docs: list[Document]) -> bool:
    """Bring the search index in step with ``docs`` after a change; False (logged) if that failed.

    The sidecars are the truth, so a failure never undoes the change: ``woa reindex`` repairs it.
    """
    if not docs:
        return True
    try:
        index.update_index(archive, docs)
    except OSError as exc:
        log.warning("not indexed yet: %s (%s); the next search or 'woa reindex' adds %s",
                    ", ".join(d.id for d in docs), exc.strerror or exc, "them" if len(docs) > 1 else "it")
        return False
    except Exception as exc:
        log.error("index update failed for %s (%s: %s); run 'woa reindex'", ", ".join(d.id for d in docs),
                  type(exc).__name__, exc)
        log.debug("index update failure", exc_info=True)
        return False
    return True


def extract_fields(doc: Document, settings: Settings, archive: Archive | None = None) -> None:
    """Extract the fields of ``doc`` from its pages (no OCR), then re-apply review corrections.

    With ``archive``, the VINs it has seen with the document's plate are evidence for a VIN repair,
    the mileages of the vehicle's other orders for a mileage misread, and its learned templates
    (taught by corrections) apply to documents of their layout.
    """
    lookup = vins_for_plate(archive, exclude_id=doc.id) if archive is not None else None
    mileages = mileages_for_vehicle(archive, exclude_id=doc.id) if archive is not None else None
    learned = learned_templates(archive) if archive is not None else None
    result = extract(doc.pages, settings, vins_for_plate=lookup, learned=learned, mileages_for=mileages)
    doc.doc_type, doc.doc_fields = result.doc_type, result.doc_fields
    if archive is not None:
        link_invoice(archive, doc)
    doc.fields, doc.items = result.fields, result.items
    doc.confidence, doc.needs_review = result.confidence, result.needs_review
    apply_corrections(doc, settings.review_threshold)
    apply_retention(doc, settings)  # a corrected date_out moves retain_until


def reprocess_document(doc: Document, settings: Settings, archive: Archive | None = None) -> None:
    """Extract again from the stored pages (no OCR) and re-apply review corrections."""
    extract_fields(doc, settings, archive)


@dataclass
class Reprocessed:
    done: list[Document] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (doc id, one-line reason)


def reprocess(archive: Archive, refs: Iterable[str], settings: Settings) -> Reprocessed:
    """Re-extract the documents ``refs`` (ids or unique prefixes; empty: all) and re-index them.

    Raises ``UnknownDocument`` before changing anything if a reference matches no document.
    """
    refs = list(refs)
    ids = [archive.resolve(r) for r in refs] if refs else list(archive.ids())
    out = Reprocessed()
    for doc_id in ids:
        try:
            with archive.lock(doc_id):
                doc = archive.load(doc_id)
                reprocess_document(doc, settings, archive)
                archive.save(doc)
            out.done.append(doc)
        except (OSError, ValueError, KeyError) as exc:
            out.failed.append((doc_id, str(exc)))
    index_documents(archive, out.done)
    return out


@dataclass
class Correction:
    doc: Document
    entry: dict[str, Any]  # the history entry: field, old, new, at, user

    @property
    def value(self) -> FieldValue:
        return self.doc.fields[self.entry["field"]]


def correct_field(archive: Archive, ref: str, fld: str, value: str, settings: Settings, *,
                  user: str | None = None) -> Correction:
    """A clerk's correction of one field: recorded in the sidecar's history, then indexed.

    Raises ``UnknownDocument`` (no such document) or ``ReviewError`` (unknown field, empty value).
    """
    doc_id = archive.resolve(ref)
    with archive.lock(doc_id):
        doc = archive.load(doc_id)
        entry = set_field(doc, fld, value, user or settings.reviewer, settings.review_threshold)
        apply_retention(doc, settings)  # a corrected date_out moves retain_until
        archive.save(doc)
    index_documents(archive, [doc])
    try:  # the correction also teaches the layout's learned template; failing that loses nothing
        learn_from_document(archive, doc)
    except (OSError, ValueError) as exc:
        log.error("%s: learning from the correction failed: %s", doc.id, exc)
    return Correction(doc, entry)


def review_record(doc: Document, threshold: float) -> dict[str, Any]:
    """What a clerk needs to review ``doc``: its doubtful fields with value, confidence, note, page."""
    return {
        "id": doc.id,
        "source_name": doc.source_name,
        "confidence": round(doc.confidence, 3),
        "doubtful": {k: {"value": v.value, "confidence": round(v.confidence, 3), "note": v.note, "page": v.page}
                     for k, v in doubtful_fields(doc, threshold).items()},
    }


def needing_review(archive: Archive, threshold: float, damaged: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Review records of the documents that need review, in archive order (damaged sidecars are
    skipped, one line each appended to ``damaged``)."""
    for doc in archive.documents(damaged):
        if doc.needs_review:
            yield review_record(doc, threshold)

