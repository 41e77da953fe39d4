"""Receipt / invoice date and total (extractors.receipt): hand-built lines and the SROIE transcripts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from core.models import OcrLine, PageText
from extractors.dates import normalize_date
from extractors.money import normalize_money
from extractors.receipt import CONFIRMED, extract_receipt, loose_amount, repair_dates, repair_words

TODAY = date(2026, 11, 27)
SROIE = Path(__file__).resolve().parents[2] / "shared" / "eval-data" / "sroie-receipts-en"


def L(text: str, x0: float, y0: float, x1: float, y1: float) -> OcrLine:
    return OcrLine(text, (x0, y0, x1, y1), 0.95)


def values(lines: list[OcrLine]) -> tuple[str | None, str | None]:
    got = extract_receipt([PageText(1, 600, 1200, 200, lines)], TODAY)
    return (got["date"].value if got["date"] else None, got["total"].value if got["total"] else None)


def test_rounded_total_beats_total_and_cash_is_ignored() -> None:
    lines = [
        L("DATE: 12-01-19 21:13", 20, 100, 300, 120),
        L("SUBTOTAL", 20, 600, 120, 620), L("RM 30.00", 400, 600, 500, 620),
        L("TOTAL", 20, 640, 80, 660), L("RM 33.92", 400, 645, 500, 665),
        L("ROUNDING ADJUSTMENT", 20, 670, 220, 690), L("-RM 0.02", 400, 670, 500, 690),
        L("TOTAL ROUNDED", 20, 690, 160, 710), L("RM 33.90", 400, 690, 500, 710),
        L("CASH", 20, 710, 60, 730), L("RM 50.00", 400, 710, 500, 730),
        L("CHANGE", 20, 730, 90, 750), L("RM 16.10", 400, 730, 500, 750),
    ]
    assert values(lines) == ("2019-01-12", "33.90")


@pytest.mark.parametrize(
    ("total_line", "expected"),
    [
        ("Grand Tota1 RM39.00", "39.00"),  # OCR read L as 1
        ("GRANDTOTAL 10.00", "10.00"),
        ("Total Sales (Inclusive GST) RM 141.50", "141.50"),
        ("TOTAL INCL. GST@6% RM 3.30", "3.30"),
        ("Total (RM): 26.60", "26.60"),
    ],
)
def test_total_wordings(total_line: str, expected: str) -> None:
    lines = [L("Total GST: 0.19", 20, 500, 300, 520), L(total_line, 20, 540, 500, 560), L("25/12/2018", 20, 50, 200, 70)]
    assert values(lines) == ("2018-12-25", expected)


@pytest.mark.parametrize(
    ("date_line", "expected"),
    [("Date: 12 DEC 2018", "2018-12-12"), ("09-01-19 11:25 SH01", "2019-01-09"), ("23/03/20189:34:40 AM", "2018-03-23"),
     ("Bill Date : 20/12/2017", "2017-12-20"), ("HC03-7 - 15", None), ("24 Mar201818:23", "2018-03-24"),
     ("Date ： 27/0S/2018 8:07 P M", "2018-05-27")],
)
def test_receipt_dates_day_first(date_line: str, expected: str | None) -> None:
    assert values([L(date_line, 20, 50, 400, 70)])[0] == expected


def test_total_on_the_next_row_at_the_right() -> None:
    lines = [L("TOTAL", 87, 641, 160, 665), L("RM5.00", 323, 669, 416, 692), L("16-04-2018 14:51", 121, 371, 370, 393)]
    assert values(lines) == ("2018-04-16", "5.00")


def test_vat_invoice_total_and_date() -> None:
    lines = [
        L("开票日期：2016年06月12日", 2500, 680, 3900, 750),
        L("合计", 400, 1880, 520, 1970), L("￥2987.18", 2960, 1884, 3330, 1976), L("￥507.82", 3710, 1864, 4030, 1956),
        L("价税合计（大写）", 300, 1990, 900, 2090), L("⊗叁仟肆佰玖拾伍圆整", 1000, 1990, 2000, 2090),
        L("（小写）￥3495.00", 2900, 1992, 3770, 2088),
    ]
    got = extract_receipt([PageText(1, 4208, 3120, 300, lines)], TODAY)
    assert got["date"] is not None and got["date"].value == "2016-06-12"
    t = got["total"]
    assert t is not None and t.value == "3495.00" and t.box is not None and t.box[0] >= 2900 and t.box[2] <= 3770


def _sroie_page(row: dict[str, object]) -> PageText:
    lines = []
    for raw in (SROIE / "boxes" / f"{row['id']}.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.split(",", 8)
        if len(parts) < 9:
            continue
        xs, ys = [int(v) for v in parts[0:8:2]], [int(v) for v in parts[1:8:2]]
        lines.append(OcrLine(parts[8], (min(xs), min(ys), max(xs), max(ys)), 1.0))
    return PageText(1, int(row["width"]), int(row["height"]), 200, lines)  # type: ignore[call-overload]


def test_sroie_transcripts_date_and_total() -> None:
    """The dataset's own line transcripts and boxes (no OCR): the label/layout logic on 100 real receipts."""
    rows = [json.loads(x) for x in (SROIE / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    ok_date = ok_total = 0
    for row in rows:
        got = extract_receipt([_sroie_page(row)], TODAY)
        ok_date += (got["date"].value if got["date"] else None) == normalize_date(row["entities"]["date"], TODAY)
        ok_total += (got["total"].value if got["total"] else None) == normalize_money(row["entities"]["total"])
    assert len(rows) == 100
    assert ok_date >= 99 and ok_total >= 95, (ok_date, ok_total)


# -- OCR damage to receipt words, amounts and dates (written from the till-receipt conventions) ----

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("TOT*!.", "TOTAL."),  # two letters OCR could not read, the first three exact
        ("Tota] Sales", "TOTAL Sales"),  # a bracket for the L
        ("Tetal Sales Inclusive GST", "TOTAL Sales Inclusive GST"),  # one letter misread
        ("T0TA1 RM", "TOTAL RM"),  # look-alike digits
        ("TOT AL", "TOTAL"),  # a word split by a stray space
        ("RM CA SH", "RM CASH"),
        ("RO NDING ADJ", "ROUNDING ADJ"),  # split, one letter lost
        ("GRANO TOTAL", "GRAND TOTAL"),
        ("CHANGF", "CHANGE"),
        ("SUBT0TAL", "SUBTOTAL"),
        # left alone: real words, short words, other languages, already right
        ("PHONE CASE 12.00", "PHONE CASE 12.00"),
        ("TOTAL QTY 3", "TOTAL QTY 3"),
        ("Sub Total", "Sub Total"),
        ("CASHIER: ANN", "CASHIER: ANN"),
        ("TO TALK", "TO TALK"),
        ("价税合计（大写）", "价税合计（大写）"),
        ("XOTAL 5.00", "XOTAL 5.00"),  # the first letter is never guessed
        ("TO**L", "TO**L"),  # two unreadable letters need the first three exact
    ],
)
def test_damaged_receipt_words(raw: str, expected: str) -> None:
    assert repair_words(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("RM5 O0", "5.00"), ("6 00", "6.00"), (".00", "0.00"), ("RM .05", "0.05"), ("12 50 RM", "12.50"),
     ("5.O0", "5.00"), ("1000", None), ("2 X 14", None), ("QTY 3", None), ("", None)],
)
def test_loose_amounts(raw: str, expected: str | None) -> None:
    got = loose_amount(raw)
    assert (None if got is None else f"{got:.2f}") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("05 02-18 13:34", "2018-02-05"),  # a space for the first dash
     ("Date: 24/01/20 18", "2018-01-24"),  # the four-digit year split by a space
     ("DATE: 25/0412017", "2017-04-25"),  # a one for the second slash
     ("24/01/20 18:30", "2020-01-24"),  # a year of two digits and a time: not a split year
     ("Tel: 03 62-587191", None)],
)
def test_damaged_receipt_dates(raw: str, expected: str | None) -> None:
    assert values([L(raw, 20, 50, 400, 70)])[0] == expected


