"""``woa verify`` on a real archive (two scans ingested with real OCR), intact and damaged in each way."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

import index
from app.ingest import ingest_file
from app.verify import verify_archive
from benchmarks.soak import render_scan
from core.archive import Archive, sha256_file
from core.atomic import TMP_PREFIX
from core.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("verify")
    root = base / "archive"
    settings = load_settings(archive_dir=root, ocr_engine="rapidocr")
    for n in (1, 2):
        src = base / f"scan{n}.png"
        src.write_bytes(render_scan(900 + n))
        res = ingest_file(src, settings, tags={"dealer": "广州店"})
        assert res.status == "archived", res.error
    return root


@pytest.fixture
def archive(pristine: Path, tmp_path: Path) -> Archive:
    root = tmp_path / "archive"
    shutil.copytree(pristine, root)
    return Archive(root)


def kinds(arch: Archive) -> list[tuple[str, str]]:
    return sorted((p.kind, p.path) for p in verify_archive(arch.root).problems)


def first(arch: Archive) -> str:
    return sorted(arch.ids())[0]


def test_intact_archive_has_no_problems(archive: Archive) -> None:
    report = verify_archive(archive.root, workers=2)
    assert report.documents == 2
    assert report.problems == []
    r = subprocess.run(
        [sys.executable, "-m", "woa.cli", "verify", "--archive", str(archive.root)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 documents checked" in r.stderr and "no problems" in r.stderr


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def test_changed_original_is_reported(archive: Archive) -> None:
    doc = archive.load(first(archive))
    _flip_last_byte(archive.abs(doc.original))
    assert kinds(archive) == [("original", doc.original)]


def test_changed_archive_copy_is_reported(archive: Archive) -> None:
    doc = archive.load(first(archive))
    with open(archive.abs(doc.archive_pdf), "ab") as fh:
        fh.write(b"\n% appended\n")
    assert ("archive_pdf", doc.archive_pdf) in kinds(archive)


def test_pdf_that_is_not_pdfa_is_reported(archive: Archive) -> None:
    doc_id = first(archive)
    doc = archive.load(doc_id)
    plain = pikepdf.new()
    plain.add_blank_page()
    pdf_path = archive.abs(doc.archive_pdf)
    plain.save(pdf_path)
    raw = archive.load_raw(doc_id)
    raw["archive_sha256"] = sha256_file(pdf_path)  # hashes agree: only PDF/A conformance is wrong
    archive.sidecar_path(doc_id).write_text(json.dumps(raw), encoding="utf-8")
    problems = verify_archive(archive.root).problems
    assert [(p.kind, p.path) for p in problems] == [("pdfa", doc.archive_pdf)]
    assert "PDF/A-2b" in problems[0].detail


def test_unparsable_sidecar_is_reported_and_its_files_become_orphans(archive: Archive) -> None:
    doc_id = first(archive)
    doc = archive.load(doc_id)
    sidecar = archive.sidecar_path(doc_id)
    sidecar.write_text('{"id": "truncated', encoding="utf-8")
    found = kinds(archive)
    assert ("sidecar", archive.rel(sidecar)) in found
    assert ("orphan", doc.original) in found and ("orphan", doc.archive_pdf) in found


def test_orphans_and_temp_files_are_reported(archive: Archive) -> None:
    stray = archive.root / "pdf" / "ff" / "ffffffffffffffff.pdf"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"%PDF-1.7 stray")
    temp = archive.root / "sidecars" / first(archive)[:2] / f"{TMP_PREFIX}abc123"
    temp.write_bytes(b"{")
    assert kinds(archive) == [("orphan", "pdf/ff/ffffffffffffffff.pdf"), ("temp", archive.rel(temp))]


def test_index_must_hold_exactly_the_archived_documents(archive: Archive) -> None:
    a, b = sorted(archive.ids())
    index.remove_from_index(archive, [a])
    assert kinds(archive) == [("index", a)]
    index.update_index(archive, [archive.load(a)])
    assert kinds(archive) == []
    doc_b = archive.load(b)
    for rel in (doc_b.original, doc_b.archive_pdf, archive.rel(archive.sidecar_path(b))):
        archive.abs(rel).unlink()  # the document is gone, its index entry stays
    problems = verify_archive(archive.root).problems
    assert [(p.kind, p.path) for p in problems] == [("index", b)]
    assert "not archived" in problems[0].detail


def test_cli_prints_each_problem_and_fails(archive: Archive) -> None:
    doc = archive.load(first(archive))
    _flip_last_byte(archive.abs(doc.original))
    (archive.root / "originals" / "zz").mkdir()
    (archive.root / "originals" / "zz" / "zzzz.png").write_bytes(b"x")
    r = subprocess.run(
        [sys.executable, "-m", "woa.cli", "verify", "--archive", str(archive.root)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 1
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"original: {doc.original}: sha256 ")
    assert lines[1] == "orphan: originals/zz/zzzz.png: no sidecar refers to this file"
    assert "2 problem(s)" in r.stderr
