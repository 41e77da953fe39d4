"""Faint values (a worn dot-matrix ribbon) are found when the page's local contrast is raised for
the text detector; the page the recogniser reads is the page as it is."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from core.settings import Settings
from pipeline.ocr import get_engine, get_text_detector
from pipeline.preprocess import prepare
from tests.helpers import CJK_FONT, CJK_FONT_SC

DPI = 200
VALUES = (200, 320)  # the rows the values are printed in


def _costs_row(value_grey: int, label_grey: int = 185, paper: int = 232) -> Image.Image:
    """Labels over values, on grey paper; a faint copy (wo11005_026) has both light: its values at
    ~215 on paper at ~232."""
    im = Image.new("L", (1400, 600), paper)
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(CJK_FONT, round(10 / 72 * DPI), index=CJK_FONT_SC)
    for i, (label, value) in enumerate((("人工费", "¥864.00"), ("配件费", "¥1,582.64"), ("合计", "¥2,481.64"))):
        draw.text((100 + 420 * i, 150), label, fill=label_grey, font=font)
        draw.text((120 + 420 * i, 230), value, fill=value_grey, font=font)
    return im


@pytest.fixture(scope="module")
def detector() -> object:
    settings = Settings()
    return get_text_detector(get_engine(settings), settings)


def _value_lines(page: Image.Image, contrast: float, detector: object) -> int:
    p = prepare(page, DPI, deskew=False, orient=False, text_regions=True, detector=detector,  # type: ignore[arg-type]
                detect_contrast=contrast)
    assert p.text_regions is not None
    return sum(1 for q in p.text_regions if VALUES[0] <= q[:, 1].mean() <= VALUES[1])


@pytest.mark.parametrize(("value_grey", "label_grey", "plain", "raised"), [
    (220, 185, 0, 3),  # a faint copy: its values too faint for the detector on the page as it is
    (150, 60, 3, 3),  # dark print: found either way, on the page as it is
    # faint values beside dark labels: not a faint page, so not raised (the lines found on a page
    # of dark print stay the lines found before; raising every page's contrast changed a few of
    # them, measured in docs/benchmarks.md)
    (220, 60, 0, 0),
])
def test_faint_values_are_found_with_the_contrast_raised(value_grey: int, label_grey: int, plain: int, raised: int,
                                                          detector: object) -> None:
    page = _costs_row(value_grey, label_grey)
    assert (_value_lines(page, 0.0, detector), _value_lines(page, Settings().detect_contrast, detector)) == (plain, raised)


def test_faint_print_is_told_from_the_page() -> None:
    from pipeline.preprocess import faint_print, flatten_background

    def flat(value_grey: int, label_grey: int) -> np.ndarray:
        return flatten_background(np.asarray(_costs_row(value_grey, label_grey)), DPI)

    assert faint_print(flat(220, 185)) and not faint_print(flat(150, 60)) and not faint_print(flat(220, 60))


def test_the_recogniser_reads_the_page_as_it_is(detector: object) -> None:
    page = _costs_row(220)
    plain = prepare(page, DPI, deskew=False, orient=False, text_regions=True, detector=detector)  # type: ignore[arg-type]
    raised = prepare(page, DPI, deskew=False, orient=False, text_regions=True, detector=detector,  # type: ignore[arg-type]
                     detect_contrast=2.0)
    assert np.array_equal(plain.ocr_image, raised.ocr_image)