def test_repair_dates_leaves_good_dates() -> None:
    assert repair_dates("12/01/2019 10:32") == "12/01/2019 10:32"


# -- the total: what is owed, checked against tender − change ---------------------------------------

def _receipt(rows: list[tuple[str, str | None]]) -> list[OcrLine]:
    """A till receipt's summary block: a label at the left and its amount at the right, one row each."""
    out = [L("DATE: 12-01-19 21:13", 20, 100, 300, 120)]
    for i, (label, amount) in enumerate(rows):
        y = 600 + 40 * i
        out.append(L(label, 20, y, 200, y + 20))
        if amount is not None:
            out.append(L(amount, 400, y, 500, y + 20))
    return out


def _total(rows: list[tuple[str, str | None]]) -> tuple[str | None, float, str]:
    got = extract_receipt([PageText(1, 600, 1200, 200, _receipt(rows))], TODAY)["total"]
    return (got.value, got.confidence, got.note) if got else (None, 0.0, "")


@pytest.mark.parametrize(
    ("rows", "expected", "trusted"),
    [
        # the labelled total equals tender − change: confirmed
        ([("SUBTOTAL", "28.00"), ("TOTAL", "29.68"), ("CASH", "50.00"), ("CHANGE", "20.32")], "29.68", True),
        # the total's label lost to OCR: tender − change
        ([("SUBTOTAL", "28.00"), ("T@#%", "29.70"), ("CASH", "50.00"), ("CHANGE", "20.30")], "29.70", False),
        # CREDIT and PAYMENT are tenders; CHANGE DUE glued; a change of .00
        ([("Rounding Adj", ".01"), ("CREDIT", "37.45"), ("CHANGEDUE", ".00")], "37.45", False),
        ([("Payment", "6.00"), ("Change Due", "0.00")], "6.00", False),
        # the total's own amount unreadable (the point lost): not the next row's CASH amount
        ([("GRANDTOTAL", "1000"), ("CASH", "20.00"), ("CHANGE", "10.00")], "10.00", False),
        # damaged label and damaged amount
        ([("TOT*!.", "73.00"), ("CASH", "73.00"), ("CHANGE:", "0.00")], "73.00", True),
        ([("TOTAL", "RM5 O0"), ("CASH", "RM5.00")], "5.00", False),
        # a rounded-total wording beats a plain TOTAL; tender − change agrees with it
        ([("TOTAL", "30.91"), ("ROUNDING ADJUSTMENT", "-0.01"), ("TOTAL ROUNDED", "30.90"), ("CASH", "50.00"),
          ("CHANGE", "19.10")], "30.90", True),
        # printed total and the amount paid differ by the printed rounding: the total stands, for review
        ([("TOTAL SALES (INCL GST)", "37.44"), ("ROUNDING ADJ", "0.01"), ("CASH", "40.00"), ("CHANGE", "2.55")],
         "37.44", False),
        # no total and no change: the subtotal, for review
        ([("SUBTOTAL", "28.70"), ("CASH", "100.0OO"), ("INC 6% GST", "1.62")], "28.70", False),
        # tender without change is no evidence: the labelled total, trusted as before
        ([("TOTAL", "12.40"), ("VISA", "12.40")], "12.40", True),
    ],
)
def test_total_against_tender_and_change(rows: list[tuple[str, str | None]], expected: str, trusted: bool) -> None:
    value, conf, _note = _total(rows)
    assert value == expected
    assert (conf >= 0.8) is trusted, conf


