"""MRC archive pages (issue 13): layers, colours kept under the mask, PDF/A validity."""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from pikepdf import pdfa
from PIL import Image, ImageDraw, ImageFilter

from app.ingest import mrc_options
from core.models import PageText
from core.settings import Settings
from pipeline import mrc
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


def _mrc_keeps_the_faithful_image(tmp_path: Path, image: Image.Image, dpi: float, text: PageText) -> Path:
    """Write the page faithful and MRC; the MRC copy must hold the faithful copy's one image, byte
    for byte. Returns the MRC copy."""
    faithful = write(tmp_path / "f.pdf", [(ArchivePage(image, dpi), text)])
    mrc = write(tmp_path / "m.pdf", [(ArchivePage(image, dpi), text)], mrc=MRC)
    with pikepdf.open(faithful) as f, pikepdf.open(mrc) as m:
        assert list(m.pages[0].Resources.XObject.keys()) == ["/Im0"]
        assert m.pages[0].Resources.XObject["/Im0"].read_raw_bytes() == f.pages[0].Resources.XObject["/Im0"].read_raw_bytes()
    return mrc


def test_bilevel_pages_stay_g4_and_blank_pages_have_no_mask(tmp_path: Path) -> None:
    image, text = render_page("1", dpi=100)
    mrc = _mrc_keeps_the_faithful_image(tmp_path, image, 100, text)
    with pikepdf.open(mrc) as m:
        assert m.pages[0].Resources.XObject["/Im0"].Filter == "/CCITTFaxDecode"
    blank = Image.new("L", (400, 500), 235)
    layers = split_page(blank, 100, [], MRC)
    assert layers.mask is None and layers.foreground is None


def test_scans_coarser_than_min_dpi_keep_the_faithful_encoding(tmp_path: Path) -> None:
    image, text = render_page("L", dpi=150)
    _mrc_keeps_the_faithful_image(tmp_path, image, 150, text)
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


def _blurred(image: Image.Image, text, rows: slice) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """``image`` with the lines ``rows`` of ``text`` blurred as a worn dot-matrix ribbon prints
    them; returns the blurred lines' boxes (ints, padded)."""
    out = image.copy()
    boxes = []
    for line in text.lines[rows]:
        x0, y0, x1, y1 = (round(v) for v in line.box)
        box = (x0 - 8, y0 - 8, x1 + 8, y1 + 8)
        out.paste(out.crop(box).filter(ImageFilter.GaussianBlur(2.0)), box[:2])
        boxes.append(box)
    return out, boxes


def test_sharpness_tells_blurred_print_from_crisp() -> None:
    image, text = render_page("L")
    blurred, _ = _blurred(image, text, slice(0, None))
    crisp_page, soft_page = np.asarray(image), np.asarray(blurred)
    words = [w.box for line in text.lines for w in line.words]
    crisp = [mrc.sharpness_of(crisp_page, DPI, box) for box in words]
    soft = [mrc.sharpness_of(soft_page, DPI, box) for box in words]
    assert min(crisp) > mrc.SOFT_EDGE > max(soft), (crisp, soft)


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_blurred_words_are_kept_as_full_resolution_patches(tmp_path: Path, mode: str) -> None:
    image, text = render_page(mode)
    image, boxes = _blurred(image, text, slice(1, 3))  # the order number and the split word
    layers = split_page(image, DPI, [w.box for line in text.lines for w in line.words], MRC)
    assert layers.patches
    covered = np.zeros((image.height, image.width), bool)
    for p in layers.patches:
        assert p.image.filter == "DCTDecode" and p.image.colour_space == ("DeviceRGB" if mode == "RGB" else "DeviceGray")
        covered[p.y : p.y + p.image.height, p.x : p.x + p.image.width] = True
    words = [w.box for line in text.lines[1:3] for w in line.words]
    for x0, y0, x1, y1 in words:  # every blurred word is in a patch
        assert covered[round(y0) : round(y1), round(x0) : round(x1)].all()
    crisp = [w.box for line in text.lines[3:] for w in line.words]
    for x0, y0, x1, y1 in crisp:  # the crisp words are not
        assert not covered[round(y0) : round(y1), round(x0) : round(x1)].any()
    out = write(tmp_path / "p.pdf", [(ArchivePage(image, DPI), text)], level="2b", mrc=MRC)
    flat = write(tmp_path / "n.pdf", [(ArchivePage(image, DPI), text)], level="2b", mrc=replace(MRC, soft_patches=False))
    assert pdfa.validate_written(out, "2b").passed
    orig = np.asarray(image.convert("RGB"), dtype=np.int16)
    shown, binarised = render_rgb(out, DPI), render_rgb(flat, DPI)
    for x0, y0, x1, y1 in boxes:  # the blurred lines look like the scan, not like a stencil of it
        far = (np.abs(shown[y0:y1, x0:x1] - orig[y0:y1, x0:x1]).max(axis=2) > 32).mean()
        far_flat = (np.abs(binarised[y0:y1, x0:x1] - orig[y0:y1, x0:x1]).max(axis=2) > 32).mean()
        assert far < 0.015 and far < far_flat / 2, (far, far_flat)
    # and the crisp print is still drawn through the mask
    with pikepdf.open(out) as pdf:
        assert "/Mask" in pdf.pages[0].Resources.XObject["/Im1"]
    x0, y0, x1, y1 = (round(v) for v in crisp[0])
    assert shown[y0:y1, x0:x1].min() < 40


