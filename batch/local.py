"""``woa batch`` on one machine: a process pool, one process per core and one OCR thread each.

The parent walks the sources lazily, hashes each file and skips what the archive already has
(so an interrupted batch, re-run, continues where it stopped), keeps at most ``2 × workers``
files in flight (memory stays bounded however many files there are), collects outcomes into the
report and indexes finished documents itself (the single index writer). Two files with the same
bytes are never ingested at the same time: the second waits for the first and becomes a duplicate.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from app.ingest import IngestResult
from app.worker import init_worker_process
from batch.indexing import IndexFeeder, read_indexed_ids
from batch.progress import GracefulStop
from batch.walk import iter_scans
from batch.work import process_file, worker_settings
from core.archive import Archive, doc_id_for, sha256_file
from core.settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # per file, for transient failures and crashed worker processes


@dataclass
class Job:
    path: Path
    sha256: str
    attempts: int = 0


OutcomeSink = Callable[[IngestResult], None]


def _hash_jobs(paths: Iterable[Path], sink: OutcomeSink) -> Iterator[Job]:
    for path in paths:
        try:
            yield Job(path, sha256_file(path))
        except OSError as exc:
            sink(IngestResult(path, "failed", error=f"cannot read: {exc.strerror or exc}"))


class LocalBatch:
    """One run of the local pool over ``sources``; ``run()`` returns True when it was interrupted."""

    def __init__(
        self,
        sources: list[Path],
        settings: Settings,
        *,
        sink: OutcomeSink,
        feeder: IndexFeeder,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.sources = sources
        self.settings = worker_settings(settings)
        self.workers = settings.workers
        self.sink = sink
        self.feeder = feeder
        self.tags = dict(tags or {})
        self.archive = Archive.from_settings(settings)
        self.max_in_flight = 2 * self.workers
        self._ready: deque[Job] = deque()  # retries, and copies released when their first copy finished
        self._waiting: dict[str, list[Job]] = {}  # sha -> later copies of a file in flight
        self._in_flight: dict[Future[IngestResult], Job] = {}
        self._shas_in_flight: set[str] = set()  # submitted or waiting for a retry, not finished
        self._seen: set[str] = set()  # shas submitted in this run
        self._indexed = read_indexed_ids(self.archive)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=init_worker_process,
            initargs=(self.settings, os.getpid()),
        )

    def _next_job(self, jobs: Iterator[Job]) -> Job | None:
        """The next job to submit, or None when nothing can be submitted now."""
        if self._ready:
            return self._ready.popleft()
        for job in jobs:
            sha = job.sha256
            if sha in self._shas_in_flight:
                self._waiting.setdefault(sha, []).append(job)
                continue
            if sha not in self._seen and self.archive.has(sha):
                self._skip(job)
                continue
            return job
        return None

    def _skip(self, job: Job) -> None:
        doc_id = doc_id_for(job.sha256)
        self.sink(IngestResult(job.path, "skipped", doc_id=doc_id, sha256=job.sha256))
        if doc_id not in self._indexed:
            self.feeder.add(doc_id)  # archived by an earlier run that stopped before indexing it
            self._indexed.add(doc_id)

    def _submit(self, pool: ProcessPoolExecutor, job: Job) -> None:
        job.attempts += 1
        self._seen.add(job.sha256)
        self._shas_in_flight.add(job.sha256)
        fut = pool.submit(process_file, str(job.path), job.sha256, self.settings, "", self.tags)
        self._in_flight[fut] = job

    def _finish(self, job: Job, outcome: IngestResult) -> None:
        self._shas_in_flight.discard(job.sha256)
        self._ready.extend(self._waiting.pop(job.sha256, []))
        self.sink(outcome)
        if outcome.status == "archived" and outcome.doc_id:
            self.feeder.add(outcome.doc_id)
            self._indexed.add(outcome.doc_id)

    def _collect(self, fut: Future[IngestResult], job: Job) -> bool:
        """Handle a finished future; False if the pool broke and must be replaced."""
        try:
            outcome = fut.result()
        except BrokenProcessPool:
            self._retry_or_fail(job, "worker process died (out of memory or crashed)")
            return False
        except Exception as exc:  # pickling and similar errors of this one job
            self._finish(job, IngestResult(job.path, "failed", error=f"worker error: {exc}", sha256=job.sha256))
            return True
        if outcome.status == "failed" and outcome.transient and job.attempts < MAX_ATTEMPTS:
            log.info("transient failure of %s (%s): will retry", job.path, outcome.error)
            self._ready.append(job)
            return True
        self._finish(job, outcome)
        return True

    def _retry_or_fail(self, job: Job, reason: str) -> None:
        if job.attempts < MAX_ATTEMPTS:
            self._ready.append(job)
        else:
            self._finish(job, IngestResult(job.path, "failed", error=reason, sha256=job.sha256))

    def run(self) -> bool:
        jobs = _hash_jobs(iter_scans(self.sources, exclude=[self.archive.root]), self.sink)
        pool = self._new_pool()
        interrupted = False
        try:
            with GracefulStop() as stop:
                while True:
                    while not stop.requested and len(self._in_flight) < self.max_in_flight:
                        job = self._next_job(jobs)
                        if job is None:
                            break
                        self._submit(pool, job)
                    if not self._in_flight:
                        break  # walk done and nothing waits (copies wait only on a file in flight)
                    done, _ = wait(list(self._in_flight), timeout=1.0, return_when=FIRST_COMPLETED)
                    broken = False
                    for fut in done:
                        job = self._in_flight.pop(fut)
                        broken |= not self._collect(fut, job)
                    if broken:
                        pool = self._replace_pool(pool)
                    self.feeder.tick()
                interrupted = stop.requested
        except KeyboardInterrupt:
            interrupted = True
            log.warning("aborted: %d documents in progress were not archived", len(self._in_flight))
            _terminate(pool)
        finally:
            pool.shutdown(wait=not interrupted, cancel_futures=True)
            self.feeder.flush()
        return interrupted

    def _replace_pool(self, pool: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A dead worker breaks the whole pool: requeue every job in flight on a new pool."""
        for fut, job in list(self._in_flight.items()):
            del self._in_flight[fut]
            self._retry_or_fail(job, "worker process died (out of memory or crashed)")
        pool.shutdown(wait=False, cancel_futures=True)
        return self._new_pool()


def _terminate(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor has no terminate(); its processes are in a private mapping.
    for proc in list(getattr(pool, "_processes", {}).values()):
        proc.terminate()
