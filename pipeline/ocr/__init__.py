"""OCR engines behind one small interface (``OcrEngine.read(image, dpi) -> list[OcrLine]``)."""

from __future__ import annotations

from functools import lru_cache

from pipeline.ocr.base import OcrEngine
from pipeline.settings import Settings

ENGINES = ("rapidocr", "tesseract")


@lru_cache(maxsize=4)
def _engine(name: str, lang: str, psm: int, threads: int) -> OcrEngine:
    # Engines load models once per process; the cache is keyed by everything that configures them.
    if name == "rapidocr":
        from pipeline.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(threads=threads)
    if name == "tesseract":
        from pipeline.ocr.tesseract import TesseractEngine

        return TesseractEngine(lang=lang, psm=psm, threads=threads)
    raise ValueError(f"unknown OCR engine {name!r} (choose from {', '.join(ENGINES)})")


def get_engine(settings: Settings, name: str | None = None) -> OcrEngine:
    return _engine(name or settings.ocr_engine, settings.tesseract_lang, settings.tesseract_psm, settings.ocr_threads)
