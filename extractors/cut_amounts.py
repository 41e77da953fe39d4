"""A discount and a total read in pieces (a seal over them), told from the sum.

A dealer's seal is stamped over the costs row's last cells: OCR reads what is left of the
discount and the total as pieces (``￥8.8`` and ``鑫``; ``￥66`` and ``00`` for ¥8.89 and
¥660.00). Labour, parts and the other fees, read whole, give labour + parts + other = discount +
total. A dot-matrix DMS prints each amount from its cell's start in characters of one width, so
where a piece stands tells which characters of the amount it is. The pair that adds up and has
each piece where it stands is the reading; when more than one pair does, none is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from extractors import money
from extractors.text import nfkc

MARKS = "¥￥Yy"
_NOT_KEPT = re.compile(r"[^0-9.]")
# a discount over half the bill is no discount a DMS prints: the total is at least half the sum
LEAST_TOTAL_SHARE = Decimal("0.5")
SLACK = 1  # characters a piece's place may be off (a box's edge, a character's bearing)


@dataclass(frozen=True)
class Piece:
    digits: str  # the digits and points read, nothing else
    at: tuple[int, ...]  # where its first one may stand in the printed amount (its mark at 0)


def piece(text: str, x0: float, x1: float, start: float, width: float) -> Piece | None:
    """What a box read in a cell says: its digits and where they start, from the box's edges
    ``x0`` and ``x1``, the cell's first character's ``start`` and the print's character ``width``:
    counted from the left edge (after a mark read), or from the right one (the seal hid
    characters inside the box: ``￥ 21`` of ¥8.21). None for a box with no digit (the seal's
    characters)."""
    s = nfkc(text).replace("。", ".").strip()
    lead = 1 if s[:1] in MARKS else 0
    digits = _NOT_KEPT.sub("", s)
    if not any(c.isdigit() for c in digits):
        return None
    return Piece(digits, tuple(sorted({round((x0 - start) / width) + lead, round((x1 - start) / width) - len(digits)})))


def fits(amount: Decimal, pieces: list[Piece]) -> bool:
    """``amount`` printed as ``¥1234.50`` has every piece's digits where the piece stands."""
    s = "¥" + money.fmt(amount)
    last = 0
    for p in pieces:
        places = sorted({a for at in p.at for a in range(max(1, at - SLACK, last), at + SLACK + 1)})
        for at in places:
            if s[at:at + len(p.digits)] == p.digits:
                last = at + len(p.digits)
                break
        else:
            return False
    return True


def _cents(pieces: list[Piece]) -> set[int]:
    """The cents the pieces show: after a point read, else the last piece's last two digits."""
    for p in pieces:
        if (m := re.search(r"\.(\d\d)", p.digits)) is not None:
            return {int(m.group(1))}
    if (m := re.search(r"(\d\d)$", pieces[-1].digits)) is not None:
        return {int(m.group(1))}
    return set()


def solve(known: Decimal, discount: list[Piece], total: list[Piece]) -> tuple[Decimal, Decimal] | None:
    """The one (discount, total) with discount + total = ``known`` (labour + parts + other) that
    fits both cells' pieces; None when no pair or more than one does."""
    if not discount or not total or known <= 0:
        return None
    whole = int(known * 100)
    cents = _cents(total) | {(whole - c) % 100 for c in _cents(discount)}
    found: set[tuple[Decimal, Decimal]] = set()
    for c in cents:
        first = int(whole * LEAST_TOTAL_SHARE) // 100 * 100 + c
        for t in range(first, whole + 1, 100):
            tot, disc = Decimal(t) / 100, Decimal(whole - t) / 100
            if fits(tot, total) and fits(disc, discount):
                found.add((disc, tot))
                if len(found) > 1:
                    return None
    return next(iter(found)) if found else None
