"""One text detection per page: orientation's quads reused for recognition, boxes mapped into the archive page."""

from __future__ import annotations

import numpy as np
import pytest

from core.models import OcrLine
from core.settings import Settings
from pipeline.load import iter_pages
from pipeline.ocr import get_engine, read_page
from pipeline.ocr.base import affine_box, box_corners
from pipeline.orientation import turn_quads_180
from pipeline.preprocess import prepare
from tests.helpers import SAMPLES


@pytest.mark.parametrize(
    ("quad", "expected"),
    [
        # a word at the top left of a 200 x 100 page ends at the bottom right, read the other way
        ([[10, 20], [110, 20], [110, 50], [10, 50]], [[90, 50], [190, 50], [190, 80], [90, 80]]),
        # a slanted line keeps its slant and its top-left-first, clockwise point order
        ([[0, 10], [100, 0], [102, 20], [2, 30]], [[98, 80], [198, 70], [200, 90], [100, 100]]),
    ],
)
def test_turn_quads_180(quad: list[list[float]], expected: list[list[float]]) -> None:
    out = turn_quads_180(np.array([quad], dtype=np.float32), 200, 100)
    assert out.tolist() == [expected]


@pytest.mark.parametrize(
    ("box", "to_page", "expected"),
    [
        ((10, 20, 30, 40), None, (10, 20, 30, 40)),
        ((10, 20, 30, 40), [[2, 0, 0], [0, 2, 0]], (20, 40, 60, 80)),
        ((10, 20, 30, 40), [[1, 0, 5], [0, 1, -5]], (15, 15, 35, 35)),
        # 90 degrees: x' = -y + 100, y' = x
        ((10, 20, 30, 40), [[0, -1, 100], [1, 0, 0]], (60, 10, 80, 30)),
    ],
)
def test_affine_box(box: tuple[float, float, float, float], to_page: list[list[float]] | None,
                    expected: tuple[float, float, float, float]) -> None:
    m = None if to_page is None else np.array(to_page, dtype=np.float64)
    assert affine_box(box_corners(box), m) == pytest.approx(expected)


def _centres(lines: list[OcrLine]) -> dict[str, tuple[float, float, float]]:
    """Centre and height of each line whose text occurs once on the page."""
    seen: dict[str, list[OcrLine]] = {}
    for ln in lines:
        if len(ln.text) >= 4:
            seen.setdefault(ln.text, []).append(ln)
    return {
        t: ((ls[0].box[0] + ls[0].box[2]) / 2, (ls[0].box[1] + ls[0].box[3]) / 2, ls[0].box[3] - ls[0].box[1])
        for t, ls in seen.items()
        if len(ls) == 1
    }


# wo07_007.tif: 180° + 3.15° at 300 dpi (slow: real OCR twice; the fast loop reads the other);
# wo07_013.jpg: 90° + 5.2° at 150 dpi
@pytest.mark.parametrize("name", [pytest.param("wo07_007.tif", marks=pytest.mark.slow), "wo07_013.jpg"])
def test_reused_regions_land_where_the_deskewed_page_has_the_text(name: str) -> None:
    """The regions path (detect once, recognise slanted crops, map boxes) puts every line where
    an engine reading the upright, deskewed page finds it, and on the same archive page size."""
    settings = Settings()
    engine = get_engine(settings, "rapidocr")
    [src] = list(iter_pages(SAMPLES / name, settings))
    reused = prepare(src.image, src.dpi, text_regions=True)
    classic = prepare(src.image, src.dpi, text_regions=False)
    assert reused.rotation == classic.rotation != 0
    assert reused.skew == classic.skew and abs(reused.skew) > 3
    assert reused.archive_image.size == classic.archive_image.size
    assert reused.text_regions is not None and len(reused.text_regions) > 20
    assert reused.ocr_image.shape != classic.ocr_image.shape  # the OCR image was not deskewed

    a = _centres(read_page(engine, reused.ocr_image, src.dpi, settings.ocr_max_dpi,
                           regions=reused.text_regions, to_page=reused.to_archive))
    b = _centres(read_page(engine, classic.ocr_image, src.dpi, settings.ocr_max_dpi))
    common = set(a) & set(b)
    assert len(common) >= 15, sorted(common)
    w, h = classic.archive_image.size
    for text in common:
        (xa, ya, ha), (xb, yb, hb) = a[text], b[text]
        assert 0 <= xa <= w and 0 <= ya <= h
        assert abs(xa - xb) < 0.5 * hb and abs(ya - yb) < 0.5 * hb, (text, a[text], b[text])
        assert 0.6 < ha / hb < 1.6, (text, ha, hb)
