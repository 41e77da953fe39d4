"""The index on disk: generations, the writer lock, crash detection and automatic rebuild.

Layout under ``Archive.index_dir``::

    write.lock          fcntl lock held by the one writer (update, remove, repair, rebuild)
    CURRENT             name of the live generation, replaced atomically
    pending.json        ids being written by the current writer; left over = the writer died
    g<N>/               a Whoosh index plus ``woa-index.json`` (schema version marker)

Readers never take the lock: they open the generation named by ``CURRENT`` and see the last
committed state while a writer commits (Whoosh writes a new TOC by rename). A rebuild writes a new
generation beside the live one and switches ``CURRENT``. A dead writer is detected by its
``pending.json`` with the lock free; its documents are re-read from their sidecars. An index that
fails to open or search, or whose marker has another schema version, is rebuilt from the sidecars.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import logging
import os
import pickle
import shutil
import struct
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex
from whoosh.multiproc import MpWriter
from whoosh.query import Every

from core.archive import Archive
from core.atomic import fsync_dir, write_bytes_atomic, write_json_atomic
from core.locks import file_lock
from core.models import Document
from index.codec import WoaCodec
from index.schema import INDEX_SCHEMA_VERSION, build_schema, document_fields

log = logging.getLogger(__name__)

LOCK_NAME = "write.lock"
CURRENT_NAME = "CURRENT"
PENDING_NAME = "pending.json"
MARKER_NAME = "woa-index.json"
GEN_PREFIX = "g"
# Non-compound segments: opening a compound segment copies it into memory on every search.
WRITER_ARGS: dict[str, Any] = {"limitmb": 128, "compound": False, "codec": WoaCodec()}
# A (re)build keeps more postings in memory before spilling sorted runs to disk: merging the runs
# back in Python cost as much as indexing (10,000 orders: 516 docs per CPU-second at 128 MB, 847
# at 1024 MB). Whoosh's estimate; a process's real footprint is larger.
BUILD_ARGS: dict[str, Any] = {**WRITER_ARGS, "limitmb": 1024}
OPEN_ATTEMPTS = 3

T = TypeVar("T")


class IndexUnavailable(RuntimeError):
    """The index could not be opened even after a rebuild."""


@dataclass(frozen=True)
class BuildStats:
    docs: int
    seconds: float
    bytes: int
    skipped: tuple[str, ...] = ()  # one line per damaged sidecar left out (``Archive.documents``)


# -- locking ----------------------------------------------------------------------------------
@contextlib.contextmanager
def write_lock(index_dir: Path, blocking: bool = True) -> Iterator[bool]:
    """Hold the writer lock; yields False (without waiting) if ``blocking`` is off and it is taken."""
    with file_lock(index_dir / LOCK_NAME, blocking=blocking) as held:
        yield held


# -- generations ------------------------------------------------------------------------------
def _current_gen(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / CURRENT_NAME).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return index_dir / name if name else None


def _marker_ok(gen_dir: Path) -> bool:
    try:
        marker = json.loads((gen_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("schema") == INDEX_SCHEMA_VERSION


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build_generation(gen_dir: Path, docs: Iterable[Document], procs: int = 1) -> BuildStats:
    """Write a fresh Whoosh index of ``docs`` into ``gen_dir`` (which must not exist) with its marker."""
    started = time.perf_counter()
    gen_dir.mkdir(parents=True)
    ix = whoosh_index.create_in(str(gen_dir), build_schema())
    if procs > 1:
        writer: Any = MpWriter(ix, procs=procs, batchsize=256, multisegment=True, **BUILD_ARGS)
    else:
        writer = ix.writer(**BUILD_ARGS)
    n = 0
    try:
        for doc in docs:
            writer.add_document(**document_fields(doc))
            n += 1
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    finally:
        ix.close()
    write_json_atomic(
        gen_dir / MARKER_NAME,
        {"schema": INDEX_SCHEMA_VERSION, "docs": n, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
    )
    return BuildStats(docs=n, seconds=time.perf_counter() - started, bytes=_dir_bytes(gen_dir))


def _next_gen_name(index_dir: Path) -> str:
    numbers = [
        int(p.name[len(GEN_PREFIX) :].split(".")[0])
        for p in index_dir.glob(f"{GEN_PREFIX}*")
        if p.name[len(GEN_PREFIX) :].split(".")[0].isdigit()
    ]
    return f"{GEN_PREFIX}{max(numbers, default=0) + 1:06d}"


def _remove_other_generations(index_dir: Path, keep: str) -> None:
    for p in index_dir.iterdir():
        if p.is_dir() and p.name.startswith(GEN_PREFIX) and p.name != keep:
            shutil.rmtree(p, ignore_errors=True)


BUILDING_SUFFIX = ".building"


def stale_builds(index_dir: Path) -> list[Path]:
    """Half-built generations (``gNNNNNN.building``); with the writer lock free, a dead build's."""
    if not index_dir.is_dir():
        return []
    return sorted(p for p in index_dir.iterdir() if p.name.startswith(GEN_PREFIX) and p.name.endswith(BUILDING_SUFFIX))


