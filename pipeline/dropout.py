"""Colour dropout: read a pre-printed colour form's values without its coloured labels and rules.

A dealer's pre-printed form has its labels and rules in one colour (red, blue, green) on tinted
paper; the DMS prints the values over it in black, by dot-matrix, slightly out of register, so
rules and label strokes cross the values and OCR misreads them. Forms-processing systems drop
the form's colour out. Here every pixel of a colour scan is split, in log-RGB relative to the
paper, into a neutral part (black print: the same darkening in all three channels) and a part
along the pre-print ink's colour (``split``): the **values image** keeps only the neutral part
(the coloured ink becomes paper, also where black print lies over it), the **labels image** only
the coloured part. OCR reads each text region from the image its ink is in (``read_dropout``):
labels from the page itself where no value lies over them, values from the values image, a region holding both
from the values and the labels image.

Only pages that need it pay: ``detect_preprint`` (tens of ms on a subsampled copy) looks for a
dominant chromatic ink that draws straight rules (a form, not a blue-pen signature or handwritten
values), beside enough dark neutral ink (values printed in black, not a carbon copy whose ink is
all one colour). Grey and bilevel scans have no colour left to separate: they are read as before.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from core.models import Box, OcrLine
from pipeline.ocr import read_page
from pipeline.ocr.base import OcrEngine, affine_box, reading_order

log = logging.getLogger(__name__)

ANALYSIS_WIDTH = 900  # pixels: the page is subsampled (not averaged: thin rules keep their colour)
QUICK_CHROMA, QUICK_DARK, QUICK_MIN_PIXELS = 50, 200, 100  # coloured ink on a 4x subsample, at least
INK_DARKNESS = 0.2  # log units below the paper: ink (about 82 % of the paper's brightness)
CHROMATIC = 0.3  # chroma (log units) of coloured ink
NEUTRAL = 0.15  # chroma below this is neutral (black, grey)
MIN_CHANNEL = 24  # a pixel with a channel darker than this is too dark to have a measurable colour
RULE_DARKNESS, RULE_CHROMA = 0.08, 0.12  # a rule's pixels: fainter and less coloured than the labels' ink
HUE_BINS = 36
HUE_WINDOW = 20.0  # degrees either side of the dominant hue
MIN_RULE_MM = 150.0  # straight coloured lines a form has at least (summed length)
RULE_SEGMENT_MM = 12.0  # a rule is straight over at least this length
MIN_NEUTRAL_SHARE = 0.15  # dark neutral ink (the values) per pixel of pre-print ink, at least (a carbon copy: 0.08)
CURVE_SLACK_REL, CURVE_SLACK = 0.25, 0.05  # darkness the dropout removes beyond the ink's curve (relative, log units)
LABEL_T0 = 0.08  # chroma below this is no pre-print ink in the labels image
STRIP_ROWS = 512  # rows split at a time (bounds the float temporaries)
ROUTE_MIN_DARK = 3.0  # mean darkness (grey levels) of a text line's box that is ink at all
ROUTE_SHARE = 0.2  # a line is read from an image whose ink is at least this share of the other's
LABEL_MIN_CONF = 0.6  # a line of the labels image read less surely is no label
LABEL_MAX_OVERLAP = 0.3  # share of a labels-image line's box a value may cover

# log-RGB plane orthogonal to grey, for hues: (1,-1,0)/sqrt2 and (1,1,-2)/sqrt6 on B, G, R
_P1 = np.array([1.0, -1.0, 0.0]) / math.sqrt(2.0)
_P2 = np.array([1.0, 1.0, -2.0]) / math.sqrt(6.0)
_LOG = np.log(np.maximum(np.arange(256, dtype=np.float64), 0.5) / 255.0).astype(np.float32)


@dataclass(frozen=True)
class PrePrint:
    """The pre-printed ink of a colour form, measured on the page.

    In log-RGB (B, G, R) relative to the paper a pixel's chroma (its part orthogonal to grey)
    projected on the ink's hue, ``t``, says how much pre-print ink covers it; the darkness such
    ink has by itself at that ``t`` (``curve_t`` -> ``curve_s``: measured on the page's own ink,
    so blur and JPEG colour smearing are in it) is what the dropout removes. Black print over the
    ink is darker than that and stays."""

    hue: np.ndarray  # (3,) unit chroma direction of the ink (sums to 0)
    curve_t: np.ndarray  # chroma along the hue ...
    curve_s: np.ndarray  # ... and the mean log-darkness of the ink alone there (<= 0), with slack
    solid_t: float  # chroma of solid ink (labels image: full black)
    rgb: tuple[int, int, int]  # the ink's colour on white paper (from the solid ink), for the record
    rule_mm: float  # straight coloured lines found (summed length)
    neutral_share: float  # dark neutral pixels per pre-print pixel

    @property
    def hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)

    def ink_darkness(self, t: np.ndarray) -> np.ndarray:
        """The log-darkness (<= 0) of pre-print ink alone with chroma ``t`` along its hue."""
        last_t, last_s = float(self.curve_t[-1]), float(self.curve_s[-1])
        out = np.interp(t, self.curve_t, self.curve_s).astype(np.float32)
        beyond = t > last_t
        out[beyond] = last_s * t[beyond] / last_t  # more solid than measured: proportionally darker
        return out


@dataclass
class Dropout:
    """The two images OCR reads a colour form from (grey uint8, the geometry of the OCR image)."""

    values: np.ndarray  # the neutral ink: values printed in black; the pre-print ink is paper
    labels: np.ndarray  # the pre-print ink alone, dark on white
    preprint: PrePrint


def paper(arr: np.ndarray, dpi: float, scale: float = 0.25) -> np.ndarray:
    """Per-channel estimate of the paper (its tint and the lighting), at ``scale`` of the page.

    A closing larger than a character stroke removes the ink; a blur smooths the rest."""
    k = max(15, int(dpi / 6) | 1)
    small = cv2.resize(arr, (max(1, round(arr.shape[1] * scale)), max(1, round(arr.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    kk = max(3, int(k * scale) | 1)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (kk, kk)))
    return cv2.GaussianBlur(bg, (0, 0), max(1.0, k * scale / 2))


def _log_rel(arr: np.ndarray, bg_log: np.ndarray) -> np.ndarray:
    """log(arr / paper) per channel, at most 0 (float32, H x W x 3)."""
    v = _LOG[arr] - bg_log
    return np.minimum(v, 0.0, out=v)


def _hue(c: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(c @ _P2.astype(np.float32), c @ _P1.astype(np.float32))) % 360.0


def detect_preprint(arr: np.ndarray, dpi: float, exclude: np.ndarray | None = None,
                    skew: float = 0.0) -> PrePrint | None:
    """The pre-printed ink of a colour form on this upright BGR page, or None (not a colour form).

    ``exclude``: a mask (page size) of pixels not to count, the seals; ``skew``: the page's
    counter-clockwise deskew angle (its rules are looked for as straight lines after it)."""
    if arr.ndim != 3:
        return None
    # first, cheaply: a page with hardly any coloured ink (most colour scans) is no colour form
    q = arr[::4, ::4]
    hi, lo = q.max(axis=2), q.min(axis=2)
    if int(np.count_nonzero((hi.astype(np.int16) - lo > QUICK_CHROMA) & (lo < QUICK_DARK))) < QUICK_MIN_PIXELS:
        return None
    step = max(1, math.ceil(max(arr.shape[:2]) / (ANALYSIS_WIDTH * 1.42)))
    sub = np.ascontiguousarray(arr[::step, ::step])
    sdpi = dpi / step
    bg = paper(sub, sdpi, scale=1.0)
    bg_log = _LOG[np.maximum(bg, 1)]
    v = _log_rel(sub, bg_log)
    s = v.mean(axis=2)
    c = v - s[..., None]
    cm = np.sqrt((c * c).sum(axis=2))
    ink = s < -INK_DARKNESS
    # a pixel near black has no colour to tell: its channels are noise and rounding
    measurable = sub.min(axis=2) >= MIN_CHANNEL
    chromatic = ink & (cm > CHROMATIC) & measurable
    if exclude is not None:
        chromatic &= ~exclude[::step, ::step]
    n_chrom = int(np.count_nonzero(chromatic))
    if n_chrom < 500:
        return None
    hues = _hue(c[chromatic])
    hist, _ = np.histogram(hues, bins=HUE_BINS, range=(0.0, 360.0), weights=cm[chromatic])
    smooth = hist + np.roll(hist, 1) + np.roll(hist, -1)
    peak = (int(np.argmax(smooth)) + 0.5) * 360.0 / HUE_BINS
    near = np.abs((hues - peak + 180.0) % 360.0 - 180.0) <= HUE_WINDOW
    if near.sum() < 500:
        return None
    ys, xs = np.nonzero(chromatic)
    # the rules: faint and thin after blur and JPEG (colour at half resolution), so fainter ink
    # of the hue counts here
    hue_dist = np.abs((_hue(c) - peak + 180.0) % 360.0 - 180.0)
    rules = (s < -RULE_DARKNESS) & (cm > RULE_CHROMA) & (hue_dist <= HUE_WINDOW) & measurable
    if exclude is not None:
        rules &= ~exclude[::step, ::step]
    mask = rules.astype(np.uint8) * 255
    px_mm = sdpi / 25.4
    seg = max(5, int(RULE_SEGMENT_MM * px_mm))
    if skew:
        rot = cv2.getRotationMatrix2D((mask.shape[1] / 2, mask.shape[0] / 2), skew, 1.0)
        mask = cv2.warpAffine(mask, rot, (mask.shape[1], mask.shape[0]), flags=cv2.INTER_NEAREST)
    mask_d = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    horiz = cv2.morphologyEx(mask_d, cv2.MORPH_OPEN, np.ones((1, seg), np.uint8))
    vert = cv2.morphologyEx(mask_d, cv2.MORPH_OPEN, np.ones((seg, 1), np.uint8))
    # length of the rules: pixels on them divided by their thickness (about 3 subsampled pixels)
    rule_mm = (np.count_nonzero(horiz) + np.count_nonzero(vert)) / 3.0 / px_mm
    neutral = int(np.count_nonzero(ink & ((cm < NEUTRAL) | ~measurable)))  # grey or black print
    share = neutral / max(1, int(near.sum()))
    if rule_mm < MIN_RULE_MM or share < MIN_NEUTRAL_SHARE:
        log.debug("no colour form: rules %.0f mm, neutral share %.3f", rule_mm, share)
        return None
    h = c[chromatic][near].mean(axis=0)
    h = (h - h.mean()) / max(1e-6, float(np.linalg.norm(h - h.mean())))
    t = c @ h.astype(np.float32)
    hue_ok = np.zeros(s.shape, dtype=bool)
    hue_ok[ys[near], xs[near]] = True
    # The solid ink: the most coloured fifth of its pixels (black print over the ink keeps its
    # chroma, so these are mostly ink alone). Partly covered pixels (edges, blur) mix it with the
    # paper in intensity: that mixture, in log-RGB, is the ink's darkness curve. It is modelled,
    # not measured bin by bin: near black print a JPEG's colour (kept at half resolution) bleeds
    # into it, and dark pixels with a trace of the ink's hue would make such a curve far too dark.
    ts = t[hue_ok]
    solid_px = hue_ok & (t >= np.percentile(ts, 80))
    solid = np.exp(np.median(v[solid_px], axis=0))  # B, G, R relative to the paper
    cover = np.linspace(0.0, 1.0, 41)[:, None]
    mix = np.log(np.maximum(1.0 - cover * (1.0 - solid[None, :]), 1.0 / 255.0))
    curve_s = mix.mean(axis=1)
    curve_t = (mix - curve_s[:, None]) @ h
    if not np.all(np.diff(curve_t) > 0):
        return None
    solid_t = float(curve_t[-1])
    cs = curve_s * (1.0 + CURVE_SLACK_REL) - CURVE_SLACK * np.clip(curve_t / 0.1, 0.0, 1.0)
    rgb = tuple(int(round(255 * min(1.0, float(x)))) for x in solid[::-1])
    pp = PrePrint(h.astype(np.float32), curve_t.astype(np.float32), cs.astype(np.float32), solid_t,
                  (rgb[0], rgb[1], rgb[2]), round(rule_mm, 1), round(share, 3))
    log.debug("colour form: ink %s, rules %.0f mm, neutral share %.3f", pp.hex, rule_mm, share)
    return pp


def split(arr: np.ndarray, dpi: float, pp: PrePrint) -> tuple[np.ndarray, np.ndarray]:
    """(values, labels): grey images of the page's neutral ink and of its pre-print ink."""
    bg = paper(arr, dpi)
    bg_log = cv2.resize(_LOG[np.maximum(bg, 1)], (arr.shape[1], arr.shape[0]), interpolation=cv2.INTER_LINEAR)
    values = np.empty(arr.shape[:2], dtype=np.uint8)
    labels = np.empty(arr.shape[:2], dtype=np.uint8)
    for y0 in range(0, arr.shape[0], STRIP_ROWS):
        y1 = min(arr.shape[0], y0 + STRIP_ROWS)
        v = _log_rel(arr[y0:y1], bg_log[y0:y1])
        s = v.mean(axis=2)
        t = v @ pp.hue  # the hue sums to 0: the neutral part drops out
        delta = np.maximum(pp.ink_darkness(t) - s, 0.0)  # darkness the pre-print ink does not explain
        values[y0:y1] = np.clip(255.0 * np.exp(-delta), 0, 255).astype(np.uint8)
        # a stroke's chroma dips in its middle (JPEG keeps colour at half resolution): the labels
        # image takes the strongest chroma of each pixel's 3x3 neighbourhood
        cover = np.clip((cv2.dilate(t, np.ones((3, 3), np.uint8)) - LABEL_T0) / max(1e-3, pp.solid_t - LABEL_T0), 0.0, 1.0)
        labels[y0:y1] = np.clip(255.0 - 215.0 * cover, 0, 255).astype(np.uint8)
    return values, labels