def test_1b_page_with_patches_passes_pdfbox_preflight(tmp_path: Path) -> None:
    image, text = render_page("RGB")
    image, _ = _blurred(image, text, slice(1, 3))
    out = write(tmp_path / "a.pdf", [(ArchivePage(image, DPI), text)], level="1b", mrc=MRC)
    with pikepdf.open(out) as pdf:
        assert any(k.startswith("/P") for k in pdf.pages[0].Resources.XObject)
    valid, report = preflight_1b(out)
    assert valid, report
    assert pdfa.validate_written(out, "1b").passed


def test_dot_matrix_words_are_patches_too() -> None:
    """Unblurred dot-matrix print: sharp dots a pixel apart, which a mask breaks into specks."""
    image, text = render_page("L")
    grey = np.asarray(image).copy()
    rows = slice(round(text.lines[1].box[1]) - 4, round(text.lines[2].box[3]) + 4)
    dots = ((np.arange(grey.shape[0]) % 3 < 2)[:, None] & (np.arange(grey.shape[1]) % 3 < 2)[None, :])
    band = grey[rows]
    band[~dots[rows]] = 255  # the printer's pins, 3 px apart at 200 dpi, leave 1 px of paper between
    dotted = Image.fromarray(grey)
    words = [w.box for line in text.lines for w in line.words]
    paper = np.full(grey.shape, 255.0, np.float32)
    for line_no, line in enumerate(text.lines):
        for w in line.words:
            x0, y0, x1, y1 = (round(v) for v in w.box)
            d = paper[y0:y1, x0:x1] - grey[y0:y1, x0:x1]
            assert (mrc.dottiness(d, float(np.percentile(d, 98))) > mrc.DOT_GAIN) == (line_no in (1, 2)), w.text
    layers = split_page(dotted, DPI, words, MRC)
    covered = np.zeros(grey.shape, bool)
    for p in layers.patches:
        covered[p.y : p.y + p.image.height, p.x : p.x + p.image.width] = True
    for w in text.lines[1].words + text.lines[2].words:
        x0, y0, x1, y1 = (round(v) for v in w.box)
        assert covered[y0:y1, x0:x1].all()
    for w in text.lines[3].words:
        x0, y0, x1, y1 = (round(v) for v in w.box)
        assert not covered[y0:y1, x0:x1].any()


@pytest.mark.parametrize(
    "region",
    [(40, 60, 30, 90), (0, 25, 0, 40), (110, 120, 70, 100), (0, 120, 0, 100), (5, 7, 98, 100)],
    ids=["inside", "top-left corner", "bottom-right corner", "whole page", "sliver at the edge"],
)
def test_word_edges_measured_on_the_word_equal_the_whole_page_ones(region: tuple[int, int, int, int]) -> None:
    """The split measures stroke slopes on each word region only (a page-sized float plane of a
    300 dpi page is 40 MB); the values must be the whole page's, borders included."""
    grey = np.random.default_rng(7).integers(0, 256, (120, 100), dtype=np.uint8)
    r0, r1, c0, c1 = region
    # equal but for the last bits of a float (vector and scalar code paths of the square root)
    np.testing.assert_allclose(mrc._edge_in(grey, r0, r1, c0, c1), mrc._edge(grey)[r0:r1, c0:c1], rtol=0, atol=1e-4)
