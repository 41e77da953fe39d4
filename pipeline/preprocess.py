"""Preprocessing with OpenCV: orientation (0/90/180/270), deskew, background normalisation.

The archive image is the original page only rotated and deskewed; the cleaned image (flat
background, red seals faded) is used for OCR alone. With an engine that recognises given text
regions, the OCR image is only turned upright, not deskewed: the regions found while deciding
the orientation are cut out of it with their own slant, and the words' boxes are mapped into
the deskewed page by ``Prepared.to_archive``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from pipeline.dropout import Dropout, detect_preprint, split
from pipeline.ocr.rapid import DEFAULT_RUNTIME, PpOcrDetector, rapidocr_models
from pipeline.orientation import TextDetector, TextLayout, analyse_layout

log = logging.getLogger(__name__)

ANALYSIS_WIDTH = 1000  # pixels: enough for 0.02 degree resolution, cheap to rotate


IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


@dataclass
class Prepared:
    archive_image: Image.Image  # upright, deskewed; same mode as the input
    ocr_image: np.ndarray  # grey uint8, background flattened, red faded, upright; a bilevel page smoothed
    rotation: int  # clockwise degrees applied
    skew: float  # counter-clockwise degrees applied
    text_regions: np.ndarray | None = None  # text-line quads in ocr_image pixels, when asked for
    to_archive: np.ndarray = field(default_factory=lambda: IDENTITY.copy())  # 2x3: ocr_image -> archive pixels
    dropout: Dropout | None = None  # a colour form's values and labels images (geometry of ocr_image)


def to_array(im: Image.Image) -> np.ndarray:
    if im.mode == "1":
        return np.where(np.asarray(im), 255, 0).astype(np.uint8)
    if im.mode == "RGB":
        return cv2.cvtColor(np.asarray(im), cv2.COLOR_RGB2BGR)
    return np.asarray(im.convert("L"))


def resize_by(img: np.ndarray, f: float) -> np.ndarray:
    """``img`` scaled by ``f`` (area interpolation), never to less than one pixel a side."""
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def grey_for_ocr(arr: np.ndarray, dpi: float = 200.0) -> np.ndarray:
    """Grey image in which red seals are faded: the red channel makes red look light.

    Only the seals: red ink elsewhere (the labels and rules of a pre-printed colour form) keeps
    its grey value, so OCR still reads those labels. A seal is a red ring 30-60 mm across
    (``_seal_mask``).
    """
    return _grey_and_seals(arr, dpi)[0]


def _grey_and_seals(arr: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray | None]:
    """``grey_for_ocr`` and the mask of the seals' red pixels it faded (None: a grey page)."""
    if arr.ndim == 2:
        return arr, None
    b, g, r = cv2.split(arr)
    grey = cv2.cvtColor(arr, cv2.COLOR_BGR2GRAY)
    reddish = (r.astype(np.int16) - np.maximum(g, b).astype(np.int16)) > 40
    out = grey.copy()
    seals = _seal_mask(reddish, dpi)
    fade = reddish & seals
    out[fade] = r[fade]
    return out, fade


