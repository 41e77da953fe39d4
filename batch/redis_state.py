"""Shared state of a distributed batch in Redis: outcomes, counters, per-worker counts, locks, index queue.

Keys (``B`` = batch id)::

    woa:batches                  sorted set of batch ids by start time
    woa:batch:B:meta             hash: started, sources, archive, enqueued, total (once enqueuing is done)
    woa:batch:B:results          hash: task key -> outcome JSON; written once (HSETNX) = exactly-once counts
    woa:batch:B:order            list of task keys in the order their outcomes were recorded
    woa:batch:B:counts           hash: status -> files, "pages" -> pages archived
    woa:batch:B:workers          hash: "worker|status" -> files
    woa:batch:B:running          hash: task key -> {"worker", "path", "since"}
    woa:batch:B:archived         set of sha256 archived by this batch
    woa:lock:SHA                 one ingest of these bytes at a time (token, renewed while held)
    woa:index:queue              document ids waiting for the single index writer
    woa:index:processing         ids taken by the writer and not yet indexed
    woa:index:writer             lock of the single index writer
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from app.ingest import STATUSES, IngestResult

log = logging.getLogger(__name__)

PREFIX = "woa:"
BATCHES = PREFIX + "batches"
INDEX_QUEUE = PREFIX + "index:queue"
INDEX_PROCESSING = PREFIX + "index:processing"
INDEX_WRITER_LOCK = PREFIX + "index:writer"
LOCK_TTL = 30.0  # seconds; renewed every third of it while the holder lives

_RECORD = """
local results, order, counts, workers, running, archived, index_queue = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local key, outcome, status, worker, pages, sha, doc_id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
redis.call('HDEL', running, key)
if redis.call('HSETNX', results, key, outcome) == 0 then
  return 0
end
redis.call('RPUSH', order, key)
redis.call('HINCRBY', counts, status, 1)
if worker ~= '' then
  redis.call('HINCRBY', workers, worker .. '|' .. status, 1)
end
if status == 'archived' then
  redis.call('HINCRBY', counts, 'pages', pages)
  redis.call('SADD', archived, sha)
  redis.call('RPUSH', index_queue, doc_id)
end
return 1
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=10, health_check_interval=30)


def new_batch_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


@dataclass
class BatchCounts:
    batch_id: str
    meta: dict[str, str]
    counts: dict[str, int]
    workers: dict[str, dict[str, int]]
    running: list[dict[str, Any]]
    queued: int
    index_pending: int

    @property
    def enqueued(self) -> int:
        return int(self.meta.get("enqueued", 0))

    @property
    def total(self) -> int | None:
        return int(self.meta["total"]) if "total" in self.meta else None

    @property
    def done(self) -> int:
        return sum(self.counts.get(s, 0) for s in STATUSES)

    @property
    def finished(self) -> bool:
        return self.total is not None and self.done >= self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id,
            "started": self.meta.get("started", ""),
            "sources": self.meta.get("sources", ""),
            "total": self.total,
            "enqueued": self.enqueued,
            "done": self.done,
            "finished": self.finished,
            "counts": {s: self.counts.get(s, 0) for s in STATUSES},
            "pages": self.counts.get("pages", 0),
            "queued_messages": self.queued,
            "running": self.running,
            "workers": self.workers,
            "index_pending": self.index_pending,
        }


