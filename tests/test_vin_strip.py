"""The VIN's second pass: box strips drawn here read by the real recognisers (no mocks), where to
read on a page, and how the readings become the VIN (check digit, review on disagreement)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from core.models import OcrLine, PageText
from core.settings import Settings
from extractors import extract, vin
from extractors.vin_strip import vin_strips
from pipeline.ocr import get_engine
from pipeline.ocr.region import pack, read_region, remove_rules, strip_grey

FONTS = {
    "sans": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    "serif": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
}
DPI = 200
MM = DPI / 25.4


def _font(name: str, pt: float) -> ImageFont.FreeTypeFont:
    path, index = FONTS[name]
    return ImageFont.truetype(path, round(pt / 72 * DPI), index=index)


def boxed_strip(value: str, *, font: str = "sans", box_mm: float = 7.3, groups: dict[int, float] | None = None,
                rule: tuple[int, int, int] = (0, 0, 0), paper: tuple[int, int, int] = (255, 255, 255),
                shift_mm: tuple[float, float] = (0.0, 0.0), row_mm: float = 8.6) -> tuple[Image.Image, float]:
    """A form row: the value in boxes of ``box_mm`` (``groups``: extra gaps before box i), the
    row's rules above and below. Returns the image and the text height a label line would have."""
    gaps = groups or {}
    width = round((len(value) * box_mm + sum(gaps.values()) + 12) * MM)
    height = round(row_mm * 1.8 * MM)
    im = Image.new("RGB", (width, height), paper)
    dr = ImageDraw.Draw(im)
    top = (height - row_mm * MM) / 2
    dr.line([(0, top), (width, top)], fill=rule, width=2)
    dr.line([(0, top + row_mm * MM), (width, top + row_mm * MM)], fill=rule, width=2)
    f = _font(font, 10.5)
    x = 4 * MM
    for i, ch in enumerate(value):
        x += gaps.get(i, 0.0) * MM
        dr.rectangle([x, top + 1.0 * MM, x + box_mm * MM, top + (row_mm - 1.0) * MM], outline=rule, width=2)
        cx, cy = x + box_mm * MM / 2 + shift_mm[0] * MM, top + row_mm * MM / 2 + shift_mm[1] * MM
        dr.text((cx, cy), ch, font=f, fill=(0, 0, 0), anchor="mm")
        x += box_mm * MM
    return im, 0.45 * row_mm * MM


def cell_strip(value: str, *, shift_mm: float, rule: tuple[int, int, int] = (0, 0, 0),
               paper: tuple[int, int, int] = (255, 255, 255), bilevel: bool = False) -> tuple[Image.Image, float]:
    """A pre-printed form's value cell: the value printed ``shift_mm`` from the cell's left rule
    (negative: onto it, out of register)."""
    width, height = round(80 * MM), round(14 * MM)
    im = Image.new("RGB", (width, height), paper)
    dr = ImageDraw.Draw(im)
    left, top, bottom = 8 * MM, 2.5 * MM, 11.5 * MM
    dr.line([(left, top), (left, bottom)], fill=rule, width=3)
    dr.line([(0, top), (width, top)], fill=rule, width=3)
    dr.line([(0, bottom), (width, bottom)], fill=rule, width=3)
    dr.text((left + 1.5 * MM + shift_mm * MM, (top + bottom) / 2), value, font=_font("sans", 10), fill=(0, 0, 0), anchor="lm")
    if bilevel:
        im = im.convert("L").convert("1")
    return im, 0.45 * 9 * MM


VIN_A = "LFVDTHPW9HT579512"
VIN_B = "LGXE8GN7XK5311439"
VIN_C = "LBVPF1A21KY045954"
assert all(vin.is_valid(v) for v in (VIN_A, VIN_B, VIN_C))

STRIPS = {
    # kind: (image builder, VIN)
    "17 boxes, sans": (lambda: boxed_strip(VIN_A), VIN_A),
    "17 boxes, serif": (lambda: boxed_strip(VIN_B, font="serif"), VIN_B),
    "boxes in WMI | VDS | VIS groups": (lambda: boxed_strip(VIN_C, box_mm=6.2, groups={3: 2.5, 9: 2.5}), VIN_C),
    "value high in its boxes": (lambda: boxed_strip(VIN_B, shift_mm=(0.0, -1.2)), VIN_B),
    "red boxes on pink paper, value out of register": (
        lambda: boxed_strip(VIN_A, rule=(200, 40, 45), paper=(250, 222, 226), shift_mm=(1.6, 0.5)), VIN_A),
    "blue rules, value over the cell's left rule": (
        lambda: cell_strip(VIN_C, shift_mm=-1.9, rule=(35, 70, 170), paper=(215, 232, 250)), VIN_C),
    "bilevel scan, the L's stem on the cell's rule": (lambda: cell_strip(VIN_A, shift_mm=-1.75, bilevel=True), VIN_A),
    "bilevel scan, clear of the rule": (lambda: cell_strip(VIN_B, shift_mm=1.0, bilevel=True), VIN_B),
}