def _seal_mask(reddish: np.ndarray, dpi: float) -> np.ndarray:
    """Where the seals are: red rings 30-60 mm across (a Hough circle on the red mask), as discs."""
    scale = 0.25
    small = resize_by(reddish.astype(np.uint8) * 255, scale)
    px_mm = dpi * scale / 25.4
    out = np.zeros(reddish.shape, dtype=bool)
    if int(np.count_nonzero(small > 60)) < 200 * px_mm * px_mm:  # less red ink than one seal's ring
        return out
    circles = cv2.HoughCircles(cv2.GaussianBlur(small, (5, 5), 1.5), cv2.HOUGH_GRADIENT, dp=1, minDist=30 * px_mm,
                               param1=100, param2=25, minRadius=int(15 * px_mm), maxRadius=int(30 * px_mm))
    if circles is None:
        return out
    mask = np.zeros(small.shape, dtype=np.uint8)
    for cx, cy, rad in circles[0][:10]:
        ring = np.zeros_like(mask)
        cv2.circle(ring, (int(cx), int(cy)), int(rad), 255, max(2, int(4 * px_mm)))
        on = float(np.count_nonzero((ring > 0) & (small > 60))) / max(1.0, float(np.count_nonzero(ring)))
        if on >= 0.3:  # a seal's ring is red most of the way round; chance arcs of red text are not
            cv2.circle(mask, (int(cx), int(cy)), int(rad + 4 * px_mm), 255, -1)
    if mask.any():
        out = cv2.resize(mask, (reddish.shape[1], reddish.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    return out


def flatten_background(grey: np.ndarray, dpi: float) -> np.ndarray:
    """Divide by a smooth estimate of the paper so uneven lighting and grey paper become white."""
    k = max(15, int(dpi / 6) | 1)  # larger than a character stroke, smaller than shading
    small = resize_by(grey, 0.25)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k // 4 | 1, k // 4 | 1)))
    bg = cv2.GaussianBlur(bg, (0, 0), k / 8)
    bg = cv2.resize(bg, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
    norm = cv2.divide(grey, np.maximum(bg, 1), scale=255)
    return norm


CONTRAST_TILE = 16  # tiles across each side of the page: a few text lines high


def local_contrast(grey: np.ndarray, clip: float) -> np.ndarray:
    """The page with its contrast raised tile by tile (CLAHE, clip limit ``clip``): a dot-matrix
    value printed with a worn ribbon (ink at ~215 on paper at ~232: 236 on 255 once the background
    is flattened) becomes dark enough for the text detector to find its line; on the page as it
    is, it found none of ``wo11005_026``'s five costs."""
    return np.asarray(cv2.createCLAHE(clipLimit=clip, tileGridSize=(CONTRAST_TILE, CONTRAST_TILE)).apply(grey))


# light ink (170-234 once the paper is flattened) per dark pixel (under 140): up to ~40 on the
# generated sets' pages of any print, over 800 on those printed with a worn ribbon or scanned faint
FAINT_SHARE = 200.0


def faint_print(flat: np.ndarray) -> bool:
    """The page's print is faint throughout: its ink is light grey, next to none of it dark."""
    dark = int(np.count_nonzero(flat < 140))
    light = int(np.count_nonzero((flat >= 170) & (flat < 235)))
    return light > FAINT_SHARE * max(1, dark)


BILEVEL_SIGMA = 1.0  # pixels at 200 dpi: the Gaussian a bilevel page is read through


def smooth_bilevel(img: np.ndarray, dpi: float) -> np.ndarray:
    """A bilevel scan (a fax, a scanner's black-and-white mode) smoothed to grey for the
    recogniser, about a pixel at 200 dpi: the recognition models were trained on grey images, and
    a fax's dithered light print is dots that run together into strokes (measured on the bilevel
    documents of the held-out sets, docs/benchmarks.md "rules 8"). The text lines are found on the
    unsmoothed page: smoothed for detection as well it read one field fewer, for detection alone
    four fewer than unsmoothed."""
    return np.asarray(cv2.GaussianBlur(img, (0, 0), BILEVEL_SIGMA * dpi / 200.0), dtype=np.uint8)


def estimate_skew(grey: np.ndarray, max_angle: float = 10.0) -> float:
    """Counter-clockwise rotation (degrees) that makes text lines horizontal.

    Projection-profile search, coarse to fine, maximising the variance of the row sums of the
    ink image. The ink image is linearly interpolated, not binarised: a binary image's profile
    aliases at sub-pixel shifts and biased the estimate by about 0.15 degrees.
    """
    scale = min(1.0, ANALYSIS_WIDTH / max(grey.shape[:2]))
    small = resize_by(grey, scale) if scale < 1 else grey
    # Ink is darkness relative to the local paper, not absolute darkness: a dark scanner bed
    # around a skewed sheet would otherwise dominate the profile and pin the answer at 0.
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    ink = cv2.subtract(paper, small).astype(np.float32)
    # The edge between the sheet and a dark scanner bed is a long straight line in the scanner's
    # frame, not the page's: blank out the bed and a margin around it.
    dark = (small < 0.8 * float(np.median(small))).astype(np.uint8)
    bed = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (25, 25)))
    if bed.any():
        ink[cv2.dilate(bed, cv2.getStructuringElement(cv2.MORPH_RECT, (31, 31))) > 0] = 0
    # Likewise a thin strip of bed along the frame's edge: the outer 2.5% never decides the angle.
    m = max(2, int(0.025 * max(ink.shape)))
    ink[:m], ink[-m:], ink[:, :m], ink[:, -m:] = 0, 0, 0, 0
    if float(ink.max()) < 32:
        return 0.0
    coarse = resize_by(ink, 0.5)

    def score(img: np.ndarray, angle: float) -> float:
        h, w = img.shape
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), 1.0)
        rows = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0).sum(axis=1)
        return float((rows * rows).sum())

    # A fine coarse grid on a half-size copy: the peak is narrow (about 0.3 degrees wide on
    # faint carbon copies); the best few local maxima are refined at full size, since a fold or
    # the paper's edge can make a rival peak that wins at half size.
    angles = np.arange(-max_angle, max_angle + 0.1, 0.2)
    scores = np.array([score(coarse, a) for a in angles])
    peaks = [i for i in range(len(scores)) if scores[i] >= scores[max(i - 1, 0)] and scores[i] >= scores[min(i + 1, len(scores) - 1)]]
    candidates = sorted(peaks, key=lambda i: -scores[i])[:3]
    best, best_score = 0.0, -1.0
    for start in (float(angles[i]) for i in candidates):
        cand = start
        for step, span in ((0.05, 0.25), (0.01, 0.05)):
            fine = np.arange(cand - span, cand + span + step / 2, step)
            fine_scores = [score(ink, a) for a in fine]
            cand = float(fine[int(np.argmax(fine_scores))])
        top = max(fine_scores)
        if top > best_score:
            best, best_score = cand, top
    return round(best, 2)


