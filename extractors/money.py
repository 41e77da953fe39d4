"""Money amounts: currency marks, thousands separators, full-width digits; the totals cross-check."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from core.identifiers import is_cjk
from extractors.text import nfkc, quote_separators

_CURRENCY = re.compile(r"(RMB|CNY|RM|MYR|人民币|[¥$元圆])", re.IGNORECASE)
# Tesseract reads ¥ as Y: accept a Y directly before a number
_Y_MARK = re.compile(r"(?<![A-Za-z])[Yy](?=\s*[\d(（-])")
# thousands groups may be read with a dot ("4.950.00" is OCR for "4,950.00")
_AMOUNT = re.compile(r"[-−]?\d{1,3}(?:[,，.]\d{3})+[.．]\d{2}(?!\d)|[-−]?\d{1,3}(?:[,，]\d{3})+(?:[.．]\d{1,2})?"
                     r"|[-−]?\d+(?:[.．]\d{1,2})?")
TWO = Decimal("0.01")


def parse_amount(text: str) -> Decimal | None:
    """The first amount in ``text`` (``¥1,234.50`` → ``Decimal('1234.50')``), or ``None``."""
    s = quote_separators(nfkc(text))
    s = _CURRENCY.sub(" ", s)
    s = _Y_MARK.sub(" ", s)
    # OCR of spaced print: "¥ 3 3 8 .. 0 0", "¥160 0. 00", "1217..12"
    s = re.sub(r"(?<=[\d.,])\s+(?=[\d.,])", "", s)
    s = re.sub(r"\.{2,}", ".", s)
    s = re.sub(r"(?<=\d)\s*[:：]\s*(?=\d{2}(?!\d))", ".", s)  # "¥1581:14": the decimal point read as a colon
    m = _AMOUNT.search(s)
    if m is None:
        return None
    num = m.group(0).replace(",", "").replace("，", "").replace("．", ".").replace("−", "-")
    if num.count(".") > 1:
        head, _, tail = num.rpartition(".")
        num = head.replace(".", "") + "." + tail
    try:
        return Decimal(num).quantize(TWO)
    except InvalidOperation:
        return None


def fmt(amount: Decimal) -> str:
    return f"{amount.quantize(TWO):.2f}"


def normalize_money(text: str) -> str | None:
    a = parse_amount(text)
    return None if a is None else fmt(a)


def totals_agree(labor: Decimal | None, parts: Decimal | None, total: Decimal | None,
                 other: Decimal | None = None, discount: Decimal | None = None) -> bool | None:
    """labour + parts (+ other − discount) == total, to the cent; ``None`` when there is not enough
    to tell. A DMS prints the total of the amounts it prints (its rounding shows as a discount), so
    a cent apart is a misread (2,190.1 read for ¥2,190.11 agreed within a cent, confidently wrong)."""
    if labor is None or parts is None or total is None:
        return None
    return expected_total(labor, parts, other, discount) == total


def expected_total(labor: Decimal, parts: Decimal, other: Decimal | None = None, discount: Decimal | None = None) -> Decimal:
    """labour + parts (+ other − discount): what the total should be."""
    return labor + parts + (other or Decimal(0)) - abs(discount or Decimal(0))


_CN_DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")} | {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"两": 2}
_CN_UNIT = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
UPPER_AMOUNT = re.compile(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万亿]+[元圆](?:零?[壹贰叁肆伍陆柒捌玖][角分]){0,2}[整正]?")


# what may stand right before the numerals: the label's last character (金额大写, 人民币)
_UPPER_BEFORE = "写币"


def _whole_run(text: str, start: int, end: int) -> bool:
    """No other Chinese character is glued to either end of the numerals at ``text[start:end]``
    (after an amount that ends in 整 or 分, the next word may follow unspaced)."""
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) and text[end - 1] not in "整正分" else ""
    return not (is_cjk(before) and before not in _UPPER_BEFORE) and not is_cjk(after)


# characters dot-matrix capital numerals are read as, each with the numeral or unit it looks like
# (仟 as 什 or 任, 拾 as 恰 or 抬, 叁 as 参, 贰 as 或, 捌 as 别 or 棚, 壹 as 登): no amount in words
# has any of them
UPPER_LOOKALIKES = str.maketrans({"什": "仟", "任": "仟", "恰": "拾", "抬": "拾", "给": "拾", "参": "叁", "或": "贰",
                                  "别": "捌", "棚": "捌", "登": "壹", "伯": "佰", "染": "柒", "玫": "玖", "肄": "肆"})


def upper_amount_read_loosely(text: str) -> Decimal | None:
    """The amount in words with the look-alikes of ``UPPER_LOOKALIKES`` read as the numerals they
    stand for (叁什零柒拾元肆角肆分 as 3070.44): a guess, to be checked against an amount read
    otherwise, never taken alone."""
    return parse_upper_amount(text.translate(UPPER_LOOKALIKES))


def parse_upper_amount(text: str) -> Decimal | None:
    """An amount in Chinese capital numerals (金额大写): ``壹仟叁佰陆拾元整`` → ``1360.00``.

    Only a whole run of numerals counts: one a misread character cuts (``贰任重销伍拾元整``,
    ``抓什优佰零玖元登加宣分`` of dot-matrix print) is not read from its readable tail, which would
    be a smaller amount read with confidence; nor one whose 仟 or 佰 has no numeral before it
    (``仟陆佰陆拾元整`` of 贰仟陆佰陆拾元整).
    """
    m = next((m for m in UPPER_AMOUNT.finditer(text) if _whole_run(text, m.start(), m.end())), None)
    if m is None:
        return None
    s = m.group(0)
    integer, _, fraction = re.split(r"([元圆])", s, maxsplit=1)
    total = section = number = 0
    for ch in integer:
        if ch in _CN_DIGIT:
            number = _CN_DIGIT[ch]
        elif ch in _CN_UNIT:
            if not number and ch not in "拾十":  # 仟陆佰… with no numeral before 仟: its digit lost
                return None
            section += (number or 1) * _CN_UNIT[ch]
            number = 0
        elif ch in _CN_BIG:
            total += (section + number) * _CN_BIG[ch]
            section = number = 0
    total += section + number
    cents = 0
    for digit, unit in re.findall(r"([零壹贰叁肆伍陆柒捌玖])([角分])", fraction):
        cents += _CN_DIGIT[digit] * (10 if unit == "角" else 1)
    return (Decimal(total) + Decimal(cents) / 100).quantize(TWO)
