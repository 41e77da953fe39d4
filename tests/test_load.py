"""Loading: file kinds by content, dpi inference, streamed pages, and every kind of bad input."""

from __future__ import annotations

import resource
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from core.errors import InputError
from core.settings import Settings
from pipeline.load import count_pages, infer_dpi, iter_pages, sniff_kind
from tests.helpers import BAD_CASES, EXPECTED_REASON, make_bad


@pytest.mark.parametrize(
    ("size", "dpi", "expected", "inferred"),
    [
        ((1654, 2339), (200, 200), 200.0, False),
        ((2480, 3508), None, 300.0, True),  # A4 at 300 dpi, no dpi in the file
        ((1240, 1754), None, 150.0, True),
        ((2480, 3508), (72, 72), 300.0, True),  # a writer's default 72 dpi would make a 48-inch page
        ((3508, 2480), (1, 1), 300.0, True),  # landscape, JFIF aspect-only density
        ((459, 949), (96, 96), 96.0, False),  # a till receipt: small but plausible at 96 dpi
    ],
)
def test_infer_dpi(size: tuple[int, int], dpi: tuple[float, float] | None, expected: float, inferred: bool) -> None:
    assert infer_dpi(size[0], size[1], dpi) == (expected, inferred)


def test_sniff_by_content_not_name(tmp_path: Path) -> None:
    png_named_pdf = tmp_path / "scan.pdf"
    Image.new("L", (10, 10)).save(png_named_pdf, format="PNG")
    assert sniff_kind(png_named_pdf) == "png"
    jpg = tmp_path / "a.jpg"
    Image.new("RGB", (10, 10)).save(jpg)
    assert sniff_kind(jpg) == "jpeg"
    tif = tmp_path / "a.tif"
    Image.new("L", (10, 10)).save(tif)
    assert sniff_kind(tif) == "tiff"


def test_multipage_tiff_streams_pages_with_dpi(tmp_path: Path) -> None:
    frames = [Image.new("L", (827, 1169), v) for v in (255, 200, 150)]
    p = tmp_path / "three.tif"
    frames[0].save(p, save_all=True, append_images=frames[1:], dpi=(100, 100))
    pages = list(iter_pages(p, Settings()))
    assert [pg.page_no for pg in pages] == [1, 2, 3]
    assert all(pg.dpi == 100 for pg in pages)
    assert count_pages(p, Settings()) == 3


def test_image_pdf_page_gives_embedded_image_and_its_dpi(tmp_path: Path) -> None:
    im = Image.new("RGB", (1240, 1754), (250, 250, 250))
    p = tmp_path / "scan.pdf"
    im.save(p, resolution=150.0)
    [page] = list(iter_pages(p, Settings()))
    assert page.image.size == (1240, 1754)
    assert page.dpi == pytest.approx(150, abs=0.5)
    assert page.text_lines is None
    assert page.jpeg_bytes is not None  # PIL wrote a DCT image: kept for pass-through


def test_born_digital_pdf_keeps_its_text(tmp_path: Path) -> None:
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(b"BT /F1 14 Tf 72 770 Td (Work order WO-2024-00123 total 1234.50) Tj ET")
    p = tmp_path / "dms.pdf"
    pdf.save(p)
    [src] = list(iter_pages(p, Settings()))
    assert src.text_lines is not None
    assert "WO-2024-00123" in " ".join(ln.text for ln in src.text_lines)
    box = src.text_lines[0].box
    assert box[0] == pytest.approx(72 * src.dpi / 72, abs=3)  # x in pixels of the rendered page


@pytest.mark.parametrize("kind", BAD_CASES)
def test_bad_input_gives_one_clear_reason(kind: str, tmp_path: Path) -> None:
    p = make_bad(kind, tmp_path)
    with pytest.raises(InputError) as err:
        for _ in iter_pages(p, Settings(max_pages=100)):
            pass
    msg = str(err.value)
    assert EXPECTED_REASON[kind] in msg
    assert "\n" not in msg


@pytest.mark.slow  # 300 pages; the fast loop keeps test_pdfa's page-at-a-time and spill-to-disk tests
def test_300_page_pdf_is_streamed_with_bounded_memory(tmp_path: Path) -> None:
    """Pages come one at a time: memory does not grow with the page count."""
    pdf = pikepdf.new()
    img = Image.effect_noise((1240, 1754), 40).convert("L")
    src = tmp_path / "one.pdf"
    img.save(src, resolution=150.0)
    with pikepdf.open(src) as one:
        for _ in range(300):
            pdf.pages.append(one.pages[0])
        pdf.save(tmp_path / "big.pdf")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n = 0
    for page in iter_pages(tmp_path / "big.pdf", Settings()):
        n += 1
        assert page.image.size == (1240, 1754)
        page.image.close()
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert n == 300
    # 300 decoded pages would be 300 * 2.2 MB = 650 MB; streaming keeps a handful.
    assert growth_mb < 150, growth_mb
