"""The audit trail: ``record`` one row, ``verify`` the chain, ``export_jsonl`` it.

Every row holds the hash of the previous row and its own hash over its content; editing a row
breaks its own hash, deleting one breaks the link of the row after it, so ``verify`` names the
rows that were touched. Rows are written in one serialised transaction (SQLite: the IMMEDIATE
write lock; PostgreSQL: an advisory lock), so two requests never chain onto the same row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from web.audit.models import AuditEntry

_PG_LOCK_KEY = 0x776F61  # "woa"
_PLACEHOLDER = "pending"


def record(actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None,
           address: str | None = None) -> AuditEntry:
    """Append one row to the audit trail and return it."""
    from django.db import connection, transaction
    from django.utils import timezone

    from web.audit.models import GENESIS, AuditEntry

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        last = AuditEntry.objects.order_by("-id").only("hash").first()
        entry = AuditEntry(at=timezone.now(), actor=actor[:150], action=action[:64], target=target[:255],
                           detail=detail or {}, address=address, prev_hash=last.hash if last else GENESIS,
                           hash=f"{_PLACEHOLDER}-{timezone.now().timestamp()}")
        entry.save()  # the id is part of the hash: insert first, then set the hash
        entry.hash = entry.compute_hash()
        AuditEntry.objects.filter(pk=entry.pk).update(hash=entry.hash)
    return entry


def _rows(batch: int = 2000) -> Iterator[AuditEntry]:
    from web.audit.models import AuditEntry

    last = 0
    while True:
        rows = list(AuditEntry.objects.filter(id__gt=last).order_by("id")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify() -> list[int]:
    """Ids of the rows whose hash does not match their content or whose link to the row before
    is broken (empty: the chain is intact)."""
    from web.audit.models import GENESIS

    broken: list[int] = []
    prev = GENESIS
    for row in _rows():
        if row.prev_hash != prev or row.compute_hash() != row.hash:
            broken.append(row.id)
        prev = row.hash
    return broken


def export_jsonl(fh: IO[str]) -> int:
    """Write every row as one JSON object per line; returns the number of rows."""
    n = 0
    for row in _rows():
        fh.write(json.dumps(row.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        n += 1
    return n
