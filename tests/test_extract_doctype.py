"""Document types (issue 12): work order, VAT invoice, receipt, other — and no trusted work-order
field on a document that is not one."""

from __future__ import annotations

from datetime import date

import pytest

from core.models import OcrLine, PageText
from core.settings import Settings
from extractors import extract
from extractors.doctype import classify, extract_invoice

TODAY = date(2026, 11, 27)


def page(texts: list[str]) -> list[PageText]:
    return [PageText(1, 1654, 2339, 200, [OcrLine(t, (100, 100 + 50 * i, 1500, 140 + 50 * i), 0.97)
                                          for i, t in enumerate(texts)])]


INVOICE = ["广东增值税专用发票", "发票代码：4400154130", "No 12269563", "开票日期：2016年06月12日",
           "购买方 名称：深圳市购机汇网络有限公司", "纳税人识别号：440300083885931", "金额 税率 税额",
           "合计 ¥2987.18 17% ¥507.82", "价税合计（大写）叁仟肆佰玖拾伍元整 （小写）¥3495.00", "收款人：张三 复核：李四 开票人：王五"]
RECEIPT = ["99 SPEED MART S/B", "TAX INVOICE", "DATE: 18/01/2018 10:32", "ITEM QTY PRICE", "MILO 1 9.90",
           "TOTAL: 9.90", "CASH 10.00", "CHANGE 0.10", "GST SUMMARY", "THANK YOU"]
FORM = ["MEMORANDUM", "TO: R. J. Reynolds", "FROM: Marketing", "DATE: March 3, 1998", "NO. 4521-88",
        "SUBJECT: Brand plan", "PHONE 13800138000", "Please review the attached plan."]
WORK_ORDER = ["维修委托书", "工单号：WO202403150012 进厂日期：2024-03-15", "车牌号：粤B·D12345 车架号：LSV2451V2HFH7BNJ4",
              "服务顾问：李四 行驶里程：12345", "工时费：¥300.00 材料费：¥500.00 合计：¥800.00"]


@pytest.mark.parametrize(("texts", "kind"), [(INVOICE, "invoice"), (RECEIPT, "receipt"), (FORM, "other"),
                                             (WORK_ORDER, "work_order")])
def test_classify(texts: list[str], kind: str) -> None:
    assert classify(page(texts)).kind == kind


def test_invoice_fields() -> None:
    f = extract_invoice(page(INVOICE), TODAY)
    assert f["invoice_no"].value == "12269563"
    assert f["invoice_code"].value == "4400154130"
    assert f["invoice_date"].value == "2016-06-12"
    assert f["total_incl_tax"].value == "3495.00"


@pytest.mark.parametrize("texts", [INVOICE, RECEIPT, FORM])
def test_no_trusted_work_order_field_on_another_type(texts: list[str]) -> None:
    ex = extract(page(texts), Settings(), today=TODAY)
    assert ex.doc_type != "work_order"
    assert all(fv.confidence < Settings().review_threshold for fv in ex.fields.values())


def test_work_order_keeps_its_fields() -> None:
    ex = extract(page(WORK_ORDER), Settings(), today=TODAY)
    assert ex.doc_type == "work_order"
    assert ex.fields["vin"].value == "LSV2451V2HFH7BNJ4" and ex.fields["vin"].confidence >= 0.8
    assert ex.doc_fields == {}


def test_invoice_fields_kept_in_the_extraction() -> None:
    ex = extract(page(INVOICE), Settings(), today=TODAY)
    assert ex.doc_type == "invoice" and ex.doc_fields["invoice_no"].value == "12269563"


def test_type_is_searchable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Classified at extraction, stored in the sidecar, searched with ``type:`` (and the invoice's
    number by free text)."""
    import index
    from core.archive import Archive
    from core.models import Document

    archive = Archive(tmp_path / "a")
    docs = []
    for doc_id, texts in (("ab00000000000001", INVOICE), ("cd00000000000002", WORK_ORDER), ("ef00000000000003", FORM)):
        pages = page(texts)
        ex = extract(pages, Settings(), today=TODAY)
        doc = Document(doc_id, f"{doc_id}.jpg", doc_id * 4, "", "", "", pages, "rapidocr", "1", "2024-01-01T00:00:00Z",
                       fields=ex.fields, doc_type=ex.doc_type, doc_fields=ex.doc_fields)
        archive.save(doc)
        docs.append(archive.load(doc_id))  # through the sidecar
    index.update_index(archive, docs)
    assert {h.id for h in index.search(archive, "type:invoice").hits} == {"ab00000000000001"}
    assert {h.id for h in index.search(archive, "type:work_order").hits} == {"cd00000000000002"}
    assert {h.id for h in index.search(archive, "type:other").hits} == {"ef00000000000003"}
    assert "ab00000000000001" in {h.id for h in index.search(archive, "12269563").hits}


def test_invoice_linked_to_the_order_it_pays(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Plate and amount agree with one archived work order: linked; the link is searchable."""
    import index
    from app.documents import extract_fields
    from core.archive import Archive
    from core.models import Document

    archive = Archive(tmp_path / "a")

    def archived(doc_id: str, texts: list[str]) -> Document:
        doc = Document(doc_id, f"{doc_id}.jpg", doc_id * 4, "", "", "", page(texts), "rapidocr", "1",
                       "2024-01-01T00:00:00Z")
        extract_fields(doc, Settings(), archive)
        archive.save(doc)
        index.update_index(archive, [doc])
        return doc

    order = ["维修结算单", "结算单号：JS-20160610-0007 进厂日期：2016-06-10", "车牌号：粤B·D12345 车架号：LSV2451V2HFH7BNJ4",
             "服务顾问：李四 行驶里程：12345", "工时费：¥995.00 材料费：¥2500.00 合计：¥3495.00"]
    other = ["维修结算单", "结算单号：JS-20160611-0008 进厂日期：2016-06-11", "车牌号：粤A·99999 车架号：LFVPJ7WH62J005T72",
             "服务顾问：王五 行驶里程：2345", "工时费：¥100.00 材料费：¥200.00 合计：¥300.00"]
    wo = archived("ab00000000000001", order)
    archived("cd00000000000002", other)
    assert wo.doc_type == "work_order" and wo.fields["total_cost"].value == "3495.00"
    inv = archived("ef00000000000003", INVOICE + ["备注：车牌号 粤B·D12345 维修费"])
    link = inv.doc_fields["linked_order"]
    assert link.value == "ab00000000000001" and link.confidence >= 0.9
    assert "amount 3495.00" in link.note and "plate 粤BD12345" in link.note
    assert "ef00000000000003" in {h.id for h in index.search(archive, "ab00000000000001").hits}


