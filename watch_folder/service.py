"""The watched-inbox service: events and rescans → stable files → journal queue → worker pool → out of the inbox.

One main thread owns the journal and every decision; the watchdog observer thread only reports
paths, and worker processes only run ``ingest_file``. The journal is the queue, so the number of
files handed to the pool at once is bounded by the worker count however many files wait.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from app.ingest import IngestResult
from app.worker import init_worker_process
from core.archive import Archive, doc_id_for, sha256_file
from core.locks import file_lock, is_locked
from core.settings import Settings
from watch_folder import files
from watch_folder.journal import ACTIVE_STATES, JOURNAL_NAME, Identity, Journal, Row
from watch_folder.rules import (
    Folders,
    candidate,
    check_layout,
    dir_is_ignored,
    filesystem_type,
    is_network_fs,
    read_mounts,
    tags_for,
    walk_inbox,
)
from watch_folder.stability import StabilityTracker
from watch_folder.worker import Job, run_job

log = logging.getLogger(__name__)

LOCK_NAME = "watch.lock"
DEFAULT_NETWORK_POLL = 2.0
WARM_UP_ALLOWANCE = 300.0  # seconds a new pool may take to load the pipeline before file timeouts count


def _utf8_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    """Undecodable bytes of a file name (surrogate escapes) shown as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def kv(event: str, **fields: Any) -> str:
    """A structured log line: ``event=archived path="a b.pdf" doc=…``."""
    parts = [f"event={event}"]
    for key, value in fields.items():
        if value is None:
            continue
        text = _printable(str(value))
        if not text or any(c in text for c in ' ="\n\t'):
            text = json.dumps(text, ensure_ascii=False)
        parts.append(f"{key}={text}")
    return " ".join(parts)


