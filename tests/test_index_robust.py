"""The index survives what happens to it: killed writers, concurrent writers, readers during commits,
a schema change, a corrupted or missing index. Real processes, real files, real SIGKILL."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import index
from core.archive import Archive
from core.models import Document
from index.schema import INDEX_SCHEMA_VERSION
from index.store import CURRENT_NAME, MARKER_NAME, PENDING_NAME
from tests.helpers import ALL, D3, base_archive, documents, save_fast

pytestmark = pytest.mark.slow  # index writers killed with SIGKILL

ROOT = Path(__file__).resolve().parents[1]

WRITER = """
import json, sys
sys.path.insert(0, {root!r})
from core.archive import Archive
import index
a = Archive({archive!r})
ids = json.loads(open({ids!r}).read())
index.update_index(a, [a.load(i) for i in ids])
"""


def variants(n: int, prefix: str) -> list[Document]:
    """``n`` distinct orders made from the hand-written ones (ids ``<prefix>…``, order ``CR…``)."""
    base = documents()
    out = []
    for k in range(n):
        d = copy.deepcopy(base[k % len(base)])
        d.id = f"{prefix}{k:0{16 - len(prefix)}x}"
        d.fields["order_no"].value = f"CR{prefix.upper()}{k:06d}"
        out.append(d)
    return out


def start_writer(archive: Archive, docs: list[Document], tag: str) -> subprocess.Popen[bytes]:
    ids_file = archive.root / f"ids-{tag}.json"
    ids_file.write_text(json.dumps([d.id for d in docs]))
    code = WRITER.format(root=str(ROOT), archive=str(archive.root), ids=str(ids_file))
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def live_gen(archive: Archive) -> Path:
    return archive.index_dir / (archive.index_dir / CURRENT_NAME).read_text().strip()


def wait_for(predicate: Callable[[], object], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.mark.parametrize("moment", ["lock-taken", "segment-writing"])
def test_sigkill_mid_commit_then_search_returns_every_document(tmp_path: Path, moment: str) -> None:
    a = base_archive(tmp_path)
    new = variants(800, "b")
    save_fast(a, new)  # the sidecars are the commit point of an ingest: these documents exist
    gen = live_gen(a)
    before = set(os.listdir(gen))
    child = start_writer(a, new, "crash")
    pending = a.index_dir / PENDING_NAME
    if moment == "lock-taken":
        wait_for(pending.exists)
        time.sleep(0.3)  # adding documents, nothing committed yet
    else:
        # the new segment's column files appear when the commit finalises the segment
        wait_for(lambda: any(f.endswith(".col") for f in set(os.listdir(gen)) - before) or child.poll() is not None)
    os.killpg(child.pid, signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    assert pending.exists(), "the writer finished before it was killed; the test proved nothing"

    res = index.search(a, "", limit=1)
    assert res.total == len(ALL) + len(new)
    assert [h.id for h in index.search(a, "order:CRB000799").hits] == [new[799].id]
    assert not pending.exists()
    # and the index keeps accepting writes
    index.update_index(a, [new[0]])
    assert index.search(a, "").total == len(ALL) + len(new)


def test_sigkill_during_rebuild_keeps_the_old_index(tmp_path: Path) -> None:
    a = base_archive(tmp_path)
    more = variants(3000, "c")  # enough that the rebuild is still running when it is killed
    save_fast(a, more)
    index.update_index(a, more)
    old = live_gen(a)
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import index; from core.archive import Archive; " \
           f"index.rebuild_index(Archive({str(a.root)!r}))"
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    wait_for(lambda: any(p.name.endswith(".building") for p in a.index_dir.iterdir()))
    time.sleep(0.05)
    os.killpg(child.pid, signal.SIGKILL)  # the rebuild and its worker processes
    child.wait()
    assert any(p.name.endswith(".building") for p in a.index_dir.iterdir()), (
        "the rebuild finished before it was killed; the test proved nothing"
    )
    assert live_gen(a) == old
    assert index.search(a, "").total == len(ALL) + 3000
    assert index.rebuild_index(a) == len(ALL) + 3000
    assert not any(p.name.endswith(".building") for p in a.index_dir.iterdir())


def test_concurrent_writers_are_serialised_and_readers_keep_working(tmp_path: Path) -> None:
    a = base_archive(tmp_path)
    batches = [variants(300, p) for p in ("d", "e")]
    for b in batches:
        save_fast(a, b)
    errors: list[BaseException] = []
    counts: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                counts.append(index.search(a, "张伟", limit=5).total)
            except BaseException as exc:  # noqa: BLE001 - any failure of a reader is the finding
                errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    writers = [start_writer(a, b, str(i)) for i, b in enumerate(batches)]
    try:
        assert [w.wait(timeout=90) for w in writers] == [0, 0]
    finally:
        stop.set()
        t.join()
    assert errors == []
    assert len(counts) > 3 and counts[0] >= 3
    assert index.search(a, "").total == len(ALL) + 600
    # 张伟 is customer of 3 of the 6 templates: 3 + 50 + 50 per 300-document batch
    assert index.search(a, "张伟").total == 3 + 2 * 150


def test_schema_version_change_rebuilds(tmp_path: Path) -> None:
    a = base_archive(tmp_path)
    marker = live_gen(a) / MARKER_NAME
    marker.write_text(json.dumps({"schema": INDEX_SCHEMA_VERSION - 1}))
    old = live_gen(a)
    assert {h.id for h in index.search(a, "机油").hits} == {"a000000000000001"}
    assert live_gen(a) != old and not old.exists()
    assert json.loads((live_gen(a) / MARKER_NAME).read_text())["schema"] == INDEX_SCHEMA_VERSION


@pytest.mark.parametrize("damage", ["garbage-segment", "truncated-toc", "missing-generation", "no-index"])
def test_broken_index_is_rebuilt_from_sidecars(tmp_path: Path, damage: str) -> None:
    a = base_archive(tmp_path)
    gen = live_gen(a)
    if damage == "garbage-segment":
        for seg in gen.glob("*.seg"):
            seg.write_bytes(b"\x00garbage" * 100)
    elif damage == "truncated-toc":
        for toc in gen.glob("*.toc"):
            toc.write_bytes(toc.read_bytes()[:20])
    elif damage == "missing-generation":
        for f in gen.iterdir():
            f.unlink()
        gen.rmdir()
    else:
        for p in sorted(a.index_dir.rglob("*"), reverse=True):
            p.rmdir() if p.is_dir() else p.unlink()
    assert {h.id for h in index.search(a, "", limit=50).hits} == ALL
    assert [e.id for e in index.vehicle_history(a, "粤BA88888")][-1] == D3
    assert index.stats(a).orders == len(ALL)
