"""The costs cross-check searches the readings for the one combination that adds up (issue 12).

On the pre-printed colour form the item table's own 工时费 column header sits above the costs
block's 工时费, and OCR reads the ¥ of a dot-matrix amount as a digit or loses its decimal point:
the chosen readings then do not add up, while another labelled reading, or one misreading undone,
does. Only a unique combination is taken; one misreading at most.
"""

from __future__ import annotations

from datetime import date

import pytest

from core.models import OcrLine, PageText
from core.settings import Settings
from extractors import extract
from extractors.cut_amounts import Piece

TODAY = date(2026, 12, 1)


def L(text: str, x0: float, y0: float, x1: float, y1: float, conf: float = 0.97) -> OcrLine:
    return OcrLine(text, (x0, y0, x1, y1), conf)


def costs(labour: str, parts: str, other: str, discount: str, total: str) -> list[OcrLine]:
    """The colour form's costs block: a row of labels, the amounts in the row below."""
    return [
        L("工时费", 160, 1690, 240, 1730), L("零件费", 440, 1690, 520, 1730), L("其他费用", 720, 1690, 820, 1730),
        L("优惠金额", 1010, 1690, 1100, 1730), L("总计", 1280, 1690, 1340, 1730),
        L(labour, 165, 1742, 265, 1783), L(parts, 432, 1740, 542, 1785), L(other, 714, 1742, 804, 1785),
        L(discount, 999, 1740, 1072, 1780), L(total, 1276, 1740, 1407, 1785),
    ]


ITEMS = [  # the repair-item table above it, as OCR read it (序号 as 序): its header has a 工时费 too
    L("序", 154, 846, 214, 890, 0.96), L("维修项目", 266, 847, 362, 893), L("工时", 1039, 847, 1082, 890, 0.79),
    L("工时费", 1229, 848, 1310, 890, 0.65),
    L("1", 160, 905, 183, 933), L("拆装左前门内饰板", 262, 900, 470, 943), L("0.8", 1170, 897, 1202, 940, 0.98),
    L("232.00", 1463, 897, 1544, 939, 0.99),
    L("2", 156, 954, 185, 986), L("更换左前玻璃升降器", 265, 951, 494, 994), L("1.2", 1166, 950, 1205, 990, 0.99),
    L("348.00", 1457, 950, 1547, 992, 1.0),
]


def fields(lines: list[OcrLine]) -> dict[str, tuple[str | None, float, str]]:
    ex = extract([PageText(1, 1654, 2339, 200, lines)], Settings(), today=TODAY)
    return {k: (v.value, v.confidence, v.note) for k, v in ex.fields.items() if k in ("labor_cost", "parts_cost", "total_cost")}


@pytest.mark.parametrize(("case", "lines", "want", "repaired"), [
    ("the costs block's labour, not the item table's hours",
     ITEMS + costs("580.00", "¥643.50", "￥50.00", "￥0.00", "￥1,273.50"), ("580.00", "643.50", "1273.50"), ""),
    ("a ¥ read as 7", costs("7667.00", "¥1,776.00", "￥50.00", "￥0.00", "￥2,493.00"), ("667.00", "1776.00", "2493.00"),
     "labor_cost"),
    ("a ¥ read as 8 with a comma", costs("¥920.00", "￥1,702.65", "￥0.00", "￥0.00", "82,622.65"),
     ("920.00", "1702.65", "2622.65"), "total_cost"),
    ("the decimal point lost", costs("¥1,280.00", "194089元", "￥0.00", "￥0.00", "￥3,220.89"),
     ("1280.00", "1940.89", "3220.89"), "parts_cost"),
])
def test_the_one_combination_that_adds_up_is_taken(case: str, lines: list[OcrLine], want: tuple[str, str, str],
                                                   repaired: str) -> None:
    got = fields(lines)
    assert (got["labor_cost"][0], got["parts_cost"][0], got["total_cost"][0]) == want, case
    assert all(c >= 0.8 for _, c, _ in got.values())
    for f, (_, _, note) in got.items():
        assert ("read " in note) == (f == repaired), (f, note)


@pytest.mark.parametrize("parts", ["RMB 2,038.83", "￥2,038.83", "2,038.83"])
def test_a_first_digit_with_its_thousands_group_or_after_a_read_mark_is_no_mark(parts: str) -> None:
    """Colour form 10702_126: the total's leading 2 lost under the seal (R .793.83); dropping the
    parts' leading 2 "for the currency mark" made the sum agree, both confidently wrong."""
    got = fields(costs("RMB 755.00", parts, "RMB 0.00", "RMB 0.00", "R .793.83"))
    assert got["parts_cost"][0] == "2038.83"
    assert got["total_cost"][0] == "2793.83" and got["total_cost"][1] < 0.8  # its leading digits lost: review


