"""What a batch worker process does with one scan (shared by the local pool and Celery tasks)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import resource
import select
import signal
import threading
import time
from pathlib import Path

from app.ingest import IngestResult, ingest_file
from core.settings import Settings

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def limit_threads() -> None:
    """One OCR thread per process: with N processes on N cores, more threads only contend.

    Tesseract is several times slower on 2 cores unless ``OMP_THREAD_LIMIT=1``.
    """
    for var in ("OMP_THREAD_LIMIT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - opencv is a dependency, but the worker does not need it
        pass


_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_malloc(low_memory: bool = False) -> None:
    """Fewer malloc arenas (free); with ``low_memory``, page-sized buffers go back to the OS.

    glibc raises its mmap threshold after large frees, so page images and OCR tensors end up in
    the heap and the resident size creeps up page after page. A fixed 128 KiB threshold cut the
    peak of a worker on a 20-page PDF from about 1.4 GB to 0.45 GB, but every big buffer is then
    mapped and zeroed afresh: OCR took about twice the CPU time (benchmarks.md). Hence an option.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_ARENA_MAX, 2)
        if low_memory:
            libc.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)


def low_memory_from_env() -> bool:
    return os.environ.get("WOA_LOW_MEMORY", "") in ("1", "true", "yes")


def die_with_parent() -> None:
    """Ask Linux to terminate this process when its parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_for_exit(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                pass
            time.sleep(1.0)
    select.select([fd], [], [])


def exit_with(pid: int) -> None:
    """End this process as soon as process ``pid`` (the ``woa batch`` that owns it) is gone.

    Pool processes are children of multiprocessing's fork server, not of the batch process, so
    ``PR_SET_PDEATHSIG`` alone does not fire when a ``woa batch`` is killed with SIGKILL. What the
    worker was doing is lost, never half-written: archive writes are atomic and the sidecar last.
    """

    def watch() -> None:
        _wait_for_exit(pid)
        os._exit(1)

    threading.Thread(target=watch, name=f"exit with {pid}", daemon=True).start()


def init_pool_worker(batch_pid: int, low_memory: bool = False) -> None:
    """Initializer of a local pool process: Ctrl-C is the parent's to handle; die with the batch."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    exit_with(batch_pid)
    limit_threads()
    tune_malloc(low_memory)


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
