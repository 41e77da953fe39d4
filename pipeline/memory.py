"""Give freed heap memory back to the operating system between pages.

Page images, OCR tensors and crops are freed after every page, but glibc keeps freed chunks
inside its heap, and the mix of sizes leaves holes that later pages do not fill: over a 300-page
PDF the resident size of one process crept from 0.6 to 1.1 GB (1.7 GB in a batch worker).
``malloc_trim(0)`` returns every free page of the heap to the kernel (glibc ≥ 2.8 also releases
pages inside the heap, not only at its top) for a few milliseconds a page.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)


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


def release_free_memory() -> None:
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
