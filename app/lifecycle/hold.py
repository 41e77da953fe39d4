"""Legal hold: a held document is never disposed of, whatever its retention."""

from __future__ import annotations

from app.lifecycle.state import log_event, now_iso
from core.archive import Archive
from core.models import Document
from index import update_index


class LifecycleError(ValueError):
    """A lifecycle action is refused (one line for the user)."""


def set_hold(archive: Archive, doc_id: str, reason: str, actor: str) -> Document:
    if not reason.strip():
        raise LifecycleError("a hold needs a reason (--reason)")
    with archive.lock(doc_id):
        doc = archive.load(doc_id)
        doc.hold = {"by": actor, "at": now_iso(), "reason": reason.strip()}
        archive.save(doc)
    update_index(archive, [doc])
    log_event(archive, "hold.set", doc_id, actor, {"reason": reason.strip()})
    return doc


def release_hold(archive: Archive, doc_id: str, actor: str, reason: str = "") -> Document:
    with archive.lock(doc_id):
        doc = archive.load(doc_id)
        if doc.hold is None:
            raise LifecycleError(f"{doc_id} is not on hold")
        old = doc.hold
        doc.hold = None
        archive.save(doc)
    update_index(archive, [doc])
    log_event(archive, "hold.release", doc_id, actor, {"reason": reason, "was": old})
    return doc
