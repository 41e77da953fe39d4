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
