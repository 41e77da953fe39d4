"""Apply the retention rules to documents (at ingest, after a correction, when the rules change)."""

from __future__ import annotations

import hashlib
import json
import logging

from core.archive import Archive
from core.models import Document
from core.retention import compute_retention, effective_rules
from core.settings import Settings

log = logging.getLogger(__name__)


def apply_retention(doc: Document, settings: Settings) -> bool:
    """Set ``doc.retain_until`` and ``doc.retention_rule`` from the rules; True if they changed."""
    until, rule = compute_retention(doc, settings.retention)
    if doc.retain_extended and doc.retain_extended > until:
        until, rule = doc.retain_extended, f"{rule} (extended)"
    changed = (until, rule) != (doc.retain_until, doc.retention_rule)
    doc.retain_until, doc.retention_rule = until, rule
    return changed


def rules_fingerprint(settings: Settings) -> str:
    """Changes exactly when the effective rules change (then every document is recomputed)."""
    data = [r.model_dump(mode="json") for r in effective_rules(settings.retention)]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def recompute_all(archive: Archive, settings: Settings) -> list[Document]:
    """Recompute every document's retention; saves and returns the documents that changed."""
    changed: list[Document] = []
    for doc_id in list(archive.ids()):
        with archive.lock(doc_id):
            try:
                doc = archive.load(doc_id)
            except (OSError, ValueError, KeyError) as exc:
                log.error("sidecar of %s unreadable: %s", doc_id, exc)
                continue
            if apply_retention(doc, settings):
                archive.save(doc)
                changed.append(doc)
    return changed