@pytest.mark.parametrize("kind", list(STRIPS))
def test_strip_read_by_rapidocr(kind: str, rapid: object) -> None:
    build, want = STRIPS[kind]
    image, text_height = build()
    lines = read_region(rapid, image, (0, 0, image.width, image.height), text_height, DPI)  # type: ignore[arg-type]
    readings = [vin.compact(ln.text) for ln in lines]
    assert want in readings, f"{kind}: read {readings}"
    assert all(ln.box == (0, 0, image.width, image.height) for ln in lines)


def test_without_the_second_pass_the_boxes_are_not_read_whole(rapid: object) -> None:
    """The first pass (detection + recognition) on the same 17-box strip does not give the VIN:
    what the second pass is for."""
    image, _ = boxed_strip(VIN_A)
    lines = rapid.read(np.asarray(image.convert("L")), DPI)  # type: ignore[attr-defined]
    assert VIN_A not in vin.compact(" ".join(ln.text for ln in lines))


def test_rules_removed_and_characters_packed() -> None:
    image, text_height = boxed_strip(VIN_A)
    grey = strip_grey(image, (0, 0, image.width, image.height))
    ink, kept = remove_rules(grey, text_height)
    assert kept is None  # no character touches a box's side
    packed = pack(ink, grey, text_height)
    assert packed is not None and packed.parts == 17
    assert packed.image.shape[1] < 0.6 * image.width  # packed at an ordinary spacing
    empty = np.full((80, 600), 255, dtype=np.uint8)
    empty[10:12, :] = 0  # a rule and nothing else
    empty[:, 300:302] = 0
    ink, _ = remove_rules(empty, 30)
    assert pack(ink, empty, 30) is None


def test_tesseract_reads_a_packed_strip() -> None:
    engine = get_engine(Settings(ocr_engine="tesseract"), "tesseract")
    image, text_height = boxed_strip(VIN_C)
    lines = read_region(engine, image, (0, 0, image.width, image.height), text_height, DPI)
    assert VIN_C in [vin.compact(ln.text) for ln in lines]


# -- where to read, and what the readings become ------------------------------------------------

def _page(lines: list[tuple[str, tuple[float, float, float, float]]], reads: list[str] | None = None) -> PageText:
    p = PageText(1, 1654, 2339, 200.0, [OcrLine(t, b, 0.98) for t, b in lines])
    if reads is not None:
        p.region_reads["vin"] = [OcrLine(t, (295.0, 502.0, 1654.0, 576.0), 0.97) for t in reads]
    return p


FRAGMENTS = [("车辆识别代号", (138, 520, 288, 557)), ("V", (528, 524, 542, 542)), ("D", (588, 522, 611, 548)),
             ("9", (926, 522, 950, 548)), ("进厂日期", (135, 582, 241, 626)), ("2020.01.01", (358, 575, 499, 613))]


def test_strips_right_of_the_label_then_below() -> None:
    strips = vin_strips(_page(FRAGMENTS), date(2024, 1, 1))
    assert [s.how for s in strips] == ["right", "below"]
    x0, y0, x1, y1 = strips[0].box
    assert 288 <= x0 < 300 and x1 == 1654 and y0 < 520 and y1 > 557 and y1 < 582


@pytest.mark.parametrize("lines", [
    [("车辆识别代号", (138, 520, 288, 557)), ("LFVDTHPW9HT579512", (300, 520, 900, 557))],  # read whole
    [("车辆识别代号 LFVDTHPW9HT579512", (138, 520, 900, 557))],  # on the label's line
    [("车牌号 粤B12345", (138, 520, 600, 557))],  # no VIN label
])
def test_no_second_pass_when_not_needed(lines: list[tuple[str, tuple[float, float, float, float]]]) -> None:
    assert vin_strips(_page(lines), date(2024, 1, 1)) == []


@pytest.mark.parametrize("reads, want, confident", [
    (["LFVDTHPW9HT579512", "LFVDTHPW9HT579512"], "LFVDTHPW9HT579512", True),  # read whole, twice
    (["LFVDTHPW9HT579512"], "LFVDTHPW9HT579512", False),  # once: the check digit alone passes 1 in 11
    (["FVDTHPW9HT579512", "LFVDTHPW9HT579512", "LFVDTHPW9HT579512"], "LFVDTHPW9HT579512", True),
    (["LFVDTHPW9HT579512", "LFVDTHPW9HT5795I2"], "LFVDTHPW9HT579512", True),  # I for 1: the same VIN twice
    (["LFVDTHPW9HT579512", "LGXE8GN7XK5311439"], None, False),  # two that validate: review, never a guess
    (["LFVDTHPW9HT579513"], None, False),  # check digit fails, nothing repairs it
])
def test_readings_become_the_vin(reads: list[str], want: str | None, confident: bool, tmp_path: Path) -> None:
    settings = Settings(archive_dir=tmp_path)
    fv = extract([_page(FRAGMENTS, reads)], settings, today=date(2024, 1, 1)).fields["vin"]
    if want is not None:
        assert fv.value == want and fv.valid
    assert (fv.confidence >= settings.review_threshold) == confident, (fv.value, fv.confidence, fv.note)


