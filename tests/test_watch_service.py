"""The real ``woa watch`` service on real folders with real OCR (the default engine on small rendered pages).

Each test starts ``python -m woa.cli watch`` as a subprocess, drops files the way a scanner or a
user does, and checks the archive, the journal and the inbox afterwards.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from benchmarks.soak import render_scan
from core.archive import Archive
from tests.helpers import ROOT, WATCH_STABLE, Watcher, finished, journal_rows, wait_for, watch_env

pytestmark = pytest.mark.slow  # woa watch processes, SIGKILL and SIGTERM


def run_woa(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "woa.cli", *args], cwd=ROOT, env=watch_env(), capture_output=True, text=True,
        timeout=timeout,
    )


@pytest.fixture
def watcher_factory(tmp_path: Path) -> Iterator[Callable[..., Watcher]]:
    started: list[Watcher] = []

    def make(*extra: str, **kw: object) -> Watcher:
        w = Watcher(tmp_path, *extra, **kw)  # type: ignore[arg-type]
        started.append(w)
        return w

    yield make
    for w in started:
        if w.proc.poll() is None:
            w.kill()


def drop(staging: Path, inbox: Path, files: dict[str, bytes]) -> None:
    """Write files completely beside the inbox, then rename them in: they appear at once."""
    staging.mkdir(exist_ok=True)
    for rel, data in files.items():
        tmp = staging / rel.replace("/", "__")
        tmp.write_bytes(data)
    for rel in files:
        dest = inbox / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging / rel.replace("/", "__"), dest)


def test_slow_writer_is_taken_once_and_complete(tmp_path: Path, watcher_factory: Callable[..., Watcher]) -> None:
    w = watcher_factory("--stable", "1.0")
    w.wait_log("event=start")
    data = render_scan(1, size=(900, 400))
    dest = w.inbox / "广州店" / "scan_0001.png"
    dest.parent.mkdir()
    chunks = 25
    step = -(-len(data) // chunks)
    t0 = time.monotonic()
    with open(dest, "wb") as fh:  # a scanner over SMB: the file grows in pieces over ~10 s
        for i in range(chunks):
            fh.write(data[i * step : (i + 1) * step])
            fh.flush()
            time.sleep(0.4)
    assert time.monotonic() - t0 >= 10
    assert journal_rows(w.archive) == []  # nothing taken while it was being written
    wait_for(lambda: finished(w.archive) >= 1, 300, "the slow file to be archived", w)
    time.sleep(1.5)  # any second take would show up by now
    assert w.stop() == 0
    rows = journal_rows(w.archive)
    assert [(r.path, r.state, r.outcome) for r in rows] == [(str(dest), "done", "archived")]
    archive = Archive(w.archive)
    doc = archive.load(rows[0].doc_id or "")
    assert (w.archive / doc.original).read_bytes() == data
    assert doc.tags == {"dealer": "广州店"}
    assert "机油" in doc.text
    assert (tmp_path / "processed" / "广州店" / "scan_0001.png").read_bytes() == data
    assert not dest.exists()


def test_hundred_files_dropped_at_once_are_archived_once_each(
    tmp_path: Path, watcher_factory: Callable[..., Watcher]
) -> None:
    w = watcher_factory()
    w.wait_log("event=start")
    files = {f"{'深圳店/' if n % 3 == 0 else ''}scan_{n:03d}.png": render_scan(n) for n in range(100)}
    drop(tmp_path / "staging", w.inbox, files)
    wait_for(lambda: finished(w.archive) >= 100, 900, "100 files to be archived", w)
    assert w.stop() == 0
    rows = journal_rows(w.archive)
    assert len(rows) == 100
    assert Counter((r.state, r.outcome) for r in rows) == {("done", "archived"): 100}
    assert len({r.doc_id for r in rows}) == 100
    archive = Archive(w.archive)
    assert sorted(archive.ids()) == sorted(r.doc_id or "" for r in rows)
    by_name = {Path(r.path).relative_to(w.inbox).as_posix(): r for r in rows}
    for rel, data in files.items():
        doc = archive.load(by_name[rel].doc_id or "")
        assert (w.archive / doc.original).read_bytes() == data
        assert doc.tags == ({"dealer": "深圳店"} if rel.startswith("深圳店/") else {})
        assert (tmp_path / "processed" / rel).read_bytes() == data
    assert list(w.inbox.rglob("*.png")) == []


def test_same_content_under_two_names_is_archived_once(tmp_path: Path, watcher_factory: Callable[..., Watcher]) -> None:
    w = watcher_factory("--after-success", "delete")
    w.wait_log("event=start")
    data = render_scan(7)
    drop(tmp_path / "staging", w.inbox, {"a.png": data, "广州店/copy of a.png": data})
    wait_for(lambda: finished(w.archive) >= 2, 300, "both files", w)
    assert w.stop() == 0
    rows = journal_rows(w.archive)
    assert sorted((r.state, r.outcome) for r in rows) == [("done", "archived"), ("done", "duplicate")]
    assert rows[0].doc_id == rows[1].doc_id == hashlib.sha256(data).hexdigest()[:16]
    archive = Archive(w.archive)
    assert list(archive.ids()) == [rows[0].doc_id]
    doc = archive.load(rows[0].doc_id or "")
    names = {doc.source_name} | {d["source_name"] for d in doc.duplicates}
    assert names == {"a.png", "copy of a.png"}
    assert [r.dest for r in rows] == ["deleted", "deleted"]
    assert list(w.inbox.rglob("*.png")) == [] and not (tmp_path / "processed").exists()


def test_polling_mode_sees_new_files(tmp_path: Path, watcher_factory: Callable[..., Watcher]) -> None:
    # --rescan 3600: only the poller can see a file dropped after the start.
    w = watcher_factory("--poll", "0.3", "--rescan", "3600")
    w.wait_log("event=start")
    assert "observer=polling/0.3s" in w.log
    drop(tmp_path / "staging", w.inbox, {"北京店/p.png": render_scan(11)})
    wait_for(lambda: finished(w.archive) >= 1, 300, "the polled file", w)
    assert w.stop() == 0
    [row] = journal_rows(w.archive)
    assert (row.state, row.outcome, row.tags) == ("done", "archived", {"dealer": "北京店"})


def test_folder_moved_into_the_inbox_is_picked_up_from_events(
    tmp_path: Path, watcher_factory: Callable[..., Watcher]
) -> None:
    w = watcher_factory("--rescan", "3600")  # native events only: no rescan will come
    w.wait_log("event=start")
    assert "observer=native" in w.log
    folder = tmp_path / "staging" / "上海店"
    (folder / "2024").mkdir(parents=True)
    (folder / "2024" / "m1.png").write_bytes(render_scan(31))
    (folder / "m2.png").write_bytes(render_scan(32))
    (folder / "m2.png.part").write_bytes(b"still copying")
    os.rename(folder, w.inbox / "上海店")
    wait_for(lambda: finished(w.archive) >= 2, 300, "files of the moved-in folder", w)
    assert w.stop() == 0
    rows = journal_rows(w.archive)
    assert sorted(Path(r.path).relative_to(w.inbox).as_posix() for r in rows) == ["上海店/2024/m1.png", "上海店/m2.png"]
    assert all(r.tags == {"dealer": "上海店"} and r.outcome == "archived" for r in rows)
    assert (w.inbox / "上海店" / "m2.png.part").exists()  # ignored, left alone


def test_rescan_catches_files_no_event_reported(tmp_path: Path, watcher_factory: Callable[..., Watcher]) -> None:
    # A poller that never polls stands in for a share that delivers no events: the rescan finds it.
    w = watcher_factory("--poll", "3600", "--rescan", "1")
    w.wait_log("event=start")
    drop(tmp_path / "staging", w.inbox, {"r.png": render_scan(12)})
    wait_for(lambda: finished(w.archive) >= 1, 300, "the rescanned file", w)
    assert w.stop() == 0
    assert [(r.state, r.outcome) for r in journal_rows(w.archive)] == [("done", "archived")]


def test_bad_files_go_to_failed_with_a_reason_and_the_service_keeps_going(
    tmp_path: Path, watcher_factory: Callable[..., Watcher]
) -> None:
    w = watcher_factory()
    w.wait_log("event=start")
    jpeg = render_scan(21, fmt="JPEG")
    bad = {
        "empty.pdf": b"",
        "notes.pdf": "这不是PDF，只是文字。\n".encode() * 20,
        "广州店/truncated.jpg": jpeg[: len(jpeg) // 2],
    }
    gbk_name = os.fsdecode("广州.png".encode("gbk"))  # a share mounted with the wrong iocharset
    drop(tmp_path / "staging", w.inbox, {**bad, "good1.png": render_scan(22), gbk_name: render_scan(24)})
    wait_for(lambda: finished(w.archive) >= 4, 300, "bad and good files", w)
    wait_for(lambda: (tmp_path / "failed" / gbk_name).exists(), 60, "the undecodable name in failed/", w)
    drop(tmp_path / "staging", w.inbox, {"good2.png": render_scan(23)})
    wait_for(lambda: finished(w.archive) >= 5, 300, "a good file after the bad ones", w)
    assert w.proc.poll() is None
    assert w.stop() == 0
    rows = {Path(r.path).relative_to(w.inbox).as_posix(): r for r in journal_rows(w.archive)}
    for rel in bad:
        row = rows[rel]
        assert (row.state, row.outcome) == ("failed", "failed"), rel
        assert row.error
        moved = tmp_path / "failed" / rel
        assert moved.read_bytes() == bad[rel]
        note = moved.with_name(moved.name + ".error.txt").read_text(encoding="utf-8")
        assert note.splitlines()[0] == row.error
        assert not (w.inbox / rel).exists()
    assert rows["good1.png"].outcome == rows["good2.png"].outcome == "archived"
    note = (tmp_path / "failed" / (gbk_name + ".error.txt")).read_text(encoding="utf-8")
    assert note.startswith("file name is not valid UTF-8") and "\\xb9\\xe3" in note
    assert gbk_name not in rows
    assert len(list(Archive(w.archive).ids())) == 2
    # moving a failed file back into the inbox retries it (here it fails again, under a new name)
    w2 = watcher_factory()
    w2.wait_log("event=start")
    os.rename(tmp_path / "failed" / "notes.pdf", w.inbox / "notes.pdf")
    wait_for(lambda: finished(w.archive) >= 6, 300, "the retried file", w2)
    assert w2.stop() == 0
    retried = [r for r in journal_rows(w.archive) if r.path == str(w.inbox / "notes.pdf")]
    assert [(r.state, r.dest) for r in retried] == [
        ("failed", str(tmp_path / "failed" / "notes.pdf")),
        ("failed", str(tmp_path / "failed" / "notes (1).pdf")),
    ]
    status = run_woa("status", "--archive", str(w.archive), "--json")
    assert status.returncode == 0, status.stderr
    s = json.loads(status.stdout)
    assert (s["done"], s["failed"], s["queued"], s["processing"], s["running"]) == (2, 4, 0, 0, False)
    assert s["last_error"]["path"] == str(w.inbox / "notes.pdf")
    human = run_woa("status", "--archive", str(w.archive), "--failed")
    assert "failed       4" in human.stdout
    listed = [line for line in human.stdout.splitlines() if line.startswith("  failed ")]
    assert len(listed) == 4 and all(": " in line for line in listed)
    assert sum(str(w.inbox / "notes.pdf") in line for line in listed) == 2


def _many_page_pdf(pages: int) -> bytes:
    images = [Image.open(io.BytesIO(render_scan(7000 + i))).convert("L") for i in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, format="PDF", save_all=True, append_images=images[1:], resolution=200)
    return buf.getvalue()


def test_a_file_that_hangs_a_worker_times_out_and_the_queue_moves_on(
    tmp_path: Path, watcher_factory: Callable[..., Watcher], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WOA_MAX_ATTEMPTS", "1")  # read by the service subprocess
    w = watcher_factory("--timeout", "15", workers=1)
    w.wait_log("event=start")
    drop(tmp_path / "staging", w.inbox, {"long.pdf": _many_page_pdf(80), "short.png": render_scan(77)})
    wait_for(lambda: finished(w.archive) >= 2, 300, "the long file to time out and the short one", w)
    assert w.stop() == 0
    rows = {Path(r.path).name: r for r in journal_rows(w.archive)}
    assert (rows["long.pdf"].state, rows["long.pdf"].error) == ("failed", "timed out after 15 s (gave up after 1 attempts)")
    assert (tmp_path / "failed" / "long.pdf.error.txt").read_text().startswith("timed out after 15 s")
    assert (rows["short.png"].state, rows["short.png"].outcome) == ("done", "archived")


def test_refuses_to_start_when_outputs_lie_inside_the_inbox(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    r = run_woa("watch", str(inbox), "--archive", str(inbox / "archive"), "--oneshot")
    assert r.returncode == 2 and "inside the inbox" in r.stderr
    r = run_woa("watch", str(inbox), "--archive", str(tmp_path / "a"), "--failed", str(inbox / "failed"), "--oneshot")
    assert r.returncode == 2 and "failed folder" in r.stderr
    assert not (inbox / "archive").exists()


def test_second_watcher_on_the_same_archive_is_refused(tmp_path: Path, watcher_factory: Callable[..., Watcher]) -> None:
    w = watcher_factory()
    w.wait_log("event=start")
    other = tmp_path / "inbox2"
    other.mkdir()
    r = run_woa("watch", str(other), "--archive", str(w.archive), "--oneshot")
    assert r.returncode == 3 and "already running" in r.stderr
    assert w.stop() == 0


def test_sigterm_finishes_in_flight_files_and_restart_resumes(
    tmp_path: Path, watcher_factory: Callable[..., Watcher]
) -> None:
    w = watcher_factory(workers=1)
    w.wait_log("event=start")
    files = {f"t{n}.png": render_scan(100 + n) for n in range(8)}
    drop(tmp_path / "staging", w.inbox, files)
    wait_for(lambda: finished(w.archive) >= 1, 300, "the first file", w)
    assert w.stop() == 0
    assert "event=stop" in w.log
    rows = journal_rows(w.archive)
    assert all(r.state in ("queued", "done") for r in rows), [(r.path, r.state) for r in rows]
    done_before = sum(r.state == "done" for r in rows)
    assert done_before < 8
    assert w.log.count("event=processing") == done_before  # every file started was finished
    # a second signal stops at once: the in-flight file goes back to the queue, its attempt uncounted
    w2 = watcher_factory(workers=1)
    wait_for(lambda: "event=processing" in w2.log, 300, "a file in flight", w2)
    w2.proc.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    assert w2.stop() == 0
    assert "event=requeued files=1" in w2.log
    rows = journal_rows(w.archive)
    assert all(r.state in ("queued", "done") for r in rows)
    assert all(r.attempts == 0 for r in rows if r.state == "queued")
    r = run_woa("watch", str(w.inbox), "--archive", str(w.archive), "--stable", WATCH_STABLE, "--oneshot", "--workers", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    rows = journal_rows(w.archive)
    assert Counter((x.state, x.outcome) for x in rows) == {("done", "archived"): 8}
    assert len(list(Archive(w.archive).ids())) == 8


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """Short version of the soak test (benchmarks/soak_watch.py runs 50 files x 5 kills)."""
    from benchmarks.soak import run_soak

    result = run_soak(tmp_path, files=20, kills=3, seed=5, workers=2, env=watch_env(), cwd=ROOT)
    assert result.problems == [], "\n".join(result.problems)
    assert result.kills == 3
    # each kill came after some files were done and while others were still waiting
    assert 0 < result.kill_points[0] < result.kill_points[1] < result.kill_points[2] < 20, result.kill_points
    assert result.archived == 20
