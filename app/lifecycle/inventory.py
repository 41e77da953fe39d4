"""Inventory (定期盘点): per store and month, gaps in the order-number sequence (orders printed
but never archived), order numbers archived more than once, and where the paper originals sit
(the ``location`` tag that ``woa batch --location`` records per batch folder)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as Q

from core.archive import Archive
from index.rows import select_rows

_NUMBERED = re.compile(r"^(.*?)(\d+)$")
MAX_GAP_LIST = 1000  # a range with more missing numbers than this is reported as a count


@dataclass
class InventoryGroup:
    store: str
    month: str
    documents: int = 0
    first: str | None = None
    last: str | None = None
    gaps: list[str] = field(default_factory=list)
    gap_count: int = 0
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    locations: dict[str, int] = field(default_factory=dict)
    no_order: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "month": self.month, "documents": self.documents, "first": self.first,
                "last": self.last, "gaps": self.gaps, "gap_count": self.gap_count, "duplicates": self.duplicates,
                "locations": self.locations, "no_order_number": self.no_order}


def _tags(raw: str) -> dict[str, str]:
    out = {}
    for part in raw.split(","):
        k, sep, v = part.partition("=")
        if sep:
            out[k] = v
    return out


def gaps_in(orders: list[str]) -> tuple[list[str], int]:
    """Missing numbers between the lowest and the highest of each prefix (``WO2024030007`` → ``WO202403``, 7)."""
    by_prefix: dict[tuple[str, int], set[int]] = defaultdict(set)
    for o in orders:
        m = _NUMBERED.match(o)
        if m:
            by_prefix[(m.group(1), len(m.group(2)))].add(int(m.group(2)))
    listed: list[str] = []
    total = 0
    for (prefix, width), nums in sorted(by_prefix.items()):
        lo, hi = min(nums), max(nums)
        missing = (hi - lo + 1) - len(nums)
        total += missing
        if missing and missing <= MAX_GAP_LIST:
            listed += [f"{prefix}{n:0{width}d}" for n in range(lo, hi + 1) if n not in nums]
    return listed, total


def inventory(archive: Archive, store: str | None = None, month: str | None = None) -> list[InventoryGroup]:
    rows = select_rows(archive, Q.Term("store", store) if store else Q.Every())
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        m = (r.get("date") or "")[:7] or "(no date)"
        if month and m != month:
            continue
        grouped[(r["store"], m)].append(r)
    out = []
    for (st, m), rs in sorted(grouped.items()):
        g = InventoryGroup(store=st, month=m, documents=len(rs))
        orders: dict[str, list[str]] = defaultdict(list)
        for r in rs:
            o = (r.get("order_no") or "").strip().upper()
            if o:
                orders[o].append(r["id"])
            else:
                g.no_order.append(r["id"])
        if orders:
            ordered = sorted(orders)
            g.first, g.last = ordered[0], ordered[-1]
            g.gaps, g.gap_count = gaps_in(ordered)
        g.duplicates = {o: sorted(ids) for o, ids in sorted(orders.items()) if len(ids) > 1}
        g.locations = dict(Counter(_tags(r.get("tags") or "").get("location", "(not recorded)") for r in rs))
        out.append(g)
    return out
