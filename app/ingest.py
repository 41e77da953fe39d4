"""One file in, one archived document out: the pipeline's orchestration.

Order of durable writes: PDF/A copy, then the original, then the sidecar (the commit point),
then the index (derived; a failure there is logged and repaired by ``woa reindex``). A per-id
lock makes concurrent ingests of the same bytes archive them once and record the other as a
duplicate. ``ingest_file`` never raises for bad input: it returns a failed result with a
one-line reason.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from core.archive import Archive, doc_id_for, sha256_file
from core.atomic import write_atomic
from core.errors import InputError, TransientError
from core.models import Document, PageText
from core.settings import Settings
from pipeline.load import iter_pages
from pipeline.memory import release_free_memory
from pipeline.mrc import MrcOptions
from pipeline.ocr import get_engine, read_page
from pipeline.pdf_image import LOSSLESS
from pipeline.pdfa import ArchivePage, write_pdfa
from pipeline.preprocess import prepare

log = logging.getLogger(__name__)

TRANSIENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EAGAIN, errno.EBUSY, errno.EACCES, errno.EIO, errno.ETXTBSY}


@dataclass
class IngestResult:
    path: Path
    status: str  # "archived" | "duplicate" | "failed"
    doc_id: str | None = None
    error: str | None = None
    transient: bool = False
    pages: int = 0
    seconds: float = 0.0
    needs_review: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("archived", "duplicate")

    @property
    def archived_id(self) -> str:
        """The document id of a successful ingest (archived or duplicate)."""
        if not self.ok or self.doc_id is None:
            raise ValueError(f"{self.path}: not archived: {self.error}")
        return self.doc_id


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _process_pages(
    path: Path, settings: Settings, pages_out: list[PageText], timings: dict[str, float]
) -> Iterator[tuple[ArchivePage, PageText]]:
    """Stream pages: load, prepare, OCR (unless the PDF carries text). One page in memory at a time."""
    engine = None
    for src in iter_pages(path, settings):
        t0 = time.perf_counter()
        quality = settings.archive_jpeg_quality if src.lossy else LOSSLESS
        if src.text_lines is not None:
            page = PageText(src.page_no, src.image.width, src.image.height, src.dpi, src.text_lines, source="pdf-text")
            yield ArchivePage(src.image, src.dpi, src.jpeg_bytes, quality), page
            pages_out.append(page)
            src.image.close()
            continue
        if engine is None:
            engine = get_engine(settings)
        prep = prepare(
            src.image,
            src.dpi,
            deskew=settings.deskew,
            max_skew=settings.max_skew_degrees,
            text_regions=engine.uses_text_regions,
        )
        t1 = time.perf_counter()
        lines = read_page(
            engine, prep.ocr_image, src.dpi, settings.ocr_max_dpi, regions=prep.text_regions, to_page=prep.to_archive
        )
        t2 = time.perf_counter()
        page = PageText(
            page_no=src.page_no,
            width=prep.archive_image.width,
            height=prep.archive_image.height,
            dpi=src.dpi,
            lines=lines,
            rotation=prep.rotation,
            skew=prep.skew,
            ocr_seconds=round(t2 - t1, 3),
        )
        timings["preprocess"] = timings.get("preprocess", 0.0) + (t1 - t0)
        timings["ocr"] = timings.get("ocr", 0.0) + (t2 - t1)
        untouched = prep.rotation == 0 and prep.skew == 0.0
        yield ArchivePage(prep.archive_image, src.dpi, src.jpeg_bytes if untouched else None, quality), page
        pages_out.append(page)
        src.image.close()
        del prep, src
        release_free_memory(settings.release_memory_above_mb)


def _extract(doc: Document, settings: Settings) -> None:
    try:
        import extractors
    except ImportError:
        return
    if not hasattr(extractors, "extract"):
        return
    result = extractors.extract(doc.pages, settings)
    doc.fields = result.fields
    doc.items = result.items
    doc.confidence = result.confidence
    doc.needs_review = result.needs_review
    if hasattr(extractors, "apply_corrections"):
        extractors.apply_corrections(doc, settings.review_threshold)


def index_documents(archive: Archive, docs: list[Document]) -> None:
    """Add documents to the search index; the archive stays correct if this fails."""
    try:
        import index
    except ImportError:
        return
    try:
        index.update_index(archive, docs)
    except Exception:
        log.exception("index update failed for %s; run 'woa reindex'", ", ".join(d.id for d in docs))


def _cleanup_partial(archive: Archive, doc_id: str, ext: str) -> None:
    if archive.sidecar_path(doc_id).exists():
        return
    for p in (archive.pdf_path(doc_id), archive.original_path(doc_id, ext)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def ingest_file(
    path: Path,
    settings: Settings,
    *,
    archive: Archive | None = None,
    tags: dict[str, str] | None = None,
    update_index: bool = True,
) -> IngestResult:
    path = Path(path)
    archive = archive or Archive(settings.archive_dir)
    t_start = time.perf_counter()
    result = IngestResult(path=path, status="failed")
    doc_id: str | None = None
    try:
        if not path.is_file():
            raise InputError("not a regular file" if path.exists() else "file not found")
        sha = sha256_file(path)
        doc_id = doc_id_for(sha)
        result.doc_id = doc_id
        with archive.lock(doc_id):
            if archive.has(sha):
                doc = archive.record_duplicate(sha, path.name, now_iso())
                result.status = "duplicate"
                result.pages = len(doc.pages)
                return result
            doc = _archive_new(path, sha, doc_id, settings, archive, tags or {})
        result.status = "archived"
        result.pages = len(doc.pages)
        result.needs_review = doc.needs_review
        result.timings = doc.timings
        if update_index:
            index_documents(archive, [doc])
    except InputError as exc:
        result.error = str(exc)
    except TransientError as exc:
        result.error, result.transient = str(exc), True
    except OSError as exc:
        result.error = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
        result.transient = exc.errno in TRANSIENT_ERRNOS
    except MemoryError:
        result.error, result.transient = "out of memory", True
    except Exception as exc:
        log.exception("unexpected error on %s", path)
        result.error = f"unexpected error: {type(exc).__name__}: {exc}"
    finally:
        result.seconds = time.perf_counter() - t_start
    if result.status == "failed" and doc_id is not None:
        _cleanup_partial(archive, doc_id, path.suffix or ".bin")
    return result


def mrc_options(settings: Settings) -> MrcOptions | None:
    """The MRC encoding of the archive copy, or None in faithful mode."""
    if settings.archive_mode != "mrc":
        return None
    return MrcOptions(
        background_dpi=settings.mrc_background_dpi,
        foreground_dpi=settings.mrc_foreground_dpi,
        jpeg_quality=settings.mrc_jpeg_quality,
    )


def _archive_new(path: Path, sha: str, doc_id: str, settings: Settings, archive: Archive, tags: dict[str, str]) -> Document:
    timings: dict[str, float] = {}
    pages: list[PageText] = []
    t0 = time.perf_counter()

    def write(fh: BinaryIO) -> None:
        write_pdfa(
            fh,
            _process_pages(path, settings, pages, timings),
            level=settings.pdfa_level,
            title=path.name,
            jpeg_quality=settings.archive_jpeg_quality,
            mrc=mrc_options(settings),
        )

    pdf_path = archive.pdf_path(doc_id)
    write_atomic(pdf_path, write)
    timings["pages_and_pdf"] = time.perf_counter() - t0

    original = archive.store_original(path, doc_id)
    if sha256_file(original) != sha:
        raise TransientError("the file changed while it was being read (still being written?)")

    doc = Document(
        id=doc_id,
        source_name=path.name,
        sha256=sha,
        original=archive.rel(original),
        archive_pdf=archive.rel(pdf_path),
        archive_sha256=sha256_file(pdf_path),
        pages=pages,
        ocr_engine=get_engine(settings).name if any(p.source == "ocr" for p in pages) else "pdf-text",
        ocr_version=get_engine(settings).version if any(p.source == "ocr" for p in pages) else "",
        ingested_at=now_iso(),
        input_bytes=path.stat().st_size,
        archive_bytes=pdf_path.stat().st_size,
        pdfa_level=settings.pdfa_level,
        timings=timings,
        tags=dict(tags),
    )
    t1 = time.perf_counter()
    _extract(doc, settings)
    timings["extract"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t0
    archive.save(doc)
    return doc
