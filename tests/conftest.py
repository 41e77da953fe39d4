"""Shared fixtures: paths, the real eval data, and the committed samples ingested once per session."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.archive import Archive
from core.scanfiles import SCAN_SUFFIXES
from core.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
EVAL = Path(os.environ.get("WOA_EVAL_DATA", ROOT.parent / "shared" / "eval-data"))


@dataclass
class Sample:
    path: Path
    truth: dict[str, Any]


def load_samples() -> list[Sample]:
    out = []
    for p in sorted(SAMPLES.iterdir()):
        if p.suffix.lower() in SCAN_SUFFIXES:
            t = p.with_name(p.stem + ".truth.json")
            if t.exists():
                out.append(Sample(p, json.loads(t.read_text(encoding="utf-8"))))
    return out


@pytest.fixture(scope="session")
def samples() -> list[Sample]:
    found = load_samples()
    assert found, f"no samples with ground truth in {SAMPLES}"
    return found


@pytest.fixture(scope="session")
def eval_data() -> Path:
    assert EVAL.is_dir(), f"eval data not found at {EVAL} (set WOA_EVAL_DATA)"
    return EVAL


def make_settings(archive_dir: Path, **kw: Any) -> Settings:
    return load_settings(archive_dir=archive_dir, **kw)


@dataclass
class IngestedArchive:
    archive: Archive
    settings: Settings
    results: dict[str, Any]  # sample file name -> IngestResult
    samples: list[Sample]


@pytest.fixture(scope="session")
def ingested_archive(tmp_path_factory: pytest.TempPathFactory, samples: list[Sample]) -> IngestedArchive:
    """Every committed sample ingested once, with the default settings, into a fresh archive."""
    from app.ingest import ingest_file

    root = tmp_path_factory.mktemp("archive")
    settings = make_settings(root)
    archive = Archive(root)
    results = {s.path.name: ingest_file(s.path, settings, archive=archive) for s in samples}
    return IngestedArchive(archive, settings, results, samples)
