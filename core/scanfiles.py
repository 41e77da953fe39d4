"""Which files are scans: one filter for ``woa ingest`` folders, the batch walk, the watched inbox
and the web upload. Hidden, system and temporary names (Thumbs.db, Office lock files, partial
downloads, macOS resource forks, NAS recycle bins) never hold a scan."""

from __future__ import annotations

import fnmatch
from pathlib import Path

SCAN_SUFFIXES = frozenset({".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png"})

SYSTEM_NAMES = frozenset(
    {
        "thumbs.db",
        "desktop.ini",
        "ehthumbs.db",
        ".ds_store",
        "$recycle.bin",
        "system volume information",
        "@eadir",  # Synology thumbnails
        "#recycle",  # Synology recycle bin
        "#snapshot",
        "lost+found",
        "__macosx",
    }
)
TEMPORARY_PATTERNS = ("*.tmp", "*.part", "*.crdownload", "~$*", ".~lock*", "*.swp")


def is_skipped_name(name: str) -> bool:
    """Hidden, system or temporary names (files or folders) that never hold a scan."""
    low = name.lower()
    if name.startswith(".") or low in SYSTEM_NAMES:
        return True
    return any(fnmatch.fnmatchcase(low, pat) for pat in TEMPORARY_PATTERNS)


def is_scan(path: Path) -> bool:
    """A scan by its name: a scan suffix and not a skipped name."""
    return path.suffix.lower() in SCAN_SUFFIXES and not is_skipped_name(path.name)
