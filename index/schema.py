"""The Whoosh schema and the mapping from a sidecar ``Document`` to index fields.

Bump ``INDEX_SCHEMA_VERSION`` whenever the schema or the analysis changes: an index with another
version is rebuilt from the sidecars automatically on first use.
"""

from __future__ import annotations

import logging
from typing import Any

from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from core.identifiers import parse_day
from core.models import Document, field_value
from index.analysis import (
    CjkBigramTokenizer,
    date_key,
    money_to_fen,
    norm_order,
    norm_phone,
    norm_plate,
    norm_vin,
    parse_int,
)

log = logging.getLogger(__name__)

INDEX_SCHEMA_VERSION = 5

# Text fields a user can name in a query (``model:朗逸``); all use the bigram analysis.
TEXT_FIELDS = ("model", "make", "customer", "advisor", "dealer")
# The index term of a document archived without a store (an ID field cannot hold "").
UNASSIGNED_STORE = "-"
MONEY_FIELDS = {"total": "total_cost", "labor": "labor_cost", "parts": "parts_cost"}


def build_schema() -> Schema:
    cjk = CjkBigramTokenizer()
    return Schema(
        id=ID(stored=True, unique=True),
        # Everything searchable as free text: OCR text, field values, repair items, tags.
        content=TEXT(analyzer=cjk, phrase=False, stored=False),
        text=STORED(),
        order=ID(stored=True),
        vin=ID(stored=True),
        vin_rev=ID(),  # reversed: a VIN tail is a prefix query (one term per document, not n suffixes)
        plate=ID(stored=True),
        plate_rev=ID(),
        phone=ID(stored=True),
        phone_rev=ID(),
        model=TEXT(analyzer=cjk, phrase=True, stored=True),
        make=TEXT(analyzer=cjk, phrase=True, stored=True),
        customer=TEXT(analyzer=cjk, phrase=True, stored=True),
        advisor=TEXT(analyzer=cjk, phrase=True, stored=True),
        dealer=TEXT(analyzer=cjk, phrase=True, stored=True),
        # Numeric fields index one term per shift step: few, coarse steps keep indexing fast.
        date=NUMERIC(bits=32, shift_step=8, stored=False, sortable=True),  # yyyymmdd
        total=NUMERIC(bits=64, shift_step=16, stored=True, sortable=True),  # fen
        labor=STORED(),
        parts=STORED(),
        mileage=STORED(),
        needs_review=BOOLEAN(stored=True),
        tags=KEYWORD(stored=True, commas=True, lowercase=False),
        store=ID(stored=True),  # the store (门店) code; UNASSIGNED_STORE when the document has none
        doc_type=ID(stored=True),  # work_order | invoice | receipt | other; UNASSIGNED_STORE if not classified
        # Records lifecycle: what a `woa lifecycle run` pass needs, without reading any sidecar
        retain_until=NUMERIC(bits=32, shift_step=8, stored=True, sortable=True),  # yyyymmdd
        hold=BOOLEAN(stored=True),
        tier=ID(stored=True),  # "hot" or the cold tier's name
        meta=STORED(),  # dates as printed, items, source name: for display, history and stats
    )


def _items(doc: Document) -> tuple[list[dict[str, Any]], bool]:
    """Repair items as ``{name, quantity, amount_fen}``; the flag says some amount was unreadable."""
    out: list[dict[str, Any]] = []
    bad = False
    for item in doc.items:
        name = str(item.get("name") or "").strip()
        if not name:
            continue
        amount = money_to_fen(item.get("amount"))
        if item.get("amount") not in (None, "") and amount is None:
            bad = True
        out.append({"name": name, "kind": item.get("kind"), "quantity": item.get("quantity"), "amount_fen": amount})
    return out, bad


def document_fields(doc: Document) -> dict[str, Any]:
    """Index fields for one document. Only values are indexed; an unreadable value is skipped and
    the document marked ``needs_review``."""
    review = doc.needs_review
    f: dict[str, Any] = {"id": doc.id, "store": doc.store or UNASSIGNED_STORE}
    extra: list[str] = []

    order = field_value(doc, "order_no")
    if order:
        f["order"] = norm_order(order)
        extra.append(order)
    # identifiers: the normalised value, reversed too (a tail is a prefix query), and in the free text
    for name, norm in (("vin", norm_vin), ("plate", norm_plate), ("phone", norm_phone)):
        raw = field_value(doc, name)
        term = norm(raw) if raw else ""
        if term:
            f[name] = term
            f[f"{name}_rev"] = term[::-1]
            extra.append(term)

    for name, key in (("model", "model"), ("make", "make"), ("customer", "customer_name"), ("advisor", "advisor")):
        value = field_value(doc, key)
        if value:
            f[name] = value
            extra.append(value)
    dealer = doc.tags.get("dealer")
    if dealer:
        f["dealer"] = dealer
        extra.append(dealer)
    if doc.tags:
        f["tags"] = ",".join(f"{k}={v}" for k, v in sorted(doc.tags.items()))

    until = parse_day(doc.retain_until) if doc.retain_until else None
    if until is not None:
        f["retain_until"] = date_key(until)
    f["hold"] = doc.hold is not None
    f["tier"] = str(doc.tier.get("name") or "cold") if doc.tier else "hot"

    date_in, date_out = field_value(doc, "date_in"), field_value(doc, "date_out")
    d_in, d_out = parse_day(date_in), parse_day(date_out)
    if (date_in and d_in is None) or (date_out and d_out is None):
        review = True
    when = d_in or d_out
    if when is not None:
        f["date"] = date_key(when)

    for name, key in MONEY_FIELDS.items():
        raw = field_value(doc, key)
        fen = money_to_fen(raw)
        if raw is not None and fen is None:
            review = True
        if fen is not None:
            f[name] = fen
    raw_km = field_value(doc, "mileage_km")
    km = parse_int(raw_km)
    if raw_km is not None and km is None:
        review = True
    if km is not None:
        f["mileage"] = km

    items, bad_items = _items(doc)
    review = review or bad_items
    extra.extend(i["name"] for i in items)
    f["needs_review"] = review
    f["doc_type"] = doc.doc_type or UNASSIGNED_STORE
    extra.extend(fv.value for fv in doc.doc_fields.values() if fv.value)  # an invoice's 发票号码 ...

    text = doc.text
    f["text"] = text
    f["content"] = text + "\n" + "\n".join(extra)
    f["meta"] = {
        "date": when.isoformat() if when else None,
        "date_in": d_in.isoformat() if d_in else date_in,
        "date_out": d_out.isoformat() if d_out else date_out,
        "order_no": order,
        "retain_until": doc.retain_until or None,
        "retention_rule": doc.retention_rule or None,
        "items": items,
        "source_name": doc.source_name,
    }
    return f
