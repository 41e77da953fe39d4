"""Evaluation metrics of the benchmarks and the accuracy tests (not used by the product)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from extractors.text import edit_distance


def normalize_for_cer(text: str) -> str:
    """NFKC, no whitespace: how OCR text is compared with ground truth (Chinese has no spaces)."""
    t = unicodedata.normalize("NFKC", text)
    return "".join(t.split())


def cer(hyp: str, ref: str) -> float:
    """Character error rate: Levenshtein distance / reference length, on normalised text."""
    a, b = normalize_for_cer(hyp), normalize_for_cer(ref)
    if not b:
        return 0.0 if not a else 1.0
    return edit_distance(a, b) / len(b)


def receipt_truth(eval_dir: Path, rid: str) -> str:
    """The line-level transcript of SROIE receipt ``rid`` (its boxes file, one text per line)."""
    lines = []
    for raw in (eval_dir / "sroie-receipts-en" / "boxes" / f"{rid}.txt").read_text(encoding="utf-8").splitlines():
        parts = raw.split(",", 8)
        if len(parts) == 9:
            lines.append(parts[8])
    return "\n".join(lines)


def ocr_cer(path: Path, truth: str, engine_name: str) -> float:
    """CER of one engine on a one-page scan: the product's load, preparation and OCR stages."""
    from core.settings import Settings
    from pipeline.load import iter_pages
    from pipeline.ocr import get_engine, read_page
    from pipeline.preprocess import prepare

    settings = Settings.model_validate({"ocr_engine": engine_name})
    engine = get_engine(settings)
    [src] = list(iter_pages(path, settings))
    prep = prepare(src.image, src.dpi, text_regions=engine.uses_text_regions)
    lines = read_page(
        engine, prep.ocr_image, src.dpi, settings.ocr_max_dpi, regions=prep.text_regions, to_page=prep.to_archive
    )
    # SROIE transcripts are upper-case: compare without case.
    return cer("\n".join(ln.text for ln in lines).upper(), truth.upper())
