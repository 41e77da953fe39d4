"""Background cleaning keeps the labels of a pre-printed colour form and still fades the seals."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.preprocess import grey_for_ocr, to_array

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DPI = 200
MM = DPI / 25.4


def page(ink: tuple[int, int, int], seal: bool) -> tuple[Image.Image, tuple[int, int, int, int], tuple[int, int]]:
    """A tinted A5-ish page: labels in ``ink``, a black value, and optionally a red seal ring."""
    im = Image.new("RGB", (int(150 * MM), int(110 * MM)), (250, 238, 190))
    dr = ImageDraw.Draw(im)
    font = ImageFont.truetype(FONT, int(10 / 72 * DPI), index=2)
    label_box = (int(10 * MM), int(10 * MM), int(40 * MM), int(16 * MM))
    dr.text(label_box[:2], "车架号", font=font, fill=ink)
    dr.text((int(45 * MM), int(10 * MM)), "LSV2451V2HFH7BNJ4", font=font, fill=(20, 20, 20))
    dr.rectangle([int(5 * MM), int(5 * MM), int(145 * MM), int(20 * MM)], outline=ink, width=3)
    centre = (int(100 * MM), int(70 * MM))
    if seal:
        r = int(21 * MM)
        dr.ellipse([centre[0] - r, centre[1] - r, centre[0] + r, centre[1] + r], outline=(214, 29, 24), width=int(1.4 * MM))
        dr.text((centre[0] - int(12 * MM), centre[1] - int(3 * MM)), "业务专用章", font=font, fill=(214, 29, 24))
    return im, label_box, centre


def darkest(grey: np.ndarray, box: tuple[int, int, int, int]) -> int:
    x0, y0, x1, y1 = box
    return int(np.percentile(grey[y0:y1, x0:x1], 2))


@pytest.mark.parametrize("ink", [(200, 40, 45), (35, 70, 170), (30, 130, 70)], ids=["red", "blue", "green"])
def test_coloured_labels_stay_dark(ink: tuple[int, int, int]) -> None:
    im, label, _ = page(ink, seal=True)
    grey = grey_for_ocr(to_array(im), DPI)
    assert darkest(grey, label) < 130  # readable ink, not faded to the paper


def test_the_seal_is_still_faded() -> None:
    im, _, (cx, cy) = page((200, 40, 45), seal=True)
    grey = grey_for_ocr(to_array(im), DPI)
    ring = (cx - int(21 * MM) - 4, cy - 6, cx - int(21 * MM) + int(1.4 * MM) + 4, cy + 6)  # left edge of the ring
    assert darkest(grey, ring) > 180


def test_grey_pages_untouched() -> None:
    arr = np.full((100, 100), 200, dtype=np.uint8)
    assert grey_for_ocr(arr, DPI) is arr
