"""Find the scans to archive under the folders and files given on the command line.

The walk is lazy and sorted (same order on every run, so a resumed batch starts where the
last one stopped) and skips hidden files, files other tools leave behind (Thumbs.db, Office
lock files, macOS resource forks) and system folders of file servers and NAS boxes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.scanfiles import SCAN_SUFFIXES as SCAN_SUFFIXES
from core.scanfiles import is_scan, is_skipped_name


def _walk_dir(root: Path, exclude: frozenset[Path]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(
            d for d in dirnames if not is_skipped_name(d) and (Path(dirpath) / d).resolve() not in exclude
        )
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if is_scan(path) and path.is_file():
                yield path


def iter_scans(sources: Iterable[Path], exclude: Iterable[Path] = ()) -> Iterator[Path]:
    """Scans under ``sources`` (folders are walked, files taken as given if they are scans).

    Folders in ``exclude`` (the archive itself, when it lies inside a source) are not entered.
    """
    excluded = frozenset(Path(p).resolve() for p in exclude)
    for src in sources:
        src = Path(src)
        if src.is_dir():
            if src.resolve() not in excluded:
                yield from _walk_dir(src, excluded)
        elif src.is_file() and is_scan(src):
            yield src


def count_scans(sources: Iterable[Path], exclude: Iterable[Path] = ()) -> int:
    return sum(1 for _ in iter_scans(sources, exclude))
