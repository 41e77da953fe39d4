"""Dates in the formats printed on work orders and receipts, validated (no impossible or future dates)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from extractors.text import nfkc

MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
MIN_YEAR = 1990
_SEP = r"\s*[-/.]\s*"

# after a four-digit year OCR may read the dot as a colon: "2020:02.15", or a dot-matrix slash as
# a semicolon: "2021;7:18"
_YSEP = r"\s*[-/.:;]\s*"
_YMD = re.compile(rf"(?<!\d)(\d{{4}})(?:{_YSEP}|\s*年\s*)(\d{{1,2}})(?:{_YSEP}|\s*月\s*)(\d{{1,2}})(?![\d:])")
_YMD_COMPACT = re.compile(r"(?<!\d)((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
# day-month-year: one separator used twice, no spaces ("03-7 - 15" on a receipt is a part number)
_DMY = re.compile(r"(?<![\d\-/.])(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?![\d\-/])")
_D_MON_Y = re.compile(r"(?<!\d)(\d{1,2})\s*[-/ ]?\s*([A-Z]{3})[A-Z]*\.?\s*[-/ ,]?\s*(\d{4}|\d{2})(?!\d)")
_MON_D_Y = re.compile(r"\b([A-Z]{3})[A-Z]*\.?\s*(\d{1,2})(?:ST|ND|RD|TH)?,?\s*(\d{4})(?!\d)")


# ... or reads it as a colon: "2024/11/28:10:30" is the 28th at 10:30 (not the 2nd at 8:10:30)
COLON_BEFORE_TIME = re.compile(r"(\d{4}[-/.]\d{1,2}[-/.]\d{1,2})[:：](\d{1,2}[:：]\d{2})(?!\d)")
# OCR drops the space before a time: "2020.02.1414:45"
# the hour is taken as two digits when it can be: "2022/10/316:50" is the 3rd at 16:50
GLUED_TIME = re.compile(
    r"(\d{4}[-/.:年]\d{1,2}[-/.:月]\d{1,2}?|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{1,2}\s*[A-Z]{3,9}\s*\d{4})(\d{2}[:：]\d{2}|\d[:：]\d{2})")
# ... and the colon too: "2022.08.3113 15" is the 31st at 13:15 (a two-digit day, an hour, a minute)
GLUED_TIME_NO_COLON = re.compile(
    r"(\d{4}[-/.年]\d{1,2}[-/.月](?:0[1-9]|[12]\d|3[01]))([01]\d|2[0-3])\s+([0-5]\d)(?![\d:])")
# letters OCR puts for digits inside a numeric date: "27/0S/2018"
_NUMERIC_DATE = re.compile(r"(?<![A-Z\d])[\dOSIL]{1,4}[-/.][\dOSIL]{1,2}[-/.][\dOSIL]{2,4}(?![A-Z\d])")
_AS_DIGIT = str.maketrans("OSIL", "0511")


def glued_time_ambiguous(text: str) -> bool:
    """Date and time run together where both splits make sense ("2022/10/316:50": 3rd 16:50 or 31st 6:50)."""
    s = nfkc(text)
    for m in re.finditer(r"(\d{4})[-/.:年](\d{1,2})[-/.:月](\d{2,4})[:：](\d{2})", s):
        y, mo, g = int(m[1]), int(m[2]), m[3]
        ok = 0
        for cut in (len(g) - 2, len(g) - 1):
            day, hour = g[:cut], g[cut:]
            if 1 <= len(day) <= 2 and int(hour) < 24:
                try:
                    date(y, mo, int(day))
                    ok += 1
                except ValueError:
                    pass
        if ok > 1:
            return True
    return False


def _overlapping(pattern: re.Pattern[str], s: str) -> list[re.Match[str]]:
    """Matches starting at every position (``19- 18/01/2018`` must still yield ``18/01/2018``)."""
    out, pos = [], 0
    while (m := pattern.search(s, pos)) is not None:
        out.append(m)
        pos = m.start() + 1
    return out


def _make(y: int, m: int, d: int, today: date) -> date | None:
    if y < 100:
        y += 2000 if y <= today.year % 100 else 1900
    try:
        value = date(y, m, d)
    except ValueError:
        return None
    if value.year < MIN_YEAR or value > today + timedelta(days=1):
        return None
    return value


def find_dates(text: str, today: date | None = None, day_first: bool = True) -> list[tuple[date, str]]:
    """Every valid date in ``text`` with the matched raw text, in reading order."""
    today = today or date.today()
    s = nfkc(text).upper()
    s = _NUMERIC_DATE.sub(lambda m: m.group(0).translate(_AS_DIGIT), s)
    s = COLON_BEFORE_TIME.sub(r"\1 \2", s)
    s = GLUED_TIME.sub(r"\1 \2", s)
    s = GLUED_TIME_NO_COLON.sub(r"\1 \2:\3", s)
    found: list[tuple[int, date, str]] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match[str], value: date | None) -> None:
        if value is None or any(a < m.end() and m.start() < b for a, b in taken):
            return
        taken.append((m.start(), m.end()))
        found.append((m.start(), value, m.group(0)))

    for m in _overlapping(_YMD, s):
        add(m, _make(int(m[1]), int(m[2]), int(m[3]), today))
    for m in _overlapping(_YMD_COMPACT, s):
        add(m, _make(int(m[1]), int(m[2]), int(m[3]), today))
    for m in _overlapping(_D_MON_Y, s):
        if m[2] in MONTHS:
            add(m, _make(int(m[3]), MONTHS[m[2]], int(m[1]), today))
    for m in _overlapping(_MON_D_Y, s):
        if m[1] in MONTHS:
            add(m, _make(int(m[3]), MONTHS[m[1]], int(m[2]), today))
    for m in _overlapping(_DMY, s):
        a, b, y = int(m[1]), int(m[3]), int(m[4])
        first = _make(y, b, a, today) if day_first else _make(y, a, b, today)
        add(m, first or (_make(y, a, b, today) if day_first else _make(y, b, a, today)))
    found.sort(key=lambda t: t[0])
    return [(v, raw) for _, v, raw in found]


def parse_date(text: str, today: date | None = None, day_first: bool = True) -> date | None:
    dates = find_dates(text, today, day_first)
    return dates[0][0] if dates else None


def normalize_date(text: str, today: date | None = None, day_first: bool = True) -> str | None:
    d = parse_date(text, today, day_first)
    return d.isoformat() if d else None
