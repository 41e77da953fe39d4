"""Date and total of receipts and invoices (SROIE receipts, Chinese VAT invoices), reusing the label,
layout, date and money machinery of the work-order extractor. Receipt dates are read day first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.models import FieldValue, PageText
from extractors import dates
from extractors.labels import IGNORE, Lexicon
from extractors.layout import Candidate, PageIndex, candidates_for
from extractors.money import fmt
from extractors.text import nfkc

RECEIPT_LABELS: dict[str, tuple[str, ...]] = {
    "total": ("(小写)", "小写", "价税合计", "GRAND TOTAL", "GRANDTOTAL", "TOTAL ROUNDED", "ROUNDED TOTAL", "TOTAL PAYABLE",
              "NETT TOTAL", "NET TOTAL", "AMOUNT DUE", "TOTAL DUE", "NETT AMOUNT", "NET AMOUNT",
              "TOTAL INCL GST", "TOTAL INCL. GST", "TOTAL INCLUSIVE GST", "INCLUSIVE OF GST", "INCL GST", "INCL. GST",
              "TOTAL (RM)", "TOTAL RM", "TOTAL AMOUNT", "TOTAL SALES", "TOTALSALES", "TOTAL:", "TOTAL", "合计", "总计"),
    "date": ("开票日期", "INVOICE DATE", "RECEIPT DATE", "DATE/TIME", "DATE", "TARIKH", "日期"),
    IGNORE: ("SUBTOTAL", "SUB TOTAL", "SUB-TOTAL", "TOTAL QTY", "TOTAL QUANTITY", "TOTAL ITEMS", "TOTAL ITEM",
             "TOTAL GST", "TOTAL TAX", "TOTAL EXCL", "EXCLUDING GST", "EXCL GST", "EXCL. GST", "EXCLUSIVE OF GST",
             "TOTAL DISCOUNT", "TOTAL SAVING", "TOTAL SAVINGS", "GST SUMMARY", "CHANGE", "CASH", "TENDERED",
             "ROUNDING", "ROUNDING ADJ", "大写"),
}
# wordings before this rank name the final amount; later ones may be a pre-rounding or partial total
_TIER1 = RECEIPT_LABELS["total"].index("TOTAL INCL GST")
_TIER2 = RECEIPT_LABELS["total"].index("TOTAL (RM)")


def _tier(rank: int) -> int:
    return 0 if rank < _TIER1 else 1 if rank < _TIER2 else 2


_AMOUNT = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})*[.,]\d{2}(?!\d)|(?<![\d.])\d+[.,]\d{2}(?!\d)")


@dataclass
class _Found:
    value: str
    rank: int
    cand: Candidate
    order: tuple[int, float]


def last_amount(text: str) -> Decimal | None:
    """The last amount with two decimals in ``text`` (receipts print ``RM 6% 33.90``)."""
    s = nfkc(text).replace(" .", ".").replace(". ", ".")
    found = _AMOUNT.findall(s)
    if not found:
        return None
    a = found[-1]
    a = a[:-3].replace(",", "") + "." + a[-2:]
    return Decimal(a)


def _field(f: _Found | None, conf: float) -> FieldValue | None:
    if f is None:
        return None
    return FieldValue(f.value, conf * f.cand.ocr_conf, f.cand.page, f.cand.box, f.cand.text, True)


def extract_receipt(pages: list[PageText], today: date | None = None) -> dict[str, FieldValue | None]:
    """``{"date": FieldValue | None, "total": FieldValue | None}``."""
    today = today or date.today()
    index = PageIndex.build(pages, Lexicon(dict(RECEIPT_LABELS)))
    totals: list[_Found] = []
    dated: list[_Found] = []
    for page_lines in index.pages:
        for ln in page_lines:
            for k, hit in enumerate(ln.hits):
                if hit.field not in ("total", "date"):
                    continue
                for cand in candidates_for(ln, k, page_lines, max_gap=60.0, below_anywhere=hit.field == "total"):
                    if hit.field == "total":
                        a = last_amount(cand.text)
                        if a is not None and a > 0:
                            totals.append(_Found(fmt(a), hit.rank, cand, (cand.page, cand.box[1])))
                            break
                    else:
                        d = dates.find_dates(cand.text, today, day_first=True)
                        if d:
                            dated.append(_Found(d[0][0].isoformat(), hit.rank, cand, (cand.page, cand.box[1])))
                            break
    if not dated:  # no label: the first date printed anywhere
        for ln in index.all_lines():
            d = dates.find_dates(ln.text, today, day_first=True)
            if d:
                dated.append(_Found(d[0][0].isoformat(), 99, Candidate(ln.text, ln.page, ln.box, ln.conf, "scan"),
                                    (ln.page, ln.box[1])))
                break
    best_total = min(totals, key=lambda f: (_tier(f.rank), -Decimal(f.value))) if totals else None
    best_date = min(dated, key=lambda f: (f.rank, f.order)) if dated else None
    return {"date": _field(best_date, 0.95), "total": _field(best_total, 0.9)}
