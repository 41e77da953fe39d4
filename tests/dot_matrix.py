"""Dot-matrix value cells of a pre-printed colour form, drawn for the tests of the values' second
pass and of the fine recogniser (both read them with the real recognisers)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SERIF = ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2)


def dot_cell(value: str, *, dpi: int = 200, shift_mm: float = 0.0, rule: tuple[int, int, int] = (35, 70, 170),
             paper: tuple[int, int, int] = (250, 238, 190), bilevel: bool = False) -> tuple[Image.Image, float]:
    """A pre-printed form's value cell in colour on tinted paper, the value printed over it by a
    dot-matrix printer (strokes made of dots, about 0.4 mm apart) ``shift_mm`` from the cell's
    left rule (negative: onto it). Returns the image and the text line's height."""
    mm = dpi / 25.4
    width, height = round(75 * mm), round(11 * mm)
    left, top, bottom = 6 * mm, 1.5 * mm, 9.5 * mm
    text = Image.new("L", (width, height), 255)
    ImageDraw.Draw(text).text((left + 1.2 * mm + shift_mm * mm, (top + bottom) / 2), value, anchor="lm", fill=0,
                              font=ImageFont.truetype(SERIF[0], round(10 / 72 * dpi), index=SERIF[1]))
    pitch = max(3, round(dpi / 60))
    grid = (np.arange(height)[:, None] % pitch < pitch - 1) & (np.arange(width)[None, :] % pitch < pitch - 1)
    dark = (255.0 - np.asarray(text, dtype=np.float32)) * 1.6 * grid * 0.8
    dots = Image.fromarray((255 - dark).clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.3 * dpi / 200))
    form = Image.new("RGB", (width, height), paper)
    dr = ImageDraw.Draw(form)
    for xy in ([(left, 0), (left, height)], [(0, top), (width, top)], [(0, bottom), (width, bottom)]):
        dr.line(xy, fill=rule, width=max(2, round(0.25 * mm)))
    arr = np.asarray(form, dtype=np.float32) * (np.asarray(dots, dtype=np.float32)[..., None] / 255.0)
    im = Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    if bilevel:
        im = im.convert("L").point(lambda v: 255 if v > 150 else 0).convert("1")
    return im, 0.5 * (bottom - top)
