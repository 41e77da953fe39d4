"""Small records of the documents a query selects, for passes that must not read every sidecar
(``woa lifecycle run``, inventory, tier status): id, store, order number, dates, retention, hold, tier.
"""

from __future__ import annotations

from typing import Any

from whoosh import query as Q

from core.archive import Archive
from index import store
from index.engine import Evaluator
from index.query import parse_query
from index.schema import UNASSIGNED_STORE

ROW_KEYS = ("id", "store", "tier", "hold")


def _row(stored: dict[str, Any]) -> dict[str, Any]:
    meta = stored.get("meta") or {}
    return {
        "id": stored["id"],
        "store": "" if stored.get("store") in (None, UNASSIGNED_STORE) else stored["store"],
        "tier": stored.get("tier") or "hot",
        "hold": bool(stored.get("hold")),
        "order_no": meta.get("order_no"),
        "date": meta.get("date"),
        "date_in": meta.get("date_in"),
        "date_out": meta.get("date_out"),
        "retain_until": meta.get("retain_until"),
        "retention_rule": meta.get("retention_rule"),
        "tags": stored.get("tags") or "",
    }


def select_rows(archive: Archive, query: Q.Query | str) -> list[dict[str, Any]]:
    """Rows of every document matching ``query`` (a Whoosh query or the search syntax), by id."""
    q = parse_query(query).query if isinstance(query, str) else query

    def action(searcher: Any) -> list[dict[str, Any]]:
        matches = Evaluator(searcher).eval(q)
        return sorted((_row(searcher.stored_fields(int(n))) for n in matches.ids), key=lambda r: r["id"])

    return store.with_searcher(archive, action)


def count(archive: Archive, query: Q.Query | str) -> int:
    q = parse_query(query).query if isinstance(query, str) else query
    return store.with_searcher(archive, lambda s: len(Evaluator(s).eval(q).ids))