def test_two_misreadings_are_not_undone() -> None:
    # dropping the leading digit of three four-digit amounts keeps a sum whose leading digits
    # add up (3300 + 2115.90 + 14.10 = 5430): two misreadings would "repair" it wrongly
    got = fields(costs("300.00", "¥2,115.90", "￥14.10", "￥0.00", "￥5,430.00"))
    assert got["labor_cost"][0] == "300.00" and got["total_cost"][0] == "5430.00"
    assert all(c < 0.8 for _, c, _ in got.values())


def test_two_combinations_that_add_up_are_left_for_review() -> None:
    # 1000 + 600 = 1600 and 100 + 1500 = 1600 would both add up: no guess
    lines = [L("工时费：1,000.00", 100, 300, 500, 340), L("工时费：100.00", 100, 900, 500, 940),
             L("材料费：1,500.00", 600, 300, 1000, 340), L("材料费：600.00", 600, 900, 1000, 940),
             L("合计：1,601.00", 100, 360, 500, 400), L("合计：1,600.00", 100, 960, 500, 1000)]
    got = fields(lines)
    assert not all(c >= 0.8 for _, c, _ in got.values())


@pytest.mark.parametrize(("case", "other", "total", "want"), [
    # a printer's ¥ read as 7 before three amounts (¥416.00, ¥989.21, ¥20.00), the total read with it
    ("one digit for every mark, the total's mark read", "720.00", "￥1425.21", ("416.00", "989.21", "1425.21")),
    # the same readings without the total's mark: nothing confirms the marks were marks
    ("the total read without its mark", "720.00", "1425.21", ("7416.00", "7989.21", None)),
    # two different digits for the marks (7 and 4): not one printer's ¥ read one way
    ("two digits for the marks", "420.00", "￥1425.21", ("7416.00", "7989.21", None)),
])
def test_every_amounts_mark_read_as_one_digit_against_a_total_with_its_mark(
        case: str, other: str, total: str, want: tuple[str, str, str | None]) -> None:
    got = fields(costs("7416.00", "7989.21", other, "￥0.00", total))
    assert got["labor_cost"][0] == want[0] and got["parts_cost"][0] == want[1], case
    if want[2] is not None:
        assert got["total_cost"][0] == want[2], case
    assert all(c < 0.8 for _, c, _ in got.values()), case


def test_a_sum_of_amounts_read_with_a_leading_zero_proves_nothing() -> None:
    # a fax's smear took the leading digits of ¥240.00, ¥815.00 and ¥1055.00 alike: 40 + 15 = 055
    got = fields(costs("40.00元", "15.00元", "￥0.00", "￥0.00", "055.00元"))
    assert (got["labor_cost"][0], got["parts_cost"][0], got["total_cost"][0]) == ("40.00", "15.00", "55.00")
    assert all(c < 0.8 for _, c, _ in got.values())
    assert "leading 0" in got["total_cost"][2]
    # the same sum read whole is confirmed by it
    got = fields(costs("240.00元", "815.00元", "￥0.00", "￥0.00", "1,055.00元"))
    assert all(c >= 0.8 for _, c, _ in got.values())


def unlabelled_total(labour: str, parts: str, other: str, rest: list[str]) -> list[OcrLine]:
    """The costs block with the discount's and the total's labels lost (a fax's faint 实收金额)."""
    return [
        L("工时费", 184, 1219, 266, 1263), L("配件费", 464, 1217, 545, 1266), L("管理费", 748, 1221, 821, 1264),
        L(labour, 170, 1285, 300, 1321), L(parts, 470, 1290, 599, 1313), L(other, 771, 1284, 847, 1320),
        *(L(a, 1000 + 280 * i, 1285, 1100 + 280 * i, 1320) for i, a in enumerate(rest)),
    ]


def test_a_total_and_discount_printed_without_labels_are_found() -> None:
    # 1000 + 500 + 0 = 1500 = 1470 printed + 30 printed: the total is 1470, its label lost
    got = fields(unlabelled_total("￥1,000.00", "￥500.00", "￥0.00", ["￥30.00", "￥1,470.00"]))
    assert got["total_cost"][0] == "1470.00"
    assert "printed discount" in got["total_cost"][2]


def test_labour_and_parts_are_no_total_and_discount_pair() -> None:
    # ¥505.33 read as its cents alone (33), the discount and the total not read: 598 + 33 = 631
    # is "598 printed + 33 printed" by the sum's own amounts; no total is found, nothing is sure
    got = fields(unlabelled_total("￥598.00", "33", "￥0.00", []))
    assert got["total_cost"][0] != "598.00"
    assert all(c < 0.8 for _, c, _ in got.values())


