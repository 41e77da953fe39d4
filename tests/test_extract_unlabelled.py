"""Values found by their shape when OCR lost their labels (issue 12: label-above forms).

A label-above form's small, light labels are lost on a poor copy (进厂日期 read as 进广自期, 工单号
as 七单号) while its values are read well. The header's one box that is a date pair, an order
number or a car model is taken by its shape, always for review; never when the header holds
two of a kind, and never over a value a label gave.
"""

from __future__ import annotations

from datetime import date

import pytest

from core.models import OcrLine, PageText
from core.settings import Settings
from extractors import extract

TODAY = date(2026, 12, 1)
REVIEW = Settings().review_threshold


def L(text: str, x0: float, y0: float, x1: float, y1: float, conf: float = 0.97) -> OcrLine:
    return OcrLine(text, (x0, y0, x1, y1), conf)


# a label-above form's header: labels lost or garbled, the values read; then its item table
DEALER = L("西安瑞宝一汽-大众汽车销售服务有限公司", 334, 78, 899, 117)
GARBLED = [L("七单号", 249, 238, 295, 264, 0.61), L("进广自期", 591, 237, 651, 261, 0.83), L("结期", 934, 238, 1007, 263, 0.7)]
ORDER = L("W20230889640", 287, 264, 434, 295)
DATE_A = L("2023.08.02", 673, 265, 783, 294)
DATE_B = L("2023.08.04", 1021, 265, 1136, 294)
PEOPLE = [L("蒋荣婷", 367, 339, 443, 374), L("严建欣", 718, 341, 784, 371), L("170-1463-9530", 990, 335, 1136, 371)]
VEHICLE = [L("陕UR058T", 330, 416, 435, 445), L("LFVPY0WY1PH369569", 544, 413, 787, 441)]
MODEL = L("探岳380TSI", 1016, 413, 1139, 446)
COLOUR = L("深蓝色", 586, 487, 655, 520)
TABLE = [L("序号", 104, 686, 140, 712), L("维修项目", 180, 685, 257, 712), L("工时", 756, 683, 796, 713),
         L("工时费", 900, 683, 980, 713),
         L("1", 104, 730, 120, 760), L("更换机油机滤", 180, 730, 330, 760), L("0.5", 756, 730, 790, 760),
         L("135.00", 900, 730, 980, 760),
         L("2", 104, 780, 120, 810), L("探岳原厂机油滤清器", 180, 780, 400, 810), L("WX20230889641", 500, 780, 700, 810),
         L("2023.09.30", 756, 780, 880, 810)]


def fields(lines: list[OcrLine]) -> dict[str, tuple[str | None, float, str]]:
    ex = extract([PageText(1, 1240, 1754, 150, lines)], Settings(), today=TODAY)
    return {k: (v.value, v.confidence, v.note) for k, v in ex.fields.items()}


def form(*header: OcrLine, table: bool = True) -> list[OcrLine]:
    return [DEALER, *GARBLED, *header, *(TABLE if table else [])]


ALL = (ORDER, DATE_A, DATE_B, *PEOPLE, *VEHICLE, MODEL, COLOUR)


@pytest.mark.parametrize(("fld", "want"), [
    ("order_no", "W20230889640"),
    ("date_in", "2023-08-02"),
    ("date_out", "2023-08-04"),
    ("model", "探岳380TSI"),
])
def test_a_header_box_of_one_fields_shape_is_that_field_for_review(fld: str, want: str) -> None:
    value, conf, note = fields(form(*ALL))[fld]
    assert value == want
    assert conf < REVIEW and "read" in note


def test_the_earlier_date_is_date_in_wherever_it_is_printed() -> None:
    a = L("2023.08.04", 673, 265, 783, 294)
    b = L("2023.08.02", 1021, 265, 1136, 294)
    got = fields(form(ORDER, a, b, *PEOPLE))
    assert (got["date_in"][0], got["date_out"][0]) == ("2023-08-02", "2023-08-04")


@pytest.mark.parametrize(("case", "header", "fld"), [
    ("three dates: which two?", (ORDER, DATE_A, DATE_B, L("2023.08.10", 330, 487, 440, 520)), "date_in"),
    ("one date: in or out?", (ORDER, DATE_A), "date_in"),
    ("two models", (ORDER, MODEL, L("迈腾330TSI", 700, 487, 800, 520)), "model"),
    ("a colour is no model (深蓝 is a series)", (ORDER, COLOUR), "model"),
    ("a one-character series starts a word, not a model", (ORDER, L("元旦特惠", 700, 487, 800, 520)), "model"),
    ("two order numbers", (ORDER, L("JS-20230802-1234", 700, 487, 900, 520)), "order_no"),
    ("a plate is no order number", (L("陕UR058T", 287, 264, 434, 295),), "order_no"),
    ("a VIN is no order number", (L("LFVPY0WY1PH369569", 287, 264, 534, 295),), "order_no"),
    ("an order number needs a letter (a phone)", (L("17014639530", 287, 264, 434, 295),), "order_no"),
])
def test_nothing_is_taken_when_the_shape_does_not_tell(case: str, header: tuple[OcrLine, ...], fld: str) -> None:
    got = fields(form(*header))
    assert got.get(fld, (None,))[0] is None, case


