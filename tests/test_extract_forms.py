"""Other dealers' forms and the national standard 机动车维修结算单 (issue 12): every label wording and
layout kind, table-driven, on hand-made OCR lines through ``extract()``."""

from __future__ import annotations

from datetime import date

import pytest

from core.models import OcrLine, PageText
from core.settings import Settings
from extractors import extract

TODAY = date(2026, 11, 27)
VIN = "LSV2451V2HFH7BNJ4"  # check digit verified in test_extract_normalisers


def L(text: str, x0: float, y0: float, x1: float, y1: float, conf: float = 0.97) -> OcrLine:
    return OcrLine(text, (x0, y0, x1, y1), conf)


def fields(lines: list[OcrLine]) -> dict[str, tuple[str | None, float]]:
    ex = extract([PageText(1, 1654, 2339, 200, lines)], Settings(), today=TODAY)
    return {k: (v.value, v.confidence) for k, v in ex.fields.items()}


def values(lines: list[OcrLine]) -> dict[str, str | None]:
    return {k: v for k, (v, _) in fields(lines).items()}


# (printed label, value as printed, field, canonical value)
WORDINGS = [
    # the national standard form (JT/T 1132 data elements and the 结算单's own wording)
    ("托修方", "张建国", "customer_name", "张建国"),
    ("托修方", "广州恒通物流有限公司", "customer_name", "广州恒通物流有限公司"),
    ("托修单位", "深圳华润商贸有限公司", "customer_name", "深圳华润商贸有限公司"),
    ("厂牌车型", "迈腾 330TSI", "model", "迈腾330TSI"),
    ("厂牌型号", "帕萨特", "model", "帕萨特"),
    ("车辆识别代号", VIN, "vin", VIN),
    ("送修日期", "2024-03-15", "date_in", "2024-03-15"),
    ("进厂日期", "2024年3月15日", "date_in", "2024-03-15"),
    ("结算日期", "2024/3/18", "date_out", "2024-03-18"),
    ("出厂日期", "2024.03.18", "date_out", "2024-03-18"),
    ("送修里程", "12,345km", "mileage_km", "12345"),
    ("行驶里程", "8800公里", "mileage_km", "8800"),
    ("结算清单编号", "JS-20240315-0001", "order_no", "JS-20240315-0001"),
    ("车牌号码", "粤B·D12345", "plate", "粤BD12345"),
    # the advisor as dealers word it
    ("服务顾问", "李四", "advisor", "李四"),
    ("接待员", "王小明", "advisor", "王小明"),
    ("服务专员", "赵敏", "advisor", "赵敏"),
    ("SA", "周杰", "advisor", "周杰"),
    ("服务接待", "孙丽", "advisor", "孙丽"),
    ("接车员", "钱进", "advisor", "钱进"),
    # composed by meaning (a wording no list spells out)
    ("进站日期", "2024-05-02", "date_in", "2024-05-02"),
    ("竣工日期", "2024-05-03", "date_out", "2024-05-03"),
    ("进站里程", "45678", "mileage_km", "45678"),
    ("委托单号", "RO24050200017", "order_no", "RO24050200017"),
    ("车辆号牌", "沪A12345", "plate", "沪A12345"),
]


@pytest.mark.parametrize(("label", "printed", "fld", "want"), WORDINGS)
@pytest.mark.parametrize("sep", ["：", ":", " "])
def test_wording_on_one_line(label: str, printed: str, fld: str, want: str, sep: str) -> None:
    got = fields([L(f"{label}{sep}{printed}", 100, 300, 900, 340)])
    assert got[fld][0] == want
    if sep != " ":  # OCR loses the space between Chinese label and value: a glued value is trusted less
        assert got[fld][1] >= 0.8


@pytest.mark.parametrize(("label", "printed", "fld", "want"), WORDINGS)
def test_wording_value_in_box_to_the_right(label: str, printed: str, fld: str, want: str) -> None:
    assert values([L(label, 100, 300, 300, 340), L(printed, 340, 300, 800, 340)])[fld] == want


