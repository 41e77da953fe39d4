"""Freed heap memory goes back to the kernel between pages (glibc's malloc_trim)."""

from __future__ import annotations

import pytest

from pipeline.memory import _libc, release_free_memory


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def heap_with_holes() -> list[bytes]:
    """About 300 MB freed inside the heap, held in place by the blocks returned.

    100 KB blocks stay below glibc's mmap threshold, so they live in the heap; keeping every
    tenth one alive leaves holes that free() alone never gives back.
    """
    if _libc() is None:
        pytest.skip("not glibc")
    blocks = [bytes(100_000) for _ in range(3000)]
    return blocks[::10]


def test_holes_in_the_heap_are_returned() -> None:
    kept = heap_with_holes()
    before = rss_mb()
    assert release_free_memory()
    assert before - rss_mb() > 150, before  # about 270 MB of the 300 MB freed were resident
    assert len(kept) == 300


def test_below_the_threshold_nothing_is_trimmed() -> None:
    kept = heap_with_holes()
    before = rss_mb()
    assert not release_free_memory(above_mb=before + 500)
    assert rss_mb() > before - 20
    assert release_free_memory(above_mb=before / 2)
    assert rss_mb() < before - 150
    assert len(kept) == 300
