"""Colour dropout (pipeline/dropout.py) on generated pre-printed colour forms, with real OCR.

Each form has its labels and rules printed in one ink (red, blue, green) on tinted paper and its
values printed in black over them, out of register: the row's rule runs through the values and
the column's rule through their first character, as on a dealer's form filled in by a dot-matrix
printer. The values must be read right from the dropout and the labels still found.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from core.settings import Settings
from pipeline.dropout import read_dropout
from pipeline.ocr import get_engine, read_page
from pipeline.preprocess import prepare

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DPI = 200
MM = DPI / 25.4
INKS = {"red": (200, 40, 45), "blue": (35, 70, 170), "green": (30, 130, 70)}
PAPERS = {"red": (250, 238, 190), "blue": (215, 232, 250), "green": (250, 222, 226)}
ROWS = (("客户名称", "邱思"), ("品牌车型", "卡罗拉1.2T精英版"), ("车牌号码", "粤B·D12345"), ("服务顾问", "谢斌怡"))
ROW_MM = 9.0


def px(mm: float) -> int:
    return round(mm * MM)


def form(ink: tuple[int, int, int] | None, paper: tuple[int, int, int], *, values_ink: tuple[int, int, int] = (25, 25, 25),
         offset: tuple[float, float] = (-2.0, -3.0)) -> Image.Image:
    """A colour form's info block: labels and rules in ``ink`` (None: black, a plain form) on
    ``paper``, values in ``values_ink`` printed ``offset`` mm off their cells (rules through them)."""
    size = (px(150), px(12 + ROW_MM * len(ROWS)))
    pre = Image.new("RGB", size, (255, 255, 255))
    dr = ImageDraw.Draw(pre)
    lab_font = ImageFont.truetype(FONT, round(10 / 72 * DPI), index=2)
    val_font = ImageFont.truetype(FONT, round(11 / 72 * DPI), index=2)
    colour = ink or (20, 20, 20)
    x0, x1, x2, top = px(5), px(35), px(145), px(6)
    for i, (label, _) in enumerate(ROWS):
        y = top + px(i * ROW_MM)
        dr.text((x0 + px(2), y + px(2)), label, font=lab_font, fill=colour)
        dr.line([(x0, y), (x2, y)], fill=colour, width=px(0.4))
    bottom = top + px(len(ROWS) * ROW_MM)
    dr.line([(x0, bottom), (x2, bottom)], fill=colour, width=px(0.4))
    for x in (x0, x1, x2):
        dr.line([(x, top), (x, bottom)], fill=colour, width=px(0.4))
    values = Image.new("RGB", size, (255, 255, 255))
    dv = ImageDraw.Draw(values)
    dx, dy = offset
    for i, (_, value) in enumerate(ROWS):
        y = top + px(i * ROW_MM)
        dv.text((x1 + px(1 + dx), y + px(2 + dy)), value, font=val_font, fill=values_ink)
    page = ImageChops.multiply(ImageChops.multiply(pre, values), Image.new("RGB", size, paper))
    page = page.filter(ImageFilter.GaussianBlur(0.7))
    rng = np.random.default_rng(7)
    arr = np.asarray(page, dtype=np.float32) + rng.normal(0, 3, (size[1], size[0], 3))
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


def ocr_text(im: Image.Image, dropout: bool) -> tuple[str, bool]:
    """The OCR text of a page as ingest reads it, and whether the dropout was used."""
    settings = Settings()
    engine = get_engine(settings)
    prep = prepare(im, DPI, text_regions=engine.uses_text_regions, dropout=dropout)
    if prep.dropout is not None:
        lines = read_dropout(engine, prep.dropout, prep.ocr_image, DPI, settings.ocr_max_dpi,
                             regions=prep.text_regions, to_page=prep.to_archive)
    else:
        lines = read_page(engine, prep.ocr_image, DPI, settings.ocr_max_dpi, regions=prep.text_regions,
                          to_page=prep.to_archive)
    return "\n".join(ln.text for ln in lines).replace(" ", ""), prep.dropout is not None


@pytest.mark.parametrize("name", ["red", "blue", "green"])
def test_values_read_through_the_dropout_labels_still_found(name: str) -> None:
    page = form(INKS[name], PAPERS[name])
    text, used = ocr_text(page, dropout=True)
    assert used
    for label, value in ROWS:
        assert label in text
        assert value.replace("·", "") in text.replace("·", "")
    # the form is a hard one: read as it is, the rules through the values make OCR misread them
    # (邱思 -> 邮思, 粤B·D12345 -> B·D12345 when measured)
    plain, used = ocr_text(page, dropout=False)
    assert not used
    assert any(value.replace("·", "") not in plain.replace("·", "") for _, value in ROWS)


@pytest.mark.parametrize("name", ["red", "blue", "green"])
def test_the_dropout_images_separate_the_inks(name: str) -> None:
    prep = prepare(form(INKS[name], PAPERS[name]), DPI, orient=False, deskew=False, dropout=True)
    assert prep.dropout is not None
    values, labels = prep.dropout.values, prep.dropout.labels
    label_cell = (slice(px(8), px(12)), slice(px(7), px(30)))  # the first label, no value over it
    rule = (slice(px(6 + 3 * ROW_MM) - 2, px(6 + 3 * ROW_MM) + 3), slice(px(100), px(140)))  # a rule, no value on it
    assert np.percentile(values[label_cell], 2) > 200  # the label is gone from the values image
    assert np.percentile(values[rule], 2) > 200
    assert np.percentile(labels[label_cell], 2) < 120  # and dark in the labels image
    value_cell = (slice(px(6), px(12)), slice(px(36), px(50)))  # the first value (邱思)
    assert np.percentile(values[value_cell], 2) < 120


@pytest.mark.parametrize(
    ("case", "page"),
    [
        ("plain black form, colour scan", lambda: form(None, (250, 248, 241))),
        ("black form, values in blue pen", lambda: form(None, (250, 248, 241), values_ink=(25, 35, 110))),
        ("carbon copy: everything one colour", lambda: form((70, 60, 150), (250, 248, 241), values_ink=(70, 60, 150))),
        ("grey scan of a colour form", lambda: form(INKS["red"], PAPERS["red"]).convert("L")),
        ("bilevel scan of a colour form", lambda: form(INKS["blue"], PAPERS["blue"]).convert("L").point(lambda v: 255 if v > 150 else 0).convert("1")),
    ],
)
def test_pages_that_are_no_colour_form_are_read_as_before(case: str, page: object) -> None:
    im = page()  # type: ignore[operator]
    prep = prepare(im, DPI, orient=False, deskew=False, dropout=True)
    assert prep.dropout is None, case
    plain = prepare(im, DPI, orient=False, deskew=False, dropout=False)
    assert np.array_equal(prep.ocr_image, plain.ocr_image)
