"""Durable SQLite journal of every inbox file the service has seen.

A row moves ``queued → processing → done | failed`` (or ``gone`` when the file vanished from the
inbox before it was archived). ``outcome`` records what ingest said (``archived``, ``duplicate``,
``failed``) *before* the file leaves the inbox, so a crash between the two steps resumes with the
move instead of a second ingest. WAL mode with ``synchronous=FULL``: every state change is durable
once the call returns.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from app.verify import Problem
from core.archive import Archive

JOURNAL_NAME = "watch-journal.sqlite"
SCHEMA_VERSION = 1

STATES = ("queued", "processing", "done", "failed", "gone")
ACTIVE_STATES = ("queued", "processing")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL CHECK (state IN ('queued', 'processing', 'done', 'failed', 'gone')),
    outcome TEXT CHECK (outcome IS NULL OR outcome IN ('archived', 'duplicate', 'failed')),
    doc_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    pages INTEGER,
    seconds REAL,
    dest TEXT,
    first_seen REAL NOT NULL,
    started_at REAL,
    updated_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS files_state ON files (state, next_attempt_at, id);
CREATE INDEX IF NOT EXISTS files_path ON files (path, id);
CREATE INDEX IF NOT EXISTS files_sha ON files (sha256);
"""


@dataclass(frozen=True)
class Identity:
    """What makes an inbox file "the same file" between two looks at it."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> Identity:
        st = path.stat()
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class Row:
    id: int
    path: str
    identity: Identity
    sha256: str
    tags: dict[str, str]
    state: str
    outcome: str | None
    doc_id: str | None
    attempts: int
    error: str | None
    next_attempt_at: float
    first_seen: float
    updated_at: float
    finished_at: float | None
    dest: str | None = None
    pages: int | None = None
    seconds: float | None = None

    @classmethod
    def from_sql(cls, r: sqlite3.Row) -> Row:
        """A row of the ``files`` table: its columns are the fields, but for the identity (three
        columns) and the tags (JSON)."""
        plain = {f.name: r[f.name] for f in fields(cls) if f.name not in ("identity", "tags")}
        return cls(identity=Identity(r["size"], r["mtime_ns"], r["inode"]), tags=json.loads(r["tags"] or "{}"), **plain)


@dataclass
class Summary:
    queued: int
    processing: int
    done: int
    failed: int
    gone: int
    archived: int
    duplicates: int
    waiting_retry: int
    last_error: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Journal:
    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly:
            uri = f"file:{self.path}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA busy_timeout = 30000")
        if not readonly:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _update(self, row_id: int, **values: Any) -> None:
        values["updated_at"] = time.time()
        cols = ", ".join(f"{k} = ?" for k in values)
        self._db.execute(f"UPDATE files SET {cols} WHERE id = ?", (*values.values(), row_id))

    # -- transitions ---------------------------------------------------------------------------
    def recover(self) -> int:
        """After a crash: rows left ``processing`` go back to the queue (due now)."""
        cur = self._db.execute(
            "UPDATE files SET state = 'queued', next_attempt_at = 0, updated_at = ? WHERE state = 'processing'",
            (time.time(),),
        )
        return cur.rowcount

    def enqueue(self, path: Path, identity: Identity, sha256: str, tags: dict[str, str]) -> int:
        now = time.time()
        cur = self._db.execute(
            "INSERT INTO files (path, size, mtime_ns, inode, sha256, tags, state, first_seen, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
            (str(path), identity.size, identity.mtime_ns, identity.inode, sha256, json.dumps(tags, ensure_ascii=False), now, now),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def mark_processing(self, row_id: int) -> None:
        now = time.time()
        self._db.execute(
            "UPDATE files SET state = 'processing', attempts = attempts + 1, started_at = ?, updated_at = ?"
            " WHERE id = ?",
            (now, now, row_id),
        )

    def record_outcome(
        self,
        row_id: int,
        outcome: str,
        *,
        doc_id: str | None = None,
        error: str | None = None,
        pages: int | None = None,
        seconds: float | None = None,
    ) -> None:
        self._update(row_id, outcome=outcome, doc_id=doc_id, error=error, pages=pages, seconds=seconds)

    def retry_later(self, row_id: int, error: str, next_attempt_at: float) -> None:
        self._update(row_id, state="queued", error=error, next_attempt_at=next_attempt_at)

    def requeue(self, row_id: int) -> None:
        """An in-flight file that was stopped before finishing: back to the queue, attempt not counted."""
        self._db.execute(
            "UPDATE files SET state = 'queued', attempts = MAX(attempts - 1, 0), next_attempt_at = 0,"
            " updated_at = ? WHERE id = ? AND state = 'processing'",
            (time.time(), row_id),
        )

    def finish(self, row_id: int, state: str, *, dest: str | None = None, error: str | None = None) -> None:
        assert state in ("done", "failed", "gone")
        values: dict[str, Any] = {"state": state, "dest": dest, "finished_at": time.time()}
        if error is not None:
            values["error"] = error
        self._update(row_id, **values)

    # -- queries -------------------------------------------------------------------------------
    def get(self, row_id: int) -> Row:
        r = self._db.execute("SELECT * FROM files WHERE id = ?", (row_id,)).fetchone()
        if r is None:
            raise KeyError(row_id)
        return Row.from_sql(r)

    def latest_for(self, path: Path) -> Row | None:
        r = self._db.execute("SELECT * FROM files WHERE path = ? ORDER BY id DESC LIMIT 1", (str(path),)).fetchone()
        return Row.from_sql(r) if r else None

    def active_paths(self) -> set[str]:
        rows = self._db.execute("SELECT path FROM files WHERE state IN ('queued', 'processing')")
        return {r["path"] for r in rows}

    def due(self, now: float, limit: int = 200) -> list[Row]:
        rows = self._db.execute(
            "SELECT * FROM files WHERE state = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
            (now, limit),
        )
        return [Row.from_sql(r) for r in rows]

    def pending(self) -> int:
        """Rows not finished yet (queued, waiting for a retry, or processing)."""
        r = self._db.execute("SELECT COUNT(*) FROM files WHERE state IN ('queued', 'processing')").fetchone()
        return int(r[0])

    def next_due_at(self) -> float | None:
        r = self._db.execute("SELECT MIN(next_attempt_at) FROM files WHERE state = 'queued'").fetchone()
        return None if r[0] is None else float(r[0])

    def archived_elsewhere(self, sha256: str, row_id: int) -> bool:
        """Whether another row already archived this content."""
        r = self._db.execute(
            "SELECT 1 FROM files WHERE sha256 = ? AND outcome = 'archived' AND id != ? LIMIT 1", (sha256, row_id)
        ).fetchone()
        return r is not None

    def rows(self, state: str | None = None) -> list[Row]:
        if state is None:
            cur = self._db.execute("SELECT * FROM files ORDER BY id")
        else:
            cur = self._db.execute("SELECT * FROM files WHERE state = ? ORDER BY id", (state,))
        return [Row.from_sql(r) for r in cur]

    def summary(self, now: float | None = None) -> Summary:
        now = time.time() if now is None else now
        counts = {s: 0 for s in STATES}
        for r in self._db.execute("SELECT state, COUNT(*) AS n FROM files GROUP BY state"):
            counts[r["state"]] = r["n"]
        outcomes = {
            r["outcome"]: r["n"]
            for r in self._db.execute("SELECT outcome, COUNT(*) AS n FROM files WHERE state = 'done' GROUP BY outcome")
        }
        waiting = self._db.execute(
            "SELECT COUNT(*) FROM files WHERE state = 'queued' AND next_attempt_at > ?", (now,)
        ).fetchone()[0]
        last = self._db.execute(
            "SELECT path, error, state, attempts, updated_at FROM files WHERE error IS NOT NULL"
            " ORDER BY updated_at DESC LIMIT 1"
        ).fetchone()
        return Summary(
            queued=counts["queued"],
            processing=counts["processing"],
            done=counts["done"],
            failed=counts["failed"],
            gone=counts["gone"],
            archived=int(outcomes.get("archived", 0)),
            duplicates=int(outcomes.get("duplicate", 0)),
            waiting_retry=int(waiting),
            last_error=dict(last) if last else None,
        )


def check_journal(archive: Archive, ids: set[str]) -> list[Problem]:
    """``woa verify``'s check of the watcher: every file journalled as archived has its document."""
    path = archive.root / JOURNAL_NAME
    if not path.is_file():
        return []
    problems = []
    with Journal(path, readonly=True) as journal:
        for row in journal.rows("done"):
            if row.doc_id and row.doc_id not in ids:
                problems.append(Problem("journal", row.path, f"recorded as {row.outcome} {row.doc_id}, which is not archived"))
    return problems
