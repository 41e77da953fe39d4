"""The SQLite journal and the stability tracker (no OCR involved)."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from core.atomic import TMP_PREFIX
from watch_folder.files import move_durably, remove_stale_temps, unique_destination, write_error_note
from watch_folder.journal import Identity, Journal
from watch_folder.stability import StabilityTracker


def _file(tmp_path: Path, name: str, data: bytes = b"scan") -> tuple[Path, Identity]:
    path = tmp_path / name
    path.write_bytes(data)
    return path, Identity.of(path)


def test_lifecycle_and_summary(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    a, ida = _file(tmp_path, "a.pdf")
    b, idb = _file(tmp_path, "b.pdf", b"other")
    with Journal(db) as j:
        ra = j.enqueue(a, ida, "aa" * 32, {"dealer": "广州店"})
        rb = j.enqueue(b, idb, "bb" * 32, {})
        assert j.active_paths() == {str(a), str(b)}
        assert [r.id for r in j.due(time.time())] == [ra, rb]
        j.mark_processing(ra)
        j.record_outcome(ra, "archived", doc_id="aa" * 8, pages=1, seconds=0.5)
        j.finish(ra, "done", dest="processed/a.pdf")
        j.mark_processing(rb)
        j.retry_later(rb, "disk full", time.time() + 60)
        assert j.due(time.time()) == []  # waiting for its backoff
        s = j.summary()
        assert (s.queued, s.processing, s.done, s.archived, s.waiting_retry) == (1, 0, 1, 1, 1)
        assert s.last_error is not None and s.last_error["error"] == "disk full"
        row = j.get(ra)
        assert row.tags == {"dealer": "广州店"} and row.attempts == 1 and row.state == "done"
        assert row.finished_at is not None and row.finished_at >= row.first_seen


def test_processing_rows_return_to_the_queue_after_a_crash(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    a, ida = _file(tmp_path, "a.pdf")
    j = Journal(db)
    rid = j.enqueue(a, ida, "aa" * 32, {})
    j.mark_processing(rid)
    # no close(): the process "dies" with the row in flight; a new connection sees the commit
    j2 = Journal(db)
    assert j2.get(rid).state == "processing"
    assert j2.recover() == 1
    row = j2.get(rid)
    assert row.state == "queued" and row.attempts == 1
    assert [r.id for r in j2.due(time.time())] == [rid]
    j.close()
    j2.close()


def test_requeue_on_a_stop_does_not_count_the_attempt(tmp_path: Path) -> None:
    a, ida = _file(tmp_path, "a.pdf")
    with Journal(tmp_path / "j.sqlite") as j:
        rid = j.enqueue(a, ida, "aa" * 32, {})
        j.mark_processing(rid)
        j.requeue(rid)
        assert j.get(rid).attempts == 0 and j.get(rid).state == "queued"


def test_journal_is_wal_and_readable_while_open(tmp_path: Path) -> None:
    db = tmp_path / "j.sqlite"
    a, ida = _file(tmp_path, "a.pdf")
    with Journal(db) as j:
        j.enqueue(a, ida, "aa" * 32, {})
        assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        with Journal(db, readonly=True) as ro:
            assert ro.summary().queued == 1


def test_archived_elsewhere_and_latest_row(tmp_path: Path) -> None:
    a, ida = _file(tmp_path, "a.pdf")
    with Journal(tmp_path / "j.sqlite") as j:
        r1 = j.enqueue(a, ida, "cc" * 32, {})
        j.record_outcome(r1, "archived", doc_id="cc" * 8)
        j.finish(r1, "done")
        r2 = j.enqueue(a, ida, "cc" * 32, {})
        assert j.archived_elsewhere("cc" * 32, r2)
        assert not j.archived_elsewhere("cc" * 32, r1)
        latest = j.latest_for(a)
        assert latest is not None and latest.id == r2


def test_stability_waits_for_quiet_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"part 1")
    tracker = StabilityTracker(stable_seconds=2.0)
    tracker.touch(path)
    assert tracker.poll(100.0) == []  # first look starts the clock
    assert tracker.poll(101.0) == []
    with open(path, "ab") as fh:
        fh.write(b" part 2")
    assert tracker.poll(102.5) == []  # grew: clock restarts
    assert tracker.poll(104.0) == []
    assert tracker.poll(104.6) == [path]
    assert path not in tracker
    tracker.touch(tmp_path / "vanished.pdf")
    assert tracker.poll(200.0) == [] and len(tracker) == 0


def test_stability_notices_an_mtime_change_without_growth(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"0123456789")
    tracker = StabilityTracker(stable_seconds=1.0)
    tracker.touch(path)
    tracker.poll(10.0)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # rewritten in place, same size
    assert tracker.poll(11.5) == []
    assert tracker.poll(12.6) == [path]


def test_moves_never_overwrite_and_error_note_is_written(tmp_path: Path) -> None:
    src_dir, out = tmp_path / "inbox", tmp_path / "failed"
    src_dir.mkdir()
    (out / "广州店").mkdir(parents=True)
    (out / "广州店" / "x.pdf").write_bytes(b"earlier")
    src = src_dir / "x.pdf"
    src.write_bytes(b"new")
    dest = unique_destination(out / "广州店" / "x.pdf")
    assert dest.name == "x (1).pdf"
    note = write_error_note(dest, "not a PDF: text file", {"sha256": "ab"})
    move_durably(src, dest)
    assert not src.exists() and dest.read_bytes() == b"new"
    assert (out / "广州店" / "x.pdf").read_bytes() == b"earlier"
    assert note.name == "x (1).pdf.error.txt"
    assert note.read_text().startswith("not a PDF: text file\n")


def test_a_dangling_link_moves_as_a_link_across_filesystems(tmp_path: Path) -> None:
    """processed/ on another filesystem than the inbox: the rename fails with EXDEV and the copy path
    must move the link itself, not open its (gone) target."""
    import shutil
    import tempfile

    import pytest

    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's temp folder")
    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "gone.png")
    other = Path(tempfile.mkdtemp(dir=shm))
    try:
        dest = other / "processed" / "link.png"
        move_durably(link, dest)
        assert not os.path.lexists(link)
        assert dest.is_symlink() and os.readlink(dest) == str(tmp_path / "gone.png")
        assert [p.name for p in dest.parent.iterdir()] == ["link.png"]
    finally:
        shutil.rmtree(other)


def test_stale_temps_removed_but_open_or_fresh_ones_kept(tmp_path: Path) -> None:
    shard = tmp_path / "pdf" / "ab"
    shard.mkdir(parents=True)
    stale = shard / f"{TMP_PREFIX}dead"
    stale.write_bytes(b"x")
    held = shard / f"{TMP_PREFIX}held"
    held.write_bytes(b"x")
    fresh = shard / f"{TMP_PREFIX}fresh"
    fresh.write_bytes(b"x")
    old = time.time() - 30
    os.utime(stale, (old, old))
    os.utime(held, (old, old))
    keep = tmp_path / "pdf" / "ab" / "abcdef.pdf"
    keep.write_bytes(b"%PDF")
    os.utime(keep, (old, old))
    with open(held, "rb"):
        removed = remove_stale_temps(tmp_path.resolve(), min_age=5.0)
    assert removed == [stale.resolve()]
    assert held.exists() and fresh.exists() and keep.exists() and not stale.exists()
