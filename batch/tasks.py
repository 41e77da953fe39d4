"""The Celery task: archive one scan from shared storage, exactly once, keyed by its SHA-256."""

from __future__ import annotations

import logging
import os
from pathlib import Path, PurePath
from typing import Any

import redis

from app.ingest import IngestResult
from batch.redis_state import BatchState, connect, sha_lock
from batch.work import peak_rss_kb, process_file, worker_settings
from core.archive import Archive, doc_id_for

log = logging.getLogger(__name__)

MAX_TRANSIENT_RETRIES = 3


def retry_countdown(retries: int) -> float:
    return min(300.0, 10.0 * 2**retries)


def archived_from(archive: Archive, sha256: str, path: str) -> bool:
    """Whether the archived document with these bytes came from this very file name."""
    try:
        return archive.load(doc_id_for(sha256)).source_name == PurePath(path).name
    except (OSError, ValueError, KeyError):
        return False


def recovered_outcome(archive: Archive, path: str, sha256: str, worker: str, threshold: float) -> IngestResult:
    """The outcome of an attempt that committed its sidecar but died before recording it."""
    outcome = IngestResult(Path(path), "archived", doc_id=doc_id_for(sha256), sha256=sha256, worker=worker)
    try:
        outcome.add_review_facts(archive.load(outcome.archived_id), threshold)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("sidecar of %s unreadable: %s", outcome.doc_id, exc)
    return outcome


def run_ingest_task(
    task: Any, key: str, batch_id: str, path: str, sha256: str, tags: dict[str, str] | None = None
) -> str:
    """Body of ``woa.ingest_document``; returns the recorded status.

    Idempotent: a redelivered task whose outcome is recorded does nothing; one whose earlier
    attempt committed the sidecar (archived from this file, not by this batch's other tasks)
    records it without archiving again; other copies of archived bytes become duplicates. The per-SHA lock keeps two
    copies of the same bytes (or a redelivery racing a slow original) from being ingested at once.
    """
    worker = str(task.request.hostname or f"pid{os.getpid()}")
    from batch.celery_app import app_settings

    settings = worker_settings(app_settings(task.app))
    r = connect(task.app.conf.broker_url)
    state = BatchState(r, batch_id)
    try:
        if state.is_recorded(key):
            return "recorded"
        state.mark_running(key, worker, path)
        with sha_lock(r, sha256):
            if state.is_recorded(key):
                return "recorded"
            archive = Archive.from_settings(settings)
            if (
                archive.has(sha256)
                and not state.archived_in_batch(sha256)
                and archived_from(archive, sha256, path)
            ):
                outcome = recovered_outcome(archive, path, sha256, worker, settings.review_threshold)
            else:
                outcome = process_file(path, sha256, settings, worker, tags)
            if outcome.transient and task.request.retries < MAX_TRANSIENT_RETRIES:
                state.unmark_running(key)
                log.warning("transient failure on %s (%s): retrying", path, outcome.error)
                raise task.retry(countdown=retry_countdown(task.request.retries), max_retries=MAX_TRANSIENT_RETRIES)
            outcome.max_rss_kb = max(outcome.max_rss_kb, peak_rss_kb())
            state.record(key, outcome)
            return outcome.status
    except redis.RedisError as exc:
        log.warning("redis error on %s: %s; retrying", path, exc)
        raise task.retry(exc=exc, countdown=retry_countdown(task.request.retries), max_retries=10) from exc
    finally:
        r.close()