@pytest.mark.parametrize("fld", ["order_no", "date_in", "date_out", "model"])
def test_without_an_item_table_nothing_tells_the_header(fld: str) -> None:
    assert fields(form(*ALL, table=False)).get(fld, (None,))[0] is None


@pytest.mark.parametrize(("case", "header", "want"), [
    ("a one-character series with a Latin trim", (L("宋PLUS DM-i", 1016, 413, 1139, 446),), "宋PLUSDM-i"),
    ("a series of three characters", (L("蒙迪欧 EcoBoost 245", 969, 436, 1171, 469),), "蒙迪欧EcoBoost245"),
])
def test_model_kinds(case: str, header: tuple[OcrLine, ...], want: str) -> None:
    assert fields(form(ORDER, *header))["model"][0] == want, case


def test_a_labelled_value_is_never_replaced() -> None:
    labelled = [L("车型", 1016, 380, 1060, 405), MODEL, L("委托书号", 249, 238, 330, 264)]
    got = fields([DEALER, *labelled, L("W20230889999", 287, 264, 434, 295), L("迈腾330TSI", 700, 487, 800, 520),
                  DATE_A, DATE_B, *TABLE])
    assert got["model"][0] == "探岳380TSI" and got["order_no"][0] == "W20230889999"


@pytest.mark.parametrize(("case", "date_label", "other", "want"), [
    ("date in read, the other box is out", L("进厂日期", 591, 237, 681, 261), DATE_B, ("2023-08-02", "2023-08-04")),
    ("date out read, the other box is in", L("结算日期", 934, 238, 1030, 263), DATE_A, ("2023-08-02", "2023-08-04")),
])
def test_one_date_labelled_the_other_box_is_the_other_date(case: str, date_label: OcrLine, other: OcrLine,
                                                          want: tuple[str, str]) -> None:
    labelled = DATE_A if other is DATE_B else DATE_B
    got = fields([DEALER, date_label, labelled, other, ORDER, *TABLE])
    assert (got["date_in"][0], got["date_out"][0]) == want, case
    unlabelled = "date_out" if other is DATE_B else "date_in"
    assert got[unlabelled][1] < REVIEW


def test_the_other_box_on_the_wrong_side_of_the_labelled_date_is_not_taken() -> None:
    # 进厂日期 2023-08-04 read; the other box, 08-02, cannot be the date out
    got = fields([DEALER, L("进厂日期", 934, 238, 1030, 263), DATE_B, DATE_A, ORDER, *TABLE])
    assert got["date_in"][0] == "2023-08-04" and got.get("date_out", (None,))[0] is None


# the people's row with the advisor's label read and the customer's lost (客户名称 read as 客)
ADVISOR_LABEL = L("服务接待", 261, 310, 328, 336, 0.9)
LOST_LABEL = L("客", 624, 312, 656, 336, 0.99)
PHONE_LABEL = L("手机", 979, 312, 1008, 336)


@pytest.mark.parametrize(("case", "row", "want"), [
    ("the one other name on the advisor's row", PEOPLE, "严建欣"),
    ("two other names: nothing tells", [*PEOPLE, L("陶恩", 1150, 339, 1200, 374)], None),
    ("no other name", [PEOPLE[0], PEOPLE[2]], None),
])
def test_a_name_whose_label_was_lost_beside_a_labelled_one(case: str, row: list[OcrLine], want: str | None) -> None:
    got = fields(form(ADVISOR_LABEL, LOST_LABEL, PHONE_LABEL, *row))
    assert got["advisor"][0] == "蒋荣婷", case
    value, conf, note = got.get("customer_name", (None, 0.0, ""))
    assert value == want, case
    if want is not None:
        assert conf < REVIEW and "other name" in note, case


# a colour form's phone cell and its parts table, whose BMW part numbers have a mobile's shape
PHONE_LABEL = L("联系电话", 1079, 384, 1178, 424, 1.0)
PARTS = [L("序号", 147, 1255, 187, 1295), L("零件号", 237, 1251, 317, 1298), L("零件名称", 545, 1252, 651, 1297),
         L("数量", 1006, 1251, 1069, 1300), L("单价", 1142, 1255, 1184, 1297), L("金额", 1330, 1253, 1387, 1298),
         L("3", 147, 1359, 160, 1391), L("17816794308", 237, 1359, 396, 1391), L("空调清洗剂", 542, 1355, 649, 1395),
         L("1", 1095, 1361, 1114, 1390), L("104.46", 1225, 1357, 1311, 1395), L("104.46", 1439, 1357, 1521, 1395)]


