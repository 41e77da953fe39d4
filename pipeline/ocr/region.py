"""A second, recognition-only reading of one region of a page: a value printed in boxes.

RapidOCR's text detector drops single characters in widely spaced boxes (the national standard
form prints the VIN in 17 of them), so the first pass leaves nothing complete to join. Here the
strip is cut from the prepared page, its box rules removed (long horizontal runs by a
morphological opening, vertical rules as the columns that are ink over most of the strip's
height), the characters that remain packed side by side at an ordinary letter spacing, and the
result read as one text line by the engine's recogniser alone (``OcrEngine.read_line``).

Coloured rules (a pre-printed form's red, blue or green boxes) fade before any of that: the
strip is read in the brightest channel of each pixel, in which coloured ink is light and the
black print of the value stays dark.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from core.models import Box, OcrLine, OcrWord
from pipeline.ocr.base import OcrEngine

RULE_COLUMN = 0.7  # a column that is ink over this share of the strip's height is a vertical rule
RULE_RUN = 3.0  # a horizontal run of ink this long (text heights; and half the strip, up to 8) is a rule
RULE_ROW = 0.3  # a row that is ink over this share of the strip's width, alone among its neighbours: a rule
RULE_TALL = 1.3  # a vertical run of ink this many character heights tall is a vertical rule
LETTER_GAP = 0.3  # gap between packed characters, in character heights
BLUR = 0.03  # the blurred reading's Gaussian sigma, in text heights (1 px at 150 dpi)
MIN_CONTRAST = 40.0  # grey levels: less than this darker than the paper is no ink (a blank strip stays blank)
MIN_PART = 0.3  # ink components smaller than this share of the text height both ways are specks


@dataclass(frozen=True)
class Packed:
    image: np.ndarray  # grey uint8, black characters on white, packed at an ordinary spacing
    parts: int  # character columns found (boxes with ink)


def strip_grey(image: Image.Image | np.ndarray, box: Box) -> np.ndarray:
    """The region ``box`` of the page as grey uint8, coloured ink light (brightest channel)."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    if isinstance(image, Image.Image):
        crop = image.crop((x0, y0, x1, y1))
        if crop.mode not in ("L", "RGB"):
            crop = crop.convert("RGB" if crop.mode in ("RGBA", "P", "CMYK") else "L")
        arr = np.asarray(crop)
    else:
        arr = image[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
    if arr.ndim == 3:
        return np.ascontiguousarray(arr.max(axis=2)).astype(np.uint8)
    return np.ascontiguousarray(arr).astype(np.uint8)


def flatten(grey: np.ndarray, text_height: float) -> np.ndarray:
    """``grey`` with its paper made white and its ink stretched to black: faint print on tinted
    paper, next to a scan's dark edge or a shaded cell, thresholds like black on white. The paper
    is what a grey closing wider than the strokes leaves."""
    k = max(3, int(round(text_height)) | 1)
    paper = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    dark = paper.astype(np.int16) - grey.astype(np.int16)
    top = float(np.percentile(dark, 99.5)) if dark.size else 0.0
    scale = 255.0 / max(top, MIN_CONTRAST)
    return np.asarray(255 - np.clip(dark * scale, 0, 255), dtype=np.uint8)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Start and end (exclusive) of the runs of True in ``flags``."""
    d = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def glyph_height(ink: np.ndarray, stroke: int, text_height: float) -> float:
    """The characters' height in ``ink`` (without horizontal rules): the median height of the
    parts wider than a stroke (a rule or a "1" is one stroke wide); 0.75 text heights if none."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = [float(stats[i, cv2.CC_STAT_HEIGHT]) for i in range(1, n)
               if stats[i, cv2.CC_STAT_WIDTH] >= 2 * stroke and MIN_PART * text_height <= stats[i, cv2.CC_STAT_HEIGHT] <= 2 * text_height]
    return float(np.median(heights)) if heights else 0.75 * text_height


