"""Page orientation (0/90/180/270) from PP-OCR's text detector and direction classifier.

Tesseract OSD was measured first: right on the synthetic A4 samples, but it called upright
SROIE receipts upside down with confidence 3.7. The PP-OCR models that ship inside the
rapidocr-onnxruntime wheel decide better: detected text boxes tell sideways from upright
(boxes are wide when lines run horizontally), and the 0/180 classifier votes on the largest
boxes.
"""

from __future__ import annotations

import logging
from typing import Any

import cv2
import numpy as np

from pipeline.ocr.rapid import rapidocr_models

log = logging.getLogger(__name__)

ANALYSIS_DPI = 100.0  # text detection works well on ~100 dpi pages and is cheap there
MAX_VOTES = 40


def _boxes(ocr: Any, bgr: np.ndarray) -> np.ndarray:
    boxes, _ = ocr.text_det(bgr)
    return np.zeros((0, 4, 2)) if boxes is None else np.asarray(boxes)


def _wide_tall(boxes: np.ndarray) -> tuple[int, int]:
    w = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1)
    h = np.linalg.norm(boxes[:, 3] - boxes[:, 0], axis=1)
    return int((w > 1.5 * h).sum()), int((h > 1.5 * w).sum())


def detect_orientation(grey: np.ndarray, dpi: float) -> int:
    """Clockwise rotation (0/90/180/270) that makes the page upright."""
    ocr = rapidocr_models()
    f = min(1.0, ANALYSIS_DPI / dpi) if dpi > 0 else 1.0
    small = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else grey
    bgr = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    boxes = _boxes(ocr, bgr)
    if len(boxes) == 0:
        return 0
    wide, tall = _wide_tall(boxes)
    base = 0
    if tall > wide:
        base = 90
        bgr = np.rot90(bgr, k=-1).copy()
        boxes = _boxes(ocr, bgr)
        if len(boxes) == 0:
            return base
    widths = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1)
    chosen = boxes[np.argsort(-widths)[:MAX_VOTES]].astype(np.float32)
    crops = ocr.get_crop_img_list(bgr, chosen)
    _, cls_res, _ = ocr.text_cls(crops)
    up = sum(score for label, score in cls_res if label == "0")
    down = sum(score for label, score in cls_res if label == "180")
    log.debug("orientation: wide=%d tall=%d up=%.1f down=%.1f", wide, tall, up, down)
    return (base + (180 if down > up else 0)) % 360
