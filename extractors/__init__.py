"""Canonical work-order fields from a document's OCR result; review and reprocess.

``extract(pages, settings) -> Extraction`` is the entry point (see docs/architecture.md);
``apply_corrections(doc)`` re-applies review corrections recorded in ``Document.history``.
"""

from extractors.engine import Extraction, extract
from extractors.review import apply_corrections

__all__ = ["Extraction", "apply_corrections", "extract"]
