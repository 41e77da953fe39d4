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


# -- 7 and the minor input points: damaged TIFF pages, odd names, symlink loops, corrupt EXIF -----
def test_damaged_tiff_pages_odd_names_and_loops_each_get_one_line(tmp_path: Path) -> None:
    import io

    from PIL import Image

    a = Image.open(small_scan(tmp_path / "p1.png")).convert("L")
    b = Image.open(small_scan(tmp_path / "p2.png", "wo07_006.png")).convert("L")
    buf = io.BytesIO()
    a.save(buf, "TIFF", save_all=True, append_images=[b], compression="raw")
    data = buf.getvalue()
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "cut80.tif").write_bytes(data[: int(len(data) * 0.8)])
    (inputs / "cut30.tif").write_bytes(data[: int(len(data) * 0.3)])
    newline = inputs / "new\nline.png"
    small_scan(newline, "wo07_010.png")
    (inputs / "loop1").symlink_to(inputs / "loop2")
    (inputs / "loop2").symlink_to(inputs / "loop1")
    exif = Image.Exif()
    exif[0x010F] = "scanner"
    jpg = io.BytesIO()
    a.convert("RGB").save(jpg, "JPEG", exif=exif.tobytes())
    raw = bytearray(jpg.getvalue())
    at = raw.find(b"Exif")
    raw[at + 10 : at + 30] = b"\xff" * 20
    (inputs / "badexif.jpg").write_bytes(bytes(raw))
    files = [inputs / "cut80.tif", inputs / "cut30.tif", newline, inputs / "loop1", inputs / "badexif.jpg"]
    proc = woa("ingest", *files, "--archive", tmp_path / "A", "--no-progress")
    no_traceback(proc)
    err = proc.stderr.splitlines()
    assert any(ln.startswith(f"woa: {inputs}/cut80.tif: page 2 of 2 is damaged or truncated") for ln in err), err
    assert any(ln.startswith(f"woa: {inputs}/cut30.tif: page 2 is damaged or truncated") for ln in err), err
    assert f"woa: {inputs}/loop1: symbolic link loop" in err
    assert "3 failed" in err[-1] and "2 archived" in err[-1], err[-1]
    assert "EXIF" not in proc.stderr and "Warning" not in proc.stderr
    out = proc.stdout.splitlines()
    assert len(out) == 2 and any(ln.startswith(f"{inputs}/new\\nline.png: archived as") for ln in out), out
    assert leftovers(tmp_path / "A") == []


# -- 8 and 12: --archive that is a file, or a mistyped folder ----------------------------------
def test_archive_that_is_a_file_or_missing_is_refused_by_every_command(tmp_path: Path) -> None:
    scan = _blank(tmp_path / "x.png", (600, 800))
    afile = tmp_path / "afile"
    afile.write_text("not an archive")
    proc = woa("ingest", scan, scan, "--archive", afile)
    no_traceback(proc)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"woa ingest: cannot use {afile} as the archive: it is a file, not a folder"]
    typo = tmp_path / "typo"
    for target, reason in ((afile, "it is a file"), (typo, "no such folder")):
        for args in (["search", "oil"], ["stats"], ["reindex"], ["history", "BD12345"]):
            proc = woa(*args, "--archive", target)
            no_traceback(proc)
            assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)
            assert f"no archive at {target} ({reason}" in proc.stderr, (args, proc.stderr)
    assert not typo.exists()


# -- 9: a read-only archive ----------------------------------------------------------------------
def test_read_only_archive_reindex_is_one_line_and_search_still_works(archive: Path, tmp_path: Path) -> None:
    import os
    import subprocess

    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(archive), str(ro)], check=True)
        subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], check=True)
    else:
        ro.rmdir()
        ro.symlink_to(archive)
        subprocess.run(["chmod", "-R", "a-w", str(archive)], check=True)
    try:
        proc = woa("reindex", "--archive", ro)
        no_traceback(proc)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 1 and len(lines) == 1 and ("Read-only" in lines[0] or "Permission" in lines[0]), lines
        proc = woa("search", "total:>0", "--archive", ro)
        no_traceback(proc)
        assert proc.returncode == 0 and "2 documents" in proc.stdout, proc.stdout + proc.stderr
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(ro)], check=True)
        else:
            subprocess.run(["chmod", "-R", "u+w", str(archive)], check=True)


