"""Evidence from the archive for field extraction: the VINs seen before with a plate.

Extraction (``extractors``) does not know the archive; ingest and reprocess hand it a lookup.
A VIN that an earlier order of the same plate carries is the strongest evidence for repairing an
OCR confusion in this order's VIN (docs: extractors/vin.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import index
from core.archive import Archive

log = logging.getLogger(__name__)


def vins_for_plate(archive: Archive, exclude_id: str | None = None) -> Callable[[str], set[str]]:
    """A lookup ``plate -> VINs`` over the archive's search index (empty when there is no index)."""

    def lookup(plate: str) -> set[str]:
        if not (archive.index_dir).is_dir():
            return set()
        try:
            entries = index.vehicle_history(archive, plate)
        except (ValueError, OSError) as exc:
            log.info("no VIN evidence for plate %s: %s", plate, exc)
            return set()
        return {e.vin for e in entries if e.vin and e.plate == plate and e.id != exclude_id}

    return lookup
