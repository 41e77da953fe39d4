"""Ingest end to end on small real pages: bad input, duplicates, atomicity, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from app.ingest import ingest_file
from core.archive import Archive, sha256_file
from tests.helpers import BAD_CASES, EXPECTED_REASON, make_bad, make_settings

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def small_page(path: Path, text: str = "维修委托书 工单号 WO20240315001", seed: int = 0) -> Path:
    """A small A6-sized page at 150 dpi with one line of text: quick to OCR."""
    im = Image.new("L", (620, 874), 255)
    d = ImageDraw.Draw(im)
    d.text((40, 80), text, font=ImageFont.truetype(FONT, 30), fill=0)
    d.text((40, 160), f"客户 张伟 {seed}", font=ImageFont.truetype(FONT, 30), fill=0)
    im.save(path, dpi=(150, 150))
    return path


def archive_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "locks" not in p.parts)


@pytest.mark.slow  # a woa ingest process with OCR; the fast loop keeps test_load's one reason per bad input
def test_cli_bad_files_are_reported_and_the_rest_archived(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    bad = {make_bad(kind, inbox).name: kind for kind in BAD_CASES}
    good = small_page(inbox / "good.png")
    arch = tmp_path / "arch"
    proc = subprocess.run(
        [sys.executable, "-m", "woa.cli", "ingest", str(inbox), "--archive", str(arch), "--no-progress"],
        capture_output=True,
        text=True,
        env={"WOA_MAX_PAGES": "100", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert proc.returncode != 0
    err_lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("woa: ")]
    assert len(err_lines) == len(bad), proc.stderr
    for name, kind in bad.items():
        [line] = [ln for ln in err_lines if name in ln]
        assert EXPECTED_REASON[kind] in line
    # only the good document is in the archive, complete, nothing partial or temporary
    doc_id = sha256_file(good)[:16]
    assert [f for f in archive_files(arch) if not f.startswith("index/")] == [
        f"originals/{doc_id[:2]}/{doc_id}.png",
        f"pdf/{doc_id[:2]}/{doc_id}.pdf",
        f"sidecars/{doc_id[:2]}/{doc_id}.json",
    ]
    assert f"archived as {doc_id}" in proc.stdout


def test_same_bytes_twice_is_a_duplicate(tmp_path: Path) -> None:
    a = small_page(tmp_path / "scan_a.png")
    b = tmp_path / "scan_b_copy.png"
    b.write_bytes(a.read_bytes())
    settings = make_settings(tmp_path / "arch")
    r1 = ingest_file(a, settings)
    r2 = ingest_file(b, settings)
    assert (r1.status, r2.status) == ("archived", "duplicate")
    assert r1.doc_id == r2.doc_id
    archive = Archive(settings.archive_dir)
    assert list(archive.ids()) == [r1.doc_id]
    doc = archive.load(r1.archived_id)
    assert [d["source_name"] for d in doc.duplicates] == ["scan_b_copy.png"]
    # the original is kept byte for byte, with its hash
    assert archive.abs(doc.original).read_bytes() == a.read_bytes()
    assert sha256_file(archive.abs(doc.archive_pdf)) == doc.archive_sha256
    assert not list(settings.archive_dir.rglob(".woa-tmp-*"))


def test_sidecar_has_the_documented_keys(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "arch")
    res = ingest_file(small_page(tmp_path / "p.png"), settings)
    assert res.status == "archived", res.error
    side = json.loads(Archive(settings.archive_dir).sidecar_path(res.archived_id).read_text(encoding="utf-8"))
    for key in ("id", "source_name", "sha256", "archive_sha256", "pages", "ocr", "timings", "text", "fields"):
        assert key in side
    page = side["pages"][0]
    assert page["dpi"] == 150 and page["rotation"] == 0
    assert "工单号" in side["text"] and "WO20240315001" in side["text"]
    assert side["ocr"]["engine"] == settings.ocr_engine and side["ocr"]["version"]
    assert any(line["words"] and line["box"] for line in page["lines"])


@pytest.mark.slow  # three woa processes; the fast loop runs show and export in process (test_lifecycle)
def test_export_and_show(tmp_path: Path) -> None:
    arch = tmp_path / "arch"
    settings = make_settings(arch)
    res = ingest_file(small_page(tmp_path / "p.png"), settings)
    out = subprocess.run(
        [sys.executable, "-m", "woa.cli", "export", "--archive", str(arch), "--format", "jsonl"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    [rec] = [json.loads(line) for line in out.stdout.splitlines()]
    for key in ("id", "source_name", "sha256", "pages", "archive_pdf", "fields", "confidence", "text"):
        assert key in rec
    assert rec["id"] == res.doc_id and Path(rec["archive_pdf"]).is_file()
    show = subprocess.run(
        [sys.executable, "-m", "woa.cli", "show", res.archived_id[:6], "--archive", str(arch)],
        capture_output=True, text=True, check=True, timeout=60,
    )
    assert res.archived_id in show.stdout and "p.png" in show.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "woa.cli", "show", "ffffff", "--archive", str(arch)],
        capture_output=True, text=True, timeout=60,
    )
    assert missing.returncode == 1 and "no document" in missing.stderr