@pytest.mark.parametrize(("label", "printed", "fld", "want"), WORDINGS)
def test_wording_label_above_value(label: str, printed: str, fld: str, want: str) -> None:
    """A box per field, the label small at its top, the value under it; the next box's label is
    nearer to the label than its value is."""
    got = values([
        L(label, 104, 300, 190, 324), L("颜色", 450, 300, 500, 324),
        L(printed, 112, 342, 420, 378), L("白色", 458, 342, 540, 378),
    ])
    assert got[fld] == want


def test_label_above_centred_label_right_aligned_value() -> None:
    got = values([
        L("接车员", 230, 300, 300, 324), L("VIN码", 770, 300, 840, 324), L("联系电话", 1290, 300, 1390, 324),
        L("蒋海平", 420, 342, 530, 378), L(VIN, 640, 342, 1060, 378), L("150-0807-7785", 1380, 342, 1620, 378),
    ])
    assert (got["advisor"], got["vin"], got["phone"]) == ("蒋海平", VIN, "15008077785")


def test_label_above_values_out_of_register() -> None:
    """Dot-matrix values printed out of register on a label-above form (form 9321/9903 rows):
    the advisor's box starts 0.4 label heights above the label's bottom, and the row's last value
    (C260L) sits 2.5 label heights past its label's end, under no other label."""
    got = values([
        L("接车员", 337, 518, 395, 556), L("VIN", 820, 517, 848, 555), L("品牌车型", 1260, 517, 1346, 556),
        L("方梅子", 458, 541, 590, 600), L(VIN, 786, 556, 1054, 595), L("C260L", 1445, 556, 1520, 597),
    ])
    assert (got["advisor"], got["vin"], got["model"]) == ("方梅子", VIN, "C260L")


def test_label_above_whose_neighbours_labels_were_garbled() -> None:
    """The labels right of 服务专员 read as 客 and 机 (of 客户 and 手机), recognised as no label: they
    are no advisor's name, and they still end its box, so the name centred under it is read."""
    got = values([
        L("服务专员", 330, 421, 416, 462), L("客", 818, 423, 860, 460, 0.65), L("机", 1291, 426, 1339, 461, 0.89),
        L("史艳梅", 507, 463, 602, 512), L("唐子", 1008, 464, 1064, 507), L("027.44722780", 1344, 462, 1532, 502),
    ])
    assert got["advisor"] == "史艳梅"


def test_a_heading_that_starts_with_a_label_word_gives_no_name_past_its_own_line() -> None:
    """客户及车辆信息 is a heading; what follows it on its line is no name, and the next heading
    (工单信息) right of it is none either: the customer is the one beside 客户： (a name the parser
    does not doubt ends the search, as a doubted one — 客机 — does not)."""
    got = values([
        L("客户及车辆信息", 147, 323, 349, 367, 0.99), L("工单信息", 947, 324, 1062, 369, 0.999),
        L("客户：", 149, 389, 221, 437), L("尹志子", 345, 390, 424, 436, 0.987),
        L("委托书号：", 946, 390, 1074, 435), L("RO2401244585", 1144, 391, 1341, 428),
    ])
    assert got["customer_name"] == "尹志子"


def test_row_of_labels_read_as_one_line_values_below() -> None:
    got = values([
        L("工单号  进厂日期  出厂日期  SA", 100, 300, 1500, 324),
        L("WO202403150012", 100, 342, 450, 378), L("2024-03-15", 480, 342, 700, 378),
        L("2024-03-16", 860, 342, 1080, 378), L("李四", 1300, 342, 1400, 378),
    ])
    assert (got["order_no"], got["date_in"], got["date_out"], got["advisor"]) == (
        "WO202403150012", "2024-03-15", "2024-03-16", "李四")


