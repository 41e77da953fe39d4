"""Give freed heap memory back to the operating system between pages.

Page images, OCR tensors and crops are freed after every page, but glibc keeps freed chunks
inside its heap, and the mix of sizes leaves holes that later pages do not fill: over a 300-page
PDF the resident size of one process crept from 0.6 to 1.1 GB (1.7 GB in a batch worker).
``malloc_trim(0)`` returns every free page of the heap to the kernel (glibc ≥ 2.8 also releases
pages inside the heap, not only at its top). The call itself takes microseconds, but trimming
after every page made a 300-page run up to 12 % slower (runs one after another; none in two runs
side by side), presumably because the next page faults its buffers in afresh, so the pipeline
trims only once the resident size passes a threshold.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def resident_mb() -> float:
    """This process's resident set size in MB (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def release_free_memory(above_mb: float = 0.0) -> bool:
    """Return free heap memory to the kernel if the resident size is above ``above_mb``; True if trimmed."""
    libc = _libc()
    if libc is None or (above_mb > 0 and resident_mb() <= above_mb):
        return False
    libc.malloc_trim(0)
    return True
