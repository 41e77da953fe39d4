"""The one start-up of a worker process: the watcher's pool, the local batch pool and Celery's.

What a worker does with a file is ``app.ingest.ingest_file``; this is what it does first.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

import cv2

from core.process import die_with_parent, exit_with
from core.settings import Settings

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def limit_threads() -> None:
    """One OCR thread per process: with N processes on N cores, more threads only contend.

    Tesseract is several times slower on 2 cores unless ``OMP_THREAD_LIMIT=1``.
    """
    for var in ("OMP_THREAD_LIMIT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    cv2.setNumThreads(1)


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


def init_worker_process(settings: Settings, owner_pid: int | None = None, ignore_sigterm: bool = False) -> None:
    """Start a worker process: one OCR thread, malloc tuned (``settings.low_memory``).

    With ``owner_pid`` (a pool of ours): Ctrl-C (and with ``ignore_sigterm`` SIGTERM) is the
    owner's to handle, and the worker dies with its owner, SIGKILL included. What it was doing is
    lost, never half-written: archive writes are atomic and the sidecar last.
    """
    if owner_pid is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if ignore_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        die_with_parent(signal.SIGKILL)
        exit_with(owner_pid)
    limit_threads()
    tune_malloc(settings.low_memory)
