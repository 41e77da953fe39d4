"""RapidOCR (PP-OCRv4 ONNX models shipped inside the rapidocr-onnxruntime wheel; works offline).

RapidOCR's own ``__call__`` detects text on the whole page at full size and crops from that
same image. Detection at full 200 dpi cost ten times more than at 1280 px on the long side,
with no loss (measured on the samples: character bag error 0.020 at 1280 px against 0.026 at
full size), so this engine detects on a bounded copy and recognises crops cut from the full
page. Page orientation is decided before OCR (``pipeline.orientation``) from a detection at the
same scale, whose quads the pipeline passes back in as ``regions``: no second detection and no
per-line direction classifier.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib.metadata import version as pkg_version
from typing import Any

import cv2
import numpy as np

from core.models import OcrLine
from pipeline.ocr.base import Glyph, affine_box, lines_from_glyphs, reading_order

log = logging.getLogger(__name__)

DET_MAX_SIDE = 1280


@lru_cache(maxsize=2)
def rapidocr_models(threads: int = 1) -> Any:
    """One RapidOCR instance (three ONNX sessions) per process, shared with orientation detection."""
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)


# RapidOCR's detector scales its input up until the short side is 736 px: a sliver of a page
# (3x4000) became a 942080x736 tensor and 24 GB. The copy it gets is padded with white (right and
# bottom, so box coordinates do not move) to at most DET_MAX_ASPECT and at least DET_MIN_SIDE,
# which bounds its input to 736x2208 px whatever the page.
DET_MAX_ASPECT = 3.0
DET_MIN_SIDE = 32


def detection_copy(image: np.ndarray, max_side: int = DET_MAX_SIDE) -> tuple[np.ndarray, float]:
    """The image scaled down to at most ``max_side`` pixels on its long side (then padded white
    to a bounded shape), and the factor used."""
    f = min(1.0, max_side / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else image
    h, w = small.shape[:2]
    want_h = max(h, DET_MIN_SIDE, int(np.ceil(w / DET_MAX_ASPECT)))
    want_w = max(w, DET_MIN_SIDE, int(np.ceil(h / DET_MAX_ASPECT)))
    if (want_h, want_w) != (h, w):
        small = cv2.copyMakeBorder(small, 0, want_h - h, 0, want_w - w, cv2.BORDER_CONSTANT,
                                   value=(255, 255, 255) if small.ndim == 3 else 255)
    return small, f


class RapidOcrEngine:
    name = "rapidocr"
    uses_text_regions = True

    def __init__(self, threads: int = 1, det_max_side: int = DET_MAX_SIDE) -> None:
        self.version = pkg_version("rapidocr-onnxruntime")
        self.det_max_side = det_max_side
        self._ocr = rapidocr_models(threads)

    def detect(self, bgr: np.ndarray) -> np.ndarray:
        """Text line quads (N, 4, 2) in pixels of ``bgr``, detected on a copy of bounded size."""
        small, f = detection_copy(bgr, self.det_max_side)
        boxes, _ = self._ocr.text_det(small)
        if boxes is None or len(boxes) == 0:
            return np.zeros((0, 4, 2), dtype=np.float32)
        return (np.asarray(boxes, dtype=np.float32) / f).astype(np.float32)

    def read(
        self, image: np.ndarray, dpi: float, regions: np.ndarray | None = None, to_page: np.ndarray | None = None
    ) -> list[OcrLine]:
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
        boxes = self.detect(bgr) if regions is None else np.ascontiguousarray(regions, dtype=np.float32)
        if len(boxes) == 0:
            return []
        crops = self._ocr.get_crop_img_list(bgr, boxes)
        rec, _ = self._ocr.text_rec(crops, True)
        words = self._ocr.cal_rec_boxes(crops, boxes, rec)
        lines: list[OcrLine] = []
        for quad, (text, score, word_quads, word_texts, word_confs) in zip(boxes, words, strict=True):
            if not text or float(score) < 0.5:
                continue
            glyphs = [
                Glyph(t, affine_box(q, to_page), float(c))
                for q, t, c in zip(word_quads, word_texts, word_confs, strict=False)
            ]
            if glyphs and "".join(g.text for g in glyphs).replace(" ", "") == text.replace(" ", ""):
                lines.extend(lines_from_glyphs(glyphs))
            else:
                lines.extend(lines_from_glyphs([Glyph(text, affine_box(quad, to_page), float(score))]))
        return reading_order(lines)
