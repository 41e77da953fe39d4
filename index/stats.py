"""Statistics over the archive: orders and revenue (labour, parts) per month, top repairs and models."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from whoosh import query as Q

from core.archive import Archive
from core.identifiers import parse_day
from index import store
from index.analysis import date_key, fen_to_yuan
from index.query import store_filter

TOP_N = 10


@dataclass
class MonthStats:
    month: str  # YYYY-MM, or "undated"
    orders: int = 0
    labor_fen: int = 0
    parts_fen: int = 0
    total_fen: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.month, "orders": self.orders, "labor": fen_to_yuan(self.labor_fen),
                "parts": fen_to_yuan(self.parts_fen), "total": fen_to_yuan(self.total_fen)}


@dataclass
class Stats:
    date_from: str | None
    date_to: str | None
    orders: int = 0
    months: list[MonthStats] = field(default_factory=list)
    top_items: list[tuple[str, int, int]] = field(default_factory=list)  # name, count, amount fen
    top_models: list[tuple[str, int]] = field(default_factory=list)
    advisors: list[MonthStats] = field(default_factory=list)  # per service advisor (``month`` holds the name)
    stores: list[MonthStats] = field(default_factory=list)  # per store code (``month`` holds the code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.date_from,
            "to": self.date_to,
            "orders": self.orders,
            "labor": fen_to_yuan(sum(m.labor_fen for m in self.months)),
            "parts": fen_to_yuan(sum(m.parts_fen for m in self.months)),
            "total": fen_to_yuan(sum(m.total_fen for m in self.months)),
            "months": [m.to_dict() for m in self.months],
            "top_items": [{"name": n, "count": c, "amount": fen_to_yuan(a)} for n, c, a in self.top_items],
            "top_models": [{"model": m, "count": c} for m, c in self.top_models],
            "advisors": [_keyed("advisor", a) for a in self.advisors],
            "stores": [_keyed("store", s) for s in self.stores],
        }


def _keyed(key: str, m: MonthStats) -> dict[str, Any]:
    d = m.to_dict()
    d[key] = d.pop("month")
    return d


def stats_in(searcher: Any, date_from: date | None, date_to: date | None, top: int = TOP_N,
             stores: Iterable[str] | None = None) -> Stats:
    """``stores``: only orders of these store index terms (None: every order)."""
    q: Q.Query = Q.Every()
    if date_from or date_to:
        q = Q.NumericRange("date", date_key(date_from) if date_from else None, date_key(date_to) if date_to else None)
    if stores is not None:
        q = Q.And([q, store_filter(stores)])
    months: dict[str, MonthStats] = {}
    advisors: dict[str, MonthStats] = {}
    by_store: dict[str, MonthStats] = {}
    item_count: Counter[str] = Counter()
    item_amount: defaultdict[str, int] = defaultdict(int)
    models: Counter[str] = Counter()
    n = 0
    for docnum in q.docs(searcher):
        stored = searcher.stored_fields(docnum)
        meta = stored.get("meta") or {}
        month = (meta.get("date") or "")[:7] or "undated"
        labor, parts, total = stored.get("labor"), stored.get("parts"), stored.get("total")
        for m in (months.setdefault(month, MonthStats(month)),
                  advisors.setdefault(stored.get("advisor") or "", MonthStats(stored.get("advisor") or "")),
                  by_store.setdefault(stored.get("store") or "", MonthStats(stored.get("store") or ""))):
            m.orders += 1
            m.labor_fen += labor or 0
            m.parts_fen += parts or 0
            m.total_fen += total if total is not None else (labor or 0) + (parts or 0)
        for item in meta.get("items", []):
            if item.get("kind") == "part":  # repair work, not the parts it used
                continue
            item_count[item["name"]] += 1
            item_amount[item["name"]] += item.get("amount_fen") or 0
        if stored.get("model"):
            models[stored["model"]] += 1
        n += 1
    return Stats(
        date_from=date_from.isoformat() if date_from else None,
        date_to=date_to.isoformat() if date_to else None,
        orders=n,
        months=[months[k] for k in sorted(months)],
        top_items=[(name, c, item_amount[name]) for name, c in item_count.most_common(top)],
        top_models=models.most_common(top),
        advisors=sorted(advisors.values(), key=lambda m: (-m.total_fen, m.month)),
        stores=sorted(by_store.values(), key=lambda m: m.month),
    )


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    parsed = parse_day(value)
    if parsed is None:
        raise ValueError(f"{value!r}: not a date (YYYY-MM-DD)")
    return parsed


def stats(archive: Archive, date_from: date | str | None = None, date_to: date | str | None = None,
          top: int = TOP_N, stores: Iterable[str] | None = None) -> Stats:
    """Orders and revenue per month in [date_from, date_to] (inclusive; by order date)."""
    lo, hi = _as_date(date_from), _as_date(date_to)
    only = None if stores is None else list(stores)
    return store.with_searcher(archive, lambda s: stats_in(s, lo, hi, top, only))
