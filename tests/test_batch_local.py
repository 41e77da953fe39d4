"""`woa batch` with the local process pool: real OCR, real archive, interrupted and resumed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import (
    PY,
    ROOT,
    make_scan,
    make_scans,
    read_documents,
    read_summary,
    sidecars,
    woa,
)

pytestmark = pytest.mark.slow  # woa batch processes, interrupted

def test_batch_archives_reports_and_rerun_skips(tmp_path: Path) -> None:
    src, archive, report = tmp_path / "cabinet", tmp_path / "archive", tmp_path / "report"
    scans = make_scans(src, 5)
    (src / "rescanned").mkdir()  # walked after box0/: the first copy is archived, this one is the duplicate
    shutil.copy(scans[0], src / "rescanned" / "copy-of-first.png")
    (src / "box1" / "broken.pdf").write_bytes(b"%PDF-1.4 truncated by the scanner")
    make_scan(src / ".trash" / "hidden.png", 99)  # hidden folder: never picked up
    (src / "notes.txt").write_text("not a scan", encoding="utf-8")

    run = woa("batch", src, "--archive", archive, "--workers", "2", "--report", report, "--no-progress")
    assert run.returncode == 1, run.stderr  # one file failed
    assert f"report: {report / 'report.html'}" in run.stdout

    docs = sidecars(archive)
    assert len(docs) == 5
    assert sorted(d["source_name"] for d in docs) == sorted(p.name for p in scans)
    first = next(d for d in docs if d["source_name"] == scans[0].name)
    assert [x["source_name"] for x in first["duplicates"]] == ["copy-of-first.png"]

    summary = read_summary(report)
    assert (summary["archived"], summary["duplicate"], summary["failed"], summary["skipped"]) == ("5", "1", "1", "0")
    assert summary["pages"] == "5" and float(summary["pages_per_minute"]) > 0
    rows = read_documents(report)
    failed = [r for r in rows if r["status"] == "failed"]
    assert [Path(r["path"]).name for r in failed] == ["broken.pdf"] and failed[0]["error"]
    assert all(r["fields_present"] for r in rows if r["status"] == "archived")  # the extractor found fields
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "Failures (1)" in page and "broken.pdf" in page and "hidden.png" not in page

    rerun = woa("batch", src, "--archive", archive, "--workers", "2", "--no-progress")
    assert rerun.returncode == 1
    report2 = Path(rerun.stdout.split("report: ", 1)[1].strip()).parent
    assert report2.parent == archive / "reports"
    summary2 = read_summary(report2)
    assert (summary2["archived"], summary2["duplicate"], summary2["failed"], summary2["skipped"]) == ("0", "0", "1", "6")
    assert len(sidecars(archive)) == 5


def _start_batch(src: Path, archive: Path, report: Path) -> subprocess.Popen[str]:
    cmd = [PY, "-m", "woa.cli", "batch", str(src), "--archive", str(archive), "--workers", "2", "--report", str(report)]
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _wait_for_sidecars(archive: Path, n: int, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list(archive.glob("sidecars/*/*.json"))) < n:
        assert proc.poll() is None, "the batch ended before it could be interrupted"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.05)


def _group_gone(pgid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_interrupted_batch_resumes_without_duplicates(tmp_path: Path) -> None:
    src, archive = tmp_path / "cabinet", tmp_path / "archive"
    make_scans(src, 12)

    # Ctrl-C (SIGINT to the whole process group, as a terminal sends it): finish what runs, report, exit 130.
    proc = _start_batch(src, archive, tmp_path / "r1")
    _wait_for_sidecars(archive, 2, proc)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    after_sigint = len(sidecars(archive))
    s1 = read_summary(tmp_path / "r1")
    assert s1["interrupted"] == "yes"
    assert int(s1["archived"]) == after_sigint < 12  # every document in flight was finished and reported

    # SIGKILL of the batch process alone: its workers must not outlive it.
    proc = _start_batch(src, archive, tmp_path / "r2")
    _wait_for_sidecars(archive, after_sigint + 2, proc)
    proc.kill()
    proc.communicate(timeout=30)
    assert _group_gone(proc.pid), "worker processes survived their batch"
    after_kill = len(sidecars(archive))
    assert after_kill < 12

    # Re-run: continues where it stopped, everything archived exactly once.
    run = woa("batch", src, "--archive", archive, "--workers", "2", "--report", tmp_path / "r3", "--no-progress")
    assert run.returncode == 0, run.stderr
    s3 = read_summary(tmp_path / "r3")
    assert (s3["skipped"], s3["archived"], s3["duplicate"], s3["failed"]) == (str(after_kill), str(12 - after_kill), "0", "0")
    docs = sidecars(archive)
    assert len(docs) == 12
    assert len({d["sha256"] for d in docs}) == 12
    assert all(d["duplicates"] == [] for d in docs)
    # documents archived by the killed run before it could index them are indexed by the re-run
    indexed = (archive / "batch" / "indexed-ids.txt").read_text(encoding="ascii").split()
    assert sorted(set(indexed)) == sorted(d["id"] for d in docs)
    assert index_doc_count(archive) == 12


def index_doc_count(archive: Path) -> int:
    from core.archive import Archive
    from index import store

    return int(store.with_searcher(Archive(archive), lambda s: s.doc_count()))
