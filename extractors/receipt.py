"""Date and total of receipts and invoices (SROIE receipts, Chinese VAT invoices), reusing the label,
layout, date and money machinery of the work-order extractor. Receipt dates are read day first.

The total is what is owed. A till receipt prints it several times and in several states:
``SUBTOTAL`` (before tax), ``TOTAL`` (sometimes before rounding), ``ROUNDING ADJ``, ``TOTAL INCL. GST`` /
``NETT TOTAL`` / ``TOTAL ROUNDED`` (what is owed, rounded to 5 sen in Malaysia), then the tender
(``CASH`` / ``CREDIT`` / ``PAYMENT``) and the ``CHANGE``. The amount paid is tender − change: a
labelled total that equals it is confirmed; a total read only from the row under its label gives
way to it; with no total label read (lost to OCR) it is the total. A printed total that differs
from it by the rounding adjustment stays, for review: receipts, and SROIE's ground truth, call
either one the total. OCR damage that is repaired before reading: receipt words with
a letter or two lost or misread (``TOT*!``, ``Tota]``, ``Tetal``, ``TOT AL``), amounts with the
decimal point read as a space or a zero as ``O`` (``RM5 O0``, ``6 00``, ``.00``), dates with a
separator read as a space or a one (``05 02-18``, ``25/0412017``, ``24/01/20 18``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.models import FieldValue, OcrLine, PageText
from extractors import dates
from extractors.labels import IGNORE, Lexicon
from extractors.layout import Candidate, PageIndex, candidates_for
from extractors.money import fmt
from extractors.text import nfkc

RECEIPT_LABELS: dict[str, tuple[str, ...]] = {
    "total": ("(小写)", "小写", "价税合计", "GRAND TOTAL", "GRANDTOTAL", "TOTAL ROUNDED", "ROUNDED TOTAL", "TOTAL PAYABLE",
              "NETT TOTAL", "NET TOTAL", "TOTAL PAID", "AMOUNT PAID", "TOTAL PAYMENT", "AMOUNT DUE", "TOTAL DUE",
              "NETT AMOUNT", "NET AMOUNT", "TOTAL AFTER ROUNDING", "实付金额", "实付",
              # owed before a discount or rounding may still come off
              "TOTAL INCL GST", "TOTAL INCL. GST", "TOTAL INCLUSIVE GST", "INCLUSIVE OF GST", "INCL GST", "INCL. GST",
              "应付金额", "应收金额", "应付", "应收",
              "TOTAL (RM)", "TOTAL RM", "TOTAL AMOUNT", "TOTAL SALES", "TOTALSALES", "TOTAL:", "TOTAL", "合计", "总计"),
    "date": ("开票日期", "INVOICE DATE", "RECEIPT DATE", "DATE/TIME", "DATE", "TARIKH", "日期"),
    # what was handed over, and what was given back: tender − change is the amount paid
    "tender": ("CASH TENDERED", "AMOUNT TENDERED", "TENDERED", "TENDER", "CASH", "PAYMENT", "CREDIT CARD", "CREDIT",
               "DEBIT CARD", "VISA", "MASTERCARD", "MASTER", "实收", "现金"),
    "change": ("CHANGE DUE", "CHANGEDUE", "CHANGE", "找零"),
    "rounding": ("ROUNDING ADJUSTMENT", "ROUNDING ADJ", "ROUNDING ADJ.", "ROUNDING"),
    # before tax, discount and rounding: the total only when no total is printed at all
    "subtotal": ("SUBTOTAL", "SUB TOTAL", "SUB-TOTAL"),
    IGNORE: ("TOTAL QTY", "TOTAL QUANTITY", "TOTAL ITEMS", "TOTAL ITEM",
             "TOTAL GST", "TOTAL TAX", "TOTAL EXCL", "EXCLUDING GST", "EXCL GST", "EXCL. GST", "EXCLUSIVE OF GST",
             "TOTAL DISCOUNT", "TOTAL SAVING", "TOTAL SAVINGS", "GST SUMMARY", "大写",
             "CASH SALES", "CASH BILL", "CASH INVOICE", "CASHIER", "收款人"),
}
# wordings before this rank name the final amount; later ones may be a pre-rounding or partial total
_TIER1 = RECEIPT_LABELS["total"].index("TOTAL INCL GST")
_TIER2 = RECEIPT_LABELS["total"].index("TOTAL (RM)")
ROUNDING_STEP = Decimal("0.04")  # the most a rounding adjustment moves a total (to the nearest 0.05)
CONFIRMED = "equals tender − change"  # the note of a total the amount paid confirms


def _tier(rank: int) -> int:
    return 0 if rank < _TIER1 else 1 if rank < _TIER2 else 2


_AMOUNT = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})*[.,]\d{2}(?!\d)|(?<![\d.])\d+[.,]\d{2}(?!\d)")


@dataclass
class _Found:
    value: str
    rank: int
    cand: Candidate
    order: tuple[int, float]
    loose: bool = False  # read with an OCR repair (a space or an O for the decimal point or a zero)


def last_amount(text: str) -> Decimal | None:
    """The last amount with two decimals in ``text`` (receipts print ``RM 6% 33.90``)."""
    s = nfkc(text).replace(" .", ".").replace(". ", ".")
    found = _AMOUNT.findall(s)
    if not found:
        return None
    a = found[-1]
    a = a[:-3].replace(",", "") + "." + a[-2:]
    return Decimal(a)


_LOOSE = re.compile(r"^(?:RM|MYR|\$)?\s*(\d{0,6})\s*([ .,])\s*([0-9O]{2})\s*(?:MYR|RM)?$")


def loose_amount(text: str) -> Decimal | None:
    """An amount printed alone whose decimal point OCR read as a space, or a zero as ``O``
    (``RM5 O0``, ``6 00``); ``.00`` is 0.00. ``None`` for anything else (``1000``, ``2 X 14``)."""
    s = nfkc(text).upper().strip(" :")
    m = _LOOSE.match(s)
    if m is None or (not m[1] and m[2] != "."):
        return None
    return Decimal(f"{m[1] or '0'}.{m[3].replace('O', '0')}")


# -- receipt words damaged by OCR -------------------------------------------------------------------

RECEIPT_WORDS = ("TOTAL", "SUBTOTAL", "ROUNDING", "ROUNDED", "INCLUSIVE", "CHANGE", "AMOUNT", "GRAND", "PAYABLE",
                 "TENDERED", "PAYMENT", "CREDIT")
_JOIN_WORDS = (*RECEIPT_WORDS, "CASH")  # a short word is only rejoined, never guessed
_WILDCARD = set("*!]|[')}{(`\"")
_TOKEN = re.compile(r"[^\s:]+")
_DIGIT_LETTER = {"1": "LI", "0": "O", "5": "S", "6": "G", "8": "B", "2": "Z"}


def _edits_le1(a: str, b: str) -> bool:
    """One character inserted or deleted (``RONDING`` for ``ROUNDING``)."""
    if abs(len(a) - len(b)) != 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def _word_for(token: str) -> str | None:
    """The receipt word a damaged token was printed as, or ``None``.

    Same length and the same first letter, look-alike digits read as their letters (``T0TA1``),
    with up to two positions OCR could not read (``*``, ``!``, ``]`` …) — the first three characters
    right when two are — or one position read as another letter in a word of five or more
    (``TETAL``); a word of four letters may differ in one unreadable position only. Or one letter
    lost or added in a word of seven or more (``RONDING``).
    """
    t = token.upper().strip(".,;")
    if len(t) < 4 or t in RECEIPT_WORDS or not t[0].isalpha():
        return None
    for w in RECEIPT_WORDS:
        if len(t) != len(w):
            if len(w) >= 7 and t.isalpha() and t[0] == w[0] and _edits_le1(t, w):
                return w
            continue
        f = "".join(b if b in _DIGIT_LETTER.get(a, "") else a for a, b in zip(t, w, strict=True))
        if f == w:  # only look-alike digits
            return w
        if f[0] != w[0]:
            continue
        wild = letters = other = 0
        for a, b in zip(f, w, strict=True):
            if a == b:
                continue
            if a in _WILDCARD:
                wild += 1
            elif a.isalpha():
                letters += 1
            else:
                other += 1
        if other or not (wild or letters) or letters > 1 or (letters and wild) or wild > 2:
            continue
        if len(w) <= 4 and (letters or wild > 1):
            continue
        if wild == 2 and f[:3] != w[:3]:
            continue
        return w
    return None


def repair_words(text: str) -> str:
    """``text`` with OCR-damaged receipt words spelled out (``TOT*!.`` → ``TOTAL.``, ``TOT AL`` → ``TOTAL``)."""
    toks = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]
    out: list[str] = []
    pos = i = 0
    while i < len(toks):
        s, e, tok = toks[i]
        rep: tuple[int, str] | None = None
        if i + 1 < len(toks) and toks[i + 1][0] - e == 1:  # a word split by a stray space
            joined = tok + toks[i + 1][2]
            if tok.upper() not in _JOIN_WORDS and toks[i + 1][2].upper() not in _JOIN_WORDS:
                word = joined.upper() if joined.upper() in _JOIN_WORDS else _word_for(joined)
                if word and joined.isalpha():
                    rep = (2, word)
        if rep is None:
            word = _word_for(tok)
            if word:
                rep = (1, word)
        if rep is None:
            i += 1
            continue
        n, word = rep
        end = toks[i + n - 1][1]
        trail = re.search(r"[.,;]*$", text[s:end]).group(0)  # type: ignore[union-attr]
        out.append(text[pos:s] + word + trail)
        pos = end
        i += n
    out.append(text[pos:])
    return "".join(out)


# -- dates damaged by OCR ----------------------------------------------------------------------------

_SPLIT_YEAR = re.compile(r"(?<![\d/.-])(\d{1,2})([-/.])(\d{1,2})\2((?:19|20)) (\d{2})(?![\d:])")
_SPACE_SEP = re.compile(r"(?<![\d/.-])(\d{1,2}) (\d{1,2})([-/.])(\d{2}|\d{4})(?![\d/.-])")
_ONE_FOR_SLASH = re.compile(r"(?<![\d/])(\d{1,2})/(\d{2})[1lI|]((?:19|20)\d{2})(?!\d)")


def repair_dates(text: str) -> str:
    """A receipt date with a separator misread: ``24/01/20 18`` (the year split), ``05 02-18`` (a
    space for the first dash), ``25/0412017`` (a one for the second slash)."""
    s = _SPLIT_YEAR.sub(r"\1\2\3\2\4\5", text)
    s = _SPACE_SEP.sub(r"\1\3\2\3\4", s)
    return _ONE_FOR_SLASH.sub(r"\1/\2/\3", s)


# -- extraction --------------------------------------------------------------------------------------

def _field(f: _Found | None, conf: float, note: str = "") -> FieldValue | None:
    if f is None:
        return None
    # a total tender − change confirms is checked by arithmetic on two other reads: a faint print
    # (low OCR confidence) does not send it to review
    ocr = max(f.cand.ocr_conf, 0.9) if note == CONFIRMED else f.cand.ocr_conf
    return FieldValue(f.value, conf * ocr, f.cand.page, f.cand.box, f.cand.text, True, note)


def _repaired(pages: list[PageText]) -> list[PageText]:
    return [PageText(p.page_no, p.width, p.height, p.dpi,
                     [OcrLine(repair_words(ln.text), ln.box, ln.conf, ln.words) for ln in p.lines]) for p in pages]


def _amounts(index: PageIndex, fld: str) -> list[_Found]:
    found: list[_Found] = []
    for page_lines in index.pages:
        for ln in page_lines:
            for k, hit in enumerate(ln.hits):
                if hit.field != fld:
                    continue
                for cand in candidates_for(ln, k, page_lines, max_gap=60.0, below_anywhere=True):
                    a, loose = last_amount(cand.text), False
                    if a is None:
                        a, loose = loose_amount(cand.text.split("  ")[-1]), True  # the last box to the right
                    if a is not None and (a > 0 or fld == "change"):
                        found.append(_Found(fmt(a), hit.rank, cand, (cand.page, cand.box[1]), loose))
                        break
    return found


def _paid(tenders: list[_Found], changes: list[_Found]) -> _Found | None:
    """Tender − change for a tender with its change printed just below it."""
    for t in tenders:
        h = max(1.0, t.cand.box[3] - t.cand.box[1])
        for c in changes:
            if c.cand.page == t.cand.page and 0 < c.cand.box[1] - t.cand.box[1] <= 4 * h:
                paid = Decimal(t.value) - Decimal(c.value)
                if paid > 0:
                    return _Found(fmt(paid), t.rank, t.cand, t.order, t.loose or c.loose)
    return None


def _dates(index: PageIndex, today: date) -> list[_Found]:
    dated: list[_Found] = []
    for page_lines in index.pages:
        for ln in page_lines:
            for k, hit in enumerate(ln.hits):
                if hit.field != "date":
                    continue
                for cand in candidates_for(ln, k, page_lines, max_gap=60.0):
                    d = dates.find_dates(repair_dates(cand.text), today, day_first=True)
                    if d:
                        dated.append(_Found(d[0][0].isoformat(), hit.rank, cand, (cand.page, cand.box[1])))
                        break
    if not dated:  # no label: the first date printed anywhere
        for ln in index.all_lines():
            d = dates.find_dates(repair_dates(ln.text), today, day_first=True)
            if d:
                dated.append(_Found(d[0][0].isoformat(), 99, Candidate(ln.text, ln.page, ln.box, ln.conf, "scan"),
                                    (ln.page, ln.box[1])))
                break
    return dated


def choose_total(totals: list[_Found], paid: _Found | None, roundings: list[_Found] | tuple[()] = (),
                 subtotals: list[_Found] | tuple[()] = ()) -> tuple[_Found | None, float, str]:
    """(the total, its confidence factor, a note) from the labelled totals and the amount paid.

    The paid amount confirms the labelled total that equals it; it replaces a total only found on
    the next row (weak: that row may be another label's) and stands in for no total at all.
    Otherwise the labelled total stands, with less confidence (review), and the note says whether
    the two differ by the rounding adjustment printed (``ROUNDING ADJ 0.01``). With neither a total
    nor a tender and its change read, the last subtotal printed, for review.
    """
    best = min(totals, key=lambda f: (_tier(f.rank), f.loose, -Decimal(f.value))) if totals else None
    if paid is None:
        if best is None and subtotals:
            return max(subtotals, key=lambda f: f.order), 0.6, "the subtotal (no total read)"
        return best, 0.8 if best is not None and best.loose else 0.9, ""
    agree = [f for f in totals if f.value == paid.value]
    if agree:
        return min(agree, key=lambda f: (_tier(f.rank), f.loose)), 0.98, CONFIRMED
    if best is None:
        return paid, 0.8, "tender − change (no total label read)"
    if best.cand.how == "below":
        return paid, 0.7, f"tender − change; {best.value} on the row under the total label disagrees"
    step = abs(Decimal(best.value) - Decimal(paid.value))
    if step <= ROUNDING_STEP and any(Decimal(r.value) == step for r in roundings):
        # the total before rounding and the amount paid: receipts (and SROIE's ground truth) name
        # either one the total, so the printed total stands and a clerk decides
        return best, 0.6, f"before rounding; tender − change is {paid.value}"
    return best, 0.6, f"tender − change is {paid.value}"


def extract_receipt(pages: list[PageText], today: date | None = None) -> dict[str, FieldValue | None]:
    """``{"date": FieldValue | None, "total": FieldValue | None}``; a total the amount paid confirms
    says so in its note (``equals tender − change``)."""
    today = today or date.today()
    index = PageIndex.build(_repaired(pages), Lexicon(dict(RECEIPT_LABELS)))
    totals = _amounts(index, "total")
    paid = _paid(_amounts(index, "tender"), _amounts(index, "change"))
    roundings = [r for r in _amounts(index, "rounding") if Decimal(r.value) <= ROUNDING_STEP]
    total, conf, note = choose_total(totals, paid, roundings, _amounts(index, "subtotal"))
    dated = _dates(index, today)
    best_date = min(dated, key=lambda f: (f.rank, f.order)) if dated else None
    return {"date": _field(best_date, 0.95), "total": _field(total, conf, note)}
