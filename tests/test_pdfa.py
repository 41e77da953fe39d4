"""The PDF/A writer on pages rendered here with known text boxes: validity (pikepdf, PDFBox),
text and word positions as poppler reads them, image encodings, many pages in bounded memory."""

from __future__ import annotations

import gc
import io
import re
import subprocess
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from pikepdf import pdfa
from PIL import Image

import pipeline.pdfa as pdfa_writer
from core.models import Box, OcrLine, OcrWord, PageText, box_union
from pipeline.ocr.base import join_words
from pipeline.pdfa import ArchivePage, write_pdfa
from tests.helpers import (
    DPI,
    LINE_ONLY,
    pdftotext,
    render_page,
    text_lines,
    write,
)
from tests.pdfbox import preflight_1b

# One row per line; a row is a list of words; "|" marks words drawn apart with a wide gap
# (letter-spaced headings), which the line text joins like any other CJK words.


def poppler_words(path: Path, page: int = 1) -> dict[str, tuple[float, float, float, float]]:
    out = pdftotext(path, "-bbox", "-f", str(page), "-l", str(page))
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return {m[5]: (float(m[1]), float(m[2]), float(m[3]), float(m[4])) for m in re.finditer(pattern, out)}


def expected_words(page: PageText) -> dict[str, Box]:
    """The words a text extractor should find, in points: OCR words joined where the line text
    has no space between them, with the union of their boxes."""
    s = 72 / page.dpi
    out: dict[str, Box] = {}
    for line in page.lines:
        groups: list[list[OcrWord]] = []
        for i, word in enumerate(line.words):
            if i == 0 or " " in join_words([line.words[i - 1].text, word.text]):
                groups.append([word])
            else:
                groups[-1].append(word)
        for group in groups:
            x0, _, x1, _ = box_union([wd.box for wd in group])
            out["".join(wd.text for wd in group)] = (x0 * s, line.box[1] * s, x1 * s, line.box[3] * s)
    return out


def image_streams(pdf: pikepdf.Pdf) -> list[pikepdf.Stream]:
    streams = [img for p in pdf.pages for img in p.get_images().values()]
    assert all(isinstance(s, pikepdf.Stream) for s in streams)
    return streams  # type: ignore[return-value]


def render_grey(path: Path, dpi: int) -> np.ndarray:
    out = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-singlefile", str(path)], capture_output=True, check=True
    ).stdout
    return np.asarray(Image.open(io.BytesIO(out)).convert("L"), dtype=np.int16)


@pytest.fixture(scope="module")
def page_l() -> tuple[Image.Image, PageText]:
    return render_page("L")


def test_2b_is_valid_and_text_reads_back_without_spaces_in_chinese(tmp_path: Path, page_l) -> None:
    image, text = page_l
    out = write(tmp_path / "a.pdf", [(ArchivePage(image, DPI), text)], title="维修委托书 WO-2024-0315")
    report = pdfa.validate_written(out, "2b")
    assert report.passed, report.findings
    assert text_lines(pdftotext(out)) == [line.text for line in text.lines]
    assert text_lines(pdftotext(out, "-raw")) == [line.text for line in text.lines]
    # -layout pads with spaces to reproduce positions, never inside a word or CJK run
    layout = re.sub(" +", " ", pdftotext(out, "-layout"))
    for line in text.lines:
        assert line.text in layout
    assert "结算单" in layout
    with pikepdf.open(out) as pdf:
        assert str(pdf.docinfo.Title) == "维修委托书 WO-2024-0315"
        assert pdf.open_metadata()["pdfaid:part"] == "2"
        assert len(pdf.trailer.ID) == 2


def test_word_boxes_land_on_the_printed_words(tmp_path: Path, page_l) -> None:
    image, text = page_l
    out = write(tmp_path / "a.pdf", [(ArchivePage(image, DPI), text)])
    found = poppler_words(out)
    expected = expected_words(text)
    assert "结算单" in expected and "LSVAA4182E2123456" in expected
    for word, box in expected.items():
        assert word in found, (word, sorted(found))
        assert found[word] == pytest.approx(box, abs=1.5), word
    # the line given without words spans its box
    s = 72 / DPI
    line = next(ln for ln in text.lines if ln.text == LINE_ONLY)
    assert found["合计"][0] == pytest.approx(line.box[0] * s, abs=1.5)
    assert found["元"][2] == pytest.approx(line.box[2] * s, abs=1.5)


def test_1b_passes_pdfbox_preflight_and_pikepdf(tmp_path: Path, page_l) -> None:
    image, text = page_l
    out = write(tmp_path / "a.pdf", [(ArchivePage(image, DPI), text)], level="1b", title="结算单")
    valid, report = preflight_1b(out)
    assert valid, report
    assert pdfa.validate_written(out, "1b").passed
    data = out.read_bytes()
    assert data.startswith(b"%PDF-1.4")
    assert b"/ObjStm" not in data and b"/XRef" not in data
    assert text_lines(pdftotext(out)) == [line.text for line in text.lines]