def test_confirmed_and_rounding_notes() -> None:
    assert _total([("TOTAL", "29.68"), ("CASH", "50.00"), ("CHANGE", "20.32")])[2] == CONFIRMED
    note = _total([("TOTAL SALES", "37.44"), ("ROUNDING ADJ", "0.01"), ("CASH", "40.00"), ("CHANGE", "2.55")])[2]
    assert "before rounding" in note and "37.45" in note


def test_tender_far_above_its_change_is_not_paired() -> None:
    """``Name: CASH`` in the header is no tender: the change must follow the tender within a few rows."""
    lines = _receipt([("TOTAL", "73.00"), ("CHANGE", "0.00")]) + [L("Name: CASH", 20, 200, 200, 220),
                                                                  L("95.00", 400, 200, 500, 220)]
    got = extract_receipt([PageText(1, 600, 1200, 200, lines)], TODAY)["total"]
    assert got is not None and got.value == "73.00" and got.note != CONFIRMED


@pytest.mark.parametrize(("rows", "trusted"), [
    ([("TOTAL", "13.10"), ("CASH", "20.00"), ("CHANGE", "6.90")], True),  # faint, but tender − change confirms it
    ([("TOTAL", "13.10"), ("CASH", "20.00")], False),  # faint and unchecked: review
])
def test_faint_total_is_trusted_only_when_confirmed(rows: list[tuple[str, str | None]], trusted: bool) -> None:
    lines = [OcrLine(ln.text, ln.box, 0.7) for ln in _receipt(rows)]
    got = extract_receipt([PageText(1, 600, 1200, 200, lines)], TODAY)["total"]
    assert got is not None and got.value == "13.10"
    assert (got.confidence >= 0.8) is trusted, got.confidence


@pytest.mark.parametrize(
    ("rows", "expected", "confirmed"),
    [
        ([("合计", "33.90"), ("实收", "50.00"), ("找零", "16.10")], "33.90", True),  # a Chinese till slip
        ([("应收", "120.00"), ("优惠", "20.00"), ("实付", "100.00")], "100.00", False),  # owed, discount, paid
        ([("应付金额", "88.00"), ("现金", "100.00"), ("找零", "12.00")], "88.00", True),
    ],
)
def test_chinese_receipt_wordings(rows: list[tuple[str, str | None]], expected: str, confirmed: bool) -> None:
    value, _conf, note = _total(rows)
    assert value == expected and (note == CONFIRMED) is confirmed
