"""Integration: a generated national standard form (VIN in 17 boxes) ingested through the real
pipeline (RapidOCR) gets its VIN from the second pass; a document whose VIN the first pass reads
is not read again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.ingest import ingest_file
from core.archive import Archive
from tests.helpers import ROOT, SAMPLES, make_settings


def _generate(out: Path, layouts: str, seed: int, count: int) -> list[tuple[Path, dict[str, object]]]:
    subprocess.run([sys.executable, str(ROOT / "samples" / "generate.py"), "--out", str(out), "--count", str(count),
                    "--seed", str(seed), "--layouts", layouts, "--formats", "png"], check=True, capture_output=True)
    docs = []
    for t in sorted(out.glob("*.truth.json")):
        truth = json.loads(t.read_text(encoding="utf-8"))
        docs.append((out / f"{truth['name']}.png", truth))
    return docs


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, dict[str, object]]]:
    return _generate(tmp_path_factory.mktemp("national"), "national_std", 7301, 2)


def test_national_form_vin_from_the_box_strip(national: list[tuple[Path, dict[str, object]]], tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "archive")
    for path, truth in national:
        assert truth["layout"] == "national_std"
        res = ingest_file(path, settings, update_index=False)
        assert res.status == "archived", res.error
        doc = Archive(settings.archive_dir).load(res.archived_id)
        want = truth["fields"]["vin"]  # type: ignore[index]
        assert doc.fields["vin"].value == want, (path.name, doc.fields["vin"])
        assert doc.fields["vin"].confidence >= settings.review_threshold
        reads = doc.pages[0].region_reads.get("vin", [])
        assert reads, "the VIN came from the second pass"
        assert "vin_reread" in doc.timings


def test_without_the_second_pass_the_boxed_vin_is_lost(national: list[tuple[Path, dict[str, object]]],
                                                        tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "archive", vin_reread=False)
    path, truth = national[0]
    res = ingest_file(path, settings, update_index=False)
    doc = Archive(settings.archive_dir).load(res.archived_id)
    assert doc.fields.get("vin") is None or doc.fields["vin"].value != truth["fields"]["vin"]  # type: ignore[index]
    assert not {"vin", "vin_cell"} & set(doc.pages[0].region_reads)


def test_a_vin_read_by_the_first_pass_is_not_read_again(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "archive")
    truth = json.loads((SAMPLES / "wo07_002.truth.json").read_text(encoding="utf-8"))
    res = ingest_file(SAMPLES / "wo07_002.png", settings, update_index=False)
    doc = Archive(settings.archive_dir).load(res.archived_id)
    assert doc.fields["vin"].value == truth["fields"]["vin"]
    assert all(not {"vin", "vin_cell"} & set(p.region_reads) for p in doc.pages)
