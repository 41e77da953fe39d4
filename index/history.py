"""Vehicle history: every order of a car, found by VIN (or its tail) or by plate.

A car keeps its VIN for life but its plate may change (and a plate may be re-issued). A plate is
therefore linked through the VIN: every VIN seen with the plate, then every order of those VINs,
plus orders that carry the plate but no VIN. A VIN query adds the orders without a VIN that carry
a plate seen with that VIN (``linked_by="plate"``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from whoosh import query as Q

from core.archive import Archive
from index import store
from index.analysis import PLATE_NO_PROVINCE_RE, PLATE_RE, PROVINCES, fen_to_yuan, norm_plate, norm_vin


@dataclass
class HistoryEntry:
    id: str
    date: str | None
    order_no: str | None
    vin: str | None
    plate: str | None
    model: str | None
    mileage_km: int | None
    items: list[dict[str, Any]]  # name, quantity, amount (yuan string or None)
    labor: str | None
    parts: str | None
    total: str | None
    dealer: str | None
    needs_review: bool
    linked_by: str  # "vin" or "plate"
    store: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_plate(key: str) -> bool:
    p = norm_plate(key)
    return p[:1] in PROVINCES or bool(PLATE_RE.match(p)) or (bool(PLATE_NO_PROVINCE_RE.match(p)) and len(p) <= 7)


def _docs(searcher: Any, q: Q.Query, stores: frozenset[str] | None = None) -> list[dict[str, Any]]:
    found = [searcher.stored_fields(n) for n in q.docs(searcher)]
    return found if stores is None else [d for d in found if d.get("store") in stores]


def _entry(stored: dict[str, Any], linked_by: str) -> HistoryEntry:
    meta = stored.get("meta") or {}
    items = [
        {"name": i["name"], "kind": i.get("kind"), "quantity": i.get("quantity"),
         "amount": fen_to_yuan(i.get("amount_fen"))}
        for i in meta.get("items", [])
    ]
    return HistoryEntry(
        id=stored["id"], date=meta.get("date"), order_no=meta.get("order_no"), vin=stored.get("vin"),
        plate=stored.get("plate"), model=stored.get("model"), mileage_km=stored.get("mileage"), items=items,
        labor=fen_to_yuan(stored.get("labor")), parts=fen_to_yuan(stored.get("parts")),
        total=fen_to_yuan(stored.get("total")), dealer=stored.get("dealer"),
        needs_review=bool(stored.get("needs_review")), linked_by=linked_by, store=stored.get("store"),
    )


def _seed_query(key: str) -> Q.Query:
    """The orders that name ``key`` directly; raises ``ValueError`` for a key that names nothing."""
    if _is_plate(key):
        plate = norm_plate(key)
        return Q.Prefix("plate_rev", plate[::-1])
    vin = norm_vin(key)
    if len(vin) < 6:
        raise ValueError(f"{key!r}: give a plate, a VIN or at least its last 6 characters")
    return Q.Term("vin", vin) if len(vin) == 17 else Q.Prefix("vin_rev", vin[::-1])


def history_in(searcher: Any, seed_query: Q.Query, stores: Iterable[str] | None = None) -> list[HistoryEntry]:
    """Every order of the vehicles found by ``seed_query`` on an open searcher, oldest first.

    ``stores``: only orders of these store index terms (None: every order); orders of other stores
    are not used to link plates and VINs either.
    """
    only = None if stores is None else frozenset(stores)
    seed = _docs(searcher, seed_query, only)
    found = {d["id"]: _entry(d, "vin" if d.get("vin") else "plate") for d in seed}
    vins = sorted({d["vin"] for d in seed if d.get("vin")})
    if vins:  # every order of every car found
        for d in _docs(searcher, Q.Or([Q.Term("vin", v) for v in vins]), only):
            found[d["id"]] = _entry(d, "vin")
    plates = sorted({e.plate for e in found.values() if e.plate})
    if plates:  # orders without a readable VIN that carry one of those cars' plates
        for d in _docs(searcher, Q.Or([Q.Term("plate", p) for p in plates]), only):
            if not d.get("vin") and d["id"] not in found:
                found[d["id"]] = _entry(d, "plate")
    return sorted(found.values(), key=lambda e: (e.date or "9999", e.order_no or "", e.id))


def vehicle_history(archive: Archive, vin_or_plate: str, stores: Iterable[str] | None = None) -> list[HistoryEntry]:
    """Every order of the vehicle (VIN, VIN tail of ≥ 6 characters, or plate), oldest first."""
    if not vin_or_plate.strip():
        raise ValueError("give a VIN or a plate")
    seed = _seed_query(vin_or_plate)
    only = None if stores is None else list(stores)
    return store.with_searcher(archive, lambda s: history_in(s, seed, only))