def test_amounts_read_without_their_cents_prove_nothing_by_adding_up() -> None:
    # ¥2823.56 and a discount of ¥5.56 both read without their cents: 2592 + 2823 + 80 - 5 = 5490
    got = fields(costs("￥2592.00", "￥2823.", "￥80.00", "￥5.", "￥5490.00"))
    assert got["parts_cost"][0] == "2823.00"
    assert all(c < 0.8 for _, c, _ in got.values())
    assert "without its cents" in got["parts_cost"][2]
    got = fields(costs("￥2592.00", "￥2823.", "￥80.00", "￥5. 56", "￥5490.00"))  # its cents set apart
    assert all(c < 0.8 for _, c, _ in got.values())
    got = fields(costs("￥2592.00", "￥2823.56", "￥80.00", "￥5.56", "￥5490.00"))  # read whole: confirmed
    assert all(c >= 0.8 for _, c, _ in got.values())
    # one amount alone without its cents: the sum pins them down (2592 + 2823 + 80 - 0 = 5495)
    got = fields(costs("￥2592.00", "￥2823.", "￥80.00", "￥0.00", "￥5495.00"))
    assert got["parts_cost"][0] == "2823.00" and all(c >= 0.8 for _, c, _ in got.values())


def test_a_quantity_is_no_printed_discount_that_closes_the_sum() -> None:
    # ¥1354.96 read ¥1354.: 988 + 1354 + 20 - 2.96 is no 2360, but 988 + 1354 + 20 - 2 is, and an
    # item's quantity 2 is printed on the page; a quantity is no amount of money
    items = [L("1", 160, 905, 183, 933), L("前雨刮片", 262, 900, 470, 943), L("2", 1170, 897, 1202, 940),
             L("¥141.00", 1463, 897, 1564, 939)]
    got = fields(items + costs("￥988.00", "￥1354.", "￥20.00", "￥2.96", "￥2360.00"))
    assert got["parts_cost"][0] == "1354.00"
    assert got["parts_cost"][1] < 0.8 and got["labor_cost"][1] < 0.8
    # a discount printed as money does close it (¥2.00 on the page, its label lost)
    got = fields([*items, L("¥2.00", 1000, 1800, 1080, 1840)]
                 + unlabelled_total("￥988.00", "￥1354.00", "￥20.00", ["￥2360.00"]))
    assert got["total_cost"][0] == "2360.00"


def with_rereads(lines: list[OcrLine], reads: dict[str, list[tuple[str, float]]]) -> dict[str, tuple[str | None, float, str]]:
    """``fields`` of a page whose labour and parts strips were read a second time."""
    page = PageText(1, 1654, 2339, 200, lines)
    page.region_reads = {f: [OcrLine(t, (120.0, 1738.0, 290.0, 1786.0) if f == "labor_cost" else (400.0, 1738.0, 560.0, 1786.0), c)
                             for t, c in rs] for f, rs in reads.items()}
    ex = extract([page], Settings(), today=TODAY)
    return {k: (v.value, v.confidence, v.note) for k, v in ex.fields.items() if k in ("labor_cost", "parts_cost", "total_cost")}


# the total under the seal (not read): nothing settles the amounts, their second readings do
@pytest.mark.parametrize(("case", "labour", "parts", "reads", "want"), [
    ("leading digits lost on the cell's rule", "40.00元", "628.50元",
     {"labor_cost": [("1140.00元", 0.999)], "parts_cost": [("1628.50元", 0.993)]}, ("1140.00", "1628.50", "2768.50")),
    ("the decimal point lost", "234000元", "428.10元", {"labor_cost": [("2340.00元", 0.996)]}, ("2340.00", "428.10", "2768.10")),
    ("two second readings agree", "800.00元", "1259.02月", {"parts_cost": [("1359.02元", 0.83), ("1359.02元", 0.91)]},
     ("800.00", "1359.02", "2159.02")),
    ("one unsure second reading changes nothing", "800.00元", "1259.02元", {"parts_cost": [("1359.02元", 0.83)]},
     ("800.00", "1259.02", "2059.02")),
    ("a second reading that lost a leading digit itself changes nothing", "3240.00元", "1270.00元",
     {"labor_cost": [("240.00元", 1.0)]}, ("3240.00", "1270.00", "4510.00")),
])
def test_second_readings_settle_what_no_total_does(case: str, labour: str, parts: str,
                                                   reads: dict[str, list[tuple[str, float]]], want: tuple[str, str, str]) -> None:
    got = with_rereads(costs(labour, parts, "0.00元", "0.00元", "")[:-1], reads)
    assert tuple(got[f][0] for f in ("labor_cost", "parts_cost", "total_cost")) == want, case
    assert all(got[f][1] < Settings().review_threshold for f in got), case  # nothing checked them: review


def test_a_discount_misread_above_the_bill_gives_no_negative_total() -> None:
    got = fields(costs("540.00元", "1753.43元", "0.00元", "11467元", "")[:-1])
    total = got.get("total_cost", (None, 0.0, ""))[0]
    assert total is None or not total.startswith("-")
    assert got["labor_cost"][1] < Settings().review_threshold and got["parts_cost"][1] < Settings().review_threshold


