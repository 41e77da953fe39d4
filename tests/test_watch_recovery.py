"""Crash windows, each set up exactly: the journal and archive as a SIGKILL at that moment leaves them,
then ``woa watch --oneshot`` must finish the job without losing or duplicating anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.ingest import ingest_file
from app.verify import verify_archive
from benchmarks.soak import render_scan
from core.archive import Archive, sha256_file
from core.settings import load_settings
from index import indexed_ids
from watch_folder.journal import JOURNAL_NAME, Identity, Journal, check_journal

pytestmark = pytest.mark.slow  # woa watch processes after crash windows

ROOT = Path(__file__).resolve().parents[1]


def _oneshot(inbox: Path, archive: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WOA_")}
    return subprocess.run(
        [sys.executable, "-m", "woa.cli", "watch", str(inbox), "--archive", str(archive), "--oneshot",
         "--stable", "0.3", "--workers", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _setup(tmp_path: Path) -> tuple[Path, Path, Path, int]:
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    (inbox / "广州店").mkdir(parents=True)
    scan = inbox / "广州店" / "crash.png"
    scan.write_bytes(render_scan(4242))
    with Journal(archive / JOURNAL_NAME) as j:
        row_id = j.enqueue(scan, Identity.of(scan), sha256_file(scan), {"dealer": "广州店"})
        j.mark_processing(row_id)
    return inbox, archive, scan, row_id


def test_killed_after_the_sidecar_before_the_index_and_journal(tmp_path: Path) -> None:
    inbox, archive_dir, scan, row_id = _setup(tmp_path)
    settings = load_settings(archive_dir=archive_dir)
    res = ingest_file(scan, settings, tags={"dealer": "广州店"}, update_index=False)
    assert res.status == "archived"
    archive = Archive(archive_dir)
    assert res.doc_id not in (indexed_ids(archive) or set())
    r = _oneshot(inbox, archive_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    with Journal(archive_dir / JOURNAL_NAME, readonly=True) as j:
        rows = j.rows()
    assert [(x.id, x.state, x.outcome, x.attempts) for x in rows] == [(row_id, "done", "archived", 2)]
    assert archive.load(res.doc_id or "").duplicates == []  # its own earlier attempt, not a duplicate
    assert res.doc_id in (indexed_ids(archive) or set())  # the resumed attempt indexed it
    assert not scan.exists() and (tmp_path / "processed" / "广州店" / "crash.png").is_file()
    assert verify_archive(archive_dir, extra_checks=[check_journal]).problems == []


def test_killed_after_the_outcome_before_the_move(tmp_path: Path) -> None:
    inbox, archive_dir, scan, row_id = _setup(tmp_path)
    settings = load_settings(archive_dir=archive_dir)
    res = ingest_file(scan, settings, tags={"dealer": "广州店"})
    with Journal(archive_dir / JOURNAL_NAME) as j:
        j.record_outcome(row_id, "archived", doc_id=res.doc_id, pages=res.pages, seconds=res.seconds)
    sidecar = Archive(archive_dir).sidecar_path(res.doc_id or "")
    before = sidecar.read_bytes()
    r = _oneshot(inbox, archive_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "event=processing" not in r.stderr  # no second ingest: only the move was missing
    assert sidecar.read_bytes() == before
    with Journal(archive_dir / JOURNAL_NAME, readonly=True) as j:
        assert [(x.state, x.outcome, x.attempts) for x in j.rows()] == [("done", "archived", 1)]
    assert not scan.exists() and (tmp_path / "processed" / "广州店" / "crash.png").is_file()
    assert verify_archive(archive_dir, extra_checks=[check_journal]).problems == []


def test_killed_after_the_move_before_the_journal_said_done(tmp_path: Path) -> None:
    inbox, archive_dir, scan, row_id = _setup(tmp_path)
    res = ingest_file(scan, load_settings(archive_dir=archive_dir), tags={"dealer": "广州店"})
    with Journal(archive_dir / JOURNAL_NAME) as j:
        j.record_outcome(row_id, "archived", doc_id=res.doc_id)
    moved = tmp_path / "processed" / "广州店" / "crash.png"
    moved.parent.mkdir(parents=True)
    os.rename(scan, moved)
    r = _oneshot(inbox, archive_dir)
    assert r.returncode == 0, r.stderr[-3000:]
    with Journal(archive_dir / JOURNAL_NAME, readonly=True) as j:
        assert [(x.state, x.outcome) for x in j.rows()] == [("done", "archived")]
    assert sorted(p.name for p in (tmp_path / "processed").rglob("*.png")) == ["crash.png"]


def test_a_queued_link_whose_target_went_without_being_archived_goes_to_failed(tmp_path: Path) -> None:
    """Queued (the service stopped before its turn), then its target removed by someone: the link
    leaves the inbox for failed/ with the reason, not left dangling and not retried for ever."""
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    target = tmp_path / "elsewhere.png"
    target.write_bytes(render_scan(4243))
    link = inbox / "link.png"
    link.symlink_to(target)
    archive.mkdir()
    with Journal(archive / JOURNAL_NAME) as j:
        row_id = j.enqueue(link, Identity.of(link), sha256_file(link), {})
    target.unlink()
    r = _oneshot(inbox, archive)
    assert r.returncode == 1, r.stderr[-3000:]  # a file failed in this run
    assert "Traceback" not in r.stderr
    assert "symbolic link whose target is gone" in r.stderr, r.stderr[-3000:]
    assert list(inbox.iterdir()) == []
    assert (tmp_path / "failed" / "link.png").is_symlink()
    with Journal(archive / JOURNAL_NAME, readonly=True) as j:
        assert [(x.id, x.state, x.outcome) for x in j.rows()] == [(row_id, "failed", "failed")]
    assert verify_archive(archive, extra_checks=[check_journal]).problems == []
