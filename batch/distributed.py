"""``woa batch --broker``: enqueue one Celery task per scan, follow progress, write index and report.

The enqueuer walks the sources, skips what the archive has, and sends each remaining scan (its
absolute path on the shared storage and its SHA-256) as a task, keeping at most ``max_queued``
messages waiting in Redis so a huge batch does not fill the broker's memory. While it waits it
is the batch's single index writer (if no ``woa index-writer`` holds that role) and turns the
outcomes recorded by the workers into the run report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import redis
from celery import Celery

from app.documents import index_documents
from app.ingest import IngestResult
from batch.celery_app import QUEUE, TASK_NAME
from batch.indexing import append_indexed_ids, read_indexed_ids
from batch.progress import BatchProgress, GracefulStop
from batch.redis_state import INDEX_PROCESSING, INDEX_QUEUE, INDEX_WRITER_LOCK, BatchState, RedisLock
from batch.report import ReportWriter
from batch.walk import iter_scans
from core.archive import Archive, doc_id_for, sha256_file

log = logging.getLogger(__name__)


class RedisIndexWriter:
    """The single index writer: takes document ids from the Redis queue and indexes them in batches.

    Holds a Redis lock while it runs, so exactly one process writes the index; ids it took but
    did not index (it crashed) are put back in the queue by the next writer.
    """

    def __init__(self, r: redis.Redis, archive: Archive, *, batch_size: int = 50) -> None:
        self.r = r
        self.archive = archive
        self.batch_size = batch_size
        self.lock = RedisLock(r, INDEX_WRITER_LOCK)
        self.active = False
        self.indexed = 0

    def start(self) -> bool:
        """Become the writer if nobody is; False if another process writes the index."""
        if not self.lock.try_acquire():
            return False
        self.active = True
        while self.r.lmove(INDEX_PROCESSING, INDEX_QUEUE, "RIGHT", "LEFT") is not None:
            pass
        return True

    def stop(self) -> None:
        if self.active:
            self.lock.release()
            self.active = False

    def drain_once(self) -> int:
        """Index up to ``batch_size`` queued documents; returns how many were taken."""
        if not self.active:
            return 0
        ids: list[str] = []
        while len(ids) < self.batch_size:
            doc_id = self.r.lmove(INDEX_QUEUE, INDEX_PROCESSING, "LEFT", "RIGHT")
            if doc_id is None:
                break
            ids.append(str(doc_id))
        if not ids:
            return 0
        docs = self.archive.load_many(ids)
        if not index_documents(self.archive, docs):  # logged; put them back (the archive is intact)
            while self.r.lmove(INDEX_PROCESSING, INDEX_QUEUE, "RIGHT", "LEFT") is not None:
                pass
            return 0
        append_indexed_ids(self.archive, [d.id for d in docs])
        self.r.delete(INDEX_PROCESSING)
        self.indexed += len(docs)
        return len(ids)

    def drain(self) -> int:
        n = 0
        while (k := self.drain_once()) > 0:
            n += k
        return n


class Follower:
    """Reads newly recorded outcomes into the report and progress bar; drives the index writer."""

    def __init__(self, state: BatchState, report: ReportWriter, progress: BatchProgress, writer: RedisIndexWriter):
        self.state = state
        self.report = report
        self.progress = progress
        self.writer = writer
        self.offset = 0

    def poll(self) -> int:
        n = 0
        while batch := self.state.outcomes_since(self.offset):
            for o in batch:
                self.report.add(o)
                self.progress.update(o)
            self.offset += len(batch)
            n += len(batch)
        self.writer.drain_once()
        return n


class Enqueuer:
    def __init__(
        self,
        app: Celery,
        state: BatchState,
        archive: Archive,
        *,
        tags: dict[str, str] | None = None,
        max_queued: int = 5000,
        on_wait: Callable[[], object] = lambda: None,
    ) -> None:
        self.app = app
        self.state = state
        self.archive = archive
        self.tags = dict(tags or {})
        self.max_queued = max_queued
        self.on_wait = on_wait
        self.seq = 0
        self._indexed = read_indexed_ids(archive)

    def _wait_for_room(self) -> None:
        while self.state.r.llen(QUEUE) >= self.max_queued:
            self.on_wait()
            time.sleep(1.0)

    def add(self, path: Path) -> None:
        key = str(self.seq)
        self.seq += 1
        try:
            sha = sha256_file(path)
        except OSError as exc:
            self.state.record(key, IngestResult(path, "failed", error=f"cannot read: {exc.strerror or exc}"))
            return
        if self.archive.has(sha):
            doc_id = doc_id_for(sha)
            self.state.record(key, IngestResult(path, "skipped", doc_id=doc_id, sha256=sha))
            if doc_id not in self._indexed:  # archived by a run that stopped before indexing it
                self.state.r.rpush(INDEX_QUEUE, doc_id)
            return
        if self.seq % 100 == 0:
            self._wait_for_room()
        self.app.send_task(
            TASK_NAME,
            args=[key, self.state.batch_id, str(path.resolve()), sha, self.tags],
            queue=QUEUE,
            task_id=f"{self.state.batch_id}:{key}",
        )
        self.state.count_enqueued()


def run_distributed(
    app: Celery,
    state: BatchState,
    sources: list[Path],
    archive: Archive,
    *,
    report: ReportWriter,
    progress: BatchProgress,
    writer: RedisIndexWriter,
    tags: dict[str, str] | None = None,
    wait: bool = True,
    max_queued: int = 5000,
) -> bool:
    """Enqueue the batch and (with ``wait``) follow it to the end; True if interrupted."""
    state.start([str(s) for s in sources], str(archive.root))
    writer.start()
    follower = Follower(state, report, progress, writer)
    enq = Enqueuer(app, state, archive, tags=tags, max_queued=max_queued, on_wait=follower.poll)
    interrupted = False
    try:
        with GracefulStop() as stop:
            for path in iter_scans(sources, exclude=[archive.root]):
                if stop.requested:
                    break
                enq.add(path)
                if enq.seq % 50 == 0:
                    follower.poll()
            state.set_total(enq.seq)
            progress.set_total(enq.seq)
            while wait and not stop.requested:
                follower.poll()
                if state.snapshot(QUEUE).finished:
                    follower.poll()
                    break
                time.sleep(0.5)
            interrupted = stop.requested
    except KeyboardInterrupt:
        interrupted = True
    finally:
        state.set_total(enq.seq)
        if not interrupted:
            writer.drain()
        writer.stop()
    return interrupted