def garbled_labels(amounts: list[str], total_label: bool = False) -> list[OcrLine]:
    """A costs row whose parts label OCR garbled (丰材睾费), its fees and discount labels too, and
    its total's not read: only labour's label stands."""
    labels = [L("工时费", 146, 1627, 226, 1668), L("丰材睾费", 423, 1628, 497, 1668, 0.3), L("管埋赀", 707, 1628, 783, 1668, 0.4),
              L("折指", 988, 1627, 1035, 1670, 0.4)] + ([L("合计", 1272, 1627, 1330, 1668)] if total_label else [])
    xs = (144, 427, 707, 988, 1272)
    return labels + [L(a, x, 1680, x + 130, 1718) for a, x in zip(amounts, xs, strict=False)]


@pytest.mark.parametrize(("case", "amounts", "want"), [
    ("fees added, discount taken off", ["￥2,424.00", "￥1,987.98", "￥20.00", "￥1.98", "￥4,430.00"],
     ("2424.00", "1987.98", "4430.00")),
    ("no fees", ["￥600.00", "￥845.50", "￥0.00", "￥0.00", "￥1,445.50"], ("600.00", "845.50", "1445.50")),
    ("nothing closes the sum", ["￥2,424.00", "￥1,987.98", "￥20.00", "￥1.98", "￥4,431.00"], ("2424.00", None, None)),
    # 100 + 50 + 25 - 25 = 150 and 100 + 50 - 25 + 25 = 150: two ways to close it, none taken
    ("two ways", ["￥100.00", "￥50.00", "￥25.00", "￥25.00", "￥150.00"], ("100.00", None, None)),
])
def test_parts_whose_label_was_not_read_is_what_closes_the_sum(case: str, amounts: list[str],
                                                              want: tuple[str, str | None, str | None]) -> None:
    got = fields(garbled_labels(amounts))
    assert tuple(got.get(f, (None,))[0] for f in ("labor_cost", "parts_cost", "total_cost")) == want, case
    assert all(conf < Settings().review_threshold for value, conf, _ in got.values() if value is not None), case


def test_no_amount_beside_labour_and_a_total_read_is_nothing_to_take() -> None:
    got = fields([L("工时费", 146, 1627, 226, 1668), L("￥320.00", 144, 1680, 274, 1718),
                  L("合计", 146, 1740, 226, 1780), L("￥680.00", 300, 1740, 430, 1780)])
    assert got["labor_cost"][0] == "320.00" and "parts_cost" not in got


def test_a_total_read_without_the_leading_digits_its_words_have_is_the_words() -> None:
    lines = costs("40.00元", "195.40元", "00.00元", "169.85元", "245.55元") + [L("金额大写：壹仟贰佰肆拾伍元伍角伍分", 141, 1849, 597, 1893)]
    got = fields(lines)
    assert got["total_cost"][0] == "1245.55" and got["total_cost"][1] < Settings().review_threshold
    assert "leading digits lost" in got["total_cost"][2]


@pytest.mark.parametrize(("total", "words", "want", "confident"), [
    # the total misread (汽9070.44), its words read only with 仟 as 什: the words and the sum agree
    ("汽9070.44", "金额大写：叁什零柒拾元肆角肆分", "3070.44", True),
    # the loose words deny nothing: a total the sum does not confirm stays as read, for review
    ("汽9070.44", "金额大写：叁什零玖拾元肆角肆分", "9070.44", False),
    # no total read: the words are the one reading of it, for review (the sum disagrees)
    ("", "金额大写：叁什零玖拾元肆角肆分", "3090.44", False),
])
def test_words_read_with_look_alike_numerals_confirm_the_sum_only(total: str, words: str, want: str,
                                                                  confident: bool) -> None:
    lines = [ln for ln in costs("Y1624.00", "￥1396. 44", "￥50.00", "￥0.00", total) if ln.text] \
        + [L(words, 141, 1849, 597, 1893, 0.47)]
    got = fields(lines)
    assert got["total_cost"][0] == want
    assert (got["total_cost"][1] >= Settings().review_threshold) is confident
    assert (got["labor_cost"][1] >= Settings().review_threshold) is confident


# -- a seal over the discount and the total: their pieces and the sum (extractors.cut_amounts) --

W = 28.0  # the dot-matrix print's character width in these rows


