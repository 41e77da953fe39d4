"""Tesseract 5 through pytesseract, with the dpi passed explicitly (PIL images lose it)."""

from __future__ import annotations

import os
from collections import defaultdict

import numpy as np
import pytesseract

from core.models import OcrLine
from core.settings import Settings
from pipeline.ocr.base import Glyph, affine_box, box_corners, lines_from_glyphs, reading_order


class TesseractEngine:
    name = "tesseract"
    uses_text_regions = False  # Tesseract's own layout analysis finds the lines
    fine_model = ""  # one recogniser
    text_detector = None  # orientation: PP-OCR's detector and classifier, loaded only when it is on

    def __init__(self, lang: str = "chi_sim+eng", psm: int = 4, threads: int = 1) -> None:
        # Tesseract's OpenMP threads fight with our worker processes: 5x slower on 2 cores without this.
        os.environ["OMP_THREAD_LIMIT"] = str(threads)
        self.lang = lang
        self.psm = psm
        self.version = str(pytesseract.get_tesseract_version())

    @classmethod
    def from_settings(cls, settings: Settings) -> TesseractEngine:
        return cls(lang=settings.tesseract_lang, psm=settings.tesseract_psm, threads=settings.ocr_threads)

    def read(
        self, image: np.ndarray, dpi: float, regions: np.ndarray | None = None, to_page: np.ndarray | None = None
    ) -> list[OcrLine]:
        config = f"--psm {self.psm} --dpi {int(round(dpi))} -c preserve_interword_spaces=1"
        data = pytesseract.image_to_data(
            image, lang=self.lang, config=config, output_type=pytesseract.Output.DICT
        )
        groups: dict[tuple[int, int, int], list[Glyph]] = defaultdict(list)
        for i, text in enumerate(data["text"]):
            text = (text or "").strip()
            conf = float(data["conf"][i])
            if not text or conf < 0:
                continue
            x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            box = affine_box(box_corners((x, y, x + w, y + h)), to_page)
            groups[key].append(Glyph(text, box, conf / 100.0))
        lines: list[OcrLine] = []
        for glyphs in groups.values():
            glyphs.sort(key=lambda g: g.box[0])
            lines.extend(lines_from_glyphs(glyphs))
        return reading_order(lines)

    def read_fine(self, image: np.ndarray, dpi: float) -> OcrLine | None:
        return self.read_line(image, dpi)

    def read_line(self, image: np.ndarray, dpi: float) -> OcrLine | None:
        h, w = image.shape[:2]
        if h < 2 or w < 2:
            return None
        # --psm 7: the image is one text line (Tesseract's own line finding is not wanted here)
        config = f"--psm 7 --dpi {int(round(dpi))} -c preserve_interword_spaces=1"
        data = pytesseract.image_to_data(image, lang=self.lang, config=config, output_type=pytesseract.Output.DICT)
        words = [(t.strip(), float(c)) for t, c in zip(data["text"], data["conf"], strict=True)
                 if (t or "").strip() and float(c) >= 0]
        if not words:
            return None
        text = " ".join(t for t, _ in words)
        return OcrLine(text, (0.0, 0.0, float(w), float(h)), min(c for _, c in words) / 100.0)
