"""Progress display (tqdm) and graceful Ctrl-C for batch runs."""

from __future__ import annotations

import logging
import signal
import sys
import time
from types import FrameType, TracebackType

from tqdm import tqdm

from app.ingest import IngestResult

log = logging.getLogger(__name__)


class BatchProgress:
    """Documents done of total, pages per minute, failures, skipped and ETA (by tqdm)."""

    def __init__(self, total: int | None, *, enabled: bool = True, desc: str = "woa batch") -> None:
        self.started = time.monotonic()
        self.pages = 0
        self.failed = 0
        self.skipped = 0
        self.bar = tqdm(total=total, unit="doc", desc=desc, disable=not enabled, file=sys.stderr, dynamic_ncols=True)

    def update(self, outcome: IngestResult) -> None:
        if outcome.status == "archived":
            self.pages += outcome.pages
        elif outcome.status == "failed":
            self.failed += 1
        elif outcome.status == "skipped":
            self.skipped += 1
        self.bar.set_postfix_str(self.postfix(), refresh=False)
        self.bar.update(1)

    def set_total(self, total: int) -> None:
        self.bar.total = total
        self.bar.refresh()

    def postfix(self) -> str:
        minutes = max(time.monotonic() - self.started, 1e-9) / 60
        return f"{self.pages / minutes:.0f} pages/min, {self.failed} failed, {self.skipped} skipped"

    def close(self) -> None:
        self.bar.close()


class GracefulStop:
    """First Ctrl-C (or SIGTERM): stop starting work, finish what runs. Second: abort."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("stopping: finishing the documents in progress (Ctrl-C again to abort them)")

    def __enter__(self) -> GracefulStop:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for sig, prev in self._previous.items():
            signal.signal(sig, prev)  # type: ignore[arg-type]