def remove_stale_builds(index_dir: Path) -> list[Path]:
    """With the writer lock held: delete every half-built generation; returns what was removed."""
    removed = stale_builds(index_dir)
    for p in removed:
        shutil.rmtree(p, ignore_errors=True)
    return removed


def _rebuild_locked(archive: Archive, procs: int) -> BuildStats:
    index_dir = archive.index_dir
    for p in remove_stale_builds(index_dir):
        log.warning("index: removed %s, left by a build that did not finish", p)
    archive.remove_dead_temps()
    name = _next_gen_name(index_dir)
    tmp = index_dir / f"{name}{BUILDING_SUFFIX}"
    if procs > 1 and sum(1 for _ in itertools.islice(archive.ids(), PARALLEL_MIN_DOCS)) < PARALLEL_MIN_DOCS:
        procs = 1
    skipped: list[str] = []
    try:
        stats = build_generation(tmp, archive.documents(skipped), procs=procs)
        final = index_dir / name
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed build never leaves its half behind
        raise
    stats = dataclasses.replace(stats, skipped=tuple(skipped))
    write_bytes_atomic(index_dir / CURRENT_NAME, name.encode())
    with contextlib.suppress(FileNotFoundError):
        (index_dir / PENDING_NAME).unlink()
    fsync_dir(index_dir)
    _remove_other_generations(index_dir, keep=name)
    log.info("index rebuilt: %d documents in %.1f s (%s)", stats.docs, stats.seconds, final)
    return stats


PARALLEL_MIN_DOCS = 2000  # below this, starting indexing processes costs more than it saves


def default_procs() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def rebuild(archive: Archive, procs: int | None = None) -> BuildStats:
    """Re-index every sidecar into a new generation, then switch to it atomically."""
    with write_lock(archive.index_dir):
        return _rebuild_locked(archive, default_procs() if procs is None else procs)


# -- opening, repair --------------------------------------------------------------------------
def _open_gen(index_dir: Path) -> FileIndex | None:
    gen = _current_gen(index_dir)
    if gen is None or not _marker_ok(gen):
        return None
    return FileStorage(str(gen)).open_index()


def _replay_pending_locked(archive: Archive) -> None:
    """A writer died mid-commit: re-index the documents it was writing from their sidecars."""
    pending = archive.index_dir / PENDING_NAME
    try:
        ids = json.loads(pending.read_text(encoding="utf-8"))["ids"]
    except (OSError, ValueError, KeyError, TypeError):
        ids = None
    if ids is None:
        log.warning("index: unreadable %s; rebuilding", pending)
        _rebuild_locked(archive, default_procs())
        return
    log.warning("index: a writer died while indexing %d documents; re-indexing them", len(ids))
    ix = _open_gen(archive.index_dir)
    if ix is None:
        _rebuild_locked(archive, default_procs())
        return
    _write_locked(archive, ix, ids, lambda w: _apply_sidecars(archive, w, ids))


def _apply_sidecars(archive: Archive, writer: Any, ids: list[str]) -> None:
    for doc_id in ids:
        if archive.sidecar_path(doc_id).is_file():
            writer.update_document(**document_fields(archive.load(doc_id)))
        else:
            writer.delete_by_term("id", doc_id)


