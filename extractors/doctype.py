"""What a scanned document is: a work order / settlement, a VAT invoice, a receipt, or other.

Dealers scan more than work orders into the same folder. The type is decided from printed
markers, each counted once: an invoice's (增值税, 发票代码, 价税合计, 纳税人识别号, 购买方 …), a work
order's (the work-order fields whose labels the lexicon finds: VIN, plate, order number,
mileage, advisor, labour, parts …), a receipt's (TOTAL, CASH, CHANGE, GST, 收据 …). An invoice that
bills a repair still is an invoice; a page with few markers of any kind is "other" — and an
"other" or a receipt is never given work-order fields with high confidence by the caller.

``extract_invoice`` reads 发票代码, 发票号码, 开票日期, 购买方, 金额, 税额, 价税合计.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.models import FieldValue, OcrLine, PageText
from extractors import dates, money
from extractors.labels import Lexicon
from extractors.layout import PageIndex, candidates_for, same_row
from extractors.receipt import CONFIRMED, extract_receipt, repair_words
from extractors.text import clean, nfkc

WORK_ORDER, INVOICE, RECEIPT, OTHER = "work_order", "invoice", "receipt", "other"

INVOICE_MARKERS = ("增值税", "发票代码", "发票号码", "开票日期", "价税合计", "纳税人识别号", "购买方", "销售方", "密码区",
                   "税额", "税率", "普通发票", "专用发票", "发票联", "抵扣联", "开票人", "收款人", "复核")
RECEIPT_MARKERS = ("TOTAL", "SUBTOTAL", "CASH", "CHANGE", "GST", "RECEIPT", "QTY", "ROUNDING", "THANK YOU", "TAX INVOICE",
                   "AMOUNT", "DISCOUNT", "TENDER", "SST", "ITEM", "PRICE", "收据", "小票", "收款", "找零", "实收")
WORK_ORDER_FIELDS = ("vin", "plate", "order_no", "mileage_km", "advisor", "labor_cost", "parts_cost", "date_in", "model")
WORK_ORDER_WORDS = ("维修", "委托书", "结算单", "派工单", "工单", "车架号", "工时", "保养", "机动车")


@dataclass
class DocType:
    kind: str
    confidence: float
    markers: dict[str, list[str]] = field(default_factory=dict)  # kind -> markers found


def _text(pages: list[PageText]) -> str:
    """The page's text without spaces, upper case, receipt words OCR damaged spelled out."""
    return clean(" ".join(repair_words(ln.text) for p in pages for ln in p.lines)).replace(" ", "").upper()


STRIP = "narrow strip"  # the marker of text printed as a till roll
STRIP_ASPECT = 1.6  # a till roll (58/80 mm) prints a column much taller than wide; a letter or A4 page is 1.3-1.4


def _is_strip(pages: list[PageText]) -> bool:
    """The text is one long narrow column (a till roll), whatever the page it was scanned on."""
    for p in pages:
        if len(p.lines) < 5:
            continue
        x0, x1 = min(ln.box[0] for ln in p.lines), max(ln.box[2] for ln in p.lines)
        y0, y1 = min(ln.box[1] for ln in p.lines), max(ln.box[3] for ln in p.lines)
        if y1 - y0 >= STRIP_ASPECT * max(1.0, x1 - x0):
            return True
    return False


def classify(pages: list[PageText], lexicon: Lexicon | None = None) -> DocType:
    flat = _text(pages)
    index = PageIndex.build(pages, lexicon or Lexicon())
    fields = sorted({h.field for ln in index.all_lines() for h in ln.hits if h.field in WORK_ORDER_FIELDS})
    found = {
        INVOICE: [m for m in INVOICE_MARKERS if m in flat],
        RECEIPT: [m for m in RECEIPT_MARKERS if m.replace(" ", "") in flat] + ([STRIP] if _is_strip(pages) else []),
        WORK_ORDER: fields + [w for w in WORK_ORDER_WORDS if w in flat],
    }
    n_inv, n_rec, n_wo = len(found[INVOICE]), len(found[RECEIPT]), len(fields)
    if n_inv >= 3 and ("发票" in flat or "价税合计" in flat):
        return DocType(INVOICE, min(1.0, 0.6 + 0.08 * n_inv), found)
    if n_wo >= 4 and len(found[WORK_ORDER]) >= 5:
        return DocType(WORK_ORDER, min(1.0, 0.5 + 0.06 * len(found[WORK_ORDER])), found)
    # a total and three receipt markers (words, a till-roll column); or two, with the total
    # confirmed by tender − change (a form with a TOTAL and an AMOUNT column is no till receipt)
    total = extract_receipt(pages).get("total")
    if total is not None and (n_rec >= 3 or (n_rec >= 2 and total.note == CONFIRMED)):
        return DocType(RECEIPT, min(1.0, 0.5 + 0.1 * n_rec), found)
    return DocType(OTHER, 0.6, found)


INVOICE_LABELS: dict[str, tuple[str, ...]] = {
    "invoice_code": ("发票代码",),
    "invoice_no": ("发票号码", "NO.", "NO:", "NO", "№"),
    "buyer": ("购买方名称", "名称"),
    "amount": ("金额合计", "合计金额"),
    "tax": ("税额合计", "合计税额"),
    "_ignore": ("开户行及账号", "地址、电话", "纳税人识别号", "密码区"),
}
_CODE = re.compile(r"(?<!\d)(\d{10}|\d{12})(?!\d)")
_NUMBER = re.compile(r"(?<!\d)(\d{8})(?!\d)")


_YEN = re.compile(r"[¥￥Y]\s*(\d{1,3}(?:,\d{3})+\.\d{2}|\d+\.\d{2})(?!\d)")
_Amount = tuple[Decimal, int, OcrLine]  # an amount, its page, its line


