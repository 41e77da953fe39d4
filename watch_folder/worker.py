"""Code that runs inside a worker process: one inbox file through ``app.ingest.ingest_file``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from app.documents import index_documents
from app.ingest import IngestResult, ingest_file
from core.archive import Archive
from core.settings import Settings

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Job:
    row_id: int
    path: str
    tags: dict[str, str]
    resumed: bool  # an earlier attempt was interrupted: make sure the document is indexed


def run_job(job: Job, settings: Settings) -> IngestResult:
    """Ingest one inbox file (``ingest_file`` never raises for a bad file: it returns the reason)."""
    archive = Archive.from_settings(settings)
    # inbox_stores maps the inbox's first folder level (the "dealer" tag) to a store code
    store = settings.inbox_stores.get(job.tags.get("dealer", ""))
    res = ingest_file(Path(job.path), settings, archive=archive, tags=dict(job.tags), update_index=True, store=store)
    if job.resumed and res.status == "duplicate" and res.doc_id:  # "archived" was indexed by ingest_file
        try:
            index_documents(archive, [archive.load(res.doc_id)])
        except (OSError, ValueError, KeyError) as exc:  # the index is derived; woa reindex repairs it
            log.error("event=index_failed doc=%s error=%s", res.doc_id, str(exc).replace("\n", " "))
    return res
