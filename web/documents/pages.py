"""Page images of archived documents for the browser, rendered from the PDF/A copy and cached.

The PDF/A pages are the processed page images (after rotation and deskew), so the sidecar's
field and word boxes (pixels of that image) map onto a rendering by simple scaling. Renderings
are derived data, cached under ``<archive>/cache/pages/`` and rebuilt when missing.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

from core.archive import Archive
from core.atomic import write_bytes_atomic
from core.models import Document

log = logging.getLogger(__name__)

WIDTHS = (400, 1000, 1600)  # the widths a page is rendered at (CSS scales between them)


def cache_path(archive: Archive, doc_id: str, page_no: int, width: int) -> Path:
    return archive.root / "cache" / "pages" / doc_id[:2] / f"{doc_id}-p{page_no}-w{width}.jpg"


def _pdf_bytes(archive: Archive, doc: Document) -> bytes:
    from app.lifecycle.tier import TierError, read_document_file
    from web.bootstrap import current_settings

    try:
        return read_document_file(archive, current_settings(), doc, "pdf")
    except TierError as exc:
        raise FileNotFoundError(str(exc)) from exc


def page_jpeg(archive: Archive, doc: Document, page_no: int, width: int) -> bytes:
    """JPEG of page ``page_no`` (1-based) of the document's PDF/A copy at ``width`` pixels.

    The cache is plaintext page images: with encryption at rest it is not kept (each view renders).
    """
    from pdf2image import convert_from_bytes

    path = cache_path(archive, doc.id, page_no, width)
    try:
        encrypted = archive.is_encrypted(doc.archive_pdf)
    except FileNotFoundError:  # in the cold tier: a fetched copy is written like any archive file
        encrypted = archive.encrypt
    if not encrypted:
        with contextlib.suppress(FileNotFoundError):
            return path.read_bytes()
    images = convert_from_bytes(_pdf_bytes(archive, doc), first_page=page_no, last_page=page_no,
                                size=(width, None), thread_count=1, fmt="jpeg")
    if not images:
        raise FileNotFoundError(f"{doc.archive_pdf}: no page {page_no}")
    buf = io.BytesIO()
    images[0].convert("RGB").save(buf, "JPEG", quality=82, optimize=True)
    data = buf.getvalue()
    if encrypted:
        return data
    try:
        write_bytes_atomic(path, data)
    except OSError as exc:  # a read-only archive still shows pages
        log.warning("page cache %s not written: %s", path, exc)
    return data


def cache_dir_size(archive: Archive) -> int:
    base = archive.root / "cache" / "pages"
    return sum(f.stat().st_size for f in base.rglob("*.jpg")) if base.is_dir() else 0

