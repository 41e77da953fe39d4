"""Mixed raster content (MRC): a scanned page as a sharp text mask over two small colour layers.

The technique of DjVu and of the Internet Archive's ``archive-pdf-tools`` (which binarises with
Sauvola, downsamples the background by 3 and codes the mask in JBIG2). Here a page becomes

* a **mask** at the scan's full resolution, bilevel, CCITT G4 (no maintained JBIG2 *encoder*
  can be had from PyPI or Debian; G4 is lossless, allowed in PDF/A-1 and -2, and written by
  Pillow's libtiff): 1 where there is ink;
* a **background** (paper, shading, photos) with the ink removed and the holes filled from the
  surroundings, at ``background_dpi``, JPEG;
* a **foreground** holding the ink's colour, at ``foreground_dpi``, JPEG: it is painted
  through the mask, so black print stays black, a red seal red and blue handwriting blue.

In the PDF the background is drawn, then the foreground with the mask as its stencil
``/Mask`` (an explicit mask, not a soft mask: valid in PDF/A-1b, which forbids ``/SMask``, as
in PDF/A-2b).

Where the ink is: the page's paper level is estimated by a grey closing (as for the OCR's
background flattening); a pixel is ink where it is darker than its paper by a margin. Inside
the OCR's word boxes the margin is set per word, half way between the word's paper and its
darkest strokes, so faint print keeps its strokes; outside them only strong ink counts (table
rules, seals, signatures, handwriting the OCR did not read), so paper texture and JPEG noise
stay in the background.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, features

from core.models import Box
from pipeline.pdf_image import EncodedImage, encode_flate, encode_g4

# Outside word boxes a pixel is ink when darker than its paper by this fraction of the paper.
STRONG_INK = 0.30
# Inside a word box: by this fraction of (paper - the word's darkest percentile).
WORD_INK = 0.45
WORD_MIN_CONTRAST = 24  # grey levels; a box with less contrast has no ink worth a mask
CHROMA_INK = 70  # colour pages: max - min channel above this is coloured ink
WORD_PAD = 0.15  # word boxes grow by this fraction of their height on every side


@dataclass(frozen=True)
class MrcOptions:
    background_dpi: float = 100.0  # paper, shading and pictures
    min_dpi: float = 200.0  # coarser scans stay as they are: a bilevel mask of 150 dpi print loses legibility
    foreground_dpi: float = 100.0  # the ink's colour (the mask gives the shape; 50 dpi smears crossings)
    jpeg_quality: int = 50  # of the background and foreground layers


def applies(image: Image.Image, dpi: float, options: MrcOptions) -> bool:
    """Whether a page becomes MRC: grey or colour, scanned at ``min_dpi`` or finer (with 5 % slack)."""
    return image.mode in ("L", "RGB") and dpi >= options.min_dpi * 0.95


@dataclass(frozen=True)
class MrcLayers:
    background: EncodedImage
    foreground: EncodedImage | None  # None when the page has no ink
    mask: EncodedImage | None  # stencil, full resolution; decoded 0 = ink (painted)

    @property
    def size(self) -> int:
        return sum(len(e.data) for e in (self.background, self.foreground, self.mask) if e is not None)


def _paper(grey: np.ndarray, dpi: float) -> np.ndarray:
    """A smooth estimate of the paper under the ink (grey closing on a quarter-size copy)."""
    k = max(15, int(dpi / 6) | 1)
    small = cv2.resize(grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    bg = cv2.morphologyEx(
        small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k // 4 | 1, k // 4 | 1))
    )
    bg = cv2.GaussianBlur(bg, (0, 0), k / 16)
    return cv2.resize(bg, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)


def ink_margin(grey: np.ndarray, dpi: float, boxes: Iterable[Box]) -> np.ndarray:
    """How far each pixel of a grey page is past its ink threshold (float32; > 0 is ink).

    ``boxes`` are word boxes in its pixels."""
    paper = _paper(grey, dpi).astype(np.float32)
    dark = paper - grey.astype(np.float32)
    margin = dark - STRONG_INK * paper
    h, w = grey.shape
    for x0, y0, x1, y1 in boxes:
        pad = WORD_PAD * (y1 - y0)
        c0, r0 = max(0, int(x0 - pad)), max(0, int(y0 - pad))
        c1, r1 = min(w, int(np.ceil(x1 + pad))), min(h, int(np.ceil(y1 + pad)))
        if c1 - c0 < 2 or r1 - r0 < 2:
            continue
        d = dark[r0:r1, c0:c1]
        contrast = float(np.percentile(d, 98))
        if contrast < WORD_MIN_CONTRAST:
            continue
        np.maximum(margin[r0:r1, c0:c1], d - WORD_INK * contrast, out=margin[r0:r1, c0:c1])
    return margin


def ink_mask(grey: np.ndarray, dpi: float, boxes: Iterable[Box]) -> np.ndarray:
    """Boolean ink map of a grey page; ``boxes`` are word boxes in its pixels."""
    return ink_margin(grey, dpi, boxes) > 0


def _fill(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Push-pull fill of a weighted average: ``num / den`` where ``den`` (0..1) is high, else
    the value of the coarser neighbourhood (``num`` is the average premultiplied by ``den``)."""
    levels = []
    while min(den.shape[:2]) > 4:
        levels.append((num, den))
        size = ((den.shape[1] + 1) // 2, (den.shape[0] + 1) // 2)
        num, den = (
            cv2.resize(num, size, interpolation=cv2.INTER_AREA),
            cv2.resize(den, size, interpolation=cv2.INTER_AREA),
        )
    total = float(den.sum())
    channels = num.shape[2] if num.ndim == 3 else 1
    mean = num.reshape(-1, channels).sum(axis=0) / total if total > 0 else np.full(channels, 255.0)
    value = np.empty_like(num)
    value[...] = mean if num.ndim == 3 else mean[0]
    for num_k, den_k in reversed(levels):
        up = cv2.resize(value, (den_k.shape[1], den_k.shape[0]), interpolation=cv2.INTER_LINEAR)
        safe = np.maximum(den_k, 1e-3)
        own = num_k / (safe[..., None] if num_k.ndim == 3 else safe)
        # Cells with only a sliver of known pixels are uncertain (uint8 rounding): trust them less.
        trust = np.minimum(den_k * 4, 1.0)
        value = cv2.blendLinear(own, up, trust, 1.0 - trust)
    return value


def _layer(arr: np.ndarray, weight: np.ndarray, factor: int) -> np.ndarray:
    """``arr`` averaged over the pixels where ``weight`` (uint8 0/255) is set, ``factor`` times
    smaller (whole cells: the last partial row and column are left out); holes filled."""
    h, w = (arr.shape[0] // factor) * factor, (arr.shape[1] // factor) * factor
    arr, weight = arr[:h, :w], weight[:h, :w]
    size = (max(1, w // factor), max(1, h // factor))
    sel = cv2.bitwise_and(arr, arr, mask=weight)
    num = cv2.resize(sel, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    den = cv2.resize(weight, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return np.clip(_fill(num, den) + 0.5, 0, 255).astype(np.uint8)


def _u8(cond: np.ndarray) -> np.ndarray:
    """A boolean map as an OpenCV mask (0 / 255)."""
    return cond.astype(np.uint8) * np.uint8(255)


def _jpeg(arr: np.ndarray, quality: int, *, full_chroma: bool = False) -> EncodedImage:
    im = Image.fromarray(arr)
    buf = io.BytesIO()
    # 4:2:0 halves the colour resolution again: fine for paper, not for the ink layer, where a
    # red seal crosses black print and blue handwriting within a few pixels.
    im.save(buf, "JPEG", quality=quality, optimize=True, subsampling=0 if full_chroma else 2)
    return EncodedImage(
        data=buf.getvalue(),
        width=im.width,
        height=im.height,
        colour_space="DeviceRGB" if arr.ndim == 3 else "DeviceGray",
        bits=8,
        filter="DCTDecode",
    )


def split_page(image: Image.Image, dpi: float, boxes: Iterable[Box], options: MrcOptions) -> MrcLayers:
    """The MRC layers of a grey ("L") or colour ("RGB") page; ``boxes``: OCR word boxes in its pixels.

    Callers keep pages scanned coarser than ``options.min_dpi`` as they are (see ``applies``)."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB" if image.mode in ("P", "RGBA", "CMYK") else "L")
    arr = np.asarray(image)
    grey = cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY) if arr.ndim == 3 else arr
    h, w = grey.shape
    margin = ink_margin(grey, dpi, boxes)
    if arr.ndim == 3:  # coloured ink (seals, pens) counts even where it is not very dark
        r, g, b = cv2.split(arr)
        chroma = cv2.subtract(cv2.max(cv2.max(r, g), b), cv2.min(cv2.min(r, g), b))
        np.maximum(margin, np.asarray(chroma, dtype=np.float32) - CHROMA_INK, out=margin)
    ink = margin > 0
    ink8 = _u8(ink)
    bg_factor = max(1, round(dpi / options.background_dpi))  # whole factors: fast, exact cells
    fg_factor = max(1, round(dpi / options.foreground_dpi))
    # The background must not keep the ink's halo: leave out a pixel or two around it.
    grow = max(1, round(dpi / 150))
    near_ink = np.asarray(
        cv2.dilate(ink8, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * grow + 1, 2 * grow + 1)))
    )
    background = _jpeg(_layer(arr, _u8(near_ink == 0), bg_factor), options.jpeg_quality)
    if not ink.any():
        return MrcLayers(background, None, None)
    # The ink's colour from the stroke cores (the darker 60 % of ink pixels), so anti-aliased
    # edges do not pale it; ink away from any core (light strokes) keeps its own colour.
    hist = np.asarray(cv2.calcHist([grey], [0], ink8, [256], [0, 256])).ravel().cumsum()
    level = int(np.searchsorted(hist, 0.6 * hist[-1]))
    core = ink & (grey <= level)
    lone = ink & (np.asarray(cv2.dilate(_u8(core), np.ones((3, 3), np.uint8))) == 0)
    foreground = _jpeg(_layer(arr, _u8(core | lone), fg_factor), options.jpeg_quality, full_chroma=True)
    # A mask finer than the scan (drawn from the interpolated margin) was tried: the copy's
    # re-OCR got worse (CER 0.0256 against 0.0181 at the scan's dpi on wo07_013), not better.
    mask_img = Image.fromarray(_u8(~ink)).convert("1", dither=Image.Dither.NONE)
    mask = encode_g4(mask_img) if features.check("libtiff") else encode_flate(mask_img)
    return MrcLayers(background, foreground, mask)
