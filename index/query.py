"""The user's query string → a Whoosh query (see docs/search.md for the syntax).

Free text is analysed like the indexed text: a Chinese chunk becomes the AND of its bigrams, a
Latin/digit chunk its lower-cased words. A chunk that looks like an identifier (VIN or its tail,
plate, phone, order number) also matches the identifier fields. ``word~`` (or ``~2``) matches a
Latin word with one (two) OCR errors. Fielded terms (``vin:``, ``plate:``, ``date:``, ``total:``…)
become filters; ``-chunk`` excludes.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from whoosh import query as Q

from index.analysis import (
    PLATE_NO_PROVINCE_RE,
    PLATE_RE,
    date_key,
    money_to_fen,
    norm_order,
    norm_phone,
    norm_plate,
    norm_vin,
    terms,
)
from index.schema import TEXT_FIELDS

FIELD_ALIASES = {
    "vin": "vin",
    "plate": "plate",
    "order": "order",
    "order_no": "order",
    "phone": "phone",
    "date": "date",
    "total": "total",
    "amount": "total",
    "needs_review": "needs_review",
    "review": "needs_review",
    "id": "id",
    "tag": "tags",
    "retain_until": "retain_until",
    "expires": "retain_until",
    "hold": "hold",
    "tier": "tier",
    "store": "store",
    "type": "doc_type",
    "doc_type": "doc_type",
    **{f: f for f in TEXT_FIELDS},
    "customer_name": "customer",
}

_CHUNK = re.compile(r'(-?)(?:([A-Za-z_]+):)?("([^"]*)"?|\S+)')
_FUZZY = re.compile(r"^(.*?)~([12]?)$")
_IDENT = re.compile(r"^[0-9A-Za-z]{4,17}$")


class QueryError(ValueError):
    """The query cannot be understood (one line for the user)."""


@dataclass
class ParsedQuery:
    query: Q.Query
    text_terms: list[str] = field(default_factory=list)  # content terms, for snippets
    fuzzy_words: list[str] = field(default_factory=list)  # Latin words a fuzzy retry may loosen
    fuzzy_terms: list[str] = field(default_factory=list)  # Latin words searched with errors allowed
    has_text: bool = False  # free text present: relevance ranking means something

    @property
    def filters_only(self) -> bool:
        return not self.has_text


def _and(parts: list[Q.Query]) -> Q.Query:
    return parts[0] if len(parts) == 1 else Q.And(parts)


def _text_query(fieldname: str, chunk: str, fuzzy: int = 0) -> Q.Query | None:
    ts = terms(chunk)
    if not ts:
        return None
    parts: list[Q.Query] = []
    for t in dict.fromkeys(ts):
        if fuzzy and t.isascii() and len(t) >= 3:
            parts.append(Q.FuzzyTerm(fieldname, t, maxdist=fuzzy, prefixlength=1))
        elif len(t) == 1 and not t.isascii():
            # A lone Chinese character is indexed as a unigram only when it stands alone; inside a
            # run it is the first character of a bigram.
            parts.append(Q.Or([Q.Term(fieldname, t), Q.Prefix(fieldname, t)]))
        else:
            parts.append(Q.Term(fieldname, t))
    return _and(parts)


def _ident_queries(chunk: str) -> list[Q.Query]:
    """Identifier fields a free-text chunk may name: VIN (or its tail), plate, phone, order number."""
    out: list[Q.Query] = []
    plate = norm_plate(chunk)
    if PLATE_RE.match(plate) or PLATE_NO_PROVINCE_RE.match(plate):
        out.append(Q.Prefix("plate_rev", plate[::-1]))
    if _IDENT.match(chunk) and any(c.isdigit() for c in chunk):
        vin = norm_vin(chunk)
        if len(vin) >= 6:
            out.append(Q.Prefix("vin_rev", vin[::-1]))
        out.append(Q.Term("order", norm_order(chunk)))
        digits = norm_phone(chunk)
        if len(digits) >= 7 and digits == chunk:  # shorter digit runs are years, amounts, mileage
            out.append(Q.Prefix("phone_rev", digits[::-1]))
    return out


def day_bound(text: str, end: bool) -> int:
    m = re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?", text.strip())
    if not m:
        raise QueryError(f"date {text!r}: use YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else (12 if end else 1)
    last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 31
    day = int(m.group(3)) if m.group(3) else (last if end else 1)
    try:
        return date_key(date(year, month, day))
    except ValueError as exc:
        raise QueryError(f"date {text!r}: {exc}") from None


def _range(value: str) -> tuple[str | None, str | None]:
    """``a..b``, ``>a``, ``>=a``, ``<b``, ``<=b`` or ``a`` → (low, high) as written."""
    value = value.strip()
    if ".." in value:
        lo, hi = value.split("..", 1)
        return lo or None, hi or None
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            rest = value[len(op) :]
            return (rest, None) if op.startswith(">") else (None, rest)
    return value, value


def date_query(value: str, fieldname: str = "date") -> Q.Query:
    """``A..B`` (both inclusive, each a year, month or day), ``>A``, ``>=A``, ``<B``, ``<=B`` or ``A``."""
    v = value.strip()
    if not v.lstrip("<>=").replace("..", "").strip():
        raise QueryError(f"date:{value}: give a date (YYYY, YYYY-MM, YYYY-MM-DD, A..B, >A or <B)")
    if v.startswith(">") and not v.startswith(">="):
        return Q.NumericRange(fieldname, day_bound(v[1:], end=True), None, startexcl=True)
    if v.startswith("<") and not v.startswith("<="):
        return Q.NumericRange(fieldname, None, day_bound(v[1:], end=False), endexcl=True)
    lo, hi = _range(v)
    start = day_bound(lo, end=False) if lo else None
    end = day_bound(hi, end=True) if hi else None
    return Q.NumericRange(fieldname, start, end)


def _yes_no(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v not in ("yes", "no", "true", "false", "1", "0", "y", "n"):
        raise QueryError(f"{name}:{value}: use yes or no")
    return v in ("yes", "true", "1", "y")


def money_query(fieldname: str, value: str) -> Q.Query:
    lo, hi = _range(value)
    if not lo and not hi:
        raise QueryError(f"{fieldname}:{value}: give an amount (a number, >N, <N or A..B, in yuan)")
    strict_lo = value.strip().startswith(">") and not value.strip().startswith(">=")
    strict_hi = value.strip().startswith("<") and not value.strip().startswith("<=")
    lo_fen = money_to_fen(lo) if lo else None
    hi_fen = money_to_fen(hi) if hi else None
    for text, fen in ((lo, lo_fen), (hi, hi_fen)):
        if text and fen is None:
            if re.fullmatch(r"\s*[-+]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?\s*", text):
                raise QueryError(f"{fieldname}:{value}: {text} is out of range (at most 92233720368547758.07 yuan)")
            raise QueryError(f"{fieldname}:{value}: use a number, >N, <N or A..B (yuan)")
    return Q.NumericRange(fieldname, lo_fen, hi_fen, startexcl=strict_lo, endexcl=strict_hi)


def _field_query(name: str, value: str) -> Q.Query:
    if not value.strip():
        raise QueryError(f"{name}: nothing to search for (write {name}:VALUE)")
    if name == "vin":
        v = norm_vin(value)
        if len(v) < 4:
            raise QueryError(f"vin:{value}: give at least 4 characters (the end of the VIN)")
        return Q.Term("vin", v) if len(v) == 17 else Q.Prefix("vin_rev", v[::-1])
    if name == "plate":
        p = norm_plate(value)
        if len(p) < 3:
            raise QueryError(f"plate:{value}: give at least 3 characters")
        return Q.Prefix("plate_rev", p[::-1])
    if name == "phone":
        ph = norm_phone(value)
        if len(ph) < 4:
            raise QueryError(f"phone:{value}: give at least 4 digits")
        return Q.Prefix("phone_rev", ph[::-1])
    if name == "order":
        o = norm_order(value.rstrip("*"))
        return Q.Prefix("order", o) if value.endswith("*") else Q.Term("order", o)
    if name == "id":
        return Q.Prefix("id", value.strip().lower())
    if name == "date":
        return date_query(value)
    if name == "retain_until":
        return date_query(value, "retain_until")
    if name == "hold":
        return Q.Term("hold", _yes_no("hold", value))
    if name in ("tier", "store"):
        return Q.Term(name, value.strip())
    if name == "doc_type":
        v = value.strip().lower().replace("-", "_")
        return Q.Term("doc_type", {"order": "work_order", "workorder": "work_order", "wo": "work_order"}.get(v, v))
    if name == "total":
        return money_query("total", value)
    if name == "needs_review":
        v = value.strip().lower()
        if v not in ("yes", "no", "true", "false", "1", "0", "y", "n"):
            raise QueryError(f"needs_review:{value}: use yes or no")
        return Q.Term("needs_review", v in ("yes", "true", "1", "y"))
    if name == "tags":
        return Q.Term("tags", value)
    q = _text_query(name, value)
    if q is None:
        raise QueryError(f"{name}:{value}: nothing to search for")
    return q


def store_filter(stores: Iterable[str]) -> Q.Query:
    """Documents of these stores (index terms; ``index.schema.UNASSIGNED_STORE`` for none), unscored."""
    codes = sorted(set(stores))
    if not codes:
        return Q.NullQuery
    return Q.ConstantScoreQuery(Q.Or([Q.Term("store", c) for c in codes]), score=0.0)


def parse_query(text: str, fuzzy_all: bool = False) -> ParsedQuery:
    """Parse the query syntax. ``fuzzy_all`` makes every Latin word fuzzy (the zero-hit retry)."""
    must: list[Q.Query] = []
    must_not: list[Q.Query] = []
    pq = ParsedQuery(query=Q.Every())
    for m in _CHUNK.finditer(text):
        negate, fname, token, quoted = m.group(1) == "-", m.group(2), m.group(3), m.group(4)
        value = quoted if quoted is not None else token
        if not fname and quoted is None and token.endswith(":") and token[:-1].lower() in FIELD_ALIASES:
            raise QueryError(f"{token} nothing to search for (write {token}VALUE, no space after the colon)")
        if fname and fname.lower() in FIELD_ALIASES:
            name = FIELD_ALIASES[fname.lower()]
            q: Q.Query | None = _field_query(name, value)
            if name in TEXT_FIELDS and not negate:
                pq.text_terms.extend(terms(value))  # highlighted in the snippet too
        else:
            if fname:  # not a known field ("10:30"): search the whole chunk as text
                value = m.group(0).lstrip("-")
            fuzzy = 0
            fm = _FUZZY.match(value)
            if fm and quoted is None:
                value, fuzzy = fm.group(1), int(fm.group(2) or 1)
            elif fuzzy_all:
                fuzzy = 1
            q = _text_query("content", value, fuzzy)
            if q is not None and not negate:
                ts = terms(value)
                pq.text_terms.extend(ts)
                pq.fuzzy_words.extend(t for t in ts if t.isascii() and len(t) >= 4 and not t.isdigit())
                pq.has_text = True
                if fuzzy:
                    pq.fuzzy_terms.extend(t for t in ts if t.isascii() and len(t) >= 3)
                idents = _ident_queries(value) if quoted is None else []
                if idents:
                    for i in idents:
                        i.boost = 2.0
                    q = Q.Or([q, *idents])
        if q is None:
            continue
        (must_not if negate else must).append(q)
    query: Q.Query = _and(must) if must else Q.Every()
    if must_not:
        query = Q.AndNot(query, Q.Or(must_not))
    pq.query = query
    return pq
