"""Table-driven tests of the field normalisers: VIN, plate, money, dates, phone, mileage."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from extractors import dates, mileage, money, phone, plate, vin
from extractors.fields import PARSERS, parse_mileage, parse_money
from extractors.locality import local_province

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval-data"

# reference check digit written from domain.md, independent of extractors.vin
_VAL = dict(zip("0123456789ABCDEFGHJKLMNPRSTUVWXYZ",
                [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
                strict=True))
_W = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def ref_valid(v: str) -> bool:
    r = sum(_VAL[c] * w for c, w in zip(v, _W, strict=True)) % 11
    return v[8] == ("X" if r == 10 else str(r))


VALID_VINS = ["1M8GDM9AXKP042788", "LSV2451V2HFH7BNJ4", "LFVPJ7WH62J005T72", "LHGCFTA78AFA6URJG",
              "LBV44LW76DXNGBDKC", "LGXF8PX45XGECXXS9", "11111111111111111"]


@pytest.mark.parametrize("v", VALID_VINS)
def test_valid_vins_accepted(v: str) -> None:
    assert ref_valid(v)
    r = vin.read_vin(v)
    assert r is not None and r.valid and r.value == v and r.confidence == 1.0


@pytest.mark.parametrize(
    ("text", "expected", "valid", "min_conf", "max_conf"),
    [
        # spacing, lower case, full width, label noise around the value
        ("lsv2451v2hfh7bnj4", "LSV2451V2HFH7BNJ4", True, 1.0, 1.0),
        ("LSV 2451 V2HF H7BNJ4", "LSV2451V2HFH7BNJ4", True, 1.0, 1.0),
        ("ＬＳＶ２４５１Ｖ２ＨＦＨ７ＢＮＪ４", "LSV2451V2HFH7BNJ4", True, 1.0, 1.0),
        # one OCR confusion (5 read as S): exactly one candidate validates -> repaired
        ("LSV24S1V2HFH71234", "LSV2451V2HFH71234", True, 0.8, 0.95),
        # the model year's L read as 1 (dot-matrix): the one repair that validates
        ("LBVMYANY919592722", "LBVMYANY9L9592722", True, 0.8, 0.95),
        # the one repair that validates puts a letter among the serial's last four, which are
        # digits (ISO 3779): no repair (LFMMJVAF3P5178865 read ...8885: 5->S at 17 validated)
        ("LFMMJVAF3P5178885", "LFMMJVAF3P5178885", False, 0.0, 0.5),
        # O/I/Q cannot occur in a VIN: forced readings
        ("LBV44LW76DXNGBDKC", "LBV44LW76DXNGBDKC", True, 1.0, 1.0),
        ("1M8GDM9AXKPO42788", "1M8GDM9AXKP042788", True, 0.8, 0.95),
        # two confusions (2->Z, 5->S): no single repair validates -> kept as read, low confidence
        ("LFVPJ7WH6ZJ00ST72", "LFVPJ7WH6ZJ00ST72", False, 0.0, 0.5),
        # wrong check digit (5 -> 0 at position 9): kept as read, low confidence
        ("LGXF8PX40XGECXXS9", "LGXF8PX40XGECXXS9", False, 0.0, 0.5),
        # 16 characters
        ("LGXF8PX45XGECXXS", "LGXF8PX45XGECXXS", False, 0.0, 0.5),
    ],
)
def test_vin_repair_table(text: str, expected: str, valid: bool, min_conf: float, max_conf: float) -> None:
    r = vin.read_vin(text)
    assert r is not None
    assert (r.value, r.valid) == (expected, valid)
    assert min_conf <= r.confidence <= max_conf
    if valid:
        assert ref_valid(r.value)


def test_vin_unique_two_change_repair_not_taken() -> None:
    # LGBZ7NK10F9869890: Z read as 7 (not a listed confusion); the only candidate that validates
    # needs two changes (8->B, 6->G) and would be a wrong VIN: keep the reading, low confidence
    r = vin.read_vin("LGBZ7NK10F9869890")
    assert r is not None and not r.valid and r.value == "LGBZ7NK10F9869890" and r.confidence < 0.5


def test_vin_ambiguous_single_repair_not_taken() -> None:
    # 1M8GDM9AXKP042788 with 8->B at positions 3 and 16: a single change (8->B at 17) also
    # validates, so the candidates are ambiguous and nothing is repaired
    r = vin.read_vin("1MBGDM9AXKP0427B8")
    assert r is not None and not r.valid and r.value == "1MBGDM9AXKP0427B8" and r.confidence < 0.5


def test_vin_manufacturer_from_wmi() -> None:
    assert vin.manufacturer("LSV2451V2HFH7BNJ4") == "SAIC-Volkswagen"
    assert vin.manufacturer("LGXF8PX45XGECXXS9") == "BYD"
    assert vin.manufacturer("ZZZ11111111111111") is None


def test_all_real_plates_accepted() -> None:
    with open(EVAL / "plates-zh" / "labels.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 1000
    bad = []
    for row in rows:
        truth = row["plate"]
        for printed in (truth, f"{truth[:2]}·{truth[2:]}", f"{truth[:2]} {truth[2:]}", f"{truth[:2]}•{truth[2:]}"):
            r = plate.read_plate(printed)
            if r is None or not r.valid or r.value != truth:
                bad.append((printed, r))
    assert bad == []


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("粤B·D12345", "粤BD12345", "new-energy small"),
        ("粤B DF1234", "粤BDF1234", "new-energy small"),
        ("京A12345D", "京A12345D", "new-energy large"),
        ("鲁A1234挂", "鲁A1234挂", "suffix"),
        ("苏E1234学", "苏E1234学", "suffix"),
        ("京A1234警", "京A1234警", "suffix"),
        ("沪A1234领", "沪A1234领", "suffix"),
        ("粤Z1234港", "粤Z1234港", "suffix"),
        ("粤Z1234澳", "粤Z1234澳", "suffix"),
        ("沪A1234试", "沪A1234试", "suffix"),
        ("车牌号:浙A·8B2C3", "浙A8B2C3", "standard"),
        ("ＡＢ 川Ａ１２３４５", "川A12345", "standard"),
    ],
)
def test_plate_formats(text: str, expected: str, kind: str) -> None:
    r = plate.read_plate(text)
    assert r is not None and r.valid and r.value == expected and r.kind == kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("豫A:5942Y", "豫A5942Y"),  # the middle dot read as a colon
        ("豫A：5942Y", "豫A5942Y"),
        ("云:A9094学", "云A9094学"),  # ... after the province character
        ("鄂A'D52296", "鄂AD52296"),  # ... as an apostrophe
        ("鄂A‘F69880", "鄂AF69880"),
        ("津G'D8330", "津GD8330"),  # a new-energy plate with its last digit lost reads as a standard one
        ("鲁A*05131", "鲁A05131"),  # ... as an asterisk
        ("粤B*6J1E8", "粤B6J1E8"),
    ],
)
def test_plate_with_its_dot_read_as_a_mark_is_read_for_review(text: str, expected: str) -> None:
    r = plate.read_plate(text)
    assert r is not None and r.valid and r.value == expected and r.confidence < 0.8


@pytest.mark.parametrize(("text", "expected"), [
    ("沪A665]7", "沪A665J7"),  # a dot-matrix J read as ]
    ("沪A·665]7", "沪A665J7"),
    ("沪A6[5]7", None),  # two marks: no reading
    ("沪A665]", None),  # the J makes no plate
])
def test_plate_with_a_letter_read_as_a_bracket_is_repaired_for_review(text: str, expected: str | None) -> None:
    r = plate.read_plate(text)
    got = r.value if r is not None and r.valid else None
    assert got == expected
    if got is not None:
        assert r is not None and r.confidence < 0.8 and "the ] as J" in r.note


@pytest.mark.parametrize(("text", "expected"), [
    ("桂A071109", "桂A07H09"),  # an H read as 11
    ("桂A1109", None),  # too short with the H
    ("桂A111109", None),  # two 11s make two plates: which one, nothing tells
    ("桂A07110", "桂A07110"),  # a plate as read: nothing repaired
])
def test_plate_with_an_h_read_as_eleven_is_repaired_for_review(text: str, expected: str | None) -> None:
    r = plate.read_plate(text)
    got = r.value if r is not None and r.valid else None
    assert got == expected
    if r is not None and r.valid and expected != text:
        assert r.confidence < 0.8 and "read H as 11" in r.note


@pytest.mark.parametrize(("text", "expected"), [
    ("陕U137027", "陕UF37027"),  # a small new-energy car's F read as 1
    ("陕UT14968", "陕UF14968"),  # ... as T
    ("粤B0E1234", "粤BDE1234"),  # its D read as 0
    ("陕U542891", "陕U54289F"),  # a large one's last F read as 1
    ("陕U5428912", None),  # no new-energy plate's length
    ("陕U8X7027", None),  # no look-alike of D or F where they stand
    ("陕U123451", None),  # a small car's F or a large one's: which, nothing tells
])
def test_a_new_energy_plate_s_letter_read_as_a_look_alike_is_repaired_for_review(text: str, expected: str | None) -> None:
    r = plate.read_plate(text)
    got = r.value if r is not None and r.valid else None
    assert got == expected
    if r is not None and r.valid:
        assert r.kind.startswith("new-energy") and r.confidence < 0.8


@pytest.mark.parametrize("text", ["XA12345", "粤B1234", "粤B1234567", "粤BI2345挂挂"])
def test_plate_rejects(text: str) -> None:
    r = plate.read_plate(text)
    assert r is None or not r.valid


@pytest.mark.parametrize(("text", "expected"), [
    ("111A7T197", "川A7T197"), ("lllA7T197", "川A7T197"),
    ("IIIAD78263", "川AD78263"), ("JIIAD0770", "川AD0770"),  # dot-matrix 川 on a fax (colour form 10702)
])
def test_plate_chuan_read_as_strokes_is_repaired_with_lower_confidence(text: str, expected: str) -> None:
    r = plate.read_plate(text)
    assert r is not None and r.valid and r.value == expected and r.confidence < 1.0


@pytest.mark.parametrize("text", ["JIIA7T19", "1IIA7T1979"])  # strokes before what is no plate: nothing
def test_plate_strokes_before_no_plate_are_not_chuan(text: str) -> None:
    r = plate.read_plate(text)
    assert r is None or not r.valid


@pytest.mark.parametrize(("text", "expected"), [("川IG·8Q181", "川G8Q181"), ("J川IAT7092", "川AT7092")])
def test_plate_chuan_with_a_stray_stroke(text: str, expected: str) -> None:
    r = plate.read_plate(text)
    assert r is not None and r.valid and r.value == expected and r.confidence < 1.0


@pytest.mark.parametrize(("text", "expected"), [("渝809786", "渝B09786"), ("闽0·12345", "闽D12345"),
                                              ("粤5D12345", "粤SD12345"), ("浙6 8B2C3", "浙G8B2C3")])
def test_plate_office_letter_read_as_a_digit_is_repaired_for_review(text: str, expected: str) -> None:
    r = plate.read_plate(text)
    assert r is not None and r.valid and r.value == expected and r.confidence < 0.8
    assert "after the province" in r.note


@pytest.mark.parametrize("text", ["沪2024-05-17", "京88号", "地址：京8路12号", "渝8097", "车牌 渝8097861"])
def test_plate_digit_after_province_that_is_no_plate_stays_invalid(text: str) -> None:
    r = plate.read_plate(text)
    assert r is None or not r.valid


@pytest.mark.parametrize(("text", "expected"), [
    ("A1V407", "川A1V407"),  # the province character lost
    ("G-S9252", "川GS9252"),
    ("加A9099J", "川A9099J"),  # another character read for it
    ("1A-24783", "川A24783"),  # a stroke of it read as a digit or a letter
    ("IA-1X50C", "川A1X50C"),
    ("TAA7D83", "川AA7D83"),
    ("AD12345", "川AD12345"),  # a new-energy plate
    ("A1O4O7", "川A10407"),  # O in the body is 0
    ("ZA69168", "川A69168"),  # the province misread as a letter (云 as Z): no plate of the whole
    ("PG20318", "川G20318"),
    ("2A836P7", "川A836P7"),
])
def test_plate_without_a_province_gets_the_dealers_for_review(text: str, expected: str) -> None:
    r = plate.with_province(text, "川", "成都")
    assert r is not None and r.valid and r.value == expected and r.confidence < 0.8
    assert "成都" in r.note


@pytest.mark.parametrize("text", ["粤B12345", "A1", "2024-05-17", "进", "AB", "0000000", "WO201903068950"])
def test_plate_with_a_province_or_no_plate_body_gets_none(text: str) -> None:
    assert plate.with_province(text, "川", "成都") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("成都广汇一汽-大众汽车销售服务有限公司\n地址：成都市武侯区五四路689号", ("川", "成都")),
    ("四川省绵阳市涪城区", ("川", "四川")),
    ("地址：上海市闵行区南京西路1号", ("沪", "上海")),  # a street named after a city is no city
    ("广州市天河区北京路88号", ("粤", "广州")),
    ("北京市朝阳区", ("京", "北京")),  # 朝阳区 is Beijing's district, not 朝阳市 of Liaoning
    ("吉林市丰满区", ("吉", "吉林市")),
    ("郑州市金水区\n客户地址：南京市江宁区", None),  # two provinces: none
    ("维修委托书", None),
])
def test_the_dealers_province_from_its_form(text: str, expected: tuple[str, str] | None) -> None:
    assert local_province(text) == expected


def test_plate_o_in_body_read_as_zero_with_lower_confidence() -> None:
    r = plate.read_plate("粤B12O45")
    assert r is not None and r.valid and r.value == "粤B12045" and r.confidence < 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¥1,234.50", "1234.50"),
        ("￥1234.5", "1234.50"),
        ("Y 860.00", "860.00"),
        ("Y1,200", "1200.00"),
        ("RMB 3,495.00", "3495.00"),
        ("1234元", "1234.00"),
        ("１，２３４．５６元", "1234.56"),
        ("合计: 12,345,678.90", "12345678.90"),
        ("RM 33.90", "33.90"),
        ("$26.60", "26.60"),
        ("-50.00", "-50.00"),
        ("人民币 88", "88.00"),
        ("12 .50", "12.50"),
        ("¥4.950.00", "4950.00"),  # OCR read the thousands comma as a dot
        ("1.465.24", "1465.24"),
        ("¥ 3 3 8 .. 0 0", "338.00"),  # OCR of widely spaced print
        ("¥160 0. 00", "1600.00"),
        ("¥1217..12", "1217.12"),
        ("¥1581:14", "1581.14"),
        ("¥3: 15", "3.15"),
        ("1'922.00", "1922.00"),  # a dot-matrix thousands comma read as an apostrophe
        ("￥2’880.00元", "2880.00"),
        ("¥12'5.00", "12.00"),  # not three digits after it: no separator
        ("no amount here", None),
    ],
)
def test_money_gallery(text: str, expected: str | None) -> None:
    assert money.normalize_money(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("金额大写：壹仟叁佰陆拾元整", "1360.00"),
        ("贰仟叁佰贰拾壹元捌角肆分", "2321.84"),
        ("叁仟零贰拾元整", "3020.00"),
        ("⊗叁仟肆佰玖拾伍圆整", "3495.00"),
        ("壹万零伍佰元零伍分", "10500.05"),
        ("拾元整", "10.00"),
        ("壹拾贰万叁仟元整", "123000.00"),
        ("没有金额", None),
        ("人民币贰仟元整备注", "2000.00"),  # after 整 the next word may follow unspaced
        # a run a misread character cuts is not read from its legible tail (dot-matrix print)
        ("金额大写：抓什优佰零玖元登加宣分", None),
        ("金额大写：贰仟叁佰叁拾陆元肆角攻分", None),
        ("金额大写：登仟玖佰玖拾肆元韧角", None),
        ("金额大写：贰任重销伍拾元整", None),
        ("金额大写:仟陆佰陆拾元整", None),  # no numeral before 仟: its digit lost (贰仟…), not 660
        ("佰元整", None),
    ],
)
def test_amount_in_chinese_capital_numerals(text: str, expected: str | None) -> None:
    a = money.parse_upper_amount(text)
    assert (money.fmt(a) if a is not None else None) == expected


@pytest.mark.parametrize(("text", "strict", "loose"), [
    ("金额大写：叁什零柒拾元肆角肆分", None, "3070.44"),  # 仟 read as 什
    ("金额大写：陆佰贰恰捌元陆角伍分", None, "628.65"),  # 拾 as 恰
    ("金额大写：登仟零肆拾元整", None, "1040.00"),  # 壹 as 登
    ("金额大写：叁仟零棚拾元整", None, "3080.00"),  # 捌 as 棚
    ("金额大写：壹仟叁佰陆拾元整", "1360.00", "1360.00"),
    ("金额大写：抓什优佰零玖元登加宣分", None, None),  # still cut by characters like no numeral
])
def test_amount_in_words_read_with_look_alike_numerals_only_loosely(text: str, strict: str | None,
                                                                    loose: str | None) -> None:
    a, b = money.parse_upper_amount(text), money.upper_amount_read_loosely(text)
    assert (money.fmt(a) if a is not None else None, money.fmt(b) if b is not None else None) == (strict, loose)


def test_totals_cross_check() -> None:
    D = money.Decimal
    assert money.totals_agree(D("100.00"), D("250.50"), D("350.50")) is True
    assert money.totals_agree(D("100.00"), D("250.50"), D("360.50"), other=D("20"), discount=D("10")) is True
    assert money.totals_agree(D("100.00"), D("250.50"), D("999.00")) is False
    assert money.totals_agree(None, D("250.50"), D("350.50")) is None
    # a cent apart is a misread digit (2,190.1 read for ¥2,190.11), not a rounding
    assert money.totals_agree(D("3304.00"), D("2190.10"), D("5510.00"), other=D("20.00"), discount=D("4.11")) is False


TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-15", "2024-03-15"),
        ("2024/3/15", "2024-03-15"),
        ("2024.03.15", "2024-03-15"),
        ("2024年3月15日", "2024-03-15"),
        ("2024 年 03 月 15 日 14:30", "2024-03-15"),
        ("2024-03-15 09:12:00", "2024-03-15"),
        ("2020.02.1414:45", "2020-02-14"),  # OCR dropped the space before the time
        ("2020:02.15 14:50", "2020-02-15"),  # the dot read as a colon
        ("2022/10/316:50", "2022-10-03"),  # day 3 at 16:50, not day 31 at 6:50
        ("2022.08.3113 15", "2022-08-31"),  # the space and the colon of 31 13:15 both lost
        ("2022.08.3125 15", None),  # no hour 25: not taken apart
        ("2024/11/28:10:30", "2024-11-28"),  # the space before the time read as a colon (wo11021_010)
        ("2024-11-28:10:30", "2024-11-28"),
        ("２０２４－０３－１５", "2024-03-15"),
        ("20240315", "2024-03-15"),
        ("25/12/2018", "2018-12-25"),
        ("12 DEC 2018", "2018-12-12"),
        ("12DEC2018", "2018-12-12"),
        ("09-01-19", "2019-01-09"),
        ("18/01/2018 10:31", "2018-01-18"),
        ("23/03/20189:34:40 AM", "2018-03-23"),
        ("Date: 05 Jan 2017", "2017-01-05"),
        ("Mar 3, 2018", "2018-03-03"),
        ("12/25/2018", "2018-12-25"),  # month-first only when day-first is impossible
        ("2024-02-30", None),  # impossible
        ("2024-13-01", None),
        ("2031-01-01", None),  # future
        ("1975-01-01", None),  # implausibly old for a work order
        ("no date", None),
    ],
)
def test_date_gallery(text: str, expected: str | None) -> None:
    assert dates.normalize_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected", "sure"),
    [
        ("2021-06-01:", "2021-06-01", True),  # a colon after it (the next label's): noise
        ("2022,10.0512:45", "2022-10-05", True),  # a comma for the dot, the time glued on
        ("2022，10，05", "2022-10-05", True),
        ("2022.1005 1245", "2022-10-05", False),  # a separator lost: for review
        ("202210.05", "2022-10-05", False),
        ("2022.1345", None, False),  # no month 13
        ("1234.5678", None, False),
        ("2024.10.15", "2024-10-15", True),  # nothing to repair
        ("2024 04 03", "2024-04-03", False),  # spaces for its separators: for review
        ("024/11/5", "2024-11-05", False),  # the year's 2 lost at the cell's rule
        ("019.05.25", "2019-05-25", False),
        ("024", None, False),  # no date
        ("2024 13 03", None, False),
        ("10 24 2024", None, False),  # spaces, not a year first: no guess
        # dot-matrix slashes read as 7 (colour forms): the one date 7s as its separators make, for review
        ("201977730", "2019-07-30", False),
        ("202178/21", "2021-08-21", False),
        ("2019/7716", "2019-07-16", False),
        ("20197877 11:05", "2019-08-07", False),
        ("20197777", "2019-07-07", False),  # 2019/7/7: the 7s either way
        ("2019712727", "2019-12-27", False),
        ("201977", None, False),  # nothing after the month
        ("RO2019712727", None, False),  # an order number's digits, no date
        ("2019-0B-13", "2019-08-13", False),  # an 8 read as B
        ("2019-OB-13", "2019-08-13", False),
        ("2019-AB-13", None, False),  # letters no digit looks like
    ("2019年5月28", "2019-05-28", False),  # no 日 after the day: the 日 read as 8?
    ("2019年5月28日", "2019-05-28", True),
    ("2019年1月 6日", "2019-01-06", False),  # a gap before a one-digit day: 26 with its 2 lost?
    ("2021年 1月17日", "2021-01-17", False),  # ... before a one-digit month (11月?)
    ("2019年1月6日", "2019-01-06", True),
    ("2021年11月 17日", "2021-11-17", True),  # a gap before two digits: nothing lost
    ("2021;7:18 11:05", "2021-07-18", False),  # a dot-matrix slash read as a semicolon
    ("2021:7:18", "2021-07-18", True),  # a colon after the year: the dot as read on many prints
    ],
)
def test_a_date_field_repaired_from_its_punctuation(text: str, expected: str | None, sure: bool) -> None:
    p = PARSERS["date_in"](text, TODAY)
    assert (p.value if p else None) == expected
    if p is not None:
        assert p.valid and (p.confidence >= 0.8) == sure


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("13800138000", "13800138000", "mobile"),
        ("138-0013-8000", "13800138000", "mobile"),
        ("138 0013 8000", "13800138000", "mobile"),
        ("+86 139 1234 5678", "13912345678", "mobile"),
        ("020-12345678", "02012345678", "landline"),
        ("(0755) 2380 6606", "075523806606", "landline"),
        ("电话:0571-8765432", "05718765432", "landline"),
    ],
)
def test_phone_formats(text: str, expected: str, kind: str) -> None:
    r = phone.read_phone(text)
    assert r is not None and r.valid and r.value == expected and r.kind == kind


@pytest.mark.parametrize("text", ["12800138000", "1380013800", "12345", "2787556441", "8787556441 2",
                                  "4008208820"])
def test_phone_rejects(text: str) -> None:
    r = phone.read_phone(text)
    assert r is None or not r.valid
    assert r is None or "leading 1" not in r.note


@pytest.mark.parametrize(("text", "expected"), [("8787556441", "18787556441"), ("87-8755-6441", "18787556441"),
                                                ("手机 48-2568-6231", "14825686231")])
def test_mobile_whose_leading_1_was_lost_is_offered_repaired_for_review(text: str, expected: str) -> None:
    r = phone.read_phone(text)
    assert r is not None and not r.valid and r.value == expected and r.confidence < 0.8 and "leading 1" in r.note


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12,345 km", "12345"), ("5.912", "5912"), ("58.660", "58660"), ("12.5公里", "12"), ("12345公里", "12345"), ("８８００KM", "8800"), ("1.5万公里", "15000"), ("km", None),
     ("160'352", "160352"), ("47’166 km", "47166"), ("12'5", "12"), ("248 553 km", "248553"), ("12 3456", "12"),
     # a date is no odometer reading (the service reminder's 公里 或 2023-12-30，以先到者为准)
     ("2023-12-30,以先到者为准", None), ("2020/1/28", None), ("2023年12月30日", None), ("2023 km", "2023")],
)
def test_mileage(text: str, expected: str | None) -> None:
    assert mileage.normalize_mileage(text) == expected


@pytest.mark.parametrize(("text", "value", "confident"), [
    ("$4.759", "54759", False),  # a 5 read as $ (58,258 read $8.258, 57623 read $7623KM): for review
    ("$7623KM", "57623", False),
    ("(70872KM", "70872", False),  # a digit over the cell's rule read as a mark: the rest is for review
    ("B8010KM", "8010", False),  # a 3 read as B: no odometer prints a letter before its number
    ("里程：B8010", "8010", False),
    ("KM 38010", "38010", True),  # a unit before the number is no letter glued to it
    ("248 553 km", "248553", False),  # thousands set apart by a space: one number, for review
    ("2 553", "2553", False),
    ("248 55", "248", True),  # not groups of three: the first number
    ("74412公里", "74412", True),
    ("12,345 km", "12345", True),
    ("行驶里程: 15000", "15000", True),
    ("17", "17", False),  # a car in for service has done more: 917 with its first digit lost?
    ("99km", "99", False),
    ("100km", "100", True),
    ("166/06 km", "166706", False),  # a 7 without its bar read as a slash
    ("02,096", "2096", False),  # no number starts with 0: its first digit lost
    ("012345", "12345", False),
    ("10,096", "10096", True),
])
def test_mileage_with_a_mark_before_the_number_goes_to_review(text: str, value: str, confident: bool) -> None:
    p = parse_mileage(text, date(2026, 11, 27))
    assert p is not None and p.value == value and (p.confidence >= 0.8) is confident


@pytest.mark.parametrize(("text", "want", "repaired"), [
    ("1H0.00", "1110.00", True),  # dot-matrix 11 run together, read as H
    ("¥2H5.00", "2115.00", True),
    ("¥2659 . 7.8", "2659.78", True),  # a speck between the cents read as a second point
    ("¥1,234.50", "1234.50", False),
    ("4.950.00", "4950.00", False),  # thousands read with a dot: no speck
    ("12.5", "12.50", False),
    ("¥3118.·07", "3118.07", True),  # a speck after the point read as a middle dot
    ("RMB 1,/51.85", "1751.85", True),  # a 7 without its bar read as a slash
    ("1873./1元", "1873.71", True),
    ("1/51.85", "1751.85", True),
    ("12/05", "12.00", False),  # no amount with cents: a slash is no 7 (a date, a fraction)
    ("2024/3/15", "2024.00", False),
    ("1098,34元", "1098.34", True),  # a comma for the point: no thousands group has two digits
    ("12,345", "12345.00", False),
    ("¥1;110.00", "1110.00", True),  # the thousands comma read as a semicolon
    ("RMB 3:030.00", "3030.00", True),  # ... or as a colon
    ("¥1581:14", "1581.14", False),  # a colon before two digits is the decimal point
    ("￥1168 00", "1168.00", True),  # the point lost to a gap before the cents
    ("1 168 00元", "1168.00", True),
    ("¥ 3 3 8 0 0", "33800.00", False),  # spaced print: no three digits together before the gap
    ("¥80. 00", "80.00", False),  # the point read: a gap after it is only a gap
    ("¥5,78822", "5788.22", True),  # a thousands group with the cents after it: the point lost
    ("12,34567元", "12345.67", True),
    ("¥5,788", "5788.00", False),
    ("¥5,788.22", "5788.22", False),
])
def test_money_dot_matrix_misreadings_repaired_for_review(text: str, want: str, repaired: bool) -> None:
    p = parse_money(text, date(2026, 12, 1))
    assert p is not None and p.value == want and p.valid
    assert (p.confidence < 0.8) == repaired


@pytest.mark.parametrize(("text", "want"), [
    ("4科费", None),  # 材料费 with its first characters read as a digit: a label, no amount
    ("1料费", None),
    ("70.00元", "70.00"),
    ("120元", "120.00"),  # a currency unit after the number
    ("12整", "12.00"),
    ("100含税", "100.00"),  # three digits: an amount with a word after it
])
def test_a_number_run_into_a_word_is_no_amount(text: str, want: str | None) -> None:
    p = PARSERS["labor_cost"](text, TODAY)
    assert (p.value if p is not None and p.valid else None) == want


@pytest.mark.parametrize(("text", "want", "note"), [
    ("WQ202003076022", "WO202003076022", "read WQ as WO"),  # Q for O (domain.md: O/0, Q/0)
    ("R0202003076022", "RO202003076022", "read R0 as RO"),
    ("WO202003076022", "WO202003076022", ""),
    ("Q2020-0301", "Q2020-0301", ""),  # no RO / WO: as read
])
def test_a_repair_or_work_orders_o_read_as_zero_or_q(text: str, want: str, note: str) -> None:
    p = PARSERS["order_no"](text, TODAY)
    assert p is not None and (p.value, p.note) == (want, note)
