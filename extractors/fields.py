"""Per-field parsing of a value candidate's text: canonical value, how trustworthy it is, why."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from extractors import dates, mileage, money, phone, plate, vin
from extractors.text import clean, nfkc


@dataclass(frozen=True)
class Parsed:
    value: str
    confidence: float  # trust in the reading itself (format / check digit), 0..1
    valid: bool
    note: str = ""
    raw: str = ""


def parse_vin(text: str, today: date) -> Parsed | None:
    r = vin.read_vin(text)
    if r is None:
        return None
    note = r.note + (f"; manufacturer {r.manufacturer}" if r.manufacturer else "")
    return Parsed(r.value, r.confidence, r.valid, note.strip("; "))


def parse_plate(text: str, today: date) -> Parsed | None:
    r = plate.read_plate(text)
    return None if r is None else Parsed(r.value, r.confidence, r.valid, r.note or r.kind)


def parse_date(text: str, today: date) -> Parsed | None:
    found = dates.find_dates(text, today, day_first=False)
    if not found:
        return None
    d, raw = found[0]
    if dates.glued_time_ambiguous(text):  # where the day ends and the hour starts is a guess
        return Parsed(d.isoformat(), 0.75, True, "date and time run together; the day is a guess", raw)
    return Parsed(d.isoformat(), 1.0, True, raw=raw)


def parse_money(text: str, today: date) -> Parsed | None:
    a = money.parse_amount(text)
    if a is None:
        return None
    return Parsed(money.fmt(a), 0.95, a >= 0)


def parse_mileage(text: str, today: date) -> Parsed | None:
    v = mileage.normalize_mileage(text)
    return None if v is None else Parsed(v, 0.95, True)


def parse_phone(text: str, today: date) -> Parsed | None:
    r = phone.read_phone(text)
    return None if r is None else Parsed(r.value, r.confidence, r.valid, r.note or r.kind)


_ORDER = re.compile(r"[A-Z0-9][A-Z0-9\-_/]{3,29}")
_RO_WO = re.compile(r"^[RW]0\d{6,}$")


def parse_order_no(text: str, today: date) -> Parsed | None:
    s = nfkc(text).upper().replace(" ", "")
    m = _ORDER.search(s)
    if m is None:
        return None
    v = m.group(0).strip("-_/")
    digits = sum(c.isdigit() for c in v)
    note = ""
    conf = 0.95 if digits >= 4 else 0.6
    if _RO_WO.match(v):  # RO / WO (repair / work order) read with a zero
        v, note, conf = v[0] + "O" + v[2:], f"read {v[:2]} as {v[0]}O", 0.85
    return Parsed(v, conf, digits >= 4, note)


_CJK = re.compile(r"[\u3400-\u9fff]")


def _free_text(text: str, max_len: int) -> str:
    s = clean(text)
    s = re.split(r"\s{2,}", s)[0]
    return s.strip(" :：,，;；.")[:max_len]


def parse_name(text: str, today: date) -> Parsed | None:
    s = _free_text(text, 40)
    if not s or re.fullmatch(r"[\d\s\-+]+", s):
        return None
    ok = bool(_CJK.search(s)) or bool(re.search(r"[A-Za-z]{2}", s))
    return Parsed(s, 0.95 if ok else 0.5, ok)


def parse_person(text: str, today: date) -> Parsed | None:
    s = _free_text(text, 20).split(" ")[0].strip("·.,，。")
    if not s or re.search(r"\d", s):
        return None
    ok = bool(re.fullmatch(r"[\u3400-\u9fff·]{2,5}", s)) or bool(re.fullmatch(r"[A-Za-z .]{2,20}", s))
    return Parsed(s, 0.95 if ok else 0.5, ok)


def canonical_model(text: str) -> str:
    """A model name without spaces: OCR cannot see them reliably (迈腾 330TSI reads 迈腾330TSI),
    so, like the plate's dot, they are formatting and not part of the value. A dot belongs only
    inside a number (1.6L); elsewhere it is a speck read as a dot (2.0L.四驱)."""
    s = "".join(text.split())
    return re.sub(r"(?<!\d)\.|\.(?!\d)", "", s)


# A 0 or 1 right after a letter and not part of a longer number (TURB0, TS1, DM-1) is as likely
# an O or I misread: nothing validates a model name, so such a value goes to review.
_MODEL_CONFUSABLE = re.compile(r"[A-Za-z]-?[01](?!\d)")


def parse_model(text: str, today: date) -> Parsed | None:
    s = _free_text(text, 40)
    if not s or re.fullmatch(r"[\d\s\-.:]+", s):
        return None
    value = canonical_model(s)
    if _MODEL_CONFUSABLE.search(value):
        return Parsed(value, 0.6, False)
    return Parsed(value, 0.92, True)


PARSERS: dict[str, Callable[[str, date], Parsed | None]] = {
    "order_no": parse_order_no,
    "vin": parse_vin,
    "plate": parse_plate,
    "date_in": parse_date,
    "date_out": parse_date,
    "mileage_km": parse_mileage,
    "customer_name": parse_name,
    "phone": parse_phone,
    "model": parse_model,
    "advisor": parse_person,
    "labor_cost": parse_money,
    "parts_cost": parse_money,
    "other_cost": parse_money,
    "discount": parse_money,
    "total_cost": parse_money,
}