def test_a_repaired_first_reading_is_read_again() -> None:
    # 1 read as I at 9: repaired, but a repair is a guess the boxes can confirm
    repaired = [("车辆识别代号", (138, 520, 288, 557)), ("LBVPF1A2IKY045954", (300, 520, 900, 557))]
    r = vin.read_vin("LBVPF1A2IKY045954")
    assert r is not None and r.valid and r.value == VIN_C and r.confidence < 1.0
    assert [s.how for s in vin_strips(_page(repaired), date(2024, 1, 1))][:1] == ["right"]


@pytest.mark.parametrize("first, reads, want, confident", [
    ("LBVPF1A2IKY045954", [VIN_C], VIN_C, True),  # the boxes confirm the repair
    ("LBVPF1A2IKY045954", [VIN_B, VIN_B], VIN_B, False),  # they contradict it: review
    ("LFVDTHPW9HTS79512", [VIN_A, VIN_A], VIN_A, True),  # two repairs possible; the boxes read twice decide
    ("LFVDTHPW9HTS79512", [VIN_A], VIN_A, False),  # ... read once: for review
])
def test_second_reading_against_a_repaired_first(first: str, reads: list[str], want: str, confident: bool,
                                                 tmp_path: Path) -> None:
    settings = Settings(archive_dir=tmp_path)
    page = _page([("车辆识别代号", (138, 520, 288, 557)), (first, (300, 520, 900, 557))], reads)
    fv = extract([page], settings, today=date(2024, 1, 1)).fields["vin"]
    assert fv.value == want and fv.valid
    assert (fv.confidence >= settings.review_threshold) == confident, (fv.confidence, fv.note)


@pytest.mark.parametrize("text, value, valid, min_conf, max_conf", [
    # a serif dot-matrix H read as 11: joined back (one candidate validates, known WMI)
    ("LSGR46Y16J11252922", "LSGR46Y16JH252922", True, 0.8, 0.95),
    # two H read as II: the one reading that validates, for review
    ("LIIGNEXIIV1L3666518", "LHGNEXHV1L3666518", True, 0.0, 0.7),
    # 18 characters, no H to join: never confusion-repaired into a VIN (the 5-for-S repair the
    # first 17 would allow was taken at 0.86 before)
    ("LSGR46Y16J1125292X", "LSGR46Y16J1125292", False, 0.0, 0.5),
    ("LFVDTHPW9HT5795122", "LFVDTHPW9HT579512", True, 0.0, 0.7),  # a rule read as a 2: the window, for review
    ("VIN LSGR46Y16JH252922", "LSGR46Y16JH252922", True, 1.0, 1.0),  # a separate 17: as read
    # a garbled run of 24 whose one validating window (8104575A3R0FVE301) has no known WMI and a
    # letter among its last four: chance, no VIN (wo11002_094's reading)
    ("BVXIKGD8104575A3R0FVE301", "BVXIKGD8104575A3R", False, 0.0, 0.5),
])
def test_more_than_17_read_in_a_row(text: str, value: str, valid: bool, min_conf: float, max_conf: float) -> None:
    r = vin.read_vin(text)
    assert r is not None and (r.value, r.valid) == (value, valid) and min_conf <= r.confidence <= max_conf, r


@pytest.mark.parametrize("reads, want, confident", [
    # one reading kept the L on the rule but misread Y as V (a B->8 "repair" then validates);
    # the other two lost the L and read the rest right: joined they validate as read (the join
    # of each with the third: two readings agree), against the repaired one: review
    (["FVBM96YXNL077729", ".FVBM96YXNL077729", "LFVBM96VXNL077729"], "LFVBM96YXNL077729", False),
    # a single reading that validates only through a confusion repair (Z for 2): for review
    (["LFMYKZSY8JE958560"], "LFMYK2SY8JE958560", False),
    # two readings, each repaired to the same VIN: trusted
    (["LFMYKZSY8JE958560", "LFMYK2SY8JE9S8560"], "LFMYK2SY8JE958560", True),
    # the same repaired VIN from two readings: trusted
    (["LBVPF1A2IKY045954", "LBVPF1A21KY045954"], VIN_C, True),
])
def test_several_readings_of_the_boxes(reads: list[str], want: str | None, confident: bool, tmp_path: Path) -> None:
    settings = Settings(archive_dir=tmp_path)
    fv = extract([_page(FRAGMENTS, reads)], settings, today=date(2024, 1, 1)).fields["vin"]
    if want is not None:
        assert fv.value == want, (fv.value, fv.note)
    assert (fv.confidence >= settings.review_threshold) == confident, (fv.value, fv.confidence, fv.note)
