"""Disk full at each durable write of an ingest, on a small tmpfs (mounted by the test; needs root).

The free space is set so the disk fills during the PDF/A copy, then the original, then the sidecar,
then the index write. Each time the ingest reports the failure, nothing half-written remains, and
once space is freed the next ingest and search succeed with no manual step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harden_util import leftovers, no_traceback, small_scan, woa

pytestmark = pytest.mark.slow
PAGE = 4096
TMPFS_MB = 24


def _pages(n: int) -> int:
    return -(-n // PAGE)


@pytest.fixture()
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (run the suite as root, e.g. in CI's container)")
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill_to(mnt: Path, leave: int) -> Path:
    """Write a filler file so that ``leave`` bytes stay free."""
    filler = mnt / "filler"
    with contextlib_suppress():
        filler.unlink()
    size = free_bytes(mnt) - leave
    assert size > 0
    with open(filler, "wb") as fh:
        fh.truncate(0)
        chunk = b"\0" * (1 << 20)
        while size > 0:
            fh.write(chunk[: min(size, len(chunk))])
            size -= min(size, len(chunk))
    assert abs(free_bytes(mnt) - leave) <= PAGE
    return filler


class contextlib_suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is FileNotFoundError


def test_disk_full_at_each_write_then_recovery(tmpfs: Path, tmp_path: Path) -> None:
    first = small_scan(tmp_path / "first.png", "wo07_006.png")
    scan = small_scan(tmp_path / "scan.png", "wo07_002.png")
    # sizes of what an ingest of ``scan`` writes, from an ingest on a roomy disk
    probe = tmp_path / "probe"
    assert woa("ingest", scan, "--archive", probe).returncode == 0
    pdf = _pages(next((probe / "pdf").rglob("*.pdf")).stat().st_size)
    original = _pages(scan.stat().st_size)
    sidecar = _pages(next((probe / "sidecars").rglob("*.json")).stat().st_size)

    archive = tmpfs / "A"
    proc = woa("ingest", first, "--archive", archive)  # an archive with an index already
    assert proc.returncode == 0, proc.stderr
    # free pages left for each case: the write named fails, the ones before it fit
    cases = {
        "pdf": pdf // 2,
        "original": pdf + max(0, original // 2),
        "sidecar": pdf + original,
        "index": pdf + original + sidecar + 1,
    }
    for where, pages in cases.items():
        filler = fill_to(tmpfs, pages * PAGE)
        proc = woa("ingest", scan, "--archive", archive, "--no-progress")
        no_traceback(proc)
        if where == "index":
            assert proc.returncode == 0 and "archived as" in proc.stdout and "not indexed yet" in proc.stdout, (
                where, proc.stdout, proc.stderr)
            while_full = woa("search", "total:>0", "--archive", archive)
            no_traceback(while_full)
            assert while_full.returncode == 0, while_full.stderr  # the last committed index still answers
        else:
            assert proc.returncode == 1 and "No space left on device" in proc.stderr, (where, proc.stderr)
            assert len([ln for ln in proc.stderr.splitlines() if ln.startswith("woa: ")]) == 1, proc.stderr
            assert sorted(p.stem for p in (archive / "sidecars").rglob("*.json")) == [
                p.stem for p in (archive / "sidecars").rglob("*.json")]
            assert len(list((archive / "pdf").rglob("*.pdf"))) == 1, (where, "a half document stayed")
            assert len(list((archive / "originals").rglob("*.*"))) == 1, (where, "a half document stayed")
        assert leftovers(archive) == [], (where, leftovers(archive))
        filler.unlink()
    # space is back: the scan is found by the next search with no manual step, verify is clean
    found = woa("search", "total:>0", "--archive", archive)
    no_traceback(found)
    assert found.returncode == 0 and "2 documents" in found.stdout, found.stdout + found.stderr
    again = woa("ingest", scan, "--archive", archive)
    assert again.returncode == 0 and "duplicate" in again.stdout
    verify = woa("verify", "--archive", archive)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    shutil.rmtree(probe)