# -- 11: repairing damaged documents -------------------------------------------------------------
def test_damaged_documents_are_repaired_by_reingest_and_verify_repair(archive: Path) -> None:
    a_id, b_id = sorted(ids_of(archive))
    sources = {}
    for src in archive.parent.parent.glob("base*/*.png"):
        from core.archive import sha256_file

        sources[sha256_file(src)[:16]] = src
    assert set(sources) >= {a_id, b_id}
    # a flipped byte in an original, then the intact source ingested again: repaired, not "duplicate"
    original = next((archive / "originals").rglob(f"{a_id}.*"))
    data = bytearray(original.read_bytes())
    data[200] ^= 0xFF
    original.write_bytes(bytes(data))
    proc = woa("ingest", sources[a_id], "--archive", archive)
    no_traceback(proc)
    assert proc.returncode == 0 and f"archived as {a_id}" in proc.stdout and "repaired" in proc.stdout, proc.stdout
    # a deleted PDF: repaired from the archive's own original; a truncated sidecar whose original is
    # damaged too: only from the good copy given on the command line
    next((archive / "pdf").rglob(f"{b_id}.pdf")).unlink()
    sidecar = next((archive / "sidecars").rglob(f"{a_id}.json"))
    sidecar.write_bytes(sidecar.read_bytes()[:100])
    original.write_bytes(bytes(data))
    show = woa("show", a_id, "--archive", archive)
    no_traceback(show)
    assert show.returncode == 1 and len(show.stderr.strip().splitlines()) == 1
    plain = woa("verify", "--repair", "--archive", archive)
    no_traceback(plain)
    assert plain.returncode == 1 and f"repaired: {b_id}" in plain.stdout and f"not repaired: {a_id}" in plain.stdout
    fixed = woa("verify", "--repair", sources[a_id].parent, "--archive", archive)
    no_traceback(fixed)
    assert fixed.returncode == 0 and f"repaired: {a_id}" in fixed.stdout, fixed.stdout + fixed.stderr
    clean = woa("verify", "--archive", archive)
    assert clean.returncode == 0, clean.stdout
    search = woa("search", "total:>0", "--archive", archive)
    assert "2 documents" in search.stdout


def test_verify_reports_a_damaged_index_and_stale_build_without_hiding_them(archive: Path) -> None:
    gen = (archive / "index" / (archive / "index" / "CURRENT").read_text().strip())
    for seg in gen.glob("*.seg"):
        seg.write_bytes(b"garbage")
    for toc in gen.glob("_*.toc"):
        toc.write_bytes(b"garbage")
    (archive / "index" / "g999999.building").mkdir()
    before = index_state(archive)
    proc = woa("verify", "--archive", archive)
    no_traceback(proc)
    assert proc.returncode == 1 and "index: index: cannot be read" in proc.stdout, proc.stdout
    assert "index/g999999.building: half-built" in proc.stdout
    assert index_state(archive) == before  # verify alone changes nothing
    proc = woa("verify", "--repair", "--archive", archive)
    no_traceback(proc)
    assert proc.returncode == 0 and "repaired: index rebuilt: 2 documents" in proc.stdout, proc.stdout
    assert "removed index/g999999.building" in proc.stdout and leftovers(archive) == []


# -- 6: a page larger than PDF/A allows ---------------------------------------------------------
def test_page_larger_than_pdfa_allows_says_why(tmp_path: Path) -> None:
    import pikepdf
    from PIL import Image

    src = tmp_path / "page.pdf"
    Image.open(small_scan(tmp_path / "p.png")).convert("RGB").save(src, "PDF", resolution=50)
    files = {}
    for name, side in (("box7m.pdf", 20000), ("box5m.pdf", 14300)):  # 7 m, and 5 m: inside the box limit
        with pikepdf.open(src) as pdf:
            pdf.pages[0].mediabox = pikepdf.Array([0, 0, side, side * 1.41])
            pdf.save(tmp_path / name)
        files[name] = tmp_path / name
    proc = woa("ingest", *files.values(), "--archive", tmp_path / "A", "--no-progress")
    no_traceback(proc)
    assert proc.returncode == 1 and "0 archived" in proc.stderr, proc.stderr
    lines = {n: next(ln for ln in proc.stderr.splitlines() if ln.startswith(f"woa: {p}:")) for n, p in files.items()}
    assert "MediaBox is 20000 x 28200 points" in lines["box7m.pdf"], lines
    assert "PDF/A allows" in lines["box5m.pdf"] or "MediaBox" in lines["box5m.pdf"], lines
    assert "unexpected" not in proc.stderr and leftovers(tmp_path / "A") == []


# -- minor point: a link in the watched inbox to a file that is archived first ------------------
def test_watched_link_to_a_file_archived_first_leaves_the_inbox_as_a_duplicate(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    small_scan(inbox / "a.png")
    (inbox / "link.png").symlink_to(inbox / "a.png")
    archive = tmp_path / "A"
    proc = woa("watch", inbox, "--archive", archive, "--oneshot", "--workers", "1", "--stable", "0")
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in inbox.iterdir()) == []  # no dangling link left behind
    processed = tmp_path / "processed"
    assert (processed / "a.png").is_file()
    assert (processed / "link.png").is_symlink()
    assert "link target already archived" in proc.stderr
    assert not (tmp_path / "failed").exists() or list((tmp_path / "failed").iterdir()) == []
    status = woa("status", "--archive", archive)
    no_traceback(status)
    assert "last error   -" in status.stdout, status.stdout
    assert leftovers(archive) == []
