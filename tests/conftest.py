"""Shared fixtures: paths, the real eval data, and the committed samples ingested once per session."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.archive import Archive
from core.settings import Settings
from pipeline.ocr import OcrEngine, get_engine
from tests.helpers import EVAL, SAMPLES, IngestedArchive, Sample, load_samples, make_settings, run_dir


@pytest.fixture(scope="session")
def samples() -> list[Sample]:
    found = load_samples()
    assert found, f"no samples with ground truth in {SAMPLES}"
    return found


@pytest.fixture(scope="session")
def eval_data() -> Path:
    assert EVAL.is_dir(), f"eval data not found at {EVAL} (set WOA_EVAL_DATA)"
    return EVAL


@pytest.fixture(scope="session")
def ingested_archive(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample]) -> IngestedArchive:
    """Every committed sample ingested once, with the default settings, into a fresh archive.

    Under pytest-xdist (``make test-fast``) the workers share one archive in the run's folder and
    split the OCR between them: a worker ingests each sample no other worker has taken (a lock per
    sample), then waits for the others' (and ingests any whose worker died)."""
    from app.ingest import IngestResult, ingest_file
    from core.atomic import write_json_atomic
    from core.locks import file_lock

    shared = run_dir(tmp_path_factory) / "ingested-samples"
    root = shared / "archive"
    settings = make_settings(root)
    archive = Archive(root)

    def result_path(s: Sample) -> Path:
        return shared / "results" / f"{s.path.name}.json"

    def ingest(s: Sample) -> None:
        if not result_path(s).exists():
            write_json_atomic(result_path(s), ingest_file(s.path, settings, archive=archive).to_dict())

    for s in samples:  # the samples no other worker has taken
        with file_lock(shared / "claims" / f"{s.path.name}.lock", blocking=False) as mine:
            if mine:
                ingest(s)
    for s in samples:  # the others', once their worker is done with them
        with file_lock(shared / "claims" / f"{s.path.name}.lock"):
            ingest(s)
    results = {s.path.name: IngestResult.from_dict(json.loads(result_path(s).read_text())) for s in samples}
    return IngestedArchive(archive, settings, results, samples)


@pytest.fixture
def archive_copy(tmp_path: Path, ingested_archive: IngestedArchive) -> Path:
    """A private copy of the archive of the committed samples (the session's one stays untouched)."""
    dest = tmp_path / "archive"
    shutil.copytree(ingested_archive.archive.root, dest, ignore=shutil.ignore_patterns("locks"))
    return dest


@pytest.fixture(scope="session")
def rapid() -> OcrEngine:
    """The default RapidOCR engine (models load once per test process)."""
    return get_engine(Settings(), "rapidocr")
