"""Values found by what they are when their labels were not read.

A label-above form prints its labels small and light above each box (委托书号, 进厂日期, 车型);
on a poor copy OCR loses them, or reads 进厂日期 as 进广自期 and 工单号 as 七单号, while the values
below, printed larger, are read well. The document's header (page 1, above the first item
table's header row) then holds boxes that are a date, an order number or a car model and nothing
else. Such a box is taken only when the header holds no other of its kind, and always for review:
nothing but its shape says which field it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.identifiers import VIN_CHARS, VIN_LEN
from core.models import Box
from extractors.car_series import listed_series
from extractors.dates import find_dates
from extractors.fields import (
    COST_ROW,
    canonical_model,
    has_surname,
    parse_order_no,
    parse_person,
    parse_plate,
    parse_vin,
)
from extractors.layout import Line, PageIndex, same_row
from extractors.text import nfkc


@dataclass(frozen=True)
class Unlabelled:
    field: str
    line: Line
    text: str
    note: str


def header_lines(index: PageIndex) -> list[Line]:
    """The first page's lines no label was read in, above its first table header row or its first
    cost label, whichever is higher; none when the page has no table header (nothing then tells
    the header from the rest)."""
    if not index.pages:
        return []
    lines = index.pages[0]
    tops = [ln.box[1] for ln in lines if ln.table_header]
    if not tops:
        return []
    # ... or above the first cost label (1时费 of an item table's 工时费 column whose other titles
    # OCR lost): the header holds no amount
    top = min(tops + [ln.box[1] for ln in lines if any(h.field in COST_ROW for h in ln.hits)])
    return [ln for ln in lines if not ln.hits and not ln.table_header and (ln.box[1] + ln.box[3]) / 2 < top]


_DATE_ONLY = re.compile(r"[\d\s\-/.:：;；年月日]+")


def _date_only(ln: Line, today: date) -> date | None:
    s = nfkc(ln.text)
    if not _DATE_ONLY.fullmatch(s):
        return None
    found = find_dates(s, today, day_first=False)
    return found[0][0] if len(found) == 1 else None


def dates(index: PageIndex, today: date, taken: dict[str, date]) -> list[Unlabelled]:
    """The header's boxes that are a date and nothing else, as date in and out.

    ``taken``: the dates already read with a label (field -> date). With none, two such boxes
    are date in (the earlier) and date out (the later); with one, the one other box is the other
    date when it is on the right side of it (out not before in). Else nothing.
    """
    boxes = [(d, ln) for ln in header_lines(index) if (d := _date_only(ln, today)) is not None]
    if not taken:
        if len(boxes) != 2:
            return []
        (d1, l1), (d2, l2) = sorted(boxes, key=lambda b: (b[0], b[1].box[0]))
        note = "no date label read; the earlier of the two dates printed alone in the header"
        return [Unlabelled("date_in", l1, l1.text, note),
                Unlabelled("date_out", l2, l2.text, note.replace("earlier", "later"))]
    if len(taken) != 1:
        return []
    (fld, known), = taken.items()
    others = [(d, ln) for d, ln in boxes if d != known]
    if len(others) != 1 or len(boxes) != 2:
        return []
    d, ln = others[0]
    want = "date_out" if fld == "date_in" else "date_in"
    if (want == "date_out") != (d > known):
        return []
    return [Unlabelled(want, ln, ln.text, f"no label read; the header's one other date ({fld} is {known})")]


# a dealer's name, its address and hotline start with a make or a series too (长安福特…有限公司),
# and so does a colour (深蓝色: 深蓝 is Changan's)
_NOT_A_MODEL = re.compile(r"公司|有限|店|销售|服务|地址|热线|电话|维修|委托|结算|色$")


def _model_like(ln: Line) -> bool:
    value = canonical_model(ln.text)
    series = listed_series(value)
    if series is None or _NOT_A_MODEL.search(value) or len(value) > 25:
        return False
    # a one-character series (宋, 汉, 秦) starts many words: only with a Latin trim (宋PLUS, 汉EV)
    return len(series) >= 2 or (len(value) > 1 and value[1].isascii() and value[1].isalpha())


def model(index: PageIndex) -> list[Unlabelled]:
    """The header's one box that starts with a listed car series (探岳380TSI, 蒙迪欧 EcoBoost 245)."""
    boxes = [ln for ln in header_lines(index) if _model_like(ln)]
    if len(boxes) != 1:
        return []
    ln = boxes[0]
    return [Unlabelled("model", ln, ln.text, "no model label read; the header's one box that starts with a car series")]