def _write_locked(archive: Archive, ix: FileIndex, ids: list[str], apply: Callable[[Any], None]) -> None:
    pending = archive.index_dir / PENDING_NAME
    write_json_atomic(pending, {"ids": ids, "pid": os.getpid()})
    writer = ix.writer(**WRITER_ARGS)
    try:
        apply(writer)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    pending.unlink()


def _ready_locked(archive: Archive) -> FileIndex:
    """With the lock held: repair or rebuild as needed and return the open live index."""
    index_dir = archive.index_dir
    if (index_dir / PENDING_NAME).exists():
        try:
            _replay_pending_locked(archive)
        except OSError:
            raise  # disk full, read-only: a rebuild would fail the same way; pending.json stays for later
        except Exception as exc:
            log.warning("index: replaying an interrupted write failed (%s: %s); rebuilding", type(exc).__name__, exc)
            _rebuild_locked(archive, default_procs())
    try:
        ix = _open_gen(index_dir)
        if ix is not None:
            ix.doc_count()  # reads the TOC and every segment's metadata
            return ix
        if _current_gen(index_dir) is None:
            log.info("index: none yet in %s; building it from the sidecars", index_dir)
        else:
            log.warning("index: missing or of another schema version in %s; rebuilding", index_dir)
    except Exception as exc:
        log.warning("index: cannot open (%s: %s); rebuilding from the sidecars", type(exc).__name__, exc)
    _rebuild_locked(archive, default_procs())
    ix = _open_gen(index_dir)
    if ix is None:
        raise IndexUnavailable(f"index in {index_dir} unusable after a rebuild")
    return ix


# What reading a damaged or vanished index file raises (Whoosh's own errors, truncated or missing
# segment files, undecodable postings). Anything else raised while a query runs is the query's
# problem (a bad value, a bug in scoring) and never a reason to touch the index.
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError, EOFError, struct.error, zlib.error, pickle.UnpicklingError, whoosh_index.IndexError,
)


def _readable(index_dir: Path) -> bool:
    """Whether the live index opens and its metadata, first stored document and a posting read back."""
    try:
        ix = _open_gen(index_dir)
        if ix is None:
            return False
        with ix.searcher() as searcher:
            searcher.doc_count()
            for _ in itertools.islice(searcher.all_stored_fields(), 1):
                pass
            searcher.search(Every(), limit=1)
        return True
    except Exception as exc:
        log.debug("index: not readable: %s: %s", type(exc).__name__, exc)
        return False


def _run_action(ix: FileIndex, index_dir: Path, action: Callable[[Any], T]) -> T:
    """``action(searcher)``; an exception that is not a read failure of a readable index is re-raised
    as it is (so a bad query never triggers a rebuild), a read failure as ``_ReadFailure``."""
    generation = ix.latest_generation()
    try:
        with ix.searcher() as searcher:
            return action(searcher)
    except (IndexUnavailable, KeyboardInterrupt):
        raise
    except READ_ERRORS as exc:
        raise _ReadFailure(exc) from exc
    except Exception as exc:
        # A commit between opening the searcher and reading from it may have merged away the
        # segment files being read (Whoosh then fails inside its readers, e.g. a TypeError on a
        # column whose file is gone): that is a read failure, retried on the new generation.
        if ix.latest_generation() == generation and _readable(index_dir):
            raise
        raise _ReadFailure(exc) from exc


class _ReadFailure(Exception):
    """Reading the index (not running the query) failed."""


def read_ids(archive: Archive) -> set[str] | None:
    """Ids in the live generation, read without repairing anything (for ``woa verify``); None when
    there is no index. Raises if the index cannot be read."""
    index_dir = archive.index_dir
    if _current_gen(index_dir) is None:
        return None
    ix = _open_gen(index_dir)
    if ix is None:
        raise IndexUnavailable(f"generation {_current_gen(index_dir)} is missing or of another schema version")
    with ix.searcher() as searcher:
        return {str(f["id"]) for f in searcher.all_stored_fields() if "id" in f}


