"""The PDF/A archive copy: each page the archived page image plus an invisible OCR text layer.

Built with pikepdf alone. ``pikepdf.pdfa.save`` adds what PDF/A asks of the document (XMP
metadata declaring the part and conformance, the sRGB output intent shipped with pikepdf, a
version 2 ICC profile and so valid for PDF/A-1 too), writes it with the flavour's settings
(PDF/A-1: PDF 1.4, no object or XRef streams) and validates the written bytes before they reach
``dest``: a file that does not pass is never returned.
"""

from __future__ import annotations

import gc
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pikepdf
from pikepdf import Array, Dictionary, Name
from pikepdf import pdfa as pikepdf_pdfa
from pikepdf.models.metadata import encode_pdf_date
from PIL import Image

from core.errors import InputError
from core.models import PageText
from pipeline.mrc import MrcLayers, MrcOptions, applies, split_page
from pipeline.pdf_image import EncodedImage, encode_image
from pipeline.pdf_text_layer import CidMap, add_text_font, finish_text_font, text_layer

log = logging.getLogger(__name__)

LEVELS = ("1b", "2b")
CREATOR = "woa"
IMAGE_NAME = "/Im0"
FOREGROUND_NAME = "/Im1"  # MRC pages: /Im0 is the background, /Im1 the foreground under its mask
PATCH_PREFIX = "/P"  # MRC pages: /P0, /P1... full-resolution patches of blurred words
FONT_NAME = "/F0"
FONT_KEY = "/Font"
# Encoded image bytes kept in memory before pages are moved to a temporary file.
CHUNK_BYTES = 32 * 1024 * 1024


@dataclass
class ArchivePage:
    """One page as it is archived: upright and deskewed, in mode "1", "L" or "RGB"."""

    image: Image.Image
    dpi: float
    jpeg_bytes: bytes | None = None  # the original JPEG, when it shows exactly this image
    jpeg_quality: int | None = None  # per-page choice; None = the document's ``jpeg_quality``


# PDF/A (ISO 19005-2 6.1.13, after PDF 1.7's implementation limits): each side of a page from 3 to
# 14,400 units (1/72 inch), i.e. 1.06 mm to 5.08 m.
PDFA_MIN_SIDE_PT = 3.0
PDFA_MAX_SIDE_PT = 14400.0


def check_page_size(width_pt: float, height_pt: float, what: str = "page") -> None:
    """``InputError`` (one line, why) for a page PDF/A cannot hold; before anything is encoded."""
    def shown(pt: float) -> str:
        mm = pt / 72 * 25.4
        return f"{mm / 1000:.2f} m" if mm >= 1000 else f"{mm:.1f} mm"

    for side in (width_pt, height_pt):
        if not PDFA_MIN_SIDE_PT <= side <= PDFA_MAX_SIDE_PT:
            raise InputError(
                f"{what} is {shown(width_pt)} x {shown(height_pt)} at its resolution: PDF/A allows "
                f"{shown(PDFA_MIN_SIDE_PT)} to {shown(PDFA_MAX_SIDE_PT)} a side"
            )


def _image_stream(pdf: pikepdf.Pdf, enc: EncodedImage, *, stencil: bool = False) -> pikepdf.Stream:
    stream = pikepdf.Stream(pdf, enc.data)
    stream.Type = Name.XObject
    stream.Subtype = Name.Image
    stream.Width = enc.width
    stream.Height = enc.height
    if stencil:  # an explicit mask: samples 0 are painted (PDF 1.3; allowed in PDF/A-1 and -2)
        stream.ImageMask = True
    else:
        stream.ColorSpace = Name("/" + enc.colour_space)
    stream.BitsPerComponent = enc.bits
    stream.Filter = Name("/" + enc.filter)
    if enc.decode_parms:
        stream.DecodeParms = Dictionary({"/" + k: v for k, v in enc.decode_parms.items()})
    return stream


def _word_boxes(text: PageText, sx: float, sy: float) -> list[tuple[float, float, float, float]]:
    """The page's word boxes (line boxes for lines without words) in image pixels."""
    boxes = []
    for line in text.lines:
        for b in [w.box for w in line.words] or [line.box]:
            boxes.append((b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy))
    return boxes


