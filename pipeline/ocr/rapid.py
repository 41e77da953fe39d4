"""RapidOCR (PP-OCRv4 ONNX models shipped inside the rapidocr-onnxruntime wheel; works offline)."""

from __future__ import annotations

import logging
from importlib.metadata import version as pkg_version
from typing import Any

import numpy as np

from pipeline.models import OcrLine
from pipeline.ocr.base import Glyph, lines_from_glyphs, reading_order

log = logging.getLogger(__name__)


def _quad_to_box(quad: Any) -> tuple[float, float, float, float]:
    pts = np.asarray(quad, dtype=float)
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int = 1) -> None:
        from rapidocr_onnxruntime import RapidOCR

        self.version = pkg_version("rapidocr-onnxruntime")
        # max_side_len: RapidOCR shrinks pages above this before detection; 300 dpi A4 is 3508 px.
        self._ocr = RapidOCR(
            intra_op_num_threads=threads,
            inter_op_num_threads=1,
            max_side_len=4000,
        )

    def read(self, image: np.ndarray, dpi: float) -> list[OcrLine]:
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        result, _ = self._ocr(image, return_word_box=True)
        lines: list[OcrLine] = []
        for item in result or []:
            quad, text, score = item[0], item[1], float(item[2])
            glyphs: list[Glyph] = []
            if len(item) > 5 and item[3] and len(item[4]) == len(item[3]):
                for gquad, gtext, gconf in zip(item[3], item[4], item[5], strict=False):
                    glyphs.append(Glyph(gtext, _quad_to_box(gquad), float(gconf)))
            if glyphs and "".join(g.text for g in glyphs).replace(" ", "") == text.replace(" ", ""):
                lines.extend(lines_from_glyphs(glyphs))
            else:
                lines.extend(lines_from_glyphs([Glyph(text, _quad_to_box(quad), score)]))
        return reading_order(lines)
