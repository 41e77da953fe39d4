"""Approved disposal: an expired document goes only when a manager approves; a tombstone remains.

Order: the tombstone is written first (the decision, durable), then the cold copies, the original,
the PDF/A copy, any cached copy and the sidecar (with the personal content) are deleted, then the
index entry. A crash in between leaves a tombstone beside a sidecar; the next ``woa lifecycle run``
(or ``woa dispose --approve`` again) finishes it. The tombstone keeps what the audit needs and no
personal data: id, SHA-256s, order number, dates, store, the rule, who approved and when.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import date
from typing import Any

from app.lifecycle.hold import LifecycleError
from app.lifecycle.retention import apply_retention
from app.lifecycle.state import load_state, log_event, now_iso, save_state, state_lock
from app.lifecycle.tier import Tier, open_tier
from core.archive import Archive
from core.atomic import write_json_atomic
from core.identifiers import parse_day
from core.models import Document, field_value
from core.settings import Settings
from index import remove_from_index, update_index

log = logging.getLogger(__name__)


def tombstone_for(doc: Document, actor: str, today: date) -> dict[str, Any]:
    return {
        "id": doc.id,
        "sha256": doc.sha256,
        "archive_sha256": doc.archive_sha256,
        "order_no": field_value(doc, "order_no"),
        "date_in": field_value(doc, "date_in"),
        "date_out": field_value(doc, "date_out"),
        "ingested_at": doc.ingested_at,
        "store": doc.store,
        "retain_until": doc.retain_until,
        "retention_rule": doc.retention_rule,
        "tier": doc.tier.get("name") if doc.tier else "hot",
        "approved_by": actor,
        "approved_on": today.isoformat(),
        "disposed_at": now_iso(),
    }


def _check_due(doc: Document, today: date) -> None:
    if doc.hold is not None:
        raise LifecycleError(f"{doc.id} is on legal hold ({doc.hold.get('reason')}); release the hold first")
    until = parse_day(doc.retain_until)
    if until is None:
        raise LifecycleError(f"{doc.id} has no retention date; it cannot be disposed of")
    if until > today:
        raise LifecycleError(f"{doc.id} must be kept until {doc.retain_until} ({doc.retention_rule})")


def approve(archive: Archive, settings: Settings, doc_id: str, actor: str, today: date,
            tier: Tier | None = None) -> dict[str, Any]:
    """Dispose of one expired, not held document; returns its tombstone."""
    with archive.lock(doc_id):
        doc = archive.load(doc_id)
        _check_due(doc, today)
        tomb = tombstone_for(doc, actor, today)
        write_json_atomic(archive.tombstone_path(doc_id), tomb)
    log_event(archive, "dispose.approve", doc_id, actor, {k: tomb[k] for k in ("order_no", "store", "retain_until",
                                                                              "retention_rule", "sha256")})
    finish(archive, settings, doc_id, tier)
    return tomb


def finish(archive: Archive, settings: Settings, doc_id: str, tier: Tier | None = None) -> None:
    """Delete everything of a document that has a tombstone (idempotent; resumes a crashed disposal)."""
    with archive.lock(doc_id):
        sidecar = archive.sidecar_path(doc_id)
        doc: Document | None = None
        with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
            doc = archive.load(doc_id)
        if doc is not None:
            if doc.tier:
                tier = tier or open_tier(settings)
                if tier is None:
                    raise LifecycleError(f"{doc_id} has cold copies in {doc.tier.get('where')}, but no tier is "
                                         "configured (tier_url); nothing deleted yet")
                for key in doc.tier.get("keys", {}).values():
                    tier.delete(key)
            for rel in (doc.original, doc.archive_pdf):
                if rel:
                    with contextlib.suppress(FileNotFoundError):
                        archive.abs(rel).unlink()
                    with contextlib.suppress(FileNotFoundError):
                        archive.cache_path(rel).unlink()
            sidecar.unlink()
    remove_from_index(archive, [doc_id])
    with state_lock(archive):
        state = load_state(archive)
        state.due.pop(doc_id, None)
        state.reminders.pop(doc_id, None)
        save_state(archive, state)


def unfinished(archive: Archive) -> list[str]:
    """Ids with a tombstone whose sidecar still exists (a disposal a crash interrupted)."""
    base = archive.lifecycle_dir / "tombstones"
    if not base.is_dir():
        return []
    return sorted(p.stem for p in base.rglob("*.json") if archive.sidecar_path(p.stem).is_file())


def tombstones(archive: Archive) -> list[dict[str, Any]]:
    base = archive.lifecycle_dir / "tombstones"
    if not base.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(base.rglob("*.json"))]


def extend(archive: Archive, settings: Settings, doc_id: str, until: date, actor: str, reason: str) -> Document:
    """Keep a document longer than its rule says (never shorter)."""
    with archive.lock(doc_id):
        doc = archive.load(doc_id)
        if doc.retain_until and until.isoformat() <= doc.retain_until:
            raise LifecycleError(f"{doc_id} is already kept until {doc.retain_until}; an extension must be later")
        doc.retain_extended = until.isoformat()
        apply_retention(doc, settings)
        archive.save(doc)
    update_index(archive, [doc])
    with state_lock(archive):
        state = load_state(archive)
        state.due.pop(doc_id, None)
        save_state(archive, state)
    log_event(archive, "dispose.extend", doc_id, actor, {"until": doc.retain_until, "reason": reason})
    return doc