def _add_page(
    pdf: pikepdf.Pdf,
    page: ArchivePage,
    text: PageText,
    font: pikepdf.Object,
    cids: CidMap,
    jpeg_quality: int,
    mrc: MrcOptions | None = None,
) -> int:
    """Append the page to ``pdf``; returns the size of its encoded images."""
    if page.dpi <= 0:
        raise ValueError(f"page {text.page_no}: dpi must be positive, got {page.dpi}")
    w_px, h_px = page.image.size
    width, height = w_px * 72 / page.dpi, h_px * 72 / page.dpi
    check_page_size(width, height, f"page {text.page_no}")
    # Boxes are pixels of this image; scale anyway if the OCR saw a different size.
    scale_x = width / (text.width or w_px)
    scale_y = height / (text.height or h_px)
    layers: MrcLayers | None = None
    if mrc is not None and applies(page.image, page.dpi, mrc):  # bilevel pages stay CCITT G4
        px_x, px_y = w_px / (text.width or w_px), h_px / (text.height or h_px)
        layers = split_page(page.image, page.dpi, _word_boxes(text, px_x, px_y), mrc)
        enc = layers.background
    else:
        quality = jpeg_quality if page.jpeg_quality is None else page.jpeg_quality
        enc = encode_image(page.image, jpeg_quality=quality, jpeg_bytes=page.jpeg_bytes)
    if (text.width, text.height) not in ((w_px, h_px), (0, 0)):
        log.warning(
            "page %d: text is for %dx%d, image is %dx%d; scaling boxes",
            text.page_no,
            text.width,
            text.height,
            w_px,
            h_px,
        )
    place = f"q {width:.4f} 0 0 {height:.4f} 0 0 cm"
    draw = f"{place} {IMAGE_NAME} Do Q\n".encode("ascii")
    xobjects = Dictionary({IMAGE_NAME: _image_stream(pdf, enc)})
    size = len(enc.data)
    if layers is not None:
        # Blurred words as they were scanned, over the background (pixel rows run top down).
        unit = 72 / page.dpi
        for i, patch in enumerate(layers.patches):
            name = f"{PATCH_PREFIX}{i}"
            xobjects[name] = _image_stream(pdf, patch.image)
            pw, ph = patch.image.width * unit, patch.image.height * unit
            x, y = patch.x * unit, height - patch.y * unit - ph
            draw += f"q {pw:.4f} 0 0 {ph:.4f} {x:.4f} {y:.4f} cm {name} Do Q\n".encode("ascii")
        size = layers.size
    if layers is not None and layers.foreground is not None and layers.mask is not None:
        fg = _image_stream(pdf, layers.foreground)
        fg.Mask = _image_stream(pdf, layers.mask, stencil=True)
        xobjects[FOREGROUND_NAME] = fg
        draw += f"{place} {FOREGROUND_NAME} Do Q\n".encode("ascii")
        size = layers.size
    words = text_layer(text, scale_x, scale_y, height, FONT_NAME, cids)
    resources = Dictionary(XObject=xobjects)
    if words:
        resources.Font = Dictionary({FONT_NAME: font})
    pdf.pages.append(
        pikepdf.Page(
            Dictionary(
                Type=Name.Page,
                MediaBox=Array([0, 0, round(width, 4), round(height, 4)]),
                Resources=resources,
                Contents=pikepdf.Stream(pdf, draw + words),
            )
        )
    )
    return size


class _PageSink:
    """Collects the pages of one document in bounded memory.

    pikepdf keeps the data of the streams it is given in memory, and copying pages between
    documents copies their data too. Pages therefore go into a chunk document; when its images
    pass ``chunk_bytes`` it is saved to a temporary file. At the end the chunk files are merged
    by a qpdf job, which copies stream data lazily, and the merged file is opened from disk, so
    image data is read only while the final document is written. A document that fits in one
    chunk never touches the disk.
    """

    def __init__(self, tmpdir: Path, chunk_bytes: int) -> None:
        self.tmpdir = tmpdir
        self.chunk_bytes = chunk_bytes
        self.cids = CidMap()
        self.count = 0
        self._files: list[Path] = []
        self._merged: pikepdf.Pdf | None = None
        self._new_chunk()

    def _new_chunk(self) -> None:
        # Replacing the previous chunk's Pdf and font frees its stream data (close() does not).
        self._chunk = pikepdf.new()
        self._font = add_text_font(self._chunk)
        self._chunk_bytes = 0

    def add(self, page: ArchivePage, text: PageText, jpeg_quality: int, mrc: MrcOptions | None = None) -> None:
        self._chunk_bytes += _add_page(self._chunk, page, text, self._font, self.cids, jpeg_quality, mrc)
        self.count += 1
        if self._chunk_bytes >= self.chunk_bytes:
            self._spill()
            self._new_chunk()

    def _spill(self) -> None:
        path = self.tmpdir / f"chunk-{len(self._files):04d}.pdf"
        self._chunk.save(path)
        self._chunk.close()
        self._files.append(path)

    def finish(self) -> pikepdf.Pdf:
        """The whole document, valid until ``close``."""
        if not self._files:
            finish_text_font(self._chunk, self._font, self.cids)
            return self._chunk
        if len(self._chunk.pages):
            self._spill()
        merged = self.tmpdir / "merged.pdf"
        job = pikepdf.Job(["qpdf", "--empty", "--pages", *map(str, self._files), "--", str(merged)])
        job.run()
        if job.has_warnings:  # the result is validated anyway; keep a trace of the cause
            log.warning("qpdf warned while merging %d chunks of %d pages", len(self._files), self.count)
        pdf = self._merged = pikepdf.open(merged, access_mode=pikepdf.AccessMode.stream)
        font: pikepdf.Object | None = None
        for page in pdf.pages:  # each chunk brought its own copy of the font: keep one
            if FONT_KEY in page.Resources:
                font = font if font is not None else page.Resources.Font[FONT_NAME]
                page.Resources.Font = Dictionary({FONT_NAME: font})
        if font is not None:
            finish_text_font(pdf, font, self.cids)
        return pdf

    def close(self) -> None:
        self._chunk.close()
        if self._merged is not None:
            self._merged.close()


