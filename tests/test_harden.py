"""Regression tests for the twelve defects of issue 16 and its minor points.

Every test runs the real ``woa`` command in a subprocess on real files (downscaled committed samples
so OCR stays cheap) and checks the one-line reason, the exit status, that no traceback reached the
user and that nothing half-written is left behind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.harden_util import copy_archive, index_state, leftovers, no_traceback, small_scan, woa

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of two real (downscaled) work orders, ingested and indexed by ``woa ingest``."""
    work = tmp_path_factory.mktemp("base")
    a = small_scan(work / "a.png", "wo07_002.png")
    b = small_scan(work / "b.png", "wo07_006.png")
    proc = woa("ingest", a, b, "--archive", work / "A")
    assert proc.returncode == 0, proc.stderr
    no_traceback(proc)
    return work / "A"


@pytest.fixture()
def archive(base: Path, tmp_path: Path) -> Path:
    return copy_archive(base, tmp_path / "A")


def ids_of(archive: Path) -> list[str]:
    return sorted(p.stem for p in (archive / "sidecars").rglob("*.json"))


# -- 2: a number out of range in a query -------------------------------------------------------
BAD_QUERIES = {
    "total:1e309": "out of range",
    "total:>99999999999999999999999999": "out of range",
    "total:9223372036854775807": "out of range",
    "total:1e99999999": "out of range",
    "total:>": "give an amount",
    "total:>abc": "use a number",
    "vin:": "nothing to search for",
    "date:": "nothing to search for",
    "date:>": "give a date",
    "plate:": "nothing to search for",
}