def test_preflight_rejects_a_2b_file_as_1b(tmp_path: Path, page_l) -> None:
    image, text = page_l
    out = write(tmp_path / "a.pdf", [(ArchivePage(image, DPI), text)], level="2b")
    valid, report = preflight_1b(out)
    assert not valid
    assert "part must be 1" in report


@pytest.mark.parametrize(
    ("mode", "quality", "pdf_filter", "lossless"),
    [
        ("1", 0, "/CCITTFaxDecode", True),
        ("L", 0, "/FlateDecode", True),
        ("L", 85, "/DCTDecode", False),
        ("RGB", 0, "/DCTDecode", False),
        ("RGB", -1, "/FlateDecode", True),
    ],
)
def test_image_encoding_per_mode(
    tmp_path: Path, mode: str, quality: int, pdf_filter: str, lossless: bool
) -> None:
    dpi = 100
    image, text = render_page(mode, dpi=dpi)
    out = write(tmp_path / "a.pdf", [(ArchivePage(image, dpi), text)], jpeg_quality=quality)
    assert pdfa.validate_written(out, "2b").passed
    with pikepdf.open(out) as pdf:
        (stream,) = image_streams(pdf)
        assert stream.Filter == pdf_filter
        assert (stream.Width, stream.Height) == image.size
        assert stream.ColorSpace == ("/DeviceRGB" if mode == "RGB" else "/DeviceGray")
        page_box = [float(v) for v in pdf.pages[0].MediaBox]
        assert page_box == pytest.approx([0, 0, image.width * 72 / dpi, image.height * 72 / dpi], abs=0.01)
        if lossless:
            decoded = pikepdf.PdfImage(stream).as_pil_image()
            assert np.array_equal(np.asarray(decoded.convert(mode)), np.asarray(image))
    # poppler draws the page as it was scanned (also catches inverted bilevel images)
    rendered = render_grey(out, dpi)
    original = np.asarray(image.convert("L"), dtype=np.int16)
    assert rendered.shape == original.shape
    assert np.abs(rendered - original).mean() < (0.5 if lossless else 2.0)


def _jpeg(image: Image.Image, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=80, **kwargs)
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_original_jpeg_is_passed_through_untouched(tmp_path: Path, mode: str) -> None:
    image, text = render_page(mode, dpi=100)
    original = _jpeg(image)
    decoded = Image.open(io.BytesIO(original))
    out = write(tmp_path / "a.pdf", [(ArchivePage(decoded, 100, original), text)])
    assert pdfa.validate_written(out, "2b").passed
    with pikepdf.open(out) as pdf:
        (stream,) = image_streams(pdf)
        assert stream.Filter == "/DCTDecode"
        assert stream.read_raw_bytes() == original


def test_jpeg_that_does_not_show_the_archived_page_is_reencoded(tmp_path: Path) -> None:
    image, text = render_page("RGB", dpi=100)
    rotated = image.rotate(90, expand=True)  # what the scan was before it was turned upright
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° to view": PDF viewers ignore this
    for jpeg in (_jpeg(rotated), _jpeg(image, exif=exif.tobytes())):
        out = write(tmp_path / "a.pdf", [(ArchivePage(image, 100, jpeg), text)])
        with pikepdf.open(out) as pdf:
            (stream,) = image_streams(pdf)
            assert stream.read_raw_bytes() != jpeg
            assert (stream.Width, stream.Height) == image.size


def test_multipage_sizes_text_per_page_and_an_empty_page(tmp_path: Path) -> None:
    first, text1 = render_page("L", dpi=150)
    second, text2 = render_page("RGB", dpi=300, rows=[["第二页", "page", "2"]])
    blank = Image.new("1", (1240, 1754), 1)  # 150 dpi A4, nothing read on it
    pages = [
        (ArchivePage(first, 150), text1),
        (ArchivePage(second, 300), text2),
        (ArchivePage(blank, 150), PageText(page_no=3, width=1240, height=1754, dpi=150)),
    ]
    for level in ("2b", "1b"):
        out = write(tmp_path / f"{level}.pdf", pages, level=level)
        assert pdfa.validate_written(out, level).passed
        if level == "1b":
            assert preflight_1b(out)[0]
        with pikepdf.open(out) as pdf:
            assert len(pdf.pages) == 3
            sizes = [[round(float(v)) for v in p.MediaBox] for p in pdf.pages]
            assert sizes == [[0, 0, 595, 842]] * 3
            assert "/Font" not in pdf.pages[2].Resources
        assert text_lines(pdftotext(out, "-f", "1", "-l", "1")) == [ln.text for ln in text1.lines]
        assert text_lines(pdftotext(out, "-f", "2", "-l", "2")) == ["第二页 page 2", LINE_ONLY]
        assert pdftotext(out, "-f", "3", "-l", "3").strip() == ""
        assert poppler_words(out, 2)["第二页"] == pytest.approx(expected_words(text2)["第二页"], abs=1.5)


