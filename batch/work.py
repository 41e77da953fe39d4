"""What a batch worker process does with one scan (shared by the local pool and Celery tasks)."""

from __future__ import annotations

import logging
import os
import resource
from pathlib import Path

from app.ingest import IngestResult, ingest_file
from core.settings import Settings

log = logging.getLogger(__name__)

def worker_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ocr_threads": 1})


def peak_rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def process_file(
    path: str, sha256: str, settings: Settings, worker: str = "", tags: dict[str, str] | None = None
) -> IngestResult:
    """Archive one scan without touching the index (the batch's single writer indexes it)."""
    store = (tags or {}).get("store")  # woa batch --store: travels with the tags to every worker
    res = ingest_file(Path(path), settings, tags=tags, update_index=False, store=store)
    res.sha256 = res.sha256 or sha256
    res.worker = worker or f"local-{os.getpid()}"
    res.max_rss_kb = peak_rss_kb()
    return res
