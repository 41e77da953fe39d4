"""The fine recogniser (PP-OCRv6's small model from the rapidocr 3.10 wheel): the model file is the
one RapidOCR lists, a missing or wrong file is one clear error, and ``ocr_fine_below`` has the
first pass's unsure lines read by it. Real models, real readings."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from core.settings import Settings
from pipeline.ocr import get_engine
from pipeline.ocr import rapid as rapid_mod
from tests.dot_matrix import dot_cell


def test_the_model_file_is_the_one_rapidocr_lists() -> None:
    path = rapid_mod.fine_model_path("ppocrv6-small")
    assert path.name == "PP-OCRv6_rec_small.onnx" and path.parent.parent.name == "rapidocr"
    # written out from RapidOCR 3.10.0's default_models.yaml, not taken from the code under test
    assert hashlib.sha256(path.read_bytes()).hexdigest() == \
        "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"


def test_a_missing_model_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(rapid_mod.FINE_MODELS, "absent", ("woa_no_such_package", "m.onnx", "0" * 64))
    with pytest.raises(rapid_mod.FineModelMissing, match="make setup") as exc:
        rapid_mod.fine_model_path("absent")
    assert "\n" not in str(exc.value) and 'ocr_fine_model = "none"' in str(exc.value)


def test_a_file_that_is_not_the_model_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(rapid_mod.FINE_MODELS, "wrong", ("json", "__init__.py", "0" * 64))
    with pytest.raises(rapid_mod.FineModelMissing, match="SHA-256 differs"):
        rapid_mod.fine_model_path("wrong")


def test_an_unknown_model_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fine recogniser"):
        rapid_mod.fine_model_path("ppocrv9")


def test_settings() -> None:
    assert Settings().ocr_fine_model == "ppocrv6-small"
    assert (Settings().ocr_fine_below, Settings().ocr_fine_page_share) == (0.95, 0.3)
    assert Settings(ocr_fine_model="none").ocr_fine_model == "none"
    for bad in ({"ocr_fine_model": "v6"}, {"ocr_fine_below": 1.5}, {"ocr_fine_below": -0.1}):
        with pytest.raises(ValidationError):
            Settings(**bad)


def test_unsure_lines_of_the_first_pass_are_read_by_the_fine_recogniser() -> None:
    """A dot-matrix E300L: PP-OCRv4 reads L300L (unsure); with ocr_fine_below = 1.0 every line is
    read again by PP-OCRv6, which reads it right; with ocr_fine_below = 0 the first pass stays."""
    cell, _ = dot_cell("E300L 豪华型")
    page = Image.new("L", (1200, 400), 255)
    page.paste(cell.convert("L"), (100, 150))
    arr = np.asarray(page)
    first = [ln.text for ln in get_engine(Settings(ocr_fine_below=0.0), "rapidocr").read(arr, 200)]
    fine = get_engine(Settings(ocr_fine_below=1.0, ocr_fine_page_share=0.0), "rapidocr")
    again = [ln.text for ln in fine.read(arr, 200)]
    assert any("L300L" in t for t in first) and not any("E300L" in t for t in first), first
    assert any("E300L" in "".join(t.split()) for t in again), again
    assert "ppocrv6-small" in fine.version


def test_only_a_page_with_many_unsure_lines_is_read_again() -> None:
    """ocr_fine_page_share: the dot-matrix line among four clear laser lines is one unsure line of
    five, under a share of 0.5: the page stays as PP-OCRv4 read it; with a share of 0.2 it is read
    again."""
    from PIL import ImageDraw, ImageFont

    cell, _ = dot_cell("E300L 豪华型")
    page = Image.new("L", (1400, 900), 255)
    font = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 40)
    draw = ImageDraw.Draw(page)
    for i, text in enumerate(("维修结算单", "客户名称 张伟", "联系电话 13800138000", "结算日期 2024-03-15")):
        draw.text((100, 60 + 90 * i), text, fill=0, font=font)
    page.paste(cell.convert("L"), (100, 480))
    arr = np.asarray(page)
    some = get_engine(Settings(ocr_fine_below=0.95, ocr_fine_page_share=0.5), "rapidocr").read(arr, 200)
    many = get_engine(Settings(ocr_fine_below=0.95, ocr_fine_page_share=0.2), "rapidocr").read(arr, 200)
    assert any("张伟" in ln.text for ln in some) and len(some) == len(many)
    assert not any("E300L" in "".join(ln.text.split()) for ln in some), [ln.text for ln in some]
    assert any("E300L" in "".join(ln.text.split()) for ln in many), [ln.text for ln in many]