def test_characters_outside_the_bmp_and_controls(tmp_path: Path) -> None:
    image = Image.new("L", (800, 400), 255)
    line = OcrLine("客户 𠮷野家\x07 ok", (50, 50, 330, 90), 0.9)
    text = PageText(page_no=1, width=800, height=400, dpi=100, lines=[line])
    for level in ("2b", "1b"):
        out = write(tmp_path / f"{level}.pdf", [(ArchivePage(image, 100), text)], level=level)
        assert pdfa.validate_written(out, level).passed
        assert text_lines(pdftotext(out)) == ["客户 𠮷野家 ok"]


def test_pages_are_consumed_one_at_a_time(tmp_path: Path) -> None:
    alive: list[weakref.ref[Image.Image]] = []

    def pages() -> Iterator[tuple[ArchivePage, PageText]]:
        for i in range(4):
            gc.collect()
            assert all(ref() is None for ref in alive), f"page {i}: an earlier page image is still held"
            image = Image.new("L", (827, 1169), 255)
            alive.append(weakref.ref(image))
            yield ArchivePage(image, 100), PageText(page_no=i + 1, width=827, height=1169, dpi=100)
            del image

    with (tmp_path / "a.pdf").open("wb") as fh:
        write_pdfa(fh, pages())
    assert len(alive) == 4


def test_long_documents_spill_to_disk_and_keep_one_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdfa_writer, "CHUNK_BYTES", 1)  # every page goes through a chunk file
    image, text = render_page("1", dpi=100)
    rare = OcrLine("𠮷", (60, 1000, 100, 1040), 0.9)
    last = PageText(page_no=5, width=text.width, height=text.height, dpi=100, lines=[*text.lines, rare])
    pages = [(ArchivePage(image, 100), text)] * 4 + [(ArchivePage(image, 100), last)]
    for level in ("2b", "1b"):
        out = write(tmp_path / f"{level}.pdf", pages, level=level)
        assert pdfa.validate_written(out, level).passed
        with pikepdf.open(out) as pdf:
            assert len(pdf.pages) == 5
            fonts = {p.Resources.Font["/F0"].objgen for p in pdf.pages}
            assert len(fonts) == 1
        assert text_lines(pdftotext(out, "-f", "5", "-l", "5"))[-1] == "𠮷"
    assert preflight_1b(tmp_path / "1b.pdf")[0]


def test_bad_arguments(tmp_path: Path, page_l) -> None:
    image, text = page_l
    with pytest.raises(ValueError, match="level"):
        write(tmp_path / "a.pdf", [(ArchivePage(image, DPI), text)], level="3b")
    with pytest.raises(ValueError, match="at least one page"):
        write(tmp_path / "b.pdf", [])
    with pytest.raises(ValueError, match="dpi"):
        write(tmp_path / "c.pdf", [(ArchivePage(image, 0), text)])


def test_vertical_lines_are_written_top_to_bottom(tmp_path: Path) -> None:
    image = Image.new("L", (800, 1000), 255)
    lines = [
        OcrLine("2024/3/26", (100, 100, 130, 300), 0.9, [OcrWord("2024/3/26", (100, 100, 130, 300), 0.9)]),
        OcrLine(
            "序号",
            (300, 100, 330, 160),
            0.9,
            [OcrWord("序", (300, 100, 330, 128), 0.9), OcrWord("号", (300, 132, 330, 160), 0.9)],
        ),
    ]
    out = write(tmp_path / "a.pdf", [(ArchivePage(image, 72), PageText(1, 800, 1000, 72, lines))])
    assert pdfa.validate_written(out, "2b").passed
    assert text_lines(pdftotext(out)) == ["2024/3/26", "序号"]
    found = poppler_words(out)
    assert found["2024/3/26"] == pytest.approx((100, 100, 130, 300), abs=1)
    assert found["序号"] == pytest.approx((300, 100, 330, 160), abs=1)


def test_a_stray_python_warning_during_validation_does_not_refuse_a_valid_copy(
    tmp_path: Path, page_l, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """pikepdf records any Python warning raised while it parses content as a violation; one
    raised by something else (here: once, from inside the parse, as a finaliser or another
    thread would) must not make a valid archive copy fail."""
    import warnings

    from pikepdf.pdfa import _content

    real = _content.content_checker
    stray = {"left": 1}

    class Noisy:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def check(self, stream: object) -> object:
            if stray["left"]:
                stray["left"] -= 1
                warnings.warn("unclosed file <_io.TextIOWrapper name='/proc/self/status'>", ResourceWarning, stacklevel=1)
            return self.inner.check(stream)  # type: ignore[attr-defined]

    monkeypatch.setattr(_content, "content_checker", lambda limits: Noisy(real(limits)))
    out = write(tmp_path / "a.pdf", [(ArchivePage(page_l[0], DPI), page_l[1])])
    assert stray["left"] == 0  # the warning was raised inside the validation
    assert "trying once more" in caplog.text
    assert pdfa.validate_written(out, "2b").passed
    assert "WO-2024-0315" in pdftotext(out)
