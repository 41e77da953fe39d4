"""Odometer readings: ``12,345 km``, ``12345公里``; stored as whole kilometres."""

from __future__ import annotations

import re

from extractors.text import nfkc, quote_separators

MAX_KM = 2_000_000
# a dot followed by exactly three digits is a thousands separator OCR read as a dot: "5.912"
_NUM = re.compile(r"\d{1,3}(?:[,，.]\d{3})+(?![\d.])|\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
# thousands set apart by a space, as some DMS print them ("248 553 km"): one number
_SPACED = re.compile(r"(?<![\d.,])\d{1,3}(?: \d{3})+(?![\d.,])")


# a date is no odometer reading (… 公里 或 2023-12-30，以先到者为准: the service reminder's date)
_DATE = re.compile(r"(?:19|20)\d{2}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}")


def spaced_groups(text: str) -> bool:
    """Whether the first number in ``text`` is printed in space-separated groups of three."""
    s = quote_separators(nfkc(text))
    m, first = _SPACED.search(s), re.search(r"\d", s)
    return m is not None and first is not None and m.start() == first.start()


def normalize_mileage(text: str) -> str | None:
    s = quote_separators(nfkc(text))
    if spaced_groups(s):
        s = re.sub(r"(?<=\d) (?=\d{3}(?!\d))", "", s)
    m = _NUM.search(s)
    if m is None or _DATE.match(s, m.start()):
        return None
    num = m.group(0).replace(",", "").replace("，", "")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", num):
        num = num.replace(".", "")
    km = float(num)
    if re.search(r"万\s*(公里|km)", s[m.end():m.end() + 4], re.IGNORECASE):
        km *= 10_000
    if not 0 <= km < MAX_KM:
        return None
    return str(int(round(km)))


# The service reminder many DMS print under the costs (温馨提示：建议下次保养里程 149685公里 或
# 2021/5/21): the next service's odometer reading is this visit's plus a service interval. The
# intervals Chinese dealers schedule (5,000 km for mineral and semi-synthetic oil, 7,500 and
# 10,000 km for full synthetic).
SERVICE_INTERVALS_KM = (5000, 7500, 10000)
_NEXT_SERVICE = re.compile(r"(?:下次保养|保养里程)\D{0,6}?(\d{4,7})\s*(?:公里|km|KM|Km)")


def next_service_km(text: str) -> int | None:
    """The next service's odometer reading a reminder line gives, or None."""
    m = _NEXT_SERVICE.search(nfkc(text))
    return int(m.group(1)) if m else None


def this_visit_km(next_km: int) -> list[int]:
    """What this visit's reading is, for each usual interval before the next service's."""
    return [next_km - k for k in SERVICE_INTERVALS_KM if next_km - k > 0]