def remove_rules(grey: np.ndarray, text_height: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Ink masks (255 = ink) of ``grey`` without its box rules; dotted print is closed up first.

    Print out of register lands on a rule (a pre-printed form's first cell: the stem of an ``L``
    on the cell's left rule, its foot beside it). The second mask, when some ink of a character
    touches a vertical rule, keeps those rules over the height of the characters (the stem may
    have been the character's); None when nothing touches a rule.
    """
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    k = max(3, int(round(text_height / 9)) | 1)
    solid = np.asarray(cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))),
                       dtype=np.uint8)
    # horizontal rules: long runs of ink along a row, found on the print closed along rows only
    # (closed both ways, a dense serif print's tops run together into a "rule")
    run = max(3, int(round(max(RULE_RUN * text_height, min(0.5 * grey.shape[1], 8 * text_height)))))
    bridge = max(3, int(round(text_height / 8)))  # a rule broken by a bilevel scan is closed up along itself
    along = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 1)))
    opened = cv2.morphologyEx(along, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1)))
    horizontal = np.asarray(opened, dtype=np.uint8)
    # and rows of ink across much of the strip that stand out from the rows beside them: a rule
    # a bilevel scan broke into dashes (a row of characters is ink over a band of rows)
    cover = (along > 0).mean(axis=1)
    d = max(3, int(round(text_height / 5)))
    beside = np.minimum(np.concatenate((np.full(d, 1.0), cover[:-d])), np.concatenate((cover[d:], np.full(d, 1.0))))
    dashed = (cover >= RULE_ROW) & (cover >= 2.5 * beside)
    horizontal[dashed] = np.where(along[dashed] > 0, 255, 0).astype(np.uint8)
    grow = np.ones((k, k), np.uint8)
    # vertical rules: columns of ink over most of the strip, and vertical runs taller than the
    # characters (a box's sides; a "1" is no taller than the others)
    # (measured without the horizontal rules: a character printed close under one is no taller)
    vertical = np.zeros(solid.shape, dtype=np.uint8)
    vertical[:, (solid > 0).mean(axis=0) >= RULE_COLUMN] = 255
    unruled = np.where(cv2.dilate(horizontal, grow) > 0, 0, solid).astype(np.uint8)
    tall = max(3, int(round(RULE_TALL * glyph_height(unruled, k, text_height))))
    upright = cv2.morphologyEx(unruled, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, bridge)))
    opened = cv2.morphologyEx(upright, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, tall)))
    vertical = np.maximum(vertical, np.asarray(opened, dtype=np.uint8))
    rules = np.asarray(cv2.dilate(np.maximum(vertical, horizontal), grow), dtype=np.uint8)
    # the characters as blobs (dot-matrix print is dots: closed up more than for the rules)
    k2 = max(3, int(round(text_height / 6)) | 1)
    blobs = cv2.morphologyEx(np.where(rules > 0, 0, solid).astype(np.uint8), cv2.MORPH_CLOSE,
                             cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k2, k2)))
    loose = np.where(rules > 0, 0, blobs).astype(np.uint8)
    rest = _without_specks(loose, text_height)
    rows = np.flatnonzero(rest.any(axis=1))
    if len(rows) == 0:
        return rest, None
    top, bottom = int(rows.min()), int(rows.max()) + 1
    _, parts, stats, _ = cv2.connectedComponentsWithStats(loose, connectivity=8)
    touching = stats[:, cv2.CC_STAT_AREA] >= k * k // 2  # more than a speck of dust
    touching[0] = False  # the background
    h_band = np.asarray(cv2.dilate(horizontal, grow))[top:bottom] > 0
    kept = rest.copy()
    any_kept = False
    for a, b in _runs(np.asarray(np.asarray(cv2.dilate(vertical, grow)).any(axis=0))):
        beside = np.concatenate((parts[top:bottom, max(0, a - 2):a].ravel(), parts[top:bottom, b:b + 2].ravel()))
        ids = np.unique(beside[touching[beside]])
        if len(ids):
            kept = np.maximum(kept, np.where(np.isin(parts, ids), loose, 0).astype(np.uint8))
            kept[top:bottom, a:b] = np.maximum(kept[top:bottom, a:b], np.where(h_band[:, a:b], 0, solid[top:bottom, a:b]))
            any_kept = True
    return rest, (kept if any_kept else None)


def _without_specks(ink: np.ndarray, text_height: float) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = [i for i in range(1, n)
            if stats[i, cv2.CC_STAT_HEIGHT] >= MIN_PART * text_height or stats[i, cv2.CC_STAT_WIDTH] >= MIN_PART * text_height]
    return np.where(np.isin(labels, keep), ink, 0).astype(np.uint8)


def _text_band(mask: np.ndarray) -> np.ndarray:
    """``mask`` without what lies outside the row of characters (the cut-off bottom of the line
    above): the band is where the tall parts are; a part whose middle is outside it goes."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    tall = [i + 1 for i, h in enumerate(heights) if h >= 0.5 * heights.max()]
    top = float(np.median([stats[i, cv2.CC_STAT_TOP] for i in tall]))
    bottom = float(np.median([stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT] for i in tall]))
    margin = 0.15 * (bottom - top)
    keep = [i for i in range(1, n)
            if top - margin <= stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT] / 2 <= bottom + margin]
    return np.isin(labels, keep)


def pack(ink: np.ndarray, grey: np.ndarray, text_height: float) -> Packed | None:
    """The characters of ``ink`` (a mask of ``grey``) at an ordinary spacing, in their grey print
    (the mask is closed up; the print keeps its strokes and holes): gaps wider than a letter's
    (boxes, groups of boxes) are narrowed to it, narrower ones kept; None: no characters."""
    mask = _without_specks(ink, text_height) > 0
    if not mask.any():
        return None
    mask = _text_band(mask)
    if not mask.any():
        return None
    print_ = np.where(cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0, grey, 255)
    rows = np.flatnonzero(mask.any(axis=1))
    y0, y1 = int(rows.min()), int(rows.max()) + 1
    ch = y1 - y0
    gap, pad = max(2, int(LETTER_GAP * ch)), max(4, ch // 3)
    pieces: list[tuple[int, int]] = []  # column ranges copied as they are
    for a, b in _runs(np.asarray(mask.any(axis=0))):
        if pieces and a - pieces[-1][1] <= gap:
            pieces[-1] = (pieces[-1][0], b)
        else:
            pieces.append((a, b))
    width = sum(b - a for a, b in pieces) + gap * (len(pieces) - 1) + 2 * pad
    out = np.full((ch + 2 * pad, width), 255, dtype=np.uint8)
    x = pad
    for a, b in pieces:
        out[pad:pad + ch, x:x + b - a] = print_[y0:y1, a:b]
        x += b - a + gap
    return Packed(out, len(pieces))


def read_region(engine: OcrEngine, image: Image.Image | np.ndarray, box: Box, text_height: float,
                dpi: float) -> list[OcrLine]:
    """Read the region ``box`` of the page ``image`` (pixels of that image) once more, as one text
    line of boxed characters: rules removed, characters packed, recognition only.

    A line per reading, with the region's box (the characters' places are not kept) and the
    recogniser's confidence: the reading without the rules, the same slightly blurred (dot-matrix
    dots run together), and when a character touches a vertical rule one keeping the rule where
    it touches; the check digit tells which is right (readings that validate and differ: review). Empty when the region holds no characters or nothing was read.
    """
    x0, y0, x1, y1 = box
    if x1 - x0 < 2 or y1 - y0 < 2 or text_height < 2:
        return []
    grey = flatten(strip_grey(image, box), text_height)
    plain, kept = remove_rules(grey, text_height)
    images = []
    for ink in (plain, kept):
        packed = None if ink is None else pack(ink, grey, text_height)
        if packed is not None:
            images.append(packed.image)
    if images:  # dot-matrix print reads better with its dots run together
        images.insert(1, cv2.GaussianBlur(images[0], (0, 0), BLUR * text_height))
    return _read_lines(engine, images, box, dpi)


def _read_lines(engine: OcrEngine, images: list[np.ndarray], box: Box, dpi: float,
                fine: bool = False) -> list[OcrLine]:
    """Each image read by the recogniser alone (``fine``: the engine's finest): a line per
    reading, with the region's ``box``; the same text twice is two readings agreeing, so both
    are kept."""
    out: list[OcrLine] = []
    for im in images:
        line = engine.read_fine(im, dpi) if fine else engine.read_line(im, dpi)
        if line is not None and line.text.strip():
            out.append(OcrLine(line.text, box, line.conf, [OcrWord(line.text, box, line.conf)], line.alternatives))
    return out


def value_rules(grey: np.ndarray, text_height: float) -> np.ndarray:
    """Where ``grey`` (a flattened value strip) has the form's rules: runs of ink along a row
    longer than ``RULE_RUN`` text heights, and runs down a column taller than the characters. Only
    long runs: a dot-matrix print's rows of dots are no rule (as in ``remove_rules`` they could
    be, a rule broken into dashes)."""
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    bridge = max(3, int(round(text_height / 8)))
    along = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 1)))
    run = max(3, int(round(RULE_RUN * text_height)))
    horizontal = cv2.morphologyEx(along, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1)))
    k = max(3, int(round(text_height / 6)) | 1)
    solid = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    grow = np.ones((3, 3), np.uint8)
    unruled = np.where(cv2.dilate(horizontal, grow) > 0, 0, solid).astype(np.uint8)
    tall = max(3, int(round(RULE_TALL * glyph_height(unruled, 3, text_height))))
    upright = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, bridge)))
    vertical = cv2.morphologyEx(upright, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, tall)))
    return np.asarray(cv2.dilate(np.maximum(horizontal, vertical), grow), dtype=np.uint8)