def health(archive: Archive) -> list[tuple[str, str]]:
    """What is wrong in ``index/`` besides its content, as (path, reason): half-built generations
    and an interrupted write, when no writer is at work (the lock is free)."""
    index_dir = archive.index_dir
    if not index_dir.is_dir():
        return []
    found: list[tuple[str, str]] = []
    try:
        with write_lock(index_dir, blocking=False) as free:
            if not free:
                return []
            for p in stale_builds(index_dir):
                found.append((archive.rel(p), "half-built index generation left by a failed or killed build "
                                              "(removed by the next reindex or 'woa verify --repair')"))
            if (index_dir / PENDING_NAME).exists():
                found.append((archive.rel(index_dir / PENDING_NAME), "an index write did not finish (the next "
                                                                     "search or reindex completes it)"))
    except OSError:
        return found
    return found


def with_searcher(archive: Archive, action: Callable[[Any], T]) -> T:
    """Run ``action(searcher)`` on the live index, repairing or rebuilding it first if needed.

    Without a pending crash, a reader takes no lock. A read failure is retried (a concurrent commit
    or rebuild may have removed files between reading the TOC and opening them); if it persists,
    the index is checked under the lock and rebuilt if it is broken. An exception raised by the
    action on an index that reads back fine (a value a query cannot use, say) propagates unchanged
    and leaves the index alone.
    """
    index_dir = archive.index_dir
    last_exc: BaseException | None = None
    for _attempt in range(OPEN_ATTEMPTS):
        if (index_dir / PENDING_NAME).exists():
            try:
                with write_lock(index_dir, blocking=False) as got:
                    if got:
                        _ready_locked(archive)
            except OSError as exc:  # disk full, read-only: answer from the last committed state
                log.warning("index: cannot complete an interrupted write now (%s); searching the last "
                            "committed index", exc.strerror or exc)
        try:
            ix = _open_gen(index_dir)
            if ix is None:
                with write_lock(index_dir):
                    ix = _ready_locked(archive)
        except IndexUnavailable:
            raise
        except Exception as exc:
            last_exc = exc
            log.debug("index: open attempt failed: %s", exc)
            time.sleep(0.05)
            continue
        try:
            return _run_action(ix, index_dir, action)
        except _ReadFailure as failure:
            last_exc = failure.__cause__
            log.debug("index: search attempt failed: %s", last_exc)
            time.sleep(0.05)
    log.warning("index: search keeps failing (%s); checking the index under the lock", last_exc)
    with write_lock(index_dir):
        try:
            ix = _ready_locked(archive)
            return _run_action(ix, index_dir, action)
        except _ReadFailure as failure:
            log.warning("index: broken (%s); rebuilding from the sidecars", failure.__cause__)
            _rebuild_locked(archive, default_procs())
            ix = _ready_locked(archive)
            with ix.searcher() as searcher:
                return action(searcher)


# -- writes -----------------------------------------------------------------------------------
def update(archive: Archive, docs: list[Document]) -> None:
    if not docs:
        return
    fields = [document_fields(d) for d in docs]

    def apply(writer: Any) -> None:
        for f in fields:
            writer.update_document(**f)

    _write(archive, [d.id for d in docs], apply, "update")


def remove(archive: Archive, ids: Iterable[str]) -> None:
    id_list = list(ids)
    if not id_list:
        return

    def apply(writer: Any) -> None:
        for doc_id in id_list:
            writer.delete_by_term("id", doc_id)

    _write(archive, id_list, apply, "removal")


def _write(archive: Archive, ids: list[str], apply: Callable[[Any], None], what: str) -> None:
    """One change of the documents ``ids`` under the write lock; a failure other than the disk's
    rebuilds the index from the sidecars."""
    with write_lock(archive.index_dir):
        ix = _ready_locked(archive)
        try:
            _write_locked(archive, ix, ids, apply)
        except OSError:
            # Disk full, read-only, quota: the live generation is intact and pending.json (if it
            # could be written) makes the next reader or writer redo this once there is room.
            raise
        except Exception as exc:
            log.warning("index: %s failed (%s: %s); rebuilding from the sidecars", what, type(exc).__name__, exc)
            _rebuild_locked(archive, default_procs())
