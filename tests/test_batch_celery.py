"""Scale-out with a real redis-server and two real Celery workers (`woa worker` subprocesses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from batch.redis_state import BatchState, latest_batch_id
from tests.helpers import PY, ROOT, make_scans, read_documents, read_summary, sidecars, woa
from tests.redis_server import RedisServer, redis_server

pytestmark = pytest.mark.slow  # a real redis-server and Celery worker processes

VISIBILITY_TIMEOUT = 15  # seconds until Redis redelivers the task of a dead worker


@pytest.fixture(scope="module")
def broker() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def redis_url(broker: RedisServer) -> str:
    redis.Redis.from_url(broker.url).flushall()
    return broker.url


@contextmanager
def workers(url: str, archive: Path, logs: Path, names: tuple[str, ...] = ("w1@test", "w2@test")) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs.mkdir(parents=True, exist_ok=True)
    try:
        for name in names:
            cmd = [PY, "-m", "woa.cli", "worker", "--broker", url, "--archive", str(archive), "--concurrency", "1",
                   "--hostname", name, "--visibility-timeout", str(VISIBILITY_TIMEOUT)]  # fmt: skip
            with open(logs / f"{name}.log", "wb") as log:
                procs[name] = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        for name in names:
            while b"ready." not in (logs / f"{name}.log").read_bytes():
                assert procs[name].poll() is None, (logs / f"{name}.log").read_text(errors="replace")
                assert time.monotonic() < deadline, f"worker {name} did not start"
                time.sleep(0.2)
        yield procs
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def index_doc_count(archive: Path) -> int:
    from core.archive import Archive
    from index import store

    return int(store.with_searcher(Archive(archive), lambda s: s.doc_count()))


def indexed_log(archive: Path) -> list[str]:
    return (archive / "batch" / "indexed-ids.txt").read_text(encoding="ascii").split()


def assert_archived_once(archive: Path, n: int) -> None:
    docs = sidecars(archive)
    assert len(docs) == n
    assert len({d["sha256"] for d in docs}) == n
    assert all(d["duplicates"] == [] for d in docs)
    assert sorted(indexed_log(archive)) == sorted(str(d["id"]) for d in docs)  # indexed by the single writer, once each
    assert index_doc_count(archive) == n


def test_thirty_documents_archived_exactly_once_by_two_workers(tmp_path: Path, redis_url: str) -> None:
    src, archive, report = tmp_path / "cabinet", tmp_path / "archive", tmp_path / "report"
    make_scans(src, 30)
    with workers(redis_url, archive, tmp_path / "logs"):
        run = woa("batch", src, "--broker", redis_url, "--archive", archive, "--report", report, "--no-progress")
        assert run.returncode == 0, run.stderr
        status = woa("batch", "--status", "--broker", redis_url, "--json")
    assert_archived_once(archive, 30)

    snap = json.loads(status.stdout)
    assert snap["finished"] and snap["total"] == 30 and snap["done"] == 30
    assert snap["counts"] == {"archived": 30, "duplicate": 0, "failed": 0, "skipped": 0}
    assert snap["pages"] == 30 and snap["index_pending"] == 0 and snap["running"] == []
    per_worker = {w: c.get("archived", 0) for w, c in snap["workers"].items()}
    assert set(per_worker) == {"w1@test", "w2@test"} and all(per_worker.values()) and sum(per_worker.values()) == 30

    summary = read_summary(report)
    assert (summary["archived"], summary["duplicate"], summary["failed"], summary["skipped"]) == ("30", "0", "0", "0")
    rows = read_documents(report)
    assert len(rows) == 30 and {r["worker"] for r in rows} == {"w1@test", "w2@test"}

    # the same batch again: everything is skipped, nothing is queued
    again = woa("batch", src, "--broker", redis_url, "--archive", archive, "--report", tmp_path / "r2", "--no-progress")
    assert again.returncode == 0, again.stderr
    assert read_summary(tmp_path / "r2")["skipped"] == "30"
    assert len(sidecars(archive)) == 30


def test_task_of_a_killed_worker_is_finished_by_the_other_exactly_once(tmp_path: Path, redis_url: str) -> None:
    src, archive, report = tmp_path / "cabinet", tmp_path / "archive", tmp_path / "report"
    make_scans(src, 6)
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    with workers(redis_url, archive, tmp_path / "logs") as procs:
        cmd = [PY, "-m", "woa.cli", "batch", str(src), "--broker", redis_url, "--archive", str(archive),
               "--report", str(report), "--no-progress"]  # fmt: skip
        batch = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            victim_key = None
            deadline = time.monotonic() + 120
            while victim_key is None:
                assert time.monotonic() < deadline, "w1 never started a task"
                batch_id = latest_batch_id(r)
                if batch_id:
                    running = r.hgetall(BatchState(r, batch_id).running_key)
                    victim_key = next((k for k, v in running.items() if json.loads(v)["worker"] == "w1@test"), None)
                time.sleep(0.05)
            os.killpg(procs["w1@test"].pid, signal.SIGKILL)  # the worker and its pool process, mid-task
            procs["w1@test"].wait(timeout=10)
            out, err = batch.communicate(timeout=180)
        finally:
            if batch.poll() is None:
                batch.kill()
        assert batch.returncode == 0, err
        assert batch_id is not None
        state = BatchState(r, batch_id)
        victim = json.loads(r.hget(state.results_key, victim_key) or "{}")
        assert victim["status"] == "archived" and victim["worker"] == "w2@test"
        assert_archived_once(archive, 6)
        summary = read_summary(report)
        assert (summary["archived"], summary["duplicate"], summary["failed"]) == ("6", "0", "0")
        assert r.hlen(state.results_key) == 6

        redelivered = send_tasks_for_archived_bytes(redis_url, src, tmp_path / "elsewhere", r)

    # Tasks for bytes already archived do no OCR: the same file again counts as the earlier
    # attempt's commit (a redelivery after the sidecar was written); another file with those
    # bytes is a duplicate, recorded in the sidecar.
    first = next(d for d in sidecars(archive) if d["source_name"] == "scan-000.png")
    assert redelivered == {"same-file": ("archived", first["id"]), "other-file": ("duplicate", first["id"])}
    again = next(d for d in sidecars(archive) if d["id"] == first["id"])
    assert again["ingested_at"] == first["ingested_at"] and again["archive_sha256"] == first["archive_sha256"]
    assert [x["source_name"] for x in again["duplicates"]] == ["copy-of-000.png"]
    assert len(sidecars(archive)) == 6


def send_tasks_for_archived_bytes(url: str, src: Path, elsewhere: Path, r: redis.Redis) -> dict[str, tuple[str, str]]:
    from batch.celery_app import QUEUE, TASK_NAME, create_app
    from core.archive import sha256_file
    from core.settings import load_settings

    original = next(src.rglob("scan-000.png"))
    copy = elsewhere / "copy-of-000.png"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(original.read_bytes())
    sha = sha256_file(original)
    state = BatchState(r, "manual")
    app = create_app(load_settings(broker_url=url))
    app.send_task(TASK_NAME, args=["same-file", "manual", str(original), sha, {}], queue=QUEUE)
    app.send_task(TASK_NAME, args=["other-file", "manual", str(copy), sha, {}], queue=QUEUE)
    deadline = time.monotonic() + 60
    while r.hlen(state.results_key) < 2:
        assert time.monotonic() < deadline, "the tasks were not run"
        time.sleep(0.2)
    results = {str(k): json.loads(v) for k, v in r.hgetall(state.results_key).items()}
    return {k: (v["status"], v["doc_id"]) for k, v in results.items()}