def test_national_standard_form() -> None:
    """托修方 | 承修方 (the shop, never the customer), 厂牌车型, the VIN in 17 boxes, dates, mileage."""
    x = 340
    boxes = []
    for ch in VIN:
        boxes.append(L(ch, x + 20, 420, x + 40, 456))
        x += 72
    got = values([
        L("机动车维修结算单", 600, 150, 1050, 210),
        L("托修方", 100, 300, 240, 336), L("张建国", 340, 300, 500, 336),
        L("承修方", 850, 300, 990, 336), L("广州骏达丰田汽车销售服务有限公司", 1000, 300, 1600, 336),
        L("厂牌车型", 100, 360, 260, 396), L("卡罗拉 1.2T", 340, 360, 600, 396),
        L("车牌号码", 850, 360, 1010, 396), L("粤A·12345", 1090, 360, 1300, 396),
        L("车辆识别代号", 100, 420, 300, 456), *boxes,
        L("送修日期", 100, 480, 260, 516), L("2024-03-15", 340, 480, 560, 516),
        L("结算日期", 850, 480, 1010, 516), L("2024-03-18", 1090, 480, 1310, 516),
        L("送修里程", 100, 540, 260, 576), L("23,456", 340, 540, 480, 576),
        L("结算清单编号", 850, 540, 1060, 576), L("JS-20240315-0001", 1090, 540, 1400, 576),
    ])
    assert got == {
        "customer_name": "张建国", "model": "卡罗拉1.2T", "plate": "粤A12345", "vin": VIN,
        "date_in": "2024-03-15", "date_out": "2024-03-18", "mileage_km": "23456", "order_no": "JS-20240315-0001",
    }


@pytest.mark.parametrize("groups", [
    [VIN],  # the boxes read as one line
    [" ".join(VIN)],  # one line, a space per box
    [VIN[:3], VIN[3:9], VIN[9:]],  # WMI | VDS | VIS
    [VIN[i:i + 2] for i in range(0, 17, 2)],  # pairs of boxes
])
def test_character_box_vin_joined(groups: list[str]) -> None:
    lines = [L("车辆识别代号", 100, 420, 300, 456)]
    x = 340
    for g in groups:
        w = 36 * len(g)
        lines.append(L(g, x, 420, x + w, 456))
        x += w + 30
    assert values(lines)["vin"] == VIN


def test_two_column_slip_date_shares_line() -> None:
    got = values([
        L("单据编号:W20230893147    送修日期:2023/8/15 09:30", 100, 300, 1000, 336),
        L("客户:雷飞轩    出厂日期:2023/8/18", 100, 350, 900, 386),
        L("电话:154 3100 0492    服务专员:诸葛庆", 100, 400, 1000, 436),
        L("车牌号码:粤B·2B645    车型:卡罗拉 1.2T 精英版", 100, 450, 1100, 486),
        L("车架号:" + VIN + "    里程:27310KM", 100, 500, 1100, 536),
    ])
    assert got == {
        "order_no": "W20230893147", "date_in": "2023-08-15", "customer_name": "雷飞轩", "date_out": "2023-08-18",
        "phone": "15431000492", "advisor": "诸葛庆", "plate": "粤B2B645", "model": "卡罗拉1.2T精英版", "vin": VIN,
        "mileage_km": "27310",
    }


@pytest.mark.parametrize(("line", "customer", "date_out"), [
    # the second key run into the first value, one character misread (厂 as 广, 日 as 曰)
    ("客户:陆强浩出广日期:2024/7/5 16:56", "陆强浩", "2024-07-05"),
    ("客户:杨阳乐出厂曰期:2023/12/18 17:42", "杨阳乐", "2023-12-18"),
    ("客户:陆强浩 出广日期:2024/7/5", "陆强浩", "2024-07-05"),
])
def test_two_column_slip_second_key_misread_and_run_in(line: str, customer: str, date_out: str) -> None:
    got = values([L(line, 100, 350, 900, 386)])
    assert (got.get("customer_name"), got.get("date_out")) == (customer, date_out)