@pytest.mark.parametrize(("known", "discount", "total", "want"), [
    # ¥8.8 and ￥66 | 00 of ¥8.89 and ¥660.00 (wo11004_050)
    ("668.89", [("¥8.8", 0, 112)], [("￥66", 0, 84), ("00", 140, 196)], ("8.89", "660.00")),
    # the mark, then the seal, then 21: the box's right edge places it (¥8.21, ¥2270.00)
    ("2278.21", [("￥ 21", 0, 140)], [("270.00", 56, 224)], ("8.21", "2270.00")),
    # ￥3 | 20 and 859.80, the total's first digits under the seal (¥328.20, ¥1859.80)
    ("2188.00", [("￥3", 0, 56), ("20", 140, 196)], [("859.80", 56, 224)], ("328.20", "1859.80")),
    # nothing but the cents: every split fits — none taken
    ("2188.00", [("20", 140, 196)], [("80", 168, 224)], None),
    # a piece no pair fits (92 | 7 of ¥92.88: the 8 read as 7)
    ("1857.53", [("92", 28, 84), ("7", 140, 168)], [("1764.65", 28, 224)], None),
    # pieces with no digit (the seal's characters) say nothing: no cell, no pair
    ("668.89", [("鑫", 0, 28)], [("￥66", 0, 84), ("00", 140, 196)], None),
])
def test_the_discount_and_total_under_a_seal_are_the_one_pair_that_fits_their_pieces(
        known: str, discount: list[tuple[str, float, float]], total: list[tuple[str, float, float]],
        want: tuple[str, str] | None) -> None:
    from decimal import Decimal

    from extractors.cut_amounts import piece, solve

    def cell(pieces: list[tuple[str, float, float]]) -> list[Piece]:
        return [p for t, x0, x1 in pieces if (p := piece(t, x0, x1, 0, W)) is not None]

    got = solve(Decimal(known), cell(discount), cell(total))
    assert (None if got is None else (f"{got[0]:.2f}", f"{got[1]:.2f}")) == want


SEALED_ROW = [  # wo11004_058 as OCR read it: the total's label and most of both amounts under the seal
    L("人工费", 182, 1630, 252, 1677, 1.0), L("零件费", 458, 1628, 539, 1676, 1.0), L("管理费", 742, 1627, 811, 1673, 1.0),
    L("优惠", 1016, 1629, 1074, 1675, 1.0), L("马汽车腐", 1202, 1624, 1334, 1693, 0.33),
    L("￥986.00", 206, 1693, 407, 1739, 0.8), L("￥380.00", 488, 1692, 688, 1737, 0.75),
    L("￥50.00", 768, 1692, 937, 1736, 0.76), L("￥16", 1047, 1688, 1131, 1736, 0.7), L("9", 1195, 1700, 1217, 1724, 0.94),
    L("6.08", 1442, 1692, 1563, 1737, 0.99),
]


@pytest.mark.parametrize(("lines", "want"), [
    (SEALED_ROW, "1246.08"),  # ¥169.92 and ¥1246.08: the one pair that fits
    # nothing of the total read: no pair is told — the sum with the discount as read (￥16), for review
    ([ln for ln in SEALED_ROW if ln.text != "6.08"], "1400.00"),
])
def test_a_total_under_the_seal_is_read_from_its_pieces_for_review(lines: list[OcrLine], want: str) -> None:
    ex = extract([PageText(1, 1654, 2339, 200, lines)], Settings(), today=TODAY)
    t = ex.fields["total_cost"]
    assert t.value == want and t.confidence < Settings().review_threshold and ex.needs_review


# a fax whose costs labels OCR garbled but two (wo11005_063): the cells' order tells the rest
GARBLED_COSTS = [L("时费", 199, 1469, 260, 1518, 0.94), L("有件费", 459, 1469, 539, 1515, 0.3),
                 L("材材管理费", 738, 1471, 865, 1516, 0.28), L("优惠金物", 1024, 1469, 1125, 1515, 0.24),
                 L("收融", 1301, 1467, 1409, 1518, 0.64),
                 L("¥1.364.00", 184, 1524, 312, 1563, 0.33), L("￥968.00", 458, 1526, 569, 1566, 0.44),
                 L("N0.00", 742, 1525, 816, 1566, 0.52), L("¥0.00", 1025, 1525, 1097, 1564, 0.49),
                 L("V2.332.00", 1301, 1524, 1436, 1567, 0.63)]


@pytest.mark.parametrize(("total", "want"), [
    ("V2.332.00", ("1364.00", "968.00", "2332.00")),  # 1364 + 968 + 0 - 0 = 2332: taken, for review
    ("V2.382.00", (None, None, None)),  # the sum does not close: nothing told by place alone
])
def test_costs_whose_labels_were_lost_are_told_by_their_cells_order(total: str, want: tuple[str | None, ...]) -> None:
    lines = [ln if ln.text != "V2.332.00" else L(total, *ln.box, ln.conf) for ln in GARBLED_COSTS]
    got = fields(lines)
    assert tuple(got.get(f, (None,))[0] for f in ("labor_cost", "parts_cost", "total_cost")) == want
    assert all(got[f][1] < Settings().review_threshold for f in got)