def rotate_bound(arr: np.ndarray, angle: float, fill: int | tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rotate counter-clockwise by ``angle`` degrees, enlarging the canvas so nothing is cut.

    Returns the rotated image and the 2x3 affine map from input to output pixels.
    """
    h, w = arr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos + 0.5), int(h * cos + w * sin + 0.5)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(arr, m, (nw, nh), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    return out, m


def _rot90_cw(arr: np.ndarray, degrees: int) -> np.ndarray:
    return np.rot90(arr, k=-(degrees // 90) % 4).copy() if degrees else arr


def prepare(
    im: Image.Image,
    dpi: float,
    *,
    deskew: bool = True,
    max_skew: float = 10.0,
    orient: bool = True,
    text_regions: bool = False,
    ocr_runtime: str = DEFAULT_RUNTIME,
    detector: TextDetector | None = None,
    dropout: bool = False,
    detect_contrast: float = 0.0,
) -> Prepared:
    """Turn a page upright and deskew it; with ``text_regions``, also hand on the text-line quads.

    ``detector`` finds the text lines for both (``pipeline.ocr.get_text_detector``); without it,
    the ``ocr_runtime``'s full PP-OCR models do (see ``pipeline.ocr.rapid``). With ``dropout``, a
    colour scan of a pre-printed colour form also gets ``Prepared.dropout`` (``pipeline.dropout``).
    With ``detect_contrast`` > 0, a grey or colour page of faint print (``faint_print``) has its
    text lines found on the page with its local contrast raised (``local_contrast``); they are read
    on the page as it is. Other pages are found as they are, so their lines are read as before."""
    arr = to_array(im)
    grey, seals = _grey_and_seals(arr, dpi)
    flat = flatten_background(grey, dpi)
    if orient or text_regions:
        faint = detect_contrast > 0 and im.mode != "1" and faint_print(flat)
        found_on = local_contrast(flat, detect_contrast) if faint else flat
        layout = analyse_layout(found_on, detector or PpOcrDetector(rapidocr_models(1, ocr_runtime)), orient=orient)
    else:
        layout = TextLayout(0, np.zeros((0, 4, 2)))
    if im.mode == "1":
        flat = smooth_bilevel(flat, dpi)
    rotation = layout.rotation
    arr, grey, flat = (_rot90_cw(a, rotation) for a in (arr, grey, flat))
    skew = estimate_skew(grey, max_skew) if deskew else 0.0
    if abs(skew) < 0.05:
        skew = 0.0
    drop = None
    if dropout and seals is not None:  # a colour page (upright, not yet deskewed)
        drop = _dropout(arr, flat, _rot90_cw(seals, rotation), dpi, skew)
    to_archive = IDENTITY.copy()
    if skew:
        fill: int | tuple[int, int, int] = (255, 255, 255) if arr.ndim == 3 else 255
        arr, deskew_map = rotate_bound(arr, skew, fill)
        if text_regions:
            to_archive = deskew_map
        else:
            flat, _ = rotate_bound(flat, skew, 255)
            if drop is not None:
                drop.values, _ = rotate_bound(drop.values, skew, 255)
                drop.labels, _ = rotate_bound(drop.labels, skew, 255)
    if im.mode == "RGB":
        archive = Image.fromarray(cv2.cvtColor(arr, cv2.COLOR_BGR2RGB))
    elif im.mode == "1":
        archive = Image.fromarray(arr).convert("1", dither=Image.Dither.NONE)
    else:
        archive = Image.fromarray(arr)
    return Prepared(archive, flat, rotation, skew, layout.quads if text_regions else None, to_archive, drop)


def _dropout(arr: np.ndarray, flat: np.ndarray, seals: np.ndarray, dpi: float, skew: float) -> Dropout | None:
    """The colour dropout images of a colour form (``pipeline.dropout``), or None for other pages.
    Seals stay faded in the values image and are no label."""
    pp = detect_preprint(arr, dpi, exclude=seals, skew=skew)
    if pp is None:
        return None
    values, labels = split(arr, dpi, pp)
    if seals.any():
        values[seals] = np.maximum(values[seals], flat[seals])
        labels[seals] = 255
    return Dropout(values, labels, pp)
