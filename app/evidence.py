"""Evidence from the archive for field extraction: the VINs seen before with a plate, and the
mileages of the vehicle's other orders.

Extraction (``extractors``) does not know the archive; ingest and reprocess hand it a lookup.
A VIN that an earlier order of the same plate carries is the strongest evidence for repairing an
OCR confusion in this order's VIN (docs: extractors/vin.py); an odometer does not run backwards,
so another order's reading can deny this one's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import index
from core.archive import Archive

log = logging.getLogger(__name__)


def _history(archive: Archive, vin_or_plate: str, exclude_id: str | None) -> list[index.HistoryEntry]:
    """The vehicle's other orders in the archive's search index ([] when there is none)."""
    if not archive.index_dir.is_dir():
        return []
    try:
        entries = index.vehicle_history(archive, vin_or_plate)
    except (ValueError, OSError) as exc:
        log.info("no archive evidence for %s: %s", vin_or_plate, exc)
        return []
    return [e for e in entries if e.id != exclude_id]


def vins_for_plate(archive: Archive, exclude_id: str | None = None) -> Callable[[str], set[str]]:
    """A lookup ``plate -> VINs`` over the archive's search index (empty when there is no index)."""
    return lambda plate: {e.vin for e in _history(archive, plate, exclude_id) if e.vin and e.plate == plate}


def mileages_for_vehicle(archive: Archive, exclude_id: str | None = None) -> Callable[[str], list[tuple[str, int]]]:
    """A lookup ``VIN or plate -> [(date, km)]`` of the vehicle's other orders (empty when there is
    no index)."""
    return lambda key: [(e.date, e.mileage_km) for e in _history(archive, key, exclude_id)
                        if e.date and e.mileage_km is not None]
