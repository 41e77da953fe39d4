"""The OCR engine interface and the text assembly rules shared by all engines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from core.identifiers import is_wide
from core.models import Box, OcrLine, OcrWord, box_union
from core.settings import Settings

if TYPE_CHECKING:
    from pipeline.orientation import TextDetector


class OcrEngine(Protocol):
    """An OCR engine: a class registered by name under the ``woa.ocr_engines`` entry points."""

    name: str
    version: str
    # True when the engine recognises text-line regions found beforehand (``regions``), so the
    # pipeline can hand it the detection its orientation step already made.
    uses_text_regions: bool
    # The engine's finer second recogniser ("": none), which ``read_fine`` uses.
    fine_model: str

    @property
    def text_detector(self) -> TextDetector | None:
        """The engine's own text detector for the orientation step, if it has one (None: the
        pipeline loads PP-OCR's detector and classifier when orientation is on)."""
        ...

    @classmethod
    def from_settings(cls, settings: Settings) -> OcrEngine:
        """The engine configured by ``settings`` (the ``ocr_*`` fields and its own ``<name>_*``)."""
        ...

    def read(
        self, image: np.ndarray, dpi: float, regions: np.ndarray | None = None, to_page: np.ndarray | None = None
    ) -> list[OcrLine]:
        """OCR an upright page (grey or BGR uint8) and return its lines in reading order.

        ``regions``: text-line quads (N, 4, 2) in pixels of ``image``, clockwise from the text's
        top left; engines that find lines themselves ignore them. ``to_page``: a 2x3 affine map
        from ``image`` pixels to the pixels the returned boxes are in (identity when None).
        """
        ...

    def read_line(self, image: np.ndarray, dpi: float) -> OcrLine | None:
        """Recognise ``image`` (grey or BGR uint8) as one text line, without text detection: a
        second reading of a region the first pass could not read whole (``pipeline.ocr.region``).
        The line's box is the whole image; None when nothing was read."""
        ...

    def read_fine(self, image: np.ndarray, dpi: float) -> OcrLine | None:
        """``read_line`` by the engine's most accurate recogniser (the values' second pass,
        ``pipeline.ocr.region.read_value``); an engine with one recogniser reads as ``read_line``."""
        ...


def affine_box(points: np.ndarray, to_page: np.ndarray | None) -> Box:
    """Axis-aligned box around ``points`` (K, 2) after the affine map ``to_page`` (2x3)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if to_page is not None:
        pts = pts @ to_page[:, :2].T + to_page[:, 2]
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def box_corners(box: Box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def is_cjk(ch: str) -> bool:
    """Whether ``ch`` starts with a wide character (no space between two of them when joined)."""
    return is_wide(ch)


def join_words(words: list[str]) -> str:
    """Join word texts the way the page reads: a space between Latin/digit words, none inside CJK runs."""
    out = ""
    for w in words:
        if not w:
            continue
        if out and not (is_cjk(out[-1]) and is_cjk(w[0])):
            out += " "
        out += w
    return out


@dataclass
class Glyph:
    text: str
    box: Box
    conf: float


# A gap wider than this many line heights starts a new word (CJK glyph boxes are narrower than
# their advance, so CJK-to-CJK needs a wider gap); wider than SEGMENT_GAP starts a new line
# segment (a separate table cell or form field on the same row).
WORD_GAP = 0.3
WORD_GAP_CJK = 0.6
SEGMENT_GAP = 1.8


def _word_gap(left: str, right: str) -> float:
    return WORD_GAP_CJK if is_cjk(left[-1:]) and is_cjk(right[:1]) else WORD_GAP


def lines_from_glyphs(glyphs: list[Glyph]) -> list[OcrLine]:
    """Group a left-to-right run of glyphs (one detected text line) into segments of words."""
    if not glyphs:
        return []
    height = float(np.median([g.box[3] - g.box[1] for g in glyphs])) or 1.0
    segments: list[list[list[Glyph]]] = [[[glyphs[0]]]]
    for prev, g in zip(glyphs, glyphs[1:], strict=False):
        gap = g.box[0] - prev.box[2]
        if gap > SEGMENT_GAP * height:
            segments.append([[g]])
        elif gap > _word_gap(prev.text, g.text) * height or g.text.isspace() or prev.text.isspace():
            segments[-1].append([g])
        else:
            segments[-1][-1].append(g)
    lines = []
    for seg in segments:
        words = []
        for wg in seg:
            wg = [g for g in wg if not g.text.isspace()]
            if not wg:
                continue
            words.append(
                OcrWord(
                    text="".join(g.text for g in wg),
                    box=box_union([g.box for g in wg]),
                    conf=float(min(g.conf for g in wg)),
                )
            )
        if not words:
            continue
        lines.append(
            OcrLine(
                text=join_words([w.text for w in words]),
                box=box_union([w.box for w in words]),
                conf=float(np.mean([w.conf for w in words])),
                words=words,
            )
        )
    return lines


def reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    """Sort lines top-to-bottom, then left-to-right within a row (rows by vertical overlap)."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2):
        cy = (line.box[1] + line.box[3]) / 2
        if rows:
            last = rows[-1]
            top = min(ln.box[1] for ln in last)
            bottom = max(ln.box[3] for ln in last)
            h = bottom - top
            if top + 0.25 * h <= cy <= bottom - 0.25 * h or abs(cy - (top + bottom) / 2) < 0.3 * h:
                last.append(line)
                continue
        rows.append([line])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln.box[0])]