# the colour form's item tables (wo11013_014's layout): the work items' amounts make labour, the
# parts lines' make parts
def item_tables_of(labour: list[str], parts: list[str]) -> list[OcrLine]:
    lines = [L("序号", 155, 836, 200, 880), L("维修项目", 251, 840, 353, 880), L("工时", 1019, 840, 1076, 882),
             L("工时费", 1215, 839, 1295, 880)]
    y = 889
    for i, a in enumerate(labour, 1):
        lines += [L(str(i), 146, y, 169, y + 30), L(f"检查项目{i}", 253, y, 409, y + 40), L("0.5", 1156, y, 1190, y + 40),
                  L(a, 1449, y, 1526, y + 40)]
        y += 53
    lines += [L("配件明细", 138, y + 10, 258, y + 50)]
    y += 70
    lines += [L("序号", 150, y, 208, y + 43), L("配件编号", 246, y, 353, y + 43), L("配件名称", 557, y, 658, y + 43),
              L("数量", 1014, y, 1065, y + 43), L("单价", 1146, y, 1201, y + 43), L("金额", 1334, y, 1398, y + 43)]
    y += 55
    for i, a in enumerate(parts, 1):
        lines += [L(str(i), 145, y, 173, y + 32), L(f"5Q0{i}98601", 249, y, 396, y + 38),
                  L(("前制动摩擦片", "刹车片消音膏", "左前玻璃升降器总成", "门饰板卡扣")[i - 1], 557, y, 709, y + 40), L("1", 1106, y, 1130, y + 37), L(a, 1241, y, 1314, y + 40),
                  L(a, 1450, y, 1527, y + 40)]
        y += 52
    return lines


def costs_row(labour: str, parts: str, total: str) -> list[OcrLine]:
    return [L("工时费", 147, 1471, 228, 1512), L("材料费", 435, 1471, 505, 1512), L("外加工费", 711, 1471, 812, 1511),
            L("优惠", 996, 1470, 1037, 1511), L("结算金额", 1260, 1468, 1373, 1513),
            L(labour, 144, 1518, 258, 1559), L(parts, 429, 1518, 535, 1560), L("0.00元", 696, 1518, 786, 1560),
            L("0.00元", 991, 1518, 1060, 1560), L(total, 1290, 1518, 1400, 1558)]


@pytest.mark.parametrize(("case", "labour_items", "read", "want", "taken"), [
    ("both lost their 1 on the cell's rule (050.00元, 491.19元), the total under a seal",
     ["150.00", "300.00", "240.00", "360.00"], ("050.00元", "491.19元", "19元"), ("1050.00", "1491.19"), True),
    ("a digit misread (516.00 of 616.00): the items and the total read agree",
     ["150.00", "300.00", "166.00"], ("516.00元", "1491.19元", "2107.19元"), ("616.00", "1491.19"), True),
    ("read as the items add up: nothing to take",
     ["150.00", "300.00", "166.00"], ("616.00元", "1491.19元", "2107.19元"), ("616.00", "1491.19"), False),
    ("a digit misread and no total read: the sum alone proves nothing",
     ["150.00", "300.00", "166.00"], ("516.00元", "1491.19元", "1元"), ("516.00", "1491.19"), False),
    ("the currency mark read as a first digit (81491.19 of ¥1491.19), no total read",
     ["150.00", "300.00", "166.00"], ("616.00元", "81491.19", "1元"), ("616.00", "1491.19"), True),
    ("the cents misread (1491.10), the total read without its cents: the sum gives them",
     ["150.00", "300.00", "166.00"], ("616.00元", "1491. 10", "¥2107."), ("616.00", "1491.19"), True),
    ("the costs add up as read: a row of the table misread is no evidence against them",
     ["150.00", "300.00", "166.00"], ("716.00元", "1491.19元", "2207.19元"), ("716.00", "1491.19"), False),
])
def test_labour_and_parts_the_item_tables_add_up_to(case: str, labour_items: list[str], read: tuple[str, str, str],
                                                     want: tuple[str, str], taken: bool) -> None:
    lines = item_tables_of(labour_items, ["830.73", "32.46", "592.00", "36.00"]) + costs_row(*read)
    got = fields(lines)
    assert (got["labor_cost"][0], got["parts_cost"][0]) == want, case
    noted = [f for f in ("labor_cost", "parts_cost") if "item table's amounts add up" in got[f][2]]
    assert bool(noted) == taken, case
    if taken and "2107.19元" not in read:  # the total read does not confirm it: for review
        assert all(got[f][1] < Settings().review_threshold for f in noted)


