"""Linking an invoice to the work order it pays for: plate, amount or order number agree.

The evidence is searched in the index (work orders only): the invoice's 价税合计 equal to an
order's total, a plate printed on the invoice equal to an order's plate, an order number printed
on the invoice. The order with the most kinds of evidence is linked; two orders with as much
evidence each is no link but a note for review. The link is kept as the invoice's
``doc_fields["linked_order"]`` (value: the order's id; note: which evidence agreed), shown by
``woa show`` and searchable (the order id is in the invoice's indexed text).
"""

from __future__ import annotations

import logging
import re

import index
from core.archive import Archive
from core.models import Document, FieldValue
from extractors.plate import read_plate
from index.query import QueryError
from index.store import IndexUnavailable

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[A-Z]{1,3}[-_]?\d{6,}[-\d]*")


def _orders(archive: Archive, query: str) -> set[str]:
    try:
        return {h.id for h in index.search(archive, f"type:work_order {query}", limit=20).hits}
    except (QueryError, IndexUnavailable, OSError) as exc:
        log.info("no link evidence from %r: %s", query, exc)
        return set()


def link_invoice(archive: Archive, doc: Document) -> None:
    if doc.doc_type != "invoice" or not archive.index_dir.is_dir():
        return
    evidence: dict[str, list[str]] = {}

    def add(ids: set[str], why: str) -> None:
        for i in ids - {doc.id}:
            if why not in evidence.setdefault(i, []):
                evidence[i].append(why)

    total = doc.doc_fields.get("total_incl_tax")
    if total is not None and total.value:
        add(_orders(archive, f"total:{total.value}"), f"amount {total.value}")
    for p in doc.pages:
        for ln in p.lines:
            r = read_plate(ln.text)
            if r is not None and r.valid and r.confidence >= 0.85:
                add(_orders(archive, f"plate:{r.value}"), f"plate {r.value}")
            for tok in _TOKEN.findall(ln.text.upper().replace(" ", "")):
                add(_orders(archive, f"order:{tok}"), f"order number {tok}")
    if not evidence:
        return
    best = max(len(v) for v in evidence.values())
    top = sorted(i for i, v in evidence.items() if len(v) == best)
    if len(top) > 1:
        doc.doc_fields["linked_order"] = FieldValue(None, 0.0, note=f"{len(top)} work orders agree as well: {', '.join(top[:5])}",
                                                    valid=False)
        return
    why = evidence[top[0]]
    doc.doc_fields["linked_order"] = FieldValue(top[0], 0.95 if len(why) >= 2 else 0.7, valid=True,
                                                note=" and ".join(why) + " agree")
