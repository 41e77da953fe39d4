"""Page layout analysis: orientation (0/90/180/270) and text-line regions, from PP-OCR.

Tesseract OSD was measured first: right on the synthetic A4 samples, but it called upright
SROIE receipts upside down with confidence 3.7. The PP-OCR models that ship inside the
rapidocr-onnxruntime wheel decide better: detected text boxes tell sideways from upright
(boxes are wide when lines run horizontally), and the 0/180 classifier votes on the largest
boxes. The detection is the expensive part, and it is the same one OCR needs, so it is done
once, at the OCR engine's detection scale, and its quads are handed on to recognition.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from pipeline.ocr.rapid import detection_copy

log = logging.getLogger(__name__)

MAX_VOTES = 40


class TextDetector(Protocol):
    """Finds text lines and tells upright lines from upside-down ones (PP-OCR's det and cls models:
    ``pipeline.ocr.rapid.PpOcrDetector``). The RapidOCR engine offers its own (``engine.
    text_detector``, sharing its models); with Tesseract the pipeline loads the detector and the
    classifier alone, only when orientation is on (``pipeline.ocr.get_text_detector``)."""

    def boxes(self, bgr: np.ndarray) -> np.ndarray:
        """Text-line quads (N, 4, 2; clockwise from the text's top left) in pixels of ``bgr``."""
        ...

    def upright_votes(self, bgr: np.ndarray, quads: np.ndarray) -> tuple[float, float]:
        """(upright, upside down): summed scores of the 0/180 classifier over these lines."""
        ...


@dataclass(frozen=True)
class TextLayout:
    """The clockwise rotation (0/90/180/270) that makes the page upright, and the text-line
    quads (N, 4, 2; clockwise from the text's top left) in full-size pixels of the page turned
    by that rotation."""

    rotation: int
    quads: np.ndarray


def _wide_tall(boxes: np.ndarray) -> tuple[int, int]:
    w = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1)
    h = np.linalg.norm(boxes[:, 3] - boxes[:, 0], axis=1)
    return int((w > 1.5 * h).sum()), int((h > 1.5 * w).sum())


def turn_quads_180(quads: np.ndarray, width: float, height: float) -> np.ndarray:
    """Quads of a page turned by 180°: points mirrored, and re-ordered so the first is top left again."""
    out = np.empty_like(quads)
    out[..., 0] = width - quads[..., 0]
    out[..., 1] = height - quads[..., 1]
    return out[:, [2, 3, 0, 1]]


def _upside_down(detector: TextDetector, bgr: np.ndarray, boxes: np.ndarray) -> bool:
    widths = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1)
    chosen = boxes[np.argsort(-widths)[:MAX_VOTES]]
    up, down = detector.upright_votes(bgr, chosen)
    log.debug("orientation: up=%.1f down=%.1f over %d lines", up, down, len(chosen))
    return bool(down > up)


def analyse_layout(grey: np.ndarray, detector: TextDetector, *, orient: bool = True) -> TextLayout:
    """Orientation and text-line regions of a grey page, detected at the OCR engine's detection scale."""
    small, f = detection_copy(grey)
    bgr = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    boxes = detector.boxes(bgr)
    height, width = grey.shape[:2]
    if len(boxes) == 0 or not orient:
        return TextLayout(0, boxes / f)
    wide, tall = _wide_tall(boxes)
    rotation = 0
    if tall > wide:
        rotation = 90
        bgr = np.rot90(bgr, k=-1).copy()
        height, width = width, height
        boxes = detector.boxes(bgr)
        if len(boxes) == 0:
            return TextLayout(rotation, boxes)
    quads = boxes / f
    if _upside_down(detector, bgr, boxes):
        rotation += 180
        quads = turn_quads_180(quads, width, height)
    log.debug("orientation: wide=%d tall=%d -> %d", wide, tall, rotation)
    return TextLayout(rotation % 360, quads.astype(np.float32))

