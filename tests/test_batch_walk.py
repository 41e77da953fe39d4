"""Which files a batch picks up from folders of legacy scans."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch.walk import count_scans, is_scan, iter_scans


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("scan.pdf", True),
        ("SCAN.PDF", True),
        ("a.tif", True),
        ("a.TIFF", True),
        ("a.jpg", True),
        ("a.jpeg", True),
        ("a.png", True),
        ("a.txt", False),
        ("a.pdf.part", False),
        ("a.docx", False),
        ("Thumbs.db", False),
        (".hidden.pdf", False),
        ("._scan.pdf", False),  # macOS resource fork on a share
        ("~$report.pdf", False),  # Office lock file
        ("noext", False),
    ],
)
def test_is_scan(name: str, expected: bool) -> None:
    assert is_scan(Path("/x") / name) is expected


def _touch(root: Path, rel: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"x")


def test_walk_skips_hidden_and_system_folders_and_sorts(tmp_path: Path) -> None:
    for rel in [
        "2019/b.pdf",
        "2019/a.jpg",
        "2018/x.TIF",
        "2018/notes.txt",
        ".git/objects/a.png",
        "@eaDir/b.pdf/SYNOFILE_THUMB_M.jpg",
        "$RECYCLE.BIN/old.pdf",
        "System Volume Information/c.png",
        "__MACOSX/2019/._b.pdf",
        "2019/.~lock.pdf",
    ]:
        _touch(tmp_path, rel)
    got = [p.relative_to(tmp_path).as_posix() for p in iter_scans([tmp_path])]
    assert got == ["2018/x.TIF", "2019/a.jpg", "2019/b.pdf"]


def test_files_given_directly_and_archive_inside_source_excluded(tmp_path: Path) -> None:
    _touch(tmp_path, "in/a.pdf")
    _touch(tmp_path, "in/archive/originals/ab/abcd.pdf")
    _touch(tmp_path, "single.png")
    _touch(tmp_path, "readme.txt")
    sources = [tmp_path / "in", tmp_path / "single.png", tmp_path / "readme.txt", tmp_path / "missing.pdf"]
    got = [p.relative_to(tmp_path).as_posix() for p in iter_scans(sources, exclude=[tmp_path / "in" / "archive"])]
    assert got == ["in/a.pdf", "single.png"]
    assert count_scans(sources) == 3  # without the exclusion the archived original is found too