@pytest.mark.parametrize("line", [
    "工单号:W20220125545 入/广日期:2022/1/1",  # 厂 read as a stroke and 广 (dev slip 9321_004)
    "工单号:W20220125545 入|厂日期:2022/1/1",
    "工单号:W20220125545 入 厂日期:2022/1/1",
])
def test_a_key_with_a_stroke_read_as_a_mark_is_still_its_key(line: str) -> None:
    got = values([L(line, 100, 350, 900, 386)])
    assert (got.get("order_no"), got.get("date_in")) == ("W20220125545", "2022-01-01")


def test_a_misread_key_needs_its_colon_to_cut_a_value() -> None:
    # a name that merely ends like a label is left whole: no colon after it
    assert values([L("客户:欧阳出厂日", 100, 350, 900, 386)]).get("customer_name") == "欧阳出厂日"


@pytest.mark.parametrize("other_label", ["维修类型", "维修性质", "结算方式", "车身颜色"])
def test_an_unknown_or_other_label_is_never_a_value(other_label: str) -> None:
    """The nearest text under 服务顾问 is another box's label: no advisor, rather than a wrong one."""
    got = fields([
        L("服务顾问", 100, 300, 240, 324),
        L(other_label, 100, 342, 240, 378), L("保养", 300, 342, 400, 378),
    ])
    assert got.get("advisor", (None, 0.0))[0] is None


@pytest.mark.parametrize("signature", ["服务专员签字：", "SA签字", "接车员签名", "服务接待签字", "经办人签字"])
def test_a_signature_box_is_no_persons_value(signature: str) -> None:
    """服务专员签字 is where the advisor signs; what is printed below it is the customer's
    confirmation (a label-above form read 本人已确认以上 as the advisor)."""
    got = fields([
        L(signature, 113, 596, 251, 625), L("客户签字：", 634, 595, 736, 626),
        L("本人已确认以上维修项目及费用，车辆已完好接收。", 108, 641, 516, 670),
    ])
    assert got.get("advisor", (None, 0.0))[0] is None


def test_person_without_a_common_surname_goes_to_review() -> None:
    got = fields([L("服务顾问：保养员", 100, 300, 600, 340)])
    value, conf = got["advisor"]
    assert conf < Settings().review_threshold


@pytest.mark.parametrize(("line", "confident"), [
    ("客户名称：丁", False),  # one character: the rest of the name lost (丁秀)
    ("客户名称：丁秀", True),
    ("客户名称：广州恒通物流有限公司", True),
])
def test_a_customer_name_of_one_character_goes_to_review(line: str, confident: bool) -> None:
    value, conf = fields([L(line, 100, 300, 600, 340)])["customer_name"]
    assert (conf >= Settings().review_threshold) is confident


@pytest.mark.parametrize(("labels", "want"), [
    # a cost row's labels above their values, a label's first character read as a letter or digit
    (("人工费", "1料费", "结算金额"), {"labor_cost": "1392.00", "parts_cost": "2943.94"}),  # 材料费
    (("T时费", "材料费", "结算金额"), {"labor_cost": "1392.00", "parts_cost": "2943.94"}),  # 工时费
    (("人工费", "材料费", "结算金额"), {"labor_cost": "1392.00", "parts_cost": "2943.94"}),
])
def test_a_cost_label_with_its_first_character_misread_is_still_its_label(labels: tuple[str, ...], want: dict[str, str]) -> None:
    got = values([L(labels[0], 178, 576, 248, 626), L(labels[1], 447, 581, 531, 622), L(labels[2], 1295, 579, 1391, 623),
                  L("¥1,392.00", 176, 634, 308, 673), L("Y2,943.94", 457, 634, 586, 674), L("Y4,335.94", 1295, 632, 1437, 675)])
    assert {f: got.get(f) for f in want} == want