def _yen_amounts(pages: list[PageText]) -> list[_Amount]:
    """Every amount printed after a yuan sign."""
    return [(Decimal(m.group(1).replace(",", "")), p.page_no, ol)
            for p in pages for ol in p.lines for m in _YEN.finditer(nfkc(ol.text))]


def _upper_total(pages: list[PageText]) -> _Amount | None:
    """价税合计 in capital numerals (叁仟肆佰玖拾伍圆整): the only amount a VAT invoice writes so."""
    for p in pages:
        for ol in p.lines:
            a = money.parse_upper_amount(clean(ol.text))
            if a is not None and a > 0:
                return a, p.page_no, ol
    return None


def _value(amount: _Amount, conf: float, note: str) -> FieldValue:
    a, page_no, ol = amount
    return FieldValue(money.fmt(a), conf, page_no, tuple(ol.box), ol.text, True, note)  # type: ignore[arg-type]


def _check_total(out: dict[str, FieldValue], pages: list[PageText]) -> None:
    """价税合计 against what the invoice prints it as twice more: in capital numerals (大写), and as
    金额 + 税额 on the 合计 row (two amounts after ¥ on one row whose sum it is).

    The total read (小写) that either agrees with is confirmed; one that both contradict, when they
    agree with each other, gives way to them; none read, one of them stands in (for review); a
    total that disagrees with the others goes to review.
    """
    yen = _yen_amounts(pages)
    upper = _upper_total(pages)
    sums: dict[Decimal, tuple[_Amount, _Amount]] = {}
    for i, a in enumerate(yen):
        for b in yen[i + 1:]:
            if a[1] == b[1] and same_row(tuple(a[2].box), tuple(b[2].box)):  # type: ignore[arg-type]
                sums.setdefault(a[0] + b[0], (a, b) if a[0] >= b[0] else (b, a))
    read = out.get("total_incl_tax")
    r = Decimal(read.value) if read is not None and read.value else None
    if r is not None and any(r in (a[0], b[0]) for a, b in sums.values()):
        read, r = None, None  # read off the 合计 row (金额 or 税额), not the total
    u = upper[0] if upper is not None else None
    s = next((t for t in sums if t in (r, u)), next(iter(sums)) if len(sums) == 1 else None)
    if s is not None:
        for fld, amt in zip(("amount", "tax"), sums[s], strict=True):
            conf = 0.95 if s in (r, u) else 0.9 * (0.6 + 0.4 * amt[2].conf)  # the sum checked, or not
            out.setdefault(fld, _value(amt, conf, "on the 合计 row: 金额 + 税额 = 价税合计"))
    if read is not None and r is not None and r in (u, s):
        read.confidence = max(read.confidence, 0.95)
        read.note = "agrees with " + " and ".join(k for k, v in (("大写", u), ("金额 + 税额", s)) if v == r)
        return
    was = f"; 小写 read {read.value}" if read is not None else "; 小写 not read"
    if upper is not None and u == s:
        out["total_incl_tax"] = _value(upper, 0.9, "大写 and 金额 + 税额 agree" + was)
    elif read is None and upper is not None:
        out["total_incl_tax"] = _value(upper, 0.7, "大写" + was)
    elif read is None and s is not None:
        out["total_incl_tax"] = _value((s, *sums[s][0][1:]), 0.7, "金额 + 税额" + was)
    elif read is not None and (u is not None or s is not None):
        read.confidence = min(read.confidence, 0.6)
        read.note = "disagrees with " + ", ".join(f"{k} {v}" for k, v in (("大写", u), ("金额 + 税额", s)) if v is not None)


def extract_invoice(pages: list[PageText], today: date | None = None) -> dict[str, FieldValue]:
    """The fields of a VAT invoice that link it to an order: 发票代码, 发票号码, 开票日期, 购买方, 价税合计."""
    today = today or date.today()
    out: dict[str, FieldValue] = {}
    r = extract_receipt(pages, today)
    if r.get("date") is not None:
        out["invoice_date"] = r["date"]  # type: ignore[assignment]
    if r.get("total") is not None:
        out["total_incl_tax"] = r["total"]  # type: ignore[assignment]
    index = PageIndex.build(pages, Lexicon(dict(INVOICE_LABELS)))
    for page_lines in index.pages:
        for ln in page_lines:
            for k, hit in enumerate(ln.hits):
                if hit.field.startswith("_") or hit.field in out:
                    continue
                for cand in candidates_for(ln, k, page_lines):
                    text = nfkc(cand.text)
                    if hit.field == "invoice_code":
                        m = _CODE.search(text.replace(" ", ""))
                        value = m.group(1) if m else None
                    elif hit.field == "invoice_no":
                        m = _NUMBER.search(text.replace(" ", ""))
                        value = m.group(1) if m else None
                    elif hit.field in ("amount", "tax"):
                        a = money.parse_amount(text)
                        value = money.fmt(a) if a is not None else None
                    else:
                        value = text.strip(" :：") or None
                    if value:
                        out[hit.field] = FieldValue(value, 0.9 * (0.6 + 0.4 * cand.ocr_conf), cand.page, cand.box,
                                                    cand.text, True, f"under {hit.wording}")
                        break
    _check_total(out, pages)
    if "invoice_date" not in out:  # 开票日期 lost: the first date on the page
        for p in pages:
            for ol in p.lines:
                found = dates.find_dates(ol.text, today, day_first=False)
                if found:
                    out["invoice_date"] = FieldValue(found[0][0].isoformat(), 0.6, p.page_no, tuple(ol.box), ol.text,  # type: ignore[arg-type]
                                                     True, "first date on the page")
                    break
            if "invoice_date" in out:
                break
    return out