def backoff_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds to wait before attempt ``attempts + 1`` after a transient failure."""
    return float(min(cap, base * 2 ** max(attempts - 1, 0)))


def choose_observer(inbox: Path, poll_seconds: float, mounts_text: str) -> tuple[str, float, str]:
    """("native" | "polling", poll interval, why)."""
    if poll_seconds > 0:
        return "polling", poll_seconds, "requested"
    fs_type = filesystem_type(inbox, mounts_text)
    if is_network_fs(fs_type):
        return "polling", DEFAULT_NETWORK_POLL, f"network filesystem {fs_type}"
    return "native", 0.0, f"filesystem {fs_type or 'unknown'}"


class AlreadyRunning(RuntimeError):
    pass


class ArchiveLock:
    """One watcher per archive (its journal has one writer). Released by the kernel if we die."""

    def __init__(self, archive_root: Path) -> None:
        self.path = archive_root / LOCK_NAME
        self._held: contextlib.ExitStack | None = None

    def acquire(self) -> None:
        stack = contextlib.ExitStack()
        if not stack.enter_context(file_lock(self.path, blocking=False)):
            stack.close()
            raise AlreadyRunning(f"another woa watch is already running on {self.path.parent}")
        self.path.write_text(f"{os.getpid()}\n", encoding="ascii")  # for the operator; the lock is the truth
        self._held = stack

    def release(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None

    @staticmethod
    def held(archive_root: Path) -> bool:
        return is_locked(archive_root / LOCK_NAME)


class _EventHandler(FileSystemEventHandler):
    def __init__(self, sink: queue.SimpleQueue[Path], wake: threading.Event) -> None:
        self._sink = sink
        self._wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("deleted", "opened", "closed_no_write"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                self._sink.put(Path(os.fsdecode(raw)))
        self._wake.set()


def _warm_up(settings: Settings) -> bool:
    """Import the pipeline and load the OCR models in a fresh worker, so the first scan does not wait."""
    try:
        import app.ingest  # noqa: F401
        from pipeline.ocr import get_engine

        get_engine(settings)
    except Exception as exc:  # the first real file reports the problem properly
        log.debug("worker warm-up failed: %s", exc)
        return False
    return True


class WatchService:
    def __init__(self, folders: Folders, settings: Settings, *, oneshot: bool = False) -> None:
        self.folders = folders
        self.oneshot = oneshot
        self.settings = settings.model_copy(update={"archive_dir": folders.archive})
        self.inbox = folders.inbox
        self.archive = Archive.from_settings(self.settings)
        self.tracker = StabilityTracker(settings.stable_seconds)
        self.observer_kind = "none"
        self.failed_this_run = 0
        self._events: queue.SimpleQueue[Path] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stops = 0
        self._in_flight: dict[Future[IngestResult], Row] = {}
        self._started_at: dict[Future[IngestResult], float] = {}
        self._warming: list[Future[bool]] = []
        self._pool_ready_at: float | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._journal: Journal | None = None

    # -- control -------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """First call: finish in-flight files and stop. Second call: stop now, in-flight back to queued."""
        self._stops += 1
        self._wake.set()

    @property
    def journal(self) -> Journal:
        assert self._journal is not None
        return self._journal

    def run(self) -> int:
        check_layout(self.folders)
        self.archive.root.mkdir(parents=True, exist_ok=True)
        lock = ArchiveLock(self.archive.root)
        lock.acquire()
        observer: BaseObserver | None = None
        try:
            self._journal = Journal(self.archive.root / JOURNAL_NAME)
            recovered = self.journal.recover()
            self._clean_temps()
            if not self.oneshot:
                observer = self._start_observer()
            log.info(
                kv(
                    "start",
                    inbox=self.inbox,
                    archive=self.archive.root,
                    observer=self.observer_kind,
                    workers=self.settings.workers,
                    recovered=recovered,
                    pending=self.journal.pending(),
                    oneshot=self.oneshot,
                )
            )
            self._loop()
        finally:
            if observer is not None:
                # watchdog logs a spurious ERROR when its inotify thread is stopped mid-read
                logging.getLogger("watchdog.observers.inotify").setLevel(logging.CRITICAL)
                observer.stop()
                observer.join(timeout=5)
            self._shutdown_pool()
            if self._journal is not None:
                self._clean_temps()
                s = self.journal.summary()
                log.info(kv("stop", queued=s.queued, done=s.done, failed=s.failed))
                self.journal.close()
            lock.release()
        return 1 if (self.oneshot and self.failed_this_run) else 0

    # -- main loop -----------------------------------------------------------------------------
    def _loop(self) -> None:
        tick = max(0.05, min(0.25, self.settings.stable_seconds / 5))
        self._scan()
        next_rescan = time.monotonic() + self.settings.rescan_seconds
        self._warm_pool()
        while not self._stops:
            self._drain_events()
            if not self.oneshot and time.monotonic() >= next_rescan:
                self._scan()
                self._clean_temps()
                next_rescan = time.monotonic() + self.settings.rescan_seconds
            for path in self.tracker.poll(time.monotonic()):
                self._admit(path)
            self._collect()
            self._dispatch()
            if self.oneshot and not len(self.tracker) and not self._in_flight and not self.journal.pending():
                return
            self._wake.wait(tick)
            self._wake.clear()
        if self._in_flight:
            log.info(kv("draining", in_flight=len(self._in_flight)))
        while self._in_flight and self._stops < 2:
            self._wake.wait(tick)
            self._wake.clear()
            self._collect()

    def _drain_events(self) -> None:
        while True:
            try:
                path = self._events.get_nowait()
            except queue.Empty:
                return
            if path.is_dir() and not path.is_symlink():  # a folder moved in: its files bring no events
                try:
                    rel_dir = path.relative_to(self.inbox)
                except ValueError:
                    continue
                if not dir_is_ignored(rel_dir):
                    for found in walk_inbox(self.inbox, path):
                        self.tracker.touch(found)
            elif candidate(self.inbox, path) is not None:
                self.tracker.touch(path)

    def _scan(self) -> None:
        active = self.journal.active_paths()
        n = 0
        for path in walk_inbox(self.inbox):
            if str(path) not in active and path not in self.tracker:
                self.tracker.touch(path)
                n += 1
        log.debug(kv("rescan", new=n))

    def _clean_temps(self) -> None:
        removed = files.remove_stale_temps(self.archive.root.resolve())
        for path in removed:
            log.warning(kv("removed_temp", path=path))

    def _start_observer(self) -> BaseObserver:
        kind, interval, why = choose_observer(self.inbox, self.settings.poll_seconds, read_mounts())
        handler = _EventHandler(self._events, self._wake)
        if kind == "native":
            try:
                native = Observer()
                native.schedule(handler, str(self.inbox), recursive=True)
                native.start()
                self.observer_kind = "native"
                return native
            except OSError as exc:
                why = f"native watching failed: {exc}"
                interval = DEFAULT_NETWORK_POLL
        polling = PollingObserver(timeout=interval)
        polling.schedule(handler, str(self.inbox), recursive=True)
        polling.start()
        self.observer_kind = f"polling/{interval:g}s"
        log.info(kv("polling", interval=interval, reason=why))
        return polling

    # -- admission -----------------------------------------------------------------------------
    def _admit(self, path: Path) -> None:
        rel = candidate(self.inbox, path)
        if rel is None:
            return
        try:
            ident = Identity.of(path)
        except OSError:
            return
        if not _utf8_name(path):
            self._reject_name(path, rel)
            return
        latest = self.journal.latest_for(path)
        if latest is not None and latest.state in ACTIVE_STATES:
            return
        # A finished row means its file left the inbox (the move is durable before the row is
        # finished): a file at that path now is a new arrival, e.g. a failed file moved back to retry.
        try:
            sha = sha256_file(path)
            if Identity.of(path) != ident:
                raise OSError("changed while hashing")
        except OSError:
            self.tracker.touch(path)
            return
        row_id = self.journal.enqueue(path, ident, sha, tags_for(rel))
        log.info(kv("queued", path=rel, id=row_id, bytes=ident.size, sha256=sha[:16]))
        self._wake.set()

    def _reject_name(self, path: Path, rel: Path) -> None:
        """A name that is not UTF-8 (a share mounted with the wrong iocharset) cannot be journalled or
        archived under its name: it goes to failed/ straight away, with the reason."""
        reason = "file name is not valid UTF-8 (is the share mounted with the right iocharset?); rename it and drop it again"
        try:
            dest = files.unique_destination(self.folders.failed / rel)
            files.write_error_note(dest, reason, {"file": _printable(str(rel))})
            files.move_durably(path, dest)
        except OSError as exc:
            log.error(kv("move_failed", path=rel, error=str(exc)))
            return
        self.failed_this_run += 1
        log.error(kv("failed", path=rel, error=reason, moved_to=dest))

    # -- dispatch and results ------------------------------------------------------------------
    def _ensure_pool(self) -> ProcessPoolExecutor:
        """The worker pool; a new one first loads the pipeline in every worker (warm-up)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.settings.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker_process,
                initargs=(self.settings, os.getpid(), True),
            )
            self._warming = [self._pool.submit(_warm_up, self.settings) for _ in range(self.settings.workers)]
            self._pool_ready_at = None
        return self._pool

    def _warm_pool(self) -> None:
        if self.journal.pending() or len(self.tracker) or not self.oneshot:
            self._ensure_pool()

    def _timed_out(self, future: Future[IngestResult], now: float) -> bool:
        """A file's clock starts when it was handed over, but not before the pool finished warming up."""
        if self._pool_ready_at is None:
            if self._warming and all(f.done() for f in self._warming):
                self._pool_ready_at = now
            elif now - self._started_at[future] <= self.settings.file_timeout_seconds + WARM_UP_ALLOWANCE:
                return False
        start = max(self._started_at[future], self._pool_ready_at or 0.0)
        return now - start > self.settings.file_timeout_seconds

    def _dispatch(self) -> None:
        if self._stops:
            return
        capacity = self.settings.workers - len(self._in_flight)
        if capacity <= 0:
            return
        busy = {row.sha256 for row in self._in_flight.values()}
        for row in self.journal.due(time.time(), limit=capacity + len(busy) + 100):
            if capacity <= 0:
                break
            if row.sha256 in busy:
                continue  # same content in flight: wait, so ingest sees it archived and records a duplicate
            if row.outcome is not None:
                self._leave(row)  # ingest finished before a crash; only the move was missing
                continue
            path = Path(row.path)
            try:
                ident = Identity.of(path)
            except OSError:
                if os.path.islink(path):
                    self._dangling_link(row)
                    continue
                self.journal.finish(row.id, "gone", error="vanished from the inbox before it was archived")
                log.warning(kv("gone", path=path, id=row.id))
                continue
            if (ident.size, ident.mtime_ns) != (row.identity.size, row.identity.mtime_ns):  # not inode: unstable on CIFS
                self.journal.finish(row.id, "gone", error="changed after it was queued; queued again")
                self.tracker.touch(path)
                continue
            self.journal.mark_processing(row.id)
            row = replace(row, attempts=row.attempts + 1, state="processing")
            job = Job(row.id, row.path, row.tags, resumed=row.attempts > 1)
            future = self._ensure_pool().submit(run_job, job, self.settings)
            future.add_done_callback(lambda _f: self._wake.set())
            self._in_flight[future] = row
            self._started_at[future] = time.monotonic()
            busy.add(row.sha256)
            capacity -= 1
            log.info(kv("processing", path=self._rel(path), id=row.id, attempt=row.attempts))

    def _collect(self) -> None:
        broken = False
        now = time.monotonic()
        for future in list(self._in_flight):
            if future.done():
                row = self._in_flight.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # the worker process died (killed, out of memory, crashed)
                    broken = True
                    reason = f"worker process died: {type(exc).__name__}: {exc}"
                    result = IngestResult(Path(row.path), "failed", error=reason, transient=True)
            elif self._timed_out(future, now):
                # A worker cannot be stopped alone: the pool is replaced, other in-flight files requeued.
                row = self._in_flight.pop(future)
                broken = True
                reason = f"timed out after {self.settings.file_timeout_seconds:g} s"
                result = IngestResult(Path(row.path), "failed", error=reason, transient=True)
            else:
                continue
            self._started_at.pop(future, None)
            self._complete(row, result)
        if broken:
            self._shutdown_pool(kill=True)

    def _complete(self, row: Row, res: IngestResult) -> None:
        now = time.time()
        if res.status in ("archived", "duplicate"):
            outcome = res.status
            if outcome == "duplicate" and res.doc_id and self._archived_by_earlier_attempt(row, res.doc_id):
                outcome = "archived"
            self.journal.record_outcome(row.id, outcome, doc_id=res.doc_id, pages=res.pages, seconds=res.seconds)
            log.info(
                kv(outcome, path=self._rel(Path(row.path)), id=row.id, doc=res.doc_id, pages=res.pages, seconds=f"{res.seconds:.2f}")
            )
            self._leave(self.journal.get(row.id))
            return
        reason = res.error or "ingest failed without a reason"
        if res.transient and row.attempts < self.settings.max_attempts:
            delay = backoff_delay(row.attempts, self.settings.backoff_base_seconds, self.settings.backoff_cap_seconds)
            self.journal.retry_later(row.id, reason, now + delay)
            log.warning(kv("retry", path=self._rel(Path(row.path)), id=row.id, attempt=row.attempts, delay=f"{delay:g}", error=reason))
            return
        if res.transient:
            reason = f"{reason} (gave up after {row.attempts} attempts)"
        self.journal.record_outcome(row.id, "failed", error=reason)
        self._leave(self.journal.get(row.id))

    def _dangling_link(self, row: Row) -> None:
        """A queued symbolic link whose target left the inbox before its turn, typically because the
        target itself was archived first (same content: the dispatcher runs one at a time). With the
        content in the archive the link is a duplicate and leaves like one; otherwise it goes to
        failed/ with the reason. Either way it no longer sits in the inbox as a dangling link."""
        path = Path(row.path)
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        if self.archive.has(row.sha256):
            doc_id = doc_id_for(row.sha256)
            self.journal.record_outcome(row.id, "duplicate", doc_id=doc_id)
            log.info(kv("duplicate", path=self._rel(path), id=row.id, doc=doc_id, reason="link target already archived"))
        else:
            reason = f"symbolic link whose target is gone: {target}"
            self.journal.record_outcome(row.id, "failed", error=reason)
        self._leave(self.journal.get(row.id))

    def _archived_by_earlier_attempt(self, row: Row, doc_id: str) -> bool:
        """A "duplicate" of a document archived after this file was queued, by no other row, is our own
        earlier attempt that was interrupted after its sidecar was written."""
        if self.journal.archived_elsewhere(row.sha256, row.id):
            return False
        try:
            doc = self.archive.load(doc_id)
            ingested = datetime.fromisoformat(doc.ingested_at).timestamp()
        except (OSError, ValueError, KeyError):
            return False
        return doc.source_name == Path(row.path).name and ingested >= row.first_seen - 1.0

    def _rel(self, path: Path) -> Path:
        try:
            return path.relative_to(self.inbox)
        except ValueError:
            return Path(path.name)

    def _leave(self, row: Row) -> None:
        """Take a finished file out of the inbox, then mark its row finished (in this order)."""
        path = Path(row.path)
        success = row.outcome in ("archived", "duplicate")
        state = "done" if success else "failed"
        rel = self._rel(path)
        try:
            if not os.path.lexists(path):
                self.journal.finish(row.id, state, dest=row.dest)
            elif success and self.settings.after_success == "delete":
                files.delete_durably(path)
                self.journal.finish(row.id, state, dest="deleted")
            elif success:
                dest = files.unique_destination(self.folders.processed / rel)
                files.move_durably(path, dest)
                self.journal.finish(row.id, state, dest=str(dest))
            else:
                dest = files.unique_destination(self.folders.failed / rel)
                reason = row.error or "failed"
                files.write_error_note(
                    dest,
                    reason,
                    {
                        "file": str(rel),
                        "sha256": row.sha256,
                        "attempts": str(row.attempts),
                        "failed_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                    },
                )
                files.move_durably(path, dest)
                self.journal.finish(row.id, state, dest=str(dest), error=reason)
                self.failed_this_run += 1
                log.error(kv("failed", path=rel, id=row.id, error=reason, moved_to=dest))
        except OSError as exc:
            delay = backoff_delay(max(row.attempts, 1), self.settings.backoff_base_seconds, self.settings.backoff_cap_seconds)
            error = f"{row.error + '; ' if row.error and not success else ''}cannot move out of the inbox: {exc}"
            self.journal.retry_later(row.id, error, time.time() + delay)
            log.error(kv("move_failed", path=rel, id=row.id, error=str(exc)))

    def _shutdown_pool(self, *, kill: bool = False) -> None:
        """Stop the workers; with ``kill`` (or files still in flight) without waiting for them.

        Files still in flight go back to the queue without counting the attempt."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill or self._in_flight:
            for proc in list(getattr(pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    proc.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        if self._in_flight:
            if self._journal is not None:
                for row in self._in_flight.values():
                    self.journal.requeue(row.id)
            log.warning(kv("requeued", files=len(self._in_flight)))
            self._in_flight.clear()
            self._started_at.clear()