class BatchState:
    """One batch's keys; every write that counts is a single atomic script (exactly-once counters)."""

    def __init__(self, r: redis.Redis, batch_id: str) -> None:
        self.r = r
        self.batch_id = batch_id
        base = f"{PREFIX}batch:{batch_id}:"
        self.meta_key = base + "meta"
        self.results_key = base + "results"
        self.order_key = base + "order"
        self.counts_key = base + "counts"
        self.workers_key = base + "workers"
        self.running_key = base + "running"
        self.archived_key = base + "archived"
        self._record = r.register_script(_RECORD)

    # -- enqueuer ------------------------------------------------------------------------------
    def start(self, sources: list[str], archive: str) -> None:
        now = time.time()
        self.r.hset(self.meta_key, mapping={"started": f"{now:.3f}", "sources": " ".join(sources), "archive": archive})
        self.r.zadd(BATCHES, {self.batch_id: now})

    def count_enqueued(self, n: int = 1) -> None:
        self.r.hincrby(self.meta_key, "enqueued", n)

    def set_total(self, total: int) -> None:
        self.r.hset(self.meta_key, "total", total)

    # -- workers -------------------------------------------------------------------------------
    def is_recorded(self, key: str) -> bool:
        return bool(self.r.hexists(self.results_key, key))

    def mark_running(self, key: str, worker: str, path: str) -> None:
        self.r.hset(self.running_key, key, json.dumps({"worker": worker, "path": path, "since": round(time.time(), 1)}))

    def unmark_running(self, key: str) -> None:
        self.r.hdel(self.running_key, key)

    def archived_in_batch(self, sha256: str) -> bool:
        return bool(self.r.sismember(self.archived_key, sha256))

    def record(self, key: str, outcome: IngestResult) -> bool:
        """Record a task's outcome once; False if it was already recorded (a redelivered task)."""
        keys = [
            self.results_key,
            self.order_key,
            self.counts_key,
            self.workers_key,
            self.running_key,
            self.archived_key,
            INDEX_QUEUE,
        ]
        args: list[str | int] = [
            key,
            json.dumps(outcome.to_dict(), ensure_ascii=False),
            outcome.status,
            outcome.worker,
            outcome.pages,
            outcome.sha256,
            outcome.doc_id or "",
        ]
        return bool(self._record(keys=keys, args=args))

    # -- readers -------------------------------------------------------------------------------
    def outcomes_since(self, offset: int, limit: int = 500) -> list[IngestResult]:
        keys = self.r.lrange(self.order_key, offset, offset + limit - 1)
        if not keys:
            return []
        values = self.r.hmget(self.results_key, keys)
        return [IngestResult.from_dict(json.loads(v)) for v in values if v]

    def snapshot(self, queue_name: str) -> BatchCounts:
        pipe = self.r.pipeline(transaction=False)
        pipe.hgetall(self.meta_key)
        pipe.hgetall(self.counts_key)
        pipe.hgetall(self.workers_key)
        pipe.hvals(self.running_key)
        pipe.llen(queue_name)
        pipe.llen(INDEX_QUEUE)
        pipe.llen(INDEX_PROCESSING)
        meta, counts, workers, running, queued, idx_q, idx_p = pipe.execute()
        per_worker: dict[str, dict[str, int]] = {}
        for field_name, n in workers.items():
            worker, _, status = field_name.rpartition("|")
            per_worker.setdefault(worker, {})[status] = int(n)
        return BatchCounts(
            batch_id=self.batch_id,
            meta=meta,
            counts={k: int(v) for k, v in counts.items()},
            workers=per_worker,
            running=[json.loads(v) for v in running],
            queued=int(queued),
            index_pending=int(idx_q) + int(idx_p),
        )


def latest_batch_id(r: redis.Redis) -> str | None:
    ids = r.zrevrange(BATCHES, 0, 0)
    return str(ids[0]) if ids else None


class RedisLock:
    """A lock held while its holder lives: a token with a short TTL that a thread keeps renewing.

    A worker killed with SIGKILL stops renewing, so its lock expires within ``ttl`` seconds.
    """

    def __init__(self, r: redis.Redis, key: str, ttl: float = LOCK_TTL) -> None:
        self.r = r
        self.key = key
        self.ttl_ms = int(ttl * 1000)
        self.token = uuid.uuid4().hex
        self._renew = r.register_script(_RENEW)
        self._release = r.register_script(_RELEASE)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def try_acquire(self) -> bool:
        if not self.r.set(self.key, self.token, nx=True, px=self.ttl_ms):
            return False
        self._stop.clear()
        self._thread = threading.Thread(target=self._keep_alive, name=f"lock {self.key}", daemon=True)
        self._thread.start()
        return True

    def acquire(self, poll: float = 0.5) -> None:
        while not self.try_acquire():
            time.sleep(poll)

    def _keep_alive(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            try:
                if not self._renew(keys=[self.key], args=[self.token, self.ttl_ms]):
                    log.error("lost lock %s", self.key)
                    return
            except redis.RedisError as exc:
                log.warning("cannot renew lock %s: %s", self.key, exc)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        try:
            self._release(keys=[self.key], args=[self.token])
        except redis.RedisError as exc:  # it expires by itself
            log.warning("cannot release lock %s: %s", self.key, exc)


@contextmanager
def sha_lock(r: redis.Redis, sha256: str) -> Iterator[None]:
    lock = RedisLock(r, f"{PREFIX}lock:{sha256}")
    lock.acquire()
    try:
        yield
    finally:
        lock.release()