def test_an_item_tables_header_with_a_title_misread_is_still_its_header() -> None:
    """作业项日 for 作业项目 and 哪件名称 for 配件名称 (wo11013_145, wo11013_028)."""
    from extractors.items import item_tables
    from extractors.labels import Lexicon
    from extractors.layout import PageIndex

    lines = item_tables_of(["150.00", "300.00"], ["830.73", "32.46"])
    lines = [L("作业项日", *ln.box) if ln.text == "维修项目" else L("哪件名称", *ln.box) if ln.text == "配件名称" else ln
             for ln in lines]
    tables = item_tables(PageIndex.build([PageText(1, 1654, 2339, 200, lines)], Lexicon()))
    assert [(t.kind, str(t.total())) for t in tables] == [("labour", "450.00"), ("parts", "863.19")]


def test_an_item_table_a_misread_row_cut_short_is_no_evidence() -> None:
    lines = item_tables_of(["150.00", "300.00", "240.00", "36O.OO"], ["830.73", "32.46", "592.00", "36.00"]) \
        + costs_row("050.00元", "491.19元", "19元")
    got = fields(lines)
    assert got["labor_cost"][0] != "1050.00" and got["parts_cost"][0] == "1491.19"


def test_a_total_in_the_costs_rows_last_cell_with_the_discount_under_a_seal() -> None:
    """wo11013_130: the total's label garbled (皮奥收金额), the discount's amount lost to the seal
    (RMB read alone), the total right-aligned past its label's end: the last cell's amount is the
    total, for review, with what it leaves as the discount noted."""
    lines = [L("工时费", 141, 1570, 221, 1610), L("配件费", 429, 1569, 497, 1614), L("其他费用", 701, 1569, 806, 1613),
             L("优惠金额", 988, 1566, 1085, 1612), L("皮奥收金额", 1249, 1574, 1359, 1611, 0.63),
             L("RMB 1,260.00", 174, 1623, 352, 1661), L("RMB 1,815.11", 454, 1623, 631, 1661),
             L("RMB0.00", 731, 1624, 857, 1661, 0.95), L("RMB", 1012, 1622, 1072, 1662, 0.72),
             L("3,070.00", 1364, 1624, 1469, 1661, 0.83)]
    got = fields(lines)
    assert got["total_cost"][0] == "3070.00" and got["total_cost"][1] < Settings().review_threshold
    assert "5.11" in got["total_cost"][2]
    # a total more than a fifth under labour + parts is no discount a seal hid: not taken by place
    far = [ln if ln.text != "3,070.00" else L("2,070.00", *ln.box, ln.conf) for ln in lines]
    assert fields(far).get("total_cost", (None,))[0] != "2070.00"


def test_a_parts_table_continued_on_the_next_page_adds_up_with_its_first_part() -> None:
    """A two-page order: the parts table's header printed again on page 2 over the rest of its
    rows; the costs under it, parts read without its leading 1 (491.19元 of 1491.19)."""
    first = item_tables_of(["150.00", "300.00", "240.00", "360.00"], ["830.73", "32.46"])
    rest = [L("序号", 150, 200, 208, 243), L("配件编号", 246, 200, 353, 243), L("配件名称", 557, 200, 658, 243),
            L("数量", 1014, 200, 1065, 243), L("单价", 1146, 200, 1201, 243), L("金额", 1334, 200, 1398, 243),
            L("3", 145, 255, 173, 287), L("6RD837461", 249, 255, 396, 293), L("左前玻璃升降器总成", 557, 255, 709, 295),
            L("1", 1106, 255, 1130, 292), L("592.00", 1241, 255, 1314, 295), L("592.00", 1450, 255, 1527, 295),
            L("4", 145, 307, 173, 339), L("5Q0868243", 249, 307, 396, 345), L("门饰板卡扣", 557, 307, 709, 347),
            L("6", 1106, 307, 1130, 344), L("6.00", 1241, 307, 1314, 347), L("36.00", 1450, 307, 1527, 347)]
    pages = [PageText(1, 1654, 2339, 200, first), PageText(2, 1654, 2339, 200, rest + costs_row("1050.00元", "491.19元", "19元"))]
    got = extract(pages, Settings(), today=TODAY).fields
    assert got["parts_cost"].value == "1491.19" and "item table" in got["parts_cost"].note
    assert got["parts_cost"].confidence < Settings().review_threshold


def test_a_total_read_in_two_pieces_is_no_printed_discount() -> None:
    # wo11027_055: the total ¥2650.99 read as ¥2650 and 0.99, the boxes overlapping at the 0; the
    # 0.99 closes labour + parts + other − total as a discount would (抹零), but it is the total's
    # own cents: the total is not confirmed as 2650.00
    row = [("工时费", (186, 1739, 267, 1786)), ("零件费", (462, 1736, 546, 1786)), ("外加工费", (743, 1739, 854, 1784)),
           ("折扣", (1023, 1736, 1090, 1788)), ("总计", (1301, 1736, 1366, 1787)),
           ("￥1160.00", (191, 1794, 420, 1833)), ("￥1440.99", (474, 1793, 702, 1833)), ("￥50.00", (749, 1793, 925, 1836)),
           ("￥0.00", (1032, 1792, 1174, 1836)), ("￥2650", (1309, 1788, 1458, 1839)), ("0.99", (1442, 1795, 1539, 1841))]
    page = PageText(1, 1654, 2339, 200.0, [OcrLine(t, b, 0.97) for t, b in row])
    f = extract([page], Settings(), today=TODAY).fields["total_cost"]
    assert f.value != "2650.00" or f.confidence < Settings().review_threshold