def _ink_box(grey: np.ndarray, text_height: float) -> tuple[int, int, int, int] | None:
    """Where in ``grey`` the value's characters are (x0, y0, x1, y1; dots closed into blobs,
    specks and what lies outside the row of characters left out); None: no ink."""
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if grey.min() > 255 - MIN_CONTRAST:
        return None
    k = max(3, int(round(text_height / 6)) | 1)
    solid = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    mask = _without_specks(np.asarray(solid, dtype=np.uint8), text_height) > 0
    if not mask.any():
        return None
    mask = _text_band(mask)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return None
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


VARIANTS = ("flat", "rules", "tight", "ftight", "tblur", "tftblur")
READ_VALUE = ("tftblur", "tblur")  # the variants ``read_value`` reads (the two best of twenty tried on the dev forms)
# ... when the engine has a fine recogniser (PP-OCRv6): it reads the best variant for it on the dev
# forms' strips, and where it is unsure (under FINE_SURE) the first recogniser reads the best variant
# for that one too, a second opinion that reads some print PP-OCRv6 misreads. On the dev forms' 589
# strips, after the vote: 539 right (PP-OCRv4 read 31 of them), against 524 for the two PP-OCRv4
# readings before and 540 for two PP-OCRv6 ones, at twice the time (docs/benchmarks.md, "The
# values' second pass by PP-OCRv6")
READ_VALUE_FINE = "tftblur"
READ_VALUE_PLAIN = "tftblur"
FINE_SURE = 0.9


