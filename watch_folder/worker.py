"""Code that runs inside a worker process: one inbox file through ``app.ingest.ingest_file``."""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import Settings

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EAGAIN, errno.EBUSY, errno.ETXTBSY, errno.EDQUOT, errno.EIO, errno.ENOLCK})


@dataclass(frozen=True)
class Job:
    row_id: int
    path: str
    tags: dict[str, str]
    resumed: bool  # an earlier attempt was interrupted: make sure the document is indexed


@dataclass(frozen=True)
class JobResult:
    row_id: int
    status: str  # archived | duplicate | failed
    doc_id: str | None
    error: str | None
    transient: bool
    pages: int
    seconds: float


def init_worker() -> None:
    """Workers die with the service (SIGKILL included) and leave signals to it (it drains them)."""
    os.environ["OMP_THREAD_LIMIT"] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: orphaned workers finish their file and exit
        pass
    if os.getppid() == 1:  # the service died before prctl took effect
        os._exit(1)


def _is_transient(exc: BaseException) -> bool:
    from core.errors import TransientError

    if isinstance(exc, TransientError):
        return True
    return isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS


def _ensure_indexed(archive: Any, doc_id: str) -> None:
    try:
        import index
    except ImportError:
        return
    update = getattr(index, "update_index", None)
    if update is None:
        return
    try:
        update(archive, [archive.load(doc_id)])
    except Exception as exc:  # the index is derived; woa reindex repairs it
        log.error("event=index_failed doc=%s error=%s", doc_id, str(exc).replace("\n", " "))


def run_job(job: Job, settings: Settings) -> JobResult:
    """Never raises for a bad file: every problem becomes a failed result with a one-line reason."""
    from core.archive import Archive

    archive = Archive.from_settings(settings)
    try:
        from app.ingest import ingest_file

        res = ingest_file(Path(job.path), settings, archive=archive, tags=dict(job.tags), update_index=True)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        return JobResult(job.row_id, "failed", None, reason, _is_transient(exc), 0, 0.0)
    status = str(res.status)
    doc_id = getattr(res, "doc_id", None)
    if job.resumed and status in ("archived", "duplicate") and doc_id:
        _ensure_indexed(archive, doc_id)
    error = getattr(res, "error", None)
    return JobResult(
        row_id=job.row_id,
        status=status,
        doc_id=doc_id,
        error=str(error).replace("\n", " ") if error else None,
        transient=bool(getattr(res, "transient", False)),
        pages=int(getattr(res, "pages", 0) or 0),
        seconds=float(getattr(res, "seconds", 0.0) or 0.0),
    )