def _save_validated(pdf: pikepdf.Pdf, dest: BinaryIO, level: str) -> pikepdf_pdfa.Report:
    """``pikepdf.pdfa.save``, shielded from Python warnings that have nothing to do with the PDF.

    pikepdf's content-stream check records every Python warning raised while it parses a page —
    from any thread, or from the garbage collector finalising an unclosed file at that moment —
    as a violation of the document: a valid 300-page copy was once refused for an unclosed file
    of another thread. The collector runs before the save and is paused during it, and a
    failure is retried once: validating the same document is deterministic, so a failure that
    does not repeat came from such a stray warning.
    """
    gc.collect()
    gc.disable()
    try:
        try:
            return pikepdf_pdfa.save(pdf, dest, level)
        except pikepdf_pdfa.PdfaError as exc:
            log.warning("PDF/A validation failed, trying once more: %s", " ".join(str(exc).split())[:300])
            dest.seek(0)
            dest.truncate()
            return pikepdf_pdfa.save(pdf, dest, level)
    finally:
        gc.enable()


def write_pdfa(
    dest: BinaryIO,
    pages: Iterable[tuple[ArchivePage, PageText]],
    *,
    level: str = "2b",
    title: str = "",
    jpeg_quality: int = 0,
    created: datetime | None = None,
    mrc: MrcOptions | None = None,
) -> None:
    """Write the pages as one validated PDF/A document (``level`` "2b" or "1b") to ``dest``.

    ``dest`` must be a seekable binary stream at its start. Pages are consumed one at a time;
    each page image is encoded as it arrives and not kept; memory stays bounded by
    ``CHUNK_BYTES`` of encoded images (more go to temporary files in ``TMPDIR``).
    ``jpeg_quality``: see ``pipeline.pdf_image.encode_image``. ``mrc``: grey and colour pages
    become mixed raster content (``pipeline.mrc``; bilevel pages stay CCITT G4); None keeps
    every page image as it is (faithful mode).
    Raises ``pikepdf.pdfa.PdfaError`` if the written file does not validate (nothing is
    written to ``dest`` then) and ``ValueError`` for no pages or bad arguments.
    """
    if level not in LEVELS:
        raise ValueError(f"PDF/A level must be one of {', '.join(LEVELS)}, got {level!r}")
    with tempfile.TemporaryDirectory(prefix="woa-pdfa-") as tmp:
        sink = _PageSink(Path(tmp), CHUNK_BYTES)
        try:
            for page, text in pages:
                sink.add(page, text, jpeg_quality, mrc)
                del page, text  # drop the image before the iterator makes the next one
            if not sink.count:
                raise ValueError("a PDF needs at least one page")
            pdf = sink.finish()
            when = encode_pdf_date((created or datetime.now(UTC)).astimezone())
            pdf.docinfo = pdf.make_indirect(Dictionary(Creator=CREATOR, CreationDate=when, ModDate=when))
            if title:
                pdf.docinfo.Title = title
            report = _save_validated(pdf, dest, level)
        finally:
            sink.close()
    log.debug("PDF/A-%s written, %d pages: %s", level, sink.count, report.verdict)
