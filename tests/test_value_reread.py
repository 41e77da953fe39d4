"""The values' second pass: dot-matrix value cells drawn here read by the real recogniser (no
mocks), where to read on a page (``extractors.value_strip.value_strips``), how the readings vote
(``reread_choice``) and what extraction makes of them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.models import OcrLine, PageText
from core.settings import Settings
from extractors import extract, vin
from extractors.value_strip import reread_choice, value_strips, value_text
from pipeline.ocr.region import read_value, value_images
from tests.dot_matrix import dot_cell

TODAY = date(2024, 1, 1)

CELLS = {
    # kind: (image builder, what one of the readings must give)
    "name, blue rules on yellow, 200 dpi": (lambda: dot_cell("蔡艳轩"), "蔡艳轩"),
    "name on the cell's left rule": (lambda: dot_cell("唐庆博", shift_mm=-1.6), "唐庆博"),
    "name, red rules on pink, 150 dpi": (lambda: dot_cell("姚强", dpi=150, rule=(200, 40, 45), paper=(250, 222, 226)),
                                         "姚强"),
    "name on the rule, bilevel scan": (lambda: dot_cell("唐庆博", shift_mm=-1.6, bilevel=True), "唐庆博"),
    "amount on the rule, green": (lambda: dot_cell("¥2520.00", shift_mm=-1.2, rule=(30, 130, 70),
                                                   paper=(220, 242, 215)), "2520.00"),
    "plate, bilevel scan": (lambda: dot_cell("湘A1S674", bilevel=True), "湘A1S674"),
}


@pytest.mark.parametrize("kind", list(CELLS))
def test_value_cell_read_by_rapidocr(kind: str, rapid: object) -> None:
    build, want = CELLS[kind]
    image, text_height = build()
    lines = read_value(rapid, image, (0, 0, image.width, image.height), text_height, 200)  # type: ignore[arg-type]
    readings = ["".join(ln.text.split()).replace("￥", "¥") for ln in lines]
    assert any(want in r for r in readings), f"{kind}: read {readings}"
    assert all(ln.box == (0, 0, image.width, image.height) for ln in lines)


# dot-matrix cells both PP-OCRv4 readings misread and PP-OCRv6 (the fine recogniser) reads right
FINE_CELLS = {
    "model on the cell's left rule": (lambda: dot_cell("君威 552T", shift_mm=-1.2), "君威552T", "君威5521"),
    "model beginning with E": (lambda: dot_cell("E300L 豪华型"), "E300L豪华型", "L300L"),
    "model, bilevel scan": (lambda: dot_cell("秦PLUS DM-i", bilevel=True), "秦PLUSDM-i", "DM-1"),
}


@pytest.mark.parametrize("kind", list(FINE_CELLS))
def test_the_fine_recogniser_reads_what_the_first_misreads(kind: str, rapid: object) -> None:
    build, want, misread = FINE_CELLS[kind]
    image, text_height = build()
    ims = dict(value_images(image, (0, 0, image.width, image.height), text_height, ("tftblur", "tblur")))
    first = ["".join(ln.text.split()) for v in ("tftblur", "tblur") if (ln := rapid.read_line(ims[v], 200))]  # type: ignore[attr-defined]
    assert first and all(want not in r and misread in r for r in first), first
    fine = rapid.read_fine(ims["tftblur"], 200)  # type: ignore[attr-defined]
    assert fine is not None and "".join(fine.text.split()) == want, fine
    # the values' second pass: the fine recogniser's reading first (the first's too where it is unsure)
    lines = read_value(rapid, image, (0, 0, image.width, image.height), text_height, 200)  # type: ignore[arg-type]
    assert "".join(lines[0].text.split()) == want and len(lines) == (1 if lines[0].conf >= 0.9 else 2)


@pytest.mark.parametrize("fine", [False, True])
def test_a_reading_carries_the_recogniser_s_choices_per_character(fine: bool, rapid: object) -> None:
    """The same text and confidence as RapidOCR's own call, and per character its choices, its
    own first: the dot-matrix T of 552T on the cell's rule, which PP-OCRv4 reads 1, is T or 1 to
    either recogniser."""
    import cv2

    image, text_height = dot_cell("君威 552T", shift_mm=-1.2)
    grey = dict(value_images(image, (0, 0, image.width, image.height), text_height, ("tftblur",)))["tftblur"]
    line = (rapid.read_fine if fine else rapid.read_line)(grey, 200)  # type: ignore[attr-defined]
    recogniser = rapid._fine if fine else rapid._ocr.text_rec  # type: ignore[attr-defined]
    (text, conf), = [r[:2] for r in recogniser([cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)], False)[0]]
    assert line is not None and (line.text, line.conf) == (text.strip(), pytest.approx(float(conf)))
    assert len(line.alternatives) == len(line.text)
    assert all(at[0][0] == ch and all(p >= 0.01 for _, p in at) for at, ch in zip(line.alternatives, line.text, strict=True))
    assert {"T", "1"} <= {c for c, _ in line.alternatives[-1]}, line.alternatives
    page = PageText(1, 100, 100, 200.0, region_reads={"customer_name": [line]})
    assert PageText.from_dict(page.to_dict()).region_reads["customer_name"][0].alternatives == line.alternatives


def test_without_a_fine_recogniser_the_first_reads_two_variants() -> None:
    from pipeline.ocr import get_engine

    plain = get_engine(Settings(ocr_fine_model="none"), "rapidocr")
    assert plain.fine_model == "" and "ppocrv6" not in plain.version
    image, text_height = CELLS["name, blue rules on yellow, 200 dpi"][0]()
    lines = read_value(plain, image, (0, 0, image.width, image.height), text_height, 200)
    assert len(lines) == 2 and all("蔡艳轩" in ln.text for ln in lines)


def test_a_misread_vin_in_its_cell_does_not_validate(rapid: object) -> None:
    """Serif dot-matrix F and T read as I and 1 (the colour form's VIN): the check digit fails, so
    the misreading is no VIN — it cannot be taken for one."""
    want = "LFVCJT4N6FK256859"
    image, text_height = dot_cell(want, rule=(200, 40, 45))
    lines = read_value(rapid, image, (0, 0, image.width, image.height), text_height, 200)  # type: ignore[arg-type]
    assert lines
    for ln in lines:
        r = vin.read_vin(ln.text)
        assert r is None or not r.valid or r.value == want, ln.text


def test_without_the_second_pass_the_cell_is_misread(rapid: object) -> None:
    """The recogniser on the cell as it is (rules, tint, dots) does not give the amount: what the
    second pass is for."""
    image, _ = CELLS["amount on the rule, green"][0]()
    line = rapid.read_line(np.asarray(image.convert("L")), 200)  # type: ignore[attr-defined]
    assert line is None or "2520.00" not in line.text


def test_value_images_fade_coloured_rules_and_remove_black_ones() -> None:
    image, text_height = dot_cell("蔡艳轩", rule=(200, 40, 45))
    for name, im in value_images(image, (0, 0, image.width, image.height), text_height, ("rules", "tight")):
        assert im.dtype == np.uint8 and im.ndim == 2
        # no rule left: no row or column is ink over most of the image
        ink = im < 128
        assert ink.mean(axis=1).max() < 0.5 and ink.mean(axis=0).max() < 0.6, name
    tight = dict(value_images(image, (0, 0, image.width, image.height), text_height, ("rules", "tight")))
    assert tight["tight"].shape[0] < tight["rules"].shape[0]  # cut to the row of characters
    blank = Image.new("RGB", (400, 60), (250, 238, 190))
    ImageDraw.Draw(blank).line([(0, 30), (400, 30)], fill=(0, 0, 0), width=2)  # a rule and nothing else
    assert all((im > 200).all() for _, im in value_images(blank, (0, 0, 400, 60), 20, ("rules",)))


# -- how the readings vote ----------------------------------------------------------------------

@pytest.mark.parametrize("fld, first, first_conf, reads, want, support", [
    ("customer_name", "杨油", 0.6, [("杨阳", 0.9), ("杨阳", 0.8)], "杨阳", 2),  # two readings against one
    ("customer_name", "杨阳", 0.9, [("杨阳", 0.9), ("杨油", 0.95)], None, 0),  # the first and one reading agree
    ("advisor", "艳轩", 0.99, [("蔡艳轩", 0.9), ("蔡艳轩", 0.85)], "蔡艳轩", 2),  # the first character was lost
    ("customer_name", "扎荣家", 0.5, [("孔荣家", 0.9), ("乳荣家", 0.7)], "孔荣家", 1),  # all differ: the surest
    ("customer_name", "扎荣家", 0.95, [("乳荣家", 0.9), ("礼荣家", 0.7)], None, 0),  # ... which is the first
    # a name that starts with a surname wins over the surer ones and more that do not
    ("customer_name", "扎荣家", 0.95, [("孔荣家", 0.9), ("乳荣家", 0.7)], "孔荣家", 1),
    ("customer_name", "目云立", 0.75, [("目云立", 0.94), ("闫云立", 0.76)], "闫云立", 1),
    ("plate", "AIV407", 0.9, [("闽A1V407", 0.8), ("HAIV407", 0.9)], "闽A1V407", 1),  # only valid readings vote
    ("plate", "AIV407", 0.9, [("HAIV407", 0.9)], None, 0),  # nothing valid
    ("model", "300L票华型", 0.66, [("E300L豪华型", 0.95), ("E300L 豪华型", 0.9)], "E300L豪华型", 2),  # spaces aside
    ("mileage_km", None, 0.0, [("124313", 0.9)], "124313", 1),  # no first reading
    ("order_no", "01902156014", 0.7, [("号：RO1902156014", 0.99), ("电：RO1902156014", 0.95)], "RO1902156014", 2),
    ("advisor", "桃强", 0.7, [("服务顾问：姚强", 0.95), ("员姚强", 0.6)], "姚强", 1),  # the label's end caught
    ("customer_name", "张三", 0.8, [("张三结", 0.95), ("张三结", 0.9)], None, 0),  # the next key's start caught
    ("customer_name", "张三", 0.8, [("张三结算日期", 0.95), ("张三结算日期", 0.9)], None, 0),  # ... the next key
    ("customer_name", "汪春", 0.8, [("汪", 0.97), ("汪", 0.97)], None, 0),  # the strip ended inside the value
    ("customer_name", "覃英涵", 0.9, [("英涵", 0.97)], None, 0),  # the second reading lost the first character
    # the first reading lost the first character, which two second readings hold (read three ways):
    # the one that starts with a surname
    ("customer_name", "国建", 1.0, [("闰国建", 0.78), ("国国建", 0.8), ("闫国建", 0.91)], "闫国建", 1),
    ("advisor", "兰涵", 0.99, [("魏兰涵", 0.9), ("魏兰涵", 0.6)], "魏兰涵", 2),
    ("customer_name", "国建", 1.0, [("闫国建", 0.91)], None, 0),  # one reading is no evidence
    # ... unless the recogniser is all but certain of it, a character gained at either end
    ("advisor", "贺博", 0.995, [("贺博霞", 0.999)], "贺博霞", 1),
    ("customer_name", "丽生", 0.92, [("董丽生", 0.997)], "董丽生", 1),
    ("advisor", "顾超", 0.98, [("顾霞超", 0.9998)], "顾霞超", 1),  # its middle one (faint print read past)
    ("customer_name", "潘阳", 0.94, [("潘飞阳", 0.986)], "潘飞阳", 1),
    ("advisor", "顾超", 0.98, [("顾霞超", 0.85)], None, 0),  # ... not sure enough
    ("advisor", "顾超", 0.98, [("顾超", 0.97), ("顾霞超", 0.95)], None, 0),  # ... with another reading as the first
    ("customer_name", "方伟", 0.9, [("方伟", 0.95), ("方伟丽", 0.98)], None, 0),  # not sure enough
    # ... and sure of it when no other reading agrees with the first
    ("advisor", "向超", 0.99, [("向超鹏", 0.921)], "向超鹏", 1),
    ("advisor", "向超", 0.99, [("向超鹏", 0.89)], None, 0),
    ("customer_name", "张伟", 0.9, [("张伟车", 0.999)], None, 0),  # the next key's start (车主)
    ("customer_name", "张伟", 0.9, [("方张伟", 0.999)], None, 0),  # its label's end (托修方)
    ("customer_name", "建华", 0.9, [("建华丽", 0.999)], None, 0),  # no surname
    ("customer_name", "张伟", 0.9, [("张伟A", 0.999)], None, 0),  # no character of a name
    ("customer_name", "欧阳", 0.9, [("欧阳娜娜", 0.999)], None, 0),  # two characters gained
    # an order number or a mileage whose first character the first pass lost, the wider strip sure of it
    ("order_no", "21266589", 1.0, [("E21266589", 0.984)], "E21266589", 1),
    ("mileage_km", "49150", 0.99, [("249150", 0.985)], "249150", 1),
    ("mileage_km", "24313", 0.99, [("124313", 0.99)], None, 0),  # a 1: the cell's rule, perhaps
    ("order_no", "21266589", 1.0, [("|21266589", 0.99)], None, 0),
    ("mileage_km", "49150", 0.99, [("249150", 0.85)], None, 0),  # not sure enough
    ("mileage_km", "49150", 0.99, [("2249150", 0.99)], None, 0),  # two characters gained
    # the second readings lost the first digit on the cell's rule, twice (one image, two variants):
    # the first reading's 2 is no rule read as a digit (wo11031_058)
    ("mileage_km", "239569", 0.9, [("39569", 0.95), ("39569", 0.93)], None, 0),
    ("mileage_km", "124313", 0.9, [("24313", 0.95), ("24313", 0.93)], "24313", 2),  # its 1 may be the rule
    # a second reading closed by its 日 is no date cut short: the first read the 日 as a digit
    ("date_out", "2019年5月28", 0.96, [("2019年5月2日", 1.0)], "2019-05-02", 1),
    ("date_out", "2020.11.12", 0.96, [("2020.11.1", 1.0)], None, 0),  # this one is
])
def test_readings_vote(fld: str, first: str | None, first_conf: float, reads: list[tuple[str, float]],
                       want: str | None, support: int) -> None:
    ch = reread_choice(fld, first, first_conf, [OcrLine(t, (0.0, 0.0, 400.0, 60.0), c) for t, c in reads], TODAY)
    if want is None:
        assert ch is None
    else:
        assert ch is not None and "".join(ch.parsed.value.split()) == want and ch.support == support


def _read(text: str, conf: float, alternatives: dict[int, list[tuple[str, float]]]) -> OcrLine:
    """A second reading with the recogniser's choices at some of its characters."""
    return OcrLine(text, (0.0, 0.0, 400.0, 60.0), conf,
                   alternatives=[alternatives.get(i, [(c, conf)]) for i, c in enumerate(text)])


@pytest.mark.parametrize("fld, first, reads, want", [
    # the recogniser's second choice for the first character makes it a surname (同 read with 周 beside it)
    ("customer_name", "同霞海", [_read("同霞海", 0.84, {0: [("同", 0.51), ("周", 0.35), ("问", 0.11)]})], "周霞海"),
    ("advisor", "未敏美", [_read("未敏美", 0.97, {0: [("未", 0.92), ("朱", 0.07)]})], "朱敏美"),
    ("customer_name", "诺葛燕静", [_read("诺葛燕静", 0.9, {0: [("诺", 0.83), ("语", 0.12), ("诸", 0.02)]})], "诸葛燕静"),
    # ... also after what the strip caught of the label
    ("customer_name", "同霞海", [_read("户：同霞海", 0.84, {2: [("同", 0.51), ("周", 0.35)]})], "周霞海"),
    # the second choice below the floor, or no surname among the choices: the first reading stays
    ("customer_name", "同霞海", [_read("同霞海", 0.99, {0: [("同", 0.99), ("周", 0.005)]})], None),
    ("customer_name", "目云立", [_read("目云立", 0.94, {0: [("目", 0.94), ("月", 0.01), ("自", 0.01)]})], None),
    # a name that starts with a surname keeps it, whatever else the recogniser saw
    ("customer_name", "周霞海", [_read("周霞海", 0.84, {0: [("周", 0.6), ("同", 0.35)]})], None),
    # a rare surname read beside one of the commonest that is at least a tenth as likely: the common
    # one (米 beside 宋, wo11013_124); a common one beside a rarer one, or a rare one far surer than
    # the common one, stays
    ("customer_name", "米涵英", [_read("米涵英", 0.66, {0: [("米", 0.52), ("宋", 0.43), ("来", 0.01)]})], "宋涵英"),
    ("customer_name", "米涵英", [_read("米涵英", 0.9, {0: [("米", 0.95), ("宋", 0.04)]})], None),
    ("customer_name", "宋涵英", [_read("宋涵英", 0.66, {0: [("宋", 0.43), ("米", 0.52)]})], None),
    # ... and of the choices that make a name of one that starts with none, the likeliest so weighed
    # (术 read with 米 at 0.31 and 宋 at 0.06)
    ("advisor", "术敏", [_read("术敏", 0.7, {0: [("术", 0.49), ("米", 0.31), ("宋", 0.06)]})], "宋敏"),
    # not a name
    ("model", "同悦", [_read("同悦", 0.8, {0: [("同", 0.6), ("周", 0.3)]})], None),
])
def test_a_name_takes_its_surname_from_the_recogniser_s_second_choice(
        fld: str, first: str, reads: list[OcrLine], want: str | None) -> None:
    ch = reread_choice(fld, first, 0.8, reads, TODAY)
    assert (None if ch is None else "".join(ch.parsed.value.split())) == want


@pytest.mark.parametrize("fld, first, reads, want", [
    # a given name's character no name commonly has, read beside one that names have
    ("advisor", "叶玲墩", [_read("叶玲墩", 0.83, {2: [("墩", 0.49), ("敏", 0.42), ("教", 0.03)]})], "叶玲敏"),
    ("customer_name", "段晓鹅", [_read("段晓鹅", 0.83, {2: [("鹅", 0.48), ("鹏", 0.36)]})], "段晓鹏"),
    ("customer_name", "欧阳沿", [_read("欧阳沿", 0.9, {2: [("沿", 0.77), ("浩", 0.21)]})], "欧阳浩"),
    # the second choice too faint, or no common character among them: as read
    ("advisor", "李展梓", [_read("李展梓", 0.98, {1: [("展", 0.95), ("晨", 0.011)]})], None),
    ("advisor", "武平沿", [_read("武平沿", 0.9, {2: [("沿", 0.8), ("沾", 0.2)]})], None),
    # a common character stays whatever else was seen (露 and 霞 are both names' characters)
    ("advisor", "贾露伟", [_read("贾露伟", 0.8, {1: [("露", 0.74), ("霞", 0.23)]})], None),
    # the surname is not a given name's character (熊 is no common one of those)
    ("advisor", "熊然宇", [_read("熊然宇", 0.8, {0: [("熊", 0.9), ("然", 0.1)]})], None),
    # readings that disagree: the one whose given name is all common characters wins the tie
    ("advisor", "熊然字", [OcrLine("熊然宇", (0.0, 0.0, 400.0, 60.0), 0.82)], "熊然宇"),
    ("advisor", "熊然宇", [OcrLine("熊然字", (0.0, 0.0, 400.0, 60.0), 0.99)], None),
    # ... and of readings as common, the one with one of the commonest surnames (郑, not 郎)
    ("advisor", "郑静丹", [OcrLine("郎静丹", (0.0, 0.0, 400.0, 60.0), 0.99)], None),
    ("advisor", "郎静丹", [OcrLine("郑静丹", (0.0, 0.0, 400.0, 60.0), 0.5)], "郑静丹"),
    # ... and it counts twice a reading with a character no name has: the first pass and one
    # strip read 郑住, another strip 郑佳; three readings with 住 win over one with 佳
    ("customer_name", "郑住", [OcrLine("郑住", (0.0, 0.0, 400.0, 60.0), 0.84),
                               OcrLine("郑佳", (0.0, 0.0, 400.0, 60.0), 0.87)], "郑佳"),
    ("customer_name", "郑住", [OcrLine("郑住", (0.0, 0.0, 400.0, 60.0), 0.84),
                               OcrLine("郑住", (0.0, 0.0, 400.0, 60.0), 0.84),
                               OcrLine("郑佳", (0.0, 0.0, 400.0, 60.0), 0.87)], None),
])
def test_a_given_name_takes_a_common_character_from_the_recogniser_s_second_choice(
        fld: str, first: str, reads: list[OcrLine], want: str | None) -> None:
    ch = reread_choice(fld, first, 0.8, reads, TODAY)
    assert (None if ch is None else "".join(ch.parsed.value.split())) == want


@pytest.mark.parametrize("reading, want", [
    ("服务顾问：姚强", "姚强"), ("号：RO1902156014", "RO1902156014"), ("客户名称 杨阳", "杨阳"),
    ("2022年12月6日14:50", "2022年12月6日14:50"), ("¥2,520.00", "¥2,520.00"), ("杨阳", "杨阳"),
    ("张三结算日期:2023-05-06", "张三"), ("客户:张三 联系电话:138", "张三"),
])
def test_what_the_strip_caught_of_the_label_is_dropped(reading: str, want: str) -> None:
    assert value_text(reading) == want


# -- where to read ------------------------------------------------------------------------------

def _page(lines: list[tuple[str, tuple[float, float, float, float], float]],
          reads: dict[str, list[tuple[str, float]]] | None = None) -> PageText:
    p = PageText(1, 1654, 2339, 200.0, [OcrLine(t, b, c) for t, b, c in lines])
    for fld, rs in (reads or {}).items():
        p.region_reads[fld] = [OcrLine(t, (300.0, 510.0, 700.0, 567.0), c) for t, c in rs]
    return p


LABEL = ("客户名称", (138.0, 520.0, 270.0, 557.0), 0.99)
NEXT = ("联系电话", (820.0, 520.0, 950.0, 557.0), 0.99)
PHONE = ("13800138000", (980.0, 521.0, 1200.0, 556.0), 1.0)


def test_a_doubtful_value_is_read_again_from_its_cell() -> None:
    strips = value_strips(_page([LABEL, ("杨油", (330.0, 521.0, 400.0, 556.0), 0.6), NEXT, PHONE]), TODAY)
    assert [s.field for s in strips] == ["customer_name"]
    x0, y0, x1, y1 = strips[0].box
    assert 270 <= x0 < 330  # further left than the first reading (a lost first character), not into the label
    assert 400 < x1 < 820 and y0 < 521 and y1 > 556 and strips[0].first == "杨油"


def test_a_value_read_surely_is_read_again_unless_certain() -> None:
    """A value printed over its cell's rule loses its first character with the recogniser sure of
    the rest (124313 read 24313 at 0.99): only a certain reading is not read again, unless asked."""
    lines = [("进厂里程", (138.0, 520.0, 270.0, 557.0), 0.99), ("24313", (330.0, 521.0, 420.0, 556.0), 0.99), NEXT, PHONE]
    assert [s.field for s in value_strips(_page(lines), TODAY)] == ["mileage_km"]
    assert value_strips(_page(lines), TODAY, sure=0.95) == []


def test_a_label_without_a_value_has_its_strip_read_up_to_the_next_label() -> None:
    strips = value_strips(_page([LABEL, NEXT, PHONE]), TODAY)
    assert [s.field for s in strips] == ["customer_name"]
    assert 270 <= strips[0].box[0] < 300 and strips[0].box[2] < 820 and strips[0].first == ""


@pytest.mark.parametrize("lines", [
    [LABEL, ("杨阳", (330.0, 521.0, 400.0, 556.0), 1.0), NEXT, PHONE],  # the recogniser is certain
    [("车牌号", (138.0, 520.0, 240.0, 557.0), 0.99), ("粤B12345", (330.0, 521.0, 480.0, 556.0), 1.0)],
    [("杨阳", (330.0, 521.0, 400.0, 556.0), 0.5)],  # no label
])
def test_no_second_reading_when_not_needed(lines: list[tuple[str, tuple[float, float, float, float], float]]) -> None:
    assert value_strips(_page(lines), TODAY) == []


def test_a_value_on_its_label_s_line_is_not_read_again() -> None:
    """客户：汪春结算日期：… read as one line: where the name ends is a guess from the character
    count, and a strip cut inside it loses the value's end. The date ends the line: it is read again."""
    strips = value_strips(_page([("客户：汪春结算日期：2020年6月3日", (130.0, 308.0, 498.0, 341.0), 0.89)]), TODAY)
    assert [s.field for s in strips] == ["date_out"]


@pytest.mark.parametrize("line, fields", [
    (("SA：张军", (400.0, 432.0, 500.0, 469.0), 0.57), ["advisor"]),  # a name that ends its line
    (("服务接待：高丽", (300.0, 432.0, 480.0, 469.0), 0.86), ["advisor"]),
    (("车型：天籁2.0", (300.0, 432.0, 480.0, 469.0), 0.86), ["model"]),  # not a name: to the line's end
    (("车牌号：苏A11559", (300.0, 432.0, 480.0, 469.0), 0.9), ["plate"]),  # a slip's plate, OCR unsure
    (("客户：汪春结算日期：2020年6月3日", (130.0, 308.0, 498.0, 341.0), 0.89), ["date_out"]),  # the name: the next key after it
])
def test_a_value_that_ends_its_label_s_line_is_read_again(
        line: tuple[str, tuple[float, float, float, float], float], fields: list[str]) -> None:
    """A value that ends its label's line is read again from a little before the label's guessed
    end; SA：张军鹏 read as SA：张军, the line's box ending before 鹏: a name's strip reaches a
    character's width past the line, another value's a little past it (not into what follows)."""
    strips = value_strips(_page([line]), TODAY)
    assert [s.field for s in strips] == fields
    for s in strips:
        text, (x0, y0, x1, y1), _ = line
        value = text.rsplit("：", 1)[1]
        value_x = x0 + (x1 - x0) * text.index(value) / len(text)  # where the value starts, by count
        assert x0 < s.box[0] < value_x and s.first == value
        if s.field in ("advisor", "customer_name"):
            assert s.box[2] >= x1 + (y1 - y0)
        else:
            assert x1 < s.box[2] <= x1 + (y1 - y0)


def test_no_second_reading_of_a_page_with_its_own_text() -> None:
    p = _page([LABEL, ("杨油", (330.0, 521.0, 400.0, 556.0), 0.6)])
    p.source = "pdf-text"
    assert value_strips(p, TODAY) == []


# -- what extraction makes of the readings ------------------------------------------------------

@pytest.mark.parametrize("reads, want, confident", [
    ([("杨阳", 0.95), ("杨阳", 0.93)], "杨阳", False),  # two readings agree against the first: for review
    ([("杨阳", 0.95)], "杨阳", False),  # one alone, surer than the first: taken, for review
    # one agrees with the first, but 油 is no name's character: two such readings count as one
    ([("杨油", 0.9), ("杨阳", 0.95)], "杨阳", False),
    ([("杨油", 0.9), ("杨油", 0.9), ("杨阳", 0.95)], "杨油", False),  # three of them: it stays (OCR unsure)
    ([], "杨油", False),
])
def test_readings_replace_a_doubtful_name(reads: list[tuple[str, float]], want: str, confident: bool,
                                          tmp_path: Path) -> None:
    settings = Settings(archive_dir=tmp_path)
    page = _page([LABEL, ("杨油", (330.0, 521.0, 400.0, 556.0), 0.6), NEXT], {"customer_name": reads})
    fv = extract([page], settings, today=TODAY).fields["customer_name"]
    assert fv.value == want
    assert (fv.confidence >= settings.review_threshold) == confident, (fv.value, fv.confidence, fv.note)


@pytest.mark.parametrize("reads, want, confident", [
    ([("123260 km", 0.964)], "23260", False),  # a 1 before it: lost at the cell's rule, or the rule itself
    ([("423260 km", 0.964)], "423260", False),  # a digit no rule looks like: taken, for review
    ([("23260 km", 0.97)], "23260", True),  # the second reading agrees
])
def test_a_mileage_read_again_with_one_more_leading_digit(reads: list[tuple[str, float]], want: str, confident: bool,
                                                         tmp_path: Path) -> None:
    settings = Settings(archive_dir=tmp_path)
    lines = [("进厂里程", (138.0, 520.0, 270.0, 557.0), 0.99), ("23260 km", (330.0, 521.0, 480.0, 556.0), 0.99), NEXT]
    fv = extract([_page(lines, {"mileage_km": reads})], settings, today=TODAY).fields["mileage_km"]
    assert (fv.value, fv.confidence >= settings.review_threshold) == (want, confident), fv.note


@pytest.mark.parametrize("reads, want", [
    ([("102,096", 0.999)], "102096"),  # 02,096 read first: a digit was lost, the 1 is no rule
    ([("02,096", 0.999)], "2096"),  # the second reading agrees: still for review
])
def test_a_mileage_read_first_with_a_leading_zero_takes_the_digit_read_before_it(
        reads: list[tuple[str, float]], want: str, tmp_path: Path) -> None:
    settings = Settings(archive_dir=tmp_path)
    lines = [("行驶里程", (138.0, 520.0, 270.0, 557.0), 0.99), ("02,096", (330.0, 521.0, 480.0, 556.0), 1.0), NEXT]
    fv = extract([_page(lines, {"mileage_km": reads})], settings, today=TODAY).fields["mileage_km"]
    assert fv.value == want and fv.confidence < settings.review_threshold, fv.note


def test_an_amount_read_again_is_what_the_sum_chooses(tmp_path: Path) -> None:
    lines = [("工时费", (138.0, 1000.0, 240.0, 1037.0), 0.99), ("材料费", (500.0, 1000.0, 600.0, 1037.0), 0.99),
             ("合计", (900.0, 1000.0, 970.0, 1037.0), 0.99),
             ("¥520.00", (150.0, 1060.0, 280.0, 1097.0), 0.9),  # the first 2 lost on the cell's rule
             ("¥1122.68", (510.0, 1060.0, 650.0, 1097.0), 0.97), ("¥3642.68", (910.0, 1060.0, 1050.0, 1097.0), 0.97)]
    page = _page(lines, {"labor_cost": [("¥2520.00", 0.9)]})
    fields = extract([page], Settings(archive_dir=tmp_path), today=TODAY).fields
    assert (fields["labor_cost"].value, fields["parts_cost"].value, fields["total_cost"].value) == \
        ("2520.00", "1122.68", "3642.68")
    page.region_reads = {}
    assert extract([page], Settings(archive_dir=tmp_path), today=TODAY).fields["labor_cost"].value == "520.00"


COST_LABELS = [("工时费", (138.0, 1000.0, 240.0, 1037.0), 0.99), ("材料费", (500.0, 1000.0, 600.0, 1037.0), 0.99),
               ("合计", (900.0, 1000.0, 970.0, 1037.0), 0.99)]


def _costs(labour: str, parts: str, total: str) -> list[tuple[str, tuple[float, float, float, float], float]]:
    return [*COST_LABELS, (labour, (150.0, 1060.0, 280.0, 1097.0), 0.97),
            (parts, (510.0, 1060.0, 650.0, 1097.0), 0.97), (total, (910.0, 1060.0, 1050.0, 1097.0), 0.97)]


@pytest.mark.parametrize("first, reads, want, confident", [
    # a leading 1 lost on the parts cell's rule and read into labour's from its rule: the first
    # reading adds up (1750 + 308.88 = 2058.88), so do the second readings (750 + 1308.88): these, for review
    (("¥1750.00", "¥308.88", "¥2058.88"), {"labor_cost": [("¥750.00", 0.95)], "parts_cost": [("¥1,308.88", 0.95)],
                                          "total_cost": [("¥12.058.88", 0.9)]},
     ("750.00", "1308.88", "2058.88"), False),
    # a 1 read from the rule before a part and the total: 11,832.54 + 1,677.46 = 13,510.00 adds up too
    (("¥1,677.46", "¥11,832.54", "¥13,510.00"), {"parts_cost": [("¥1,832.54", 0.95)], "total_cost": [("¥3,510.00", 0.95)]},
     ("1677.46", "1832.54", "3510.00"), False),
    # the second readings add up only with one amount changed: nothing to doubt, the first stays sure
    (("¥520.00", "¥1122.68", "¥1642.68"), {"labor_cost": [("¥2520.00", 0.95)]}, ("520.00", "1122.68", "1642.68"), True),
])
def test_second_readings_that_add_up_another_way_are_taken_for_review(
        first: tuple[str, str, str], reads: dict[str, list[tuple[str, float]]], want: tuple[str, str, str],
        confident: bool, tmp_path: Path) -> None:
    settings = Settings(archive_dir=tmp_path)
    fields = extract([_page(_costs(*first), reads)], settings, today=TODAY).fields
    got = tuple(fields[f].value for f in ("labor_cost", "parts_cost", "total_cost"))
    assert got == want
    sure = [fields[f].confidence >= settings.review_threshold for f in ("labor_cost", "parts_cost", "total_cost")]
    assert sure == [confident] * 3, [(fields[f].value, fields[f].confidence, fields[f].note) for f in fields]


@pytest.mark.parametrize(("fld", "first", "reads", "want"), [
    # a strip that ends inside the date loses its end; one that starts on the cell's rule the
    # mileage's first digit: neither wins a tie against the first pass's whole reading
    ("date_in", "2020.11.12", [("2020.11.1", 0.99)], None),
    ("mileage_km", "256131", [("56131公里", 0.9)], None),
    ("order_no", "W20241150395", [("20241150395", 0.95)], None),
    # ... but two readings that agree do, and a first character a rule looks like is no evidence
    ("date_in", "2020.11.12", [("2020.11.1", 0.99), ("2020.11.1", 0.97)], "2020-11-01"),
    ("mileage_km", "156131", [("56131", 0.95)], "56131"),
    # not cut short: a different reading wins its tie as before
    ("date_in", "2020.11.12", [("2020.11.13", 0.99)], "2020-11-13"),
])
def test_a_second_reading_cut_short_does_not_win_a_tie(fld: str, first: str, reads: list[tuple[str, float]],
                                                       want: str | None) -> None:
    ch = reread_choice(fld, first, 0.8, [OcrLine(t, (0.0, 0.0, 400.0, 60.0), c) for t, c in reads], TODAY)
    assert (None if ch is None else ch.parsed.value) == want


@pytest.mark.parametrize(("value", "confident"), [
    ("国乐", False),  # 李国乐 with its surname lost: 国 is a rare surname and a common given-name character
    ("明亮", False),
    ("邓春", True),  # 邓 is one of the commonest surnames
    ("国乐天", True),  # three characters: a name as it stands
    ("林浩", True),
])
def test_a_two_character_name_that_may_have_lost_its_surname(value: str, confident: bool) -> None:
    from extractors.fields import parse_person

    p = parse_person(value, TODAY)
    assert p is not None and p.value == value and p.valid
    assert (p.confidence >= 0.8) is confident


@pytest.mark.parametrize(("value", "name"), [
    # 客户描述 misread 客户指述: the label 客户 and a sentence after it, no name (wo11013_065)
    ("指述:冷车启动时发动机抖动,故灯亮、", None),
    ("张三", "张三"),
    ("广州顺达物流有限公司", "广州顺达物流有限公司"),
    ("Zhang, San", "Zhang, San"),  # a Latin name's comma is no sentence
])
def test_a_sentence_is_no_customers_name(value: str, name: str | None) -> None:
    from extractors.fields import PARSERS

    p = PARSERS["customer_name"](value, TODAY)
    assert (p.value if p is not None else None) == name


@pytest.mark.parametrize(("fld", "value", "confident"), [
    # a customer of two or three characters is a person: the same doubts as an advisor's name
    ("customer_name", "俊芳", False),  # 覃俊芳 with its surname lost at the cell's rule (wo11013_148)
    ("customer_name", "国乐", False),
    ("customer_name", "陈俊芳", True),
    ("customer_name", "广州顺达物流有限公司", True),  # a company: no surname expected
    ("customer_name", "达物流有限公司", True),
    # a sentence particle is in no name (谭梓子 read 谭梓了, wo11013_019)
    ("advisor", "谭梓了", False),
    ("customer_name", "王了", False),
    ("advisor", "谭梓子", True),
])
def test_a_name_no_person_has_is_doubted(fld: str, value: str, confident: bool) -> None:
    from extractors.fields import PARSERS

    p = PARSERS[fld](value, TODAY)
    assert p is not None and p.value == value and p.valid
    assert (p.confidence >= 0.8) is confident, p


@pytest.mark.parametrize(("first", "reads", "want"), [
    # two second readings see a third character, neither the same: the name was cut, for review
    ("邓春", [("邓春磊", 0.88), ("邓春蕊", 0.76)], ["邓春磊", "邓春蕊"]),
    ("邓春", [("邓春", 0.95)], []),
    ("邓春", [("邓春结", 0.9)], []),  # the next key's start (结算日期) is no character of the name
    ("邓春磊", [("邓春磊", 0.9)], []),
    ("邓春", [("张邓春", 0.9)], []),  # a character before it: another rule's case
])
def test_a_name_read_again_with_a_third_character(first: str, reads: list[tuple[str, float]], want: list[str]) -> None:
    from extractors.value_strip import name_goes_on

    assert name_goes_on("advisor", first, [OcrLine(t, (0.0, 0.0, 400.0, 60.0), c) for t, c in reads]) == want
    assert name_goes_on("model", first, [OcrLine(t, (0.0, 0.0, 400.0, 60.0), c) for t, c in reads]) == []


@pytest.mark.parametrize(("first", "reads", "want"), [
    # a second reading sees a surname before the two characters read: the first was lost, for review
    ("强杰", [("T强杰", 0.78), ("强杰", 0.98)], ["丁强杰"]),  # 丁 read as the T it looks like
    ("国建", [("闫国建", 0.8)], ["闫国建"]),
    ("强杰", [("强杰", 0.98)], []),
    ("修杰", [("方修杰", 0.9)], []),  # the end of its label (托修方) is no surname of the name
    ("强杰", [("强杰结", 0.9)], []),  # a character after it: name_goes_on's case
])
def test_a_name_read_again_with_a_character_before_it(first: str, reads: list[tuple[str, float]], want: list[str]) -> None:
    from extractors.value_strip import name_goes_before

    assert name_goes_before("customer_name", first, [OcrLine(t, (0.0, 0.0, 400.0, 60.0), c) for t, c in reads]) == want
    assert name_goes_before("model", first, [OcrLine(t, (0.0, 0.0, 400.0, 60.0), c) for t, c in reads]) == []


def test_a_name_whose_last_character_was_seen_goes_to_review() -> None:
    # a label-above form's row (labels, then their values under them), as OCR read it
    row = [("接车员", (295, 341, 342, 370)), ("车主", (651, 342, 679, 371)), ("手机", (999, 342, 1035, 370)),
           ("邓春", (421, 370, 455, 404)), ("欧阳梓", (761, 364, 851, 412)), ("16384256983", (1048, 369, 1185, 401))]
    page = PageText(1, 1654, 2339, 200.0, [OcrLine(t, b, 1.0) for t, b in row],
                    region_reads={"advisor": [OcrLine("邓春磊", (381, 362, 475, 412), 0.88),
                                              OcrLine("邓春蕊", (381, 362, 475, 412), 0.76)]})
    f = extract([page], Settings(), today=TODAY).fields["advisor"]
    assert f.value == "邓春" and f.confidence < 0.8 and "last character lost" in f.note


def _with_choices(text: str, seconds: dict[int, tuple[str, float]], conf: float = 0.95) -> OcrLine:
    alts = [[(c, 1.0)] if i not in seconds else [(c, 1.0 - seconds[i][1]), seconds[i]] for i, c in enumerate(text)]
    return OcrLine(text, (218.0, 350.0, 472.0, 401.0), conf, alternatives=alts)


def _plate_page(first: str, reads: list[OcrLine]) -> list[PageText]:
    # the first pass read the plate surer than any second reading: it keeps the vote's tie
    lines = [OcrLine("车牌号", (131, 350, 192, 386), 0.99), OcrLine(first, (258, 358, 452, 392), 0.99),
             OcrLine("车型", (831, 354, 873, 387), 1.0), OcrLine("蒙迪欧 FcoBoost 245", (955, 357, 1231, 390), 0.97)]
    return [PageText(1, 1654, 2339, 200.0, lines, region_reads={"plate": reads})]


@pytest.mark.parametrize(("case", "first", "reads", "doubted"), [
    ("a 5 with an S at 0.30 beside it", "闽A59605", [_with_choices("闽A59605", {6: ("S", 0.30)})], True),
    ("an S the recogniser hardly doubted", "闽A59605", [_with_choices("闽A59605", {6: ("S", 0.05)})], False),
    ("a sure second reading one character apart", "鲁A75846", [_with_choices("鲁A7S846", {3: ("5", 0.10)}, 0.98)], True),
    ("the same reading, sure of every character", "鲁A75846", [_with_choices("鲁A75846", {})], False),
])
def test_a_value_the_recogniser_was_in_two_minds_about_goes_to_review(
        case: str, first: str, reads: list[OcrLine], doubted: bool) -> None:
    f = extract(_plate_page(first, reads), Settings(), today=TODAY).fields["plate"]
    assert f.value == first, case
    assert (f.confidence < 0.8) is doubted, case


@pytest.mark.parametrize(("case", "second", "doubted"), [
    # the second reading is the first once parsed (R0 for RO, the parser's own repair): no doubt
    ("the same print, the same O read as 0", "单号:R02409168177", False),
    ("a sure second reading one digit apart", "单号:R02409168171", True),
])
def test_a_second_reading_the_parser_makes_the_value_raises_no_doubt(case: str, second: str, doubted: bool) -> None:
    lines = [OcrLine("结算单号：R02409168177", (170.0, 357.0, 462.0, 396.0), 0.97),
             OcrLine("车型：E300L 豪华型", (600.0, 357.0, 900.0, 396.0), 0.96)]
    page = PageText(1, 1654, 2339, 200.0, lines,
                    region_reads={"order_no": [OcrLine(second, (229.0, 347.0, 486.0, 406.0), 0.93)]})
    f = extract([page], Settings(), today=TODAY).fields["order_no"]
    assert f.value == "RO2409168177", case
    assert (f.confidence < 0.8) is doubted, case


def _mileage_page(first: str, reads: list[OcrLine]) -> list[PageText]:
    lines = [OcrLine("行驶里程", (101, 375, 180, 408), 1.0), OcrLine(first, (221, 382, 287, 412), 0.92),
             OcrLine("车身颜色", (451, 375, 529, 408), 1.0), OcrLine("银色", (567, 381, 615, 417), 0.99)]
    return [PageText(1, 1269, 1774, 150.0, lines, region_reads={"mileage_km": reads})]


@pytest.mark.parametrize(("case", "reads", "doubted"), [
    # 63654 printed in dots, read 53,654 with a 6 at 0.49 beside the 5 (wo11023_050): the thousands
    # comma is no character of the value, the digits line up with their choices
    ("a 5 with a 6 at 0.49 beside it", [_with_choices("53,654", {0: ("6", 0.49)}, 0.92)], True),
    ("the same reading with its unit", [_with_choices("53,654公里", {0: ("6", 0.49)}, 0.92)], True),
    ("a 6 the recogniser hardly saw", [_with_choices("53,654", {0: ("6", 0.05)}, 0.92)], False),
])
def test_a_mileage_the_recogniser_was_in_two_minds_about_goes_to_review(
        case: str, reads: list[OcrLine], doubted: bool) -> None:
    f = extract(_mileage_page("53,654", reads), Settings(), today=TODAY).fields["mileage_km"]
    assert f.value == "53654", case
    assert (f.confidence < 0.8) is doubted, case


@pytest.mark.parametrize(("case", "name", "seconds", "doubted"), [
    # 于磊福 read 干磊福 with 于 at 0.05 beside its 干 (wo11025_012): 干 is a surname, a rare one
    ("a rare surname with a common one beside it", "干磊福", {0: ("于", 0.05)}, True),
    ("a rare surname the recogniser saw alone", "干磊福", {}, False),
    ("a rare surname beside another rare one", "干磊福", {0: ("千", 0.2)}, False),
    ("a common surname with another beside it", "王磊福", {0: ("于", 0.2)}, False),
])
def test_a_rare_surname_read_beside_a_common_one_goes_to_review(
        case: str, name: str, seconds: dict[int, tuple[str, float]], doubted: bool) -> None:
    from extractors.fields import COMMON_SURNAMES

    assert "于" in COMMON_SURNAMES and "王" in COMMON_SURNAMES and "干" not in COMMON_SURNAMES and "千" not in COMMON_SURNAMES
    lines = [OcrLine("服务顾问", (100, 355, 200, 395), 1.0), OcrLine(name, (240, 358, 330, 396), 0.97)]
    page = PageText(1, 1654, 2339, 200.0, lines, region_reads={"advisor": [_with_choices(name, seconds, 0.97)]})
    f = extract([page], Settings(), today=TODAY).fields["advisor"]
    assert f.value == name, case
    assert (f.confidence < 0.8) is doubted, case


def _out_of_register_page(first_order: str) -> list[PageText]:
    # a colour form's first column (wo11023_062): the order number's first reading, then the mileage
    # 135482 read 35482 at 0.98 (the 1 on the cell's vertical rule), its second reading too
    lines = [OcrLine("工单号", (116, 249, 175, 284), 1.0), OcrLine(first_order, (239, 249, 420, 277), 0.97),
             OcrLine("进厂日期", (466, 249, 547, 283), 0.98), OcrLine("2022年1月13日", (578, 250, 718, 282), 0.95),
             OcrLine("车牌号", (114, 340, 175, 375), 1.0), OcrLine("豫AB5C94", (231, 339, 328, 370), 0.97),
             OcrLine("行驶里程", (116, 385, 196, 416), 0.99), OcrLine("35482公里", (241, 384, 341, 416), 0.98)]
    return [PageText(1, 1269, 1774, 150.0, lines,
                     region_reads={"order_no": [OcrLine("JS-20230313-2689", (205, 242, 430, 284), 0.99)]})]


@pytest.mark.parametrize(("case", "first_order", "doubted"), [
    ("the order number of its column lost its first character (S-… of JS-…)", "S-20230313-2689", True),
    ("the order number read whole", "JS-20230313-2689", False),
])
def test_a_mileage_whose_column_lost_first_characters_goes_to_review(case: str, first_order: str, doubted: bool) -> None:
    fields = extract(_out_of_register_page(first_order), Settings(), today=TODAY).fields
    assert fields["order_no"].value == "JS-20230313-2689", case
    f = fields["mileage_km"]
    assert f.value == "35482", case
    assert (f.confidence < 0.8) is doubted, case
    assert ("order no of its column" in f.note) is doubted, case


@pytest.mark.parametrize(("first", "value", "lost"), [
    ("S-20230313-2689", "JS-20230313-2689", True),
    ("10-72582584", "01072582584", True),
    ("02201135739", "RO2201136739", True),  # O and 0 alike, one other misread
    ("JS-20230313-2689", "JS-20230313-2689", False),
    ("JS-20230313-268", "JS-20230313-2689", False),  # its last character lost, not its first
    ("135", "1135", False),  # too short to tell
])
def test_a_first_reading_that_lost_its_first_character(first: str, value: str, lost: bool) -> None:
    from extractors.engine import _first_character_lost

    assert _first_character_lost(first, value) is lost
