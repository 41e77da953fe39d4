"""One file in, one archived document out: the pipeline's orchestration.

Order of durable writes: PDF/A copy, then the original, then the sidecar (the commit point),
then the index (derived; a failure there is logged and repaired by ``woa reindex``). A per-id
lock makes concurrent ingests of the same bytes archive them once and record the other as a
duplicate. ``ingest_file`` never raises for bad input: it returns a failed result with a
one-line reason.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from PIL import Image

from app.documents import extract_fields, index_documents
from core.archive import Archive, TamperedFile, doc_id_for, sha256_file
from core.errors import TRANSIENT_ERRNOS, InputError, TransientError
from core.models import CANONICAL_FIELDS, Document, PageText
from core.settings import Settings
from extractors import vin
from extractors.value_strip import VIN_CELL, value_strips
from extractors.vin_strip import vin_strips
from pipeline.dropout import read_dropout
from pipeline.load import iter_pages
from pipeline.memory import release_free_memory
from pipeline.mrc import MrcOptions
from pipeline.ocr import OcrEngine, get_engine, get_text_detector, read_page
from pipeline.ocr.region import read_region, read_value
from pipeline.orientation import TextDetector
from pipeline.pdf_image import LOSSLESS
from pipeline.pdfa import ArchivePage, write_pdfa
from pipeline.preprocess import prepare

log = logging.getLogger(__name__)

__all__ = ["STATUSES", "IngestResult", "Status", "index_documents", "ingest_file", "now_iso"]

Status = Literal["archived", "duplicate", "failed", "skipped"]
STATUSES: tuple[Status, ...] = ("archived", "duplicate", "failed", "skipped")


@dataclass
class IngestResult:
    """What happened to one input file: returned by ``ingest_file``, recorded by the watcher's
    journal and the batch (its report, its Redis state). ``skipped`` is the batch's: the archive
    already had the bytes before the run looked at the file."""

    path: Path
    status: Status
    doc_id: str | None = None
    error: str | None = None  # one line: the reason
    transient: bool = False  # worth retrying later (disk full, file locked, still being written)
    pages: int = 0
    seconds: float = 0.0
    needs_review: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    sha256: str = ""
    doubtful: list[str] = field(default_factory=list)  # fields below the review threshold
    present: list[str] = field(default_factory=list)  # canonical fields that have a value
    worker: str = ""  # which worker process (batch)
    warning: str = ""  # archived, but: not indexed yet (disk full...), or what was repaired
    max_rss_kb: int = 0  # peak resident memory of that worker so far (batch)

    @property
    def ok(self) -> bool:
        return self.status in ("archived", "duplicate")

    @property
    def archived_id(self) -> str:
        """The document id of a successful ingest (archived or duplicate)."""
        if not self.ok or self.doc_id is None:
            raise ValueError(f"{self.path}: not archived: {self.error}")
        return self.doc_id

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IngestResult:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known["path"] = Path(known.get("path", ""))
        return cls(**known)

    def add_review_facts(self, doc: Document, review_threshold: float) -> None:
        """Fill in ``needs_review``, ``doubtful`` (as ``woa review`` counts them) and ``present``."""
        self.needs_review = doc.needs_review
        self.doubtful = [name for name, fv in doc.fields.items() if fv.confidence < review_threshold]
        self.present = [name for name in CANONICAL_FIELDS if (fv := doc.fields.get(name)) is not None and fv.value]
        if not self.pages:
            self.pages = len(doc.pages)


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _process_pages(
    path: Path, settings: Settings, pages_out: list[PageText], timings: dict[str, float]
) -> Iterator[tuple[ArchivePage, PageText]]:
    """Stream pages: load, prepare, OCR (unless the PDF carries text). One page in memory at a time."""
    engine: OcrEngine | None = None
    detector: TextDetector | None = None
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
            # the text detector loads only if a step needs it (Tesseract without orientation: never)
            needs_layout = settings.detect_orientation or engine.uses_text_regions
            detector = get_text_detector(engine, settings) if needs_layout else None
        prep = prepare(
            src.image,
            src.dpi,
            deskew=settings.deskew,
            max_skew=settings.max_skew_degrees,
            orient=settings.detect_orientation,
            text_regions=engine.uses_text_regions,
            ocr_runtime=settings.ocr_runtime,
            detector=detector,
            dropout=settings.colour_dropout,
            detect_contrast=settings.detect_contrast,
        )
        t1 = time.perf_counter()
        if prep.dropout is not None:  # a pre-printed colour form: values and labels read apart
            lines = read_dropout(engine, prep.dropout, prep.ocr_image, src.dpi, settings.ocr_max_dpi,
                                 regions=prep.text_regions, to_page=prep.to_archive)
        else:
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
            dropout=prep.dropout.preprint.hex if prep.dropout is not None else "",
        )
        timings["preprocess"] = timings.get("preprocess", 0.0) + (t1 - t0)
        timings["ocr"] = timings.get("ocr", 0.0) + (t2 - t1)
        if settings.vin_reread:
            reread_vin(engine, prep.archive_image, page, cell=settings.value_reread)
            timings["vin_reread"] = timings.get("vin_reread", 0.0) + (time.perf_counter() - t2)
        if settings.value_reread:
            t3 = time.perf_counter()
            reread_values(engine, prep.archive_image, page)
            timings["value_reread"] = timings.get("value_reread", 0.0) + (time.perf_counter() - t3)
        untouched = prep.rotation == 0 and prep.skew == 0.0
        yield ArchivePage(prep.archive_image, src.dpi, src.jpeg_bytes if untouched else None, quality), page
        pages_out.append(page)
        src.image.close()
        del prep, src
        release_free_memory(settings.release_memory_above_mb)


MIN_VIN_READ = 15


def reread_vin(engine: OcrEngine, image: Image.Image, page: PageText, *, cell: bool = True) -> None:
    """The VIN's second pass: when ``page`` has a VIN label but no valid VIN, read the strip after
    the label again (box rules removed, recognition only) into ``page.region_reads["vin"]``;
    the strips in turn (right of the label, then under it) until one holds a VIN's worth of
    characters; each read as boxed characters (``read_region``) and, with ``cell`` (setting
    ``value_reread``), into ``region_reads["vin_cell"]`` as a value in a cell (``read_value``).
    ``image``: the processed page."""
    for strip in vin_strips(page):
        try:
            lines = read_region(engine, image, strip.box, strip.text_height, page.dpi)
            # and as a value in a cell (a colour form's dot-matrix VIN): not packed, dots blurred
            cells = read_value(engine, image, strip.box, strip.text_height, page.dpi) if cell else []
        except MemoryError:
            raise
        except Exception as exc:  # a help to extraction: its failure must not fail the document
            log.warning("page %d: reading the VIN's strip again failed: %s: %s", page.page_no, type(exc).__name__, exc)
            return
        page.region_reads.setdefault("vin", []).extend(lines)
        if cells:
            page.region_reads.setdefault(VIN_CELL, []).extend(cells)
        if any(len(vin.compact(ln.text)) >= MIN_VIN_READ for ln in lines + cells):  # this strip holds the VIN
            return


def reread_values(engine: OcrEngine, image: Image.Image, page: PageText) -> None:
    """The values' second pass: each labelled value the first pass read doubtfully
    (``extractors.value_strip.value_strips``) read again from the processed page ``image`` into
    ``page.region_reads[field]``; extraction lets the readings vote."""
    for strip in value_strips(page):
        try:
            lines = read_value(engine, image, strip.box, strip.text_height, page.dpi)
        except MemoryError:
            raise
        except Exception as exc:  # a help to extraction: its failure must not fail the document
            log.warning("page %d: reading the %s again failed: %s: %s", page.page_no, strip.field, type(exc).__name__, exc)
            return
        if lines:
            page.region_reads[strip.field] = lines


def ingest_file(
    path: Path,
    settings: Settings,
    *,
    archive: Archive | None = None,
    tags: dict[str, str] | None = None,
    update_index: bool = True,
    store: str | None = None,
) -> IngestResult:
    """Archive one file. ``store``: the store (门店) it belongs to (None: ``settings.default_store``)."""
    path = Path(path)
    archive = archive or Archive.from_settings(settings)
    t_start = time.perf_counter()
    result = IngestResult(path=path, status="failed")
    doc_id: str | None = None
    try:
        if not path.is_file():
            raise InputError("not a regular file" if path.exists() else "file not found")
        archive.require_keys()
        sha = sha256_file(path)
        doc_id = doc_id_for(sha)
        result.doc_id, result.sha256 = doc_id, sha
        with archive.lock(doc_id):
            tomb = archive.disposed(sha)
            if tomb is not None and not archive.has(sha):
                raise InputError(
                    f"disposed of on {tomb.get('disposed_at', '?')} (approved by {tomb.get('approved_by', '?')},"
                    f" document {doc_id}); not archived again"
                )
            previous: Document | None = None
            if archive.has(sha):
                damage = archive.damage(doc_id, sha)
                if damage is None:
                    doc = archive.record_duplicate(sha, path.name, now_iso())
                    result.status = "duplicate"
                    result.pages = len(doc.pages)
                    return result
                # The archive has these bytes but its copy is damaged: this intact copy repairs it.
                log.info("%s: document %s is damaged (%s); re-archiving it from this copy", path, doc_id, damage)
                result.warning = f"repaired: {damage}"
                with contextlib.suppress(OSError, ValueError):
                    previous = archive.load(doc_id)
            archive.remove_dead_temps(doc_id)
            doc = _archive_new(path, sha, doc_id, settings, archive, tags or {},
                               settings.default_store if store is None else store, previous)
        result.status = "archived"
        result.pages = len(doc.pages)
        result.add_review_facts(doc, settings.review_threshold)
        result.timings = doc.timings
        if update_index and not index_documents(archive, [doc]):
            result.warning = "; ".join(filter(None, [result.warning, "not indexed yet (the next search adds it)"]))
    except InputError as exc:
        result.error = str(exc)
    except TransientError as exc:  # includes KeyUnavailable: no or wrong master key, retry later
        result.error, result.transient = str(exc), True
    except TamperedFile as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
        result.transient = exc.errno in TRANSIENT_ERRNOS
    except MemoryError:
        result.error, result.transient = "out of memory", True
    except Exception as exc:
        log.exception("unexpected error on %s", path)
        result.error = f"unexpected error: {type(exc).__name__}: {exc}".replace("\n", " ")
    finally:
        result.seconds = time.perf_counter() - t_start
    if result.status == "failed" and doc_id is not None:
        archive.remove_uncommitted(doc_id, path.suffix or ".bin")
    return result


def mrc_options(settings: Settings) -> MrcOptions | None:
    """The MRC encoding of the archive copy, or None in faithful mode."""
    if settings.archive_mode != "mrc":
        return None
    return MrcOptions(
        background_dpi=settings.mrc_background_dpi,
        foreground_dpi=settings.mrc_foreground_dpi,
        min_dpi=settings.mrc_min_dpi,
        jpeg_quality=settings.mrc_jpeg_quality,
        soft_patches=settings.mrc_soft_patches,
    )


def _archive_new(path: Path, sha: str, doc_id: str, settings: Settings, archive: Archive, tags: dict[str, str],
                 store: str = "", previous: Document | None = None) -> Document:
    """Archive ``path`` as ``doc_id``; ``previous``: the damaged document it replaces (its review
    history, duplicates, tags and store are kept)."""
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

    pdf = archive.write_pdf(doc_id, write)
    timings["pages_and_pdf"] = time.perf_counter() - t0

    original = archive.write_original(path, doc_id)
    if original.sha256 != sha:
        raise TransientError("the file changed while it was being read (still being written?)")

    doc = Document(
        id=doc_id,
        source_name=path.name,
        sha256=sha,
        original=original.rel,
        archive_pdf=pdf.rel,
        archive_sha256=pdf.sha256,
        pages=pages,
        ocr_engine=get_engine(settings).name if any(p.source == "ocr" for p in pages) else "pdf-text",
        ocr_version=get_engine(settings).version if any(p.source == "ocr" for p in pages) else "",
        ingested_at=now_iso(),
        input_bytes=path.stat().st_size,
        archive_bytes=pdf.size,
        pdfa_level=settings.pdfa_level,
        timings=timings,
        tags=dict(tags),
        store=store,
    )
    if previous is not None:  # a repair: the document keeps its name, date, history and tags
        doc.source_name, doc.ingested_at = previous.source_name, previous.ingested_at or doc.ingested_at
        doc.history, doc.duplicates = list(previous.history), list(previous.duplicates)
        doc.tags = {**previous.tags, **doc.tags}
        doc.store = previous.store or doc.store
    t1 = time.perf_counter()
    extract_fields(doc, settings, archive)
    timings["extract"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t0
    archive.save(doc)
    if previous is not None and previous.original and previous.original != doc.original:
        with contextlib.suppress(OSError):
            archive.abs(previous.original).unlink()  # the damaged copy under another extension
    return doc
