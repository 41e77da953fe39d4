"""Take a file only when the writer is done: size and mtime unchanged for a while, and it opens."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time the (size, mtime) pair was first seen


def opens_cleanly(path: Path) -> bool:
    """A file another program still holds exclusively (SMB share modes) fails here."""
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError:
        return False
    return True


class StabilityTracker:
    """Files being watched until they stop changing. ``poll(now)`` returns the ones ready."""

    def __init__(self, stable_seconds: float) -> None:
        self.stable_seconds = stable_seconds
        self._seen: dict[Path, _Seen | None] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, path: object) -> bool:
        return path in self._seen

    def touch(self, path: Path) -> None:
        """Start watching ``path`` (an event or a rescan saw it); a changed file restarts its clock in poll()."""
        self._seen.setdefault(path, None)

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def poll(self, now: float) -> list[Path]:
        ready: list[Path] = []
        for path, seen in list(self._seen.items()):
            try:
                st = os.stat(path)
            except OSError:
                del self._seen[path]  # vanished (renamed by the writer, or deleted)
                continue
            if seen is None or (st.st_size, st.st_mtime_ns) != (seen.size, seen.mtime_ns):
                self._seen[path] = _Seen(st.st_size, st.st_mtime_ns, now)
                continue
            if now - seen.since >= self.stable_seconds and opens_cleanly(path):
                del self._seen[path]
                ready.append(path)
        return ready