def strip(texts: list[str]) -> list[PageText]:
    """A till roll scanned on an A4 page: one narrow column of text, much taller than wide."""
    return [PageText(1, 1654, 2339, 200, [OcrLine(t, (600, 100 + 60 * i, 900, 140 + 60 * i), 0.97)
                                          for i, t in enumerate(texts)])]


# a business form with a TOTAL row and an AMOUNT column: no till receipt
TOTAL_FORM = ["REPORT OF EXPENDITURES", "Name of Treasurer: J. Smith", "Date Paid  To Whom Paid  Amount",
              "10/26/92  Acme Printing  1,200.00", "11/02/92  Radio spots  5,000.00", "TOTAL 6,200.00",
              "Signed under the penalties of perjury."]
# a short receipt: two receipt words, its total confirmed by tender − change
SHORT_RECEIPT = ["KEDAI RUNCIT ABC", "18/01/2018", "TOTAL 9.90", "CASH 10.00", "CHANGE 0.10"]
# a receipt with few receipt words, printed on a till roll
ROLL = ["KEDAI RUNCIT ABC", "NO 12 JALAN 3", "18/01/2018 10:32", "MILO 9.90", "ROTI 2.10", "TOTAL 12.00",
        "TERIMA KASIH", "SILA DATANG LAGI", "GST ID 000123", "GOODS SOLD ARE NOT RETURNABLE"]


@pytest.mark.parametrize(
    ("pages", "kind"),
    [(page(TOTAL_FORM), "other"),  # TOTAL and AMOUNT, a total, on a page-wide form: other
     (page(SHORT_RECEIPT), "receipt"),  # two receipt words and a total tender − change confirms
     (strip(ROLL), "receipt"),  # TOTAL and GST on a till roll
     (page(ROLL), "other"),  # the same words across a page: too little to call it a receipt
     (page(["TOT*!. 73.00", "CA SH 73.00", "CHANGE 0.00", "THANK YOU"]), "receipt")],  # damaged words count
)
def test_classify_receipts_by_their_conventions(pages: list[PageText], kind: str) -> None:
    assert classify(pages).kind == kind


def _invoice(small: str | None, upper: str | None, net: str, tax: str) -> list[PageText]:
    texts = [t for t in INVOICE if "价税合计" not in t and not t.startswith("合计")]
    texts.append(f"合计 ¥{net} 17% ¥{tax}")
    texts.append("价税合计（大写）" + (upper or "") + (f" （小写）¥{small}" if small else ""))
    return page(texts)


@pytest.mark.parametrize(
    ("small", "upper", "net", "tax", "expected", "trusted"),
    [
        ("3495.00", "叁仟肆佰玖拾伍元整", "2987.18", "507.82", "3495.00", True),  # all three agree
        ("3405.00", "叁仟肆佰玖拾伍元整", "2987.18", "507.82", "3495.00", True),  # 小写 misread: 大写 and the sum agree
        (None, "叁仟肆佰玖拾伍元整", "2987.18", "507.82", "3495.00", True),  # 小写 lost
        (None, None, "2987.18", "507.82", "3495.00", False),  # only the sum: stands in, for review
        (None, "叁仟肆佰玖拾伍元整", "2900.00", "17.00", "3495.00", False),  # only 大写, the sum disagrees
        ("3495.00", None, "2000.00", "300.00", "3495.00", False),  # the sum disagrees: review
        ("3495.00", "叁仟肆佰玖拾伍元整", "2000.00", "300.00", "3495.00", True),  # 大写 confirms it
    ],
)
def test_invoice_total_against_capital_numerals_and_sum(small: str | None, upper: str | None, net: str, tax: str,
                                                        expected: str, trusted: bool) -> None:
    f = extract_invoice(_invoice(small, upper, net, tax), TODAY)
    assert f["total_incl_tax"].value == expected
    assert (f["total_incl_tax"].confidence >= Settings().review_threshold) is trusted, f["total_incl_tax"]


def test_invoice_amount_and_tax_from_the_sum_row() -> None:
    f = extract_invoice(_invoice("3495.00", "叁仟肆佰玖拾伍元整", "2987.18", "507.82"), TODAY)
    assert (f["amount"].value, f["tax"].value) == ("2987.18", "507.82")
    assert min(f["amount"].confidence, f["tax"].confidence) >= Settings().review_threshold


def test_chinese_till_slip_is_a_receipt() -> None:
    slip = ["XX便利店", "2024-03-15 18:22", "矿泉水 2.00", "面包 6.50", "合计 8.50", "实收 10.00", "找零 1.50", "谢谢惠顾"]
    assert classify(page(slip)).kind == "receipt"
