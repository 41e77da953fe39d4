"""MRC archive pages (issue 13): layers, colours kept under the mask, PDF/A validity."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from pikepdf import pdfa
from PIL import Image, ImageDraw

from app.ingest import mrc_options
from core.settings import Settings
from pipeline.mrc import MrcOptions, ink_mask, split_page
from pipeline.pdfa import ArchivePage
from tests.helpers import DPI, pdftotext, render_page, text_lines, write
from tests.pdfbox import preflight_1b

MRC = MrcOptions()


def render_rgb(path: Path, dpi: int, page: int = 1) -> np.ndarray:
    out = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    return np.asarray(Image.open(io.BytesIO(out)).convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def page_rgb():
    image, text = render_page("RGB")
    draw = ImageDraw.Draw(image)
    # blue handwriting outside every word box, as a mileage written in by hand
    draw.line([(300, 1500), (380, 1420), (460, 1500), (540, 1420)], fill=(30, 40, 170), width=5)
    return image, text


def test_colour_page_is_split_into_three_layers_and_keeps_its_colours(tmp_path: Path, page_rgb) -> None:
    image, text = page_rgb
    out = write(tmp_path / "mrc.pdf", [(ArchivePage(image, DPI), text)], level="2b", mrc=MRC)
    assert pdfa.validate_written(out, "2b").passed
    with pikepdf.open(out) as pdf:
        xobjects = pdf.pages[0].Resources.XObject
        bg, fg = xobjects["/Im0"], xobjects["/Im1"]
        mask = fg.Mask
        assert (bg.Filter, fg.Filter, mask.Filter) == ("/DCTDecode", "/DCTDecode", "/CCITTFaxDecode")
        assert mask.ImageMask is True and "/SMask" not in fg
        assert (int(mask.Width), int(mask.Height)) == image.size  # the mask keeps the scan's resolution
        assert int(bg.Width) == image.width // round(DPI / MRC.background_dpi)
        assert int(fg.Width) == image.width // round(DPI / MRC.foreground_dpi)
    # the text layer is untouched
    assert text_lines(pdftotext(out)) == [line.text for line in text.lines]
    shown = render_rgb(out, DPI)
    orig = np.asarray(image, dtype=np.int16)
    assert shown.shape == orig.shape
    # the seal ring stays red, the handwriting blue, the print black, the paper white
    red = (orig[..., 0] > 180) & (orig[..., 1] < 60)
    blue = (orig[..., 2] > 140) & (orig[..., 0] < 60)
    black = orig.max(axis=2) < 40
    assert red.sum() > 1000 and blue.sum() > 500 and black.sum() > 5000
    r, g, b = (shown[red][:, i].mean() for i in range(3))
    assert r > 150 and r - max(g, b) > 80, (r, g, b)
    r, g, b = (shown[blue][:, i].mean() for i in range(3))
    assert b > 110 and b - max(r, g) > 60, (r, g, b)
    assert shown[black].mean() < 70
    paper = orig.min(axis=2) > 250
    assert shown[paper].mean() > 240
    # and the page looks like the scan: few pixels far off
    far = np.abs(shown - orig).max(axis=2) > 96
    assert far.mean() < 0.01


def test_1b_mrc_page_passes_pdfbox_preflight(tmp_path: Path, page_rgb) -> None:
    image, text = page_rgb
    out = write(tmp_path / "a.pdf", [(ArchivePage(image, DPI), text)], level="1b", mrc=MRC)
    valid, report = preflight_1b(out)
    assert valid, report
    assert pdfa.validate_written(out, "1b").passed


def test_bilevel_pages_stay_g4_and_blank_pages_have_no_mask(tmp_path: Path) -> None:
    image, text = render_page("1", dpi=100)
    faithful = write(tmp_path / "f.pdf", [(ArchivePage(image, 100), text)])
    mrc = write(tmp_path / "m.pdf", [(ArchivePage(image, 100), text)], mrc=MRC)
    with pikepdf.open(faithful) as f, pikepdf.open(mrc) as m:
        assert list(m.pages[0].Resources.XObject.keys()) == ["/Im0"]
        im_f, im_m = f.pages[0].Resources.XObject["/Im0"], m.pages[0].Resources.XObject["/Im0"]
        assert im_m.Filter == "/CCITTFaxDecode"
        assert im_m.read_raw_bytes() == im_f.read_raw_bytes()
    blank = Image.new("L", (400, 500), 235)
    layers = split_page(blank, 100, [], MRC)
    assert layers.mask is None and layers.foreground is None


def test_scans_coarser_than_min_dpi_keep_the_faithful_encoding(tmp_path: Path) -> None:
    image, text = render_page("L", dpi=150)
    faithful = write(tmp_path / "f.pdf", [(ArchivePage(image, 150), text)])
    mrc = write(tmp_path / "m.pdf", [(ArchivePage(image, 150), text)], mrc=MRC)
    with pikepdf.open(faithful) as f, pikepdf.open(mrc) as m:
        assert list(m.pages[0].Resources.XObject.keys()) == ["/Im0"]
        assert m.pages[0].Resources.XObject["/Im0"].read_raw_bytes() == f.pages[0].Resources.XObject["/Im0"].read_raw_bytes()
    coarse = MrcOptions(min_dpi=150)
    mrc = write(tmp_path / "m2.pdf", [(ArchivePage(image, 150), text)], mrc=coarse)
    with pikepdf.open(mrc) as m:
        assert "/Im1" in m.pages[0].Resources.XObject


def test_faint_print_is_ink_inside_word_boxes_only() -> None:
    grey = np.full((200, 400), 235, np.uint8)
    strokes = [slice(40, 43), slice(48, 51), slice(56, 59)]  # three pen-wide strokes
    for rows in strokes:
        grey[rows, 20:180] = 175  # faint print, the OCR read it: its box is given
        grey[rows, 220:380] = 175  # the same faint marks, no word box: paper texture
        grey[rows.start + 80 : rows.stop + 80, 220:380] = 30  # strong ink, no word box: a signature
    ink = ink_mask(grey, 100, [(20.0, 40.0, 180.0, 59.0)])
    for rows in strokes:
        assert ink[rows, 22:178].all()
        assert not ink[rows, 222:378].any()
        assert ink[rows.start + 80 : rows.stop + 80, 222:378].all()
    assert not ink[:, 200].any()  # nor the paper between them
    assert not ink[44:47].any() and not ink[:30].any()


def test_setting_selects_the_mode() -> None:
    assert mrc_options(Settings(archive_mode="faithful")) is None
    opts = mrc_options(
        Settings(archive_mode="mrc", mrc_background_dpi=75, mrc_foreground_dpi=40, mrc_jpeg_quality=40)
    )
    assert opts == MrcOptions(background_dpi=75, foreground_dpi=40, jpeg_quality=40, min_dpi=200)