def test_a_printed_amount_that_closes_the_sum_confirms_the_total() -> None:
    # the same row with the rounding written off printed apart, in its own place (抹零 0.99)
    row = [("工时费", (186, 1739, 267, 1786)), ("零件费", (462, 1736, 546, 1786)), ("外加工费", (743, 1739, 854, 1784)),
           ("总计", (1301, 1736, 1366, 1787)),
           ("￥1160.00", (191, 1794, 420, 1833)), ("￥1440.99", (474, 1793, 702, 1833)), ("￥50.00", (749, 1793, 925, 1836)),
           ("￥2650.00", (1309, 1788, 1480, 1839)), ("抹零：0.99", (200, 1900, 420, 1940))]
    page = PageText(1, 1654, 2339, 200.0, [OcrLine(t, b, 0.97) for t, b in row])
    f = extract([page], Settings(), today=TODAY).fields["total_cost"]
    assert f.value == "2650.00" and f.confidence >= Settings().review_threshold


def costs_row_without(dropped: tuple[str, ...], labour: str, parts: str, total: str) -> list[OcrLine]:
    """``costs_row`` with the amounts of ``dropped`` fields not read (a faded carbon copy's cells)."""
    at = {"labor_cost": 5, "parts_cost": 6, "total_cost": 9}
    gone = {at[f] for f in dropped}
    return [ln for i, ln in enumerate(costs_row(labour, parts, total)) if i not in gone]


@pytest.mark.parametrize(("case", "dropped", "want", "sure"), [
    # wo11031_002: a carbon copy's costs faded, its item tables read: their sums, for review
    ("labour and parts not read, nor the total", ("labor_cost", "parts_cost", "total_cost"), ("616.00", "1491.19"), False),
    ("labour not read: the items, with parts, make the total read", ("labor_cost",), ("616.00", "1491.19"), True),
])
def test_a_cost_not_read_is_what_its_item_table_adds_up_to(case: str, dropped: tuple[str, ...],
                                                          want: tuple[str, str], sure: bool) -> None:
    lines = item_tables_of(["150.00", "300.00", "166.00"], ["830.73", "32.46", "592.00", "36.00"]) \
        + costs_row_without(dropped, "616.00元", "1491.19元", "2107.19元")
    got = fields(lines)
    assert (got["labor_cost"][0], got["parts_cost"][0]) == want, case
    assert "item table's amounts add up" in got["labor_cost"][2], case
    assert (got["labor_cost"][1] >= Settings().review_threshold) is sure, case


@pytest.mark.parametrize(("discount", "total", "want"), [
    # learning 11014's label-above dealer writes the cents off (抹零): the total 4220.00, the
    # discount ¥1.62 read as ¥1. and a 6, the total's label garbled: the printed 4220.00 on the costs row
    ("￥1.", "￥4220.00", "4220.00"),
    ("￥1.", "￥4219.00", None),  # more than the discount's lost cents under the sum: not it
    ("￥1.62", "￥4220.00", None),  # the discount read whole: 4220.00 closes the sum exactly, or nothing does
])
def test_a_total_beside_a_discount_read_without_its_cents(discount: str, total: str, want: str | None) -> None:
    lines = [L("工时费", 138, 970, 215, 1015), L("零件费", 418, 973, 488, 1014), L("管理费", 700, 969, 770, 1017),
             L("优惠金额", 974, 972, 1079, 1016), L("会计", 1259, 972, 1310, 1023),
             L("￥2604.00", 138, 1025, 369, 1067), L("¥1617.62", 417, 1026, 645, 1068), L("￥0.00", 694, 1023, 873, 1070),
             L(discount, 982, 1026, 1045, 1067), L(total, 1255, 1018, 1487, 1074)]
    got = fields(lines)
    if want is None:
        assert got.get("total_cost", (None, 0.0, ""))[0] != "4220.00" or got["total_cost"][1] >= 0.8
        assert "discount read without its cents" not in got.get("total_cost", (None, 0.0, ""))[2]
    else:
        assert got["total_cost"][0] == want and got["total_cost"][1] < Settings().review_threshold
        assert "discount read without its cents" in got["total_cost"][2]
        # the total checks labour and parts only to the yuan: they stay for review
        assert got["labor_cost"][1] < Settings().review_threshold and got["parts_cost"][1] < Settings().review_threshold