@pytest.mark.parametrize(("case", "lines", "want", "confident"), [
    # the phone's value lost its leading 1 on the cell's rule: the repaired reading, not a part number
    ("label read, value headless", [PHONE_LABEL, L("5071888807", 1237, 376, 1404, 414, 1.0)], "15071888807", False),
    ("label read, value unreadable", [PHONE_LABEL, L("507188", 1237, 376, 1404, 414, 0.4)], None, False),
    ("no label, a lone mobile line", [L("150 7188 8807", 1237, 376, 1404, 414, 0.99)], "15071888807", True),
])
def test_a_part_number_is_no_phone(case: str, lines: list[OcrLine], want: str | None, confident: bool) -> None:
    page = PageText(1, 1654, 2339, 200.0, [DEALER, *lines, *PARTS])
    f = extract([page], Settings(), today=TODAY).fields.get("phone")
    got = f.value if f is not None and f.value and len(f.value) == 11 else None
    assert got == want, case
    if f is not None and f.value:
        assert (f.confidence >= REVIEW) is confident, case


def test_a_mobile_found_elsewhere_when_its_label_gave_none_is_for_review() -> None:
    page = PageText(1, 1654, 2339, 200.0, [DEALER, PHONE_LABEL, L("507188", 1237, 376, 1404, 414, 0.4),
                                           L("13912345678", 140, 1600, 300, 1640, 0.99)])
    f = extract([page], Settings(), today=TODAY).fields["phone"]
    assert f.value == "13912345678" and f.confidence < REVIEW and "its label's value was not read" in f.note


# a fax of a label-above form (wo11005_063): the title read, the header's labels lost, the item
# table's titles read in part (序号 as 号, 维修项目 as 维修项, 工时费 as 1.时费)
FAX_TITLE = L("维修委托书", 737, 247, 996, 312, 0.99)
FAX_TABLE = [L("号", 178, 885, 243, 940), L("维修项", 279, 891, 355, 935), L("1时", 1046, 891, 1100, 935, 0.4),
             L("1.时费", 1254, 889, 1328, 936),
             L("1", 170, 948, 199, 982), L("底盘检查", 274, 942, 381, 987), L("0.5", 1185, 940, 1220, 987),
             L("310.00", 1478, 941, 1552, 982), L("151.141", 1478, 995, 1552, 1030, 0.17)]
FAX_PARTS = [L("序号", 165, 1221, 239, 1268), L("零件编号", 279, 1224, 386, 1269), L("数量", 1054, 1222, 1103, 1271),
             L("单价", 1173, 1225, 1231, 1270)]
FAX_HEADER = [L("3151", 380, 341, 441, 382, 0.32), L("WO202212121286", 389, 379, 622, 419),
              L("LE4FE1UASLS834327", 792, 576, 1091, 619), L("248.234", 510, 672, 621, 720), L("银色", 1027, 676, 1091, 725)]


@pytest.mark.parametrize(("case", "lines", "fld", "want"), [
    ("the title is no order number's label; the VIN misread is no order number",
     [DEALER, FAX_TITLE, *FAX_HEADER, *FAX_TABLE], "order_no", "WO202212121286"),
    ("the header's one number grouped in thousands is the mileage", [DEALER, FAX_TITLE, *FAX_HEADER, *FAX_TABLE],
     "mileage_km", "248234"),
    # the item table's titles lost but its 工时费 (1时费); an amount misread as grouped (151.141 of
    # 186.00) under it, the parts table's header further down: the header ends at the cost label
    ("an item's amount is not the header's",
     [DEALER, FAX_TITLE, *FAX_HEADER[:3], FAX_TABLE[0], L("1时费", 1259, 748, 1335, 788), FAX_TABLE[-1], *FAX_PARTS],
     "mileage_km", None),
    ("a date with a separator misread is a date (wo11005_039)",
     [DEALER, FAX_TITLE, *FAX_HEADER, L("2021;7:18 11:05", 926, 410, 1136, 456), L("2021/7/18 12:23", 1396, 411, 1600, 455),
      *FAX_TABLE], "date_in", "2021-07-18"),
    ("two grouped numbers: which?", [DEALER, FAX_TITLE, *FAX_HEADER, L("12,500", 1300, 672, 1400, 720), *FAX_TABLE],
     "mileage_km", None),
])
def test_a_fax_that_lost_its_header_labels(case: str, lines: list[OcrLine], fld: str, want: str | None) -> None:
    page = PageText(1, 1654, 2339, 200.0, lines)
    f = extract([page], Settings(), today=TODAY).fields.get(fld)
    assert (f.value if f is not None else None) == want, case
    if want is not None:
        assert f is not None and f.confidence < REVIEW, case


def test_a_label_that_starts_with_a_titles_words_is_a_label() -> None:
    page = PageText(1, 1654, 2339, 200.0, [DEALER, FAX_TITLE, L("维修结算单号：JS-20221212-1286", 389, 379, 822, 419),
                                           *FAX_TABLE])
    f = extract([page], Settings(), today=TODAY).fields["order_no"]
    assert f.value == "JS-20221212-1286" and f.confidence >= REVIEW
