"""The real pipeline on every committed sample: PDF/A validity, text layer, orientation, skew, CER."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pikepdf import pdfa

from app.ingest import ingest_file
from benchmarks.metrics import cer, normalize_for_cer
from core.archive import Archive
from core.models import Document
from tests.helpers import IngestedArchive, Sample, make_settings
from tests.pdfbox import preflight_1b

MAX_RESIDUAL_SKEW = 0.3
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def _doc(ing: IngestedArchive, sample: Sample) -> Document:
    res = ing.results[sample.path.name]
    assert res.status == "archived", f"{sample.path.name}: {res.error}"
    return ing.archive.load(res.archived_id)


def test_every_sample_is_archived_as_valid_pdfa_2b(ingested_archive: IngestedArchive) -> None:
    for sample in ingested_archive.samples:
        doc = _doc(ingested_archive, sample)
        pdf = ingested_archive.archive.abs(doc.archive_pdf)
        report = pdfa.validate_written(pdf, "2b")
        assert report.passed, f"{sample.path.name}: {report}"
        assert len(doc.pages) == len(sample.truth["pages"])


def test_pdftotext_of_archive_copy_matches_sidecar_text(ingested_archive: IngestedArchive) -> None:
    for sample in ingested_archive.samples:
        doc = _doc(ingested_archive, sample)
        pdf = ingested_archive.archive.abs(doc.archive_pdf)
        # -raw: text in the order it was written; plain pdftotext re-flows two-column forms.
        out = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout
        text = out.decode("utf-8")
        assert normalize_for_cer(text) == normalize_for_cer(doc.text), sample.path.name
        # no spaces are inserted between Chinese characters: every run of Chinese read by OCR
        # comes back from the PDF in one piece
        runs = {run for line in doc.text.splitlines() for run in CJK_RUN.findall(line)}
        missing = [run for run in runs if run not in text]
        assert not missing, f"{sample.path.name}: {missing[:5]}"


def test_orientation_and_skew_against_ground_truth(ingested_archive: IngestedArchive) -> None:
    rotated = 0
    for sample in ingested_archive.samples:
        doc = _doc(ingested_archive, sample)
        for page, truth in zip(doc.pages, sample.truth["pages"], strict=True):
            rotated += truth["rotation_cw"] != 0
            assert (truth["rotation_cw"] + page.rotation) % 360 == 0, f"{sample.path.name} p{page.page_no}"
            residual = abs(truth["skew_ccw"] + page.skew)
            assert residual <= MAX_RESIDUAL_SKEW, f"{sample.path.name} p{page.page_no}: residual {residual:.2f}"
    assert rotated >= 3  # the samples do exercise 90/180/270


def test_ocr_character_error_rate_on_samples(
    ingested_archive: IngestedArchive, record_property: Callable[[str, object], None]
) -> None:
    rates = []
    for sample in ingested_archive.samples:
        doc = _doc(ingested_archive, sample)
        for page, truth in zip(doc.pages, sample.truth["pages"], strict=True):
            rates.append(cer(page.text, truth["text"]))
    mean = sum(rates) / len(rates)
    record_property("sample_cer_mean", round(mean, 4))
    print(f"\nOCR CER on {len(rates)} sample pages ({ingested_archive.settings.ocr_engine}): "
          f"mean {mean:.4f}, max {max(rates):.4f}")
    assert mean < 0.05
    assert max(rates) < 0.2


@pytest.mark.slow  # ingest + a JVM; the fast loop keeps test_pdfa's PDFBox preflight of a 1b page
def test_pdfa_1b_passes_pdfbox_preflight(tmp_path: Path, samples: list[Sample]) -> None:
    sample = next(s for s in samples if s.path.suffix == ".pdf")
    settings = make_settings(tmp_path / "arch", pdfa_level="1b")
    res = ingest_file(sample.path, settings)
    assert res.status == "archived", res.error
    doc = Archive(settings.archive_dir).load(res.archived_id)
    ok, output = preflight_1b(Archive(settings.archive_dir).abs(doc.archive_pdf))
    assert ok, output
    assert pdfa.validate_written(Archive(settings.archive_dir).abs(doc.archive_pdf), "1b").passed


@pytest.mark.parametrize("engine", ["rapidocr", "tesseract"])
def test_each_engine_reads_a_sample(tmp_path: Path, samples: list[Sample], engine: str) -> None:
    sample = next(s for s in samples if len(s.truth["pages"]) == 1 and s.truth["pages"][0]["rotation_cw"] == 0)
    settings = make_settings(tmp_path / "arch", ocr_engine=engine)
    res = ingest_file(sample.path, settings)
    assert res.status == "archived", res.error
    doc = Archive(settings.archive_dir).load(res.archived_id)
    assert doc.ocr_engine == engine
    rate = cer(doc.pages[0].text, sample.truth["pages"][0]["text"])
    print(f"\n{engine}: CER {rate:.4f} on {sample.path.name}")
    assert rate < (0.05 if engine == "rapidocr" else 0.25)