def value_images(image: Image.Image | np.ndarray, box: Box, text_height: float,
                 variants: tuple[str, ...] = VARIANTS) -> list[tuple[str, np.ndarray]]:
    """The value printed in ``box`` (one text line: a name, a model, an amount) as images for the
    recogniser to read once more, named as in ``VARIANTS``. All start from the strip's brightest
    channel with its paper made white (``flat``: coloured rules and labels fade under black
    print); ``rules``: the form's long rules whitened (``value_rules``); ``tight``/``ftight``: cut
    to the characters (with / without the rules whitened: the characters' extent is found on the
    rules-free print), which the recogniser, scaling its input to a fixed height, reads larger;
    ``tblur``/``tftblur``: those blurred by about a dot's pitch (dot-matrix dots run together
    into strokes)."""
    grey = flatten(strip_grey(image, box), text_height)
    rules = value_rules(grey, text_height)
    cut = np.where(rules > 0, 255, grey).astype(np.uint8)
    ink = _ink_box(cut, text_height)
    tight = cut
    ftight = grey
    if ink is not None:
        ch = ink[3] - ink[1]
        pad, side = max(2, int(round(0.2 * ch))), max(3, int(round(0.6 * ch)))
        y0, y1 = max(0, ink[1] - pad), min(cut.shape[0], ink[3] + pad)
        x0, x1 = max(0, ink[0] - side), min(cut.shape[1], ink[2] + side)
        tight = cut[y0:y1, x0:x1]
        ftight = grey[y0:y1, x0:x1]
    sig = max(0.5, BLUR * text_height)
    make = {
        "flat": lambda: grey,
        "rules": lambda: cut,
        "tight": lambda: tight,
        "ftight": lambda: ftight,
        "tblur": lambda: cv2.GaussianBlur(tight, (0, 0), sig),
        "tftblur": lambda: cv2.GaussianBlur(ftight, (0, 0), sig),
    }
    return [(v, np.ascontiguousarray(make[v]())) for v in variants]


def read_value(engine: OcrEngine, image: Image.Image | np.ndarray, box: Box, text_height: float,
               dpi: float) -> list[OcrLine]:
    """Read the value in ``box`` of the page ``image`` once more, recognition only, from
    ``value_images``: a line per reading (its text, the region's box, the recogniser's
    confidence); the readings vote (``extractors.value_strip.reread_choice``). An engine with a
    fine recogniser (``OcrEngine.read_fine``) reads ``READ_VALUE_FINE`` with it and, where that
    reading is unsure, ``READ_VALUE_PLAIN`` with its first; one without reads ``READ_VALUE``."""
    x0, y0, x1, y1 = box
    if x1 - x0 < 2 or y1 - y0 < 2 or text_height < 2:
        return []
    if not engine.fine_model:
        return _read_lines(engine, [im for _, im in value_images(image, box, text_height, READ_VALUE)], box, dpi)
    images = dict(value_images(image, box, text_height, tuple(dict.fromkeys((READ_VALUE_FINE, READ_VALUE_PLAIN)))))
    lines = _read_lines(engine, [images[READ_VALUE_FINE]], box, dpi, fine=True)
    if not lines or lines[0].conf < FINE_SURE:
        lines += _read_lines(engine, [images[READ_VALUE_PLAIN]], box, dpi)
    return lines
