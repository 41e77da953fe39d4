"""The batch's single index writer: workers archive with ``update_index=False``, one process indexes.

Whoosh allows one writer at a time; many workers each opening a writer would contend for its
lock. So finished document ids are collected here and indexed in batches. Ids that reached the
index are appended to ``ARCHIVE/batch/indexed-ids.txt``, so a re-run after a crash indexes the
documents that were archived but not yet indexed (the walk skips them as archived).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path

from app.documents import index_documents
from core.archive import Archive

log = logging.getLogger(__name__)


def indexed_log_path(archive: Archive) -> Path:
    return archive.root / "batch" / "indexed-ids.txt"


def read_indexed_ids(archive: Archive) -> set[str]:
    path = indexed_log_path(archive)
    if not path.is_file():
        return set()
    with open(path, encoding="ascii", errors="replace") as fh:
        return {line.strip() for line in fh if line.strip()}


def append_indexed_ids(archive: Archive, ids: Iterable[str]) -> None:
    path = indexed_log_path(archive)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="ascii") as fh:
        fh.write("".join(f"{i}\n" for i in ids))
        fh.flush()
        os.fsync(fh.fileno())


class IndexFeeder:
    """Buffers archived document ids and indexes them in batches of ``batch_size`` or every ``max_delay`` s."""

    def __init__(
        self,
        archive: Archive,
        *,
        batch_size: int = 50,
        max_delay: float = 30.0,
    ) -> None:
        self.archive = archive
        self.batch_size = batch_size
        self.max_delay = max_delay
        self._pending: list[str] = []
        self._since = time.monotonic()
        self.indexed = 0
        self.errors = 0

    def add(self, doc_id: str) -> None:
        if not self._pending:
            self._since = time.monotonic()
        self._pending.append(doc_id)
        if len(self._pending) >= self.batch_size or time.monotonic() - self._since >= self.max_delay:
            self.flush()

    def tick(self) -> None:
        if self._pending and time.monotonic() - self._since >= self.max_delay:
            self.flush()

    def flush(self) -> bool:
        """Index the buffered ids; on failure keep them (the log says how to repair) and return False."""
        if not self._pending:
            return True
        ids, self._pending = self._pending, []
        docs = self.archive.load_many(ids)
        if not index_documents(self.archive, docs):  # logged; the archive is the truth, `woa reindex` repairs
            self.errors += 1
            return False
        append_indexed_ids(self.archive, [d.id for d in docs])
        self.indexed += len(docs)
        return True
