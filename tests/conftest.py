"""Shared fixtures: paths, the real eval data, and the committed samples ingested once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.archive import Archive
from tests.helpers import EVAL, SAMPLES, IngestedArchive, Sample, load_samples, make_settings


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
    """Every committed sample ingested once, with the default settings, into a fresh archive."""
    from app.ingest import ingest_file

    root = tmp_path_factory.mktemp("archive")
    settings = make_settings(root)
    archive = Archive(root)
    results = {s.path.name: ingest_file(s.path, settings, archive=archive) for s in samples}
    return IngestedArchive(archive, settings, results, samples)


@pytest.fixture
def archive_copy(tmp_path: Path, ingested_archive: IngestedArchive) -> Path:
    """A private copy of the archive of the committed samples (the session's one stays untouched)."""
    dest = tmp_path / "archive"
    shutil.copytree(ingested_archive.archive.root, dest, ignore=shutil.ignore_patterns("locks"))
    return dest
