"""Text analysis for Chinese work orders: CJK runs as character bigrams, Latin/digit runs as words.

Whoosh's standard analyzer turns a whole run of Chinese characters into one token, so 机油 is never
found inside 更换机油机滤. Here a run of CJK characters becomes overlapping bigrams (更换 换机 机油
油机 机滤; a lone character stays a unigram) and a run of letters/digits becomes one lower-cased
word. Queries are analysed the same way, so a Chinese phrase becomes a phrase of its bigrams.

The same module normalises the identifiers (VIN, plate, phone, order number) and values (money in
integer fen, dates) for both indexing and querying, so the two sides always agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation

from whoosh.analysis import Token, Tokenizer

# the identifier rules are the base layer's (shared with extraction); the index re-exports the
# ones its schema and queries use
from core.identifiers import CJK_CLASS, PLATE_SUFFIXES, compact_vin
from core.identifiers import PROVINCES as PROVINCES
from core.identifiers import fold_width as fold_width
from core.identifiers import norm_plate as norm_plate

_RUN = re.compile(rf"([{CJK_CLASS}]+)|([0-9A-Za-z\u00c0-\u024f]+)")


def terms_with_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """``(term, startchar, endchar)`` for every token of ``text``, in order."""
    for m in _RUN.finditer(fold_width(text)):
        run = m.group(1)
        start = m.start()
        if run is None:
            yield m.group(2).lower(), start, m.end()
        elif len(run) == 1:
            yield run, start, start + 1
        else:
            for i in range(len(run) - 1):
                yield run[i : i + 2], start + i, start + i + 2


def terms(text: str) -> list[str]:
    return [t for t, _, _ in terms_with_spans(text)]


class CjkBigramTokenizer(Tokenizer):
    """Whoosh tokenizer emitting CJK bigrams and lower-cased Latin/digit words (see module doc)."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for m in _RUN.finditer(fold_width(value)):
            run = m.group(1)
            start = m.start()
            if run is None:
                t.text = m.group(2).lower()
                if keeporiginal:
                    t.original = m.group(2)
                if positions:
                    t.pos = pos
                    pos += 1
                if chars:
                    t.startchar = start_char + start
                    t.endchar = start_char + m.end()
                yield t
                continue
            n = len(run)
            if n == 1:
                spans: range | tuple[int, ...] = (0,)
                width = 1
            else:
                spans = range(n - 1)
                width = 2
            for i in spans:
                t.text = run[i : i + width]
                if keeporiginal:
                    t.original = t.text
                if positions:
                    t.pos = pos
                    pos += 1
                if chars:
                    t.startchar = start_char + start + i
                    t.endchar = start_char + start + i + width
                yield t


# -- identifiers ------------------------------------------------------------------------------
_VIN_FOLD = str.maketrans({"O": "0", "I": "1", "Q": "0"})


def norm_vin(raw: str) -> str:
    """Upper-case alphanumerics; O/I/Q (never in a VIN) folded to 0/1/0 so OCR slips still match."""
    return compact_vin(raw).translate(_VIN_FOLD)



def norm_phone(raw: str) -> str:
    return re.sub(r"\D", "", fold_width(raw))


def norm_order(raw: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", fold_width(raw).upper())


def suffixes(value: str, shortest: int = 4) -> list[str]:
    """All suffixes of ``value`` at least ``shortest`` long (the whole value included)."""
    return [value[i:] for i in range(0, max(len(value) - shortest + 1, 1))]


PLATE_RE = re.compile(rf"^[{PROVINCES}][A-Z][A-Z0-9]{{4,6}}[{PLATE_SUFFIXES}]?$")
PLATE_NO_PROVINCE_RE = re.compile(r"^[A-Z][A-Z0-9]{5,6}$")


# -- values -----------------------------------------------------------------------------------
# The index stores money as a signed 64-bit count of fen; anything larger is not an amount.
MAX_FEN = 2**63 - 1


def money_to_fen(raw: object) -> int | None:
    """Decimal yuan (``"1234.50"``, ``"1,234.5"``, ``"¥88"``) → integer fen; ``None`` if unreadable
    or out of the index's range (``|fen| < 2**63``)."""
    if raw is None:
        return None
    text = re.sub(r"[,\s¥￥元]|RMB", "", fold_width(str(raw)))
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value.adjusted() > 18:  # > 10**19 yuan: out of range before scaling
        return None
    fen = int((value * 100).to_integral_value())
    return fen if -MAX_FEN <= fen <= MAX_FEN else None


def fen_to_yuan(fen: int | None) -> str | None:
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def date_key(d: date) -> int:
    """A date as the integer yyyymmdd (ordered like the date; what the index stores)."""
    return d.year * 10000 + d.month * 100 + d.day


def key_date(key: int) -> date:
    return date(key // 10000, key // 100 % 100, key % 100)


def parse_int(raw: object) -> int | None:
    if raw is None:
        return None
    try:
        return int(Decimal(re.sub(r"[,\s]|km|公里", "", str(raw), flags=re.I)))
    except (InvalidOperation, ValueError):
        return None
