"""A bilevel scan (fax, black-and-white mode) is read through a slight blur; its lines are found unblurred."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from core.settings import Settings
from pipeline.ocr import get_engine, get_text_detector
from pipeline.preprocess import prepare, smooth_bilevel
from tests.helpers import CJK_FONT, CJK_FONT_SC

DPI = 200


def _page(grey: int) -> Image.Image:
    """A bilevel page of a few lines printed in ``grey``, dithered (light print becomes dots)."""
    im = Image.new("L", (1200, 700), 255)
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(CJK_FONT, round(10 / 72 * DPI), index=CJK_FONT_SC)
    for i, text in enumerate(("维修委托书", "车牌号码 鄂A32905", "进厂日期 2019-12-27", "工时费 1334.00")):
        draw.text((120, 80 + i * 130), text, fill=grey, font=font)
    return im.convert("1")  # Floyd-Steinberg


def _midtones(a: np.ndarray) -> float:
    return float(((a > 30) & (a < 225)).mean())


def test_dots_run_together_into_grey_strokes() -> None:
    dots = np.where(np.asarray(_page(200)), 255, 0).astype(np.uint8)
    out = smooth_bilevel(dots, DPI)
    assert _midtones(dots) == 0.0
    assert _midtones(out) > 0.002  # of a page mostly white
    # a 600 dpi fax is smoothed over as many millimetres: three times the pixels
    ink = np.zeros((60, 60), np.uint8) + 255
    ink[:, 30] = 0  # a one-pixel line
    assert smooth_bilevel(ink, 600)[30, 30] > smooth_bilevel(ink, 200)[30, 30]


@pytest.fixture(scope="module")
def detector() -> object:
    settings = Settings()
    return get_text_detector(get_engine(settings), settings)


def test_bilevel_page_read_smoothed_found_unsmoothed(detector: object) -> None:
    page = _page(120)
    bilevel = prepare(page, DPI, deskew=False, text_regions=True, detector=detector)  # type: ignore[arg-type]
    grey = prepare(page.convert("L"), DPI, deskew=False, text_regions=True, detector=detector)  # type: ignore[arg-type]
    # the archive keeps the page as scanned; the recogniser gets grey strokes
    assert bilevel.archive_image.mode == "1"
    assert np.array_equal(np.asarray(bilevel.archive_image), np.asarray(page))
    assert _midtones(bilevel.ocr_image) > 0.01
    assert _midtones(grey.ocr_image) < 0.001  # a grey page's 0/255 pixels are not smoothed
    # ... and the text lines are those found on the page unsmoothed
    assert bilevel.text_regions is not None and grey.text_regions is not None
    assert len(bilevel.text_regions) >= 4
    assert np.allclose(bilevel.text_regions, grey.text_regions)
