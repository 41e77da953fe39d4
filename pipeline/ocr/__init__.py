"""OCR engines behind one small interface (``OcrEngine.read(image, dpi) -> list[OcrLine]``).

Engines are registered by name as ``woa.ocr_engines`` entry points in ``pyproject.toml`` (as
OCRmyPDF finds its plugins); the same registry (``core.plugins``) gives the settings their
allowed values and the CLI its choices.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.models import Box, OcrLine, OcrWord
from core.plugins import OCR_ENGINES, plugin
from core.settings import Settings
from pipeline.ocr.base import OcrEngine
from pipeline.ocr.rapid import layout_detector

if TYPE_CHECKING:
    from pipeline.orientation import TextDetector


def _engine_config(settings: Settings, name: str) -> str:
    """What configures engine ``name``: the ``ocr_*`` settings and its own ``<name>_*`` ones."""
    return settings.model_dump_json(include={k for k in Settings.model_fields if k.startswith(("ocr_", f"{name}_"))})


@lru_cache(maxsize=4)
def _engine(name: str, config: str) -> OcrEngine:
    # Engines load models once per process; the cache is keyed by everything that configures them.
    engine_class: type[OcrEngine] = plugin(OCR_ENGINES, name).load()
    return engine_class.from_settings(Settings.model_validate_json(config))


def get_engine(settings: Settings, name: str | None = None) -> OcrEngine:
    name = name or settings.ocr_engine
    return _engine(name, _engine_config(settings, name))


def get_text_detector(engine: OcrEngine, settings: Settings) -> TextDetector:
    """The orientation step's detector: the engine's own, else PP-OCR's detector and classifier
    alone (loaded on the first call, without the recogniser)."""
    if engine.text_detector is not None:
        return engine.text_detector
    return layout_detector(settings.ocr_threads, settings.ocr_runtime)


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