def _order_like(ln: Line, today: date) -> bool:
    s = nfkc(ln.text).replace(" ", "")
    p = parse_order_no(s, today)
    if p is None or not p.valid or p.value != s.upper():
        return False
    if sum(c.isdigit() for c in s) < 8 or not any(c.isalpha() for c in s):
        return False  # a phone, a mileage, a plate: an order number has a date's digits and a letter
    if len(s) == VIN_LEN and set(s.upper()) <= VIN_CHARS and any(c.isalpha() for c in s[3:]):
        return False  # a VIN misread past its check digit (LE4FE1UASLS834327): letters past a prefix
    others = (parse(s, today) for parse in (parse_vin, parse_plate))
    return not any(o is not None and o.valid for o in others)


def order_no(index: PageIndex, today: date) -> list[Unlabelled]:
    """The header's one box that is an order number and nothing else (W20230889640)."""
    boxes = [ln for ln in header_lines(index) if _order_like(ln, today)]
    if len(boxes) != 1:
        return []
    ln = boxes[0]
    return [Unlabelled("order_no", ln, ln.text,
                       "no order number label read; the header's one box that is an order number")]


_KM_ALONE = re.compile(r"\s*\d[\d,，.]*\s*(?:公里|KM|km|Km)\s*")


# 248,234 (or 248.234, the comma read as a point): thousands grouped, no cents — the header holds
# no amount (it ends at the first cost label), and no phone or order number is printed so
_GROUPED_ALONE = re.compile(r"\s*\d{1,3}[,，.]\d{3}\s*")


def mileage(index: PageIndex) -> list[Unlabelled]:
    """The one box on the document that is a distance and nothing else (128903公里); else the
    header's one number grouped in thousands (248,234)."""
    boxes = [ln for ln in index.all_lines() if not ln.hits and _KM_ALONE.fullmatch(ln.text)]
    if len(boxes) == 1:
        ln = boxes[0]
        return [Unlabelled("mileage_km", ln, ln.text, "no mileage label read; the one distance printed on the page")]
    if boxes:
        return []
    grouped = [ln for ln in header_lines(index) if _GROUPED_ALONE.fullmatch(ln.text)]
    if len(grouped) != 1:
        return []
    ln = grouped[0]
    return [Unlabelled("mileage_km", ln, ln.text,
                       "no mileage label read; the header's one number grouped in thousands")]


_OTHER_PERSON = {"customer_name": "advisor", "advisor": "customer_name"}


def person(index: PageIndex, fld: str, beside: Box, beside_value: str, today: date) -> list[Unlabelled]:
    """The customer (or the advisor) whose label was lost (客户名称 read 客), when the other was
    read with its label: the one other name on that one's row of the header (a label-above form
    prints 服务顾问, 客户名称 and 手机 side by side)."""
    boxes = []
    for ln in header_lines(index):
        overlaps = ln.box[0] <= beside[2] - 1 and ln.box[2] >= beside[0] + 1  # the one read, or part of it
        if not same_row(ln.box, beside) or overlaps:
            continue
        p = parse_person(ln.text, today)
        if p is not None and p.valid and has_surname(p.value) and p.value != beside_value and len(p.value) >= 2:
            boxes.append(ln)
    if len(boxes) != 1:
        return []
    ln = boxes[0]
    return [Unlabelled(fld, ln, ln.text, f"no label read; the one other name on the {_OTHER_PERSON[fld]}'s row")]