def route_regions(d: Dropout, quads: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The text-line quads to read from the values image, from the labels image, and from the
    page as it is (the OCR image).

    By the mean darkness of each quad's box in the values and labels images: a quad with values
    (their ink at least ROUTE_SHARE of the pre-print ink's there) is read from the values image,
    and also from the labels image when it holds labels too; a quad of pre-print ink alone (a
    label, a title) or of no ink is read from the page itself, where nothing lies over it."""
    h, w = d.values.shape
    to_values, to_labels, as_is = [], [], []
    for i, q in enumerate(quads):
        x0, y0 = (max(0, int(math.floor(float(t)))) for t in q.min(axis=0))
        x1, y1 = min(w, int(math.ceil(float(q[:, 0].max())))), min(h, int(math.ceil(float(q[:, 1].max()))))
        if x1 <= x0 or y1 <= y0:
            as_is.append(i)
            continue
        val = 255.0 - float(d.values[y0:y1, x0:x1].mean())
        lab = 255.0 - float(d.labels[y0:y1, x0:x1].mean())
        if val < ROUTE_MIN_DARK or val < ROUTE_SHARE * lab:
            as_is.append(i)
            continue
        to_values.append(i)
        if lab >= ROUTE_MIN_DARK and lab >= ROUTE_SHARE * val:
            to_labels.append(i)
    return quads[to_values], quads[to_labels], quads[as_is]


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """The share of box ``a``'s area that box ``b`` covers."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    area = max(1e-6, (a[2] - a[0]) * (a[3] - a[1]))
    return max(0.0, w) * max(0.0, h) / area


def _not_on_values(labels: list[OcrLine], values: list[OcrLine]) -> list[OcrLine]:
    """Lines of the labels image that do not lie on a value (there, a rule crossing the value
    reads as junk: labels and values do not share a place)."""
    return [ln for ln in labels
            if ln.conf >= LABEL_MIN_CONF and not any(_overlaps(ln.box, v.box) > LABEL_MAX_OVERLAP for v in values)]


def read_dropout(
    engine: OcrEngine,
    d: Dropout,
    page: np.ndarray,
    dpi: float,
    max_dpi: float,
    *,
    regions: np.ndarray | None = None,
    to_page: np.ndarray | None = None,
) -> list[OcrLine]:
    """OCR of a colour form (``page``: its usual OCR image), in one reading order: values from the
    values image, labels from the page where nothing lies over them, else from the labels image.
    With ``regions`` (an engine that recognises given text lines) each line is read from the image
    its ink says; otherwise the values and the labels image are read whole."""
    if regions is None:
        values = read_page(engine, d.values, dpi, max_dpi, to_page=to_page)
        labels = read_page(engine, d.labels, dpi, max_dpi, to_page=to_page)
        return reading_order(values + _not_on_values(labels, values))
    val_q, lab_q, as_is_q = route_regions(d, regions)
    values = read_page(engine, d.values, dpi, max_dpi, regions=val_q, to_page=to_page) if len(val_q) else []
    labels = read_page(engine, d.labels, dpi, max_dpi, regions=lab_q, to_page=to_page) if len(lab_q) else []
    rest = read_page(engine, page, dpi, max_dpi, regions=as_is_q, to_page=to_page) if len(as_is_q) else []
    if len(val_q):  # each value as the surer of its two readings: the values image's, the page's
        as_read = read_page(engine, page, dpi, max_dpi, regions=val_q, to_page=to_page)
        values = _surer(values, as_read, [affine_box(q, to_page) for q in val_q])
    return reading_order(values + _not_on_values(labels, values) + rest)


def _surer(a: list[OcrLine], b: list[OcrLine], regions: list[Box]) -> list[OcrLine]:
    """Per text region, the lines of reading ``a`` or of reading ``b``, whichever OCR is surer
    of (the sum of its characters' confidence: a reading that lost a character to a rule scores
    less; ``a`` on a tie)."""
    def by_region(lines: list[OcrLine]) -> dict[int, list[OcrLine]]:
        out: dict[int, list[OcrLine]] = {}
        for ln in lines:
            cx, cy = (ln.box[0] + ln.box[2]) / 2, (ln.box[1] + ln.box[3]) / 2
            inside = [i for i, r in enumerate(regions) if r[0] - 2 <= cx <= r[2] + 2 and r[1] - 2 <= cy <= r[3] + 2]
            out.setdefault(min(inside, key=lambda i: (regions[i][2] - regions[i][0]) * (regions[i][3] - regions[i][1]))
                           if inside else -1, []).append(ln)
        return out

    def sureness(lines: list[OcrLine]) -> float:  # characters read, weighed by confidence
        return sum(ln.conf * len(ln.text.replace(" ", "")) for ln in lines)

    ra, rb = by_region(a), by_region(b)
    out = ra.pop(-1, [])  # (a line outside every region: kept once)
    rb.pop(-1, None)
    for i in set(ra) | set(rb):
        la, lb = ra.get(i, []), rb.get(i, [])
        out += la if sureness(la) >= sureness(lb) else lb
    return out