def test_bad_query_is_a_usage_error_and_leaves_the_index_alone(archive: Path) -> None:
    before = index_state(archive)
    for query in ("total:1e309", "total:>99999999999999999999999999", "total:9223372036854775807"):
        proc = woa("search", query, "--archive", archive)
        no_traceback(proc)
        assert proc.returncode == 2, (query, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "out of range" in lines[0], (query, proc.stderr)
        assert index_state(archive) == before, query
    good = woa("search", "total:>0", "--archive", archive)
    assert good.returncode == 0 and "documents" in good.stdout, good.stdout + good.stderr


def test_every_bad_field_query_is_one_line_exit_2(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The whole table through the command's own entry point (one process: start-up is the cost)."""
    from woa.cli import main

    before = index_state(archive)
    for query, reason in BAD_QUERIES.items():
        rc = main(["search", query, "--archive", str(archive)])
        out, err = capsys.readouterr()
        assert rc == 2 and len(err.strip().splitlines()) == 1 and reason in err, (query, rc, out, err)
        assert index_state(archive) == before, query


# -- 3: a parseable sidecar of the wrong shape -------------------------------------------------
def test_wrong_shape_sidecars_are_named_and_skipped(archive: Path) -> None:
    bad, good = ids_of(archive)
    sidecar = next((archive / "sidecars").rglob(f"{bad}.json"))
    sidecar.write_text("[]")
    extra = {"ffff000000000001": '{"fields": "oops"}', "ffff000000000002": "42",
             "ffff000000000003": '{"id": 5, "pages": {}}'}
    (archive / "sidecars" / "ff").mkdir()
    for doc_id, content in extra.items():
        (archive / "sidecars" / "ff" / f"{doc_id}.json").write_text(content)
    rels = [sidecar.relative_to(archive).as_posix()] + [f"sidecars/ff/{i}.json" for i in extra]

    reindex = woa("reindex", "--archive", archive)
    no_traceback(reindex)
    assert reindex.returncode == 1 and "indexed 1 documents" in reindex.stdout
    assert all(rel in reindex.stderr for rel in rels), reindex.stderr
    assert leftovers(archive) == []
    export = woa("export", "--archive", archive)
    no_traceback(export)
    assert export.returncode == 1 and good in export.stdout and bad not in export.stdout
    assert all(rel in export.stderr for rel in rels), export.stderr
    review = woa("review", "list", "--archive", archive)
    no_traceback(review)
    assert review.returncode == 1 and all(rel in review.stderr for rel in rels)
    show = woa("show", bad, "--archive", archive)
    no_traceback(show)
    assert show.returncode == 1 and len(show.stderr.strip().splitlines()) == 1 and rels[0] in show.stderr
    verify = woa("verify", "--archive", archive)
    no_traceback(verify)
    assert verify.returncode == 1 and all(f"sidecar: {rel}: damaged" in verify.stdout for rel in rels), verify.stdout
    # with the index gone too, search rebuilds it from the good sidecars and still serves them
    shutil.rmtree(archive / "index")
    search = woa("search", f"id:{good}", "--archive", archive)
    no_traceback(search)
    assert search.returncode == 0 and good in search.stdout, search.stdout + search.stderr


# -- 1 and 5: page geometry ---------------------------------------------------------------------
def _cap_memory(limit: int = 2 * 1024**3) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _blank(path: Path, size: tuple[int, int], mode: str = "L") -> Path:
    from PIL import Image

    Image.new(mode, size, 255).save(path)
    return path


def test_sliver_and_tiny_pages_are_refused_before_any_allocation(tmp_path: Path) -> None:
    files = {
        _blank(tmp_path / "s.png", (3, 4000)): "too small",
        _blank(tmp_path / "t.png", (4000, 3)): "too small",
        _blank(tmp_path / "u.png", (40, 4000)): "100 times longer than wide",
        _blank(tmp_path / "one.png", (1, 1)): "too small",
        _blank(tmp_path / "two.png", (2, 2), "RGB"): "too small",
    }
    assert (tmp_path / "s.png").stat().st_size < 200
    proc = woa("ingest", *files, "--archive", tmp_path / "A", "--no-progress", preexec_fn=_cap_memory)
    no_traceback(proc)
    assert proc.returncode == 1 and "0 archived, 0 duplicate, 5 failed" in proc.stderr
    for path, reason in files.items():
        line = next(ln for ln in proc.stderr.splitlines() if ln.startswith(f"woa: {path}:"))
        assert reason in line, line
    assert leftovers(tmp_path / "A") == []


def test_detection_input_is_bounded_even_without_the_geometry_guard(tmp_path: Path) -> None:
    """With the load guard switched off the OCR stage alone keeps a sliver page under 2 GB."""
    files = [_blank(tmp_path / "s.png", (3, 4000)), _blank(tmp_path / "u.png", (40, 4000)),
             _blank(tmp_path / "one.png", (1, 1))]
    env = {"WOA_MIN_PAGE_SIDE_PX": "1", "WOA_MAX_PAGE_ASPECT": "100000"}
    proc = woa("ingest", *files, "--archive", tmp_path / "A", "--no-progress", env=env, preexec_fn=_cap_memory)
    no_traceback(proc)
    assert "out of memory" not in proc.stderr and "unexpected" not in proc.stderr, proc.stderr
    # the 3 px sliver is 0.2 mm wide at its A4-inferred resolution: PDF/A cannot hold it, said so
    assert "PDF/A allows" in next(ln for ln in proc.stderr.splitlines() if "s.png" in ln)
    assert f"{files[1]}: archived" in proc.stdout and f"{files[2]}: archived" in proc.stdout
    assert leftovers(tmp_path / "A") == []


def test_dead_writers_temp_file_is_removed_by_the_next_ingest_and_by_reindex(archive: Path, tmp_path: Path) -> None:
    """What the OOM killer left (``pdf/XX/.woa-tmp-<pid>@<host>-…``) goes at the next ingest or reindex."""
    import socket
    import subprocess

    host = socket.gethostname().replace("-", "_")
    probe = subprocess.Popen(["true"])  # a process that has finished: its pid names a dead writer
    probe.wait()
    pid = probe.pid
    doc = small_scan(tmp_path / "c.png", "wo07_010.png")
    from core.archive import doc_id_for, sha256_file

    shard = doc_id_for(sha256_file(doc))[:2]
    left = archive / "pdf" / shard / f".woa-tmp-{pid}@{host}-abc"
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_bytes(b"%PDF-1.7 half")
    other = archive / "pdf" / "00" / f".woa-tmp-{pid}@{host}-def"
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_bytes(b"half")
    proc = woa("ingest", doc, "--archive", archive)
    no_traceback(proc)
    assert proc.returncode == 0 and not left.exists() and other.exists()
    proc = woa("reindex", "--archive", archive)
    assert proc.returncode == 0 and not other.exists()
    assert leftovers(archive) == []


# -- 4: 16-bit, palette and transparent images ---------------------------------------------------
def test_every_image_mode_is_archived_with_its_text(tmp_path: Path) -> None:
    """16-bit grey PNG and TIFF (I;16), 16-bit RGB, palette (grey and colour) and LA read like the 8-bit scan."""
    import cv2
    import numpy as np
    from PIL import Image

    ref = small_scan(tmp_path / "ref.png")
    grey = np.asarray(Image.open(ref).convert("L"))
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "grey16.png")
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "grey16.tif")
    cv2.imwrite(str(tmp_path / "rgb16.tif"), np.stack([grey] * 3, -1).astype(np.uint16) * 257)
    Image.open(ref).convert("P").save(tmp_path / "palette-grey.png")
    Image.open(ref).convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(tmp_path / "palette.png")
    alpha = np.full(grey.shape, 255, np.uint8)
    strip = grey.shape[1] // 40  # a transparent strip of the margin over black: must become paper
    alpha[:, :strip] = 0
    under = grey.copy()
    under[:, :strip] = 0
    Image.merge("LA", (Image.fromarray(under), Image.fromarray(alpha))).save(tmp_path / "la.png")
    assert Image.open(tmp_path / "grey16.png").mode == "I;16" and Image.open(tmp_path / "grey16.tif").mode == "I;16"
    assert Image.open(tmp_path / "la.png").mode == "LA" and Image.open(tmp_path / "palette.png").mode == "P"
    files = sorted(tmp_path.glob("*.*"))
    proc = woa("ingest", *files, "--archive", tmp_path / "A", "--no-progress")
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    import json

    export = woa("export", "--archive", tmp_path / "A")
    docs = {d["source_name"]: d for d in map(json.loads, export.stdout.splitlines())}
    assert len(docs) == len(files)
    expected = docs["ref.png"]["text"]
    assert len(expected) > 100
    import difflib

    for name, d in docs.items():
        assert d["confidence"] > 0.5, (name, d["confidence"])
        assert difflib.SequenceMatcher(None, d["text"], expected).ratio() > 0.9, (name, d["text"][:200])
    import pikepdf

    with pikepdf.open(docs["la.png"]["archive_pdf"]) as pdf:
        image = next(iter(pdf.pages[0].images.values()))
        page = np.asarray(pikepdf.PdfImage(image).as_pil_image().convert("L"))
    assert page[:, : strip - 2].mean() > 250, "the transparent strip was archived dark"
