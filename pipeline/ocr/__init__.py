"""OCR engines behind one small interface (``OcrEngine.read(image, dpi) -> list[OcrLine]``)."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from core.models import Box, OcrLine, OcrWord
from core.settings import Settings
from pipeline.ocr.base import OcrEngine

ENGINES = ("rapidocr", "tesseract")


@lru_cache(maxsize=4)
def _engine(name: str, lang: str, psm: int, threads: int, runtime: str = "openvino") -> OcrEngine:
    # Engines load models once per process; the cache is keyed by everything that configures them.
    if name == "rapidocr":
        from pipeline.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(threads=threads, runtime=runtime)
    if name == "tesseract":
        from pipeline.ocr.tesseract import TesseractEngine

        return TesseractEngine(lang=lang, psm=psm, threads=threads)
    raise ValueError(f"unknown OCR engine {name!r} (choose from {', '.join(ENGINES)})")


def get_engine(settings: Settings, name: str | None = None) -> OcrEngine:
    return _engine(
        name or settings.ocr_engine,
        settings.tesseract_lang,
        settings.tesseract_psm,
        settings.ocr_threads,
        settings.ocr_runtime,
    )


def read_page(
    engine: OcrEngine,
    image: np.ndarray,
    dpi: float,
    max_dpi: float,
    *,
    regions: np.ndarray | None = None,
    to_page: np.ndarray | None = None,
) -> list[OcrLine]:
    """OCR at no more than ``max_dpi`` (cheaper, and no less accurate for print).

    ``regions`` are text-line quads in ``image`` pixels (see ``OcrEngine.read``); the boxes
    returned are in ``image`` pixels, or mapped by the 2x3 affine ``to_page`` when given.
    """
    if max_dpi <= 0 or dpi <= max_dpi * 1.05:
        return engine.read(image, dpi, regions, to_page)
    f = max_dpi / dpi
    small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    page = np.eye(3) if to_page is None else np.vstack([to_page, [0.0, 0.0, 1.0]])
    unscale = page @ np.diag([1 / f, 1 / f, 1.0])
    return engine.read(small, max_dpi, None if regions is None else regions * f, unscale[:2])


def scale_line(line: OcrLine, s: float) -> OcrLine:
    def sb(b: Box) -> Box:
        return (b[0] * s, b[1] * s, b[2] * s, b[3] * s)

    return OcrLine(line.text, sb(line.box), line.conf, [OcrWord(w.text, sb(w.box), w.conf) for w in line.words])
